/*  api_client.c: per-thread request/reply over a DEALER (see api_client.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api_client.h"
#include "bus.h"
#include "bus_security.h"
#include "log.h"
#include "util.h"

struct _api_client_t {
    char     *endpoint;
    int       timeout_ms;
    zsock_t  *dealer;              /* NULL until first use and after a timeout */
};

api_client_t *
api_client_new (const char *endpoint, int timeout_ms)
{
    api_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup (endpoint);
    self->timeout_ms = timeout_ms;
    if (!self->endpoint)
        api_client_destroy (&self);
    return self;
}

void
api_client_destroy (api_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    api_client_t *self = *self_p;
    zsock_destroy (&self->dealer);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

static int
s_open (api_client_t *self)
{
    if (self->dealer)
        return 0;
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer)
        return -1;
    bus_socket_setup (self->dealer);
    bus_security_apply (self->dealer);
    if (zsock_connect (self->dealer, "%s", self->endpoint)) {
        log_error ("cannot connect to the scheduler", "endpoint", self->endpoint, NULL);
        zsock_destroy (&self->dealer);
        return -1;
    }
    return 0;
}

int
api_client_peek_rid (const char *data, size_t len, char *rid)
{
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    int rc = -1;
    if (msgpack_unpack_next (&u, data, len, NULL) == MSGPACK_UNPACK_SUCCESS
    &&  u.data.type == MSGPACK_OBJECT_MAP) {
        const msgpack_object_map *m = &u.data.via.map;
        for (uint32_t i = 0; i < m->size; i++) {
            const msgpack_object *k = &m->ptr [i].key, *v = &m->ptr [i].val;
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 3
            &&  memcmp (k->via.str.ptr, "rid", 3) == 0
            &&  v->type == MSGPACK_OBJECT_STR && v->via.str.size < PROTO_ID_MAX) {
                memcpy (rid, v->via.str.ptr, v->via.str.size);
                rid [v->via.str.size] = '\0';
                rc = 0;
                break;
            }
        }
    }
    msgpack_unpacked_destroy (&u);
    return rc;
}

int
api_client_call (api_client_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
                 int *reply_cmd, zframe_t **reply)
{
    *reply = NULL;
    if (s_open (self))
        return -1;
    int64_t deadline = util_mono_ms () + self->timeout_ms;
    void *handle = zsock_resolve (self->dealer);
    /* IMMEDIATE: a send waits (up to the deadline) for a live connection */
    for (;;) {
        int64_t left = deadline - util_mono_ms ();
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLOUT, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) < 0)
            goto reset;
        if (!(item.revents & ZMQ_POLLOUT))
            continue;
        if (bus_send_sbuf (self->dealer, NULL, cmd, body) == 0)
            break;
        if (errno != EAGAIN)
            goto reset;
    }
    for (;;) {
        int64_t left = deadline - util_mono_ms ();
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) < 0)
            goto reset;
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        bus_msg_t msg;
        char err [PROTO_ERR_MAX], got [PROTO_ID_MAX];
        if (bus_recv (self->dealer, false, &msg, err)) {
            log_warn ("malformed reply from the scheduler", "reason", err, NULL);
            continue;
        }
        if (api_client_peek_rid ((const char *) zframe_data (msg.body), zframe_size (msg.body), got) == 0
        &&  strcmp (got, rid) == 0) {
            *reply_cmd = msg.cmd;
            *reply = msg.body;
            msg.body = NULL;
            bus_msg_free (&msg);
            return 0;
        }
        bus_msg_free (&msg);       /* a late reply to an abandoned request */
    }
reset:
    zsock_destroy (&self->dealer);
    return -1;
}
