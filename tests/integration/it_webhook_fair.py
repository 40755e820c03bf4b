"""One slow endpoint never delays another: 100 test events go to a receiver
that takes 2 s per answer, then one to a fast receiver; the fast one arrives
within a second, and the slow one never sees more than the per-host cap
(EASEL_WEBHOOK_PER_HOST, default 4) requests at once."""
import time
from harness import Stack, HookReceiver, check, wait_for

slow = HookReceiver(responder=lambda n, path: (200, {}, 2.0, b"slow"))
fast = HookReceiver()
stack = Stack(renderers=0, schedule="1,1,1")

for i in range(100):
    status, _, body = stack.json("POST", "/v1/webhooks/test", {"url": slow.url("/slow/%d" % i)})
    check(status == 202, "slow test event %d: %d %r" % (i, status, body))
wait_for(lambda: slow.snapshot(), 10, "the slow receiver's first call")

t0 = time.time()
status, _, body = stack.json("POST", "/v1/webhooks/test", {"url": fast.url("/fast")})
check(status == 202, "fast test event: %d %r" % (status, body))
wait_for(lambda: fast.snapshot(), 5, "the fast callback")
took = fast.snapshot()[0]["at"] - t0
check(took < 1.0, "the fast endpoint waited %.2fs behind the slow one" % took)
time.sleep(4.5)
check(slow.max_inflight <= 4, "the slow endpoint had %d requests at once (cap 4)" % slow.max_inflight)
check(slow.max_inflight >= 2, "the slow endpoint never got concurrent requests (%d)" % slow.max_inflight)
n = len(slow.snapshot())
check(8 <= n <= 16, "%d slow calls in ~6.5 s: the cap of 4 in parallel should give about 12" % n)
print("it_webhook_fair: 1 passed, 0 failed (fast callback in %.0f ms, slow max in flight %d)"
      % (took * 1000, slow.max_inflight))
