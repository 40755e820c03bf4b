"""Idempotency-Key on POST (CONTRACT 5): one render and one charge for 50
concurrent identical requests, replays byte for byte, 422 for other
parameters, 409 while a sync create is in flight, independent scopes and
accounts, keys that survive kill -9 of the scheduler and a gateway restart,
keys swept after the window, and invalid keys refused with 400."""
import http.client
import json
import threading
import time
from harness import Stack, ShotServer, check, slide

shots = ShotServer()
stack = Stack(renderers=1)
body = {"async": True, "canvas": {"width": 300, "height": 600},
        "slides": [slide(shots.url("/shot.png"), lines=["Idempotent"])]}


def post(payload, key, path="/v1/renders", auth=True, raw=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    if raw is not None:
        headers["Content-Type"] = "application/json"
        return stack.request("POST", path, raw=raw, headers=headers, auth=auth)
    return stack.request("POST", path, body=payload, headers=headers, auth=auth)


def error_of(raw):
    return json.loads(raw)["error"]


def ledger_render_entries(auth=True):
    status, _, account = stack.json("GET", "/v1/account", auth=auth)
    check(status == 200, "GET /v1/account answered %d: %r" % (status, account))
    return [e for e in account["ledger"] if e["reason"] == "render"], account


# ---- 50 concurrent POSTs, one key, one body --------------------------------
results = [None] * 50
go = threading.Event()


def worker(i):
    go.wait()
    status, headers, raw = post(body, "concurrent-1")
    tries = 0
    while status == 409 and tries < 100:
        check(headers.get("Retry-After") == "1", "409 without Retry-After: 1: %r" % headers)
        check(error_of(raw)["code"] == "idempotency_key_in_use", "409 body: %r" % raw)
        time.sleep(0.05)
        status, headers, raw = post(body, "concurrent-1")
        tries += 1
    results[i] = (status, headers, raw)


threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
for t in threads:
    t.start()
go.set()
for t in threads:
    t.join(60)
check(all(r is not None for r in results), "a concurrent request did not finish")
statuses = sorted(set(r[0] for r in results))
check(statuses == [202], "concurrent answers (after retrying 409s) were %r" % statuses)
bodies = set(r[2] for r in results)
check(len(bodies) == 1, "concurrent 202 bodies differ: %r" % bodies)
first = results[0][2]
rid = json.loads(first)["id"]
replayed = [r for r in results if r[1].get("Idempotent-Replayed") == "true"]
check(len(replayed) == 49, "expected 49 replays marked Idempotent-Replayed, got %d" % len(replayed))
status, _, listing = stack.json("GET", "/v1/renders?limit=100")
check(status == 200 and [r["id"] for r in listing["data"]] == [rid],
      "50 keyed POSTs must make exactly one render: %r" % [r["id"] for r in listing["data"]])
render = stack.wait_render(rid)
check(render["status"] == "succeeded", "keyed render: %r" % render)

# Replay after it finished: still the original 202 body, not the new state.
status, headers, raw = post(body, "concurrent-1")
check(status == 202 and raw == first, "replay after finishing: %d %r" % (status, raw))
check(headers.get("Idempotent-Replayed") == "true", "replay header missing: %r" % headers)
entries, account = ledger_render_entries()
mine = [e for e in entries if e["render_id"] == rid]
check(len(mine) == 1 and mine[0]["amount"] == -1, "one charge of 1 credit expected: %r" % entries)
check(render["credits_used"] == 1, "credits_used %r" % render["credits_used"])

# Key order and whitespace do not change the fingerprint.
reordered = b'{ "slides": %s,\n  "canvas": {"height": 600, "width": 300},   "async": true }' % (
    json.dumps(body["slides"]).encode())
status, headers, raw = post(None, "concurrent-1", raw=reordered)
check(status == 202 and raw == first and headers.get("Idempotent-Replayed") == "true",
      "reordered body must replay: %d %r" % (status, raw))

# ---- same key, other parameters: 422 ---------------------------------------
other = dict(body, metadata={"different": "yes"})
status, _, raw = post(other, "concurrent-1")
check(status == 422, "same key, other body answered %d %r" % (status, raw))
err = error_of(raw)
check(err["code"] == "idempotency_key_reused" and err["param"] == "Idempotency-Key", "422: %r" % err)

# ---- same key on another path: independent ---------------------------------
status, headers, raw = post(None, "concurrent-1", path="/v1/renders/%s/cancel" % rid)
check(status == 409 and error_of(raw)["code"] == "render_finished",
      "cancel with the same key string is its own scope: %d %r" % (status, raw))
check("Idempotent-Replayed" not in headers, "other path must not replay")

# ---- another account: independent, and cannot see or replay A's ----------
other_acct = json.loads(stack.cli("keys", "create", "--name", "other", "--json"))
key_b = other_acct["api_key"]
status, _, raw = stack.request("GET", "/v1/renders/" + rid, auth=key_b)
check(status == 404 and error_of(raw)["code"] == "resource_missing", "B sees A's render: %d" % status)
status, headers, raw = post(body, "concurrent-1", auth=key_b)
check(status == 202 and json.loads(raw)["id"] != rid, "B replayed A's key: %d %r" % (status, raw))
check("Idempotent-Replayed" not in headers, "B's first request marked replayed")
rid_b = json.loads(raw)["id"]
status, _, raw = stack.request("GET", "/v1/renders/%s?wait=30" % rid_b, auth=key_b)
check(status == 200 and json.loads(raw)["status"] == "succeeded", "B's render: %d %r" % (status, raw))
status, _, raw = stack.request("GET", "/v1/renders/" + rid_b)
check(status == 404, "A sees B's render: %d" % status)

# ---- sync creates: in flight answers 409, then the first answer replays ----
sync_body = {"canvas": {"width": 300, "height": 600},
             "slides": [slide(shots.url("/shot.png"), lines=["Sync keyed"])]}
sync_results = []
lock = threading.Lock()


def sync_worker(delay):
    time.sleep(delay)
    got = post(sync_body, "sync-1")
    with lock:
        sync_results.append(got)


first_sync = threading.Thread(target=sync_worker, args=(0,))
first_sync.start()
time.sleep(0.3)
dupes = [threading.Thread(target=sync_worker, args=(0,)) for _ in range(5)]
for t in dupes:
    t.start()
for t in dupes + [first_sync]:
    t.join(90)
oks = [r for r in sync_results if r[0] == 200]
conflicts = [r for r in sync_results if r[0] == 409]
check(len(oks) + len(conflicts) == 6 and len(oks) >= 1,
      "sync answers: %r" % [(r[0], r[2][:80]) for r in sync_results])
for r in conflicts:
    check(r[1].get("Retry-After") == "1" and error_of(r[2])["code"] == "idempotency_key_in_use",
          "sync 409: %r %r" % (r[1], r[2]))
original = [r for r in oks if r[1].get("Idempotent-Replayed") != "true"]
check(len(original) == 1, "exactly one original sync answer, got %d" % len(original))
sync_first = original[0][2]
check(json.loads(sync_first)["status"] == "succeeded", "sync render: %r" % sync_first[:200])
for r in oks:
    check(r[2] == sync_first, "a sync replay differs from the first answer")
status, headers, raw = post(sync_body, "sync-1")
check(status == 200 and raw == sync_first and headers.get("Idempotent-Replayed") == "true",
      "retry after the sync answer: %d %r" % (status, raw[:200]))

# ---- the key survives kill -9 of the scheduler and a gateway restart -------
durable = dict(body, metadata={"durable": "1"})
status, _, durable_first = post(durable, "durable-1")
check(status == 202, "durable create: %d" % status)
stack.kill("scheduler")
stack.start("scheduler")
stack.wait_ready(1)
status, headers, raw = post(durable, "durable-1")
check(status == 202 and raw == durable_first and headers.get("Idempotent-Replayed") == "true",
      "replay after kill -9 of the scheduler: %d %r" % (status, raw))
stack.kill("gateway", sig=15)
stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port)
stack.wait_ready(1)
status, headers, raw = post(durable, "durable-1")
check(status == 202 and raw == durable_first and headers.get("Idempotent-Replayed") == "true",
      "replay after a gateway restart: %d %r" % (status, raw))

