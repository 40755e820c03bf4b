"""How the webhooker treats answers, through POST /v1/webhooks/test events:
410 stops at once (one attempt, failed); 301 is a failure and its Location is
never followed; a receiver that hangs is cut off at EASEL_WEBHOOK_TIMEOUT_MS
and retried no sooner than EASEL_WEBHOOK_MIN_RETRY_MS, like a 429; a 503's
Retry-After replaces the schedule's step. The test event is signed like any other. Bad bodies of
/v1/webhooks/test answer 4xx naming "url"."""
import collections
import json
import threading
import time
from harness import (Stack, HookReceiver, check, wait_for, verify_standard_signature,
                     verify_asa_signature)


seen = collections.Counter()
seen_lock = threading.Lock()


def answer(n, path):
    with seen_lock:
        seen[path] += 1
        first = seen[path] == 1
    if path.startswith("/busy"):
        return (429, {}, 0, b"slow down") if first else (200, {}, 0, b"ok")
    if path.startswith("/unavailable"):
        return (503, {"Retry-After": "0"}, 0, b"back soon") if first else (200, {}, 0, b"ok")
    if path.startswith("/gone"):
        return 410, {}, 0, b"gone"
    if path.startswith("/moved"):
        return 301, {"Location": "/elsewhere"}, 0, b""
    if path.startswith("/hang"):
        return 200, {}, 2.5, b"too late"
    return 200, {}, 0, b"ok"


hooks = HookReceiver(responder=answer)
stack = Stack(renderers=0, webhooker=False, schedule="1,1,1")
stack.start("webhooker", env={"EASEL_WEBHOOK_TIMEOUT_MS": "800", "EASEL_WEBHOOK_MIN_RETRY_MS": "2500"})


def send(path):
    status, _, body = stack.json("POST", "/v1/webhooks/test", {"url": hooks.url(path)})
    check(status == 202 and body["object"] == "webhook_test", "test event: %d %r" % (status, body))
    return body


def log_of(ev):
    status, _, log = stack.json("GET", ev["deliveries_url"])
    check(status == 200, "deliveries of %s: %d %r" % (ev["id"], status, log))
    return log


def calls_to(path):
    return [c for c in hooks.snapshot() if c["path"] == path]


ok = send("/ok")
gone = send("/gone")
moved = send("/moved")
hang = send("/hang")
busy = send("/busy")
unavailable = send("/unavailable")

wait_for(lambda: log_of(ok)["webhook_status"] == "delivered", 10, "the plain test event")
call = calls_to("/ok")[0]
h = {k.lower(): v for k, v in call["headers"].items()}
payload = json.loads(call["body"])
check(payload["type"] == "webhook.test" and payload["event_id"] == ok["id"] == h["webhook-id"],
      "test payload %r headers %r" % (payload, h))
check(payload["id"] == ok["id"] and payload["object"] == "webhook_test"
      and payload["occurred_at"] == payload["created_at"] and payload["occurred_at"].endswith("Z"),
      "test event envelope: %r" % payload)
check(verify_standard_signature(stack.secret, h, call["body"])
      and verify_asa_signature(stack.secret, h["x-asa-signature"], call["body"]), "test event signature")

wait_for(lambda: log_of(gone)["webhook_status"] == "failed", 10, "410 to fail the delivery")
wait_for(lambda: log_of(moved)["webhook_status"] == "failed", 15, "301 to fail after every retry")
wait_for(lambda: log_of(hang)["webhook_status"] == "failed", 30, "the hanging receiver to fail")
time.sleep(1.5)
check(len(calls_to("/gone")) == 1, "410 was retried: %d calls" % len(calls_to("/gone")))
rows = log_of(gone)["data"]
check(len(rows) == 1 and rows[0]["status_code"] == 410, "410 log %r" % rows)

check(len(calls_to("/moved")) == 4, "301: %d attempts, want 4" % len(calls_to("/moved")))
check(calls_to("/elsewhere") == [], "the redirect was followed")
rows = log_of(moved)["data"]
check(all(r["status_code"] == 301 and r["error_class"] == "redirect" for r in rows), "301 log %r" % rows)

rows = log_of(hang)["data"]
check(len(rows) == 4 and all(r["error_class"] == "timeout" and r["status_code"] is None for r in rows),
      "timeout log %r" % rows)
check(all(700 <= r["latency_ms"] <= 2000 for r in rows), "timeout latencies %r" % [r["latency_ms"] for r in rows])
at = [c["at"] for c in calls_to("/hang")]
check(len(at) == 4 and all(b - a >= 0.75 + 2.4 for a, b in zip(at, at[1:])),
      "after a timeout the next try waits the 2.5 s floor: gaps %r" % [b - a for a, b in zip(at, at[1:])])

wait_for(lambda: log_of(busy)["webhook_status"] == "delivered", 15, "429 then 200")
at = [c["at"] for c in calls_to("/busy")]
check(len(at) == 2 and at[1] - at[0] >= 2.4, "after a 429 the next try waits the floor: %r" % at)
wait_for(lambda: log_of(unavailable)["webhook_status"] == "delivered", 15, "503 then 200")
at = [c["at"] for c in calls_to("/unavailable")]
check(len(at) == 2 and at[1] - at[0] < 0.6,
      "Retry-After: 0 on a 503 should replace the 1 s step: gap %.2f" % (at[1] - at[0]))

# bad inputs
for body, param, code in (({}, "url", 422), ({"url": 5}, "url", 422), ({"url": "ftp://x/y"}, "url", 422),
                          ({"url": "http://" + "a" * 2100 + ".com/"}, "url", 422),
                          ({"url": hooks.url(), "extra": 1}, "extra", 422)):
    status, _, err = stack.json("POST", "/v1/webhooks/test", body)
    check(status == code and err["error"]["param"] == param, "%r: %d %r" % (body, status, err))
status, _, err = stack.json("POST", "/v1/webhooks/test", raw=b"{not json", headers={"Content-Type": "application/json"})
check(status == 400 and err["error"]["code"] == "invalid_json", "bad JSON: %d %r" % (status, err))
status, _, err = stack.json("GET", "/v1/webhooks/test")
check(status == 405, "GET /v1/webhooks/test answered %d" % status)
status, _, err = stack.json("GET", "/v1/webhooks/test/evt_01KNS1WNPW9FCHZSK4XNTHMB0H/deliveries")
check(status == 404, "unknown test event answered %d" % status)
print("it_webhook_codes: 1 passed, 0 failed")
