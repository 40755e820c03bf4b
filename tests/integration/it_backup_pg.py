"""The whole stack on PostgreSQL (run by tests/pg/run.sh, which sets
EASEL_DATABASE_URL): a render done through the gateway leaves no SQLite
file in the data dir; `easel backup` refuses with an answer that names
pg_dump, and the pg_dump it documents takes a dump holding the render,
which pg_restore lists. Without EASEL_DATABASE_URL it is a usage error."""
import os
import subprocess

from harness import BIN, Stack, ShotServer, check, slide

url = os.environ.get("EASEL_DATABASE_URL", "")
check(url.startswith("postgresql://"), "run me with tests/pg/run.sh (EASEL_DATABASE_URL=%r)" % url)
pg_bin = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")

shots = ShotServer()
stack = Stack(renderers=1)
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"width": 300, "height": 600},
    "slides": [slide(shots.url("/shot.png"), lines=["On PostgreSQL"])]})
check(status == 202, "create answered %d: %r" % (status, body))
render = stack.wait_render(body["id"])
check(render["status"] == "succeeded", "render did not succeed: %r" % render)
check(not os.path.exists(os.path.join(stack.data, "easel.db")),
      "the store is PostgreSQL's: no easel.db in the data dir")

out = subprocess.run([os.path.join(BIN, "easel"), "backup", "--data", stack.data,
                      os.path.join(stack.dir, "backup.db")], env=stack.env, capture_output=True,
                     timeout=60)
check(out.returncode == 1 and b"pg_dump" in out.stderr,
      "easel backup on PostgreSQL points to pg_dump: rc %d %r" % (out.returncode, out.stderr))
check(not os.path.exists(os.path.join(stack.dir, "backup.db")), "and writes no file")

# the documented procedure: pg_dump -Fc, then pg_restore can read it
dump = os.path.join(stack.dir, "easel.dump")
out = subprocess.run([os.path.join(pg_bin, "pg_dump"), "-Fc", "-f", dump, url],
                     capture_output=True, timeout=60)
check(out.returncode == 0 and os.path.getsize(dump) > 0, "pg_dump: %r" % out.stderr)
out = subprocess.run([os.path.join(pg_bin, "pg_restore"), "-l", dump], capture_output=True, timeout=60)
check(out.returncode == 0 and b"TABLE public renders" in out.stdout
      and b"TABLE public schema_version" in out.stdout, "pg_restore -l lists the store: %r" % out.stdout[:400])
out = subprocess.run([os.path.join(pg_bin, "pg_restore"), "-a", "-t", "renders", "-f", "-", dump],
                     capture_output=True, timeout=60)
check(body["id"].encode() in out.stdout, "the dump holds the render %s" % body["id"])

print("it_backup_pg: ok")
