/*  main.c: easel-webhooker, the signed webhook delivery service.

    One thread owns everything: the SUB socket (events, a hint only), the
    DEALER to the scheduler's api socket (EVENTS_SINCE and DELIVERY_REPORT),
    and one libcurl multi handle that runs every delivery concurrently, so a
    slow endpoint never blocks the others. zmq_poll waits on both sockets and
    on the sockets curl asked for through its socket callback
    (curl_sockets.h: no descriptor limit), and wakes for curl's timer. At
    most `per_host` transfers run to one host:port at a time
    (EASEL_WEBHOOK_PER_HOST); the rest are parked on their host
    (host_table.h) and go as transfers there end, without holding up
    deliveries to other hosts.

    A delivery lives in `deliveries` (keyed by delivery id) from the moment an
    EVENTS reply names it until the scheduler has ACKed the report of its last
    attempt, so the same delivery is never sent twice at once and no report is
    forgotten. States: WAITING (due at due_ms) -> SENDING (curl transfer,
    attempt.h) -> REPORTING (report sent or to be re-sent) -> WAITING again
    or gone. Each delivery that waits for a time (its next attempt, its
    report's (re)send) is in one timer heap (timer_heap.h), so a wake-up
    looks only at what is due; a sent report's deadline is the client's.

    The link to the scheduler is a bus client (common/bus_client.h): every
    request has a rid and a deadline, and a reply is matched to its request
    (the fetch, or the delivery whose report it answers) by rid. The
    scheduler may be down: a request without an answer in
    EASEL_REQUEST_TIMEOUT_MS resets the client (a fresh socket, nothing
    waiting) and what was in flight is retried after its backoff; the
    webhooker never exits for it. A request that finds no scheduler
    connected at all (at start, after a restart) goes as soon as the socket
    can send again (polled for POLLOUT), not after a fixed pause: that pause
    was the whole of the old p99 (bench/README.md). SIGINT/SIGTERM exit 0.
    --trace logs where each delivery's time went (attempt.c, s_trace).
    Memory: delivery_t owns its strings, curl handle and report; the table
    `deliveries` owns the deliveries, the heap, the host table and the bus
    client's tags only link them.  */
#include <czmq.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "attempt.h"
#include "bus.h"
#include "bus_client.h"
#include "bus_security.h"
#include "config.h"
#include "curl_sockets.h"
#include "host_table.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "timer_heap.h"
#include "util.h"
#include "webhook_policy.h"

#define S_RESYNC_MS        60000   /* refetch everything pending this often */
#define S_REPORT_RETRY_MS  1000    /* a report the scheduler could not take waits this long */
#define S_NO_PEER_MS       250     /* no scheduler connected yet (IMMEDIATE): try again by then */
#define S_RECONNECT_IVL_MS 10      /* first reconnect to the scheduler after this, */
#define S_RECONNECT_IVL_MAX_MS 1000 /* doubling up to this */
#define S_POLL_MAX_MS      1000

/* the delivery whose timer node is n */
#define S_OF_TIMER(n) ((delivery_t *) (void *) ((char *) (n) - offsetof (delivery_t, timer)))

typedef struct _webhooker_t webhooker_t;

struct _webhooker_t {
    const char *api_ep, *events_ep;
    attempt_conf_t conf;                /* how attempts are made (attempt.h) */
    int64_t per_host;                   /* concurrent transfers to one host:port */
    host_table_t *hosts;                /* transfers per host and who waits for one */
    timer_heap_t *heap;                 /* deliveries waiting for a time */
    curl_sockets_t *socks;              /* the sockets and timer curl wants */
    int64_t rewind_to;                  /* a redelivery hint: refetch from here; -1 none */
    zsock_t *sub;
    bus_client_t *api;                  /* requests to the scheduler; tags: fetch_rid or a delivery */
    CURLM *multi;
    zhashx_t *deliveries;               /* delivery_id -> delivery_t */
    int64_t cursor;                     /* events up to here are in `deliveries` or done */
    int64_t target_seq;                 /* highest seq the bus told us exists */
    bool force_fetch;                   /* start, resync, next page, failed fetch */
    char fetch_rid[PROTO_ID_MAX];       /* "" when no fetch is in flight */
    int64_t fetch_not_before_ms, resync_at_ms;
    bool no_peer;                       /* a send found no scheduler: poll the client for POLLOUT */
    bool fetch_wait_peer;               /* the fetch waits for that, not for a backoff */
    int64_t tr_sub_us;                  /* last event hint received (wall us) */
    int64_t tr_fetch_us;                /* the fetch in flight was sent (wall us) */
    int64_t tr_reply_us;                /* the EVENTS reply being handled arrived (wall us) */
};

