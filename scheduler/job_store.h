/*  job_store.h: every SQL statement Easel runs lives behind this interface.
    SQLite (WAL, synchronous=FULL, busy_timeout) under the data directory is the
    embedded default. The scheduler's single state thread owns one handle; the
    CLI opens its own short-lived handle for `easel keys` and `easel up`
    (WAL lets it work on a stopped data dir and beside a running scheduler).
    Memory: out-structs own nothing unless a comment says so. */
#ifndef EASEL_JOB_STORE_H
#define EASEL_JOB_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "proto.h"

typedef struct _job_store_t job_store_t;

/* Opens (creating if needed) <data_dir>/easel.db and the schema, creating
   data_dir itself if missing. NULL with a one-line reason in err (256 bytes). */
job_store_t *job_store_open (const char *data_dir, char *err);
void job_store_destroy (job_store_t **self_p);

/* ---- accounts and API keys (used by the CLI and by the scheduler) -------- */

#define JOB_STORE_UNLIMITED (-1)

typedef struct {
    char account_id[40];           /* acct_... */
    char api_key[80];              /* sk_... : shown once, stored only as sha256 */
    char key_prefix[16];           /* "sk_" + first 8 chars, how lists name the key */
    char webhook_secret[80];       /* whsec_<base64 of 32 random bytes> */
} job_store_new_key_t;

/* Creates an account named `name` with `credits` (JOB_STORE_UNLIMITED for no
   limit), its webhook secret and a first API key. 0 / -1 (err filled). */
int job_store_account_create (job_store_t *self, const char *name, int64_t credits,
                              job_store_new_key_t *out, char *err);

/* Number of accounts (so `easel up` knows a data dir is new). -1 on error. */
int64_t job_store_account_count (job_store_t *self);

typedef struct {
    char    key_prefix[16];
    char    name[128];             /* the account name */
    char    account_id[40];
    int64_t created_at_ms;
    bool    revoked;
    int64_t credits;               /* JOB_STORE_UNLIMITED or the balance */
} job_store_key_info_t;

/* Calls fn once per key, oldest first. 0 / -1. */
int job_store_key_list (job_store_t *self,
                        void (*fn) (const job_store_key_info_t *info, void *arg), void *arg,
                        char *err);

/* Revokes the key given as its full sk_ value or its listed prefix.
   0; -1 with err "no such key" / "ambiguous prefix" / a SQLite reason. */
int job_store_key_revoke (job_store_t *self, const char *key_or_prefix, char *err);

/* ---- everything below is the scheduler's (one state thread) -------------- */

/* Transactions: the scheduler groups one loop pass into BEGIN IMMEDIATE ...
   COMMIT. On a failed commit call rollback; nothing of the pass is kept. */
int  job_store_begin (job_store_t *self, char *err);
int  job_store_commit (job_store_t *self, char *err);
void job_store_rollback (job_store_t *self);

/* Finds the account of a live (not revoked) key given as hex sha256 of the
   presented key. 0 with account_id filled; -1 when unknown, revoked or on error. */
int job_store_auth (job_store_t *self, const char *key_sha256, char account_id [PROTO_ID_MAX]);

/* Creates a render (new rnd_ id into render_id) and one queued task per
   req->tasks[i] (new img_ ids). 0 / -1 (err filled; caller rolls back). */
int job_store_render_create (job_store_t *self, const char *account_id,
                             const proto_create_render_t *req, int64_t now_ms,
                             char render_id [PROTO_ID_MAX], char *err);

/* Fills `out` (zeroed by the caller; free with proto_render_free) with the
   render and every task as an image; succeeded images get a signed file URL
   valid until now + EASEL_FILE_URL_TTL_S. When account_id is not NULL the
   render must belong to it. rid is left alone. 0; -1 with err "not found"
   or a SQLite reason. */
int job_store_render_get (job_store_t *self, const char *render_id, const char *account_id,
                          int64_t now_ms, proto_render_t *out, char *err);

/* Finds one render still "processing" whose tasks are all finished. 1 with
   render_id filled, 0 when there is none, -1 on error. */
int job_store_render_next_settled (job_store_t *self, char render_id [PROTO_ID_MAX], char *err);

/* Marks a settled render succeeded (every task succeeded) or failed, with
   completed_at = now. 0 / -1. */
int job_store_render_complete (job_store_t *self, const char *render_id, int64_t now_ms, char *err);

