/*  main.c: easel-gateway, the civetweb REST API in front of the scheduler.

    Reads its settings table (config.h), starts the event watcher, the pool of bus clients
    and civetweb, then the main thread waits for SIGINT/SIGTERM (blocked in
    every thread, taken with sigwait) and stops everything in order: civetweb,
    then the pool and the watcher. Bad configuration: log_fatal; an HTTP
    address that cannot be bound: exit status 3 (easel up does not restart). */
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>
#include <sodium.h>
#include <curl/curl.h>
#include <civetweb.h>
#include "gateway.h"
#include "call.h"
#include "event_watch.h"
#include "http_error.h"
#include "key_cache.h"
#include "rate_limit.h"
#include "bus_security.h"
#include "config.h"
#include "easel_limits.h"
#include "log.h"
#include "util.h"

#define URL_MAX 512

/* Every connection is a descriptor: raises the soft RLIMIT_NOFILE towards
   threads + FD_MARGIN (as far as the hard limit allows) and warns when that
   is still short, since accept would then fail with connections to spare. */
#define FD_MARGIN 512
static void
s_fd_limit (int threads)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl))
        return;
    rlim_t want = (rlim_t) threads + FD_MARGIN;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
        getrlimit (RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want) {
        char have [24], need [24];
        snprintf (have, sizeof have, "%llu", (unsigned long long) rl.rlim_cur);
        snprintf (need, sizeof need, "%llu", (unsigned long long) want);
        log_warn ("file descriptor limit below --threads: raise ulimit -n", "nofile", have,
                  "wanted", need, NULL);
    }
}

