/*  bus.h: framing of Easel messages on ZeroMQ sockets (CZMQ zsock_t).

    On the wire a message is [empty][EASEL_PROTO_TAG][command byte][msgpack body];
    a ROUTER additionally sees the peer's identity frame in front. These helpers
    build and check that framing so no service hand-rolls it.

    Thread: a socket belongs to one thread; these functions keep no state.
    Memory: bus_msg_t owns its identity and body; bus_msg_free() releases them. */
#ifndef EASEL_BUS_H
#define EASEL_BUS_H

#include <czmq.h>
#include <stdbool.h>
#include "proto.h"

typedef struct {
    zframe_t *identity;            /* ROUTER only: the peer; NULL on DEALER/SUB */
    int       cmd;                 /* proto_cmd_t */
    zframe_t *body;                /* msgpack bytes (zframe_data/zframe_size) */
} bus_msg_t;

/* Sets LINGER 0, SNDHWM/RCVHWM EASEL_BUS_HWM, MAXMSGSIZE EASEL_MAX_MSG_BYTES,
   and on ROUTER sockets ROUTER_MANDATORY; on DEALER sockets IMMEDIATE.
   Call before bind/connect. */
void bus_socket_setup (zsock_t *sock);

/* Connects sock to each endpoint of a comma-separated list (one scheduler,
   or an active one and its standbys: a DEALER's IMMEDIATE sends only on
   connections that are up, so requests go to whichever scheduler has bound,
   and a SUB hears whichever publishes). 0 / -1 (an element is empty, over
   BUS_ENDPOINT_MAX bytes, or refused by libzmq). */
#define BUS_ENDPOINT_MAX 256
#define BUS_ENDPOINTS_MAX 8
int  bus_connect (zsock_t *sock, const char *endpoints);

/* Walks a comma-separated endpoint list: copies the element at *cursor into
   one and moves *cursor past it (and its comma). 1 an element; 0 at the
   end; -1 an empty element, one over BUS_ENDPOINT_MAX bytes, or a trailing
   comma. The one walker of bus_connect, the bus security's loopback rule
   and the settings check. */
int  bus_endpoint_next (const char **cursor, char one [BUS_ENDPOINT_MAX + 1]);

/* Sends one message. `identity` is required on a ROUTER and ignored (NULL) on a
   DEALER. The body is copied. Never blocks: returns -1 with errno
   EHOSTUNREACH (peer gone) or EAGAIN (peer full) so the caller can requeue. */
int  bus_send (zsock_t *sock, zframe_t *identity, int cmd, const char *body, size_t len);
/* Same, encoding convenience: sends the contents of an sbuffer. */
int  bus_send_sbuf (zsock_t *sock, zframe_t *identity, int cmd, const msgpack_sbuffer *body);

/* Receives one message (blocking; use a poller first). `router` says whether an
   identity frame leads. Checks the framing: empty delimiter, tag, exactly one
   command byte, a body no larger than EASEL_MAX_MSG_BYTES. On a malformed
   message returns -1 with a reason in err (PROTO_ERR_MAX) and still consumes
   it; when the identity could be read it is left in out->identity so the
   caller can answer with an ERROR. On interrupt returns -1 with err "interrupted". */
int  bus_recv (zsock_t *sock, bool router, bus_msg_t *out, char *err);
void bus_msg_free (bus_msg_t *msg);

/* Events PUB/SUB: [topic][seq decimal][body]. */
int  bus_publish (zsock_t *pub, const char *topic, int64_t seq, const char *body, size_t len);
/* Receives one published message; topic copied into topic (size PROTO_SHORT_MAX). */
int  bus_recv_event (zsock_t *sub, char *topic, int64_t *seq, zframe_t **body, char *err);

#endif
