/*  bus_link.h: what the bus worker and the bus client share of a link to
    the scheduler: opening one DEALER the way every service must (bus
    framing options, CurveZMQ from bus_security, the connect), the
    reconnect backoff, and reading the request id of a reply.

    Used only by bus_worker.c and bus_client.c; services use those classes.
    Thread: none of its own; a socket belongs to the thread that opened it.
    Memory: bus_link_open's socket is the caller's to destroy. */
#ifndef EASEL_BUS_LINK_H
#define EASEL_BUS_LINK_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

/* A fresh DEALER connected to endpoint: bus_socket_setup, then (when
   reconnect_ivl_ms > 0) libzmq's own retry of a refused connect after
   reconnect_ivl_ms doubling to reconnect_ivl_max_ms, then
   bus_security_apply, then connect. NULL with a log line on failure. */
zsock_t *bus_link_open (const char *endpoint, int reconnect_ivl_ms, int reconnect_ivl_max_ms);

/* Pauses between attempts to reach a peer that went silent: min_ms first,
   doubling to max_ms; reset once the peer answers. */
typedef struct {
    int min_ms, max_ms;
    int next_ms;                       /* the pause bus_backoff_next gives next */
} bus_backoff_t;

void bus_backoff_init (bus_backoff_t *self, int min_ms, int max_ms);
/* The pause to wait now; the one after it is twice as long, up to max_ms. */
int  bus_backoff_next (bus_backoff_t *self);
void bus_backoff_reset (bus_backoff_t *self);

/* The "rid" string of a msgpack map body into rid (PROTO_ID_MAX bytes).
   0, or -1 when the body is no map or has no string rid that fits. */
int  bus_link_peek_rid (const char *data, size_t len, char *rid);

#endif
