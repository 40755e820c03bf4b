"""`easel migrate`: a data dir's SQLite state moved onto PostgreSQL (run by
tests/pg/run.sh, which sets EASEL_DATABASE_URL to an empty database).

A stack on SQLite: an account with credits, an uploaded file, a finished
render that uses it (its signed image URL kept), a second key revoked.
migrate refuses while the scheduler runs (the copy must see every commit)
and without EASEL_DATABASE_URL, and into a database holding a table it
does not know. With the scheduler stopped it copies every
table in one transaction; a second run refuses (the database holds state
now) and changes nothing. The scheduler restarted on PostgreSQL over the
same data dir (the blobs stay in its files) serves the same render, the
same balance and ledger, the old signed URL (the URL secret came along),
the revoked key still refused, the upload by id; a new render gets fresh
ids and identity numbers past the copied ones and is charged."""
import json
import os
import signal
import subprocess

from harness import BIN, Stack, ShotServer, check, make_png, slide, wait_for

url = os.environ.pop("EASEL_DATABASE_URL", "")
check(url.startswith("postgresql://"), "run me with tests/pg/run.sh (EASEL_DATABASE_URL=%r)" % url)

shots = ShotServer()
stack = Stack(renderers=1, webhooker=False)                       # on SQLite: url is out of its env
acct = json.loads(stack.cli("keys", "create", "--name", "moving", "--credits", "20", "--json"))
key = acct["api_key"]
gone = json.loads(stack.cli("keys", "create", "--name", "gone", "--json"))["api_key"]
stack.cli("keys", "revoke", gone[:11])

status, _, up = stack.json("POST", "/v1/files", raw=make_png(300, 600, rgb=(10, 160, 90)), auth=key,
                           headers={"Content-Type": "image/png"})
check(status in (200, 201) and up["id"].startswith("file_"), "upload: %d %r" % (status, up))
body = {"canvas": {"width": 300, "height": 600},
        "slides": [{"headline": {"lines": ["Before the move"]}, "screenshot": {"file_id": up["id"]}},
                   slide(shots.url("/shot.png"), lines=["Fetched"])]}
status, _, before = stack.json("POST", "/v1/renders", body, auth=key)
check(status == 200 and before["status"] == "succeeded", "render on SQLite: %d %r" % (status, before))
signed = before["images"][0]["url"][len(stack.base):]
status, _, png_before = stack.request("GET", signed, auth=False)
check(status == 200 and png_before[:4] == b"\x89PNG", "the signed URL on SQLite: %d" % status)
_, _, account_before = stack.json("GET", "/v1/account", auth=key)


def migrate(env_url=url, *extra):
    env = dict(stack.env)
    env.pop("EASEL_DATABASE_URL", None)
    if env_url:
        env["EASEL_DATABASE_URL"] = env_url
    return subprocess.run([os.path.join(BIN, "easel"), "migrate", "--data", stack.data] + list(extra),
                          env=env, capture_output=True, timeout=120)


out = migrate()
check(out.returncode == 1 and b"scheduler is running" in out.stderr,
      "migrate refuses beside a running scheduler: %d %r" % (out.returncode, out.stderr))
out = migrate("")
check(out.returncode == 2 and b"EASEL_DATABASE_URL" in out.stderr, "migrate needs a URL: %d %r"
      % (out.returncode, out.stderr))

stack.kill("scheduler", signal.SIGTERM)
pg_bin = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")


def psql(sql):
    out = subprocess.run([os.path.join(pg_bin, "psql"), "-v", "ON_ERROR_STOP=1", "-qAt", url, "-c", sql],
                         capture_output=True, timeout=30)
    check(out.returncode == 0, "psql %s: %r" % (sql, out.stderr))
    return out.stdout.decode().strip()


# a database that holds something else is not Easel's to fill
psql("CREATE TABLE stray (x integer)")
out = migrate(url)
check(out.returncode == 1 and b"stray" in out.stderr and b"nothing copied" in out.stderr,
      "a table Easel does not know: %d %r" % (out.returncode, out.stderr))
check(psql("SELECT count(*) FROM accounts") == "0", "and nothing was copied")
psql("DROP TABLE stray")
out = migrate(url, "--json")
check(out.returncode == 0, "migrate: %d %r" % (out.returncode, out.stderr))
copied = json.loads(out.stdout)["tables"]
check(copied["accounts"] == 2 + 1 and copied["api_keys"] == 3 and copied["renders"] == 1
      and copied["tasks"] == 2 and copied["files"] == 1 and copied["meta"] >= 1 and copied["ledger"] >= 2,
      "every table copied: %r" % copied)
again = migrate(url)
check(again.returncode == 1 and b"already holds Easel state" in again.stderr,
      "a second migrate refuses: %d %r" % (again.returncode, again.stderr))

# the scheduler on PostgreSQL, over the same data dir (its blobs)
stack.start("scheduler", env={"EASEL_DATABASE_URL": url})
stack.wait_ready(1)
status, _, after = stack.json("GET", "/v1/renders/" + before["id"], auth=key)
check(status == 200 and after["status"] == "succeeded"
      and [im["sha256"] for im in after["images"]] == [im["sha256"] for im in before["images"]]
      and after["credits_used"] == before["credits_used"], "the render on PostgreSQL: %d %r" % (status, after))
status, _, png_after = stack.request("GET", signed, auth=False)
check(status == 200 and png_after == png_before, "the URL signed on SQLite still opens: %d" % status)
_, _, account_after = stack.json("GET", "/v1/account", auth=key)
check(account_after["balance"] == account_before["balance"], "the same balance: %r vs %r"
      % (account_after, account_before))
status, _, err = stack.json("GET", "/v1/account", auth=gone)
check(status == 401, "the revoked key stays revoked: %d %r" % (status, err))
status, _, f = stack.request("GET", "/v1/files/%s" % up["id"], auth=key)
check(status == 200 and f[:4] == b"\x89PNG", "the upload by id: %d" % status)

body["slides"][0]["headline"]["lines"] = ["After the move"]
status, _, new = stack.json("POST", "/v1/renders", body, auth=key)
check(status == 200 and new["status"] == "succeeded" and new["id"] != before["id"], "a new render on"
      " PostgreSQL: %d %r" % (status, new))
_, _, account_new = stack.json("GET", "/v1/account", auth=key)
check(account_new["balance"] == account_before["balance"] - 2, "the new render is charged: %r" % account_new)
status, _, listed = stack.json("GET", "/v1/renders?limit=10", auth=key)
check(status == 200 and [r["id"] for r in listed["data"]] == [new["id"], before["id"]],
      "newest first: identity numbers continue past the copied rows: %r" % [r["id"] for r in listed["data"]])
env = dict(stack.env, EASEL_DATABASE_URL=url)
out = subprocess.run([os.path.join(BIN, "easel"), "keys", "list", "--data", stack.data, "--json"], env=env,
                     capture_output=True, timeout=30)
check(out.returncode == 0 and b"moving" in out.stdout, "keys list on PostgreSQL: %r" % out.stdout[:300])
stack.close()
print("it_migrate_pg: ok")
