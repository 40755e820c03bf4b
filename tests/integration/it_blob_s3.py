"""Image bytes in an S3-compatible bucket, whole stack: the scheduler started
with EASEL_BLOB_URL pointing at a real S3 protocol server (tests/s3/start.js:
s3rver behind a SigV4 signature check) renders a slide; the result's bytes
are object <prefix>/ab/<sha256> of the bucket (read back with curl's own
SigV4 signing), an upload too, the released inline input is deleted from
the bucket by the sweep, and nothing lands under the data dir's
blobs/. GET /v1/files/{id} (by key or by Easel's signed URL) answers 302 to
a short-lived presigned GET that serves the PNG, as image/png, with no
credentials; a tampered Easel URL is still 401; the render's archive streams
from the store. The renderer reads its input and writes its result with
URLs the scheduler presigns per task (no image byte over the bus: the
scheduler's result-bytes metric by path), and no upload is left under
incoming/. An upload (POST /v1/files) and a render's inline screenshot go
to the bucket from the gateway itself, by PUTs the scheduler presigns, and
are adopted by the scheduler's blob worker before the file row or the
render commits (the scheduler's upload-bytes metric by path: nothing on the
bus); an upload the store refuses (503), an upload or inline image the
store does not keep as sent (502), or an upload cut short (400) is refused
with a JSON error and leaves nothing: no file, no render, no blob, nothing
incoming. Redirects name the public_endpoint= of
EASEL_BLOB_URL (localhost here), signed for that host, while renderers use
its endpoint. With EASEL_BLOB_REDIRECT_S=0 the gateway serves the bytes
itself; with EASEL_BLOB_VIA_SCHEDULER=1 uploads come on the bus again and
still land in the bucket. No log carries the secret; a scheduler given a wrong secret stops
at start, saying why. Exits 77 (skipped) only when node is not installed."""
import atexit
import hashlib
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
from harness import BIN, Stack, check, free_port, png_header, slide, make_png, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S3_DIR = os.path.join(ROOT, "s3")
KEY, SECRET, BUCKET, PREFIX = "it-access-key", "it-secret-key-4242", "easel-it", "stack/blobs"

if shutil.which("node") is None:
    print("SKIP: node is not installed (tests/s3/start.js runs s3rver)", file=sys.stderr)
    sys.exit(77)

store_dir = tempfile.mkdtemp(prefix="easel-s3-")
server = subprocess.Popen(["node", "--openssl-legacy-provider", os.path.join(S3_DIR, "start.js"),
                           "--dir", store_dir, "--bucket", BUCKET,
                           "--access-key", KEY, "--secret-key", SECRET],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
line = server.stdout.readline().decode()
check(line.startswith("{"), "tests/s3/start.js printed %r (npm packages installed? scripts/npm_deps.sh)" % line)
port = json.loads(line)["port"]
endpoint = "http://127.0.0.1:%d" % port


def stop_server():
    server.stdin.close()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(store_dir, ignore_errors=True)


def get_no_follow(path, auth=True):
    """GET through the gateway without following a redirect (urllib would
    carry the API key's Authorization header on to the store, which a
    browser or curl does not do across hosts)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
    conn.request("GET", path, headers={"Authorization": "Bearer " + stack.key} if auth else {})
    resp = conn.getresponse()
    out = resp.status, dict(resp.getheaders()), resp.read()
    conn.close()
    return out


def s3_get(key):
    """The object's bytes, read with curl's SigV4 signing (not Easel's)."""
    out = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3",
                          "-u", KEY + ":" + SECRET, "-H",
                          "x-amz-content-sha256: " + hashlib.sha256(b"").hexdigest(),
                          "%s/%s/%s" % (endpoint, BUCKET, key)], capture_output=True, timeout=30)
    body, _, status = out.stdout.rpartition(b"\n")
    return int(status or 0), body


atexit.register(stop_server)   # registered before the stack's, so it stops last

public = "http://localhost:%d" % port       # the same server by another name, as users reach it
os.environ.update(EASEL_BLOB_URL="s3://%s/%s?endpoint=%s&region=us-east-1&path_style=1&public_endpoint=%s"
                  % (BUCKET, PREFIX, endpoint, urllib.parse.quote(public, safe="")),
                  EASEL_S3_ACCESS_KEY=KEY, EASEL_S3_SECRET_KEY=SECRET,
                  # the longest lifetime, as long as Easel's signed URLs: so a
                  # redirect for a signed URL shows it is cut to the URL's exp
                  EASEL_BLOB_REDIRECT_S="604800")
