#!/usr/bin/env python3
"""memory: peak RSS of a renderer per concurrent 1320x2868 task.

Per run (--runs, default 3) and per slot count K in 1, 2, 4: a fresh stack
with one renderer started with --slots K renders 4*K images of the benchmark
slide (screenshot fetched from loopback) at once; the renderer's peak RSS
(VmHWM) is read before it exits. Reported: idle RSS, peak per K, peak / K and
the marginal cost of a concurrent task ((peak(4) - peak(1)) / 3) against the
target of <= 40 MB per concurrent task. --render-threads N starts the
renderer with EASEL_RENDER_THREADS=N (1: one thread per render; default: the
renderer's own choice). The gateway's peak under load is in bench/api.py.

usage: bench/memory.py [--runs 3] [--render-threads N]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import benchlib
import harness

SLOTS = (1, 2, 4)


def peak_for(slots, shots, env):
    stack = harness.Stack(renderers=0, webhooker=False)
    try:
        proc = stack.start("renderer0", "--slots", str(slots), env=env, service="renderer")
        stack.wait_ready(1)
        time.sleep(0.2)
        idle = benchlib.proc_rss_kb(proc.pid)[0] / 1024
        n = 4 * slots
        body = benchlib.render_body([benchlib.slide(shots.url(), i) for i in range(min(n, 10))],
                                    ["en-US", "de-DE", "fr-FR", "es-ES"][:max(1, n // 10 + (n % 10 > 0))])
        status, _, r = stack.json("POST", "/v1/renders", body)
        if status != 202:
            sys.exit("create answered %d: %r" % (status, r))
        done = benchlib.wait_done(stack, r["id"])
        if done["status"] != "succeeded":
            sys.exit("render ended %s" % done["status"])
        return idle, benchlib.proc_rss_kb(proc.pid)[1] / 1024, done["progress"]["total"]
    finally:
        stack.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    ap.add_argument("--render-threads", type=int, choices=range(1, 17))
    args = ap.parse_args()
    env = {"EASEL_RENDER_THREADS": str(args.render_threads)} if args.render_threads else None
    benchlib.need(os.path.join(benchlib.BIN, "easel-renderer"))
    tmp = tempfile.mkdtemp(prefix="easel-bench-memory-")
    shots = benchlib.FileServer(benchlib.make_shot(tmp))
    runs = []
    try:
        for _ in range(args.runs):
            r = {}
            for k in SLOTS:
                idle, peak, images = peak_for(k, shots, env)
                r["idle_rss_mb_%d" % k] = round(idle, 1)
                r["peak_rss_mb_%d_slots" % k] = round(peak, 1)
                r["peak_per_slot_mb_%d" % k] = round(peak / k, 1)
                r["images_%d" % k] = images
            r["marginal_mb_per_concurrent_task"] = round(
                (r["peak_rss_mb_4_slots"] - r["peak_rss_mb_1_slots"]) / 3, 1)
            r["render_threads"] = args.render_threads or 0
            runs.append(r)
            print(json.dumps(r), file=sys.stderr)
    finally:
        shots.close()
        os.unlink(os.path.join(tmp, "shot.png"))
        os.rmdir(tmp)
    benchlib.report("memory", runs, {k: benchlib.median([r[k] for r in runs]) for k in runs[0]})


if __name__ == "__main__":
    main()
