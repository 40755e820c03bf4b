"""Whole-stack test harness: starts Easel's real services on loopback with
ephemeral ports and a temporary data dir, serves screenshots and receives
webhooks over real HTTP, and tears every process down at exit, pass or fail.

Only the Python standard library is used, so the checks (PNG headers, HMAC
signatures) are computed independently of Easel's own C code.
"""
import atexit
import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib

BIN = os.environ.get("EASEL_BIN_DIR", os.path.join(os.getcwd(), "bin"))


_failed = []


def fail(msg):
    """Ends the test. Every Stack still open then prints, as it closes, which
    of its services had exited and the end of each log (a sanitizer's report
    or a crash is there, and CI keeps nothing else)."""
    print("FAIL: " + msg, file=sys.stderr)
    _failed.append(msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


_ports_given = set()


def free_port():
    """An unused loopback port, never the same one twice in this process (the
    kernel may hand a just-closed port out again, and a stack asks for four)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    fail("timed out after %.0fs waiting for %s" % (timeout, what))


# ---- images ---------------------------------------------------------------

def make_png(width, height, rgb=(40, 120, 200)):
    """An RGB PNG made here, not by Easel: a flat colour with a stripe."""
    rows = []
    for y in range(height):
        colour = rgb if (y // 16) % 2 == 0 else (250, 250, 250)
        rows.append(b"\x00" + bytes(colour) * width)
    raw = b"".join(rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def png_header(data):
    """(width, height, bit depth, colour type) from a PNG's IHDR."""
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature: %r" % data[:8])
    check(data[12:16] == b"IHDR", "first chunk is not IHDR")
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    return w, h, depth, ctype


# ---- HTTP servers inside the test ------------------------------------------

class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


class ShotServer:
    """Serves /shot.png (a real PNG), /missing (404), /text (not an image)."""

    def __init__(self):
        self.png = make_png(393, 852)
        server = self

        class Handler(_Quiet):
            def do_GET(self):
                if self.path.startswith("/shot"):
                    body, ctype, code = server.png, "image/png", 200
                elif self.path.startswith("/text"):
                    body, ctype, code = b"<html>hello, not an image</html>", "text/html", 200
                else:
                    body, ctype, code = b"not found", "text/plain", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


class HookReceiver:
    """Records every POST (headers and raw body) and answers 200.

    responder, when given, decides each answer: responder(n, path) with n the
    0-based number of the call returns (status, extra headers dict, delay in
    seconds before answering, body bytes). `inflight`/`max_inflight` count
    requests being answered at once (for concurrency caps)."""

    def __init__(self, status=200, responder=None):
        self.calls = []
        self.lock = threading.Lock()
        self.status = status
        self.responder = responder
        self.inflight = 0
        self.max_inflight = 0
        receiver = self

        class Handler(_Quiet):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with receiver.lock:
                    index = len(receiver.calls)
                    receiver.calls.append({"path": self.path, "headers": dict(self.headers.items()),
                                           "body": body, "at": time.time()})
                    receiver.inflight += 1
                    receiver.max_inflight = max(receiver.max_inflight, receiver.inflight)
                status, extra, delay, reply = receiver.status, {}, 0, b"ok"
                if receiver.responder:
                    status, extra, delay, reply = receiver.responder(index, self.path)
                try:
                    if delay:
                        time.sleep(delay)
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass            # the webhooker gave up on us (timeout)
                finally:
                    with receiver.lock:
                        receiver.inflight -= 1

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def snapshot(self):
        with self.lock:
            return list(self.calls)


def parse_time(text):
    """Unix seconds of an event time: ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ", or a
    job object's "YYYY-MM-DD HH:MM:SS" (UTC, no zone)."""
    import calendar
    fmt = "%Y-%m-%d %H:%M:%S" if " " in text else "%Y-%m-%dT%H:%M:%SZ"
    return calendar.timegm(time.strptime(text, fmt))


def check_envelope(payload, obj, kind, event_type=None):
    """The event envelope of a webhook payload (docs/webhooks.md): id and
    object name the render or job obj (as GET returns it), occurred_at is ISO
    8601 UTC with Z and not before the object was created, no webhook_status
    snapshot; a job's payload keeps job_id = id and has an ISO completed_at."""
    check(payload.get("id") == obj["id"] and payload.get("object") == kind,
          "envelope id/object %r %r, expected %r %r"
          % (payload.get("id"), payload.get("object"), obj["id"], kind))
    if event_type:
        check(payload.get("type") == event_type, "type %r, expected %r" % (payload.get("type"), event_type))
    occurred = payload.get("occurred_at", "")
    check(len(occurred) == 20 and occurred.endswith("Z"), "occurred_at is not ISO 8601 UTC: %r" % occurred)
    check(parse_time(occurred) >= parse_time(obj["created_at"]),
          "occurred_at %s before the object was created (%s)" % (occurred, obj["created_at"]))
    check("webhook_status" not in payload, "a payload carries no webhook_status: %r" % payload)
    check(payload["event_id"].startswith("evt_"), "event_id %r" % payload.get("event_id"))
    if kind == "job":
        check(payload.get("job_id") == obj["id"], "job_id %r vs id %r" % (payload.get("job_id"), obj["id"]))
        completed = payload.get("completed_at", "")
        check(completed.endswith("Z") and parse_time(completed) <= parse_time(occurred),
              "job completed_at %r (occurred_at %r)" % (completed, occurred))
        # the seed's created_at (event time, no zone) is kept and agrees with occurred_at
        check(parse_time(payload["created_at"]) == parse_time(occurred),
              "created_at %r vs occurred_at %r" % (payload.get("created_at"), occurred))
    else:
        check(payload["created_at"] == obj["created_at"], "a render event keeps the render's created_at")


def verify_asa_signature(secret, header, body, tolerance=300):
    """Independent check of X-ASA-Signature: t=<unix>,v1=<hex HMAC-SHA256>."""
    pairs = [p.split("=", 1) for p in header.split(",")]
    parts = dict(pairs)
    t = int(parts["t"])
    check(abs(time.time() - t) <= tolerance, "signature timestamp %d is stale" % t)
    expected = hmac.new(secret.encode(), ("%d." % t).encode() + body, hashlib.sha256).hexdigest()
    # several v1= entries during a secret rotation: any one may match
    return any(hmac.compare_digest(expected, v) for k, v in pairs if k == "v1")


def verify_standard_signature(secret, headers, body):
    key = base64.b64decode(secret[len("whsec_"):])
    msg = ("%s.%s." % (headers["webhook-id"], headers["webhook-timestamp"])).encode() + body
    expected = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    sigs = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ")]
    return expected in sigs


# ---- the stack --------------------------------------------------------------

class Stack:
    """Easel's services on ephemeral loopback ports over one temporary data dir."""

    def __init__(self, renderers=1, renderer_env=None, webhooker=True, schedule="1,1,1"):
        self.dir = tempfile.mkdtemp(prefix="easel-it-")
        self.data = os.path.join(self.dir, "data")
        self.http_port = free_port()
        self.api = "tcp://127.0.0.1:%d" % free_port()
        self.work = "tcp://127.0.0.1:%d" % free_port()
        self.events = "tcp://127.0.0.1:%d" % free_port()
        self.base = "http://127.0.0.1:%d" % self.http_port
        self.env = dict(os.environ, EASEL_ALLOW_PRIVATE_NETWORKS="1",
                        EASEL_API_ENDPOINT=self.api, EASEL_WORK_ENDPOINT=self.work,
                        EASEL_EVENTS_ENDPOINT=self.events, EASEL_DATA=self.data,
                        EASEL_PUBLIC_URL=self.base, EASEL_WEBHOOK_SCHEDULE=schedule,
                        EASEL_WEBHOOK_MIN_RETRY_MS="1000")
        # the gateway's rate limits are off unless a test sets them:
        # tests/adversarial/adv_requests.py is where they are tried
        for limit in ("EASEL_RATE_LIMIT", "EASEL_CREATE_RATE_LIMIT",
                      "EASEL_WEBHOOK_TEST_RATE_LIMIT", "EASEL_AUTH_FAIL_RATE_LIMIT"):
            self.env.setdefault(limit, "0")
        self.procs = {}
        self.logs = {}
        atexit.register(self.close)
        key = self.cli("keys", "create", "--name", "it", "--json")
        info = json.loads(key)
        self.key = info["api_key"]
        self.secret = info["webhook_secret"]
        self.account = info.get("account_id")
        self.start("scheduler")
        self.start("gateway", "--listen", "127.0.0.1:%d" % self.http_port)
        if webhooker:
            self.start("webhooker")
        for i in range(renderers):
            self.start_renderer(i, renderer_env)
        self.wait_ready(renderers)

    def cli(self, *args):
        out = subprocess.run([os.path.join(BIN, "easel")] + list(args) + ["--data", self.data],
                             env=self.env, capture_output=True, timeout=30)
        check(out.returncode == 0, "easel %s failed: %s" % (" ".join(args), out.stderr.decode()))
        return out.stdout.decode()

    def start(self, name, *args, env=None, service=None):
        service = service or name
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        self.logs[name] = os.path.join(self.dir, name + ".log")
        self.procs[name] = subprocess.Popen([os.path.join(BIN, "easel-" + service)] + list(args),
                                            env=dict(self.env, **(env or {})),
                                            stdout=log, stderr=log)
        return self.procs[name]

    def start_renderer(self, i, env=None):
        return self.start("renderer%d" % i, "--slots", "1", env=env, service="renderer")

    def kill(self, name, sig=signal.SIGKILL):
        proc = self.procs.pop(name)
        proc.send_signal(sig)
        proc.wait(timeout=10)

    def log_text(self, name):
        with open(self.logs[name], "rb") as f:
            return f.read().decode(errors="replace")

    def wait_ready(self, renderers):
        def ready():
            if renderers == 0:
                status, _, _ = self.request("GET", "/healthz", auth=False)
                return status == 200
            status, _, body = self.request("GET", "/readyz", auth=False)
            return status == 200 and json.loads(body).get("renderers", 0) >= renderers
        deadline = time.time() + 60
        while time.time() < deadline:
            if ready():
                return
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                fail("%s exited while the stack started:\n%s" % (dead, self.log_tails()))
            time.sleep(0.05)
        fail("timed out after 60s waiting for the stack to be ready:\n" + self.log_tails())

    def log_tails(self, size=1500):
        """The end of every service's log, for a failure message."""
        out = []
        for name in sorted(self.logs):
            out.append("--- %s\n%s" % (name, self.log_text(name)[-size:]))
        return "\n".join(out)

    def request(self, method, path, body=None, auth=True, headers=None, raw=None, timeout=90):
        hdrs = {}
        if auth:
            hdrs["Authorization"] = "Bearer " + (auth if isinstance(auth, str) else self.key)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()
        except (ConnectionError, urllib.error.URLError, socket.timeout):
            return 0, {}, b""

    def json(self, method, path, body=None, **kw):
        status, headers, raw = self.request(method, path, body, **kw)
        try:
            return status, headers, json.loads(raw) if raw else None
        except ValueError:
            fail("%s %s answered %d with non-JSON body %r" % (method, path, status, raw[:200]))

    def wait_render(self, rid, timeout=60):
        def done():
            status, _, render = self.json("GET", "/v1/renders/" + rid)
            check(status == 200, "GET render answered %d: %r" % (status, render))
            return render if render["status"] != "processing" else None
        return wait_for(done, timeout, "render %s to finish" % rid, interval=0.1)

    def close(self):
        if _failed and self.procs:
            dead = ["%s (exit %d)" % (n, p.returncode) for n, p in sorted(self.procs.items())
                    if p.poll() is not None]
            print("services exited before the end: %s\n%s"
                  % (", ".join(dead) or "none", self.log_tails(3000)), file=sys.stderr)
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in list(self.procs.items()):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        if os.environ.get("EASEL_IT_KEEP"):
            print("kept " + self.dir, file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def slide(shot_url=None, data=None, lines=("Track every habit",)):
    s = {"headline": {"lines": list(lines)}, "device": "iphone"}
    if shot_url:
        s["screenshot"] = {"url": shot_url}
    if data:
        s["screenshot"] = {"data": base64.b64encode(data).decode()}
    return s


class TwoTenants:
    """The fixture of the fair-sharing tests: stack's first account (A) with
    a 40-image matrix body (10 locales x 2 presets x 2 slides, every slide
    the same inline screenshot) and a second account, B (key_b), with a
    one-image body for the same preset."""

    LOCALES = ["en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "ko-KR", "pt-BR", "nl-NL", "sv-SE"]

    def __init__(self, stack):
        other = json.loads(stack.cli("keys", "create", "--name", "tenant-b", "--json"))
        self.key_b = other["api_key"]
        shot = make_png(600, 1200)
        presets = ["appstore.iphone_6_9", "play.phone"]
        self.big = {"async": True, "canvas": {"preset": presets[0]},
                    "matrix": {"locales": self.LOCALES, "presets": presets},
                    "slides": [slide(data=shot), slide(data=shot, lines=("Second",))]}
        self.total_a = len(self.LOCALES) * len(presets) * 2
        self.small = {"async": True, "canvas": {"preset": presets[0]}, "slides": [slide(data=shot)]}