/* Puts d's timer where its state says: its next attempt (WAITING), its
   report's send (REPORTING, not sent) or deadline (sent); none while its
   transfer runs or while it is parked on its host (due already). Out of
   memory is fatal: a delivery without its timer would never go. A sent
   report has no timer: its deadline is the bus client's. */
static void
s_schedule (webhooker_t *self, delivery_t *d)
{
    int64_t at = d->parked_on || d->state == DELIVERY_SENDING ? -1
               : d->state == DELIVERY_WAITING ? d->due_ms
               : d->report_sent ? -1 : d->due_ms;
    if (at < 0)
        timer_heap_remove (self->heap, &d->timer);
    else
    if (timer_heap_update (self->heap, &d->timer, at))
        log_fatal ("out of memory", NULL);
}

/* d's report is no longer waiting for an answer. */
static void
s_report_unsent (webhooker_t *self, delivery_t *d)
{
    if (d->report_sent)
        bus_client_forget (self->api, d->report.rid);
    d->report_sent = false;
}

/* A transfer to host ended (or its delivery went): the first delivery
   parked there, if any, is due again. */
static void
s_host_release (webhooker_t *self, const char *host)
{
    delivery_t *next = host_table_release (self->hosts, host);
    if (next)
        s_schedule (self, next);
}

static void
s_delivery_destroy (void **item)
{
    delivery_t *d = *item;
    if (!d)
        return;
    webhooker_t *self = d->owner;
    timer_heap_remove (self->heap, &d->timer);
    host_table_unpark (self->hosts, d);
    s_report_unsent (self, d);
    if (d->easy) {
        curl_multi_remove_handle (self->multi, d->easy);
        curl_easy_cleanup (d->easy);
        d->easy = NULL;
        s_host_release (self, d->host);
    }
    curl_slist_free_all (d->headers);
    proto_delivery_report_free (&d->report);
    free (d->url);
    free (d->secret);
    free (d->payload);
    free (d);
    *item = NULL;
}

/* ---- the link to the scheduler ----------------------------------------- */

/* libzmq retries a refused connect after 100 ms by default: a scheduler that
   starts (or restarts) just after us would wait that long for its first
   event. Retry sooner, doubling up to S_RECONNECT_IVL_MAX_MS. */
static void
s_reconnect_fast (zsock_t *sock)
{
    zsock_set_reconnect_ivl (sock, S_RECONNECT_IVL_MS);
    zsock_set_reconnect_ivl_max (sock, S_RECONNECT_IVL_MAX_MS);
}

/* The client has a scheduler again after a send found none: what waited for
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
        if (d->wait_peer && d->state == DELIVERY_REPORTING && !d->report_sent) {
            d->due_ms = now;
            s_schedule (self, d);
        }
        d->wait_peer = false;
    }
}

/* The scheduler did not answer or could not be reached: reset the client
   (a fresh socket, nothing waiting) and retry what was in flight after its
   growing pause. */
static void
s_scheduler_lost (webhooker_t *self, const char *why)
{
    int64_t now = util_mono_ms ();
    log_warn ("scheduler not answering", "reason", why, NULL);
    int pause = bus_client_reset (self->api);
    if (self->fetch_rid[0]) {
        self->fetch_rid[0] = 0;
        self->force_fetch = true;
    }
    self->fetch_not_before_ms = now + pause;
    self->fetch_wait_peer = false;      /* the backoff rules now, not a new connection */
    for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries)) {
        d->wait_peer = false;
        if (d->state == DELIVERY_REPORTING && d->report_sent) {
            d->report_sent = false;     /* the reset forgot it already */
            d->due_ms = now + pause;
            s_schedule (self, d);
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
           ? bus_client_send (self->api, PROTO_EVENTS_SINCE, &sb, req.rid, EASEL_REQUEST_TIMEOUT_MS,
                              self->fetch_rid) : -2;
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
    if (self->conf.trace)
        self->tr_fetch_us = attempt_wall_us ();
    self->force_fetch = false;
}

static void
s_report_send (webhooker_t *self, delivery_t *d)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int rc = proto_delivery_report_encode (&d->report, &sb) == 0
           ? bus_client_send (self->api, PROTO_DELIVERY_REPORT, &sb, d->report.rid,
                              EASEL_REQUEST_TIMEOUT_MS, d) : -2;
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
}

