"""Another user on the host cannot reach `easel up`'s bus: its ipc sockets
live in DATA/bus, mode 0700, so a process of another uid (nobody, through
setpriv) gets EACCES connecting to api.sock, work.sock and events.sock, even
with the data dir itself opened to everyone; a renderer started as that user
on the work socket never joins (the stack's renderer count stays the same).
Needs root to switch users: exits 77 (skipped) otherwise."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import atexit
import shutil
import urllib.request
from harness import BIN, check, free_port, wait_for

if os.geteuid() != 0 or not shutil.which("setpriv"):
    print("skipped: needs root and setpriv to act as another user")
    sys.exit(77)

tmp = tempfile.mkdtemp(prefix="easel-bus-user-")
atexit.register(shutil.rmtree, tmp, True)
env = {k: v for k, v in os.environ.items()
       if k not in ("EASEL_API_ENDPOINT", "EASEL_WORK_ENDPOINT", "EASEL_EVENTS_ENDPOINT", "EASEL_UP_BUS")}
port = free_port()
data = os.path.join(tmp, "data")
out = os.path.join(tmp, "out")
up = subprocess.Popen([os.path.join(BIN, "easel"), "up", "--listen", "127.0.0.1:%d" % port,
                       "--data", data, "--renderers", "1"],
                      stdout=open(out, "wb"), stderr=open(os.path.join(tmp, "err"), "wb"),
                      env=env, start_new_session=True)
others = []


def stop():
    for p in others:
        if p.poll() is None:
            p.kill()
            p.wait()
    if up.poll() is None:
        os.killpg(up.pid, signal.SIGTERM)
        up.wait(timeout=15)


atexit.register(stop)


def readyz():
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except (ConnectionError, urllib.error.URLError):
        return 0, None


wait_for(lambda: readyz()[0] == 200, 30, "easel up to be ready")
# only the bus directory may stand between another user and the sockets
os.chmod(tmp, 0o755)
os.chmod(data, 0o755)
as_nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--"]

probe = r'''
import socket, sys, os, json
res = {"listdir": None}
try:
    res["listdir"] = sorted(os.listdir(sys.argv[1]))
except OSError as e:
    res["listdir"] = "error %d" % e.errno
for name in ("api.sock", "work.sock", "events.sock"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(os.path.join(sys.argv[1], "bus", name))
        res[name] = "connected"
    except OSError as e:
        res[name] = e.errno
    s.close()
print(json.dumps(res))
'''
got = subprocess.run(as_nobody + [sys.executable, "-c", probe, data], capture_output=True, timeout=20)
check(got.returncode == 0, "probe as nobody failed: %r" % got.stderr)
res = json.loads(got.stdout)
check(isinstance(res["listdir"], list) and "bus" in res["listdir"],
      "nobody cannot even list the data dir (the test proves nothing): %r" % res)
import errno
for name in ("api.sock", "work.sock", "events.sock"):
    check(res[name] == errno.EACCES, "nobody connecting to %s got %r, want EACCES" % (name, res[name]))

# a renderer of another user pointed at the work socket never joins
status, before = readyz()
check(status == 200 and before["renderers"] == 1, "before: %d %r" % (status, before))
rogue = subprocess.Popen(as_nobody + [os.path.join(BIN, "easel-renderer"), "--work",
                                      "ipc://%s/bus/work.sock" % data, "--slots", "4"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
others.append(rogue)
time.sleep(3)           # several heartbeats: a joined renderer would be counted by now
status, after = readyz()
check(status == 200 and after["renderers"] == 1,
      "a renderer of another user joined the bus: %d %r" % (status, after))
check(up.poll() is None, "easel up exited")
print("adv_bus_other_user: ok")
