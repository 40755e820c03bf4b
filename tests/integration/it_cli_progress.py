"""The CLI shows what happens, as it happens:
- `easel CMD --help` (and -h) prints that command's usage on stdout, exit 0,
  for every command;
- a spec can come from standard input (`easel render -`);
- a sync render over the sync limit fails with exit 3 and says to use --async;
- `render --async --wait` off a terminal prints one plain line per change of
  progress (several before the end on a 100-image render, each different,
  counting images), not one line at the end;
- on a terminal the redrawn line erases what a longer line left (each \\r
  redraw ends with ESC[K), so no stale characters remain;
- a spec file that is not JSON is exit 2, a spec the API rejects is exit 3
  (docs/api.md and docs/ci.md say the same)."""
import json
import os
import pty
import select
import subprocess
import tempfile
from harness import BIN, Stack, check

EASEL = os.path.join(BIN, "easel")
stack = Stack(renderers=1, webhooker=False)
env = dict(os.environ, EASEL_URL=stack.base, EASEL_API_KEY=stack.key)


def run(args, stdin=None, timeout=120):
    return subprocess.run([EASEL] + args, env=env, input=stdin, capture_output=True, timeout=timeout)


def spec(n_slides, n_locales=4):
    locales = ["en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "ko-KR", "pt-BR", "nl-NL", "sv-SE"]
    body = {"canvas": {"preset": "appstore.iphone_6_9"},
            "matrix": {"locales": locales[:n_locales]},
            "slides": [{"headline": {"lines": ["Slide %d of the set" % i]}} for i in range(n_slides)]}
    return json.dumps(body).encode()


try:
    for cmd in ("up", "keys", "credits", "certs", "backup", "render", "capture", "jobs", "renders",
                "export", "docs"):
        for flag in ("--help", "-h"):
            out = run([cmd, flag])
            check(out.returncode == 0, "easel %s %s exited %d: %r" % (cmd, flag, out.returncode, out.stderr))
            check(("easel %s" % cmd).encode() in out.stdout and b"exit 0" in out.stdout,
                  "easel %s %s printed no usage: %r" % (cmd, flag, out.stdout))
    out = run(["--help"])
    check(out.returncode == 0 and b"easel render" in out.stdout, "easel --help: %r" % out.stdout)

    # a spec from standard input, sync (4 images)
    out = run(["render", "-", "--json"], stdin=spec(1))
    check(out.returncode == 0, "render from stdin exited %d: %r" % (out.returncode, out.stderr))
    check(json.loads(out.stdout)["status"] == "succeeded", "render from stdin: %r" % out.stdout[:300])

    # over the sync limit: exit 3 and how to run it
    out = run(["render", "-"], stdin=spec(3))
    check(out.returncode == 3 and b"use_async" in out.stderr and b"--async" in out.stderr,
          "use_async: exit %d, %r" % (out.returncode, out.stderr))

    # a spec that is not JSON: exit 2; a spec the API rejects: exit 3
    out = run(["render", "-"], stdin=b"{not json")
    check(out.returncode == 2, "non-JSON spec: exit %d, %r" % (out.returncode, out.stderr))
    out = run(["render", "-"], stdin=b'{"slides": []}')
    check(out.returncode == 3 and b"HTTP 4" in out.stderr, "rejected spec: exit %d, %r" % (out.returncode, out.stderr))

    # off a terminal: one line per change while it renders
    out = run(["render", "-", "--async", "--wait"], stdin=spec(10, 10), timeout=300)
    check(out.returncode == 0, "async render exited %d: %r" % (out.returncode, out.stderr[-400:]))
    lines = [l for l in out.stderr.decode().splitlines() if l.startswith("rnd_")]
    check(len(lines) >= 3, "want several progress lines before the end, got %r" % lines)
    check(len(set(lines)) == len(lines), "a progress line repeated (one per change): %r" % lines)
    check(all("images" in l for l in lines) and lines[-1].endswith("100/100 images"),
          "progress lines count images and end at 100/100: %r" % lines)
    check(any("processing" in l for l in lines[:-1]), "no line while processing: %r" % lines)

    # --out names files by locale, preset and slide; the summary has counts and lint, no URLs
    outdir = tempfile.mkdtemp()
    out = run(["render", "-", "--out", outdir], stdin=spec(2, 2))
    check(out.returncode == 0, "render --out exited %d: %r" % (out.returncode, out.stderr))
    files = sorted(os.path.relpath(os.path.join(d, f), outdir) for d, _, fs in os.walk(outdir) for f in fs)
    check(files == ["de-DE/appstore.iphone_6_9/01.png", "de-DE/appstore.iphone_6_9/02.png",
                    "en-US/appstore.iphone_6_9/01.png", "en-US/appstore.iphone_6_9/02.png"],
          "render --out wrote %r" % files)
    text = out.stdout.decode()
    check("images: 4 (4 succeeded" in text and "lint: " in text and "saved 4 images" in text
          and "http" not in text, "render summary: %r" % text)

    # on a terminal: redrawn in place, each redraw erasing the rest of the line
    master, slave = pty.openpty()
    proc = subprocess.Popen([EASEL, "render", "-", "--async", "--wait"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    proc.stdin.write(spec(5))
    proc.stdin.close()
    tty = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    proc.wait(timeout=120)
    os.close(master)
    check(proc.returncode == 0, "terminal render exited %d: %r" % (proc.returncode, tty[-300:]))
    redraws = tty.split(b"\r")[1:]
    check(len(redraws) >= 2, "want redraws on a terminal, got %r" % tty[:400])
    for part in redraws:
        body = part.split(b"\n")[0]
        if body:
            check(body.endswith(b"\x1b[K"), "a redraw does not erase the rest of the line: %r" % part)
    print("it_cli_progress: ok")
finally:
    stack.close()