/* ---- events in ---------------------------------------------------------- */

static void
s_event_add (webhooker_t *self, const proto_event_t *ev)
{
    if (!ev->delivery_id[0] || !ev->url || !ev->secret || !ev->payload)
        return;
    delivery_t *have = zhashx_lookup (self->deliveries, ev->delivery_id);
    if (have) {
        /* known: take a rotated secret, and a redelivery (attempts reset) is due now */
        if (have->state == DELIVERY_WAITING) {
            char *secret = strdup (ev->secret);
            if (secret) {
                free (have->secret);
                have->secret = secret;
            }
            if (ev->attempts < have->attempts) {
                have->attempts = ev->attempts;
                have->due_ms = util_mono_ms ();
                s_schedule (self, have);
            }
        }
        else
        if (ev->attempts < have->attempts - (have->state == DELIVERY_REPORTING))
            have->again = true;         /* acted on once its report is ACKed */
        return;
    }
    /* already at the end of its schedule: nothing more to send */
    if (ev->attempts >= webhook_schedule_max_attempts (&self->conf.schedule, EASEL_WEBHOOK_MAX_ATTEMPTS))
        return;
    delivery_t *d = calloc (1, sizeof *d);
    if (!d)
        return;
    d->owner = self;
    d->conf = &self->conf;
    timer_heap_node_init (&d->timer);
    snprintf (d->delivery_id, sizeof d->delivery_id, "%s", ev->delivery_id);
    snprintf (d->event_id, sizeof d->event_id, "%s", ev->id);
    snprintf (d->req, sizeof d->req, "%s", ev->req);
    d->event_ms = ev->created_at_ms;
    d->seq = ev->seq;
    d->url = strdup (ev->url);
    d->secret = strdup (ev->secret);
    d->payload = strdup (ev->payload);
    d->attempts = ev->attempts;
    d->state = DELIVERY_WAITING;
    attempt_host_key (ev->url, d->host, sizeof d->host);
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
    s_schedule (self, d);
}

static void
s_on_events (webhooker_t *self, const char *data, size_t len)
{
    proto_events_t reply = { 0 };
    char err[PROTO_ERR_MAX] = "";
    if (self->conf.trace)
        self->tr_reply_us = attempt_wall_us ();
    int rc = proto_events_decode (data, len, &reply, err);
    self->fetch_rid[0] = 0;             /* the client matched it to the fetch in flight */
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
    /* the render state stream (the gateways'): its seq is its own, not an event's */
    if (strncmp (topic, PROTO_TOPIC_STATE, strlen (PROTO_TOPIC_STATE)) == 0) {
        zframe_destroy (&body);
        return;
    }
    if (strcmp (topic, PROTO_TOPIC_HEARTBEAT) == 0 && body) {
        proto_simple_t hb = { 0 };
        if (proto_simple_decode ((const char *) zframe_data (body), zframe_size (body), &hb, err) == 0
        &&  hb.last_seq > seq)
            seq = hb.last_seq;
    }
    else {
        if (self->conf.trace)
            self->tr_sub_us = attempt_wall_us ();
        self->force_fetch = true;       /* every event: fetch (covers any gap) */
        /* a redelivery names an event at or before our cursor: look back to it */
        if (strcmp (topic, "webhook.redeliver") == 0 && seq > 0) {
            if (self->rewind_to < 0 || seq - 1 < self->rewind_to)
                self->rewind_to = seq - 1;
            /* in flight right now: that attempt started before the request, send once more */
            for (delivery_t *d = zhashx_first (self->deliveries); d; d = zhashx_next (self->deliveries))
                if (d->seq == seq && d->state != DELIVERY_WAITING)
                    d->again = true;
        }
    }
    if (seq > self->target_seq)
        self->target_seq = seq;
    zframe_destroy (&body);
}

/* ---- deliveries --------------------------------------------------------- */
/* ---- replies from the scheduler ----------------------------------------- */

