/*  sched_out.h: the scheduler's outbound queue. Every reply, TASK,
    CANCEL_TASKS and event hint a pass produces is held here until the pass
    commits, then sent (sched_out_flush); a pass that rolls back turns its api
    replies into 503 (507 on a full disk) and drops the rest
    (sched_out_rollback). TASKs whose send failed are kept by task id and
    attempt for the next pass to end (sched_out_unsent_drain). The queue
    also remembers the highest event seq it published, which the heartbeat
    on the events socket carries.
    Thread: the scheduler's loop (the sockets it sends on are that thread's).
    Memory: queued messages own copies of identity and body until sent. */
#ifndef EASEL_SCHED_OUT_H
#define EASEL_SCHED_OUT_H

#include "proto.h"
#include "read_lease.h"
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _sched_out_t sched_out_t;

/* An empty queue; NULL out of memory. last_seq starts at 0. */
sched_out_t *sched_out_new (void);
/* Frees what is still queued. Safe on NULL and twice. */
void sched_out_destroy (sched_out_t **self_p);

/* Queues one message to `identity` on sock (copies both; rid is the api
   request it answers, kept to answer 503 instead). On out of memory the
   message is logged and lost. */
void sched_out_queue (sched_out_t *self, zsock_t *sock, zframe_t *identity, int cmd,
                      const char *body, size_t len, const char *rid);
/* Queues a TASK of (task_id, attempt), remembered for a failed send. */
void sched_out_task (sched_out_t *self, zsock_t *sock, zframe_t *identity,
                     const char *body, size_t len, const char *task_id, int32_t attempt);
/* Queues an ERROR {rid, status, error {code, message, param}}. */
void sched_out_error (sched_out_t *self, zsock_t *sock, zframe_t *identity, const char *rid,
                      int32_t status, const char *code, const char *message, const char *param);
/* Queues sb as `cmd` when rc is 0, else a 500 internal_error (the encoder
   failed); destroys sb either way. */
void sched_out_reply (sched_out_t *self, zsock_t *sock, zframe_t *identity, const char *rid,
                      int cmd, int rc, msgpack_sbuffer *sb);
/* Answers 400 bad_message for a body its decoder refused with `reason`,
   echoing the body's rid when it still has one. */
void sched_out_bad_message (sched_out_t *self, zsock_t *sock, zframe_t *identity,
                            const char *data, size_t len, const char *reason);
/* Queues an event hint [type][seq] with object_id as its rid. 0; -1 out
   of memory (nothing queued: the webhooker finds the event on its next poll). */
int sched_out_pub (sched_out_t *self, const char *type, const char *object_id, int64_t seq);

/* Queues one message of the render state stream (sched_state.h) on topic
   with body (copied; NULL: empty). The flush numbers it with the next state
   seq and publishes it before any other message of the pass. On out of
   memory a reset is published in its place (a gateway then starts over). */
void sched_out_state (sched_out_t *self, const char *topic, const char *body, size_t len);
/* The last state seq a flush published (0 before the first). */
int64_t sched_out_state_seq (sched_out_t *self);

/* The pass rolled back: every message queued on `api` becomes a 503
   store_unavailable (507 insufficient_storage when full), everything else
   and every hint is dropped. */
void sched_out_rollback (sched_out_t *self, zsock_t *api, bool full);

/* Called for each message to `work` whose send failed, with errno. */
typedef void (sched_out_failed_fn) (zframe_t *identity, int error, void *arg);

/* Publishes the state messages on pub, then sends everything queued (a
   committed pass: no reply leaves before the changes it answers for are
   on the stream), then the hints on pub. With a lease table
   (sched_out_set_lease) and state published, the pass's api replies (but
   PONG and LEASE) are held instead until every lease holder acknowledged
   the pass's last state seq (read_lease.h), behind those already held;
   sched_out_release sends them. A failed send is logged; on `work` it is
   reported to failed(arg) and a TASK is kept for sched_out_unsent_drain. */
void sched_out_flush (sched_out_t *self, zsock_t *work, zsock_t *pub,
                      sched_out_failed_fn *failed, void *arg, int64_t now_mono_ms);

/* The lease table flushes consult (borrowed; NULL: nothing is held). */
void sched_out_set_lease (sched_out_t *self, read_lease_t *lease);
/* Sends the held replies, oldest first, while their seq is acknowledged by
   every live holder (read_lease_clear) or they waited READ_LEASE_MS. */
void sched_out_release (sched_out_t *self, int64_t now_mono_ms);
/* When the oldest held reply may go without an acknowledgment (INT64_MAX:
   none held): the loop wakes by then. */
int64_t sched_out_next_release_ms (sched_out_t *self, int64_t now_mono_ms);
/* The release deadline of the oldest held reply of a state seq above seq
   (INT64_MAX: none): a lease granted to a holder at seq ends by then. */
int64_t sched_out_held_deadline (sched_out_t *self, int64_t seq);
/* The highest state seq an api reply already sent reflects. */
int64_t sched_out_released_seq (sched_out_t *self);
/* Replies held now. */
size_t sched_out_held (sched_out_t *self);

typedef void (sched_out_unsent_fn) (const char *task_id, int32_t attempt, void *arg);
/* Calls fn for each TASK whose send failed since the last drain; forgets them. */
void sched_out_unsent_drain (sched_out_t *self, sched_out_unsent_fn *fn, void *arg);

/* Publishes one hint now: [topic][seq] with body {rid: object_id, last_seq: seq}. */
void sched_out_publish (zsock_t *pub, const char *topic, const char *object_id, int64_t seq);
/* Publishes the heartbeat on the events socket: the highest event seq,
   and the state stream's epoch and last state seq. */
void sched_out_heartbeat (sched_out_t *self, zsock_t *pub, int64_t state_epoch);
/* The highest seq published by a flush (or set at start-up). */
int64_t sched_out_last_seq (sched_out_t *self);
void sched_out_set_last_seq (sched_out_t *self, int64_t seq);
/* Messages queued and not yet sent (for tests). */
size_t sched_out_size (sched_out_t *self);

#endif
