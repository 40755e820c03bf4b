/*  api_renders.c: renders and capture jobs on the api socket (see
    api_renders.h). A create runs its checks in order -- key, idempotency,
    credits, storage quota, named uploads, inline images -- each answering
    and stopping the create on refusal.
    Thread: the scheduler's loop, in the pass's transaction. */
#include "api_renders.h"
#include "api_idem.h"
#include "api_review.h"
#include "api_profiles.h"
#include "job_json.h"
#include "job_kind.h"
#include "log.h"
#include "render_json.h"
#include "sched_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refuses (402) a create the account cannot pay for: its images less, for a
   render (cacheable), those the image cache will serve free. 0 go on / -1
   answered. */
static int
s_credits_check (scheduler_t *self, zframe_t *identity, const char *rid, const char *account,
                 int64_t images, const proto_create_render_t *cacheable)
{
    int64_t available = 0, hits = 0;
    char err [256] = "";
    int rc = job_store_credits_check (self->store, account, images, &available, err);
    if (rc == 0)
        return 0;
    /* short: the images the cache will serve are not charged, so they hold nothing */
    if (rc == 1 && cacheable && !cacheable->no_cache) {
        if (job_store_render_cache_hits (self->store, account, cacheable, &hits, err))
            rc = -1;
        else
        if (hits > 0) {
            images -= hits;
            rc = job_store_credits_check (self->store, account, images, &available, err);
        }
        if (rc == 0)
            return 0;
    }
    if (rc < 0) {
        api_unavailable (self, identity, rid, "credits_check", err);
        return -1;
    }
    char msg [256];
    snprintf (msg, sizeof msg, "This render needs %" PRId64 " credits but the account has %" PRId64
              " available (its balance minus the credits held by renders still processing);"
              " top up with `easel credits add`.", images, available < 0 ? 0 : available);
    api_error (self, identity, rid, 402, "insufficient_credits", msg, NULL);
    return -1;
}

/* Refuses (403 storage_quota_exceeded) a create whose inline images would
   take the account's stored bytes over the quota, or an account already over
   it. 0 to go on, -1 answered. */
static int
s_quota_check (scheduler_t *self, zframe_t *identity, const char *rid, const char *account,
               const proto_create_render_t *req)
{
    int64_t used = 0, adding = 0;
    char err [256] = "";
    if (job_store_storage_used (self->store, account, &used, err)) {
        api_unavailable (self, identity, rid, "storage_used", err);
        return -1;
    }
    for (int32_t i = 0; i < req->nblobs; i++)
        adding += req->blobs [i].name [0] ? req->blobs [i].bytes : (int64_t) req->blobs [i].len;
    if (used + adding <= self->cfg.quota_bytes && (adding > 0 || used < self->cfg.quota_bytes))
        return 0;
    char msg [320];
    snprintf (msg, sizeof msg, "This account stores %" PRId64 " bytes of images; this render would"
              " add %" PRId64 " and the storage quota is %" PRId64 " bytes. Old renders are deleted"
              " after their retention time, or ask the operator for a larger quota.",
              used, adding, self->cfg.quota_bytes);
    api_error (self, identity, rid, 403, "storage_quota_exceeded", msg, "slides");
    return -1;
}

/* Writes each inline image of a create once (content addressed); one the
   gateway stored (named) was adopted before. A full disk answers 507
   insufficient_storage. 0 / -1 answered. */
static int
s_blobs_put (scheduler_t *self, zframe_t *identity, const proto_create_render_t *req)
{
    for (int32_t i = 0; i < req->nblobs; i++) {
        char sha [65], err [256] = "";
        if (req->blobs [i].name [0])
            continue;
        if (blob_store_put (self->blobs, req->blobs [i].data, req->blobs [i].len, sha, err) == 0)
            continue;
        bool full = errno == ENOSPC || errno == EDQUOT;
        log_error ("cannot store an inline image", "reason", err, NULL);
        if (full)
            self->pass.full_until_ms = self->pass.mono_ms + SCHEDULER_FULL_BACKOFF_MS;
        if (full)
            api_error (self, identity, req->rid, 507, "insufficient_storage",
                       "The scheduler's disk is full; nothing of this request was stored.",
                       "slides");
        else
            api_error (self, identity, req->rid, 503, "store_unavailable",
                       "The blob store is unavailable.", NULL);
        return -1;
    }
    return 0;
}

/* One uploaded file a task names (sha, at param): the account must still
   have it, live, so its bytes are there when the task is sent (the task row
   pins them from then on). 0 to go on, -1 answered 422 file_not_found. */