static void
s_report_acked (webhooker_t *self, delivery_t *d)
{
    s_report_unsent (self, d);
    if (d->again) {                     /* a redelivery arrived meanwhile: a fresh schedule */
        d->again = false;
        d->attempts = 0;
        d->state = DELIVERY_WAITING;
        d->due_ms = util_mono_ms ();
    }
    else
    if (d->next_attempt_ms < 0) {
        zhashx_delete (self->deliveries, d->delivery_id);
        return;
    }
    else {
        d->state = DELIVERY_WAITING;
        d->due_ms = d->next_attempt_ms;
    }
    s_schedule (self, d);
}

/* The answer to the fetch in flight: EVENTS, or an ERROR refusing it. */
static void
s_on_fetch_reply (webhooker_t *self, const bus_reply_t *r, const char *data, size_t len)
{
    char err[PROTO_ERR_MAX] = "";
    if (r->cmd == PROTO_EVENTS) {
        s_on_events (self, data, len);
        return;
    }
    proto_errmsg_t em = { 0 };
    const char *why = proto_errmsg_decode (data, len, &em, err) == 0
                    ? (em.error.message ? em.error.message : em.error.code) : err;
    log_warn ("EVENTS_SINCE refused", "error", why, NULL);
    proto_errmsg_free (&em);
    self->fetch_rid[0] = 0;
    self->force_fetch = true;
    self->fetch_not_before_ms = util_mono_ms () + EASEL_RECONNECT_MIN_MS;
}

/* The answer to d's report: ACK, or an ERROR (5xx: report again; else the
   scheduler does not know this delivery: stop). */
static void
s_on_report_reply (webhooker_t *self, delivery_t *d, const bus_reply_t *r, const char *data, size_t len)
{
    char err[PROTO_ERR_MAX] = "";
    d->report_sent = false;             /* the client waits for it no more */
    if (r->cmd == PROTO_ACK) {
        s_report_acked (self, d);
        return;
    }
    proto_errmsg_t em = { 0 };
    int rc = r->cmd == PROTO_ERROR ? proto_errmsg_decode (data, len, &em, err) : -1;
    if (rc == 0 && em.status < 500) {
        log_warn ("delivery report refused", "delivery", d->delivery_id,
                  "error", em.error.message ? em.error.message : em.error.code, NULL);
        zhashx_delete (self->deliveries, d->delivery_id);
    }
    else {                              /* the scheduler is struggling: report again */
        d->due_ms = util_mono_ms () + S_REPORT_RETRY_MS;
        s_schedule (self, d);
    }
    proto_errmsg_free (&em);
}

static void
s_api_recv (webhooker_t *self)
{
    bus_reply_t r;
    char err[PROTO_ERR_MAX] = "";
    if (bus_client_recv (self->api, &r, err)) {
        if (err[0])
            log_warn ("bad reply from scheduler", "error", err, NULL);
        return;
    }
    const char *data = (const char *) zframe_data (r.body);
    size_t len = zframe_size (r.body);
    if (r.tag == self->fetch_rid)
        s_on_fetch_reply (self, &r, data, len);
    else {
        delivery_t *d = r.tag;
        if (d->state == DELIVERY_REPORTING && d->report_sent)
            s_on_report_reply (self, d, &r, data, len);
    }
    zframe_destroy (&r.body);
}

/* ---- the loop ------------------------------------------------------------ */

/* Starts an attempt of d (due), or parks it when its host is at the cap. */
static void
s_delivery_start (webhooker_t *self, delivery_t *d)
{
    if (!host_table_acquire (self->hosts, d->host)) {
        host_table_park (self->hosts, d);       /* a transfer ending there unparks it */
        return;
    }
    if (attempt_start (d, self->multi) != 0)
        s_host_release (self, d->host);         /* no transfer: the slot is free again */
}

/* Starts what is due, notices what timed out; returns the next time (mono ms)
   something will be due. Looks only at deliveries whose time has come. */
