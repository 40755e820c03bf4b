#!/usr/bin/env python3
"""A captured page cannot make the browser reach a private address.

The renderer's rule is pointed at a test range: private networks are refused
(EASEL_ALLOW_PRIVATE_NETWORKS=0) except 127.0.0.1/32, where the test's pages
live. A "secret" server listens on 127.0.0.2, another loopback address, on
the page server's port, and counts every TCP connection it accepts. Each
page tries one escape to it: an HTTP redirect, an iframe, an img, fetch(), a
meta refresh, `location=`, a WebSocket, a name that resolves to it, and a
name that rebinds (its DNS answer alternates between 127.0.0.1 and
127.0.0.2, so the probe and the browser see different addresses). The secret
server must see no connection at all, the renderer must log each refusal
with the address, a redirect or rebinding must fail the capture as
url_not_allowed, and a control page's own subresource must still load.
Capture headers reach the page's own origin only: not a third-party image on
another origin, nor the target of a cross-origin redirect; and once the job
is final no byte of them is left in the data directory.
Before anything runs, URL forms parsers read differently
(`http://127.0.0.1:P\\@example.com/`, userinfo, percent-encoded, full-width
and numeric hosts) answer 422 naming url, and reach nobody.

The names resolve through a DNS server the test runs inside a network
namespace it creates (ip netns, with /etc/netns/<ns>/resolv.conf); without
root or iproute2 the name cases are skipped and the rest runs on the host's
loopback. Bounded: every capture has a 20 s navigation timeout, ctest 240 s."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import sqlite3
import threading
import time
import http.server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Stack, check, free_port, make_png  # noqa: E402
from capture_pages import need_chromium  # noqa: E402

SECRET_IP = "127.0.0.2"


class SecretServer:
    """Counts every connection to SECRET_IP:port; answers anything with SECRET."""

    def __init__(self, port):
        self.hits = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((SECRET_IP, port))
        self.sock.listen(64)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.hits += 1
            try:
                conn.settimeout(1)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nSECRET")
            except OSError:
                pass
            conn.close()


class DnsServer:
    """A DNS server on 127.0.0.1:53 (UDP): page.test is 127.0.0.1, secret.test
    127.0.0.2, rebind.test alternates between them on every A query (TTL 0);
    no AAAA records; anything else NXDOMAIN."""

    def __init__(self):
        self.rebind_answers = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        threading.Thread(target=self.run, daemon=True).start()

    def answer(self, name):
        if name == "page.test":
            return "127.0.0.1"
        if name == "secret.test":
            return SECRET_IP
        if name == "rebind.test":
            ip = "127.0.0.1" if len(self.rebind_answers) % 2 == 0 else SECRET_IP
            self.rebind_answers.append(ip)
            return ip
        return None

    def run(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if len(q) < 17:
                continue
            i, labels = 12, []
            while i < len(q) and q[i] != 0:
                labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
                i += 1 + q[i]
            qtype = q[i + 1:i + 3]
            question = q[12:i + 5]
            name = ".".join(labels).lower()
            known = name in ("page.test", "secret.test", "rebind.test")
            ip = self.answer(name) if known and qtype == b"\x00\x01" else None
            flags = b"\x81\x80" if known else b"\x81\x83"
            answer = b""
            if ip:
                answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04" + socket.inet_aton(ip)
            head = q[:2] + flags + struct.pack(">HHHH", 1, 1 if ip else 0, 0, 0)
            self.sock.sendto(head + question + answer, peer)


def pages_server(port, third=None):
    """The test's pages on 127.0.0.1:port (`third`: another port, another
    origin); `seen` records their paths, `tokens` (path, X-Token)."""
    secret = "http://%s:%d" % (SECRET_IP, port)
    body = "<!doctype html><html><body style='margin:0;background:rgb(224,16,16)'>%s</body></html>"
    pages = {
        "/control": "<img src='/pixel.png' width=20 height=20>",
        "/iframe": "<iframe src='%s/frame'></iframe>" % secret,
        "/img": "<img src='%s/img.png'>" % secret,
        "/fetch": "<script>fetch('%s/fetch').catch(function(){})</script>" % secret,
        "/meta": "<meta http-equiv='refresh' content='0;url=%s/meta'>" % secret,
        "/location": "<script>location.href='%s/location'</script>" % secret,
        "/ws": "<script>try{new WebSocket('ws://%s:%d/ws')}catch(e){}</script>" % (SECRET_IP, port),
        "/worker": "<script>new Worker(URL.createObjectURL(new Blob([\"fetch('%s/worker')\"])))</script>"
                   % secret,
        "/name": "<img src='http://secret.test:%d/name.png'>" % port,
        "/rebind": "".join("<img src='/r%d.png'>" % i for i in range(6)),
        "/slow": "<img src='/own.png'>",
        "/headers": "<img src='/own.png'><img src='http://127.0.0.1:%s/third.png'>" % third,
    }
    png = make_png(20, 20, rgb=(16, 200, 64))
    seen = []
    tokens = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            seen.append(path)
            tokens.append((path, self.headers.get("X-Token")))
            if path == "/slow":         # long enough for the test to checkpoint the database
                time.sleep(2)
            if path == "/hop":
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:%s/hopped" % third)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path == "/redirect":
                self.send_response(302)
                self.send_header("Location", secret + "/redirected")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if path.endswith(".png"):
                data, kind = png, "image/png"
            elif path in pages:
                data, kind = (body % pages[path]).encode(), "text/html"
            else:
                data, kind = b"not here", "text/plain"
            self.send_response(200 if path in pages or path.endswith(".png") else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen, tokens


def body(with_dns):
    need_chromium()
    port = free_port()
    secret = SecretServer(port)
    third_port = free_port()
    _, seen, tokens = pages_server(port, third_port)
    _, third_seen, third_tokens = pages_server(third_port, third_port)
    dns = DnsServer() if with_dns else None
    stack = Stack(renderer_env={"EASEL_ALLOW_PRIVATE_NETWORKS": "0", "EASEL_ALLOW_NETWORKS": "127.0.0.1/32",
                                "EASEL_CAPTURE_TIMEOUT_MS": "20000"}, webhooker=False)
    base = "http://127.0.0.1:%d" % port

    def refusals():
        return stack.log_text("renderer0").count("capture connection refused")

    def capture(url, **extra):
        spec = dict(url=url, device="none", viewport={"width": 400, "height": 300}, delay_ms=800)
        spec.update(extra)
        status, _, job = stack.json("POST", "/v1/capture", spec)
        check(status == 200, "capture of %s answered %d %r" % (url, status, job))
        return job

    def alive():
        status, _, _ = stack.request("GET", "/healthz", auth=False)
        check(status == 200, "the gateway must stay up")

    # ---- the one parser: forms other parsers read differently never run ------
    hostile = [
        "http://127.0.0.1:%d\\@example.com/" % port, "http://127.0.0.1:%d\\\\@example.com/" % port,
        "http://user:pw@127.0.0.1:%d/control" % port, "http://ex%%61mple.com:%d/" % port,
        "http://\uff11\uff12\uff17.0.0.1:%d/" % port, "http://0x7f.1:%d/" % port,
        "http://2130706433:%d/" % port, "http://127.1:%d/" % port, "http://0177.0.0.1:%d/" % port,
        "http://exa\tmple.com/",
    ]
    before = len(seen)
    for url in hostile:
        status, _, err = stack.json("POST", "/v1/capture", {"url": url})
        check(status == 422 and err["error"]["param"] == "url" and err["error"]["code"] == "parameter_invalid",
              "%r answered %d %r" % (url, status, err))
        check(err["error"]["message"].startswith("url "), "the message says what is refused: %r" % err)
    check(len(seen) == before, "a refused URL reached the page server: %r" % seen[before:])
    alive()

    # ---- control: the page's own subresource loads through egress -------------
    job = capture(base + "/control")
    check(job["status"] == "completed", "control capture: %r" % job)
    check("/pixel.png" in seen, "the control page's own image was not loaded: %r" % seen)
    check(refusals() == 0, "nothing was refused yet:\n" + stack.log_text("renderer0")[-2000:])

    # ---- each escape: refused, counted, nobody reached ------------------------
    cases = ["/iframe", "/img", "/fetch", "/meta", "/location", "/ws", "/worker"]
    for path in cases:
        n = refusals()
        job = capture(base + path)
        check(job["status"] == "completed", "%s: the page itself is allowed: %r" % (path, job))
        check(secret.hits == 0, "%s reached the private address (%d connections)" % (path, secret.hits))
        check(refusals() > n, "%s: no refusal was logged:\n%s" % (path, stack.log_text("renderer0")[-2000:]))
        check(SECRET_IP in stack.log_text("renderer0"), "the refusal names the address")
        alive()

    n = refusals()
    job = capture(base + "/redirect")
    check(job["status"] == "failed" and "private address" in job["error"] and SECRET_IP in job["error"],
          "a redirect to a private address fails the capture naming it: %r" % job)
    check(secret.hits == 0 and refusals() > n, "the redirect reached the private address")
    alive()

    if dns:
        n = refusals()
        job = capture(base + "/name")
        check(job["status"] == "completed", "/name: %r" % job)
        check(secret.hits == 0 and refusals() > n, "a name resolving to a private address got through")
        check("secret.test" in stack.log_text("renderer0"), "the refusal names the host")
        # rebinding: the probe sees 127.0.0.1, the browser's connection is checked again
        for attempt in range(2):
            job = capture("http://rebind.test:%d/rebind" % port)
            check(secret.hits == 0, "rebinding reached the private address: %r" % job)
        check(SECRET_IP in dns.rebind_answers, "the DNS server never answered the private address: %r"
              % dns.rebind_answers)
        check("rebind.test" in stack.log_text("renderer0"), "no refusal for rebind.test was logged")
        alive()
    else:
        print("adv_capture_egress: name and rebinding cases skipped (no network namespace)")

    # ---- capture headers: the page's own origin only, gone when the job ends --
    token = "sesame-%s" % os.urandom(8).hex()
    job = capture(base + "/headers", headers={"X-Token": token})
    check(job["status"] == "completed", "/headers: %r" % job)
    check(("/own.png", token) in tokens and ("/headers", token) in tokens,
          "the page's own requests lack the header: %r" % tokens[-4:])
    check("/third.png" in third_seen, "the third-party image was not loaded: %r" % third_seen)
    check(all(t is None for p, t in third_tokens), "a third-party origin got the header: %r" % third_tokens)
    # a checkpoint while the task is leased puts its spec (and the header) in
    # the database file itself: once the job is final it must be overwritten
    done = {}
    waiter = threading.Thread(target=lambda: done.update(job=capture(base + "/slow", headers={"X-Token": token})))
    waiter.start()
    time.sleep(1.2)
    db = sqlite3.connect(os.path.join(stack.data, "easel.db"), timeout=10)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    waiter.join(60)
    with open(os.path.join(stack.data, "easel.db"), "rb") as fh:
        in_file = token.encode() in fh.read()
    check(in_file, "the leased task's spec was not in the database file after the checkpoint")
    check(done.get("job", {}).get("status") == "completed", "/slow: %r" % done)
    job = capture(base + "/hop", headers={"X-Token": token})
    check("/hopped" in third_seen and all(t is None for p, t in third_tokens),
          "a cross-origin redirect carried the header: %r %r" % (job, third_tokens))
    for name in ("gateway", "scheduler", "renderer0"):
        check(token not in stack.log_text(name), "a header value was logged by %s" % name)
    for proc in stack.procs.values():   # the scheduler checkpoints and closes its database
        proc.send_signal(signal.SIGTERM)
    for proc in stack.procs.values():
        proc.wait(timeout=10)
    stack.procs.clear()
    for root, _, files in os.walk(stack.data):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                check(token.encode() not in fh.read(), "the header value is still in %s" % f)

    check(secret.hits == 0, "the private address was reached %d times" % secret.hits)
    print("adv_capture_egress: passed (%d refusals logged)" % refusals())
    return 0


def main():
    if "--inside" in sys.argv:
        return body(with_dns=True)
    if os.geteuid() != 0 or not shutil.which("ip"):
        return body(with_dns=False)
    ns = "easel-egress-%d" % os.getpid()
    etc = "/etc/netns/" + ns
    made = subprocess.run(["ip", "netns", "add", ns], capture_output=True)
    if made.returncode != 0:
        print("adv_capture_egress: no network namespace (%s)" % made.stderr.decode().strip())
        return body(with_dns=False)
    inner = None
    try:
        os.makedirs(etc, exist_ok=True)
        with open(etc + "/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        with open(etc + "/hosts", "w") as f:
            f.write("127.0.0.1 localhost\n")
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        inner = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                                  "--inside"])
        signal.signal(signal.SIGTERM, lambda *_: (inner.terminate(), sys.exit(1)))
        return inner.wait(210)
    except subprocess.TimeoutExpired:
        print("adv_capture_egress: FAILED: the body ran over 210 s")
        return 1
    finally:
        if inner and inner.poll() is None:
            inner.kill()
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True).stdout.decode().split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(etc, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
