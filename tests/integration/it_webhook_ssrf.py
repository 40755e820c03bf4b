"""Without --allow-private-networks the webhooker refuses, at connect time,
a webhook_url that reaches loopback (127.0.0.1) or the link-local metadata
address (169.254.169.254); the attempt log names the class and the address
and the receiver never sees a request. Started with the flag, loopback works."""
from harness import Stack, HookReceiver, check, wait_for

hooks = HookReceiver()
stack = Stack(renderers=0, webhooker=False, schedule="1")
stack.start("webhooker", env={"EASEL_ALLOW_PRIVATE_NETWORKS": "0"})


def send(url):
    status, _, ev = stack.json("POST", "/v1/webhooks/test", {"url": url})
    check(status == 202, "test event for %s: %d %r" % (url, status, ev))
    return ev


def log_of(ev):
    return stack.json("GET", ev["deliveries_url"])[2]


for url, addr in ((hooks.url(), "127.0.0.1"), ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
                  ("http://[::ffff:127.0.0.1]:%d/hook" % hooks.port, "127.0.0.1")):
    ev = send(url)
    wait_for(lambda: log_of(ev)["webhook_status"] == "failed", 15, "the refusal of %s" % url)
    rows = log_of(ev)["data"]
    check(len(rows) == 2, "%s: %d attempts, want 2 (schedule '1')" % (url, len(rows)))
    for r in rows:
        check(r["error_class"] == "url_not_allowed" and addr in r["error"] and r["status_code"] is None,
              "%s: attempt %r" % (url, r))
check(hooks.snapshot() == [], "a refused delivery reached the receiver")

stack.kill("webhooker")
stack.start("webhooker", "--allow-private-networks", env={"EASEL_ALLOW_PRIVATE_NETWORKS": "0"})
ev = send(hooks.url("/allowed"))
wait_for(lambda: log_of(ev)["webhook_status"] == "delivered", 15, "loopback with the flag")
check([c["path"] for c in hooks.snapshot()] == ["/allowed"], "calls %r" % hooks.snapshot())
print("it_webhook_ssrf: 1 passed, 0 failed")
