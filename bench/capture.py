#!/usr/bin/env python3
"""capture: one web page captured to PNG by Easel and by its peers, in one run.

The page: a landing page of known content (header, hero gradient, 12 cards of
text, an inline SVG chart, one PNG image), served by this driver on
127.0.0.1; every tool loads the same URL at the same viewport (--width x
--height, scale 1, wait for the load event).

Per run (--runs, default 3; every run a fresh stack), --captures each:
  - easel: POST /v1/capture (sync, device none, png) through the whole stack
    (gateway -> scheduler -> one renderer, --slots 1, its warm browser with a
    fresh browser context per job) until the 200 with the finished job, then
    GET of the result file: wall ms until the PNG bytes are in hand
    (`easel_ms`), and until the 200 alone (`easel_post_ms`). The renderer
    starts its browser (and the first job's context) at start, so the very
    first capture after the stack is ready is warm too: it is reported on
    its own (`easel_first_ms`) and not counted in the median.
    Easel's PNG is the framed one (device none: the page on the background
    with a 6 % margin), so it encodes more pixels than the peers.
  - playwright_warm: playwright-core (bench/peers, the version tests/browser
    pins) driving the same Debian chromium, launched once (not counted), a
    new context per capture: newContext, newPage, goto, screenshot, close
    (bench/peers/capture_playwright.mjs warm).
  - playwright_cold: the same with a fresh browser launch per capture
    (capture_playwright.mjs cold).
  - chromium_cli: `chromium --headless --screenshot` per capture, the command
    line a script would run (cold: a whole browser per capture).
Medians of each tool's captures per run, then the median over runs; ratios
Easel / peer (below 1: Easel is faster). The machine is shared: each run is
printed on stderr so the spread shows. Bench-only, never a test: nothing here
asserts a time.

usage: bench/capture.py [--runs 3] [--captures 10] [--width 1280] [--height 800]
"""
import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import benchlib
import harness

PEERS = os.path.join(benchlib.HERE, "peers")
CHROMIUM = os.environ.get("EASEL_CHROMIUM") or "/usr/bin/chromium"


def page_html():
    cards = "".join(
        "<div class=card><h3>Habit %d</h3><p>Keep a streak of small daily wins; review the week on Sunday"
        " and plan the next one in two minutes.</p><span class=badge>%d day streak</span></div>" % (i + 1, 3 * i + 2)
        for i in range(12))
    bars = "".join("<rect x=%d y=%d width=30 height=%d fill='#6366f1'/>" % (20 + 45 * i, 180 - h, h)
                   for i, h in enumerate((40, 90, 60, 120, 150, 100, 170, 130)))
    return ("<!doctype html><html><head><meta charset=utf-8><title>Calm habits</title><style>"
            "*{box-sizing:border-box}body{margin:0;font:16px/1.5 sans-serif;color:#0f172a;background:#f8fafc}"
            "header{display:flex;justify-content:space-between;padding:18px 48px;background:#fff;"
            "box-shadow:0 1px 4px rgba(0,0,0,.08)}nav a{margin-left:24px;color:#334155;text-decoration:none}"
            ".hero{display:flex;gap:48px;align-items:center;padding:64px 48px;color:#fff;"
            "background:linear-gradient(135deg,#1e3a8a,#0f172a)}.hero h1{font-size:44px;margin:0 0 12px}"
            ".grid{display:grid;grid-template-columns:repeat(4,1fr);gap:20px;padding:40px 48px}"
            ".card{background:#fff;border-radius:12px;padding:18px;box-shadow:0 2px 8px rgba(15,23,42,.08)}"
            ".badge{display:inline-block;padding:2px 10px;border-radius:999px;background:#e0e7ff;color:#3730a3;"
            "font-size:13px}</style></head><body><header><strong>Calm habits</strong><nav><a href=#>Features</a>"
            "<a href=#>Pricing</a><a href=#>Sign in</a></nav></header><section class=hero><div>"
            "<h1>Track every habit in one calm place</h1><p>Streaks, reminders and a weekly review.</p>"
            "<img src=/shot.png width=240 height=160 alt=app></div><svg width=400 height=200>" + bars +
            "</svg></section><section class=grid>" + cards + "</section></body></html>").encode()


