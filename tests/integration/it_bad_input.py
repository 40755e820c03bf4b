"""Every bad input gets its documented status and a JSON error naming the
field or cause, and the stack serves the next request."""
from harness import Stack, ShotServer, check, slide

shots = ShotServer()
stack = Stack(renderers=1)
good = {"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
        "slides": [slide(shots.url("/shot.png"))]}


def expect(status, code, param, method="POST", path="/v1/renders", **kw):
    got, headers, raw = stack.request(method, path, **kw)
    import json
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    check(got == status, "%s %s: expected %d, got %d %r" % (method, path, status, got, raw[:300]))
    check(isinstance(body, dict) and "error" in body, "error body is not JSON: %r" % raw[:300])
    err = body["error"]
    check(err.get("code") == code, "expected code %r, got %r" % (code, err))
    if param:
        check(err.get("param") == param, "expected param %r, got %r" % (param, err))
    check(err.get("message"), "error without a message: %r" % err)
    check("X-Request-Id" in headers, "error without X-Request-Id")
    # The stack still serves a good request after each bad one.
    ok, _, _ = stack.request("POST", "/v1/renders", body=good)
    check(ok == 202, "good request after a bad one answered %d" % ok)
    return err, headers


json_hdr = {"Content-Type": "application/json"}
err, _ = expect(400, "invalid_json", None, raw=b'{"slides": [\n  {"headline": }\n]}', headers=json_hdr)
check("line 2" in err["message"] and "column" in err["message"], "no line/column: %r" % err["message"])
expect(400, "invalid_json", None, raw=b'{"slides": "\xff\xfe"}', headers=json_hdr)
expect(415, "unsupported_media_type", None, raw=b"{}", headers={"Content-Type": "text/plain"})
expect(401, "missing_api_key", None, body=good, auth=False)
expect(401, "invalid_api_key", None, body=good, auth="sk_not_a_real_key")
bad = dict(good, canvas={"preset": "appstore.iphone_99"})
expect(422, "parameter_invalid", "canvas.preset", body=bad)
bad = dict(good, slides=[])
expect(422, "parameter_invalid", "slides", body=bad)
bad = dict(good, slides=[{"headline": {"lines": ["x" * 500]}}])
expect(422, "parameter_invalid", "slides[0].headline.lines[0]", body=bad)
big = b'{"slides": "' + b"a" * (26 * 1024 * 1024) + b'"}'
expect(413, "body_too_large", None, raw=big, headers=json_hdr)
expect(404, "resource_missing", "id", method="GET", path="/v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H")
expect(404, "route_not_found", None, method="GET", path="/v1/nothing-here")
expect(405, "method_not_allowed", None, method="DELETE", path="/v1/renders")

# Screenshots that fail at fetch time fail the render, naming the field and cause.
for path, code, words in (("/missing", "screenshot_fetch_failed", "404"),
                          ("/text", "screenshot_invalid", "not")):
    status, _, render = stack.json("POST", "/v1/renders", dict(good, slides=[slide(shots.url(path))]))
    check(status == 202, "create answered %d" % status)
    render = stack.wait_render(render["id"])
    check(render["status"] == "failed", "render with %s: %r" % (path, render))
    err = render["error"]
    check(err["code"] == code and err["param"] == "slides[0].screenshot.url" and words in err["message"],
          "render error for %s: %r" % (path, err))
    check(render["images"][0]["error"]["code"] == code, "image error: %r" % render["images"][0])
print("it_bad_input: 1 passed, 0 failed")
