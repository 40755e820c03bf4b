/*  work.c: the work socket's handlers (see work.h).
    Thread: the scheduler's loop, in the pass's transaction. */
#include "work.h"
#include "dispatch.h"
#include "file_admin.h"
#include "log.h"
#include "blob_worker.h"
#include "sched_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
s_work_ready (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_ready_t ready;
    char err [PROTO_ERR_MAX] = "";
    memset (&ready, 0, sizeof ready);
    if (proto_ready_decode (data, len, &ready, err)) {
        sched_out_bad_message (self->out, self->work, identity, data, len, err);
        return;
    }
    renderer_table_ready (self->fleet, identity, &ready, self->pass.mono_ms);
}

/* Whether the peer `identity` holds (task_id, attempt); a report from any
   other peer is logged and dropped (job_store_task_held_by). */
static bool
s_report_from_holder (scheduler_t *self, zframe_t *identity, const char *task_id, int32_t attempt,
                      const char *what)
{
    char hex [2 * RENDERER_IDENTITY_MAX + 1], err [PROTO_ERR_MAX] = "";
    int held = renderer_identity_hex (identity, hex, sizeof hex) ? 0
             : job_store_task_held_by (self->store, task_id, attempt, hex, err);
    if (held < 0)
        scheduler_store_failed (self, "task_held_by", err);
    if (held == 0) {
        char n [16];
        snprintf (n, sizeof n, "%d", (int) attempt);
        renderer_t *r = renderer_table_find (self->fleet, identity);
        log_warn ("report from a peer that does not hold the task ignored", "report", what,
                  "task", task_id, "attempt", n, "renderer", r ? r->name : "(unknown peer)", NULL);
    }
    return held == 1;
}

/* A result the renderer PUT to its task's incoming URL: the store takes the
   object as blob res->sha256 (checking its size and MD5), and res->len
   becomes the stored size the rows record. 0, or -1 with err. */
static int
s_adopt (scheduler_t *self, proto_result_t *res, char sha [65], char *err)
{
    char name [BLOB_INCOMING_NAME_MAX];
    blob_store_incoming_name (res->task_id, (int) res->attempt, name);
    errno = 0;
    if (res->bytes > EASEL_MAX_MSG_BYTES) {
        snprintf (err, PROTO_ERR_MAX, "a stored result of %lld bytes is over the image cap",
                  (long long) res->bytes);
        return -1;
    }
    if (blob_store_adopt (self->blobs, name, res->sha256, res->bytes, res->md5, err))
        return -1;
    memcpy (sha, res->sha256, 65);
    res->len = (size_t) res->bytes;
    return 0;
}

/* The rest of a RESULT once its bytes are stored (stored 0, sha named) or
   not (stored -1, err says why; errno ENOSPC for a full disk). */
static void
s_result_apply (scheduler_t *self, proto_result_t *res, bool direct, int stored, const char *sha,
                char *err)
{
    char rq [PROTO_ID_MAX];
    int saved = errno;
    scheduler_touch_task (self, res->task_id);
    errno = saved;
    if (stored && !direct && (errno == ENOSPC || errno == EDQUOT)) {
        /* the disk is full: the task is drawn again later, the try not counted */
        log_error ("disk full: result not stored, task queued again", "task", res->task_id,
                   "reason", err, NULL);
        self->pass.full_until_ms = self->pass.mono_ms + SCHEDULER_FULL_BACKOFF_MS;
        if (job_store_task_unlease (self->store, res->task_id, res->attempt, err))
            scheduler_store_failed (self, "task_unlease", err);
    }
    else
    if (stored) {
        log_error ("cannot store result", "task", res->task_id, "reason", err, NULL);
        proto_error_t e;
        memset (&e, 0, sizeof e);
        snprintf (e.code, sizeof e.code, "blob_write_failed");
        e.message = err;
        work_task_end (self, res->task_id, res->attempt, &e, true);
    }
    else
    if (job_store_blob_add (self->store, sha, (int64_t) res->len, file_admin_content_type (res->format), err))
        scheduler_store_failed (self, "blob_add", err);
    else
    if (job_store_task_succeed (self->store, res, sha, self->pass.now_ms, err)) {
        if (strcmp (err, "stale") == 0) {
            char attempt [16];
            snprintf (attempt, sizeof attempt, "%d", (int) res->attempt);
            log_info ("stale result ignored", "task", res->task_id, "attempt", attempt, NULL);
            if (job_store_task_release (self->store, res->task_id, res->attempt, err))
                scheduler_store_failed (self, "task_release", err);
        }
        else
            scheduler_store_failed (self, "task_succeed", err);
    }
    else {
        if (!task_reqs_get (self->reqs, res->task_id, rq))
            job_store_req_get (self->store, res->task_id, rq);
        log_info ("task succeeded", "task", res->task_id, "sha256", sha, "request_id", rq, NULL);
        sched_metrics_result_bytes (direct, (int64_t) res->len);
        self->pass.settle = true;
    }
}

static void
s_work_result (scheduler_t *self, const char *data, size_t len, zframe_t *identity)
{
    proto_result_t res;
    memset (&res, 0, sizeof res);
    char err [PROTO_ERR_MAX] = "";
    char sha [65] = "";
    if (proto_result_decode (data, len, &res, err)) {
        sched_out_bad_message (self->out, self->work, identity, data, len, err);
        proto_result_free (&res);
        return;
    }
    if (!s_report_from_holder (self, identity, res.task_id, res.attempt, "RESULT")) {
        proto_result_free (&res);
        return;
    }
    bool direct = res.sha256 [0] != '\0';
    /* the store's round trips go to the blob worker; the pass goes on */
    if (direct && self->adopter && res.bytes <= EASEL_MAX_MSG_BYTES
    &&  blob_worker_submit (self->adopter, BLOB_JOB_RESULT, identity, data, len) == 0) {
        scheduler_adopting (self, res.sha256, true);
        proto_result_free (&res);
        return;
    }
    int stored = direct ? s_adopt (self, &res, sha, err)
                        : blob_store_put (self->blobs, res.data, res.len, sha, err);
    s_result_apply (self, &res, direct, stored, sha, err);
    proto_result_free (&res);
}

