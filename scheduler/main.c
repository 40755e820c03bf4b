/*  main.c: easel-scheduler. Reads its configuration, binds the api
    ROUTER, work ROUTER and events PUB sockets, holds the data dir's lock,
    opens the job store and the blob store, writes the admin secret the CLI's
    writes must carry (data_lock.h), requeues the leases of a previous run, and loops: poll both
    ROUTERs until a message or the next heartbeat tick, then one pass
    (scheduler.h), which holds the rooms that own all state.
    Thread: one. Memory: the sockets and stores are main's, closed at exit. */
#include "scheduler.h"
#include "api_profiles.h"
#include "sched_metrics.h"
#include "metrics.h"
#include "bus.h"
#include "bus_security.h"
#include "config.h"
#include "data_lock.h"
#include "log.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
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

#define S_STANDBY_POLL_MS 1000         /* a standby looks at its stop signal this often */
#define S_EXIT_LEASE_LOST 3            /* the exit status of a scheduler another took over from */
#define S_LEASE_POLL_MS   200          /* a standby asks for the database's lease this often */

/* This process's name in the database's lease: host, pid and 8 random
   bytes, so a restarted scheduler is a new holder. */
static void
s_lease_holder (char *out, size_t size)
{
    char host [64] = "";
    unsigned char nonce [8];
    char hex [17];
    gethostname (host, sizeof host - 1);
    if (sodium_init () < 0)
        log_fatal ("libsodium failed to initialise", NULL);
    randombytes_buf (nonce, sizeof nonce);
    for (int i = 0; i < 8; i++)
        snprintf (hex + 2 * i, 3, "%02x", nonce [i]);
    snprintf (out, size, "%.60s:%d:%s", host, (int) getpid (), hex);
}

/* Takes the database's lease (job_store_lease_take), waiting for it as a
   standby, and fences the store with it. 0 held (or the backend needs none);
   1 stopped while waiting (the caller exits 0). Fatal when another holder
   is live and this is no standby, or on a store error. */
static int
s_lease (scheduler_t *self)
{
    char holder [JOB_STORE_LEASE_HOLDER_MAX], err [256] = "";
    s_lease_holder (holder, sizeof holder);
    int64_t token = 0;
    bool said = false;
    int held;
    /* without --standby, only as long as a lease can outlive a holder that
       just died (a restart after kill -9) */
    int64_t give_up = util_mono_ms () + SCHEDULER_LEASE_TTL_MS + 1000;
    while ((held = job_store_lease_take (self->store, holder, SCHEDULER_LEASE_TTL_MS, &token, err)) == 0) {
        if (!self->cfg.standby && util_mono_ms () > give_up)
            log_fatal ("another scheduler holds the database's lease", "hint",
                       "start this one with --standby to wait and take over when it stops", NULL);
        if (!said)
            log_info (self->cfg.standby ? "standby: waiting for the database's lease"
                                        : "waiting for a previous scheduler's lease to expire", NULL);
        said = true;
        nanosleep (&(struct timespec) { 0, S_LEASE_POLL_MS * 1000000L }, NULL);
        if (zsys_interrupted) {
            log_info ("standby stopped before taking over", NULL);
            return 1;
        }
    }
    if (held < 0)
        log_fatal ("cannot take the database's lease", "reason", err, NULL);
    if (token > 0) {
        char t [24];
        snprintf (t, sizeof t, "%lld", (long long) token);
        log_info ("holding the database's lease", "token", t, "holder", holder, NULL);
    }
    job_store_lease_fence (self->store, holder, token, SCHEDULER_LEASE_TTL_MS);
    return 0;
}

/* The scheduler's settings (config.h); --metrics and the bus security rows
   are read by metrics_serve and bus_security_init. */
