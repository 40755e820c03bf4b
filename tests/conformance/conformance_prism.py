"""Stoplight Prism (pinned, tests/conformance) as a validating proxy in front
of the real stack (harness.py: scheduler, gateway, renderer, webhooker on
loopback): `prism proxy docs/openapi.json <gateway> --errors` checks every
answer against the document. A representative set of requests goes through
it (sync and async renders, get, wait, list, cancel, files, archive, capture
and jobs, deliveries, redeliver, test events, presets, lint rules, account,
health, errors 400/401/404/409/415/422 (401 with a wrong key: a request
without one is answered by Prism itself)); any answer Prism reports as
violating the document (its problem+json instead of the gateway's answer, an
sl-violations header, or a violation in its log) fails the test. A second
Prism with request validation off carries the deliberately bad requests, so
that the gateway's own error answers are what gets checked."""
import json
import os
import re
import subprocess
import sys

from conformance import DOC, tool

prism = tool("prism")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Stack, ShotServer, HookReceiver, check, free_port, wait_for, slide, make_png  # noqa: E402

shots = ShotServer()
hooks = HookReceiver()
stack = Stack(renderers=1)
gateway = stack.base
procs = []


def start_prism(name, *extra, doc=DOC):
    port = free_port()
    log_path = os.path.join(stack.dir, "prism-%s.log" % name)
    log = open(log_path, "wb")
    stack.logs["prism-" + name] = log_path        # its tail is printed on a failure
    proc = subprocess.Popen([prism, "proxy", doc, gateway, "--errors", "-h", "127.0.0.1", "-p", str(port),
                             "--cors", "false"] + list(extra), stdout=log, stderr=subprocess.STDOUT)
    procs.append(proc)

    def up():
        check(proc.poll() is None, "prism %s exited: %s" % (name, open(log_path, errors="replace").read()[-3000:]))
        return "is listening on" in open(log_path, errors="replace").read()
    wait_for(up, 60, "prism %s to listen" % name, interval=0.2)
    return "http://127.0.0.1:%d" % port, log_path


checked = []


def through(base, method, path, want, **kw):
    """method path via the Prism at base; its answer must be the gateway's own
    (not a Prism violation report) with status want. Returns (headers, body)."""
    stack.base = base
    try:
        status, headers, raw = stack.request(method, path, **kw)
    finally:
        stack.base = gateway
    lower = {k.lower(): v for k, v in headers.items()}
    ctype = lower.get("content-type", "")
    what = "%s %s -> %d" % (method, path, status)
    check("sl-violations" not in lower, "%s: Prism reports violations: %s" % (what, lower.get("sl-violations")))
    check(not ctype.startswith("application/problem+json"),
          "%s: Prism answered instead of the gateway (a violation of docs/openapi.json): %s"
          % (what, raw[:3000].decode(errors="replace")))
    check(status == want, "%s, expected %d: %r" % (what, want, raw[:500]))
    checked.append(what)
    body = raw
    if ctype.startswith("application/json") and raw:
        body = json.loads(raw)
    return headers, body


valid, valid_log = start_prism("valid")
bad, bad_log = start_prism("errors", "--validate-request", "false")
R = "/v1/renders"
canvas = {"preset": "appstore.iphone_6_9"}

# ---- public routes ---------------------------------------------------------------
for path in ("/healthz", "/readyz", "/openapi.json", "/v1/presets", "/v1/lint/rules", "/metrics"):
    through(valid, "GET", path, 200, auth=False)

# ---- renders -----------------------------------------------------------------------
_, done = through(valid, "POST", R, 200, body={"canvas": canvas, "slides": [slide(shots.url("/shot.png"))]})
check(done["status"] == "succeeded", "sync render: %r" % done)
_, accepted = through(valid, "POST", R, 202, body={
    "async": True, "canvas": canvas, "webhook_url": hooks.url("/render"),
    "slides": [slide(shots.url("/shot.png")), slide(shots.url("/missing"))]},
    headers={"Idempotency-Key": "conformance-1"})
rid = accepted["id"]
through(valid, "GET", R + "/" + rid, 200)
final = wait_for(lambda: (lambda r: r if r["status"] != "processing" else None)(
    through(valid, "GET", R + "/%s?wait=30" % rid, 200)[1]), 120, "the render to finish")
