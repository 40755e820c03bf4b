"""What operators see: every service's Prometheus endpoint has its families
and they move after a render; every log line is one JSON object with ts,
level, service and msg; one request id (the gateway's X-Request-Id) follows
a render through scheduler, renderer and webhooker logs; and no API key or
webhook secret ever reaches a log."""
import json
import os
import re
import subprocess
import urllib.request

from harness import BIN, Stack, ShotServer, HookReceiver, check, free_port, slide, wait_for

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? '
                    r'(-?[0-9.e+-]+|\+Inf|NaN)$')


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        check(resp.status == 200, "%s answered %d" % (url, resp.status))
        check(resp.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              "%s content type %r" % (url, resp.headers.get("Content-Type")))
        text = resp.read().decode()
    families, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            families[name] = kind
        elif line.startswith("# HELP ") or not line:
            continue
        else:
            check(SAMPLE.match(line), "%s: not a Prometheus sample line: %r" % (url, line))
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    for name, kind in families.items():
        check(name.startswith("easel_"), "family %s lacks the easel_ prefix" % name)
        if kind == "counter":
            check(name.endswith("_total"), "counter %s does not end in _total" % name)
    return families, samples


def value(samples, key):
    return samples.get(key, 0.0)


ports = {name: free_port() for name in ("scheduler", "renderer", "webhooker")}
metrics_url = {name: "http://127.0.0.1:%d/metrics" % port for name, port in ports.items()}
os.environ["EASEL_METRICS_LISTEN"] = "127.0.0.1:%d" % ports["scheduler"]   # the scheduler's
shots = ShotServer()
hooks = HookReceiver()
stack = Stack(renderers=0, webhooker=False)
del stack.env["EASEL_METRICS_LISTEN"]
stack.start("webhooker", env={"EASEL_METRICS_LISTEN": "127.0.0.1:%d" % ports["webhooker"]})
stack.start("renderer0", "--slots", "1", "--metrics", "127.0.0.1:%d" % ports["renderer"],
            service="renderer")
stack.wait_ready(1)
metrics_url["gateway"] = stack.base + "/metrics"

expected = {
    "gateway": {"easel_http_requests_total": "counter",
                "easel_http_request_duration_seconds": "histogram"},
    "scheduler": {"easel_scheduler_queue_depth": "gauge", "easel_scheduler_tasks_in_flight": "gauge",
                  "easel_scheduler_leases_total": "counter",
                  "easel_scheduler_leases_expired_total": "counter",
                  "easel_scheduler_requeues_total": "counter",
                  "easel_scheduler_attempts_exhausted_total": "counter",
                  "easel_scheduler_renderers_connected": "gauge",
                  "easel_scheduler_renderer_free_slots": "gauge",
                  "easel_scheduler_sqlite_commit_seconds": "histogram",
                  "easel_scheduler_commit_group_size": "histogram"},
    "renderer": {"easel_renderer_render_seconds": "histogram", "easel_renderer_tasks_total": "counter",
                 "easel_renderer_result_bytes_total": "counter", "easel_renderer_slots": "gauge",
                 "easel_renderer_busy_slots": "gauge"},
    "webhooker": {"easel_webhook_attempts_total": "counter",
                  "easel_webhook_attempt_duration_seconds": "histogram",
                  "easel_webhook_delivery_seconds": "histogram"},
}
before = {}
for name, url in metrics_url.items():
    families, samples = scrape(url)
    for family, kind in expected[name].items():
        check(families.get(family) == kind, "%s: family %s missing or not a %s (%r)"
              % (name, family, kind, families.get(family)))
    before[name] = samples

# One render with a webhook, end to end.
status, headers, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"preset": "appstore.iphone_6_9"}, "webhook_url": hooks.url(),
    "slides": [slide(shots.url("/shot.png"))]})
check(status == 202, "create answered %d: %r" % (status, body))
request_id = headers.get("X-Request-Id", "")
check(request_id.startswith("req_"), "X-Request-Id %r" % request_id)
render = stack.wait_render(body["id"])
check(render["status"] == "succeeded", "render: %r" % render)
wait_for(lambda: hooks.snapshot(), 30, "the webhook")
wait_for(lambda: stack.json("GET", "/v1/renders/" + body["id"])[2]["webhook_status"] == "delivered",
         30, "webhook_status delivered")
