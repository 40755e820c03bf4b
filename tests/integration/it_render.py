"""A render travels gateway -> scheduler -> renderer and back: async with
polling and a downloaded PNG, and sync in one round trip."""
from harness import Stack, ShotServer, check, png_header, slide
import urllib.request

shots = ShotServer()
stack = Stack(renderers=1)

# Async: 202 at once, then poll until it succeeds.
status, headers, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"preset": "appstore.iphone_6_9"},
    "background": {"gradient": {"colors": ["#1e3c72", "#6a11cb"], "angle": 180}},
    "slides": [slide(shots.url("/shot.png"))], "metadata": {"release": "42"}})
check(status == 202, "async create answered %d: %r" % (status, body))
check(body["status"] == "processing" and body["id"].startswith("rnd_"), "202 body: %r" % body)
check(body["polling_url"] == "/v1/renders/" + body["id"], "polling_url: %r" % body)
check("X-Request-Id" in headers, "no X-Request-Id header")
render = stack.wait_render(body["id"])
check(render["status"] == "succeeded", "render did not succeed: %r" % render)
check(render["progress"] == {"done": 1, "total": 1}, "progress: %r" % render["progress"])
check(render["metadata"] == {"release": "42"}, "metadata lost: %r" % render["metadata"])
image = render["images"][0]
check(image["id"].startswith("img_") and image["width"] == 1320 and image["height"] == 2868,
      "image entry: %r" % image)

# Download with the API key, then with the signed URL alone.
status, fheaders, png = stack.request("GET", "/v1/files/" + image["id"])
check(status == 200, "file download answered %d" % status)
check(fheaders.get("Content-Type") == "image/png", "content type %r" % fheaders.get("Content-Type"))
check(fheaders.get("ETag") == '"%s"' % image["sha256"], "ETag %r" % fheaders.get("ETag"))
w, h, depth, ctype = png_header(png)
check((w, h) == (1320, 2868), "PNG is %dx%d, expected 1320x2868" % (w, h))
check(ctype in (0, 2), "PNG colour type %d carries alpha" % ctype)
check(len(png) == image["bytes"], "bytes %d != %d" % (len(png), image["bytes"]))
with urllib.request.urlopen(image["url"], timeout=30) as resp:
    check(resp.read() == png, "signed URL served other bytes")
tampered = image["url"].replace("sig=", "sig=0")
status, _, _ = stack.request("GET", tampered[len(stack.base):], auth=False)
check(status == 401, "tampered signed URL answered %d, expected 401" % status)

# Sync: one slide, inline data, answered 200 with the finished render.
status, _, render = stack.json("POST", "/v1/renders", {
    "canvas": {"width": 1080, "height": 1920}, "background": {"color": "#112233"},
    "slides": [slide(data=shots.png, lines=["Sync", "two lines"])]})
check(status == 200, "sync create answered %d: %r" % (status, render))
check(render["status"] == "succeeded", "sync render: %r" % render)
status, _, png = stack.request("GET", "/v1/files/" + render["images"][0]["id"])
check(png_header(png)[:2] == (1080, 1920), "sync image size %r" % (png_header(png)[:2],))
# Defaults: no device, finish or background: each preset gets its own kind of
# device in a finish that stands out from midnight, so lint has nothing to say
# about the frame.
plain = {"headline": {"lines": ["Jede Gewohnheit im Blick"]}, "screenshot": {"data": slide(data=shots.png)["screenshot"]["data"]}}
status, _, render = stack.json("POST", "/v1/renders", {
    "canvas": {"preset": "appstore.ipad_13"},
    "matrix": {"presets": ["appstore.ipad_13", "play.tablet_10", "play.phone", "appstore.iphone_6_9"]},
    "slides": [plain]})
check(status == 200 and render["status"] == "succeeded", "default render: %d %r" % (status, render))
frame_rules = {"frame_contrast", "platform_mismatch", "form_factor_mismatch"}
bad = [f for f in render["lint"]["findings"] if f["rule"] in frame_rules]
check(not bad, "the default frames draw lint findings: %r" % bad)
print("it_render: 1 passed, 0 failed")
