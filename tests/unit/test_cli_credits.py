"""easel credits add on a stopped data dir: top-ups by account, key and key
prefix write ledger rows whose sum is the balance `keys list` shows; bad
amounts, unknown accounts, both or neither selector, and unlimited accounts
are refused with a non-zero exit and a reason.
usage: test_cli_credits.py PATH_TO_easel"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

easel = sys.argv[1]
data = tempfile.mkdtemp(prefix="easel-credits-")
failures = 0


def run(*args):
    return subprocess.run([easel] + list(args) + ["--data", data], capture_output=True, timeout=30)


def check(cond, msg):
    global failures
    if not cond:
        print("FAIL: " + msg, file=sys.stderr)
        failures += 1


try:
    made = json.loads(run("keys", "create", "--name", "metered", "--credits", "3", "--json").stdout)
    acct, key, prefix = made["account_id"], made["api_key"], made["key_prefix"]
    for who in (["--account", acct], ["--key", key], ["--key", prefix]):
        out = run("credits", "add", *who, "2", "--json")
        check(out.returncode == 0, "credits add %r: %s" % (who, out.stderr.decode()))
    out = run("credits", "add", "--account", acct, "4", "--note", "invoice 7", "--json")
    check(out.returncode == 0 and json.loads(out.stdout)["balance"] == 13, "balance after top-ups: %r" % out)
    listed = json.loads(run("keys", "list", "--json").stdout)
    check(listed[0]["credits"] == 13, "keys list shows the balance: %r" % listed)
    db = sqlite3.connect(os.path.join(data, "easel.db"))
    rows = db.execute("SELECT amount, balance_after, reason, note FROM ledger WHERE account_id = ?"
                      " ORDER BY seq", (acct,)).fetchall()
    db.close()
    check([r[2] for r in rows] == ["grant", "topup", "topup", "topup", "topup"], "ledger rows: %r" % rows)
    check(sum(r[0] for r in rows) == 13 and rows[-1][1] == 13 and rows[-1][3] == "invoice 7",
          "ledger sums to the balance: %r" % rows)
    unlimited = json.loads(run("keys", "create", "--name", "dev", "--json").stdout)
    for args, code, why in ((["--account", acct, "0"], 2, ">= 1"), (["--account", acct, "-3"], 2, ">= 1"),
                            (["--account", acct, "12abc"], 2, ">= 1"),
                            (["--account", acct, "99999999999999999999"], 2, ">= 1"),
                            (["--account", "acct_missing", "1"], 1, "no such account"),
                            (["--key", "sk_nope", "1"], 1, "no such account"),
                            (["--account", acct, "--key", key, "1"], 2, "exactly one"),
                            (["1"], 2, "exactly one"),
                            (["--account", "bob", "1"], 2, "acct_"),
                            (["--account", acct, "1", "--note", "n" * 201], 2, "200 bytes"),
                            (["--account", unlimited["account_id"], "1"], 1, "unlimited")):
        out = run("credits", "add", *args)
        check(out.returncode == code and why.encode() in out.stderr,
              "credits add %r: exit %d (want %d), stderr %r" % (args[:3], out.returncode, code, out.stderr))
finally:
    shutil.rmtree(data, ignore_errors=True)
print("test_cli_credits: %s" % ("passed" if failures == 0 else "%d failed" % failures))
sys.exit(1 if failures else 0)
