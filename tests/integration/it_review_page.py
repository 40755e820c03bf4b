"""The review page in a real browser (Debian's chromium driven by
playwright-core, tests/browser/review_page.mjs), whole stack:
- the page of a render still processing (no renderer yet) shows its status
  and no decision form, and follows by itself once a renderer is started;
- the finished render's page shows a grid of every image, locales down
  and presets across, thumbnails loaded lazily, the lint findings of each
  image as badges (errors and warnings distinct), the set-level findings,
  and a zip download that works without a key;
- the viewer opens full size and follows ArrowRight / ArrowLeft / Escape;
- Approve (with a name and a comment) records the decision: the page shows
  it, the render.approved webhook arrives signed (X-ASA-Signature checked
  here), and GET /v1/renders/{id} shows it;
- an expired and a tampered link give an HTML error page (410, 403);
- text, badges, buttons and links meet WCAG AA contrast (4.5:1) in light
  and dark mode;
- screenshots at 390 px and 1280 px wide are not blank (pixel variance); the
  page scrolls not sideways on the phone, and dark mode changes the colours.
With EASEL_UPDATE_DOC_IMAGES=1 the desktop screenshot is written to
docs/images/review_page.png. Exits 77 (skipped) without chromium or node."""
import base64
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from harness import Stack, HookReceiver, check, fail, make_png, verify_asa_signature, wait_for
from capture_pages import decode_png

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
if not os.path.exists("/usr/bin/chromium") or not shutil.which("node"):
    print("skip: no /usr/bin/chromium or node")
    sys.exit(77)
if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
    fail("tests/browser/node_modules is missing: run scripts/npm_deps.sh (scripts/deps.sh does)")


