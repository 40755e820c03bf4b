/*  scheduler.c: the scheduler's rooms together, and one pass over them (see
    scheduler.h): the transaction, routing each message to the api or work
    handlers, settling finished renders, the timers and the retention sweep.
    Thread: the scheduler's loop. Memory: scheduler_init's rooms are freed by
    scheduler_destroy; the sockets and stores belong to whoever set them. */
#include "scheduler.h"
#include "api.h"
#include "api_files.h"
#include "api_renders.h"
#include "dispatch.h"
#include "log.h"
#include "render_event.h"
#include "sched_metrics.h"
#include "work.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
scheduler_init (scheduler_t *self)
{
    self->out = sched_out_new ();
    self->fleet = renderer_table_new ();
    self->reqs = task_reqs_new ();
    self->state = sched_state_new ();
    self->leases = read_lease_new (util_mono_ms ());
    if (self->out && self->fleet && self->reqs && self->state && self->leases)
        return 0;
    scheduler_destroy (self);
    return -1;
}

void
scheduler_destroy (scheduler_t *self)
{
    sched_out_destroy (&self->out);
    renderer_table_destroy (&self->fleet);
    task_reqs_destroy (&self->reqs);
    sched_state_destroy (&self->state);
    read_lease_destroy (&self->leases);
    free (self->sweep.unlink);
    self->sweep.unlink = NULL;
    self->sweep.nunlink = self->sweep.unlink_cap = 0;
    free (self->sweep.adopting);
    self->sweep.adopting = NULL;
    self->sweep.nadopting = self->sweep.adopting_cap = 0;
}

void
scheduler_adopting (scheduler_t *self, const char *sha256, bool add)
{
    scheduler_sweep_t *w = &self->sweep;
    if (add) {
        if (util_grow ((void **) &w->adopting, &w->adopting_cap, w->nadopting, sizeof *w->adopting) == 0)
            snprintf (w->adopting [w->nadopting++], 65, "%s", sha256);
        return;
    }
    for (size_t i = 0; i < w->nadopting; i++)
        if (strcmp (w->adopting [i], sha256) == 0) {
            memcpy (w->adopting [i], w->adopting [--w->nadopting], 65);
            return;
        }
}

void
scheduler_store_failed (scheduler_t *self, const char *what, const char *err)
{
    log_error ("store error", "during", what, "reason", err, NULL);
    self->pass.failed = true;
    if (job_store_is_full (self->store))
        self->pass.full = true;
}

void
scheduler_touch (scheduler_t *self, const char *render_id)
{
    sched_state_touch (self->state, render_id);
}

void
scheduler_touch_task (scheduler_t *self, const char *task_id)
{
    char render_id [PROTO_ID_MAX];
    if (job_store_task_render (self->store, task_id, render_id) != 0)
        sched_state_reset (self->state);     /* which render is not known: all */
    else
        sched_state_touch (self->state, render_id);
}