sched_metrics = free_port()
os.environ["EASEL_METRICS_LISTEN"] = "127.0.0.1:%d" % sched_metrics     # the scheduler's
stack = Stack(renderers=0, webhooker=False)
del os.environ["EASEL_METRICS_LISTEN"]
del stack.env["EASEL_METRICS_LISTEN"]
stack.start("webhooker")
stack.start_renderer(0)
stack.wait_ready(1)
check("\"blobs\":\"s3\"" in stack.log_text("scheduler").replace(" ", ""),
      "the scheduler says its blobs are on S3: %s" % stack.log_text("scheduler")[-800:])

shot = make_png(400, 800, (30, 160, 90))
status, _, render = stack.json("POST", "/v1/renders", {
    "canvas": {"width": 1080, "height": 1920}, "background": {"color": "#203040"},
    "slides": [slide(data=shot, lines=["Stored", "in a bucket"])]})
check(status == 200 and render["status"] == "succeeded", "render: %d %r" % (status, render))
image = render["images"][0]

status, headers, _ = get_no_follow("/v1/files/" + image["id"])
check(status == 302, "GET /v1/files/{id} with the bytes on S3 answered %d, expected 302" % status)
where = headers.get("Location", "")
query = urllib.parse.parse_qs(urllib.parse.urlsplit(where).query)
check(where.startswith("%s/%s/%s/" % (public, BUCKET, PREFIX)),
      "redirected to the object by the public endpoint: %r" % where)
check(query.get("X-Amz-Expires") == ["604800"] and query.get("response-content-type") == ["image/png"],
      "a presigned GET living EASEL_BLOB_REDIRECT_S, answering image/png: %r" % query)
check(SECRET not in where, "no secret in the redirect")
check(headers.get("Cache-Control") == "private, no-store", "the redirect is not cached: %r" % headers)
with urllib.request.urlopen(where, timeout=30) as resp:       # no credentials
    png = resp.read()
    ctype = resp.headers.get("Content-Type")
check(png_header(png)[:2] == (1080, 1920), "the PNG is %r" % (png_header(png)[:2],))
check(hashlib.sha256(png).hexdigest() == image["sha256"], "the presigned GET served the image's bytes")
check(ctype == "image/png", "served as image/png, not %r" % ctype)
with urllib.request.urlopen(image["url"], timeout=30) as resp:  # Easel's signed URL, followed
    check(resp.read() == png, "Easel's signed URL leads to the same bytes")
time.sleep(2.1)    # the signed URL was minted with the render: now 2 s of its week are gone
before = int(time.time())
status, headers, _ = get_no_follow(image["url"][len(stack.base):], auth=False)
check(status == 302, "a signed URL redirects too: %d" % status)
lives = int(urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["X-Amz-Expires"][0])
url_exp = int(urllib.parse.parse_qs(urllib.parse.urlsplit(image["url"]).query)["exp"][0])
# (a signed URL's exp is the end of its 60 s signing window plus its week,
# so it may run past S3's 7-day presign cap, which then bounds the redirect)
check(lives <= min(604800, url_exp - before + 1),
      "the redirect ends no later than the signed URL (exp in %d s), lives %d s" % (url_exp - before, lives))
tampered = image["url"].replace("sig=", "sig=0")
status, _, _ = get_no_follow(tampered[len(stack.base):], auth=False)
check(status == 401, "a tampered signed URL answered %d, expected 401" % status)
status, _, raw = stack.request("GET", "/v1/renders/%s/archive" % render["id"])
check(status == 200, "the archive answered %d" % status)
names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
inside = [zipfile.ZipFile(io.BytesIO(raw)).read(n) for n in names if n.endswith(".png")]
check(png in inside, "the archive streams the image from the store: %r" % names)

sha = image["sha256"]
status, body = s3_get("%s/%s/%s" % (PREFIX, sha[:2], sha))
check(status == 200 and body == png, "the result is in the bucket (HTTP %d, %d bytes)" % (status, len(body)))
# the inline input is released when the render is final, and the sweep
# deletes its object from the bucket
ssha = hashlib.sha256(shot).hexdigest()
wait_for(lambda: s3_get("%s/%s/%s" % (PREFIX, ssha[:2], ssha))[0] == 404, 10,
         "the released inline image to be deleted from the bucket")