/* ---- tasks ---------------------------------------------------------------
   attempt counts starts: a queued task has made `attempt` tries so far, and
   leasing it starts try attempt+1. */

/* Leases the oldest queued task (oldest render first) to `renderer` until
   now + lease_ms. 1 with `out` filled (spec is the caller's: proto_task_free),
   0 when nothing is queued, -1 on error. */
int job_store_task_lease_next (job_store_t *self, const char *renderer, int64_t now_ms,
                               int64_t lease_ms, proto_task_t *out, char *err);

/* Calls fn (renderer, number of leased tasks) for every renderer holding leases. 0 / -1. */
int job_store_task_leased_counts (job_store_t *self,
                                  void (*fn) (const char *renderer, int64_t n, void *arg),
                                  void *arg, char *err);

/* Accepts a result only for the task's current attempt while leased: marks it
   succeeded with the stored blob's sha256 and size. 0 accepted; -1 with err
   "stale" when not current, or a SQLite reason. */
int job_store_task_succeed (job_store_t *self, const proto_result_t *result,
                            const char *sha256, int64_t now_ms, char *err);

/* Ends the current attempt (task, attempt) of a leased task. retryable: the
   task is queued again unless `max_attempts` are used up, in which case it
   fails for good with "attempts_exhausted"; not retryable: it fails with
   `error`. 0; -1 with err "stale" when not current, or a SQLite reason. */
int job_store_task_fail (job_store_t *self, const char *task_id, int32_t attempt,
                         const proto_error_t *error, bool retryable, int32_t max_attempts,
                         int64_t now_ms, char *err);

/* Ends every leased attempt held by `renderer` (NULL: any renderer) whose lease
   expires before `expired_before_ms` (INT64_MAX: all), as task_fail with a
   retryable error whose message is `reason`. Number of tasks ended, -1 on error. */
int job_store_task_requeue_leased (job_store_t *self, const char *renderer,
                                   int64_t expired_before_ms, const char *reason,
                                   int32_t max_attempts, int64_t now_ms, char *err);

/* ---- files ----------------------------------------------------------------- */

typedef struct {
    char    account_id [PROTO_ID_MAX];
    char    sha256 [65];
    int64_t bytes;
    char    content_type [PROTO_SHORT_MAX];
} job_store_file_t;

/* Records a stored blob (content addressed: a second add is a no-op). 0 / -1. */
int job_store_blob_add (job_store_t *self, const char *sha256, int64_t bytes,
                        const char *content_type, char *err);
/* The blob of a succeeded image. 0; -1 with err "not found" or a SQLite reason. */
int job_store_file_get (job_store_t *self, const char *image_id, job_store_file_t *out, char *err);

/* Signed file URLs: sig = hex HMAC-SHA256(url_secret, "<image_id>.<exp>"). */
void job_store_url_sign (job_store_t *self, const char *image_id, int64_t exp, char sig [65]);
/* True when exp >= now_s and sig matches (constant time). */
bool job_store_url_check (job_store_t *self, const char *image_id, int64_t exp,
                          const char *sig, int64_t now_s);

/* ---- events and webhook deliveries (the outbox) ----------------------------- */

/* Appends an event and, when webhook_url is not NULL, a pending delivery for
   it; seq_out gets the event's seq. Call inside the transaction of the final
   state it reports. 0 / -1. */
int job_store_event_add (job_store_t *self, const char *event_id, const char *type,
                         const char *account_id, const char *object_id, int64_t created_at_ms,
                         const char *payload, const char *webhook_url, int64_t *seq_out,
                         char *err);

/* Highest event seq (0 when none), -1 on error. */
int64_t job_store_event_last_seq (job_store_t *self);

/* Fills `out` (zeroed by caller; proto_events_free) with up to `limit` events
   after seq `since` that still have a pending or retrying delivery, and
   last_seq. rid is left alone. 0 / -1. */
int job_store_events_since (job_store_t *self, int64_t since, int32_t limit,
                            proto_events_t *out, char *err);

/* Records one delivery attempt. ok: delivered; else retrying, or failed once
   attempts reach max_attempts or the receiver answered 410. The render's
   webhook_status follows. 0; -1 with err "not found" or a SQLite reason. */
int job_store_delivery_report (job_store_t *self, const proto_delivery_report_t *report,
                               int32_t max_attempts, int64_t now_ms, char *err);

#endif
