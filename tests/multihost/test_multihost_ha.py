"""Multi-host failover test: Easel scaled out across seven network namespaces
(netns.py builds them), state on PostgreSQL, images on S3, over CURVE.

  h1 10.213.N.1  PostgreSQL 15 (tests/pg/run.sh --listen, pg_hba trusts the subnet)
  h2 10.213.N.2  the S3 protocol server (tests/s3/start.js --address)
  h3 10.213.N.3  scheduler A (active first)
  h4 10.213.N.4  scheduler B (--standby)
  h5 10.213.N.5  gateway (HTTP on 127.0.0.1 inside h5), webhooker, the webhook
                 receiver (on 10.213.N.5) and this test's client
  h6, h7         a renderer each (they GET inputs and PUT results on S3 with
                 the URLs the active scheduler presigns)

Both schedulers have their own data dir, one database and one bucket; the
database's lease is the arbiter, and its URL carries libpq's TCP timeouts
(docs/operations.md, "A cut link"). A 40-image matrix with a webhook runs;
part-way, A is killed with SIGKILL and B takes over; A is restarted as a
standby (as its supervisor would); then B's link is cut for 5 s. A takes
the lease back, and B, its link back, finds its next commit refused, exits
with status 3. Then: every image is done and comes through the gateway as a
302 to a presigned GET that this host follows to the bucket (bytes and
sha256 checked; no result byte crossed the bus), the account is charged
40 credits once, the receiver gets
one callback of one render.succeeded event, and the database shows that no
scheduler committed anything after another took the lease from it (every
row written is recorded by a test trigger with the writer's
application_name, in the writer's own transaction).

Needs root, iproute2, PostgreSQL 15 and node; otherwise exits 77 with the
reason. Bounded: the body has 100 s, ctest 180 s. """
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from netns import SKIP, Fail, Receiver, check, link, network, outer, wait_for  # noqa: E402

BIN = os.environ.get("EASEL_BIN_DIR", os.path.join(os.getcwd(), "bin"))
TESTS = os.path.dirname(HERE)
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
BODY_LIMIT_S = 100
NAME = "multihost_ha"
KEY, SECRET, BUCKET = "ha-key", "ha-secret-4242", "easel-ha"
# libpq's own parameters: a call on a cut link fails in seconds
LIBPQ_TCP = ("tcp_user_timeout=5000&keepalives=1&keepalives_idle=5&keepalives_interval=2"
             "&keepalives_count=2")

