"""`easel frameit FOLDER` on a fastlane-shaped tree it writes here:
fastlane/screenshots/<locale>/*.png for en-US, ar-SA and ja, iPhone and
iPad sizes and an Android size, a Framefile.json with data[] filters, a
keyword and a title, and title.strings in UTF-8, UTF-16LE and UTF-16BE
(with BOMs). Every <name>_framed.png must exist beside its screenshot as a
PNG of its device's store size, the headline text must come from the
.strings (the CLI's --json report carries each slide as sent), keys Easel
cannot honour must be warned about once, and the renders must exist.
With uploads the run is one render per orientation: the portrait
screenshots of every locale and device share one render (a screenshot of
one style per locale and device shares a slide, the cells without one are
null in its file_id map), the landscape one is a second; the Framefile's
backgrounds (a PNG among the screenshots is not framed) are drawn behind
them, one per locale and device through background.image.file_id; a tree of more
screenshots of one style than a render has slides is split at the slide
cap. Through a proxy without POST /v1/files the screenshots go inline,
one render per locale and preset. The renders submitted are counted in
the API."""
import http.client
import http.server
import json
import os
import struct
import subprocess
import tempfile
import threading
import zlib

from harness import BIN, Stack, check, make_png, png_header

stack = Stack(renderers=2)
env = dict(stack.env, EASEL_URL=stack.base, EASEL_API_KEY=stack.key)

root = tempfile.mkdtemp(prefix="easel-frameit-")
shots_dir = os.path.join(root, "fastlane", "screenshots")
IPHONE, IPAD, ANDROID, WIDE = (1320, 2868), (2048, 2732), (1080, 1920), (2868, 1320)
files = {
    "en-US": {"iPhone 17 Pro Max-01Home.png": IPHONE, "iPad Pro-01Home.png": IPAD,
              "Nexus 5X-01Home.png": ANDROID, "iPhone 17 Pro Max-02Stats.png": IPHONE},
    "ar-SA": {"iPhone 17 Pro Max-01Home.png": IPHONE, "iPad Pro-01Home.png": IPAD},
    "ja": {"iPhone 17 Pro Max-01Home.png": IPHONE, "iPhone 17 Pro Max-03Wide.png": WIDE},
}
STORE = {IPHONE: ("appstore.iphone_6_9", (1320, 2868)), IPAD: ("appstore.ipad_13", (2064, 2752)),
         ANDROID: ("play.phone", (1080, 1920)), WIDE: ("appstore.iphone_6_9", (2868, 1320))}


def render_ids():
    status, _, page = stack.json("GET", "/v1/renders?limit=100")
    check(status == 200, "GET /v1/renders answered %d" % status)
    return {r["id"] for r in page["data"]}

for locale, names in files.items():
    os.makedirs(os.path.join(shots_dir, locale))
    for name, size in names.items():
        with open(os.path.join(shots_dir, locale, name), "wb") as f:
            f.write(make_png(*size))
# an output of an earlier run is not a screenshot
with open(os.path.join(shots_dir, "en-US", "old_framed.png"), "wb") as f:
    f.write(make_png(100, 100))

# Framefile backgrounds: one among the screenshots (not a screenshot itself), one outside the tree
BG_DEFAULT, BG_NEXUS = (200, 30, 170), (20, 150, 140)


def flat_png(w, h, rgb):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


with open(os.path.join(shots_dir, "background.png"), "wb") as f:
    f.write(flat_png(60, 130, BG_DEFAULT))
with open(os.path.join(root, "nexus-bg.png"), "wb") as f:
    f.write(flat_png(60, 110, BG_NEXUS))

framefile = {
    "default": {"title": {"color": "#FFFFFF", "font_weight": "bold", "font": "./fonts/Brand.ttf"},
                "background": "./background.png",
                "keyword": {"color": "#FFD700"},
                "padding": 50, "interline_spacing": 8, "show_complete_frame": True,
                "frame": "SPACE_GRAY"},
    "data": [{"filter": "01Home", "keyword": {"text": "Home"}},
             {"filter": "02Stats", "title": {"text": "Charts for every streak"}, "stack_title": True,
              "keyword": {"text": "Stats"}, "title_below_image": True},
             {"filter": "Nexus", "use_platform": "ANDROID", "frame": "ROSE_GOLD",
              "background": "../../nexus-bg.png"}],
}
with open(os.path.join(shots_dir, "Framefile.json"), "w") as f:
    json.dump(framefile, f)
