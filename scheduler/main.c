/*  main.c: easel-scheduler. Binds the api ROUTER, work ROUTER and events PUB
    sockets and owns all state: the job store, the blob store and the table of
    live renderers.
    Thread: one. The loop polls both ROUTERs, applies up to EASEL_GROUP_MAX_MSGS
    messages plus timers and dispatch in ONE transaction, and only after COMMIT
    sends the replies, TASKs and event PUBs it queued. A failed commit rolls
    back and answers every request of the pass with 503 store_unavailable.
    Memory: queued messages own copies of identity and body until sent. */
#include "job_store.h"
#include "sched_metrics.h"
#include "metrics.h"
#include "blob_store.h"
#include "bus.h"
#include "bus_security.h"
#include "log.h"
#include "render_json.h"
#include "job_json.h"
#include "util.h"
#include "webhook_admin.h"
#include "file_admin.h"
#include "task_reqs.h"
#include "render_event.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_RENDERERS     1024
#define S_IDENTITY_MAX      64            /* bytes of a ROUTER peer identity we accept */
#define S_URL_MAX           1024
#define S_FILE_MAX_BYTES    (EASEL_MAX_MSG_BYTES - 64 * 1024)   /* leaves room for the envelope */
#define S_SWEEP_EVERY_MS    1000          /* retention sweep period */
#define S_SWEEP_BATCH       64            /* renders, then blobs, one sweep deletes at most */
#define S_ORPHAN_AGE_S      3600          /* a file no row names is removed after this */
#define S_FULL_BACKOFF_MS   1000          /* after a full-disk commit failure, dispatch pauses */

typedef struct {
    zframe_t *identity;
    char      hex [2 * S_IDENTITY_MAX + 1];   /* the identity as stored in tasks.renderer */
    char      name [PROTO_SHORT_MAX];
    int32_t   slots;
    bool      capture;                        /* READY said it can run capture tasks */
    int64_t   leased;                         /* refreshed from the store before dispatch */
    int64_t   last_seen_ms;                   /* monotonic; 0 forces the dead check */
} s_renderer_t;

/* A message held back until the pass commits. */
typedef struct {
    zsock_t  *sock;
    zframe_t *identity;
    int       cmd;
    char     *body;
    size_t    len;
    char      rid [PROTO_ID_MAX];             /* api replies: to answer 503 instead */
    char      task_id [PROTO_ID_MAX];         /* TASK sends: to requeue on send failure */
    int32_t   attempt;
} s_out_t;

typedef struct {
    char    type [PROTO_SHORT_MAX];
    char    render_id [PROTO_ID_MAX];
    int64_t seq;
} s_pub_t;

typedef struct {
    /* configuration */
    const char *api_ep, *work_ep, *events_ep, *data_dir;
    char     public_url [S_URL_MAX];
    int32_t  max_attempts;
    int64_t  lease_ms;
    int64_t  account_lease_cap;    /* tasks of one account leased while others wait; 0 none */
    int64_t  idem_ttl_s;           /* idempotency keys are kept this long */
    int64_t  retention_s;          /* final renders and jobs are kept this long */
    int64_t  quota_bytes;          /* stored bytes an account's renders may name */
    /* owned */
    zsock_t *api, *work, *pub;
    job_store_t  *store;
    blob_store_t *blobs;
    s_renderer_t renderers [S_MAX_RENDERERS];
    int      nrenderers;
    s_out_t *out;
    size_t   nout, out_cap;
    s_pub_t *pubs;
    size_t   npubs, pubs_cap;
    s_out_t *unsent;               /* TASKs whose send failed: requeued next pass */
    size_t   nunsent, unsent_cap;
    /* per pass */
    bool     pass_failed;          /* a store error: the pass rolls back */
    bool     pass_full;            /* ... because the disk is full: creates answer 507 */
    char   (*unlink) [65];         /* blobs collected this pass: files go after COMMIT */
    size_t   nunlink, unlink_cap;
    int64_t  next_sweep_ms;        /* monotonic time of the next retention sweep */
    int      scan_shard;           /* next blob shard the orphan scan walks */
    int64_t  full_until_ms;        /* monotonic: the disk was full, no dispatch until then */
    bool     settle;               /* a task ended: look for finished renders */
    int64_t  now_ms, mono_ms;
    int64_t  last_seq;             /* highest committed event seq */
    int64_t  next_tick_ms;         /* monotonic time of the next heartbeat */
    int16_t  hex_slots [2 * S_MAX_RENDERERS];  /* renderer index + 1, by hash of its hex */
    bool     hex_dirty;            /* the renderer table changed: hex_slots is rebuilt before use */
    task_reqs_t *reqs;             /* request ids of leased tasks, for result log lines */
} s_sched_t;

/* ---- queues -------------------------------------------------------------------- */

/* Grows *arr (of *cap elements of size elem) to hold n+1. 0 / -1. */
static int
s_grow (void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t next = *cap ? *cap * 2 : 64;
    void *grown = realloc (*arr, next * elem);
    if (!grown)
        return -1;
    *arr = grown;
    *cap = next;
    return 0;
}

static void
s_out_free (s_out_t *o)
{
    zframe_destroy (&o->identity);
    free (o->body);
    o->body = NULL;
}

/* Queues one message; copies identity and body. */
static void
s_queue (s_sched_t *self, zsock_t *sock, zframe_t *identity, int cmd,
         const char *body, size_t len, const char *rid)
{
    if (s_grow ((void **) &self->out, &self->out_cap, self->nout, sizeof *self->out)) {
        log_error ("out of memory queueing a reply", NULL);
        return;
    }
    s_out_t *o = &self->out [self->nout];
    memset (o, 0, sizeof *o);
    o->body = malloc (len ? len : 1);
    if (!o->body) {
        log_error ("out of memory queueing a reply", NULL);
        return;
    }
    memcpy (o->body, body, len);
    o->len = len;
    o->sock = sock;
    o->identity = identity ? zframe_dup (identity) : NULL;
    o->cmd = cmd;
    snprintf (o->rid, sizeof o->rid, "%s", rid ? rid : "");
    self->nout++;
}

static void
s_queue_error (s_sched_t *self, zsock_t *sock, zframe_t *identity, const char *rid,
               int32_t status, const char *code, const char *message, const char *param)
{
    proto_errmsg_t e;
    memset (&e, 0, sizeof e);
    snprintf (e.rid, sizeof e.rid, "%s", rid ? rid : "");
    e.status = status;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_error_set (&e.error, code, message, param) == 0 && proto_errmsg_encode (&e, &sb) == 0)
        s_queue (self, sock, identity, PROTO_ERROR, sb.data, sb.size, rid);
    else
        log_error ("cannot encode an error reply", "code", code, NULL);
    msgpack_sbuffer_destroy (&sb);
    proto_errmsg_free (&e);
}

/* Queues an encoded reply, or a 500 when encoding failed (rc != 0). */
static void
s_queue_reply (s_sched_t *self, zframe_t *identity, const char *rid, int cmd,
               int rc, msgpack_sbuffer *sb)
{
    if (rc == 0)
        s_queue (self, self->api, identity, cmd, sb->data, sb->size, rid);
    else {
        log_error ("cannot encode a reply", "cmd", proto_cmd_name (cmd), NULL);
        s_queue_error (self, self->api, identity, rid, 500, "internal_error",
                       "the scheduler could not encode its reply", NULL);
    }
    msgpack_sbuffer_destroy (sb);
}

/* Answers 400 bad_message for a body its decoder refused, echoing its rid
   when the body still has one. */
static void
s_bad_message (s_sched_t *self, zsock_t *sock, zframe_t *identity,
               const char *data, size_t len, const char *reason)
{
    proto_simple_t probe;
    char ignored [PROTO_ERR_MAX];
    if (proto_simple_decode (data, len, &probe, ignored) != 0)
        probe.rid [0] = 0;
    log_warn ("bad message", "reason", reason, NULL);
    s_queue_error (self, sock, identity, probe.rid, 400, "bad_message", reason, NULL);
}

/* A store call failed with `err`: the pass will roll back. */
static void
s_store_failed (s_sched_t *self, const char *what, const char *err)
{
    log_error ("store error", "during", what, "reason", err, NULL);
    self->pass_failed = true;
    if (job_store_is_full (self->store))
        self->pass_full = true;
}

/* ---- renderers ------------------------------------------------------------------- */

static int
s_identity_hex (zframe_t *identity, char *out, size_t size)
{
    size_t n = zframe_size (identity);
    if (n == 0 || n > S_IDENTITY_MAX || size < 2 * n + 1)
        return -1;
    const uint8_t *b = zframe_data (identity);
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out [2 * i] = digits [b [i] >> 4];
        out [2 * i + 1] = digits [b [i] & 15];
    }
    out [2 * n] = 0;
    return 0;
}

static s_renderer_t *s_renderer_by_hex (s_sched_t *self, const char *hex);

/* By identity: one hash lookup (every message on the work socket asks). */
static s_renderer_t *
s_renderer_find (s_sched_t *self, zframe_t *identity)
{
    char hex [2 * S_IDENTITY_MAX + 1];
    if (s_identity_hex (identity, hex, sizeof hex))
        return NULL;
    s_renderer_t *r = s_renderer_by_hex (self, hex);
    if (r)
        return r;
    for (int i = 0; i < self->nrenderers; i++)   /* not indexed (yet): rebuild next time */
        if (zframe_eq (self->renderers [i].identity, identity)) {
            self->hex_dirty = true;
            return &self->renderers [i];
        }
    return NULL;
}

/* Forgets renderer r and requeues its leased tasks. */
static void
s_renderer_drop (s_sched_t *self, s_renderer_t *r, const char *reason)
{
    char err [256] = "";
    int n = job_store_task_requeue_leased (self->store, r->hex, INT64_MAX, reason,
                                           self->max_attempts, self->now_ms, err);
    if (n < 0)
        s_store_failed (self, "requeue", err);
    char count [24];
    snprintf (count, sizeof count, "%d", n);
    log_info ("renderer gone", "renderer", r->name, "reason", reason, "requeued", count, NULL);
    sched_metrics_requeued ("renderer_gone", n);
    if (n > 0)
        self->settle = true;
    zframe_destroy (&r->identity);
    *r = self->renderers [--self->nrenderers];
    memset (&self->renderers [self->nrenderers], 0, sizeof *r);
    self->hex_dirty = true;
}

/* FNV-1a of a renderer's hex identity, as a slot of hex_slots. */
static size_t
s_hex_slot (const char *hex)
{
    return util_fnv1a (UTIL_FNV_SEED, hex) % (2 * S_MAX_RENDERERS);
}

/* Indexes the renderer table by hex identity for this dispatch (open
   addressing, at most half full), so each leased-count row is one lookup. */
