/*  bus_link.c: the DEALER, backoff and rid peek shared by bus_worker and
    bus_client (see bus_link.h). Keeps no state. */
#include <string.h>
#include "bus.h"
#include "bus_link.h"
#include "bus_security.h"
#include "log.h"

zsock_t *
bus_link_open (const char *endpoint, int reconnect_ivl_ms, int reconnect_ivl_max_ms)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock) {
        log_error ("cannot create a DEALER socket", NULL);
        return NULL;
    }
    bus_socket_setup (sock);
    if (reconnect_ivl_ms > 0) {
        zsock_set_reconnect_ivl (sock, reconnect_ivl_ms);
        zsock_set_reconnect_ivl_max (sock, reconnect_ivl_max_ms);
    }
    if (bus_security_apply (sock) != 0 || bus_connect (sock, endpoint) != 0) {
        log_error ("cannot connect to the scheduler", "endpoint", endpoint, NULL);
        zsock_destroy (&sock);
    }
    return sock;
}

void
bus_backoff_init (bus_backoff_t *self, int min_ms, int max_ms)
{
    self->min_ms = min_ms;
    self->max_ms = max_ms < min_ms ? min_ms : max_ms;
    self->next_ms = min_ms;
}

int
bus_backoff_next (bus_backoff_t *self)
{
    int now = self->next_ms;
    self->next_ms = now > self->max_ms / 2 ? self->max_ms : now * 2;
    return now;
}

void
bus_backoff_reset (bus_backoff_t *self)
{
    self->next_ms = self->min_ms;
}

int
bus_link_peek_rid (const char *data, size_t len, char *rid)
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