static int
s_file_check (scheduler_t *self, zframe_t *identity, const char *account,
              const proto_create_render_t *req, const char *sha, const char *param)
{
    job_store_upload_t f;
    char err [256] = "";
    int rc = job_store_upload_find (self->store, account, NULL, sha, self->pass.now_ms, &f, err);
    if (rc == 0)
        return 0;
    if (rc < 0)
        api_unavailable (self, identity, req->rid, "upload_find", err);
    else
        api_error (self, identity, req->rid, 422, "file_not_found",
                   "A file this render names expired or was deleted; upload it again.", param);
    return -1;
}

/* A task naming a blob the message does not carry names an uploaded file
   (slides[].screenshot.file_id), and a task's background blob always does
   (background.image.file_id): each must still be the account's, live.
   0 to go on, -1 answered. */
static int
s_files_check (scheduler_t *self, zframe_t *identity, const char *account,
               const proto_create_render_t *req)
{
    for (int32_t i = 0; i < req->ntasks; i++) {
        const char *sha = req->tasks [i].blob;
        bool carried = !sha [0];
        for (int32_t b = 0; b < req->nblobs && !carried; b++)
            carried = strcmp (req->blobs [b].sha256, sha) == 0;
        char param [64];
        snprintf (param, sizeof param, "slides[%d].screenshot.file_id", (int) req->tasks [i].slide);
        if (!carried && s_file_check (self, identity, account, req, sha, param))
            return -1;
        if (req->tasks [i].bg_blob [0]
        &&  s_file_check (self, identity, account, req, req->tasks [i].bg_blob, "background.image.file_id"))
            return -1;
    }
    return 0;
}

/* What a create does that depends on its kind (job_kinds [k] in
   common/job_kind.h holds what every service shares): its price in credits,
   its 202 body, its store row, and whether it carries input images (inline
   blobs, named uploads) that count against the storage quota. */
typedef struct {
    int64_t (*price) (const proto_create_render_t *req);
    char   *(*accepted) (const char *id, size_t *len_out);
    int     (*store_create) (job_store_t *store, const char *account,
                             const proto_create_render_t *req, int64_t now_ms,
                             char id [PROTO_ID_MAX], proto_render_t *made, char *err);
    int32_t   tasks_exact;         /* a create must have exactly this many tasks; 0: any */
    bool      inputs;              /* quota, named uploads and inline blobs are checked */
    const char *created;           /* the log line */
} s_kind_t;

static int64_t s_price_per_image (const proto_create_render_t *req) { return req->ntasks; }
static int64_t s_price_capture (const proto_create_render_t *req)
{
    (void) req;
    return JOB_STORE_CAPTURE_PRICE_MAX;    /* held at the most; charged by size when it settles */
}

/* A capture job's answer is read back (made stays empty). */
static int
s_capture_create (job_store_t *store, const char *account, const proto_create_render_t *req,
                  int64_t now_ms, char id [PROTO_ID_MAX], proto_render_t *made, char *err)
{
    (void) made;
    return job_store_capture_create (store, account, req, now_ms, id, err);
}

static const s_kind_t s_kinds [JOB_KINDS] = {
    [JOB_RENDER]  = { s_price_per_image, render_json_accepted, job_store_render_create,
                      0, true, "render created" },
    [JOB_CAPTURE] = { s_price_capture, job_json_accepted, s_capture_create,
                      1, false, "capture job created" },
};

/* Writes the key row of a new job in the pass's transaction, scope its
   kind's create. An async create's answer is the 202 body, decided by the
   id: stored as done. A sync create is in flight until the gateway stores
   what it answered (IDEM_COMPLETE); if that never comes, the 202 body is its
   fallback. */
static int
s_idem_record (scheduler_t *self, job_kind_id_t kind, const char *account,
               const proto_create_render_t *req, const char *id, char *err)
{
    char *body = s_kinds [kind].accepted (id, NULL);
    if (!body) {
        snprintf (err, 256, "out of memory");
        return -1;
    }
    int64_t hold = self->pass.now_ms + req->idem_hold_ms + EASEL_IDEMPOTENCY_HOLD_MARGIN_MS;
    int rc = job_store_idem_put (self->store, account, job_kinds [kind].create_scope, req->idem_key,
                                 req->idem_fp, id, !req->sync, 202, body, hold, self->pass.now_ms, err);
    free (body);
    return rc;
}

