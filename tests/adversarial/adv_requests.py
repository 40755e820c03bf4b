"""Hostile requests to the gateway, most of them with no valid key: JSON
nested deep enough to overflow a worker's stack on every POST route and
field, made-up and malformed keys (with large bodies), civetweb's own
refusals (bad request lines, versions, framing, oversized headers) and the
rate limits of every class. Each case asserts the status, the JSON error and
that the gateway is still up and unchanged: /healthz answers, nothing was
created, its memory did not grow with the bodies it was sent."""
import json
import os
import socket
import time

from harness import Stack, check, wait_for

stack = Stack(renderers=0, webhooker=False)
JSON_HDR = {"Content-Type": "application/json"}
LIMIT = 32


def gateway_pid():
    return stack.procs["gateway"].pid


def under_asan():
    """ASan's shadow memory makes RSS figures meaningless."""
    try:
        with open("/proc/%d/maps" % gateway_pid()) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def rss_kb(field="VmRSS"):
    with open("/proc/%d/status" % gateway_pid()) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def error_of(raw):
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    check(isinstance(body, dict) and isinstance(body.get("error"), dict),
          "error body is not Easel's JSON error: %r" % raw[:300])
    err = body["error"]
    check(err.get("message") and err.get("type"), "error without message or type: %r" % err)
    return err


def renders_count():
    status, _, body = stack.json("GET", "/v1/renders?limit=100")
    check(status == 200, "GET /v1/renders answered %d: %r" % (status, body))
    return len(body["data"])


def alive(what):
    check(stack.procs["gateway"].poll() is None,
          "the gateway died after %s:\n%s" % (what, stack.log_tails()))
    status, _, raw = stack.request("GET", "/healthz", auth=False)
    check(status == 200, "/healthz after %s answered %d %r" % (what, status, raw[:200]))


def expect(what, status, code, method="POST", path="/v1/renders", **kw):
    got, headers, raw = stack.request(method, path, **kw)
    check(got == status, "%s: expected %d, got %d %r" % (what, status, got, raw[:300]))
    err = error_of(raw)
    check(err.get("code") == code, "%s: expected code %r, got %r" % (what, code, err))
    check("X-Request-Id" in headers, "%s: no X-Request-Id" % what)
    alive(what)
    return err, headers


def raw_http(data, read_timeout=20):
    """Sends bytes as they are (the peer may close early) and reads to EOF."""
    s = socket.create_connection(("127.0.0.1", stack.http_port), timeout=read_timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.") else 0
    return status, head.decode(errors="replace"), body


def restart_gateway(*flags, env=None):
    stack.kill("gateway", sig=15)
    stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port, *flags, env=env)
    wait_for(lambda: stack.request("GET", "/healthz", auth=False)[0] == 200, 30, "the gateway")


# ---- deep JSON (every POST route, every field, with and without keys) --------

deep_arrays = b"[" * 1000 + b"]" * 1000
deep_objects = b'{"a":' * 300 + b"1" + b"}" * 300


