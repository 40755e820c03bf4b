/*  main.c: easel-scheduler. Reads its configuration, binds the api
    ROUTER, work ROUTER and events PUB sockets, opens the job store and the
    blob store, requeues the leases of a previous run, and loops: poll both
    ROUTERs until a message or the next heartbeat tick, then one pass
    (scheduler.h), which holds the rooms that own all state.
    Thread: one. Memory: the sockets and stores are main's, closed at exit. */
#include "scheduler.h"
#include "api_profiles.h"
#include "sched_metrics.h"
#include "metrics.h"
#include "bus.h"
#include "bus_security.h"
#include "log.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- start-up -------------------------------------------------------------------------- */

/* A bound socket, or NULL with *why set (the reason from ZeroMQ). */
static zsock_t *
s_bind (int type, const char *endpoint, const char **why)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        *why = "cannot create a socket";
        return NULL;
    }
    bus_socket_setup (sock);
    bus_security_apply (sock);
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        *why = zmq_strerror (errno);
        zsock_destroy (&sock);
    }
    return sock;
}

/* Binds the three bus sockets or exits LOG_EXIT_CANNOT_BIND naming the one
   that is taken (none left open, so CZMQ's exit check stays quiet). */
static void
s_bind_all (scheduler_t *self)
{
    const char *why = "";
    const char *what = "api", *ep = self->cfg.api_ep;
    if ((self->api = s_bind (ZMQ_ROUTER, ep, &why))) {
        what = "work", ep = self->cfg.work_ep;
        if ((self->work = s_bind (ZMQ_ROUTER, ep, &why))) {
            what = "events", ep = self->cfg.events_ep;
            self->pub = s_bind (ZMQ_PUB, ep, &why);
        }
    }
    if (self->pub)
        return;
    zsock_destroy (&self->api);
    zsock_destroy (&self->work);
    log_fatal_bind ("cannot bind the bus (another Easel stack on this endpoint?)", "socket", what,
                    "endpoint", ep, "reason", why, NULL);
}