# a refused key and a secret rotation: neither value may be logged
bogus_key = "sk_live_" + "Z" * 40
status, _, _ = stack.json("GET", "/v1/account", auth=bogus_key)
check(status == 401, "bogus key answered %d" % status)
status, _, rotated = stack.json("POST", "/v1/account/webhook_secret/rotate", {"overlap_s": 60})
check(status == 200 and rotated["webhook_secret"].startswith("whsec_"), "rotate: %r" % rotated)
# a capture with request headers: their values are secrets too
capture_secret = "hdr_" + "Q7" * 16
status, cap_headers, job = stack.json("POST", "/v1/capture", {
    "url": shots.url("/shot.png"), "async": True, "webhook_url": hooks.url("/capture"),
    "headers": {"X-Token": capture_secret}})
check(status == 202 and job["job_id"].startswith("job_"), "capture answered %d: %r" % (status, job))
capture_request_id = cap_headers.get("X-Request-Id", "")
wait_for(lambda: stack.json("GET", "/v1/jobs/" + job["job_id"])[2]["status"] in ("completed", "failed"),
         60, "the capture job")
wait_for(lambda: len(hooks.snapshot()) >= 2, 30, "the capture webhook")
# bad input of the metrics route itself
status, headers, err = stack.json("POST", "/metrics", {})
check(status == 405 and headers.get("Allow") == "GET" and err["error"]["code"] == "method_not_allowed",
      "POST /metrics answered %d %r" % (status, err))


def moved():
    after = {name: scrape(url)[1] for name, url in metrics_url.items()}
    g, s, r, w = after["gateway"], after["scheduler"], after["renderer"], after["webhooker"]
    return all([
        value(g, 'easel_http_requests_total{route="/v1/renders",method="POST",status="202"}') >= 1,
        value(g, 'easel_http_requests_total{route="/v1/renders/{id}",method="GET",status="200"}') >= 1,
        value(g, 'easel_http_requests_total{route="/v1/account",method="GET",status="401"}') >= 1,
        value(g, 'easel_http_request_duration_seconds_count{route="/v1/renders"}') >= 1,
        value(s, "easel_scheduler_leases_total") > value(before["scheduler"], "easel_scheduler_leases_total"),
        value(s, "easel_scheduler_sqlite_commit_seconds_count")
        > value(before["scheduler"], "easel_scheduler_sqlite_commit_seconds_count"),
        value(s, "easel_scheduler_renderers_connected") == 1,
        value(s, "easel_scheduler_renderer_free_slots") == 1,
        value(s, "easel_scheduler_queue_depth") == 0,
        value(r, 'easel_renderer_render_seconds_count{preset="appstore.iphone_6_9"}') == 1,
        value(r, 'easel_renderer_tasks_total{preset="appstore.iphone_6_9",outcome="succeeded"}') == 1,
        value(r, "easel_renderer_result_bytes_total") > 10000,
        value(w, 'easel_webhook_attempts_total{outcome="delivered"}') == 2,
        value(w, "easel_webhook_attempt_duration_seconds_count") == 2,
        value(w, "easel_webhook_delivery_seconds_count") == 2,
    ])


wait_for(moved, 10, "the metrics to move after the render")

# Logs: one JSON object per line with ts, level, service, msg.
services = {"scheduler": "scheduler", "gateway": "gateway", "renderer0": "renderer", "webhooker": "webhooker"}
for name, service in services.items():
    text = stack.log_text(name)
    lines = [l for l in text.splitlines() if l.strip()]
    check(lines, "%s logged nothing" % name)
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            check(False, "%s: not a JSON line: %r" % (name, line[:200]))
        for key in ("ts", "level", "service", "msg"):
            check(key in obj, "%s: line without %s: %r" % (name, key, line[:200]))
        check(obj["service"] == service, "%s: service %r" % (name, obj["service"]))
        check(obj["level"] in ("info", "warn", "error", "fatal"), "%s: level %r" % (name, obj["level"]))


