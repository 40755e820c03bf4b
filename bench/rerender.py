#!/usr/bin/env python3
"""rerender: a 40-image set (4 slides x 10 locales, 1320x2868, the benchmark
screenshot sent inline) rendered, then rendered again with one slide's
screenshot changed, then again with "cache": false.

Per run (--runs, default 3), on a fresh stack with one renderer: wall time
from POST to succeeded and credits charged for each of the three renders.
The peer is Easel itself without the cache (the third render, the same
work as a first render); ratios: second / first and second / no-cache.
Every cached image must carry the earlier image's sha256.

usage: bench/rerender.py [--runs 3]
"""
import argparse
import base64
import json
import os
import sys
import tempfile
import time

import benchlib
import harness

LOCALES = ["en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "ko-KR", "pt-BR", "nl-NL", "sv-SE"]


def body(shots, changed, **extra):
    slides = []
    for i in range(4):
        data = shots[1] if (changed and i == 3) else shots[0]
        slides.append({"headline": {"lines": ["Track every habit", "in one calm place %d" % i]},
                       "screenshot": {"data": data}, "device": "iphone"})
    b = benchlib.render_body(slides, LOCALES)
    b.update(extra)
    return b


def timed(stack, b):
    status, _, a = stack.json("GET", "/v1/account")
    before = a["used"]
    t0 = time.monotonic()
    status, _, r = stack.json("POST", "/v1/renders", b)
    if status != 202:
        sys.exit("create answered %d: %r" % (status, r))
    done = benchlib.wait_done(stack, r["id"])
    wall = time.monotonic() - t0
    if done["status"] != "succeeded":
        sys.exit("render ended %s" % done["status"])
    status, _, a = stack.json("GET", "/v1/account")
    return wall, a["used"] - before, done


def one_run(shots):
    stack = harness.Stack(renderers=1, webhooker=False)
    try:
        w1, c1, first = timed(stack, body(shots, False))
        w2, c2, second = timed(stack, body(shots, True))
        w3, c3, _ = timed(stack, body(shots, True, cache=False))
    finally:
        stack.close()
    sha = {(im["slide"], im["locale"]): im["sha256"] for im in first["images"]}
    cached = [im for im in second["images"] if im["cached"]]
    if len(cached) != 30 or any(im["sha256"] != sha[(im["slide"], im["locale"])] for im in cached):
        sys.exit("the second render should take 30 images from the first: %d" % len(cached))
    return {"first_s": round(w1, 2), "first_credits": c1, "changed_one_slide_s": round(w2, 2),
            "changed_one_slide_credits": c2, "no_cache_s": round(w3, 2), "no_cache_credits": c3,
            "changed_over_first": round(w2 / w1, 3), "changed_over_no_cache": round(w2 / w3, 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    args = ap.parse_args()
    benchlib.need(os.path.join(benchlib.BIN, "easel-renderer"))
    tmp = tempfile.mkdtemp(prefix="easel-bench-rerender-")
    path = benchlib.make_shot(tmp)
    with open(path, "rb") as f:
        shot = f.read()
    os.unlink(path)
    os.rmdir(tmp)
    other = harness.make_png(1179, 2556, rgb=(200, 40, 40))
    shots = (base64.b64encode(shot).decode(), base64.b64encode(other).decode())
    runs = []
    for _ in range(args.runs):
        r = one_run(shots)
        runs.append(r)
        print(json.dumps(r), file=sys.stderr)
    benchlib.report("rerender", runs, {k: benchlib.median([r[k] for r in runs]) for k in runs[0]})


if __name__ == "__main__":
    main()
