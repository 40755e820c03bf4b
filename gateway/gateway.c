/*  gateway.c: the route table of easel-gateway and its dispatch, the probes
    (healthz, readyz, metrics, openapi.json) and the webhook routes (see
    gateway.h). Each request builds a call_t on the stack (call.h); the
    table picks the handler, which lives with its concern: renders.c,
    files.c, review_routes.c, deliveries.c.

    Thread: civetweb workers. Each request borrows a client of the gateway's
    api_pool_t for each round trip to the scheduler, none while it waits
    (event_watch_t wakes it). */
#include "call.h"
#include "routes.h"

/* connections civetweb has handed to a worker thread and not yet closed */
static atomic_int s_connections;

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
s_reply_ready (call_t *c, bool ready, int32_t renderers)
{
    json_t *obj = json_pack ("{s:b, s:i}", "ready", ready, "renderers", (int) renderers);
    return call_reply_json (c, ready ? 200 : 503, obj, ready ? NULL : "Retry-After: 1\r\n");
}

static int
route_readyz (call_t *c)
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
    int rc = proto_simple_encode (&ping, &sb) ? call_internal (c, &e, "PING encoding failed")
           : call_bus (c, PROTO_PING, &sb, ping.rid, PROTO_PONG, &reply, &e);
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

/* The webhook routes (deliveries.c builds and sends the request); the
   route's argument says which. */
static int
route_webhook (call_t *c)
{
    api_error_t e;
    deliveries_route_t route = (deliveries_route_t) c->route_arg;
    char *body = NULL, *json = NULL;
    size_t len = 0;
    int want = deliveries_body (route), status = 0;
    bool has_body = mg_get_request_info (c->conn)->content_length > 0
                 || mg_get_header (c->conn, "Transfer-Encoding");
    if (call_auth (c, &e)
    ||  ((want == 2 || (want == 1 && has_body))
         && (call_check_json_body (c, &e) || call_read_body (c, &body, &len, &e))))
        return call_reply_error (c, &e, NULL);
    int rc = deliveries_call (c->gw->pool, route, c->auth, c->id, body, len, &status, &json, &e);
    free (body);
    if (rc)
        return call_reply_error (c, &e, NULL);
    rc = call_reply (c, status, "application/json", NULL, json, strlen (json));
    free (json);
    return rc;
}

/* GET /healthz: the process answers; nothing else is asked. */
static int
route_healthz (call_t *c)
{
    return call_reply_json (c, 200, json_pack ("{s:b}", "ok", 1), NULL);
}

/* GET /v1/presets: the catalogue, public. */
static int
route_presets (call_t *c)
{
    return call_reply_json (c, 200, presets_json_build (), NULL);
}

/* GET /v1/lint/rules: the lint rule catalogue, public. */
static int
route_lint_rules (call_t *c)
{
    return call_reply_json (c, 200, lint_rules_json_build (), NULL);
}

/* GET /metrics: the process's registry in Prometheus text format. */
static int
route_metrics (call_t *c)
{
    size_t len = 0;
    char *text = metrics_render (&len);
    if (!text) {
        api_error_t e;
        call_internal (c, &e, "cannot render metrics");
        return call_reply_error (c, &e, NULL);
    }
    int rc = call_reply (c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, text, len);
    free (text);
    return rc;
}

/* GET /openapi.json: docs/openapi.json as compiled in. */
static int
route_openapi (call_t *c)
{
    size_t len = 0;
    const char *doc = openapi_document (&len);
    return call_reply (c, 200, "application/json", NULL, doc, len);
}

/* ---- the route table: it is the dispatcher ---------------------------------
   Every route the gateway serves, as OpenAPI path templates ("{id}" is one
   path segment); tests/integration/it_openapi.py checks it against
   docs/openapi.json and the live server. PROBE routes are answered even when
   every connection slot is taken; OWN_KEYS routes read the Idempotency-Key
   themselves (the scheduler writes the key row in the job's transaction),
   every other keyed POST goes through IDEM_BEGIN first. */