def msgs_with_request(name):
    out = []
    for line in stack.log_text(name).splitlines():
        obj = json.loads(line)
        if obj.get("request_id") == request_id:
            out.append(obj["msg"])
    return out


gw_lines = [json.loads(l) for l in stack.log_text("gateway").splitlines()
            if json.loads(l).get("request_id") == request_id]
check(any(o["msg"] == "request" and o["route"] == "/v1/renders" and o["method"] == "POST"
          and o["status"] == "202" for o in gw_lines), "gateway did not log the request: %r" % gw_lines)
sched_msgs = msgs_with_request("scheduler")
for msg in ("render created", "task leased", "task succeeded", "render finished"):
    check(msg in sched_msgs, "scheduler did not log %r with the request id: %r" % (msg, sched_msgs))
rend_msgs = msgs_with_request("renderer0")
for msg in ("task started", "task rendered"):
    check(msg in rend_msgs, "renderer did not log %r with the request id: %r" % (msg, rend_msgs))
check("webhook attempt" in msgs_with_request("webhooker"),
      "webhooker did not log the delivery with the request id")

# Secrets never logged: the API key, the webhook secrets (old and new), a refused key.
check("capture job created" in [json.loads(l)["msg"] for l in stack.log_text("scheduler").splitlines()
                                 if json.loads(l).get("request_id") == capture_request_id],
      "the scheduler did not log the capture with its request id")
secrets = [stack.key, stack.secret, rotated["webhook_secret"], bogus_key, capture_secret,
           stack.key[len("sk_"):], stack.secret[len("whsec_"):]]
for name in services:
    text = stack.log_text(name)
    for secret in secrets:
        check(secret not in text, "%s's log contains a secret (%s...)" % (name, secret[:10]))

# A bad --metrics address is refused at start with a fatal JSON line.
out = subprocess.run([os.path.join(BIN, "easel-renderer"), "--metrics", "127.0.0.1:1,127.0.0.1:2"],
                     env=stack.env, capture_output=True, timeout=30)
check(out.returncode == 2, "renderer with a bad --metrics exited %d" % out.returncode)
fatal = json.loads(out.stderr.decode().strip().splitlines()[-1])
check(fatal["level"] == "fatal" and "metrics" in fatal["msg"], "fatal line: %r" % fatal)
stack.close()

# easel up --metrics HOST:PORT: scheduler PORT, webhooker PORT+1, renderer 1 PORT+2
import shutil
import tempfile
up_dir = tempfile.mkdtemp(prefix="easel-it-up-")
bad = subprocess.run([os.path.join(BIN, "easel"), "up", "--metrics", "127.0.0.1:x", "--data", up_dir + "/data"],
                     capture_output=True, timeout=30)
check(bad.returncode == 2 and b"--metrics" in bad.stderr, "easel up --metrics bad: %d" % bad.returncode)
base = free_port()
up_env = dict(os.environ, EASEL_METRICS_LISTEN="127.0.0.1:1")   # must not reach the children
up_env["EASEL_BIN_DIR"] = BIN
up = subprocess.Popen([os.path.join(BIN, "easel"), "up", "--renderers", "1", "--data", up_dir + "/data",
                       "--listen", "127.0.0.1:%d" % free_port(), "--api", "tcp://127.0.0.1:%d" % free_port(),
                       "--work", "tcp://127.0.0.1:%d" % free_port(), "--events", "tcp://127.0.0.1:%d" % free_port(),
                       "--metrics", "127.0.0.1:%d" % base],
                      env=up_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    def all_up():
        try:
            return {kind: scrape("http://127.0.0.1:%d/metrics" % (base + off))[0]
                    for kind, off in (("scheduler", 0), ("webhooker", 1), ("renderer", 2))}
        except OSError:
            return None
    got = wait_for(all_up, 30, "easel up's metrics listeners")
    for kind in ("scheduler", "webhooker", "renderer"):
        for family in expected[kind]:
            check(family in got[kind], "easel up %s on its port lacks %s" % (kind, family))
finally:
    up.terminate()
    up.wait(timeout=20)
shutil.rmtree(up_dir, ignore_errors=True)
print("it_observability: 1 passed, 0 failed")
