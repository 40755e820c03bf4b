"""The next job's page (its browser context's target) is made once a job's
page is shot, so a capture slot takes its next task without first making
one, and no page is made beside a page's own load. One renderer, one
slot. Job A loads /held, which the page server answers only after 2 s: a
context made during that load would be ready before A's page is
captured. Job B is posted once A started, so it reaches the slot only
after A's answer. In the renderer's log: no context is made while A's
page loads; one is made after A's page was captured and before B's, and
B runs in it (prepared), a context other than A's; both pages are
captured whole. Ordering and causality only: no timing is asserted (B
may wait for what is left of its context; how long is not checked)."""
import json
import threading
import time
from harness import Stack, check, wait_for
from capture_pages import PageServer, need_chromium, decode_png, bbox, RED, BLUE

need_chromium()
pages = PageServer()
stack = Stack(renderers=1)


def log_events():
    out = []
    for line in stack.log_text("renderer0").splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def hold():
    time.sleep(2)      # a slow page: what is made beside its load shows in the log


pages.hold = hold
wait_for(lambda: any(e["msg"] == "next browser context ready" for e in log_events()), 60,
         "the slot's first context to be made before any task")

results = {}


def capture(name, path):
    status, _, job = stack.json("POST", "/v1/capture", {
        "url": pages.url(path), "viewport": {"width": 400, "height": 300}}, timeout=150)
    results[name] = (status, job)


a = threading.Thread(target=capture, args=("A", "/held"))
a.start()
wait_for(lambda: any(e["msg"] == "task started" for e in log_events()), 60, "job A to start")
b = threading.Thread(target=capture, args=("B", "/page"))
b.start()
a.join(160)
b.join(160)
for name in ("A", "B"):
    check(name in results, "job %s got no answer" % name)
    status, job = results[name]
    check(status == 200 and job["status"] == "completed", "job %s: %d %r" % (name, status, job))
    status, _, data = stack.request("GET", job["result"]["url"][len(stack.base):], auth=False)
    check(status == 200, "job %s's file: %d" % (name, status))
    _, _, rows = decode_png(data)
    check(bbox(rows, RED) is not None and bbox(rows, BLUE) is not None, "job %s's page is not whole" % name)

# the renderer's log in order: tasks, the contexts made ahead, the pages captured
seq = []
for e in log_events():
    if e["msg"] in ("task started", "task rendered"):
        seq.append((e["msg"], e["task"]))
    elif e["msg"] == "next browser context ready":
        seq.append(("ready", e["context"]))
    elif e["msg"] == "page captured":
        seq.append(("captured", e["context"], e["prepared"], e["prep_wait_ms"], e["ok"]))
    elif e["msg"] in ("task failed", "task dropped", "browser started"):
        seq.append((e["msg"], e.get("reason") or e.get("message")))
kinds = [s[0] for s in seq]
check(kinds.count("task started") == 2 and kinds.count("task rendered") == 2
      and "task failed" not in kinds and "task dropped" not in kinds, "two jobs, both rendered: %r" % seq)
check(kinds.count("browser started") == 1, "one browser for both jobs: %r" % seq)
a_start = kinds.index("task started")
a_done = kinds.index("task rendered")
b_start = kinds.index("task started", a_start + 1)
cap = [i for i, k in enumerate(kinds) if k == "captured"]
check(len(cap) == 2 and a_start < cap[0] < a_done < b_start < cap[1],
      "A's page inside A's task, B's inside B's: %r" % seq)
check("ready" not in kinds[a_start:cap[0]],
      "a context was made while job A's page loaded: %r" % seq)
between = [seq[i][1] for i in range(cap[0], cap[1]) if kinds[i] == "ready"]
check(len(between) == 1, "one context should be made after A's page was shot, before B's: %r" % seq)
ctx_a, ctx_b = seq[cap[0]][1], seq[cap[1]][1]
check(ctx_b == between[0] and ctx_b != ctx_a,
      "job B should run in the context made after A's page (%s), not A's (%s): %s" % (between[0], ctx_a, ctx_b))
check(seq[cap[1]][2] == "1", "job B should take the context made ahead (prepared 1): %r" % (seq[cap[1]],))
print("it_capture_ahead: 1 passed, 0 failed")
