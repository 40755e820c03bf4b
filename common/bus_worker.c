/*  bus_worker.c: a worker's link to the scheduler (see bus_worker.h).
    States of a link: open and READY pending -> open and READY out -> dead
    (socket NULL, reconnect_at_ms set) -> open again; or closed for good
    after bus_worker_disconnect or a silent scheduler while draining. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bus_link.h"
#include "bus_worker.h"
#include "log.h"
#include "util.h"

struct _bus_worker_t {
    char      *endpoint;               /* one endpoint or a list of them */
    char       link_endpoint [BUS_ENDPOINT_MAX + 1];   /* the one this link connects to */
    int        nendpoints, which;      /* the list's length; the element of this link */
    char      *ready;                  /* encoded READY body */
    size_t     ready_len;
    bus_worker_timing_t timing;
    bus_backoff_t backoff;
    zsock_t   *dealer;                 /* NULL while dead or closed */
    bool       ready_pending;          /* READY not yet taken by the socket */
    bool       heard;                  /* the scheduler has spoken on this link */
    bool       draining;
    bool       closed;                 /* no reconnect any more */
    int64_t    last_recv_ms, next_hb_ms, next_ready_ms;
    int64_t    reconnect_at_ms;        /* when dead: open again at this time */
    int        gen;
};

/* A link connects to one element of the list, never to all of them: a
   worker's answers go round robin over a DEALER's connections, so with
   two schedulers bound at once (a cut-off one whose link came back, not
   yet stopped, and the one that took over) a RESULT could go to the one
   that did not lease the task and be lost. A link that falls silent moves
   to the next element. */
static void
s_pick (bus_worker_t *self)
{
    const char *cursor = self->endpoint;
    self->link_endpoint [0] = '\0';
    for (int i = 0; i <= self->which; i++)
        if (bus_endpoint_next (&cursor, self->link_endpoint) != 1)
            break;
}

static void
s_open (bus_worker_t *self)
{
    int64_t now = util_mono_ms ();
    s_pick (self);
    self->dealer = bus_link_open (self->link_endpoint, 0, 0);
    self->ready_pending = true;
    self->heard = false;
    self->last_recv_ms = now;
    self->next_ready_ms = now;
    self->next_hb_ms = now + self->timing.heartbeat_ms;
    if (!self->dealer)                 /* try again after a backoff */
        self->reconnect_at_ms = now + bus_backoff_next (&self->backoff);
}

/* Drops the socket and moves to the next generation. */
static void
s_close (bus_worker_t *self, int linger_ms)
{
    if (self->dealer && linger_ms > 0)
        zsock_set_linger (self->dealer, linger_ms);
    zsock_destroy (&self->dealer);
    self->gen++;
}

static void
s_send_simple (bus_worker_t *self, int cmd)
{
    proto_simple_t simple = { .rid = "" };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (proto_simple_encode (&simple, &buf) == 0)
        bus_send_sbuf (self->dealer, NULL, cmd, &buf);
    msgpack_sbuffer_destroy (&buf);
}

bus_worker_t *
bus_worker_new (const char *endpoint, const char *ready, size_t ready_len)
{
    bus_worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint);
    self->ready = malloc (ready_len ? ready_len : 1);
    if (!self->endpoint || !self->ready) {
        bus_worker_destroy (&self);
        return NULL;
    }
    memcpy (self->ready, ready, ready_len);
    self->ready_len = ready_len;
    const char *cursor = self->endpoint;
    char one [BUS_ENDPOINT_MAX + 1];
    while (bus_endpoint_next (&cursor, one) == 1)
        self->nendpoints++;
    if (self->nendpoints == 0) {
        bus_worker_destroy (&self);
        return NULL;
    }
    self->timing = (bus_worker_timing_t) {
        .heartbeat_ms = EASEL_HEARTBEAT_MS, .dead_ms = EASEL_PEER_DEAD_MS,
        .backoff_min_ms = EASEL_RECONNECT_MIN_MS, .backoff_max_ms = EASEL_RECONNECT_MAX_MS,
        .ready_retry_ms = 100
    };
    bus_backoff_init (&self->backoff, self->timing.backoff_min_ms, self->timing.backoff_max_ms);
    s_open (self);
    if (!self->dealer)
        bus_worker_destroy (&self);
    return self;
}

void
bus_worker_destroy (bus_worker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bus_worker_t *self = *self_p;
    zsock_destroy (&self->dealer);
    free (self->endpoint);
    free (self->ready);
    free (self);
    *self_p = NULL;
}