# Every row any session writes, recorded in the writer's transaction (so only
# if it commits) with its application_name; for the lease row, the token.
AUDIT_SQL = r"""
CREATE TABLE easel_test_audit (seq BIGSERIAL PRIMARY KEY, app TEXT NOT NULL, tbl TEXT NOT NULL,
                               token BIGINT);
CREATE FUNCTION easel_test_audit () RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE tok BIGINT;
BEGIN
  IF TG_TABLE_NAME = 'scheduler_lease' AND TG_OP <> 'DELETE' THEN
    tok := (to_jsonb (NEW) ->> 'token')::bigint;
  END IF;
  INSERT INTO easel_test_audit (app, tbl, token)
    VALUES (current_setting ('application_name'), TG_TABLE_NAME, tok);
  RETURN NULL;
END $$;
DO $$ DECLARE t TEXT;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables
           WHERE schemaname = current_schema () AND tablename <> 'easel_test_audit' LOOP
    EXECUTE format ('CREATE TRIGGER easel_test_audit AFTER INSERT OR UPDATE OR DELETE ON %I'
                    ' FOR EACH ROW EXECUTE FUNCTION easel_test_audit ()', t);
  END LOOP;
END $$;
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def inside():
    sys.path.insert(0, os.path.join(TESTS, "integration"))
    from harness import make_png, free_port

    hosts, hub, addr, subnet = network()
    work = tempfile.mkdtemp(prefix="easel-mhha-")
    certs = os.path.join(work, "certs")
    allowed = os.path.join(certs, "allowed")
    os.makedirs(allowed)
    procs, logs = {}, {}
    servers = {}
    started = time.time()

    def on_term(*_):
        raise Fail("terminated from outside")
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(BODY_LIMIT_S)
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Fail("over %d s" % BODY_LIMIT_S)))

    def note(msg):
        print("%s: %5.1f s %s" % (NAME, time.time() - started, msg), flush=True)

    def log_text(name):
        with open(logs[name], "rb") as f:
            return f.read().decode(errors="replace")

    def server(name, ns, argv):
        """A server that prints one line once it serves and stops when its
        stdin closes; that line."""
        log = open(os.path.join(work, name + ".log"), "ab")
        logs[name] = log.name
        proc = servers[name] = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=log)
        line = proc.stdout.readline().decode().strip()
        if not line:
            raise Fail("%s did not start (exit %r): %s" % (name, proc.wait(10), log_text(name)[-800:]))
        return line

    try:
        # ---- PostgreSQL on h1, S3 on h2 -------------------------------------------
        pg_url = server("postgresql", hosts[0], [
            "bash", os.path.join(TESTS, "pg", "run.sh"), "--listen", addr[0],
            "--hba", "host all all 10.213.%s.0/24 trust" % subnet,
            "sh", "-c", 'echo "$EASEL_DATABASE_URL"; exec cat >/dev/null'])
        check(pg_url.startswith("postgresql://easel@%s:" % addr[0]), "the database's URL: %r" % pg_url)

        def db_url(app):
            return "%s?application_name=%s&%s" % (pg_url, app, LIBPQ_TCP)

        s3_port = json.loads(server("s3", hosts[1], [
            "node", "--openssl-legacy-provider", os.path.join(TESTS, "s3", "start.js"),
            "--address", addr[1], "--dir", os.path.join(work, "bucket"), "--bucket", BUCKET,
            "--access-key", KEY, "--secret-key", SECRET]))["port"]
        s3_endpoint = "http://%s:%d" % (addr[1], s3_port)
        note("PostgreSQL at %s, S3 at %s" % (pg_url, s3_endpoint))

        def easel(*args, env=None):
            out = subprocess.run([os.path.join(BIN, "easel")] + list(args), capture_output=True, timeout=30,
                                 env=dict(os.environ, **(env or {})))
            check(out.returncode == 0, "easel %s: %s" % (" ".join(args), out.stderr.decode()))
            return out.stdout.decode()

        def psql(sql):
            out = subprocess.run([os.path.join(PG_BIN, "psql"), db_url("easel-test"), "-X", "-q", "-A", "-t",
                                  "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, timeout=30)
            check(out.returncode == 0, "psql: %s" % out.stderr.decode())
            return out.stdout.decode().strip()

        for name in ("scheduler", "gateway", "webhooker", "renderer_1", "renderer_2"):
            easel("certs", "create", name, "--dir", certs)
            if name != "scheduler":
                shutil.copy(os.path.join(certs, name), os.path.join(allowed, name))
        # the CLI migrates the schema; then every table gets the audit trigger
        info = json.loads(easel("keys", "create", "--name", "ha", "--credits", "1000", "--json",
                                "--data", os.path.join(work, "cli-data"),
                                env={"EASEL_DATABASE_URL": db_url("easel-cli")}))
        key = info["api_key"]
        psql(AUDIT_SQL)

        http_port = free_port()
        base = "http://127.0.0.1:%d" % http_port
        for k in ("EASEL_CURVE_CERT", "EASEL_CURVE_SERVER_KEY", "EASEL_CURVE_ALLOWED_DIR", "EASEL_BUS_PLAIN",
                  "EASEL_DATABASE_URL", "EASEL_BLOB_URL"):
            os.environ.pop(k, None)
        sched_addr = {"a": addr[2], "b": addr[3]}
        sched_ns = {"a": hosts[2], "b": hosts[3]}
        lists = {var: ",".join("tcp://%s:%d" % (sched_addr[s], port) for s in ("a", "b"))
                 for var, port in (("EASEL_API_ENDPOINT", 5555), ("EASEL_WORK_ENDPOINT", 5556),
                                   ("EASEL_EVENTS_ENDPOINT", 5557))}

        def start(name, ns, service, env, *args):
            log = open(os.path.join(work, name + ".log"), "ab")
            logs[name] = log.name
            procs[name] = subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(BIN, "easel-" + service)]
                                           + list(args), env=dict(os.environ, **env), stdout=log, stderr=log)

        def start_scheduler(name, host, *args):
            a = sched_addr[host]
            start(name, sched_ns[host], "scheduler", {
                "EASEL_API_ENDPOINT": "tcp://%s:5555" % a, "EASEL_WORK_ENDPOINT": "tcp://%s:5556" % a,
                "EASEL_EVENTS_ENDPOINT": "tcp://%s:5557" % a,
                "EASEL_DATA": os.path.join(work, "data-" + host),          # its own "disk"
                "EASEL_DATABASE_URL": db_url("easel-" + name),
                "EASEL_BLOB_URL": "s3://%s/ha?endpoint=%s&region=us-east-1&path_style=1"
                                  % (BUCKET, s3_endpoint),
                "EASEL_S3_ACCESS_KEY": KEY, "EASEL_S3_SECRET_KEY": SECRET,
                "EASEL_PUBLIC_URL": base, "EASEL_ALLOW_PRIVATE_NETWORKS": "1",
                "EASEL_CURVE_CERT": os.path.join(certs, "scheduler_secret"),
                "EASEL_CURVE_ALLOWED_DIR": allowed, "EASEL_METRICS_LISTEN": "%s:9100" % a}, *args)

        def token_of(name):
            for line in log_text(name).splitlines():
                if "holding the database's lease" in line:
                    return int(json.loads(line)["token"])
            return None

        def client(name):
            return dict(lists, EASEL_CURVE_CERT=os.path.join(certs, name + "_secret"),
                        EASEL_CURVE_SERVER_KEY=os.path.join(certs, "scheduler"),
                        EASEL_ALLOW_PRIVATE_NETWORKS="1")

        start_scheduler("a", "a")
        wait_for(lambda: token_of("a"), 20, "scheduler A to hold the database's lease")
        start_scheduler("b", "b", "--standby")
        wait_for(lambda: "waiting for the database's lease" in log_text("b"), 20,
                 "scheduler B to wait for the lease")
        start("gateway", hosts[4], "gateway", dict(client("gateway"), EASEL_PUBLIC_URL=base),
              "--listen", "127.0.0.1:%d" % http_port)
        start("webhooker", hosts[4], "webhooker", dict(client("webhooker"), EASEL_WEBHOOK_SCHEDULE="1,1,1",
                                                       EASEL_WEBHOOK_MIN_RETRY_MS="1000"))
        for i in (1, 2):
            start("renderer_%d" % i, hosts[4 + i], "renderer",
                  dict(client("renderer_%d" % i), EASEL_RENDERER_TEST_DELAY_MS="1200"), "--slots", "2")

        def request(method, path, body=None, timeout=30):
            data = json.dumps(body).encode() if body is not None else None
            req = urllib.request.Request(base + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + key,
                                                  "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return resp.status, json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")
            except OSError:
                return 0, None

        def ready():
            status, body = request("GET", "/readyz")
            return status == 200 and body.get("renderers", 0) >= 2
        wait_for(ready, 30, "the gateway to see scheduler A and two renderers over CURVE")

        # ---- the matrix -------------------------------------------------------------
        receiver = Receiver(addr[4])
        # the screenshot goes up once (one PUT to the bucket in a pass of its
        # own); renderers GET it with the URLs the active scheduler presigns
        up = urllib.request.Request(base + "/v1/files", data=make_png(120, 240), method="POST",
                                    headers={"Authorization": "Bearer " + key, "Content-Type": "image/png"})
        with urllib.request.urlopen(up, timeout=30) as resp:
            check(resp.status in (200, 201), "the upload answered %d" % resp.status)
            file_id = json.loads(resp.read())["id"]
        slides = [{"headline": {"lines": ["Host %d" % i]}, "screenshot": {"file_id": file_id}} for i in range(10)]
        status, render = request("POST", "/v1/renders", {
            "async": True, "webhook_url": receiver.url, "canvas": {"width": 240, "height": 480},
            "matrix": {"locales": ["en-US", "de-DE", "fr-FR", "ja-JP"]}, "slides": slides})
        check(status == 202, "create answered %d: %r" % (status, render))
        rid = render["id"]

        def state(timeout=30):
            status, body = request("GET", "/v1/renders/" + rid, timeout=timeout)
            return body if status == 200 else None

        # ---- kill -9 of A mid-matrix: B takes over ----------------------------------
        r = wait_for(lambda: (lambda r: r if r and r["progress"]["done"] >= 4 else None)(state()), 40,
                     "4 images done on A")
        check(r["progress"]["total"] == 40 and r["progress"]["done"] < 40, "mid-matrix: %r" % r["progress"])
        token_a = token_of("a")
        check(procs["a"].poll() is None and token_of("b") is None,
              "A must still be the active scheduler at the kill (B's log: %s)" % log_text("b")[-600:])
        procs["a"].kill()
        procs["a"].wait(10)
        killed = time.time()
        note("%d/40 done; SIGKILL of scheduler A (token %d)" % (r["progress"]["done"], token_a))
        # until B holds the lease the gateway may answer from its render
        # state (its read lease of A's stream, at most 2 s): an answer counts
        # once B says it holds the database's lease
        wait_for(lambda: token_of("b") and state(timeout=2), 5,
                 "B to serve through the gateway within 5 s of the kill")
        token_b = token_of("b")
        check(token_b == token_a + 1, "B's fencing token follows A's: %r then %r" % (token_a, token_b))
        note("B (token %d) answered %.2f s after the kill" % (token_b, time.time() - killed))

        # ---- A back as a standby, B at work, then B's link cut for 5 s ------------
        start_scheduler("a2", "a", "--standby")
        wait_for(lambda: "waiting for the database's lease" in log_text("a2"), 20,
                 "A, restarted with --standby, to wait for the lease")
        done_on_a = r["progress"]["done"]
        r = wait_for(lambda: (lambda r: r if r and r["progress"]["done"] >= done_on_a + 4 else None)(state()),
                     30, "4 more images done on B")
        check(r["progress"]["done"] < 40, "the matrix must still run at the cut: %r" % r["progress"])
        note("%d/40 done; B's link down for 5 s" % r["progress"]["done"])
        link(hub, 3, False)
        try:
            time.sleep(5)
        finally:
            link(hub, 3, True)
        note("B's link up again")
        wait_for(lambda: token_of("a2"), 20, "A (standby) to take the lease from the cut-off B")
        token_a2 = token_of("a2")
        check(token_a2 == token_b + 1, "A's new token follows B's: %r then %r" % (token_b, token_a2))
        try:
            rc_b = procs["b"].wait(20)
        except subprocess.TimeoutExpired:
            raise Fail("B, cut off past its lease and back, is still running")
        check(rc_b == 3, "B, which lost the lease, exits with status 3, not %r" % rc_b)
        check("lost the database's lease" in log_text("b"), "B says it lost the lease")
        note("A took the lease (token %d); B exited 3" % token_a2)

        # ---- the outcome --------------------------------------------------------------
        try:
            final = wait_for(lambda: (lambda r: r if r and r["status"] != "processing" else None)(state()), 60,
                             "the render to finish after the faults")
        except Fail as e:
            r = state()
            stale = [line for line in log_text("b").splitlines() if "does not hold the task" in line]
            raise Fail("%s: %r; images of attempts the new active leased that never came back are"
                       " waiting for their task lease; the cut-off scheduler ignored %d reports"
                       % (e, r and (r["status"], r["progress"]), len(stale)))
        check(final["status"] == "succeeded", "render after the faults: %s %r"
              % (final["status"], final.get("error")))
        images = final["images"]
        check(len(images) == 40 and final["progress"]["done"] == 40, "40 images expected, got %d" % len(images))
        check(len({(i["slide"], i["locale"]) for i in images}) == 40, "40 distinct images")
        no_follow = urllib.request.build_opener(NoRedirect)
        for img in images:
            req = urllib.request.Request(base + "/v1/files/" + img["id"],
                                         headers={"Authorization": "Bearer " + key})
            try:
                with no_follow.open(req, timeout=15) as resp:
                    raise Fail("GET /v1/files/%s answered %d, not a redirect" % (img["id"], resp.status))
            except urllib.error.HTTPError as e:
                check(e.code == 302, "GET /v1/files/%s answered %d, not 302" % (img["id"], e.code))
                location = e.headers["Location"]
            check(location.startswith(s3_endpoint + "/"), "the redirect leads to the bucket: %s" % location)
            with urllib.request.urlopen(location, timeout=15) as resp:    # no API key: presigned
                data = resp.read()
            check(len(data) == img["bytes"] and hashlib.sha256(data).hexdigest() == img["sha256"],
                  "the bytes of %s from the bucket match its size and sha256" % img["id"])
            check(data[:8] == b"\x89PNG\r\n\x1a\n", "%s is a PNG" % img["id"])
        note("40 images fetched from the bucket through the gateway's redirects")
        # the renderers PUT their results to the bucket themselves: none came over the bus
        with urllib.request.urlopen("http://%s:9100/metrics" % sched_addr["a"], timeout=10) as resp:
            metrics = resp.read().decode()
        via = {path: float(line.split()[-1]) for line in metrics.splitlines()
               for path in ("bus", "renderer")
               if line.startswith('easel_scheduler_result_bytes_total{path="%s"}' % path)}
        check(via.get("bus") == 0 and via.get("renderer", 0) > 0,
              "result bytes by path on A, bus 0 and the renderers' own: %r" % via)
        check(final["credits_used"] == 40, "credits_used %r" % final["credits_used"])
        status, account = request("GET", "/v1/account")
        check(status == 200, "GET /v1/account answered %d" % status)
        charges = [e for e in account["ledger"] if e.get("render_id") == rid]
        check(len(charges) == 1 and charges[0]["amount"] == -40 and charges[0]["reason"] == "render",
              "one ledger charge of 40 expected: %r" % charges)
        check(account["balance"] == 960, "balance 960 expected: %r" % account["balance"])

        def final_calls():
            return [json.loads(b) for b in receiver.for_render(rid)
                    if json.loads(b).get("type") == "render.succeeded"]
        wait_for(final_calls, 30, "the render.succeeded callback")
        time.sleep(3)
        calls = final_calls()
        check(len(calls) == 1, "one render.succeeded callback expected, got %d (event ids %r)"
              % (len(calls), [c.get("event_id") for c in calls]))
        check(calls[0].get("event_id", "").startswith("evt_"), "the callback names its event: %r" % calls[0])

        # ---- nobody committed after losing the lease ------------------------------------
        def count(sql):
            return int(psql(sql))
        take = {}
        for token in (token_b, token_a2):
            take[token] = count("SELECT coalesce(min(seq), 0) FROM easel_test_audit"
                                " WHERE tbl = 'scheduler_lease' AND token = %d" % token)
            check(take[token] > 0, "the database recorded the take of token %d" % token)
        for app, lost_at in (("easel-a", take[token_b]), ("easel-b", take[token_a2])):
            wrote = count("SELECT count(*) FROM easel_test_audit WHERE app = '%s' AND tbl <> 'scheduler_lease'"
                          % app)
            after = count("SELECT count(*) FROM easel_test_audit WHERE app = '%s' AND seq > %d" % (app, lost_at))
            check(wrote > 0, "%s committed work while it held the lease" % app)
            check(after == 0, "%s committed %d rows after another took its lease" % (app, after))
        note("%s wrote nothing after its lease was taken, nor did %s" % ("easel-a", "easel-b"))
        print("%s: passed in %.0f s" % (NAME, time.time() - started))
        print("%s: 1 passed, 0 failed" % NAME)
        return 0
    except Fail as e:
        print("%s: FAILED: %s" % (NAME, e))
        for name in logs:
            print("---- %s (tail)\n%s" % (name, log_text(name)[-2000:]))
        print("%s: 0 passed, 1 failed" % NAME)
        return 1
    finally:
        signal.alarm(0)
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for proc in servers.values():                  # stdin closed: they stop and clean up
            if proc.poll() is None:
                proc.stdin.close()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    if "--inside" in sys.argv:
        return inside()
    missing = [what for what, there in (("PostgreSQL 15 (%s)" % PG_BIN, os.path.exists(os.path.join(PG_BIN, "initdb"))),
                                        ("node", shutil.which("node")))
               if not there]
    if missing:
        print("%s: SKIPPED: needs %s" % (NAME, " and ".join(missing)))
        return SKIP
    return outer(NAME, 7, __file__, body_host=4, limit_s=BODY_LIMIT_S)


if __name__ == "__main__":
    sys.exit(main())
