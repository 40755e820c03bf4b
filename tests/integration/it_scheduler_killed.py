"""kill -9 the scheduler right after a 202 and start it again on the same data
dir: the render still completes and nothing is lost."""
import time

from harness import Stack, ShotServer, check, slide

shots = ShotServer()
stack = Stack(renderers=1, renderer_env={"EASEL_RENDERER_TEST_DELAY_MS": "1000"})
ids = []
for i in range(3):
    status, _, body = stack.json("POST", "/v1/renders", {
        "async": True, "canvas": {"preset": "appstore.iphone_6_9"},
        "slides": [slide(shots.url("/shot.png"), lines=["Render %d" % i])]})
    check(status == 202, "create answered %d: %r" % (status, body))
    ids.append(body["id"])
stack.kill("scheduler")

# While the scheduler is down the gateway says so instead of hanging. A
# render the gateway does not know needs the scheduler at once; a known one
# may still be answered from the gateway's render state while its read lease
# runs (EASEL_READ_LEASE_MS, 2 s: no scheduler can commit a change it would
# miss before then), and is a 503 once the lease has run out.
status, headers, body = stack.json("GET", "/v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H")
check(status == 503 and headers.get("Retry-After"), "unknown render, scheduler down: %d %r" % (status, body))
check(body["error"]["code"] == "scheduler_unavailable", "503 body: %r" % body)
deadline = time.time() + 6
while True:
    status, headers, body = stack.json("GET", "/v1/renders/" + ids[0])
    if status != 200 or time.time() > deadline:
        break
    check(body["id"] == ids[0] and body["status"] == "processing", "GET under the lease: %r" % body)
    time.sleep(0.1)
check(status == 503 and headers.get("Retry-After"), "GET, scheduler down past the lease: %d %r" % (status, body))
check(body["error"]["code"] == "scheduler_unavailable", "503 body: %r" % body)

stack.start("scheduler")
for rid in ids:
    render = stack.wait_render(rid, timeout=60)
    check(render["status"] == "succeeded", "render %s after restart: %r" % (rid, render))
print("it_scheduler_killed: 1 passed, 0 failed")
