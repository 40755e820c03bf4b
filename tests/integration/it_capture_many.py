"""20 sync captures at once on 2 renderers (one capture slot each, so one
warm browser each) all finish, none failed or tried twice: 20 client
threads POST /v1/capture together, each for its own page of the test's page
server (/many/<i>, a colour of its own), and each job's image is its own
page (the colour at its centre), so jobs queued behind one another on a
slot never take a neighbour's context. Both renderers take a share; every
task ran on its first attempt; the account is charged 3 per page. Bounded:
the captures must all be final within 150 s (at about a second each, two at
a time, they take ~10-20 s here)."""
import json
import threading
import time

from harness import Stack, check
from capture_pages import PageServer, need_chromium, decode_png

N = 20
need_chromium()
pages = PageServer()


def colour(i):
    """Twenty colours at least 45 apart in red or green."""
    return (30 + 45 * (i % 5), 30 + 45 * (i // 5), 128)


for i in range(N):
    pages.extra["/many/%d" % i] = (
        "<!doctype html><html><head><style>html,body{margin:0;height:100%%;background:rgb(%d,%d,%d)}"
        "</style></head><body></body></html>" % colour(i)).encode()

stack = Stack(renderers=2, webhooker=False)
acct = json.loads(stack.cli("keys", "create", "--name", "many", "--credits", "1000", "--json"))
key = acct["api_key"]
results = [None] * N
t_start = time.monotonic()


def one(i):
    body = {"url": pages.url("/many/%d" % i), "device": "none", "viewport": {"width": 320, "height": 240}}
    status, _, job = stack.json("POST", "/v1/capture", body, auth=key, timeout=150)
    deadline = t_start + 150
    while status == 202 and time.monotonic() < deadline:    # the sync wait ran out: poll the job
        status, _, job = stack.json("GET", "/v1/jobs/%s?wait=10" % job["job_id"], auth=key, timeout=30)
        if status == 200 and job["status"] in ("pending", "processing"):
            status = 202
    results[i] = (status, job)


threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join(160)
elapsed = time.monotonic() - t_start
check(all(not t.is_alive() for t in threads), "captures still waiting after %.0f s" % elapsed)

for i, (status, job) in enumerate(results):
    check(status == 200 and job["status"] == "completed" and job["error"] is None,
          "capture %d of %d: %d %r\n%s" % (i, N, status, job, stack.log_tails()))
    res = job["result"]
    check(res["credits_used"] == 3, "capture %d: a page costs 3: %r" % (i, res))
    status, _, data = stack.request("GET", res["url"][len(stack.base):], auth=False)
    check(status == 200, "capture %d's file: %d" % (i, status))
    w, h, rows = decode_png(data)
    px = rows[h // 2][w // 2]
    want = colour(i)
    check(all(abs(px[c] - want[c]) <= 12 for c in range(3)),
          "capture %d shows %r at its centre, not its own page's %r" % (i, px[:3], want))
    loads = [h for h in pages.browser_hits("/many/%d" % i) if h[0] == "/many/%d" % i]
    check(len(loads) == 1, "page %d was loaded %d times" % (i, len(loads)))

rendered = [stack.log_text("renderer%d" % r).count('"task rendered"') for r in range(2)]
check(sum(rendered) == N and min(rendered) > 0, "tasks rendered per renderer: %r" % rendered)
sched = stack.log_text("scheduler")
check(sched.count('"task leased"') == N and '"task attempt failed"' not in sched and '"task failed"' not in sched,
      "each capture should be leased once and never fail (leases: %d):\n%s"
      % (sched.count('"task leased"'), sched[-3000:]))
status, _, a = stack.json("GET", "/v1/account", auth=key)
check(status == 200 and a["balance"] == 1000 - 3 * N, "balance after %d pages: %r" % (N, a.get("balance")))
print("it_capture_many: %d captures on 2 renderers in %.1f s; 1 passed, 0 failed" % (N, elapsed))
