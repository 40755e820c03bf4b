/*  main.c: easel-webhooker, the signed webhook delivery service.

    One thread owns everything: the SUB socket (events, a hint only), the
    DEALER to the scheduler's api socket (EVENTS_SINCE and DELIVERY_REPORT),
    and one libcurl multi handle that runs every delivery concurrently, so a
    slow endpoint never blocks the others. zmq_poll waits on both sockets and
    on curl's file descriptors. At most `per_host` transfers run to one
    host:port at a time (EASEL_WEBHOOK_PER_HOST); the rest wait their turn
    without holding up deliveries to other hosts.

    A delivery lives in `deliveries` (keyed by delivery id) from the moment an
    EVENTS reply names it until the scheduler has ACKed the report of its last
    attempt, so the same delivery is never sent twice at once and no report is
    forgotten. States: WAITING (due at due_ms) -> SENDING (curl transfer) ->
    REPORTING (report sent or to be re-sent) -> WAITING again or gone.

    The scheduler may be down: a request without an answer in
    EASEL_REQUEST_TIMEOUT_MS drops the DEALER, makes a fresh one and retries
    with backoff; the webhooker never exits for it. A request that finds no
    scheduler connected at all (at start, after a restart) goes as soon as the
    DEALER can send again (polled for POLLOUT), not after a fixed pause: that
    pause was the whole of the old p99 (bench/README.md). SIGINT/SIGTERM exit 0.
    --trace logs where each delivery's time went (s_trace).
    Memory: delivery_t owns its strings, curl handle and report.  */
#include <czmq.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "netguard.h"
#include "bus.h"
#include "bus_security.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "util.h"
#include "webhook_policy.h"
#include "webhook_sign.h"

#define S_RESYNC_MS        60000   /* refetch everything pending this often */
#define S_REPORT_RETRY_MS  1000    /* a report the scheduler could not take waits this long */
#define S_NO_PEER_MS       250     /* no scheduler connected yet (IMMEDIATE): try again by then */
#define S_RECONNECT_IVL_MS 10      /* first reconnect to the scheduler after this, */
#define S_RECONNECT_IVL_MAX_MS 1000 /* doubling up to this */
#define S_MAX_SECRETS      4       /* space-separated secrets during a rotation */
#define S_POLL_MAX_MS      1000
#define S_HOST_MAX         300     /* "host:port" key of the per-host cap */

typedef enum { S_WAITING, S_SENDING, S_REPORTING } s_state_t;

typedef struct _webhooker_t webhooker_t;

typedef struct {
    webhooker_t *owner;
    char delivery_id[PROTO_ID_MAX];
    char event_id[PROTO_ID_MAX];
    char req[PROTO_ID_MAX];             /* X-Request-Id that created the render ("" unknown) */
    int64_t event_ms;                   /* when the event was written (wall clock) */
    int64_t seq;                        /* the event's seq (a redelivery hint names it) */
    char *url, *secret, *payload;
    char host[S_HOST_MAX];              /* "host:port": the per-host cap counts these */
    int attempts;                       /* attempts made so far */
    bool again;                         /* redelivered while in flight: send once more */
    bool wait_peer;                     /* its report found no scheduler: resend when one connects */
    s_state_t state;
    int64_t due_ms;                     /* WAITING: next attempt; REPORTING: next (re)send */
    /* the transfer */
    CURL *easy;
    struct curl_slist *headers;
    char response[EASEL_WEBHOOK_RESPONSE_KEEP_BYTES + 1];
    size_t response_len;
    char errbuf[CURL_ERROR_SIZE];
    char refused[64];                   /* a private address the connect refused */
    int64_t started_ms;
    /* the report of the last attempt */
    proto_delivery_report_t report;
    bool report_sent;
    int64_t report_deadline_ms;
    int64_t next_attempt_ms;            /* -1: this was the last attempt */
    /* --trace: wall-clock microseconds of the steps of the first attempt (0: not seen) */
    int64_t tr_sub_us, tr_fetch_us, tr_reply_us, tr_start_us;
} delivery_t;

struct _webhooker_t {
    const char *api_ep, *events_ep;
    bool allow_private;
    webhook_schedule_t schedule;
    int64_t timeout_ms;                 /* one attempt, EASEL_WEBHOOK_TIMEOUT_MS */
    int64_t per_host;                   /* concurrent transfers to one host:port */
    int64_t min_retry_ms;               /* floor after a timeout or a 429 */
    zhashx_t *host_busy;                /* host -> transfers running (as a pointer-sized int) */
    int64_t rewind_to;                  /* a redelivery hint: refetch from here; -1 none */
    zsock_t *sub, *dealer;
    CURLM *multi;
    zhashx_t *deliveries;               /* delivery_id -> delivery_t */
    int64_t cursor;                     /* events up to here are in `deliveries` or done */
    int64_t target_seq;                 /* highest seq the bus told us exists */
    bool force_fetch;                   /* start, resync, next page, failed fetch */
    char fetch_rid[PROTO_ID_MAX];       /* "" when no fetch is in flight */
    int64_t fetch_deadline_ms, fetch_not_before_ms, backoff_ms, resync_at_ms;
    bool no_peer;                       /* a send found no scheduler: poll the DEALER for POLLOUT */
    bool fetch_wait_peer;               /* the fetch waits for that, not for a backoff */
    bool trace;                         /* --trace: one "webhook trace" line per delivered attempt */
    int64_t tr_sub_us;                  /* last event hint received (wall us) */
    int64_t tr_fetch_us;                /* the fetch in flight was sent (wall us) */
    int64_t tr_reply_us;                /* the EVENTS reply being handled arrived (wall us) */
};

