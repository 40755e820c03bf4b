"""The webhooker is down when a render finishes; started later it delivers the
callback exactly once, signed so that an HMAC computed here verifies."""
import json
import time
from harness import (Stack, ShotServer, HookReceiver, check, check_envelope, wait_for, slide,
                     verify_asa_signature, verify_standard_signature)

shots = ShotServer()
hooks = HookReceiver()
stack = Stack(renderers=1, webhooker=False)
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "webhook_url": hooks.url("/hooks/easel"),
    "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide(shots.url("/shot.png"))]})
check(status == 202, "create answered %d: %r" % (status, body))
render = stack.wait_render(body["id"])
check(render["status"] == "succeeded", "render: %r" % render)
check(render["webhook_status"] == "pending", "webhook_status before delivery: %r" % render["webhook_status"])
time.sleep(1)
check(hooks.snapshot() == [], "a callback arrived with no webhooker running")

stack.start("webhooker")
wait_for(lambda: hooks.snapshot(), 30, "the late callback")
time.sleep(3)   # room for a duplicate to show up
calls = hooks.snapshot()
check(len(calls) == 1, "expected exactly one callback, got %d" % len(calls))
call = calls[0]
headers = {k.lower(): v for k, v in call["headers"].items()}
check(call["path"] == "/hooks/easel", "callback path %r" % call["path"])
check(verify_asa_signature(stack.secret, headers["x-asa-signature"], call["body"]),
      "X-ASA-Signature does not verify: %r" % headers["x-asa-signature"])
check(verify_standard_signature(stack.secret, headers, call["body"]),
      "webhook-signature does not verify: %r" % headers.get("webhook-signature"))
check(not verify_asa_signature("whsec_wrong", headers["x-asa-signature"], call["body"]),
      "a wrong secret verified")
payload = json.loads(call["body"])
check(payload["id"] == body["id"] and payload["type"] == "render.succeeded", "payload: %r" % payload)
check(payload["event_id"] == headers["webhook-id"], "event_id %r vs webhook-id %r"
      % (payload["event_id"], headers["webhook-id"]))
check_envelope(payload, render, "render", "render.succeeded")
check(payload["completed_at"] == render["completed_at"] and payload["status"] == "succeeded",
      "the render object in the payload: %r" % payload)
wait_for(lambda: stack.json("GET", "/v1/renders/" + body["id"])[2]["webhook_status"] == "delivered",
         10, "webhook_status delivered")
print("it_webhook_late: 1 passed, 0 failed")
