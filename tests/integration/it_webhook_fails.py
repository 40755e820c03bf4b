"""An endpoint that always answers 500 gets the first try plus every retry of
the (test-compressed) schedule, then the render says webhook_status failed."""
import time
from harness import Stack, ShotServer, HookReceiver, check, wait_for, slide

shots = ShotServer()
hooks = HookReceiver(status=500)
stack = Stack(renderers=1, schedule="1,1")
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "webhook_url": hooks.url(), "canvas": {"preset": "appstore.iphone_6_9"},
    "slides": [slide(shots.url("/shot.png"))]})
check(status == 202, "create answered %d: %r" % (status, body))


def webhook_status():
    return stack.json("GET", "/v1/renders/" + body["id"])[2]["webhook_status"]


wait_for(lambda: webhook_status() == "failed", 30, "webhook_status failed")
time.sleep(2)
calls = hooks.snapshot()
check(len(calls) == 3, "expected 3 attempts (1 + 2 retries), got %d" % len(calls))
ids = {c["headers"].get("webhook-id") for c in calls}
check(len(ids) == 1, "webhook-id changed between retries: %r" % ids)
gaps = [b["at"] - a["at"] for a, b in zip(calls, calls[1:])]
check(all(0.7 <= g <= 3.0 for g in gaps), "retry gaps %r do not follow the 1 s schedule" % gaps)
print("it_webhook_fails: 1 passed, 0 failed")
