/*  main.c: easel-gateway, the civetweb REST API in front of the scheduler.

    Reads flags/environment, starts the event watcher, the pool of bus clients
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
#include "event_watch.h"
#include "http_error.h"
#include "key_cache.h"
#include "rate_limit.h"
#include "bus_security.h"
#include "easel_limits.h"
#include "log.h"
#include "util.h"

#define URL_MAX 512

static int
s_int_config (int argc, char **argv, const char *flag, const char *env, int dflt, int min, int max)
{
    char text [24];
    snprintf (text, sizeof text, "%d", dflt);
    const char *value = util_config (argc, argv, flag, env, text);
    int64_t n;
    if (util_parse_i64 (value, min, max, &n))
        log_fatal ("bad configuration: expected a whole number in range", "flag", flag,
                   "value", value, NULL);
    return (int) n;
}

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
    const char *listen = util_config (argc, argv, "--listen", "EASEL_LISTEN", "127.0.0.1:8080");
    const char *api = util_config (argc, argv, "--api", "EASEL_API_ENDPOINT", "tcp://127.0.0.1:5555");
    const char *events = util_config (argc, argv, "--events", "EASEL_EVENTS_ENDPOINT",
                                      "tcp://127.0.0.1:5557");
    int threads = s_int_config (argc, argv, "--threads", "EASEL_GATEWAY_THREADS",
                                EASEL_GATEWAY_THREADS, 1, EASEL_GATEWAY_THREADS_MAX);
    int header_ms = s_int_config (argc, argv, "--header-timeout-ms", "EASEL_HEADER_TIMEOUT_MS",
                                  EASEL_HEADER_TIMEOUT_MS, 100, 600000);
    int pool_size = s_int_config (argc, argv, "--api-clients", "EASEL_GATEWAY_API_CLIENTS",
                                  EASEL_API_POOL_SIZE, 1, 1000);
    int max_waiters = s_int_config (argc, argv, "--max-waiters", "EASEL_MAX_WAITERS",
                                    EASEL_MAX_WAITERS, 0, 1000000);
    int timeout_ms = s_int_config (argc, argv, "--request-timeout-ms", "EASEL_REQUEST_TIMEOUT_MS",
                                   EASEL_REQUEST_TIMEOUT_MS, 10, 600000);
    int sync_wait_ms = s_int_config (argc, argv, "--sync-wait-ms", "EASEL_SYNC_WAIT_MS",
                                     EASEL_SYNC_WAIT_MS, 0, 600000);
    char default_url [URL_MAX];
    snprintf (default_url, sizeof default_url, "http://%s", listen);
    char public_url [URL_MAX];
    const char *url = util_config (argc, argv, "--public-url", "EASEL_PUBLIC_URL", default_url);
    if (strlen (url) >= sizeof public_url || strncmp (url, "http", 4) != 0)
        log_fatal ("bad configuration: --public-url must be an http(s) URL", "value", url, NULL);
    snprintf (public_url, sizeof public_url, "%s", url);
    size_t n = strlen (public_url);
    while (n > 0 && public_url [n - 1] == '/')
        public_url [--n] = '\0';
    if (!*listen || strchr (listen, ' ') || strchr (listen, ','))
        log_fatal ("bad configuration: --listen must be host:port", "value", listen, NULL);
    if (strncmp (api, "tcp://", 6) && strncmp (api, "ipc://", 6) && strncmp (api, "inproc://", 9))
        log_fatal ("bad configuration: --api must be a ZeroMQ endpoint", "value", api, NULL);
    if (strncmp (events, "tcp://", 6) && strncmp (events, "ipc://", 6) && strncmp (events, "inproc://", 9))
        log_fatal ("bad configuration: --events must be a ZeroMQ endpoint", "value", events, NULL);

    s_fd_limit (threads);

    /* Signals are taken by sigwait below; every thread started after this
       inherits the mask, and CZMQ must not install its own handler. */
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGINT);
    sigaddset (&stop, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);
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
    int key_ttl_ms = s_int_config (argc, argv, "--key-cache-ttl-ms", "EASEL_KEY_CACHE_TTL_MS",
                                   EASEL_KEY_CACHE_TTL_MS, 0, 3600000);
    rate_rule_t rules [RATE_CLASSES];
    const char *bad_flag = NULL, *bad_value = NULL;
    if (rate_limit_config (argc, argv, rules, &bad_flag, &bad_value))
        log_fatal ("bad configuration: a rate limit is RATE:BURST (tokens a second, bucket size) or 0",
                   "flag", bad_flag, "value", bad_value, NULL);

    gateway_t gw = {
        .api_endpoint = api, .public_url = public_url,
        .request_timeout_ms = timeout_ms, .sync_wait_ms = sync_wait_ms,
        .events = event_watch_new (events),
        .keys = key_cache_new (key_ttl_ms),
        .limits = rate_limit_new (rules),
        .pool = api_pool_new (api, pool_size, timeout_ms),
        .threads = threads,
    };
    if (!gw.events || !gw.pool)
        log_fatal ("cannot start the event watcher or the api clients", "endpoint", events, NULL);
    if (!gw.keys || !gw.limits)
        log_fatal ("out of memory for the key cache or the rate limits", NULL);
    event_watch_set_max_waiters (gw.events, max_waiters);

    /* civetweb 1.15 gives each connection a thread (on the stack size its
       build chose: 100 KB in Debian's) from first byte to close. A request's
       headers must all arrive within header_ms (it also bounds each later
       socket read or write), an idle kept-alive connection is closed after
       EASEL_KEEP_ALIVE_S (and every answer says so), so a slow or idle
       client holds a thread for seconds, and there are thousands of them. */
    char nthreads [16], request_timeout [16], keep_alive [16], queue [16], backlog [16];
    snprintf (nthreads, sizeof nthreads, "%d", threads);
    snprintf (request_timeout, sizeof request_timeout, "%d", header_ms);
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
    api_pool_destroy (&gw.pool);
    event_watch_destroy (&gw.events);
    key_cache_destroy (&gw.keys);
    rate_limit_destroy (&gw.limits);
    bus_security_shutdown ();
    curl_global_cleanup ();
    return 0;
}
