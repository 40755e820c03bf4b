"""Idempotency-Key on POST /v1/capture (CONTRACT 5): the key and the body's
fingerprint ride on CREATE_CAPTURE and the scheduler writes the key row in
the job's own transaction. Same key and body: the identical 202 replayed
with Idempotent-Replayed: true, one job, one charge (also after the job
finished); other body: 422; 20 concurrent POSTs: one job; a sync capture:
409 while in flight, then its first answer replayed; the key survives kill -9
of the scheduler and a gateway restart; and a gateway killed (-9) while it
waits on a keyed sync capture -- after the job row and the key row were
written together -- cannot make a retry create a second job.

Captures of an image URL are framed without a browser, so this runs with a
stand-in EASEL_CHROMIUM that only records a launch (and none must happen)."""
import http.server
import json
import os
import tempfile
import threading
import time
from harness import Stack, check, make_png, wait_for
from capture_pages import share_with_browser


class Images:
    """/shot.png answers a PNG; /stall*.png sends half of one and holds the
    request until release()."""

    def __init__(self):
        self.png = make_png(393, 852)
        self.release_event = threading.Event()
        self.lock = threading.Lock()
        self.stalls = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, head_only):
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(server.png)))
                self.end_headers()
                if head_only:
                    return
                if self.path.startswith("/stall"):
                    self.wfile.write(server.png[:64])
                    self.wfile.flush()
                    with server.lock:
                        server.stalls += 1
                    server.release_event.wait(120)
                    try:
                        self.wfile.write(server.png[64:])
                    except OSError:
                        pass
                else:
                    self.wfile.write(server.png)

            def do_GET(self):
                self._answer(False)

            def do_HEAD(self):
                self._answer(True)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


images = Images()
tmp = tempfile.mkdtemp(prefix="easel-it-capidem-")
marker = os.path.join(tmp, "launches")
fake = os.path.join(tmp, "chromium")
with open(fake, "w") as f:
    f.write("#!/bin/sh\necho launch >> '%s'\nexit 1\n" % marker)
os.chmod(fake, 0o755)
share_with_browser(tmp, marker)
stack = Stack(renderers=1, renderer_env={"EASEL_CHROMIUM": fake, "EASEL_RENDERER_CAPTURE": "1"})
acct = json.loads(stack.cli("keys", "create", "--name", "capidem", "--credits", "100", "--json"))
key = acct["api_key"]


def post(payload, idem):
    headers = {"Idempotency-Key": idem} if idem is not None else {}
    return stack.request("POST", "/v1/capture", body=payload, headers=headers, auth=key)


def error_of(raw):
    return json.loads(raw)["error"]


def job_charges():
    status, _, a = stack.json("GET", "/v1/account", auth=key)
    check(status == 200, "GET /v1/account answered %d" % status)
    check(sum(e["amount"] for e in a["ledger"]) == a["balance"], "ledger does not sum: %r" % a)
    out = {}
    for e in a["ledger"]:
        if e["reason"] == "render" and e["render_id"].startswith("job_"):
            out[e["render_id"]] = out.get(e["render_id"], 0) - e["amount"]
    return out


def wait_job(job_id):
    def done():
        status, _, j = stack.json("GET", "/v1/jobs/%s?wait=5" % job_id, auth=key)
        check(status == 200, "GET job %d %r" % (status, j))
        return j if j["status"] in ("completed", "failed") else None
    return wait_for(done, 60, "job %s" % job_id)


def s_launches():
    return open(marker).read().count("launch") if os.path.exists(marker) else 0


# the renderer's check of the browser's sandbox, and its slot's warm-up (which this stand-in fails)
wait_for(lambda: "the next capture's browser is not ready" in stack.log_text("renderer0"), 30,
         "the renderer's slot to try its warm browser at start")
startup = s_launches()


def launches():
    return s_launches() - startup


# ---- same key, same body: the identical 202, one job, one charge -----------
body = {"url": images.url("/shot.png"), "async": True}
s1, h1, r1 = post(body, "cap-a")
check(s1 == 202 and "Idempotent-Replayed" not in h1, "first keyed capture: %d %r" % (s1, r1))
first = json.loads(r1)
check(set(first) == {"job_id", "status"} and first["status"] == "pending", "202 body: %r" % first)
job_a = first["job_id"]
s2, h2, r2 = post(body, "cap-a")
check(s2 == 202 and r2 == r1 and h2.get("Idempotent-Replayed") == "true",
      "replay: %d %r %r" % (s2, r2, h2))
