/*  gateway.c: routes, auth and responses of easel-gateway (see gateway.h).

    Thread: civetweb workers. Each request builds an s_call_t on the stack
    and borrows a client of the gateway's api_pool_t for each round trip to
    the scheduler, none while it waits (event_watch_t wakes it). Every response is assembled in one buffer and written with one
    mg_write (headers and body apart cost ~44 ms per response with keep-alive:
    Nagle plus delayed ACK). Internals never reach a client: a 500 says only
    the request id, and the log says the rest. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "gateway.h"
#include "api_pool.h"
#include "render_request.h"
#include "file_upload.h"
#include "capture_request.h"
#include "job_json.h"
#include "deliveries.h"
#include "render_json.h"
#include "presets_json.h"
#include "lint_rules.h"
#include "openapi.h"
#include "render_archive.h"
#include "render_changes.h"
#include "render_cache.h"
#include "review_page.h"
#include "metrics.h"
#include "log.h"
#include "util.h"
#include "json_depth.h"

#define HEAD_MAX         2048      /* status line + headers of one response */
#define EXTRA_MAX        512       /* route-specific headers */
#define BODY_CHUNK       65536     /* first allocation for a body of unknown length */
#define RECHECK_MS       1000      /* a waiting request re-asks the scheduler this often */
#define WAIT_MAX_S       60        /* GET /v1/renders/{id}?wait= */
#define S_STR_(x)        #x
#define S_STR(x)         S_STR_(x)

typedef struct {
    struct mg_connection *conn;
    const gateway_t *gw;
    char             request_id [PROTO_ID_MAX];
    char             auth [65];
    char             account [PROTO_ID_MAX];  /* s_auth: the key's account */
    int              auth_state;   /* s_auth ran: 1 passed, -1 refused with auth_err */
    api_error_t      auth_err;
    bool             body_read;    /* the request body was consumed */
    bool             accept_replay;   /* s_bus: a REPLAY reply returns 1 (keyed POSTs) */
    /* a keyed POST run by a route that knows nothing of keys (IDEM_BEGIN):
       s_reply stores its answer; its body was read once, for the fingerprint */
    bool             idem_open;
    char             idem_scope [PROTO_SHORT_MAX + PROTO_ID_MAX];
    char             idem_key [EASEL_IDEMPOTENCY_KEY_MAX + 1];
    char            *body_cache;
    size_t           body_cache_len;
} s_call_t;

static void s_idem_store (s_call_t *c, int status, const char *ctype, const char *body, size_t len);
static int s_resolve_file (void *arg, const char *id, const char *param, char sha256 [65], api_error_t *e);

/* connections civetweb has handed to a worker thread and not yet closed */
static atomic_int s_connections;

/* ---- responses ----------------------------------------------------------- */

static const char *
s_reason (int status)
{
    switch (status) {
        case 200: return "OK";
        case 202: return "Accepted";
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
static int
s_reply (s_call_t *c, int status, const char *ctype, const char *extra, const char *body, size_t len)
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
static int
s_reply_json (s_call_t *c, int status, json_t *obj, const char *extra)
{
    size_t len = 0;
    char *text = obj ? render_json_dump (obj, &len) : NULL;
    json_decref (obj);
    if (!text) {
        static const char oom [] = "{\"error\":{\"type\":\"api_error\",\"code\":\"internal_error\","
                                   "\"message\":\"An internal error occurred.\"}}";
        log_error ("cannot build a JSON response", "request_id", c->request_id, NULL);
        return s_reply (c, 500, "application/json", NULL, oom, sizeof oom - 1);
    }
    int rc = s_reply (c, status, "application/json", extra, text, len);
    free (text);
    return rc;
}

static int
s_reply_error (s_call_t *c, const api_error_t *e, const char *extra)
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
    return s_reply_json (c, e->status, obj, headers);
}

/* Logs `reason` with the request id and fills e with a 500 that says neither. */
static int
s_internal (s_call_t *c, api_error_t *e, const char *reason)
{
    log_error ("internal error", "request_id", c->request_id, "reason", reason, NULL);
    return api_error_set (e, 500, "internal_error", NULL,
                          "An internal error occurred; quote request id %s when asking for help.",
                          c->request_id);
}

/* ---- request pieces ------------------------------------------------------ */

/* Fills e with the 429 of rate class cls. */
static int
s_rate_limited (s_call_t *c, rate_class_t cls, int retry_s, api_error_t *e)
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
static void
s_auth_failed (s_call_t *c, int64_t now, api_error_t *e)
{
    rate_class_t fail = RATE_AUTH_FAIL, refused;
    int retry = 0;
    if (rate_limit_take (c->gw->limits, mg_get_request_info (c->conn)->remote_addr, &fail, 1, now,
                         &retry, &refused))
        s_rate_limited (c, RATE_AUTH_FAIL, retry, e);
}

/* 0 while the client address may still fail authentication; -1 with e the
   429 once its auth_fail bucket is empty (then nothing is asked of the bus). */
static int
s_auth_budget (s_call_t *c, int64_t now, api_error_t *e)
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
static int
s_auth (s_call_t *c, api_error_t *e)
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
        if ((rc = s_auth_budget (c, now, e)) == 0
        &&  (rc = key_cache_fetch (c->gw->keys, c->gw->pool, c->auth, now, c->account, e))
        &&  e->status == 401)
            s_auth_failed (c, now, e);
    }
    else
    if (known == KEY_CACHE_INVALID) {
        if (rc == 0)
            rc = api_error_set (e, 401, "invalid_api_key", NULL, "Invalid API key provided.");
        s_auth_failed (c, now, e);
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
static int
s_bus (s_call_t *c, int cmd, const msgpack_sbuffer *body, const char *rid, int expect,
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
            return s_internal (c, e, err);
        if (em.status < 400 || em.status > 599)
            rc = s_internal (c, e, "scheduler error with a status outside 400..599");
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
        return s_internal (c, e, "unexpected reply command from the scheduler");
    }
    return 0;
}

/* GET_RENDER with the request's key, or, when link is given, with a review
   link and no key: the link's own render (link_of NULL), or the earlier
   render the link names as since (link_of the link's render). */
