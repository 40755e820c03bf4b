"""Store-ready renders through the whole stack: GET /v1/presets; a matrix of
3 locales x 2 presets x 2 slides gives 12 correct images ({locale} and
{preset} substituted, per-locale text, every size right, RGB without alpha)
with a lint report; the same spec twice gives the same bytes; jpeg output;
a URL screenshot whose header says 30000x30000 fails as screenshot_too_large
naming the field; bad input answers 422 naming the field."""
import http.server
import json
import struct
import threading
import zlib

from harness import Stack, _Quiet, check, make_png, png_header

# ---- a screenshot server that records the paths it was asked for ----------
seen = []
lock = threading.Lock()
shot = make_png(393, 852)


def huge_header_png():
    """A PNG that claims 30000x30000 pixels (its pixel data is absent)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


huge = huge_header_png()


class Handler(_Quiet):
    def do_GET(self):
        with lock:
            seen.append(self.path)
        body = huge if self.path.startswith("/huge") else shot
        if self.path.startswith("/missing"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % httpd.server_address[1]

stack = Stack(renderers=2)

# ---- the preset catalogue ---------------------------------------------------
status, _, presets = stack.json("GET", "/v1/presets", auth=False)
check(status == 200, "GET /v1/presets answered %d" % status)
names = [p["name"] for p in presets["data"]]
check(len(names) == 22 and names[0] == "appstore.iphone_6_9" and "play.feature_graphic" in names,
      "preset list: %r" % names)
first = presets["data"][0]
check(first["sizes"][0] == {"width": 1320, "height": 2868} and first["alpha_allowed"] is False
      and first["formats"] == ["png", "jpeg"] and first["display_class"],
      "preset rules: %r" % first)

# ---- 3 locales x 2 presets x 2 slides -----------------------------------------
locales = ["en-US", "de-DE", "ar-SA"]
presets_used = ["appstore.iphone_6_9", "play.phone"]
sizes = {"appstore.iphone_6_9": (1320, 2868), "play.phone": (1080, 1920)}
lines0 = {"en-US": ["Track every habit"], "de-DE": ["Jede Gewohnheit im Blick"],
          "ar-SA": ["\u062a\u062a\u0628\u0651\u0639 \u0643\u0644 \u0639\u0627\u062f\u0629"]}
lines1 = {"en-US": ["Stay on your streak"], "de-DE": ["Bleib dran"], "ar-SA": ["\u0627\u0633\u062a\u0645\u0631"]}
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True,
    "canvas": {"preset": "appstore.iphone_6_9"},
    "matrix": {"locales": locales, "presets": presets_used},
    "background": {"preset": "aurora"},
    "layout": {"finish": "silver", "device": "iphone"},
    "slides": [
        {"headline": {"lines": lines0}, "screenshot": {"url": base + "/shots/{locale}/{preset}/0.png"}},
        {"headline": {"lines": lines1}, "subtitle": {"lines": ["v2"]},
         "screenshot": {"url": base + "/shots/{locale}/{preset}/1.png"}, "layout": {"text_position": "bottom"}},
    ]})
check(status == 202, "matrix create answered %d: %r" % (status, body))
render = stack.wait_render(body["id"], timeout=120)
check(render["status"] == "succeeded", "matrix render: %r" % render)
images = render["images"]
check(len(images) == 12, "expected 12 images, got %d" % len(images))
combos = set()
by_key = {}
for im in images:
    key = (im["slide"], im["locale"], im["preset"])
    combos.add(key)
    by_key[key] = im
    check(im["status"] == "succeeded" and (im["width"], im["height"]) == sizes[im["preset"]],
          "image %r" % (im,))
    status, headers, png = stack.request("GET", "/v1/files/" + im["id"])
    check(status == 200 and headers.get("Content-Type") == "image/png", "download %s: %d" % (im["id"], status))
    w, h, depth, ctype = png_header(png)
    check((w, h) == sizes[im["preset"]] and depth == 8 and ctype == 2,
          "%s: PNG %dx%d depth %d type %d" % (key, w, h, depth, ctype))
check(combos == {(s, l, p) for s in (0, 1) for l in locales for p in presets_used},
      "every slide x locale x preset once: %r" % sorted(combos))
with lock:
    paths = sorted(seen)
expected = sorted("/shots/%s/%s/%d.png" % (l, p, s) for s in (0, 1) for l in locales for p in presets_used)
check(paths == expected, "screenshot URLs substituted: %r" % paths)
# per-locale text: the same slide and preset differs between locales
for s in (0, 1):
    for p in presets_used:
        shas = {by_key[(s, l, p)]["sha256"] for l in locales}
        check(len(shas) == 3, "slide %d %s: the three locales give three images" % (s, p))
lint = render["lint"]
check(isinstance(lint, dict) and set(lint) >= {"passed", "errors", "warnings", "findings"},
      "lint object: %r" % lint)
play_ids = {im["id"] for im in images if im["preset"] == "play.phone"}
mismatch = [f for f in lint["findings"] if f["rule"] == "platform_mismatch"]
check(len(mismatch) == 6 and {f["image"] for f in mismatch} == play_ids
      and all(f["message"].startswith('An iPhone frame ("iphone") on a Google Play image') for f in mismatch),
      "an iPhone frame on the 6 Play images is a platform_mismatch: %r" % lint["findings"])
check(all(f["severity"] in ("error", "warning", "info") and f["message"] for f in lint["findings"]),
      "findings have severities and messages")
promo = [f for f in lint["findings"] if f["rule"] == "play_promo_eligible"]
check(len(promo) == 3 and all(f["image"] is None for f in promo),
      "2 Play shots per locale are not promo eligible (set-level info): %r" % promo)

# ---- the same spec twice: the same bytes; jpeg --------------------------------
spec = {"canvas": {"preset": "play.phone"}, "format": "jpeg",
        "slides": [{"headline": {"lines": ["Same bytes"]}, "device": "android_phone",
                    "screenshot": {"url": base + "/shots/same.png"}}]}
shas = []
for _ in range(2):
    status, _, r = stack.json("POST", "/v1/renders", spec)
    check(status == 200 and r["status"] == "succeeded", "sync jpeg render: %d %r" % (status, r))
    shas.append(r["images"][0]["sha256"])
    check(r["images"][0]["format"] == "jpeg", "format jpeg: %r" % r["images"][0])
check(shas[0] == shas[1], "same spec, same bytes: %r" % shas)
status, headers, jpg = stack.request("GET", "/v1/files/" + r["images"][0]["id"])
check(headers.get("Content-Type") == "image/jpeg" and jpg[:3] == b"\xff\xd8\xff", "a JPEG file")

# ---- a URL screenshot of 30000x30000: refused from its header -----------------
status, _, r = stack.json("POST", "/v1/renders", {
    "canvas": {"preset": "appstore.iphone_6_9"},
    "slides": [{"headline": {"lines": ["Huge"]}, "screenshot": {"url": base + "/huge.png"}}]})
check(status == 200 and r["status"] == "failed", "huge screenshot render: %d %r" % (status, r))
err = r["images"][0]["error"]
check(err["code"] == "screenshot_too_large" and err["param"] == "slides[0].screenshot.url"
      and "30000x30000" in err["message"], "huge screenshot error: %r" % err)

# ---- landscape, a background image, and one that cannot be fetched ------------
status, _, r = stack.json("POST", "/v1/renders", {
    "canvas": {"preset": "appstore.iphone_6_9", "orientation": "landscape"},
    "background": {"image": {"url": base + "/bg.png"}},
    "slides": [{"headline": {"lines": ["Sideways"]}, "screenshot": {"url": base + "/shots/wide.png"}}]})
check(status == 200 and r["status"] == "succeeded", "landscape render: %d %r" % (status, r))
check((r["images"][0]["width"], r["images"][0]["height"]) == (2868, 1320), "landscape size: %r" % r["images"][0])
with lock:
    check("/bg.png" in seen, "the background image was fetched: %r" % seen)
status, _, r = stack.json("POST", "/v1/renders", {
    "canvas": {"preset": "play.phone"}, "background": {"image": {"url": base + "/missing/bg.png"}},
    "slides": [{"headline": {"lines": ["No background"]}}]})
check(status == 200 and r["status"] == "failed", "missing background: %d %r" % (status, r))
err = r["images"][0]["error"]
check(err["code"] == "background_fetch_failed" and err["param"] == "background.image.url",
      "missing background error: %r" % err)

# ---- bad input over HTTP -------------------------------------------------------
cases = [
    ({"canvas": {"preset": "appstore.iphone_99"}, "slides": [{"headline": {"lines": ["x"]}}]}, "canvas.preset"),
    ({"canvas": {"preset": "play.phone"}, "slides": [{"headline": {"lines": ["x"]}, "device": "nokia"}]},
     "slides[0].device"),
    ({"canvas": {"preset": "play.phone"}, "background": {"preset": "lava"},
      "slides": [{"headline": {"lines": ["x"]}}]}, "background.preset"),
    ({"canvas": {"preset": "play.phone"}, "background": {"color": "#GG0000"},
      "slides": [{"headline": {"lines": ["x"]}}]}, "background.color"),
    ({"canvas": {"preset": "play.phone"}, "slides": [{"headline": {"lines": ["x" * 10000]}}]},
     "slides[0].headline.lines[0]"),
    ({"canvas": {"preset": "play.phone"}, "slides": [{"headline": {"lines": ["x"]}}] * 11}, "slides"),
]
for body, param in cases:
    status, _, r = stack.json("POST", "/v1/renders", body)
    check(status == 422 and r["error"]["param"] == param, "expected 422 naming %s, got %d %r" % (param, status, r))
print("it_store_ready: 1 passed, 0 failed")