/* Wall clock in microseconds, for --trace lines comparable with the db's ms. */
static int64_t
s_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Counts a transfer to host in (+1) or out (-1). */
static void
s_host_count (webhooker_t *self, const char *host, int delta)
{
    intptr_t n = (intptr_t) zhashx_lookup (self->host_busy, host) + delta;
    if (n > 0)
        zhashx_update (self->host_busy, host, (void *) n);
    else
        zhashx_delete (self->host_busy, host);
}

static void
s_delivery_destroy (void **item)
{
    delivery_t *d = *item;
    if (!d)
        return;
    if (d->easy) {
        s_host_count (d->owner, d->host, -1);
        curl_multi_remove_handle (d->owner->multi, d->easy);
        curl_easy_cleanup (d->easy);
    }
    curl_slist_free_all (d->headers);
    proto_delivery_report_free (&d->report);
    free (d->url);
    free (d->secret);
    free (d->payload);
    free (d);
    *item = NULL;
}

/* ---- the DEALER to the scheduler --------------------------------------- */

/* libzmq retries a refused connect after 100 ms by default: a scheduler that
   starts (or restarts) just after us would wait that long for its first
   request. Retry sooner, doubling up to S_RECONNECT_IVL_MAX_MS. */
static void
s_reconnect_fast (zsock_t *sock)
{
    zsock_set_reconnect_ivl (sock, S_RECONNECT_IVL_MS);
    zsock_set_reconnect_ivl_max (sock, S_RECONNECT_IVL_MAX_MS);
}

static void
s_dealer_reset (webhooker_t *self)
{
    zsock_destroy (&self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer)
        log_fatal ("cannot create DEALER socket", NULL);
    bus_socket_setup (self->dealer);
    s_reconnect_fast (self->dealer);
    bus_security_apply (self->dealer);
    if (zsock_connect (self->dealer, "%s", self->api_ep))
        log_fatal ("cannot connect to the api endpoint", "endpoint", self->api_ep, NULL);
}

/* The DEALER has a scheduler again after a send found none: what waited for
   one goes now rather than at the S_NO_PEER_MS retry. */
static void
s_peer_up (webhooker_t *self)
{
    int64_t now = util_mono_ms ();
    self->no_peer = false;
    if (self->fetch_wait_peer && !self->fetch_rid[0])
        self->fetch_not_before_ms = now;
    self->fetch_wait_peer = false;
    for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries)) {
        if (d->wait_peer && d->state == S_REPORTING && !d->report_sent)
            d->due_ms = now;
        d->wait_peer = false;
    }
}

/* The scheduler did not answer or could not be reached: drop everything in
   flight on the DEALER, make a fresh one, retry after a growing pause. */
static void
s_scheduler_lost (webhooker_t *self, const char *why)
{
    int64_t now = util_mono_ms ();
    log_warn ("scheduler not answering", "reason", why, NULL);
    s_dealer_reset (self);
    self->backoff_ms = self->backoff_ms ? self->backoff_ms * 2 : EASEL_RECONNECT_MIN_MS;
    if (self->backoff_ms > EASEL_RECONNECT_MAX_MS)
        self->backoff_ms = EASEL_RECONNECT_MAX_MS;
    if (self->fetch_rid[0]) {
        self->fetch_rid[0] = 0;
        self->force_fetch = true;
    }
    self->fetch_not_before_ms = now + self->backoff_ms;
    self->fetch_wait_peer = false;      /* the backoff rules now, not a new connection */
    for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries)) {
        d->wait_peer = false;
        if (d->state == S_REPORTING && d->report_sent) {
            d->report_sent = false;
            d->due_ms = now + self->backoff_ms;
        }
    }
}

static void
s_fetch (webhooker_t *self)
{
    proto_events_since_t req = { .since = self->cursor, .limit = EASEL_EVENTS_PAGE_MAX };
    msgpack_sbuffer sb;
    proto_id_new ("req_", req.rid, sizeof req.rid);
    msgpack_sbuffer_init (&sb);
    int rc = proto_events_since_encode (&req, &sb) == 0
           ? bus_send_sbuf (self->dealer, NULL, PROTO_EVENTS_SINCE, &sb) : -2;
    bool no_peer = rc == -1 && errno == EAGAIN;
    msgpack_sbuffer_destroy (&sb);
    int64_t now = util_mono_ms ();
    if (rc) {
        /* no scheduler connected (yet): the loop retries as soon as one is */
        self->fetch_not_before_ms = now + S_NO_PEER_MS;
        if (no_peer)
            self->no_peer = self->fetch_wait_peer = true;
        return;
    }
    snprintf (self->fetch_rid, sizeof self->fetch_rid, "%s", req.rid);
    if (self->trace)
        self->tr_fetch_us = s_wall_us ();
    self->fetch_deadline_ms = now + EASEL_REQUEST_TIMEOUT_MS;
    self->force_fetch = false;
}