static int64_t
s_tick (webhooker_t *self)
{
    int64_t now = util_mono_ms ();
    int64_t next = now + S_POLL_MAX_MS;
    if (bus_client_expired (self->api, now)) {
        s_scheduler_lost (self, "a request to the scheduler timed out");
        return now;
    }
    timer_heap_node_t *top;
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
    int64_t deadline = bus_client_deadline (self->api);
    if (deadline >= 0 && deadline < next)
        next = deadline;
    while ((top = timer_heap_peek (self->heap)) && top->due_ms <= now) {
        delivery_t *d = S_OF_TIMER (top);
        timer_heap_pop (self->heap);
        if (d->state == DELIVERY_WAITING)
            s_delivery_start (self, d);
        else
            s_report_send (self, d);
        s_schedule (self, d);
    }
    if (top && top->due_ms < next)
        next = top->due_ms;
    return next;
}

/* curl finished transfers: their reports are due, their hosts have a slot. */
static void
s_transfers_done (webhooker_t *self)
{
    CURLMsg *m;
    int left = 0;
    while ((m = curl_multi_info_read (self->multi, &left)))
        if (m->msg == CURLMSG_DONE) {
            delivery_t *d = attempt_finish (self->multi, m->easy_handle, m->data.result);
            s_host_release (self, d->host);
            s_schedule (self, d);
        }
}

static void
s_run (webhooker_t *self)
{
    zmq_pollitem_t *items = NULL;
    size_t items_cap = 0;
    while (!zsys_interrupted) {
        int64_t next = s_tick (self);
        int64_t now = util_mono_ms ();
        int64_t curl_ms = curl_sockets_timeout_ms (self->socks, now);
        int64_t wait = next - now;
        if (curl_ms >= 0 && curl_ms < wait)
            wait = curl_ms;
        if (wait < 0)
            wait = 0;
        size_t need = 2 + curl_sockets_count (self->socks);
        if (need > items_cap) {
            zmq_pollitem_t *grown = realloc (items, need * sizeof *items);
            if (!grown)
                log_fatal ("out of memory", NULL);
            items = grown;
            items_cap = need;
        }
        size_t n = 0;
        items[n++] = (zmq_pollitem_t) { zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0 };
        zsock_t *api = bus_client_sock (self->api);
        if (!api)
            log_fatal ("cannot connect to the api endpoint", "endpoint", self->api_ep, NULL);
        items[n++] = (zmq_pollitem_t) { zsock_resolve (api), 0,
                                        (short) (ZMQ_POLLIN | (self->no_peer ? ZMQ_POLLOUT : 0)), 0 };
        n += curl_sockets_pollitems (self->socks, items + n);
        if (zmq_poll (items, (int) n, (long) wait) < 0 && zsys_interrupted)
            break;
        while (zsock_events (self->sub) & ZMQ_POLLIN)
            s_sub_recv (self);
        while (zsock_events (api) & ZMQ_POLLIN)
            s_api_recv (self);
        if (self->no_peer && (zsock_events (api) & ZMQ_POLLOUT))
            s_peer_up (self);
        curl_sockets_drive (self->socks, items + 2, n - 2, util_mono_ms ());
        s_transfers_done (self);
    }
    free (items);
}