void
bus_worker_set_timing (bus_worker_t *self, const bus_worker_timing_t *timing)
{
    self->timing = *timing;
    bus_backoff_init (&self->backoff, timing->backoff_min_ms, timing->backoff_max_ms);
    self->next_hb_ms = util_mono_ms () + timing->heartbeat_ms;
}

zsock_t *
bus_worker_sock (bus_worker_t *self)
{
    return self->dealer;
}

int
bus_worker_wait_ms (bus_worker_t *self)
{
    int64_t now = util_mono_ms ();
    int64_t at;
    if (self->closed)
        at = now + self->timing.heartbeat_ms;
    else
    if (!self->dealer)
        at = self->reconnect_at_ms;
    else {
        at = self->ready_pending ? self->next_ready_ms : self->next_hb_ms;
        if (self->last_recv_ms + self->timing.dead_ms < at)
            at = self->last_recv_ms + self->timing.dead_ms;
    }
    return at <= now ? 0 : (int) (at - now);
}

int
bus_worker_recv (bus_worker_t *self, bus_msg_t *msg, char *err)
{
    memset (msg, 0, sizeof *msg);
    err [0] = '\0';
    if (!self->dealer || !(zsock_events (self->dealer) & ZMQ_POLLIN))
        return 1;
    int rc = bus_recv (self->dealer, false, msg, err);
    self->last_recv_ms = util_mono_ms ();
    if (!self->heard) {
        self->heard = true;
        bus_backoff_reset (&self->backoff);
        log_info ("scheduler answered", "endpoint", self->link_endpoint, NULL);
    }
    if (rc != 0 || msg->cmd == PROTO_HEARTBEAT) {
        bus_msg_free (msg);
        return 1;
    }
    return 0;
}

int
bus_worker_tick (bus_worker_t *self)
{
    if (self->closed)
        return 0;
    int64_t now = util_mono_ms ();
    if (!self->dealer) {
        if (now >= self->reconnect_at_ms)
            s_open (self);
        return 0;
    }
    if (self->ready_pending && now >= self->next_ready_ms) {
        if (bus_send (self->dealer, NULL, PROTO_READY, self->ready, self->ready_len) == 0) {
            self->ready_pending = false;
            self->next_hb_ms = now + self->timing.heartbeat_ms;
            if (self->draining)
                s_send_simple (self, PROTO_DRAINING);
        }
        else
            self->next_ready_ms = now + self->timing.ready_retry_ms;
    }
    if (!self->ready_pending && now >= self->next_hb_ms) {
        s_send_simple (self, PROTO_HEARTBEAT);
        self->next_hb_ms = now + self->timing.heartbeat_ms;
    }
    if (now - self->last_recv_ms < self->timing.dead_ms)
        return 0;
    s_close (self, 0);
    if (self->draining) {
        log_warn ("scheduler silent while draining; stopping", NULL);
        self->closed = true;
        return 1;
    }
    /* the next scheduler of the list after the shortest pause; the pause
       grows only when a whole round of the list stayed silent */
    self->which = (self->which + 1) % self->nendpoints;
    int pause = self->which == 0 ? bus_backoff_next (&self->backoff) : self->timing.backoff_min_ms;
    char text [24];
    snprintf (text, sizeof text, "%d", pause);
    log_warn ("scheduler silent; reconnecting", "endpoint", self->link_endpoint, "backoff_ms", text, NULL);
    self->reconnect_at_ms = now + pause;
    return 1;
}

int
bus_worker_gen (const bus_worker_t *self)
{
    return self->gen;
}

bool
bus_worker_ready (const bus_worker_t *self)
{
    return self->dealer && !self->ready_pending;
}

int
bus_worker_send (bus_worker_t *self, int gen, int cmd, const char *data, size_t len)
{
    if (gen != self->gen) {
        errno = ESTALE;
        return -1;
    }
    if (!bus_worker_ready (self)) {
        errno = ENOTCONN;
        return -1;
    }
    return bus_send (self->dealer, NULL, cmd, data, len);
}

void
bus_worker_drain (bus_worker_t *self)
{
    if (self->draining)
        return;
    self->draining = true;
    if (bus_worker_ready (self))
        s_send_simple (self, PROTO_DRAINING);
}

bool
bus_worker_draining (const bus_worker_t *self)
{
    return self->draining;
}

bool
bus_worker_gone (const bus_worker_t *self)
{
    return self->closed;
}

void
bus_worker_disconnect (bus_worker_t *self, int linger_ms)
{
    if (bus_worker_ready (self))
        s_send_simple (self, PROTO_DISCONNECT);
    if (self->dealer)
        s_close (self, linger_ms);
    self->closed = true;
}
