"""Connection floods do not stall the gateway (civetweb thread per connection;
gateway/main.c, gateway/api_pool.h, event_watch_enter):
- with 600 idle TCP connections, 70 slowloris clients (a header byte every
  2 s) and 100 long polls (?wait=2) held open and reopened as the gateway
  closes them, /healthz and a normal GET still answer (bound: 5 s each,
  generous), and every long poll is answered 200 with the render;
- idle and slowloris connections are closed by the gateway (header deadline),
  not held forever;
- waiting is capped (--max-waiters): with every waiting place taken, one more
  long poll answers 503 too_many_waiting with Retry-After, and a sync render
  answers 202 (accepted, poll it) instead of waiting;
- a gateway whose threads are all held answers 503 gateway_busy with
  Retry-After on its last thread, and still serves /healthz;
- afterwards the stack is unchanged: the render is still there, processing."""
import http.client
import json
import os
import socket
import time
from harness import Stack, check, free_port, wait_for, slide
from conn_pressure import Pressure, raise_nofile

raise_nofile(4096)
WAITERS = 150
os.environ["EASEL_MAX_WAITERS"] = str(WAITERS)
stack = Stack(renderers=0, webhooker=False)
status, _, render = stack.json("POST", "/v1/renders", {"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
                                                       "slides": [slide()]})
check(status == 202, "create answered %d: %r" % (status, render))
rid = render["id"]


def timed(method, path, port=None, auth=True, body=None, timeout=5):
    t0 = time.time()
    c = http.client.HTTPConnection("127.0.0.1", port or stack.http_port, timeout=timeout)
    headers = {}
    if auth:
        headers["Authorization"] = "Bearer " + stack.key
    if body is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(body)
    try:
        c.request(method, path, body=body, headers=headers)
        resp = c.getresponse()
        raw = resp.read()
        return resp.status, dict(resp.getheaders()), raw, time.time() - t0
    except (OSError, http.client.HTTPException) as e:
        return 0, {}, str(e).encode(), time.time() - t0
    finally:
        c.close()


# ---- the flood ----------------------------------------------------------------
p = Pressure(stack.http_port, idle=600, slowloris=70, polls=100,
             poll_path="/v1/renders/%s?wait=2" % rid, poll_key=stack.key, drip_s=2.0)
check(p.start(ramp_s=30), "could not open every connection: %r" % p.snapshot())
for i in range(10):
    status, _, raw, dt = timed("GET", "/healthz", auth=False)
    check(status == 200, "/healthz under the flood answered %d (%r) after %.1fs" % (status, raw[:100], dt))
    status, _, raw, dt = timed("GET", "/v1/renders/" + rid)
    check(status == 200 and json.loads(raw)["id"] == rid,
          "GET render under the flood answered %d (%r) after %.1fs" % (status, raw[:100], dt))
    time.sleep(0.5)
wait_for(lambda: sum(p.snapshot()["answered"].values()) >= 200, 60, "200 long polls to be answered")
wait_for(lambda: p.snapshot()["closed_by_server"] >= 670, 60,
         "the gateway to close idle and slowloris connections at its header deadline")
snap = p.snapshot()
p.close()
check(set(snap["answered"]) == {200}, "long polls answered other than 200: %r" % snap["answered"])

# ---- the waiting cap ------------------------------------------------------------
time.sleep(3)               # the flood's last long polls end (wait=2)
holders = Pressure(stack.http_port, polls=WAITERS, poll_path="/v1/renders/%s?wait=30" % rid,
                   poll_key=stack.key)
check(holders.start(ramp_s=20), "could not open %d long polls" % WAITERS)
time.sleep(1.0)             # each one past its first GET, waiting
status, headers, raw, _ = timed("GET", "/v1/renders/%s?wait=10" % rid, timeout=15)
err = json.loads(raw).get("error", {}) if raw.startswith(b"{") else {}
check(status == 503 and err.get("code") == "too_many_waiting" and headers.get("Retry-After"),
      "a long poll over --max-waiters answered %d %r %r (holders %r)"
      % (status, raw[:200], headers, holders.snapshot()))
status, headers, raw, dt = timed("POST", "/v1/renders", body={"canvas": {"preset": "appstore.iphone_6_9"},
                                                                "slides": [slide()]})
check(status == 202 and json.loads(raw)["status"] == "processing" and dt < 5,
      "a sync render over --max-waiters answered %d %r after %.1fs (want 202 at once)" % (status, raw[:200], dt))
sync_id = json.loads(raw)["id"]
holders.close()
status, _, r = stack.json("GET", "/v1/renders/" + sync_id)
check(status == 200 and r["status"] == "processing", "the accepted sync render: %d %r" % (status, r))

# ---- no thread left -------------------------------------------------------------
THREADS = 8
port2 = free_port()
stack.start("gateway2", "--listen", "127.0.0.1:%d" % port2, "--threads", str(THREADS), service="gateway")
wait_for(lambda: timed("GET", "/healthz", port=port2, auth=False)[0] == 200, 30, "the second gateway")
held = [socket.create_connection(("127.0.0.1", port2)) for _ in range(THREADS - 1)]
time.sleep(0.5)             # each taken by a worker thread
status, headers, raw, _ = timed("GET", "/v1/renders/" + rid, port=port2)
err = json.loads(raw).get("error", {}) if raw.startswith(b"{") else {}
check(status == 503 and err.get("code") == "gateway_busy" and headers.get("Retry-After"),
      "the last free thread answered %d %r %r" % (status, raw[:200], headers))
status, _, raw, _ = timed("GET", "/healthz", port=port2, auth=False)
check(status == 200, "/healthz on a busy gateway answered %d %r" % (status, raw[:100]))
for s in held:
    s.close()
wait_for(lambda: timed("GET", "/v1/renders/" + rid, port=port2)[0] == 200, 30,
         "the second gateway to serve again once connections closed")

# ---- unchanged afterwards -------------------------------------------------------
status, _, r = stack.json("GET", "/v1/renders/" + rid)
check(status == 200 and r["status"] == "processing", "the render after the flood: %d %r" % (status, r))
for name in ("scheduler", "gateway", "gateway2"):
    check(stack.procs[name].poll() is None, "%s exited during the flood" % name)
print("adv_connections: ok (%r)" % snap)
