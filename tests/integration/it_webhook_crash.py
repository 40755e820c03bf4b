"""Never lost: kill -9 the webhooker while deliveries are in flight, and kill
-9 the scheduler at arbitrary moments while events are being committed (so
some die between COMMIT and their PUB); after restarts every event the API
accepted (202) reaches the receiver and ends "delivered"."""
import threading
import time
import json
from harness import Stack, HookReceiver, check, wait_for, slide

hooks = HookReceiver(responder=lambda n, path: (200, {}, 1.0 if path.startswith("/slow") else 0, b"ok"))
stack = Stack(renderers=1, renderer_env={"EASEL_RENDERER_TEST_DELAY_MS": "150"}, schedule="1,1,1")


def seen_ids():
    return {c["headers"].get("webhook-id") for c in hooks.snapshot()}


def status_of(ev):
    status, _, log = stack.json("GET", "/v1/webhooks/test/%s/deliveries" % ev)
    return log.get("webhook_status") if status == 200 else None


# 1. the webhooker dies with five transfers in flight
slow = []
for i in range(5):
    status, _, body = stack.json("POST", "/v1/webhooks/test", {"url": hooks.url("/slow/%d" % i)})
    check(status == 202, "slow event %d: %d %r" % (i, status, body))
    slow.append(body["id"])
wait_for(lambda: hooks.inflight >= 3, 10, "transfers in flight")
stack.kill("webhooker")
time.sleep(0.5)
check(all(status_of(ev) == "pending" for ev in slow), "a killed transfer was counted as delivered")
stack.start("webhooker")
wait_for(lambda: all(status_of(ev) == "delivered" for ev in slow), 20, "the slow events to be delivered")
check(set(slow) <= seen_ids(), "a slow event never arrived")

# 2. events committed while the scheduler (and once the webhooker) is killed at random moments
accepted = []
stop = threading.Event()


def producer():
    i = 0
    while not stop.is_set():
        status, _, body = stack.json("POST", "/v1/webhooks/test", {"url": hooks.url("/fast/%d" % i)}, timeout=10)
        if status == 202:
            accepted.append(body["id"])
        i += 1
        time.sleep(0.01)


thread = threading.Thread(target=producer, daemon=True)
thread.start()
for round_ in range(3):
    time.sleep(0.4 + 0.2 * round_)
    stack.kill("scheduler")
    if round_ == 1:
        stack.kill("webhooker")
    time.sleep(0.3)
    stack.start("scheduler")
    if round_ == 1:
        stack.start("webhooker")
time.sleep(0.5)
stop.set()
thread.join(30)
check(len(accepted) >= 10, "only %d events were accepted" % len(accepted))
wait_for(lambda: set(accepted) <= seen_ids(), 30,
         "every accepted event to arrive (%d accepted)" % len(accepted))
wait_for(lambda: all(status_of(ev) == "delivered" for ev in accepted), 20, "all delivered")

# 3. renders finishing (final state + event in one commit, PUB after it) while the scheduler dies
renders = []
for i in range(6):
    status, _, body = stack.json("POST", "/v1/renders", {
        "async": True, "webhook_url": hooks.url("/render/%d" % i),
        "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide()]})
    check(status == 202, "render %d: %d %r" % (i, status, body))
    renders.append(body["id"])
for delay in (0.35, 0.4):
    time.sleep(delay)
    stack.kill("scheduler")
    stack.start("scheduler")


def render_ids():
    return {json.loads(c["body"]).get("id") for c in hooks.snapshot() if c["path"].startswith("/render/")}


wait_for(lambda: set(renders) <= render_ids(), 40, "every render's callback")


def render_delivered(rid):
    status, _, r = stack.json("GET", "/v1/renders/" + rid)
    return status == 200 and r["webhook_status"] == "delivered"


# The callback can reach the receiver before its attempt report reaches a
# scheduler that was just restarted; the webhooker re-sends the report.
for rid in renders:
    wait_for(lambda: render_delivered(rid), 20, "render %s to say delivered" % rid)
print("it_webhook_crash: 1 passed, 0 failed (%d events through 3 scheduler kills, 6 renders through 2)"
      % len(accepted))