# ---- any other POST: the same rules (here: rotating the webhook secret) ----
rotate = "/v1/account/webhook_secret/rotate"
status, headers, rotated = post({}, "rotate-1", path=rotate)
check(status == 200 and "Idempotent-Replayed" not in headers, "keyed rotate: %d %r" % (status, rotated))
status, headers, raw = post({}, "rotate-1", path=rotate)
check(status == 200 and raw == rotated and headers.get("Idempotent-Replayed") == "true",
      "a keyed rotate must replay, not rotate again: %d %r" % (status, raw))
status, _, raw = post({"overlap_s": 5}, "rotate-1", path=rotate)
check(status == 422 and error_of(raw)["code"] == "idempotency_key_reused", "rotate, other body: %r" % raw)
status, _, raw = post({}, None, path=rotate)
check(status == 200 and raw != rotated, "an unkeyed rotate rotates again")
# a refused request frees its key: the same key then runs
status, _, raw = post({"overlap_s": "bad"}, "rotate-2", path=rotate)
check(400 <= status < 500, "a bad rotate is refused: %d %r" % (status, raw))
status, headers, raw = post({}, "rotate-2", path=rotate)
check(status == 200 and "Idempotent-Replayed" not in headers,
      "after a refusal the key runs the request: %d %r" % (status, raw))

