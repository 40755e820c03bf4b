"""Multi-host fault test: Easel across five network namespaces over CURVE.

Topology (names unique per run; nothing is added to the root namespace, so no
packet can leave the machine): a hub namespace holds a bridge; five host
namespaces each get a veth into it and an address in 10.213.N.0/24, a subnet
that exists only inside these namespaces.

  h1 10.213.N.1  scheduler (binds the bus on 10.213.N.1) + webhooker
  h2 10.213.N.2  gateway (HTTP on 127.0.0.1 inside h2), the webhook receiver
                 (on 10.213.N.2, reached over the bridge) and this test's client
  h3 10.213.N.3  renderer A
  h4 10.213.N.4  renderer B
  h5 10.213.N.5  renderer with an unknown certificate

A 40-image render runs; part-way, renderer A is killed with SIGKILL and
renderer B's link goes down for 5 s and comes back. Every image completes,
the account is charged once (40 credits, one ledger row), the callback
arrives once. Then, with B drained away, the renderer in h5 whose
certificate is not admitted gets no task, and the scheduler logs the refusal.

Needs root and iproute2; otherwise exits 77 (ctest SKIP_RETURN_CODE) with the
reason. netns.py builds and always tears down the namespaces (and every
process in them); the test body runs inside h2 (`--inside`). Bounded: the
body has 150 s, ctest 240 s. """
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netns import Fail, Receiver, check, ip, network, outer, wait_for  # noqa: E402

BIN = os.environ.get("EASEL_BIN_DIR", os.path.join(os.getcwd(), "bin"))
BODY_LIMIT_S = 150


# ---- inner: the test body, running inside h2 --------------------------------------

