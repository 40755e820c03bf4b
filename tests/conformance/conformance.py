"""What the conformance checks share: where the pinned npm tools are
(tests/conformance/node_modules, installed by scripts/npm_deps.sh), and the
skip rule: exit 77 (ctest SKIP_RETURN_CODE) only when node is not installed.
With node present, missing tools are a failure that says how to install them."""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DOC = os.path.join(ROOT, "docs", "openapi.json")


def need_node():
    if not shutil.which("node"):
        print("SKIPPED: node is not installed (the conformance tools run on node v20+)")
        sys.exit(77)


def tool(name):
    """The path of a pinned tool in node_modules/.bin; fails when absent."""
    need_node()
    path = os.path.join(HERE, "node_modules", ".bin", name)
    if not os.access(path, os.X_OK):
        print("FAIL: %s is not installed; run scripts/npm_deps.sh" % path, file=sys.stderr)
        sys.exit(1)
    return path