# ---- invalid keys: 400 naming the header -----------------------------------
def raw_post(key_bytes):
    conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
    conn.putrequest("POST", "/v1/renders")
    conn.putheader("Authorization", "Bearer " + stack.key)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Idempotency-Key", key_bytes)
    data = json.dumps(body).encode()
    conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    resp = conn.getresponse()
    out = resp.status, resp.read()
    conn.close()
    return out


# (control characters never get this far: civetweb refuses the request line)
for bad, why in ((b"", "empty"), (b"k" * 256, "256 characters"), (b"caf\xc3\xa9", "not ASCII"),
                 (b"\x80\x81", "high bytes")):
    status, raw = raw_post(bad)
    check(status == 400, "%s key answered %d %r" % (why, status, raw))
    err = error_of(raw)
    check(err["code"] == "idempotency_key_invalid" and err["param"] == "Idempotency-Key",
          "%s key error: %r" % (why, err))
status, raw = raw_post(b"k" * 255)
check(status == 202, "a 255-character key answered %d %r" % (status, raw))

# ---- keys are swept after the window (a 2 s window for the test) ----------
stack.kill("scheduler", sig=15)
stack.start("scheduler", env={"EASEL_IDEMPOTENCY_TTL_S": "2"})
stack.wait_ready(1)
swept = dict(body, metadata={"swept": "1"})
status, _, raw = post(swept, "swept-1")
check(status == 202, "create before the sweep: %d" % status)
first_id = json.loads(raw)["id"]
status, headers, raw = post(swept, "swept-1")
check(json.loads(raw)["id"] == first_id and headers.get("Idempotent-Replayed") == "true",
      "replay inside the window")
time.sleep(3.5)
status, headers, raw = post(swept, "swept-1")
check(status == 202 and json.loads(raw)["id"] != first_id, "after the window the key is new: %r" % raw)
check("Idempotent-Replayed" not in headers, "a swept key must not replay")
# the key now belongs to the new request: other parameters are refused again
status, _, raw = post(dict(swept, metadata={"swept": "2"}), "swept-1")
check(status == 422 and error_of(raw)["code"] == "idempotency_key_reused",
      "the re-used key must guard the new request: %d %r" % (status, raw))
print("it_idempotency: 1 passed, 0 failed")
