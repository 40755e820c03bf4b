"""A standby scheduler takes over: scheduler A serves a data dir, scheduler B
waits on the same one with --standby (binding nothing), and the gateway,
the webhooker and two renderers are given both schedulers' endpoints
(comma-separated lists). A 40-image matrix with a webhook is accepted by A;
kill -9 of A mid-matrix; B takes the data dir's lock, binds, and within 5 s
the gateway answers through it. All 40 images finish, the account is
charged exactly 40 credits, the receiver gets one render.succeeded event
(one id, however often it is delivered), and B refuses nothing A accepted.
A standby stopped before taking over exits cleanly without touching the
data dir."""
import json
import os
import signal
import subprocess
import time
from harness import BIN, Stack, HookReceiver, TwoTenants, check, free_port, wait_for

hooks = HookReceiver()
stack = Stack(renderers=0, webhooker=False)
b = {name: "tcp://127.0.0.1:%d" % free_port() for name in ("api", "work", "events")}
both = {"EASEL_API_ENDPOINT": "%s,%s" % (stack.api, b["api"]),
        "EASEL_WORK_ENDPOINT": "%s,%s" % (stack.work, b["work"]),
        "EASEL_EVENTS_ENDPOINT": "%s,%s" % (stack.events, b["events"])}
stack.start("scheduler_b", "--standby", service="scheduler",
            env={"EASEL_API_ENDPOINT": b["api"], "EASEL_WORK_ENDPOINT": b["work"],
                 "EASEL_EVENTS_ENDPOINT": b["events"]})
wait_for(lambda: "waiting for the data dir" in stack.log_text("scheduler_b") or None, 10,
         "B to wait as a standby")
stack.kill("gateway")
stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port, env=both)
stack.start("webhooker", env=both)
for i in range(2):
    stack.start_renderer(i, env=dict(both, EASEL_RENDERER_TEST_DELAY_MS="150"))
stack.wait_ready(2)

# a bad list is refused at start, naming the setting
out = subprocess.run([os.path.join(BIN, "easel-gateway"), "--listen", "127.0.0.1:%d" % free_port()],
                     env=dict(stack.env, EASEL_API_ENDPOINT=stack.api + ",http://x"),
                     capture_output=True, timeout=20)
check(out.returncode != 0 and b"comma-separated list" in out.stdout + out.stderr,
      "a list with a bad element is refused: %r" % (out.stdout + out.stderr)[-300:])

paying = json.loads(stack.cli("keys", "create", "--name", "paying", "--credits", "100", "--json"))["api_key"]
_, _, account = stack.json("GET", "/v1/account", auth=paying)
before = account["balance"]
check(before == 100, "the paying account starts with 100 credits: %r" % account)
body = {"async": True, "webhook_url": hooks.url(), "canvas": {"preset": "appstore.iphone_6_9"},
        "matrix": {"locales": TwoTenants.LOCALES, "presets": ["appstore.iphone_6_9", "play.phone"]},
        "slides": [{"headline": {"lines": ["Standby"]}}, {"headline": {"lines": ["Takes over"]}}]}
status, _, render = stack.json("POST", "/v1/renders", body, headers={"Idempotency-Key": "standby-1"},
                               auth=paying)
check(status == 202, "the matrix answered %d: %r" % (status, render))
rid = render["id"]


def some_done():
    status, _, r = stack.json("GET", "/v1/renders/" + rid, auth=paying)
    return r if status == 200 and 5 <= r["progress"]["done"] < 40 else None


wait_for(some_done, 60, "a few images of the matrix to finish")
stack.kill("scheduler")                        # kill -9 of the active one
killed_at = time.time()


def served():
    # until B holds the lease the gateway may still answer from its render
    # state (its read lease of A's stream): B's own word is the sign
    if "taking over" not in stack.log_text("scheduler_b"):
        return None
    status, _, r = stack.json("GET", "/v1/renders/" + rid, auth=paying)
    return r if status == 200 else None


wait_for(served, 5, "the standby to answer through the gateway")
check("taking over" in stack.log_text("scheduler_b"), "B says it took over")
print("the standby answered %.2f s after the kill" % (time.time() - killed_at))

# the same key again, now answered by B: the same render, not a second one
status, _, again = stack.json("POST", "/v1/renders", body, headers={"Idempotency-Key": "standby-1"},
                              auth=paying)
check(status == 202 and again["id"] == rid, "the replay through B names the same render: %d %r" % (status, again))
done = wait_for(lambda: (lambda r: r if r and r["status"] != "processing" else None)(served()), 120,
                "the matrix to finish")
check(done["status"] == "succeeded" and done["progress"]["done"] == 40
      and all(i["status"] == "succeeded" for i in done["images"]),
      "every image finished: %r" % done["progress"])
_, _, account = stack.json("GET", "/v1/account", auth=paying)
check(before - account["balance"] == 40, "charged exactly 40 credits: %d -> %d" % (before, account["balance"]))


def succeeded_events():
    ids = set()
    for call in hooks.snapshot():
        event = json.loads(call["body"])
        if event.get("type") == "render.succeeded" and event.get("id") == rid:
            ids.add(event["event_id"])
    return ids or None


ids = wait_for(succeeded_events, 60, "the render.succeeded callback")
time.sleep(1)
check(len(succeeded_events()) == 1, "one render.succeeded event id: %r" % succeeded_events())

# a standby stopped before it takes over exits 0 and binds nothing
c_api = "tcp://127.0.0.1:%d" % free_port()
proc = stack.start("scheduler_c", "--standby", service="scheduler",
                   env={"EASEL_API_ENDPOINT": c_api, "EASEL_WORK_ENDPOINT": "tcp://127.0.0.1:%d" % free_port(),
                        "EASEL_EVENTS_ENDPOINT": "tcp://127.0.0.1:%d" % free_port()})
wait_for(lambda: "waiting for the data dir" in stack.log_text("scheduler_c") or None, 10, "C to wait")
proc.send_signal(signal.SIGTERM)
check(proc.wait(timeout=10) == 0, "a waiting standby stops cleanly")
check("standby stopped before taking over" in stack.log_text("scheduler_c"), "C says it never took over")
stack.close()
print("it_standby: ok")
