"""GET /v1/renders/{id} from the gateways' render state (gateway/render_state.h),
three gateways on one scheduler: A and B keep render state, C runs with
--no-render-state (every GET asks the scheduler: today's round trip).

1. Read-your-writes across gateways, 300 times: create on A, GET on B at once
   (must see it processing), GET on B again (must be answered from B's state),
   cancel on A, GET on B at once (must see it canceled).
2. The same bytes: one render's answer from B's state and from C's round trip,
   compared at several stages (queued, succeeded, reviewed, and a canceled
   one from step 1).
3. A long poll on B (?wait=) of a processing render is answered canceled as
   soon as A cancels it, woken by the stream, long before the wait ends.
4. A scheduler restart (a new epoch): B drops its state (a reset counted),
   answers from the scheduler, and is again read-your-writes afterwards.
5. The read lease: in step 1 B answered GETs under its lease (no fence);
   a B that stops acknowledging (SIGSTOP) delays A's cancel by at most its
   lease (EASEL_READ_LEASE_MS, 2 s), not forever; once resumed, B's first
   GET still sees the cancel (its lease ran out: it fences), and B holds a
   lease again soon after."""
import json
import re
import signal
import threading
import time

from harness import ShotServer, Stack, check, free_port, slide, wait_for

shots = ShotServer()
stack = Stack(renderers=0)
ports = {"B": free_port(), "C": free_port()}
stack.start("gatewayB", "--listen", "127.0.0.1:%d" % ports["B"], service="gateway")
stack.start("gatewayC", "--listen", "127.0.0.1:%d" % ports["C"], "--no-render-state", service="gateway")
bases = {"A": stack.base, "B": "http://127.0.0.1:%d" % ports["B"], "C": "http://127.0.0.1:%d" % ports["C"]}


def via(name, method, path, **kw):
    saved, stack.base = stack.base, bases[name]
    try:
        return stack.json(method, path, **kw)
    finally:
        stack.base = saved


def raw_get(name, path):
    saved, stack.base = stack.base, bases[name]
    try:
        return stack.request("GET", path)
    finally:
        stack.base = saved


def state_counter(name, result):
    status, _, text = raw_get(name, "/metrics")
    check(status == 200, "metrics of %s answered %d" % (name, status))
    m = re.search(r'^easel_gateway_render_state_total\{result="%s"\} (\d+)' % result,
                  text.decode(), re.M)
    return int(m.group(1)) if m else 0


for name in ("B", "C"):
    wait_for(lambda: raw_get(name, "/healthz")[0] == 200, 30, "gateway %s to start" % name)

body = {"async": True, "canvas": {"width": 300, "height": 600},
        "slides": [slide(shots.url("/shot.png"), lines=["State"])]}

def unsigned(answer):
    """answer without its signed links' exp and sig: two GETs either side of a
    signing window's turn are signed in two windows (EASEL_SIGNED_EXP), the
    rest is the same"""
    return re.sub(r"exp=\d+&sig=[0-9a-f]+", "exp=&sig=", json.dumps(answer, sort_keys=True))


# ---- 1. read-your-writes across gateways -----------------------------------
hits_before = state_counter("B", "hit")
leased_before = state_counter("B", "leased")
ITERATIONS = 300
canceled_ids = []
for i in range(ITERATIONS):
    status, _, made = via("A", "POST", "/v1/renders", body=body)
    check(status == 202, "create %d on A answered %d: %r" % (i, status, made))
    rid = made["id"]
    status, _, seen = via("B", "GET", "/v1/renders/" + rid)
    check(status == 200 and seen["status"] == "processing",
          "iteration %d: B right after A's 202 answered %d %r" % (i, status, seen))
    status, _, again = via("B", "GET", "/v1/renders/" + rid)
    check(status == 200 and unsigned(again) == unsigned(seen),
          "iteration %d: B's second GET %d %r" % (i, status, again))
    status, _, canceled = via("A", "POST", "/v1/renders/%s/cancel" % rid)
    check(status == 200 and canceled["status"] == "canceled", "cancel %d: %d %r" % (i, status, canceled))
    status, _, after = via("B", "GET", "/v1/renders/" + rid)
    check(status == 200 and after["status"] == "canceled",
          "iteration %d: B right after A's cancel answered %d %r" % (i, status, after))
    canceled_ids.append(rid)
