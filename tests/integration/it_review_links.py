"""Review links that name their reviewer and an earlier render, through the
real stack (POST /v1/renders/{id}/review_links, `easel renders review-link`):
- the answer is 201 {object: review_link, url, by, since, expires_at}; the
  URL carries by and since beside exp and sig, and the page it opens says
  who decides and marks each image against the earlier render (changed with
  its difference, new, unchanged), from the same changes as
  GET /v1/renders/{id}/changes;
- the signature covers by and since: a link with another name, without its
  since, or with another since answers 403 (HTML page, no data);
- a decision made through the link records the link's name, whatever name
  the form sends;
- bad bodies answer 422 naming the field (by empty, too long, with a
  newline, not a string; since not a render id; expires_in out of range or
  not a number; an unknown parameter); since naming another account's render
  or the render itself 404; another account's key 404; no key 401;
- revoking a render's links revokes the named ones too;
- the CLI prints the link."""
import json
import os
import re
import subprocess
import time
import urllib.parse
from harness import BIN, Stack, ShotServer, check, slide


def page_data(page):
    m = re.search(rb'<script type="application/json" id="easel-data">(.*?)</script>', page, re.S)
    check(m is not None, "the page has no data block")
    return json.loads(m.group(1))


shots = ShotServer()
stack = Stack(renderers=1)
try:
    canvas = {"preset": "appstore.iphone_6_9"}
    first = {"async": True, "canvas": canvas,
             "slides": [slide(shots.url("/shot.png"), lines=("Track every habit",)),
                        slide(shots.url("/shot.png"), lines=("See your streaks",))]}
    status, _, a = stack.json("POST", "/v1/renders", first)
    check(status == 202, "first create answered %d %r" % (status, a))
    second = json.loads(json.dumps(first))
    second["slides"][1]["headline"]["lines"] = ["See your streaks grow"]
    second["slides"].append(slide(shots.url("/shot.png"), lines=("Share with friends",)))
    status, _, b = stack.json("POST", "/v1/renders", second)
    check(status == 202, "second create answered %d %r" % (status, b))
    ra, rb = stack.wait_render(a["id"]), stack.wait_render(b["id"])
    check(ra["status"] == "succeeded" and rb["status"] == "succeeded", "renders ended %s %s" % (ra["status"], rb["status"]))
    rid = rb["id"]
    links = "/v1/renders/%s/review_links" % rid

    # mint: the link names Priya and the earlier render
    before = time.time()
    status, _, link = stack.json("POST", links, {"by": "Priya Ø", "since": ra["id"], "expires_in": 3600})
    check(status == 201 and link["object"] == "review_link" and link["render_id"] == rid
          and link["by"] == "Priya Ø" and link["since"] == ra["id"], "mint answered %d %r" % (status, link))
    exp_at = time.mktime(time.strptime(link["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    check(before + 3600 - 5 <= exp_at <= time.time() + 3600 + 5, "expires_at %s is not an hour away" % link["expires_at"])
    url = link["url"]
    check(url.startswith(stack.base + "/v1/renders/%s/review?exp=" % rid), "link url %r" % url)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    check(q["by"] == ["Priya Ø"] and q["since"] == [ra["id"]] and len(q["sig"][0]) == 64, "link query %r" % q)
    path = url[len(stack.base):]

    # the page says who decides and what changed, as /changes does
    status, _, page = stack.request("GET", path, auth=False)
    check(status == 200, "the named link's page answered %d" % status)
    data = page_data(page)
    check(data["by"] == "Priya Ø" and data["since"] == ra["id"], "page data by/since %r %r" % (data.get("by"), data.get("since")))
    status, _, changes = stack.json("GET", "/v1/renders/%s/changes?since=%s" % (rid, ra["id"]))
    check(status == 200 and data["changes"] == changes, "page changes %r differ from /changes %r" % (data["changes"], changes))
    check(changes["summary"] == {"unchanged": 1, "changed": 1, "new": 1, "removed": 0},
          "summary %r, want 1 unchanged, 1 changed, 1 new" % changes["summary"])
    by_slide = {c["slide"]: c for c in changes["images"]}
    check(by_slide[1]["status"] == "changed" and by_slide[1]["difference"] is not None
          and by_slide[2]["status"] == "new" and by_slide[0]["status"] == "unchanged", "per image %r" % changes["images"])
    for name in ("status", "archive"):
        status, _, _ = stack.request("GET", data["urls"][name][len(stack.base):], auth=False)
        check(status == 200, "the page's %s URL answered %d" % (name, status))

    # the signature covers by and since
    for bad in (path.replace("by=Priya", "by=Mallory"), re.sub(r"&since=rnd_[0-9A-Za-z]+", "", path),
                path.replace(ra["id"], rid), re.sub(r"&by=[^&]+", "", path)):
        status, headers, body = stack.request("GET", bad, auth=False)
        check(status == 403 and headers.get("Content-Type", "").startswith("text/html")
              and rid.encode() not in body, "an altered link %s answered %d" % (bad, status))
    status, _, _ = stack.request("GET", path.replace("since=", "since=img_"), auth=False)
    check(status == 403, "a since that is not a render id answered %d" % status)

    # a decision through the link is the link's reviewer's
    nonce, token = data["nonce"], data["token"]
    form = urllib.parse.urlencode({"status": "approved", "by": "Mallory", "comment": "ship it",
                                   "nonce": nonce, "token": token}).encode()
    fh = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    status, _, decided = stack.json("POST", path, raw=form, auth=False, headers=fh)
    check(status == 200 and decided["review"]["status"] == "approved" and decided["review"]["by"] == "Priya Ø",
          "decision through the named link answered %d %r" % (status, decided))
    status, _, again = stack.json("POST", path, raw=form, auth=False, headers=fh)
    check(status == 409 and again["review"]["by"] == "Priya Ø", "a second decision answered %d %r" % (status, again))

    # 422s name the field; 404 for what the account does not own; 401 without a key
    for body, param in (({"by": ""}, "by"), ({"by": "x" * 101}, "by"), ({"by": "a\nb"}, "by"),
                        ({"by": 7}, "by"), ({"since": "img_1"}, "since"), ({"since": 5}, "since"),
                        ({"expires_in": 10}, "expires_in"), ({"expires_in": 31 * 24 * 3600}, "expires_in"),
                        ({"expires_in": "1h"}, "expires_in"), ({"reviewer": "x"}, "reviewer")):
        status, _, err = stack.json("POST", links, body)
        check(status == 422 and err["error"]["param"] == param,
              "mint %r answered %d %r, want 422 naming %s" % (body, status, err, param))
    status, _, err = stack.request("POST", links, raw=b"[1]", headers={"Content-Type": "application/json"})
    check(status == 400, "a non-object body answered %d" % status)
    other = json.loads(stack.cli("keys", "create", "--name", "other", "--json"))["api_key"]
    status, _, theirs = stack.json("POST", "/v1/renders", first, auth=other)
    check(status == 202, "other account's create answered %d" % status)
    status, _, err = stack.json("POST", links, {"since": theirs["id"]})
    check(status == 404 and err["error"]["param"] == "since", "another account's since answered %d %r" % (status, err))
    status, _, err = stack.json("POST", links, {"since": rid})
    check(status == 404 and err["error"]["param"] == "since", "since the render itself answered %d %r" % (status, err))
    status, _, err = stack.json("POST", links, {"by": "Eve"}, auth=other)
    check(status == 404, "another account minting answered %d %r" % (status, err))
    status, _, err = stack.json("POST", links, {"by": "Eve"}, auth=False)
    check(status == 401, "minting without a key answered %d" % status)
    status, _, plain = stack.json("POST", links)
    check(status == 201 and plain["by"] is None and plain["since"] is None and "&by=" not in plain["url"],
          "a plain mint answered %d %r" % (status, plain))

    # revoking takes no parameters, and revokes named links too
    status, _, err = stack.json("POST", "/v1/renders/%s/review_links/revoke" % rid, {"all": True})
    check(status == 422 and err["error"]["code"] == "parameter_unknown" and err["error"].get("param") == "all",
          "revoke with a parameter answered %d %r" % (status, err))
    status, _, _ = stack.json("POST", "/v1/renders/%s/review_links/revoke" % rid, {})
    check(status == 200, "revoke answered %d" % status)
    status, _, _ = stack.request("GET", path, auth=False)
    check(status == 403, "a revoked named link answered %d" % status)

    # the CLI
    env = dict(stack.env, EASEL_URL=stack.base, EASEL_API_KEY=stack.key)
    out = subprocess.run([os.path.join(BIN, "easel"), "renders", "review-link", rid, "--by", "Ana",
                          "--since", ra["id"], "--expires-in", "600"], env=env, capture_output=True, timeout=60)
    printed = out.stdout.decode().strip()
    check(out.returncode == 0 and "&by=Ana" in printed and "&since=" + ra["id"] in printed,
          "easel renders review-link exited %d: %r %r" % (out.returncode, printed, out.stderr))
    status, _, page = stack.request("GET", printed[len(stack.base):], auth=False)
    check(status == 200 and page_data(page)["by"] == "Ana", "the CLI's link answered %d" % status)
    out = subprocess.run([os.path.join(BIN, "easel"), "renders", "review-link", rid, "--by", ""], env=env,
                         capture_output=True, timeout=60)
    check(out.returncode != 0 and b"by" in out.stderr, "an empty --by exited %d: %r" % (out.returncode, out.stderr))
    print("ok: named review links, changed-since marks, signature over by and since, 422s, revocation, CLI")
finally:
    stack.close()
