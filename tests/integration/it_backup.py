"""`easel backup` while the scheduler runs and renders are being created: the
copy is a consistent database (quick_check ok) holding every render created
before it started; restoring it (scheduler stopped, file put in place)
serves those renders again. `easel certs create` writes a 0600 secret and
refuses bad names and overwrites. Bad usage gives clear errors."""
import os
import sqlite3
import stat
import subprocess
import threading

from harness import BIN, Stack, ShotServer, check, slide

shots = ShotServer()
stack = Stack(renderers=1)
body = {"async": True, "canvas": {"width": 300, "height": 600},
        "slides": [slide(shots.url("/shot.png"), lines=["Backed up"])]}
before = []
for _ in range(5):
    status, _, render = stack.json("POST", "/v1/renders", body)
    check(status == 202, "create answered %d" % status)
    before.append(render["id"])

# renders keep arriving while the backup runs
stop = threading.Event()
during = []


def writer():
    while not stop.is_set() and len(during) < 200:
        status, _, render = stack.json("POST", "/v1/renders", body)
        if status == 202:
            during.append(render["id"])


t = threading.Thread(target=writer)
t.start()
backup = os.path.join(stack.dir, "backup.db")
out = subprocess.run([os.path.join(BIN, "easel"), "backup", "--data", stack.data, backup, "--json"],
                     capture_output=True, timeout=60)
stop.set()
t.join(60)
check(out.returncode == 0, "easel backup failed: %s" % out.stderr.decode())
check(b'"bytes"' in out.stdout and not os.path.exists(backup + ".tmp"), "backup output: %r" % out.stdout)
db = sqlite3.connect(backup)
check(db.execute("PRAGMA quick_check").fetchone()[0] == "ok", "backup passes quick_check")
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
render_table = "renders" if "renders" in tables else None
check(render_table, "backup has the renders table: %r" % tables)
ids = set(r[0] for r in db.execute("SELECT id FROM renders"))
db.close()
check(set(before) <= ids, "every render created before the backup is in it")
check(len(during) > 0, "renders were created while the backup ran")

# ---- restore ------------------------------------------------------------------
for rid in before:
    stack.wait_render(rid)
stack.kill("scheduler")
for suffix in ("", "-wal", "-shm"):
    path = os.path.join(stack.data, "easel.db" + suffix)
    if os.path.exists(path):
        os.unlink(path)
os.replace(backup, os.path.join(stack.data, "easel.db"))
stack.start("scheduler")
for rid in before:
    render = stack.wait_render(rid, timeout=60)
    check(render["id"] == rid, "restored render %s: %r" % (rid, render))

# ---- bad usage ----------------------------------------------------------------
def easel(*args):
    return subprocess.run([os.path.join(BIN, "easel")] + list(args), capture_output=True, timeout=30)


r = easel("backup", "--data", os.path.join(stack.dir, "nothing-here"), os.path.join(stack.dir, "x.db"))
check(r.returncode == 1 and b"no database" in r.stderr, "backup of a missing data dir: %r" % r.stderr)
check(not os.path.exists(os.path.join(stack.dir, "nothing-here")), "backup must not create a data dir")
r = easel("backup", "--data", stack.data)
check(r.returncode == 2 and b"needs a FILE" in r.stderr, "backup without FILE: %r" % r.stderr)
r = easel("backup", "--data", stack.data, os.path.join(stack.dir, "no-such-dir", "x.db"))
check(r.returncode == 1 and b"cannot start the backup" in r.stderr, "backup into a missing dir: %r" % r.stderr)

certs = os.path.join(stack.dir, "certs")
r = easel("certs", "create", "render-07", "--dir", certs)
check(r.returncode == 0, "certs create: %r" % r.stderr)
mode = stat.S_IMODE(os.stat(os.path.join(certs, "render-07_secret")).st_mode)
check(mode == 0o600, "secret file mode %o, want 600" % mode)
with open(os.path.join(certs, "render-07")) as f:
    public = f.read()
check("public-key" in public and "secret-key" not in public, "public file holds no secret")
r = easel("certs", "create", "render-07", "--dir", certs)
check(r.returncode == 1 and b"not overwritten" in r.stderr, "overwrite refused: %r" % r.stderr)
for bad in ("../evil", ".hidden", "x" * 65, "sp ace"):
    r = easel("certs", "create", bad, "--dir", certs)
    check(r.returncode == 2 and b"bad certificate name" in r.stderr, "name %r: %r" % (bad, r.stderr))
r = easel("certs", "rotate")
check(r.returncode == 2 and b"usage: easel certs create" in r.stderr, "unknown certs verb: %r" % r.stderr)
print("it_backup: 1 passed, 0 failed")