static void
s_report_send (webhooker_t *self, delivery_t *d)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int rc = proto_delivery_report_encode (&d->report, &sb) == 0
           ? bus_send_sbuf (self->dealer, NULL, PROTO_DELIVERY_REPORT, &sb) : -2;
    bool no_peer = rc == -1 && errno == EAGAIN;
    msgpack_sbuffer_destroy (&sb);
    int64_t now = util_mono_ms ();
    if (rc) {
        d->due_ms = now + S_NO_PEER_MS;
        if (no_peer)
            self->no_peer = d->wait_peer = true;
        return;
    }
    d->report_sent = true;
    d->report_deadline_ms = now + EASEL_REQUEST_TIMEOUT_MS;
}

/* ---- events in ---------------------------------------------------------- */

/* "host:port" of url (the whole url when it does not parse). */
static void
s_host_key (const char *url, char *out, size_t size)
{
    CURLU *u = curl_url ();
    char *host = NULL, *port = NULL;
    if (u && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        snprintf (out, size, "%s:%s", host, port);
    else
        snprintf (out, size, "%s", url);
    curl_free (host);
    curl_free (port);
    curl_url_cleanup (u);
}

static void
s_event_add (webhooker_t *self, const proto_event_t *ev)
{
    if (!ev->delivery_id[0] || !ev->url || !ev->secret || !ev->payload)
        return;
    delivery_t *have = zhashx_lookup (self->deliveries, ev->delivery_id);
    if (have) {
        /* known: take a rotated secret, and a redelivery (attempts reset) is due now */
        if (have->state == S_WAITING) {
            char *secret = strdup (ev->secret);
            if (secret) {
                free (have->secret);
                have->secret = secret;
            }
            if (ev->attempts < have->attempts) {
                have->attempts = ev->attempts;
                have->due_ms = util_mono_ms ();
            }
        }
        else
        if (ev->attempts < have->attempts - (have->state == S_REPORTING))
            have->again = true;         /* acted on once its report is ACKed */
        return;
    }
    /* already at the end of its schedule: nothing more to send */
    if (ev->attempts >= webhook_schedule_max_attempts (&self->schedule, EASEL_WEBHOOK_MAX_ATTEMPTS))
        return;
    delivery_t *d = calloc (1, sizeof *d);
    if (!d)
        return;
    d->owner = self;
    snprintf (d->delivery_id, sizeof d->delivery_id, "%s", ev->delivery_id);
    snprintf (d->event_id, sizeof d->event_id, "%s", ev->id);
    snprintf (d->req, sizeof d->req, "%s", ev->req);
    d->event_ms = ev->created_at_ms;
    d->seq = ev->seq;
    d->url = strdup (ev->url);
    d->secret = strdup (ev->secret);
    d->payload = strdup (ev->payload);
    d->attempts = ev->attempts;
    d->state = S_WAITING;
    s_host_key (ev->url, d->host, sizeof d->host);
    d->due_ms = util_mono_ms ();
    d->tr_sub_us = self->tr_sub_us;
    d->tr_fetch_us = self->tr_fetch_us;
    d->tr_reply_us = self->tr_reply_us;
    if (!d->url || !d->secret || !d->payload) {
        void *item = d;
        s_delivery_destroy (&item);
        return;
    }
    zhashx_insert (self->deliveries, d->delivery_id, d);
}

static void
s_on_events (webhooker_t *self, const char *data, size_t len)
{
    proto_events_t reply = { 0 };
    char err[PROTO_ERR_MAX] = "";
    if (self->trace)
        self->tr_reply_us = s_wall_us ();
    int rc = proto_events_decode (data, len, &reply, err);
    if (rc == 0 && strcmp (reply.rid, self->fetch_rid)) {
        proto_events_free (&reply);     /* an answer to a request we gave up on */
        return;
    }
    self->fetch_rid[0] = 0;
    if (rc) {
        log_warn ("bad EVENTS reply", "error", err, NULL);
        self->force_fetch = true;
        self->fetch_not_before_ms = util_mono_ms () + EASEL_RECONNECT_MIN_MS;
        return;
    }
    for (int i = 0; i < reply.nevents; i++)
        s_event_add (self, &reply.events[i]);
    if (reply.nevents >= EASEL_EVENTS_PAGE_MAX) {
        int64_t last = reply.events[reply.nevents - 1].seq;
        self->force_fetch = last > self->cursor;   /* next page */
        if (last > self->cursor)
            self->cursor = last;
    }
    else
        self->cursor = reply.last_seq;
    if (reply.last_seq > self->target_seq)
        self->target_seq = reply.last_seq;
    proto_events_free (&reply);
}

static void
s_sub_recv (webhooker_t *self)
{
    char topic[PROTO_SHORT_MAX], err[PROTO_ERR_MAX];
    int64_t seq = 0;
    zframe_t *body = NULL;
    if (bus_recv_event (self->sub, topic, &seq, &body, err)) {
        log_warn ("bad event message", "error", err, NULL);
        self->force_fetch = true;       /* something happened; ask */
        return;
    }
    if (strcmp (topic, PROTO_TOPIC_HEARTBEAT) == 0 && body) {
        proto_simple_t hb = { 0 };
        if (proto_simple_decode ((const char *) zframe_data (body), zframe_size (body), &hb, err) == 0
        &&  hb.last_seq > seq)
            seq = hb.last_seq;
    }
    else {
        if (self->trace)
            self->tr_sub_us = s_wall_us ();
        self->force_fetch = true;       /* every event: fetch (covers any gap) */
        /* a redelivery names an event at or before our cursor: look back to it */
        if (strcmp (topic, "webhook.redeliver") == 0 && seq > 0) {
            if (self->rewind_to < 0 || seq - 1 < self->rewind_to)
                self->rewind_to = seq - 1;
            /* in flight right now: that attempt started before the request, send once more */
            for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries))
                if (d->seq == seq && d->state != S_WAITING)
                    d->again = true;
        }
    }
    if (seq > self->target_seq)
        self->target_seq = seq;
    zframe_destroy (&body);
}