static int
s_get_render_as (s_call_t *c, const char *id, const review_link_t *link, const char *link_of,
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
    int rc = proto_get_encode (&g, &sb) ? s_internal (c, e, "GET_RENDER encoding failed")
           : s_bus (c, PROTO_GET_RENDER, &sb, g.rid, PROTO_RENDER, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return -1;
    char err [PROTO_ERR_MAX];
    rc = proto_render_decode ((const char *) zframe_data (reply), zframe_size (reply), r, err);
    zframe_destroy (&reply);
    return rc ? s_internal (c, e, err) : 0;
}

static int
s_get_render (s_call_t *c, const char *id, proto_render_t *r, api_error_t *e)
{
    return s_get_render_as (c, id, NULL, NULL, r, e);
}

/* Waits until r leaves "processing" or deadline (monotonic ms), replacing *r
   with fresh copies. The event watcher wakes it early; it re-asks the
   scheduler at least every RECHECK_MS since a PUB message may be lost. A
   failed re-check ends the wait with *r as it was. Returns -1 without
   waiting when r is still processing and every waiting place is taken
   (--max-waiters), else 0. */
static int
s_wait_final (s_call_t *c, proto_render_t *r, int64_t deadline)
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
        proto_render_t fresh;
        api_error_t e;
        if (s_get_render (c, r->id, &fresh, &e))
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
static char *
s_render_text (s_call_t *c, int status, const proto_render_t *r, size_t *len)
{
    if (status == 202)
        return render_json_accepted (r->id, len);
    json_t *obj = render_json_build (r, c->gw->public_url);
    char *text = obj ? render_json_dump (obj, len) : NULL;
    json_decref (obj);
    return text;
}

static int
s_reply_render (s_call_t *c, int status, const proto_render_t *r)
{
    size_t len = 0;
    char *text = s_render_text (c, status, r, &len);
    if (!text) {
        api_error_t e;
        s_internal (c, &e, "cannot build the render JSON");
        return s_reply_error (c, &e, NULL);
    }
    int rc = s_reply (c, status, "application/json", NULL, text, len);
    free (text);
    return rc;
}

/* Reads the whole body (Content-Length already checked against the cap). */
static int
s_read_body (s_call_t *c, char **out, size_t *out_len, api_error_t *e)
{
    if (c->body_cache) {           /* read already, to fingerprint a keyed POST */
        *out = malloc (c->body_cache_len + 1);
        if (!*out)
            return s_internal (c, e, "out of memory copying the body");
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
        return s_internal (c, e, "out of memory reading the body");
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

static int
s_check_json_body (s_call_t *c, api_error_t *e)
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

/* ---- routes -------------------------------------------------------------- */

/* ---- idempotency keys (CONTRACT 5) -----------------------------------------
   The gateway checks the header, fingerprints the canonical body (sha256 of
   the JSON with sorted keys, compact: key order and whitespace do not
   matter) and hands both to the scheduler, which owns the key rows. */

/* Idempotency-Key header into key ("" when absent). 400 unless 1..255
   printable ASCII characters. */
static int
s_idem_key (s_call_t *c, char key [EASEL_IDEMPOTENCY_KEY_MAX + 1], api_error_t *e)
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
static int
s_fingerprint (const char *body, size_t len, char fp [65])
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
static void
s_idem_fill (s_call_t *c, const char *key, const char *fp, bool sync,
             char out_key [EASEL_IDEMPOTENCY_KEY_MAX + 1], char out_fp [65], int64_t *hold_ms)
{
    c->accept_replay = key [0] != '\0';
    snprintf (out_key, EASEL_IDEMPOTENCY_KEY_MAX + 1, "%s", key);
    snprintf (out_fp, 65, "%s", fp);
    *hold_ms = (sync ? c->gw->sync_wait_ms : 0) + c->gw->request_timeout_ms;
}

/* Writes a REPLAY reply (consumed) byte for byte with Idempotent-Replayed. */
static int
s_reply_replay (s_call_t *c, zframe_t **reply)
{
    proto_body_t b;
    char err [PROTO_ERR_MAX];
    int rc = proto_body_decode ((const char *) zframe_data (*reply), zframe_size (*reply), &b, err);
    zframe_destroy (reply);
    if (rc) {
        api_error_t e;
        s_internal (c, &e, err);
        return s_reply_error (c, &e, NULL);
    }
    rc = s_reply (c, b.status, "application/json", "Idempotent-Replayed: true\r\n",
                  b.body, strlen (b.body));
    proto_body_free (&b);
    return rc;
}

/* Answers a keyed request whose answer the scheduler could not decide alone
   (a sync create, a cancel): stores the body first (IDEM_COMPLETE), so a
   retry after this answer replays it instead of meeting a 409. A failed
   store is logged; the row then falls back as job_store.h says. */
static int s_reply_keyed_text (s_call_t *c, const char *scope, const char *key, int status,
                               char *text, size_t len);

static int
s_reply_keyed (s_call_t *c, const char *scope, const char *key, int status, const proto_render_t *r)
{
    size_t len = 0;
    char *text = s_render_text (c, status, r, &len);
    if (!text)
        return s_reply_render (c, status, r);
    return s_reply_keyed_text (c, scope, key, status, text, len);
}

/* s_reply_keyed with the answer's JSON text made already (consumed). */
static int
s_reply_keyed_text (s_call_t *c, const char *scope, const char *key, int status,
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
    ||  s_bus (c, PROTO_IDEM_COMPLETE, &sb, ic.rid, PROTO_ACK, &reply, &e))
        log_warn ("idempotent response not stored", "request_id", c->request_id, NULL);
    zframe_destroy (&reply);
    msgpack_sbuffer_destroy (&sb);
    int rc = s_reply (c, status, "application/json", NULL, ic.body, len);
    free (ic.body);
    return rc;
}

/* Any other keyed POST: claims the key before the route runs. 0 run the
   route (s_reply will store its answer); otherwise the status written (a
   replay, 409, 422, or an error). */
static int
s_idem_begin (s_call_t *c, const char *path, const char *key)
{
    api_error_t e;
    proto_idem_begin_t b;
    memset (&b, 0, sizeof b);
    if ((size_t) snprintf (b.scope, sizeof b.scope, "POST %s", path) >= sizeof b.scope)
        return 0;                  /* no route has so long a path: it answers 404 */
    if (s_auth (c, &e))
        return s_reply_error (c, &e, NULL);
    const struct mg_request_info *ri = mg_get_request_info (c->conn);
    if (ri->content_length > EASEL_MAX_BODY_BYTES) {
        api_error_set (&e, 413, "body_too_large", NULL,
                       "The request body is over the %d byte limit.", EASEL_MAX_BODY_BYTES);
        return s_reply_error (c, &e, NULL);
    }
    char *body = NULL;
    size_t len = 0;
    if ((ri->content_length > 0 || mg_get_header (c->conn, "Transfer-Encoding"))
    &&  s_read_body (c, &body, &len, &e))
        return s_reply_error (c, &e, NULL);
    c->body_cache = body;
    c->body_cache_len = len;
    /* a JSON body too deep to parse is refused here; other bytes (a deep
       one included) are fingerprinted as they are, never parsed deep */
    const char *ct = mg_get_header (c->conn, "Content-Type");
    if (ct && strncasecmp (ct, "application/json", 16) == 0 && api_json_depth_check (body, len, &e))
        return s_reply_error (c, &e, NULL);
    if (s_fingerprint (body, len, b.fp))        /* not JSON: the bytes themselves */
        util_sha256_hex (body ? body : "", len, b.fp);
    proto_id_new ("rid_", b.rid, sizeof b.rid);
    memcpy (b.auth, c->auth, sizeof b.auth);
    snprintf (b.key, sizeof b.key, "%s", key);
    b.hold_ms = c->gw->request_timeout_ms;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    c->accept_replay = true;
    int rc = proto_idem_begin_encode (&b, &sb) ? s_internal (c, &e, "IDEM_BEGIN encoding failed")
           : s_bus (c, PROTO_IDEM_BEGIN, &sb, b.rid, PROTO_ACK, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    c->accept_replay = false;
    if (rc == 1)
        return s_reply_replay (c, &reply);
    zframe_destroy (&reply);
    if (rc)
        return s_reply_error (c, &e, NULL);
    c->idem_open = true;
    snprintf (c->idem_scope, sizeof c->idem_scope, "%s", b.scope);
    snprintf (c->idem_key, sizeof c->idem_key, "%s", key);
    return 0;
}

/* s_reply's hook for a claimed key: stores the answer (a 2xx is kept for
   replays; anything else frees the key). A failed store is logged; the row
   then lapses after its hold and the key is free again. */
static void
s_idem_store (s_call_t *c, int status, const char *ctype, const char *body, size_t len)
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
    ||  s_bus (c, PROTO_IDEM_COMPLETE, &sb, ic.rid, PROTO_ACK, &reply, &e))
        log_warn ("idempotent response not stored", "request_id", c->request_id, NULL);
    zframe_destroy (&reply);
    msgpack_sbuffer_destroy (&sb);
    free (ic.body);
}

/* Sends a create built in cr (CREATE_RENDER or CREATE_CAPTURE; cr is freed
   here) and, for a sync one, waits until it leaves processing or the sync wait
   ends. 0 with r filled (the caller frees it); 1 when the scheduler answered
   with a stored idempotent replay, left in *replay; -1 with e filled. */
static int
s_submit_create (s_call_t *c, int cmd, proto_create_render_t *cr, proto_render_t *r,
                 zframe_t **replay, api_error_t *e)
{
    proto_id_new ("rid_", cr->rid, sizeof cr->rid);
    memcpy (cr->auth, c->auth, sizeof cr->auth);
    snprintf (cr->req, sizeof cr->req, "%s", c->request_id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_create_render_encode (cr, &sb) ? s_internal (c, e, "create encoding failed")
           : s_bus (c, cmd, &sb, cr->rid, PROTO_RENDER, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    bool sync = cr->sync;
    proto_create_render_free (cr);
    if (rc == 1) {
        *replay = reply;
        return 1;
    }
    if (rc)
        return -1;
    char err [PROTO_ERR_MAX];
    rc = proto_render_decode ((const char *) zframe_data (reply), zframe_size (reply), r, err);
    zframe_destroy (&reply);
    if (rc) {
        s_internal (c, e, err);
        return -1;
    }
    /* no waiting place left: the render is accepted, answered 202 like async */
    if (sync)
        (void) s_wait_final (c, r, util_mono_ms () + c->gw->sync_wait_ms);
    return 0;
}

static int
s_create_render (s_call_t *c)
{
    api_error_t e;
    char *body = NULL;
    size_t len = 0;
    char key [EASEL_IDEMPOTENCY_KEY_MAX + 1], fp [65] = "";
    if (s_auth (c, &e) || s_idem_key (c, key, &e) || s_check_json_body (c, &e)
    ||  s_read_body (c, &body, &len, &e))
        return s_reply_error (c, &e, NULL);
    proto_create_render_t cr;
    int rc = render_request_parse_files (body, len, s_resolve_file, c, &cr, &e);
    if (rc == 0 && key [0] && s_fingerprint (body, len, fp)) {
        proto_create_render_free (&cr);
        rc = s_internal (c, &e, "cannot fingerprint the request");
    }
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    s_idem_fill (c, key, fp, cr.sync, cr.idem_key, cr.idem_fp, &cr.idem_hold_ms);
    bool sync = cr.sync;
    proto_render_t r;
    zframe_t *replay = NULL;
    rc = s_submit_create (c, PROTO_CREATE_RENDER, &cr, &r, &replay, &e);
    if (rc == 1)
        return s_reply_replay (c, &replay);
    if (rc)
        return s_reply_error (c, &e, NULL);
    int status = strcmp (r.status, "processing") == 0 ? 202 : 200;
    /* a keyed sync create is in flight until its answer is stored for replays */
    rc = sync && key [0] ? s_reply_keyed (c, "POST /v1/renders", key, status, &r)
                         : s_reply_render (c, status, &r);
    proto_render_free (&r);
    return rc;
}

/* GET of a render or a job: auth, the id's prefix, an optional ?wait=S (up to
   WAIT_MAX_S) that holds the answer until the object leaves processing. 0 with
   r filled (the caller frees it); -1 with e filled. */
static int
s_fetch_waited (s_call_t *c, const char *id, const char *prefix, const char *noun,
                proto_render_t *r, api_error_t *e)
{
    if (s_auth (c, e))
        return -1;
    if (!proto_id_valid (id, prefix)) {
        api_error_set (e, 404, "resource_missing", "id", "No such %s: '%.40s'.", noun, id);
        return -1;
    }
    int64_t wait_s = 0;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char value [16];
    if (qs && mg_get_var (qs, strlen (qs), "wait", value, sizeof value) != -1
    &&  util_parse_i64 (value, 0, WAIT_MAX_S, &wait_s)) {
        api_error_set (e, 422, "parameter_invalid", "wait", "wait is a whole number of seconds, 0 to 60.");
        return -1;
    }
    if (s_get_render (c, id, r, e)) {
        if (e->status == 404)
            api_error_set (e, 404, "resource_missing", "id", "No such %s: '%.40s'.", noun, id);
        return -1;
    }
    if (wait_s > 0 && s_wait_final (c, r, util_mono_ms () + wait_s * 1000)) {
        proto_render_free (r);
        api_error_set (e, 503, "too_many_waiting", "wait",
                       "Too many requests are waiting; retry shortly, or poll without wait.");
        return -1;
    }
    return 0;
}

static int
s_show_render (s_call_t *c, const char *id)
{
    api_error_t e;
    proto_render_t r;
    /* a finished render without a webhook, asked again with the same key and
       no query: answered from the cache (render_cache.h) */
    const char *qs = mg_get_request_info (c->conn)->query_string;
    bool plain = !qs || !qs [0];
    if (plain && s_auth (c, &e) == 0) {
        size_t len = 0;
        char *cached = render_cache_get (c->auth, id, util_mono_ms (), &len);
        if (cached) {
            int rc = s_reply (c, 200, "application/json", NULL, cached, len);
            free (cached);
            return rc;
        }
    }
    if (s_fetch_waited (c, id, "rnd_", "render", &r, &e))
        return s_reply_error (c, &e, NULL);
    int rc;
    size_t len = 0;
    char *text = render_cache_eligible (&r) ? s_render_text (c, 200, &r, &len) : NULL;
    if (text) {
        render_cache_put (c->auth, r.id, text, len, util_mono_ms ());
        rc = s_reply (c, 200, "application/json", NULL, text, len);
        free (text);
    }
    else
        rc = s_reply_render (c, 200, &r);
    proto_render_free (&r);
    return rc;
}

/* ---- captures and jobs (CONTRACT 4) ---------------------------------------- */

/* The body of a job answer: the 202 of an accepted job (the same bytes the
   scheduler stores for an idempotent replay) or the job object. */
static char *
s_job_text (s_call_t *c, int status, const proto_render_t *r, size_t *len)
{
    if (status == 202)
        return job_json_accepted (r->id, len);
    json_t *obj = job_json_build (r, c->gw->public_url);
    char *text = obj ? render_json_dump (obj, len) : NULL;
    json_decref (obj);
    return text;
}

static int
s_reply_job (s_call_t *c, int status, const proto_render_t *r)
{
    size_t len = 0;
    char *text = s_job_text (c, status, r, &len);
    if (!text) {
        api_error_t e;
        s_internal (c, &e, "cannot build the job JSON");
        return s_reply_error (c, &e, NULL);
    }
    int rc = s_reply (c, status, "application/json", NULL, text, len);
    free (text);
    return rc;
}

/* POST /v1/capture: as a render create, the Idempotency-Key and the body's
   fingerprint ride on CREATE_CAPTURE and the scheduler writes the key row in
   the job's transaction (scope "POST /v1/capture"); a keyed sync capture
   stores the answer it gets (IDEM_COMPLETE) before writing it. */
static int
s_create_capture (s_call_t *c)
{
    api_error_t e;
    char *body = NULL;
    size_t len = 0;
    char key [EASEL_IDEMPOTENCY_KEY_MAX + 1], fp [65] = "";
    if (s_auth (c, &e) || s_idem_key (c, key, &e) || s_check_json_body (c, &e)
    ||  s_read_body (c, &body, &len, &e))
        return s_reply_error (c, &e, NULL);
    proto_create_render_t cr;
    int rc = capture_request_parse (body, len, &cr, &e);
    if (rc == 0 && key [0] && s_fingerprint (body, len, fp)) {
        proto_create_render_free (&cr);
        rc = s_internal (c, &e, "cannot fingerprint the request");
    }
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    s_idem_fill (c, key, fp, cr.sync, cr.idem_key, cr.idem_fp, &cr.idem_hold_ms);
    bool sync = cr.sync;
    proto_render_t r;
    zframe_t *replay = NULL;
    rc = s_submit_create (c, PROTO_CREATE_CAPTURE, &cr, &r, &replay, &e);
    if (rc == 1)
        return s_reply_replay (c, &replay);
    if (rc)
        return s_reply_error (c, &e, NULL);
    int status = strcmp (r.status, "processing") == 0 ? 202 : 200;
    if (sync && key [0]) {
        size_t tlen = 0;
        char *text = s_job_text (c, status, &r, &tlen);
        rc = text ? s_reply_keyed_text (c, "POST /v1/capture", key, status, text, tlen)
                  : s_reply_job (c, status, &r);
    }
    else
        rc = s_reply_job (c, status, &r);
    proto_render_free (&r);
    return rc;
}

/* GET /v1/jobs/{id}[?wait=S] */
static int
s_show_job (s_call_t *c, const char *id)
{
    api_error_t e;
    proto_render_t r;
    if (s_fetch_waited (c, id, "job_", "job", &r, &e))
        return s_reply_error (c, &e, NULL);
    int rc = s_reply_job (c, 200, &r);
    proto_render_free (&r);
    return rc;
}

/* ---- list, cancel, account ------------------------------------------------ */

/* GET /v1/renders?limit=1..100&starting_after=rnd_...: newest first. */
static int
s_list_renders (s_call_t *c)
{
    api_error_t e;
    if (s_auth (c, &e))
        return s_reply_error (c, &e, NULL);
    proto_list_t l;
    memset (&l, 0, sizeof l);
    l.limit = EASEL_LIST_LIMIT_DEFAULT;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char value [64];
    int64_t limit;
    int n;
    if (qs && (n = mg_get_var (qs, strlen (qs), "limit", value, sizeof value)) != -1) {
        if (n < 0 || util_parse_i64 (value, 1, EASEL_LIST_LIMIT_MAX, &limit)) {
            api_error_set (&e, 422, "parameter_invalid", "limit",
                           "limit must be a whole number from 1 to %d.", EASEL_LIST_LIMIT_MAX);
            return s_reply_error (c, &e, NULL);
        }
        l.limit = (int32_t) limit;
    }
    if (qs && (n = mg_get_var (qs, strlen (qs), "starting_after", value, sizeof value)) != -1) {
        if (n < 0 || !proto_id_valid (value, "rnd_")) {
            api_error_set (&e, 422, "parameter_invalid", "starting_after",
                           "starting_after must be a render id (rnd_ and 26 characters).");
            return s_reply_error (c, &e, NULL);
        }
        snprintf (l.starting_after, sizeof l.starting_after, "%s", value);
    }
    proto_id_new ("rid_", l.rid, sizeof l.rid);
    memcpy (l.auth, c->auth, sizeof l.auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_list_encode (&l, &sb) ? s_internal (c, &e, "LIST_RENDERS encoding failed")
           : s_bus (c, PROTO_LIST_RENDERS, &sb, l.rid, PROTO_RENDER_LIST, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return s_reply_error (c, &e, NULL);
    proto_render_list_t list;
    char err [PROTO_ERR_MAX];
    rc = proto_render_list_decode ((const char *) zframe_data (reply), zframe_size (reply), &list, err);
    zframe_destroy (&reply);
    if (rc) {
        s_internal (c, &e, err);
        return s_reply_error (c, &e, NULL);
    }
    json_t *data = json_array ();
    for (int32_t i = 0; data && i < list.nrenders; i++)
        if (json_array_append_new (data, render_json_build (&list.renders [i], c->gw->public_url))) {
            json_decref (data);
            data = NULL;
        }
    json_t *obj = data ? json_pack ("{s:s, s:s, s:o, s:b}", "object", "list", "url", "/v1/renders",
                                    "data", data, "has_more", list.has_more) : NULL;
    proto_render_list_free (&list);
    return s_reply_json (c, 200, obj, NULL);
}

/* POST /v1/renders/{id}/cancel: no parameters; an empty body or {}. */
static int
s_cancel_render (s_call_t *c, const char *id)
{
    api_error_t e;
    char key [EASEL_IDEMPOTENCY_KEY_MAX + 1];
    char *body = NULL;
    size_t len = 0;
    bool has_body = mg_get_request_info (c->conn)->content_length > 0
                 || mg_get_header (c->conn, "Transfer-Encoding");
    if (s_auth (c, &e) || s_idem_key (c, key, &e)
    ||  (has_body && (s_check_json_body (c, &e) || s_read_body (c, &body, &len, &e))))
        return s_reply_error (c, &e, NULL);
    json_error_t jerr;
    int rc = api_json_depth_check (body, len, &e);
    json_t *doc = len && !rc ? json_loadb (body, len, 0, &jerr) : NULL;
    if (rc == 0 && len && !doc)
        rc = api_error_set (&e, 400, "invalid_json", NULL, "The body is not valid JSON: %s"
                            " (line %d, column %d).", jerr.text, jerr.line, jerr.column);
    else
    if (doc && (!json_is_object (doc) || json_object_size (doc) > 0)) {
        const char *k = json_is_object (doc) ? json_object_iter_key (json_object_iter (doc)) : NULL;
        rc = api_error_set (&e, 422, "parameter_unknown", k ? k : NULL,
                            "Cancel takes no parameters; send no body or {}.");
    }
    json_decref (doc);
    char fp [65] = "";
    if (!rc && key [0] && s_fingerprint (body, len, fp))
        rc = s_internal (c, &e, "cannot fingerprint the request");
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return s_reply_error (c, &e, NULL);
    }
    proto_cancel_t cr;
    memset (&cr, 0, sizeof cr);
    proto_id_new ("rid_", cr.rid, sizeof cr.rid);
    memcpy (cr.auth, c->auth, sizeof cr.auth);
    snprintf (cr.id, sizeof cr.id, "%s", id);
    s_idem_fill (c, key, fp, false, cr.idem_key, cr.idem_fp, &cr.idem_hold_ms);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    rc = proto_cancel_encode (&cr, &sb) ? s_internal (c, &e, "CANCEL_RENDER encoding failed")
       : s_bus (c, PROTO_CANCEL_RENDER, &sb, cr.rid, PROTO_RENDER, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc == 1)
        return s_reply_replay (c, &reply);
    if (rc)
        return s_reply_error (c, &e, NULL);
    proto_render_t r;
    char err [PROTO_ERR_MAX];
    rc = proto_render_decode ((const char *) zframe_data (reply), zframe_size (reply), &r, err);
    zframe_destroy (&reply);
    if (rc) {
        s_internal (c, &e, err);
        return s_reply_error (c, &e, NULL);
    }
    char scope [PROTO_SHORT_MAX + PROTO_ID_MAX];
    snprintf (scope, sizeof scope, "POST /v1/renders/%s/cancel", r.id);
    rc = key [0] ? s_reply_keyed (c, scope, key, 200, &r) : s_reply_render (c, 200, &r);
    proto_render_free (&r);
    return rc;
}

/* GET /v1/account: balance, usage and the newest ledger entries (the
   scheduler builds the JSON). */
static int
s_show_account (s_call_t *c)
{
    api_error_t e;
    if (s_auth (c, &e))
        return s_reply_error (c, &e, NULL);
    proto_get_t g;
    memset (&g, 0, sizeof g);
    proto_id_new ("rid_", g.rid, sizeof g.rid);
    memcpy (g.auth, c->auth, sizeof g.auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_get_encode (&g, &sb) ? s_internal (c, &e, "GET_ACCOUNT encoding failed")
           : s_bus (c, PROTO_GET_ACCOUNT, &sb, g.rid, PROTO_ACCOUNT, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return s_reply_error (c, &e, NULL);
    proto_body_t b;
    char err [PROTO_ERR_MAX];
    rc = proto_body_decode ((const char *) zframe_data (reply), zframe_size (reply), &b, err);
    zframe_destroy (&reply);
    if (rc) {
        s_internal (c, &e, err);
        return s_reply_error (c, &e, NULL);
    }
    rc = s_reply (c, b.status, "application/json", NULL, b.body, strlen (b.body));
    proto_body_free (&b);
    return rc;
}

/* "<prefix>{id}<suffix>" -> id into out; false for other paths. */
static bool
s_shape (const char *path, const char *prefix, const char *suffix, char out [PROTO_ID_MAX])
{
    size_t n = strlen (path), p = strlen (prefix), s = strlen (suffix);
    if (n <= p + s || strncmp (path, prefix, p) != 0 || strcmp (path + n - s, suffix) != 0)
        return false;
    size_t idlen = n - p - s;
    if (idlen >= PROTO_ID_MAX || memchr (path + p, '/', idlen))
        return false;
    memcpy (out, path + p, idlen);
    out [idlen] = '\0';
    return true;
}

/* "/v1/renders/{id}/cancel" -> id into out; false for other paths. */
static bool
s_cancel_path (const char *path, char out [PROTO_ID_MAX])
{
    return s_shape (path, "/v1/renders/", "/cancel", out);
}

static int
s_reply_file (s_call_t *c, const proto_file_t *f)
{
    char etag [80];
    snprintf (etag, sizeof etag, "\"%s\"", f->sha256);
    char extra [EXTRA_MAX];
    snprintf (extra, sizeof extra, "ETag: %s\r\nCache-Control: public, max-age=31536000, immutable\r\n", etag);
    const char *inm = mg_get_header (c->conn, "If-None-Match");
    if (inm && (strstr (inm, etag) || strcmp (inm, "*") == 0))
        return s_reply (c, 304, NULL, extra, NULL, 0);
    return s_reply (c, 200, f->content_type [0] ? f->content_type : "application/octet-stream",
                    extra, (const char *) f->data, f->len);
}

static int
s_show_file (s_call_t *c, const char *path_id)
{
    api_error_t e;
    proto_get_t g;
    memset (&g, 0, sizeof g);
    /* "/v1/files/cap_....png": the extension is decoration */
    snprintf (g.id, sizeof g.id, "%.*s", (int) strcspn (path_id, "."), path_id);
    if (!proto_id_valid (g.id, "img_") && !proto_id_valid (g.id, "cap_")
    &&  !proto_id_valid (g.id, "file_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such file: '%.40s'.", path_id);
        return s_reply_error (c, &e, NULL);
    }
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char exp [24] = "", sig [80] = "";
    if (qs) {
        mg_get_var (qs, strlen (qs), "exp", exp, sizeof exp);
        mg_get_var (qs, strlen (qs), "sig", sig, sizeof sig);
    }
    bool signed_url = exp [0] || sig [0];
    if (signed_url && (util_parse_i64 (exp, 0, INT64_MAX, &g.exp) || strlen (sig) != 64
                       || strspn (sig, "0123456789abcdef") != 64)) {
        api_error_set (&e, 401, "invalid_signature", NULL, "The signed file URL is malformed.");
        s_auth_failed (c, util_mono_ms (), &e);
        return s_reply_error (c, &e, NULL);
    }
    memcpy (g.sig, sig, 65);     /* 64 hex digits + NUL, checked above */
    bool by_key = mg_get_header (c->conn, "Authorization") || !signed_url;
    if (by_key ? s_auth (c, &e) : s_auth_budget (c, util_mono_ms (), &e))
        return s_reply_error (c, &e, NULL);
    memcpy (g.auth, c->auth, sizeof g.auth);
    proto_id_new ("rid_", g.rid, sizeof g.rid);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_get_encode (&g, &sb) ? s_internal (c, &e, "GET_FILE encoding failed")
           : s_bus (c, PROTO_GET_FILE, &sb, g.rid, PROTO_FILE, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc && !by_key && e.status == 401)       /* a forged or expired signature */
        s_auth_failed (c, util_mono_ms (), &e);
    if (rc)
        return s_reply_error (c, &e, NULL);
    proto_file_t f;
    char err [PROTO_ERR_MAX];
    rc = proto_file_decode ((const char *) zframe_data (reply), zframe_size (reply), &f, err);
    zframe_destroy (&reply);
    if (rc) {
        s_internal (c, &e, err);
        return s_reply_error (c, &e, NULL);
    }
    rc = s_reply_file (c, &f);
    proto_file_free (&f);
    return rc;
}

/* ---- uploaded files (POST /v1/files, GET /v1/files?sha256=) ---------------- */

#define FORM_SLACK_BYTES 65536     /* multipart boundaries and part headers */

typedef struct {
    uint8_t *data;
    size_t   len, cap;
    int      parts;                /* "file" parts seen */
    bool     over, other;          /* over the byte cap; a part not named file */
    char     other_name [64];
} s_form_t;

static int
s_form_found (const char *key, const char *filename, char *path, size_t pathlen, void *arg)
{
    (void) filename, (void) path, (void) pathlen;
    s_form_t *f = arg;
    if (strcmp (key, "file") != 0) {
        f->other = true;
        snprintf (f->other_name, sizeof f->other_name, "%s", key);
        return MG_FORM_FIELD_STORAGE_ABORT;
    }
    if (++f->parts > 1)
        return MG_FORM_FIELD_STORAGE_ABORT;
    return MG_FORM_FIELD_STORAGE_GET;
}

static int
s_form_get (const char *key, const char *value, size_t len, void *arg)
{
    (void) key;
    s_form_t *f = arg;
    if (f->len + len > (size_t) EASEL_MAX_SOURCE_BYTES) {
        f->over = true;
        return MG_FORM_FIELD_HANDLE_ABORT;
    }
    if (f->len + len > f->cap) {
        size_t cap = f->cap ? f->cap : BODY_CHUNK;
        while (cap < f->len + len)
            cap *= 2;
        uint8_t *grown = realloc (f->data, cap);
        if (!grown) {
            f->over = true;
            return MG_FORM_FIELD_HANDLE_ABORT;
        }
        f->data = grown;
        f->cap = cap;
    }
    memcpy (f->data + f->len, value, len);
    f->len += len;
    return MG_FORM_FIELD_HANDLE_GET;
}

/* The file of a multipart body (civetweb parses it) into *out / *len. */
static int
s_read_form (s_call_t *c, uint8_t **out, size_t *len, api_error_t *e)
{
    s_form_t f;
    memset (&f, 0, sizeof f);
    struct mg_form_data_handler h = { s_form_found, s_form_get, NULL, &f };
    mg_handle_form_request (c->conn, &h);
    c->body_read = !f.over && !f.other && f.parts <= 1;
    int rc = f.over ? api_error_set (e, 413, "file_too_large", "file",
                                     "The file is over the %d byte limit.", EASEL_MAX_SOURCE_BYTES)
           : f.other ? api_error_set (e, 422, "parameter_unknown", "file",
                                      "The form takes one part named file, not '%.60s'.", f.other_name)
           : f.parts != 1 ? api_error_set (e, 422, f.parts ? "parameter_invalid" : "parameter_missing",
                                           "file", "The form takes exactly one part named file.")
           : 0;
    if (rc)
        free (f.data);
    else {
        *out = f.data;
        *len = f.len;
    }
    return rc;
}

/* Sends a FILE_PUT / FILE_FIND and answers the scheduler's JSON. */
static int
s_reply_file_json (s_call_t *c, int cmd, const msgpack_sbuffer *sb, const char *rid)
{
    api_error_t e;
    zframe_t *reply = NULL;
    if (s_bus (c, cmd, sb, rid, PROTO_JSON, &reply, &e))
        return s_reply_error (c, &e, NULL);
    proto_json_t js;
    char err [PROTO_ERR_MAX];
    int rc = proto_json_decode ((const char *) zframe_data (reply), zframe_size (reply), &js, err);
    zframe_destroy (&reply);
    if (rc) {
        s_internal (c, &e, err);
        return s_reply_error (c, &e, NULL);
    }
    rc = s_reply (c, js.status, "application/json", NULL, js.json, strlen (js.json));
    proto_json_free (&js);
    return rc;
}

/* POST /v1/files: raw image bytes or multipart/form-data with one file part.
   Content addressed, so an Idempotency-Key adds nothing and is not stored. */
static int
s_create_file (s_call_t *c)
{
    api_error_t e;
    const char *ctype = mg_get_header (c->conn, "Content-Type");
    int kind = 0;
    long long cl = mg_get_request_info (c->conn)->content_length;
    if (s_auth (c, &e) || (kind = file_upload_kind (ctype, &e)) < 0)
        return s_reply_error (c, &e, NULL);
    if (cl > (long long) EASEL_MAX_SOURCE_BYTES + (kind ? FORM_SLACK_BYTES : 0)) {
        api_error_set (&e, 413, "file_too_large", "file", "The file is over the %d byte limit.",
                       EASEL_MAX_SOURCE_BYTES);
        return s_reply_error (c, &e, NULL);
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    char *raw = NULL;
    if (kind ? s_read_form (c, &bytes, &len, &e) : s_read_body (c, &raw, &len, &e))
        return s_reply_error (c, &e, NULL);
    if (!kind)
        bytes = (uint8_t *) raw;
    proto_file_put_t put;
    memset (&put, 0, sizeof put);
    int rc;
    if (file_upload_check (bytes, len, kind ? NULL : ctype, &put, &e))
        rc = s_reply_error (c, &e, NULL);
    else {
        proto_id_new ("rid_", put.rid, sizeof put.rid);
        memcpy (put.auth, c->auth, sizeof put.auth);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        rc = proto_file_put_encode (&put, &sb)
           ? (s_internal (c, &e, "FILE_PUT encoding failed"), s_reply_error (c, &e, NULL))
           : s_reply_file_json (c, PROTO_FILE_PUT, &sb, put.rid);
        msgpack_sbuffer_destroy (&sb);
    }
    free (bytes);
    return rc;
}

/* GET /v1/files?sha256=<64 hex>: the account's file of those bytes, or 404. */
static int
s_find_file (s_call_t *c)
{
    api_error_t e;
    if (s_auth (c, &e))
        return s_reply_error (c, &e, NULL);
    const char *qs = mg_get_request_info (c->conn)->query_string;
    proto_file_find_t f;
    memset (&f, 0, sizeof f);
    char sha [80] = "";
    if (!qs || mg_get_var (qs, strlen (qs), "sha256", sha, sizeof sha) < 0)
        api_error_set (&e, 422, "parameter_missing", "sha256",
                       "Give sha256=<64 hex digits> to look a file up by its bytes.");
    else
    if (strlen (sha) != 64 || strspn (sha, "0123456789abcdefABCDEF") != 64)
        api_error_set (&e, 422, "parameter_invalid", "sha256", "sha256 is 64 hex digits.");
    else {
        for (int i = 0; i < 64; i++)
            f.sha256 [i] = (char) (sha [i] >= 'A' && sha [i] <= 'F' ? sha [i] - 'A' + 'a' : sha [i]);
        proto_id_new ("rid_", f.rid, sizeof f.rid);
        memcpy (f.auth, c->auth, sizeof f.auth);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        int rc = proto_file_find_encode (&f, &sb)
               ? (s_internal (c, &e, "FILE_FIND encoding failed"), s_reply_error (c, &e, NULL))
               : s_reply_file_json (c, PROTO_FILE_FIND, &sb, f.rid);
        msgpack_sbuffer_destroy (&sb);
        return rc;
    }
    return s_reply_error (c, &e, NULL);
}

/* render_request's resolver: the sha256 of the caller's live file id, or a
   422 file_not_found naming param (another account's file answers the same). */
static int
s_resolve_file (void *arg, const char *id, const char *param, char sha256 [65], api_error_t *e)
{
    s_call_t *c = arg;
    proto_file_find_t f;
    memset (&f, 0, sizeof f);
    if (!proto_id_valid (id, "file_"))
        return api_error_set (e, 422, "file_not_found", param, "No such file: '%.40s'.", id);
    snprintf (f.id, sizeof f.id, "%s", id);
    proto_id_new ("rid_", f.rid, sizeof f.rid);
    memcpy (f.auth, c->auth, sizeof f.auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_file_find_encode (&f, &sb) ? s_internal (c, e, "FILE_FIND encoding failed")
           : s_bus (c, PROTO_FILE_FIND, &sb, f.rid, PROTO_JSON, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    if (rc && e->status == 404)
        return api_error_set (e, 422, "file_not_found", param,
                              "No such file: '%.40s' (or it expired); upload it again.", id);
    if (rc)
        return -1;
    proto_json_t js;
    char err [PROTO_ERR_MAX];
    rc = proto_json_decode ((const char *) zframe_data (reply), zframe_size (reply), &js, err);
    zframe_destroy (&reply);
    if (rc)
        return s_internal (c, e, err);
    json_t *obj = json_loads (js.json, 0, NULL);
    const char *hex = json_string_value (json_object_get (obj, "sha256"));
    rc = hex && strlen (hex) == 64 ? (memcpy (sha256, hex, 65), 0)
                                   : s_internal (c, e, "file object without sha256");
    json_decref (obj);
    proto_json_free (&js);
    return rc;
}

/* GET /readyz needs no key, so its answer is kept READYZ_KEEP_MS: however
   many probes arrive, a gateway sends at most one PING per that time. */
#define READYZ_KEEP_MS 250
static pthread_mutex_t s_ready_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t s_ready_at;                 /* monotonic ms of the kept answer */
static bool    s_ready_known, s_ready_kept;
static int32_t s_ready_renderers;

/* The kept answer into *ready, *renderers when it is fresh; false if not. */
static bool
s_ready_get (bool *ready, int32_t *renderers)
{
    pthread_mutex_lock (&s_ready_lock);
    bool fresh = s_ready_known && util_mono_ms () - s_ready_at < READYZ_KEEP_MS;
    *ready = s_ready_kept;
    *renderers = s_ready_renderers;
    pthread_mutex_unlock (&s_ready_lock);
    return fresh;
}

static void
s_ready_put (bool ready, int32_t renderers)
{
    pthread_mutex_lock (&s_ready_lock);
    s_ready_at = util_mono_ms ();
    s_ready_known = true;
    s_ready_kept = ready;
    s_ready_renderers = renderers;
    pthread_mutex_unlock (&s_ready_lock);
}

static int
s_reply_ready (s_call_t *c, bool ready, int32_t renderers)
{
    json_t *obj = json_pack ("{s:b, s:i}", "ready", ready, "renderers", (int) renderers);
    return s_reply_json (c, ready ? 200 : 503, obj, ready ? NULL : "Retry-After: 1\r\n");
}

static int
s_readyz (s_call_t *c)
{
    bool ready;
    int32_t renderers;
    if (s_ready_get (&ready, &renderers))
        return s_reply_ready (c, ready, renderers);
    proto_simple_t ping;
    memset (&ping, 0, sizeof ping);
    proto_id_new ("rid_", ping.rid, sizeof ping.rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    api_error_t e;
    int rc = proto_simple_encode (&ping, &sb) ? s_internal (c, &e, "PING encoding failed")
           : s_bus (c, PROTO_PING, &sb, ping.rid, PROTO_PONG, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    proto_simple_t pong;
    memset (&pong, 0, sizeof pong);
    char err [PROTO_ERR_MAX];
    if (rc == 0 && proto_simple_decode ((const char *) zframe_data (reply), zframe_size (reply),
                                        &pong, err))
        log_warn ("bad PONG", "request_id", c->request_id, "reason", err, NULL);
    zframe_destroy (&reply);
    ready = rc == 0 && pong.renderers >= 1;
    s_ready_put (ready, pong.renderers);
    return s_reply_ready (c, ready, pong.renderers);
}

static int
s_not_allowed (s_call_t *c, const char *allow)
{
    api_error_t e;
    char extra [64];
    snprintf (extra, sizeof extra, "Allow: %s\r\n", allow);
    api_error_set (&e, 405, "method_not_allowed", NULL, "This URL accepts %s only.", allow);
    return s_reply_error (c, &e, extra);
}

/* The webhook routes (deliveries.c builds and sends the request). */
static int
s_webhook_route (s_call_t *c, deliveries_route_t route, const char *id, const char *method,
                 const char *allow)
{
    api_error_t e;
    if (strcmp (method, allow) != 0)
        return s_not_allowed (c, allow);
    char *body = NULL, *json = NULL;
    size_t len = 0;
    int want = deliveries_body (route), status = 0;
    bool has_body = mg_get_request_info (c->conn)->content_length > 0
                 || mg_get_header (c->conn, "Transfer-Encoding");
    if (s_auth (c, &e)
    ||  ((want == 2 || (want == 1 && has_body))
         && (s_check_json_body (c, &e) || s_read_body (c, &body, &len, &e))))
        return s_reply_error (c, &e, NULL);
    int rc = deliveries_call (c->gw->pool, route, c->auth, id, body, len, &status, &json, &e);
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    rc = s_reply (c, status, "application/json", NULL, json, strlen (json));
    free (json);
    return rc;
}

/* GET /v1/renders/{id}/archive: the fastlane zip of a finished render (render_archive.c). */
static int
s_render_archive (s_call_t *c, const char *id)
{
    api_error_t e;
    proto_render_t r;
    memset (&r, 0, sizeof r);
    /* ?exp=&sig= of a review link: the review page's download, no key */
    review_link_t rl;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    bool link = qs && strstr (qs, "sig=");
    if (link && review_link_parse (qs, &rl)) {
        api_error_set (&e, 403, "review_link_invalid", "sig", "The review link is malformed.");
        return s_reply_error (c, &e, NULL);
    }
    if ((link ? s_auth_budget (c, util_mono_ms (), &e) : s_auth (c, &e))
    ||  s_get_render_as (c, id, link ? &rl : NULL, NULL, &r, &e))
        return s_reply_error (c, &e, NULL);
    int rc;
    if (strcmp (r.status, "processing") == 0) {
        api_error_set (&e, 409, "render_processing", "id",
                       "The render is still processing; its archive exists once it is final.");
        rc = s_reply_error (c, &e, NULL);
    }
    else if ((rc = archive_stream (c->conn, c->gw->pool, link ? "" : c->auth, &r, c->gw->public_url,
                                   c->request_id, &e)) < 0)
        rc = s_reply_error (c, &e, NULL);
    proto_render_free (&r);
    return rc;
}

/* GET /v1/renders/{id}/changes?since=rnd_...: image by image against an
   earlier render of the same account (render_changes.h). */
static int
s_render_changes (s_call_t *c, const char *id)
{
    api_error_t e;
    if (s_auth (c, &e))
        return s_reply_error (c, &e, NULL);
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char since [PROTO_ID_MAX] = "";
    if (!qs || mg_get_var (qs, strlen (qs), "since", since, sizeof since) <= 0
    ||  !proto_id_valid (since, "rnd_")) {
        api_error_set (&e, 422, since [0] ? "parameter_invalid" : "parameter_missing", "since",
                       "since is the id of an earlier render of this account (rnd_...).");
        return s_reply_error (c, &e, NULL);
    }
    proto_render_t now, before;
    memset (&now, 0, sizeof now);
    memset (&before, 0, sizeof before);
    if (s_get_render_as (c, id, NULL, NULL, &now, &e))
        return s_reply_error (c, &e, NULL);
    if (s_get_render_as (c, since, NULL, NULL, &before, &e)) {
        proto_render_free (&now);
        if (e.status == 404)
            api_error_set (&e, 404, "resource_missing", "since", "No render %.40s in this account.", since);
        return s_reply_error (c, &e, NULL);
    }
    json_t *body = render_changes_build (&now, &before);
    proto_render_free (&now);
    proto_render_free (&before);
    return s_reply_json (c, 200, body, NULL);
}

/* ---- the review gate (review_page.h) ---------------------------------------- */

/* An HTML error page with status (review links are opened by people). */
static int
s_reply_html_error (s_call_t *c, int status, const char *title, const char *message)
{
    size_t len = 0;
    char *html = review_page_error (title, message, &len);
    if (!html) {
        api_error_t e;
        s_internal (c, &e, "cannot build an error page");
        return s_reply_error (c, &e, NULL);
    }
    int rc = s_reply (c, status, "text/html; charset=utf-8",
                      "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
                      "X-Content-Type-Options: nosniff\r\n", html, len);
    free (html);
    return rc;
}

/* The HTML page for an error e met while serving a review link. */
static int
s_review_link_failed (s_call_t *c, const api_error_t *e)
{
    if (e->status == 410)
        return s_reply_html_error (c, 410, "This review link has expired",
                                   "Ask the person who shared it for a new link.");
    if (e->status == 403 || e->status == 401)
        return s_reply_html_error (c, 403, "This review link is not valid",
                                   "The link was altered, revoked, or copied incompletely."
                                   " Ask the person who shared it for a new link.");
    if (e->status == 404)
        return s_reply_html_error (c, 404, "No such render",
                                   "This render does not exist any more.");
    if (e->status == 429)
        return s_reply_html_error (c, 429, "Too many attempts",
                                   "Too many invalid links were tried from this address; wait a minute.");
    return s_reply_html_error (c, e->status >= 500 ? e->status : 500, "The review page is unavailable",
                               "Easel could not load this render just now; reload in a moment.");
}

/* Checks a review link's query and loads its render (no key). -1 with e. */
static int
s_review_load (s_call_t *c, const char *id, review_link_t *link, proto_render_t *r,
               api_error_t *e)
{
    if (s_auth_budget (c, util_mono_ms (), e))
        return -1;
    if (!proto_id_valid (id, "rnd_")
    ||  review_link_parse (mg_get_request_info (c->conn)->query_string, link)) {
        api_error_set (e, 403, "review_link_invalid", "sig", "The review link is malformed.");
        s_auth_failed (c, util_mono_ms (), e);
        return -1;
    }
    if (s_get_render_as (c, id, link, NULL, r, e)) {
        if (e->status == 403)               /* forged or revoked: counts as a failed auth */
            s_auth_failed (c, util_mono_ms (), e);
        return -1;
    }
    return 0;
}

/* GET /v1/renders/{id}/review?exp=&sig=: the review page. */
static int
s_review_page (s_call_t *c, const char *id)
{
    api_error_t e;
    proto_render_t r, before;
    review_link_t link;
    if (s_review_load (c, id, &link, &r, &e))
        return s_review_link_failed (c, &e);
    /* a link minted with since marks each image against that render; when
       retention has removed it the page says so (changes stays NULL) */
    json_t *changes = NULL;
    memset (&before, 0, sizeof before);
    if (link.since [0] && s_get_render_as (c, link.since, &link, id, &before, &e) == 0)
        changes = render_changes_build (&r, &before);
    proto_render_free (&before);
    char nonce [REVIEW_NONCE_HEX + 1], headers [1536];   /* CSP: s_reply caps all at HEAD_MAX */
    review_page_nonce (nonce);
    review_page_headers (nonce, c->gw->public_url, headers, sizeof headers);
    size_t len = 0;
    char *html = review_page_html (&r, c->gw->public_url, &link, changes, nonce, &len);
    json_decref (changes);
    proto_render_free (&r);
    if (!html) {
        s_internal (c, &e, "cannot build the review page");
        return s_review_link_failed (c, &e);
    }
    int rc = s_reply (c, 200, "text/html; charset=utf-8", headers, html, len);
    free (html);
    return rc;
}

/* GET /v1/renders/{id}/review/status?exp=&sig=: the render object, for the
   page's live status (JSON errors: the page's script reads them). */
static int
s_review_status (s_call_t *c, const char *id)
{
    api_error_t e;
    proto_render_t r;
    review_link_t link;
    if (s_review_load (c, id, &link, &r, &e))
        return s_reply_error (c, &e, "Cache-Control: no-store\r\n");
    json_t *obj = review_page_render (&r, c->gw->public_url);
    proto_render_free (&r);
    return s_reply_json (c, 200, obj, "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n");
}

/* One REVIEW round trip (rq is freed here): 0 with the scheduler's status
   and JSON body (*json the caller frees), -1 with e. */
static int
s_review_call (s_call_t *c, proto_review_t *rq, int *status, char **json, api_error_t *e)
{
    proto_id_new ("rid_", rq->rid, sizeof rq->rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_review_encode (rq, &sb) ? s_internal (c, e, "REVIEW encoding failed")
           : s_bus (c, PROTO_REVIEW, &sb, rq->rid, PROTO_JSON, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    proto_review_free (rq);
    if (rc)
        return -1;
    proto_json_t j;
    char err [PROTO_ERR_MAX];
    rc = proto_json_decode ((const char *) zframe_data (reply), zframe_size (reply), &j, err);
    zframe_destroy (&reply);
    if (rc)
        return s_internal (c, e, err);
    *status = j.status;
    *json = j.json;
    j.json = NULL;
    proto_json_free (&j);
    return 0;
}

/* POST /v1/renders/{id}/review?exp=&sig=: the page's form. Cross-site posts
   are refused: Sec-Fetch-Site and Origin must say the gateway's own origin,
   and the form token must be the one bound to this page's nonce. */
static int
s_review_form (s_call_t *c, const char *id)
{
    api_error_t e;
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    char nonce [65] = "", token [65] = "";
    char *body = NULL;
    size_t len = 0;
    const struct mg_request_info *ri = mg_get_request_info (c->conn);
    const char *ct = mg_get_header (c->conn, "Content-Type");
    const char *accept = mg_get_header (c->conn, "Accept");
    bool json = accept && strstr (accept, "application/json");
    if (s_auth_budget (c, util_mono_ms (), &e))
        goto fail;
    review_link_t link;
    if (!proto_id_valid (id, "rnd_") || review_link_parse (ri->query_string, &link)) {
        api_error_set (&e, 403, "review_link_invalid", "sig", "The review link is malformed.");
        goto fail;
    }
    rq.exp = link.exp;
    memcpy (rq.sig, link.sig, sizeof rq.sig);
    memcpy (rq.link_by, link.by, sizeof rq.link_by);
    memcpy (rq.link_since, link.since, sizeof rq.link_since);
    if (!review_page_same_origin (mg_get_header (c->conn, "Origin"),
                                  mg_get_header (c->conn, "Sec-Fetch-Site"), c->gw->public_url)) {
        api_error_set (&e, 403, "cross_site_request", NULL,
                       "A decision is accepted only from the review page itself.");
        goto fail;
    }
    if (!ct || strncasecmp (ct, "application/x-www-form-urlencoded", 33) != 0) {
        api_error_set (&e, 415, "unsupported_media_type", NULL,
                       "The review form posts application/x-www-form-urlencoded.");
        goto fail;
    }
    if (ri->content_length > REVIEW_FORM_MAX) {
        api_error_set (&e, 413, "body_too_large", NULL, "A decision form is at most %d bytes.",
                       REVIEW_FORM_MAX);
        goto fail;
    }
    if (s_read_body (c, &body, &len, &e) || review_page_parse_form (body, len, &rq, nonce, token, &e))
        goto fail;
    if (!review_page_token_ok (rq.sig, id, nonce, token)) {
        api_error_set (&e, 403, "invalid_form_token", "token",
                       "The form token does not belong to this page; reload the page and decide again.");
        proto_review_free (&rq);
        goto fail;
    }
    free (body);
    body = NULL;
    snprintf (rq.id, sizeof rq.id, "%s", id);
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        goto fail;
    int rc;
    if (json)
        rc = s_reply (c, status, "application/json", "Cache-Control: no-store\r\n", answer, strlen (answer));
    else
    if (status == 200 || status == 409) {       /* a plain form post: back to the page */
        char extra [EXTRA_MAX + 512 + REVIEW_LINK_QUERY_MAX], q [REVIEW_LINK_QUERY_MAX] = "";
        review_link_query (&link, q, sizeof q);  /* parsed from a query that fit */
        snprintf (extra, sizeof extra, "Location: %s/v1/renders/%s/review?%s\r\n",
                  c->gw->public_url, id, q);
        rc = s_reply (c, 303, "text/plain; charset=utf-8", extra, "", 0);
    }
    else
        rc = s_reply_html_error (c, status, "The decision was not recorded",
                                 "Reload the review page and try again.");
    free (answer);
    return rc;
fail:
    free (body);
    proto_review_free (&rq);
    if (json || e.status == 422)
        return s_reply_error (c, &e, NULL);
    return e.status == 403 || e.status == 410 || e.status == 404 || e.status == 429
         ? s_review_link_failed (c, &e) : s_reply_error (c, &e, NULL);
}

/* POST /v1/renders/{id}/review (API key, JSON) and, with ?exp=&sig=, the
   review page's form. */
static int
s_review_decide (s_call_t *c, const char *id)
{
    const char *qs = mg_get_request_info (c->conn)->query_string;
    if (qs && (strstr (qs, "sig=") || strstr (qs, "exp=")))
        return s_review_form (c, id);
    api_error_t e;
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    char *body = NULL;
    size_t len = 0;
    if (s_auth (c, &e) || s_check_json_body (c, &e) || s_read_body (c, &body, &len, &e))
        return s_reply_error (c, &e, NULL);
    int rc = review_page_parse_json (body, len, &rq, &e);
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        proto_review_free (&rq);
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return s_reply_error (c, &e, NULL);
    }
    memcpy (rq.auth, c->auth, sizeof rq.auth);
    snprintf (rq.id, sizeof rq.id, "%s", id);
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        return s_reply_error (c, &e, NULL);
    rc = s_reply (c, status, "application/json", NULL, answer, strlen (answer));
    free (answer);
    return rc;
}

/* POST /v1/renders/{id}/review_links (API key): a new review link that
   names its reviewer (by, shown on the page and recorded as the decision's
   by) and/or an earlier render to mark changes against (since), with its
   own expiry. The scheduler signs it; 201 with the review_link object. */
static int
s_review_mint (s_call_t *c, const char *id)
{
    api_error_t e;
    char *body = NULL;
    size_t len = 0;
    bool has_body = mg_get_request_info (c->conn)->content_length > 0
                 || mg_get_header (c->conn, "Transfer-Encoding");
    if (s_auth (c, &e) || (has_body && (s_check_json_body (c, &e) || s_read_body (c, &body, &len, &e))))
        return s_reply_error (c, &e, NULL);
    review_link_t link;
    int64_t ttl = 0;
    int rc = review_page_parse_link (body, len, &link, &ttl, &e);
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return s_reply_error (c, &e, NULL);
    }
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    memcpy (rq.auth, c->auth, sizeof rq.auth);
    snprintf (rq.id, sizeof rq.id, "%s", id);
    snprintf (rq.action, sizeof rq.action, "link");
    memcpy (rq.link_by, link.by, sizeof rq.link_by);
    memcpy (rq.link_since, link.since, sizeof rq.link_since);
    rq.exp = (int64_t) time (NULL) + ttl;
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        return s_reply_error (c, &e, NULL);
    if (status != 201) {
        rc = s_reply (c, status, "application/json", NULL, answer, strlen (answer));
        free (answer);
        return rc;
    }
    json_error_t jerr;
    json_t *signed_ = json_loads (answer, 0, &jerr);
    free (answer);
    const char *sig = json_string_value (json_object_get (signed_, "sig"));
    link.exp = json_integer_value (json_object_get (signed_, "exp"));
    char q [REVIEW_LINK_QUERY_MAX], url [1024 + REVIEW_LINK_QUERY_MAX], expires [32];
    if (!sig || strlen (sig) != 64) {
        json_decref (signed_);
        s_internal (c, &e, "the scheduler answered a review link without a signature");
        return s_reply_error (c, &e, NULL);
    }
    memcpy (link.sig, sig, sizeof link.sig);
    json_decref (signed_);
    review_link_query (&link, q, sizeof q);
    snprintf (url, sizeof url, "%s/v1/renders/%s/review?%s", c->gw->public_url, id, q);
    util_iso8601 (link.exp * 1000, expires, sizeof expires);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:o, s:o, s:s}", "object", "review_link",
                             "render_id", id, "url", url,
                             "by", link.by [0] ? json_string (link.by) : json_null (),
                             "since", link.since [0] ? json_string (link.since) : json_null (),
                             "expires_at", expires);
    return s_reply_json (c, 201, obj, NULL);
}

/* POST /v1/renders/{id}/review_links/revoke (API key): every review link
   made so far stops working; the answer carries a new review_url. No
   parameters: an empty body or {}. */
static int
s_review_revoke (s_call_t *c, const char *id)
{
    api_error_t e;
    char *body = NULL;
    size_t len = 0;
    bool has_body = mg_get_request_info (c->conn)->content_length > 0
                 || mg_get_header (c->conn, "Transfer-Encoding");
    if (s_auth (c, &e) || (has_body && (s_check_json_body (c, &e) || s_read_body (c, &body, &len, &e))))
        return s_reply_error (c, &e, NULL);
    int rc = api_json_depth_check (body, len, &e);
    json_error_t jerr;
    json_t *doc = len && !rc ? json_loadb (body, len, 0, &jerr) : NULL;
    if (rc == 0 && len && !doc)
        rc = api_error_set (&e, 400, "invalid_json", NULL, "The body is not valid JSON: %s"
                            " (line %d, column %d).", jerr.text, jerr.line, jerr.column);
    else
    if (doc && (!json_is_object (doc) || json_object_size (doc) > 0)) {
        const char *k = json_is_object (doc) ? json_object_iter_key (json_object_iter (doc)) : NULL;
        rc = api_error_set (&e, 422, "parameter_unknown", k ? k : NULL,
                            "Revoking takes no parameters; send no body or {}.");
    }
    json_decref (doc);
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return s_reply_error (c, &e, NULL);
    }
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    memcpy (rq.auth, c->auth, sizeof rq.auth);
    snprintf (rq.id, sizeof rq.id, "%s", id);
    snprintf (rq.action, sizeof rq.action, "revoke");
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        return s_reply_error (c, &e, NULL);
    rc = s_reply (c, status, "application/json", NULL, answer, strlen (answer));
    free (answer);
    return rc;
}

/* GET /metrics: the process's registry in Prometheus text format. */
static int
s_reply_metrics (s_call_t *c)
{
    size_t len = 0;
    char *text = metrics_render (&len);
    if (!text) {
        api_error_t e;
        s_internal (c, &e, "cannot render metrics");
        return s_reply_error (c, &e, NULL);
    }
    int rc = s_reply (c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, text, len);
    free (text);
    return rc;
}

/* GET /openapi.json: docs/openapi.json as compiled in. */
static int
s_reply_openapi (s_call_t *c)
{
    size_t len = 0;
    const char *doc = openapi_document (&len);
    return s_reply (c, 200, "application/json", NULL, doc, len);
}

/* The id after `prefix` in path when it is one non-empty segment, else NULL. */
static const char *
s_segment (const char *path, const char *prefix)
{
    size_t n = strlen (prefix);
    if (strncmp (path, prefix, n) != 0 || !path [n] || strchr (path + n, '/'))
        return NULL;
    return path + n;
}

static int
s_handle (struct mg_connection *conn, void *cbdata, const char *request_id)
{
    s_call_t c;
    memset (&c, 0, sizeof c);
    c.conn = conn;
    c.gw = cbdata;
    snprintf (c.request_id, sizeof c.request_id, "%s", request_id);
    const struct mg_request_info *ri = mg_get_request_info (conn);
    const char *path = ri->local_uri ? ri->local_uri : "";
    const char *method = ri->request_method;
    bool get = strcmp (method, "GET") == 0;
    bool post = strcmp (method, "POST") == 0;
    const char *id;

    /* every POST: a malformed Idempotency-Key is refused before anything runs */
    char idem [EASEL_IDEMPOTENCY_KEY_MAX + 1];
    api_error_t idem_e;
    if (post && s_idem_key (&c, idem, &idem_e))
        return s_reply_error (&c, &idem_e, NULL);
    char keyed_id [PROTO_ID_MAX];
    if (post && idem [0] && strcmp (path, "/v1/renders") != 0 && strcmp (path, "/v1/capture") != 0
    &&  strcmp (path, "/v1/files") != 0 &&  !s_cancel_path (path, keyed_id)) {
        int rc = s_idem_begin (&c, path, idem);
        if (rc)
            return rc;
    }

    /* the last free thread answers at once, so a connection flood is told so
       rather than queued (probes and scrapes still served) */
    if (atomic_load (&s_connections) >= c.gw->threads
    &&  strcmp (path, "/healthz") != 0 && strcmp (path, "/metrics") != 0) {
        api_error_t e;
        api_error_set (&e, 503, "gateway_busy", NULL,
                       "Every connection slot of the gateway is taken; retry shortly.");
        return s_reply_error (&c, &e, NULL);
    }
    if (strcmp (path, "/healthz") == 0)
        return get ? s_reply_json (&c, 200, json_pack ("{s:b}", "ok", 1), NULL) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/metrics") == 0)         /* public: Prometheus scrapes it */
        return get ? s_reply_metrics (&c) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/openapi.json") == 0)    /* public: the API description */
        return get ? s_reply_openapi (&c) : s_not_allowed (&c, "GET");
    char wid [PROTO_ID_MAX];
    const char *wmethod = NULL;
    deliveries_route_t wroute = deliveries_match (path, wid, &wmethod);
    if (wroute != DELIVERIES_NONE)
        return s_webhook_route (&c, wroute, wid, method, wmethod);
    if (strcmp (path, "/readyz") == 0)
        return get ? s_readyz (&c) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/v1/presets") == 0)      /* public: the catalogue, no key needed */
        return get ? s_reply_json (&c, 200, presets_json_build (), NULL) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/v1/lint/rules") == 0)   /* public: the lint rule catalogue */
        return get ? s_reply_json (&c, 200, lint_rules_json_build (), NULL) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/v1/renders") == 0)
        return post ? s_create_render (&c) : get ? s_list_renders (&c) : s_not_allowed (&c, "GET, POST");
    char cancel_id [PROTO_ID_MAX];
    if (s_cancel_path (path, cancel_id))
        return post ? s_cancel_render (&c, cancel_id) : s_not_allowed (&c, "POST");
    if (strcmp (path, "/v1/account") == 0)
        return get ? s_show_account (&c) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/v1/capture") == 0)
        return post ? s_create_capture (&c) : s_not_allowed (&c, "POST");
    if ((id = s_segment (path, "/v1/jobs/")))
        return get ? s_show_job (&c, id) : s_not_allowed (&c, "GET");
    if ((id = s_segment (path, "/v1/renders/")))
        return get ? s_show_render (&c, id) : s_not_allowed (&c, "GET");
    char rid [PROTO_ID_MAX];
    if (s_shape (path, "/v1/renders/", "/review", rid))
        return get ? s_review_page (&c, rid) : post ? s_review_decide (&c, rid)
                   : s_not_allowed (&c, "GET, POST");
    if (s_shape (path, "/v1/renders/", "/review/status", rid))
        return get ? s_review_status (&c, rid) : s_not_allowed (&c, "GET");
    if (s_shape (path, "/v1/renders/", "/review_links", rid))
        return post ? s_review_mint (&c, rid) : s_not_allowed (&c, "POST");
    if (s_shape (path, "/v1/renders/", "/review_links/revoke", rid))
        return post ? s_review_revoke (&c, rid) : s_not_allowed (&c, "POST");
    if (s_shape (path, "/v1/renders/", "/changes", rid))
        return get ? s_render_changes (&c, rid) : s_not_allowed (&c, "GET");
    char archive_id [PROTO_ID_MAX];
    if (archive_match (path, archive_id))
        return get ? s_render_archive (&c, archive_id) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/v1/files") == 0)
        return post ? s_create_file (&c) : get ? s_find_file (&c) : s_not_allowed (&c, "GET, POST");
    if ((id = s_segment (path, "/v1/files/")))
        return get ? s_show_file (&c, id) : s_not_allowed (&c, "GET");
    api_error_t e;
    api_error_set (&e, 404, "route_not_found", NULL, "Unrecognized request URL (%.16s %.200s).",
                   method, path);
    return s_reply_error (&c, &e, NULL);
}

int
gateway_connection_open (const struct mg_connection *conn, void **conn_data)
{
    (void) conn;
    (void) conn_data;
    atomic_fetch_add (&s_connections, 1);
    return 0;
}

void
gateway_connection_close (const struct mg_connection *conn)
{
    (void) conn;
    atomic_fetch_sub (&s_connections, 1);
}

/* Every request: route it, then count it by route template, method and
   status, and time it (lock-free once the route's series exist). */
static metrics_family_t *s_requests, *s_seconds;
static pthread_once_t s_metrics_once = PTHREAD_ONCE_INIT;

static void
s_metrics_init (void)
{
    s_requests = metrics_counter ("easel_http_requests_total",
                                  "HTTP requests served, by route template, method and status.",
                                  "route,method,status");
    s_seconds = metrics_histogram ("easel_http_request_duration_seconds",
                                   "Time from routing a request to its response, by route template.",
                                   "route", metrics_latency_buckets, metrics_latency_nbuckets);
}

int
gateway_handle (struct mg_connection *conn, void *cbdata)
{
    pthread_once (&s_metrics_once, s_metrics_init);
    double start = metrics_now ();
    char request_id [PROTO_ID_MAX];
    proto_id_new ("req_", request_id, sizeof request_id);
    int status = s_handle (conn, cbdata, request_id);
    const struct mg_request_info *ri = mg_get_request_info (conn);
    const char *route = openapi_route_label (ri->local_uri);
    double seconds = metrics_now () - start;
    /* the access log (probes and scrapes excepted): the first line of a
       request's trail through the services; never the query string or a header */
    if (strcmp (route, "/metrics") != 0 && strcmp (route, "/healthz") != 0
    &&  strcmp (route, "/readyz") != 0) {
        char code [8], ms [24];
        snprintf (code, sizeof code, "%d", status);
        snprintf (ms, sizeof ms, "%.1f", seconds * 1000.0);
        (status >= 500 ? log_warn : log_info) ("request", "request_id", request_id,
            "method", ri->request_method, "route", route, "status", code, "ms", ms, NULL);
    }
    char code [8];
    snprintf (code, sizeof code, "%d", status);
    const char *method = strcmp (ri->request_method, "GET") == 0 ? "GET"
                       : strcmp (ri->request_method, "POST") == 0 ? "POST" : "other";
    metrics_inc (metrics_get (s_requests, route, method, code), 1);
    metrics_observe (metrics_get (s_seconds, route), seconds);
    return status;
}
