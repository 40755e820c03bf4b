"""CurveZMQ on every bus socket (api, work, events): a render and its webhook
go through with admitted certificates; a renderer and a gateway with an
unknown certificate get nothing (no task, no reply) and the scheduler logs
the refusal with the key; copying the renderer's certificate into the
allowed directory while the scheduler runs admits it and it renders; bad
certificate configuration stops a service with a one-line reason."""
import json
import os
import re
import shutil
import subprocess
import time

from curve_stack import CurveStack
from harness import BIN, HookReceiver, ShotServer, check, free_port, slide, wait_for

shots = ShotServer()
hooks = HookReceiver()
stack = CurveStack(renderers=1)


def public_key(path):
    with open(path) as f:
        return re.search(r'public-key = "([^"]{40})"', f.read()).group(1)


# ---- admitted: a render and its webhook over CURVE -------------------------
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "webhook_url": hooks.url(), "canvas": {"width": 300, "height": 600},
    "slides": [slide(shots.url("/shot.png"), lines=["Over CURVE"])]})
check(status == 202, "create over CURVE answered %d: %r" % (status, body))
render = stack.wait_render(body["id"])
check(render["status"] == "succeeded", "render over CURVE: %r" % render)
wait_for(lambda: len(hooks.snapshot()) >= 1, 30, "the webhook over the CURVE events socket")
sched_log = stack.log_text("scheduler")
check('"bus security: CURVE"' in sched_log and '"role":"server"' in sched_log,
      "scheduler says it runs CURVE:\n" + sched_log[-2000:])
for name in ("gateway", "webhooker", "renderer0"):
    check(public_key(os.path.join(stack.certs, name)) in sched_log,
          "scheduler logged admitting %s's key" % name)

# ---- unknown certificates: a renderer gets no task, a gateway no reply -----
stack.kill("renderer0", __import__("signal").SIGTERM)
rogue_env = stack.client_env("rogue", admitted=False)
stack.start("rogue", "--slots", "1", env=rogue_env, service="renderer")
rogue_key = public_key(os.path.join(stack.certs, "rogue"))
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"width": 300, "height": 600},
    "slides": [slide(shots.url("/shot.png"), lines=["Nobody admitted"])]})
check(status == 202, "create answered %d: %r" % (status, body))
rid = body["id"]
wait_for(lambda: rogue_key in stack.log_text("scheduler"), 15,
         "the scheduler to log refusing the rogue renderer")
time.sleep(3)
status, _, render = stack.json("GET", "/v1/renders/" + rid)
check(render["status"] == "processing", "nobody admitted may render: %r" % render)
check("task started" not in stack.log_text("rogue"), "the rogue renderer got a task")
refusal = [json.loads(line) for line in stack.log_text("scheduler").splitlines()
           if rogue_key in line]
check(refusal and refusal[0]["msg"].startswith("bus client refused") and refusal[0]["level"] == "warn",
      "refusal is a JSON warn line: %r" % refusal[:1])

rogue_port = free_port()
stack.start("gateway_rogue", "--listen", "127.0.0.1:%d" % rogue_port,
            env=dict(stack.client_env("gateway_rogue", admitted=False),
                     EASEL_REQUEST_TIMEOUT_MS="1000"), service="gateway")
base, stack.base = stack.base, "http://127.0.0.1:%d" % rogue_port
wait_for(lambda: stack.request("GET", "/healthz", auth=False)[0] == 200, 15, "the rogue gateway")
status, headers, raw = stack.request("GET", "/v1/renders/" + rid)
check(status == 503, "an unknown gateway gets no answer from the scheduler: %d %r" % (status, raw[:200]))
stack.base = base
stack.kill("gateway_rogue")

# ---- admitted while the scheduler runs -------------------------------------
shutil.copy(os.path.join(stack.certs, "rogue"), os.path.join(stack.allowed, "rogue"))
render = stack.wait_render(rid, timeout=60)
check(render["status"] == "succeeded", "render after admitting the renderer: %r" % render)
check("task started" in stack.log_text("rogue"), "the newly admitted renderer rendered")

# ---- one-line reasons for bad certificate configuration ---------------------
def refuses(service, env, reason):
    out = subprocess.run([os.path.join(BIN, "easel-" + service)],
                         env=dict(stack.env, EASEL_DATA=os.path.join(stack.dir, "refused"), **env),
                         capture_output=True, timeout=20)
    lines = out.stderr.decode().strip().splitlines()
    check(out.returncode == 2 and lines, "%s with %r should exit 2, got %d: %r"
          % (service, env, out.returncode, lines))
    last = json.loads(lines[-1])
    check(last["level"] == "fatal" and reason in last.get("reason", ""),
          "%s reason should mention %r: %r" % (service, reason, last))


spare = "tcp://127.0.0.1:%d" % free_port()
refuses("scheduler", {"EASEL_CURVE_CERT": "/nonexistent/scheduler_secret",
                      "EASEL_CURVE_ALLOWED_DIR": stack.allowed, "EASEL_API_ENDPOINT": spare},
        "cannot read certificate")
refuses("scheduler", {"EASEL_CURVE_CERT": stack.server_secret, "EASEL_CURVE_ALLOWED_DIR": "",
                      "EASEL_API_ENDPOINT": spare}, "EASEL_CURVE_ALLOWED_DIR")
refuses("renderer", {"EASEL_CURVE_CERT": os.path.join(stack.allowed, "gateway"),
                     "EASEL_CURVE_SERVER_KEY": stack.server_public}, "no secret-key")
refuses("webhooker", {"EASEL_CURVE_CERT": stack.server_secret, "EASEL_CURVE_SERVER_KEY": ""},
        "EASEL_CURVE_SERVER_KEY")
refuses("gateway", {"EASEL_API_ENDPOINT": "tcp://10.213.0.1:5555"}, "refusing plain transport")
refuses("renderer", {"EASEL_WORK_ENDPOINT": "tcp://10.213.0.1:5556", "EASEL_BUS_PLAIN": "1",
                     "EASEL_CURVE_CERT": stack.server_secret,
                     "EASEL_CURVE_SERVER_KEY": stack.server_public}, "choose one")
print("it_curve: 1 passed, 0 failed")
