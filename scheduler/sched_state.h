/*  sched_state.h: the render state stream the gateways keep their render
    state from (docs/design.md "Render state in the gateway").

    Every handler that changes what GET_RENDER answers for a render touches
    its id (sched_state_touch) or, when it cannot say which renders changed
    (leases requeued in bulk, the retention sweep), resets the stream
    (sched_state_reset). At the end of the pass, inside its transaction,
    sched_state_collect reads each touched render as GET_RENDER would and
    queues one state message per render on the outbound queue
    (sched_out_state): "state.render" with the render, or "state.gone" when
    its state is not carried (render_json_state_carried: a render of more
    than EASEL_STATE_IMAGES_MAX images, a finished render with a webhook,
    whose webhook_status goes on changing; an encoding over
    SCHED_STATE_BODY_MAX; a deleted render);
    a reset queues "state.reset" instead of them all. The queue numbers
    them at the flush, after COMMIT and before any reply of the pass, so a
    request is answered only after the change it made is on the stream.
    The epoch (random, per process) lets a gateway tell a restarted
    scheduler's stream from the old one.
    Thread: the scheduler's loop. Memory: the touched ids are the room's. */
#ifndef EASEL_SCHED_STATE_H
#define EASEL_SCHED_STATE_H

#include "job_store.h"
#include "sched_out.h"
#include <stdbool.h>
#include <stdint.h>

#define SCHED_STATE_TOUCH_MAX   1024          /* renders touched in one pass; more: a reset */
#define SCHED_STATE_BODY_MAX    (64 * 1024)   /* nor one whose encoding is larger */

typedef struct _sched_state_t sched_state_t;

/* A stream with a fresh random epoch (> 0); NULL out of memory. */
sched_state_t *sched_state_new (void);
void sched_state_destroy (sched_state_t **self_p);

int64_t sched_state_epoch (const sched_state_t *self);

/* The render `id` changed in this pass (ids other than rnd_... are
   ignored: only renders are served from the gateways' state). */
void sched_state_touch (sched_state_t *self, const char *id);

/* Renders changed that nobody named: the gateways drop every state. */
void sched_state_reset (sched_state_t *self);

/* Reads every render touched since the last collect from store (its URLs
   signed at now_ms) and queues its state message on out; forgets the
   touches. 0; -1 with err on a store error other than "not found" (the pass
   then rolls back, which drops what was queued). */
int sched_state_collect (sched_state_t *self, job_store_t *store, sched_out_t *out,
                         int64_t now_ms, char *err);

/* Forgets the touches of a pass that rolled back. */
void sched_state_forget (sched_state_t *self);

#endif
