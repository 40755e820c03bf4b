"""Capture page options end to end against local pages: block lists hide a
cookie banner and an ad slot (pixels), a lazy feed with full_page, selector
(+ padding) and clip give the region's size, a login page renders only with
its cookie, color_scheme dark, wait_for a late element, css and js
injection, timezone + locale + local_storage seen by the page's own script,
a 30,000 px page tiled into one image, truncated past the full-page cap, a required click that matches nothing
fails naming it; cookie and local_storage values are never logged."""
from harness import Stack, check
from capture_pages import PageServer, need_chromium, decode_png, bbox, RED, BLUE, GREEN

need_chromium()
pages = PageServer()
stack = Stack(renderers=1)


def capture(path, **opts):
    body = {"url": pages.url(path), "device": "none", "device_scale_factor": 1,
            "viewport": {"width": 800, "height": 600}}
    body.update(opts)
    status, _, job = stack.json("POST", "/v1/capture", body)
    check(status == 200 and job["status"] == "completed", "%s %r: %d %r" % (path, opts, status, job))
    res = job["result"]
    status, _, data = stack.request("GET", res["url"][len(stack.base):], auth=False)
    check(status == 200, "file of %s: %d" % (path, status))
    w, h, rows = decode_png(data)
    return res, rows


def size(box):
    return (box[2] - box[0] + 1, box[3] - box[1] + 1) if box else None


# ---- block: the banner (red) and the ad slot (blue) are gone, the content stays
_, rows = capture("/clean")
check(bbox(rows, RED) and bbox(rows, BLUE), "without block the banner and the ad show")
_, rows = capture("/clean", block=["ads", "cookie_banners"])
check(bbox(rows, RED) is None, "block cookie_banners: the banner still shows at %r" % (bbox(rows, RED),))
check(bbox(rows, BLUE) is None, "block ads: the ad slot still shows at %r" % (bbox(rows, BLUE),))
check(bbox(rows, GREEN) is not None, "block hid the page's content")
# hide and remove by selector, and a click that dismisses the banner
_, rows = capture("/clean", hide=[".ad-slot"], remove=["#cookie-banner"])
check(bbox(rows, RED) is None and bbox(rows, BLUE) is None, "hide/remove: %r %r" % (bbox(rows, RED), bbox(rows, BLUE)))
_, rows = capture("/clean", click=[{"selector": "#nothing-here", "optional": True}],
                  js="document.getElementById('accept').onclick=function(){"
                     "document.getElementById('cookie-banner').remove();};")
check(bbox(rows, RED) is not None, "an optional click on nothing, and js alone, leave the banner")
_, rows = capture("/clean", click=[{"selector": "#nothing-here", "optional": True}, {"selector": "#accept"}])
check(bbox(rows, RED) is None, "click #accept: the banner it dismisses still shows")
status, _, job = stack.json("POST", "/v1/capture", {"url": pages.url("/clean"), "device": "none",
                                                     "click": [{"selector": "#nothing-here"}]})
check(job["status"] == "failed" and "click" in (job["error"] or ""), "a required click on nothing: %r" % job)

# block_urls (a script) and block_resources (images): not loaded, so not drawn
_, rows = capture("/fetched")
check(bbox(rows, BLUE) and bbox(rows, RED), "the script and the image paint by default")
_, rows = capture("/fetched", block_urls=["*/paint.js"], block_resources=["Image"])
check(bbox(rows, BLUE) is None, "block_urls: the script still ran")
check(bbox(rows, RED) is None, "block_resources Image: the image still shows")

# ---- full_page on a lazy feed: the last item loaded; not truncated
res, rows = capture("/lazy", full_page=True)
g = bbox(rows, GREEN)
check(g is not None, "full_page: the lazy last item never loaded")
check(abs(size(g)[1] - 500) <= 4 and abs(size(bbox(rows, RED))[1] - 2500) <= 6,
      "lazy feed: green %r red %r" % (size(g), size(bbox(rows, RED))))
check(res["truncated"] is False, "a 3000 px page is not truncated: %r" % res)
res, _ = capture("/huge", full_page=True, viewport={"width": 200, "height": 300})
check(res["truncated"] is True, "a 40000 px page is cut at the cap: %r" % res)
# 30,000 px: tiles stitched into one image (scaled to the 8192 px result side), bottom included
res, rows = capture("/tall30k", full_page=True, viewport={"width": 200, "height": 300})
check(res["truncated"] is False, "a 30000 px page is whole: %r" % res)
g, b = bbox(rows, GREEN), bbox(rows, BLUE)
check(g is not None and b is not None, "30000 px page: green %r blue %r" % (g, b))
if g and b:
    k = size(g)[1] / 29000.0
    check(abs(size(b)[1] - 1000 * k) <= 3 and abs(b[1] - (g[3] + 1)) <= 2,
          "30000 px page: blue %r under green %r at scale %.3f" % (b, g, k))
    check(abs(size(g)[0] - 200 * k) <= 2, "30000 px page: width %d at scale %.3f" % (size(g)[0], k))

