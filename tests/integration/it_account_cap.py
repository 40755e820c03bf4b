"""Per-account concurrency (scheduler --account-lease-cap), whole stack:
- a lone tenant may use the whole fleet: account A's big render alone gets
  every renderer slot (more leased at once than the cap);
- once account B has work queued, A is held to the cap, so B's small render
  starts and finishes while A's big render still has images queued (without
  the cap B would wait behind every one of A's tasks);
- A's render still completes in full afterwards, every image succeeded."""
import os
import time
from harness import Stack, TwoTenants, check, wait_for

RENDERERS = 3
CAP = 1
os.environ["EASEL_ACCOUNT_LEASE_CAP"] = str(CAP)
stack = Stack(renderers=RENDERERS, webhooker=False)
tenants = TwoTenants(stack)
key_b, big, total_a = tenants.key_b, tenants.big, tenants.total_a
status, _, a = stack.json("POST", "/v1/renders", big)
check(status == 202, "A's big render answered %d: %r" % (status, a))


def images(rid, key=None):
    status, _, r = stack.json("GET", "/v1/renders/" + rid, auth=key or True)
    check(status == 200, "GET %s answered %d: %r" % (rid, status, r))
    return r, [img.get("status") for img in r.get("images", [])]


# alone, A takes every slot: more than the cap leased at once
def a_fills_fleet():
    r, st = images(a["id"])
    check(r["status"] == "processing", "A finished before it was seen using the fleet: %r" % r["status"])
    return st.count("leased") == RENDERERS or None


wait_for(a_fills_fleet, 60, "A's render to hold all %d renderer slots while alone" % RENDERERS, interval=0.02)

status, _, b = stack.json("POST", "/v1/renders", tenants.small, auth=key_b)
check(status == 202, "B's render answered %d: %r" % (status, b))


def b_finished():
    r, _ = images(b["id"], key_b)
    return r if r["status"] != "processing" else None


deadline = time.time() + 120
b_render = None
while time.time() < deadline:
    b_render = b_finished()
    if b_render:
        break
    time.sleep(0.05)
check(b_render is not None, "B's render did not finish within 120 s")
a_now, a_states = images(a["id"])
check(b_render["status"] == "succeeded", "B's render ended %s: %r" % (b_render["status"], b_render.get("error")))
check(a_states.count("queued") > 0,
      "B's render finished only after all of A's images had started (states %r): "
      "A was not held to the cap while B waited" % a_states)
print("B finished with A at %d/%d done, %d queued" % (a_now["progress"]["done"], total_a, a_states.count("queued")))

final = stack.wait_render(a["id"], timeout=170)
check(final["status"] == "succeeded" and len(final["images"]) == total_a
      and all(i["status"] == "succeeded" for i in final["images"]),
      "A's render did not complete in full: %s %r" % (final["status"], [i["status"] for i in final["images"]]))
status, _, _ = stack.request("GET", "/healthz", auth=False)
check(status == 200, "gateway not healthy afterwards")
print("it_account_cap: ok")
