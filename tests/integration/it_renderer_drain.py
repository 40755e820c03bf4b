"""SIGTERM drains a renderer: it finishes the task it holds (no failed image,
no second attempt), takes no new one, says DISCONNECT and exits 0; a renderer
started later renders what was left. A second signal stops at once."""
import signal
import time

from harness import Stack, ShotServer, check, slide, wait_for

shots = ShotServer()
stack = Stack(renderers=1, renderer_env={"EASEL_RENDERER_TEST_DELAY_MS": "2500"})
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"width": 300, "height": 600},
    "slides": [slide(shots.url("/shot.png"), lines=["First"]),
               slide(shots.url("/shot.png"), lines=["Second"])]})
check(status == 202, "create answered %d: %r" % (status, body))
rid = body["id"]
wait_for(lambda: "task started" in stack.log_text("renderer0"), 20, "renderer0 to take a task")
proc = stack.procs["renderer0"]
proc.send_signal(signal.SIGTERM)
started = time.time()
code = proc.wait(timeout=30)
stack.procs.pop("renderer0")
log0 = stack.log_text("renderer0")
check(code == 0, "drained renderer exit code %d" % code)
check("draining" in log0, "renderer0 logged its drain:\n" + log0[-1500:])
check(log0.count("task started") == 1 and log0.count("task rendered") == 1,
      "renderer0 finished exactly the one task it held and took no other:\n" + log0[-2000:])
check(time.time() - started < 15, "drain took %.1f s" % (time.time() - started))
sched = stack.log_text("scheduler")
check("renderer draining" in sched, "scheduler logged the drain")

status, _, render = stack.json("GET", "/v1/renders/" + rid)
check(render["progress"]["done"] == 1 and render["status"] == "processing",
      "one image done, one waiting for a renderer: %r" % render["progress"])
stack.start_renderer(1)
render = stack.wait_render(rid, timeout=60)
check(render["status"] == "succeeded", "render after the drain: %r" % render)
check(all(img["attempts"] == 1 for img in render["images"]),
      "no image failed or was retried: %r" % [img["attempts"] for img in render["images"]])
check("task rendered" in stack.log_text("renderer1"), "renderer1 rendered the second image")

# ---- a second signal stops a drain at once ---------------------------------
stack.start_renderer(2, {"EASEL_RENDERER_TEST_DELAY_MS": "20000"})
stack.kill("renderer1", signal.SIGTERM)
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"width": 300, "height": 600},
    "slides": [slide(shots.url("/shot.png"), lines=["Slow"])]})
check(status == 202, "create answered %d" % status)
wait_for(lambda: "task started" in stack.log_text("renderer2"), 20, "renderer2 to take a task")
proc = stack.procs.pop("renderer2")
proc.send_signal(signal.SIGTERM)
time.sleep(0.5)
proc.send_signal(signal.SIGTERM)
code = proc.wait(timeout=10)
check(code == 0, "renderer stopped by a second signal exit code %d" % code)
print("it_renderer_drain: 1 passed, 0 failed")