/* Whether a create names inline images the gateway stored itself. */
static bool
s_named_blobs (const proto_create_render_t *req)
{
    for (int32_t i = 0; i < req->nblobs; i++)
        if (req->blobs [i].name [0])
            return true;
    return false;
}

/* Notes (add) or forgets the adoptions of a create's named blobs. */
static void
s_adopting (scheduler_t *self, const proto_create_render_t *req, bool add)
{
    for (int32_t i = 0; i < req->nblobs; i++)
        if (req->blobs [i].name [0])
            scheduler_adopting (self, req->blobs [i].sha256, add);
}

/* A create naming stored inline images goes to the blob worker first (its
   answer: api_renders_create_adopted); refused here (key, or no direct
   writes), its incoming objects are removed. */
static void
s_create_adopt (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                const proto_create_render_t *req)
{
    char account [PROTO_ID_MAX];
    bool queued = false;
    if (!api_direct_uploads (self))
        api_bad_message (self, identity, data, len, "this scheduler takes inline images in the message");
    else
    if (api_auth (self, identity, req->rid, req->auth, account) != 0)
        ;
    else
    if (blob_worker_submit (self->adopter, BLOB_JOB_CREATE, identity, data, len) == 0) {
        s_adopting (self, req, true);
        queued = true;
    }
    else
        api_error (self, identity, req->rid, 503, "store_unavailable", "The blob store is busy; try again.", NULL);
    for (int32_t i = 0; !queued && i < req->nblobs; i++)
        if (req->blobs [i].name [0])
            api_drop_incoming (self, req->blobs [i].name);
}

/* A decoded create, its named inline images adopted (adopted) or none named. */
static void
s_create (scheduler_t *self, job_kind_id_t kind, zframe_t *identity, proto_create_render_t *req_p)
{
    const s_kind_t *k = &s_kinds [kind];
    const char *scope = job_kinds [kind].create_scope;
    proto_create_render_t req = *req_p;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX], id [PROTO_ID_MAX];
    proto_render_t made;
    memset (&made, 0, sizeof made);
    if (k->tasks_exact && req.ntasks != k->tasks_exact) {
        snprintf (err, sizeof err, "a %s has exactly %d task%s", job_kinds [kind].noun,
                  (int) k->tasks_exact, k->tasks_exact == 1 ? "" : "s");
        api_error (self, identity, req.rid, 400, "bad_message", err, NULL);
    }
    else
    if (api_auth (self, identity, req.rid, req.auth, account) == 0
    &&  api_idem_check (self, identity, req.rid, account, scope, req.idem_key, req.idem_fp) == 0
    &&  s_credits_check (self, identity, req.rid, account, k->price (&req),
                         kind == JOB_RENDER ? &req : NULL) == 0
    &&  (!k->inputs
         || (s_quota_check (self, identity, req.rid, account, &req) == 0
         &&  s_files_check (self, identity, account, &req) == 0
         &&  s_blobs_put (self, identity, &req) == 0))) {
        /* a capture's spec holds its cookies and headers: sealed at rest */
        if (kind == JOB_CAPTURE && self->cfg.has_profile_key
        &&  api_profiles_seal_spec (self->cfg.profile_key, &req.tasks [0].spec, &req.tasks [0].spec_len))
            api_error (self, identity, req.rid, 500, "internal_error", "Out of memory.", NULL);
        else
        if (k->store_create (self->store, account, &req, self->pass.now_ms, id, &made, err)
        ||  job_store_req_set (self->store, id, req.req, err)
        ||  (req.idem_key [0] && s_idem_record (self, kind, account, &req, id, err))) {
            api_unavailable (self, identity, req.rid, "job_create", err);
        }
        else {
            log_info (k->created, job_kinds [kind].noun, id, "account", account,
                      "request_id", req.req, NULL);
            for (int32_t i = 0; i < req.nblobs; i++)
                sched_metrics_upload_bytes (req.blobs [i].name [0] != '\0', req.blobs [i].name [0]
                                            ? req.blobs [i].bytes : (int64_t) req.blobs [i].len);
            /* images served from the cache may have finished it: only then is
               the settle probe (which walks every processing render) needed.
               A render is answered as its create made it (job_store.h: what
               a read back would give), a capture job as read back. */
            int final = made.id [0] ? api_reply_render_made (self, identity, req.rid, &made)
                                    : api_reply_render (self, identity, req.rid, id, NULL);
            if (final == 1)
                self->pass.settle = true;
        }
    }
    proto_render_free (&made);
}

