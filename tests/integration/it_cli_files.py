"""`easel render` with local screenshot paths, whole stack:
- "screenshot": {"path": ".../{locale}/01_home.png"} is expanded over the
  matrix, each distinct file uploaded once (plain progress lines off a
  terminal), replaced by file_ids, rendered, and with --out DIR saved;
- a second run asks by sha256 and sends nothing again (each line "skipped");
- --json gives one JSON line per upload on stderr;
- a missing file fails with exit 2 naming the path before anything is
  uploaded (a new file beside it was not sent: the server does not have it)."""
import hashlib
import json
import os
import subprocess
import tempfile
from harness import BIN, Stack, check, make_png, png_header

EASEL = os.path.join(BIN, "easel")
stack = Stack(renderers=1, webhooker=False)
env = dict(os.environ, EASEL_URL=stack.base, EASEL_API_KEY=stack.key)
root = tempfile.mkdtemp(prefix="easel-cli-files-")
shots = os.path.join(root, "fastlane", "screenshots")
for i, loc in enumerate(("en-US", "de-DE")):
    os.makedirs(os.path.join(shots, loc))
    with open(os.path.join(shots, loc, "01_home.png"), "wb") as f:
        f.write(make_png(300, 640, (30 + 100 * i, 60, 90)))


def run(args, cwd=root):
    return subprocess.run([EASEL] + args, env=env, capture_output=True, timeout=120, cwd=cwd)


def write_spec(name, locales, path):
    body = {"canvas": {"preset": "appstore.iphone_6_9"}, "matrix": {"locales": locales},
            "slides": [{"headline": {"lines": ["Home"]}, "screenshot": {"path": path}}]}
    p = os.path.join(root, name)
    with open(p, "w") as f:
        json.dump(body, f)
    return p


spec = write_spec("spec.json", ["en-US", "de-DE"], "fastlane/screenshots/{locale}/01_home.png")
out_dir = os.path.join(root, "out")
r = run(["render", spec, "--wait", "--out", out_dir])
err = r.stderr.decode()
check(r.returncode == 0, "render with paths exited %d: %s" % (r.returncode, err))
sent = [l for l in err.splitlines() if l.startswith("upload ")]
check(len(sent) == 2 and all(" sent " in l for l in sent), "two uploads sent: %r" % err)
check("upload 1/2" in err and "upload 2/2" in err, "uploads counted n/m: %r" % err)
saved = []
for dirpath, _, names in os.walk(out_dir):
    saved += [os.path.join(dirpath, n) for n in names if n.endswith(".png")]
check(len(saved) == 2, "two images saved: %r" % saved)
for p in saved:
    with open(p, "rb") as f:
        check(png_header(f.read())[:2] == (1320, 2868), "%s is store sized" % p)

r = run(["render", spec])
err = r.stderr.decode()
check(r.returncode == 0, "second render exited %d: %s" % (r.returncode, err))
lines = [l for l in err.splitlines() if l.startswith("upload ")]
check(len(lines) == 2 and all(" skipped " in l for l in lines), "second run skips both: %r" % err)

r = run(["render", spec, "--json"])
events = [json.loads(l) for l in r.stderr.decode().splitlines() if l.startswith("{")]
check(r.returncode == 0 and len(events) == 2 and all(e["event"] == "upload" and e["skipped"]
                                                      and e["file_id"].startswith("file_") for e in events),
      "--json upload lines: %r" % r.stderr)

# a new file for fr-FR's neighbour, but ja-JP's is missing: nothing is sent
fresh = make_png(310, 640, (200, 200, 10))
os.makedirs(os.path.join(shots, "fr-FR"))
with open(os.path.join(shots, "fr-FR", "01_home.png"), "wb") as f:
    f.write(fresh)
bad = write_spec("bad.json", ["fr-FR", "ja-JP"], "fastlane/screenshots/{locale}/01_home.png")
r = run(["render", bad])
err = r.stderr.decode()
check(r.returncode == 2, "missing file exited %d: %s" % (r.returncode, err))
check("fastlane/screenshots/ja-JP/01_home.png" in err, "the error names the path: %r" % err)
status, _, _ = stack.json("GET", "/v1/files?sha256=" + hashlib.sha256(fresh).hexdigest())
check(status == 404, "nothing was uploaded before the check failed (fr-FR lookup %d)" % status)
print("ok")
