/*  dispatch.c: which task goes to which renderer (see dispatch.h).
    Thread: the scheduler's loop, in the pass's transaction. */
#include "dispatch.h"
#include "log.h"
#include "sched_metrics.h"

#include <stdio.h>
#include <string.h>

void
dispatch_drop (scheduler_t *self, renderer_t *r, const char *reason)
{
    char err [256] = "";
    int n = job_store_task_requeue_leased (self->store, r->hex, INT64_MAX, reason,
                                           self->cfg.max_attempts, self->pass.now_ms, err);
    if (n < 0)
        scheduler_store_failed (self, "requeue", err);
    char count [24];
    snprintf (count, sizeof count, "%d", n);
    log_info ("renderer gone", "renderer", r->name, "reason", reason, "requeued", count, NULL);
    sched_metrics_requeued ("renderer_gone", n);
    if (n > 0)
        self->pass.settle = true;
    renderer_table_remove (self->fleet, r);
}

static void
s_leased_count (const char *renderer, int64_t n, void *arg)
{
    renderer_t *r = renderer_table_by_hex (arg, renderer);
    if (r)
        r->leased = n;
}

void
dispatch_run (scheduler_t *self)
{
    int nrenderers = renderer_table_size (self->fleet);
    if (nrenderers == 0 || self->pass.failed)
        return;
    char err [256] = "";
    for (int i = 0; i < nrenderers; i++)
        renderer_table_at (self->fleet, i)->leased = 0;
    if (job_store_task_leased_counts (self->store, s_leased_count, self->fleet, err)) {
        scheduler_store_failed (self, "leased_counts", err);
        return;
    }
    /* accounts share the fleet: the next free slot goes to the account
       holding the fewest, each held to the cap while another has work
       queued; one tenant alone may use every slot (fairness only costs then) */
    int64_t accounts = job_store_render_accounts_processing (self->store, err);
    if (accounts < 0) {
        scheduler_store_failed (self, "accounts_processing", err);
        return;
    }
    int64_t cap = accounts < 2 ? 0
                : self->cfg.account_lease_cap > 0 ? self->cfg.account_lease_cap : INT64_MAX;
    /* a renderer that cannot capture and found nothing for it this pass is
       skipped, so capture tasks still reach the renderers that can */
    bool skip [RENDERER_TABLE_MAX] = { false };
    while (true) {
        renderer_t *best = NULL;
        int best_i = -1;
        for (int i = 0; i < nrenderers; i++) {
            renderer_t *r = renderer_table_at (self->fleet, i);
            if (!skip [i] && r->leased < r->slots && (!best || r->leased < best->leased)) {
                best = r;
                best_i = i;
            }
        }
        if (!best)
            return;
        proto_task_t task;
        memset (&task, 0, sizeof task);
        int rc = job_store_task_lease_fair (self->store, best->hex, best->capture, cap,
                                            self->pass.now_ms, self->cfg.lease_ms, &task, err);
        if (rc < 0)
            scheduler_store_failed (self, "lease", err);
        if (rc == 0 && !best->capture) {
            skip [best_i] = true;
            continue;
        }
        if (rc != 1)
            return;
        best->leased++;                 /* task.req came with the lease */
        task_reqs_put (self->reqs, task.task_id, task.req);
        char attempt [16];
        snprintf (attempt, sizeof attempt, "%d", (int) task.attempt);
        log_info ("task leased", "task", task.task_id, "attempt", attempt, "renderer", best->name,
                  "request_id", task.req, NULL);
        sched_metrics_leased (1);
        if (task.blob_sha256 [0]) {
            task.blob = blob_store_get (self->blobs, task.blob_sha256, EASEL_MAX_SOURCE_BYTES,
                                        &task.blob_len, err);
            if (!task.blob) {
                /* sent without it: the renderer answers a retryable blob_missing */
                log_error ("inline image unreadable", "task", task.task_id, "reason", err, NULL);
                task.blob_sha256 [0] = 0;
            }
        }
        if (task.bg_blob_sha256 [0]) {
            task.bg_blob = blob_store_get (self->blobs, task.bg_blob_sha256, EASEL_MAX_SOURCE_BYTES,
                                           &task.bg_blob_len, err);
            if (!task.bg_blob) {
                /* the same: the renderer answers a retryable blob_missing */
                log_error ("background image unreadable", "task", task.task_id, "reason", err, NULL);
                task.bg_blob_sha256 [0] = 0;
            }
        }
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        if (proto_task_encode (&task, &sb) == 0)
            sched_out_task (self->out, self->work, best->identity, sb.data, sb.size, task.task_id,
                            task.attempt);
        else
            log_error ("cannot encode a task", "task", task.task_id, NULL);
        msgpack_sbuffer_destroy (&sb);
        proto_task_free (&task);
    }
}

void
dispatch_drop_dead (scheduler_t *self)
{
    for (int i = renderer_table_size (self->fleet) - 1; i >= 0; i--) {
        renderer_t *r = renderer_table_at (self->fleet, i);
        if (r->last_seen_ms == 0)
            dispatch_drop (self, r, "renderer unreachable");
        else
        if (self->pass.mono_ms - r->last_seen_ms > EASEL_PEER_DEAD_MS)
            dispatch_drop (self, r, "renderer stopped heartbeating");
    }
}
