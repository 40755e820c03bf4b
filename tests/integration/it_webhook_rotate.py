"""Secret rotation: POST /v1/account/webhook_secret/rotate with an overlap
signs with both secrets during it (two v1 entries in each header, each
verifying under its own secret) and only with the new one after it; the CLI's
`easel keys rotate-secret --overlap-s 0` switches at once. Opt-in ed25519
adds a "v1a,<sig>" entry that openssl verifies under the published key."""
import base64
import json
import os
import subprocess
import tempfile
import time
from harness import (Stack, HookReceiver, check, wait_for, verify_asa_signature,
                     verify_standard_signature)

hooks = HookReceiver()
stack = Stack(renderers=0, schedule="1,1,1")


def deliver():
    """Sends a test event and returns (lower-cased headers, body) of its call."""
    status, _, ev = stack.json("POST", "/v1/webhooks/test", {"url": hooks.url()})
    check(status == 202, "test event: %d %r" % (status, ev))
    def got():
        return [c for c in hooks.snapshot() if c["headers"].get("webhook-id") == ev["id"]]
    call = wait_for(got, 10, "test event %s" % ev["id"])[0]
    return {k.lower(): v for k, v in call["headers"].items()}, call["body"]


def n_sigs(h):
    return (len(h["webhook-signature"].split(" ")),
            sum(1 for p in h["x-asa-signature"].split(",") if p.startswith("v1=")))


old = stack.secret
h, body = deliver()
check(n_sigs(h) == (1, 1), "before rotation: %r" % h)

status, _, rot = stack.json("POST", "/v1/account/webhook_secret/rotate", {"overlap_s": 3})
check(status == 200 and rot["webhook_secret"].startswith("whsec_") and rot["overlap_s"] == 3,
      "rotate: %d %r" % (status, rot))
new = rot["webhook_secret"]
check(new != old and len(base64.b64decode(new[6:])) >= 32, "new secret %r" % new)
t_rot = time.time()
h, body = deliver()
check(n_sigs(h) == (2, 2), "during the overlap both secrets sign: %r" % h)
for secret in (old, new):
    check(verify_standard_signature(secret, h, body), "webhook-signature under %s" % secret[:10])
    check(verify_asa_signature(secret, h["x-asa-signature"], body), "X-ASA-Signature under %s" % secret[:10])
check(not verify_standard_signature("whsec_" + base64.b64encode(b"x" * 32).decode(), h, body),
      "an unrelated secret verified")

time.sleep(max(0, 3.5 - (time.time() - t_rot)))
h, body = deliver()
check(n_sigs(h) == (1, 1), "after the overlap one signature: %r" % h)
check(verify_standard_signature(new, h, body) and verify_asa_signature(new, h["x-asa-signature"], body),
      "the new secret verifies after the overlap")
check(not verify_standard_signature(old, h, body), "the old secret still verifies after the overlap")

# the CLI, with no overlap
out = json.loads(stack.cli("keys", "rotate-secret", "--account", stack.account, "--overlap-s", "0", "--json"))
cli_secret = out["webhook_secret"]
h, body = deliver()
check(n_sigs(h) == (1, 1) and verify_standard_signature(cli_secret, h, body)
      and not verify_standard_signature(new, h, body), "after the CLI rotation: %r" % h)
stack.secret = cli_secret

# bad inputs
for bad in ({"overlap_s": -1}, {"overlap_s": "1"}, {"overlap_s": 10 ** 9}, {"overlap": 1}):
    status, _, err = stack.json("POST", "/v1/account/webhook_secret/rotate", bad)
    check(status == 422 and err["error"]["param"] in ("overlap_s", "overlap"), "%r: %d %r" % (bad, status, err))
bad = subprocess.run([os.path.join(os.environ["EASEL_BIN_DIR"], "easel"), "keys", "rotate-secret",
                      "--account", stack.account, "--overlap-s", "soon", "--data", stack.data],
                     capture_output=True, timeout=30)
check(bad.returncode == 2 and b"--overlap-s" in bad.stderr, "CLI bad overlap: %r" % bad)

# ed25519, opt-in
status, _, key = stack.json("GET", "/v1/account/webhook_public_key")
check(status == 200 and key["enabled"] is False and len(base64.b64decode(key["public_key"])) == 32,
      "public key: %d %r" % (status, key))
shown = json.loads(stack.cli("keys", "public-key", "--account", stack.account, "--json"))
check(shown["public_key"] == key["public_key"] and shown["enabled"] is False, "CLI public key: %r" % shown)
status, _, on = stack.json("POST", "/v1/account/webhook_signing", {"ed25519": True})
check(status == 200 and on["enabled"] is True and on["public_key"] == key["public_key"], "enable: %r" % on)
status, _, err = stack.json("POST", "/v1/account/webhook_signing", {"ed25519": "yes"})
check(status == 422 and err["error"]["param"] == "ed25519", "bad ed25519: %d %r" % (status, err))
h, body = deliver()
entries = h["webhook-signature"].split(" ")
v1a = [e[4:] for e in entries if e.startswith("v1a,")]
check(len(v1a) == 1 and verify_standard_signature(cli_secret, h, body), "ed25519 entries: %r" % entries)
with tempfile.TemporaryDirectory() as d:
    der = bytes.fromhex("302a300506032b6570032100") + base64.b64decode(key["public_key"])
    with open(os.path.join(d, "pub.pem"), "w") as f:
        f.write("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(der).decode())
    with open(os.path.join(d, "sig"), "wb") as f:
        f.write(base64.b64decode(v1a[0]))
    for name, msg in (("good", ("%s.%s." % (h["webhook-id"], h["webhook-timestamp"])).encode() + body),
                      ("tampered", ("%s.%s." % (h["webhook-id"], h["webhook-timestamp"])).encode() + body + b" ")):
        with open(os.path.join(d, "msg"), "wb") as f:
            f.write(msg)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", os.path.join(d, "pub.pem"),
                            "-rawin", "-in", os.path.join(d, "msg"), "-sigfile", os.path.join(d, "sig")],
                           capture_output=True, timeout=30)
        check((r.returncode == 0) == (name == "good"), "openssl ed25519 %s: %r" % (name, r))
stack.json("POST", "/v1/account/webhook_signing", {"ed25519": False})
h, body = deliver()
check(not any(e.startswith("v1a,") for e in h["webhook-signature"].split(" ")), "ed25519 still signing")
print("it_webhook_rotate: 1 passed, 0 failed")
