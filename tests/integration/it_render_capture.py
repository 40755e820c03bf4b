"""A render slide whose screenshot is {"capture": {...}}, end to end against
pages the test serves on 127.0.0.1: each image of the matrix is captured at
the canvas over the device's scale (a 600x1200 canvas with an iPhone frame:
200x400 CSS px at 3x) in its locale ({locale} in the URL, Accept-Language
and navigator.language), then framed, laid out and linted as any slide, in
one render: the en-US page draws red and the fr-FR page blue only when the
page sees that viewport, scale and language (grey otherwise, so the
page's colour must fill the device's screen). The captures
run only on the renderer that captures: a second renderer started with
--capture 0 takes the render's plain slides and never a capture. A second
identical render captures again (no image cache for a live page). The
egress rule holds: with private networks refused but 127.0.0.1/32, a page's
image on 127.0.0.2 (a counting server) is never connected to and a page on
127.0.0.2 fails its image as a private address. Options
the render sets, secrets and bad URLs are 422 naming the field."""
import socket
import threading

from harness import Stack, check
from capture_pages import PageServer, need_chromium, decode_png, bbox, RED, BLUE, GREEN

SECRET_IP = "127.0.0.2"

need_chromium()
pages = PageServer()


def locale_page(lang, rgb):
    return ("<!doctype html><html><head><meta charset=utf-8><style>html,body{margin:0;height:100%%}</style>"
            "<script>var ok=innerWidth===200&&innerHeight===400&&devicePixelRatio===3&&navigator.language==='%s';"
            "document.documentElement.style.background=ok?'rgb(%d,%d,%d)':'rgb(128,128,128)';</script>"
            "</head><body></body></html>" % ((lang,) + rgb)).encode()


pages.extra["/loc/en-US"] = locale_page("en-US", RED)
pages.extra["/loc/fr-FR"] = locale_page("fr-FR", BLUE)

# the egress rule holds for a slide's capture as for a capture job: private networks are
# refused but 127.0.0.1/32 (the pages); a "secret" server on 127.0.0.2 counts connections
secret = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
secret.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
secret.bind((SECRET_IP, pages.port))
secret.listen(16)
secret_hits = []


def s_accept():
    while True:
        try:
            conn, _ = secret.accept()
        except OSError:
            return
        secret_hits.append(1)
        conn.close()


threading.Thread(target=s_accept, daemon=True).start()
pages.extra["/leaky"] = ("<!doctype html><html><body style='margin:0;background:rgb(16,200,64)'>"
                         "<img src='http://%s:%d/secret.png'></body></html>" % (SECRET_IP, pages.port)).encode()

stack = Stack(renderers=1, renderer_env={"EASEL_ALLOW_PRIVATE_NETWORKS": "0",
                                         "EASEL_ALLOW_NETWORKS": "127.0.0.1/32"})
stack.start_renderer(1, env={"EASEL_RENDERER_CAPTURE": "0"})
stack.wait_ready(2)

BODY = {"canvas": {"width": 600, "height": 1200}, "background": {"color": "#ffffff"},
        "matrix": {"locales": ["en-US", "fr-FR"]},
        "slides": [{"headline": {"lines": ["Every habit"]}, "device": "iphone",
                    "screenshot": {"capture": {"url": pages.url("/loc/{locale}"), "hide": ["#nothing"]}}},
                   {"headline": {"lines": ["Plain"]}, "device": "iphone", "screenshot": {"data": None}},
                   {"headline": {"lines": ["Again"]}, "device": "iphone",
                    "screenshot": {"capture": {"url": pages.url("/loc/{locale}"), "wait_until": "load"}}}]}
import base64  # noqa: E402
BODY["slides"][1]["screenshot"]["data"] = base64.b64encode(pages.png).decode()

status, _, render = stack.json("POST", "/v1/renders", BODY)
check(status == 200 and render["status"] == "succeeded", "render with captures: %d %r" % (status, render))
images = {(im["slide"], im["locale"]): im for im in render["images"]}
check(len(images) == 6, "3 slides x 2 locales: %r" % sorted(images))
for slide in (0, 2):
    for locale, want, other in (("en-US", RED, BLUE), ("fr-FR", BLUE, RED)):
        im = images[(slide, locale)]
        status, _, data = stack.request("GET", "/v1/files/" + im["id"])
        check(status == 200, "file of slide %d %s: %d" % (slide, locale, status))
        w, h, rows = decode_png(data)
        check((w, h) == (600, 1200), "the slide's canvas: %dx%d" % (w, h))
        box = bbox(rows, want)
        check(box is not None, "slide %d %s: the page's colour is not in the image (viewport, scale or"
              " language wrong?)" % (slide, locale))
        check(bbox(rows, other) is None, "slide %d %s: another locale's page at %r" % (slide, locale, bbox(rows, other)))
        if box:
            check(box[2] - box[0] > 300 and box[3] - box[1] > 600, "slide %d %s: the shot fills the screen: %r"
                  % (slide, locale, box))