/* ---- deliveries --------------------------------------------------------- */

static size_t
s_on_body (char *ptr, size_t size, size_t nmemb, void *arg)
{
    delivery_t *d = arg;
    size_t n = size * nmemb;
    size_t room = EASEL_WEBHOOK_RESPONSE_KEEP_BYTES - d->response_len;
    size_t take = n < room ? n : room;
    memcpy (d->response + d->response_len, ptr, take);
    d->response_len += take;
    d->response[d->response_len] = 0;
    return n;                           /* the rest is read and dropped */
}

static curl_socket_t
s_on_open (void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    delivery_t *d = arg;
    char text[64];
    (void) purpose;
    if (!d->owner->allow_private && netguard_is_private (&addr->addr, text, sizeof text)) {
        snprintf (d->refused, sizeof d->refused, "%s", text);
        return CURL_SOCKET_BAD;
    }
    return socket (addr->family, addr->socktype, addr->protocol);
}

/* Appends "name: value" to the list; false on allocation failure. */
static bool
s_header (struct curl_slist **list, const char *name, const char *value)
{
    char line[WEBHOOK_HEADER_MAX + 64];
    snprintf (line, sizeof line, "%s: %s", name, value);
    struct curl_slist *next = curl_slist_append (*list, line);
    if (next)
        *list = next;
    return next != NULL;
}

/* Builds both signature headers from every secret in d->secret (space
   separated during a rotation). 0 / -1 when no secret can sign. */
static int
s_sign (delivery_t *d, int64_t t, char *asa, char *std, size_t size)
{
    size_t len = strlen (d->payload);
    int nsigned = 0;
    char copy[WEBHOOK_SECRET_MAX * S_MAX_SECRETS];
    char *save = NULL;
    snprintf (asa, size, "t=%" PRId64, t);
    std[0] = 0;
    snprintf (copy, sizeof copy, "%s", d->secret);
    for (char *s = strtok_r (copy, " ", &save); s && nsigned < S_MAX_SECRETS;
         s = strtok_r (NULL, " ", &save)) {
        char one_asa[WEBHOOK_ASA_MAX], one_std[WEBHOOK_STD_MAX], one_ed[WEBHOOK_ED_MAX];
        if (strncmp (s, "edsk_", 5) == 0) {      /* the account opted into ed25519 */
            size_t b = strlen (std);
            if (webhook_sign_ed25519 (s + 5, d->event_id, t, d->payload, len, one_ed) == 0)
                snprintf (std + b, size - b, "%s%s", b ? " " : "", one_ed);
            continue;
        }
        if (webhook_sign_asa (s, t, d->payload, len, one_asa)
        ||  webhook_sign_std (s, d->event_id, t, d->payload, len, one_std))
            continue;
        size_t a = strlen (asa), b = strlen (std);
        snprintf (asa + a, size - a, "%s", strchr (one_asa, ','));
        snprintf (std + b, size - b, "%s%s", b ? " " : "", one_std);
        nsigned++;
    }
    return nsigned ? 0 : -1;
}

/* Prometheus: attempts by outcome and their latency (common/metrics.h). */
static metrics_family_t *s_attempts_family;
static metrics_series_t *s_attempt_seconds, *s_delivery_seconds;

static void
s_metrics_init (void)
{
    s_attempts_family = metrics_counter ("easel_webhook_attempts_total",
                                         "Webhook delivery attempts, by outcome (delivered | retry | gave_up).",
                                         "outcome");
    metrics_get (s_attempts_family, "delivered");
    metrics_get (s_attempts_family, "retry");
    metrics_get (s_attempts_family, "gave_up");
    s_attempt_seconds = metrics_get (metrics_histogram ("easel_webhook_attempt_duration_seconds",
                                         "Time from sending a webhook to its answer (or error).", NULL,
                                         metrics_latency_buckets, metrics_latency_nbuckets));
    static const double buckets [] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000 };
    s_delivery_seconds = metrics_get (metrics_histogram ("easel_webhook_delivery_seconds",
                                         "Time from the event being written to its delivery (2xx), retries included.",
                                         NULL, buckets, (int) (sizeof buckets / sizeof buckets [0])));
}

static void
s_metrics_attempt (const char *outcome, double seconds)
{
    metrics_inc (metrics_get (s_attempts_family, outcome), 1);
    metrics_observe (s_attempt_seconds, seconds);
}

