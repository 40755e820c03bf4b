/*  work.h: the scheduler's work socket, what renderers say: READY (joins
    the fleet), HEARTBEAT, RESULT (the image stored once in the blob store,
    the task succeeded; on a full disk the task is queued again untried),
    FAIL (the attempt ends, retried while attempts remain), DRAINING (no new
    tasks) and DISCONNECT (its leases requeued). A RESULT or FAIL from a
    peer that does not hold the task's attempt is logged and dropped; a late
    one for an attempt that was requeued is ignored as stale. Any message
    refreshes its renderer's liveness.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_WORK_H
#define EASEL_WORK_H

#include "scheduler.h"
#include "bus.h"

/* Applies one work message. While the pass has failed only READY and
   HEARTBEAT are applied (a result's lease runs out and it is tried again). */
void work_handle (scheduler_t *self, bus_msg_t *msg);

/* Ends (task_id, attempt) with error (retryable: tried again while
   attempts remain); logs a stale end and releases its slot instead. */
void work_task_end (scheduler_t *self, const char *task_id, int32_t attempt,
                    const proto_error_t *error, bool retryable);

/* TASKs whose send failed last pass end their attempt (retryable
   renderer_unreachable). */
void work_requeue_unsent (scheduler_t *self);

/* A stored result the blob worker adopted (why "") or could not (why says
   so: the try fails, retryable): applied as the RESULT from identity would
   have been, if that renderer still holds the task; dropped (the lease
   expires) when the pass has no transaction. */
void work_result_adopted (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                          const char *why);

#endif
