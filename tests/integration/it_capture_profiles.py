"""Capture profiles end to end: without EASEL_PROFILE_KEY the routes answer
503 capture_profiles_disabled; with it a profile is created (422 naming the
field for a bad one, 409 for a taken name), listed and shown by names only
(no cookie, header or storage value ever comes back, nor sits in the
database or a log in the clear), and a capture naming it renders the
login-protected page that only shows with the profile's cookie, the
profile's header sent to the page, its cookie of another site left out, the
capture's own options winning; another account cannot use it; deleted, it
is gone."""
import os
import sqlite3
import time

from harness import Stack, check
from capture_pages import PageServer, need_chromium, decode_png, bbox, RED, GREEN

need_chromium()
pages = PageServer()
stack = Stack(renderers=1)
SECRETS = ("open-sesame", "tok-profile-secret", "ls-profile-secret", "elsewhere-secret")

# ---- no key: the routes say so
status, _, err = stack.json("POST", "/v1/capture_profiles", {"name": "x"})
check(status == 503 and err["error"]["code"] == "capture_profiles_disabled", "no key: %d %r" % (status, err))
status, _, err = stack.json("GET", "/v1/capture_profiles")
check(status == 503 and "EASEL_PROFILE_KEY" in err["error"]["message"], "no key, list: %d %r" % (status, err))

# ---- the operator gives a key: the scheduler restarts with it
stack.kill("scheduler")
stack.start("scheduler", env={"EASEL_PROFILE_KEY": "ab" * 32})
stack.wait_ready(1)


def post(body, auth=True):
    status, _, obj = stack.json("POST", "/v1/capture_profiles", body, auth=auth)
    return status, obj


# ---- validation: 422 naming the field
for body, param in [({}, "name"),
                    ({"name": "bad/name"}, "name"),
                    ({"name": "p", "extra": 1}, "extra"),
                    ({"name": "p", "cookies": [{"name": "sid", "value": "v"}]}, "cookies[0].domain"),
                    ({"name": "p", "cookies": [{"name": "a", "value": "v", "domain": "x.example"},
                                               {"name": "b;", "value": "v", "domain": "x.example"}]}, "cookies[1].name"),
                    ({"name": "p", "headers": {"X-A": "line\nbreak"}}, "headers.X-A"),
                    ({"name": "p", "local_storage": {"k": 5}}, "local_storage.k"),
                    ({"name": "p", "defaults": {"viewport": {"width": 5}}}, "defaults.viewport.width"),
                    ({"name": "p", "defaults": {"url": "http://x.example/"}}, "defaults.url"),
                    ({"name": "p", "defaults": {"format": "gif"}}, "defaults.format")]:
    status, obj = post(body)
    check(status == 422 and obj["error"]["param"] == param,
          "%r: expected 422 naming %s, got %d %r" % (body, param, status, obj))

profile = {"name": "staging login",
           "cookies": [{"name": "sid", "value": "open-sesame", "domain": "127.0.0.1", "http_only": True},
                       {"name": "far", "value": "elsewhere-secret", "domain": "elsewhere.example"}],
           "headers": {"X-Token": "tok-profile-secret"},
           "local_storage": {"ls_key": "ls-profile-secret"},
           "defaults": {"device": "none", "viewport": {"width": 800, "height": 600}, "device_scale_factor": 1}}
status, created = post(profile)
check(status == 201 and created["id"].startswith("cpr_") and created["object"] == "capture_profile",
      "create: %d %r" % (status, created))
pid = created["id"]
shown = repr(created)
check(not any(s in shown for s in SECRETS), "the create answer shows a secret: %s" % shown)
check([c["name"] for c in created["cookies"]] == ["sid", "far"] and created["headers"] == ["X-Token"]
      and created["local_storage"] == ["ls_key"] and created["defaults"]["device"] == "none",
      "the summary names cookies, headers, storage keys and defaults: %r" % created)
status, obj = post(profile)
check(status == 409 and obj["error"]["param"] == "name", "a taken name: %d %r" % (status, obj))

status, _, listed = stack.json("GET", "/v1/capture_profiles")
check(status == 200 and listed["object"] == "list" and [p["id"] for p in listed["data"]] == [pid],
      "list: %d %r" % (status, listed))
status, _, one = stack.json("GET", "/v1/capture_profiles/" + pid)
check(status == 200 and one == created, "show: %d %r" % (status, one))
check(not any(s in repr(listed) + repr(one) for s in SECRETS), "GET shows a secret")

