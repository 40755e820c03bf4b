#!/usr/bin/env python3
"""webhooks: completion-to-receipt latency and deliveries/s into a local receiver.

Per run (--runs, default 3):
  - latency: a fresh stack (2 renderers, webhooker) renders --renders small
    renders (200x200, headline only) with a webhook_url on a loopback receiver
    (benchlib.HookSink: one write per answer), submitted at --rate per second so renderers never
    queue; latency = receipt time at the receiver - the render's completed_at
    (ms, from the SQLite db). p50 / p99. The webhooker runs with
    EASEL_WEBHOOK_TRACE=1: its "webhook trace" lines say, per delivery, when
    (ms after completed_at) the event hint arrived, the EVENTS reply arrived,
    the HTTP request started and its answer was complete; p50 / p99 of each
    are reported as trace_*, to show where a tail comes from.
  - throughput: a fresh stack without the webhooker renders --burst renders
    with a webhook_url on bench_ceiling (civetweb answering 200), waits until
    all have succeeded, then starts the webhooker and times until every
    delivery row is "delivered" (polled in the db): deliveries/s.

usage: bench/webhooks.py [--runs 3] [--renders 100] [--rate 50] [--burst 2000]
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time

import benchlib
import harness

CANVAS = {"width": 200, "height": 200}


def small(i):
    return [{"headline": {"lines": ["Hook %d" % i]}, "device": "none"}]


def db_query(stack, sql):
    db = sqlite3.connect(os.path.join(stack.data, "easel.db"), timeout=5)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


TRACE_STEPS = (("hint", "sub_ms"), ("fetched", "fetch_reply_ms"), ("request", "start_ms"),
               ("answered", "done_ms"))


def trace_breakdown(log_text):
    """p50 / p99 of each step of the webhooker's "webhook trace" lines."""
    rows = []
    for line in log_text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if row.get("msg") == "webhook trace":
            rows.append(row)
    out = {"trace_samples": len(rows)}
    for name, key in TRACE_STEPS:
        vals = [float(r[key]) for r in rows if float(r.get(key, -1)) >= 0]
        out["trace_%s_p50_ms" % name] = round(benchlib.percentile(vals, 0.5), 2)
        out["trace_%s_p99_ms" % name] = round(benchlib.percentile(vals, 0.99), 2)
    out["trace_new_connections"] = sum(int(r.get("new_connections", 0)) for r in rows)
    return out


def latency_phase(n, rate):
    recv = benchlib.HookSink()
    os.environ["EASEL_WEBHOOK_TRACE"] = "1"    # read by the webhooker only
    try:
        stack = harness.Stack(renderers=2, webhooker=True)
    finally:
        del os.environ["EASEL_WEBHOOK_TRACE"]
    try:
        ids = []
        t0 = time.monotonic()
        for i in range(n):
            due = t0 + i / rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            body = benchlib.render_body(small(i), webhook_url=recv.url(), canvas=CANVAS)
            status, _, r = stack.json("POST", "/v1/renders", body)
            if status != 202:
                sys.exit("create answered %d: %r" % (status, r))
            ids.append(r["id"])
        harness.wait_for(lambda: len(recv.snapshot()) >= n, 60, "%d webhooks" % n)
        done = dict(db_query(stack, "SELECT id, completed_at FROM renders"))
        lat = []
        for call in recv.snapshot():
            body = json.loads(call["body"])
            rid = body.get("id") or body.get("data", {}).get("id")
            if rid in done and done[rid] > 0:
                lat.append(1000 * call["at"] - done[rid])
        if len(lat) < n:
            sys.exit("matched %d of %d webhooks to renders" % (len(lat), n))
        out = {"latency_p50_ms": round(benchlib.percentile(lat, 0.5), 1),
               "latency_p99_ms": round(benchlib.percentile(lat, 0.99), 1),
               "latency_max_ms": round(max(lat), 1), "latency_samples": len(lat)}
        out.update(trace_breakdown(stack.log_text("webhooker")))
        return out
    finally:
        stack.close()
        recv.close()


def throughput_phase(n):
    port = harness.free_port()
    ceil = subprocess.Popen([os.path.join(benchlib.BIN, "bench_ceiling"), "--listen",
                             "127.0.0.1:%d" % port, "--seconds", "110"])
    stack = harness.Stack(renderers=2, webhooker=False)
    try:
        url = "http://127.0.0.1:%d/hook" % port
        for j in range(n):
            status, _, r = stack.json("POST", "/v1/renders",
                                      benchlib.render_body(small(j), webhook_url=url, canvas=CANVAS))
            if status != 202:
                sys.exit("create answered %d: %r" % (status, r))
        harness.wait_for(lambda: db_query(stack, "SELECT count(*) FROM renders WHERE status = 'succeeded'")[0][0] >= n,
                         100, "%d renders to succeed" % n, interval=0.1)
        pending = db_query(stack, "SELECT count(*) FROM deliveries")[0][0]
        if pending < n:
            sys.exit("only %d deliveries queued for %d renders" % (pending, n))
        t0 = time.monotonic()
        stack.start("webhooker")
        harness.wait_for(lambda: db_query(stack, "SELECT count(*) FROM deliveries WHERE status = 'delivered'")[0][0] >= n,
                         100, "%d deliveries" % n, interval=0.02)
        secs = time.monotonic() - t0
        return {"burst": n, "burst_s": round(secs, 2), "deliveries_per_s": round(n / secs, 1),
                "webhooker_peak_rss_mb": round(benchlib.proc_rss_kb(stack.procs["webhooker"].pid)[1] / 1024, 1)}
    finally:
        stack.close()
        ceil.terminate()
        ceil.wait(timeout=10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    ap.add_argument("--renders", type=int, default=100, choices=range(10, 1001))
    ap.add_argument("--rate", type=int, default=50, choices=range(1, 201))
    ap.add_argument("--burst", type=int, default=2000, choices=range(10, 5001))
    args = ap.parse_args()
    for tool in ("easel-webhooker", "bench_ceiling"):
        benchlib.need(os.path.join(benchlib.BIN, tool))
    runs = []
    for _ in range(args.runs):
        r = latency_phase(args.renders, args.rate)
        r.update(throughput_phase(args.burst))
        runs.append(r)
        print(json.dumps(r), file=sys.stderr)
    benchlib.report("webhooks", runs, {k: benchlib.median([r[k] for r in runs]) for k in runs[0]})


if __name__ == "__main__":
    main()
