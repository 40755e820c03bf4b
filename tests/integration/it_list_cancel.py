"""GET /v1/renders pages newest first (limit, starting_after, has_more) and
stays stable while renders are created; POST /v1/renders/{id}/cancel drops
queued work, keeps finished images and sends render.canceled; a finished
render answers 409; long-poll (?wait=S) answers within a second of
completion and with `processing` when the wait ends; bad inputs name the
param."""
import json
import threading
import time
from harness import Stack, ShotServer, HookReceiver, check, check_envelope, wait_for, slide

shots = ShotServer()
hooks = HookReceiver()
stack = Stack(renderers=1, renderer_env={"EASEL_RENDERER_TEST_DELAY_MS": "1200"})


def create(n=1, **extra):
    body = dict({"async": True, "canvas": {"width": 300, "height": 600},
                 "slides": [slide(shots.url("/shot.png"), lines=["Slide %d" % i]) for i in range(n)]},
                **extra)
    status, _, r = stack.json("POST", "/v1/renders", body)
    check(status == 202, "create answered %d %r" % (status, r))
    return r["id"]


def expect_error(method, path, status, code, param, body=None):
    got, _, err = stack.json(method, path, body)
    check(got == status, "%s %s answered %d %r, expected %d" % (method, path, got, err, status))
    check(err["error"]["code"] == code, "%s %s code %r" % (method, path, err))
    if param:
        check(err["error"].get("param") == param, "%s %s param %r" % (method, path, err))
    return err["error"]


# ---- cancel of queued work ----------------------------------------------------
busy = create(1)                         # occupies the renderer
victim = create(3, webhook_url=hooks.url("/cancel"))
status, _, canceled = stack.json("POST", "/v1/renders/%s/cancel" % victim)
check(status == 200 and canceled["status"] == "canceled", "cancel: %d %r" % (status, canceled))
check([i["status"] for i in canceled["images"]] == ["canceled"] * 3, "queued images: %r" % canceled)
check(canceled["credits_used"] == 0 and canceled["completed_at"], "canceled render: %r" % canceled)
call = wait_for(lambda: hooks.snapshot(), 30, "the render.canceled webhook")[0]
payload = json.loads(call["body"])
check(payload["type"] == "render.canceled" and payload["id"] == victim, "webhook: %r" % payload)
check_envelope(payload, canceled, "render", "render.canceled")
err = expect_error("POST", "/v1/renders/%s/cancel" % victim, 409, "render_finished", "id")
check("canceled" in err["message"], "409 message should say why: %r" % err)
_, headers, _ = stack.request("POST", "/v1/renders/%s/cancel" % victim)
check("Retry-After" not in headers, "a finished render will not change: no Retry-After")
finished = stack.wait_render(busy)
err = expect_error("POST", "/v1/renders/%s/cancel" % busy, 409, "render_finished", "id")
check("succeeded" in err["message"], "409 message should name the status: %r" % err)
expect_error("POST", "/v1/renders/rnd_01ZZZZZZZZZZZZZZZZZZZZZZZZ/cancel", 404, "resource_missing", "id")
expect_error("GET", "/v1/renders/%s/cancel" % busy, 405, "method_not_allowed", None)
expect_error("POST", "/v1/renders/%s/cancel" % busy, 422, "parameter_unknown", "force",
             body={"force": True})
other = json.loads(stack.cli("keys", "create", "--name", "other", "--json"))
got, _, raw = stack.request("POST", "/v1/renders/%s/cancel" % victim, auth=other["api_key"])
check(got == 404, "another account's cancel answered %d %r" % (got, raw))

# A running task: canceled, its finished siblings kept, the late result ignored.
running = create(2)
wait_for(lambda: stack.json("GET", "/v1/renders/" + running)[2]["images"][0]["status"] == "leased",
         20, "the first image to be leased")
time.sleep(1.6)                           # the first image finishes, the second is leased
status, _, part = stack.json("POST", "/v1/renders/%s/cancel" % running)
check(status == 200 and part["status"] == "canceled", "cancel while running: %r" % part)
done = [i for i in part["images"] if i["status"] == "succeeded"]
check(part["credits_used"] == len(done), "charged %r for %d images" % (part["credits_used"], len(done)))
time.sleep(1.5)
status, _, later = stack.json("GET", "/v1/renders/" + running)
check(later == part or (later["status"] == "canceled" and later["credits_used"] == part["credits_used"]
                        and [i["status"] for i in later["images"]] == [i["status"] for i in part["images"]]),
      "a late result changed a canceled render: %r" % later)

# ---- long-poll -----------------------------------------------------------------
slow = create(1)
seen = {}


def poller():
    while True:
        _, _, r = stack.json("GET", "/v1/renders/" + slow)
        if r["status"] != "processing":
            seen["at"] = time.time()
            return
        time.sleep(0.05)


