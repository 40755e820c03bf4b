"""Lint that knows the whole set, through the real stack:
- GET /v1/lint/rules (no key) lists every rule with its severity, scope,
  source page and checked date, and the ruleset version;
- a render's lint object names the same ruleset;
- a locale whose own headline is word for word the one first given to
  another language gets untranslated_copy on its images (the origin, a
  brand-name slide and a same-language locale do not);
- iPhone images without an iPhone 6.9" set get appstore_required_class once
  per locale, and a locale that has the 6.9" set does not;
- Play copy in German with a German promotional word gets prohibited_copy."""
import base64
from harness import Stack, check, make_png

stack = Stack(renderers=1, webhooker=False)
try:
    status, _, rules = stack.json("GET", "/v1/lint/rules", auth=False)
    check(status == 200 and rules["object"] == "list", "lint rules answered %d: %r" % (status, rules))
    names = {r["rule"]: r for r in rules["data"]}
    for want in ("untranslated_copy", "appstore_required_class", "prohibited_copy", "set_count"):
        check(want in names, "lint rules lack %s" % want)
    for r in rules["data"]:
        check(r["source"].startswith("https://") and len(r["checked"]) == 10 and r["scope"] in ("image", "set"),
              "rule %s lacks a source, a checked date or a scope: %r" % (r["rule"], r))
    status, _, _ = stack.json("POST", "/v1/lint/rules", auth=False)
    check(status == 405, "POST /v1/lint/rules answered %d, want 405" % status)

    shot = base64.b64encode(make_png(1179, 2556)).decode()
    body = {"async": True,
            "matrix": {"locales": ["en-US", "de-DE", "en-GB"],
                       "presets": ["appstore.iphone_6_5"]},
            "slides": [{"headline": {"lines": {"en-US": ["Track every habit"],
                                               "de-DE": ["Track every habit"],
                                               "en-GB": ["Track every habit"]}},
                        "screenshot": {"data": shot}},
                       {"headline": {"lines": ["Acme"]}, "screenshot": {"data": shot}}]}
    status, _, created = stack.json("POST", "/v1/renders", body)
    check(status == 202, "render answered %d: %r" % (status, created))
    render = stack.wait_render(created["id"], timeout=120)
    check(render["status"] == "succeeded", "render ended %s: %r" % (render["status"], render.get("error")))
    lint = render["lint"]
    check(lint["ruleset"] == rules["ruleset"], "render ruleset %r, catalogue %r" % (lint["ruleset"], rules["ruleset"]))
    by_image = {im["id"]: im for im in render["images"]}
    untranslated = [f for f in lint["findings"] if f["rule"] == "untranslated_copy"]
    flagged = sorted((by_image[f["image"]]["locale"], by_image[f["image"]]["slide"]) for f in untranslated)
    # de-DE repeats en-US (the first locale given the text); en-GB is the same language
    check(flagged == [("de-DE", 0)] and "en-US" in untranslated[0]["message"],
          "untranslated_copy on %r, want de-DE slide 0 only (not the origin, not en-GB, not the "
          "brand-name slide): %r" % (flagged, untranslated))
    required = [f for f in lint["findings"] if f["rule"] == "appstore_required_class"]
    check(len(required) == 3 and all(f["severity"] == "warning" and f["image"] is None for f in required),
          "appstore_required_class: want one set-level warning per locale, got %r" % required)

    # the same set with the 6.9" class in every locale: no appstore_required_class
    body["matrix"]["presets"] = ["appstore.iphone_6_5", "appstore.iphone_6_9"]
    body["slides"] = [{"headline": {"lines": {"de-DE": ["Jetzt kostenlos testen"], "default": ["Try it"]}},
                       "screenshot": {"data": shot}}]
    body["matrix"]["locales"] = ["de-DE"]
    status, _, created = stack.json("POST", "/v1/renders", body)
    check(status == 202, "second render answered %d: %r" % (status, created))
    render = stack.wait_render(created["id"], timeout=120)
    rules_fired = {f["rule"] for f in render["lint"]["findings"]}
    check("appstore_required_class" not in rules_fired, "6.9\" present, yet %r" % render["lint"]["findings"])

    # German promotional copy on a Play image
    body = {"async": True, "matrix": {"locales": ["de-DE"], "presets": ["play.phone"]},
            "slides": [{"headline": {"lines": ["Jetzt kostenlos testen"]}}]}
    status, _, created = stack.json("POST", "/v1/renders", body)
    check(status == 202, "play render answered %d: %r" % (status, created))
    render = stack.wait_render(created["id"], timeout=120)
    promo = [f for f in render["lint"]["findings"] if f["rule"] == "prohibited_copy"]
    check(len(promo) == 1 and "kostenlos" in promo[0]["message"], "prohibited_copy: %r" % render["lint"])
    print("it_lint_set: ok")
finally:
    stack.close()
