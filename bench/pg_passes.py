#!/usr/bin/env python3
"""pg_passes: where a grouped pass of creates spends its time on PostgreSQL.

One stack on the driver's own durable PostgreSQL 15 (fsync and
synchronous_commit on, as bench/api.py), with pg_stat_statements loaded and
track_wal_io_timing on; no renderer. wrk -t2 -c32 POSTs the api bench's
create (bench/api.py's BODY) for --seconds; over a window in its middle
(no tracer attached) it takes the deltas of:
  - the scheduler's metrics: passes that committed messages, messages per
    pass, commit time (the fence + COMMIT round trip, fsync included);
  - pg_stat_statements: calls and server time of every statement, per pass;
  - pg_stat_wal: WAL flushes and fsync time per pass;
  - CPU seconds of the scheduler and of PostgreSQL's processes, per create.
Then, over a second window, strace (main thread of the scheduler only: the
libpq thread) counts the writes to and reads from its PostgreSQL socket,
the round trips per pass. One JSON line.

usage: bench/pg_passes.py [--seconds 12]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import benchlib
import harness

sys.path.insert(0, benchlib.HERE)
import api  # noqa: E402  (the create body of the api bench)


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as resp:
        text = resp.read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def statements(pg, db):
    rows = pg.query(db, "SELECT queryid, calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90)"
                        " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())")
    return {r[0]: (int(r[1]), float(r[2]), r[3]) for r in rows}


def wal(pg, db):
    r = pg.query(db, "SELECT wal_sync, wal_sync_time, wal_write FROM pg_stat_wal")[0]
    return int(r[0]), float(r[1]), int(r[2])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=12, choices=range(8, 61))
    args = ap.parse_args()
    benchlib.need("wrk")
    import pgserver
    pg = pgserver.PgServer(durable=True, max_connections=100,
                           settings={"shared_preload_libraries": "pg_stat_statements",
                                     "track_wal_io_timing": "on"}).start()
    stack = None
    try:
        pg.create_database("probe")
        pg.query("probe", "CREATE EXTENSION pg_stat_statements")
        backends = benchlib.Backends("sqlite")
        backends.pg = pg
        database = benchlib.Database(backends, "pg", "probe_db")
        pg.query("probe_db", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        mport = harness.free_port()
        stack = benchlib.stack(database, metrics_port=mport, renderers=0, webhooker=False)
        sched = stack.procs["scheduler"].pid
        env = {"EASEL_API_KEY": stack.key, "EASEL_BENCH_METHOD": "POST",
               "EASEL_BENCH_PATH": "/v1/renders", "EASEL_BENCH_BODY": api.BODY}
        result = {"loadavg_1m_start": benchlib.loadavg()}
        box = {}
        t = threading.Thread(target=lambda: box.update(w=api.wrk(stack.base + "/v1/renders", args.seconds, env)))
        t.start()
        time.sleep(2)
        window = max(2.0, args.seconds / 3)
        pids = [sched] + database.pids()
        m0, s0, w0, c0, k0 = metrics(mport), statements(pg, "probe_db"), wal(pg, "probe_db"), \
            benchlib.cpu_s([sched]), benchlib.cpu_s(database.pids())
        t0 = time.monotonic()
        time.sleep(window)
        m1, s1, w1, c1, k1 = metrics(mport), statements(pg, "probe_db"), wal(pg, "probe_db"), \
            benchlib.cpu_s([sched]), benchlib.cpu_s(database.pids())
        dt = time.monotonic() - t0
        cnt = "easel_scheduler_commit_group_size_count"
        passes = m1.get(cnt, 0) - m0.get(cnt, 0)
        msgs = m1.get("easel_scheduler_commit_group_size_sum", 0) - m0.get("easel_scheduler_commit_group_size_sum", 0)
        commit_s = (m1.get("easel_scheduler_sqlite_commit_seconds_sum", 0)
                    - m0.get("easel_scheduler_sqlite_commit_seconds_sum", 0))
        per = {}
        for q, (calls, ms, text) in s1.items():
            c_old, ms_old, _ = s0.get(q, (0, 0.0, text))
            if calls - c_old > 0:
                per[text] = (calls - c_old, ms - ms_old)
        top = sorted(per.items(), key=lambda kv: -kv[1][0])
        calls_total = sum(v[0] for v in per.values())
        result.update(window_s=round(dt, 2), passes=int(passes), messages=int(msgs),
                      passes_per_s=round(passes / dt, 1), messages_per_pass=round(msgs / max(passes, 1), 1),
                      pass_ms=round(1000 * dt / max(passes, 1), 2),
                      commit_ms_per_pass=round(1000 * commit_s / max(passes, 1), 2),
                      statements_per_pass=round(calls_total / max(passes, 1), 1),
                      statements_per_message=round(calls_total / max(msgs, 1), 2),
                      server_exec_ms_per_pass=round(sum(v[1] for v in per.values()) / max(passes, 1), 2),
                      wal_syncs_per_pass=round((w1[0] - w0[0]) / max(passes, 1), 2),
                      wal_sync_ms_per_pass=round((w1[1] - w0[1]) / max(passes, 1), 2),
                      scheduler_cpu_us_per_message=round(1e6 * (c1 - c0) / max(msgs, 1), 1),
                      pg_cpu_us_per_message=round(1e6 * (k1 - k0) / max(msgs, 1), 1),
                      top_statements=[{"calls_per_pass": round(v[0] / max(passes, 1), 2),
                                       "server_ms_per_pass": round(v[1] / max(passes, 1), 3), "sql": k}
                                      for k, v in top[:14]])
        # round trips: the scheduler's main thread is the only one on its libpq socket
        trace = os.path.join(stack.data, "strace.txt")
        m2 = metrics(mport)
        st = subprocess.run(["timeout", "-s", "INT", "2", "strace", "-qq", "-e", "trace=sendto,recvfrom",
                             "-o", trace, "-p", str(sched)], capture_output=True)
        m3 = metrics(mport)
        p2 = m3.get(cnt, 0) - m2.get(cnt, 0)
        sends = recvs = 0
        if os.path.exists(trace):
            with open(trace) as f:
                for line in f:
                    if line.startswith("sendto("):
                        sends += 1
                    elif line.startswith("recvfrom(") and "EAGAIN" not in line:
                        recvs += 1
        result.update(traced_passes=int(p2), sends_per_pass=round(sends / max(p2, 1), 1),
                      reads_per_pass=round(recvs / max(p2, 1), 1), strace_rc=st.returncode)
        t.join()
        w = box.get("w", {})
        result.update(create_rps=round(w.get("status", {}).get("202", 0) / max(w.get("seconds", 1), 1e-9), 1),
                      create_p50_ms=w.get("p50_ms"), create_p99_ms=w.get("p99_ms"),
                      loadavg_1m_end=benchlib.loadavg(), pg_cpu_pids=len(pids))
        print(json.dumps(result))
    finally:
        if stack:
            stack.close()
        pg.stop()


if __name__ == "__main__":
    main()
