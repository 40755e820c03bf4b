/*  gateway.c: routes, auth and responses of easel-gateway (see gateway.h).

    Thread: civetweb workers. Each request builds an s_call_t on the stack;
    the worker's api_client_t (its thread pointer) carries requests to the
    scheduler. Every response is assembled in one buffer and written with one
    mg_write (headers and body apart cost ~44 ms per response with keep-alive:
    Nagle plus delayed ACK). Internals never reach a client: a 500 says only
    the request id, and the log says the rest. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "gateway.h"
#include "api_client.h"
#include "render_request.h"
#include "render_json.h"
#include "log.h"
#include "util.h"

#define HEAD_MAX         2048      /* status line + headers of one response */
#define EXTRA_MAX        512       /* route-specific headers */
#define API_KEY_MAX      256       /* longest Authorization key accepted */
#define BODY_CHUNK       65536     /* first allocation for a body of unknown length */
#define RECHECK_MS       1000      /* a waiting request re-asks the scheduler this often */
#define WAIT_MAX_S       60        /* GET /v1/renders/{id}?wait= */

typedef struct {
    struct mg_connection *conn;
    const gateway_t *gw;
    api_client_t    *client;       /* the worker thread's, borrowed */
    char             request_id [PROTO_ID_MAX];
    char             auth [65];
    bool             body_read;    /* the request body was consumed */
} s_call_t;

/* ---- responses ----------------------------------------------------------- */