class PageServer:
    """The benchmark page at / and its image at /shot.png, on 127.0.0.1."""

    def __init__(self):
        html, png = page_html(), harness.make_png(480, 320, rgb=(99, 102, 241))

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                body, ctype = (png, "image/png") if self.path.startswith("/shot.png") else (html, "text/html")
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def easel(url, n, width, height):
    """n sync captures through a fresh stack, after its first: (ms to the bytes, ms to the 200, PNG
    bytes) lists, and the first capture's ms to the bytes."""
    stack = harness.Stack(renderers=1, webhooker=False)
    body = {"url": url, "device": "none", "viewport": {"width": width, "height": height},
            "device_scale_factor": 1, "format": "png", "wait_until": "load"}
    total, post, sizes, first = [], [], [], None
    try:
        for i in range(n + 1):
            t0 = time.monotonic()
            status, _, job = stack.json("POST", "/v1/capture", body)
            t1 = time.monotonic()
            if status != 200 or job["status"] != "completed":
                sys.exit("easel capture failed: %d %r" % (status, job))
            status, _, png = stack.request("GET", job["result"]["url"][len(stack.base):], auth=False)
            t2 = time.monotonic()
            if status != 200 or png[:8] != b"\x89PNG\r\n\x1a\n":
                sys.exit("easel capture file: %d %r" % (status, png[:16]))
            if i == 0:
                first = (t2 - t0) * 1000      # right after the stack is ready: on its own
                continue
            total.append((t2 - t0) * 1000)
            post.append((t1 - t0) * 1000)
            sizes.append(len(png))
    finally:
        stack.close()
    return total, post, sizes, first


def playwright(mode, url, n, width, height):
    script = os.path.join(PEERS, "capture_playwright.mjs")
    out = subprocess.run(["node", script, mode, url, str(n), str(width), str(height)], cwd=PEERS,
                         capture_output=True, timeout=60 + 20 * n)
    if out.returncode != 0:
        sys.exit("playwright %s failed: %s" % (mode, out.stderr.decode(errors="replace")[-2000:]))
    r = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return r["ms"], r["bytes"]


def chromium_cli(url, n, width, height):
    """n runs of `chromium --headless --screenshot`, each a fresh browser and profile."""
    work = tempfile.mkdtemp(prefix="easel-bench-cli-")
    ms, sizes = [], []
    try:
        for i in range(n):
            shot = os.path.join(work, "shot%d.png" % i)
            argv = [CHROMIUM, "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", "--user-data-dir=" + os.path.join(work, "profile%d" % i),
                    "--window-size=%d,%d" % (width, height), "--screenshot=" + shot, url]
            if os.getuid() == 0:
                argv.insert(1, "--no-sandbox")
            rc, wall, _, _, _ = benchlib.run_measured(argv, timeout=60)
            if rc != 0 or not os.path.exists(shot):
                sys.exit("chromium --screenshot failed (exit %d)" % rc)
            with open(shot, "rb") as f:
                if f.read(8) != b"\x89PNG\r\n\x1a\n":
                    sys.exit("chromium --screenshot wrote no PNG")
            ms.append(wall * 1000)
            sizes.append(os.path.getsize(shot))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ms, sizes


def one_run(page, n, width, height):
    r = {}
    total, post, sizes, first = easel(page.url, n, width, height)
    r.update(easel_ms=round(benchlib.median(total), 1), easel_post_ms=round(benchlib.median(post), 1),
             easel_first_ms=round(first, 1),
             easel_p90_ms=round(benchlib.percentile(total, 0.9), 1), easel_png_bytes=int(benchlib.median(sizes)))
    for mode in ("warm", "cold"):
        ms, sizes = playwright(mode, page.url, n, width, height)
        r["playwright_%s_ms" % mode] = round(benchlib.median(ms), 1)
        r["playwright_%s_png_bytes" % mode] = int(benchlib.median(sizes))
    ms, sizes = chromium_cli(page.url, n, width, height)
    r.update(chromium_cli_ms=round(benchlib.median(ms), 1), chromium_cli_png_bytes=int(benchlib.median(sizes)))
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--captures", type=int, default=10, help="captures per tool per run")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=800)
    a = ap.parse_args()
    benchlib.need(os.path.join(benchlib.BIN, "easel-renderer"))
    benchlib.need(CHROMIUM)
    benchlib.need("node")
    if not os.path.isdir(os.path.join(PEERS, "node_modules", "playwright-core")):
        sys.exit("bench: bench/peers/node_modules/playwright-core is missing: run bench/setup.sh")
    page = PageServer()
    runs = []
    try:
        for i in range(a.runs):
            r = one_run(page, a.captures, a.width, a.height)
            print(json.dumps(dict(r, run=i + 1)), file=sys.stderr)
            runs.append(r)
    finally:
        page.close()
    med = {k: benchlib.median([r[k] for r in runs]) for k in runs[0]}
    for peer in ("playwright_warm", "playwright_cold", "chromium_cli"):
        med["easel_over_%s" % peer] = round(med["easel_ms"] / med["%s_ms" % peer], 3)
    med.update(captures_per_tool_per_run=a.captures, viewport="%dx%d" % (a.width, a.height))
    benchlib.report("capture", runs, med)


if __name__ == "__main__":
    main()
