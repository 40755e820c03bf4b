"""Two schedulers as on two hosts: each with its own data dir, both on one
PostgreSQL (EASEL_DATABASE_URL, set by tests/pg/run.sh) and one S3 bucket
(tests/s3/start.js), where the database's lease is the arbiter. A is
active; B is started with --standby and waits for the lease (binding
nothing); the gateway, webhooker and two renderers have both schedulers'
endpoints. A 40-image matrix with a webhook; kill -9 of A mid-matrix: B
takes the lease (its fencing token one more than A's) and serves through
the gateway within 5 s. Then B is frozen (SIGSTOP) past its lease, as a
scheduler cut off from the database would be: a third scheduler C (standby)
takes over, every request reaches C while B is still frozen (the bus's
heartbeats drop B's silent connections), B is thawed, and B's next commit is refused by the fence, so B
stops by itself having committed nothing. All 40 images finish, fetched
from the bucket through the gateway, the account is charged exactly 40
credits, and the receiver sees one render.succeeded event id.
Exits 77 without EASEL_DATABASE_URL or node."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from harness import Stack, HookReceiver, TwoTenants, check, free_port, wait_for

if not os.environ.get("EASEL_DATABASE_URL") or shutil.which("node") is None:
    print("SKIP: needs EASEL_DATABASE_URL (tests/pg/run.sh) and node (tests/s3)", file=sys.stderr)
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY, SECRET, BUCKET = "fo-key", "fo-secret-4242", "easel-failover"
store_dir = tempfile.mkdtemp(prefix="easel-fo-s3-")
server = subprocess.Popen(["node", "--openssl-legacy-provider", os.path.join(ROOT, "s3", "start.js"),
                           "--dir", store_dir, "--bucket", BUCKET, "--access-key", KEY, "--secret-key", SECRET],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
port = json.loads(server.stdout.readline().decode())["port"]


def stop_server():
    server.stdin.close()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(store_dir, ignore_errors=True)


import atexit
atexit.register(stop_server)
os.environ.update(EASEL_BLOB_URL="s3://%s/fo?endpoint=http://127.0.0.1:%d&region=us-east-1&path_style=1"
                  % (BUCKET, port), EASEL_S3_ACCESS_KEY=KEY, EASEL_S3_SECRET_KEY=SECRET,
                  EASEL_BLOB_REDIRECT_S="0")
hooks = HookReceiver()
stack = Stack(renderers=0, webhooker=False)


def endpoints():
    return {name: "tcp://127.0.0.1:%d" % free_port() for name in ("api", "work", "events")}


def start_standby(name, eps):
    data = os.path.join(stack.dir, name + "-data")       # its own "host": its own data dir
    return stack.start(name, "--standby", service="scheduler",
                       env={"EASEL_API_ENDPOINT": eps["api"], "EASEL_WORK_ENDPOINT": eps["work"],
                            "EASEL_EVENTS_ENDPOINT": eps["events"], "EASEL_DATA": data})


b, c = endpoints(), endpoints()
lists = {"EASEL_API_ENDPOINT": ",".join([stack.api, b["api"], c["api"]]),
         "EASEL_WORK_ENDPOINT": ",".join([stack.work, b["work"], c["work"]]),
         "EASEL_EVENTS_ENDPOINT": ",".join([stack.events, b["events"], c["events"]])}
start_standby("scheduler_b", b)
wait_for(lambda: "waiting for the database's lease" in stack.log_text("scheduler_b") or None, 15,
         "B to wait for the database's lease")
stack.kill("gateway")
# a poll sent in the instant A dies goes down A's closing connection and is
# lost: it answers 503 after the request timeout, so a short one keeps such a
# poll from standing in for B's take-over time
stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port, "--request-timeout-ms", "1500", env=lists)
stack.start("webhooker", env=lists)
for i in range(2):
    stack.start_renderer(i, env=dict(lists, EASEL_RENDERER_TEST_DELAY_MS="150"))
stack.wait_ready(2)

paying = json.loads(stack.cli("keys", "create", "--name", "paying", "--credits", "100", "--json"))["api_key"]
body = {"async": True, "webhook_url": hooks.url(), "canvas": {"preset": "appstore.iphone_6_9"},
        "matrix": {"locales": TwoTenants.LOCALES, "presets": ["appstore.iphone_6_9", "play.phone"]},
        "slides": [{"headline": {"lines": ["Failover"]}}, {"headline": {"lines": ["Across hosts"]}}]}
status, _, render = stack.json("POST", "/v1/renders", body, auth=paying)
check(status == 202, "the matrix answered %d: %r" % (status, render))
rid = render["id"]


def state():
    status, _, r = stack.json("GET", "/v1/renders/" + rid, auth=paying)
    return r if status == 200 else None


def token_of(name):
    for line in stack.log_text(name).splitlines():
        if "holding the database's lease" in line:
            return int(json.loads(line)["token"])
    return None


wait_for(lambda: (lambda r: r if r and 5 <= r["progress"]["done"] < 40 else None)(state()), 60,
         "a few images to finish on A")
token_a = token_of("scheduler")
stack.kill("scheduler")                                    # kill -9 of A
killed = time.time()
deadline = killed + 5
polls = []
while time.time() < deadline:
    t0 = time.time()
    # until B holds the lease the gateway may answer from its render state
    # (its read lease of A's stream, at most EASEL_READ_LEASE_MS): an answer
    # counts once B says it holds the database's lease
    answer = state() if token_of("scheduler_b") is not None else None
    polls.append((round(t0 - killed, 2), round(time.time() - t0, 2), answer is not None))
    if answer:
        break
    time.sleep(0.05)


def lease_line():
    for line in stack.log_text("scheduler_b").splitlines():
        if "holding the database's lease" in line:
            return json.loads(line)["ts"]
    return None


check(answer, "B served through the gateway within 5 s of the kill (killed at %s; B took the lease at %s;"
      " polls (start s, took s, ok): %r)" % (time.strftime("%H:%M:%S", time.gmtime(killed)), lease_line(),
                                            polls[-12:]))
print("B answered %.2f s after the kill; %d polls" % (time.time() - killed, len(polls)))
token_b = token_of("scheduler_b")
check(token_a and token_b == token_a + 1, "B's fencing token follows A's: %r then %r" % (token_a, token_b))

# B frozen past its lease (a scheduler cut off from the database): C takes over
start_standby("scheduler_c", c)
wait_for(lambda: "waiting for the database's lease" in stack.log_text("scheduler_c") or None, 15, "C to wait")
stack.procs["scheduler_b"].send_signal(signal.SIGSTOP)
wait_for(lambda: token_of("scheduler_c"), 15, "C to take the lease while B is frozen")
check(token_of("scheduler_c") == token_b + 1, "C's token follows B's")
# B's connections stay open while it is frozen, as with a host that lost its
# link: the bus's heartbeats drop them, so every request reaches C
time.sleep(3.5)
answered = [state() is not None for _ in range(12)]
check(all(answered), "every GET answered while B is frozen and C serves: %r" % answered)
stack.procs["scheduler_b"].send_signal(signal.SIGCONT)
check(stack.procs["scheduler_b"].wait(timeout=15) == 3, "B, thawed, stops by itself (exit 3)")
check("lost the database's lease" in stack.log_text("scheduler_b"), "B says it lost the lease: %s"
      % stack.log_text("scheduler_b")[-600:])

done = wait_for(lambda: (lambda r: r if r and r["status"] != "processing" else None)(state()), 120,
                "the matrix to finish on C")
check(done["status"] == "succeeded" and done["progress"]["done"] == 40, "every image finished: %r" % done["progress"])
status, _, png = stack.request("GET", "/v1/files/" + done["images"][0]["id"], auth=paying)
check(status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n", "an image comes from the bucket through the gateway: %d" % status)
_, _, account = stack.json("GET", "/v1/account", auth=paying)
check(account["balance"] == 60, "charged exactly 40 credits: balance %r" % account["balance"])


def succeeded_ids():
    ids = {json.loads(c["body"])["event_id"] for c in hooks.snapshot()
           if json.loads(c["body"]).get("type") == "render.succeeded" and json.loads(c["body"]).get("id") == rid}
    return ids or None


wait_for(succeeded_ids, 60, "the render.succeeded callback")
time.sleep(1)
check(len(succeeded_ids()) == 1, "one render.succeeded event id: %r" % succeeded_ids())
stack.close()
print("it_failover_pg: ok")