def inside():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
    from harness import make_png, free_port

    hosts, _, addr, _ = network()
    work = tempfile.mkdtemp(prefix="easel-mh-")
    certs = os.path.join(work, "certs")
    allowed = os.path.join(certs, "allowed")
    os.makedirs(allowed)
    procs, logs = {}, {}
    started = time.time()

    def on_term(*_):
        raise Fail("terminated from outside")
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(BODY_LIMIT_S)
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Fail("over %d s" % BODY_LIMIT_S)))

    def easel(*args):
        out = subprocess.run([os.path.join(BIN, "easel")] + list(args), capture_output=True, timeout=30)
        check(out.returncode == 0, "easel %s: %s" % (" ".join(args), out.stderr.decode()))
        return out.stdout.decode()

    for name in ("scheduler", "gateway", "webhooker", "renderer_a", "renderer_b", "rogue"):
        easel("certs", "create", name, "--dir", certs)
        if name not in ("scheduler", "rogue"):
            shutil.copy(os.path.join(certs, name), os.path.join(allowed, name))
    data = os.path.join(work, "data")
    info = json.loads(easel("keys", "create", "--name", "mh", "--credits", "1000", "--data", data, "--json"))
    key = info["api_key"]

    http_port = free_port()
    base = "http://127.0.0.1:%d" % http_port
    bus = {"EASEL_API_ENDPOINT": "tcp://%s:5555" % addr[0],
           "EASEL_WORK_ENDPOINT": "tcp://%s:5556" % addr[0],
           "EASEL_EVENTS_ENDPOINT": "tcp://%s:5557" % addr[0]}
    for k in ("EASEL_CURVE_CERT", "EASEL_CURVE_SERVER_KEY", "EASEL_CURVE_ALLOWED_DIR", "EASEL_BUS_PLAIN"):
        os.environ.pop(k, None)

    def client(name):
        return dict(bus, EASEL_CURVE_CERT=os.path.join(certs, name + "_secret"),
                    EASEL_CURVE_SERVER_KEY=os.path.join(certs, "scheduler"))

    def start(name, ns, service, env, *args):
        log = open(os.path.join(work, name + ".log"), "ab")
        logs[name] = log.name
        procs[name] = subprocess.Popen(["ip", "netns", "exec", ns, os.path.join(BIN, "easel-" + service)]
                                       + list(args), env=dict(os.environ, **env), stdout=log, stderr=log)

    def log_text(name):
        with open(logs[name], "rb") as f:
            return f.read().decode(errors="replace")

    def request(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + key,
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
        except OSError:
            return 0, None

    try:
        start("scheduler", hosts[0], "scheduler",
              dict(bus, EASEL_DATA=data, EASEL_PUBLIC_URL=base,
                   EASEL_CURVE_CERT=os.path.join(certs, "scheduler_secret"),
                   EASEL_CURVE_ALLOWED_DIR=allowed))
        start("webhooker", hosts[0], "webhooker",
              dict(client("webhooker"), EASEL_ALLOW_PRIVATE_NETWORKS="1",
                   EASEL_WEBHOOK_SCHEDULE="1,1,1", EASEL_WEBHOOK_MIN_RETRY_MS="1000"))
        start("gateway", hosts[1], "gateway", dict(client("gateway"), EASEL_PUBLIC_URL=base),
              "--listen", "127.0.0.1:%d" % http_port)
        slow = {"EASEL_ALLOW_PRIVATE_NETWORKS": "1", "EASEL_RENDERER_TEST_DELAY_MS": "400"}
        start("renderer_a", hosts[2], "renderer", dict(client("renderer_a"), **slow), "--slots", "2")
        start("renderer_b", hosts[3], "renderer", dict(client("renderer_b"), **slow), "--slots", "2")
        wait_for(lambda: request("GET", "/readyz")[0] == 200
                 and request("GET", "/readyz")[1].get("renderers", 0) >= 2, 30,
                 "the gateway to see the scheduler and two renderers over CURVE")

        receiver = Receiver(addr[1])
        png = base64.b64encode(make_png(120, 240)).decode()
        slides = [{"headline": {"lines": ["Host %d" % i]}, "screenshot": {"data": png}} for i in range(10)]
        status, render = request("POST", "/v1/renders", {
            "async": True, "webhook_url": receiver.url, "canvas": {"width": 240, "height": 480},
            "matrix": {"locales": ["en-US", "de-DE", "fr-FR", "ja-JP"]}, "slides": slides})
        check(status == 202, "create answered %d: %r" % (status, render))
        rid = render["id"]

        def progress():
            return request("GET", "/v1/renders/" + rid)[1]["progress"]
        wait_for(lambda: progress()["done"] >= 8, 60, "8 images done")
        check(progress()["total"] == 40, "40 images expected: %r" % progress())
        print("multihost: %d/40 done; SIGKILL renderer A, B's link down for 5 s" % progress()["done"])
        procs["renderer_a"].kill()
        procs["renderer_a"].wait(10)
        ip("-n", hosts[3], "link", "set", "eth0", "down")
        time.sleep(5)
        ip("-n", hosts[3], "link", "set", "eth0", "up")

        final = wait_for(lambda: (lambda r: r if r["status"] != "processing" else None)(
            request("GET", "/v1/renders/" + rid)[1]), 90, "the render to finish after the faults")
        check(final["status"] == "succeeded", "render after faults: %s %r"
              % (final["status"], final.get("error")))
        check(len(final["images"]) == 40 and all(i.get("sha256") for i in final["images"]),
              "40 finished images expected, got %d" % len(final["images"]))
        check(final["credits_used"] == 40, "credits_used %r" % final["credits_used"])
        check(any(i.get("attempts", 1) >= 2 for i in final["images"]),
              "the faults should have sent some image to a second attempt")
        status, account = request("GET", "/v1/account")
        charges = [e for e in account["ledger"] if e.get("render_id") == rid and e["reason"] == "render"]
        check(len(charges) == 1 and charges[0]["amount"] == -40,
              "one ledger charge of 40 expected: %r" % charges)
        check(account.get("balance", account.get("credits")) == 960,
              "balance 960 expected: %r" % {k: v for k, v in account.items() if k != "ledger"})
        wait_for(lambda: receiver.for_render(rid), 30, "the callback over the bridge")
        time.sleep(3)
        check(len(receiver.for_render(rid)) == 1, "one callback expected, got %d" % len(receiver.for_render(rid)))
        sched = log_text("scheduler")
        check("renderer gone" in sched, "the scheduler noticed the dead renderer")

        # ---- an unknown certificate in the fifth namespace gets nothing --------
        procs["renderer_b"].send_signal(signal.SIGTERM)
        check(procs["renderer_b"].wait(30) == 0, "renderer B drained and exited 0")
        start("rogue", hosts[4], "renderer", dict(client("rogue"), EASEL_ALLOW_PRIVATE_NETWORKS="1"),
              "--slots", "2")
        status, render = request("POST", "/v1/renders", {
            "async": True, "canvas": {"width": 240, "height": 480}, "slides": slides[:1]})
        check(status == 202, "create answered %d: %r" % (status, render))
        with open(os.path.join(certs, "rogue")) as f:
            rogue_key = re.search(r'public-key = "([^"]{40})"', f.read()).group(1)
        wait_for(lambda: rogue_key in log_text("scheduler"), 20, "the scheduler to log the refusal")
        time.sleep(4)
        check("task started" not in log_text("rogue"), "the unknown renderer got a task")
        status, body = request("GET", "/v1/renders/" + render["id"])
        check(body["status"] == "processing" and body["progress"]["done"] == 0,
              "nothing may render with only an unknown renderer: %r" % body["progress"])
        line = [json.loads(x) for x in log_text("scheduler").splitlines() if rogue_key in x][0]
        check(line["msg"].startswith("bus client refused") and line.get("peer") == addr[4],
              "refusal line names the peer %s: %r" % (addr[4], line))
        print("multihost: passed in %.0f s" % (time.time() - started))
        print("multihost: 1 passed, 0 failed")
        return 0
    except Fail as e:
        print("multihost: FAILED: %s" % e)
        for name in logs:
            print("---- %s (tail)\n%s" % (name, log_text(name)[-1500:]))
        print("multihost: 0 passed, 1 failed")
        return 1
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(inside() if "--inside" in sys.argv
             else outer("multihost", 5, __file__, body_host=1, limit_s=BODY_LIMIT_S))