# key order and whitespace do not change the fingerprint
raw = ('{ "async" : true,\n "url": "%s" }' % images.url("/shot.png")).encode()
s3, h3, r3 = stack.request("POST", "/v1/capture", raw=raw, auth=key,
                           headers={"Idempotency-Key": "cap-a", "Content-Type": "application/json"})
check(s3 == 202 and r3 == r1 and h3.get("Idempotent-Replayed") == "true", "reordered body: %d %r" % (s3, r3))
done = wait_job(job_a)
check(done["status"] == "completed" and done["result"]["credits_used"] == 1, "job: %r" % done)
# after the job finished: still the original 202, not the new state
s4, h4, r4 = post(body, "cap-a")
check(s4 == 202 and r4 == r1 and h4.get("Idempotent-Replayed") == "true", "replay after completion: %r" % r4)
check(job_charges() == {job_a: 1}, "one job, one charge: %r" % job_charges())

# ---- same key, other body: 422 ---------------------------------------------
s5, _, r5 = post(dict(body, device="ipad"), "cap-a")
check(s5 == 422 and error_of(r5)["code"] == "idempotency_key_reused"
      and error_of(r5)["param"] == "Idempotency-Key", "other body: %d %r" % (s5, r5))
# the same key string on /v1/renders is its own scope
s6, _, r6 = stack.request("POST", "/v1/renders", auth=key, headers={"Idempotency-Key": "cap-a"},
                          body={"async": True, "canvas": {"width": 300, "height": 600},
                                "slides": [{"headline": {"lines": ["x"]}}]})
check(s6 == 202 and json.loads(r6)["id"].startswith("rnd_"), "another path: %d %r" % (s6, r6))
# a refused request (bad input) does not take the key
s7, _, r7 = post({"url": "ftp://example.com/x.png", "async": True}, "cap-b")
check(s7 == 422 and error_of(r7)["param"] == "url", "bad url: %d %r" % (s7, r7))
s8, h8, r8 = post(body, "cap-b")
check(s8 == 202 and "Idempotent-Replayed" not in h8 and json.loads(r8)["job_id"] != job_a,
      "the key runs after a refusal: %d %r" % (s8, r8))
wait_job(json.loads(r8)["job_id"])

# ---- 20 concurrent POSTs, one key: one job ---------------------------------
conc = {"url": images.url("/shot.png?c=1"), "async": True}
results = [None] * 20
go = threading.Event()


def worker(i):
    go.wait()
    got = post(conc, "cap-concurrent")
    tries = 0
    while got[0] == 409 and tries < 100:
        check(got[1].get("Retry-After") == "1" and error_of(got[2])["code"] == "idempotency_key_in_use",
              "409: %r %r" % (got[1], got[2]))
        time.sleep(0.05)
        got = post(conc, "cap-concurrent")
        tries += 1
    results[i] = got


threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
for t in threads:
    t.start()
go.set()
for t in threads:
    t.join(60)
check(all(r is not None for r in results), "a concurrent request did not finish")
check(set(r[0] for r in results) == {202}, "statuses: %r" % [r[0] for r in results])
check(len(set(r[2] for r in results)) == 1, "bodies differ: %r" % set(r[2] for r in results))
check(sum(1 for r in results if r[1].get("Idempotent-Replayed") == "true") == 19, "19 replays expected")
job_c = json.loads(results[0][2])["job_id"]
wait_job(job_c)
charges = job_charges()
check(charges.get(job_c) == 1 and len(charges) == 3, "one job for 20 POSTs: %r" % charges)

# ---- sync: 409 while in flight, then the first answer replayed -------------
sync_body = {"url": images.url("/shot.png?s=1")}
sync_results = []
lock = threading.Lock()


def sync_worker():
    got = post(sync_body, "cap-sync")
    with lock:
        sync_results.append(got)


first_sync = threading.Thread(target=sync_worker)
first_sync.start()
time.sleep(0.2)
dupes = [threading.Thread(target=sync_worker) for _ in range(4)]
for t in dupes:
    t.start()
