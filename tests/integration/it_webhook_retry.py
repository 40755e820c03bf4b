"""A receiver that fails three times then answers 200: the callback is
delivered on attempt 4 with one webhook-id throughout and a valid signature
(HMAC computed here) on every attempt; the attempt log at
GET /v1/renders/{id}/deliveries has the four rows. Then a manual redelivery
sends the same event again with the same webhook-id, and the bad inputs of
both routes answer 404 / 409 as documented."""
import json
import time
from harness import (Stack, HookReceiver, check, wait_for, slide,
                     verify_asa_signature, verify_standard_signature)


def answer(n, path):
    if n < 3:
        return 500, {}, 0, b'{"error":"try again %d"}' % n
    return 200, {}, 0, b"thanks"


hooks = HookReceiver(responder=answer)
stack = Stack(renderers=1, schedule="1,1,1")
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "webhook_url": hooks.url(), "canvas": {"preset": "appstore.iphone_6_9"},
    "slides": [slide()]})
check(status == 202, "create answered %d: %r" % (status, body))
rid = body["id"]


def webhook_status():
    return stack.json("GET", "/v1/renders/" + rid)[2]["webhook_status"]


wait_for(lambda: webhook_status() == "delivered", 40, "webhook_status delivered")
calls = hooks.snapshot()
check(len(calls) == 4, "expected 4 attempts, got %d" % len(calls))
ids = {c["headers"].get("webhook-id") for c in calls}
check(len(ids) == 1, "webhook-id changed between attempts: %r" % ids)
for i, c in enumerate(calls):
    h = {k.lower(): v for k, v in c["headers"].items()}
    check(verify_asa_signature(stack.secret, h["x-asa-signature"], c["body"]),
          "attempt %d: X-ASA-Signature does not verify" % (i + 1))
    check(verify_standard_signature(stack.secret, h, c["body"]),
          "attempt %d: webhook-signature does not verify" % (i + 1))
    check(c["body"] == calls[0]["body"], "attempt %d: body changed" % (i + 1))

status, _, log = stack.json("GET", "/v1/renders/%s/deliveries" % rid)
check(status == 200, "deliveries answered %d: %r" % (status, log))
check(log["object"] == "list" and log["webhook_status"] == "delivered", "deliveries: %r" % log)
check(log["webhook_id"] in ids, "webhook_id %r vs header %r" % (log["webhook_id"], ids))
rows = log["data"]
check([r["status_code"] for r in rows] == [500, 500, 500, 200], "status codes %r" % rows)
check([r["ok"] for r in rows] == [False, False, False, True], "ok flags %r" % rows)
check(all(r["error_class"] == "http_status" for r in rows[:3]) and rows[3]["error_class"] is None,
      "error classes %r" % [r["error_class"] for r in rows])
check(rows[0]["response_head"] == '{"error":"try again 0"}' and rows[3]["response_head"] == "thanks",
      "response heads %r" % [r["response_head"] for r in rows])
check(all(isinstance(r["latency_ms"], int) and r["at"].endswith("Z") for r in rows), "rows %r" % rows)

# manual redelivery: same webhook-id, picked up promptly
before = len(hooks.snapshot())
t0 = time.time()
status, _, red = stack.json("POST", "/v1/renders/%s/redeliver" % rid)
check(status == 202 and red["webhook_id"] in ids, "redeliver answered %d: %r" % (status, red))
wait_for(lambda: len(hooks.snapshot()) > before, 10, "the redelivered callback")
check(time.time() - t0 < 3, "redelivery took %.1fs" % (time.time() - t0))
again = hooks.snapshot()[before]
h = {k.lower(): v for k, v in again["headers"].items()}
check(h["webhook-id"] in ids and again["body"] == calls[0]["body"], "redelivery differs: %r" % h)
check(verify_standard_signature(stack.secret, h, again["body"]), "redelivery signature")
wait_for(lambda: webhook_status() == "delivered", 10, "delivered after redelivery")
rows = stack.json("GET", "/v1/renders/%s/deliveries" % rid)[2]["data"]
check(len(rows) == 5 and rows[4]["status_code"] == 200, "after redelivery: %r" % rows)

# a redelivery asked for while an attempt is in flight sends once more after it
hooks.responder = lambda n, path: (200, {}, 1.5, b"slow ok")
before = len(hooks.snapshot())
status, _, red = stack.json("POST", "/v1/renders/%s/redeliver" % rid)
check(status == 202, "redeliver answered %d: %r" % (status, red))
wait_for(lambda: hooks.inflight >= 1, 10, "the slow redelivery in flight")
status, _, red = stack.json("POST", "/v1/renders/%s/redeliver" % rid)
check(status == 202, "second redeliver answered %d: %r" % (status, red))
wait_for(lambda: len(hooks.snapshot()) >= before + 2, 10, "the second redelivery after the in-flight one")
wait_for(lambda: hooks.inflight == 0 and webhook_status() == "delivered", 10, "delivered again")
time.sleep(0.5)
check(len(hooks.snapshot()) == before + 2, "expected exactly 2 more calls, got %d" % (len(hooks.snapshot()) - before))
hooks.responder = answer

# bad inputs
unknown = "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H"
for method, path in (("GET", "/v1/renders/%s/deliveries"), ("POST", "/v1/renders/%s/redeliver")):
    for bad in (unknown, "nope"):
        status, _, err = stack.json(method, path % bad)
        check(status == 404 and err["error"]["param"] == "id", "%s %s: %d %r" % (method, bad, status, err))
status, _, err = stack.json("POST", "/v1/renders/%s/deliveries" % rid)
check(status == 405, "POST deliveries answered %d" % status)
status, _, err = stack.request("GET", "/v1/renders/%s/deliveries" % rid, auth=False)
check(status == 401, "no key answered %d" % status)
other = json.loads(stack.cli("keys", "create", "--name", "other", "--json"))["api_key"]
status, _, err = stack.json("GET", "/v1/renders/%s/deliveries" % rid, auth=other)
check(status == 404, "another account's render answered %d: %r" % (status, err))
status, _, err = stack.json("POST", "/v1/renders/%s/redeliver" % rid, auth=other)
check(status == 404, "another account's redeliver answered %d: %r" % (status, err))

# a render without a webhook: an empty list, and nothing to redeliver (409)
status, _, plain = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide()]})
check(status == 202, "create answered %d" % status)
stack.wait_render(plain["id"])
status, _, log = stack.json("GET", "/v1/renders/%s/deliveries" % plain["id"])
check(status == 200 and log["data"] == [] and log["webhook_url"] is None
      and log["webhook_status"] == "none", "no-webhook deliveries: %d %r" % (status, log))
status, _, err = stack.json("POST", "/v1/renders/%s/redeliver" % plain["id"])
check(status == 409 and err["error"]["code"] == "no_webhook", "no-webhook redeliver: %d %r" % (status, err))
print("it_webhook_retry: 1 passed, 0 failed")