t = threading.Thread(target=poller)
t.start()
started = time.time()
status, _, r = stack.json("GET", "/v1/renders/%s?wait=30" % slow)
returned = time.time()
t.join(30)
check(status == 200 and r["status"] == "succeeded", "long-poll answer: %r" % r)
check(returned - started < 20, "long-poll took %.1fs" % (returned - started))
check(abs(returned - seen["at"]) < 1.0, "long-poll answered %.2fs after a tight poller saw the end"
      % (returned - seen["at"]))
pending = create(3)
started = time.time()
status, _, r = stack.json("GET", "/v1/renders/%s?wait=1" % pending)
took = time.time() - started
check(status == 200 and r["status"] == "processing", "wait ended: %r" % r)
check(0.9 <= took < 2.5, "?wait=1 took %.2fs" % took)
for bad in ("61", "-1", "abc", ""):
    expect_error("GET", "/v1/renders/%s?wait=%s" % (pending, bad), 422, "parameter_invalid", "wait")

# ---- list ------------------------------------------------------------------------
status, _, listing = stack.json("GET", "/v1/renders?limit=100")
ids = [r["id"] for r in listing["data"]]
check(listing["object"] == "list" and listing["has_more"] is False, "list: %r" % listing["object"])
check(ids[:4] == [pending, slow, running, victim], "newest first: %r" % ids)
check(len(ids) == 5 and ids[4] == busy, "all five renders: %r" % ids)
status, _, default = stack.json("GET", "/v1/renders")
check(len(default["data"]) == 5 and default["has_more"] is False, "default limit: %r" % default)
more = [create(1) for _ in range(8)]
status, _, default = stack.json("GET", "/v1/renders")
check(len(default["data"]) == 10 and default["has_more"] is True, "default limit is 10")
every = list(reversed(more)) + ids
page, cursor, got = 0, None, []
while True:
    path = "/v1/renders?limit=3" + ("&starting_after=" + cursor if cursor else "")
    status, _, p = stack.json("GET", path)
    check(status == 200, "page %d: %d %r" % (page, status, p))
    got += [r["id"] for r in p["data"]]
    if page == 0:
        create(1)                         # a create between pages does not shift the cursor
    page += 1
    if not p["has_more"]:
        break
    check(len(p["data"]) == 3, "a full page before has_more=false")
    cursor = p["data"][-1]["id"]
check(got == every, "pages: %r != %r" % (got, every))
check(page == 5, "13 renders in pages of 3 take 5 pages, took %d" % page)
for bad in ("0", "101", "abc", "", "1.5"):
    expect_error("GET", "/v1/renders?limit=" + bad, 422, "parameter_invalid", "limit")
for bad in ("nope", "rnd_short", "img_01ZZZZZZZZZZZZZZZZZZZZZZZZ"):
    expect_error("GET", "/v1/renders?starting_after=" + bad, 422, "parameter_invalid", "starting_after")
expect_error("GET", "/v1/renders?starting_after=rnd_01ZZZZZZZZZZZZZZZZZZZZZZZZ", 422,
             "parameter_invalid", "starting_after")
status, _, theirs = stack.json("GET", "/v1/renders", auth=other["api_key"])
check(status == 200 and theirs["data"] == [], "another account sees no renders: %r" % theirs)
got, _, raw = stack.request("GET", "/v1/renders?starting_after=" + busy, auth=other["api_key"])
check(got == 422, "another account's cursor answered %d" % got)
expect_error("DELETE", "/v1/renders", 405, "method_not_allowed", None)

# ---- more waiters than gateway threads: the last free thread says busy ----
stack.kill("gateway", sig=15)
stack.start("gateway", "--listen", "127.0.0.1:%d" % stack.http_port, "--threads", "4")
stack.wait_ready(1)
long_one = create(10)                     # ~12 s of work behind a 1.2 s renderer
waits = []


def waiter():
    t0 = time.time()
    status, headers, r = stack.json("GET", "/v1/renders/%s?wait=3" % long_one)
    code = r.get("status") if status == 200 else (r or {}).get("error", {}).get("code")
    with lock:
        waits.append((status, code, headers.get("Retry-After"), time.time() - t0))


lock = threading.Lock()
ws = [threading.Thread(target=waiter) for _ in range(6)]
for w in ws:
    w.start()
for w in ws:
    w.join(30)
check(len(waits) == 6, "every waiter is answered: %r" % waits)
waited = [w for w in waits if w[0] == 200]
busy = [w for w in waits if w[0] == 503]
check(len(waited) + len(busy) == 6 and waited and busy
      and all(w[1] == "processing" for w in waited)
      and all(w[1] == "gateway_busy" and w[2] for w in busy),
      "with 4 threads, 6 waiters: some wait, the rest get 503 gateway_busy (Retry-After): %r" % waits)
check(all(w[3] < 2.5 for w in busy), "a busy answer comes at once, not after a queue: %r" % busy)
print("it_list_cancel: 1 passed, 0 failed")