void
api_renders_create (scheduler_t *self, job_kind_id_t kind, zframe_t *identity,
                    const char *data, size_t len)
{
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    if (proto_create_render_decode (data, len, &req, err))
        api_bad_message (self, identity, data, len, err);
    else
    if (s_named_blobs (&req) && kind != JOB_RENDER)
        api_bad_message (self, identity, data, len, "only a render carries inline images");
    else
    if (s_named_blobs (&req))
        s_create_adopt (self, identity, data, len, &req);
    else
        s_create (self, kind, identity, &req);
    proto_create_render_free (&req);
}

void
api_renders_create_adopted (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                            const char *why, bool bad)
{
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    if (proto_create_render_decode (data, len, &req, err)) {
        log_error ("an adopted create does not decode", "reason", err, NULL);
        return;
    }
    s_adopting (self, &req, false);
    if (why [0]) {
        log_error ("cannot adopt a create's inline images", "reason", why, NULL);
        if (bad)
            api_error (self, identity, req.rid, 502, "upload_corrupted",
                       "The object store did not keep an inline image's bytes as sent; nothing was "
                       "stored. Send the render again.", "slides");
        else
            api_error (self, identity, req.rid, 503, "store_unavailable", "The blob store is unavailable.", NULL);
    }
    else
    if (self->pass.failed)
        api_error (self, identity, req.rid, 503, "store_unavailable", "The job store is unavailable.", NULL);
    else
        s_create (self, JOB_RENDER, identity, &req);
    proto_create_render_free (&req);
}

void
api_renders_get (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_get_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_get_decode (data, len, &req, err))
        api_bad_message (self, identity, data, len, err);
    else
    if (!req.auth [0] && req.sig [0]) {         /* a review link: no key */
        const char *of = req.link_of [0] ? req.link_of : req.id;
        if (api_review_link (self, identity, req.rid, of, req.exp, req.link_by, req.link_since,
                           req.sig))
            return;
        if (strcmp (of, req.id) == 0)
            api_reply_render (self, identity, req.rid, req.id, NULL);
        else
        if (strcmp (req.link_since, req.id) != 0)   /* a link reads its render and its since */
            api_error (self, identity, req.rid, 403, "review_link_invalid",
                       "This review link does not name that render.", "id");
        else {
            proto_render_t owner;
            memset (&owner, 0, sizeof owner);
            if (job_store_render_get (self->store, of, NULL, self->pass.now_ms, &owner, err) == 0)
                api_reply_render (self, identity, req.rid, req.id, owner.account_id);
            else
                api_error (self, identity, req.rid, 404, "resource_missing",
                           "No such render.", "id");
            proto_render_free (&owner);
        }
    }
    else
    if (api_auth (self, identity, req.rid, req.auth, account) == 0)
        api_reply_render (self, identity, req.rid, req.id, account);
}

/* LIST_RENDERS: the account's renders newest first. */
void
api_renders_list (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_list_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_list_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account))
        return;
    char ids [EASEL_LIST_LIMIT_MAX][PROTO_ID_MAX];
    proto_render_list_t list;
    memset (&list, 0, sizeof list);
    snprintf (list.rid, sizeof list.rid, "%s", req.rid);
    int32_t n = 0;
    if (job_store_render_list (self->store, account, req.limit, req.starting_after, ids, &n,
                               &list.has_more, err)) {
        if (strcmp (err, "not found") == 0)
            api_error (self, identity, req.rid, 422, "parameter_invalid",
                       "starting_after names no render of this account.", "starting_after");
        else
            api_unavailable (self, identity, req.rid, "render_list", err);
        return;
    }
    list.renders = calloc (n > 0 ? (size_t) n : 1, sizeof *list.renders);
    int rc = list.renders ? 0 : -1;
    for (int32_t i = 0; rc == 0 && i < n; i++) {
        rc = job_store_render_get (self->store, ids [i], account, self->pass.now_ms, &list.renders [i], err);
        list.nrenders = i + 1;
    }
    if (rc)
        api_unavailable (self, identity, req.rid, "render_list", list.renders ? err : "out of memory");
    else {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        api_reply (self, identity, req.rid, PROTO_RENDER_LIST,
                   proto_render_list_encode (&list, &sb), &sb);
    }
    proto_render_list_free (&list);
}

/* Tasks of a canceled render still held by one renderer, gathered from
   job_store_render_running (rows come grouped by renderer). */
typedef struct {
    scheduler_t *self;
    const char *render_id;
    char renderer [RENDERER_HEX_MAX];
    proto_task_ref_t refs [EASEL_MAX_IMAGES_PER_RENDER];
    int32_t nrefs;
} s_stop_t;

