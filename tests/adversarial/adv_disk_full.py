#!/usr/bin/env python3
"""A full disk answers 507 insufficient_storage and loses nothing accepted.

The scheduler's data dir is a small tmpfs. A render is accepted, then the
disk is filled: a create answers 507 with the JSON error and stores nothing,
the accepted render stays processing while its results cannot be stored, and
once space returns it finishes with every image. Needs mount (root); exits
77 (skipped) where mounting a tmpfs is not permitted.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import harness
from harness import Stack, check, slide, wait_for


def mount_tmpfs(size):
    point = tempfile.mkdtemp(prefix="easel-full-")
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", point],
                         capture_output=True, timeout=20)
    if out.returncode != 0:
        os.rmdir(point)
        print("skipped: cannot mount a tmpfs: %s" % out.stderr.decode().strip(), file=sys.stderr)
        sys.exit(77)
    return point


def fill(point):
    """Writes a filler file until the file system is full; returns its path."""
    path = os.path.join(point, "filler")
    chunk = b"\xa5" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\xa5" * 512)
        except OSError:
            pass
    return path


def main():
    point = mount_tmpfs("48m")
    stack = None
    try:
        tempfile.tempdir = point          # the stack's data dir (and logs) live on the tmpfs
        os.environ["EASEL_LEASE_MS"] = "3000"
        stack = Stack(renderers=0, webhooker=False)
        tempfile.tempdir = None
        shot = harness.make_png(300, 600)
        body = {"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
                "matrix": {"locales": ["en-US", "de-DE", "fr-FR"]}, "slides": [slide(data=shot)]}
        status, _, accepted = stack.json("POST", "/v1/renders", body)
        check(status == 202, "accepted before the disk fills, got %d %r" % (status, accepted))

        filler = fill(point)
        other = harness.make_png(300, 600, rgb=(200, 30, 30))
        body2 = dict(body, slides=[slide(data=other)])
        status, _, err = stack.json("POST", "/v1/renders", body2)
        check(status == 507, "a create on a full disk answers 507, got %d %r" % (status, err))
        check(err and err.get("error", {}).get("code") == "insufficient_storage"
              and err["error"].get("message"), "JSON error insufficient_storage: %r" % err)
        status, _, listing = stack.json("GET", "/v1/renders?limit=100")
        check(status == 200 and [r["id"] for r in listing["data"]] == [accepted["id"]],
              "the refused create stored nothing: %r" % listing)

        # a renderer draws the accepted render while its results cannot be stored
        stack.start_renderer(0)
        stack.wait_ready(1)
        time.sleep(2)
        status, _, got = stack.json("GET", "/v1/renders/" + accepted["id"])
        check(status == 200 and got["status"] == "processing",
              "the accepted render waits while the disk is full: %d %r" % (status, got))
        status, _, _ = stack.request("GET", "/healthz", auth=False)
        check(status == 200, "the gateway stays up on a full disk")

        os.unlink(filler)                 # space returns
        done = stack.wait_render(accepted["id"], timeout=120)
        check(done["status"] == "succeeded" and len(done["images"]) == 3,
              "the accepted render finishes once space returns: %r" % done.get("error"))
        status, _, r2 = stack.json("POST", "/v1/renders", body2)
        check(status == 202, "creates are accepted again, got %d %r" % (status, r2))
        for name, proc in stack.procs.items():
            check(proc.poll() is None, "%s still running:\n%s" % (name, stack.log_tails()))
        print("adv_disk_full: ok")
    finally:
        if stack:
            stack.close()
        subprocess.run(["umount", point], capture_output=True, timeout=20)
        shutil.rmtree(point, ignore_errors=True)


if __name__ == "__main__":
    main()
