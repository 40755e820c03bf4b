"""`easel up` on a new data dir prints the URL and a dev key, serves renders,
restarts a child that dies, and stops everything on SIGTERM."""
import os
import re
import signal
import subprocess
import tempfile
import time
import atexit
import shutil
import json
import urllib.request
from harness import BIN, ShotServer, check, free_port, wait_for, slide

shots = ShotServer()
tmp = tempfile.mkdtemp(prefix="easel-up-")
atexit.register(shutil.rmtree, tmp, True)
port = free_port()
args = [os.path.join(BIN, "easel"), "up", "--listen", "127.0.0.1:%d" % port,
        "--data", os.path.join(tmp, "data"), "--renderers", "2",
        "--api", "tcp://127.0.0.1:%d" % free_port(), "--work", "tcp://127.0.0.1:%d" % free_port(),
        "--events", "tcp://127.0.0.1:%d" % free_port()]
out = open(os.path.join(tmp, "out.txt"), "wb")
err = open(os.path.join(tmp, "err.txt"), "wb")
env = dict(os.environ, EASEL_ALLOW_PRIVATE_NETWORKS="1")
up = subprocess.Popen(args, stdout=out, stderr=err, env=env, start_new_session=True)
atexit.register(lambda: up.poll() is None and os.killpg(up.pid, signal.SIGKILL))


def printed():
    with open(os.path.join(tmp, "out.txt")) as f:
        text = f.read()
    return text if "sk_" in text and "whsec_" in text else None


text = wait_for(printed, 20, "easel up to print the dev key")
check("http://127.0.0.1:%d" % port in text, "URL not printed: %r" % text)
key = re.search(r"(sk_[A-Za-z0-9]+)", text).group(1)
base = "http://127.0.0.1:%d" % port


def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except (ConnectionError, urllib.error.URLError):
        return 0, None


def ready():
    status, body = call("GET", "/readyz")
    return status == 200 and body["renderers"] >= 2


wait_for(ready, 30, "the stack under easel up to be ready")
status, render = call("POST", "/v1/renders", {"canvas": {"preset": "appstore.iphone_6_9"},
                                            "slides": [slide(shots.url("/shot.png"))]})
check(status == 200 and render["status"] == "succeeded", "sync render via easel up: %d %r" % (status, render))


def children(name):
    out = subprocess.run(["pgrep", "-P", str(up.pid), "-f", name], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


# A dead child is restarted.
victims = children("easel-gateway")
check(len(victims) == 1, "expected one gateway child, found %r" % victims)
os.kill(victims[0], signal.SIGKILL)
wait_for(lambda: children("easel-gateway") and children("easel-gateway") != victims, 20,
         "the gateway to be restarted")
wait_for(ready, 30, "the stack to be ready after the restart")

# SIGTERM stops everything.
all_children = children("easel-")
check(len(all_children) == 5, "expected 5 children (scheduler, gateway, webhooker, 2 renderers), got %r"
      % all_children)
up.send_signal(signal.SIGTERM)
check(up.wait(timeout=15) == 0, "easel up exited with %r" % up.returncode)
for pid in all_children:
    check(not os.path.exists("/proc/%d" % pid) or open("/proc/%d/stat" % pid).read().split()[2] == "Z",
          "child %d outlived easel up" % pid)

# A second start on the same data dir prints the URL but no new key.
out2 = os.path.join(tmp, "out2.txt")
up = subprocess.Popen(args, stdout=open(out2, "wb"), stderr=err, env=env, start_new_session=True)
wait_for(ready, 30, "the restarted stack to be ready")
up.send_signal(signal.SIGTERM)
check(up.wait(timeout=15) == 0, "second easel up exited with %r" % up.returncode)
with open(out2) as f:
    text2 = f.read()
check(base in text2 and "sk_" not in text2, "second start printed: %r" % text2)
print("it_easel_up: 1 passed, 0 failed")