static void
s_hex_index (s_sched_t *self)
{
    memset (self->hex_slots, 0, sizeof self->hex_slots);
    for (int i = 0; i < self->nrenderers; i++) {
        size_t k = s_hex_slot (self->renderers [i].hex);
        while (self->hex_slots [k])
            k = (k + 1) % (2 * S_MAX_RENDERERS);
        self->hex_slots [k] = (int16_t) (i + 1);
    }
    self->hex_dirty = false;
}

static s_renderer_t *
s_renderer_by_hex (s_sched_t *self, const char *hex)
{
    if (self->hex_dirty)
        s_hex_index (self);
    for (size_t k = s_hex_slot (hex); self->hex_slots [k]; k = (k + 1) % (2 * S_MAX_RENDERERS)) {
        s_renderer_t *r = &self->renderers [self->hex_slots [k] - 1];
        if (strcmp (r->hex, hex) == 0)
            return r;
    }
    return NULL;
}

static void
s_leased_count (const char *renderer, int64_t n, void *arg)
{
    s_renderer_t *r = s_renderer_by_hex (arg, renderer);
    if (r)
        r->leased = n;
}

/* ---- api socket ------------------------------------------------------------------- */

/* Resolves `auth` or queues 401. 0 / -1. */
static int
s_auth (s_sched_t *self, zframe_t *identity, const char *rid, const char *auth,
        char account [PROTO_ID_MAX])
{
    if (job_store_auth (self->store, auth, account) == 0)
        return 0;
    s_queue_error (self, self->api, identity, rid, 401, "invalid_api_key",
                   "The API key is missing, unknown or revoked.", NULL);
    return -1;
}

