"""Shared helpers of the benchmark drivers in bench/ (Python standard library only).

Every driver: finds the binaries in EASEL_BIN_DIR (default build-bench/bin beside
this folder), runs its measurement --runs times (default 3; the machine is
shared, so single runs are noisy), prints each run and the medians as JSON, and
stops every process it started, pass or fail.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.environ.get("EASEL_BIN_DIR", os.path.join(ROOT, "build-bench", "bin"))
os.environ["EASEL_BIN_DIR"] = BIN
# the gateway's per-account rate limits would turn a throughput run into a
# count of 429s: benchmarks measure with them off unless the caller sets them
for _limit in ("EASEL_RATE_LIMIT", "EASEL_CREATE_RATE_LIMIT", "EASEL_WEBHOOK_TEST_RATE_LIMIT",
               "EASEL_AUTH_FAIL_RATE_LIMIT"):
    os.environ.setdefault(_limit, "0")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "pg"))
BACKENDS = ("sqlite", "pg")


def median(values):
    return statistics.median(values) if values else float("nan")


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def run_measured(argv, env=None, timeout=120, stdout=subprocess.DEVNULL):
    """Runs argv to completion; returns (exit code, wall s, CPU s of the process
    tree it waited for, peak RSS KB of the largest process, stdout bytes)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=stdout, stderr=subprocess.PIPE)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        time.sleep(0.002)
    wall = time.monotonic() - t0
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
    return proc.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, out


def proc_rss_kb(pid):
    """(current RSS, peak RSS) in KB of a running process, from /proc."""
    cur = peak = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
    except OSError:
        pass
    return cur, peak


def report(name, runs, medians):
    print(json.dumps({"benchmark": name, "runs": runs, "median": medians}, indent=1, sort_keys=True))


def need(path_or_cmd):
    if os.path.sep in path_or_cmd:
        ok = os.access(path_or_cmd, os.X_OK)
    else:
        ok = any(os.access(os.path.join(d, path_or_cmd), os.X_OK)
                 for d in os.environ.get("PATH", "").split(os.pathsep))
    if not ok:
        sys.exit("bench: %s is missing: build with -DEASEL_BENCH=ON into %s and run bench/setup.sh"
                 % (path_or_cmd, BIN))


def add_backend_arg(ap):
    ap.add_argument("--backend", default=",".join(BACKENDS),
                    help="the state backends to measure, in one run: sqlite, pg or both (sqlite,pg)")


def parse_backends(spec):
    names = [n.strip() for n in spec.split(",") if n.strip()]
    bad = [n for n in names if n not in BACKENDS]
    if bad or not names or len(set(names)) != len(names):
        sys.exit("bench: --backend takes a comma list of %s, each once; got %r" % (", ".join(BACKENDS), spec))
    return names


def loadavg():
    """The 1-minute load average (the machine is shared: printed beside each run)."""
    return round(os.getloadavg()[0], 2)


class Backends:
    """The state backends of one driver's run: SQLite (a file under each
    stack's data dir, WAL, synchronous=FULL) and PostgreSQL 15 (one server
    for the whole driver, tests/pg/pgserver.py with durable=True: fsync and
    synchronous_commit on; a fresh database for every stack)."""

    def __init__(self, spec):
        import atexit
        self.names = parse_backends(spec)
        self.pg = None
        self.n = 0
        if "pg" in self.names:
            import pgserver
            if not pgserver.PgServer.available():
                sys.exit("bench: --backend pg needs PostgreSQL 15 in %s (Debian package postgresql)"
                         % pgserver.PG_BIN)
            self.pg = pgserver.PgServer(durable=True, max_connections=100).start()
            atexit.register(self.close)

    def fresh(self, name):
        """A new, empty database of backend name."""
        self.n += 1
        return Database(self, name, "bench_%d" % self.n)

    def close(self):
        if self.pg:
            self.pg.stop()
            self.pg = None


class Database:
    """One stack's state: env (what to set for the services and the CLI) and
    rows(sql, data_dir) to read it afterwards."""

    def __init__(self, backends, name, db):
        self.name = name
        self.backends = backends
        self.db = db
        if name == "pg":
            backends.pg.create_database(db)
            self.env = {"EASEL_DATABASE_URL": backends.pg.url(db)}
        else:
            self.env = {}

    def apply(self, env):
        """env with this backend's settings (and no other's)."""
        env = dict(env)
        env.pop("EASEL_DATABASE_URL", None)
        env.update(self.env)
        return env

    def rows(self, sql, data_dir):
        """Rows of one query (values as Python ints where they are integers)."""
        if self.name == "pg":
            out = self.backends.pg.query(self.db, sql)
            return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in row) for row in out]
        import sqlite3
        db = sqlite3.connect(os.path.join(data_dir, "easel.db"))
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def pids(self):
        """The PostgreSQL server's processes (its CPU belongs to the run), else []."""
        if self.name != "pg":
            return []
        out = subprocess.run(["pgrep", "-P", str(self.backends.pg.pid)], capture_output=True)
        return [self.backends.pg.pid] + [int(p) for p in out.stdout.split()]