def nest(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


render = {"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
          "slides": [{"headline": {"lines": ["Track every habit"]}}]}
bodies = {
    "arrays 1000 deep": deep_arrays,
    "objects 300 deep": deep_objects,
    "render metadata 300 deep": json.dumps(dict(render, metadata="@")).encode().replace(
        b'"@"', deep_objects),
    "render headline lines 40 deep": json.dumps(render).encode().replace(
        b'["Track every habit"]', nest(40, '"x"').encode()),
    "capture headers 100 deep": b'{"url":"https://example.com/","async":true,"headers":'
                                + deep_objects[:0] + nest(100).encode() + b"}",
    "webhook test url 500 deep": b'{"url":' + nest(500).encode() + b"}",
}
post_routes = ["/v1/renders", "/v1/capture", "/v1/webhooks/test", "/v1/account/webhook_signing",
               "/v1/account/webhook_secret/rotate",
               "/v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H/cancel",
               "/v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H/redeliver"]

# the limits are tried on their own below; here they would only get in the way
restart_gateway("--rate-limit", "0", "--create-rate-limit", "0", "--webhook-test-rate-limit", "0",
                "--auth-fail-rate-limit", "0")
before = renders_count()
rss_before = rss_kb()
n = 0
for route in post_routes:
    for name, body in bodies.items():
        for idem in (None, "deep-%d" % n):
            n += 1
            hdrs = dict(JSON_HDR, **({"Idempotency-Key": idem} if idem else {}))
            what = "%s to %s%s" % (name, route, " keyed" if idem else "")
            # a wrong key is refused before the body is read or parsed
            expect(what + " (made-up key)", 401, "invalid_api_key", path=route, raw=body,
                   headers=hdrs, auth="sk_made_up_key_%d" % (n % 3))
            expect(what + " (no key)", 401, "missing_api_key", path=route, raw=body,
                   headers=hdrs, auth=False)
            # the redeliver route takes no body: only a keyed one is read
            if route.endswith("/redeliver") and not idem:
                continue
            err, _ = expect(what, 400, "json_too_deep", path=route, raw=body, headers=hdrs)
            check(str(LIMIT) in err["message"], "%s: the message names the limit: %r" % (what, err))
check(renders_count() == before, "deep bodies created renders")

# the limit itself: 32 deep passes the depth check (and fails validation
# later, on a canvas preset that does not exist, so nothing is created); 33 does not
invalid = dict(render, canvas={"preset": "no.such_preset"}, metadata="@")
ok_deep = json.dumps(invalid).encode().replace(
    b'"@"', b'{"a":' * (LIMIT - 1) + b"1" + b"}" * (LIMIT - 1))
status, _, raw = stack.request("POST", "/v1/renders", raw=ok_deep, headers=JSON_HDR)
check(status == 422 and error_of(raw)["param"] == "canvas.preset",
      "metadata nested to exactly the limit: expected the 422 of the canvas, got %d %r"
      % (status, raw[:300]))
over = json.dumps(dict(render, metadata="@")).encode().replace(
    b'"@"', b'{"a":' * LIMIT + b"1" + b"}" * LIMIT)
expect("metadata one past the limit", 400, "json_too_deep", raw=over, headers=JSON_HDR)
# a body of many small values is refused before jansson spends ~40 bytes on
# each (24 MB of "0," was half a gigabyte parsed)
wide = b'{"slides":[' + b",".join([b"0"] * (12 * 1024 * 1024)) + b"]}"
hwm_wide = rss_kb("VmHWM")
err, _ = expect("24 MB of small values", 400, "json_too_many_values", raw=wide, headers=JSON_HDR)
check("100000" in err["message"], "the message names the limit: %r" % err)
if not under_asan():
    check(rss_kb("VmHWM") - hwm_wide < 96 * 1024, "24 MB of small values grew the gateway's peak by %d KB"
          % (rss_kb("VmHWM") - hwm_wide))

# brackets inside strings are not nesting
in_string = dict(invalid, metadata={"note": "[" * 1000 + "{" * 1000})
status, _, raw = stack.request("POST", "/v1/renders", body=in_string)
check(status == 422 and error_of(raw)["param"] == "canvas.preset",
      "brackets inside a string counted as nesting: %d %r" % (status, raw[:300]))
alive("strings full of brackets")

# ---- keys ---------------------------------------------------------------------

good_render = dict(render)
expect("no key", 401, "missing_api_key", body=good_render, auth=False)
expect("made-up key", 401, "invalid_api_key", body=good_render, auth="sk_not_a_real_key")
expect("junk after a valid key", 401, "invalid_api_key", body=good_render, auth=stack.key + " junk")
expect("a second key after a valid one", 401, "invalid_api_key", body=good_render,
       auth=stack.key + ",sk_other")
expect("a valid key, not Bearer", 401, "invalid_api_key", body=good_render,
       headers={"Authorization": "Basic " + stack.key})
expect("a non-ASCII byte in the key", 401, "invalid_api_key", body=good_render, auth="sk_abc\xe9def")
expect("a control byte in the key", 400, "malformed_request", body=good_render, auth="sk_abc\x01def")
expect("a forged signed URL of no file", 404, "resource_missing", method="GET",
       path="/v1/files/img_01KNS1WNPW9FCHZSK4XNTHMB0H?exp=99999999999&sig=" + "0" * 64, auth=False)
expect("a malformed signed file URL", 401, "invalid_signature", method="GET",
       path="/v1/files/img_01KNS1WNPW9FCHZSK4XNTHMB0H?exp=soon&sig=xyz", auth=False)
status, _, _ = stack.request("GET", "/v1/renders")
check(status == 200, "the real key still works: %d" % status)

# a made-up key with a large body: refused from the headers, the body never
# read, so the gateway's memory does not follow the bodies it was sent
asan = under_asan()
hwm_before = rss_kb("VmHWM")
big = b'{"slides":[{"screenshot":{"data":"' + b"A" * (20 * 1024 * 1024) + b'"}}]}'
for i in range(4):
    head = ("POST /v1/renders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer sk_fake_%d\r\n"
            "Content-Type: application/json\r\nIdempotency-Key: big-%d\r\nContent-Length: %d\r\n\r\n"
            % (i % 2, i, len(big))).encode()
    status, head_text, body = raw_http(head + big)
    check(status in (401, 429), "a made-up key with a 20 MB body answered %d %r" % (status, body[:200]))
    check(error_of(body)["code"] in ("invalid_api_key", "rate_limited"), "big body: %r" % body[:200])
    alive("a 20 MB body with a made-up key")
hwm_after = rss_kb("VmHWM")
if asan:
    print("skipping the memory check under AddressSanitizer")
else:
    check(hwm_after - hwm_before < 16 * 1024,
          "four 20 MB bodies with a made-up key grew the gateway's peak memory by %d KB"
          % (hwm_after - hwm_before))
    check(rss_kb() - rss_before < 32 * 1024,
          "the hostile requests grew the gateway from %d KB to %d KB" % (rss_before, rss_kb()))

# Expect: 100-continue: a made-up key is refused before the client is asked
# for its body; a real key gets "100 Continue", then its answer
def expect_continue(key, body):
    s = socket.create_connection(("127.0.0.1", stack.http_port), timeout=20)
    s.sendall(("POST /v1/renders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
               "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n"
               "Connection: close\r\n\r\n" % (key, len(body))).encode())
    first = s.recv(65536)
    rest = b""
    if first.startswith(b"HTTP/1.1 100"):
        s.sendall(body)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    s.close()
    return first, rest


first, _ = expect_continue("sk_made_up_key", b"[" * 100000)
check(first.startswith(b"HTTP/1.1 401"), "a made-up key with Expect: 100-continue: %r" % first[:200])
first, rest = expect_continue(stack.key, json.dumps(dict(render, canvas={"preset": "no.such_preset"})).encode())
check(first.startswith(b"HTTP/1.1 100 Continue"), "a real key: expected 100 Continue, got %r" % first[:200])
check(b"HTTP/1.1 422" in first + rest, "a real key after 100 Continue: %r" % (first + rest)[:300])
alive("Expect: 100-continue")

# ---- civetweb's own refusals come out as JSON ----------------------------------

for what, data, status, code in (
        ("a garbage request line", b"GARBAGE\r\n\r\n", 400, "malformed_request"),
        ("a bare newline request", b"GET\n\n", 400, "malformed_request"),
        ("a bad HTTP version", b"GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n", 505, "http_version_not_supported"),
        ("a bad Content-Length", b"POST /v1/renders HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
         411, "length_required"),
        ("an unknown transfer coding", b"POST /v1/renders HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
         400, "malformed_request"),
        ("a 70 KB header", b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
         400, "malformed_request"),
        ("a 20 KB URL", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 400, "malformed_request")):
    got, head, body = raw_http(data)
    check(got == status, "%s: expected %d, got %d %r" % (what, status, got, head[:200]))
    check("application/json" in head and "X-Request-Id: req_" in head,
          "%s: not a JSON error with a request id: %r" % (what, head))
    check(error_of(body)["code"] == code, "%s: expected %s, got %r" % (what, code, body))
    alive(what)
check(renders_count() == before, "the hostile requests created renders")

# ---- revocation takes effect within the key cache's TTL -------------------------

restart_gateway("--key-cache-ttl-ms", "1000")
info = json.loads(stack.cli("keys", "create", "--name", "revoked", "--json"))
status, _, _ = stack.request("GET", "/v1/account", auth=info["api_key"])
check(status == 200, "a new key answered %d" % status)
stack.cli("keys", "revoke", info["api_key"])
time.sleep(1.5)
expect("a key revoked longer than the TTL ago", 401, "invalid_api_key", method="GET",
       path="/v1/account", auth=info["api_key"])

# ---- rate limits: 429, rate_limited, Retry-After, by class ------------------------

restart_gateway("--rate-limit", "0.1:12", "--create-rate-limit", "0.1:2",
                "--webhook-test-rate-limit", "0.1:1", "--auth-fail-rate-limit", "0.1:3")


def expect_limited(what, **kw):
    got, headers, raw = stack.request(**kw)
    check(got == 429, "%s: expected 429, got %d %r" % (what, got, raw[:200]))
    err = error_of(raw)
    check(err["code"] == "rate_limited" and err["type"] == "rate_limit_error",
          "%s: expected rate_limited, got %r" % (what, err))
    retry = headers.get("Retry-After", "")
    check(retry.isdigit() and int(retry) >= 1, "%s: Retry-After %r" % (what, retry))
    alive(what)
    return err


status, _, _ = stack.request("GET", "/v1/renders")         # caches the good key (all: 1)
check(status == 200, "GET /v1/renders answered %d" % status)
before = renders_count()                                     # all: 2
for i in range(2):                                           # create: 2 of 2, all: 4
    status, _, raw = stack.request("POST", "/v1/renders", body=good_render)
    check(status == 202, "create %d under the limit answered %d %r" % (i, status, raw[:200]))
err = expect_limited("a third create", method="POST", path="/v1/renders", body=good_render)
check("create" in err["message"], "the message names the class: %r" % err)
expect_limited("a capture, also a create", method="POST", path="/v1/capture",
               body={"url": "https://example.com/", "async": True})
status, _, raw = stack.request("POST", "/v1/webhooks/test", body={"url": "not a url"})
check(status == 422, "first webhook test answered %d %r" % (status, raw[:200]))   # all: 5
expect_limited("a second webhook test", method="POST", path="/v1/webhooks/test",
               body={"url": "not a url"})
for i in range(3):
    expect("made-up key %d" % i, 401, "invalid_api_key", method="GET", path="/v1/renders",
           auth="sk_guess_%d" % i)
expect_limited("a fourth made-up key", method="GET", path="/v1/renders", auth="sk_guess_9")
expect_limited("a malformed key past the auth_fail limit", method="GET", path="/v1/renders",
               auth="sk_bad key")
expect_limited("a forged signed file URL past the auth_fail limit", method="GET",
               path="/v1/files/img_01KNS1WNPW9FCHZSK4XNTHMB0H?exp=99999999999&sig=" + "0" * 64,
               auth=False)
limited = False
for i in range(20):                                          # all: runs out at 12
    got, headers, raw = stack.request("GET", "/v1/renders")
    if got == 429:
        limited = True
        check(headers.get("Retry-After", "").isdigit(), "all: Retry-After %r" % headers)
        check(error_of(raw)["code"] == "rate_limited", "all: %r" % raw[:200])
        break
    check(got == 200, "GET under the limit answered %d" % got)
check(limited, "twenty GETs on a 12-token bucket were never limited")
alive("the rate limits")
status, _, metrics = stack.request("GET", "/metrics", auth=False)
text = metrics.decode()
for cls in ("create", "webhook_test", "auth_fail", "all"):
    check('easel_rate_limited_total{class="%s"}' % cls in text,
          "no easel_rate_limited_total for %s in /metrics" % cls)
for result in ("miss", "valid", "invalid"):
    check('easel_gateway_key_cache_total{result="%s"}' % result in text,
          "no easel_gateway_key_cache_total for %s in /metrics" % result)
# the defaults (the harness turns the limits off through the environment;
# empty variables mean unset): POST /v1/webhooks/test allows bursts of 5
restart_gateway(env={v: "" for v in ("EASEL_RATE_LIMIT", "EASEL_CREATE_RATE_LIMIT",
                                     "EASEL_WEBHOOK_TEST_RATE_LIMIT", "EASEL_AUTH_FAIL_RATE_LIMIT")})
for i in range(5):
    status, _, raw = stack.request("POST", "/v1/webhooks/test", body={"url": "not a url"})
    check(status == 422, "default limit: webhook test %d answered %d %r" % (i, status, raw[:200]))
err = expect_limited("a sixth webhook test under the default 1:5", method="POST",
                     path="/v1/webhooks/test", body={"url": "not a url"})
check("1 a second, bursts of 5" in err["message"], "the default named: %r" % err)
check(renders_count() == before + 2, "the limited creates created renders")
print("adv_requests: all checks passed")
