/*  bus_worker.h: a worker's link to the scheduler's work socket, the one
    class every worker uses (in the spirit of the ZeroMQ guide's mdwrkapi).

    It owns the DEALER, connected to one endpoint of the list it is given
    at a time (the next one after each dead link), so a worker's answers go
    to the scheduler that gave the work even while two are bound. It
    announces READY (the worker's capabilities, an encoded body the owner
    gives once), retries READY until the socket takes it (IMMEDIATE: until
    the connection is up), heartbeats every
    heartbeat_ms, and counts the scheduler dead when nothing has come from
    it for dead_ms. A dead link's socket is destroyed, its generation
    number bumped, and after a backoff (backoff_min_ms doubling to
    backoff_max_ms each time a whole round of the list stayed silent,
    reset by the first message of a new link) a fresh socket connects to
    the next endpoint and announces READY again. The generation is the
    link's request id: the owner tags the work it takes with
    bus_worker_gen, and bus_worker_send drops an answer whose generation is
    no longer current (the scheduler has requeued that work already).
    Drain: bus_worker_drain says DRAINING (nothing new is leased here); a
    link that falls silent while draining is not reopened;
    bus_worker_disconnect says DISCONNECT and gives the last answers a
    linger to leave.

    The class never blocks and has no loop of its own: the owner polls
    bus_worker_sock (which changes after a reconnect, and is NULL during a
    backoff) with its own sockets, for at most bus_worker_wait_ms, calls
    bus_worker_recv when the socket is readable and bus_worker_tick after
    every wake-up.

    Thread: one owner thread for everything. Memory: the worker owns its
    socket and its copy of READY; a received bus_msg_t is the caller's. */
#ifndef EASEL_BUS_WORKER_H
#define EASEL_BUS_WORKER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "bus.h"

typedef struct {
    int heartbeat_ms;                  /* EASEL_HEARTBEAT_MS */
    int dead_ms;                       /* EASEL_PEER_DEAD_MS */
    int backoff_min_ms;                /* EASEL_RECONNECT_MIN_MS */
    int backoff_max_ms;                /* EASEL_RECONNECT_MAX_MS */
    int ready_retry_ms;                /* READY not taken yet: try again after this */
} bus_worker_timing_t;

typedef struct _bus_worker_t bus_worker_t;

/* A worker of the work socket at endpoint announcing `ready` (an encoded
   READY body, copied), with the EASEL_* timing. It connects at once.
   NULL when out of memory or the endpoint cannot be connected (a later
   reconnect that fails is retried after the backoff). */
bus_worker_t *bus_worker_new (const char *endpoint, const char *ready, size_t ready_len);
/* DISCONNECT is not sent (see bus_worker_disconnect); closes and frees.
   *self_p becomes NULL; safe on NULL and twice. */
void bus_worker_destroy (bus_worker_t **self_p);

/* Other timing (tests); takes effect from the next wait. */
void bus_worker_set_timing (bus_worker_t *self, const bus_worker_timing_t *timing);

/* The socket to poll for input; NULL while waiting to reconnect. */
zsock_t *bus_worker_sock (bus_worker_t *self);
/* How long (ms, >= 0) the owner may wait before calling bus_worker_tick. */
int  bus_worker_wait_ms (bus_worker_t *self);

/* Reads one message from a readable socket. Returns 0 with a message for
   the owner (TASK, CANCEL_TASKS, ERROR, anything but a heartbeat) in msg,
   which the caller frees with bus_msg_free; 1 when there was nothing for
   the owner (a heartbeat, nothing to read, or a malformed message: then a
   reason in err, PROTO_ERR_MAX). Any message, even malformed, shows that
   the scheduler lives. */
int  bus_worker_recv (bus_worker_t *self, bus_msg_t *msg, char *err);

/* Does what is due: READY, a heartbeat, declaring a silent scheduler dead,
   reconnecting after the backoff. Returns 1 when the link was found dead
   in this call (then the generation has moved on), else 0. */
int  bus_worker_tick (bus_worker_t *self);

/* The current link's generation; it changes when a link dies. */
int  bus_worker_gen (const bus_worker_t *self);
/* True when READY has left on the current link (answers may go). */
bool bus_worker_ready (const bus_worker_t *self);

/* Sends an answer (the body is copied) of the work taken on link `gen`.
   0; or -1 without sending: errno ESTALE when gen is not the current link,
   ENOTCONN when there is no link or READY has not left, or the errno of
   bus_send (EAGAIN, EHOSTUNREACH). */
int  bus_worker_send (bus_worker_t *self, int gen, int cmd, const char *data, size_t len);

/* Starts a drain: DRAINING on the current link (when READY has left), and
   from now a silent scheduler ends the link for good. Idempotent. */
void bus_worker_drain (bus_worker_t *self);
bool bus_worker_draining (const bus_worker_t *self);
/* True when a drain found the scheduler dead: nothing more can be sent. */
bool bus_worker_gone (const bus_worker_t *self);

/* DISCONNECT (when READY has left), then the socket closes with
   linger_ms for what is still queued. The worker reconnects no more. */
void bus_worker_disconnect (bus_worker_t *self, int linger_ms);

#endif
