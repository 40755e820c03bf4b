#!/usr/bin/env python3
"""api: wrk against the whole stack, beside a civetweb ceiling, on loopback.

Per run (--runs, default 3; every run a fresh stack per --backend, measured
one after the other: sqlite, SQLite WAL with synchronous=FULL; pg, a
PostgreSQL 15 of the driver's own, tests/pg/pgserver.py, fsync and
synchronous_commit on, a fresh database per stack; figures prefixed sqlite_ /
pg_, and pg / sqlite ratios of the same run):
  - create: POST /v1/renders {"async": true, one headline-only slide} for
    --seconds with wrk -t2 -c32 (the issue's setting); no renderer runs, so the
    number is the create path alone (gateway -> scheduler -> one grouped
    durable commit -> 202). Afterwards the renders in the db are counted
    (python's sqlite3, or psql) and must be at least the number of 202s wrk
    counted (each 202 is a durable job).
  - get: GET /v1/renders/{id} of one render still processing (the scheduler
    is asked every time: the bus round trip), same wrk settings.
  - get_final: GET /v1/renders/{id} of one render that succeeded (rendered
    before the create phase by the one renderer, which is then stopped): the
    CI polling tail, answered from the gateway's finished-render cache
    (gateway/render_cache.h) after the first GET each second.
  - ceiling: bench_ceiling (civetweb, keep-alive, TCP_NODELAY, one write)
    answering a tiny body, same wrk settings.
Requests/s, p50/p99 latency and the gateway's peak RSS; ratios against the
ceiling. wrk shares the 2 cores with the server under test.

usage: bench/api.py [--runs 3] [--seconds 10] [--backend sqlite,pg]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

import benchlib
import harness

BODY = json.dumps({"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
                   "background": {"preset": "midnight"},
                   "slides": [{"headline": {"lines": ["Track every habit"]}}]})
# the finished render for get_final draws another picture: were it BODY's, its
# image would be in the image cache and every create would finish at once
# (served from the cache), leaving no render processing and no create path
FINAL_BODY = json.dumps(dict(json.loads(BODY), slides=[{"headline": {"lines": ["Finished first"]}}]))


def wrk(url, seconds, env):
    lua = os.path.join(benchlib.HERE, "wrk_count.lua")
    out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds, "--timeout", "5s", "-s", lua, url],
                         env=dict(os.environ, **env), capture_output=True, timeout=seconds + 60)
    for line in out.stdout.decode().splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON "):])
    sys.exit("wrk printed no result: %s %s" % (out.stdout.decode(), out.stderr.decode()))


def one_backend(seconds, database):
    r = {}
    stack = benchlib.stack(database, renderers=1, webhooker=True)
    try:
        gw = stack.procs["gateway"].pid
        base = {"EASEL_API_KEY": stack.key}
        # one finished render for get_final, then no renderer: creates stay queued
        st, _, done = stack.json("POST", "/v1/renders", json.loads(FINAL_BODY))
        if st != 202:
            sys.exit("the render for get_final was refused: %d %r" % (st, done))
        final_id = stack.wait_render(done["id"])["id"]
        stack.kill("renderer0", signal.SIGTERM)
        c = wrk(stack.base + "/v1/renders", seconds,
                dict(base, EASEL_BENCH_METHOD="POST", EASEL_BENCH_PATH="/v1/renders",
                     EASEL_BENCH_BODY=BODY))
        n202 = c["status"].get("202", 0)
        # no wait: a 202 is sent after its commit, so every one is a row now
        in_db = database.rows("SELECT count(*) FROM renders WHERE id <> %s"
                              % benchlib.sql_quote(final_id), stack.data)[0][0]
        rid = database.rows("SELECT id FROM renders WHERE status = 'processing' ORDER BY seq LIMIT 1",
                            stack.data)[0][0]
        if in_db < n202:
            sys.exit("%s: only %d renders in the db for %d 202s counted by wrk"
                     % (database.name, in_db, n202))
        r.update(create_rps=round(n202 / c["seconds"], 1), create_p50_ms=c["p50_ms"],
                 create_p99_ms=c["p99_ms"], create_202=n202, create_other=c["requests"] - n202,
                 create_socket_errors=c["socket_errors"], renders_in_db=in_db)
        r["gateway_peak_rss_mb_after_create"] = round(benchlib.proc_rss_kb(gw)[1] / 1024, 1)
        g = wrk(stack.base + "/v1/renders/" + rid, seconds,
                dict(base, EASEL_BENCH_METHOD="GET", EASEL_BENCH_PATH="/v1/renders/" + rid))
        n200 = g["status"].get("200", 0)
        r.update(get_rps=round(n200 / g["seconds"], 1), get_p50_ms=g["p50_ms"],
                 get_p99_ms=g["p99_ms"], get_other=g["requests"] - n200)
        f = wrk(stack.base + "/v1/renders/" + final_id, seconds,
                dict(base, EASEL_BENCH_METHOD="GET", EASEL_BENCH_PATH="/v1/renders/" + final_id))
        n200 = f["status"].get("200", 0)
        r.update(get_final_rps=round(n200 / f["seconds"], 1), get_final_p50_ms=f["p50_ms"],
                 get_final_p99_ms=f["p99_ms"], get_final_other=f["requests"] - n200)
        r["gateway_peak_rss_mb"] = round(benchlib.proc_rss_kb(gw)[1] / 1024, 1)
        r["scheduler_peak_rss_mb"] = round(benchlib.proc_rss_kb(stack.procs["scheduler"].pid)[1] / 1024, 1)
    finally:
        stack.close()
    return r


def one_run(seconds, backends):
    r = {"loadavg_1m_start": benchlib.loadavg()}
    for name in backends.names:
        for k, v in one_backend(seconds, backends.fresh(name)).items():
            r[name + "_" + k] = v
    port = harness.free_port()
    ceil = subprocess.Popen([os.path.join(benchlib.BIN, "bench_ceiling"), "--listen",
                             "127.0.0.1:%d" % port, "--seconds", str(seconds + 30)])
    try:
        time.sleep(0.3)
        h = wrk("http://127.0.0.1:%d/" % port, seconds, {"EASEL_BENCH_METHOD": "GET"})
        r.update(ceiling_rps=round(h["status"].get("200", 0) / h["seconds"], 1),
                 ceiling_p50_ms=h["p50_ms"], ceiling_p99_ms=h["p99_ms"])
    finally:
        ceil.terminate()
        ceil.wait(timeout=10)
    for name in backends.names:
        for k in ("create", "get", "get_final"):
            r["%s_%s_over_ceiling" % (name, k)] = round(r["%s_%s_rps" % (name, k)] / r["ceiling_rps"], 4)
    if len(backends.names) == 2:
        for k in ("create_rps", "get_rps", "get_final_rps"):
            r["pg_over_sqlite_" + k] = round(r["pg_" + k] / r["sqlite_" + k], 3)
    r["loadavg_1m_end"] = benchlib.loadavg()
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    ap.add_argument("--seconds", type=int, default=10, choices=range(1, 31))
    benchlib.add_backend_arg(ap)
    args = ap.parse_args()
    for tool in ("wrk", os.path.join(benchlib.BIN, "bench_ceiling"),
                 os.path.join(benchlib.BIN, "easel-gateway")):
        benchlib.need(tool)
    backends = benchlib.Backends(args.backend)
    runs = []
    for _ in range(args.runs):
        r = one_run(args.seconds, backends)
        runs.append(r)
        print(json.dumps(r), file=sys.stderr)
    benchlib.report("api", runs, {k: benchlib.median([r[k] for r in runs]) for k in runs[0]})


if __name__ == "__main__":
    main()
