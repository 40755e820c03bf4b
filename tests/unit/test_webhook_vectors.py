#!/usr/bin/env python3
"""test_webhook_vectors.py: checks docs/webhook-test-vectors.json with an
independent implementation (Python's hmac/hashlib/base64), so the C signer
and the shipped vectors cannot drift together. Also the reference a receiver
can copy: verify_asa / verify_std below are how to check an Easel delivery."""
import base64, hashlib, hmac, json, sys


def sign_asa(secret, t, body):
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def sign_std(secret, msg_id, t, body):
    key = base64.b64decode(secret[len("whsec_"):], validate=True)
    mac = hmac.new(key, f"{msg_id}.{t}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def verify_asa(secret, header, body, now, tolerance):
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    ts = [v for k, v in parts if k == "t"]
    if len(ts) != 1 or not ts[0].isdigit() or abs(now - int(ts[0])) > tolerance:
        return False
    want = sign_asa(secret, int(ts[0]), body)
    return any(hmac.compare_digest(v, want) for k, v in parts if k == "v1")


def verify_std(secret, msg_id, timestamp, header, body, now, tolerance):
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    try:
        want = sign_std(secret, msg_id, int(timestamp), body)
    except ValueError:          # binascii.Error: the secret is not clean base64 after whsec_
        return False
    return any(hmac.compare_digest(s[3:], want) for s in header.split(" ") if s.startswith("v1,"))


def main(path):
    doc = json.load(open(path, encoding="utf-8"))
    tol = doc["tolerance_s"]
    failures = 0
    names = [v["name"] for v in doc["vectors"]]
    for needed in ("valid", "rotated", "tampered", "stale", "wrong_secret", "whitespace_in_secret"):
        if needed not in names:
            print(f"FAIL: expected a vector named {needed!r}, have {names}")
            failures += 1
    for v in doc["vectors"]:
        t, signed, body = v["timestamp"], v["signed_body"].encode(), v["body"].encode()
        asa = f"t={t}" + "".join(",v1=" + sign_asa(s, t, signed) for s in v["signing_secrets"])
        std = " ".join("v1," + sign_std(s, v["webhook_id"], t, signed) for s in v["signing_secrets"])
        checks = [
            ("X-ASA-Signature", v["x_asa_signature"], asa),
            ("webhook-signature", v["webhook_signature"], std),
            ("verify_asa", v["valid"], verify_asa(v["secret"], v["x_asa_signature"], body, v["now"], tol)),
            ("verify_std", v["valid"], verify_std(v["secret"], v["webhook_id"], str(t),
                                                   v["webhook_signature"], body, v["now"], tol)),
        ]
        for what, expected, got in checks:
            if expected != got:
                print(f"FAIL [{v['name']}] {what}: expected {expected!r}, independent computation gives {got!r}")
                failures += 1
    if failures:
        print(f"{failures} check(s) failed")
        return 1
    print(f"webhook vectors: {len(doc['vectors'])} vectors agree with the independent computation")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