check(final["status"] == "failed", "a render with a missing screenshot: %r" % final["status"])
through(valid, "POST", R, 202, body={
    "async": True, "canvas": canvas, "webhook_url": hooks.url("/render"),
    "slides": [slide(shots.url("/shot.png")), slide(shots.url("/missing"))]},
    headers={"Idempotency-Key": "conformance-1"})                       # replayed
through(valid, "GET", R, 200)
through(valid, "GET", R + "?limit=1&starting_after=" + rid, 200)
image = [i for i in done["images"] if i["status"] == "succeeded"][0]
through(valid, "GET", image["url"][len(gateway):], 200, auth=False)
through(valid, "GET", R + "/%s/archive" % done["id"], 200)
through(valid, "GET", R + "/%s/changes?since=%s" % (done["id"], rid), 200)
etag = {k.lower(): v for k, v in through(valid, "GET", image["url"][len(gateway):], 200, auth=False)[0].items()}.get("etag")
check(etag, "a file answer has an ETag")
through(valid, "GET", image["url"][len(gateway):], 304, auth=False, headers={"If-None-Match": etag})
wait_for(lambda: hooks.snapshot(), 30, "the render's webhook")
wait_for(lambda: through(valid, "GET", R + "/%s/deliveries" % rid, 200)[1]["webhook_status"] == "delivered",
         30, "the delivery to be logged")
through(valid, "POST", R + "/%s/redeliver" % rid, 202)
through(valid, "POST", R + "/%s/redeliver" % done["id"], 409)           # no webhook_url
busy = through(valid, "POST", R, 202, body={"async": True, "canvas": canvas,
                                             "slides": [slide(shots.url("/shot.png"))]})[1]
victim = through(valid, "POST", R, 202, body={"async": True, "canvas": canvas,
                                               "slides": [slide(shots.url("/shot.png"))] * 3})[1]
_, queued = through(valid, "GET", R + "/" + victim["id"], 200)         # images queued / leased
check(queued["status"] == "processing", "a render behind a busy renderer: %r" % queued["status"])
_, canceled = through(valid, "POST", R + "/%s/cancel" % victim["id"], 200)
check(canceled["status"] == "canceled", "cancel: %r" % canceled)
through(valid, "POST", R + "/%s/cancel" % victim["id"], 409)
stack.wait_render(busy["id"])

# ---- captures and jobs ---------------------------------------------------------------
_, job = through(valid, "POST", "/v1/capture", 200, body={"url": shots.url("/shot.png"),
                                                          "webhook_url": hooks.url("/job")})
check(job["status"] == "completed", "sync capture: %r" % job)
_, pending = through(valid, "POST", "/v1/capture", 202, body={"url": shots.url("/missing"), "async": True})
through(valid, "GET", "/v1/jobs/" + pending["job_id"], 200)              # pending or processing
_, failed = through(valid, "GET", "/v1/jobs/%s?wait=30" % pending["job_id"], 200)
check(failed["status"] in ("failed", "processing", "pending"), "job: %r" % failed)
through(valid, "GET", "/v1/jobs/" + job["id"], 200)
through(valid, "GET", job["result"]["url"][len(gateway):], 200, auth=False)
wait_for(lambda: through(valid, "GET", "/v1/jobs/%s/deliveries" % job["id"], 200)[1]["webhook_status"]
         == "delivered", 30, "the job's delivery")
through(valid, "POST", "/v1/jobs/%s/redeliver" % job["id"], 202)

# ---- uploaded files ------------------------------------------------------------------------
png = make_png(64, 128)
# Prism's proxy re-encodes a binary request body as text, so the upload itself
# goes to the gateway; what it answered is checked through Prism by the lookup
status, _, raw = stack.request("POST", "/v1/files", raw=png, headers={"Content-Type": "image/png"})
check(status == 201, "upload answered %d: %r" % (status, raw[:300]))
upped = json.loads(raw)
through(valid, "GET", "/v1/files?sha256=" + upped["sha256"], 200)
through(valid, "GET", "/v1/files?sha256=" + "0" * 64, 404)
through(valid, "GET", "/v1/files/" + upped["id"], 200)
through(valid, "POST", R, 200, body={"canvas": canvas, "slides": [
    {"headline": {"lines": ["Uploaded"]}, "screenshot": {"file_id": upped["id"]}}]})
