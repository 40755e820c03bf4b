"""Hosts in network namespaces for the multi-host tests (test_multihost.py,
test_multihost_ha.py).

outer() builds the network: a hub namespace holds a bridge; N host
namespaces each get a veth into it (v1..vN on the hub's side, eth0 inside)
and the address 10.213.S.i/24, S picked per run, a subnet that exists only
inside these namespaces (nothing is added to the root namespace, so no
packet can leave the machine). Then it runs `SCRIPT --inside` in one of the
hosts with EASEL_MH_HOSTS, EASEL_MH_HUB and EASEL_MH_SUBNET set (read them
back with network()), and always tears everything down: the body is sent
SIGTERM and given time to stop its services, then every process left in the
namespaces is killed and the namespaces are deleted, in a finally block and
on SIGTERM. Without root or iproute2 it answers 77 (ctest's SKIP_RETURN_CODE)
with the reason.

The rest is for the bodies: check/wait_for raising Fail, and Receiver, a
webhook receiver that records each POST. """
import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

SKIP = 77


def ip(*args, check=True):
    out = subprocess.run(["ip"] + list(args), capture_output=True, timeout=20)
    if check and out.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), out.stderr.decode().strip()))
    return out


def outer(name, nhosts, script, body_host, limit_s):
    """Runs `script --inside` in host body_host (0-based) of nhosts; its exit
    status, or 1 when it runs over limit_s."""
    if os.geteuid() != 0:
        print("%s: SKIPPED: needs root to create network namespaces (CI runs it as root)" % name)
        return SKIP
    if not shutil.which("ip"):
        print("%s: SKIPPED: iproute2 (`ip`) is not installed (scripts/deps.sh installs it)" % name)
        return SKIP
    run = "%x%04x" % (os.getpid() & 0xffff, random.randrange(0x10000))
    subnet = random.randrange(1, 255)
    hub = "easel-%s-hub" % run
    hosts = ["easel-%s-h%d" % (run, i) for i in range(1, nhosts + 1)]
    made = []
    inner = []

    def teardown(*_):
        for proc in inner:                # lets the body stop and reap its services
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    pass
        for ns in hosts + [hub]:
            if ns not in made:
                continue
            pids = ip("netns", "pids", ns, check=False).stdout.decode().split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for ns in hosts + [hub]:
            if ns in made:
                ip("netns", "del", ns, check=False)
        made.clear()

    signal.signal(signal.SIGTERM, lambda *_: (teardown(), sys.exit(1)))
    try:
        probe = ip("netns", "add", hub, check=False)
        if probe.returncode != 0:
            print("%s: SKIPPED: cannot create a network namespace: %s"
                  % (name, probe.stderr.decode().strip()))
            return SKIP
        made.append(hub)
        ip("-n", hub, "link", "set", "lo", "up")
        ip("-n", hub, "link", "add", "br0", "type", "bridge")
        ip("-n", hub, "link", "set", "br0", "up")
        for i, ns in enumerate(hosts, start=1):
            ip("netns", "add", ns)
            made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("link", "add", "v%d" % i, "netns", hub, "type", "veth",
               "peer", "name", "eth0", "netns", ns)
            ip("-n", hub, "link", "set", "v%d" % i, "master", "br0")
            ip("-n", hub, "link", "set", "v%d" % i, "up")
            ip("-n", ns, "addr", "add", "10.213.%d.%d/24" % (subnet, i), "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
        env = dict(os.environ, EASEL_MH_HOSTS=",".join(hosts), EASEL_MH_HUB=hub,
                   EASEL_MH_SUBNET=str(subnet))
        inner.append(subprocess.Popen(["ip", "netns", "exec", hosts[body_host], sys.executable,
                                       os.path.abspath(script), "--inside"], env=env))
        try:
            return inner[0].wait(limit_s + 30)
        except subprocess.TimeoutExpired:
            print("%s: FAILED: the test body ran over %d s" % (name, limit_s + 30))
            return 1
    finally:
        teardown()


def network():
    """Inside: (host namespaces, hub namespace, host addresses, subnet)."""
    hosts = os.environ["EASEL_MH_HOSTS"].split(",")
    subnet = os.environ["EASEL_MH_SUBNET"]
    addrs = ["10.213.%s.%d" % (subnet, i) for i in range(1, len(hosts) + 1)]
    return hosts, os.environ["EASEL_MH_HUB"], addrs, subnet


def link(hub, host_index, up):
    """The cable of host host_index (0-based): its veth on the hub's side,
    so the host sees its carrier go and come back."""
    ip("-n", hub, "link", "set", "v%d" % (host_index + 1), "up" if up else "down")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_for(pred, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise Fail("timed out after %.0f s waiting for %s" % (timeout, what))


class Receiver:
    """Webhook receiver on a host's bridge address: records each POST body."""

    def __init__(self, host):
        self.calls = []
        lock = self.lock = threading.Lock()
        calls = self.calls

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    calls.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = "http://%s:%d/hook" % (host, self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def for_render(self, rid):
        with self.lock:
            return [b for b in self.calls if json.loads(b).get("id") == rid]