TITLES = {"en-US": "Track every habit", "ar-SA": "تتبع كل عادة", "ja": "習慣を記録しよう"}
with open(os.path.join(shots_dir, "en-US", "title.strings"), "w", encoding="utf-8") as f:
    f.write('/* frameit titles */\n"01Home" = "%s";\n' % TITLES["en-US"])
with open(os.path.join(shots_dir, "ar-SA", "title.strings"), "wb") as f:
    f.write(b"\xfe\xff" + ('// Arabic\n"01Home" = "%s";\n' % TITLES["ar-SA"]).encode("utf-16-be"))
with open(os.path.join(shots_dir, "ja", "title.strings"), "wb") as f:
    f.write(b"\xff\xfe" + ('"01Home" = "%s";\n' % TITLES["ja"]).encode("utf-16-le"))

before = render_ids()
out = subprocess.run([os.path.join(BIN, "easel"), "frameit", os.path.join(root, "fastlane"), "--json"],
                     env=env, capture_output=True, timeout=150)
check(out.returncode == 0, "easel frameit exited %d: %s" % (out.returncode, out.stderr.decode()))
report = json.loads(out.stdout)
submitted = render_ids() - before

# every screenshot, and only those, framed beside itself at its store size
images = {os.path.relpath(i["screenshot"], shots_dir): i for i in report["images"]}
want = {os.path.join(l, n) for l, names in files.items() for n in names}
check(set(images) == want, "framed %r, expected %r" % (sorted(images), sorted(want)))
for locale, names in files.items():
    for name, size in names.items():
        framed = os.path.join(shots_dir, locale, name[:-4] + "_framed.png")
        check(os.path.exists(framed), "%s was not written" % framed)
        with open(framed, "rb") as f:
            w, h, _, ctype = png_header(f.read(32))
        preset, store = STORE[size]
        check((w, h) == store, "%s is %dx%d, the store size of %s is %r" % (framed, w, h, preset, store))
        check(ctype == 2, "%s has alpha (colour type %d)" % (framed, ctype))
        entry = images[os.path.join(locale, name)]
        check(entry["preset"] == preset and entry["locale"] == locale,
              "%s/%s went to %s %s" % (locale, name, entry["preset"], entry["locale"]))
        check(entry["image"]["status"] == "succeeded", "image %r" % entry["image"])
check(not os.path.exists(os.path.join(shots_dir, "en-US", "old_framed_framed.png")),
      "a _framed.png was framed again")

# the Framefile's backgrounds are drawn (uploaded, background.image.file_id per cell), and
# the one among the screenshots is not framed itself
check(not os.path.exists(os.path.join(shots_dir, "background_framed.png")), "the background was framed")


