#!/usr/bin/env python3
"""Re-render only what changed: an image identical to an earlier one of the
same account (same spec after substitution, same inline source bytes, same
drawing version) comes from that image: `"cached": true`, the same bytes,
0 credits; `"cache": false` draws everything again. GET
/v1/renders/{id}/changes?since=rnd_... says, image by image, what is
unchanged, changed (with a perceptual difference), new or removed.

A 2-slide x 2-locale render (4 images, 4 credits), then the same set with one
slide's screenshot changed: 2 images cached (same sha256), 2 drawn, 2
credits; changes: 2 unchanged, 2 changed with a difference > 0. `cache:
false`: 4 drawn, 4 credits, and the redraw equals the cached bytes (drawing
is deterministic). A locale swapped: new and removed. Another account never
gets this account's images. An account short of credits for the whole
set may still re-render it when the cache serves the rest. Bad input: 422 naming `since` or `cache`, 404
naming `since` for another account's render."""
import base64
import json

from harness import Stack, check, make_png

stack = Stack(renderers=1)
acct = json.loads(stack.cli("keys", "create", "--name", "rerender", "--credits", "100", "--json"))
key = acct["api_key"]
other = json.loads(stack.cli("keys", "create", "--name", "other", "--credits", "100", "--json"))["api_key"]

blue = base64.b64encode(make_png(1179, 2556, rgb=(30, 90, 170))).decode()
red = base64.b64encode(make_png(1179, 2556, rgb=(200, 40, 40))).decode()


def body(second, locales=("en-US", "de-DE"), **extra):
    b = {"canvas": {"preset": "appstore.iphone_6_9"}, "matrix": {"locales": list(locales)},
         "slides": [{"headline": {"lines": ["Track every habit"]}, "screenshot": {"data": blue}},
                    {"headline": {"lines": ["See your streaks"]}, "screenshot": {"data": second}}]}
    b.update(extra)
    return b


def balance(k=key):
    status, _, a = stack.json("GET", "/v1/account", auth=k)
    check(status == 200, "account: %d %r" % (status, a))
    return a["balance"]


def render(b, k=key):
    before = balance(k)
    status, _, r = stack.json("POST", "/v1/renders", b, auth=k)
    check(status == 200 and r["status"] == "succeeded", "render: %d %r" % (status, r))
    return r, before - balance(k)


def place(im):
    return (im["slide"], im["locale"])


first, cost = render(body(blue))
check(cost == 4 and first["credits_used"] == 4, "first render costs 4, cost %d %r" % (cost, first["credits_used"]))
check(not any(im["cached"] for im in first["images"]), "nothing cached the first time: %r" % first["images"])
sha = {place(im): im["sha256"] for im in first["images"]}

second, cost = render(body(red))
cached = {place(im): im["cached"] for im in second["images"]}
check(cached == {(0, "en-US"): True, (0, "de-DE"): True, (1, "en-US"): False, (1, "de-DE"): False},
      "slide 0 cached, slide 1 drawn: %r" % cached)
check(cost == 2 and second["credits_used"] == 2, "one changed slide costs 2 credits, cost %d" % cost)
for im in second["images"]:
    if im["cached"]:
        check(im["sha256"] == sha[place(im)] and im["id"] != first["images"][0]["id"],
              "a cached image has the earlier bytes and its own id: %r" % im)
        status, headers, data = stack.request("GET", im["url"].split("127.0.0.1:%d" % stack.http_port)[1],
                                              auth=False)
        check(status == 200 and data[:8] == b"\x89PNG\r\n\x1a\n", "a cached image is served: %d" % status)
    else:
        check(im["sha256"] != sha[place(im)], "a changed slide has new bytes: %r" % im)
check(second["lint"]["findings"] is not None, "a cached image keeps its lint")

status, _, ch = stack.json("GET", "/v1/renders/%s/changes?since=%s" % (second["id"], first["id"]), auth=key)
check(status == 200 and ch["object"] == "render_changes" and ch["id"] == second["id"]
      and ch["since"] == first["id"], "changes: %d %r" % (status, ch))
