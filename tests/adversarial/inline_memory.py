"""The gateway's memory for one large inline-image render, shared by
tests/adversarial/adv_memory.py and bench/gateway_memory.py.

measure(stack, requests) posts `requests` creates, each one inline 1.4 MB
screenshot (base64 in the JSON body) x 40 locales x 3 presets = 120 images,
against a stack with no renderer, and returns the body size and the gateway's
RSS before and its peak (VmHWM) after, in bytes.
"""
import base64
import json
import random
import struct
import zlib

LOCALES = ["l%02d-XX" % i for i in range(40)]
PRESETS = ["appstore.iphone_6_9", "appstore.iphone_6_5", "appstore.ipad_13"]


def noisy_png(width, height, seed=7):
    """A PNG that does not compress: about width*height*3 bytes."""
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + rnd.randbytes(width * 3) for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))


def body_bytes():
    shot = noisy_png(700, 667)                            # ~1.4 MB
    body = {"async": True, "canvas": {"preset": PRESETS[0]},
            "matrix": {"locales": LOCALES, "presets": PRESETS},
            "slides": [{"headline": {"lines": ["Track every habit"]}, "device": "iphone",
                        "screenshot": {"data": base64.b64encode(shot).decode()}}]}
    return json.dumps(body).encode()


def rss(pid):
    cur = peak = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    return cur, peak


def sanitized(pid):
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def measure(stack, requests=2, strict=True):
    pid = stack.procs["gateway"].pid
    raw = body_bytes()
    before, _ = rss(pid)
    ids, statuses = [], []
    for _ in range(requests):
        status, _, body = stack.request("POST", "/v1/renders", raw=raw,
                                        headers={"Content-Type": "application/json"})
        statuses.append(status)
        if status == 202:
            ids.append(json.loads(body)["id"])
        elif strict:
            raise RuntimeError("create answered %d: %r" % (status, body[:300]))
    _, peak = rss(pid)
    return {"body_bytes": len(raw), "rss_before": before, "rss_peak": peak,
            "growth": max(0, peak - before), "renders": ids, "statuses": statuses}