static void
s_configure (scheduler_config_t *self, int argc, char **argv, const char **metrics)
{
    const char *url = NULL;
    int64_t attempts = 0;
    const config_opt_t rows [] = {
        CONFIG_API_ENDPOINT (&self->api_ep),
        CONFIG_WORK_ENDPOINT (&self->work_ep),
        CONFIG_EVENTS_ENDPOINT (&self->events_ep),
        { .flag = "--data", .env = "EASEL_DATA", .kind = CONFIG_TEXT, .text = EASEL_DATA_DEFAULT,
          .help = "the data directory: database, blobs, the lock and the admin secret",
          .out_text = &self->data_dir },
        { .flag = "--public-url", .env = "EASEL_PUBLIC_URL", .kind = CONFIG_TEXT,
          .text = "http://" EASEL_LISTEN_DEFAULT,
          .help = "the gateways' public base URL, for signed file and review links",
          .out_text = &url },
        { .flag = "--max-attempts", .env = "EASEL_MAX_ATTEMPTS", .kind = CONFIG_INT,
          .num = EASEL_MAX_ATTEMPTS, .min = 1, .max = 100,
          .help = "attempts of a task before it fails for good", .out_num = &attempts },
        { .flag = "--lease-ms", .env = "EASEL_LEASE_MS", .kind = CONFIG_INT,
          .num = EASEL_LEASE_MS, .min = 1000, .max = 24 * 3600 * 1000LL,
          .help = "a leased task not finished by then is requeued", .out_num = &self->lease_ms },
        { .flag = "--idempotency-ttl-s", .env = "EASEL_IDEMPOTENCY_TTL_S", .kind = CONFIG_INT,
          .num = EASEL_IDEMPOTENCY_TTL_S, .min = 1, .max = 365LL * 24 * 3600,
          .help = "idempotency keys are kept at least this long, then swept",
          .out_num = &self->idem_ttl_s },
        { .flag = "--retention-s", .env = "EASEL_RETENTION_S", .kind = CONFIG_INT,
          .num = EASEL_RETENTION_S, .min = 1, .max = 100LL * 365 * 24 * 3600,
          .help = "final renders and jobs, their files and history, are deleted after this "
                  "(30 days; see Storage, quotas and retention)", .out_num = &self->retention_s },
        { .flag = "--storage-quota-bytes", .env = "EASEL_STORAGE_QUOTA_BYTES", .kind = CONFIG_INT,
          .num = EASEL_STORAGE_QUOTA_BYTES, .min = 0, .max = INT64_MAX / 2,
          .help = "stored image bytes per account (10 GiB); over it a create answers 403 "
                  "`storage_quota_exceeded`", .out_num = &self->quota_bytes },
        { .flag = "--account-lease-cap", .env = "EASEL_ACCOUNT_LEASE_CAP", .kind = CONFIG_INT,
          .num = EASEL_ACCOUNT_LEASE_CAP, .min = 0, .max = 1000000,
          .help = "tasks of one account leased at once while another account has work queued "
                  "(0: no cap); slots are shared fairly between accounts whatever the cap", .out_num = &self->account_lease_cap },
        CONFIG_METRICS (metrics),
        BUS_SECURITY_CONFIG_SERVER,
        CONFIG_ALLOW_PRIVATE_HELP (NULL, "accepted like the other services'; the scheduler fetches nothing"),
        { .env = "EASEL_DATABASE_URL", .kind = CONFIG_TEXT, .shown = "unset (SQLite under the data dir)",
          .help = "where state lives: `postgres://user:password@host:port/db` for PostgreSQL "
                  "(see PostgreSQL); the CLI's keys, credits and backup read it too" },
        { .env = "EASEL_BLOB_URL", .kind = CONFIG_TEXT, .shown = "unset (files under the data dir)",
          .help = "where image bytes live: `s3://bucket/prefix?endpoint=URL&region=R&path_style=1` "
                  "for an S3-compatible store (`&public_endpoint=URL`: the host download redirects "
                  "name; see Blob storage)" },
        { .flag = "--blob-redirect-s", .env = "EASEL_BLOB_REDIRECT_S", .kind = CONFIG_INT,
          .num = EASEL_BLOB_REDIRECT_S, .min = 0, .max = 7 * 24 * 3600,
          .help = "with the S3 store, `GET /v1/files/{id}` answers 302 to a presigned GET living this "
                  "long (never past a signed URL's expiry); 0 streams the bytes through Easel instead",
          .out_num = &self->blob_redirect_s },
        { .flag = "--blob-via-scheduler", .env = "EASEL_BLOB_VIA_SCHEDULER", .kind = CONFIG_BOOL,
          .help = "with the S3 store, renderers still get input images and send results, and gateways "
                  "send uploads and inline images, through the scheduler (by default they GET and PUT "
                  "them with URLs it presigns)",
          .out_bool = &self->blob_via_scheduler },
        { .flag = "--standby", .env = "EASEL_STANDBY", .kind = CONFIG_BOOL,
          .help = "wait for the data dir a running scheduler holds and take over when it stops or "
                  "dies (within a second); binds nothing until then (see Standby scheduler)",
          .out_bool = &self->standby },
        { .env = "EASEL_S3_ACCESS_KEY", .kind = CONFIG_TEXT, .shown = "unset (then AWS_ACCESS_KEY_ID)",
          .help = "the S3 store's access key id; read from the environment only" },
        { .env = "EASEL_S3_SECRET_KEY", .kind = CONFIG_TEXT, .shown = "unset (then AWS_SECRET_ACCESS_KEY)",
          .help = "the S3 store's secret key; read from the environment only, never logged" },
        { .env = "EASEL_PROFILE_KEY", .kind = CONFIG_TEXT, .shown = "unset (capture profiles off)",
          .help = "32 bytes (64 hex digits or base64) sealing capture profiles at rest; read from the "
                  "environment only, so it never shows in a process list" },
    };
    const config_table_t table = CONFIG_TABLE ("scheduler", "Owns all state: binds the api, work "
                                               "and events sockets and runs the job store.", rows);
    config_load (&table, argc, argv);
    self->max_attempts = (int32_t) attempts;
    if (!*self->data_dir)
        log_fatal ("bad configuration", "reason", "--data must not be empty", NULL);
    size_t n = strlen (url);
    while (n > 0 && url [n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof self->public_url
    ||  (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0))
        log_fatal ("bad configuration", "reason", "--public-url must be an http(s) URL under 1024 bytes",
                   "value", url, NULL);
    memcpy (self->public_url, url, n);
    self->public_url [n] = 0;
    /* the environment only, so the key never shows in a process list */
    const char *key = getenv ("EASEL_PROFILE_KEY");
    self->has_profile_key = key && *key;
    if (self->has_profile_key && api_profiles_parse_key (key, self->profile_key) != 0)
        log_fatal ("bad configuration", "reason", "EASEL_PROFILE_KEY must be 32 bytes as 64 hex digits "
                   "or base64", NULL);
}

int
main (int argc, char **argv)
{
    log_init ("scheduler");
    static scheduler_t sched;
    scheduler_t *self = &sched;
    const char *metrics_listen = "";
    s_configure (&self->cfg, argc, argv, &metrics_listen);
    /* before the store: a refused start must not touch the data dir */
    const char *bus_endpoints [] = { self->cfg.api_ep, self->cfg.work_ep, self->cfg.events_ep, NULL };
    char sec_err [BUS_SECURITY_ERR_MAX] = "";
    if (bus_security_init (argc, argv, BUS_ROLE_SERVER, bus_endpoints, sec_err))
        log_fatal ("bad bus security configuration", "reason", sec_err, NULL);
    sched_metrics_init ();
    char merr [256];
    int mrc = metrics_serve (metrics_listen, merr, sizeof merr);
    if (mrc == METRICS_SERVE_CANNOT_LISTEN)
        log_fatal_bind ("cannot serve metrics", "reason", merr, NULL);
    if (mrc)
        log_fatal ("cannot serve metrics", "reason", merr, NULL);
    /* the bus before the store: a second scheduler on taken endpoints must
       not requeue the leases of the one that owns them */
    zsys_init ();
    char err [256] = "";
    int lock_fd = -1;
    if (self->cfg.standby) {
        /* a standby binds nothing until it holds the data dir: clients given
           every scheduler's endpoints send only where one has bound */
        log_info ("standby: waiting for the data dir's lock", "data", self->cfg.data_dir, NULL);
        int held;
        while ((held = data_lock_hold (self->cfg.data_dir, S_STANDBY_POLL_MS, &lock_fd, err)) == 1)
            if (zsys_interrupted) {
                log_info ("standby stopped before taking over", NULL);
                return 0;
            }
        if (held)
            log_fatal ("cannot hold the data dir", "reason", err, NULL);
        log_info ("standby: the data dir is free", "data", self->cfg.data_dir, NULL);
    }
    else {
        s_bind_all (self);
        /* one scheduler per data dir; CLI writes in progress finish first */
        if (data_lock_hold (self->cfg.data_dir, DATA_LOCK_WAIT_MS, &lock_fd, err)) {
            zsock_destroy (&self->api);
            zsock_destroy (&self->work);
            zsock_destroy (&self->pub);
            log_fatal_bind ("cannot hold the data dir", "reason", err, NULL);
        }
    }
    /* the CLI's writes come as ADMIN with this secret (data_lock.h); one
       sent before the loop runs waits in the bound api socket */
    if (data_admin_write (self->cfg.data_dir, self->cfg.api_ep, self->admin_secret, err))
        log_fatal ("cannot write the admin secret", "reason", err, NULL);
    self->store = job_store_open (self->cfg.data_dir, err);
    if (scheduler_init (self))
        log_fatal ("out of memory", NULL);
    if (!self->store)
        log_fatal ("cannot open the job store", "reason", err, NULL);
    /* where the database arbitrates (PostgreSQL), its lease: a standby
       waits for it, a scheduler started without --standby refuses to run
       beside a live holder; every commit from here on checks it */
    if (s_lease (self))
        return 0;
    if (self->cfg.standby) {
        log_info ("standby: taking over", "data", self->cfg.data_dir, NULL);
        s_bind_all (self);
    }
    self->blobs = blob_store_open (self->cfg.data_dir, getenv ("EASEL_BLOB_URL"), err);
    if (!self->blobs)
        log_fatal ("cannot open the blob store", "reason", err, NULL);
    /* an object store's slow calls (adopting what renderers and gateways
       stored, the orphan listing, streamed reads) run on the blob worker's
       threads, with --blob-via-scheduler too (then nothing is adopted) */
    if (blob_store_direct (self->blobs)
    &&  !(self->adopter = blob_worker_new (self->cfg.data_dir, getenv ("EASEL_BLOB_URL"), err)))
        log_fatal ("cannot start the blob worker", "reason", err, NULL);
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
              "events", self->cfg.events_ep, "data", self->cfg.data_dir, "requeued", requeued,
              "capture_profiles", self->cfg.has_profile_key ? "on" : "off (no EASEL_PROFILE_KEY)",
              "blobs", blob_store_backend (self->blobs), NULL);

    /* from now on a pass's replies wait for the gateways' read leases */
    sched_out_set_lease (self->out, self->leases);
    int64_t next_tick_ms = util_mono_ms ();      /* monotonic time of the next heartbeat */
    while (!zsys_interrupted && !self->lease_lost) {
        int64_t wait = next_tick_ms - util_mono_ms ();
        int64_t release = sched_out_next_release_ms (self->out, util_mono_ms ()) - util_mono_ms ();
        if (release < wait)
            wait = release > 0 ? release : 1;
        zmq_pollitem_t items [] = {
            { zsock_resolve (self->api), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (self->work), 0, ZMQ_POLLIN, 0 },
            { self->adopter ? zsock_resolve (blob_worker_sock (self->adopter)) : NULL, 0, ZMQ_POLLIN, 0 },
        };
        if (wait > 0 && zmq_poll (items, self->adopter ? 3 : 2, (long) wait) < 0 && errno == EINTR)
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
    blob_worker_destroy (&self->adopter);
    blob_store_destroy (&self->blobs);
    job_store_destroy (&self->store);
    data_lock_release (&lock_fd);
    return self->lease_lost ? S_EXIT_LEASE_LOST : 0;
}