check(all(s[4] == "fr-FR" for s in pages.browser_hits("/loc/fr-FR")) and pages.browser_hits("/loc/fr-FR"),
      "Accept-Language fr-FR for the fr-FR page: %r" % pages.browser_hits("/loc/fr-FR"))
check("lint" in render and "findings" in render["lint"], "the set is linted: %r" % render.get("lint"))
log1 = stack.log_text("renderer1")
for im in render["images"]:
    if im["slide"] != 1:
        check(im["id"] not in log1 and im["attempts"] == 1,
              "a capture went to the renderer that cannot capture: %r" % im)

# the same render again: its captures are taken again, its plain slide may come from the cache
before = len(pages.browser_hits("/loc/"))
status, _, again = stack.json("POST", "/v1/renders", BODY)
check(status == 200 and again["status"] == "succeeded", "the render again: %d %r" % (status, again))
check(not any(im.get("cached") for im in again["images"] if im["slide"] != 1),
      "a captured image came from the cache: %r" % again["images"])
check(len(pages.browser_hits("/loc/")) >= before + 4, "the pages were not loaded again")

# the egress rule: a subresource on a private address is never connected to; a page there
# fails its image as url_not_allowed
status, _, r = stack.json("POST", "/v1/renders", {
    "canvas": {"width": 600, "height": 1200}, "slides": [
        {"headline": {"lines": ["Leaky"]}, "device": "iphone", "screenshot": {"capture": {"url": pages.url("/leaky")}}},
        {"headline": {"lines": ["Private"]}, "device": "iphone",
         "screenshot": {"capture": {"url": "http://%s:%d/page" % (SECRET_IP, pages.port)}}}]})
check(status == 200, "the egress render: %d %r" % (status, r))
ims = sorted(r["images"], key=lambda im: im["slide"])
check(ims[0]["status"] == "succeeded", "the leaky page still renders: %r" % ims[0])
status, _, data = stack.request("GET", "/v1/files/" + ims[0]["id"])
check(bbox(decode_png(data)[2], GREEN) is not None, "the leaky page's own colour is drawn")
check(ims[1]["status"] == "failed" and ims[1]["error"]["code"] in ("url_not_allowed", "attempts_exhausted")
      and "private" in ims[1]["error"]["message"], "a page on a private address: %r" % ims[1])
check(not secret_hits, "the browser connected %d time(s) to %s" % (len(secret_hits), SECRET_IP))

# refused: what the render sets, secrets, a template without its matrix, a bad url
for capture, param in (({"url": pages.url("/x"), "viewport": {"width": 300, "height": 600}},
                        "slides[0].screenshot.capture.viewport"),
                       ({"url": pages.url("/x"), "cookies": [{"name": "a", "value": "b"}]},
                        "slides[0].screenshot.capture.cookies"),
                       ({"url": pages.url("/x"), "locale": "de-DE"}, "slides[0].screenshot.capture.locale"),
                       ({"url": "ftp://example.com/"}, "slides[0].screenshot.capture.url"),
                       ({"url": pages.url("/x"), "block": ["everything"]}, "slides[0].screenshot.capture.block[0]"),
                       ({"hide": ["x"]}, "slides[0].screenshot.capture")):
    body = {"canvas": {"width": 600, "height": 1200},
            "slides": [{"headline": {"lines": ["x"]}, "screenshot": {"capture": capture}}]}
    status, _, err = stack.json("POST", "/v1/renders", body)
    check(status == 422 and err["error"]["param"] == param, "%r: %d %r, expected 422 naming %s"
          % (capture, status, err, param))
status, _, err = stack.json("POST", "/v1/renders", {
    "canvas": {"width": 600, "height": 1200},
    "slides": [{"headline": {"lines": ["x"]}, "screenshot": {"capture": {"url": pages.url("/loc/{locale}")}}}]})
check(status == 422 and err["error"]["param"] == "slides[0].screenshot.capture.url",
      "{locale} without matrix.locales: %d %r" % (status, err))

print("ok: captures in a render (viewport, scale, locale, framing, routing, no cache, validation)")