static const char *
s_reason (int status)
{
    switch (status) {
        case 200: return "OK";
        case 202: return "Accepted";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 409: return "Conflict";
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
                      close ? "Connection: close\r\n" : "");
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
    char headers [EXTRA_MAX];
    snprintf (headers, sizeof headers, "%s%s%s",
              e->status == 401 ? "WWW-Authenticate: Bearer realm=\"easel\"\r\n" : "",
              e->status == 503 || e->status == 409 || e->status == 429 ? "Retry-After: 1\r\n" : "",
              extra ? extra : "");
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

/* Authorization: Bearer sk_... -> c->auth (hex sha256 of the key). */
static int
s_auth (s_call_t *c, api_error_t *e)
{
    const char *h = mg_get_header (c->conn, "Authorization");
    if (!h)
        return api_error_set (e, 401, "missing_api_key", NULL,
                              "No API key provided; send Authorization: Bearer sk_...");
    if (strncasecmp (h, "Bearer ", 7) != 0)
        return api_error_set (e, 401, "invalid_api_key", NULL,
                              "Send the API key as Authorization: Bearer sk_...");
    const char *key = h + 7;
    key += strspn (key, " ");
    size_t len = strcspn (key, " \t");
    if (len < 4 || len > API_KEY_MAX || strncmp (key, "sk_", 3) != 0)
        return api_error_set (e, 401, "invalid_api_key", NULL, "Invalid API key provided.");
    util_sha256_hex (key, len, c->auth);
    return 0;
}

/* One round trip to the scheduler expecting reply command `expect`. An ERROR
   reply becomes e (its status, code, message and param); no reply is a 503. */
static int
s_bus (s_call_t *c, int cmd, const msgpack_sbuffer *body, const char *rid, int expect,
       zframe_t **reply, api_error_t *e)
{
    int got = 0;
    if (!c->client)
        return s_internal (c, e, "worker thread has no api client");
    if (api_client_call (c->client, cmd, body, rid, &got, reply))
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
    if (got != expect) {
        zframe_destroy (reply);
        return s_internal (c, e, "unexpected reply command from the scheduler");
    }
    return 0;
}

static int
s_get_render (s_call_t *c, const char *id, proto_render_t *r, api_error_t *e)
{
    proto_get_t g;
    memset (&g, 0, sizeof g);
    proto_id_new ("rid_", g.rid, sizeof g.rid);
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

/* Waits until r leaves "processing" or deadline (monotonic ms), replacing *r
   with fresh copies. The event watcher wakes it early; it re-asks the
   scheduler at least every RECHECK_MS since a PUB message may be lost. A
   failed re-check ends the wait with *r as it was. */
static void
s_wait_final (s_call_t *c, proto_render_t *r, int64_t deadline)
{
    while (strcmp (r->status, "processing") == 0) {
        int64_t left = deadline - util_mono_ms ();
        if (left <= 0)
            return;
        if (c->gw->events)
            event_watch_wait (c->gw->events, r->id, (int) (left < RECHECK_MS ? left : RECHECK_MS));
        proto_render_t fresh;
        api_error_t e;
        if (s_get_render (c, r->id, &fresh, &e))
            return;
        proto_render_free (r);
        *r = fresh;
    }
}

static int
s_reply_render (s_call_t *c, int status, const proto_render_t *r)
{
    if (status == 202) {
        char polling [PROTO_ID_MAX + 16];
        snprintf (polling, sizeof polling, "/v1/renders/%s", r->id);
        json_t *obj = json_pack ("{s:s, s:s, s:s, s:s}", "id", r->id, "object", "render",
                                 "status", "processing", "polling_url", polling);
        return s_reply_json (c, 202, obj, NULL);
    }
    return s_reply_json (c, status, render_json_build (r, c->gw->public_url), NULL);
}

/* Reads the whole body (Content-Length already checked against the cap). */
static int
s_read_body (s_call_t *c, char **out, size_t *out_len, api_error_t *e)
{
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

static int
s_create_render (s_call_t *c)
{
    api_error_t e;
    char *body = NULL;
    size_t len = 0;
    if (s_auth (c, &e) || s_check_json_body (c, &e) || s_read_body (c, &body, &len, &e))
        return s_reply_error (c, &e, NULL);
    proto_create_render_t cr;
    int rc = render_request_parse (body, len, &cr, &e);
    free (body);
    if (rc)
        return s_reply_error (c, &e, NULL);
    proto_id_new ("rid_", cr.rid, sizeof cr.rid);
    memcpy (cr.auth, c->auth, sizeof cr.auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    rc = proto_create_render_encode (&cr, &sb) ? s_internal (c, &e, "CREATE_RENDER encoding failed")
       : s_bus (c, PROTO_CREATE_RENDER, &sb, cr.rid, PROTO_RENDER, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    bool sync = cr.sync;
    proto_create_render_free (&cr);
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
    if (sync)
        s_wait_final (c, &r, util_mono_ms () + c->gw->sync_wait_ms);
    int status = strcmp (r.status, "processing") == 0 ? 202 : 200;
    rc = s_reply_render (c, status, &r);
    proto_render_free (&r);
    return rc;
}

static int
s_show_render (s_call_t *c, const char *id)
{
    api_error_t e;
    if (s_auth (c, &e))
        return s_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return s_reply_error (c, &e, NULL);
    }
    int64_t wait_s = 0;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char value [16];
    if (qs && mg_get_var (qs, strlen (qs), "wait", value, sizeof value) != -1
    &&  util_parse_i64 (value, 0, WAIT_MAX_S, &wait_s)) {
        api_error_set (&e, 422, "parameter_invalid", "wait", "wait is a whole number of seconds, 0 to 60.");
        return s_reply_error (c, &e, NULL);
    }
    proto_render_t r;
    if (s_get_render (c, id, &r, &e))
        return s_reply_error (c, &e, NULL);
    if (wait_s > 0)
        s_wait_final (c, &r, util_mono_ms () + wait_s * 1000);
    int rc = s_reply_render (c, 200, &r);
    proto_render_free (&r);
    return rc;
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
        return s_reply_error (c, &e, NULL);
    }
    memcpy (g.sig, sig, 65);     /* 64 hex digits + NUL, checked above */
    if ((mg_get_header (c->conn, "Authorization") || !signed_url) && s_auth (c, &e))
        return s_reply_error (c, &e, NULL);
    memcpy (g.auth, c->auth, sizeof g.auth);
    proto_id_new ("rid_", g.rid, sizeof g.rid);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_get_encode (&g, &sb) ? s_internal (c, &e, "GET_FILE encoding failed")
           : s_bus (c, PROTO_GET_FILE, &sb, g.rid, PROTO_FILE, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
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

static int
s_readyz (s_call_t *c)
{
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
    bool ready = rc == 0 && pong.renderers >= 1;
    json_t *obj = json_pack ("{s:b, s:i}", "ready", ready, "renderers", (int) pong.renderers);
    return s_reply_json (c, ready ? 200 : 503, obj, ready ? NULL : "Retry-After: 1\r\n");
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

/* The id after `prefix` in path when it is one non-empty segment, else NULL. */
static const char *
s_segment (const char *path, const char *prefix)
{
    size_t n = strlen (prefix);
    if (strncmp (path, prefix, n) != 0 || !path [n] || strchr (path + n, '/'))
        return NULL;
    return path + n;
}

int
gateway_handle (struct mg_connection *conn, void *cbdata)
{
    s_call_t c;
    memset (&c, 0, sizeof c);
    c.conn = conn;
    c.gw = cbdata;
    c.client = mg_get_thread_pointer (conn);
    proto_id_new ("req_", c.request_id, sizeof c.request_id);
    const struct mg_request_info *ri = mg_get_request_info (conn);
    const char *path = ri->local_uri ? ri->local_uri : "";
    const char *method = ri->request_method;
    bool get = strcmp (method, "GET") == 0;
    bool post = strcmp (method, "POST") == 0;
    const char *id;

    if (strcmp (path, "/healthz") == 0)
        return get ? s_reply_json (&c, 200, json_pack ("{s:b}", "ok", 1), NULL) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/readyz") == 0)
        return get ? s_readyz (&c) : s_not_allowed (&c, "GET");
    if (strcmp (path, "/v1/renders") == 0)
        return post ? s_create_render (&c) : s_not_allowed (&c, "POST");
    if ((id = s_segment (path, "/v1/renders/")))
        return get ? s_show_render (&c, id) : s_not_allowed (&c, "GET");
    if ((id = s_segment (path, "/v1/files/")))
        return get ? s_show_file (&c, id) : s_not_allowed (&c, "GET");
    api_error_t e;
    api_error_set (&e, 404, "route_not_found", NULL, "Unrecognized request URL (%.16s %.200s).",
                   method, path);
    return s_reply_error (&c, &e, NULL);
}

void *
gateway_thread_init (const struct mg_context *ctx, int thread_type)
{
    if (thread_type != 1)
        return NULL;
    const gateway_t *gw = mg_get_user_data (ctx);
    api_client_t *client = api_client_new (gw->api_endpoint, gw->request_timeout_ms);
    if (!client)
        log_error ("cannot create an api client for a worker thread", NULL);
    return client;
}

void
gateway_thread_exit (const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
    (void) ctx;
    if (thread_type == 1) {
        api_client_t *client = thread_pointer;
        api_client_destroy (&client);
    }
}