/* Turns the outcome of one attempt into the report, and decides what next. */
static void
s_attempt_done (webhooker_t *self, delivery_t *d, int status, const char *error,
                int64_t retry_after_s)
{
    int64_t now = util_mono_ms ();
    bool ok = error == NULL && status >= 200 && status < 300;
    d->attempts++;
    proto_delivery_report_free (&d->report);
    memset (&d->report, 0, sizeof d->report);
    proto_id_new ("req_", d->report.rid, sizeof d->report.rid);
    snprintf (d->report.delivery_id, sizeof d->report.delivery_id, "%s", d->delivery_id);
    d->report.ok = ok;
    d->report.status_code = status;
    d->report.latency_ms = now - d->started_ms;
    d->report.error = ok ? NULL : strdup (error ? error : "failed");
    d->report.response_head = d->response_len ? strdup (d->response) : NULL;
    int64_t delay = ok ? -1 : webhook_schedule_next_ms (&self->schedule, d->attempts,
                                                       EASEL_WEBHOOK_MAX_ATTEMPTS, status,
                                                       retry_after_s);
    /* a receiver that timed out or asked us to slow down gets at least min_retry_ms */
    bool slow_down = status == 429 || (error && strncmp (error, "timeout:", 8) == 0);
    if (delay >= 0 && slow_down && delay < self->min_retry_ms)
        delay = self->min_retry_ms;
    d->next_attempt_ms = delay < 0 ? -1 : now + delay;
    d->report.final = !ok && delay < 0;
    d->state = S_REPORTING;
    d->report_sent = false;
    d->due_ms = now;

    char code[16], attempt[16], next[32];
    snprintf (code, sizeof code, "%d", status);
    snprintf (attempt, sizeof attempt, "%d", d->attempts);
    snprintf (next, sizeof next, "%" PRId64, delay);
    (ok ? log_info : log_warn) ("webhook attempt", "delivery", d->delivery_id,
        "event", d->event_id, "attempt", attempt, "status", code,
        "outcome", ok ? "delivered" : delay < 0 ? "gave up" : "will retry",
        "retry_in_ms", ok ? "-" : next, "error", ok ? "" : d->report.error,
        "request_id", d->req, NULL);
    s_metrics_attempt (ok ? "delivered" : delay < 0 ? "gave_up" : "retry",
                       (double) d->report.latency_ms / 1000.0);
    if (ok && d->event_ms > 0)
        metrics_observe (s_delivery_seconds, (double) (util_now_ms () - d->event_ms) / 1000.0);
}

static void
s_delivery_start (webhooker_t *self, delivery_t *d)
{
    char asa[WEBHOOK_HEADER_MAX], std[WEBHOOK_HEADER_MAX], ts[24];
    int64_t t = util_now_ms () / 1000;
    d->response_len = 0;
    d->response[0] = 0;
    d->errbuf[0] = 0;
    d->refused[0] = 0;
    d->started_ms = util_mono_ms ();
    if (self->trace && d->attempts == 0)
        d->tr_start_us = s_wall_us ();
    if (s_sign (d, t, asa, std, sizeof asa)) {
        s_attempt_done (self, d, 0, "cannot_sign: the account's webhook secret is malformed", -1);
        return;
    }
    snprintf (ts, sizeof ts, "%" PRId64, t);
    curl_slist_free_all (d->headers);
    d->headers = NULL;
    d->easy = curl_easy_init ();
    if (!d->easy
    ||  !s_header (&d->headers, "Content-Type", "application/json")
    ||  !s_header (&d->headers, "X-ASA-Signature", asa)
    ||  !s_header (&d->headers, "webhook-id", d->event_id)
    ||  !s_header (&d->headers, "webhook-timestamp", ts)
    ||  !s_header (&d->headers, "webhook-signature", std)
    ||  !s_header (&d->headers, "Expect", "")) {
        if (d->easy)
            curl_easy_cleanup (d->easy);
        d->easy = NULL;
        d->due_ms = util_mono_ms () + S_REPORT_RETRY_MS;     /* out of memory: later */
        return;
    }
    CURL *e = d->easy;
    curl_easy_setopt (e, CURLOPT_URL, d->url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_POST, 1L);
    curl_easy_setopt (e, CURLOPT_POSTFIELDS, d->payload);
    curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (d->payload));
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, d->headers);
    curl_easy_setopt (e, CURLOPT_USERAGENT, "Easel-Webhooks/1");
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long) self->timeout_ms);
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (e, CURLOPT_PROXY, "");          /* a proxy would bypass the address check */
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, d);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETFUNCTION, s_on_open);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETDATA, d);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt (e, CURLOPT_PRIVATE, d);
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
        curl_easy_cleanup (e);
        d->easy = NULL;
        d->due_ms = util_mono_ms () + S_REPORT_RETRY_MS;
        return;
    }
    d->state = S_SENDING;
    s_host_count (self, d->host, +1);
}

/* --trace: where the time of a first attempt went, in ms after the event was
   written (the render's completed_at): the last event hint received before
   the delivery was known, the fetch that brought it and its reply, the
   transfer's start, then curl's own times from that start (request ready to
   send, first byte of the answer), the answer complete, and whether curl
   had to open a new connection (1) or reused one (0). */
