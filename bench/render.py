#!/usr/bin/env python3
"""render: the benchmark slide by Easel's renderer, sharp, ImageMagick and libvips.

In process, per slide (module load and start-up excluded on both sides):
Easel's slide_render() (bench_render --iterations, on one thread with
EASEL_RENDER_THREADS=1 and on every core with the default) against sharp
0.34 composing the same picture in one Node process (peers/slide_sharp.js,
with sharp.concurrency(1), with sharp's default (1 on glibc without jemalloc,
as here) and with one thread per CPU); CPU (every thread) and wall medians;
ratios sharp / Easel (CPU against CPU at one thread each, wall against wall
with both at their default and with sharp on every CPU). Skipped with a note when
bench/peers/node_modules is missing (bench/setup.sh installs it).

Whole processes, each on one core (VIPS_CONCURRENCY=1, OMP_THREAD_LIMIT=1 for
ImageMagick, EASEL_RENDER_THREADS=1): CPU time (user + system of the process
tree), wall time and peak RSS, median of --reps runs per tool, interleaved;
sharp here is the same script composing one slide and exiting (Node's start
and sharp's load included: `slide_sharp.js --iterations 0`, sharp.concurrency(1));
ratios are peer / Easel, and ImageMagick's CPU over Easel's in-process CPU
(ImageMagick has no in-process figure: its start-up, `convert` of a 1x1
image, is a few ms of its ~800). Also Easel's PNG size against libpng level 6
of the same pixels; Easel's PNG is checked chunk by chunk (CRCs, one zlib
stream of the right length) with Python's zlib, both the one-thread PNG and
the one written in parts on every core.

usage: bench/render.py [--runs 3] [--reps 5]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import benchlib


def check_png(path):
    """Walks the chunks of Easel's PNG: signature, CRC of every chunk, IHDR
    8-bit RGB, one zlib stream over the IDATs that inflates to exactly
    height x (1 + 3 x width) bytes with a valid filter byte per row, IEND last.
    Exits with a message when any of it fails."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("%s: not a PNG signature" % path)
    pos, idat, ihdr, last = 8, b"", None, None
    while pos + 12 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) != crc:
            sys.exit("%s: bad CRC in %s at %d" % (path, kind, pos))
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        last = kind
        pos += 12 + n
    if pos != len(data) or last != b"IEND" or not ihdr or ihdr[2:] != (8, 2, 0, 0, 0):
        sys.exit("%s: bad chunk layout or IHDR %r" % (path, ihdr))
    w, h = ihdr[0], ihdr[1]
    raw = zlib.decompress(idat)
    stride = 1 + 3 * w
    if len(raw) != h * stride or any(raw[y * stride] > 4 for y in range(h)):
        sys.exit("%s: image data is %d bytes, expected %d with filters 0..4" % (path, len(raw), h * stride))


