#!/usr/bin/env python3
"""A request's memory in the gateway is a small multiple of its body.

One inline 1.4 MB screenshot x 40 locales x 3 presets (120 images) used to be
copied into every task spec (a ~200 MB bus message and gateway peak); now the
image travels once. Two such creates must grow the gateway's peak RSS by at
most S_BOUND x the body size, and the image must be stored once. The bound is
not checked under AddressSanitizer (its allocator keeps freed memory).
"""
import os
import sqlite3
import sys

import inline_memory
from harness import Stack, check

S_BOUND = 12


def main():
    stack = Stack(renderers=0, webhooker=False)
    m = inline_memory.measure(stack, requests=2)
    ratio = m["growth"] / m["body_bytes"]
    print("gateway peak RSS growth %.1f MB for a %.1f MB body: %.1fx"
          % (m["growth"] / 1e6, m["body_bytes"] / 1e6, ratio))
    if inline_memory.sanitized(stack.procs["gateway"].pid):
        print("AddressSanitizer build: the bound is not checked")
    else:
        check(ratio <= S_BOUND, "gateway peak RSS grew %.1fx the body (bound %dx)" % (ratio, S_BOUND))
    con = sqlite3.connect("file:%s/easel.db?mode=ro" % stack.data, uri=True)
    blobs = con.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM blobs").fetchone()
    specs = con.execute("SELECT count(*), max(length(spec)) FROM tasks").fetchone()
    con.close()
    check(blobs[0] == 1, "the inline image is stored once for both renders, got %r" % (blobs,))
    check(specs[0] == 240 and specs[1] < 4096, "240 tasks with small specs, got %r" % (specs,))
    status, _, _ = stack.request("GET", "/healthz", auth=False)
    check(status == 200, "gateway still up")
    for r in m["renders"]:
        status, _, got = stack.json("GET", "/v1/renders/" + r)
        check(status == 200 and got["progress"]["total"] == 120, "render %s stored whole" % r)
    stack.close()
    print("adv_memory: ok")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
