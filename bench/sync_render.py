#!/usr/bin/env python3
"""sync_render: one-slide sync renders end to end, the renderer on one
thread per render against every core it can get, in the same run.

Per run (--runs, default 3): two fresh stacks, one after the other (their
order alternates between runs), each with one renderer (one slot): one with
EASEL_RENDER_THREADS=1 (the one-thread path: the resampler in one pass, the
PNG in one libdeflate call) and one with the default (par_threads(): the
online CPUs, at most 4). Each renders --renders sync one-slide renders of the
benchmark slide (1320x2868, the screenshot fetched from loopback, a new
headline each time and "cache": false, so every render is drawn): wall from
POST to the 200 with the image; after one warm-up render. Reported: the
median wall of each and threads / one-thread against the target of <= 0.6;
and, from the renderer's log ("task rendered", whole ms: the screenshot's
fetch, draw, encode and RESULT encode), the median of the renderer's task
time and of wall - task time per render (`*_outside_ms`: gateway, scheduler,
bus and commit, the part the renderer's threads cannot shorten).

With --baseline-bin DIR (the bin directory of another build, e.g. the
commit before the speed work, built with -DEASEL_BENCH=ON), each run also
starts a third stack from that build with its default threads and reports
its median wall (`baseline_ms`) and `threads_over_baseline`: this build's
one-slide sync render against that build's, in the same run (the issue's
"<= 0.6x today's").

usage: bench/sync_render.py [--runs 3] [--renders 15] [--baseline-bin DIR]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import benchlib
import harness


def task_ms(stack):
    """The renderer's "task rendered" times, in log order."""
    out = []
    for line in stack.log_text("renderer0").splitlines():
        if line.startswith("{"):
            e = json.loads(line)
            if e.get("msg") == "task rendered":
                out.append(float(e["ms"]))
    return out


def walls(shots, threads_env, renders, tag, bin_dir=None):
    """Per render after the warm-up: (wall s, the renderer's task ms); from the
    build in bin_dir when given (its task times None when its log has none)."""
    own = harness.BIN
    if bin_dir:
        harness.BIN = bin_dir
    try:
        stack = harness.Stack(renderers=1, webhooker=False, renderer_env=threads_env)
    finally:
        harness.BIN = own
    try:
        out = []
        for i in range(renders + 1):
            body = benchlib.render_body([benchlib.slide(shots.url(), i)], async_=False)
            body["slides"][0]["headline"]["lines"][1] = "in one calm place %s %d" % (tag, i)
            body["cache"] = False
            t0 = time.monotonic()
            status, _, r = stack.json("POST", "/v1/renders", body)
            wall = time.monotonic() - t0
            if status != 200 or r["status"] != "succeeded":
                sys.exit("sync render answered %d: %r" % (status, r))
            if i:                                   # the first one warms the stack
                out.append(wall)
        tasks = task_ms(stack)[1:]
        if len(tasks) != len(out) and bin_dir:
            tasks = [None] * len(out)
        elif len(tasks) != len(out):
            sys.exit("the renderer logged %d renders for %d" % (len(tasks), len(out)))
        return list(zip(out, tasks))
    finally:
        stack.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    ap.add_argument("--renders", type=int, default=15, choices=range(1, 101))
    ap.add_argument("--baseline-bin", help="another build's bin directory, measured in the same run")
    args = ap.parse_args()
    benchlib.need(os.path.join(benchlib.BIN, "easel-renderer"))
    if args.baseline_bin:
        args.baseline_bin = os.path.abspath(args.baseline_bin)
        benchlib.need(os.path.join(args.baseline_bin, "easel-renderer"))
    tmp = tempfile.mkdtemp(prefix="easel-bench-sync-")
    shots = benchlib.FileServer(benchlib.make_shot(tmp))
    runs = []
    try:
        for run in range(args.runs):
            order = [("one_thread", {"EASEL_RENDER_THREADS": "1"}, None), ("threads", {}, None)]
            if args.baseline_bin:
                order.append(("baseline", {}, args.baseline_bin))
            if run % 2:
                order.reverse()
            r = {}
            for name, env, bin_dir in order:
                got = walls(shots, env, args.renders, "%s%d" % (name, run), bin_dir)
                w = [g[0] for g in got]
                r[name + "_ms"] = round(1000 * benchlib.median(w), 1)
                r[name + "_p90_ms"] = round(1000 * benchlib.percentile(w, 0.9), 1)
                if got[0][1] is not None:
                    r[name + "_task_ms"] = round(benchlib.median([g[1] for g in got]), 1)
                    r[name + "_outside_ms"] = round(benchlib.median([1000 * g[0] - g[1] for g in got]), 1)
            r["threads_over_one_thread"] = round(r["threads_ms"] / r["one_thread_ms"], 3)
            if args.baseline_bin:
                r["threads_over_baseline"] = round(r["threads_ms"] / r["baseline_ms"], 3)
            r["cpus"] = os.cpu_count()
            r["loadavg_1m"] = round(os.getloadavg()[0], 2)
            runs.append(r)
            print(json.dumps(r), file=sys.stderr)
    finally:
        shots.close()
        os.unlink(os.path.join(tmp, "shot.png"))
        os.rmdir(tmp)
    benchlib.report("sync_render", runs, {k: benchlib.median([r[k] for r in runs]) for k in runs[0]})


if __name__ == "__main__":
    main()