# an upload is an object too, and a render draws it from the bucket (as its
# screenshot and as its background, both read by the renderer with
# presigned GETs)
upload = make_png(300, 500, (200, 90, 30))
status, _, up = stack.json("POST", "/v1/files", raw=upload, headers={"Content-Type": "image/png"})
check(status == 201, "upload: %d %r" % (status, up))
usha = up["sha256"]
status, body = s3_get("%s/%s/%s" % (PREFIX, usha[:2], usha))
check(status == 200 and body == upload, "the upload is in the bucket (HTTP %d)" % status)
status, _, again = stack.json("POST", "/v1/files", raw=upload, headers={"Content-Type": "image/png"})
check(status == 200 and again["id"] == up["id"], "the same bytes again are the same file: %d %r" % (status, again))


def incoming():
    status, listing = s3_get("?list-type=2&prefix=" + urllib.parse.quote(PREFIX + "/incoming/", safe=""))
    check(status == 200, "list incoming: %d" % status)
    return listing


def refused_leaves_nothing(data, what):
    sha = hashlib.sha256(data).hexdigest()
    status, _, found = stack.json("GET", "/v1/files?sha256=" + sha)
    check(status == 404, "%s: no file of its bytes: %d %r" % (what, status, found))
    check(s3_get("%s/%s/%s" % (PREFIX, sha[:2], sha))[0] == 404, "%s: no blob in the bucket" % what)
    check(b"<Key>" not in incoming(), "%s: nothing left incoming: %r" % (what, incoming()[:300]))


def arm(fault):
    server.stdin.write(fault.encode() + b"\n")
    server.stdin.flush()
    check(json.loads(server.stdout.readline().decode()) == {"armed": fault}, "the store armed %s" % fault)


# a store that refuses the gateway's PUT
arm("fail-put")
failed = make_png(305, 505, (90, 20, 230))
status, headers, err = stack.json("POST", "/v1/files", raw=failed, headers={"Content-Type": "image/png"})
check(status == 503 and err["error"]["code"] == "store_unavailable" and headers.get("Retry-After") == "1",
      "an upload the store refused: %d %r" % (status, err))
refused_leaves_nothing(failed, "the refused upload")
# a store that keeps other bytes than were sent (it answers another ETag)
arm("lie-etag")
lied = make_png(310, 510, (20, 90, 230))
status, _, err = stack.json("POST", "/v1/files", raw=lied, headers={"Content-Type": "image/png"})
check(status == 502 and err["error"]["code"] == "upload_corrupted" and err["error"]["param"] == "file",
      "an upload the store did not keep as sent: %d %r" % (status, err))
refused_leaves_nothing(lied, "the corrupted upload")
arm("lie-etag")
status, _, err = stack.json("POST", "/v1/renders", {
    "canvas": {"width": 1080, "height": 1920}, "background": {"color": "#203040"},
    "slides": [slide(data=lied, lines=["Never", "stored"])]})
check(status == 502 and err["error"]["code"] == "upload_corrupted" and err["error"]["param"] == "slides",
      "a render whose inline image the store did not keep as sent: %d %r" % (status, err))
refused_leaves_nothing(lied, "the corrupted inline image")
status, _, listed = stack.json("GET", "/v1/renders?limit=10")
check(status == 200 and len(listed["data"]) == 1, "no render was made of it: %r" % listed)
# an upload cut short: the body ends before its Content-Length
short = make_png(320, 520, (120, 190, 30))
conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
conn.putrequest("POST", "/v1/files")
for k, v in (("Authorization", "Bearer " + stack.key), ("Content-Type", "image/png"),
             ("Content-Length", str(len(short)))):
    conn.putheader(k, v)