static void
s_configure (scheduler_config_t *self, int argc, char **argv)
{
    static const char *flags [] = { "--api", "--work", "--events", "--data", "--public-url",
                                    "--max-attempts", "--lease-ms", "--idempotency-ttl-s",
                                    "--curve-cert", "--curve-allowed-dir", "--metrics",
                                    "--retention-s", "--storage-quota-bytes",
                                    "--account-lease-cap" };
    for (int i = 1; i < argc; i++) {
        /* accepted for uniformity with the other services; the scheduler fetches nothing */
        if (strcmp (argv [i], "--allow-private-networks") == 0
        ||  strcmp (argv [i], "--insecure-plain") == 0)
            continue;
        bool known = false;
        for (size_t f = 0; f < sizeof flags / sizeof flags [0] && !known; f++) {
            size_t n = strlen (flags [f]);
            known = strncmp (argv [i], flags [f], n) == 0 && (argv [i][n] == 0 || argv [i][n] == '=');
            if (known && argv [i][n] == 0 && ++i == argc)
                log_fatal ("flag needs a value", "flag", flags [f], NULL);
        }
        if (!known)
            log_fatal ("unknown argument (flags: --api --work --events --data --public-url"
                       " --max-attempts --lease-ms --idempotency-ttl-s --retention-s --storage-quota-bytes"
                       " --account-lease-cap)", "argument", argv [i], NULL);
    }
    self->api_ep = util_config (argc, argv, "--api", "EASEL_API_ENDPOINT", "tcp://127.0.0.1:5555");
    self->work_ep = util_config (argc, argv, "--work", "EASEL_WORK_ENDPOINT", "tcp://127.0.0.1:5556");
    self->events_ep = util_config (argc, argv, "--events", "EASEL_EVENTS_ENDPOINT", "tcp://127.0.0.1:5557");
    self->data_dir = util_config (argc, argv, "--data", "EASEL_DATA", "./easel-data");
    const char *url = util_config (argc, argv, "--public-url", "EASEL_PUBLIC_URL", "http://127.0.0.1:8080");
    const char *attempts = util_config (argc, argv, "--max-attempts", "EASEL_MAX_ATTEMPTS", "3");
    const char *lease = util_config (argc, argv, "--lease-ms", "EASEL_LEASE_MS", "120000");
    if (!*self->api_ep || !*self->work_ep || !*self->events_ep || !*self->data_dir)
        log_fatal ("endpoints and data dir must not be empty", NULL);
    size_t n = strlen (url);
    while (n > 0 && url [n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof self->public_url
    ||  (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0))
        log_fatal ("--public-url must be an http(s) URL under 1024 bytes", "value", url, NULL);
    memcpy (self->public_url, url, n);
    self->public_url [n] = 0;
    int64_t v;
    if (util_parse_i64 (attempts, 1, 100, &v))
        log_fatal ("--max-attempts must be an integer in 1..100", "value", attempts, NULL);
    self->max_attempts = (int32_t) v;
    if (util_parse_i64 (lease, 1000, 24 * 3600 * 1000LL, &self->lease_ms))
        log_fatal ("--lease-ms must be an integer in 1000..86400000", "value", lease, NULL);
    char ttl_default [24];
    snprintf (ttl_default, sizeof ttl_default, "%d", EASEL_IDEMPOTENCY_TTL_S);
    const char *ttl = util_config (argc, argv, "--idempotency-ttl-s", "EASEL_IDEMPOTENCY_TTL_S",
                                   ttl_default);
    if (util_parse_i64 (ttl, 1, 365LL * 24 * 3600, &self->idem_ttl_s))
        log_fatal ("--idempotency-ttl-s must be an integer in 1..31536000", "value", ttl, NULL);
    char def [24];
    snprintf (def, sizeof def, "%d", EASEL_RETENTION_S);
    const char *ret = util_config (argc, argv, "--retention-s", "EASEL_RETENTION_S", def);
    if (util_parse_i64 (ret, 1, 100LL * 365 * 24 * 3600, &self->retention_s))
        log_fatal ("--retention-s must be an integer in 1..3153600000", "value", ret, NULL);
    snprintf (def, sizeof def, "%lld", (long long) EASEL_STORAGE_QUOTA_BYTES);
    const char *quota = util_config (argc, argv, "--storage-quota-bytes", "EASEL_STORAGE_QUOTA_BYTES", def);
    if (util_parse_i64 (quota, 0, INT64_MAX / 2, &self->quota_bytes))
        log_fatal ("--storage-quota-bytes must be a non-negative integer", "value", quota, NULL);
    char cap_default [24];
    snprintf (cap_default, sizeof cap_default, "%d", EASEL_ACCOUNT_LEASE_CAP);
    const char *cap = util_config (argc, argv, "--account-lease-cap", "EASEL_ACCOUNT_LEASE_CAP",
                                   cap_default);
    if (util_parse_i64 (cap, 0, 1000000, &self->account_lease_cap))
        log_fatal ("--account-lease-cap must be an integer in 0..1000000 (0: no cap)", "value", cap, NULL);
    /* the environment only, so the key never shows in a process list */
    const char *key = getenv ("EASEL_PROFILE_KEY");
    self->has_profile_key = key && *key;
    if (self->has_profile_key && api_profiles_parse_key (key, self->profile_key) != 0)
        log_fatal ("EASEL_PROFILE_KEY must be 32 bytes as 64 hex digits or base64", NULL);
    if (!self->has_profile_key)
        log_info ("capture profiles are off (no EASEL_PROFILE_KEY)", NULL);
}

int
main (int argc, char **argv)
{
    log_init ("scheduler");
    static scheduler_t sched;
    scheduler_t *self = &sched;
    s_configure (&self->cfg, argc, argv);
    /* before the store: a refused start must not touch the data dir */
    const char *bus_endpoints [] = { self->cfg.api_ep, self->cfg.work_ep, self->cfg.events_ep, NULL };
    char sec_err [BUS_SECURITY_ERR_MAX] = "";
    if (bus_security_init (argc, argv, BUS_ROLE_SERVER, bus_endpoints, sec_err))
        log_fatal ("bad bus security configuration", "reason", sec_err, NULL);
    sched_metrics_init ();
    char merr [256];
    const char *metrics_listen = util_config (argc, argv, "--metrics", "EASEL_METRICS_LISTEN", "");
    int mrc = metrics_serve (metrics_listen, merr, sizeof merr);
    if (mrc == METRICS_SERVE_CANNOT_LISTEN)
        log_fatal_bind ("cannot serve metrics", "reason", merr, NULL);
    if (mrc)
        log_fatal ("cannot serve metrics", "reason", merr, NULL);
    /* the bus before the store: a second scheduler on taken endpoints must
       not requeue the leases of the one that owns them */
    zsys_init ();
    s_bind_all (self);
    char err [256] = "";
    self->store = job_store_open (self->cfg.data_dir, err);
    if (scheduler_init (self))
        log_fatal ("out of memory", NULL);
    if (!self->store)
        log_fatal ("cannot open the job store", "reason", err, NULL);
    self->blobs = blob_store_new (self->cfg.data_dir, err);
    if (!self->blobs)
        log_fatal ("cannot open the blob store", "reason", err, NULL);
    /* a lease from a previous run has no renderer any more */
    self->pass.now_ms = util_now_ms ();
    int n = -1;
    if (job_store_begin (self->store, err) == 0) {
        n = job_store_task_requeue_leased (self->store, NULL, INT64_MAX, "scheduler restarted",
                                           self->cfg.max_attempts, self->pass.now_ms, err);
        if (n < 0 || job_store_commit (self->store, err) != 0) {
            job_store_rollback (self->store);
            n = -1;
        }
    }
    if (n < 0)
        log_fatal ("cannot requeue leased tasks at start", "reason", err, NULL);
    sched_out_set_last_seq (self->out, job_store_event_last_seq (self->store));
    self->pass.settle = true;

    char requeued [16];
    snprintf (requeued, sizeof requeued, "%d", n);
    log_info ("scheduler started", "api", self->cfg.api_ep, "work", self->cfg.work_ep,
              "events", self->cfg.events_ep, "data", self->cfg.data_dir, "requeued", requeued, NULL);

    int64_t next_tick_ms = util_mono_ms ();      /* monotonic time of the next heartbeat */
    while (!zsys_interrupted) {
        int64_t wait = next_tick_ms - util_mono_ms ();
        zmq_pollitem_t items [] = {
            { zsock_resolve (self->api), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (self->work), 0, ZMQ_POLLIN, 0 },
        };
        if (wait > 0 && zmq_poll (items, 2, (long) wait) < 0 && errno == EINTR)
            continue;
        bool tick = util_mono_ms () >= next_tick_ms;
        if (tick)
            next_tick_ms = util_mono_ms () + EASEL_HEARTBEAT_MS;
        scheduler_pass (self, tick);
    }
    log_info ("scheduler stopping", NULL);
    metrics_serve_stop ();
    scheduler_destroy (self);
    zsock_destroy (&self->api);
    zsock_destroy (&self->work);
    zsock_destroy (&self->pub);
    bus_security_shutdown ();
    blob_store_destroy (&self->blobs);
    job_store_destroy (&self->store);
    return 0;
}
