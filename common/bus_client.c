/*  bus_client.c: request/reply with the scheduler (see bus_client.h).
    What waits is one s_wait_t per request: in `waiting` by rid (which owns
    it) and in `deadlines` by time (which only links it). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "bus.h"
#include "bus_client.h"
#include "bus_link.h"
#include "log.h"
#include "timer_heap.h"
#include "util.h"

typedef struct {
    char  rid [PROTO_ID_MAX];
    void *tag;
    timer_heap_node_t timer;
    timer_heap_t *heap;                /* to unlink itself when freed */
} s_wait_t;

struct _bus_client_t {
    char         *endpoint;
    int           reconnect_ivl_ms, reconnect_ivl_max_ms;
    bus_backoff_t backoff;
    zsock_t      *dealer;              /* NULL until first use and after a reset */
    zhashx_t     *waiting;             /* rid -> s_wait_t */
    timer_heap_t *deadlines;
};

static void
s_wait_destroy (void **item)
{
    s_wait_t *w = *item;
    if (!w)
        return;
    timer_heap_remove (w->heap, &w->timer);
    free (w);
    *item = NULL;
}

bus_client_t *
bus_client_new (const char *endpoint)
{
    bus_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint);
    self->waiting = zhashx_new ();
    self->deadlines = timer_heap_new ();
    if (!self->endpoint || !self->waiting || !self->deadlines) {
        bus_client_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->waiting, s_wait_destroy);
    bus_backoff_init (&self->backoff, EASEL_RECONNECT_MIN_MS, EASEL_RECONNECT_MAX_MS);
    return self;
}

void
bus_client_destroy (bus_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bus_client_t *self = *self_p;
    zsock_destroy (&self->dealer);
    zhashx_destroy (&self->waiting);   /* before the heap its entries unlink from */
    timer_heap_destroy (&self->deadlines);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

void
bus_client_set_reconnect (bus_client_t *self, int reconnect_ivl_ms, int reconnect_ivl_max_ms)
{
    self->reconnect_ivl_ms = reconnect_ivl_ms;
    self->reconnect_ivl_max_ms = reconnect_ivl_max_ms;
}

zsock_t *
bus_client_sock (bus_client_t *self)
{
    if (!self->dealer)
        self->dealer = bus_link_open (self->endpoint, self->reconnect_ivl_ms,
                                      self->reconnect_ivl_max_ms);
    return self->dealer;
}

int
bus_client_send (bus_client_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
                 int timeout_ms, void *tag)
{
    if (!rid || strlen (rid) >= PROTO_ID_MAX || zhashx_lookup (self->waiting, rid)) {
        errno = EEXIST;
        return -1;
    }
    zsock_t *sock = bus_client_sock (self);
    if (!sock) {
        errno = ENOTCONN;
        return -1;
    }
    s_wait_t *w = calloc (1, sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return -1;
    }
    snprintf (w->rid, sizeof w->rid, "%s", rid);
    w->tag = tag;
    w->heap = self->deadlines;
    timer_heap_node_init (&w->timer);
    if (timer_heap_push (self->deadlines, &w->timer, util_mono_ms () + timeout_ms) != 0) {
        free (w);
        errno = ENOMEM;
        return -1;
    }
    if (bus_send_sbuf (sock, NULL, cmd, body) != 0) {
        int saved = errno;
        void *item = w;
        s_wait_destroy (&item);
        errno = saved;
        return -1;
    }
    zhashx_insert (self->waiting, w->rid, w);
    return 0;
}

/* Takes msg (a framed message read from the socket) as the reply of the
   request its rid names: 0 with out filled and msg's body moved there;
   1 when no request waits for it (late, or no rid). msg is freed. */
static int
s_take (bus_client_t *self, bus_msg_t *msg, bus_reply_t *out)
{
    s_wait_t *w = NULL;
    if (bus_link_peek_rid ((const char *) zframe_data (msg->body), zframe_size (msg->body), out->rid) == 0)
        w = zhashx_lookup (self->waiting, out->rid);
    if (!w) {                          /* late: a request given up on, or no rid */
        bus_msg_free (msg);
        return 1;
    }
    out->cmd = msg->cmd;
    out->body = msg->body;
    out->tag = w->tag;
    msg->body = NULL;
    bus_msg_free (msg);
    zhashx_delete (self->waiting, out->rid);
    bus_backoff_reset (&self->backoff);
    return 0;
}

int
bus_client_recv (bus_client_t *self, bus_reply_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    err [0] = '\0';
    if (!self->dealer || !(zsock_events (self->dealer) & ZMQ_POLLIN))
        return 1;
    bus_msg_t msg = { 0 };
    if (bus_recv (self->dealer, false, &msg, err) != 0) {
        bus_msg_free (&msg);
        return 1;
    }
    return s_take (self, &msg, out);
}

void
bus_client_forget (bus_client_t *self, const char *rid)
{
    zhashx_delete (self->waiting, rid);
}

size_t
bus_client_waiting (const bus_client_t *self)
{
    return zhashx_size (self->waiting);
}

int64_t
bus_client_deadline (const bus_client_t *self)
{
    timer_heap_node_t *top = timer_heap_peek (self->deadlines);
    return top ? top->due_ms : -1;
}

bool
bus_client_expired (const bus_client_t *self, int64_t now)
{
    int64_t at = bus_client_deadline (self);
    return at >= 0 && at <= now;
}

int
bus_client_reset (bus_client_t *self)
{
    zsock_destroy (&self->dealer);
    zhashx_purge (self->waiting);
    return bus_backoff_next (&self->backoff);
}

/* Waits until the socket has `events` or deadline; 0 when it has. */
static int
s_wait_for (zsock_t *sock, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - util_mono_ms ();
        zmq_pollitem_t item = { zsock_resolve (sock), 0, events, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) < 0)
            return -1;
        if (item.revents & events)
            return 0;
    }
}