hits = state_counter("B", "hit") - hits_before
# every iteration's second GET at least comes from the state (the first one
# seeds it from the scheduler's answer); the GET after the cancel does too
# unless the render cache (finished renders) had it
check(hits >= ITERATIONS, "B answered only %d of %d GETs from its state" % (hits, 2 * ITERATIONS))
leased = state_counter("B", "leased") - leased_before
check(leased >= ITERATIONS // 2, "B answered only %d of its %d state hits under the read lease" % (leased, hits))

# ---- 2. the same bytes from the state and from the round trip --------------


def same_bytes(rid, stage):
    """B's answer (its state) and C's (the scheduler) for rid: equal, once
    both were signed in one signing window (a window may turn between).
    ?wait=0 keeps the finished-render cache (plain GETs only) out of it."""
    for _ in range(5):
        before = state_counter("B", "hit")
        status_b, _, from_state = raw_get("B", "/v1/renders/%s?wait=0" % rid)
        served = state_counter("B", "hit") > before
        status_c, _, from_scheduler = raw_get("C", "/v1/renders/%s?wait=0" % rid)
        check(status_b == 200 and status_c == 200, "%s: B %d, C %d" % (stage, status_b, status_c))
        if from_state == from_scheduler and served:
            return json.loads(from_state)
        time.sleep(0.3)
    check(False, "%s: B (from its state: %s) and C differ:\n%s\n%s"
          % (stage, served, from_state.decode(), from_scheduler.decode()))


status, _, made = via("A", "POST", "/v1/renders", body=body)
rid = made["id"]
via("B", "GET", "/v1/renders/" + rid)            # seeds B's state (a round trip)
r = same_bytes(rid, "queued")
check(r["status"] == "processing", "queued stage: %r" % r)
stack.start_renderer(0)
final = wait_for(lambda: (lambda s: s if s[2]["status"] == "succeeded" else None)(via("B", "GET", "/v1/renders/" + rid)),
                 60, "the render to succeed on B")
r = same_bytes(rid, "succeeded")
check(r["images"][0]["status"] == "succeeded" and "url" in r["images"][0], "succeeded stage: %r" % r)
status, _, decided = via("A", "POST", "/v1/renders/%s/review" % rid,
                         body={"status": "approved", "comment": "ship it", "by": "it"})
check(status == 200, "review on A answered %d: %r" % (status, decided))
# read-your-writes for a finished render too (not a cached finished answer:
# the query makes the GET skip the one-second finished-render cache)
status, _, seen = via("B", "GET", "/v1/renders/%s?wait=0" % rid)
check(seen["review"]["status"] == "approved", "B right after the review: %r" % seen["review"])
r = same_bytes(rid, "reviewed")
check(r["review"]["status"] == "approved", "reviewed stage: %r" % r["review"])
same_bytes(canceled_ids[-1], "canceled")

# ---- 3. a long poll wakes from the stream ----------------------------------
stack.kill("renderer0", signal.SIGTERM)
time.sleep(0.5)
status, _, made = via("A", "POST", "/v1/renders", body=body)
rid = made["id"]
via("B", "GET", "/v1/renders/" + rid)            # B knows it
answer = {}


def long_poll():
    t0 = time.time()
    answer["reply"] = via("B", "GET", "/v1/renders/%s?wait=30" % rid)
    answer["seconds"] = time.time() - t0


poller = threading.Thread(target=long_poll)
poller.start()
time.sleep(1.0)
check(poller.is_alive(), "the long poll answered before the cancel: %r" % answer)
status, _, _ = via("A", "POST", "/v1/renders/%s/cancel" % rid)
check(status == 200, "cancel for the long poll answered %d" % status)
poller.join(30)
check(not poller.is_alive(), "the long poll did not answer")
status, _, polled = answer["reply"]
check(status == 200 and polled["status"] == "canceled", "the long poll answered %d %r" % (status, polled))
check(answer["seconds"] < 15, "the long poll waited %.1f s of its 30: not woken by the stream" % answer["seconds"])

# ---- 4. a scheduler restart: a new epoch ------------------------------------
status, _, made = via("A", "POST", "/v1/renders", body=body)
rid = made["id"]
via("B", "GET", "/v1/renders/" + rid)
resets = state_counter("B", "reset")
stack.kill("scheduler", signal.SIGTERM)
status, _, _ = via("B", "GET", "/v1/renders/" + rid)
check(status in (200, 503), "B with the scheduler down answered %d" % status)
stack.start("scheduler")
wait_for(lambda: via("B", "GET", "/v1/renders/" + rid)[0] == 200, 30, "B to reach the restarted scheduler")
wait_for(lambda: state_counter("B", "reset") > resets, 10, "B to drop its state for the new epoch")
status, _, canceled = via("A", "POST", "/v1/renders/%s/cancel" % rid)
check(status == 200, "cancel after the restart answered %d: %r" % (status, canceled))
status, _, after = via("B", "GET", "/v1/renders/" + rid)
check(status == 200 and after["status"] == "canceled", "B after the restart and the cancel: %r" % after)
for i in range(50):
    status, _, made = via("A", "POST", "/v1/renders", body=body)
    status, _, seen = via("B", "GET", "/v1/renders/" + made["id"])
    check(status == 200 and seen["status"] == "processing", "after restart %d: %r" % (i, seen))
    via("A", "POST", "/v1/renders/%s/cancel" % made["id"])
    status, _, seen = via("B", "GET", "/v1/renders/" + made["id"])
    check(status == 200 and seen["status"] == "canceled", "after restart %d, canceled: %r" % (i, seen))

# ---- 5. a gateway that stops acknowledging -------------------------------------
LEASE_S = 2.0
status, _, made = via("A", "POST", "/v1/renders", body=body)
rid = made["id"]


def b_leased():
    """one GET of rid on B, answered under its read lease"""
    n = state_counter("B", "leased")
    status, _, seen = via("B", "GET", "/v1/renders/" + rid)
    return status == 200 and seen["status"] == "processing" and state_counter("B", "leased") > n


wait_for(b_leased, 10, "B to hold a read lease after the restart")
t0 = time.time()
status, _, _ = via("A", "POST", "/v1/renders/%s/cancel" % rid)
quick = time.time() - t0
check(status == 200, "cancel with B live answered %d" % status)
status, _, made = via("A", "POST", "/v1/renders", body=body)
rid = made["id"]
via("B", "GET", "/v1/renders/" + rid)
stack.procs["gatewayB"].send_signal(signal.SIGSTOP)
try:
    time.sleep(0.2)
    t0 = time.time()
    status, _, canceled = via("A", "POST", "/v1/renders/%s/cancel" % rid)
    stalled = time.time() - t0
    check(status == 200 and canceled["status"] == "canceled", "cancel with B stopped: %d %r" % (status, canceled))
    check(stalled <= LEASE_S + 2.5, "cancel with B stopped took %.2f s: held past B's lease" % stalled)
    check(stalled >= 0.3, "cancel with B stopped took %.2f s: not held for B's lease (with B live: %.3f s)"
          % (stalled, quick))
finally:
    stack.procs["gatewayB"].send_signal(signal.SIGCONT)
status, _, after = via("B", "GET", "/v1/renders/" + rid)
check(status == 200 and after["status"] == "canceled", "B right after it resumed: %r" % after)
status, _, made = via("A", "POST", "/v1/renders", body=body)
rid = made["id"]
wait_for(b_leased, 10, "B to hold a read lease again after it resumed")
print("it_render_state: ok")