static void
s_trace (delivery_t *d, CURL *e)
{
    curl_off_t pre = 0, first = 0;
    long fresh = 0;
    curl_easy_getinfo (e, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo (e, CURLINFO_STARTTRANSFER_TIME_T, &first);
    curl_easy_getinfo (e, CURLINFO_NUM_CONNECTS, &fresh);
    int64_t base = d->event_ms * 1000, now = s_wall_us ();
    char v[8][24];
    int64_t at[] = { d->tr_sub_us, d->tr_fetch_us, d->tr_reply_us, d->tr_start_us };
    for (int i = 0; i < 4; i++)
        snprintf (v[i], sizeof v[i], "%.2f", at[i] ? (double) (at[i] - base) / 1000.0 : -1.0);
    snprintf (v[4], sizeof v[4], "%.2f", (double) pre / 1000.0);
    snprintf (v[5], sizeof v[5], "%.2f", (double) first / 1000.0);
    snprintf (v[6], sizeof v[6], "%.2f", (double) (now - base) / 1000.0);
    snprintf (v[7], sizeof v[7], "%ld", fresh);
    d->tr_start_us = 0;                 /* the first attempt only */
    log_info ("webhook trace", "delivery", d->delivery_id, "sub_ms", v[0], "fetch_sent_ms", v[1],
              "fetch_reply_ms", v[2], "start_ms", v[3], "curl_sent_ms", v[4], "curl_first_byte_ms", v[5],
              "done_ms", v[6], "new_connections", v[7], NULL);
}

static void
s_delivery_finish (webhooker_t *self, CURL *e, CURLcode result)
{
    delivery_t *d = NULL;
    long status = 0;
    curl_off_t retry_after = 0;
    char error[512];
    curl_easy_getinfo (e, CURLINFO_PRIVATE, (char **) &d);
    curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo (e, CURLINFO_RETRY_AFTER, &retry_after);
    /* "Retry-After: 0" means now, which CURLINFO_RETRY_AFTER cannot tell from no header */
    struct curl_header *ra = NULL;
    int64_t retry_after_s = retry_after > 0 ? (int64_t) retry_after : -1;
    if (curl_easy_header (e, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK && ra && ra->value) {
        int64_t secs = 0;
        if (util_parse_i64 (ra->value, 0, WEBHOOK_STEP_MAX_S, &secs) == 0)
            retry_after_s = secs;
    }
    if (self->trace && d->tr_start_us)
        s_trace (d, e);
    curl_multi_remove_handle (self->multi, e);
    curl_easy_cleanup (e);
    d->easy = NULL;
    s_host_count (self, d->host, -1);
    /* every error reads "<class>: <detail>"; the deliveries list shows the class */
    const char *why = NULL;
    if (d->refused[0] && result != CURLE_OK) {
        snprintf (error, sizeof error,
                  "url_not_allowed: %s resolves to the private address %s", d->url, d->refused);
        why = error;
    }
    else if (result != CURLE_OK) {
        const char *cls = result == CURLE_OPERATION_TIMEDOUT ? "timeout"
                        : result == CURLE_COULDNT_RESOLVE_HOST ? "dns"
                        : result == CURLE_COULDNT_CONNECT ? "connect"
                        : result == CURLE_SSL_CONNECT_ERROR || result == CURLE_PEER_FAILED_VERIFICATION
                          ? "tls" : "transfer";
        snprintf (error, sizeof error, "%s: %s", cls,
                  d->errbuf[0] ? d->errbuf : curl_easy_strerror (result));
        why = error;
    }
    else if (status >= 300 && status < 400) {
        snprintf (error, sizeof error, "redirect: HTTP %ld; redirects are not followed", status);
        why = error;
    }
    else if (status < 200 || status >= 300) {
        snprintf (error, sizeof error, "http_status: HTTP %ld%s", status,
                  status == 410 ? " (gone: no more attempts)" : "");
        why = error;
    }
    s_attempt_done (self, d, (int) status, why, why ? retry_after_s : -1);
}

/* ---- replies from the scheduler ----------------------------------------- */

static delivery_t *
s_by_report_rid (webhooker_t *self, const char *rid)
{
    for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries))
        if (d->state == S_REPORTING && d->report_sent && strcmp (d->report.rid, rid) == 0)
            return d;
    return NULL;
}

static void
s_report_acked (webhooker_t *self, delivery_t *d)
{
    if (d->again) {                     /* a redelivery arrived meanwhile: a fresh schedule */
        d->again = false;
        d->attempts = 0;
        d->state = S_WAITING;
        d->due_ms = util_mono_ms ();
        return;
    }
    if (d->next_attempt_ms < 0) {
        zhashx_delete (self->deliveries, d->delivery_id);
        return;
    }
    d->state = S_WAITING;
    d->due_ms = d->next_attempt_ms;
}

static void
s_dealer_recv (webhooker_t *self)
{
    bus_msg_t msg = { 0 };
    char err[PROTO_ERR_MAX] = "";
    if (bus_recv (self->dealer, false, &msg, err)) {
        log_warn ("bad reply from scheduler", "error", err, NULL);
        bus_msg_free (&msg);
        return;
    }
    const char *data = (const char *) zframe_data (msg.body);
    size_t len = zframe_size (msg.body);
    self->backoff_ms = 0;
    if (msg.cmd == PROTO_EVENTS)
        s_on_events (self, data, len);
    else
    if (msg.cmd == PROTO_ACK) {
        proto_simple_t ack = { 0 };
        delivery_t *d = proto_simple_decode (data, len, &ack, err) == 0
                      ? s_by_report_rid (self, ack.rid) : NULL;
        if (d)
            s_report_acked (self, d);
    }
    else
    if (msg.cmd == PROTO_ERROR) {
        proto_errmsg_t em = { 0 };
        if (proto_errmsg_decode (data, len, &em, err) == 0) {
            const char *why = em.error.message ? em.error.message : em.error.code;
            delivery_t *d = s_by_report_rid (self, em.rid);
            if (strcmp (em.rid, self->fetch_rid) == 0) {
                log_warn ("EVENTS_SINCE refused", "error", why, NULL);
                self->fetch_rid[0] = 0;
                self->force_fetch = true;
                self->fetch_not_before_ms = util_mono_ms () + EASEL_RECONNECT_MIN_MS;
            }
            else
            if (d && em.status >= 500) {      /* the scheduler is struggling: report again */
                d->report_sent = false;
                d->due_ms = util_mono_ms () + S_REPORT_RETRY_MS;
            }
            else
            if (d) {                          /* it does not know this delivery: stop */
                log_warn ("delivery report refused", "delivery", d->delivery_id, "error", why, NULL);
                zhashx_delete (self->deliveries, d->delivery_id);
            }
        }
        proto_errmsg_free (&em);
    }
    bus_msg_free (&msg);
}

