/*  dispatch.h: which task goes to which renderer. Each pass, renderers
    silent longer than EASEL_PEER_DEAD_MS, or found unreachable by a send,
    leave the fleet with their leased tasks requeued (dispatch_drop_dead);
    then queued tasks are leased to the renderers with free slots, least
    loaded first, capture tasks only to renderers that capture, at most
    account_lease_cap of one account while other accounts wait
    (dispatch_run). A lease's TASK is queued on the out room, sent after
    COMMIT; the lease is in the pass's transaction.
    Thread: the scheduler's loop. */
#ifndef EASEL_DISPATCH_H
#define EASEL_DISPATCH_H

#include "scheduler.h"

/* Requeues r's leased tasks (reason in their history), logs "renderer
   gone" and removes r from the fleet (r is invalid after). */
void dispatch_drop (scheduler_t *self, renderer_t *r, const char *reason);

/* Drops renderers last seen more than EASEL_PEER_DEAD_MS ago, or marked
   unreachable (last_seen_ms 0). */
void dispatch_drop_dead (scheduler_t *self);

/* Leases queued tasks to the fleet's free slots and queues their TASKs.
   Nothing when the pass has failed or no renderer is known. */
void dispatch_run (scheduler_t *self);

#endif