int
main (int argc, char **argv)
{
    log_init ("webhooker");
    webhooker_t self = { 0 };
    const char *schedule = NULL, *metrics = NULL;
    const config_opt_t rows [] = {
        CONFIG_API_ENDPOINT (&self.api_ep),
        CONFIG_EVENTS_ENDPOINT (&self.events_ep),
        CONFIG_ALLOW_PRIVATE (&self.conf.allow_private),
        { .flag = "--retry-schedule", .env = "EASEL_WEBHOOK_SCHEDULE", .kind = CONFIG_TEXT,
          .text = WEBHOOK_SCHEDULE_DEFAULT, .help = "seconds between attempts, comma-separated",
          .out_text = &schedule },
        { .flag = "--timeout-ms", .env = "EASEL_WEBHOOK_TIMEOUT_MS", .kind = CONFIG_INT,
          .num = EASEL_WEBHOOK_TIMEOUT_MS, .min = EASEL_WEBHOOK_TIMEOUT_MIN_MS,
          .max = EASEL_WEBHOOK_TIMEOUT_MAX_MS, .help = "one attempt", .out_num = &self.conf.timeout_ms },
        { .flag = "--per-host", .env = "EASEL_WEBHOOK_PER_HOST", .kind = CONFIG_INT,
          .num = EASEL_WEBHOOK_PER_HOST, .min = 1, .max = EASEL_WEBHOOK_PER_HOST_MAX,
          .help = "concurrent requests to one host:port", .out_num = &self.per_host },
        { .flag = "--min-retry-ms", .env = "EASEL_WEBHOOK_MIN_RETRY_MS", .kind = CONFIG_INT,
          .num = EASEL_WEBHOOK_MIN_RETRY_MS, .min = 0, .max = 3600000,
          .help = "least wait after a timeout or 429", .out_num = &self.conf.min_retry_ms },
        { .flag = "--trace", .env = "EASEL_WEBHOOK_TRACE", .kind = CONFIG_BOOL,
          .help = "`1` logs one `webhook trace` line per first attempt: `sub_ms` (last event hint "
          "received), `fetch_sent_ms`, `fetch_reply_ms` (the `EVENTS_SINCE` that brought the "
          "delivery), `start_ms` (HTTP transfer started), `done_ms` (answer complete), all in ms "
          "after the event was written (a render's `completed_at`), then curl's `curl_sent_ms` / "
          "`curl_first_byte_ms` from the start and `new_connections` (`0`: a kept-alive connection "
          "was reused). For finding where delivery latency goes; `bench/webhooks.py` turns it on",
          .out_bool = &self.conf.trace },
        CONFIG_METRICS (&metrics),
        BUS_SECURITY_CONFIG_CLIENT,
    };
    const config_table_t table = CONFIG_TABLE ("webhooker", "Delivers the scheduler's events as "
                                               "signed webhooks.", rows);
    config_load (&table, argc, argv);
    if (webhook_schedule_parse (&self.conf.schedule, schedule))
        log_fatal ("bad configuration", "reason", "--retry-schedule: not a retry schedule: want comma-separated seconds "
                   "like 5,300,1800", "value", schedule, NULL);
    self.rewind_to = -1;
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        log_fatal ("cannot initialise libcurl", NULL);
    attempt_metrics_init ();
    char merr[256];
    int mrc = metrics_serve (metrics, merr, sizeof merr);
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
    if (bus_connect (self.sub, self.events_ep))
        log_fatal ("cannot connect to the events endpoint", "endpoint", self.events_ep, NULL);
    self.api = bus_client_new (self.api_ep);
    if (self.api)
        bus_client_set_reconnect (self.api, S_RECONNECT_IVL_MS, S_RECONNECT_IVL_MAX_MS);
    if (!self.api || !bus_client_sock (self.api))
        log_fatal ("cannot connect to the api endpoint", "endpoint", self.api_ep, NULL);
    self.multi = curl_multi_init ();
    self.socks = self.multi ? curl_sockets_new (self.multi) : NULL;
    self.deliveries = zhashx_new ();
    self.hosts = host_table_new (self.per_host);
    self.heap = timer_heap_new ();
    if (!self.socks || !self.deliveries || !self.hosts || !self.heap)
        log_fatal ("out of memory", NULL);
    zhashx_set_destructor (self.deliveries, s_delivery_destroy);
    self.force_fetch = true;
    self.resync_at_ms = util_mono_ms () + S_RESYNC_MS;
    char timeout_text[24], per_host_text[24], min_retry_text[24];
    snprintf (timeout_text, sizeof timeout_text, "%" PRId64, self.conf.timeout_ms);
    snprintf (per_host_text, sizeof per_host_text, "%" PRId64, self.per_host);
    snprintf (min_retry_text, sizeof min_retry_text, "%" PRId64, self.conf.min_retry_ms);
    log_info ("webhooker started", "api", self.api_ep, "events", self.events_ep,
              "schedule", schedule, "private_networks", self.conf.allow_private ? "allowed" : "refused",
              "timeout_ms", timeout_text, "per_host", per_host_text, "min_retry_ms", min_retry_text, NULL);

    s_run (&self);

    log_info ("webhooker stopping", NULL);
    metrics_serve_stop ();
    zhashx_destroy (&self.deliveries);   /* first: its destructor unlinks from the rest */
    curl_sockets_destroy (&self.socks);
    curl_multi_cleanup (self.multi);
    host_table_destroy (&self.hosts);
    timer_heap_destroy (&self.heap);
    bus_client_destroy (&self.api);
    zsock_destroy (&self.sub);
    bus_security_shutdown ();
    curl_global_cleanup ();
    return 0;
}