/* ---- the loop ------------------------------------------------------------ */

/* Starts what is due, notices what timed out; returns the next time (mono ms)
   something will be due. */
static int64_t
s_tick (webhooker_t *self)
{
    int64_t now = util_mono_ms ();
    int64_t next = now + S_POLL_MAX_MS;
    if (self->fetch_rid[0] && now >= self->fetch_deadline_ms) {
        s_scheduler_lost (self, "EVENTS_SINCE timed out");
        return now;
    }
    for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries))
        if (d->state == S_REPORTING && d->report_sent && now >= d->report_deadline_ms) {
            s_scheduler_lost (self, "DELIVERY_REPORT timed out");
            return now;
        }
    if (now >= self->resync_at_ms && !self->fetch_rid[0]) {
        self->cursor = 0;
        self->force_fetch = true;
        self->resync_at_ms = now + S_RESYNC_MS;
    }
    if (!self->fetch_rid[0] && self->rewind_to >= 0) {
        if (self->rewind_to < self->cursor)
            self->cursor = self->rewind_to;
        self->rewind_to = -1;
        self->force_fetch = true;
        self->fetch_not_before_ms = now;
    }
    if (!self->fetch_rid[0] && (self->force_fetch || self->target_seq > self->cursor)) {
        if (now >= self->fetch_not_before_ms)
            s_fetch (self);
        if (!self->fetch_rid[0] && self->fetch_not_before_ms < next)
            next = self->fetch_not_before_ms;
    }
    if (self->fetch_rid[0] && self->fetch_deadline_ms < next)
        next = self->fetch_deadline_ms;
    for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries)) {
        if (d->state == S_WAITING && now >= d->due_ms) {
            /* its host is at the cap: a transfer ending there wakes the loop */
            if ((intptr_t) zhashx_lookup (self->host_busy, d->host) >= self->per_host)
                continue;
            s_delivery_start (self, d);
        }
        else
        if (d->state == S_REPORTING && !d->report_sent && now >= d->due_ms)
            s_report_send (self, d);
        int64_t at = d->state == S_WAITING ? d->due_ms
                   : d->state != S_REPORTING ? INT64_MAX
                   : d->report_sent ? d->report_deadline_ms : d->due_ms;
        if (at < next)
            next = at;
    }
    return next;
}

static void
s_run (webhooker_t *self)
{
    zmq_pollitem_t *items = NULL;
    size_t items_cap = 0;
    while (!zsys_interrupted) {
        int64_t next = s_tick (self);
        long curl_ms = -1;
        curl_multi_timeout (self->multi, &curl_ms);
        int64_t wait = next - util_mono_ms ();
        if (curl_ms >= 0 && curl_ms < wait)
            wait = curl_ms;
        if (wait < 0)
            wait = 0;

        fd_set r, w, x;
        int maxfd = -1;
        FD_ZERO (&r); FD_ZERO (&w); FD_ZERO (&x);
        curl_multi_fdset (self->multi, &r, &w, &x, &maxfd);
        size_t need = 2 + (size_t) (maxfd + 1);
        if (need > items_cap) {
            zmq_pollitem_t *grown = realloc (items, need * sizeof *items);
            if (!grown)
                log_fatal ("out of memory", NULL);
            items = grown;
            items_cap = need;
        }
        size_t n = 0;
        items[n++] = (zmq_pollitem_t) { zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0 };
        items[n++] = (zmq_pollitem_t) { zsock_resolve (self->dealer), 0,
                                        (short) (ZMQ_POLLIN | (self->no_peer ? ZMQ_POLLOUT : 0)), 0 };
        for (int fd = 0; fd <= maxfd; fd++) {
            short ev = (FD_ISSET (fd, &r) ? ZMQ_POLLIN : 0) | (FD_ISSET (fd, &w) ? ZMQ_POLLOUT : 0)
                     | (FD_ISSET (fd, &x) ? ZMQ_POLLERR : 0);
            if (ev)
                items[n++] = (zmq_pollitem_t) { NULL, fd, ev, 0 };
        }
        if (zmq_poll (items, (int) n, (long) wait) < 0 && zsys_interrupted)
            break;
        while (zsock_events (self->sub) & ZMQ_POLLIN)
            s_sub_recv (self);
        while (zsock_events (self->dealer) & ZMQ_POLLIN)
            s_dealer_recv (self);
        if (self->no_peer && (zsock_events (self->dealer) & ZMQ_POLLOUT))
            s_peer_up (self);
        int running = 0;
        curl_multi_perform (self->multi, &running);
        CURLMsg *m;
        int left = 0;
        while ((m = curl_multi_info_read (self->multi, &left)))
            if (m->msg == CURLMSG_DONE)
                s_delivery_finish (self, m->easy_handle, m->data.result);
    }
    free (items);
}