def top_left(path):
    """The pixel at (3, 3) of an 8-bit RGB PNG: only its first rows are inflated."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            w = struct.unpack(">I", data[pos + 8:pos + 12])[0]
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    stride = 3 * w
    raw = zlib.decompressobj().decompress(idat, 4 * (stride + 1))
    prev = bytearray(stride)
    for y in range(4):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, b, c = (line[i - 3] if i >= 3 else 0), prev[i], (prev[i - 3] if i >= 3 else 0)
            p = a + b - c
            pred = [0, a, b, (a + b) // 2,
                    a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c][f]
            line[i] = (line[i] + pred) & 255
        prev = line
    return tuple(prev[9:12])


for rel, want in ((os.path.join("en-US", "iPhone 17 Pro Max-01Home_framed.png"), BG_DEFAULT),
                  (os.path.join("ar-SA", "iPad Pro-01Home_framed.png"), BG_DEFAULT),
                  (os.path.join("en-US", "Nexus 5X-01Home_framed.png"), BG_NEXUS)):
    got = top_left(os.path.join(shots_dir, rel))
    check(all(abs(a - b) <= 8 for a, b in zip(got, want)), "%s: background %r, expected %r" % (rel, got, want))
check(not [w for w in report["warnings"] if w.startswith("background")], "no background warning: %r"
      % report["warnings"])

# the image source follows the server: uploads when POST /v1/files exists, inline base64 otherwise
status, _, _ = stack.request("POST", "/v1/files", raw=make_png(120, 240), headers={"Content-Type": "image/png"})
check(status in (200, 201), "POST /v1/files answered %d" % status)
check(report["source"] == "upload", "POST /v1/files answers %d, frameit sent the screenshots as %s"
      % (status, report["source"]))

# one render per orientation: the 8 portrait screenshots of 3 locales and 3 devices in one, the
# landscape one in another; the iPhone home screen of every locale on one slide
check(len(submitted) == 2 and submitted == {r["id"] for r in report["renders"]},
      "2 renders submitted (portrait, landscape), got %d: %r" % (len(submitted), submitted))
by_render = {}
for rel, entry in images.items():
    by_render.setdefault(entry["render_id"], set()).add(rel)
wide = os.path.join("ja", "iPhone 17 Pro Max-03Wide.png")
check(sorted(len(v) for v in by_render.values()) == [1, 7] and {wide} in by_render.values(),
      "7 portrait screenshots in one render, the landscape one alone: %r" % by_render)
homes = {images[os.path.join(l, "iPhone 17 Pro Max-01Home.png")]["image"]["slide"] for l in files}
check(len(homes) == 1, "the iPhone home screens of 3 locales share a slide: %r" % homes)
for r in report["renders"]:
    check(r["progress"]["total"] == len(r["images"]) == len(by_render[r["id"]]),
          "a render draws only its screenshots (the other cells are null): %r" % r["progress"])

# texts: the .strings of each locale (any encoding), keyword joined on one line
for locale in files:
    slide = images[os.path.join(locale, "iPhone 17 Pro Max-01Home.png")]["slide"]
    lines = slide["headline"]["lines"]
    check(lines == ["Home " + TITLES[locale]], "%s headline %r" % (locale, lines))
    check(slide["headline"]["color"] == "#FFFFFF" and slide["headline"]["weight"] == 700,
          "title style %r" % slide["headline"])
    check(slide["layout"]["finish"] == "black" and slide["layout"]["padding"] == 4,
          "layout %r" % slide["layout"])
stats = images[os.path.join("en-US", "iPhone 17 Pro Max-02Stats.png")]["slide"]
check(stats["headline"]["lines"] == ["Stats"] and stats["subtitle"]["lines"] == ["Charts for every streak"]
      and stats["layout"]["text_position"] == "bottom", "stacked title from the Framefile: %r" % stats)
nexus = images[os.path.join("en-US", "Nexus 5X-01Home.png")]
check(nexus["device"] == "Nexus 5X" and nexus["slide"]["device"] == "android_phone"
      and nexus["slide"]["layout"]["finish"] == "silver", "android shot %r" % nexus)

# warnings: once each, naming the key
warnings = report["warnings"]
for key in ("title.font", "interline_spacing", "ROSE_GOLD", "keyword and title on one line"):
    hits = [w for w in warnings if key in w]
    check(len(hits) == 1, "expected one warning about %s in %r" % (key, warnings))
check(len(warnings) == len(set(warnings)), "a warning repeats: %r" % warnings)

# the renders exist in the API with the .strings headline in their images' lint context
check(report["lint"]["errors"] == sum(r["lint"]["errors"] for r in report["renders"]), "lint total")
for r in report["renders"]:
    status, _, obj = stack.json("GET", "/v1/renders/%s" % r["id"])
    check(status == 200 and obj["status"] == "succeeded", "render %s: %d %r" % (r["id"], status, obj))

# a plain run prints the lint summary and the warnings on stderr
out = subprocess.run([os.path.join(BIN, "easel"), "frameit", os.path.join(root, "fastlane")],
                     env=env, capture_output=True, timeout=150)
check(out.returncode == 0, "plain run exited %d: %s" % (out.returncode, out.stderr.decode()))
check(b"lint: " in out.stdout and b"framed 8 of 8 screenshots in 2 renders" in out.stdout, "summary: %s" % out.stdout)
check(out.stderr.count(b"warning: interline_spacing") == 1, "warnings once: %s" % out.stderr)

# a tree of 12 iPhone and 3 iPad screenshots of one style: the iPads share the first slides
# (each device the preset's own), the slide cap splits the iPhones 10 + 2
big = tempfile.mkdtemp(prefix="easel-frameit-big-")
os.makedirs(os.path.join(big, "screenshots", "en-US"))
for n in range(12):
    with open(os.path.join(big, "screenshots", "en-US", "iPhone 17 Pro Max-%02dShot.png" % n), "wb") as f:
        f.write(make_png(*IPHONE, rgb=(10 * n, 80, 160)))
for n in range(3):
    with open(os.path.join(big, "screenshots", "en-US", "iPad Pro-%02dShot.png" % n), "wb") as f:
        f.write(make_png(*IPAD, rgb=(160, 80, 10 * n)))
before = render_ids()
out = subprocess.run([os.path.join(BIN, "easel"), "frameit", big, "--json"], env=env, capture_output=True,
                     timeout=150)
check(out.returncode == 0, "big tree: exited %d: %s" % (out.returncode, out.stderr.decode()))
big_report = json.loads(out.stdout)
submitted = render_ids() - before
check(len(submitted) == 2 and sorted(len(r["images"]) for r in big_report["renders"]) == [2, 13],
      "15 screenshots in 2 renders of 13 and 2, got %d: %r" % (len(submitted),
      [len(r["images"]) for r in big_report["renders"]]))
first = max(big_report["renders"], key=lambda r: len(r["images"]))
check(max(i["slide"] for i in first["images"]) == 9, "the first render has 10 slides: %r"
      % sorted({i["slide"] for i in first["images"]}))
for name, size, n in (("iPhone 17 Pro Max", (1320, 2868), 12), ("iPad Pro", (2064, 2752), 3)):
    for k in range(n):
        framed = os.path.join(big, "screenshots", "en-US", "%s-%02dShot_framed.png" % (name, k))
        check(os.path.exists(framed), "%s was not written" % framed)
        with open(framed, "rb") as f:
            check(png_header(f.read(32))[:2] == size, "%s is not store sized" % framed)

# a server without uploads (a proxy answering POST /v1/files 404): the screenshots go inline,
# one render per locale and preset, every _framed.png still written, the background warned
class NoUploads(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _forward(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else None
        if self.command == "POST" and self.path.startswith("/v1/files"):
            reply, status, ctype = b'{"error":{"code":"route_not_found"}}', 404, "application/json"
        else:
            conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=60)
            conn.request(self.command, self.path, body=body,
                         headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
            resp = conn.getresponse()
            reply, status, ctype = resp.read(), resp.status, resp.getheader("Content-Type", "")
            conn.close()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _forward


proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoUploads)
threading.Thread(target=proxy.serve_forever, daemon=True).start()
small = tempfile.mkdtemp(prefix="easel-frameit-inline-")
for locale in ("en-US", "de-DE"):
    os.makedirs(os.path.join(small, "fastlane", "screenshots", locale))
    for name in ("iPhone 17 Pro Max-01Home.png", "iPhone 17 Pro Max-02Stats.png"):
        with open(os.path.join(small, "fastlane", "screenshots", locale, name), "wb") as f:
            f.write(make_png(*IPHONE))
with open(os.path.join(small, "fastlane", "screenshots", "Framefile.json"), "w") as f:
    json.dump({"default": {"background": "../../bg.png"}}, f)
with open(os.path.join(small, "bg.png"), "wb") as f:
    f.write(flat_png(60, 110, BG_NEXUS))
before = render_ids()
out = subprocess.run([os.path.join(BIN, "easel"), "frameit", os.path.join(small, "fastlane"), "--json"],
                     env=dict(env, EASEL_URL="http://127.0.0.1:%d" % proxy.server_address[1]),
                     capture_output=True, timeout=150)
proxy.shutdown()
check(out.returncode == 0, "inline run: exited %d: %s" % (out.returncode, out.stderr.decode()))
inline = json.loads(out.stdout)
submitted = render_ids() - before
check(inline["source"] == "inline" and len(submitted) == 2 and len(inline["renders"]) == 2,
      "inline: one render per locale, got %s with %d: %r" % (inline["source"], len(submitted), submitted))
check(any(w.startswith("background: this server has no uploads") for w in inline["warnings"]),
      "inline: the background is warned: %r" % inline["warnings"])
for locale in ("en-US", "de-DE"):
    for name in ("iPhone 17 Pro Max-01Home", "iPhone 17 Pro Max-02Stats"):
        check(os.path.exists(os.path.join(small, "fastlane", "screenshots", locale, name + "_framed.png")),
              "inline: %s/%s_framed.png was not written" % (locale, name))

# a broken .strings file stops the run before anything is rendered, naming file and line
with open(os.path.join(shots_dir, "ja", "title.strings"), "w") as f:
    f.write('"01Home" = "ok";\n"02" = "no semicolon"\n')
out = subprocess.run([os.path.join(BIN, "easel"), "frameit", os.path.join(root, "fastlane")],
                     env=env, capture_output=True, timeout=60)
check(out.returncode == 2 and b"title.strings: line 3" in out.stderr, "bad strings: %d %s" % (out.returncode, out.stderr))
print("it_frameit: ok")