/* Reads one message from sock and applies it. */
static void
s_recv_one (scheduler_t *self, zsock_t *sock)
{
    bus_msg_t msg;
    memset (&msg, 0, sizeof msg);
    char err [PROTO_ERR_MAX] = "";
    if (bus_recv (sock, true, &msg, err)) {
        if (strcmp (err, "interrupted") != 0) {
            log_warn ("malformed message", "reason", err, NULL);
            if (msg.identity)
                sched_out_error (self->out, sock, msg.identity, "", 400, "bad_message", err, NULL);
        }
    }
    else
    if (sock == self->api) {
        if (self->pass.failed)     /* no transaction to apply it in */
            api_error (self, msg.identity, "", 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        else {
            /* a reply must not show a task ended but its render not yet settled */
            if (self->pass.settle)
                scheduler_settle (self);
            api_handle (self, &msg);
        }
    }
    else
        work_handle (self, &msg);
    bus_msg_free (&msg);
}

static int s_blob_known (const char *sha256, void *arg);

/* The orphan candidates a LIST found (64 hex each): those no row names and
   no adoption in flight holds are removed now, in the pass that checked. */
static void
s_orphans (scheduler_t *self, const char *names, size_t len)
{
    int removed = 0;
    for (size_t i = 0; i + 64 <= len && !self->pass.failed; i += 64) {
        char sha [65];
        memcpy (sha, names + i, 64);
        sha [64] = 0;
        if (s_blob_known (sha, self) == 0 && blob_store_delete (self->blobs, sha) == 0)
            removed++;
    }
    if (removed > 0) {
        char count [16];
        snprintf (count, sizeof count, "%d", removed);
        log_info ("orphan blobs removed", "count", count, NULL);
    }
}

/* One job the blob worker finished, applied in this pass. */
static void
s_recv_adopted (scheduler_t *self)
{
    zframe_t *identity = NULL, *body = NULL;
    char why [256] = "";
    blob_job_t kind = BLOB_JOB_RESULT;
    bool bad = false;
    if (blob_worker_recv (self->adopter, &kind, &identity, &body, why, &bad) != 0)
        log_error ("the blob worker answered badly", "reason", why, NULL);
    else
    if (kind == BLOB_JOB_UPLOAD)
        api_files_put_adopted (self, identity, (const char *) zframe_data (body), zframe_size (body), why, bad);
    else
    if (kind == BLOB_JOB_CREATE)
        api_renders_create_adopted (self, identity, (const char *) zframe_data (body), zframe_size (body),
                                    why, bad);
    else
    if (kind == BLOB_JOB_READ)
        api_files_read (self, identity, (const char *) zframe_data (body), zframe_size (body), why);
    else
    if (kind == BLOB_JOB_LIST) {
        if (!self->pass.failed)
            s_orphans (self, (const char *) zframe_data (body), zframe_size (body));
    }
    else
    if (kind == BLOB_JOB_DROP) {
        if (why [0])
            log_warn ("a refused upload is left for the sweep", "reason", why, NULL);
    }
    else
        work_result_adopted (self, identity, (const char *) zframe_data (body), zframe_size (body), why);
    zframe_destroy (&identity);
    zframe_destroy (&body);
}

void
scheduler_settle (scheduler_t *self)
{
    char render_id [PROTO_ID_MAX], err [256] = "";
    int rc = 0;
    while (!self->pass.failed && (rc = job_store_render_next_settled (self->store, render_id, err)) == 1) {
        /* the event's payload is built only when a webhook delivery sends it */
        render_event_t ev;
        if (render_event_settle (self->store, render_id, self->cfg.public_url, self->pass.now_ms, &ev, err)) {
            scheduler_store_failed (self, "settle", err);
            return;
        }
        sched_state_touch (self->state, render_id);
        if (sched_out_pub (self->out, ev.type, render_id, ev.seq) == 0) {
            char rq [PROTO_ID_MAX];
            job_store_req_get (self->store, render_id, rq);
            log_info ("render finished", "render", render_id, "status", ev.status,
                      "event", ev.event_id, "request_id", rq, NULL);
        }
    }
    if (rc < 0)
        scheduler_store_failed (self, "next_settled", err);
    self->pass.settle = false;
}

/* A blob the gc took: its file goes after COMMIT. */
static void
s_unlink_later (const char *sha256, void *arg)
{
    scheduler_t *self = arg;
    if (util_grow ((void **) &self->sweep.unlink, &self->sweep.unlink_cap, self->sweep.nunlink,
                   sizeof *self->sweep.unlink) == 0)
        snprintf (self->sweep.unlink [self->sweep.nunlink++], 65, "%s", sha256);
}

static int
s_blob_known (const char *sha256, void *arg)
{
    scheduler_t *self = arg;
    for (size_t i = 0; i < self->sweep.nadopting; i++)
        if (strcmp (self->sweep.adopting [i], sha256) == 0)
            return 1;
    return job_store_blob_known (self->store, sha256);
}

/* Retention, in small batches so a pass stays short: final renders older
   than retention_s go, then blobs nothing names (their files after COMMIT),
   then one shard of files no row knows (older than an hour, so a write whose
   row is in flight is never taken). */
static void
s_retention_sweep (scheduler_t *self)
{
    char err [256] = "";
    int n = job_store_retention_sweep (self->store, self->pass.now_ms - self->cfg.retention_s * 1000,
                                       SCHEDULER_SWEEP_BATCH, err);
    if (n < 0) {
        scheduler_store_failed (self, "retention sweep", err);
        return;
    }
    if (n > 0) {
        char count [16];
        snprintf (count, sizeof count, "%d", n);
        log_info ("expired renders deleted", "count", count, NULL);
        sched_state_reset (self->state);     /* the sweep does not name them */
    }
    if (job_store_upload_sweep (self->store, self->pass.now_ms, SCHEDULER_SWEEP_BATCH, err) < 0) {
        scheduler_store_failed (self, "file sweep", err);
        return;
    }
    if (job_store_blob_gc (self->store, SCHEDULER_SWEEP_BATCH, s_unlink_later, self, err) < 0) {
        scheduler_store_failed (self, "blob gc", err);
        return;
    }
    /* an object store's listing runs on the blob worker; one shard at a time */
    if (self->adopter) {
        char job [32];
        snprintf (job, sizeof job, "%d %d", self->sweep.scan_shard, SCHEDULER_ORPHAN_AGE_S);
        if (blob_worker_pending_kind (self->adopter, BLOB_JOB_LIST) > 0
        ||  blob_worker_submit (self->adopter, BLOB_JOB_LIST, NULL, job, strlen (job)) != 0)
            return;
    }
    else
        blob_store_scan_shard (self->blobs, self->sweep.scan_shard, SCHEDULER_ORPHAN_AGE_S, s_blob_known, self);
    self->sweep.scan_shard = (self->sweep.scan_shard + 1) % 256;
}

/* Heartbeat-tick work inside the transaction: expired leases, gauges,
   old idempotency keys, and the retention sweep when it is due. */
static void
s_timers (scheduler_t *self)
{
    char err [256] = "";
    int n = job_store_task_requeue_leased (self->store, NULL, self->pass.now_ms, "lease expired",
                                           self->cfg.max_attempts, self->pass.now_ms, err);
    if (n < 0)
        scheduler_store_failed (self, "lease expiry", err);
    sched_metrics_requeued ("lease_expired", n);
    int64_t queued, leased;
    if (job_store_task_state_counts (self->store, &queued, &leased) == 0)
        sched_metrics_queue (queued, leased);
    sched_metrics_renderers (renderer_table_size (self->fleet),
                             renderer_table_free_slots (self->fleet));
    if (n > 0) {
        log_info ("expired leases requeued", NULL);
        self->pass.settle = true;
        sched_state_reset (self->state);     /* requeued in bulk: renders not named */
    }
    n = job_store_idem_sweep (self->store, self->pass.now_ms - self->cfg.idem_ttl_s * 1000, err);
    if (n < 0)
        scheduler_store_failed (self, "idempotency sweep", err);
    if (self->pass.mono_ms >= self->sweep.next_ms && !self->pass.failed) {
        self->sweep.next_ms = self->pass.mono_ms + SCHEDULER_SWEEP_EVERY_MS;
        s_retention_sweep (self);
    }
}

/* A send on the work socket failed: a renderer found gone is dropped next pass. */
static void
s_send_failed (zframe_t *identity, int error, void *arg)
{
    renderer_t *r = renderer_table_find (arg, identity);
    if (r && error == EHOSTUNREACH)
        r->last_seen_ms = 0;
}

void
scheduler_pass (scheduler_t *self, bool tick)
{
    char err [256] = "";
    self->pass.now_ms = util_now_ms ();
    self->pass.mono_ms = util_mono_ms ();
    log_hold ();                  /* the pass's lines go out in one write, before its sends */
    self->pass.full = false;
    self->sweep.nunlink = 0;
    self->pass.failed = job_store_begin (self->store, err) != 0;
    if (self->pass.failed)
        log_error ("cannot begin a transaction", "reason", err, NULL);
    bool in_txn = !self->pass.failed;
    int n = 0;
    for (; n < EASEL_GROUP_MAX_MSGS; ) {
        int before = n;
        if (zsock_events (self->api) & ZMQ_POLLIN) {
            s_recv_one (self, self->api);
            n++;
        }
        if (zsock_events (self->work) & ZMQ_POLLIN) {
            s_recv_one (self, self->work);
            n++;
        }
        if (self->adopter && (zsock_events (blob_worker_sock (self->adopter)) & ZMQ_POLLIN)) {
            s_recv_adopted (self);
            n++;
        }
        if (n == before)
            break;
    }
    if (!self->pass.failed) {
        work_requeue_unsent (self);
        dispatch_drop_dead (self);
        if (tick)
            s_timers (self);
        if (self->pass.settle)
            scheduler_settle (self);
        /* on a full disk every lease would fail the pass: reads go on, leases wait */
        if (self->pass.mono_ms >= self->pass.full_until_ms)
            dispatch_run (self);
        /* last: what every render touched looks like once the pass commits */
        if (!self->pass.failed
        &&  sched_state_collect (self->state, self->store, self->out, self->pass.now_ms, err))
            scheduler_store_failed (self, "state", err);
    }
    sched_state_forget (self->state);       /* a pass that failed before collecting */
    double commit_start = sched_metrics_now ();
    if (!self->pass.failed && job_store_commit (self->store, err) != 0) {
        /* another scheduler took the database over: this one must not answer
           anything more (its clients follow the new one) */
        if (strncmp (err, JOB_STORE_LEASE_LOST, strlen (JOB_STORE_LEASE_LOST)) == 0) {
            log_error ("this scheduler lost the database's lease; stopping", "reason", err, NULL);
            self->lease_lost = true;
        }
        else
            log_error ("commit failed", "reason", err, NULL);
        self->pass.failed = true;
        self->pass.full = job_store_is_full (self->store);
    }
    else if (!self->pass.failed && n > 0)
        sched_metrics_commit (sched_metrics_now () - commit_start, n);
    if (!self->pass.failed)
        for (size_t i = 0; i < self->sweep.nunlink; i++)
            blob_store_delete (self->blobs, self->sweep.unlink [i]);
    self->sweep.nunlink = 0;
    if (self->pass.failed) {
        if (in_txn)
            job_store_rollback (self->store);
        sched_out_rollback (self->out, self->api, self->pass.full);
        if (self->pass.full)
            self->pass.full_until_ms = self->pass.mono_ms + SCHEDULER_FULL_BACKOFF_MS;
    }
    log_release ();
    /* replies that waited for the gateways' acknowledgments go first */
    sched_out_release (self->out, util_mono_ms ());
    sched_out_flush (self->out, self->work, self->pub, s_send_failed, self->fleet, util_mono_ms ());
    if (tick) {
        renderer_table_heartbeat (self->fleet, self->work);
        sched_out_heartbeat (self->out, self->pub, sched_state_epoch (self->state));
    }
}
