"""The gateway's finished-render cache (gateway/render_cache.h), whole stack:
- a succeeded render without a webhook is answered from the cache on a
  repeated GET (the hit counter on /metrics moves) with the same render JSON;
- a key of another account gets 404 for it, also while it is cached;
- a render with a webhook is never answered from the cache: its
  webhook_status moves after completion (retrying -> delivered) and every
  GET shows the current one, with no hit counted;
- a GET with a query (?wait=) goes to the scheduler, so a bad wait is still 422;
- a revoked key is refused once its entries age out (GET polled until 401)."""
import json
import re
from harness import Stack, HookReceiver, check, wait_for, slide


def answer(n, path):
    if n < 2:
        return 500, {}, 0, b'{"error":"not yet"}'
    return 200, {}, 0, b"ok"


hooks = HookReceiver(responder=answer)
stack = Stack(renderers=1, schedule="1,1,1")


def hits():
    status, _, raw = stack.request("GET", "/metrics", auth=False)
    check(status == 200, "GET /metrics answered %d" % status)
    m = re.search(r'^easel_gateway_render_cache_total\{result="hit"\} (\d+)$', raw.decode(), re.M)
    return int(m.group(1)) if m else 0


def create(**extra):
    body = dict({"async": True, "canvas": {"preset": "appstore.iphone_6_9"}, "slides": [slide()]},
                **extra)
    status, _, r = stack.json("POST", "/v1/renders", body)
    check(status == 202, "create answered %d: %r" % (status, r))
    return r["id"]


def without_urls(render):
    """The render JSON minus the signed URLs (re-signed in every signing
    window, EASEL_SIGN_WINDOW_S)."""
    r = json.loads(json.dumps(render))
    for img in r["images"]:
        img.pop("url", None)
    r.pop("review_url", None)
    return r


# 1. a finished render without a webhook: cached after the first final GET
rid = create()
fresh = stack.wait_render(rid)
check(fresh["status"] == "succeeded" and fresh["webhook_status"] == "none", "render: %r" % fresh)
before = hits()
seen = []


def hit_counted():
    status, _, r = stack.json("GET", "/v1/renders/" + rid)
    check(status == 200, "GET answered %d: %r" % (status, r))
    seen.append(r)
    return hits() > before


wait_for(hit_counted, 30, "a GET of the finished render answered from the cache")
for r in seen:
    check(without_urls(r) == without_urls(fresh), "cached answer differs: %r vs %r" % (r, fresh))
    check(all(i["url"].startswith(stack.base + "/v1/files/" + i["id"] + "?exp=") for i in r["images"]),
          "image urls: %r" % r["images"])

# 2. another account's key: 404 from a cached entry's id
other = json.loads(stack.cli("keys", "create", "--name", "other", "--json"))["api_key"]
status, _, err = stack.json("GET", "/v1/renders/" + rid, auth=other)
check(status == 404 and err["error"]["code"] == "resource_missing" and err["error"]["param"] == "id",
      "another account's key answered %d: %r" % (status, err))
status, _, r = stack.json("GET", "/v1/renders/" + rid)
check(status == 200 and r["id"] == rid, "owner after the 404: %d %r" % (status, r))

# 3. a query goes to the scheduler: a bad wait is still refused
status, _, err = stack.json("GET", "/v1/renders/%s?wait=abc" % rid)
check(status == 422 and err["error"]["param"] == "wait", "bad wait answered %d: %r" % (status, err))

# 4. a render with a webhook: webhook_status changes after completion and
#    every GET shows it; nothing about it comes from the cache
hid = create(webhook_url=hooks.url())
done = stack.wait_render(hid)
check(done["status"] == "succeeded", "webhook render: %r" % done)
statuses = []
h0 = hits()


def delivered():
    status, _, r = stack.json("GET", "/v1/renders/" + hid)
    check(status == 200, "GET answered %d: %r" % (status, r))
    statuses.append(r["webhook_status"])
    return r["webhook_status"] == "delivered"


wait_for(delivered, 40, "webhook_status delivered")
check(len(hooks.snapshot()) == 3, "deliveries: %d" % len(hooks.snapshot()))
check(statuses[-1] == "delivered" and set(statuses) <= {"pending", "retrying", "delivered"},
      "webhook_status seen: %r" % statuses)
check(hits() == h0, "a render with a webhook was answered from the cache")
status, _, r = stack.json("GET", "/v1/renders/" + hid)
check(r["webhook_status"] == "delivered", "after delivery: %r" % r["webhook_status"])

# 5. a revoked key stops reading the cached render once its entry ages out
stack.cli("keys", "revoke", stack.key)
wait_for(lambda: stack.request("GET", "/v1/renders/" + rid)[0] == 401, 30,
         "the revoked key to be refused")
stack.close()
print("ok")