int
main (int argc, char **argv)
{
    log_init ("webhooker");
    webhooker_t self = { 0 };
    self.api_ep = util_config (argc, argv, "--api", "EASEL_API_ENDPOINT", "tcp://127.0.0.1:5555");
    self.events_ep = util_config (argc, argv, "--events", "EASEL_EVENTS_ENDPOINT", "tcp://127.0.0.1:5557");
    self.allow_private = util_config_flag (argc, argv, "--allow-private-networks",
                                           "EASEL_ALLOW_PRIVATE_NETWORKS");
    const char *schedule = util_config (argc, argv, "--retry-schedule", "EASEL_WEBHOOK_SCHEDULE",
                                        WEBHOOK_SCHEDULE_DEFAULT);
    if (webhook_schedule_parse (&self.schedule, schedule))
        log_fatal ("bad retry schedule: want comma-separated seconds like 5,300,1800",
                   "value", schedule, NULL);
    const char *timeout = util_config (argc, argv, "--timeout-ms", "EASEL_WEBHOOK_TIMEOUT_MS", NULL);
    const char *per_host = util_config (argc, argv, "--per-host", "EASEL_WEBHOOK_PER_HOST", NULL);
    const char *min_retry = util_config (argc, argv, "--min-retry-ms", "EASEL_WEBHOOK_MIN_RETRY_MS", NULL);
    self.timeout_ms = EASEL_WEBHOOK_TIMEOUT_MS;
    self.per_host = EASEL_WEBHOOK_PER_HOST;
    self.min_retry_ms = EASEL_WEBHOOK_MIN_RETRY_MS;
    self.rewind_to = -1;
    self.trace = util_config_flag (argc, argv, "--trace", "EASEL_WEBHOOK_TRACE");
    if (timeout && util_parse_i64 (timeout, EASEL_WEBHOOK_TIMEOUT_MIN_MS, EASEL_WEBHOOK_TIMEOUT_MAX_MS,
                                   &self.timeout_ms))
        log_fatal ("bad webhook timeout: want 100..120000 ms", "value", timeout, NULL);
    if (per_host && util_parse_i64 (per_host, 1, EASEL_WEBHOOK_PER_HOST_MAX, &self.per_host))
        log_fatal ("bad per-host concurrency: want 1..256", "value", per_host, NULL);
    if (min_retry && util_parse_i64 (min_retry, 0, 3600000, &self.min_retry_ms))
        log_fatal ("bad minimum retry delay: want 0..3600000 ms", "value", min_retry, NULL);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        log_fatal ("cannot initialise libcurl", NULL);
    s_metrics_init ();
    char merr[256];
    int mrc = metrics_serve (util_config (argc, argv, "--metrics", "EASEL_METRICS_LISTEN", ""),
                             merr, sizeof merr);
    if (mrc == METRICS_SERVE_CANNOT_LISTEN)
        log_fatal_bind ("cannot serve metrics", "reason", merr, NULL);
    if (mrc)
        log_fatal ("cannot serve metrics", "reason", merr, NULL);
    zsys_init ();
    zsys_set_logstream (NULL);          /* CZMQ must not write plain lines to stdout */
    const char *bus_endpoints [] = { self.api_ep, self.events_ep, NULL };
    char sec_err [BUS_SECURITY_ERR_MAX] = "";
    if (bus_security_init (argc, argv, BUS_ROLE_CLIENT, bus_endpoints, sec_err))
        log_fatal ("bad bus security configuration", "reason", sec_err, NULL);

    /* Subscribe first, then catch up: an event committed in between is both
       published and fetched, never neither. */
    self.sub = zsock_new (ZMQ_SUB);
    if (!self.sub)
        log_fatal ("cannot create SUB socket", NULL);
    bus_socket_setup (self.sub);
    s_reconnect_fast (self.sub);
    bus_security_apply (self.sub);
    zsock_set_subscribe (self.sub, "");
    if (zsock_connect (self.sub, "%s", self.events_ep))
        log_fatal ("cannot connect to the events endpoint", "endpoint", self.events_ep, NULL);
    s_dealer_reset (&self);
    self.multi = curl_multi_init ();
    self.deliveries = zhashx_new ();
    self.host_busy = zhashx_new ();
    if (!self.multi || !self.deliveries || !self.host_busy)
        log_fatal ("out of memory", NULL);
    zhashx_set_destructor (self.deliveries, s_delivery_destroy);
    self.force_fetch = true;
    self.resync_at_ms = util_mono_ms () + S_RESYNC_MS;
    char timeout_text[24], per_host_text[24], min_retry_text[24];
    snprintf (timeout_text, sizeof timeout_text, "%" PRId64, self.timeout_ms);
    snprintf (per_host_text, sizeof per_host_text, "%" PRId64, self.per_host);
    snprintf (min_retry_text, sizeof min_retry_text, "%" PRId64, self.min_retry_ms);
    log_info ("webhooker started", "api", self.api_ep, "events", self.events_ep,
              "schedule", schedule, "private_networks", self.allow_private ? "allowed" : "refused",
              "timeout_ms", timeout_text, "per_host", per_host_text, "min_retry_ms", min_retry_text, NULL);

    s_run (&self);

    log_info ("webhooker stopping", NULL);
    metrics_serve_stop ();
    zhashx_destroy (&self.deliveries);
    zhashx_destroy (&self.host_busy);
    curl_multi_cleanup (self.multi);
    zsock_destroy (&self.dealer);
    zsock_destroy (&self.sub);
    bus_security_shutdown ();
    curl_global_cleanup ();
    return 0;
}
