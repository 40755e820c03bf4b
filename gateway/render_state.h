/*  render_state.h: the gateway's copy of render state, kept current from
    the scheduler's render state stream (docs/design.md "Render state in the
    gateway"), so GET /v1/renders/{id} is answered without asking the
    scheduler about that render.

    What it holds: for up to RENDER_STATE_ENTRIES renders, the answer body
    GET_RENDER would give (built by the same render_json_build), the account
    it belongs to, the stream seq it is current as of, and when its URLs were
    signed. Entries come from "state.render" messages (the SUB thread) and
    from the gateway's own GET_RENDER answers (render_state_seed, when no
    change since can be missing); "state.gone" drops one, "state.reset"
    drops all.
    When it is trusted: the stream has an epoch (one per scheduler process)
    and a seq contiguous within it. A gap (a seq skipped, a heartbeat naming
    a later seq), a new epoch (the scheduler restarted or another took
    over) or a stream silent for RENDER_STATE_SILENT_MS drops every entry and
    restarts from what the stream says next; until the first message nothing
    is trusted.
    Read-your-writes: a lookup needs a fence, the scheduler's (epoch, seq)
    asked after the request arrived (render_state_fence: a PING whose PONG
    says the last state seq published; the scheduler publishes a change
    before it answers the request that made it, so the fence covers every
    write answered before). The lookup waits up to RENDER_STATE_FENCE_WAIT_MS
    for the stream to reach the fence, else misses. A request starts a PING
    only when none started since it came and fewer than
    RENDER_STATE_FENCES_MAX are out; every request that came before a PING
    was sent shares its answer, so the scheduler sees at most
    RENDER_STATE_FENCES_MAX per round trip, whatever the request rate.
    The read lease (render_state_lease_start) takes the wait off the
    lookups: a thread acknowledges to the scheduler every seq the table
    applied (STATE_ACK, and at least every EASEL_READ_LEASE_RENEW_MS); the
    scheduler holds each reply of a pass that published state until every
    gateway holding a lease acknowledged that pass's seq (or its lease ran
    out), so while the table's lease is valid every reply already sent is
    in the table and a lookup answers at once, fenceless. A lease is
    counted from when its acknowledgment was sent, less
    EASEL_READ_LEASE_MARGIN_MS, and ends with any doubt about the stream
    (a reset, a new epoch, a silence); lookups then fence as above.
    A miss is never an answer: the caller asks the scheduler (GET_RENDER).
    Bounded: RENDER_STATE_ENTRIES entries of at most RENDER_STATE_BODY_MAX
    bytes and RENDER_STATE_BYTES_MAX in all, evicted by a clock hand
    (second chance) when full.
    Thread: any; one mutex, two condition variables. Memory: the table owns
    its bodies; lookups return heap copies the caller frees. */
#ifndef EASEL_RENDER_STATE_H
#define EASEL_RENDER_STATE_H

#include "proto.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RENDER_STATE_ENTRIES        4096
#define RENDER_STATE_BODY_MAX       (32 * 1024)         /* a larger answer is not kept */
#define RENDER_STATE_BYTES_MAX      (16 * 1024 * 1024)  /* bodies in all */
#define RENDER_STATE_SILENT_MS      (3 * EASEL_HEARTBEAT_MS)  /* no message this long: not trusted */
#define RENDER_STATE_FENCE_WAIT_MS  100                 /* a lookup waits this long for the stream */
/* fences out at once: more shorten a request's wait for one sent after it
   came, but wake every waiter once per answer (measured: 1 gave 20-26k
   GET/s, 4 gave 13-19k on the same loaded machine) */
#define RENDER_STATE_FENCES_MAX     1

typedef struct _render_state_t render_state_t;

/* An empty, untrusted table whose answers name URLs under public_url
   (copied). NULL out of memory. */
render_state_t *render_state_new (const char *public_url);
void render_state_destroy (render_state_t **self_p);

/* One message of the events socket (the SUB thread): topics "state.*" and
   "hb"; others are ignored. now_mono_ms is the monotonic clock. When the
   message carried a render that is no longer processing, its id goes into
   final_id (else ""), so waiters can be woken. */
void render_state_on_message (render_state_t *self, const char *topic, int64_t seq,
                              const char *body, size_t len, int64_t now_mono_ms,
                              char final_id [PROTO_ID_MAX]);

/* Asks the scheduler where its stream stands: 0 with *epoch and *seq, or -1. */
typedef int (render_state_ask_fn) (void *arg, int64_t *epoch, int64_t *seq);

/* A fence asked after this call began (shared with every concurrent
   caller). 0 with *epoch, *seq; -1 when the scheduler did not answer. */
int render_state_fence (render_state_t *self, render_state_ask_fn *ask, void *arg,
                        int64_t *epoch, int64_t *seq);

/* The answer body for render id of account, current as of the fence
   (epoch, seq), waiting up to RENDER_STATE_FENCE_WAIT_MS for the stream to
   reach it; its length in *len and whether the render is final in *final.
   NULL (a miss) when untrusted, unknown, another account's, signed in
   another signing window than now_ms's, or the stream is late. */
char *render_state_get (render_state_t *self, const char *id, const char *account,
                        int64_t epoch, int64_t seq, int64_t now_ms, int64_t now_mono_ms,
                        size_t *len, bool *final);

/* render_state_fence then render_state_get under one hold of the lock
   (the fence's answer wakes every waiter at once). */
char *render_state_read (render_state_t *self, render_state_ask_fn *ask, void *arg, const char *id,
                         const char *account, int64_t now_ms, int64_t now_mono_ms, size_t *len,
                         bool *final);

/* Keeps r (a GET_RENDER answer carrying state_epoch, state_seq and
   signed_ms) with its answer body text, when the stream has not passed
   r->state_seq (no change after it can be missing) and the scheduler would
   carry its state (render_json_state_carried). Otherwise nothing. */
void render_state_seed (render_state_t *self, const proto_render_t *r, const char *text, size_t len,
                        int64_t now_mono_ms);

/* Sends holder's acknowledgment of having applied the stream of epoch up
   to seq (STATE_ACK): 0 with *lease_ms the lease granted (0: none), or -1. */
typedef int (render_state_ack_fn) (void *arg, const char *holder, int64_t epoch, int64_t seq,
                                   int32_t *lease_ms);

/* Starts the acknowledger thread (ack(arg) each time; arg must outlive
   render_state_lease_stop). 0; -1 when the thread cannot start (lookups
   then always fence). */
int render_state_lease_start (render_state_t *self, render_state_ack_fn *ack, void *arg);
/* Ends the lease and joins the thread (before what ack uses goes away).
   Safe when not started and twice; render_state_destroy calls it. */
void render_state_lease_stop (render_state_t *self);
/* Whether lookups at now are covered by the lease, and how many were
   (tests, metrics). */
bool render_state_leased (render_state_t *self, int64_t now_mono_ms, uint64_t *leased_hits);

/* Counters since start: lookups served and missed, resets (gaps, epochs,
   silences, "state.reset"). */
void render_state_stats (render_state_t *self, uint64_t *hits, uint64_t *misses, uint64_t *resets);

/* Drops every entry and forgets the epoch: untrusted until the next
   message (tests, and the silent-stream rule). */
void render_state_clear (render_state_t *self);

#endif
