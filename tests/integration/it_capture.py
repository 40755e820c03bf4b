"""Framed web captures end to end: a local page of known colours is loaded
in headless Chromium and framed in browser-macos; its red and blue halves
are found inside the frame's screen rectangle; width/height/format match the
result; the page is taken by the browser the renderer started with (its
sandbox check, kept warm) and an image URL is framed without a browser; prices (3 / 1);
headers reach the page; the job webhook payload; bad input is 422 naming
the field."""
import json
import os
import tempfile
from harness import Stack, HookReceiver, check, check_envelope, wait_for, png_header
from capture_pages import (PageServer, need_chromium, decode_png, bbox, chromium_wrapper,
                           RED, BLUE, GREEN)

need_chromium()
pages = PageServer()
hooks = HookReceiver()
tmp = tempfile.mkdtemp(prefix="easel-it-capture-")
marker = os.path.join(tmp, "launches")
stack = Stack(renderers=1, renderer_env={"EASEL_CHROMIUM": chromium_wrapper(tmp, marker)})


def s_launches():
    return open(marker).read().count("launch") if os.path.exists(marker) else 0


startup = s_launches()             # the renderer's check of the browser's sandbox: its warm browser


def launches():
    return s_launches() - startup


def fetch(url):
    path = url[len(stack.base):]
    status, headers, body = stack.request("GET", path, auth=False)
    check(status == 200, "GET %s answered %d" % (path, status))
    return headers, body


# ---- a page, sync: 200 with the finished job --------------------------------
status, _, job = stack.json("POST", "/v1/capture", {
    "url": pages.url("/page"), "viewport": {"width": 800, "height": 600},
    "device": "browser-macos", "background_preset": "paper", "webhook_url": hooks.url()})
check(status == 200, "sync capture answered %d: %r" % (status, job))
check(job["status"] == "completed", "capture job: %r" % job)
check(job["id"].startswith("job_") and len(job["id"]) == 30, "job id: %r" % job["id"])
res = job["result"]
check(res["id"].startswith("cap_") and res["format"] == "png", "result: %r" % res)
check(res["credits_used"] == 3, "a browser page costs 3 credits: %r" % res)
check(job["error"] is None, "error of a completed job: %r" % job["error"])
check(len(job["created_at"]) == 19 and job["created_at"][10] == " ", "created_at: %r" % job["created_at"])
check(len(job["completed_at"]) == 19, "completed_at: %r" % job["completed_at"])
check(startup == 1 and launches() == 0,
      "the page should be taken by the browser the renderer started with (at start %d, since %d)"
      % (startup, launches()))
headers, data = fetch(res["url"])
check(headers.get("Content-Type") == "image/png", "file content type: %r" % headers.get("Content-Type"))
w, h, depth, ctype = png_header(data)
check((w, h) == (res["width"], res["height"]), "PNG %dx%d vs result %dx%d" % (w, h, res["width"], res["height"]))
W, H, rows = decode_png(data)
red, blue = bbox(rows, RED), bbox(rows, BLUE)
check(red is not None and blue is not None, "page colours not found in the capture")
# the screen: 800 px wide (1:1), below the 56 px toolbar, inside a margin of background
rw, rh = red[2] - red[0] + 1, red[3] - red[1] + 1
check(abs(rw - 800) <= 4, "red half is %d px wide, expected ~800" % rw)
check(abs(rh - 300) <= 4, "red half is %d px tall, expected ~300" % rh)
check(abs(blue[1] - (red[3] + 1)) <= 2 and abs(blue[2] - red[2]) <= 2, "blue half not under red: %r %r" % (red, blue))
check(red[0] > 0 and red[1] > 40 and blue[3] < H - 1 and red[2] < W - 1,
      "the page must sit inside the frame, not on the canvas edge: red %r blue %r in %dx%d" % (red, blue, W, H))
# the toolbar above the page is the frame's, not the page's
tb = rows[red[1] - 20][red[0] + 400]
check(abs(tb[0] - RED[0]) > 40 or abs(tb[2] - RED[2]) > 40, "no toolbar above the page: %r" % (tb,))
# the GET shape matches
status, _, again = stack.json("GET", "/v1/jobs/" + job["id"])
check(status == 200 and again["result"]["id"] == res["id"], "GET job: %d %r" % (status, again))
for key in ("id", "status", "result", "error", "webhook_url", "webhook_status", "created_at", "completed_at"):
    check(key in again, "job object lacks %s: %r" % (key, again))