#define R(m, p, fn, arg, flags) { m, p, fn, arg, flags }
static const route_t s_routes [] = {
    R ("GET",  "/healthz",                            route_healthz,        0, ROUTE_PROBE),
    R ("GET",  "/readyz",                             route_readyz,         0, 0),
    R ("GET",  "/metrics",                            route_metrics,        0, ROUTE_PROBE),
    R ("GET",  "/openapi.json",                       route_openapi,        0, 0),
    R ("GET",  "/v1/presets",                         route_presets,        0, 0),
    R ("GET",  "/v1/lint/rules",                      route_lint_rules,     0, 0),
    R ("POST", "/v1/renders",                         route_create_render,  0, ROUTE_OWN_KEYS),
    R ("GET",  "/v1/renders",                         route_list_renders,   0, 0),
    R ("GET",  "/v1/renders/{id}",                    route_show_render,    0, 0),
    R ("POST", "/v1/renders/{id}/cancel",             route_cancel_render,  0, ROUTE_OWN_KEYS),
    R ("GET",  "/v1/renders/{id}/deliveries",         route_webhook,        DELIVERIES_LIST, 0),
    R ("GET",  "/v1/renders/{id}/archive",            route_render_archive, 0, 0),
    R ("GET",  "/v1/renders/{id}/changes",            route_render_changes, 0, 0),
    R ("POST", "/v1/renders/{id}/redeliver",          route_webhook,        DELIVERIES_REDELIVER, 0),
    R ("GET",  "/v1/renders/{id}/review",             route_review_page,    0, 0),
    R ("POST", "/v1/renders/{id}/review",             route_review_decide,  0, 0),
    R ("GET",  "/v1/renders/{id}/review/status",      route_review_status,  0, 0),
    R ("POST", "/v1/renders/{id}/review_links",       route_review_mint,    0, 0),
    R ("POST", "/v1/renders/{id}/review_links/revoke", route_review_revoke, 0, 0),
    R ("POST", "/v1/files",                           route_create_file,    0, ROUTE_OWN_KEYS),
    R ("GET",  "/v1/files",                           route_find_file,      0, 0),
    R ("GET",  "/v1/files/{id}",                      route_show_file,      0, 0),
    R ("GET",  "/v1/account",                         route_show_account,   0, 0),
    R ("POST", "/v1/capture",                         route_create_capture, 0, ROUTE_OWN_KEYS),
    R ("GET",  "/v1/jobs/{id}",                       route_show_job,       0, 0),
    R ("POST", "/v1/capture_profiles",                route_capture_profile, PROFILE_ROUTE_CREATE, 0),
    R ("GET",  "/v1/capture_profiles",                route_capture_profile, PROFILE_ROUTE_LIST, 0),
    R ("GET",  "/v1/capture_profiles/{id}",           route_capture_profile, PROFILE_ROUTE_SHOW, 0),
    R ("DELETE", "/v1/capture_profiles/{id}",         route_capture_profile, PROFILE_ROUTE_DELETE, 0),
    R ("GET",  "/v1/account/webhook_public_key",      route_webhook,        DELIVERIES_PUBLIC_KEY, 0),
    R ("POST", "/v1/account/webhook_signing",         route_webhook,        DELIVERIES_SIGNING, 0),
    R ("POST", "/v1/account/webhook_secret/rotate",   route_webhook,        DELIVERIES_ROTATE, 0),
    R ("POST", "/v1/webhooks/test",                   route_webhook,        DELIVERIES_TEST, 0),
    R ("GET",  "/v1/webhooks/test/{id}/deliveries",   route_webhook,        DELIVERIES_TEST_LIST, 0),
    R ("GET",  "/v1/jobs/{id}/deliveries",            route_webhook,        DELIVERIES_LIST, 0),
    R ("POST", "/v1/jobs/{id}/redeliver",             route_webhook,        DELIVERIES_REDELIVER, 0),
};
#undef R
#define S_NROUTES (sizeof s_routes / sizeof s_routes [0])

static int
s_handle (struct mg_connection *conn, void *cbdata, const char *request_id)
{
    call_t c;
    memset (&c, 0, sizeof c);
    c.conn = conn;
    c.gw = cbdata;
    snprintf (c.request_id, sizeof c.request_id, "%s", request_id);
    const struct mg_request_info *ri = mg_get_request_info (conn);
    const char *path = ri->local_uri ? ri->local_uri : "";
    const char *method = ri->request_method;
    bool post = strcmp (method, "POST") == 0;

    /* every POST: a malformed Idempotency-Key is refused before anything runs */
    char idem [EASEL_IDEMPOTENCY_KEY_MAX + 1];
    api_error_t e;
    if (post && call_idem_key (&c, idem, &e))
        return call_reply_error (&c, &e, NULL);
    char id [PROTO_ID_MAX], allow [ROUTE_ALLOW_MAX];
    const route_t *route = route_find (s_routes, S_NROUTES, method, path, id, allow, sizeof allow);
    /* the last free thread answers at once, so a connection flood is told so
       rather than queued (probes and scrapes still served) */
    if (atomic_load (&s_connections) >= c.gw->threads && !(route && (route->flags & ROUTE_PROBE))) {
        api_error_set (&e, 503, "gateway_busy", NULL,
                       "Every connection slot of the gateway is taken; retry shortly.");
        return call_reply_error (&c, &e, NULL);
    }
    if (!route && allow [0])
        return call_not_allowed (&c, allow);
    if (!route) {
        api_error_set (&e, 404, "route_not_found", NULL, "Unrecognized request URL (%.16s %.200s).",
                       method, path);
        return call_reply_error (&c, &e, NULL);
    }
    c.id = id;
    c.route_arg = route->arg;
    if (post && idem [0] && !(route->flags & ROUTE_OWN_KEYS)) {
        int rc = call_idem_begin (&c, path, idem);
        if (rc)
            return rc;
    }
    return route->fn (&c);
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
    const char *route = route_label (s_routes, S_NROUTES, ri->local_uri);
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
                       : strcmp (ri->request_method, "POST") == 0 ? "POST"
                       : strcmp (ri->request_method, "DELETE") == 0 ? "DELETE" : "other";
    metrics_inc (metrics_get (s_requests, route, method, code), 1);
    metrics_observe (metrics_get (s_seconds, route), seconds);
    return status;
}