int
main (int argc, char **argv)
{
    log_init ("gateway");
    const char *listen = NULL, *api = NULL, *events = NULL, *url = NULL;
    int64_t threads = 0, header_ms = 0, pool_size = 0, max_waiters = 0, timeout_ms = 0;
    int64_t sync_wait_ms = 0, key_ttl_ms = 0;
    bool no_render_state = false;
    const config_opt_t rows [] = {
        { .flag = "--listen", .env = "EASEL_LISTEN", .kind = CONFIG_TEXT, .text = EASEL_LISTEN_DEFAULT,
          .help = "the HTTP address (host:port)", .out_text = &listen },
        CONFIG_API_ENDPOINT (&api),
        CONFIG_EVENTS_ENDPOINT (&events),
        { .flag = "--public-url", .env = "EASEL_PUBLIC_URL", .kind = CONFIG_TEXT,
          .shown = "`http://` + listen address", .help = "the public base URL of signed links",
          .out_text = &url },
        { .flag = "--threads", .env = "EASEL_GATEWAY_THREADS", .kind = CONFIG_INT,
          .num = EASEL_GATEWAY_THREADS, .min = 1, .max = EASEL_GATEWAY_THREADS_MAX,
          .help = "connections served at once (one thread each)", .out_num = &threads },
        { .flag = "--header-timeout-ms", .env = "EASEL_HEADER_TIMEOUT_MS", .kind = CONFIG_INT,
          .num = EASEL_HEADER_TIMEOUT_MS, .min = 100, .max = 600000,
          .help = "a request's headers must all arrive within it (also each later socket read or write)",
          .out_num = &header_ms },
        { .flag = "--max-waiters", .env = "EASEL_MAX_WAITERS", .kind = CONFIG_INT,
          .num = EASEL_MAX_WAITERS, .min = 0, .max = 1000000,
          .help = "sync renders and `?wait=` long polls waiting at once", .out_num = &max_waiters },
        { .flag = "--api-clients", .env = "EASEL_GATEWAY_API_CLIENTS", .kind = CONFIG_INT,
          .num = EASEL_API_POOL_SIZE, .min = 1, .max = 1000,
          .help = "bus sockets shared by all request threads", .out_num = &pool_size },
        { .flag = "--request-timeout-ms", .env = "EASEL_REQUEST_TIMEOUT_MS", .kind = CONFIG_INT,
          .num = EASEL_REQUEST_TIMEOUT_MS, .min = 10, .max = 600000,
          .help = "one bus round trip, waiting for a free bus client included", .out_num = &timeout_ms },
        { .flag = "--sync-wait-ms", .env = "EASEL_SYNC_WAIT_MS", .kind = CONFIG_INT,
          .num = EASEL_SYNC_WAIT_MS, .min = 0, .max = 600000,
          .help = "a sync render answers 202 after this", .out_num = &sync_wait_ms },
        { .flag = "--key-cache-ttl-ms", .env = "EASEL_KEY_CACHE_TTL_MS", .kind = CONFIG_INT,
          .num = EASEL_KEY_CACHE_TTL_MS, .min = 0, .max = 3600000,
          .help = "how long an accepted API key is trusted without asking again, so how long a "
                  "revoked key may still work (0 asks the scheduler on every request); unknown keys "
                  "are remembered for at most 1 s", .out_num = &key_ttl_ms },
        { .flag = "--no-render-state", .env = "EASEL_NO_RENDER_STATE", .kind = CONFIG_BOOL,
          .help = "ask the scheduler for every `GET /v1/renders/{id}` instead of answering from the "
                  "render state kept from the event stream", .out_bool = &no_render_state },
        RATE_LIMIT_CONFIG_ROWS,
        BUS_SECURITY_CONFIG_CLIENT,
    };
    const config_table_t table = CONFIG_TABLE ("gateway", "The REST API in front of the scheduler.", rows);
    config_load (&table, argc, argv);
    char default_url [URL_MAX];
    snprintf (default_url, sizeof default_url, "http://%s", listen);
    char public_url [URL_MAX];
    if (!url)
        url = default_url;
    if (strlen (url) >= sizeof public_url || strncmp (url, "http", 4) != 0)
        log_fatal ("bad configuration: --public-url must be an http(s) URL", "value", url, NULL);
    snprintf (public_url, sizeof public_url, "%s", url);
    size_t n = strlen (public_url);
    while (n > 0 && public_url [n - 1] == '/')
        public_url [--n] = '\0';
    if (!*listen || strchr (listen, ' ') || strchr (listen, ','))
        log_fatal ("bad configuration: --listen must be host:port", "value", listen, NULL);

    s_fd_limit ((int) threads);

    /* Signals are taken by sigwait below; every thread started after this
       inherits the mask, and CZMQ must not install its own handler. */
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGINT);
    sigaddset (&stop, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
    /* the request log is a line per request: written in batches by one thread */
    if (log_writer_start ())
        log_warn ("cannot start the log writer: each line is written at once", NULL);
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    zsys_init ();
    const char *bus_endpoints [] = { api, events, NULL };
    char sec_err [BUS_SECURITY_ERR_MAX] = "";
    if (bus_security_init (argc, argv, BUS_ROLE_CLIENT, bus_endpoints, sec_err))
        log_fatal ("bad bus security configuration", "reason", sec_err, NULL);
    if (sodium_init () < 0 || curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        log_fatal ("cannot initialise libsodium or libcurl", NULL);

    /* auth before work: keys cached, every account and address rate limited */
    rate_rule_t rules [RATE_CLASSES];
    const char *bad_flag = NULL, *bad_value = NULL;
    if (rate_limit_config (argc, argv, rules, &bad_flag, &bad_value))
        log_fatal ("bad configuration: a rate limit is RATE:BURST (tokens a second, bucket size) or 0",
                   "flag", bad_flag, "value", bad_value, NULL);

    render_state_t *state = no_render_state ? NULL : render_state_new (public_url);
    if (!no_render_state && !state)
        log_fatal ("out of memory for the render state", NULL);
    gateway_t gw = {
        .api_endpoint = api, .public_url = public_url,
        .request_timeout_ms = (int) timeout_ms, .sync_wait_ms = (int) sync_wait_ms,
        .events = event_watch_new (events, state),
        .state = state,
        .keys = key_cache_new ((int) key_ttl_ms),
        .limits = rate_limit_new (rules),
        .pool = api_pool_new (api, (int) pool_size, (int) timeout_ms),
        .threads = (int) threads,
    };
    if (!gw.events || !gw.pool)
        log_fatal ("cannot start the event watcher or the api clients", "endpoint", events, NULL);
    if (!gw.keys || !gw.limits)
        log_fatal ("out of memory for the key cache or the rate limits", NULL);
    event_watch_set_max_waiters (gw.events, (int) max_waiters);
    /* the read lease: GETs answered from the state without a fence while it holds */
    if (gw.state && render_state_lease_start (gw.state, call_state_ack, &gw))
        log_warn ("cannot start the render state's acknowledgments: every lookup fences", NULL);

    /* civetweb 1.15 gives each connection a thread (on the stack size its
       build chose: 100 KB in Debian's) from first byte to close. A request's
       headers must all arrive within header_ms (it also bounds each later
       socket read or write), an idle kept-alive connection is closed after
       EASEL_KEEP_ALIVE_S (and every answer says so), so a slow or idle
       client holds a thread for seconds, and there are thousands of them. */
    char nthreads [16], request_timeout [16], keep_alive [16], queue [16], backlog [16];
    snprintf (nthreads, sizeof nthreads, "%d", (int) threads);
    snprintf (request_timeout, sizeof request_timeout, "%d", (int) header_ms);
    snprintf (keep_alive, sizeof keep_alive, "%d", EASEL_KEEP_ALIVE_S * 1000);
    snprintf (queue, sizeof queue, "%d", EASEL_CONNECTION_QUEUE);
    snprintf (backlog, sizeof backlog, "%d", EASEL_LISTEN_BACKLOG);
    const char *options [] = {
        "listening_ports", listen,
        "num_threads", nthreads,
        "tcp_nodelay", "1",
        "enable_keep_alive", "yes",
        "request_timeout_ms", request_timeout,
        "keep_alive_timeout_ms", keep_alive,
        "connection_queue", queue,
        "listen_backlog", backlog,
        NULL
    };
    struct mg_callbacks callbacks;
    memset (&callbacks, 0, sizeof callbacks);
    callbacks.init_connection = gateway_connection_open;
    callbacks.connection_close = gateway_connection_close;
    callbacks.http_error = gateway_http_error;
    mg_init_library (0);
    struct mg_context *ctx = mg_start (&callbacks, &gw, options);
    if (!ctx) {
        api_pool_destroy (&gw.pool);
        event_watch_destroy (&gw.events);      /* CZMQ's atexit check wants no live sockets */
        log_fatal_bind ("cannot start the HTTP server (address in use or invalid?)", "listen", listen, NULL);
    }
    mg_set_request_handler (ctx, "/", gateway_handle, &gw);
    log_info ("gateway listening", "listen", listen, "public_url", public_url, "api", api,
              "events", events, "threads", nthreads, NULL);

    int sig = 0;
    while (sigwait (&stop, &sig) != 0)
        ;
    log_info ("stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    mg_stop (ctx);
    mg_exit_library ();
    if (gw.state)
        render_state_lease_stop (gw.state);     /* its acknowledgments use the pool */
    api_pool_destroy (&gw.pool);
    event_watch_destroy (&gw.events);
    render_state_destroy (&gw.state);
    key_cache_destroy (&gw.keys);
    rate_limit_destroy (&gw.limits);
    bus_security_shutdown ();
    curl_global_cleanup ();
    log_writer_stop ();
    return 0;
}
