"""Image bytes in an S3-compatible bucket, whole stack: the scheduler started
with EASEL_BLOB_URL pointing at a real S3 protocol server (tests/s3/start.js:
s3rver behind a SigV4 signature check) renders a slide; the result's bytes
are object <prefix>/ab/<sha256> of the bucket (read back with curl's own
SigV4 signing), the input image too, nothing lands under the data dir's
blobs/, the PNG is fetched through the gateway, and no log carries the
secret. A scheduler given a wrong secret stops at start, saying why, and
without the secret in its log. Exits 77 (skipped) only when node is not
installed."""
import atexit
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from harness import BIN, Stack, check, free_port, png_header, slide, make_png

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


def s3_get(key):
    """The object's bytes, read with curl's SigV4 signing (not Easel's)."""
    out = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3",
                          "-u", KEY + ":" + SECRET, "-H",
                          "x-amz-content-sha256: " + hashlib.sha256(b"").hexdigest(),
                          "%s/%s/%s" % (endpoint, BUCKET, key)], capture_output=True, timeout=30)
    body, _, status = out.stdout.rpartition(b"\n")
    return int(status or 0), body


atexit.register(stop_server)   # registered before the stack's, so it stops last

os.environ.update(EASEL_BLOB_URL="s3://%s/%s?endpoint=%s&region=us-east-1&path_style=1"
                  % (BUCKET, PREFIX, endpoint),
                  EASEL_S3_ACCESS_KEY=KEY, EASEL_S3_SECRET_KEY=SECRET)
stack = Stack(renderers=1)
check("\"blobs\":\"s3\"" in stack.log_text("scheduler").replace(" ", ""),
      "the scheduler says its blobs are on S3: %s" % stack.log_text("scheduler")[-800:])

shot = make_png(400, 800, (30, 160, 90))
status, _, render = stack.json("POST", "/v1/renders", {
    "canvas": {"width": 1080, "height": 1920}, "background": {"color": "#203040"},
    "slides": [slide(data=shot, lines=["Stored", "in a bucket"])]})
check(status == 200 and render["status"] == "succeeded", "render: %d %r" % (status, render))
image = render["images"][0]

status, headers, png = stack.request("GET", "/v1/files/" + image["id"])
check(status == 200, "download through the gateway answered %d" % status)
check(png_header(png)[:2] == (1080, 1920), "the PNG is %r" % (png_header(png)[:2],))
check(hashlib.sha256(png).hexdigest() == image["sha256"], "the gateway served the image's bytes")

sha = image["sha256"]
status, body = s3_get("%s/%s/%s" % (PREFIX, sha[:2], sha))
check(status == 200 and body == png, "the result is in the bucket (HTTP %d, %d bytes)" % (status, len(body)))
ssha = hashlib.sha256(shot).hexdigest()
status, body = s3_get("%s/%s/%s" % (PREFIX, ssha[:2], ssha))
check(status == 200 and body == shot, "the input image is in the bucket (HTTP %d)" % status)
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
print("it_blob_s3: ok")
