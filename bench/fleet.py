#!/usr/bin/env python3
"""fleet: the scheduler's dispatch capacity against 200 simulated renderers.

Starts easel-scheduler alone on loopback, on each --backend in turn (sqlite:
WAL, synchronous=FULL; pg: a PostgreSQL 15 of the driver's own with fsync and
synchronous_commit on, a fresh database per run), then runs
bench_fleet: preload --tasks queued tasks through CREATE_RENDER on the api
socket, connect --renderers DEALERs that answer each TASK at once with a tiny
PNG, time the drain; then stream --stream-tasks more with the fleet connected
for queue-to-result latency, with at most --renderers tasks outstanding
(bench_fleet --window) so the queue stays short. Afterwards the tasks in the
db are counted and must all have succeeded. Median of --runs fresh runs
(each run measures every backend, figures prefixed sqlite_ / pg_, and the
ratios pg / sqlite of that run); the scheduler's CPU time and peak RSS, and
PostgreSQL's CPU time (every server process), come from /proc.

usage: bench/fleet.py [--runs 3] [--tasks 100000] [--renderers 200] [--backend sqlite,pg]
"""
import argparse
import json
import os
import subprocess
import sys

import benchlib


def one_backend(args, backends, name):
    database = backends.fresh(name)
    s = benchlib.Scheduler(database)
    try:
        pg_cpu0 = benchlib.cpu_s(database.pids())
        argv = [os.path.join(benchlib.BIN, "bench_fleet"), "--api", s.api, "--work", s.work,
                "--key", s.key, "--renderers", str(args.renderers), "--tasks", str(args.tasks),
                "--stream-tasks", str(args.stream_tasks), "--window", str(max(10, args.renderers)),
                "--timeout-s", "110"]
        rc, wall, cpu, rss, out = benchlib.run_measured(argv, timeout=120, stdout=subprocess.PIPE)
        if rc:
            sys.exit("%s: bench_fleet failed (exit %d); see %s/scheduler.log (EASEL_BENCH_KEEP=1 keeps it)"
                     % (name, rc, s.dir))
        r = json.loads(out)
        r["bench_fleet_cpu_s"] = round(cpu, 1)
        with open("/proc/%d/stat" % s.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        r["scheduler_cpu_s"] = round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)
        r["scheduler_peak_rss_mb"] = round(benchlib.proc_rss_kb(s.proc.pid)[1] / 1024, 1)
        if name == "pg":
            r["postgres_cpu_s"] = round(benchlib.cpu_s(database.pids()) - pg_cpu0, 1)
        s.stop()
        # every task the bench was told about must be a durable, finished image
        renders = dict(database.rows("SELECT status, count(*) FROM renders GROUP BY status", s.data))
        tasks = dict(database.rows("SELECT state, count(*) FROM tasks GROUP BY state", s.data))
        r["db_renders"] = renders
        r["db_tasks"] = tasks
        want = args.tasks + args.stream_tasks
        if tasks.get("succeeded", 0) != want:
            sys.exit("%s: db holds tasks %r, expected %d succeeded" % (name, tasks, want))
        return r
    finally:
        s.close()


def one_run(args, backends):
    run = {"loadavg_1m_start": benchlib.loadavg()}
    for name in backends.names:
        for k, v in one_backend(args, backends, name).items():
            run[name + "_" + k] = v
    if len(backends.names) == 2:
        for k in ("drain_tasks_per_s", "preload_tasks_per_s", "stream_tasks_per_s"):
            if ("sqlite_" + k) in run and ("pg_" + k) in run and run["sqlite_" + k]:
                run["pg_over_sqlite_" + k] = round(run["pg_" + k] / run["sqlite_" + k], 3)
    run["loadavg_1m_end"] = benchlib.loadavg()
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--stream-tasks", type=int, default=20000)
    ap.add_argument("--renderers", type=int, default=200)
    benchlib.add_backend_arg(ap)
    args = ap.parse_args()
    benchlib.need(os.path.join(benchlib.BIN, "bench_fleet"))
    backends = benchlib.Backends(args.backend)
    runs = []
    for _ in range(args.runs):
        r = one_run(args, backends)
        runs.append(r)
        print(json.dumps(r), file=sys.stderr)
    keys = [k for k in runs[0] if isinstance(runs[0][k], (int, float))]
    benchlib.report("fleet", runs, {k: benchlib.median([r[k] for r in runs]) for k in keys})


if __name__ == "__main__":
    main()
