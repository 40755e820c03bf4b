"""Credits: a create the balance cannot cover (minus what processing renders
hold) is 402 before anything is queued; renders are charged once, one credit
per image rendered (failed and canceled images are free); the ledger sums to
the balance; `easel credits add` tops up beside a running stack."""
import json
import os
import subprocess
import time
from harness import BIN, Stack, ShotServer, check, wait_for, slide

shots = ShotServer()
stack = Stack(renderers=1, renderer_env={"EASEL_RENDERER_TEST_DELAY_MS": "1500"})
acct = json.loads(stack.cli("keys", "create", "--name", "metered", "--credits", "5", "--json"))
key = acct["api_key"]


def create(n, path="/shot.png", auth=key, **extra):
    body = dict({"async": True, "canvas": {"width": 300, "height": 600},
                 "slides": [slide(shots.url(path), lines=["Slide %d" % i]) for i in range(n)]}, **extra)
    return stack.json("POST", "/v1/renders", body, auth=auth)


def account():
    status, _, a = stack.json("GET", "/v1/account", auth=key)
    check(status == 200, "GET /v1/account answered %d: %r" % (status, a))
    return a


def wait(rid):
    def done():
        status, _, r = stack.json("GET", "/v1/renders/%s?wait=5" % rid, auth=key)
        check(status == 200, "GET render %d %r" % (status, r))
        return r if r["status"] != "processing" else None
    return wait_for(done, 60, "render %s" % rid)


a = account()
check(a["object"] == "account" and a["id"] == acct["account_id"], "account: %r" % a)
check(a["balance"] == 5 and a["unlimited"] is False and a["used"] == 0, "new account: %r" % a)
check([e["reason"] for e in a["ledger"]] == ["grant"] and a["ledger"][0]["amount"] == 5,
      "opening grant: %r" % a["ledger"])

# 6 images on a balance of 5: refused before anything is queued.
status, headers, body = create(6)
check(status == 402, "over the balance answered %d %r" % (status, body))
check(body["error"]["code"] == "insufficient_credits" and "6" in body["error"]["message"],
      "402 body: %r" % body)
status, _, listing = stack.json("GET", "/v1/renders", auth=key)
check(listing["data"] == [], "a refused create queued something: %r" % listing)

# A processing render holds its images: 3 held, so 3 more do not fit.
status, _, held = create(3)
check(status == 202, "3 of 5: %d %r" % (status, held))
a = account()
check(a["reserved"] == 3 and a["available"] == 2, "reservation: %r" % a)
status, _, body = create(3)
check(status == 402, "3 more while 3 are held answered %d %r" % (status, body))
# cancel it after at most one image: credits only for what was rendered
time.sleep(0.5)
status, _, canceled = stack.json("POST", "/v1/renders/%s/cancel" % held["id"], {}, auth=key)
check(status == 200 and canceled["status"] == "canceled", "cancel: %d %r" % (status, canceled))
rendered = sum(1 for i in canceled["images"] if i["status"] == "succeeded")
check(canceled["credits_used"] == rendered and rendered <= 1,
      "canceled render charged %r for %d rendered" % (canceled["credits_used"], rendered))
check(any(i["status"] == "canceled" for i in canceled["images"]), "no canceled image: %r" % canceled)

ok = wait(create(2)[2]["id"])
check(ok["status"] == "succeeded" and ok["credits_used"] == 2, "2-image render: %r" % ok)
failed = wait(create(1, path="/missing")[2]["id"])
check(failed["status"] == "failed" and failed["credits_used"] == 0, "failed render: %r" % failed)
# A late result of a canceled task is ignored: the charge does not change.
time.sleep(2)
status, _, again = stack.json("GET", "/v1/renders/" + held["id"], auth=key)
check(again["status"] == "canceled" and again["credits_used"] == canceled["credits_used"],
      "canceled render changed after a late result: %r" % again)

# Top up beside the running stack, by account and by key prefix.
def cli(*args):
    return subprocess.run([os.path.join(BIN, "easel")] + list(args) + ["--data", stack.data],
                          env=stack.env, capture_output=True, timeout=30)


out = cli("credits", "add", "--account", acct["account_id"], "10", "--json")
check(out.returncode == 0, "credits add: %s" % out.stderr.decode())
added = json.loads(out.stdout)
check(added["added"] == 10 and added["account_id"] == acct["account_id"], "credits add: %r" % added)
out = cli("credits", "add", "--key", acct["key_prefix"], "1", "--note", "goodwill")
check(out.returncode == 0, "credits add --key: %s" % out.stderr.decode())
for bad, code in ((["--account", "acct_nope", "5"], 1), (["--account", acct["account_id"], "0"], 2),
                  (["--account", acct["account_id"], "abc"], 2), (["5"], 2),
                  (["--key", "sk_" + "0" * 40, "5"], 1)):
    out = cli("credits", "add", *bad)
    check(out.returncode == code, "credits add %r exited %d (%s), expected %d"
          % (bad, out.returncode, out.stderr.decode(), code))
    check(out.stderr.strip(), "credits add %r failed silently" % bad)
dev = json.loads(stack.cli("keys", "create", "--name", "unlimited", "--json"))
out = cli("credits", "add", "--account", dev["account_id"], "5")
check(out.returncode == 1 and b"unlimited" in out.stderr, "top-up of an unlimited account: %r" % out)

# After the top-up: one render of two images, one of which fails.
mixed = create(2)[2]
status, _, mixed_body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"width": 300, "height": 600},
    "slides": [slide(shots.url("/shot.png")), slide(shots.url("/text"))]}, auth=key)
wait(mixed["id"])
half = wait(mixed_body["id"])
check(half["status"] == "failed" and half["credits_used"] == 1, "one of two images failed: %r" % half)

# The ledger sums to the balance, and every final render has its one charge.
a = account()
charges = {e["render_id"]: -e["amount"] for e in a["ledger"] if e["reason"] == "render"}
expected_used = canceled["credits_used"] + 2 + 0 + 2 + 1
check(a["used"] == expected_used, "used %r, expected %r" % (a["used"], expected_used))
check(a["balance"] == 5 + 10 + 1 - expected_used, "balance %r" % a)
check(sum(e["amount"] for e in a["ledger"]) == a["balance"], "ledger does not sum to the balance: %r" % a)
check(a["ledger"][0]["balance_after"] == a["balance"], "newest entry's balance_after: %r" % a["ledger"][0])
topups = [(e["amount"], e["note"]) for e in a["ledger"] if e["reason"] == "topup"]
check(sorted(topups, key=str) == sorted([(10, None), (1, "goodwill")], key=str), "top-ups: %r" % topups)
status, _, listing = stack.json("GET", "/v1/renders?limit=100", auth=key)
for r in listing["data"]:
    check(charges.get(r["id"]) == r["credits_used"], "render %s credits_used %r vs ledger %r"
          % (r["id"], r["credits_used"], charges.get(r["id"])))
check(len(charges) == len(listing["data"]) == 5, "one ledger charge per render: %r" % charges)

# The unlimited account is never refused.
status, _, body = stack.json("POST", "/v1/renders", {
    "async": True, "canvas": {"width": 300, "height": 600},
    "slides": [slide(shots.url("/shot.png")) for _ in range(10)]})
check(status == 202, "unlimited account answered %d %r" % (status, body))
status, _, unl = stack.json("GET", "/v1/account")
check(unl["unlimited"] is True and unl["balance"] is None, "unlimited account view: %r" % unl)
print("it_credits: 1 passed, 0 failed")