/* Queues a RENDER reply for render_id, or 404 (account mismatch / unknown). */
static void
s_reply_render (s_sched_t *self, zframe_t *identity, const char *rid,
                const char *render_id, const char *account)
{
    proto_render_t r;
    memset (&r, 0, sizeof r);
    char err [256] = "";
    if (job_store_render_get (self->store, render_id, account, self->now_ms, &r, err)) {
        if (strcmp (err, "not found") == 0)
            s_queue_error (self, self->api, identity, rid, 404, "resource_missing",
                           "No such render.", "id");
        else {
            s_store_failed (self, "render_get", err);
            s_queue_error (self, self->api, identity, rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
    }
    else {
        snprintf (r.rid, sizeof r.rid, "%s", rid);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_queue_reply (self, identity, rid, PROTO_RENDER, proto_render_encode (&r, &sb), &sb);
    }
    proto_render_free (&r);
}

/* ---- idempotency keys and credits (see job_store.h) ------------------------------ */

#define S_SCOPE_CREATE  "POST /v1/renders"

/* Queues a REPLAY of a stored response. */
static void
s_reply_stored (s_sched_t *self, zframe_t *identity, const char *rid, int cmd,
                int32_t status, const char *object_id, char *body)
{
    proto_body_t b;
    memset (&b, 0, sizeof b);
    snprintf (b.rid, sizeof b.rid, "%s", rid);
    snprintf (b.id, sizeof b.id, "%s", object_id ? object_id : "");
    b.status = status;
    b.body = body;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_queue_reply (self, identity, rid, cmd, proto_body_encode (&b, &sb), &sb);
}

/* Looks an Idempotency-Key up before a keyed request runs. 0: new, run it;
   -1: answered here (replay, 409 in flight, 422 reused, or 503). */
static int
s_idem_check (s_sched_t *self, zframe_t *identity, const char *rid, const char *account,
              const char *scope, const char *key, const char *fp)
{
    if (!key [0])
        return 0;
    job_store_idem_t row;
    char err [256] = "";
    int rc = job_store_idem_lookup (self->store, account, scope, key, fp, self->now_ms,
                                    self->now_ms - self->idem_ttl_s * 1000, &row, err);
    switch (rc) {
        case JOB_STORE_IDEM_NEW:
            return 0;
        case JOB_STORE_IDEM_REPLAY:
            log_info ("idempotent replay", "account", account, "scope", scope, "object", row.object_id, NULL);
            s_reply_stored (self, identity, rid, PROTO_REPLAY, row.status, row.object_id, row.body);
            break;
        case JOB_STORE_IDEM_IN_FLIGHT:
            s_queue_error (self, self->api, identity, rid, 409, "idempotency_key_in_use",
                           "A request with this Idempotency-Key is still in flight; retry after"
                           " it has been answered.", "Idempotency-Key");
            break;
        case JOB_STORE_IDEM_MISMATCH:
            s_queue_error (self, self->api, identity, rid, 422, "idempotency_key_reused",
                           "This Idempotency-Key was already used with other parameters; use a"
                           " new key for a new request.", "Idempotency-Key");
            break;
        default:
            s_store_failed (self, "idem_lookup", err);
            s_queue_error (self, self->api, identity, rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
    }
    free (row.body);
    return -1;
}

/* Refuses (402) a create the account cannot pay for. 0 go on / -1 answered. */
static int
s_credits_check (s_sched_t *self, zframe_t *identity, const char *rid, const char *account,
                 int64_t images)
{
    int64_t available = 0;
    char err [256] = "";
    int rc = job_store_credits_check (self->store, account, images, &available, err);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        s_store_failed (self, "credits_check", err);
        s_queue_error (self, self->api, identity, rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        return -1;
    }
    char msg [256];
    snprintf (msg, sizeof msg, "This render needs %" PRId64 " credits but the account has %" PRId64
              " available (its balance minus the credits held by renders still processing);"
              " top up with `easel credits add`.", images, available < 0 ? 0 : available);
    s_queue_error (self, self->api, identity, rid, 402, "insufficient_credits", msg, NULL);
    return -1;
}

/* Writes the key row of a new render in the pass's transaction. An async
   create's answer is the 202 body, decided by the id: stored as done. A sync
   create is in flight until the gateway stores what it answered
   (IDEM_COMPLETE); if that never comes, the 202 body is its fallback. */
static int
s_idem_record_create (s_sched_t *self, const char *account, const proto_create_render_t *req,
                      const char *render_id, char *err)
{
    char *body = render_json_accepted (render_id, NULL);
    if (!body) {
        snprintf (err, 256, "out of memory");
        return -1;
    }
    int64_t hold = self->now_ms + req->idem_hold_ms + EASEL_IDEMPOTENCY_HOLD_MARGIN_MS;
    int rc = job_store_idem_put (self->store, account, S_SCOPE_CREATE, req->idem_key, req->idem_fp,
                                 render_id, !req->sync, 202, body, hold, self->now_ms, err);
    free (body);
    return rc;
}

/* Refuses (403 storage_quota_exceeded) a create whose inline images would
   take the account's stored bytes over the quota, or an account already over
   it. 0 to go on, -1 answered. */
static int
s_quota_check (s_sched_t *self, zframe_t *identity, const char *rid, const char *account,
               const proto_create_render_t *req)
{
    int64_t used = 0, adding = 0;
    char err [256] = "";
    if (job_store_storage_used (self->store, account, &used, err)) {
        s_store_failed (self, "storage_used", err);
        s_queue_error (self, self->api, identity, rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        return -1;
    }
    for (int32_t i = 0; i < req->nblobs; i++)
        adding += (int64_t) req->blobs [i].len;
    if (used + adding <= self->quota_bytes && (adding > 0 || used < self->quota_bytes))
        return 0;
    char msg [320];
    snprintf (msg, sizeof msg, "This account stores %" PRId64 " bytes of images; this render would"
              " add %" PRId64 " and the storage quota is %" PRId64 " bytes. Old renders are deleted"
              " after their retention time, or ask the operator for a larger quota.",
              used, adding, self->quota_bytes);
    s_queue_error (self, self->api, identity, rid, 403, "storage_quota_exceeded", msg, "slides");
    return -1;
}

/* Writes each inline image of a create once (content addressed). A full
   disk answers 507 insufficient_storage. 0 / -1 answered. */
static int
s_blobs_put (s_sched_t *self, zframe_t *identity, const proto_create_render_t *req)
{
    for (int32_t i = 0; i < req->nblobs; i++) {
        char sha [65], err [256] = "";
        if (blob_store_put (self->blobs, req->blobs [i].data, req->blobs [i].len, sha, err) == 0)
            continue;
        bool full = errno == ENOSPC || errno == EDQUOT;
        log_error ("cannot store an inline image", "reason", err, NULL);
        if (full)
            self->full_until_ms = self->mono_ms + S_FULL_BACKOFF_MS;
        if (full)
            s_queue_error (self, self->api, identity, req->rid, 507, "insufficient_storage",
                           "The scheduler's disk is full; nothing of this request was stored.",
                           "slides");
        else
            s_queue_error (self, self->api, identity, req->rid, 503, "store_unavailable",
                           "The blob store is unavailable.", NULL);
        return -1;
    }
    return 0;
}

/* A task naming a blob the message does not carry names an uploaded file
   (slides[].screenshot.file_id): the account must still have it, live, so
   its bytes are there when the task is sent (the task row pins them from
   then on). 0 to go on, -1 answered 422 file_not_found. */
static int
s_files_check (s_sched_t *self, zframe_t *identity, const char *account,
               const proto_create_render_t *req)
{
    for (int32_t i = 0; i < req->ntasks; i++) {
        const char *sha = req->tasks [i].blob;
        bool carried = !sha [0];
        for (int32_t b = 0; b < req->nblobs && !carried; b++)
            carried = strcmp (req->blobs [b].sha256, sha) == 0;
        if (carried)
            continue;
        job_store_upload_t f;
        char err [256] = "";
        int rc = job_store_upload_find (self->store, account, NULL, sha, self->now_ms, &f, err);
        if (rc == 0)
            continue;
        if (rc < 0) {
            s_store_failed (self, "upload_find", err);
            s_queue_error (self, self->api, identity, req->rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
        else {
            char param [64];
            snprintf (param, sizeof param, "slides[%d].screenshot.file_id", (int) req->tasks [i].slide);
            s_queue_error (self, self->api, identity, req->rid, 422, "file_not_found",
                           "A file this render names expired or was deleted; upload it again.", param);
        }
        return -1;
    }
    return 0;
}

/* FILE_PUT: the account's file of these bytes, stored once (200 when it
   already had them, 201 new). Counts against the storage quota (403). */
static void
s_api_file_put (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_file_put_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_file_put_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    job_store_upload_t f;
    memset (&f, 0, sizeof f);
    util_sha256_hex (req.data, req.len, f.sha256);
    int rc = -2, status = 201;
    int64_t used = 0;
    if (s_auth (self, identity, req.rid, req.auth, account) != 0)
        goto done;
    rc = job_store_upload_find (self->store, account, NULL, f.sha256, self->now_ms, &f, err);
    if (rc == 0)
        status = 200;
    else
    if (rc == 1 && (rc = job_store_storage_used (self->store, account, &used, err)) == 0) {
        if (used + (int64_t) req.len > self->quota_bytes) {
            char msg [320];
            snprintf (msg, sizeof msg, "This account stores %" PRId64 " bytes of images; this file"
                      " would add %zu and the storage quota is %" PRId64 " bytes. Old renders and"
                      " files are deleted after their retention time, or ask the operator for a"
                      " larger quota.", used, req.len, self->quota_bytes);
            s_queue_error (self, self->api, identity, req.rid, 403, "storage_quota_exceeded", msg, "file");
            rc = -2;
            goto done;
        }
        char sha [65];
        if (blob_store_put (self->blobs, req.data, req.len, sha, err) != 0) {
            bool full = errno == ENOSPC || errno == EDQUOT;
            log_error ("cannot store an upload", "reason", err, NULL);
            if (full)
                self->full_until_ms = self->mono_ms + S_FULL_BACKOFF_MS;
            s_queue_error (self, self->api, identity, req.rid, full ? 507 : 503,
                           full ? "insufficient_storage" : "store_unavailable",
                           full ? "The scheduler's disk is full; the file was not stored."
                                : "The blob store is unavailable.", full ? "file" : NULL);
            rc = -2;
            goto done;
        }
        snprintf (f.account_id, sizeof f.account_id, "%s", account);
        f.bytes = (int64_t) req.len;
        f.width = req.width;
        f.height = req.height;
        snprintf (f.format, sizeof f.format, "%s", req.format);
        f.created_at_ms = self->now_ms;
        f.expires_at_ms = self->now_ms + self->retention_s * 1000;
        rc = job_store_upload_put (self->store, &f, file_admin_content_type (f.format), err);
        if (rc == 0)
            log_info ("file stored", "file", f.id, "account", account, NULL);
    }
done:
    if (rc == -1) {
        s_store_failed (self, "file_put", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
    }
    if (rc == 0) {
        proto_json_t rep;
        memset (&rep, 0, sizeof rep);
        snprintf (rep.rid, sizeof rep.rid, "%s", req.rid);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        if (file_admin_json (&f, status, &rep) == 0)
            s_queue_reply (self, identity, req.rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
        else
            msgpack_sbuffer_destroy (&sb);
        proto_json_free (&rep);
    }
    proto_file_put_free (&req);
}

/* FILE_FIND: the account's live file by id or sha256; another account's,
   an expired one or none: 404. */
static void
s_api_file_find (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_file_find_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_file_find_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    if (s_auth (self, identity, req.rid, req.auth, account) != 0)
        return;
    job_store_upload_t f;
    int rc = job_store_upload_find (self->store, account, req.id [0] ? req.id : NULL,
                                    req.sha256 [0] ? req.sha256 : NULL, self->now_ms, &f, err);
    if (rc < 0) {
        s_store_failed (self, "file_find", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        return;
    }
    if (rc == 1) {
        s_queue_error (self, self->api, identity, req.rid, 404, "resource_missing",
                       req.id [0] ? "No such file." : "This account has no file with these bytes.",
                       req.id [0] ? "id" : "sha256");
        return;
    }
    proto_json_t rep;
    memset (&rep, 0, sizeof rep);
    snprintf (rep.rid, sizeof rep.rid, "%s", req.rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (file_admin_json (&f, 200, &rep) == 0)
        s_queue_reply (self, identity, req.rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
    else
        msgpack_sbuffer_destroy (&sb);
    proto_json_free (&rep);
}

static void
s_api_create (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX], render_id [PROTO_ID_MAX];
    if (proto_create_render_decode (data, len, &req, err))
        s_bad_message (self, self->api, identity, data, len, err);
    else
    if (s_auth (self, identity, req.rid, req.auth, account) == 0
    &&  s_idem_check (self, identity, req.rid, account, S_SCOPE_CREATE, req.idem_key, req.idem_fp) == 0
    &&  s_credits_check (self, identity, req.rid, account, req.ntasks) == 0
    &&  s_quota_check (self, identity, req.rid, account, &req) == 0
    &&  s_files_check (self, identity, account, &req) == 0
    &&  s_blobs_put (self, identity, &req) == 0) {
        if (job_store_render_create (self->store, account, &req, self->now_ms, render_id, err)
        ||  job_store_req_set (self->store, render_id, req.req, err)
        ||  (req.idem_key [0] && s_idem_record_create (self, account, &req, render_id, err))) {
            s_store_failed (self, "render_create", err);
            s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
        else {
            log_info ("render created", "render", render_id, "account", account,
                      "request_id", req.req, NULL);
            self->settle = true;   /* images served from the cache may have finished it */
            s_reply_render (self, identity, req.rid, render_id, NULL);
        }
    }
    proto_create_render_free (&req);
}

#define S_SCOPE_CAPTURE "POST /v1/capture"

/* The key row of a new capture job, in the pass's transaction (as
   s_idem_record_create does for renders): async stored done with the job's
   202 body; sync in flight until the gateway stores its answer, the 202 body
   its fallback. */
static int
s_idem_record_capture (s_sched_t *self, const char *account, const proto_create_render_t *req,
                       const char *job_id, char *err)
{
    char *body = job_json_accepted (job_id, NULL);
    if (!body) {
        snprintf (err, 256, "out of memory");
        return -1;
    }
    int64_t hold = self->now_ms + req->idem_hold_ms + EASEL_IDEMPOTENCY_HOLD_MARGIN_MS;
    int rc = job_store_idem_put (self->store, account, S_SCOPE_CAPTURE, req->idem_key, req->idem_fp,
                                 job_id, !req->sync, 202, body, hold, self->now_ms, err);
    free (body);
    return rc;
}

/* A capture job (one task, priced up to JOB_STORE_CAPTURE_PRICE_MAX). Its
   Idempotency-Key (idem_key/idem_fp, scope "POST /v1/capture") is checked
   here and its row written in the job's transaction. Answers the RENDER of
   the job, or a REPLAY / 409 / 422 for a known key. */
static void
s_api_create_capture (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX], job_id [PROTO_ID_MAX];
    if (proto_create_render_decode (data, len, &req, err))
        s_bad_message (self, self->api, identity, data, len, err);
    else
    if (req.ntasks != 1)
        s_queue_error (self, self->api, identity, req.rid, 400, "bad_message",
                       "a capture has exactly one task", NULL);
    else
    if (s_auth (self, identity, req.rid, req.auth, account) == 0
    &&  s_idem_check (self, identity, req.rid, account, S_SCOPE_CAPTURE, req.idem_key, req.idem_fp) == 0
    &&  s_credits_check (self, identity, req.rid, account, JOB_STORE_CAPTURE_PRICE_MAX) == 0) {
        if (job_store_capture_create (self->store, account, &req, self->now_ms, job_id, err)
        ||  job_store_req_set (self->store, job_id, req.req, err)
        ||  (req.idem_key [0] && s_idem_record_capture (self, account, &req, job_id, err))) {
            s_store_failed (self, "capture_create", err);
            s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
        else {
            log_info ("capture job created", "job", job_id, "account", account,
                      "request_id", req.req, NULL);
            s_reply_render (self, identity, req.rid, job_id, NULL);
        }
    }
    proto_create_render_free (&req);
}

static void s_settle (s_sched_t *self);
static void s_reply_simple (s_sched_t *self, zframe_t *identity, const char *rid, int cmd,
                            int32_t renderers);

/* IDEM_COMPLETE: the gateway stores what it answered a keyed request with. */
static void
s_api_idem_complete (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_idem_complete_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_idem_complete_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    if (s_auth (self, identity, req.rid, req.auth, account) == 0) {
        if (job_store_idem_complete (self->store, account, req.scope, req.key, req.status,
                                     req.body, err) == 0)
            s_reply_simple (self, identity, req.rid, PROTO_ACK, 0);
        else
        if (strcmp (err, "not found") == 0)
            s_queue_error (self, self->api, identity, req.rid, 404, "resource_missing",
                           "No in-flight request with this Idempotency-Key.", "Idempotency-Key");
        else {
            s_store_failed (self, "idem_complete", err);
            s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
    }
    proto_idem_complete_free (&req);
}

/* IDEM_BEGIN: claims a key for a keyed POST the scheduler does not run itself
   (webhook management, ...): in flight until IDEM_COMPLETE or hold_ms. */
static void
s_api_idem_begin (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_idem_begin_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_idem_begin_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    if (s_auth (self, identity, req.rid, req.auth, account)
    ||  s_idem_check (self, identity, req.rid, account, req.scope, req.key, req.fp))
        return;
    if (job_store_idem_put (self->store, account, req.scope, req.key, req.fp, "", false, 0, NULL,
                            self->now_ms + req.hold_ms + EASEL_IDEMPOTENCY_HOLD_MARGIN_MS,
                            self->now_ms, err)) {
        s_store_failed (self, "idem_put", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        return;
    }
    s_reply_simple (self, identity, req.rid, PROTO_ACK, 0);
}

/* Tasks of a canceled render still held by one renderer, gathered from
   job_store_render_running (rows come grouped by renderer). */
typedef struct {
    s_sched_t *self;
    const char *render_id;
    char renderer [2 * S_IDENTITY_MAX + 1];
    proto_task_ref_t refs [EASEL_MAX_IMAGES_PER_RENDER];
    int32_t nrefs;
} s_stop_t;

/* Queues CANCEL_TASKS with the gathered tasks to their renderer (sent after
   the pass commits; nothing is sent if it rolls back). */
static void
s_stop_flush (s_stop_t *st)
{
    s_sched_t *self = st->self;
    s_renderer_t *r = st->renderer [0] ? s_renderer_by_hex (self, st->renderer) : NULL;
    if (r && st->nrefs > 0) {
        proto_cancel_tasks_t msg = { .ntasks = st->nrefs, .tasks = st->refs };
        snprintf (msg.render_id, sizeof msg.render_id, "%s", st->render_id);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        if (proto_cancel_tasks_encode (&msg, &sb) == 0) {
            s_queue (self, self->work, r->identity, PROTO_CANCEL_TASKS, sb.data, sb.size, NULL);
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
s_stop_running (s_sched_t *self, const char *render_id)
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
        s_store_failed (self, "render_running", err);
    else
        s_stop_flush (st);
    free (st);
}

/* CANCEL_RENDER: queued tasks dropped, leased ones canceled (their late
   results are ignored) and their renderers told to stop them (CANCEL_TASKS),
   the render settles as canceled in this pass. */
static void
s_api_cancel (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_cancel_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX], scope [PROTO_SHORT_MAX + PROTO_ID_MAX];
    if (proto_cancel_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    snprintf (scope, sizeof scope, "POST /v1/renders/%s/cancel", req.id);
    if (s_auth (self, identity, req.rid, req.auth, account)
    ||  s_idem_check (self, identity, req.rid, account, scope, req.idem_key, req.idem_fp))
        return;
    if (job_store_render_cancel (self->store, req.id, account, self->now_ms, err)) {
        if (strcmp (err, "not found") == 0)
            s_queue_error (self, self->api, identity, req.rid, 404, "resource_missing",
                           "No such render.", "id");
        else
        if (strncmp (err, "finished: ", 10) == 0) {
            char msg [256];
            snprintf (msg, sizeof msg, "Render %s has already finished (status %s); only a"
                      " processing render can be canceled.", req.id, err + 10);
            s_queue_error (self, self->api, identity, req.rid, 409, "render_finished", msg, "id");
        }
        else {
            s_store_failed (self, "render_cancel", err);
            s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
        return;
    }
    s_stop_running (self, req.id);
    self->settle = true;
    s_settle (self);
    if (req.idem_key [0]
    &&  job_store_idem_put (self->store, account, scope, req.idem_key, req.idem_fp, req.id, false,
                            0, NULL, self->now_ms + req.idem_hold_ms + EASEL_IDEMPOTENCY_HOLD_MARGIN_MS,
                            self->now_ms, err)) {
        s_store_failed (self, "idem_put", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        return;
    }
    log_info ("render canceled", "render", req.id, "account", account, NULL);
    s_reply_render (self, identity, req.rid, req.id, account);
}

/* LIST_RENDERS: the account's renders newest first. */
static void
s_api_list (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_list_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_list_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    if (s_auth (self, identity, req.rid, req.auth, account))
        return;
    char ids [EASEL_LIST_LIMIT_MAX][PROTO_ID_MAX];
    proto_render_list_t list;
    memset (&list, 0, sizeof list);
    snprintf (list.rid, sizeof list.rid, "%s", req.rid);
    int32_t n = 0;
    if (job_store_render_list (self->store, account, req.limit, req.starting_after, ids, &n,
                               &list.has_more, err)) {
        if (strcmp (err, "not found") == 0)
            s_queue_error (self, self->api, identity, req.rid, 422, "parameter_invalid",
                           "starting_after names no render of this account.", "starting_after");
        else {
            s_store_failed (self, "render_list", err);
            s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
        return;
    }
    list.renders = calloc (n > 0 ? (size_t) n : 1, sizeof *list.renders);
    int rc = list.renders ? 0 : -1;
    for (int32_t i = 0; rc == 0 && i < n; i++) {
        rc = job_store_render_get (self->store, ids [i], account, self->now_ms, &list.renders [i], err);
        list.nrenders = i + 1;
    }
    if (rc) {
        s_store_failed (self, "render_list", list.renders ? err : "out of memory");
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
    }
    else {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_queue_reply (self, identity, req.rid, PROTO_RENDER_LIST,
                       proto_render_list_encode (&list, &sb), &sb);
    }
    proto_render_list_free (&list);
}

static void
s_ledger_one (const job_store_ledger_entry_t *e, void *arg)
{
    char iso [32];
    util_iso8601 (e->created_at_ms, iso, sizeof iso);
    json_t *o = json_pack ("{s:I, s:I, s:o, s:s, s:o, s:o, s:s}", "seq", (json_int_t) e->seq,
                           "amount", (json_int_t) e->amount,
                           "balance_after", e->unlimited ? json_null () : json_integer (e->balance_after),
                           "reason", e->reason,
                           "render_id", e->render_id ? json_string (e->render_id) : json_null (),
                           "note", e->note ? json_string (e->note) : json_null (),
                           "created_at", iso);
    if (o)
        json_array_append_new (arg, o);
}

/* GET_ACCOUNT: balance, usage, reservation and the newest ledger entries. */
static void
s_api_account (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_get_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_get_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    if (s_auth (self, identity, req.rid, req.auth, account))
        return;
    job_store_account_t a;
    json_t *ledger = json_array ();
    if (!ledger
    ||  job_store_account_get (self->store, account, &a, err)
    ||  job_store_ledger_list (self->store, account, EASEL_LEDGER_SHOWN, s_ledger_one, ledger, err)) {
        json_decref (ledger);
        s_store_failed (self, "account_get", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        return;
    }
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:b, s:o, s:I, s:I, s:o, s:o}",
                             "object", "account", "id", a.account_id, "name", a.name,
                             "unlimited", a.unlimited,
                             "balance", a.unlimited ? json_null () : json_integer (a.balance),
                             "used", (json_int_t) a.used, "reserved", (json_int_t) a.reserved,
                             "available", a.unlimited ? json_null () : json_integer (a.balance - a.reserved),
                             "ledger", ledger);
    char *text = obj ? render_json_dump (obj, NULL) : NULL;
    json_decref (obj);
    if (!text) {
        s_queue_error (self, self->api, identity, req.rid, 500, "internal_error",
                       "The scheduler could not build the account.", NULL);
        return;
    }
    s_reply_stored (self, identity, req.rid, PROTO_ACCOUNT, 200, account, text);
    free (text);
}

/* A request that speaks with a signed review link instead of a key: 0 when
   the link is render_id's, current and unexpired; else -1 with 403
   (tampered, revoked), 410 (expired) or 503 queued. */
static int
s_review_link (s_sched_t *self, zframe_t *identity, const char *rid, const char *render_id,
               int64_t exp, const char *by, const char *since, const char *sig)
{
    char err [PROTO_ERR_MAX] = "";
    int rc = job_store_review_check (self->store, render_id, exp, by, since, sig,
                                     self->now_ms / 1000, err);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        s_store_failed (self, "review_check", err);
        s_queue_error (self, self->api, identity, rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
    }
    else
    if (rc == 2)
        s_queue_error (self, self->api, identity, rid, 410, "review_link_expired",
                       "This review link has expired; ask for a new one.", "exp");
    else
        s_queue_error (self, self->api, identity, rid, 403, "review_link_invalid",
                       "This review link is not valid (altered or revoked).", "sig");
    return -1;
}

static void
s_api_get_render (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_get_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_get_decode (data, len, &req, err))
        s_bad_message (self, self->api, identity, data, len, err);
    else
    if (!req.auth [0] && req.sig [0]) {         /* a review link: no key */
        const char *of = req.link_of [0] ? req.link_of : req.id;
        if (s_review_link (self, identity, req.rid, of, req.exp, req.link_by, req.link_since,
                           req.sig))
            return;
        if (strcmp (of, req.id) == 0)
            s_reply_render (self, identity, req.rid, req.id, NULL);
        else
        if (strcmp (req.link_since, req.id) != 0)   /* a link reads its render and its since */
            s_queue_error (self, self->api, identity, req.rid, 403, "review_link_invalid",
                           "This review link does not name that render.", "id");
        else {
            proto_render_t owner;
            memset (&owner, 0, sizeof owner);
            if (job_store_render_get (self->store, of, NULL, self->now_ms, &owner, err) == 0)
                s_reply_render (self, identity, req.rid, req.id, owner.account_id);
            else
                s_queue_error (self, self->api, identity, req.rid, 404, "resource_missing",
                               "No such render.", "id");
            proto_render_free (&owner);
        }
    }
    else
    if (s_auth (self, identity, req.rid, req.auth, account) == 0)
        s_reply_render (self, identity, req.rid, req.id, account);
}

/* Queues a JSON reply of `status` with obj (stolen). */
static void
s_reply_json_obj (s_sched_t *self, zframe_t *identity, const char *rid, int32_t status, json_t *obj)
{
    proto_json_t rep;
    memset (&rep, 0, sizeof rep);
    snprintf (rep.rid, sizeof rep.rid, "%s", rid);
    rep.status = status;
    rep.json = obj ? render_json_dump (obj, NULL) : NULL;
    json_decref (obj);
    if (!rep.json) {
        s_queue_error (self, self->api, identity, rid, 500, "internal_error",
                       "The scheduler could not build its answer.", NULL);
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_queue_reply (self, identity, rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
    proto_json_free (&rep);
}

/* REVIEW "link": a new review link of req->id (the account's, checked by
   the caller) that names its reviewer (link_by) and/or an earlier render of
   the account to mark changes against (link_since), expiring at req->exp
   (capped at EASEL_REVIEW_LINK_TTL_MAX_S from now). Answers 201 with the
   link's exp and sig; the gateway builds the URL. */
static void
s_review_mint (s_sched_t *self, zframe_t *identity, const proto_review_t *req, const char *account)
{
    char err [PROTO_ERR_MAX] = "";
    int64_t now_s = self->now_ms / 1000, gen = 0;
    if (req->exp <= now_s || req->exp > now_s + EASEL_REVIEW_LINK_TTL_MAX_S) {
        char msg [96];
        snprintf (msg, sizeof msg, "expires_in is %d to %d seconds.", EASEL_REVIEW_LINK_TTL_MIN_S,
                  EASEL_REVIEW_LINK_TTL_MAX_S);
        s_queue_error (self, self->api, identity, req->rid, 422, "parameter_invalid", msg,
                       "expires_in");
        return;
    }
    if (req->link_since [0]) {
        proto_render_t since;
        memset (&since, 0, sizeof since);
        int rc = strcmp (req->link_since, req->id) == 0 ? 1
               : job_store_render_get (self->store, req->link_since, account, self->now_ms,
                                       &since, err);
        proto_render_free (&since);
        if (rc) {
            if (rc < 0 && strcmp (err, "not found") != 0) {
                s_store_failed (self, "render_get", err);
                s_queue_error (self, self->api, identity, req->rid, 503, "store_unavailable",
                               "The job store is unavailable.", NULL);
            }
            else
                s_queue_error (self, self->api, identity, req->rid, 404, "resource_missing",
                               "since names no other render of this account.", "since");
            return;
        }
    }
    if (job_store_review_gen (self->store, req->id, &gen, err)) {
        s_store_failed (self, "review_gen", err);
        s_queue_error (self, self->api, identity, req->rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        return;
    }
    char sig [65];
    job_store_review_sign (self->store, req->id, gen, req->exp, req->link_by, req->link_since, sig);
    s_reply_json_obj (self, identity, req->rid, 201,
                      json_pack ("{s:I, s:s}", "exp", (json_int_t) req->exp, "sig", sig));
}

/* REVIEW: a decision on a finished render (by key or by its review link),
   recorded once, with its event in the same transaction; or the revocation
   of its review links (by key). Answers the render object, or 409 with the
   first decision. */
static void
s_api_review (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_review_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX] = "";
    proto_render_t r;
    memset (&r, 0, sizeof r);
    if (proto_review_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    bool by_link = !req.auth [0];
    bool revoke = strcmp (req.action, "revoke") == 0;
    bool decide = strcmp (req.action, "decide") == 0;
    bool mint = strcmp (req.action, "link") == 0;
    bool good = strcmp (req.status, "approved") == 0 || strcmp (req.status, "changes_requested") == 0;
    if (by_link ? s_review_link (self, identity, req.rid, req.id, req.exp, req.link_by,
                                 req.link_since, req.sig)
                : s_auth (self, identity, req.rid, req.auth, account))
        goto done;
    if ((!revoke && !decide && !mint) || (decide && !good) || ((revoke || mint) && by_link)) {
        s_queue_error (self, self->api, identity, req.rid, 400, "bad_message",
                       "REVIEW: unknown action or status", NULL);
        goto done;
    }
    if (strncmp (req.id, "rnd_", 4) != 0
    ||  job_store_render_get (self->store, req.id, by_link ? NULL : account, self->now_ms, &r, err)) {
        if (strncmp (req.id, "rnd_", 4) == 0 && strcmp (err, "not found") != 0) {
            s_store_failed (self, "render_get", err);
            s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
        else
            s_queue_error (self, self->api, identity, req.rid, 404, "resource_missing",
                           "No such render.", "id");
        goto done;
    }
    if (mint) {
        s_review_mint (self, identity, &req, account);
        goto done;
    }
    if (decide && by_link && req.link_by [0]) {   /* the link names its reviewer */
        free (req.by);
        req.by = strdup (req.link_by);
    }
    if (decide && strcmp (r.status, "processing") == 0) {
        s_queue_error (self, self->api, identity, req.rid, 409, "render_processing",
                       "The render is still processing; review it once it is final.", "id");
        goto done;
    }
    int rc = revoke ? job_store_review_revoke (self->store, req.id, err)
                    : job_store_review_decide (self->store, req.id, req.status, req.comment,
                                               req.by, self->now_ms, err);
    if (rc == 1) {                 /* decided before: the first decision stands */
        json_t *obj = render_json_error ("invalid_request_error", "review_decided",
                                         "This render has been reviewed already; the first"
                                         " decision stands.", "status");
        json_object_set_new (obj, "review", render_json_review (&r));
        s_reply_json_obj (self, identity, req.rid, 409, obj);
        goto done;
    }
    render_event_t ev;
    memset (&ev, 0, sizeof ev);
    if (rc < 0 || (decide && render_event_review (self->store, req.id, self->public_url,
                                                  self->now_ms, &ev, err))) {
        s_store_failed (self, "review", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        goto done;
    }
    if (decide && s_grow ((void **) &self->pubs, &self->pubs_cap, self->npubs, sizeof *self->pubs) == 0) {
        s_pub_t *p = &self->pubs [self->npubs++];
        snprintf (p->type, sizeof p->type, "%s", ev.type);
        snprintf (p->render_id, sizeof p->render_id, "%s", req.id);
        p->seq = ev.seq;
        log_info ("render reviewed", "render", req.id, "decision", req.status,
                  "event", ev.event_id, NULL);
    }
    proto_render_free (&r);
    memset (&r, 0, sizeof r);
    if (job_store_render_get (self->store, req.id, NULL, self->now_ms, &r, err)) {
        s_store_failed (self, "render_get", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
        goto done;
    }
    s_reply_json_obj (self, identity, req.rid, 200, render_json_build (&r, self->public_url));
done:
    proto_render_free (&r);
    proto_review_free (&req);
}

static const char *
s_content_type (const char *format)
{
    if (strcmp (format, "png") == 0)
        return "image/png";
    if (strcmp (format, "jpeg") == 0 || strcmp (format, "jpg") == 0)
        return "image/jpeg";
    if (strcmp (format, "webp") == 0)
        return "image/webp";
    return "application/octet-stream";
}

/* An uploaded file as GET_FILE serves it (live rows only; no signed URLs
   name them, so only the owner's key reads it). 0; -1 err "not found". */
static int
s_upload_file (s_sched_t *self, const char *id, job_store_file_t *out, char *err)
{
    job_store_upload_t f;
    int rc = job_store_upload_find (self->store, NULL, id, NULL, self->now_ms, &f, err);
    if (rc)
        return rc == 1 ? (snprintf (err, PROTO_ERR_MAX, "not found"), -1) : -1;
    memset (out, 0, sizeof *out);
    snprintf (out->account_id, sizeof out->account_id, "%s", f.account_id);
    snprintf (out->sha256, sizeof out->sha256, "%s", f.sha256);
    out->bytes = f.bytes;
    snprintf (out->content_type, sizeof out->content_type, "%s", file_admin_content_type (f.format));
    return 0;
}

static void
s_api_get_file (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_get_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    if (proto_get_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    job_store_file_t file;
    if (strncmp (req.id, "file_", 5) == 0 ? s_upload_file (self, req.id, &file, err)
                                          : job_store_file_get (self->store, req.id, &file, err)) {
        if (strcmp (err, "not found") != 0)
            s_store_failed (self, "file_get", err);
        s_queue_error (self, self->api, identity, req.rid, 404, "resource_missing",
                       "No such file.", "id");
        return;
    }
    char account [PROTO_ID_MAX] = "";
    bool has_key = req.auth [0] && job_store_auth (self->store, req.auth, account) == 0;
    bool owner = has_key && strcmp (account, file.account_id) == 0;
    if (!owner) {
        bool has_sig = req.sig [0] || req.exp;
        if (has_sig && !job_store_url_check (self->store, req.id, req.exp, req.sig, self->now_ms / 1000)) {
            s_queue_error (self, self->api, identity, req.rid, 401, "invalid_signature",
                           "The file URL signature is invalid or expired.", "sig");
            return;
        }
        if (!has_sig && has_key) {
            s_queue_error (self, self->api, identity, req.rid, 404, "resource_missing",
                           "No such file.", "id");
            return;
        }
        if (!has_sig) {
            s_queue_error (self, self->api, identity, req.rid, 401,
                           req.auth [0] ? "invalid_api_key" : "invalid_signature",
                           "A valid API key or signed URL is required.", NULL);
            return;
        }
    }
    proto_file_t f;
    memset (&f, 0, sizeof f);
    snprintf (f.rid, sizeof f.rid, "%s", req.rid);
    snprintf (f.id, sizeof f.id, "%s", req.id);
    snprintf (f.content_type, sizeof f.content_type, "%s", file.content_type);
    snprintf (f.sha256, sizeof f.sha256, "%s", file.sha256);
    f.data = blob_store_get (self->blobs, file.sha256, S_FILE_MAX_BYTES, &f.len, err);
    if (!f.data) {
        log_error ("blob unreadable", "image", req.id, "reason", err, NULL);
        s_queue_error (self, self->api, identity, req.rid, 500, "internal_error",
                       "The file could not be read.", NULL);
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_queue_reply (self, identity, req.rid, PROTO_FILE, proto_file_encode (&f, &sb), &sb);
    proto_file_free (&f);
}

static void
s_api_events_since (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_events_since_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    if (proto_events_since_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    proto_events_t ev;
    memset (&ev, 0, sizeof ev);
    if (job_store_events_since (self->store, req.since, req.limit, &ev, err)) {
        s_store_failed (self, "events_since", err);
        s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                       "The job store is unavailable.", NULL);
    }
    else {
        snprintf (ev.rid, sizeof ev.rid, "%s", req.rid);
        for (int32_t i = 0; i < ev.nevents; i++)      /* for the webhooker's logs */
            job_store_req_get (self->store, ev.events [i].object_id, ev.events [i].req);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_queue_reply (self, identity, req.rid, PROTO_EVENTS, proto_events_encode (&ev, &sb), &sb);
    }
    proto_events_free (&ev);
}

/* Queues {v, rid[, renderers]} as `cmd` (ACK / PONG). */
static void
s_reply_simple (s_sched_t *self, zframe_t *identity, const char *rid, int cmd, int32_t renderers)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    snprintf (s.rid, sizeof s.rid, "%s", rid);
    s.renderers = renderers;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_queue_reply (self, identity, rid, cmd, proto_simple_encode (&s, &sb), &sb);
}

static void
s_api_delivery_report (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_delivery_report_t rep;
    memset (&rep, 0, sizeof rep);
    char err [PROTO_ERR_MAX] = "";
    if (proto_delivery_report_decode (data, len, &rep, err))
        s_bad_message (self, self->api, identity, data, len, err);
    else
    if (job_store_delivery_report (self->store, &rep, EASEL_WEBHOOK_MAX_ATTEMPTS, self->now_ms, err)) {
        if (strcmp (err, "not found") == 0)
            s_queue_error (self, self->api, identity, rep.rid, 404, "resource_missing",
                           "No such delivery.", "delivery_id");
        else {
            s_store_failed (self, "delivery_report", err);
            s_queue_error (self, self->api, identity, rep.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
    }
    else
        s_reply_simple (self, identity, rep.rid, PROTO_ACK, 0);
    proto_delivery_report_free (&rep);
}

/* DELIVERIES_GET, REDELIVER, WEBHOOK_TEST, WEBHOOK_ACCOUNT: webhook_admin.c
   builds the JSON; a redelivery or test event is published after the commit
   so the webhooker fetches it at once. */
static void
s_api_webhook (s_sched_t *self, zframe_t *identity, int cmd, const char *data, size_t len)
{
    proto_webhook_req_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_webhook_req_decode (data, len, &req, err)) {
        s_bad_message (self, self->api, identity, data, len, err);
        return;
    }
    if (s_auth (self, identity, req.rid, req.auth, account) == 0) {
        proto_json_t rep;
        memset (&rep, 0, sizeof rep);
        snprintf (rep.rid, sizeof rep.rid, "%s", req.rid);
        webhook_admin_hint_t hint;
        if (webhook_admin_handle (self->store, cmd, &req, account, self->now_ms, &rep, &hint, err)) {
            s_store_failed (self, "webhook_admin", err);
            s_queue_error (self, self->api, identity, req.rid, 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        }
        else {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            s_queue_reply (self, identity, req.rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
            if (hint.topic [0]
            &&  s_grow ((void **) &self->pubs, &self->pubs_cap, self->npubs, sizeof *self->pubs) == 0) {
                s_pub_t *p = &self->pubs [self->npubs++];
                snprintf (p->type, sizeof p->type, "%s", hint.topic);
                snprintf (p->render_id, sizeof p->render_id, "%s", hint.object_id);
                p->seq = hint.seq;
            }
        }
        proto_json_free (&rep);
    }
    proto_webhook_req_free (&req);
}

static void
s_api_handle (s_sched_t *self, bus_msg_t *msg)
{
    const char *data = (const char *) zframe_data (msg->body);
    size_t len = zframe_size (msg->body);
    char err [PROTO_ERR_MAX] = "";
    switch (msg->cmd) {
        case PROTO_CREATE_RENDER:   s_api_create (self, msg->identity, data, len); break;
        case PROTO_CREATE_CAPTURE:  s_api_create_capture (self, msg->identity, data, len); break;
        case PROTO_GET_RENDER:      s_api_get_render (self, msg->identity, data, len); break;
        case PROTO_GET_FILE:        s_api_get_file (self, msg->identity, data, len); break;
        case PROTO_EVENTS_SINCE:    s_api_events_since (self, msg->identity, data, len); break;
        case PROTO_DELIVERY_REPORT: s_api_delivery_report (self, msg->identity, data, len); break;
        case PROTO_IDEM_COMPLETE:   s_api_idem_complete (self, msg->identity, data, len); break;
        case PROTO_IDEM_BEGIN:      s_api_idem_begin (self, msg->identity, data, len); break;
        case PROTO_CANCEL_RENDER:   s_api_cancel (self, msg->identity, data, len); break;
        case PROTO_LIST_RENDERS:    s_api_list (self, msg->identity, data, len); break;
        case PROTO_GET_ACCOUNT:     s_api_account (self, msg->identity, data, len); break;
        case PROTO_REVIEW:          s_api_review (self, msg->identity, data, len); break;
        case PROTO_FILE_PUT:        s_api_file_put (self, msg->identity, data, len); break;
        case PROTO_FILE_FIND:       s_api_file_find (self, msg->identity, data, len); break;
        case PROTO_DELIVERIES_GET:
        case PROTO_REDELIVER:
        case PROTO_WEBHOOK_TEST:
        case PROTO_WEBHOOK_ACCOUNT: s_api_webhook (self, msg->identity, msg->cmd, data, len); break;
        case PROTO_PING: {
            proto_simple_t ping;
            memset (&ping, 0, sizeof ping);
            if (proto_simple_decode (data, len, &ping, err))
                s_bad_message (self, self->api, msg->identity, data, len, err);
            else
                s_reply_simple (self, msg->identity, ping.rid, PROTO_PONG, self->nrenderers);
            break;
        }
        default:
            snprintf (err, sizeof err, "unexpected command %s (0x%02x) on the api socket",
                      proto_cmd_name (msg->cmd), msg->cmd & 0xff);
            s_queue_error (self, self->api, msg->identity, "", 400, "bad_message", err, NULL);
    }
}

/* ---- work socket ------------------------------------------------------------------- */

static void
s_work_ready (s_sched_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_ready_t ready;
    char err [PROTO_ERR_MAX] = "";
    memset (&ready, 0, sizeof ready);
    if (proto_ready_decode (data, len, &ready, err)) {
        s_bad_message (self, self->work, identity, data, len, err);
        return;
    }
    s_renderer_t *r = s_renderer_find (self, identity);
    if (!r) {
        if (self->nrenderers == S_MAX_RENDERERS) {
            log_warn ("renderer refused: table full", "renderer", ready.name, NULL);
            return;
        }
        r = &self->renderers [self->nrenderers];
        memset (r, 0, sizeof *r);
        if (s_identity_hex (identity, r->hex, sizeof r->hex)) {
            log_warn ("renderer refused: identity too long", "renderer", ready.name, NULL);
            return;
        }
        r->identity = zframe_dup (identity);
        self->nrenderers++;
        self->hex_dirty = true;
    }
    snprintf (r->name, sizeof r->name, "%s", ready.name);
    r->slots = ready.slots;
    r->capture = ready.capture;
    r->last_seen_ms = self->mono_ms;
    char slots [16];
    snprintf (slots, sizeof slots, "%d", (int) ready.slots);
    log_info ("renderer ready", "renderer", r->name, "slots", slots,
              "capture", r->capture ? "1" : "0", NULL);
}

static void s_task_end (s_sched_t *self, const char *task_id, int32_t attempt,
                        const proto_error_t *error, bool retryable);

/* Whether the peer `identity` holds (task_id, attempt); a report from any
   other peer is logged and dropped (job_store_task_held_by). */
static bool
s_report_from_holder (s_sched_t *self, zframe_t *identity, const char *task_id, int32_t attempt,
                      const char *what)
{
    char hex [2 * S_IDENTITY_MAX + 1], err [PROTO_ERR_MAX] = "";
    int held = s_identity_hex (identity, hex, sizeof hex) ? 0
             : job_store_task_held_by (self->store, task_id, attempt, hex, err);
    if (held < 0)
        s_store_failed (self, "task_held_by", err);
    if (held == 0) {
        char n [16];
        snprintf (n, sizeof n, "%d", (int) attempt);
        s_renderer_t *r = s_renderer_find (self, identity);
        log_warn ("report from a peer that does not hold the task ignored", "report", what,
                  "task", task_id, "attempt", n, "renderer", r ? r->name : "(unknown peer)", NULL);
    }
    return held == 1;
}

static void
s_work_result (s_sched_t *self, const char *data, size_t len, zframe_t *identity)
{
    proto_result_t res;
    memset (&res, 0, sizeof res);
    char err [PROTO_ERR_MAX] = "";
    char sha [65], rq [PROTO_ID_MAX];
    if (proto_result_decode (data, len, &res, err)) {
        s_bad_message (self, self->work, identity, data, len, err);
        proto_result_free (&res);
        return;
    }
    if (!s_report_from_holder (self, identity, res.task_id, res.attempt, "RESULT")) {
        proto_result_free (&res);
        return;
    }
    if (blob_store_put (self->blobs, res.data, res.len, sha, err)
    &&  (errno == ENOSPC || errno == EDQUOT)) {
        /* the disk is full: the task is drawn again later, the try not counted */
        log_error ("disk full: result not stored, task queued again", "task", res.task_id,
                   "reason", err, NULL);
        self->full_until_ms = self->mono_ms + S_FULL_BACKOFF_MS;
        if (job_store_task_unlease (self->store, res.task_id, res.attempt, err))
            s_store_failed (self, "task_unlease", err);
    }
    else
    if (err [0]) {
        log_error ("cannot store result", "task", res.task_id, "reason", err, NULL);
        proto_error_t e;
        memset (&e, 0, sizeof e);
        snprintf (e.code, sizeof e.code, "blob_write_failed");
        e.message = err;
        s_task_end (self, res.task_id, res.attempt, &e, true);
    }
    else
    if (job_store_blob_add (self->store, sha, (int64_t) res.len, s_content_type (res.format), err))
        s_store_failed (self, "blob_add", err);
    else
    if (job_store_task_succeed (self->store, &res, sha, self->now_ms, err)) {
        if (strcmp (err, "stale") == 0) {
            char attempt [16];
            snprintf (attempt, sizeof attempt, "%d", (int) res.attempt);
            log_info ("stale result ignored", "task", res.task_id, "attempt", attempt, NULL);
            if (job_store_task_release (self->store, res.task_id, res.attempt, err))
                s_store_failed (self, "task_release", err);
        }
        else
            s_store_failed (self, "task_succeed", err);
    }
    else {
        if (!task_reqs_get (self->reqs, res.task_id, rq))
            job_store_req_get (self->store, res.task_id, rq);
        log_info ("task succeeded", "task", res.task_id, "sha256", sha, "request_id", rq, NULL);
        self->settle = true;
    }
    proto_result_free (&res);
}

/* Ends (task, attempt) with `error`; logs a stale end. */
static void
s_task_end (s_sched_t *self, const char *task_id, int32_t attempt,
            const proto_error_t *error, bool retryable)
{
    char err [PROTO_ERR_MAX] = "";
    char n [16];
    snprintf (n, sizeof n, "%d", (int) attempt);
    if (job_store_task_fail (self->store, task_id, attempt, error, retryable,
                             self->max_attempts, self->now_ms, err)) {
        if (strcmp (err, "stale") == 0) {
            log_info ("stale failure ignored", "task", task_id, "attempt", n, NULL);
            if (job_store_task_release (self->store, task_id, attempt, err))
                s_store_failed (self, "task_release", err);
        }
        else
            s_store_failed (self, "task_fail", err);
        return;
    }
    char rq [PROTO_ID_MAX];
    job_store_req_get (self->store, task_id, rq);
    log_info (retryable ? "task attempt failed" : "task failed", "task", task_id, "attempt", n,
              "code", error->code, "message", error->message ? error->message : "",
              "request_id", rq, NULL);
    sched_metrics_task_failed (retryable, strcmp (error->code, "attempts_exhausted") == 0);
    self->settle = true;
}

static void
s_work_fail (s_sched_t *self, const char *data, size_t len, zframe_t *identity)
{
    proto_fail_t fail;
    memset (&fail, 0, sizeof fail);
    char err [PROTO_ERR_MAX] = "";
    if (proto_fail_decode (data, len, &fail, err))
        s_bad_message (self, self->work, identity, data, len, err);
    else
    if (s_report_from_holder (self, identity, fail.task_id, fail.attempt, "FAIL"))
        s_task_end (self, fail.task_id, fail.attempt, &fail.error, fail.retryable);
    proto_fail_free (&fail);
}

static void
s_work_handle (s_sched_t *self, bus_msg_t *msg)
{
    const char *data = (const char *) zframe_data (msg->body);
    size_t len = zframe_size (msg->body);
    s_renderer_t *r = s_renderer_find (self, msg->identity);
    if (r)
        r->last_seen_ms = self->mono_ms;
    if (self->pass_failed && msg->cmd != PROTO_READY && msg->cmd != PROTO_HEARTBEAT) {
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
                s_renderer_drop (self, r, "renderer disconnected");
            break;
        default: {
            char err [PROTO_ERR_MAX];
            snprintf (err, sizeof err, "unexpected command %s (0x%02x) on the work socket",
                      proto_cmd_name (msg->cmd), msg->cmd & 0xff);
            s_queue_error (self, self->work, msg->identity, "", 400, "bad_message", err, NULL);
        }
    }
}

/* ---- one pass ------------------------------------------------------------------------ */

static void s_settle (s_sched_t *self);

/* Reads one message from sock and applies it. */
static void
s_recv_one (s_sched_t *self, zsock_t *sock)
{
    bus_msg_t msg;
    memset (&msg, 0, sizeof msg);
    char err [PROTO_ERR_MAX] = "";
    if (bus_recv (sock, true, &msg, err)) {
        if (strcmp (err, "interrupted") != 0) {
            log_warn ("malformed message", "reason", err, NULL);
            if (msg.identity)
                s_queue_error (self, sock, msg.identity, "", 400, "bad_message", err, NULL);
        }
    }
    else
    if (sock == self->api) {
        if (self->pass_failed)     /* no transaction to apply it in */
            s_queue_error (self, self->api, msg.identity, "", 503, "store_unavailable",
                           "The job store is unavailable.", NULL);
        else {
            /* a reply must not show a task ended but its render not yet settled */
            if (self->settle)
                s_settle (self);
            s_api_handle (self, &msg);
        }
    }
    else
        s_work_handle (self, &msg);
    bus_msg_free (&msg);
}

/* Renders whose last task ended: final status, event and outbox row. */
static void
s_settle (s_sched_t *self)
{
    char render_id [PROTO_ID_MAX], err [256] = "";
    int rc = 0;
    while (!self->pass_failed && (rc = job_store_render_next_settled (self->store, render_id, err)) == 1) {
        /* the event's payload is built only when a webhook delivery sends it */
        render_event_t ev;
        if (render_event_settle (self->store, render_id, self->public_url, self->now_ms, &ev, err)) {
            s_store_failed (self, "settle", err);
            return;
        }
        if (s_grow ((void **) &self->pubs, &self->pubs_cap, self->npubs, sizeof *self->pubs) == 0) {
            s_pub_t *p = &self->pubs [self->npubs++];
            snprintf (p->type, sizeof p->type, "%s", ev.type);
            snprintf (p->render_id, sizeof p->render_id, "%s", render_id);
            p->seq = ev.seq;
            char rq [PROTO_ID_MAX];
            job_store_req_get (self->store, render_id, rq);
            log_info ("render finished", "render", render_id, "status", ev.status,
                      "event", ev.event_id, "request_id", rq, NULL);
        }
    }
    if (rc < 0)
        s_store_failed (self, "next_settled", err);
    self->settle = false;
}

/* Leases queued tasks to renderers with free slots, least loaded first. */
static void
s_dispatch (s_sched_t *self)
{
    if (self->nrenderers == 0 || self->pass_failed)
        return;
    char err [256] = "";
    for (int i = 0; i < self->nrenderers; i++)
        self->renderers [i].leased = 0;
    if (job_store_task_leased_counts (self->store, s_leased_count, self, err)) {
        s_store_failed (self, "leased_counts", err);
        return;
    }
    /* one tenant alone may use every slot: fairness only costs then */
    int64_t cap = self->account_lease_cap;
    if (cap > 0) {
        int64_t accounts = job_store_render_accounts_processing (self->store, err);
        if (accounts < 0) {
            s_store_failed (self, "accounts_processing", err);
            return;
        }
        if (accounts < 2)
            cap = 0;
    }
    /* a renderer that cannot capture and found nothing for it this pass is
       skipped, so capture tasks still reach the renderers that can */
    bool skip [S_MAX_RENDERERS] = { false };
    while (true) {
        s_renderer_t *best = NULL;
        for (int i = 0; i < self->nrenderers; i++) {
            s_renderer_t *r = &self->renderers [i];
            if (!skip [i] && r->leased < r->slots && (!best || r->leased < best->leased))
                best = r;
        }
        if (!best)
            return;
        proto_task_t task;
        memset (&task, 0, sizeof task);
        int rc = job_store_task_lease_fair (self->store, best->hex, best->capture, cap,
                                            self->now_ms, self->lease_ms, &task, err);
        if (rc < 0)
            s_store_failed (self, "lease", err);
        if (rc == 0 && !best->capture) {
            skip [best - self->renderers] = true;
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
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        if (proto_task_encode (&task, &sb) == 0) {
            s_queue (self, self->work, best->identity, PROTO_TASK, sb.data, sb.size, NULL);
            s_out_t *o = &self->out [self->nout - 1];
            snprintf (o->task_id, sizeof o->task_id, "%s", task.task_id);
            o->attempt = task.attempt;
        }
        else
            log_error ("cannot encode a task", "task", task.task_id, NULL);
        msgpack_sbuffer_destroy (&sb);
        proto_task_free (&task);
    }
}

/* Every pass: renderers silent too long, or found unreachable by a send
   (last_seen 0), are dropped before dispatch can pick them again. */
static void
s_drop_dead (s_sched_t *self)
{
    for (int i = self->nrenderers - 1; i >= 0; i--) {
        s_renderer_t *r = &self->renderers [i];
        if (r->last_seen_ms == 0)
            s_renderer_drop (self, r, "renderer unreachable");
        else
        if (self->mono_ms - r->last_seen_ms > EASEL_PEER_DEAD_MS)
            s_renderer_drop (self, r, "renderer stopped heartbeating");
    }
}

/* Heartbeat-tick work inside the transaction: expired leases. */
static void
s_unlink_later (const char *sha256, void *arg)
{
    s_sched_t *self = arg;
    if (s_grow ((void **) &self->unlink, &self->unlink_cap, self->nunlink, sizeof *self->unlink) == 0)
        snprintf (self->unlink [self->nunlink++], 65, "%s", sha256);
}

static int
s_blob_known (const char *sha256, void *arg)
{
    s_sched_t *self = arg;
    return job_store_blob_known (self->store, sha256);
}

/* Retention, in small batches so a pass stays short: final renders older
   than retention_s go, then blobs nothing names (their files after COMMIT),
   then one shard of files no row knows (older than an hour, so a write whose
   row is in flight is never taken). */
static void
s_retention_sweep (s_sched_t *self)
{
    char err [256] = "";
    int n = job_store_retention_sweep (self->store, self->now_ms - self->retention_s * 1000,
                                       S_SWEEP_BATCH, err);
    if (n < 0) {
        s_store_failed (self, "retention sweep", err);
        return;
    }
    if (n > 0) {
        char count [16];
        snprintf (count, sizeof count, "%d", n);
        log_info ("expired renders deleted", "count", count, NULL);
    }
    if (job_store_upload_sweep (self->store, self->now_ms, S_SWEEP_BATCH, err) < 0) {
        s_store_failed (self, "file sweep", err);
        return;
    }
    if (job_store_blob_gc (self->store, S_SWEEP_BATCH, s_unlink_later, self, err) < 0) {
        s_store_failed (self, "blob gc", err);
        return;
    }
    blob_store_scan_shard (self->blobs, self->scan_shard, S_ORPHAN_AGE_S, s_blob_known, self);
    self->scan_shard = (self->scan_shard + 1) % 256;
}

static void
s_timers (s_sched_t *self)
{
    char err [256] = "";
    int n = job_store_task_requeue_leased (self->store, NULL, self->now_ms, "lease expired",
                                           self->max_attempts, self->now_ms, err);
    if (n < 0)
        s_store_failed (self, "lease expiry", err);
    sched_metrics_requeued ("lease_expired", n);
    int64_t queued, leased, free_slots = 0;
    if (job_store_task_state_counts (self->store, &queued, &leased) == 0)
        sched_metrics_queue (queued, leased);
    for (int i = 0; i < self->nrenderers; i++)
        free_slots += self->renderers [i].slots > self->renderers [i].leased
                    ? self->renderers [i].slots - self->renderers [i].leased : 0;
    sched_metrics_renderers (self->nrenderers, free_slots);
    if (n > 0) {
        log_info ("expired leases requeued", NULL);
        self->settle = true;
    }
    n = job_store_idem_sweep (self->store, self->now_ms - self->idem_ttl_s * 1000, err);
    if (n < 0)
        s_store_failed (self, "idempotency sweep", err);
    if (self->mono_ms >= self->next_sweep_ms && !self->pass_failed) {
        self->next_sweep_ms = self->mono_ms + S_SWEEP_EVERY_MS;
        s_retention_sweep (self);
    }
}

/* TASKs that could not be sent last pass end their attempt (retryable). */
static void
s_requeue_unsent (s_sched_t *self)
{
    proto_error_t e;
    memset (&e, 0, sizeof e);
    snprintf (e.code, sizeof e.code, "renderer_unreachable");
    e.message = "the task could not be sent to its renderer";
    for (size_t i = 0; i < self->nunsent; i++)
        s_task_end (self, self->unsent [i].task_id, self->unsent [i].attempt, &e, true);
    self->nunsent = 0;
}

/* After a failed commit: every api reply becomes 503, everything else is dropped. */
static void
s_out_to_503 (s_sched_t *self)
{
    size_t n = self->nout;
    s_out_t *old = self->out;
    self->out = NULL;
    self->nout = self->out_cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (old [i].sock == self->api && self->pass_full)
            s_queue_error (self, self->api, old [i].identity, old [i].rid, 507,
                           "insufficient_storage",
                           "The scheduler's disk is full; nothing of this request was stored.", NULL);
        else
        if (old [i].sock == self->api)
            s_queue_error (self, self->api, old [i].identity, old [i].rid, 503,
                           "store_unavailable", "The job store is unavailable.", NULL);
        s_out_free (&old [i]);
    }
    free (old);
    self->npubs = 0;
}

static void
s_publish (s_sched_t *self, const char *topic, const char *render_id, int64_t seq)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    snprintf (s.rid, sizeof s.rid, "%s", render_id);
    s.last_seq = seq;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_simple_encode (&s, &sb) == 0)
        bus_publish (self->pub, topic, seq, sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
}

/* Sends everything queued by a committed pass. */
static void
s_flush (s_sched_t *self)
{
    for (size_t i = 0; i < self->nout; i++) {
        s_out_t *o = &self->out [i];
        if (bus_send (o->sock, o->identity, o->cmd, o->body, o->len) != 0) {
            int e = errno;
            if (o->sock == self->work) {
                s_renderer_t *r = s_renderer_find (self, o->identity);
                if (r && e == EHOSTUNREACH)
                    r->last_seen_ms = 0;          /* gone: the next pass drops it */
                if (o->task_id [0]
                &&  s_grow ((void **) &self->unsent, &self->unsent_cap, self->nunsent,
                            sizeof *self->unsent) == 0) {
                    self->unsent [self->nunsent] = *o;
                    self->unsent [self->nunsent].identity = NULL;
                    self->unsent [self->nunsent++].body = NULL;
                }
            }
            log_warn ("send failed", "cmd", proto_cmd_name (o->cmd), "reason", zmq_strerror (e), NULL);
        }
        s_out_free (o);
    }
    self->nout = 0;
    for (size_t i = 0; i < self->npubs; i++) {
        s_publish (self, self->pubs [i].type, self->pubs [i].render_id, self->pubs [i].seq);
        if (self->pubs [i].seq > self->last_seq)
            self->last_seq = self->pubs [i].seq;
    }
    self->npubs = 0;
}

/* Heartbeats out: to every renderer and on the events socket. */
static void
s_heartbeat (s_sched_t *self)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_simple_encode (&s, &sb) == 0)
        for (int i = 0; i < self->nrenderers; i++)
            if (bus_send (self->work, self->renderers [i].identity, PROTO_HEARTBEAT, sb.data, sb.size)
            &&  errno == EHOSTUNREACH)
                self->renderers [i].last_seen_ms = 0;
    msgpack_sbuffer_destroy (&sb);
    s_publish (self, PROTO_TOPIC_HEARTBEAT, "", self->last_seq);
}

static void
s_pass (s_sched_t *self, bool tick)
{
    char err [256] = "";
    self->now_ms = util_now_ms ();
    self->mono_ms = util_mono_ms ();
    log_hold ();                  /* the pass's lines go out in one write, before its sends */
    self->pass_full = false;
    self->nunlink = 0;
    self->pass_failed = job_store_begin (self->store, err) != 0;
    if (self->pass_failed)
        log_error ("cannot begin a transaction", "reason", err, NULL);
    bool in_txn = !self->pass_failed;
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
        if (n == before)
            break;
    }
    if (!self->pass_failed) {
        s_requeue_unsent (self);
        s_drop_dead (self);
        if (tick)
            s_timers (self);
        if (self->settle)
            s_settle (self);
        /* on a full disk every lease would fail the pass: reads go on, leases wait */
        if (self->mono_ms >= self->full_until_ms)
            s_dispatch (self);
    }
    double commit_start = sched_metrics_now ();
    if (!self->pass_failed && job_store_commit (self->store, err) != 0) {
        log_error ("commit failed", "reason", err, NULL);
        self->pass_failed = true;
        self->pass_full = job_store_is_full (self->store);
    }
    else if (!self->pass_failed && n > 0)
        sched_metrics_commit (sched_metrics_now () - commit_start, n);
    if (!self->pass_failed)
        for (size_t i = 0; i < self->nunlink; i++)
            blob_store_delete (self->blobs, self->unlink [i]);
    self->nunlink = 0;
    if (self->pass_failed) {
        if (in_txn)
            job_store_rollback (self->store);
        s_out_to_503 (self);
        if (self->pass_full)
            self->full_until_ms = self->mono_ms + S_FULL_BACKOFF_MS;
    }
    log_release ();
    s_flush (self);
    if (tick)
        s_heartbeat (self);
}

/* ---- start-up -------------------------------------------------------------------------- */

/* A bound socket, or NULL with *why set (the reason from ZeroMQ). */
static zsock_t *
s_bind (int type, const char *endpoint, const char **why)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        *why = "cannot create a socket";
        return NULL;
    }
    bus_socket_setup (sock);
    bus_security_apply (sock);
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        *why = zmq_strerror (errno);
        zsock_destroy (&sock);
    }
    return sock;
}

/* Binds the three bus sockets or exits LOG_EXIT_CANNOT_BIND naming the one
   that is taken (none left open, so CZMQ's exit check stays quiet). */
static void
s_bind_all (s_sched_t *self)
{
    const char *why = "";
    const char *what = "api", *ep = self->api_ep;
    if ((self->api = s_bind (ZMQ_ROUTER, ep, &why))) {
        what = "work", ep = self->work_ep;
        if ((self->work = s_bind (ZMQ_ROUTER, ep, &why))) {
            what = "events", ep = self->events_ep;
            self->pub = s_bind (ZMQ_PUB, ep, &why);
        }
    }
    if (self->pub)
        return;
    zsock_destroy (&self->api);
    zsock_destroy (&self->work);
    log_fatal_bind ("cannot bind the bus (another Easel stack on this endpoint?)", "socket", what,
                    "endpoint", ep, "reason", why, NULL);
}

static void
s_configure (s_sched_t *self, int argc, char **argv)
{
    static const char *flags [] = { "--api", "--work", "--events", "--data", "--public-url",
                                    "--max-attempts", "--lease-ms", "--idempotency-ttl-s",
                                    "--curve-cert", "--curve-allowed-dir", "--metrics",
                                    "--retention-s", "--storage-quota-bytes",
                                    "--account-lease-cap" };
    for (int i = 1; i < argc; i++) {
        /* accepted for uniformity with the other services; the scheduler fetches nothing */
        if (strcmp (argv [i], "--allow-private-networks") == 0
        ||  strcmp (argv [i], "--insecure-plain") == 0)
            continue;
        bool known = false;
        for (size_t f = 0; f < sizeof flags / sizeof flags [0] && !known; f++) {
            size_t n = strlen (flags [f]);
            known = strncmp (argv [i], flags [f], n) == 0 && (argv [i][n] == 0 || argv [i][n] == '=');
            if (known && argv [i][n] == 0 && ++i == argc)
                log_fatal ("flag needs a value", "flag", flags [f], NULL);
        }
        if (!known)
            log_fatal ("unknown argument (flags: --api --work --events --data --public-url"
                       " --max-attempts --lease-ms --idempotency-ttl-s --retention-s --storage-quota-bytes"
                       " --account-lease-cap)", "argument", argv [i], NULL);
    }
    self->api_ep = util_config (argc, argv, "--api", "EASEL_API_ENDPOINT", "tcp://127.0.0.1:5555");
    self->work_ep = util_config (argc, argv, "--work", "EASEL_WORK_ENDPOINT", "tcp://127.0.0.1:5556");
    self->events_ep = util_config (argc, argv, "--events", "EASEL_EVENTS_ENDPOINT", "tcp://127.0.0.1:5557");
    self->data_dir = util_config (argc, argv, "--data", "EASEL_DATA", "./easel-data");
    const char *url = util_config (argc, argv, "--public-url", "EASEL_PUBLIC_URL", "http://127.0.0.1:8080");
    const char *attempts = util_config (argc, argv, "--max-attempts", "EASEL_MAX_ATTEMPTS", "3");
    const char *lease = util_config (argc, argv, "--lease-ms", "EASEL_LEASE_MS", "120000");
    if (!*self->api_ep || !*self->work_ep || !*self->events_ep || !*self->data_dir)
        log_fatal ("endpoints and data dir must not be empty", NULL);
    size_t n = strlen (url);
    while (n > 0 && url [n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof self->public_url
    ||  (strncmp (url, "http://", 7) != 0 && strncmp (url, "https://", 8) != 0))
        log_fatal ("--public-url must be an http(s) URL under 1024 bytes", "value", url, NULL);
    memcpy (self->public_url, url, n);
    self->public_url [n] = 0;
    int64_t v;
    if (util_parse_i64 (attempts, 1, 100, &v))
        log_fatal ("--max-attempts must be an integer in 1..100", "value", attempts, NULL);
    self->max_attempts = (int32_t) v;
    if (util_parse_i64 (lease, 1000, 24 * 3600 * 1000LL, &self->lease_ms))
        log_fatal ("--lease-ms must be an integer in 1000..86400000", "value", lease, NULL);
    char ttl_default [24];
    snprintf (ttl_default, sizeof ttl_default, "%d", EASEL_IDEMPOTENCY_TTL_S);
    const char *ttl = util_config (argc, argv, "--idempotency-ttl-s", "EASEL_IDEMPOTENCY_TTL_S",
                                   ttl_default);
    if (util_parse_i64 (ttl, 1, 365LL * 24 * 3600, &self->idem_ttl_s))
        log_fatal ("--idempotency-ttl-s must be an integer in 1..31536000", "value", ttl, NULL);
    char def [24];
    snprintf (def, sizeof def, "%d", EASEL_RETENTION_S);
    const char *ret = util_config (argc, argv, "--retention-s", "EASEL_RETENTION_S", def);
    if (util_parse_i64 (ret, 1, 100LL * 365 * 24 * 3600, &self->retention_s))
        log_fatal ("--retention-s must be an integer in 1..3153600000", "value", ret, NULL);
    snprintf (def, sizeof def, "%lld", (long long) EASEL_STORAGE_QUOTA_BYTES);
    const char *quota = util_config (argc, argv, "--storage-quota-bytes", "EASEL_STORAGE_QUOTA_BYTES", def);
    if (util_parse_i64 (quota, 0, INT64_MAX / 2, &self->quota_bytes))
        log_fatal ("--storage-quota-bytes must be a non-negative integer", "value", quota, NULL);
    char cap_default [24];
    snprintf (cap_default, sizeof cap_default, "%d", EASEL_ACCOUNT_LEASE_CAP);
    const char *cap = util_config (argc, argv, "--account-lease-cap", "EASEL_ACCOUNT_LEASE_CAP",
                                   cap_default);
    if (util_parse_i64 (cap, 0, 1000000, &self->account_lease_cap))
        log_fatal ("--account-lease-cap must be an integer in 0..1000000 (0: no cap)", "value", cap, NULL);
}

int
main (int argc, char **argv)
{
    log_init ("scheduler");
    static s_sched_t sched;
    s_sched_t *self = &sched;
    s_configure (self, argc, argv);
    /* before the store: a refused start must not touch the data dir */
    const char *bus_endpoints [] = { self->api_ep, self->work_ep, self->events_ep, NULL };
    char sec_err [BUS_SECURITY_ERR_MAX] = "";
    if (bus_security_init (argc, argv, BUS_ROLE_SERVER, bus_endpoints, sec_err))
        log_fatal ("bad bus security configuration", "reason", sec_err, NULL);
    sched_metrics_init ();
    char merr [256];
    const char *metrics_listen = util_config (argc, argv, "--metrics", "EASEL_METRICS_LISTEN", "");
    int mrc = metrics_serve (metrics_listen, merr, sizeof merr);
    if (mrc == METRICS_SERVE_CANNOT_LISTEN)
        log_fatal_bind ("cannot serve metrics", "reason", merr, NULL);
    if (mrc)
        log_fatal ("cannot serve metrics", "reason", merr, NULL);
    /* the bus before the store: a second scheduler on taken endpoints must
       not requeue the leases of the one that owns them */
    zsys_init ();
    s_bind_all (self);
    char err [256] = "";
    self->store = job_store_open (self->data_dir, err);
    self->reqs = task_reqs_new ();
    if (!self->store)
        log_fatal ("cannot open the job store", "reason", err, NULL);
    self->blobs = blob_store_new (self->data_dir, err);
    if (!self->blobs)
        log_fatal ("cannot open the blob store", "reason", err, NULL);
    /* a lease from a previous run has no renderer any more */
    self->now_ms = util_now_ms ();
    int n = -1;
    if (job_store_begin (self->store, err) == 0) {
        n = job_store_task_requeue_leased (self->store, NULL, INT64_MAX, "scheduler restarted",
                                           self->max_attempts, self->now_ms, err);
        if (n < 0 || job_store_commit (self->store, err) != 0) {
            job_store_rollback (self->store);
            n = -1;
        }
    }
    if (n < 0)
        log_fatal ("cannot requeue leased tasks at start", "reason", err, NULL);
    self->last_seq = job_store_event_last_seq (self->store);
    self->settle = true;

    char requeued [16];
    snprintf (requeued, sizeof requeued, "%d", n);
    log_info ("scheduler started", "api", self->api_ep, "work", self->work_ep,
              "events", self->events_ep, "data", self->data_dir, "requeued", requeued, NULL);

    self->next_tick_ms = util_mono_ms ();
    while (!zsys_interrupted) {
        int64_t wait = self->next_tick_ms - util_mono_ms ();
        zmq_pollitem_t items [] = {
            { zsock_resolve (self->api), 0, ZMQ_POLLIN, 0 },
            { zsock_resolve (self->work), 0, ZMQ_POLLIN, 0 },
        };
        if (wait > 0 && zmq_poll (items, 2, (long) wait) < 0 && errno == EINTR)
            continue;
        bool tick = util_mono_ms () >= self->next_tick_ms;
        if (tick)
            self->next_tick_ms = util_mono_ms () + EASEL_HEARTBEAT_MS;
        s_pass (self, tick);
    }
    log_info ("scheduler stopping", NULL);
    metrics_serve_stop ();
    for (int i = 0; i < self->nrenderers; i++)
        zframe_destroy (&self->renderers [i].identity);
    for (size_t i = 0; i < self->nout; i++)
        s_out_free (&self->out [i]);
    free (self->out);
    free (self->pubs);
    free (self->unsent);
    free (self->unlink);
    zsock_destroy (&self->api);
    zsock_destroy (&self->work);
    zsock_destroy (&self->pub);
    bus_security_shutdown ();
    blob_store_destroy (&self->blobs);
    job_store_destroy (&self->store);
    task_reqs_destroy (&self->reqs);
    return 0;
}
