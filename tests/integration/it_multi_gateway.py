"""Two gateways in front of one scheduler: the same Idempotency-Key sent
concurrently through both makes one render and one charge, and both answer
with the same body. Then the scheduler restarts (SIGTERM, start again): both
gateways, the renderer and the webhooker reconnect on their own, and a render
created afterwards completes and its webhook arrives."""
import json
import signal
import threading
import time

from harness import HookReceiver, ShotServer, Stack, check, free_port, slide, wait_for

shots = ShotServer()
hooks = HookReceiver()
stack = Stack(renderers=1)
second_port = free_port()
stack.start("gateway2", "--listen", "127.0.0.1:%d" % second_port, service="gateway")
bases = [stack.base, "http://127.0.0.1:%d" % second_port]


def via(base, method, path, **kw):
    saved, stack.base = stack.base, base
    try:
        return stack.request(method, path, **kw)
    finally:
        stack.base = saved


wait_for(lambda: via(bases[1], "GET", "/readyz", auth=False)[0] == 200, 30, "gateway 2 to be ready")


body = {"async": True, "canvas": {"width": 300, "height": 600},
        "slides": [slide(shots.url("/shot.png"), lines=["Two doors"])]}
results = [None] * 20
go = threading.Event()


def worker(i):
    go.wait()
    base = bases[i % 2]
    for _ in range(200):
        status, headers, raw = via(base, "POST", "/v1/renders", body=body,
                                   headers={"Idempotency-Key": "two-gateways-1"})
        if status != 409:
            break
        time.sleep(0.05)
    results[i] = (status, headers, raw)


lock = threading.Lock()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
for t in threads:
    t.start()
go.set()
for t in threads:
    t.join(60)
check(all(r is not None for r in results), "a request did not finish")
check(sorted(set(r[0] for r in results)) == [202], "answers: %r" % [r[0] for r in results])
check(len(set(r[2] for r in results)) == 1, "bodies differ across gateways: %r" % set(r[2] for r in results))
check(sum(1 for r in results if r[1].get("Idempotent-Replayed") == "true") == 19, "19 replays expected")
rid = json.loads(results[0][2])["id"]
status, _, listing = stack.json("GET", "/v1/renders?limit=100")
check([r["id"] for r in listing["data"]] == [rid], "one render expected: %r" % listing["data"])
render = stack.wait_render(rid)
check(render["status"] == "succeeded" and render["credits_used"] == 1, "render: %r" % render)
status, _, account = stack.json("GET", "/v1/account")
charges = [e for e in account["ledger"] if e.get("render_id") == rid and e["reason"] == "render"]
check(len(charges) == 1, "one charge expected: %r" % charges)

# ---- scheduler restart: everyone reconnects ---------------------------------
stack.kill("scheduler", signal.SIGTERM)
# (with a query: a plain GET of a finished render may come from the gateway's
# one-second cache, gateway/render_cache.h; and a gateway's read lease on the
# render state may answer from its table until it runs out, at most
# EASEL_READ_LEASE_MS = 2 s after the scheduler's last LEASE: docs/design.md)
time.sleep(2.2)
status, _, _ = via(bases[1], "GET", "/v1/renders/%s?wait=0" % rid)
check(status == 503, "gateway 2 with the scheduler down answered %d" % status)
stack.start("scheduler")
for base in bases:
    wait_for(lambda: via(base, "GET", "/v1/renders/" + rid)[0] == 200, 30,
             "gateway %s to reach the restarted scheduler" % base)
wait_for(lambda: via(bases[0], "GET", "/readyz", auth=False)[0] == 200, 30, "the renderer to return")
status, _, raw = via(bases[1], "POST", "/v1/renders",
                     body=dict(body, webhook_url=hooks.url()))
check(status == 202, "create after restart answered %d %r" % (status, raw))
rid2 = json.loads(raw)["id"]
render = stack.wait_render(rid2, timeout=60)
check(render["status"] == "succeeded", "render after restart: %r" % render)
wait_for(lambda: any(json.loads(c["body"]).get("id") == rid2 for c in hooks.snapshot()), 30,
         "the webhook after the scheduler restart")
print("it_multi_gateway: 1 passed, 0 failed")
