"""docs/openapi.json is a valid OpenAPI 3.1 document by the pinned
@seriousme/openapi-schema-validator (the official OpenAPI JSON schemas), and
the validator is not vacuous: a document with a broken operation fails."""
import json
import os
import subprocess
import sys
import tempfile

from conformance import DOC, tool

validate = tool("validate-api")


def run(path):
    out = subprocess.run([validate, path], capture_output=True, timeout=120)
    try:
        report = json.loads(out.stdout.decode())
    except ValueError:
        report = {"valid": None, "output": out.stdout.decode()[:2000], "stderr": out.stderr.decode()[:2000]}
    return out.returncode, report


rc, report = run(DOC)
if rc != 0 or report.get("valid") is not True:
    print("FAIL: docs/openapi.json does not validate (exit %d):\n%s" % (rc, json.dumps(report, indent=1)[:8000]),
          file=sys.stderr)
    sys.exit(1)

doc = json.load(open(DOC))
doc["paths"]["/v1/renders"]["post"]["responses"] = {"200": {"content": {}}}   # no description
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump(doc, f)
rc, report = run(f.name)
os.unlink(f.name)
if rc == 0 or report.get("valid") is not False:
    print("FAIL: a response without a description validated: %r" % report, file=sys.stderr)
    sys.exit(1)
print("conformance_openapi: 1 passed, 0 failed")