for t in dupes + [first_sync]:
    t.join(90)
oks = [r for r in sync_results if r[0] == 200]
conflicts = [r for r in sync_results if r[0] == 409]
check(len(oks) + len(conflicts) == 5 and oks, "sync answers: %r" % [(r[0], r[2][:80]) for r in sync_results])
for r in conflicts:
    check(r[1].get("Retry-After") == "1" and error_of(r[2])["code"] == "idempotency_key_in_use", "sync 409")
original = [r for r in oks if r[1].get("Idempotent-Replayed") != "true"]
check(len(original) == 1, "exactly one original sync answer, got %d" % len(original))
sync_first = original[0][2]
sync_job = json.loads(sync_first)
check(sync_job["status"] == "completed" and sync_job["id"].startswith("job_"), "sync job: %r" % sync_job)
for r in oks:
    check(r[2] == sync_first, "a sync replay differs from the first answer")
s9, h9, r9 = post(sync_body, "cap-sync")
check(s9 == 200 and r9 == sync_first and h9.get("Idempotent-Replayed") == "true",
      "retry after the sync answer: %d %r" % (s9, r9[:200]))
charges = job_charges()
check(charges.get(sync_job["id"]) == 1 and len(charges) == 4, "one sync job: %r" % charges)

# ---- the key survives kill -9 of the scheduler and a gateway restart -------
durable = {"url": images.url("/shot.png?d=1"), "async": True}
s10, _, durable_first = post(durable, "cap-durable")
check(s10 == 202, "durable capture: %d" % s10)
stack.kill("scheduler")
stack.start("scheduler")
stack.wait_ready(1)
s11, h11, r11 = post(durable, "cap-durable")
check(s11 == 202 and r11 == durable_first and h11.get("Idempotent-Replayed") == "true",
      "replay after kill -9 of the scheduler: %d %r" % (s11, r11))
stack.kill("gateway", sig=15)
stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port)
stack.wait_ready(1)
s12, h12, r12 = post(durable, "cap-durable")
check(s12 == 202 and r12 == durable_first and h12.get("Idempotent-Replayed") == "true",
      "replay after a gateway restart: %d %r" % (s12, r12))
wait_job(json.loads(durable_first)["job_id"])

# ---- a gateway killed while it waits on a keyed sync capture ---------------
# The job and its key row were written in one transaction, so the retry meets
# the key (409 while the hold lasts, then the job's 202), never a second job.
stack.kill("gateway", sig=15)
stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port,
            env={"EASEL_SYNC_WAIT_MS": "3000", "EASEL_REQUEST_TIMEOUT_MS": "2000"})
stack.wait_ready(1)
crash_body = {"url": images.url("/stall.png")}
before = job_charges()
threading.Thread(target=lambda: post(crash_body, "cap-crash"), daemon=True).start()
wait_for(lambda: images.stalls >= 1, 30, "the renderer to be fetching the stalled image")
stack.kill("gateway")                      # -9, mid sync wait: nothing answered or stored
stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port)
stack.wait_ready(1)
s13, h13, r13 = post(dict(crash_body), "cap-crash")
check(s13 == 409 and error_of(r13)["code"] == "idempotency_key_in_use" and h13.get("Retry-After") == "1",
      "retry while the dead gateway's hold lasts: %d %r" % (s13, r13))
images.release_event.set()


def settled():
    got = post(crash_body, "cap-crash")
    return got if got[0] != 409 else None


s14, h14, r14 = wait_for(settled, 60, "the crashed request's hold to end", interval=0.5)
check(s14 == 202 and h14.get("Idempotent-Replayed") == "true", "after the hold: %d %r %r" % (s14, r14, h14))
crash_job = json.loads(r14)
check(set(crash_job) == {"job_id", "status"} and crash_job["status"] == "pending",
      "the stored fallback is the job's 202: %r" % crash_job)
wait_job(crash_job["job_id"])
after = job_charges()
new = {k: v for k, v in after.items() if k not in before}
check(new == {crash_job["job_id"]: 1}, "exactly one job for the crashed request: %r" % new)
check(launches() == 0, "an image URL must not start a browser (%d launches)" % launches())
print("it_capture_idem: 1 passed, 0 failed")
