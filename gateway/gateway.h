/*  gateway.h: the HTTP side of easel-gateway: routes, auth, responses.

    civetweb calls gateway_handle on its worker threads for every request;
    all share the read-only gateway_t, its thread-safe api_pool_t (bus
    clients borrowed per round trip) and event_watch_t (waiting). Every
    response is written with one mg_write. */
#ifndef EASEL_GATEWAY_H
#define EASEL_GATEWAY_H

#include <civetweb.h>
#include "event_watch.h"
#include "key_cache.h"
#include "rate_limit.h"
#include "api_pool.h"

typedef struct {
    const char    *api_endpoint;       /* scheduler api ROUTER */
    const char    *public_url;         /* base of absolute URLs, no trailing slash */
    int            request_timeout_ms; /* one bus round trip */
    int            sync_wait_ms;       /* a sync render answers 202 after this */
    event_watch_t *events;
    render_state_t *state;             /* render state from the event stream; NULL: off */
    key_cache_t   *keys;               /* API key -> account (thread safe) */
    rate_limit_t  *limits;             /* per-account and per-address buckets (thread safe) */
    api_pool_t    *pool;
    int            threads;            /* civetweb num_threads */
} gateway_t;

/* civetweb request handler for every path; cbdata is the gateway_t. Returns
   the HTTP status written. */
int   gateway_handle (struct mg_connection *conn, void *cbdata);

/* civetweb init_connection / connection_close callbacks: they count the
   connections holding a worker thread, so the last free thread answers 503
   gateway_busy instead of leaving new connections queued. */
int   gateway_connection_open (const struct mg_connection *conn, void **conn_data);
void  gateway_connection_close (const struct mg_connection *conn);

#endif