# ---- selector (+ padding) and clip: the region's exact size
res, rows = capture("/boxes", selector="#box")
check(size(bbox(rows, GREEN)) == (200, 120), "selector: green %r, expected 200x120" % (size(bbox(rows, GREEN)),))
res, rows = capture("/boxes", selector="#box", padding=10)
g = bbox(rows, GREEN)
check(size(g) == (200, 120) and rows[g[1] - 5][g[0] - 5] == (255, 255, 255),
      "padding: a white band around the box: %r" % (size(g),))
res, rows = capture("/boxes", clip={"x": 0, "y": 0, "width": 150, "height": 160})
check(size(bbox(rows, GREEN)) == (100, 60), "clip 150x160 from 0,0 holds 100x60 of the box: %r"
      % (size(bbox(rows, GREEN)),))
status, _, job = stack.json("POST", "/v1/capture", {"url": pages.url("/boxes"), "device": "none",
                                                     "selector": "#missing"})
check(job["status"] == "failed" and "selector" in (job["error"] or ""), "missing selector: %r" % job)

# ---- a login page: only with the cookie
_, rows = capture("/login")
check(bbox(rows, GREEN) is None and bbox(rows, RED), "without the cookie the login page is the red/blue one")
_, rows = capture("/login", cookies=[{"name": "sid", "value": "open-sesame", "domain": "127.0.0.1",
                                      "http_only": True}])
check(size(bbox(rows, GREEN)) == (200, 120), "with the cookie the page shows the box: %r" % (size(bbox(rows, GREEN)),))
check(any(s[3] and "sid=open-sesame" in s[3] for s in pages.browser_hits("/login")), "the browser sent no cookie")
status, _, err = stack.json("POST", "/v1/capture", {"url": pages.url("/login"), "cookies": [
    {"name": "sid", "value": "x", "domain": "tracker.example"}]})
check(status == 422 and err["error"]["param"] == "cookies[0].domain", "third-party cookie: %d %r" % (status, err))

# ---- dark mode, wait_for, css and js injection
_, rows = capture("/dark")
check(bbox(rows, RED) and bbox(rows, BLUE) is None, "light by default")
_, rows = capture("/dark", color_scheme="dark")
check(bbox(rows, BLUE) and bbox(rows, RED) is None, "color_scheme dark: the dark style")
_, rows = capture("/late")
check(bbox(rows, GREEN) is None, "without wait_for the late element is not there yet")
_, rows = capture("/late", wait_for="#late")
check(bbox(rows, GREEN) is not None, "wait_for: the late element is in the capture")
_, rows = capture("/plain", css="body{background:rgb(16,48,224)!important}")
check(bbox(rows, BLUE) is not None, "css injection did not paint the page")
_, rows = capture("/plain", js="document.body.style.background='rgb(16,200,64)'")
check(bbox(rows, GREEN) is not None, "js injection did not paint the page")

# ---- timezone, locale, local_storage: the page's own script sees them
_, rows = capture("/env")
check(bbox(rows, RED) and bbox(rows, GREEN) is None, "the env page is red by default")
_, rows = capture("/env", timezone="Asia/Tokyo", locale="fr-FR", local_storage={"token": "tok-42"})
check(bbox(rows, GREEN) and bbox(rows, RED) is None, "timezone/locale/local_storage not seen by the page")
check(any(s[4] and s[4].startswith("fr-FR") for s in pages.browser_hits("/env")), "no Accept-Language fr-FR")

# ---- bad options: 422 naming the field
for bad, param in [({"block": ["popups"]}, "block[0]"), ({"timezone": "Mars/Base"}, "timezone"),
                   ({"clip": {"width": 0, "height": 5}}, "clip.width"), ({"color_scheme": "sepia"}, "color_scheme")]:
    status, _, err = stack.json("POST", "/v1/capture", dict(bad, url=pages.url("/page")))
    check(status == 422 and err["error"]["param"] == param, "%r: %d %r" % (bad, status, err))

for name in ("gateway", "scheduler", "renderer0"):
    text = stack.log_text(name)
    check("open-sesame" not in text and "tok-42" not in text, "a cookie or local_storage value was logged by %s" % name)
print("it_capture_options: 1 passed, 0 failed")
