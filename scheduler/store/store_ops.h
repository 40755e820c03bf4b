/*  store_ops.h: the seam between job_store.h and its backends. Every
    job_store_* function that needs a database is one row of STORE_OPS
    (return type, name without job_store_, parameters, arguments): the
    dispatcher (store_dispatch.c) defines job_store_<name> as a call through
    the handle's ops table, and each backend fills one table from the same
    rows (STORE_OPS_TABLE), so a function missing from a backend fails the
    build, and the list is written once. The functions every backend shares
    (store_keys.c: signed URLs and review links; job_store_profile_free) and
    job_store_open / job_store_destroy are not rows.
    A backend's files include store_names.h first, which renames every row's
    job_store_<name> to STORE_FN (<name>), so the same definitions compile
    into sqlite_store_* or pg_store_* and both link into one program.
    Thread: the handle's. Memory: tables are static. */
#ifndef EASEL_STORE_OPS_H
#define EASEL_STORE_OPS_H

#include "job_store.h"

/* X (ret, name, (params), (args)) for a function returning a value,
   XV (...) for one returning void. */
#define STORE_OPS(X, XV) \
    X (int, account_create, (job_store_t *self, const char *name, int64_t credits, job_store_new_key_t *out, char *err), (self, name, credits, out, err)) \
    X (int64_t, account_count, (job_store_t *self), (self)) \
    X (int, key_list, (job_store_t *self, void (*fn) (const job_store_key_info_t *info, void *arg), void *arg, char *err), (self, fn, arg, err)) \
    X (int, key_revoke, (job_store_t *self, const char *key_or_prefix, char *err), (self, key_or_prefix, err)) \
    X (int, begin, (job_store_t *self, char *err), (self, err)) \
    X (int, commit, (job_store_t *self, char *err), (self, err)) \
    XV (void, rollback, (job_store_t *self), (self)) \
    X (int, lease_take, (job_store_t *self, const char *holder, int64_t ttl_ms, int64_t *token, char *err), (self, holder, ttl_ms, token, err)) \
    XV (void, lease_fence, (job_store_t *self, const char *holder, int64_t token, int64_t ttl_ms), (self, holder, token, ttl_ms)) \
    X (int, auth, (job_store_t *self, const char *key_sha256, char account_id [PROTO_ID_MAX]), (self, key_sha256, account_id)) \
    X (int, render_create, (job_store_t *self, const char *account_id, const proto_create_render_t *req, int64_t now_ms, char render_id [PROTO_ID_MAX], proto_render_t *made, char *err), (self, account_id, req, now_ms, render_id, made, err)) \
    X (int, cache_has, (job_store_t *self, const char *account_id, const char *key, char *err), (self, account_id, key, err)) \
    X (int, capture_create, (job_store_t *self, const char *account_id, const proto_create_render_t *req, int64_t now_ms, char job_id [PROTO_ID_MAX], char *err), (self, account_id, req, now_ms, job_id, err)) \
    X (int, render_get, (job_store_t *self, const char *render_id, const char *account_id, int64_t now_ms, proto_render_t *out, char *err), (self, render_id, account_id, now_ms, out, err)) \
    X (int, render_head, (job_store_t *self, const char *render_id, proto_render_t *out, char *err), (self, render_id, out, err)) \
    X (int, render_next_settled, (job_store_t *self, char render_id [PROTO_ID_MAX], char *err), (self, render_id, err)) \
    X (int, render_complete, (job_store_t *self, const char *render_id, int64_t now_ms, char *err), (self, render_id, now_ms, err)) \
    X (int, task_lease_next, (job_store_t *self, const char *renderer, int64_t now_ms, int64_t lease_ms, proto_task_t *out, char *err), (self, renderer, now_ms, lease_ms, out, err)) \
    X (int, task_lease_for, (job_store_t *self, const char *renderer, bool capture, int64_t now_ms, int64_t lease_ms, proto_task_t *out, char *err), (self, renderer, capture, now_ms, lease_ms, out, err)) \
    X (int, task_lease_fair, (job_store_t *self, const char *renderer, bool capture, int64_t account_cap, int64_t now_ms, int64_t lease_ms, proto_task_t *out, char *err), (self, renderer, capture, account_cap, now_ms, lease_ms, out, err)) \
    X (int64_t, render_accounts_processing, (job_store_t *self, char *err), (self, err)) \
    X (int, task_leased_counts, (job_store_t *self, void (*fn) (const char *renderer, int64_t n, void *arg), void *arg, char *err), (self, fn, arg, err)) \
    X (int, task_succeed, (job_store_t *self, const proto_result_t *result, const char *sha256, int64_t now_ms, char *err), (self, result, sha256, now_ms, err)) \
    X (int, task_fail, (job_store_t *self, const char *task_id, int32_t attempt, const proto_error_t *error, bool retryable, int32_t max_attempts, int64_t now_ms, char *err), (self, task_id, attempt, error, retryable, max_attempts, now_ms, err)) \
    X (int, task_requeue_leased, (job_store_t *self, const char *renderer, int64_t expired_before_ms, const char *reason, int32_t max_attempts, int64_t now_ms, char *err), (self, renderer, expired_before_ms, reason, max_attempts, now_ms, err)) \
    X (int, upload_find, (job_store_t *self, const char *account_id, const char *id, const char *sha256, int64_t now_ms, job_store_upload_t *out, char *err), (self, account_id, id, sha256, now_ms, out, err)) \
    X (int, upload_put, (job_store_t *self, job_store_upload_t *in, const char *content_type, char *err), (self, in, content_type, err)) \
    X (int, upload_sweep, (job_store_t *self, int64_t now_ms, int32_t limit, char *err), (self, now_ms, limit, err)) \
    X (int, blob_add, (job_store_t *self, const char *sha256, int64_t bytes, const char *content_type, char *err), (self, sha256, bytes, content_type, err)) \
    X (int, file_get, (job_store_t *self, const char *image_id, job_store_file_t *out, char *err), (self, image_id, out, err)) \
    X (int, review_gen, (job_store_t *self, const char *render_id, int64_t *gen, char *err), (self, render_id, gen, err)) \
    X (int, review_decide, (job_store_t *self, const char *render_id, const char *status, const char *comment, const char *by, int64_t now_ms, char *err), (self, render_id, status, comment, by, now_ms, err)) \
    X (int, review_revoke, (job_store_t *self, const char *render_id, char *err), (self, render_id, err)) \
    X (int, event_add, (job_store_t *self, const char *event_id, const char *type, const char *account_id, const char *object_id, int64_t created_at_ms, const char *payload, const char *webhook_url, int64_t *seq_out, char *err), (self, event_id, type, account_id, object_id, created_at_ms, payload, webhook_url, seq_out, err)) \
    X (int64_t, event_last_seq, (job_store_t *self), (self)) \
    X (int, events_since, (job_store_t *self, int64_t since, int32_t limit, proto_events_t *out, char *err), (self, since, limit, out, err)) \
    X (int, delivery_report, (job_store_t *self, const proto_delivery_report_t *report, int32_t max_attempts, int64_t now_ms, char *err), (self, report, max_attempts, now_ms, err)) \
    X (int, delivery_get, (job_store_t *self, const char *object_id, const char *account_id, job_store_delivery_t *out, char *err), (self, object_id, account_id, out, err)) \
    X (int, delivery_attempts, (job_store_t *self, const char *delivery_id, int32_t limit, void (*fn) (const job_store_attempt_t *a, void *arg), void *arg, char *err), (self, delivery_id, limit, fn, arg, err)) \
    X (int, delivery_reset, (job_store_t *self, const char *delivery_id, int64_t now_ms, char *err), (self, delivery_id, now_ms, err)) \
    X (int, webhook_secret_rotate, (job_store_t *self, const char *account_id, int64_t overlap_s, int64_t now_ms, char new_secret [80], char *err), (self, account_id, overlap_s, now_ms, new_secret, err)) \
    X (int, webhook_ed25519, (job_store_t *self, const char *account_id, int action, char public_key [64], bool *enabled, char *err), (self, account_id, action, public_key, enabled, err)) \
    X (int, idem_lookup, (job_store_t *self, const char *account_id, const char *scope, const char *key, const char *fingerprint, int64_t now_ms, int64_t created_after_ms, job_store_idem_t *out, char *err), (self, account_id, scope, key, fingerprint, now_ms, created_after_ms, out, err)) \
    X (int, idem_put, (job_store_t *self, const char *account_id, const char *scope, const char *key, const char *fingerprint, const char *object_id, bool done, int32_t status, const char *body, int64_t hold_until_ms, int64_t now_ms, char *err), (self, account_id, scope, key, fingerprint, object_id, done, status, body, hold_until_ms, now_ms, err)) \
    X (int, idem_complete, (job_store_t *self, const char *account_id, const char *scope, const char *key, int32_t status, const char *body, char *err), (self, account_id, scope, key, status, body, err)) \
    X (int, idem_sweep, (job_store_t *self, int64_t before_ms, char *err), (self, before_ms, err)) \
    X (int, account_get, (job_store_t *self, const char *account_id, job_store_account_t *out, char *err), (self, account_id, out, err)) \
    X (int, ledger_list, (job_store_t *self, const char *account_id, int32_t limit, void (*fn) (const job_store_ledger_entry_t *e, void *arg), void *arg, char *err), (self, account_id, limit, fn, arg, err)) \
    X (int, credits_check, (job_store_t *self, const char *account_id, int64_t images, int64_t *available, char *err), (self, account_id, images, available, err)) \
    X (int, credits_add, (job_store_t *self, const char *who, int64_t amount, const char *note, char account_id [PROTO_ID_MAX], int64_t *balance_out, char *err), (self, who, amount, note, account_id, balance_out, err)) \
    X (int, render_list, (job_store_t *self, const char *account_id, int32_t limit, const char *starting_after, char (*ids) [PROTO_ID_MAX], int32_t *n, bool *has_more, char *err), (self, account_id, limit, starting_after, ids, n, has_more, err)) \
    X (int, render_cancel, (job_store_t *self, const char *render_id, const char *account_id, int64_t now_ms, char *err), (self, render_id, account_id, now_ms, err)) \
    X (int, task_held_by, (job_store_t *self, const char *task_id, int32_t attempt, const char *renderer, char *err), (self, task_id, attempt, renderer, err)) \
    X (int, task_release, (job_store_t *self, const char *task_id, int32_t attempt, char *err), (self, task_id, attempt, err)) \
    X (int, render_running, (job_store_t *self, const char *render_id, void (*fn) (const char *renderer, const char *task_id, int32_t attempt, void *arg), void *arg, char *err), (self, render_id, fn, arg, err)) \
    X (int, req_set, (job_store_t *self, const char *object_id, const char *req, char *err), (self, object_id, req, err)) \
    X (int, req_get, (job_store_t *self, const char *object_id, char req [PROTO_ID_MAX]), (self, object_id, req)) \
    X (int, task_render, (job_store_t *self, const char *task_id, char render_id [PROTO_ID_MAX]), (self, task_id, render_id)) \
    X (bool, is_full, (job_store_t *self), (self)) \
    X (int, storage_used, (job_store_t *self, const char *account_id, int64_t *bytes, char *err), (self, account_id, bytes, err)) \
    X (int, retention_sweep, (job_store_t *self, int64_t before_ms, int32_t limit, char *err), (self, before_ms, limit, err)) \
    X (int, blob_gc, (job_store_t *self, int32_t limit, void (*fn) (const char *sha256, void *arg), void *arg, char *err), (self, limit, fn, arg, err)) \
    X (int, blob_known, (job_store_t *self, const char *sha256), (self, sha256)) \
    X (int, task_unlease, (job_store_t *self, const char *task_id, int32_t attempt, char *err), (self, task_id, attempt, err)) \
    XV (void, stmt_cache_cap, (job_store_t *self, int cap), (self, cap)) \
    X (int, task_state_counts, (job_store_t *self, int64_t *queued, int64_t *leased), (self, queued, leased)) \
    X (int, profile_create, (job_store_t *self, const char *account_id, const job_store_profile_t *p, char *err), (self, account_id, p, err)) \
    X (int, profile_get, (job_store_t *self, const char *account_id, const char *id, job_store_profile_t *out, char *err), (self, account_id, id, out, err)) \
    X (int, profile_list, (job_store_t *self, const char *account_id, void (*fn) (const job_store_profile_t *p, void *arg), void *arg, char *err), (self, account_id, fn, arg, err)) \
    X (int, profile_delete, (job_store_t *self, const char *account_id, const char *id, char *err), (self, account_id, id, err)) \
    X (int, backup, (job_store_t *self, const char *dest_path, char *err), (self, dest_path, err))

#define S_OPS_FIELD(ret, name, params, args) ret (*name) params;
typedef struct {
    const char *backend;           /* "sqlite" | "postgresql", for messages */
    void (*destroy) (job_store_t **self_p);
    const char *(*url_secret) (job_store_t *self);
    STORE_OPS (S_OPS_FIELD, S_OPS_FIELD)
} store_ops_t;
#undef S_OPS_FIELD

/* Every backend's handle struct begins with this, so the dispatcher finds
   the table of a handle whatever its backend. */
typedef struct {
    const store_ops_t *ops;
} store_head_t;

/* The backends' tables (sqlite_core.c, pg_core.c). */
extern const store_ops_t store_sqlite_ops;
extern const store_ops_t store_pg_ops;

/* The initialiser of a backend's table, in a file that included
   store_names.h (job_store_<name> is then the backend's own function). */
#define S_OPS_INIT(ret, name, params, args) .name = job_store_##name,
#define STORE_OPS_TABLE(backend_name) { \
    .backend = backend_name, \
    .destroy = job_store_destroy, \
    .url_secret = store_url_secret, \
    STORE_OPS (S_OPS_INIT, S_OPS_INIT) }

#endif
