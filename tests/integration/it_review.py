"""The review gate through the real stack (API side; it_review_page.py drives
the page in a browser):
- every render carries review {status: pending, ...} and a signed review_url;
- POST /v1/renders/{id}/review with the key: 422 naming the field for a bad
  status, an unknown parameter, a comment over the cap; 409 render_processing
  is not tested here (the render is finished first); the first decision is
  recorded (GET shows it) and emits render.changes_requested, signed, through
  the outbox; a second decision answers 409 with the first one;
- the review page (no key) answers HTML; a tampered signature 403 and an
  expired link 410, both HTML error pages without the render's data;
- the page's form: refused cross-site (Sec-Fetch-Site, Origin) and with a
  wrong token; revoking the links makes the old link 403 while the new
  review_url works; another account's key gets 404;
- `easel renders review ID [--wait] [--timeout S]` exits 1 on changes
  requested, 4 with no decision (without --wait, and when --timeout passes),
  and 0 once a person approves while it waits."""
import hashlib
import hmac
import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from harness import BIN, Stack, HookReceiver, ShotServer, check, fail, slide, verify_asa_signature, wait_for

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


hooks = HookReceiver()
shots = ShotServer()
stack = Stack(renderers=1)
try:
    body = {"async": True, "webhook_url": hooks.url(), "canvas": {"preset": "appstore.iphone_6_9"},
            "slides": [slide(shots.url("/shot.png"), lines=("Say <b>hi</b> & \"bye\"",))],
            "metadata": {"release": "<script>alert(1)</script>"}}
    status, _, created = stack.json("POST", "/v1/renders", body)
    check(status == 202, "create answered %d: %r" % (status, created))
    rid = created["id"]
    render = stack.wait_render(rid)
    check(render["status"] == "succeeded", "render ended %r" % render)
    check(render["review"] == {"status": "pending", "comment": None, "decided_at": None, "by": None},
          "a new render's review is %r" % render.get("review"))
    url = render.get("review_url") or ""
    check(url.startswith(stack.base + "/v1/renders/%s/review?exp=" % rid) and "&sig=" in url,
          "review_url %r" % url)
    path = url[len(stack.base):]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    exp, sig = q["exp"][0], q["sig"][0]

    # the page: HTML, no key, user text never as markup
    status, headers, page = stack.request("GET", path, auth=False)
    check(status == 200 and headers.get("Content-Type", "").startswith("text/html"),
          "review page answered %d %r" % (status, headers))
    text = page.decode()
    page_bytes = page
    check("<script>alert(1)</script>" not in text and "<b>hi</b>" not in text,
          "user text reached the page unescaped")
    check("\\u003cscript\\u003e" in text, "metadata not in the page's data block")
    check("default-src 'none'" in headers.get("Content-Security-Policy", ""), "no CSP on the page")
    nonce = re.search(r'"nonce":"([0-9a-f]{32})"', text).group(1)
    token = re.search(r'"token":"([0-9a-f]{64})"', text).group(1)

    # tampered / expired links: HTML error pages, not data
    bad = path[:-1] + ("0" if path[-1] != "0" else "1")
    status, headers, page = stack.request("GET", bad, auth=False)
    check(status == 403 and headers.get("Content-Type", "").startswith("text/html") and rid.encode() not in page
          and b"img_" not in page, "tampered link answered %d %r" % (status, page[:200]))
    old = "/v1/renders/%s/review?exp=%d&sig=%s" % (rid, int(time.time()) - 10, sig)
    status, _, page = stack.request("GET", old, auth=False)
    check(status == 403, "a link with another exp answered %d, want 403 (the signature covers exp)" % status)
    # a link signed right (the data dir's URL secret, generation 0) but past its exp: 410
    db = sqlite3.connect(os.path.join(stack.data, "easel.db"))
    secret = db.execute("SELECT value FROM meta WHERE key = 'url_secret'").fetchone()[0]
    db.close()
    past = int(time.time()) - 60
    check(hmac.new(secret.encode(), ("review.%s.0.%s" % (rid, exp)).encode(), hashlib.sha256).hexdigest() == sig,
          "review_url is not HMAC(url secret, review.<id>.<gen>.<exp>)")
    expired = "/v1/renders/%s/review?exp=%d&sig=%s" % (rid, past, hmac.new(
        secret.encode(), ("review.%s.0.%d" % (rid, past)).encode(), hashlib.sha256).hexdigest())
    status, headers, page = stack.request("GET", expired, auth=False)
    check(status == 410 and headers.get("Content-Type", "").startswith("text/html") and b"expired" in page
          and b"img_" not in page, "an expired link answered %d %r" % (status, page[:200]))
    status, _, st = stack.json("GET", "/v1/renders/%s/review/status?exp=%s&sig=%s" % (rid, exp, sig), auth=False)
    check(status == 200 and st["id"] == rid and st["review"]["status"] == "pending", "status JSON %d %r" % (status, st))
    check("webhook_url" not in st and hooks.url().encode() not in page_bytes,
          "a review link shows the render's webhook_url")
    status, _, st = stack.json("GET", "/v1/renders/%s/review/status?exp=%s&sig=%s" % (rid, exp, "0" * 64), auth=False)
    check(status == 403 and st["error"]["code"] == "review_link_invalid", "tampered status JSON %d %r" % (status, st))

    # 422s name the field
    for bad_body, param in (({"status": "maybe"}, "status"), ({}, "status"),
                            ({"status": "approved", "colour": 1}, "colour"),
                            ({"status": "approved", "comment": "x" * 2001}, "comment"),
                            ({"status": "approved", "by": 7}, "by")):
        status, _, err = stack.json("POST", "/v1/renders/%s/review" % rid, bad_body)
        check(status == 422 and err["error"]["param"] == param,
              "decision %r answered %d %r, want 422 naming %s" % (bad_body, status, err, param))
    status, _, err = stack.json("POST", "/v1/renders/%s/review" % rid, {"status": "approved"}, auth=False)
    check(status == 401, "a decision without a key answered %d" % status)

    # the page's form refuses cross-site posts and foreign tokens
    form = urllib.parse.urlencode({"status": "approved", "by": "Mallory", "comment": "", "nonce": nonce,
                                   "token": token}).encode()
    fh = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    status, _, err = stack.json("POST", path, raw=form, auth=False, headers=dict(fh, **{"Sec-Fetch-Site": "cross-site"}))
    check(status == 403 and err["error"]["code"] == "cross_site_request", "cross-site form answered %d %r" % (status, err))
    status, _, err = stack.json("POST", path, raw=form, auth=False, headers=dict(fh, Origin="https://evil.example"))
    check(status == 403 and err["error"]["code"] == "cross_site_request", "foreign Origin answered %d %r" % (status, err))
    forged = form.replace(token.encode(), b"0" * 64)
    status, _, err = stack.json("POST", path, raw=forged, auth=False, headers=fh)
    check(status == 403 and err["error"]["code"] == "invalid_form_token", "forged token answered %d %r" % (status, err))

    # the first decision (by key) stands
    status, _, decided = stack.json("POST", "/v1/renders/%s/review" % rid,
                                    {"status": "changes_requested", "comment": "Fix <i>the</i> typo", "by": "Dana"})
    check(status == 200 and decided["review"]["status"] == "changes_requested"
          and decided["review"]["comment"] == "Fix <i>the</i> typo" and decided["review"]["by"] == "Dana"
          and decided["review"]["decided_at"], "decision answered %d %r" % (status, decided))
    status, _, again = stack.json("POST", "/v1/renders/%s/review" % rid, {"status": "approved"})
    check(status == 409 and again["error"]["code"] == "review_decided"
          and again["review"]["status"] == "changes_requested" and again["review"]["by"] == "Dana",
          "second decision answered %d %r, want 409 with the first" % (status, again))
    # a plain form post (no Accept: application/json) is sent back to the page
    req = urllib.request.Request(stack.base + path, data=form, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Origin": stack.base})
    try:
        urllib.request.build_opener(NoRedirect).open(req, timeout=30)
        fail("a plain form post was not redirected")
    except urllib.error.HTTPError as e:
        check(e.code == 303 and e.headers["Location"] == url, "plain form post: %d %r" % (e.code, e.headers.get("Location")))
    status, _, again = stack.json("POST", path, raw=form, auth=False, headers=dict(fh, Origin=stack.base))
    check(status == 409 and again["review"]["status"] == "changes_requested",
          "a decision through the link after one answered %d %r" % (status, again))
    status, _, got = stack.json("GET", "/v1/renders/" + rid)
    check(got["review"] == decided["review"], "GET shows review %r, want %r" % (got["review"], decided["review"]))

    # the event: signed, through the outbox, the render object with its review
    def event():
        for call in hooks.snapshot():
            payload = json.loads(call["body"])
            if payload.get("type") == "render.changes_requested":
                return call, payload
        return None
    call, payload = wait_for(event, 30, "the render.changes_requested webhook")
    check(verify_asa_signature(stack.secret, call["headers"]["X-ASA-Signature"], call["body"]),
          "render.changes_requested is not signed with the account's secret")
    check(payload["id"] == rid and payload["review"]["status"] == "changes_requested"
          and payload["event_id"].startswith("evt_") and payload["review"]["comment"] == "Fix <i>the</i> typo",
          "event payload %r" % payload)
    types = [json.loads(c["body"])["type"] for c in hooks.snapshot()]
    check(types.count("render.changes_requested") == 1 and "render.approved" not in types,
          "events delivered %r: one decision, one event" % types)

    # revoking: the old link stops working, the new one works
    status, _, revoked = stack.json("POST", "/v1/renders/%s/review_links/revoke" % rid, {})
    check(status == 200 and revoked["review_url"] != url, "revoke answered %d %r" % (status, revoked))
    status, _, page = stack.request("GET", path, auth=False)
    check(status == 403 and b"not valid" in page, "a revoked link answered %d" % status)
    status, _, _ = stack.request("GET", revoked["review_url"][len(stack.base):], auth=False)
    check(status == 200, "the new review_url answered %d" % status)
    status, _, err = stack.json("POST", "/v1/renders/%s/review_links/revoke" % rid, {"all": True})
    check(status == 422 and err["error"]["param"] == "all", "revoke with a parameter answered %d %r" % (status, err))

    # another account sees nothing
    other = json.loads(stack.cli("keys", "create", "--name", "other", "--json"))["api_key"]
    status, _, err = stack.json("POST", "/v1/renders/%s/review" % rid, {"status": "approved"}, auth=other)
    check(status == 404, "another account's decision answered %d %r" % (status, err))
    status, _, err = stack.json("POST", "/v1/renders/%s/review_links/revoke" % rid, {}, auth=other)
    check(status == 404, "another account's revoke answered %d %r" % (status, err))
    # the CLI: a CI job waiting on a person
    env = dict(stack.env, EASEL_URL=stack.base, EASEL_API_KEY=stack.key)
    easel = [os.path.join(BIN, "easel"), "renders", "review"]
    out = subprocess.run(easel + [rid], env=env, capture_output=True, timeout=60)
    check(out.returncode == 1 and b"changes requested by Dana" in out.stderr,
          "review of a changes_requested render exited %d: %r" % (out.returncode, out.stderr))
    del body["webhook_url"]
    status, _, created = stack.json("POST", "/v1/renders", body)
    check(status == 202, "second create answered %d" % status)
    rid2 = created["id"]
    out = subprocess.run(easel + [rid2, "--wait", "--timeout", "1"], env=env, capture_output=True, timeout=60)
    check(out.returncode == 4 and b"no review decision" in out.stderr,
          "--timeout without a decision exited %d: %r" % (out.returncode, out.stderr))
    stack.wait_render(rid2)
    out = subprocess.run(easel + [rid2], env=env, capture_output=True, timeout=60)
    check(out.returncode == 4, "a pending review without --wait exited %d" % out.returncode)
    waiter = subprocess.Popen(easel + [rid2, "--wait", "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    line = waiter.stderr.readline()          # it is waiting before anyone decides
    check(b"waiting for a review decision" in line and b"/review?exp=" in line, "the waiter said %r" % line)
    status, _, decided = stack.json("POST", "/v1/renders/%s/review" % rid2, {"status": "approved", "by": "CI"})
    check(status == 200, "approve answered %d %r" % (status, decided))
    stdout, stderr = waiter.communicate(timeout=60)
    check(waiter.returncode == 0 and json.loads(stdout)["review"]["status"] == "approved",
          "--wait exited %d after the approval: %r" % (waiter.returncode, stderr))
    out = subprocess.run(easel + ["rnd_x"], env=env, capture_output=True, timeout=60)
    check(out.returncode == 2, "a bad id exited %d" % out.returncode)
    print("ok: review API, links, form checks, event, revocation")
finally:
    stack.close()
