"""The easel CLI against a live stack: capture (downloads the framed image),
jobs status --json / --watch (exit 0 completed, 1 failed, plain lines when
not a terminal, the state redrawn in place on one), renders status, render spec.json
--out DIR, a bad API key (exit 3, one line naming the cause), usage (2)."""
import json
import os
import pty
import subprocess
import tempfile
from harness import Stack, ShotServer, BIN, check, slide
from capture_pages import PageServer, need_chromium

need_chromium()
pages = PageServer()
shots = ShotServer()
stack = Stack(renderers=1, renderer_env={"EASEL_CAPTURE_TIMEOUT_MS": "6000"})
tmp = tempfile.mkdtemp(prefix="easel-it-cli-")
env = dict(os.environ, EASEL_URL=stack.base, EASEL_API_KEY=stack.key)


def easel(*args, key=None, stderr=subprocess.PIPE):
    e = dict(env, EASEL_API_KEY=key) if key else env
    return subprocess.run([os.path.join(BIN, "easel")] + list(args), env=e, stdout=subprocess.PIPE,
                          stderr=stderr, timeout=120)


# capture: the framed PNG lands in --out
out = os.path.join(tmp, "page.png")
r = easel("capture", pages.url("/page"), "--device", "browser-macos", "--background", "ocean",
          "--out", out, "--json")
check(r.returncode == 0, "capture exited %d: %s" % (r.returncode, r.stderr.decode()))
job = json.loads(r.stdout)
check(job["status"] == "completed" and job["id"].startswith("job_"), "capture --json: %r" % job)
check(open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "capture --out is not a PNG")

# jobs status --json parses; --watch exits 0 on a completed job
r = easel("jobs", "status", job["id"], "--json")
check(r.returncode == 0 and json.loads(r.stdout)["id"] == job["id"], "jobs status --json: %r" % r.stdout)
r = easel("jobs", "status", job["id"], "--watch")
check(r.returncode == 0, "jobs status --watch of a completed job exited %d" % r.returncode)
check(b"completed" in r.stderr and b"\r" not in r.stderr, "plain progress lines expected: %r" % r.stderr)

# a failing job: --watch exits 1 with one line naming why
status, _, failing = stack.json("POST", "/v1/capture", {"url": pages.url("/hang"), "async": True})
check(status == 202, "async create: %d" % status)
r = easel("jobs", "status", failing["job_id"], "--watch", "--json")
check(r.returncode == 1, "--watch of a failed job exited %d, expected 1" % r.returncode)
check(json.loads(r.stdout)["status"] == "failed", "watch --json: %r" % r.stdout)
lines = [l for l in r.stderr.decode().splitlines() if l.startswith("easel:")]
check(len(lines) == 1 and "navigation timeout" in lines[0], "failure line: %r" % r.stderr)

# on a terminal --watch redraws the job's state in place (a job is one capture:
# no image count, no meaningless "2/2"), erasing the rest of the line
master, slave = pty.openpty()
r = easel("jobs", "status", job["id"], "--watch", stderr=slave)
os.close(slave)
bar = os.read(master, 4096)
os.close(master)
check(r.returncode == 0 and b"\rjob_" in bar and b"completed\x1b[K" in bar and b"2/2" not in bar,
      "no in-place job state on a terminal: %r" % bar)

# render spec.json --out DIR; renders status --watch --json
spec = os.path.join(tmp, "spec.json")
with open(spec, "w") as f:
    json.dump({"canvas": {"preset": "play.phone"}, "slides": [slide(shots.url("/shot.png"))]}, f)
outdir = os.path.join(tmp, "imgs")
r = easel("render", spec, "--async", "--wait", "--out", outdir, "--json")
check(r.returncode == 0, "render exited %d: %s" % (r.returncode, r.stderr.decode()))
render = json.loads(r.stdout)
check(render["status"] == "succeeded", "render: %r" % render)
files = [os.path.relpath(os.path.join(d, f), outdir) for d, _, fs in os.walk(outdir) for f in fs]
check(files == ["default/play.phone/01.png"], "render --out wrote %r" % files)
r = easel("renders", "status", render["id"], "--watch", "--json")
check(r.returncode == 0 and json.loads(r.stdout)["status"] == "succeeded", "renders status: %r" % r.stdout)

# a bad key: exit 3 and one line naming the cause
r = easel("jobs", "status", job["id"], "--json", key="sk_not_a_real_key_000000")
err = r.stderr.decode().strip().splitlines()
check(r.returncode == 3, "a bad API key exited %d, expected 3" % r.returncode)
check(len(err) == 1 and "401" in err[0] and "invalid_api_key" in err[0], "bad key message: %r" % err)
# an error answer (422) is 3 too; nobody listening is 3
r = easel("capture", "ftp://example.com/x")
check(r.returncode == 3 and b"url" in r.stderr, "422 capture: %d %r" % (r.returncode, r.stderr))
r = subprocess.run([os.path.join(BIN, "easel"), "jobs", "status", job["id"]], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, env=dict(env, EASEL_URL="http://127.0.0.1:9"), timeout=30)
check(r.returncode == 3 and len(r.stderr.decode().strip().splitlines()) == 1, "no server: %d %r" % (r.returncode, r.stderr))
# usage
for args in (["jobs", "status"], ["jobs", "status", "rnd_x"], ["capture"], ["render"], ["jobs", "status", job["id"], "--bogus"]):
    r = easel(*args)
    check(r.returncode == 2, "easel %s exited %d, expected 2" % (" ".join(args), r.returncode))
print("it_cli_capture: 1 passed, 0 failed")