conn.endheaders()
conn.send(short[:len(short) // 2])
conn.sock.shutdown(1)          # no more bytes come
resp = conn.getresponse()
status, raw = resp.status, resp.read()
conn.close()
check(status == 400 and json.loads(raw)["error"]["code"] == "incomplete_body",
      "a short upload is refused with a JSON error: %d %r" % (status, raw[:200]))
refused_leaves_nothing(short, "the short upload")

status, _, r2 = stack.json("POST", "/v1/renders", {
    "canvas": {"width": 1080, "height": 1920}, "background": {"image": {"file_id": up["id"]}},
    "slides": [{"headline": {"lines": ["From an upload"]}, "screenshot": {"file_id": up["id"]}}]})
check(status == 200 and r2["status"] == "succeeded", "a render of the upload: %d %r" % (status, r2))
# the renderer read its inputs and wrote its results with presigned URLs:
# no image byte came to the scheduler over the bus, none is left incoming
with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % sched_metrics, timeout=10) as resp:
    metrics = resp.read().decode()
via = {path: float(line.split()[-1]) for line in metrics.splitlines()
       for path in ("bus", "renderer") if line.startswith('easel_scheduler_result_bytes_total{path="%s"}' % path)}
check(via.get("bus") == 0 and via.get("renderer", 0) >= len(png),
      "result bytes by path, bus 0 and the renderer's own: %r" % via)
inputs = [float(line.split()[-1]) for line in metrics.splitlines()
          if line.startswith("easel_scheduler_input_bytes_total")]
check(inputs == [0.0], "no input image went to a renderer on the bus: %r" % inputs)
uploads = {path: float(line.split()[-1]) for line in metrics.splitlines()
           for path in ("bus", "gateway") if line.startswith('easel_scheduler_upload_bytes_total{path="%s"}' % path)}
check(uploads.get("bus") == 0 and uploads.get("gateway") == len(upload) + len(shot),
      "upload bytes by path, bus 0 and the gateway's own (the file and the inline screenshot): %r" % uploads)
status, listing = s3_get("?list-type=2&prefix=" + urllib.parse.quote(PREFIX + "/incoming/", safe=""))
check(status == 200 and b"<Key>" not in listing, "no upload is left incoming: %r" % listing[:300])
for name in ("scheduler", "renderer0"):
    check("X-Amz-Signature" not in stack.log_text(name), "no presigned URL in the %s log" % name)
blobs = os.path.join(stack.data, "blobs")
local = [f for _, _, files in os.walk(blobs) for f in files] if os.path.isdir(blobs) else []
check(not local, "nothing is written under the data dir's blobs/: %r" % local[:5])

# a scheduler with a wrong secret stops at start and says why
bad_data = os.path.join(stack.dir, "bad-data")
env = dict(stack.env, EASEL_DATA=bad_data, EASEL_S3_SECRET_KEY="wrong-secret-9999",
           EASEL_API_ENDPOINT="tcp://127.0.0.1:%d" % free_port(),
           EASEL_WORK_ENDPOINT="tcp://127.0.0.1:%d" % free_port(),
           EASEL_EVENTS_ENDPOINT="tcp://127.0.0.1:%d" % free_port())
out = subprocess.run([os.path.join(BIN, "easel-scheduler")], env=env, capture_output=True, timeout=30)
text = (out.stdout + out.stderr).decode()
check(out.returncode != 0, "a scheduler with a wrong secret exited %d" % out.returncode)
check("cannot open the blob store" in text and "403" in text, "it says why: %s" % text[-600:])
check("wrong-secret-9999" not in text, "the secret is not in its log")

for name in list(stack.logs):
    check(SECRET not in stack.log_text(name), "no secret in the %s log" % name)
stack.close()

# proxy mode: the gateway serves the bytes, read from the bucket by the
# scheduler; with --blob-via-scheduler uploads come on the bus again
os.environ["EASEL_BLOB_REDIRECT_S"] = "0"
os.environ["EASEL_BLOB_VIA_SCHEDULER"] = "1"
proxy_metrics = free_port()
os.environ["EASEL_METRICS_LISTEN"] = "127.0.0.1:%d" % proxy_metrics
proxy = Stack(renderers=0, webhooker=False)
del os.environ["EASEL_METRICS_LISTEN"]
status, headers, body = proxy.request("GET", "/v1/files/" + image["id"])
check(status == 404, "another stack's data dir does not know the image: %d" % status)
status, f = None, None
status, _, f = proxy.json("POST", "/v1/files", raw=upload, headers={"Content-Type": "image/png"})
check(status in (200, 201), "upload in proxy mode: %d %r" % (status, f))
check(f["sha256"] == usha, "the same bytes: %r" % f)
status, headers, body = proxy.request("GET", "/v1/files/" + f["id"])
check(status == 200 and body == upload, "proxy mode streams the bytes from the bucket: %d" % status)


def upload_bytes():
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % proxy_metrics, timeout=10) as resp:
        text = resp.read().decode()
    return {path: float(line.split()[-1]) for line in text.splitlines() for path in ("bus", "gateway")
            if line.startswith('easel_scheduler_upload_bytes_total{path="%s"}' % path)}


before = upload_bytes()
fresh = make_png(330, 530, (60, 60, 200))
status, _, f = proxy.json("POST", "/v1/files", raw=fresh, headers={"Content-Type": "image/png"})
check(status == 201, "an upload with --blob-via-scheduler: %d %r" % (status, f))
check(s3_get("%s/%s/%s" % (PREFIX, f["sha256"][:2], f["sha256"]))[1] == fresh, "it is in the bucket")
after = upload_bytes()
check(after["bus"] - before["bus"] == len(fresh) and after["gateway"] == before["gateway"] == 0,
      "with --blob-via-scheduler the bytes came on the bus: %r -> %r" % (before, after))
proxy.close()
print("it_blob_s3: ok")
