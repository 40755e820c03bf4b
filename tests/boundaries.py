#!/usr/bin/env python3
"""The link boundaries docs/design.md draws, checked on the built services.

For each service: the shared libraries it may not load (ldd) and the
modules of other services whose functions may not be inside it (defined
symbols, nm). The gateway validates with the catalog (presets, the device
table, the header probe) and never draws, so it loads no graphics library
and holds no renderer code; neither the gateway nor the webhooker holds
store code (all state goes through the scheduler); the scheduler draws
nothing; the renderer keeps no state of record.

Every link to the scheduler is common/'s bus worker or bus client: each
service that talks to the scheduler holds the class it needs (defined
symbols), and no production source but common/bus_link.c opens a DEALER."""
import os
import re
import subprocess
import sys

BIN = os.environ.get("EASEL_BIN_DIR", "build/bin")

GRAPHICS = ["libgd.so", "libfreetype.so", "libraqm.so", "libharfbuzz.so", "libpng16.so"]
STORE = ["libsqlite3.so", "libpq.so"]
RENDERER = ["slide_render_", "device_frame_draw", "text_layout_", "render_task_", "capture_task_",
            "egress_", "image_source_decode", "encode_image", "lint_image"]
SCHEDULER = ["job_store_", "sqlite_store_", "pg_store_", "blob_store_", "render_event_", "task_reqs_", "webhook_admin_"]
GATEWAY = ["render_request_", "capture_request_", "key_cache_", "render_cache_", "api_pool_"]

# the link class each service must hold: the worker on `work`, the client on `api`
LINKS = {
    "easel-gateway": ["bus_client_call"],
    "easel-webhooker": ["bus_client_send", "bus_client_recv"],
    "easel-renderer": ["bus_worker_new", "bus_worker_tick"],
}
LINK_HOME = os.path.join("common", "bus_link.c")
SOURCE_DIRS = ["common", "proto", "catalog", "gateway", "renderer", "scheduler", "webhooker", "cli"]
DEALER_NEW = re.compile(r"zsock_new\s*\(\s*ZMQ_DEALER|zsock_new_dealer|zmq_socket\s*\([^)]*ZMQ_DEALER")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RULES = {
    "easel-gateway": (GRAPHICS + STORE, RENDERER + SCHEDULER),
    "easel-webhooker": (GRAPHICS + STORE, RENDERER + SCHEDULER + GATEWAY),
    "easel-scheduler": (GRAPHICS, RENDERER + GATEWAY),
    "easel-renderer": (STORE, SCHEDULER + GATEWAY),
}


def main():
    failures = []
    for name, (libs, prefixes) in sorted(RULES.items()):
        path = os.path.join(BIN, name)
        if not os.path.exists(path):
            failures.append("%s is not built at %s" % (name, path))
            continue
        loaded = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
        for lib in libs:
            if lib in loaded:
                failures.append("%s loads %s, which its boundary forbids" % (name, lib))
        syms = subprocess.run(["nm", "--defined-only", path], capture_output=True, text=True,
                              check=True).stdout.split("\n")
        names = [line.split()[-1] for line in syms if len(line.split()) == 3 and line.split()[1] in "Tt"]
        for prefix in prefixes:
            found = [n for n in names if n.startswith(prefix)]
            if found:
                failures.append("%s holds %s (another service's code)" % (name, ", ".join(found[:3])))
        for sym in LINKS.get(name, []):
            if sym not in names:
                failures.append("%s does not hold %s: its link to the scheduler is not the shared one"
                                % (name, sym))
    for folder in SOURCE_DIRS:
        for base, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                path = os.path.join(base, f)
                rel = os.path.relpath(path, ROOT)
                if not f.endswith(".c") or rel == LINK_HOME:
                    continue
                with open(path, encoding="utf-8", errors="replace") as src:
                    if DEALER_NEW.search(src.read()):
                        failures.append("%s opens its own DEALER (links go through %s)" % (rel, LINK_HOME))
    for f in failures:
        print("FAIL " + f)
    if failures:
        return 1
    print("boundaries: %d services within their boundaries" % len(RULES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