through(bad, "POST", "/v1/files", 415, raw=b"hello", headers={"Content-Type": "text/plain"})
through(bad, "GET", "/v1/files?sha256=nothex", 422)

# ---- account and webhooks ---------------------------------------------------------------
through(valid, "GET", "/v1/account", 200)
through(valid, "GET", "/v1/account/webhook_public_key", 200)
through(valid, "POST", "/v1/account/webhook_signing", 200, body={"ed25519": False})
_, test = through(valid, "POST", "/v1/webhooks/test", 202, body={"url": hooks.url("/test")})
through(valid, "GET", "/v1/webhooks/test/%s/deliveries" % test["id"], 200)

# ---- errors: the gateway's own answers, unfiltered by request validation -----------------
# a request without Authorization never reaches the gateway (Prism answers its
# own 401 for the bearer scheme), so the gateway's 401 is tried with a wrong key
through(bad, "GET", R, 401, auth="ea_live_wrong")
through(bad, "POST", R, 401, auth="ea_live_wrong", body={"slides": [{}]})
through(bad, "GET", R + "/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H", 404)
through(bad, "GET", "/v1/jobs/job_01KNS1WNPW9FCHZSK4XNTHMB0H", 404)
through(bad, "GET", R + "/not-an-id", 404)
through(bad, "GET", R + "/%s?wait=abc" % rid, 422)
through(bad, "POST", R, 422, body={"slides": []})
through(bad, "POST", R, 422, body={"slides": [{}], "colour": "red"})
through(bad, "POST", R, 400, raw=b"{", headers={"Content-Type": "application/json"})
through(bad, "POST", R, 415, raw=b"x=1", headers={"Content-Type": "text/plain"})
through(bad, "POST", "/v1/capture", 422, body={"async": True})
through(bad, "GET", R + "?limit=0", 422)
through(bad, "GET", R + "/%s/changes" % rid, 422)
through(bad, "GET", R + "/%s/changes?since=rnd_01KNS1WNPW9FCHZSK4XNTHMB0H" % rid, 404)
through(bad, "POST", "/v1/webhooks/test", 422, body={})
through(bad, "POST", R + "/%s/redeliver" % rid, 400, body={}, headers={"Idempotency-Key": "k" * 300})
through(bad, "POST", R, 422, body={"async": True, "canvas": canvas, "slides": [slide(shots.url("/shot.png"))]},
        headers={"Idempotency-Key": "conformance-1"})                   # reused with another body
through(bad, "GET", image["url"][len(gateway):].replace("sig=", "sig=0"), 401, auth=False)
through(valid, "POST", "/v1/account/webhook_secret/rotate", 200, body={"overlap_s": 60})

# ---- the proxy is not vacuous: a document the gateway does not match is reported --------
broken = json.load(open(DOC))
broken["components"]["schemas"]["Account"]["required"] = ["no_such_field"]
broken_path = os.path.join(stack.dir, "broken-openapi.json")
with open(broken_path, "w") as f:
    json.dump(broken, f)
strict, _ = start_prism("broken", doc=broken_path)
stack.base = strict
status, headers, raw = stack.request("GET", "/v1/account")
stack.base = gateway
check(status == 500 and "no_such_field" in {k.lower(): v for k, v in headers.items()}.get("sl-violations", ""),
      "Prism did not report a response that breaks the document: %d %r" % (status, raw[:300]))

for p in procs:
    p.terminate()
for p in procs:
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
for path in (valid_log, bad_log):           # the broken document's proxy logs its violation
    text = open(path, errors="replace").read()
    violations = [line for line in text.splitlines() if re.search(r"violation", line, re.I)]
    check(not violations, "Prism logged violations (%s):\n%s" % (os.path.basename(path), "\n".join(violations[:40])))
stack.close()
print("conformance_prism: %d answers conform, 0 violations" % len(checked))
