"""Fair sharing of the fleet between accounts, with the defaults (no
--account-lease-cap given): while account A's 40-image matrix runs on two
one-slot renderers, account B's one-image render takes the next free slot.
It waits at most one task's time per slot, not behind A's matrix: by the
time B's render finishes, A has finished at most a few more images (those it
held when B arrived, and those on the other slot while B's drew), and A
still has most of its images queued. A then completes in full."""
import time
from harness import Stack, TwoTenants, check, wait_for

RENDERERS = 2
stack = Stack(renderers=RENDERERS, webhooker=False)
tenants = TwoTenants(stack)
key_b, big, total_a = tenants.key_b, tenants.big, tenants.total_a
status, _, a = stack.json("POST", "/v1/renders", big)
check(status == 202, "A's matrix answered %d: %r" % (status, a))


def a_state():
    status, _, r = stack.json("GET", "/v1/renders/" + a["id"])
    check(status == 200, "GET A answered %d: %r" % (status, r))
    return r


def a_busy():
    r = a_state()
    check(r["status"] == "processing", "A finished before B could be sent: %r" % r["status"])
    return r if [i["status"] for i in r["images"]].count("leased") == RENDERERS else None


wait_for(a_busy, 60, "A to hold every renderer slot", interval=0.02)
status, _, b = stack.json("POST", "/v1/renders", tenants.small, auth=key_b)
check(status == 202, "B's render answered %d: %r" % (status, b))
done_at_b = a_state()["progress"]["done"]


def b_finished():
    status, _, r = stack.json("GET", "/v1/renders/" + b["id"], auth=key_b)
    check(status == 200, "GET B answered %d: %r" % (status, r))
    return r if r["status"] != "processing" else None


b_render = wait_for(b_finished, 120, "B's render to finish", interval=0.02)
a_now = a_state()
ahead = a_now["progress"]["done"] - done_at_b
queued = [i["status"] for i in a_now["images"]].count("queued")
print("B finished %s; A finished %d more image(s) meanwhile, %d of %d still queued"
      % (b_render["status"], ahead, queued, total_a))
check(b_render["status"] == "succeeded", "B's render ended %s: %r" % (b_render["status"], b_render.get("error")))
# A's held tasks (one per slot) finish before B's can start, and the other slot
# may finish one or two more while B's draws; anything beyond means B queued behind A
check(ahead <= 2 * RENDERERS + 1, "A finished %d images while B waited: B was not given the next free slot" % ahead)
check(queued >= total_a // 2, "A had only %d images queued when B finished" % queued)

final = stack.wait_render(a["id"], timeout=170)
check(final["status"] == "succeeded" and len(final["images"]) == total_a
      and all(i["status"] == "succeeded" for i in final["images"]),
      "A's render did not complete in full: %s" % final["status"])
print("it_fair_share: ok")