# the webhook: job.completed with the result
wait_for(lambda: hooks.snapshot(), 30, "the job.completed webhook")
call = hooks.snapshot()[0]
payload = json.loads(call["body"])
check(payload["type"] == "job.completed" and payload["job_id"] == job["id"], "payload: %r" % payload)
check(payload["status"] == "completed" and payload["result"]["id"] == res["id"], "payload: %r" % payload)
check(payload["event_id"].startswith("evt_") and "created_at" in payload, "payload: %r" % payload)
check("error" not in payload, "a completed payload carries no error: %r" % payload)
check_envelope(payload, again, "job", "job.completed")
status, _, log = stack.json("GET", "/v1/jobs/%s/deliveries" % job["id"])
check(status == 200 and log["id"] == job["id"], "job deliveries: %d %r" % (status, log))

# ---- an image URL: framed without a browser, 1 credit, async ----------------
status, _, accepted = stack.json("POST", "/v1/capture", {
    "url": pages.url("/shot.png"), "async": True, "device": "iphone", "format": "jpeg"})
check(status == 202 and accepted["status"] == "pending" and accepted["job_id"].startswith("job_"),
      "async capture answered %d %r" % (status, accepted))
check(set(accepted) == {"job_id", "status"}, "202 body: %r" % accepted)
status, _, img_job = stack.json("GET", "/v1/jobs/%s?wait=30" % accepted["job_id"])
check(img_job["status"] == "completed", "image job: %r" % img_job)
check(img_job["result"]["credits_used"] == 1, "an image URL costs 1 credit: %r" % img_job)
check(img_job["result"]["format"] == "jpeg", "format: %r" % img_job["result"])
check(launches() == 0, "an image URL must not start a browser (launches: %d)" % launches())
headers, data = fetch(img_job["result"]["url"])
check(data[:3] == b"\xff\xd8\xff" and headers.get("Content-Type") == "image/jpeg", "not a JPEG")

# ---- headers reach an authenticated page; never logged ----------------------
status, _, auth_job = stack.json("POST", "/v1/capture", {
    "url": pages.url("/auth"), "headers": {"X-Token": "sesame"}, "viewport": {"width": 400, "height": 300},
    "device": "none", "wait_until": "networkidle", "delay_ms": 200})
check(status == 200 and auth_job["status"] == "completed", "authenticated capture: %r" % auth_job)
check(any(s[2] == "sesame" for s in pages.browser_hits("/auth")), "the browser did not send X-Token")
for name in ("gateway", "scheduler", "renderer0"):
    check("sesame" not in stack.log_text(name), "a header value was logged by %s" % name)

# ---- full_page and device_scale_factor ---------------------------------------
status, _, tall = stack.json("POST", "/v1/capture", {
    "url": pages.url("/tall"), "viewport": {"width": 400, "height": 300}, "device": "none",
    "full_page": True, "device_scale_factor": 2})
check(status == 200 and tall["status"] == "completed", "full page capture: %r" % tall)
_, data = fetch(tall["result"]["url"])
W, H, rows = decode_png(data)
green, red = bbox(rows, GREEN), bbox(rows, RED)
check(green is not None, "full_page: the bottom of the page (green) is missing")
gw, gh = green[2] - green[0] + 1, green[3] - green[1] + 1
check(abs(gw - 800) <= 6 and abs(gh - 1000) <= 6, "2x: green block %dx%d, expected ~800x1000" % (gw, gh))
check(abs((red[3] - red[1] + 1) - 3000) <= 6, "2x full page: red block %d tall, expected ~3000" % (red[3] - red[1] + 1))
check((W, H) == (tall["result"]["width"], tall["result"]["height"]), "size vs result")