def sql_quote(text):
    return "'" + str(text).replace("'", "''") + "'"


def stack(database, env=None, metrics_port=None, **kw):
    """harness.Stack with database's backend and env in its environment; with
    metrics_port, the services it starts now serve /metrics there (later
    ones, and its CLI calls, do not: the port is taken)."""
    import harness
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(database.apply(saved))
    os.environ.update(env or {})
    if metrics_port:
        os.environ["EASEL_METRICS_LISTEN"] = "127.0.0.1:%d" % metrics_port
    try:
        s = harness.Stack(**kw)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if metrics_port:
        s.env.pop("EASEL_METRICS_LISTEN", None)
    return s


def cpu_s(pids):
    """User + system CPU seconds of running processes, from /proc."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


class Scheduler:
    """easel-scheduler alone on ephemeral loopback ports over a temporary data
    dir, with one account's API key; its state in database (Backends.fresh;
    None: SQLite, WAL, synchronous=FULL as always)."""

    def __init__(self, database=None):
        import atexit
        import shutil
        import tempfile
        import harness
        self.dir = tempfile.mkdtemp(prefix="easel-bench-")
        self.data = os.path.join(self.dir, "data")
        self.api = "tcp://127.0.0.1:%d" % harness.free_port()
        self.work = "tcp://127.0.0.1:%d" % harness.free_port()
        self.events = "tcp://127.0.0.1:%d" % harness.free_port()
        self.env = dict(os.environ, EASEL_API_ENDPOINT=self.api, EASEL_WORK_ENDPOINT=self.work,
                        EASEL_EVENTS_ENDPOINT=self.events, EASEL_DATA=self.data)
        if database:
            self.env = database.apply(self.env)
        out = subprocess.run([os.path.join(BIN, "easel"), "keys", "create", "--name", "bench",
                              "--json", "--data", self.data], env=self.env, capture_output=True,
                             timeout=30, check=True)
        self.key = json.loads(out.stdout)["api_key"]
        self.log = open(os.path.join(self.dir, "scheduler.log"), "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, "easel-scheduler")], env=self.env,
                                     stdout=self.log, stderr=self.log)
        self._rmtree = shutil.rmtree
        atexit.register(self.close)
        time.sleep(0.3)

    def db(self):
        return os.path.join(self.data, "easel.db")

    def stop(self):
        """Stops the scheduler, keeping the data dir (to count its db)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()

    def close(self):
        self.stop()
        if os.environ.get("EASEL_BENCH_KEEP"):
            print("kept " + self.dir, file=sys.stderr)
        else:
            self._rmtree(self.dir, ignore_errors=True)


def make_shot(directory):
    """Writes the benchmark's 1179x2556 screenshot (bench_render --make-shot); returns its path."""
    path = os.path.join(directory, "shot.png")
    if subprocess.run([os.path.join(BIN, "bench_render"), "--make-shot", path]).returncode:
        sys.exit("bench_render --make-shot failed")
    return path


class FileServer:
    """Serves one file's bytes at every GET path on loopback (a screenshot host)."""

    def __init__(self, path, ctype="image/png"):
        import http.server
        import threading
        with open(path, "rb") as f:
            body = f.read()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path="/shot.png"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def slide(shot_url, n=0):
    return {"headline": {"lines": ["Track every habit", "in one calm place %d" % n]},
            "screenshot": {"url": shot_url}, "device": "iphone"}


def render_body(slides, locales=None, async_=True, webhook_url=None, canvas=None):
    body = {"canvas": canvas or {"preset": "appstore.iphone_6_9"},
            "background": {"preset": "midnight"}, "slides": slides}
    if async_:
        body["async"] = True
    if locales:
        body["matrix"] = {"locales": locales}
    if webhook_url:
        body["webhook_url"] = webhook_url
    return body


def wait_done(stack, rid, timeout=110):
    """Polls GET /v1/renders/{id}?wait= until the render leaves processing."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, _, r = stack.json("GET", "/v1/renders/%s?wait=10" % rid)
        if status != 200:
            sys.exit("GET render answered %d: %r" % (status, r))
        if r["status"] != "processing":
            return r
    sys.exit("render %s still processing after %ds" % (rid, timeout))


class HookSink:
    """Webhook receiver on loopback: records (receipt time, body) of every POST
    and answers 200 in ONE write with TCP_NODELAY. (A handler that writes the
    status line, headers and body separately meets delayed ACK: ~40 ms per
    answer, which holds the webhooker's per-host slots and shows up as
    latency that is the receiver's, not Easel's.)"""

    def __init__(self):
        import http.server
        import socket
        import threading
        self.calls = []
        self.lock = threading.Lock()
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                at = time.time()
                with sink.lock:
                    sink.calls.append({"at": at, "body": body})
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def snapshot(self):
        with self.lock:
            return list(self.calls)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
