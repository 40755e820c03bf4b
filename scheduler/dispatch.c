/*  dispatch.c: which task goes to which renderer (see dispatch.h).
    Thread: the scheduler's loop, in the pass's transaction. */
#include "dispatch.h"
#include "api_profiles.h"
#include "log.h"
#include "sched_metrics.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether renderers read and write image bytes on the object store
   themselves (blob_store_direct and not --blob-via-scheduler). */
static bool
s_direct (scheduler_t *self)
{
    return !self->cfg.blob_via_scheduler && blob_store_direct (self->blobs);
}

/* Gives a leased task presigned URLs instead of bytes: a GET of its input
   blob (and of its background) and a PUT of its result under incoming/<task>.<attempt>, both
   living the lease and a minute. 0, or -1 (logged) leaving the task as it
   was, to go with its bytes. */
/* A presigned GET of blob sha256 into a new heap URL, or NULL (err). */
static char *
s_presign_get (scheduler_t *self, const char *sha256, int64_t ttl, char *err)
{
    char *url = malloc (EASEL_MAX_PRESIGNED_URL_BYTES);
    if (url && blob_store_presign (self->blobs, "GET", sha256, NULL, ttl, url,
                                   EASEL_MAX_PRESIGNED_URL_BYTES, err) == 0)
        return url;
    free (url);
    return NULL;
}

static int
s_presign_task (scheduler_t *self, proto_task_t *task)
{
    char err [PROTO_ERR_MAX] = "", name [BLOB_INCOMING_NAME_MAX];
    int64_t ttl = self->cfg.lease_ms / 1000 + 60;
    char *get = NULL, *bg = NULL, *put = malloc (EASEL_MAX_PRESIGNED_URL_BYTES);
    blob_store_incoming_name (task->task_id, (int) task->attempt, name);
    int rc = put && blob_store_incoming_url (self->blobs, name, ttl, put,
                                             EASEL_MAX_PRESIGNED_URL_BYTES, err) == 0 ? 0 : -1;
    if (rc == 0 && task->blob_sha256 [0] && !(get = s_presign_get (self, task->blob_sha256, ttl, err)))
        rc = -1;
    if (rc == 0 && task->bg_blob_sha256 [0] && !(bg = s_presign_get (self, task->bg_blob_sha256, ttl, err)))
        rc = -1;
    if (rc) {
        log_error ("cannot presign the task's URLs", "task", task->task_id,
                   "reason", err [0] ? err : "out of memory", NULL);
        free (get);
        free (bg);
        free (put);
        return -1;
    }
    task->put_url = put;
    if (get) {
        task->blob_url = get;
        memcpy (task->blob_url_sha256, task->blob_sha256, sizeof task->blob_url_sha256);
        task->blob_sha256 [0] = '\0';
    }
    if (bg) {
        task->bg_blob_url = bg;
        memcpy (task->bg_blob_url_sha256, task->bg_blob_sha256, sizeof task->bg_blob_url_sha256);
        task->bg_blob_sha256 [0] = '\0';
    }
    return 0;
}

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
    if (n > 0) {
        self->pass.settle = true;
        sched_state_reset (self->state);     /* requeued in bulk: renders not named */
    }
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
        for (int i = 0; i < nrenderers; i++) {
            renderer_t *r = renderer_table_at (self->fleet, i);
            if (!skip [i] && r->leased < r->slots && (!best || r->leased < best->leased))
                best = r;
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
            /* the lease depends on the renderer's kind alone: no renderer
               that cannot capture finds anything else this pass */
            for (int i = 0; i < nrenderers; i++)
                if (!renderer_table_at (self->fleet, i)->capture)
                    skip [i] = true;
            continue;
        }
        if (rc != 1)
            return;
        best->leased++;                 /* task.req came with the lease */
        scheduler_touch (self, task.render_id);
        task_reqs_put (self->reqs, task.task_id, task.req);
        char attempt [16];
        snprintf (attempt, sizeof attempt, "%d", (int) task.attempt);
        log_info ("task leased", "task", task.task_id, "attempt", attempt, "renderer", best->name,
                  "request_id", task.req, NULL);
        sched_metrics_leased (1);
        if (s_direct (self))
            s_presign_task (self, &task);   /* on failure (logged) it goes with its bytes */
        if (task.blob_sha256 [0] && !task.blob_url) {
            task.blob = blob_store_get (self->blobs, task.blob_sha256, EASEL_MAX_SOURCE_BYTES,
                                        &task.blob_len, err);
            if (!task.blob) {
                /* sent without it: the renderer answers a retryable blob_missing */
                log_error ("inline image unreadable", "task", task.task_id, "reason", err, NULL);
                task.blob_sha256 [0] = 0;
            }
        }
        if (task.bg_blob_sha256 [0] && !task.bg_blob_url) {
            task.bg_blob = blob_store_get (self->blobs, task.bg_blob_sha256, EASEL_MAX_SOURCE_BYTES,
                                           &task.bg_blob_len, err);
            if (!task.bg_blob) {
                /* the same: the renderer answers a retryable blob_missing */
                log_error ("background image unreadable", "task", task.task_id, "reason", err, NULL);
                task.bg_blob_sha256 [0] = 0;
            }
        }
        bool sealed = api_profiles_spec_sealed (task.spec, task.spec_len);
        if (sealed && api_profiles_open_spec (self->cfg.has_profile_key ? self->cfg.profile_key : NULL,
                                              &task.spec, &task.spec_len)) {
            /* sent empty: the renderer answers bad_task and the job fails */
            log_error ("a capture spec does not open with EASEL_PROFILE_KEY", "task", task.task_id, NULL);
            task.spec_len = 0;
        }
        sched_metrics_input_bytes ((int64_t) (task.blob_len + task.bg_blob_len));
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        if (proto_task_encode (&task, &sb) == 0)
            sched_out_task (self->out, self->work, best->identity, sb.data, sb.size, task.task_id,
                            task.attempt);
        else
            log_error ("cannot encode a task", "task", task.task_id, NULL);
        if (sealed) {
            sodium_memzero (sb.data, sb.size);
            sodium_memzero (task.spec, task.spec_len);
        }
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
