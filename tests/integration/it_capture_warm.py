"""Warm browsers: one renderer (one slot) keeps its Chromium from job to job
and gives each job a browser context of its own. Job 1 loads /isolate, which
sets a cookie and local storage (and its own subresource carries the cookie
back: they do hold within a job); job 2 on the same renderer and page must
send no cookie and find no local storage (the page stays green). The
browser starts with the renderer (reason "renderer start": the first
capture finds it warm), the renderer logs no other "browser started" for
jobs 1-3, and a second one, reason "jobs", once EASEL_CAPTURE_BROWSER_JOBS
(3) jobs have run on the first: between job 3's answer and job 4's start."""
import json
import re
from harness import Stack, check, wait_for
from capture_pages import PageServer, need_chromium, decode_png, bbox, RED, GREEN

need_chromium()
pages = PageServer()
stack = Stack(renderers=1, renderer_env={"EASEL_CAPTURE_BROWSER_JOBS": "3"})


def starts():
    return re.findall(r"browser started.*", stack.log_text("renderer0"))


def capture(n):
    status, _, job = stack.json("POST", "/v1/capture", {
        "url": pages.url("/isolate?job=%d" % n), "viewport": {"width": 400, "height": 300}}, timeout=120)
    check(status == 200 and job["status"] == "completed", "job %d: %d %r" % (n, status, job))
    status, _, data = stack.request("GET", job["result"]["url"][len(stack.base):], auth=False)
    check(status == 200, "job %d's file: %d" % (n, status))
    _, _, rows = decode_png(data)
    return rows


def cookies(n):
    """The Cookie headers the page server got for job n's document."""
    return [s[3] for s in pages.browser_hits("/isolate?job=%d" % n)]


def events():
    """("start", reason), ("rendered"/"started", task) and ("failed", task, message) in the
    renderer's log order."""
    out = []
    for line in stack.log_text("renderer0").splitlines():
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        if e["msg"] == "browser started":
            out.append(("start", e["reason"]))
        elif e["msg"] in ("task rendered", "task started"):
            out.append((e["msg"].split()[1], e["task"]))
        elif e["msg"] == "task failed":
            out.append(("failed", e["task"], e.get("message")))
    return out


wait_for(lambda: starts(), 30, "the renderer to start its browser before any capture")
check(len(starts()) == 1 and '"reason":"renderer start"' in starts()[0],
      "the warm browser should start with the renderer: %r" % starts())
rows = capture(1)
check(bbox(rows, GREEN) is not None and bbox(rows, RED) is None, "job 1 found local storage before it set any")
check(cookies(1) == [None], "job 1's page was sent a cookie: %r" % cookies(1))
sub = [s[3] for s in pages.browser_hits("/iso.png")]
check(sub and "iso=job" in (sub[-1] or ""), "the cookie the page set did not hold within its job: %r" % sub)

rows = capture(2)
check(cookies(2) == [None], "job 2 was sent job 1's cookie: %r" % cookies(2))
check(bbox(rows, RED) is None and bbox(rows, GREEN) is not None, "job 2 saw job 1's local storage (red)")
check(len(starts()) == 1, "two jobs started %d browsers: %r" % (len(starts()), starts()))

capture(3)
rows = capture(4)
ev = events()
kinds = [e[0] for e in ev]
check(kinds.count("start") == 2 and ev[kinds.index("start", 1)] == ("start", "jobs"),
      "the fourth job should run on a browser started again after 3 jobs: %r" % ev)
restart = kinds.index("start", 1)
check(kinds[:restart].count("rendered") == 3 and "started" not in kinds[restart - 1:restart]
      and kinds[restart + 1] == "started" and kinds[restart + 1:].count("rendered") == 1,
      "the restart should come after job 3's answer and before job 4 starts: %r" % ev)
check("failed" not in kinds, "a job failed: %r" % ev)
check(cookies(4) == [None] and bbox(rows, RED) is None, "the new browser shared a job's storage")
print("it_capture_warm: 1 passed, 0 failed")
