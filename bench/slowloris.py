"""The gateway under hostile connection patterns (issue: idle connections and
slowloris clients stalled it for everyone).

Holds --idle TCP connections that send nothing, --slowloris clients sending a
header byte every --drip-s seconds, and --polls long polls
(GET /v1/renders/{id}?wait=--poll-wait-s of a render that stays processing:
no renderer runs; each answered poll is replaced by a new one) open against a loopback stack (tests/integration/conn_pressure.py keeps
each number up, reopening what the gateway closes), then measures --samples
normal requests (GET /v1/renders/{id}, a fresh connection each, one at a
time) and prints p50/p99 in ms, per run and the median of --runs runs.
Goal: p99 < 50 ms with 2000 idle + 200 slowloris + 500 long polls.

    python3 bench/slowloris.py [--idle 2000] [--slowloris 200] [--polls 500]
                               [--samples 200] [--runs 3]
"""
import argparse
import http.client
import json
import sys
import time

import benchlib
from benchlib import median, percentile
from harness import Stack, slide
from conn_pressure import Pressure, raise_nofile


def one_run(args):
    stack = Stack(renderers=0, webhooker=False)
    try:
        status, _, r = stack.json("POST", "/v1/renders", {"async": True,
                                  "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide()]})
        assert status == 202, (status, r)
        rid = r["id"]
        p = Pressure(stack.http_port, idle=args.idle, slowloris=args.slowloris, polls=args.polls,
                     poll_path="/v1/renders/%s?wait=%d" % (rid, args.poll_wait_s),
                     poll_key=stack.key, drip_s=args.drip_s)
        opened = p.start(ramp_s=30)
        time.sleep(args.settle_s)       # past one header timeout: the gateway recycles idle ones
        lat, errors = [], 0
        for _ in range(args.samples):
            t0 = time.perf_counter()
            try:
                c = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
                c.request("GET", "/v1/renders/" + rid, headers={"Authorization": "Bearer " + stack.key})
                resp = c.getresponse()
                resp.read()
                c.close()
                ok = resp.status == 200
            except OSError:
                ok = False
            dt = (time.perf_counter() - t0) * 1000
            if ok:
                lat.append(dt)
            else:
                errors += 1
            time.sleep(0.02)
        snap = p.snapshot()
        p.close()
        return {"p50_ms": round(percentile(lat, 0.50), 2), "p99_ms": round(percentile(lat, 0.99), 2),
                "max_ms": round(max(lat), 2) if lat else None, "samples": len(lat), "errors": errors,
                "all_open": opened, "open_at_end": snap["open"], "poll_answers": snap["answered"],
                "closed_by_gateway": snap["closed_by_server"]}
    finally:
        stack.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--slowloris", type=int, default=200)
    ap.add_argument("--polls", type=int, default=500)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--drip-s", type=float, default=2.0)
    ap.add_argument("--poll-wait-s", type=int, default=5)
    ap.add_argument("--settle-s", type=float, default=7.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    nofile = raise_nofile(args.idle + args.slowloris + args.polls + 1024)
    runs = []
    for i in range(args.runs):
        run = one_run(args)
        runs.append(run)
        print(json.dumps(dict(run=i + 1, **run)), file=sys.stderr)
    print(json.dumps({"benchmark": "slowloris", "idle": args.idle, "slowloris": args.slowloris,
                      "long_polls": args.polls, "samples": args.samples, "nofile": nofile,
                      "p50_ms": median([r["p50_ms"] for r in runs]),
                      "p99_ms": median([r["p99_ms"] for r in runs]),
                      "goal_p99_ms": 50,
                      "errors": sum(r["errors"] for r in runs),
                      "poll_answers": [r["poll_answers"] for r in runs]}))


if __name__ == "__main__":
    main()
