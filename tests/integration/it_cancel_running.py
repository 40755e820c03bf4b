"""POST /v1/renders/{id}/cancel tells a renderer drawing a task of the render
to stop (CANCEL_TASKS): a one-slot renderer is mid-fetch on a screenshot URL
whose body this test stalls; after the cancel the render is `canceled` with
credits_used = the images actually rendered (and the ledger agrees), the
renderer logs the task as canceled (not a fetch timeout), and it takes and
completes a NEW render while the stalling server still holds the old request
open -- i.e. before the 20 s fetch timeout or the 120 s lease could have freed
the slot. A second cancel is 409."""
import http.server
import json
import threading
from harness import Stack, check, make_png, wait_for, slide


class StallServer:
    """/shot.png answers a PNG; /stall promises one, sends 16 bytes and holds
    the request open until release() (or 120 s)."""

    def __init__(self):
        self.png = make_png(393, 852)
        self.release_event = threading.Event()
        self.lock = threading.Lock()
        self.stalls_seen = 0
        self.holding = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(server.png)))
                self.end_headers()
                if not self.path.startswith("/stall"):
                    self.wfile.write(server.png)
                    return
                self.wfile.write(server.png[:16])
                self.wfile.flush()
                with server.lock:
                    server.stalls_seen += 1
                    server.holding += 1
                server.release_event.wait(120)
                with server.lock:
                    server.holding -= 1
                try:
                    self.wfile.write(server.png[16:])
                except OSError:
                    pass            # the renderer hung up: it was told to stop

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def snapshot(self):
        with self.lock:
            return self.stalls_seen, self.holding

    def release(self):
        self.release_event.set()


shots = StallServer()
stack = Stack(renderers=1)              # one renderer, --slots 1
acct = json.loads(stack.cli("keys", "create", "--name", "metered", "--credits", "10", "--json"))
key = acct["api_key"]


def create(paths):
    body = {"async": True, "canvas": {"width": 300, "height": 600},
            "slides": [slide(shots.url(p), lines=["Slide %d" % i]) for i, p in enumerate(paths)]}
    status, _, r = stack.json("POST", "/v1/renders", body, auth=key)
    check(status == 202, "create answered %d %r" % (status, r))
    return r["id"]


def get(rid):
    status, _, r = stack.json("GET", "/v1/renders/" + rid, auth=key)
    check(status == 200, "GET render answered %d %r" % (status, r))
    return r


try:
    # slide 0 renders at once; slide 1's screenshot stalls, so the only slot
    # is held by a task that is mid-fetch
    old = create(["/shot.png", "/stall.png"])
    wait_for(lambda: shots.snapshot()[0] == 1, 30, "the renderer to be mid-fetch on /stall.png")
    before = get(old)
    check(before["status"] == "processing"
          and [i["status"] for i in before["images"]] == ["succeeded", "leased"],
          "first image rendered, second leased: %r" % before)
    stalled_task = before["images"][1]["id"]

    status, _, canceled = stack.json("POST", "/v1/renders/%s/cancel" % old, auth=key)
    check(status == 200 and canceled["status"] == "canceled", "cancel: %d %r" % (status, canceled))
    check([i["status"] for i in canceled["images"]] == ["succeeded", "canceled"],
          "finished image kept, running one canceled: %r" % canceled["images"])
    check(canceled["credits_used"] == 1, "charged for the one image rendered: %r" % canceled)

    # a new render on the same one-slot renderer completes while the stalled
    # request is still held open by the server
    new = create(["/shot.png"])
    done = wait_for(lambda: (lambda r: r if r["status"] != "processing" else None)(get(new)),
                    60, "the new render")
    seen, holding = shots.snapshot()
    check(done["status"] == "succeeded", "the new render: %r" % done)
    check(holding == 1 and seen == 1,
          "the new render finished while the stalled request was still held (held %d of %d)"
          % (holding, seen))

    # the renderer stopped the task because it was told to, not by a timeout
    log = stack.log_text("renderer0")
    lines = [json.loads(l) for l in log.splitlines() if l.startswith("{")]
    if not lines:
        lines = [{"raw": l} for l in log.splitlines()]
    text = [json.dumps(l) for l in lines]
    canceled_at = [n for n, l in enumerate(text) if "task canceled" in l and stalled_task in l]
    check(canceled_at, "the renderer log shows %s canceled:\n%s" % (stalled_task, log[-3000:]))
    check(not any("timed out" in l and stalled_task in l for l in text),
          "the stalled task ended by a timeout, not by the cancel:\n%s" % log[-3000:])
    new_task = done["images"][0]["id"]
    started_at = [n for n, l in enumerate(text) if "task started" in l and new_task in l]
    check(started_at and started_at[0] > canceled_at[0],
          "the new task started after the canceled one stopped:\n%s" % log[-3000:])
    sched = stack.log_text("scheduler")
    check("running tasks told to stop" in sched, "the scheduler sent CANCEL_TASKS:\n%s" % sched[-2000:])

    # the canceled render did not change after the renderer's FAIL
    after = get(old)
    check(after["status"] == "canceled" and after["credits_used"] == 1
          and [i["status"] for i in after["images"]] == ["succeeded", "canceled"],
          "the canceled render changed after the renderer answered: %r" % after)

    # the ledger: one charge per final render, equal to credits_used, sums to the balance
    status, _, a = stack.json("GET", "/v1/account", auth=key)
    check(status == 200, "GET /v1/account answered %d" % status)
    charges = {e["render_id"]: -e["amount"] for e in a["ledger"] if e["reason"] == "render"}
    check(charges == {old: 1, new: 1}, "ledger charges %r" % charges)
    check(a["balance"] == 10 - 2 and sum(e["amount"] for e in a["ledger"]) == a["balance"],
          "balance and ledger: %r" % a)

    # cancel of a finished render stays 409
    status, _, err = stack.json("POST", "/v1/renders/%s/cancel" % old, auth=key)
    check(status == 409 and err["error"]["code"] == "render_finished", "second cancel: %d %r" % (status, err))
    status, _, err = stack.json("POST", "/v1/renders/%s/cancel" % new, auth=key)
    check(status == 409 and "succeeded" in err["error"]["message"], "cancel of a done render: %r" % err)
finally:
    shots.release()

print("it_cancel_running: 1 passed, 0 failed")