/* Queues CANCEL_TASKS with the gathered tasks to their renderer (sent after
   the pass commits; nothing is sent if it rolls back). */
static void
s_stop_flush (s_stop_t *st)
{
    scheduler_t *self = st->self;
    renderer_t *r = st->renderer [0] ? renderer_table_by_hex (self->fleet, st->renderer) : NULL;
    if (r && st->nrefs > 0) {
        proto_cancel_tasks_t msg = { .ntasks = st->nrefs, .tasks = st->refs };
        snprintf (msg.render_id, sizeof msg.render_id, "%s", st->render_id);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        if (proto_cancel_tasks_encode (&msg, &sb) == 0) {
            sched_out_queue (self->out, self->work, r->identity, PROTO_CANCEL_TASKS, sb.data, sb.size, NULL);
            char n [16];
            snprintf (n, sizeof n, "%d", (int) st->nrefs);
            log_info ("running tasks told to stop", "render", st->render_id, "renderer", r->name,
                      "tasks", n, NULL);
        }
        else
            log_error ("cannot encode CANCEL_TASKS", "render", st->render_id, NULL);
        msgpack_sbuffer_destroy (&sb);
    }
    st->nrefs = 0;
}

static void
s_stop_one (const char *renderer, const char *task_id, int32_t attempt, void *arg)
{
    s_stop_t *st = arg;
    if (strcmp (renderer, st->renderer) != 0 || st->nrefs == EASEL_MAX_IMAGES_PER_RENDER) {
        s_stop_flush (st);
        snprintf (st->renderer, sizeof st->renderer, "%s", renderer);
    }
    proto_task_ref_t *ref = &st->refs [st->nrefs++];
    snprintf (ref->task_id, sizeof ref->task_id, "%s", task_id);
    ref->attempt = attempt;
}

/* Tells each renderer drawing a task of the just-canceled render to stop it;
   its FAIL "canceled" then frees the slot (job_store_task_release). */
static void
s_stop_running (scheduler_t *self, const char *render_id)
{
    s_stop_t *st = calloc (1, sizeof *st);
    if (!st) {
        log_error ("out of memory telling renderers to stop", "render", render_id, NULL);
        return;
    }
    st->self = self;
    st->render_id = render_id;
    char err [256] = "";
    if (job_store_render_running (self->store, render_id, s_stop_one, st, err))
        scheduler_store_failed (self, "render_running", err);
    else
        s_stop_flush (st);
    free (st);
}

/* CANCEL_RENDER: queued tasks dropped, leased ones canceled (their late
   results are ignored) and their renderers told to stop them (CANCEL_TASKS),
   the render settles as canceled in this pass. */
void
api_renders_cancel (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_cancel_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX], scope [PROTO_SHORT_MAX + PROTO_ID_MAX];
    if (proto_cancel_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    snprintf (scope, sizeof scope, "POST /v1/renders/%s/cancel", req.id);
    if (api_auth (self, identity, req.rid, req.auth, account)
    ||  api_idem_check (self, identity, req.rid, account, scope, req.idem_key, req.idem_fp))
        return;
    if (job_store_render_cancel (self->store, req.id, account, self->pass.now_ms, err)) {
        if (strcmp (err, "not found") == 0)
            api_error (self, identity, req.rid, 404, "resource_missing",
                       "No such render.", "id");
        else
        if (strncmp (err, "finished: ", 10) == 0) {
            char msg [256];
            snprintf (msg, sizeof msg, "Render %s has already finished (status %s); only a"
                      " processing render can be canceled.", req.id, err + 10);
            api_error (self, identity, req.rid, 409, "render_finished", msg, "id");
        }
        else
            api_unavailable (self, identity, req.rid, "render_cancel", err);
        return;
    }
    s_stop_running (self, req.id);
    scheduler_touch (self, req.id);
    self->pass.settle = true;
    scheduler_settle (self);
    if (req.idem_key [0]
    &&  job_store_idem_put (self->store, account, scope, req.idem_key, req.idem_fp, req.id, false,
                            0, NULL, self->pass.now_ms + req.idem_hold_ms + EASEL_IDEMPOTENCY_HOLD_MARGIN_MS,
                            self->pass.now_ms, err)) {
        api_unavailable (self, identity, req.rid, "idem_put", err);
        return;
    }
    log_info ("render canceled", "render", req.id, "account", account, NULL);
    api_reply_render (self, identity, req.rid, req.id, account);
}
