"""POST /v1/renders/{id}/cancel of a render whose slide is
{"capture": {...}} interrupts the capture while its page is loading: a
one-slot renderer's browser is held on /hang (the test's page server sends
the headers and a little HTML, then nothing, so the load event never
comes; the navigation timeout is 60 s). After the cancel:
- the render is `canceled` at once, its image `canceled`, credits_used 0;
- the renderer logs the task canceled well before the navigation timeout
  (within 15 s of the cancel), never a navigation timeout;
- the same slot and the same warm browser (no second "browser started")
  take a new render with a capture slide, which succeeds while the hung
  request is still held open by the server;
- the ledger charges the new render's one image only."""
import json
import time
from harness import Stack, check, wait_for
from capture_pages import PageServer, need_chromium

need_chromium()
pages = PageServer()
stack = Stack(renderers=1, webhooker=False, renderer_env={"EASEL_CAPTURE_TIMEOUT_MS": "60000"})
acct = json.loads(stack.cli("keys", "create", "--name", "cancelcap", "--credits", "10", "--json"))
key = acct["api_key"]


def create(path):
    body = {"async": True, "canvas": {"width": 600, "height": 1200}, "background": {"color": "#ffffff"},
            "slides": [{"headline": {"lines": ["Every habit"]}, "device": "iphone",
                        "screenshot": {"capture": {"url": pages.url(path)}}}]}
    status, _, r = stack.json("POST", "/v1/renders", body, auth=key)
    check(status == 202, "create answered %d %r" % (status, r))
    return r["id"]


def get(rid):
    status, _, r = stack.json("GET", "/v1/renders/" + rid, auth=key)
    check(status == 200, "GET render answered %d %r" % (status, r))
    return r


def log_events():
    out = []
    for line in stack.log_text("renderer0").splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


old = create("/hang")
wait_for(lambda: pages.browser_hits("/hang"), 60, "the browser to be loading /hang")
hang_began = time.monotonic()
before = get(old)
check(before["status"] == "processing" and [i["status"] for i in before["images"]] == ["leased"],
      "the capture slide is leased while its page loads: %r" % before)
task = before["images"][0]["id"]

status, _, canceled = stack.json("POST", "/v1/renders/%s/cancel" % old, auth=key)
canceled_at = time.monotonic()
check(status == 200 and canceled["status"] == "canceled", "cancel: %d %r" % (status, canceled))
check([i["status"] for i in canceled["images"]] == ["canceled"] and canceled["credits_used"] == 0,
      "the canceled capture image is not charged: %r" % canceled)


def task_ended():
    for e in log_events():
        if e.get("task") == task and e["msg"] in ("task canceled", "task failed", "task rendered"):
            return e
    return None


ended = wait_for(task_ended, 15, "the renderer to stop the capture after the cancel")
check(ended["msg"] == "task canceled" and ended.get("while") == "running",
      "the capture should end canceled while running: %r" % ended)
check(time.monotonic() - canceled_at < 15, "the cancel took %.1f s" % (time.monotonic() - canceled_at))
check(not any("navigation timeout" in json.dumps(e) for e in log_events()),
      "the capture ended by its navigation timeout, not by the cancel")

# the slot and its warm browser take the next render at once
new = create("/page")
done = wait_for(lambda: (lambda r: r if r["status"] != "processing" else None)(get(new)), 60, "the new render")
check(done["status"] == "succeeded" and done["credits_used"] == 1, "the new render: %r" % done)
check(time.monotonic() - hang_began < 55,
      "the new render should finish while /hang is still held (%.0f s of the server's 60)"
      % (time.monotonic() - hang_began))
ev = log_events()
starts = [e for e in ev if e["msg"] == "browser started"]
check(len(starts) == 1 and starts[0]["reason"] == "renderer start",
      "the canceled capture should leave the warm browser in use: %r" % starts)
order = [(e["msg"], e.get("task")) for e in ev if e["msg"] in ("task canceled", "task started")]
new_task = done["images"][0]["id"]
check(order.index(("task canceled", task)) < order.index(("task started", new_task)),
      "the new task should start after the canceled one stopped: %r" % order)

after = get(old)
check(after["status"] == "canceled" and after["credits_used"] == 0
      and [i["status"] for i in after["images"]] == ["canceled"],
      "the canceled render changed after the renderer answered: %r" % after)
status, _, a = stack.json("GET", "/v1/account", auth=key)
check(status == 200, "GET /v1/account answered %d" % status)
charges = {}
for e in a["ledger"]:
    if e["reason"] == "render":
        charges[e["render_id"]] = charges.get(e["render_id"], 0) - e["amount"]
check(charges.get(old, 0) == 0 and charges.get(new) == 1, "ledger charges %r" % charges)
check(a["balance"] == 10 - 1 and sum(e["amount"] for e in a["ledger"]) == a["balance"],
      "balance and ledger: %r" % a)
print("it_cancel_capture: 1 passed, 0 failed")