void
work_result_adopted (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                     const char *why)
{
    proto_result_t res;
    memset (&res, 0, sizeof res);
    char err [PROTO_ERR_MAX] = "";
    int decoded = proto_result_decode (data, len, &res, err);
    if (decoded == 0)
        scheduler_adopting (self, res.sha256, false);
    if (decoded == 0 && self->pass.failed)
        log_warn ("a stored result waits for its lease to expire: the store is unavailable", NULL);
    else
    if (decoded == 0 && s_report_from_holder (self, identity, res.task_id, res.attempt, "RESULT")) {
        int stored = why [0] ? -1 : 0;
        snprintf (err, sizeof err, "%s", why);
        errno = 0;
        if (stored == 0)
            res.len = (size_t) res.bytes;        /* the stored size, for the rows */
        s_result_apply (self, &res, true, stored, res.sha256, err);
    }
    proto_result_free (&res);
}

void
work_task_end (scheduler_t *self, const char *task_id, int32_t attempt,
               const proto_error_t *error, bool retryable)
{
    char err [PROTO_ERR_MAX] = "";
    char n [16];
    snprintf (n, sizeof n, "%d", (int) attempt);
    scheduler_touch_task (self, task_id);
    if (job_store_task_fail (self->store, task_id, attempt, error, retryable,
                             self->cfg.max_attempts, self->pass.now_ms, err)) {
        if (strcmp (err, "stale") == 0) {
            log_info ("stale failure ignored", "task", task_id, "attempt", n, NULL);
            if (job_store_task_release (self->store, task_id, attempt, err))
                scheduler_store_failed (self, "task_release", err);
        }
        else
            scheduler_store_failed (self, "task_fail", err);
        return;
    }
    char rq [PROTO_ID_MAX];
    job_store_req_get (self->store, task_id, rq);
    log_info (retryable ? "task attempt failed" : "task failed", "task", task_id, "attempt", n,
              "code", error->code, "message", error->message ? error->message : "",
              "request_id", rq, NULL);
    sched_metrics_task_failed (retryable, strcmp (error->code, "attempts_exhausted") == 0);
    self->pass.settle = true;
}

static void
s_work_fail (scheduler_t *self, const char *data, size_t len, zframe_t *identity)
{
    proto_fail_t fail;
    memset (&fail, 0, sizeof fail);
    char err [PROTO_ERR_MAX] = "";
    if (proto_fail_decode (data, len, &fail, err))
        sched_out_bad_message (self->out, self->work, identity, data, len, err);
    else
    if (s_report_from_holder (self, identity, fail.task_id, fail.attempt, "FAIL"))
        work_task_end (self, fail.task_id, fail.attempt, &fail.error, fail.retryable);
    proto_fail_free (&fail);
}

void
work_handle (scheduler_t *self, bus_msg_t *msg)
{
    const char *data = (const char *) zframe_data (msg->body);
    size_t len = zframe_size (msg->body);
    renderer_t *r = renderer_table_find (self->fleet, msg->identity);
    if (r)
        r->last_seen_ms = self->pass.mono_ms;
    if (self->pass.failed && msg->cmd != PROTO_READY && msg->cmd != PROTO_HEARTBEAT) {
        /* its lease runs out and the task is tried again */
        log_warn ("message dropped: store unavailable", "cmd", proto_cmd_name (msg->cmd), NULL);
        return;
    }
    switch (msg->cmd) {
        case PROTO_READY:      s_work_ready (self, msg->identity, data, len); break;
        case PROTO_HEARTBEAT:  break;
        case PROTO_RESULT:     s_work_result (self, data, len, msg->identity); break;
        case PROTO_FAIL:       s_work_fail (self, data, len, msg->identity); break;
        case PROTO_DRAINING:                /* keeps its leases; gets nothing new */
            if (r) {
                r->slots = 0;
                log_info ("renderer draining", "renderer", r->name, NULL);
            }
            break;
        case PROTO_DISCONNECT:
            if (r)
                dispatch_drop (self, r, "renderer disconnected");
            break;
        default: {
            char err [PROTO_ERR_MAX];
            snprintf (err, sizeof err, "unexpected command %s (0x%02x) on the work socket",
                      proto_cmd_name (msg->cmd), msg->cmd & 0xff);
            sched_out_error (self->out, self->work, msg->identity, "", 400, "bad_message", err, NULL);
        }
    }
}

typedef struct {
    scheduler_t *self;
    const proto_error_t *error;
} s_unsent_t;

static void
s_unsent_one (const char *task_id, int32_t attempt, void *arg)
{
    s_unsent_t *u = arg;
    work_task_end (u->self, task_id, attempt, u->error, true);
}

void
work_requeue_unsent (scheduler_t *self)
{
    proto_error_t e;
    memset (&e, 0, sizeof e);
    snprintf (e.code, sizeof e.code, "renderer_unreachable");
    e.message = "the task could not be sent to its renderer";
    s_unsent_t u = { self, &e };
    sched_out_unsent_drain (self->out, s_unsent_one, &u);
}
