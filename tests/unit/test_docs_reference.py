"""docs/reference.md is exactly what `easel docs reference` prints from the
code's tables (presets, backgrounds, lint rules, fastlane places), and the
lint rule table lists every rule the renderer and the set-level pass emit,
no more and no fewer. Usage: test_docs_reference.py path/to/easel"""
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
easel = sys.argv[1]
failures = 0


def check(cond, msg):
    global failures
    if not cond:
        print("FAIL: " + msg)
        failures += 1


out = subprocess.run([easel, "docs", "reference"], capture_output=True, timeout=30)
check(out.returncode == 0, "easel docs reference exited %d" % out.returncode)
with open(os.path.join(ROOT, "docs", "reference.md"), "rb") as f:
    committed = f.read()
check(out.stdout == committed,
      "docs/reference.md is stale: regenerate with `easel docs reference > docs/reference.md`")

bad = subprocess.run([easel, "docs", "nonsense"], capture_output=True, timeout=30)
check(bad.returncode == 2 and b"usage" in bad.stderr, "easel docs nonsense exited %d" % bad.returncode)

# rules emitted by the code
emitted = set()
for name in os.listdir(os.path.join(ROOT, "renderer")):
    if name.endswith(".c"):
        text = open(os.path.join(ROOT, "renderer", name), encoding="utf-8").read()
        emitted |= set(re.findall(r'lint_add \([^,]+, "([a-z_]+)"', text))
text = open(os.path.join(ROOT, "common", "render_lint.c"), encoding="utf-8").read()
emitted |= set(re.findall(r's_add \([^,]+, "([a-z_]+)"', text))
check(len(emitted) >= 15, "found only %d emitted rules: %r" % (len(emitted), sorted(emitted)))
documented = set(re.findall(r"^\| `([a-z_]+)` \| (?:error|warning|info)", committed.decode(), re.M))
check(emitted <= documented, "rules emitted but not documented: %r" % sorted(emitted - documented))
check(documented <= emitted, "rules documented but never emitted: %r" % sorted(documented - emitted))

# every preset of the catalogue is documented
presets = set(re.findall(r'\{ *"((?:appstore|play)\.[a-z0-9_]+)"', open(os.path.join(ROOT, "catalog", "presets.c")).read()))
check(len(presets) >= 20, "found %d presets in presets.c" % len(presets))
for p in presets:
    check(("| `%s` |" % p).encode() in committed, "preset %s missing from reference.md" % p)
print("test_docs_reference: %d passed, %d failed" % (1 if not failures else 0, 1 if failures else 0))
sys.exit(1 if failures else 0)
