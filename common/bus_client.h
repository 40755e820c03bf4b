/*  bus_client.h: request/reply with the scheduler's api socket, the one
    class every service that asks the scheduler uses (in the spirit of the
    ZeroMQ guide's mdcliapi and its asynchronous mdcliapi2).

    Every request carries a request id ("rid" in its body) and a deadline.
    A reply is taken only when its rid names a request still waiting, so a
    late reply to a request given up on, or one from an earlier socket, is
    dropped and never taken for the answer to another. When a request
    misses its deadline the owner decides what the scheduler's silence
    means; bus_client_reset drops the socket (a fresh one connects on next
    use, so nothing of the old link comes back), forgets every waiting
    request and gives the pause to wait before trying again
    (EASEL_RECONNECT_MIN_MS doubling to EASEL_RECONNECT_MAX_MS, back to the
    minimum once a reply comes). There are no heartbeats on the api
    socket: a request's deadline is its liveness.

    Two ways to use it. Synchronous: bus_client_call sends and waits for
    its reply (the gateway's request threads, through gateway/api_pool.c).
    Asynchronous: bus_client_send any number of requests, each with a tag
    of the owner's, poll bus_client_sock among the owner's sockets, take
    replies with bus_client_recv, and look at bus_client_deadline /
    bus_client_expired after every wake-up (the webhooker's loop).

    The DEALER is opened on first use with IMMEDIATE, so a send while no
    scheduler is connected fails at once with EAGAIN: a synchronous call
    waits (up to its deadline) for the socket to become writable; an
    asynchronous owner polls the socket for POLLOUT and tries again. A
    synchronous call waits for its reply in a blocking receive and leaves
    the socket's ZMQ_RCVTIMEO at what it had left; bus_client_recv reads
    only a readable socket, so the two ways may share a client.

    Thread: one owner thread (a pool lends a client to one thread at a
    time). Memory: the client owns its socket and its table of waiting
    requests; tags are the owner's and never touched; a reply's body is the
    caller's. */
#ifndef EASEL_BUS_CLIENT_H
#define EASEL_BUS_CLIENT_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "proto.h"

typedef struct _bus_client_t bus_client_t;

typedef struct {
    int       cmd;                     /* proto_cmd_t of the reply */
    zframe_t *body;                    /* msgpack bytes: the caller's to destroy */
    char      rid [PROTO_ID_MAX];      /* the request it answers */
    void     *tag;                     /* what bus_client_send was given */
} bus_reply_t;

/* A client of the api socket at endpoint (copied); no socket until first
   use. NULL when out of memory. */
bus_client_t *bus_client_new (const char *endpoint);
/* Closes the socket, forgets what waits; *self_p becomes NULL. Safe on NULL. */
void bus_client_destroy (bus_client_t **self_p);

/* libzmq retries a refused connect after 100 ms; a client that starts
   before the scheduler may ask for sooner: reconnect_ivl_ms doubling to
   reconnect_ivl_max_ms. Applies to sockets opened from now on. */
void bus_client_set_reconnect (bus_client_t *self, int reconnect_ivl_ms, int reconnect_ivl_max_ms);

/* The socket (opened now when there is none); NULL when it cannot be. */
zsock_t *bus_client_sock (bus_client_t *self);

/* Sends cmd with body (whose rid is rid) and lets it wait timeout_ms for
   its reply. 0; or -1 without anything waiting: errno EAGAIN when no
   scheduler is connected, EEXIST when rid already waits, ENOMEM, or the
   errno of bus_send. */
int  bus_client_send (bus_client_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
                      int timeout_ms, void *tag);

/* Reads one message from a readable socket. 0 with the reply of a waiting
   request in out (the request waits no more); 1 when nothing was taken:
   nothing to read, a malformed message (reason in err, PROTO_ERR_MAX) or a
   reply whose rid waits for nothing (dropped). */
int  bus_client_recv (bus_client_t *self, bus_reply_t *out, char *err);

/* The request rid waits no more; a reply to it will be dropped. */
void bus_client_forget (bus_client_t *self, const char *rid);

/* Requests waiting for a reply. */
size_t  bus_client_waiting (const bus_client_t *self);
/* The earliest deadline (monotonic ms) of what waits; -1 when nothing does. */
int64_t bus_client_deadline (const bus_client_t *self);
/* True when something waits past its deadline at `now` (monotonic ms). */
bool bus_client_expired (const bus_client_t *self, int64_t now);

/* Closes the socket (the next use opens a fresh one) and forgets every
   waiting request. Returns the pause (ms) to wait before asking again. */
int  bus_client_reset (bus_client_t *self);

/* One round trip: waits (up to timeout_ms in all) for a scheduler, sends,
   and waits for the reply to rid, dropping any other. 0 with the reply's
   command in *reply_cmd and its body in *reply (the caller's); -1 with
   *reply NULL when it could not be sent or no reply came in time: then the
   client is reset. */
int  bus_client_call (bus_client_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
                      int timeout_ms, int *reply_cmd, zframe_t **reply);

/* The "rid" string of a msgpack map body into rid (PROTO_ID_MAX); 0 / -1. */
int  bus_client_peek_rid (const char *data, size_t len, char *rid);

#endif