def inprocess(bench_render, shot, reps, env, env_all, tmp):
    """bench_render in process on one thread (with its phases and the
    level-6 reference) and with the default threads (--out easel_all.png)."""
    outs = []
    for e, extra in ((env, []), (env_all, ["--service-only", "--out", os.path.join(tmp, "easel_all.png")])):
        rc, _, _, _, out = benchlib.run_measured(
            [bench_render, "--shot", shot, "--iterations", str(reps)] + extra, env=e,
            stdout=subprocess.PIPE)
        if rc:
            sys.exit("bench_render --iterations failed (exit %d)" % rc)
        outs.append(json.loads(out))
    return outs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3, choices=range(1, 11))
    ap.add_argument("--reps", type=int, default=5, choices=range(1, 51))
    args = ap.parse_args()
    bench_render = os.path.join(benchlib.BIN, "bench_render")
    for tool in (bench_render, "/usr/bin/convert", "vips"):
        benchlib.need(tool)
    tmp = tempfile.mkdtemp(prefix="easel-bench-render-")
    shot = os.path.join(tmp, "shot.png")
    node_peer = os.path.join(benchlib.HERE, "peers", "slide_sharp.js")
    has_sharp = os.path.isdir(os.path.join(benchlib.HERE, "peers", "node_modules", "sharp"))
    if not has_sharp:
        print("render: bench/peers/node_modules/sharp is missing (bench/setup.sh): no sharp figures",
              file=sys.stderr)
    rc = benchlib.run_measured([bench_render, "--make-shot", shot])[0]
    if rc:
        sys.exit("bench_render --make-shot failed")
    env = dict(os.environ, VIPS_CONCURRENCY="1", OMP_THREAD_LIMIT="1", MAGICK_THREAD_LIMIT="1",
               EASEL_RENDER_THREADS="1", TMPDIR="/dev/shm" if os.path.isdir("/dev/shm") else tmp)
    env_all = dict(os.environ)
    env_all.pop("EASEL_RENDER_THREADS", None)
    peers = os.path.join(benchlib.HERE, "peers")
    tools = {
        "easel": [bench_render, "--service-only", "--shot", shot, "--out", os.path.join(tmp, "easel.png")],
        "imagemagick": [os.path.join(peers, "slide_imagemagick.sh"), shot, os.path.join(tmp, "im.png")],
        "vips": [os.path.join(peers, "slide_vips.sh"), shot, os.path.join(tmp, "vips.png")],
    }
    if has_sharp:
        tools["sharp"] = ["node", node_peer, shot, "--iterations", "0", "--concurrency", "1",
                          "--out", os.path.join(tmp, "sharp.png")]
    runs = []
    for run in range(args.runs):
        samples = {k: {"cpu": [], "wall": [], "rss": []} for k in tools}
        for _ in range(args.reps):
            for name, argv in tools.items():
                rc, wall, cpu, rss, _ = benchlib.run_measured(argv, env=env)
                if rc:
                    sys.exit("%s failed (exit %d)" % (name, rc))
                samples[name]["cpu"].append(cpu)
                samples[name]["wall"].append(wall)
                samples[name]["rss"].append(rss)
        inproc, inproc_all = inprocess(bench_render, shot, args.reps, env, env_all, tmp)
        r = {}
        if has_sharp:
            for conc in ("1", "default", str(os.cpu_count() or 1)):
                rc, _, _, _, out = benchlib.run_measured(
                    ["node", node_peer, shot, "--iterations", str(args.reps), "--concurrency", conc],
                    env=env_all, stdout=subprocess.PIPE)
                if rc:
                    sys.exit("slide_sharp.js failed (exit %d)" % rc)
                sh = json.loads(out)
                key = {"1": "sharp_c1", "default": "sharp_cdefault"}.get(conc, "sharp_call")
                r[key + "_cpu_ms"] = sh["cpu_ms"]
                r[key + "_wall_ms"] = sh["wall_ms"]
                r[key + "_concurrency"] = sh["concurrency"]
                r["sharp_png_bytes"] = sh["png_bytes"]
            r["sharp_c1_over_easel_cpu"] = round(r["sharp_c1_cpu_ms"] / inproc["slide_render_cpu_ms"], 2)
            r["sharp_default_over_easel_default_wall"] = round(
                r["sharp_cdefault_wall_ms"] / inproc_all["slide_render_wall_ms"], 2)
            r["sharp_all_over_easel_default_wall"] = round(
                r["sharp_call_wall_ms"] / inproc_all["slide_render_wall_ms"], 2)
        for name in tools:
            r[name + "_cpu_ms"] = round(1000 * benchlib.median(samples[name]["cpu"]), 1)
            r[name + "_wall_ms"] = round(1000 * benchlib.median(samples[name]["wall"]), 1)
            r[name + "_peak_rss_mb"] = round(max(samples[name]["rss"]) / 1024, 1)
        r["imagemagick_over_easel_cpu"] = round(r["imagemagick_cpu_ms"] / r["easel_cpu_ms"], 2)
        r["vips_over_easel_cpu"] = round(r["vips_cpu_ms"] / r["easel_cpu_ms"], 2)
        if has_sharp:
            r["sharp_over_easel_cpu"] = round(r["sharp_cpu_ms"] / r["easel_cpu_ms"], 2)
        for k in ("slide_render_cpu_ms", "slide_render_wall_ms", "draw_cpu_ms", "encode_cpu_ms",
                  "png_bytes", "level6_png_bytes", "png_ratio_to_level6"):
            r["inproc_" + k] = inproc[k]
        for k in ("slide_render_cpu_ms", "slide_render_wall_ms", "png_bytes", "threads"):
            r["inproc_all_" + k] = inproc_all[k]
        r["inproc_all_png_ratio_to_level6"] = round(inproc_all["png_bytes"] / inproc["level6_png_bytes"], 3)
        r["imagemagick_over_easel_inproc_cpu"] = round(r["imagemagick_cpu_ms"] / inproc["slide_render_cpu_ms"], 2)
        check_png(os.path.join(tmp, "easel.png"))
        check_png(os.path.join(tmp, "easel_all.png"))
        r["easel_png_valid"] = True
        for name, f in (("easel", "easel.png"), ("imagemagick", "im.png"), ("vips", "vips.png")):
            r[name + "_png_bytes"] = os.path.getsize(os.path.join(tmp, f))
        runs.append(r)
        print(json.dumps(r), file=sys.stderr)
    med = {k: benchlib.median([r[k] for r in runs]) for k in runs[0]}
    benchlib.report("render", runs, med)
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
