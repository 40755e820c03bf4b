"""A page that never finishes loading: the job fails with "Render failed:
navigation timeout" within the (shortened) navigation timeout, is not
retried, costs nothing, and its webhook has the failed shape. Then, on a
renderer without --allow-private-networks, a loopback page is refused
before any browser starts, naming the address."""
import json
import time
from harness import Stack, HookReceiver, check, check_envelope, wait_for
from capture_pages import PageServer, need_chromium

need_chromium()
pages = PageServer()
hooks = HookReceiver()
stack = Stack(renderers=1, renderer_env={"EASEL_CAPTURE_TIMEOUT_MS": "3000"})
_, _, before = stack.json("GET", "/v1/account")
started = time.time()
status, _, job = stack.json("POST", "/v1/capture", {
    "url": pages.url("/hang"), "async": True, "webhook_url": hooks.url()})
check(status == 202 and job["status"] == "pending", "create: %d %r" % (status, job))
status, _, job = stack.json("GET", "/v1/jobs/%s?wait=30" % job["job_id"])
took = time.time() - started
check(job["status"] == "failed", "a hanging page must fail: %r" % job)
check(job["error"] == "Render failed: navigation timeout", "error: %r" % job["error"])
check(job["result"] is None, "a failed job has no result: %r" % job)
check(took < 25, "the navigation timeout (3 s) took %.1f s" % took)
check(len(pages.browser_hits("/hang")) == 1, "a navigation timeout is not retried: %r" % pages.browser_hits("/hang"))
_, _, after = stack.json("GET", "/v1/account")
check(after["used"] == before["used"], "a failed capture cost credits: %r -> %r" % (before["used"], after["used"]))
wait_for(lambda: hooks.snapshot(), 30, "the job.failed webhook")
payload = json.loads(hooks.snapshot()[0]["body"])
check(payload["type"] == "job.failed" and payload["status"] == "failed", "payload: %r" % payload)
check(payload["job_id"] == job["id"] and payload["error"] == "Render failed: navigation timeout",
      "payload: %r" % payload)
check("result" not in payload and payload["event_id"].startswith("evt_"), "payload: %r" % payload)
status, _, job = stack.json("GET", "/v1/jobs/" + job["id"])
check_envelope(payload, job, "job", "job.failed")
check(job["webhook_status"] == "delivered" or job["webhook_status"] == "pending", "webhook_status: %r" % job)

# the private-network rule: checked on the resolved address before Chromium
stack.kill("renderer0")
stack.start_renderer(1, env={"EASEL_ALLOW_PRIVATE_NETWORKS": "0"})
hits_before = len(pages.browser_hits("/page"))
status, _, job = stack.json("POST", "/v1/capture", {"url": pages.url("/page")}, timeout=120)
check(status == 200 and job["status"] == "failed", "a loopback page must be refused: %d %r" % (status, job))
check("127.0.0.1" in job["error"] and "private" in job["error"], "error names the address: %r" % job["error"])
check(len(pages.browser_hits("/page")) == hits_before, "a refused URL must not reach a browser")
print("it_capture_timeout: 1 passed, 0 failed")