# ---- at rest: sealed, no secret in the profile's row
db = sqlite3.connect(os.path.join(stack.data, "easel.db"))
rows = db.execute("SELECT summary, sealed FROM capture_profiles").fetchall()
check(len(rows) == 1, "one profile row: %r" % (rows,))
for s in SECRETS:
    check(s not in rows[0][0] and s.encode() not in bytes(rows[0][1]), "%s is stored in the clear" % s)
db.close()


def framed(w, h):
    """The result size of a w x h shot on device none at 1x: the background margin around it."""
    m = w * 60 // 1000
    return (w + 2 * m, h + 2 * m)


def capture(body):
    status, _, job = stack.json("POST", "/v1/capture", body)
    check(status == 200 and job["status"] == "completed", "capture %r: %d %r" % (body, status, job))
    status, _, data = stack.request("GET", job["result"]["url"][len(stack.base):], auth=False)
    check(status == 200, "the capture's file: %d" % status)
    return decode_png(data)


# ---- a capture naming the profile: logged in, its header sent, the other site's cookie left out
before = len(pages.browser_hits("/login"))
w, h, rows = capture({"url": pages.url("/login"), "profile_id": pid})
check((w, h) == framed(800, 600), "the profile's defaults (device none, 800x600 at 1x): %dx%d" % (w, h))
check(bbox(rows, GREEN) is not None and bbox(rows, RED) is None, "the profile's cookie did not log the page in")
hits = pages.browser_hits("/login")[before:]
check(hits and all(hit[3] and "sid=open-sesame" in hit[3] and "elsewhere-secret" not in hit[3] for hit in hits),
      "the page got the profile's cookie alone: %r" % [hit[3] for hit in hits])
check(all(hit[2] == "tok-profile-secret" for hit in hits), "the profile's header: %r" % [hit[2] for hit in hits])
# the capture's own options win: its cookie of the same name, its viewport
w, h, rows = capture({"url": pages.url("/login"), "profile_id": pid, "viewport": {"width": 640, "height": 480},
                      "cookies": [{"name": "sid", "value": "wrong-inline-secret"}]})
check((w, h) == framed(640, 480) and bbox(rows, GREEN) is None, "the capture's options win: %dx%d" % (w, h))

# ---- at rest: a capture task's spec is sealed too, so no cookie or header
# value ever reaches the database's pages (a wiped row's old bytes stay in
# the file and the WAL)
for suffix in ("", "-wal"):
    path = os.path.join(stack.data, "easel.db" + suffix)
    if os.path.exists(path):
        with open(path, "rb") as f:
            raw = f.read()
        for s in SECRETS + ("wrong-inline-secret",):
            check(s.encode() not in raw, "%s is in easel.db%s in the clear" % (s, suffix))

# ---- another account cannot name it; a malformed id is 422 too
other = __import__("json").loads(stack.cli("keys", "create", "--name", "other", "--json"))["api_key"]
for auth, body in [(other, {"url": pages.url("/login"), "profile_id": pid}),
                   (True, {"url": pages.url("/login"), "profile_id": "nope"})]:
    status, _, err = stack.json("POST", "/v1/capture", body, auth=auth)
    check(status == 422 and err["error"]["param"] == "profile_id", "%r: %d %r" % (body, status, err))
status, _, err = stack.json("GET", "/v1/capture_profiles/" + pid, auth=other)
check(status == 404, "another account's profile: %d" % status)
status, _, listed = stack.json("GET", "/v1/capture_profiles", auth=other)
check(status == 200 and listed["data"] == [], "another account lists nothing: %r" % listed)

# ---- delete
status, _, gone = stack.json("DELETE", "/v1/capture_profiles/" + pid)
check(status == 200 and gone == {"id": pid, "object": "capture_profile", "deleted": True}, "delete: %d %r" % (status, gone))
status, _, _ = stack.json("GET", "/v1/capture_profiles/" + pid)
check(status == 404, "a deleted profile: %d" % status)
status, _, _ = stack.json("DELETE", "/v1/capture_profiles/" + pid)
check(status == 404, "deleted twice: %d" % status)

# ---- no secret in any log
time.sleep(0.5)
for name in stack.logs:
    text = stack.log_text(name)
    for s in SECRETS:
        check(s not in text, "%s logged %s" % (name, s))
print("ok")
