"""Two slowed renderers; kill -9 the one holding the task: the render
completes on the other, and the image records attempts = 2."""
import time
from harness import Stack, ShotServer, check, wait_for, slide

shots = ShotServer()
stack = Stack(renderers=2, renderer_env={"EASEL_RENDERER_TEST_DELAY_MS": "3000"})
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"preset": "appstore.iphone_6_9"},
    "slides": [slide(shots.url("/shot.png"))]})
check(status == 202, "create answered %d: %r" % (status, body))
image_id = body.get("images", [{}])[0].get("id") if body.get("images") else None


def holder():
    for name in ("renderer0", "renderer1"):
        text = stack.log_text(name)
        if "img_" in text and "task" in text and (image_id is None or image_id in text):
            return name
    return None


name = wait_for(holder, 20, "a renderer to take the task")
stack.kill(name)
render = stack.wait_render(body["id"], timeout=60)
check(render["status"] == "succeeded", "render after renderer death: %r" % render)
attempts = render["images"][0]["attempts"]
check(attempts == 2, "expected attempts = 2 after killing %s, got %d" % (name, attempts))
print("it_renderer_killed: 1 passed, 0 failed")
