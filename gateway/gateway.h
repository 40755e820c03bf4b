/*  gateway.h: the HTTP side of easel-gateway: routes, auth, responses.

    civetweb calls gateway_handle on its worker threads for every request;
    each worker owns an api_client_t (created by gateway_thread_init, freed by
    gateway_thread_exit) and all share the read-only gateway_t plus its
    thread-safe event_watch_t. Every response is written with one mg_write. */
#ifndef EASEL_GATEWAY_H
#define EASEL_GATEWAY_H

#include <civetweb.h>
#include "event_watch.h"
#include "key_cache.h"
#include "rate_limit.h"

typedef struct {
    const char    *api_endpoint;       /* scheduler api ROUTER */
    const char    *public_url;         /* base of absolute URLs, no trailing slash */
    int            request_timeout_ms; /* one bus round trip */
    int            sync_wait_ms;       /* a sync render answers 202 after this */
    event_watch_t *events;
    key_cache_t   *keys;               /* API key -> account (thread safe) */
    rate_limit_t  *limits;             /* per-account and per-address buckets (thread safe) */
} gateway_t;

/* civetweb request handler for every path; cbdata is the gateway_t. Returns
   the HTTP status written. */
int   gateway_handle (struct mg_connection *conn, void *cbdata);

/* civetweb init_thread / exit_thread callbacks; the context's user data is
   the gateway_t. Workers get an api_client_t as their thread pointer. */
void *gateway_thread_init (const struct mg_context *ctx, int thread_type);
void  gateway_thread_exit (const struct mg_context *ctx, int thread_type, void *thread_pointer);

#endif
