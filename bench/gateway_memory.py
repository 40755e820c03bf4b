#!/usr/bin/env python3
"""gateway_memory: the gateway's peak RSS growth for large inline-image renders.

Per run (--runs, default 3): a fresh stack with no renderer; --requests
(default 2) creates (statuses reported; a build that refuses them still
shows what refusing cost), each one inline 1.4 MB screenshot (base64) x 40 locales
x 3 presets = 120 images, posted one after another; the gateway's RSS before
and its peak (VmHWM) after. Reported: peak growth in MB and its ratio to the
body size (tests/adversarial/adv_memory.py asserts the ratio). Run it against
another build with EASEL_BIN_DIR to compare.

usage: bench/gateway_memory.py [--runs 3] [--requests 2]
"""
import argparse
import os
import sys

import benchlib
import harness

sys.path.insert(0, os.path.join(benchlib.ROOT, "tests", "adversarial"))
import inline_memory  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=2)
    args = ap.parse_args()
    runs = []
    for _ in range(args.runs):
        stack = harness.Stack(renderers=0, webhooker=False)
        try:
            m = inline_memory.measure(stack, args.requests, strict=False)
        finally:
            stack.close()
        run = {"body_mb": round(m["body_bytes"] / 1e6, 2),
               "rss_before_mb": round(m["rss_before"] / 1e6, 1),
               "peak_growth_mb": round(m["growth"] / 1e6, 1),
               "growth_per_body": round(m["growth"] / m["body_bytes"], 1),
               "statuses": m["statuses"]}
        print(run, flush=True)
        runs.append(run)
    benchlib.report("gateway_memory", runs,
                    {k: benchlib.median([r[k] for r in runs])
                     for k in ("peak_growth_mb", "growth_per_body")})


if __name__ == "__main__":
    main()
