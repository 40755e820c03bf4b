"""Two stacks on one host do not cross (easel up, cli/up_probe.h):
- two `easel up` with different --data and --listen both come up on their
  own ipc buses (DATA/bus, mode 0700) and each serves only its own keys: the
  first's key is 401 on the second;
- a second `easel up` given the first's tcp bus endpoints refuses to start:
  exit non-zero, one line on stderr naming the endpoint, no "Easel is up",
  its data dir untouched;
- one given the first's data dir (same ipc sockets) refuses the same way;
- the first stack is unchanged afterwards (still ready, its render still
  there, its renderer count the same);
- a service that cannot bind exits 3 with one log line (the scheduler on a
  taken endpoint), and easel up does not restart it."""
import json
import os
import re
import signal
import stat
import subprocess
import tempfile
import atexit
import shutil
import urllib.request
from harness import BIN, check, free_port, wait_for, slide, make_png

tmp = tempfile.mkdtemp(prefix="easel-two-")
atexit.register(shutil.rmtree, tmp, True)
env = dict(os.environ)
for k in ("EASEL_API_ENDPOINT", "EASEL_WORK_ENDPOINT", "EASEL_EVENTS_ENDPOINT", "EASEL_UP_BUS",
          "EASEL_LISTEN", "EASEL_DATA", "EASEL_PUBLIC_URL"):
    env.pop(k, None)
procs = []


def kill_all():
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


atexit.register(kill_all)


def up(name, *extra, data=None):
    port = free_port()
    data = data or os.path.join(tmp, name)
    out = os.path.join(tmp, name + ".out")
    err = os.path.join(tmp, name + ".err")
    args = [os.path.join(BIN, "easel"), "up", "--listen", "127.0.0.1:%d" % port, "--data", data,
            "--renderers", "1"] + list(extra)
    p = subprocess.Popen(args, stdout=open(out, "wb"), stderr=open(err, "wb"), env=env,
                         start_new_session=True)
    procs.append(p)
    return p, port, data, out, err


def read(path):
    with open(path) as f:
        return f.read()


def call(port, method, path, key=None, body=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=json.dumps(body).encode() if body else None, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except (ConnectionError, urllib.error.URLError):
        return 0, None


def started(p, port, out):
    text = wait_for(lambda: "sk_" in read(out) and read(out), 20, "easel up to print its key")
    key = re.search(r"(sk_[A-Za-z0-9]+)", text).group(1)
    wait_for(lambda: call(port, "GET", "/readyz")[0] == 200, 30, "the stack to be ready")
    return key


def refused(p, err, data, what):
    rc = p.wait(timeout=20)
    check(rc != 0, "%s: easel up exited 0" % what)
    lines = [l for l in read(err).splitlines() if l.strip()]
    check(len(lines) == 1 and lines[0].startswith("easel up: refusing to start:"),
          "%s: expected one refusal line, got %r" % (what, lines))
    check(not os.path.exists(data), "%s: the refused stack created its data dir" % what)
    return lines[0]


# two stacks side by side, each on its own ipc bus
a, a_port, a_data, a_out, a_err = up("a")
a_key = started(a, a_port, a_out)
b, b_port, b_data, b_out, b_err = up("b")
b_key = started(b, b_port, b_out)
for data in (a_data, b_data):
    mode = stat.S_IMODE(os.stat(os.path.join(data, "bus")).st_mode)
    check(mode == 0o700, "%s/bus has mode %o, want 700" % (data, mode))
    for sock in ("api.sock", "work.sock", "events.sock"):
        check(stat.S_ISSOCK(os.stat(os.path.join(data, "bus", sock)).st_mode), "no %s in %s" % (sock, data))
shot = make_png(300, 600)
status, render = call(a_port, "POST", "/v1/renders", a_key,
                      {"canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide(data=shot)]})
check(status == 200 and render["status"] == "succeeded", "render on stack a: %d %r" % (status, render))
status, body = call(b_port, "GET", "/v1/renders/" + render["id"], a_key)
check(status == 401 and body["error"]["code"] == "invalid_api_key",
      "stack a's key on stack b answered %d %r (the stacks share a bus?)" % (status, body))
status, body = call(b_port, "GET", "/v1/account", b_key)
check(status == 200, "stack b's own key answered %d %r" % (status, body))

# a third stack on tcp endpoints held by a tcp stack: refused in one line
tcp_eps = ["tcp://127.0.0.1:%d" % free_port() for _ in range(3)]
t, t_port, t_data, t_out, t_err = up("t", "--api", tcp_eps[0], "--work", tcp_eps[1], "--events", tcp_eps[2])
t_key = started(t, t_port, t_out)
c, c_port, c_data, c_out, c_err = up("c", "--api", tcp_eps[0], "--work", tcp_eps[1], "--events", tcp_eps[2])
line = refused(c, c_err, c_data, "same tcp endpoints")
check(tcp_eps[0] in line and "in use" in line, "the refusal does not name the endpoint: %r" % line)
check("Easel is up" not in read(c_out), "the refused stack printed Easel is up")
# the same data dir (its ipc sockets) as stack a: refused
d, d_port, _, d_out, d_err = up("d", data=a_data)
rc = d.wait(timeout=20)
lines = [l for l in read(d_err).splitlines() if l.strip()]
check(rc != 0 and len(lines) == 1 and "another Easel stack runs on this data directory" in lines[0],
      "same data dir: rc %d, %r" % (rc, lines))
# the same HTTP address as stack a: refused
e = subprocess.Popen([os.path.join(BIN, "easel"), "up", "--listen", "127.0.0.1:%d" % a_port,
                      "--data", os.path.join(tmp, "e"), "--renderers", "1"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
procs.append(e)
_, e_errtext = e.communicate(timeout=20)
lines = [l for l in e_errtext.decode().splitlines() if l.strip()]
check(e.returncode != 0 and len(lines) == 1 and "127.0.0.1:%d" % a_port in lines[0],
      "same HTTP address: rc %d, %r" % (e.returncode, lines))

# a scheduler started by hand on a taken endpoint exits 3 with one log line
s = subprocess.run([os.path.join(BIN, "easel-scheduler"), "--api", tcp_eps[0],
                    "--work", "tcp://127.0.0.1:%d" % free_port(),
                    "--events", "tcp://127.0.0.1:%d" % free_port(), "--data", os.path.join(tmp, "s")],
                   capture_output=True, env=env, timeout=20)
lines = [l for l in s.stderr.decode().splitlines() if l.strip()]
check(s.returncode == 3, "scheduler on a taken endpoint exited %d, want 3" % s.returncode)
check(len(lines) == 1 and json.loads(lines[0])["level"] == "fatal" and tcp_eps[0] in lines[0],
      "scheduler's reason is not one line naming the endpoint: %r" % lines)
check(not os.path.exists(os.path.join(tmp, "s")), "the refused scheduler touched its data dir")

# everything that was up is unchanged
for port, key in ((a_port, a_key), (b_port, b_key), (t_port, t_key)):
    status, ready = call(port, "GET", "/readyz")
    check(status == 200 and ready["renderers"] == 1, "stack on %d: /readyz %d %r" % (port, status, ready))
status, again = call(a_port, "GET", "/v1/renders/" + render["id"], a_key)
check(status == 200 and again["status"] == "succeeded", "stack a's render: %d %r" % (status, again))
for p in (a, b, t):
    check(p.poll() is None, "a running easel up exited")
kill_all()
for p in (a, b, t):
    check(p.returncode == 0, "easel up exited %r on SIGTERM" % p.returncode)
print("adv_two_stacks: ok")
