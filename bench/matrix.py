#!/usr/bin/env python3
"""matrix: 100 images (10 slides x 10 locales, 1320x2868, the benchmark
screenshot fetched from a loopback server) with 1 and with 2 renderers.

Per run (--runs, default 3): a fresh stack with one renderer renders --singles
one-image sync renders (the median is "a single render", end to end), then
the 100-image matrix async (POST to status succeeded); then a fresh stack with
two renderers renders the matrix again. Reported: wall times, the sum of
single renders (100 x the median single), and wall(2) / (sum / 2) against the
target of <= 1.15; also the renderers' peak RSS.

usage: bench/matrix.py [--runs 3] [--singles 5]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import benchlib
import harness

LOCALES = ["en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "ko-KR", "pt-BR", "nl-NL", "sv-SE"]


def matrix_wall(stack, shots):
    body = benchlib.render_body([benchlib.slide(shots.url(), i) for i in range(10)], LOCALES)
    t0 = time.monotonic()
    status, _, r = stack.json("POST", "/v1/renders", body)
    if status != 202:
        sys.exit("matrix create answered %d: %r" % (status, r))
    done = benchlib.wait_done(stack, r["id"])
    wall = time.monotonic() - t0
    if done["status"] != "succeeded" or done["progress"]["done"] != 100:
        sys.exit("matrix ended %s with %r" % (done["status"], done["progress"]))
    return wall


def renderer_rss(stack):
    return max(benchlib.proc_rss_kb(p.pid)[1] for n, p in stack.procs.items()
               if n.startswith("renderer")) / 1024


def one_run(shots, singles):
    r = {}
    s1 = harness.Stack(renderers=1, webhooker=False)
    try:
        walls = []
        for i in range(singles):
            body = benchlib.render_body([benchlib.slide(shots.url(), i)], async_=False)
            t0 = time.monotonic()
            status, _, out = s1.json("POST", "/v1/renders", body)
            walls.append(time.monotonic() - t0)
            if status != 200 or out["status"] != "succeeded":
                sys.exit("single render answered %d: %r" % (status, out))
        r["single_ms"] = round(1000 * benchlib.median(walls), 1)
        r["sum_of_singles_s"] = round(100 * benchlib.median(walls), 2)
        r["wall_1_renderer_s"] = round(matrix_wall(s1, shots), 2)
        r["renderer_peak_rss_mb_1"] = round(renderer_rss(s1), 1)
    finally:
        s1.close()
    s2 = harness.Stack(renderers=2, webhooker=False)
    try:
        r["wall_2_renderers_s"] = round(matrix_wall(s2, shots), 2)
        r["renderer_peak_rss_mb_2"] = round(renderer_rss(s2), 1)
    finally:
        s2.close()
    r["wall_1_over_sum"] = round(r["wall_1_renderer_s"] / r["sum_of_singles_s"], 3)
    r["wall_2_over_half_sum"] = round(r["wall_2_renderers_s"] / (r["sum_of_singles_s"] / 2), 3)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    ap.add_argument("--singles", type=int, default=5, choices=range(1, 51))
    args = ap.parse_args()
    benchlib.need(os.path.join(benchlib.BIN, "easel-renderer"))
    tmp = tempfile.mkdtemp(prefix="easel-bench-matrix-")
    shots = benchlib.FileServer(benchlib.make_shot(tmp))
    runs = []
    try:
        for _ in range(args.runs):
            r = one_run(shots, args.singles)
            runs.append(r)
            print(json.dumps(r), file=sys.stderr)
    finally:
        shots.close()
        os.unlink(os.path.join(tmp, "shot.png"))
        os.rmdir(tmp)
    benchlib.report("matrix", runs, {k: benchlib.median([r[k] for r in runs]) for k in runs[0]})


if __name__ == "__main__":
    main()
