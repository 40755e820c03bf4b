"""A capture with no capture-capable renderer waits pending (renders still
run on the renderer that cannot capture); it runs as soon as a renderer
that can capture joins."""
import time
from harness import Stack, ShotServer, check, slide
from capture_pages import PageServer, need_chromium

need_chromium()
pages = PageServer()
shots = ShotServer()
stack = Stack(renderers=1, renderer_env={"EASEL_RENDERER_CAPTURE": "0"})
status, _, job = stack.json("POST", "/v1/capture", {"url": pages.url("/shot.png"), "async": True})
check(status == 202, "create: %d %r" % (status, job))
status, _, render = stack.json("POST", "/v1/renders", {
    "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide(shots.url("/shot.png"))]})
check(status == 200 and render["status"] == "succeeded", "a render beside a waiting capture: %r" % render)
time.sleep(2)
status, _, waiting = stack.json("GET", "/v1/jobs/" + job["job_id"])
check(waiting["status"] == "pending", "with no capture renderer the job waits: %r" % waiting)
check("capture\":\"0" in stack.log_text("scheduler") or "\"capture\":\"0\"" in stack.log_text("scheduler"),
      "the scheduler did not log the renderer as unable to capture")
stack.start_renderer(1)
status, _, done = stack.json("GET", "/v1/jobs/%s?wait=30" % job["job_id"])
check(done["status"] == "completed", "after a capture renderer joined: %r" % done)
print("it_capture_wait: 1 passed, 0 failed")