# ---- a phone: the device's viewport, scale and safe area ----------------------
# iphone: 393x852 CSS px at 3x; the page is laid out in 852 - 59 (Dynamic
# Island) - 34 (home indicator) = 759 px and the bands above and below are
# filled from the page's edge rows, so the screen gets 1179x2556 device pixels
# and the page's top half starts below the Island.
status, _, phone = stack.json("POST", "/v1/capture", {"url": pages.url("/page"), "device": "iphone"})
check(status == 200 and phone["status"] == "completed", "iphone capture: %r" % phone)
_, data = fetch(phone["result"]["url"])
W, H, rows = decode_png(data)
k = 1179 / 928.0                                # screen px per frame unit (the frame is 1000 x 2088)
fw, fh = round(1000 * k), round(2088 * k)
margin = fw * 60 // 1000
check((W, H) == (fw + 2 * margin, fh + 2 * margin) == (phone["result"]["width"], phone["result"]["height"]),
      "iphone capture is %dx%d, expected %dx%d (a 1179x2556 screen, not 1x)" % (W, H, fw + 2 * margin, fh + 2 * margin))
red, blue = bbox(rows, RED), bbox(rows, BLUE)
check(red is not None and blue is not None, "iphone: page colours not found")
if red and blue:
    rw, rh, bh = red[2] - red[0] + 1, red[3] - red[1] + 1, blue[3] - blue[1] + 1
    check(abs(rw - 1179) <= 6, "iphone: the page is %d px wide, expected 1179" % rw)
    check(abs(rh - (759 / 2 + 59) * 3) <= 8, "iphone: red (top half + safe top) is %d px, expected ~%d" % (rh, (759 / 2 + 59) * 3))
    check(abs(bh - (759 / 2 + 34) * 3) <= 8, "iphone: blue (bottom half + safe bottom) is %d px, expected ~%d" % (bh, (759 / 2 + 34) * 3))

# ---- idempotency: same key, same body -> the same job ------------------------
body = {"url": pages.url("/shot.png"), "async": True}
s1, h1, r1 = stack.request("POST", "/v1/capture", body, headers={"Idempotency-Key": "cap-1"})
s2, h2, r2 = stack.request("POST", "/v1/capture", body, headers={"Idempotency-Key": "cap-1"})
check(s1 == 202 and s2 == 202 and r1 == r2, "idempotent replay: %d %r / %d %r" % (s1, r1, s2, r2))
check(h2.get("Idempotent-Replayed") == "true", "replay header missing: %r" % h2)
s3, _, r3 = stack.json("POST", "/v1/capture", dict(body, device="ipad"), headers={"Idempotency-Key": "cap-1"})
check(s3 == 422 and r3["error"]["code"] == "idempotency_key_reused", "reused key: %d %r" % (s3, r3))

# ---- bad input: 422 naming the field ----------------------------------------
for bad, param in [({"url": "ftp://example.com/x"}, "url"),
                   ({"url": "file:///etc/passwd"}, "url"),
                   ({}, "url"),
                   ({"url": pages.url("/page"), "viewport": {"width": 0, "height": 900}}, "viewport.width"),
                   ({"url": pages.url("/page"), "viewport": {"width": 1440, "height": 100000}}, "viewport.height"),
                   ({"url": pages.url("/page"), "device": "toaster"}, "device"),
                   ({"url": pages.url("/page"), "device_scale_factor": 4}, "device_scale_factor"),
                   ({"url": pages.url("/page"), "delay_ms": 10001}, "delay_ms"),
                   ({"url": pages.url("/page"), "wait_until": "idle"}, "wait_until"),
                   ({"url": pages.url("/page"), "format": "gif"}, "format"),
                   ({"url": pages.url("/page"), "background_preset": "nope"}, "background_preset"),
                   ({"url": pages.url("/page"), "headers": {"Bad Name": "x"}}, "headers.Bad Name"),
                   ({"url": pages.url("/page"), "color": "red"}, "color")]:
    status, _, err = stack.json("POST", "/v1/capture", bad)
    check(status == 422, "%r answered %d, expected 422" % (bad, status))
    check(err["error"]["param"] == param, "%r names %r, expected %r" % (bad, err["error"].get("param"), param))
status, _, err = stack.json("GET", "/v1/jobs/job_nope")
check(status == 404 and err["error"]["code"] == "resource_missing", "unknown job: %d %r" % (status, err))
status, _, err = stack.json("GET", "/v1/renders/" + job["id"])
check(status == 404, "a job id is not a render: %d" % status)
print("it_capture: 1 passed, 0 failed")
