#!/usr/bin/env python3
"""blobs: image bytes through the scheduler, files against S3, same run.

Per run (--runs, default 3): the benchmark screenshot is uploaded once
(POST /v1/files), then a 40-image matrix (4 slides x 10 locales, every slide
that upload by file_id) is rendered by two renderers, first on the embedded
file store, then with EASEL_BLOB_URL on a local S3 protocol server
(tests/s3/start.js: s3rver behind a SigV4 check). Read from the scheduler's
metrics after each, per image: input image bytes it sent on the bus
(easel_scheduler_input_bytes_total), result bytes by path
(easel_scheduler_result_bytes_total{path="bus"|"renderer"}), upload bytes by
path (easel_scheduler_upload_bytes_total{path="bus"|"gateway"}), and their
sum on the bus, scheduler_bytes_per_image; the upload's time (POST to 201)
and the matrix wall, POST to succeeded. With S3 every bus figure must be 0:
the renderers read inputs and write results, and the gateway writes the
upload, in the bucket with URLs the scheduler presigns. Each of these on
every --backend (sqlite: the SQLite file; pg: a PostgreSQL 15 of the
driver's own, tests/pg/pgserver.py, a fresh database per stack), figures
prefixed sqlite_ / pg_.

usage: bench/blobs.py [--runs 3] [--backend sqlite,pg]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import benchlib
import harness

LOCALES = ["en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP", "ko-KR", "pt-BR", "nl-NL", "sv-SE"]
S3 = os.path.join(benchlib.ROOT, "tests", "s3", "start.js")
KEY, SECRET, BUCKET = "bench-key", "bench-secret-4242", "easel-bench"


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{") and line.split()[0] == name:
            return float(line.split()[-1])
    return 0.0


def one_stack(shot, env, database):
    port = harness.free_port()
    stack = benchlib.stack(database, env=env, metrics_port=port, renderers=0, webhooker=False)
    try:
        for i in range(2):
            stack.start_renderer(i)
        stack.wait_ready(2)
        t_up = time.monotonic()
        status, _, up = stack.json("POST", "/v1/files", raw=shot, headers={"Content-Type": "image/png"})
        upload_s = time.monotonic() - t_up
        if status != 201:
            sys.exit("upload answered %d: %r" % (status, up))
        slides = [{"headline": {"lines": ["Track every habit", "slide %d" % n]},
                   "screenshot": {"file_id": up["id"]}, "device": "iphone"} for n in range(4)]
        body = benchlib.render_body(slides, LOCALES)
        t0 = time.monotonic()
        status, _, r = stack.json("POST", "/v1/renders", body)
        if status != 202:
            sys.exit("matrix answered %d: %r" % (status, r))
        done = benchlib.wait_done(stack, r["id"])
        wall = time.monotonic() - t0
        if done["status"] != "succeeded" or done["progress"]["done"] != 40:
            sys.exit("matrix ended %s: %r" % (done["status"], done["progress"]))
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as resp:
            text = resp.read().decode()
        images = 40
        figures = {"wall_s": round(wall, 3), "upload_s": round(upload_s, 4),
                   "input_bus_bytes_per_image": metric(text, "easel_scheduler_input_bytes_total") / images,
                   "result_bus_bytes_per_image":
                       metric(text, 'easel_scheduler_result_bytes_total{path="bus"}') / images,
                   "result_renderer_bytes_per_image":
                       metric(text, 'easel_scheduler_result_bytes_total{path="renderer"}') / images,
                   "upload_bus_bytes_per_image":
                       metric(text, 'easel_scheduler_upload_bytes_total{path="bus"}') / images,
                   "upload_gateway_bytes_per_image":
                       metric(text, 'easel_scheduler_upload_bytes_total{path="gateway"}') / images}
        figures["scheduler_bytes_per_image"] = (figures["input_bus_bytes_per_image"]
                                                + figures["result_bus_bytes_per_image"]
                                                + figures["upload_bus_bytes_per_image"])
        return figures
    finally:
        stack.close()


def one_backend(shot, backends, name):
    files = one_stack(shot, {}, backends.fresh(name))
    store = tempfile.mkdtemp(prefix="easel-bench-s3-")
    server = subprocess.Popen(["node", "--openssl-legacy-provider", S3, "--dir", store, "--bucket", BUCKET,
                               "--access-key", KEY, "--secret-key", SECRET],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        port = json.loads(server.stdout.readline().decode())["port"]
        s3 = one_stack(shot, {"EASEL_BLOB_URL": "s3://%s/bench?endpoint=http://127.0.0.1:%d&region=us-east-1"
                                                "&path_style=1" % (BUCKET, port),
                              "EASEL_S3_ACCESS_KEY": KEY, "EASEL_S3_SECRET_KEY": SECRET},
                       backends.fresh(name))
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(store, ignore_errors=True)
    run = {"files_" + k: v for k, v in files.items()}
    run.update({"s3_" + k: v for k, v in s3.items()})
    run["s3_over_files_wall"] = round(s3["wall_s"] / files["wall_s"], 3)
    return run


def one_run(shot, backends):
    run = {"loadavg_1m_start": benchlib.loadavg()}
    for name in backends.names:
        for k, v in one_backend(shot, backends, name).items():
            run[name + "_" + k] = v
    run["loadavg_1m_end"] = benchlib.loadavg()
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    benchlib.add_backend_arg(ap)
    args = ap.parse_args()
    for tool in ("easel-scheduler", "easel-gateway", "easel-renderer"):
        benchlib.need(os.path.join(benchlib.BIN, tool))
    benchlib.need("node")
    backends = benchlib.Backends(args.backend)
    tmp = tempfile.mkdtemp(prefix="easel-bench-blobs-")
    try:
        with open(benchlib.make_shot(tmp), "rb") as f:
            shot = f.read()
        runs = []
        for _ in range(args.runs):
            runs.append(one_run(shot, backends))
            print(json.dumps(runs[-1]), file=sys.stderr)
        keys = runs[0].keys()
        benchlib.report("blobs", runs, {k: benchlib.median([r[k] for r in runs]) for k in keys})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
