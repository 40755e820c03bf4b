#!/usr/bin/env python3
"""Storage cannot be grown without bound by a client.

- An inline screenshot used by every image of a matrix is stored once
  (one blobs row, one file), the task specs hold no image bytes, and once the
  render is final its specs are emptied and the inline image is collected.
- A create that would take the account over --storage-quota-bytes answers
  403 storage_quota_exceeded, and nothing of it is stored.
- With a tiny --retention-s a final render expires: GET answers 404
  resource_missing (as any unknown id), its rows and output files are deleted, the ledger keeps its
  charge and the balance is unchanged.
"""
import os
import random
import sqlite3
import struct
import sys
import time
import zlib

from harness import Stack, check, fail, slide, wait_for


def noisy_png(width, height, seed):
    """A PNG that does not compress: its size is about width*height*3."""
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + rnd.randbytes(width * 3) for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


def db_rows(stack, sql, *args):
    con = sqlite3.connect("file:%s/easel.db?mode=ro" % stack.data, uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def blob_files(stack):
    root = os.path.join(stack.data, "blobs")
    out = []
    for shard in os.listdir(root):
        out += [n for n in os.listdir(os.path.join(root, shard)) if not n.startswith(".")]
    return out


def matrix_body(shot, locales):
    return {"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
            "matrix": {"locales": locales}, "slides": [slide(data=shot)]}


def error_of(status, body, want_status, want_code):
    check(status == want_status, "expected %d %s, got %d %r" % (want_status, want_code, status, body))
    check(isinstance(body, dict) and body.get("error", {}).get("code") == want_code,
          "expected error code %s, got %r" % (want_code, body))
    check(body["error"].get("message"), "the error says why: %r" % body)


def stays_up(stack):
    status, _, _ = stack.request("GET", "/healthz", auth=False)
    check(status == 200, "gateway still up (healthz %d)" % status)
    for name, proc in stack.procs.items():
        check(proc.poll() is None, "%s still running:\n%s" % (name, stack.log_tails()))


def test_once_and_quota():
    shot = noisy_png(200, 250, 1)                    # ~150 KB
    os.environ["EASEL_STORAGE_QUOTA_BYTES"] = str(len(shot) * 6)
    stack = Stack(renderers=0, webhooker=False)
    del os.environ["EASEL_STORAGE_QUOTA_BYTES"]
    locales = ["en-US", "de-DE", "fr-FR", "ja-JP", "es-ES", "it-IT", "pt-BR", "ko-KR"]
    status, _, r = stack.json("POST", "/v1/renders", matrix_body(shot, locales))
    check(status == 202, "inline matrix accepted, got %d %r" % (status, r))
    rid = r["id"]
    inline = db_rows(stack, "SELECT sha256, bytes FROM blobs")
    check(len(inline) == 1 and inline[0][1] == len(shot),
          "the inline image is one blobs row of %d bytes, got %r" % (len(shot), inline))
    check(blob_files(stack) == [inline[0][0]], "one blob file, got %r" % blob_files(stack))
    specs = db_rows(stack, "SELECT length(spec), input_sha256 FROM tasks WHERE render_id = ?", rid)
    check(len(specs) == len(locales), "one task per locale, got %d" % len(specs))
    check(all(n < 4096 and sha == inline[0][0] for n, sha in specs),
          "task specs hold no image bytes and name the blob: %r" % specs[:2])

    # over the quota: a second, different inline image would exceed it
    used_before = db_rows(stack, "SELECT count(*) FROM renders")[0][0]
    big = noisy_png(200, 1600, 2)                    # ~960 KB: over 6 x 150 KB with the first
    status, _, body = stack.json("POST", "/v1/renders", matrix_body(big, ["en-US"]))
    error_of(status, body, 403, "storage_quota_exceeded")
    check("quota" in body["error"]["message"], "the message names the quota: %r" % body)
    check(db_rows(stack, "SELECT count(*) FROM renders")[0][0] == used_before,
          "a refused create stores no render")
    check(len(db_rows(stack, "SELECT sha256 FROM blobs")) == 1, "a refused create stores no blob")
    check(len(blob_files(stack)) == 1, "a refused create writes no file")
    # a create that fits under the quota is accepted (stored once: same bytes, same file)
    status, _, r2 = stack.json("POST", "/v1/renders", matrix_body(shot, ["en-US"]))
    check(status == 202, "a create within the quota is accepted, got %d %r" % (status, r2))
    check(len(blob_files(stack)) == 1, "the same image in two renders is one file")

    stack.start_renderer(0)
    stack.wait_ready(1)
    for one in (rid, r2["id"]):
        done = stack.wait_render(one, timeout=120)
        check(done["status"] == "succeeded", "render %s succeeded: %r" % (one, done.get("error")))
    # final: specs emptied, inline image collected (row and file), outputs stay
    specs = db_rows(stack, "SELECT length(spec), input_sha256 FROM tasks WHERE render_id = ?", rid)
    check(all(n == 0 and sha is None for n, sha in specs), "final specs dropped: %r" % specs[:2])
    check(db_rows(stack, "SELECT count(*) FROM render_blobs")[0][0] == 0, "no render_blobs left")
    wait_for(lambda: not db_rows(stack, "SELECT 1 FROM blobs WHERE sha256 = ?", inline[0][0]),
             20, "the inline blob row to be collected")
    wait_for(lambda: inline[0][0] not in blob_files(stack), 20, "the inline blob file to go")
    outputs = db_rows(stack, "SELECT DISTINCT sha256 FROM tasks WHERE sha256 IS NOT NULL")
    check(outputs and all(o[0] in blob_files(stack) for o in outputs), "output files stay")
    status, _, got = stack.json("GET", "/v1/renders/" + rid)
    check(status == 200 and len(got["images"]) == len(locales), "the render is still served")
    stays_up(stack)
    stack.close()


def test_retention():
    os.environ["EASEL_RETENTION_S"] = "2"
    stack = Stack(renderers=1, webhooker=False)
    del os.environ["EASEL_RETENTION_S"]
    shot = noisy_png(100, 100, 3)
    status, _, r = stack.json("POST", "/v1/renders", matrix_body(shot, ["en-US", "de-DE"]))
    check(status == 202, "accepted, got %d %r" % (status, r))
    done = stack.wait_render(r["id"])
    check(done["status"] == "succeeded", "succeeded: %r" % done.get("error"))
    img = done["images"][0]
    status, _, acct1 = stack.json("GET", "/v1/account")

    def gone():
        status, _, body = stack.json("GET", "/v1/renders/" + r["id"])
        return (status, body) if status != 200 else None
    status, body = wait_for(gone, 30, "the render to expire")
    error_of(status, body, 404, "resource_missing")   # as any unknown id
    check(db_rows(stack, "SELECT count(*) FROM tasks")[0][0] == 0, "its tasks are deleted")
    wait_for(lambda: not blob_files(stack), 20, "its files to be collected")
    status, _, _ = stack.request("GET", "/v1/files/" + img["id"])
    check(status == 404, "its file answers 404, got %d" % status)
    status, _, listing = stack.json("GET", "/v1/renders")
    check(status == 200 and not listing["data"], "the list no longer shows it: %r" % listing)
    status, _, acct2 = stack.json("GET", "/v1/account")
    keep = ("balance", "used", "available")
    check(status == 200 and [acct2.get(k) for k in keep] == [acct1.get(k) for k in keep],
          "balance and usage unchanged by expiry: %r -> %r" % (acct1, acct2))
    check(db_rows(stack, "SELECT count(*) FROM ledger WHERE render_id = ?", r["id"])[0][0] == 1,
          "the ledger keeps the charge")
    stays_up(stack)
    stack.close()


def main():
    test_once_and_quota()
    test_retention()
    print("adv_storage: ok")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # a harness error is a failure, with its reason
        fail("unexpected %r" % exc)
    sys.exit(0)
