"""The CLI's writes go through the scheduler that holds the data dir: `easel
credits add` and `easel keys create|revoke` beside a running scheduler are
ADMIN requests carrying the secret of DATA/admin.secret (0600), and the
gateway's view (GET /v1/account) has them at once; a wrong or missing secret
is refused and changes nothing; a second scheduler on the same data dir is
refused by the lock; with the scheduler stopped the CLI writes directly."""
import json
import os
import stat
import subprocess
from harness import BIN, Stack, check, wait_for

stack = Stack(renderers=0, webhooker=False)
secret_path = os.path.join(stack.data, "admin.secret")


def easel(*args):
    return subprocess.run([os.path.join(BIN, "easel")] + list(args) + ["--data", stack.data],
                          env=stack.env, capture_output=True, timeout=30)


def balance(key):
    status, _, a = stack.json("GET", "/v1/account", auth=key)
    check(status == 200, "GET /v1/account answered %d: %r" % (status, a))
    return a["balance"]


def admin_lines(verb):
    return [l for l in stack.log_text("scheduler").splitlines()
            if '"admin command"' in l and '"%s"' % verb in l]


mode = stat.S_IMODE(os.stat(secret_path).st_mode)
check(mode == 0o600, "admin.secret is mode %o, want 600" % mode)
with open(secret_path) as f:
    good = f.read()
check(len(good.split("\n")[0]) == 64 and good.split("\n")[1] == stack.api,
      "admin.secret holds the secret and the api endpoint: %r" % good[:20])

# keys create and credits add while the scheduler runs: the scheduler makes them
acct = json.loads(stack.cli("keys", "create", "--name", "metered", "--credits", "3", "--json"))
check(admin_lines("key_create"), "keys create did not go through the scheduler:\n" + stack.log_tails())
check(balance(acct["api_key"]) == 3, "the new key's balance")
out = json.loads(stack.cli("credits", "add", "--account", acct["account_id"], "7", "--json"))
check(out == {"account_id": acct["account_id"], "added": 7, "balance": 10}, "credits add answered %r" % out)
check(balance(acct["api_key"]) == 10, "the gateway's view has the top-up at once")
check(admin_lines("credits_add"), "credits add did not go through the scheduler")

# a wrong secret is refused and changes nothing
with open(secret_path, "w") as f:
    f.write("0" * 64 + "\n" + stack.api + "\n")
r = easel("credits", "add", "--account", acct["account_id"], "5")
check(r.returncode == 1 and b"refused" in r.stderr, "a wrong secret: exit %d %r" % (r.returncode, r.stderr))
check(balance(acct["api_key"]) == 10, "a refused top-up changed the balance")
check("admin command refused" in stack.log_text("scheduler"), "the scheduler logs the refusal")
# a missing one too
os.unlink(secret_path)
r = easel("keys", "revoke", acct["key_prefix"])
check(r.returncode == 1 and b"admin.secret" in r.stderr, "no secret: exit %d %r" % (r.returncode, r.stderr))
with open(secret_path, "w") as f:
    f.write(good)
os.chmod(secret_path, 0o600)
stack.cli("keys", "revoke", acct["key_prefix"])
check(admin_lines("key_revoke"), "keys revoke did not go through the scheduler")
listing = json.loads(stack.cli("keys", "list", "--json"))
check([k["revoked"] for k in listing if k["account_id"] == acct["account_id"]] == [True],
      "the key is revoked: %r" % listing)

# one scheduler per data dir, whatever its endpoints
second = subprocess.run([os.path.join(BIN, "easel-scheduler"), "--api", "tcp://127.0.0.1:0",
                         "--work", "tcp://127.0.0.1:0", "--events", "tcp://127.0.0.1:0"],
                        env=stack.env, capture_output=True, timeout=30)
check(second.returncode == 3 and b"cannot hold the data dir" in second.stderr,
      "a second scheduler on the data dir: exit %d %r" % (second.returncode, second.stderr[-300:]))

# no scheduler: the CLI writes the store itself, and the next scheduler sees it
stack.kill("scheduler")
out = json.loads(stack.cli("credits", "add", "--account", acct["account_id"], "5", "--json"))
check(out["balance"] == 15, "a direct top-up: %r" % out)
stack.start("scheduler")
other = json.loads(stack.cli("keys", "create", "--name", "after", "--credits", "2", "--json"))
wait_for(lambda: stack.request("GET", "/v1/account", auth=other["api_key"])[0] == 200, 30,
         "the restarted scheduler answers the gateway")
check(balance(other["api_key"]) == 2, "a key made after the restart")
print("ok it_admin_cli")