def variance_ok(path, want_width):
    with open(path, "rb") as f:
        width, height, rows = decode_png(f.read())
    check(width == want_width, "%s is %d px wide, want %d" % (path, width, want_width))
    values, colours = [], set()
    for y in range(0, height, max(1, height // 200)):
        row = rows[y]
        for x in range(0, width, max(1, width // 200)):
            r, g, b = row[x]
            values.append(0.299 * r + 0.587 * g + 0.114 * b)
            colours.add((r // 16, g // 16, b // 16))
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    check(var > 100 and len(colours) > 8, "%s looks blank: luminance variance %.1f, %d colours"
          % (path, var, len(colours)))
    return var


hooks = HookReceiver()
stack = Stack(renderers=0)
try:
    shot = base64.b64encode(make_png(1179, 2556, rgb=(30, 90, 170))).decode()
    body = {"async": True, "webhook_url": hooks.url(),
            "matrix": {"locales": ["en-US", "de-DE"], "presets": ["appstore.iphone_6_9", "play.phone"]},
            "background": {"gradient": {"colors": ["#1e3c72", "#6a11cb"], "angle": 180}},
            "slides": [{"headline": {"lines": {"en-US": ["Track every habit"], "de-DE": ["Track every habit"]}},
                        "screenshot": {"data": shot}, "device": "iphone"},
                       {"headline": {"lines": {"en-US": ["See your streaks"], "de-DE": ["Deine Serien"]},
                                     "color": "#2a3f80"},
                        "screenshot": {"data": shot}, "device": "iphone"}],
            "metadata": {"release": "42", "branch": "<script>alert('x')</script>"}}
    status, _, created = stack.json("POST", "/v1/renders", body)
    check(status == 202, "create answered %d: %r" % (status, created))
    rid = created["id"]
    status, _, processing = stack.json("GET", "/v1/renders/" + rid)
    check(status == 200 and processing["status"] == "processing", "no renderer yet, but %r" % processing.get("status"))
    status, _, err = stack.json("POST", "/v1/renders/%s/review" % rid, {"status": "approved"})
    check(status == 409 and err["error"]["code"] == "render_processing",
          "a decision on a processing render answered %d %r" % (status, err))

    url = processing["review_url"]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    db = sqlite3.connect(os.path.join(stack.data, "easel.db"))
    secret = db.execute("SELECT value FROM meta WHERE key = 'url_secret'").fetchone()[0]
    db.close()
    past = int(time.time()) - 3600
    expired = "%s/v1/renders/%s/review?exp=%d&sig=%s" % (stack.base, rid, past, hmac.new(
        secret.encode(), ("review.%s.0.%d" % (rid, past)).encode(), hashlib.sha256).hexdigest())
    sig = q["sig"][0]
    tampered = url.replace(sig, sig[:10] + ("a" if sig[10] != "a" else "b") + sig[11:])

    out_dir = os.path.join(stack.dir, "shots")
    os.makedirs(out_dir)
    desktop, phone = os.path.join(out_dir, "desktop.png"), os.path.join(out_dir, "phone.png")
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    node = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "review_page.mjs"), url, expired, tampered,
                             desktop, phone], cwd=BROWSER_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    line = node.stderr.readline()
    if b"LIVE-WAITING" not in line:
        node.kill()
        fail("the browser script did not open the processing page: %r %r" % (line, node.stderr.read()[-3000:]))
    stack.start_renderer(0)                 # now the render can finish; the open page follows
    stdout, stderr = node.communicate(timeout=170)
    check(node.returncode == 0, "the browser script failed (%d): %s" % (node.returncode, stderr.decode()[-3000:]))
    seen = json.loads(stdout.decode().strip().splitlines()[-1])
    check(seen["live"]["before"].startswith("processing (0 of 8") and seen["live"]["formBefore"] == "none"
          and seen["live"]["after"] == "succeeded", "live status %r" % seen["live"])

    render = stack.wait_render(rid, timeout=120)
    check(render["status"] == "succeeded", "render ended %r" % render.get("error"))
    findings = render["lint"]["findings"]
    err_images = sorted({f["image"] for f in findings if f["image"] and f["severity"] == "error"})
    warn_images = sorted({f["image"] for f in findings if f["image"] and f["severity"] == "warning"})
    set_level = [f for f in findings if not f["image"]]
    check(err_images or warn_images, "the render has no image findings to show: %r" % findings)
    check(set_level, "the render has no set-level findings to show: %r" % findings)

    check(seen["status"] == 200 and "script-src 'nonce-" in seen["csp"], "page answered %r" % seen["status"])
    check(not seen["consoleErrors"], "the page logged errors (CSP or script): %r" % seen["consoleErrors"])
    g = seen["grid"]
    n = len(render["images"])
    check(g["figures"] == n and g["thumbs"] == n and g["lazy"],
          "grid shows %d figures, %d thumbnails (lazy %r), want %d" % (g["figures"], g["thumbs"], g["lazy"], n))
    check(g["rows"] == ["en-US", "de-DE"] and g["columns"] == ["appstore.iphone_6_9", "play.phone"],
          "grid rows %r columns %r" % (g["rows"], g["columns"]))
    check(sorted(g["errorImages"]) == err_images and sorted(g["warningImages"]) == warn_images,
          "badges: errors on %r warnings on %r, want %r / %r" % (g["errorImages"], g["warningImages"],
                                                                err_images, warn_images))
    colours = {c.split("|")[0].split()[-1]: c.split("|")[1] for c in g["errorColors"]}
    check(len(set(colours.values())) == len(colours), "error and warning badges look alike: %r" % colours)
    check(len(g["setFindings"]) == len(set_level)
          and all(f["message"] in t for f, t in zip(set_level, g["setFindings"])),
          "set findings shown %r, want %r" % (g["setFindings"], set_level))
    check("<script>alert('x')</script>" in g["metadataText"] and g["injected"] == 0,
          "metadata was not shown as text: %r" % g["metadataText"])
    check(rid in g["title"], "title %r" % g["title"])
    v = seen["viewer"]
    check(v["caption1"].endswith("1 of %d" % n) and v["caption2"].endswith("2 of %d" % n)
          and v["caption3"] == v["caption1"], "viewer captions %r" % v)
    # findings that know where they are (a low-contrast headline) are outlined on the image
    located = {}
    for f in findings:
        if f["image"] and f.get("region"):
            r = f["region"]
            check(r["width"] > 0 and r["height"] > 0 and r["x"] >= 0 and r["y"] >= 0, "region %r" % f)
            located.setdefault(f["image"], []).append(f["rule"])
    check(located, "no finding carries a region: %r" % findings)
    check(len(seen["regions"]) == n, "the viewer went round %d images, want %d" % (len(seen["regions"]), n))
    for shown_image in seen["regions"]:
        image_id = next((i for i in located if i in shown_image["src"]), None)
        rules = sorted(b["rule"] for b in shown_image["boxes"])
        want = sorted(located.get(image_id, []))
        check(rules == want, "outlines %r on %s, want %r" % (rules, shown_image["src"][:80], want))
        check(all(b["inside"] for b in shown_image["boxes"]), "an outline lies outside the image: %r"
              % shown_image["boxes"])
    check(seen["archive"]["status"] == 200 and seen["archive"]["magic"] == "PK",
          "the page's zip link answered %r" % seen["archive"])
    check(seen["decision"].startswith("Approved by Pat <Reviewer>") and "Ship it <b>now</b>" in seen["decision"]
          and seen["formShownBefore"] and seen["formHidden"] and seen["formHiddenAfterReload"]
          and seen["afterReload"].startswith("Approved"),
          "decision shown %r (form hidden %r, after reload %r)" % (seen["decision"], seen["formHidden"], seen["afterReload"]))
    check(seen["phoneOverflow"] <= 0, "the phone layout scrolls sideways by %d px" % seen["phoneOverflow"])
    check(seen["darkBackground"] != seen["lightBackground"], "dark mode did not change the background")
    for scheme in ("contrastLight", "contrastDark"):
        low = [c for c in seen[scheme] if c["ratio"] < 4.5]
        kinds = {c["sel"] for c in seen[scheme]}
        check(not low and {".badge-error", ".badge-warning", "#approve", "body"} <= kinds,
              "%s: text under WCAG AA 4.5:1 %r (checked %r)" % (scheme, low, sorted(kinds)))
    check([e["status"] for e in seen["errors"]] == [410, 403] and not any(e["hasData"] for e in seen["errors"])
          and "expired" in seen["errors"][0]["title"] and "not valid" in seen["errors"][1]["title"],
          "expired / tampered links gave %r" % seen["errors"])

    def approved():
        for call in hooks.snapshot():
            payload = json.loads(call["body"])
            if payload.get("type") == "render.approved":
                return call, payload
        return None
    call, payload = wait_for(approved, 30, "the render.approved webhook")
    check(verify_asa_signature(stack.secret, call["headers"]["X-ASA-Signature"], call["body"]),
          "render.approved is not signed with the account's secret")
    check(call["headers"].get("webhook-id") == payload["event_id"], "webhook-id differs from event_id")
    check(payload["id"] == rid and payload["review"]["status"] == "approved"
          and payload["review"]["by"] == "Pat <Reviewer>" and payload["review"]["comment"] == "Ship it <b>now</b>",
          "render.approved payload %r" % payload["review"])

    def decided():
        status, _, got = stack.json("GET", "/v1/renders/" + rid)
        return got if status == 200 and got["review"]["status"] == "approved" else None
    got = wait_for(decided, 10, "GET /v1/renders/{id} to show the decision")
    check(got["review"] == payload["review"], "GET review %r, webhook %r" % (got["review"], payload["review"]))

    # a link naming its reviewer and the earlier render: the page marks what
    # changed (one headline of de-DE) and decides as the named reviewer
    again = json.loads(json.dumps(body))
    del again["webhook_url"]
    again["slides"][1]["headline"]["lines"]["de-DE"] = ["Deine Serien wachsen"]
    status, _, created2 = stack.json("POST", "/v1/renders", again)
    check(status == 202, "second create answered %d %r" % (status, created2))
    rid2 = created2["id"]
    render2 = stack.wait_render(rid2, timeout=120)
    check(render2["status"] == "succeeded", "second render ended %r" % render2.get("error"))
    status, _, link = stack.json("POST", "/v1/renders/%s/review_links" % rid2, {"by": "Sam Lee", "since": rid})
    check(status == 201, "mint answered %d %r" % (status, link))
    status, _, changes = stack.json("GET", "/v1/renders/%s/changes?since=%s" % (rid2, rid))
    changed = sorted(c["image"] for c in changes["images"] if c["status"] == "changed")
    check(status == 200 and len(changed) == 2, "changes %r: want the de-DE slide 2 on both presets" % changes)
    named_png = os.path.join(out_dir, "named.png")
    out = subprocess.run(["node", os.path.join(BROWSER_DIR, "review_changes.mjs"), link["url"], named_png],
                         cwd=BROWSER_DIR, env=env, capture_output=True, timeout=120)
    check(out.returncode == 0, "review_changes.mjs failed (%d): %s" % (out.returncode, out.stderr.decode()[-3000:]))
    named = json.loads(out.stdout.decode().strip().splitlines()[-1])
    check(named["status"] == 200 and not named["consoleErrors"], "named page %r" % named)
    marked = sorted(m["image"] for m in named["marks"] if m["change"] == "changed" and m["badge"])
    check(marked == changed and len(named["marks"]) == len(render2["images"])
          and all(m["change"] == "unchanged" and not m["badge"] for m in named["marks"] if m["image"] not in changed),
          "changed marks %r, want %r" % (named["marks"], changed))
    check(named["sectionShown"] and "2 changed images" in named["summary"] and rid in named["summary"],
          "changes summary %r" % named["summary"])
    check(named["byFixed"] and "Sam Lee" in named["byFixed"] and not named["byInputShown"],
          "the page does not say the link's reviewer: %r" % named["byFixed"])
    check(named["decision"].startswith("Approved by Sam Lee"), "decision shown %r" % named["decision"])
    status, _, got2 = stack.json("GET", "/v1/renders/" + rid2)
    check(got2["review"]["by"] == "Sam Lee" and got2["review"]["comment"] == "Second round looks right",
          "the named link's decision %r" % got2["review"])
    variance_ok(named_png, 1280)

    var_d = variance_ok(desktop, 1280)
    var_p = variance_ok(phone, 390)
    if os.environ.get("EASEL_UPDATE_DOC_IMAGES") == "1":
        os.makedirs(os.path.join(ROOT, "docs", "images"), exist_ok=True)
        shutil.copyfile(desktop, os.path.join(ROOT, "docs", "images", "review_page.png"))
    print("ok: review page in chromium (%d images; screenshot variance %.0f desktop, %.0f phone)" % (n, var_d, var_p))
finally:
    stack.close()
