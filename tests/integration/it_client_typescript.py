"""The TypeScript client (clients/typescript) against the real stack.

Checks that src/schema.d.ts is what openapi-typescript makes of
docs/openapi.json today (a document change that is not regenerated fails),
compiles the package with tsc (TypeScript 5, strict), then runs its node:test
suites: the webhook test vectors, and create sync/async, waitForRender,
download, archive, cancel, the error shape (422, 401, 404), retries of a real
429 and a real 503 (a second gateway of this stack with --max-waiters 1 and
--create-rate-limit 0.5:1), 503 scheduler_unavailable (a third gateway with no
scheduler behind it: retried only when the request is safe to repeat), 409
idempotency_key_in_use, and verifyWebhook on a real delivery. The packages come from scripts/npm_deps.sh (npm ci)."""
import atexit
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from harness import Stack, check, fail, free_port, wait_for

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PKG = os.path.join(ROOT, "clients", "typescript")
NODE = shutil.which("node") or "/usr/bin/node"

if not os.path.isdir(os.path.join(PKG, "node_modules", "typescript")):
    fail("clients/typescript/node_modules is missing: run scripts/npm_deps.sh")


def run(args, env=None, timeout=120):
    out = subprocess.run(args, cwd=PKG, env=env, capture_output=True, timeout=timeout)
    sys.stdout.write(out.stdout.decode(errors="replace"))
    sys.stderr.write(out.stderr.decode(errors="replace"))
    return out.returncode


check(run([NODE, "scripts/check-generated.mjs"]) == 0,
      "src/schema.d.ts is not what `npm run generate` makes of docs/openapi.json")
# compiled into a directory of this run inside the package (so that its
# node_modules and "type": "module" apply), removed at exit
OUT = tempfile.mkdtemp(prefix=".test-build-", dir=PKG)
atexit.register(shutil.rmtree, OUT, True)
check(run([NODE, os.path.join("node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json",
           "--outDir", OUT]) == 0,
      "the client does not compile")

stack = Stack(renderers=2)
limited_port = free_port()
limited = "http://127.0.0.1:%d" % limited_port
stack.start("gateway_limited", "--listen", "127.0.0.1:%d" % limited_port, "--max-waiters", "1",
            service="gateway", env={"EASEL_CREATE_RATE_LIMIT": "0.5:1"})


# a third gateway whose scheduler endpoint has no scheduler: 503 scheduler_unavailable
orphan_port = free_port()
orphan = "http://127.0.0.1:%d" % orphan_port
stack.start("gateway_orphan", "--listen", "127.0.0.1:%d" % orphan_port,
            "--api", "tcp://127.0.0.1:%d" % free_port(), "--request-timeout-ms", "300",
            service="gateway")


def ready(base, path):
    saved, stack.base = stack.base, base
    try:
        return stack.request("GET", path, auth=False)[0] == 200
    finally:
        stack.base = saved


wait_for(lambda: ready(limited, "/readyz"), 30, "the second gateway to be ready")
wait_for(lambda: ready(orphan, "/healthz"), 30, "the third gateway to be up")

env = dict(os.environ, EASEL_URL=stack.base, EASEL_API_KEY=stack.key,
           EASEL_WEBHOOK_SECRET=stack.secret, EASEL_LIMITED_URL=limited,
           EASEL_UNAVAILABLE_URL=orphan)
tests = sorted(glob.glob(os.path.join(OUT, "test", "*.test.js")))
check(len(tests) >= 2, "no compiled tests in %s/test: %r" % (OUT, tests))
rc = run([NODE, "--test", "--test-reporter=spec"] + tests, env=env, timeout=150)
if rc != 0:
    fail("the client's tests failed (node --test exit %d)\n%s" % (rc, stack.log_tails()))
print("ok: TypeScript client against the stack")
