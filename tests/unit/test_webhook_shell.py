#!/usr/bin/env python3
"""test_webhook_shell.py: runs the shell receiver documented in
docs/webhooks.md (the block between the verify.sh markers, exactly as a
reader would copy it) with the openssl command against every vector of
docs/webhook-test-vectors.json: it must print "verified" and exit 0 exactly
for the vectors labelled valid."""
import json, os, subprocess, sys, tempfile


def script_from(doc_path, name="verify.sh"):
    text = open(doc_path, encoding="utf-8").read()
    start = text.index("<!-- %s begin -->" % name)
    end = text.index("<!-- %s end -->" % name)
    block = text[start:end]
    return block[block.index("```sh\n") + 6:block.rindex("```")]


def main(doc_path, vectors_path):
    doc = json.load(open(vectors_path, encoding="utf-8"))
    vectors = doc["vectors"]
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        script = os.path.join(d, "verify.sh")
        with open(script, "w") as f:
            f.write(script_from(doc_path))
        body_file = os.path.join(d, "body")
        for v in vectors:
            with open(body_file, "wb") as f:
                f.write(v["body"].encode())
            r = subprocess.run(["sh", script, v["secret"], v["webhook_id"], str(v["timestamp"]),
                                v["webhook_signature"], body_file, str(v["now"])],
                               capture_output=True, timeout=30)
            ok = r.returncode == 0 and r.stdout.strip() == b"verified"
            if ok != v["valid"]:
                print("FAIL [%s]: expected %s, verify.sh exit %d, stdout %r, stderr %r"
                      % (v["name"], v["valid"], r.returncode, r.stdout, r.stderr))
                failures += 1
        # a valid delivery checked against the receiver's real clock is stale by now
        v = vectors[0]
        with open(body_file, "wb") as f:
            f.write(v["body"].encode())
        r = subprocess.run(["sh", script, v["secret"], v["webhook_id"], str(v["timestamp"]),
                            v["webhook_signature"], body_file], capture_output=True, timeout=30)
        if r.returncode == 0:
            print("FAIL: a 2026 timestamp verified against the current clock")
            failures += 1
        # the opt-in ed25519 entry, with verify-ed25519.sh
        script = os.path.join(d, "verify-ed25519.sh")
        with open(script, "w") as f:
            f.write(script_from(doc_path, "verify-ed25519.sh"))
        for v in doc["ed25519_vectors"]:
            with open(body_file, "wb") as f:
                f.write(v["body"].encode())
            r = subprocess.run(["sh", script, v["public_key"], v["webhook_id"], str(v["timestamp"]),
                                v["webhook_signature"], body_file, str(v["now"])],
                               capture_output=True, timeout=30)
            ok = r.returncode == 0 and r.stdout.strip() == b"verified"
            if ok != v["valid"]:
                print("FAIL [%s]: expected %s, verify-ed25519.sh exit %d, stderr %r"
                      % (v["name"], v["valid"], r.returncode, r.stderr))
                failures += 1
    if failures:
        print("%d check(s) failed" % failures)
        return 1
    print("webhook shell receivers: %d HMAC and %d ed25519 vectors as labelled"
          % (len(vectors), len(doc["ed25519_vectors"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
