#!/usr/bin/env python3
"""render: the benchmark slide by Easel's renderer, ImageMagick and libvips.

Whole processes, each on one core (VIPS_CONCURRENCY=1, OMP_THREAD_LIMIT=1 for
ImageMagick): CPU time (user + system of the process tree), wall time and peak
RSS, median of --reps runs per tool, interleaved; ratios are peer / Easel.
Also Easel's in-process phases (bench_render --iterations) and its PNG size
against libpng level 6 of the same pixels; Easel's PNG is checked chunk by
chunk (CRCs, one zlib stream of the right length) with Python's zlib.

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
    rc = benchlib.run_measured([bench_render, "--make-shot", shot])[0]
    if rc:
        sys.exit("bench_render --make-shot failed")
    env = dict(os.environ, VIPS_CONCURRENCY="1", OMP_THREAD_LIMIT="1", MAGICK_THREAD_LIMIT="1",
               TMPDIR="/dev/shm" if os.path.isdir("/dev/shm") else tmp)
    peers = os.path.join(benchlib.HERE, "peers")
    tools = {
        "easel": [bench_render, "--service-only", "--shot", shot, "--out", os.path.join(tmp, "easel.png")],
        "imagemagick": [os.path.join(peers, "slide_imagemagick.sh"), shot, os.path.join(tmp, "im.png")],
        "vips": [os.path.join(peers, "slide_vips.sh"), shot, os.path.join(tmp, "vips.png")],
    }
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
        rc, _, _, _, out = benchlib.run_measured(
            [bench_render, "--shot", shot, "--iterations", str(args.reps)], env=env,
            stdout=subprocess.PIPE)
        if rc:
            sys.exit("bench_render --iterations failed (exit %d)" % rc)
        inproc = json.loads(out)
        r = {}
        for name in tools:
            r[name + "_cpu_ms"] = round(1000 * benchlib.median(samples[name]["cpu"]), 1)
            r[name + "_wall_ms"] = round(1000 * benchlib.median(samples[name]["wall"]), 1)
            r[name + "_peak_rss_mb"] = round(max(samples[name]["rss"]) / 1024, 1)
        r["imagemagick_over_easel_cpu"] = round(r["imagemagick_cpu_ms"] / r["easel_cpu_ms"], 2)
        r["vips_over_easel_cpu"] = round(r["vips_cpu_ms"] / r["easel_cpu_ms"], 2)
        for k in ("slide_render_cpu_ms", "draw_cpu_ms", "encode_cpu_ms", "png_bytes",
                  "level6_png_bytes", "png_ratio_to_level6"):
            r["inproc_" + k] = inproc[k]
        check_png(os.path.join(tmp, "easel.png"))
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
