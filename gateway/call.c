/*  call.c: replies, auth, bus round trips, bodies and idempotency keys of
    one gateway request (see call.h).
    Thread: the calling civetweb worker. Memory: a reply's buffer is freed
    before it returns; body_cache is the call's until its reply. */
#include "call.h"

static void s_idem_store (call_t *c, int status, const char *ctype, const char *body, size_t len);

/* ---- responses ----------------------------------------------------------- */

static const char *
s_reason (int status)
{
    switch (status) {
        case 200: return "OK";
        case 202: return "Accepted";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 402: return "Payment Required";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 413: return "Content Too Large";
        case 415: return "Unsupported Media Type";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 503: return "Service Unavailable";
        default:  return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* Writes status line, headers and body with one mg_write. `extra` holds whole
   "Name: value\r\n" lines or is NULL. ctype NULL means no body headers (304). */
int
call_reply (call_t *c, int status, const char *ctype, const char *extra, const char *body, size_t len)
{
    if (c->idem_open) {
        c->idem_open = false;
        s_idem_store (c, status, ctype, body, len);
    }
    free (c->body_cache);
    c->body_cache = NULL;
    const struct mg_request_info *ri = mg_get_request_info (c->conn);
    bool close = !c->body_read
              && (ri->content_length > 0 || mg_get_header (c->conn, "Transfer-Encoding"));
    char length [64] = "";
    if (ctype)
        snprintf (length, sizeof length, "Content-Length: %zu\r\n", len);
    char head [HEAD_MAX];
    int n = snprintf (head, sizeof head,
                      "HTTP/1.1 %d %s\r\n%s%s%s%sX-Request-Id: %s\r\n%s%s\r\n",
                      status, s_reason (status),
                      ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
                      length, c->request_id, extra ? extra : "",
                      close ? "Connection: close\r\n"
                            : "Keep-Alive: timeout=" S_STR (EASEL_KEEP_ALIVE_S) "\r\n");
    if (n < 0 || (size_t) n >= sizeof head) {
        log_error ("response headers over the cap", "request_id", c->request_id, NULL);
        n = snprintf (head, sizeof head, "HTTP/1.1 500 Internal Server Error\r\n"
                      "Content-Length: 0\r\nX-Request-Id: %s\r\nConnection: close\r\n\r\n",
                      c->request_id);
        mg_write (c->conn, head, (size_t) n);
        return 500;
    }
    if (!ctype)
        len = 0;
    char *buf = malloc ((size_t) n + len);
    if (buf) {
        memcpy (buf, head, (size_t) n);
        if (len)
            memcpy (buf + n, body, len);
        mg_write (c->conn, buf, (size_t) n + len);
        free (buf);
    }
    else {
        mg_write (c->conn, head, (size_t) n);
        if (len)
            mg_write (c->conn, body, len);
    }
    return status;
}

/* Serialises obj (stolen) as the body. */
int
call_reply_json (call_t *c, int status, json_t *obj, const char *extra)
{
    size_t len = 0;
    char *text = obj ? render_json_dump (obj, &len) : NULL;
    json_decref (obj);
    if (!text) {
        static const char oom [] = "{\"error\":{\"type\":\"api_error\",\"code\":\"internal_error\","
                                   "\"message\":\"An internal error occurred.\"}}";
        log_error ("cannot build a JSON response", "request_id", c->request_id, NULL);
        return call_reply (c, 500, "application/json", NULL, oom, sizeof oom - 1);
    }
    int rc = call_reply (c, status, "application/json", extra, text, len);
    free (text);
    return rc;
}

int
call_reply_error (call_t *c, const api_error_t *e, const char *extra)
{
    bool retry = e->status == 503 || e->status == 429
              || (e->status == 409 && strcmp (e->code, "idempotency_key_in_use") == 0);
    char headers [EXTRA_MAX], after [40] = "";
    if (retry)                     /* a rate limit says when; the rest: soon */
        snprintf (after, sizeof after, "Retry-After: %d\r\n",
                  e->status == 429 && e->retry_after_s > 0 ? e->retry_after_s : 1);
    snprintf (headers, sizeof headers, "%s%s%s",
              e->status == 401 ? "WWW-Authenticate: Bearer realm=\"easel\"\r\n" : "",
              after, extra ? extra : "");
    json_t *obj = render_json_error (e->type, e->code, e->message, e->param [0] ? e->param : NULL);
    return call_reply_json (c, e->status, obj, headers);
}

/* Logs `reason` with the request id and fills e with a 500 that says neither. */
int
call_internal (call_t *c, api_error_t *e, const char *reason)
{
    log_error ("internal error", "request_id", c->request_id, "reason", reason, NULL);
    return api_error_set (e, 500, "internal_error", NULL,
                          "An internal error occurred; quote request id %s when asking for help.",
                          c->request_id);
}

/* ---- request pieces ------------------------------------------------------ */

/* Fills e with the 429 of rate class cls. */
static int
s_rate_limited (call_t *c, rate_class_t cls, int retry_s, api_error_t *e)
{
    rate_rule_t rule = rate_limit_rule (c->gw->limits, cls);
    api_error_set (e, 429, "rate_limited", NULL,
                   "Too many %s (rate limit %s: %g a second, bursts of %g); retry after %d s.",
                   cls == RATE_AUTH_FAIL ? "failed authentications from this address"
                                         : "requests for this account", rate_class_name (cls),
                   rule.rate, rule.burst, retry_s);
    e->retry_after_s = retry_s;
    return -1;
}

/* A request refused for its credentials (e, a 401) takes a token from its
   client address's auth_fail bucket; an empty one turns e into the 429. */
void
call_auth_failed (call_t *c, int64_t now, api_error_t *e)
{
    rate_class_t fail = RATE_AUTH_FAIL, refused;
    int retry = 0;
    if (rate_limit_take (c->gw->limits, mg_get_request_info (c->conn)->remote_addr, &fail, 1, now,
                         &retry, &refused))
        s_rate_limited (c, RATE_AUTH_FAIL, retry, e);
}

/* 0 while the client address may still fail authentication; -1 with e the
   429 once its auth_fail bucket is empty (then nothing is asked of the bus). */
int
call_auth_budget (call_t *c, int64_t now, api_error_t *e)
{
    int retry = 0;
    if (rate_limit_peek (c->gw->limits, mg_get_request_info (c->conn)->remote_addr,
                         RATE_AUTH_FAIL, now, &retry))
        return s_rate_limited (c, RATE_AUTH_FAIL, retry, e);
    return 0;
}

/* Authorization: Bearer sk_... -> c->auth (hex sha256 of the key) and
   c->account, from the key cache or one GET_ACCOUNT (key_cache.h), before
   any byte of the body is read; then the account's rate limits. A refused
   key takes a token from the client address's auth_fail bucket, and an
   empty bucket answers 429 without asking the scheduler. Runs once per
   request; a second call repeats the first answer. */
int
call_auth (call_t *c, api_error_t *e)
{
    if (c->auth_state) {
        if (c->auth_state < 0)
            *e = c->auth_err;
        return c->auth_state > 0 ? 0 : -1;
    }
    const struct mg_request_info *ri = mg_get_request_info (c->conn);
    int64_t now = util_mono_ms ();
    int rc = key_cache_bearer (mg_get_header (c->conn, "Authorization"), c->auth, e);
    key_cache_answer_t known = rc ? KEY_CACHE_INVALID
                             : key_cache_get (c->gw->keys, c->auth, now, c->account);
    if (known == KEY_CACHE_MISS) {
        if ((rc = call_auth_budget (c, now, e)) == 0
        &&  (rc = key_cache_fetch (c->gw->keys, c->gw->pool, c->auth, now, c->account, e))
        &&  e->status == 401)
            call_auth_failed (c, now, e);
    }
    else
    if (known == KEY_CACHE_INVALID) {
        if (rc == 0)
            rc = api_error_set (e, 401, "invalid_api_key", NULL, "Invalid API key provided.");
        call_auth_failed (c, now, e);
    }
    if (rc == 0) {
        rate_class_t classes [RATE_CLASSES], refused = RATE_ALL;
        int n = 0, retry = 0;
        rate_limit_classes (ri->request_method, ri->local_uri, classes, &n);
        if (rate_limit_take (c->gw->limits, c->account, classes, n, now, &retry, &refused))
            rc = s_rate_limited (c, refused, retry, e);
    }
    c->auth_state = rc ? -1 : 1;
    if (rc) {
        c->auth_err = *e;
        c->account [0] = '\0';
    }
    return rc;
}

/* One round trip to the scheduler expecting reply command `expect`. An ERROR
   reply becomes e (its status, code, message and param); no reply is a 503. */
int
call_bus (call_t *c, int cmd, const msgpack_sbuffer *body, const char *rid, int expect,
       zframe_t **reply, api_error_t *e)
{
    int got = 0;
    if (api_pool_call (c->gw->pool, cmd, body, rid, &got, reply))
        return api_error_set (e, 503, "scheduler_unavailable", NULL,
                              "The scheduler is not answering; retry shortly.");
    if (got == PROTO_ERROR) {
        proto_errmsg_t em;
        char err [PROTO_ERR_MAX];
        int rc = proto_errmsg_decode ((const char *) zframe_data (*reply), zframe_size (*reply), &em, err);
        zframe_destroy (reply);
        if (rc)
            return call_internal (c, e, err);
        if (em.status < 400 || em.status > 599)
            rc = call_internal (c, e, "scheduler error with a status outside 400..599");
        else
            api_error_set (e, em.status, em.error.code [0] ? em.error.code : "error", em.error.param,
                           "%s", em.error.message ? em.error.message : "");
        proto_errmsg_free (&em);
        return -1;
    }
    if (got == PROTO_REPLAY && c->accept_replay)
        return 1;
    if (got != expect) {
        zframe_destroy (reply);
        return call_internal (c, e, "unexpected reply command from the scheduler");
    }
    return 0;
}

/* GET_RENDER with the request's key, or, when link is given, with a review
   link and no key: the link's own render (link_of NULL), or the earlier
   render the link names as since (link_of the link's render). */
int
call_get_render_as (call_t *c, const char *id, const review_link_t *link, const char *link_of,
                 proto_render_t *r, api_error_t *e)
{
    proto_get_t g;
    memset (&g, 0, sizeof g);
    proto_id_new ("rid_", g.rid, sizeof g.rid);
    if (link) {
        g.exp = link->exp;
        snprintf (g.sig, sizeof g.sig, "%s", link->sig);
        snprintf (g.link_by, sizeof g.link_by, "%s", link->by);
        snprintf (g.link_since, sizeof g.link_since, "%s", link->since);
        snprintf (g.link_of, sizeof g.link_of, "%s", link_of ? link_of : "");
    }
    else
        memcpy (g.auth, c->auth, sizeof g.auth);
    snprintf (g.id, sizeof g.id, "%s", id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_get_encode (&g, &sb) ? call_internal (c, e, "GET_RENDER encoding failed")
           : call_bus (c, PROTO_GET_RENDER, &sb, g.rid, PROTO_RENDER, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return -1;
    char err [PROTO_ERR_MAX];
    rc = proto_render_decode ((const char *) zframe_data (reply), zframe_size (reply), r, err);
    zframe_destroy (&reply);
    return rc ? call_internal (c, e, err) : 0;
}

int
call_get_render (call_t *c, const char *id, proto_render_t *r, api_error_t *e)
{
    return call_get_render_as (c, id, NULL, NULL, r, e);
}

/* One round trip of a proto_simple_t message: ask (its rid set here) as
   cmd, the reply decoded into answer when it is an `expect`. 0 answered;
   -1 no reply, another command or a reply that does not decode. */
static int
s_simple_call (const gateway_t *gw, int cmd, proto_simple_t *ask, int expect, proto_simple_t *answer)
{
    proto_id_new ("rid_", ask->rid, sizeof ask->rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int got = 0;
    int rc = proto_simple_encode (ask, &sb) ? -1
           : api_pool_call (gw->pool, cmd, &sb, ask->rid, &got, &reply);
    msgpack_sbuffer_destroy (&sb);
    memset (answer, 0, sizeof *answer);
    char err [PROTO_ERR_MAX];
    if (rc == 0 && (got != expect
                    || proto_simple_decode ((const char *) zframe_data (reply), zframe_size (reply),
                                            answer, err)))
        rc = -1;
    zframe_destroy (&reply);
    return rc;
}

/* The fence's question: a PING, whose PONG says where the stream stands. */
static int
s_ask_fence (void *arg, int64_t *epoch, int64_t *seq)
{
    proto_simple_t ping, pong;
    memset (&ping, 0, sizeof ping);
    int rc = s_simple_call (arg, PROTO_PING, &ping, PROTO_PONG, &pong);
    *epoch = pong.state_epoch;
    *seq = pong.state_seq;
    return rc;
}

int
call_state_ack (void *arg, const char *holder, int64_t epoch, int64_t seq, int32_t *lease_ms)
{
    proto_simple_t ack, grant;
    memset (&ack, 0, sizeof ack);
    snprintf (ack.holder, sizeof ack.holder, "%s", holder);
    ack.state_epoch = epoch;
    ack.state_seq = seq;
    int rc = s_simple_call (arg, PROTO_STATE_ACK, &ack, PROTO_LEASE, &grant);
    *lease_ms = rc == 0 && grant.state_epoch == epoch ? grant.lease_ms : 0;
    return rc;
}

/* The render's answer from the state, current as of a fence asked after
   this request came: a heap copy (length in *len, *final whether it left
   processing), or NULL: ask the scheduler. */
char *
call_state_answer (call_t *c, const char *id, size_t *len, bool *final)
{
    render_state_t *st = c->gw->state;
    return st ? render_state_read (st, s_ask_fence, (void *) c->gw, id, c->account, util_now_ms (),
                                   util_mono_ms (), len, final) : NULL;
}

/* Waits until r leaves "processing" or deadline (monotonic ms), replacing *r
   with fresh copies. The event watcher wakes it early; it re-asks the
   scheduler at least every RECHECK_MS since a PUB message may be lost,
   unless the render state says it is still processing. A
   failed re-check ends the wait with *r as it was. Returns -1 without
   waiting when r is still processing and every waiting place is taken
   (--max-waiters), else 0. */
int
call_wait_final (call_t *c, proto_render_t *r, int64_t deadline)
{
    if (strcmp (r->status, "processing") != 0 || deadline <= util_mono_ms ())
        return 0;
    if (c->gw->events && !event_watch_enter (c->gw->events))
        return -1;
    while (strcmp (r->status, "processing") == 0) {
        int64_t left = deadline - util_mono_ms ();
        if (left <= 0)
            break;
        if (c->gw->events)
            event_watch_wait (c->gw->events, r->id, (int) (left < RECHECK_MS ? left : RECHECK_MS));
        /* the state says it is still processing: nothing to ask */
        size_t len = 0;
        bool final = true;
        char *text = strncmp (r->id, "rnd_", 4) == 0 ? call_state_answer (c, r->id, &len, &final) : NULL;
        free (text);
        if (text && !final)
            continue;
        proto_render_t fresh;
        api_error_t e;
        if (call_get_render (c, r->id, &fresh, &e))
            break;
        proto_render_free (r);
        *r = fresh;
    }
    if (c->gw->events)
        event_watch_leave (c->gw->events);
    return 0;
}

/* The body of a render answer: the 202 of an accepted render (the same bytes
   the scheduler stores for an idempotent replay) or the render object. */
char *
call_render_text (call_t *c, int status, const proto_render_t *r, size_t *len)
{
    if (status == 202)
        return render_json_accepted (r->id, len);
    json_t *obj = render_json_build (r, c->gw->public_url);
    char *text = obj ? render_json_dump (obj, len) : NULL;
    json_decref (obj);
    return text;
}

int
call_reply_render (call_t *c, int status, const proto_render_t *r)
{
    size_t len = 0;
    char *text = call_render_text (c, status, r, &len);
    if (!text) {
        api_error_t e;
        call_internal (c, &e, "cannot build the render JSON");
        return call_reply_error (c, &e, NULL);
    }
    int rc = call_reply (c, status, "application/json", NULL, text, len);
    free (text);
    return rc;
}

/* Reads the whole body (Content-Length already checked against the cap). */
int
call_read_body (call_t *c, char **out, size_t *out_len, api_error_t *e)
{
    if (c->body_cache) {           /* read already, to fingerprint a keyed POST */
        *out = malloc (c->body_cache_len + 1);
        if (!*out)
            return call_internal (c, e, "out of memory copying the body");
        memcpy (*out, c->body_cache, c->body_cache_len);
        (*out) [c->body_cache_len] = '\0';
        *out_len = c->body_cache_len;
        return 0;
    }
    /* a client waiting on Expect: 100-continue sends its body only now,
       once the request passed its key and limits (civetweb does not say it) */
    const char *expect = mg_get_header (c->conn, "Expect");
    if (expect && strcasecmp (expect, "100-continue") == 0)
        mg_write (c->conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    long long cl = mg_get_request_info (c->conn)->content_length;
    size_t cap = cl >= 0 ? (size_t) cl : (size_t) EASEL_MAX_BODY_BYTES + 1;
    size_t size = cl >= 0 ? (size_t) cl + 1 : BODY_CHUNK;
    char *buf = malloc (size);
    size_t n = 0;
    while (buf && n < cap) {
        if (n == size) {
            size_t bigger = size * 2 > cap ? cap : size * 2;
            char *grown = realloc (buf, bigger);
            if (!grown)
                break;
            buf = grown;
            size = bigger;
        }
        int got = mg_read (c->conn, buf + n, size - n);
        if (got <= 0)
            break;
        n += (size_t) got;
    }
    if (!buf)
        return call_internal (c, e, "out of memory reading the body");
    if (n > EASEL_MAX_BODY_BYTES) {
        free (buf);
        return api_error_set (e, 413, "body_too_large", NULL,
                              "The request body is over the %d byte limit.", EASEL_MAX_BODY_BYTES);
    }
    if (cl >= 0 && n < (size_t) cl) {
        free (buf);
        return api_error_set (e, 400, "incomplete_body", NULL,
                              "The request body ended before Content-Length bytes arrived.");
    }
    c->body_read = true;
    *out = buf;
    *out_len = n;
    return 0;
}

int
call_check_json_body (call_t *c, api_error_t *e)
{
    const char *ct = mg_get_header (c->conn, "Content-Type");
    if (!ct || strncasecmp (ct, "application/json", 16) != 0
    ||  (ct [16] != '\0' && ct [16] != ';' && ct [16] != ' ' && ct [16] != '\t'))
        return api_error_set (e, 415, "unsupported_media_type", NULL,
                              "Send the body as Content-Type: application/json.");
    if (mg_get_request_info (c->conn)->content_length > EASEL_MAX_BODY_BYTES)
        return api_error_set (e, 413, "body_too_large", NULL,
                              "The request body is over the %d byte limit.", EASEL_MAX_BODY_BYTES);
    return 0;
}

int
call_no_params (call_t *c, const char *what, char fp [65], api_error_t *e)
{
    char *body = NULL;
    size_t len = 0;
    bool has_body = mg_get_request_info (c->conn)->content_length > 0
                 || mg_get_header (c->conn, "Transfer-Encoding");
    if (has_body && (call_check_json_body (c, e) || call_read_body (c, &body, &len, e)))
        return -1;
    json_error_t jerr;
    int rc = api_json_depth_check (body, len, e);
    json_t *doc = len && !rc ? json_loadb (body, len, 0, &jerr) : NULL;
    if (rc == 0 && len && !doc)
        rc = api_error_set (e, 400, "invalid_json", NULL, "The body is not valid JSON: %s"
                            " (line %d, column %d).", jerr.text, jerr.line, jerr.column);
    else
    if (doc && (!json_is_object (doc) || json_object_size (doc) > 0)) {
        const char *k = json_is_object (doc) ? json_object_iter_key (json_object_iter (doc)) : NULL;
        rc = api_error_set (e, 422, "parameter_unknown", k, "%s takes no parameters; send no body"
                            " or {}.", what);
    }
    json_decref (doc);
    if (!rc && fp && call_fingerprint (body, len, fp))
        rc = call_internal (c, e, "cannot fingerprint the request");
    free (body);
    return rc;
}

/* ---- idempotency keys (CONTRACT 5) -----------------------------------------
   The gateway checks the header, fingerprints the canonical body (sha256 of
   the JSON with sorted keys, compact: key order and whitespace do not
   matter) and hands both to the scheduler, which owns the key rows. */

/* Idempotency-Key header into key ("" when absent). 400 unless 1..255
   printable ASCII characters. */
int
call_idem_key (call_t *c, char key [EASEL_IDEMPOTENCY_KEY_MAX + 1], api_error_t *e)
{
    key [0] = '\0';
    const char *h = mg_get_header (c->conn, "Idempotency-Key");
    if (!h)
        return 0;
    size_t n = strlen (h);
    bool printable = true;
    for (size_t i = 0; i < n && printable; i++)
        printable = h [i] >= 0x20 && h [i] <= 0x7e;
    if (n == 0 || n > EASEL_IDEMPOTENCY_KEY_MAX || !printable)
        return api_error_set (e, 400, "idempotency_key_invalid", "Idempotency-Key",
                              "Idempotency-Key must be 1 to %d printable ASCII characters.",
                              EASEL_IDEMPOTENCY_KEY_MAX);
    memcpy (key, h, n + 1);
    return 0;
}

/* Hex sha256 of the canonical form of a JSON body; "" hashes as itself. 0 / -1. */
int
call_fingerprint (const char *body, size_t len, char fp [65])
{
    if (len == 0) {
        util_sha256_hex ("", 0, fp);
        return 0;
    }
    if (!json_depth_ok (body, len, EASEL_MAX_JSON_DEPTH))
        return -1;
    json_t *doc = json_loadb (body, len, 0, NULL);
    char *text = doc ? json_dumps (doc, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref (doc);
    if (!text)
        return -1;
    util_sha256_hex (text, strlen (text), fp);
    free (text);
    return 0;
}

/* Copies key and fingerprint into a request; a sync request may stay in
   flight for the sync wait plus one bus round trip. */
void
call_idem_fill (call_t *c, const char *key, const char *fp, bool sync,
             char out_key [EASEL_IDEMPOTENCY_KEY_MAX + 1], char out_fp [65], int64_t *hold_ms)
{
    c->accept_replay = key [0] != '\0';
    snprintf (out_key, EASEL_IDEMPOTENCY_KEY_MAX + 1, "%s", key);
    snprintf (out_fp, 65, "%s", fp);
    *hold_ms = (sync ? c->gw->sync_wait_ms : 0) + c->gw->request_timeout_ms;
}

/* Writes a REPLAY reply (consumed) byte for byte with Idempotent-Replayed. */
int
call_reply_replay (call_t *c, zframe_t **reply)
{
    proto_body_t b;
    char err [PROTO_ERR_MAX];
    int rc = proto_body_decode ((const char *) zframe_data (*reply), zframe_size (*reply), &b, err);
    zframe_destroy (reply);
    if (rc) {
        api_error_t e;
        call_internal (c, &e, err);
        return call_reply_error (c, &e, NULL);
    }
    rc = call_reply (c, b.status, "application/json", "Idempotent-Replayed: true\r\n",
                  b.body, strlen (b.body));
    proto_body_free (&b);
    return rc;
}

/* Answers a keyed request whose answer the scheduler could not decide alone
   (a sync create, a cancel): stores the body first (IDEM_COMPLETE), so a
   retry after this answer replays it instead of meeting a 409. A failed
   store is logged; the row then falls back as job_store.h says. */

int
call_reply_keyed (call_t *c, const char *scope, const char *key, int status, const proto_render_t *r)
{
    size_t len = 0;
    char *text = call_render_text (c, status, r, &len);
    if (!text)
        return call_reply_render (c, status, r);
    return call_reply_keyed_text (c, scope, key, status, text, len);
}

/* call_reply_keyed with the answer's JSON text made already (consumed). */
int
call_reply_keyed_text (call_t *c, const char *scope, const char *key, int status,
                    char *text, size_t len)
{
    proto_idem_complete_t ic;
    memset (&ic, 0, sizeof ic);
    ic.body = text;
    proto_id_new ("rid_", ic.rid, sizeof ic.rid);
    memcpy (ic.auth, c->auth, sizeof ic.auth);
    snprintf (ic.scope, sizeof ic.scope, "%s", scope);
    snprintf (ic.key, sizeof ic.key, "%s", key);
    ic.status = status;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    api_error_t e;
    c->accept_replay = false;
    if (proto_idem_complete_encode (&ic, &sb)
    ||  call_bus (c, PROTO_IDEM_COMPLETE, &sb, ic.rid, PROTO_ACK, &reply, &e))
        log_warn ("idempotent response not stored", "request_id", c->request_id, NULL);
    zframe_destroy (&reply);
    msgpack_sbuffer_destroy (&sb);
    int rc = call_reply (c, status, "application/json", NULL, ic.body, len);
    free (ic.body);
    return rc;
}

/* Any other keyed POST: claims the key before the route runs. 0 run the
   route (call_reply will store its answer); otherwise the status written (a
   replay, 409, 422, or an error). */
int
call_idem_begin (call_t *c, const char *path, const char *key)
{
    api_error_t e;
    proto_idem_begin_t b;
    memset (&b, 0, sizeof b);
    if ((size_t) snprintf (b.scope, sizeof b.scope, "POST %s", path) >= sizeof b.scope)
        return 0;                  /* no route has so long a path: it answers 404 */
    if (call_auth (c, &e))
        return call_reply_error (c, &e, NULL);
    const struct mg_request_info *ri = mg_get_request_info (c->conn);
    if (ri->content_length > EASEL_MAX_BODY_BYTES) {
        api_error_set (&e, 413, "body_too_large", NULL,
                       "The request body is over the %d byte limit.", EASEL_MAX_BODY_BYTES);
        return call_reply_error (c, &e, NULL);
    }
    char *body = NULL;
    size_t len = 0;
    if ((ri->content_length > 0 || mg_get_header (c->conn, "Transfer-Encoding"))
    &&  call_read_body (c, &body, &len, &e))
        return call_reply_error (c, &e, NULL);
    c->body_cache = body;
    c->body_cache_len = len;
    /* a JSON body too deep to parse is refused here; other bytes (a deep
       one included) are fingerprinted as they are, never parsed deep */
    const char *ct = mg_get_header (c->conn, "Content-Type");
    if (ct && strncasecmp (ct, "application/json", 16) == 0 && api_json_depth_check (body, len, &e))
        return call_reply_error (c, &e, NULL);
    if (call_fingerprint (body, len, b.fp))        /* not JSON: the bytes themselves */
        util_sha256_hex (body ? body : "", len, b.fp);
    proto_id_new ("rid_", b.rid, sizeof b.rid);
    memcpy (b.auth, c->auth, sizeof b.auth);
    snprintf (b.key, sizeof b.key, "%s", key);
    b.hold_ms = c->gw->request_timeout_ms;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    c->accept_replay = true;
    int rc = proto_idem_begin_encode (&b, &sb) ? call_internal (c, &e, "IDEM_BEGIN encoding failed")
           : call_bus (c, PROTO_IDEM_BEGIN, &sb, b.rid, PROTO_ACK, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    c->accept_replay = false;
    if (rc == 1)
        return call_reply_replay (c, &reply);
    zframe_destroy (&reply);
    if (rc)
        return call_reply_error (c, &e, NULL);
    c->idem_open = true;
    snprintf (c->idem_scope, sizeof c->idem_scope, "%s", b.scope);
    snprintf (c->idem_key, sizeof c->idem_key, "%s", key);
    return 0;
}

/* call_reply's hook for a claimed key: stores the answer (a 2xx is kept for
   replays; anything else frees the key). A failed store is logged; the row
   then lapses after its hold and the key is free again. */
static void
s_idem_store (call_t *c, int status, const char *ctype, const char *body, size_t len)
{
    proto_idem_complete_t ic;
    memset (&ic, 0, sizeof ic);
    bool text = ctype && strncmp (ctype, "application/json", 16) == 0 && body
             && len <= EASEL_IDEMPOTENCY_BODY_MAX && !memchr (body, '\0', len);
    ic.body = text ? strndup (body, len) : strdup ("");
    /* a success whose body cannot be stored as JSON text is not kept either */
    ic.status = text || status < 200 || status > 299 ? status : 500;
    if (!ic.body) {
        log_warn ("idempotent response not stored: out of memory", "request_id", c->request_id, NULL);
        return;
    }
    proto_id_new ("rid_", ic.rid, sizeof ic.rid);
    memcpy (ic.auth, c->auth, sizeof ic.auth);
    snprintf (ic.scope, sizeof ic.scope, "%s", c->idem_scope);
    snprintf (ic.key, sizeof ic.key, "%s", c->idem_key);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    api_error_t e;
    if (proto_idem_complete_encode (&ic, &sb)
    ||  call_bus (c, PROTO_IDEM_COMPLETE, &sb, ic.rid, PROTO_ACK, &reply, &e))
        log_warn ("idempotent response not stored", "request_id", c->request_id, NULL);
    zframe_destroy (&reply);
    msgpack_sbuffer_destroy (&sb);
    free (ic.body);
}

int
call_not_allowed (call_t *c, const char *allow)
{
    api_error_t e;
    char extra [64];
    snprintf (extra, sizeof extra, "Allow: %s\r\n", allow);
    api_error_set (&e, 405, "method_not_allowed", NULL, "This URL accepts %s only.", allow);
    return call_reply_error (c, &e, extra);
}