/* The call's syscalls are its cost under load (a gateway makes one per
   request): the send is tried first and the socket polled for POLLOUT only
   when it refused (IMMEDIATE: no scheduler yet, or the HWM), and the reply
   is one blocking receive bounded by ZMQ_RCVTIMEO, not a poll then a read. */
int
bus_client_call (bus_client_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
                 int timeout_ms, int *reply_cmd, zframe_t **reply)
{
    *reply = NULL;
    int64_t deadline = util_mono_ms () + timeout_ms;
    zsock_t *sock = bus_client_sock (self);
    if (!sock)
        return -1;
    for (;;) {                         /* IMMEDIATE: wait for a live connection */
        int left = (int) (deadline - util_mono_ms ());
        if (bus_client_send (self, cmd, body, rid, left > 0 ? left : 1, NULL) == 0)
            break;
        if (errno != EAGAIN || s_wait_for (sock, ZMQ_POLLOUT, deadline) != 0)
            goto reset;
    }
    for (;;) {
        int64_t left = deadline - util_mono_ms ();
        if (left <= 0)
            break;
        zsock_set_rcvtimeo (sock, (int) left);
        bus_msg_t msg = { 0 };
        bus_reply_t got;
        char err [PROTO_ERR_MAX];
        memset (&got, 0, sizeof got);
        if (bus_recv (sock, false, &msg, err) != 0) {
            bus_msg_free (&msg);
            /* "interrupted": the receive timed out or a signal came */
            if (strcmp (err, "interrupted") != 0)
                log_warn ("malformed reply from the scheduler", "reason", err, NULL);
            continue;
        }
        if (s_take (self, &msg, &got) == 0) {
            *reply_cmd = got.cmd;
            *reply = got.body;
            return 0;
        }
    }
reset:
    bus_client_reset (self);
    return -1;
}

int
bus_client_peek_rid (const char *data, size_t len, char *rid)
{
    return bus_link_peek_rid (data, len, rid);
}