check(ch["summary"] == {"unchanged": 2, "changed": 2, "new": 0, "removed": 0}, "summary %r" % ch["summary"])
for im in ch["images"]:
    if im["slide"] == 0:
        check(im["status"] == "unchanged" and im["difference"] == 0, "slide 0: %r" % im)
    else:
        check(im["status"] == "changed" and isinstance(im["difference"], float) and 0.05 < im["difference"] <= 1,
              "slide 1 changed with a perceptual difference: %r" % im)
    check(im["image"] and im["since_image"], "both images named: %r" % im)

# cache: false draws all four again; drawing is deterministic, so the bytes are the same
third, cost = render(body(red, cache=False))
check(cost == 4 and not any(im["cached"] for im in third["images"]), "cache false: cost %d %r" % (cost, third["images"]))
status, _, ch = stack.json("GET", "/v1/renders/%s/changes?since=%s" % (third["id"], second["id"]), auth=key)
check(status == 200 and ch["summary"] == {"unchanged": 4, "changed": 0, "new": 0, "removed": 0},
      "a redraw of the same set is unchanged: %r" % ch)

# a locale swapped: en-US from the cache, fr-FR new, de-DE removed
fourth, cost = render(body(red, locales=("en-US", "fr-FR")))
check(cost == 2, "only the new locale is drawn: cost %d" % cost)
status, _, ch = stack.json("GET", "/v1/renders/%s/changes?since=%s" % (fourth["id"], second["id"]), auth=key)
check(ch["summary"] == {"unchanged": 2, "changed": 0, "new": 2, "removed": 2}, "summary %r" % ch["summary"])
check({(im["status"], im["locale"]) for im in ch["images"]}
      == {("unchanged", "en-US"), ("new", "fr-FR"), ("removed", "de-DE")}, "entries %r" % ch["images"])
check(all(im["image"] is None for im in ch["images"] if im["status"] == "removed")
      and all(im["since_image"] is None for im in ch["images"] if im["status"] == "new"), "entries %r" % ch["images"])

# another account: nothing of this account's is reused
theirs, cost = render(body(red), k=other)
check(cost == 4 and not any(im["cached"] for im in theirs["images"]), "another account draws its own: %r" % cost)

# what the cache serves holds no credit: an account with 2 credits left
# re-renders the 4-image set with one slide changed (2 cached, 2 drawn)
thrifty = json.loads(stack.cli("keys", "create", "--name", "thrifty", "--credits", "6", "--json"))["api_key"]
render(body(blue), k=thrifty)
check(balance(thrifty) == 2, "thrifty has 2 credits left: %r" % balance(thrifty))
again, cost = render(body(red), k=thrifty)
check(cost == 2 and sum(im["cached"] for im in again["images"]) == 2, "2 credits cover 2 drawn + 2 cached: %d" % cost)
status, _, err = stack.json("POST", "/v1/renders", body(blue, cache=False), auth=thrifty)
check(status == 402 and err["error"]["code"] == "insufficient_credits" and "needs 4" in err["error"]["message"],
      "cache false with 0 credits: %d %r" % (status, err))
status, _, err = stack.json("POST", "/v1/renders", body(blue, locales=("fr-FR",)), auth=thrifty)
check(status == 402 and "needs 2" in err["error"]["message"], "a new locale is drawn, not cached: %d %r" % (status, err))

# bad input
for path, code, param in [
        ("/v1/renders/%s/changes" % second["id"], 422, "since"),
        ("/v1/renders/%s/changes?since=nope" % second["id"], 422, "since"),
        ("/v1/renders/%s/changes?since=%s" % (second["id"], theirs["id"]), 404, "since"),
        ("/v1/renders/%s/changes?since=%s" % (theirs["id"], first["id"]), 404, "id")]:
    status, _, err = stack.json("GET", path, auth=key)
    check(status == code and err["error"]["param"] == param, "%s: %d %r" % (path, status, err))
status, _, err = stack.json("POST", "/v1/renders", body(red, cache="no"), auth=key)
check(status == 422 and err["error"]["param"] == "cache", "cache must be a boolean: %d %r" % (status, err))
status, _, _ = stack.request("GET", "/healthz", auth=False)
check(status == 200, "the gateway stays up")
print("it_rerender: passed")
