/*  job_store.h: the store, Easel's one state interface: every SQL statement
    Easel runs lives behind it. A backend is the set of files that defines
    these functions (scheduler/store/store_backend.h, store_ops.h); both
    link, and job_store_open picks one by EASEL_DATABASE_URL. SQLite (WAL,
    synchronous=FULL, busy_timeout) under the data directory is the embedded
    default: scheduler/store/sqlite_<concern>.c, its schema as versioned
    migrations in sqlite_schema.c. PostgreSQL (libpq) is
    scheduler/store/pg_<concern>.c, the same schema versions in
    pg_schema.c. Errors say "sqlite: ..." or "postgresql: ...". The scheduler's single state
    thread owns one handle; the CLI opens its own short-lived handle for
    `easel keys`, `easel credits`, `easel backup` and `easel up` (WAL lets it
    work on a stopped data dir and beside a running scheduler).
    Memory: out-structs own nothing unless a comment says so. */
#ifndef EASEL_JOB_STORE_H
#define EASEL_JOB_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "proto.h"

typedef struct _job_store_t job_store_t;

/* Opens the store of this process's EASEL_DATABASE_URL: unset or empty,
   (creating if needed) <data_dir>/easel.db, creating data_dir itself if
   missing; postgres:// or postgresql://, that PostgreSQL database
   (data_dir unused); any other value is refused. Brings its schema to the
   latest version (each migration in its own transaction; a SQLite
   database from before versions is adopted). NULL with a one-line reason
   in err (256 bytes), among them a database made by a newer Easel ("...
   newer than this Easel's N"), which is left untouched. */
job_store_t *job_store_open (const char *data_dir, char *err);

/* Opens the store of a data dir a running scheduler holds, for the CLI's
   reads (`easel keys list`, `easel backup`): nothing is created and no
   migration runs (the scheduler migrates its own database); a database at
   another schema version than this Easel's is refused, untouched, with a
   reason naming both versions. NULL with err. */
job_store_t *job_store_open_beside (const char *data_dir, char *err);
void job_store_destroy (job_store_t **self_p);

/* `easel migrate`: copies every row of the SQLite store under data_dir
   (<data_dir>/easel.db, migrated to this Easel's schema first) into the
   PostgreSQL database at url (its schema made if missing), in one
   PostgreSQL transaction: all of it or nothing. The meta row (the secret
   file URLs are signed with) comes along, so links already handed out stay
   valid; identity counters continue after the copied rows. Refused with
   err, nothing written, when the PostgreSQL database already holds state
   (any row past its meta), a scheduler holds its lease, or a table of
   either side is one this Easel does not know. Neither side may have a
   scheduler running: the caller holds the data dir's lock. For each table
   copied, tables (when not NULL) is called with its name and row count.
   0 / -1. */
typedef void (job_store_copied_fn) (const char *table, int64_t rows, void *arg);
int job_store_copy_to_pg (const char *data_dir, const char *url, job_store_copied_fn *tables, void *arg,
                          char *err);

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
   COMMIT (PostgreSQL: BEGIN ... COMMIT, and a commit of a transaction a
   statement failed in is a failure). On a failed commit call rollback;
   nothing of the pass is kept. */
/* The active scheduler's lease, where the database is the arbiter between
   schedulers (PostgreSQL; on SQLite the data dir's lock is, and these
   answer 1 with *token 0 and fence nothing). job_store_lease_take takes
   the lease for holder (unique per scheduler process) until ttl_ms from
   now by the database's clock, or renews it: 1 held, *token its fencing
   token (one more than the last holder's when taken, the same when
   renewed); 0 another holder's lease has not expired; -1 with err. Runs
   outside a pass's transaction. */
#define JOB_STORE_LEASE_LOST "lease lost"
#define JOB_STORE_LEASE_HOLDER_MAX 128
int  job_store_lease_take (job_store_t *self, const char *holder, int64_t ttl_ms, int64_t *token,
                           char *err);
/* From now on every job_store_commit of this handle first renews the lease
   of (holder, token) to ttl_ms from now, in the same transaction, and
   commits only if the row still names them (an expired lease nobody took
   is still this holder's); otherwise it rolls the transaction back and
   fails with err starting JOB_STORE_LEASE_LOST: a scheduler another took
   over from can never commit (a fence statement that fails, a lost
   connection, is a plain error: the next pass's fence decides). A fenced
   session is ended by the database once it sits idle inside a transaction
   for 2 x ttl_ms, so the row locks of a holder cut off mid-pass cannot
   hold up the next one. token 0: no fence. */
void job_store_lease_fence (job_store_t *self, const char *holder, int64_t token, int64_t ttl_ms);

int  job_store_begin (job_store_t *self, char *err);
int  job_store_commit (job_store_t *self, char *err);
void job_store_rollback (job_store_t *self);

/* Finds the account of a live (not revoked) key given as hex sha256 of the
   presented key. 0 with account_id filled; -1 when unknown, revoked or on error. */
int job_store_auth (job_store_t *self, const char *key_sha256, char account_id [PROTO_ID_MAX]);

/* Creates a render (new rnd_ id into render_id) and one queued task per
   req->tasks[i] (new img_ ids), each served at once from the image cache
   when it can be. When made is not NULL (zeroed by the caller; freed with
   proto_render_free, on failure too) it becomes the render as
   job_store_render_get (render_id, NULL, now_ms) would read it now, so
   the create's answer needs no read back. 0 / -1 (err filled; caller
   rolls back). */
int job_store_render_create (job_store_t *self, const char *account_id,
                             const proto_create_render_t *req, int64_t now_ms,
                             char render_id [PROTO_ID_MAX], proto_render_t *made, char *err);

/* How many of req's tasks the account's image cache would serve now (a
   succeeded image of the same key whose bytes are still stored): the
   images a create of req would not be charged for. 0 / -1. */
int job_store_render_cache_hits (job_store_t *self, const char *account_id,
                                 const proto_create_render_t *req, int64_t *hits, char *err);
/* Whether the account's image cache holds an image of this cache key
   (store_backend.h's store_cache_key) whose bytes are still stored. 1 / 0 / -1. */
int job_store_cache_has (job_store_t *self, const char *account_id, const char *key, char *err);

/* Creates a capture job: a render row whose id is job_... (new id into
   job_id) with one queued task cap_... holding req->tasks[0]'s spec, priced
   JOB_STORE_CAPTURE_PRICE_MAX until its RESULT states the real price. The
   capture's JSON shape (common/job_json.h) is built from the same render
   message. 0 / -1 (err filled; caller rolls back). */
#define JOB_STORE_CAPTURE_PRICE_MAX 3
int job_store_capture_create (job_store_t *self, const char *account_id,
                              const proto_create_render_t *req, int64_t now_ms,
                              char job_id [PROTO_ID_MAX], char *err);

/* Fills `out` (zeroed by the caller; free with proto_render_free) with the
   render and every task as an image; succeeded images get a signed file URL
   valid until EASEL_SIGNED_EXP (now_ms, EASEL_FILE_URL_TTL_S). When account_id is not NULL the
   render must belong to it. rid is left alone. 0; -1 with err "not found"
   or a SQLite reason. */
int job_store_render_get (job_store_t *self, const char *render_id, const char *account_id,
                          int64_t now_ms, proto_render_t *out, char *err);

/* The render's row alone, no images: id, account_id, status, created_at,
   completed_at, total and webhook_url (NULL when it has none) into `out`
   (zeroed by the caller; proto_render_free). What settling needs to decide
   whether an event needs its payload. 0; -1 with err "not found", "out of
   memory" or a SQLite reason. */
int job_store_render_head (job_store_t *self, const char *render_id, proto_render_t *out,
                           char *err);

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

/* As job_store_task_lease_next, but a renderer that cannot capture
   (capture false) is never given a capture task (id cap_...) nor a render
   task whose slide captures a page (tasks.browser, from the task spec's
   `browser`): such tasks wait queued for a renderer whose READY said
   "capture". */
int job_store_task_lease_for (job_store_t *self, const char *renderer, bool capture,
                              int64_t now_ms, int64_t lease_ms, proto_task_t *out, char *err);

/* As job_store_task_lease_for, fair between accounts when account_cap > 0:
   the task comes from the account holding the fewest leased tasks (oldest
   render first among equals), so a second account's render takes the next
   free slot rather than waiting behind another's matrix; and a task of an
   account already holding account_cap leased tasks is taken only when no
   other account has a task queued that this renderer may take
   (work-conserving: a lone tenant may use the whole fleet). 0 = oldest
   render first, no sharing (INT64_MAX: sharing without a cap). */
int job_store_task_lease_fair (job_store_t *self, const char *renderer, bool capture,
                               int64_t account_cap, int64_t now_ms, int64_t lease_ms,
                               proto_task_t *out, char *err);

/* Accounts with a processing render (a cheap bound on the accounts with
   work queued: below 2, fairness has nothing to share). Count, or -1. */
int64_t job_store_render_accounts_processing (job_store_t *self, char *err);

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

/* Uploaded files (POST /v1/files): one row per account and sha256, its
   bytes in the blob store; the row pins the blob and its bytes count in the
   account's stored_bytes until expires_at_ms. */
typedef struct {
    char    id [PROTO_ID_MAX];         /* file_... */
    char    account_id [PROTO_ID_MAX];
    char    sha256 [65];
    int64_t bytes;
    int32_t width, height;
    char    format [PROTO_SHORT_MAX];  /* png | jpeg | webp */
    int64_t created_at_ms, expires_at_ms;
} job_store_upload_t;

/* The live (expires_at_ms > now_ms) file of id, or of account + sha256
   (account NULL with an id: any account's). 0 found, 1 none, -1 error. */
int job_store_upload_find (job_store_t *self, const char *account_id, const char *id,
                           const char *sha256, int64_t now_ms, job_store_upload_t *out, char *err);
/* A new file row from in (id made here, written into in->id), its blob row
   and its bytes on the account. The caller stored the bytes first and made
   sure no live row of account + sha256 exists (an expired one is replaced).
   0 / -1. */
int job_store_upload_put (job_store_t *self, job_store_upload_t *in, const char *content_type,
                          char *err);
/* Deletes up to limit files expired at now_ms and takes their bytes off
   their accounts. Number deleted, -1 on error. */
int job_store_upload_sweep (job_store_t *self, int64_t now_ms, int32_t limit, char *err);

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

/* ---- the review gate (renders only) ----------------------------------------
   A review link is signed over "review.<render id>.<link generation>.<exp>"
   with the file-URL secret, and, when the link names a reviewer or an
   earlier render to compare with, ".by=<length>:<name>.since=<render id>"
   too; revoking raises the generation, so every link made before stops
   verifying. by and since may be NULL or "" (none). */
void job_store_review_sign (job_store_t *self, const char *render_id, int64_t gen, int64_t exp,
                            const char *by, const char *since, char sig [65]);
/* The generation of render_id's links now: 0 / -1 with err. */
int  job_store_review_gen (job_store_t *self, const char *render_id, int64_t *gen, char *err);
/* 0 a valid link for the current generation, 2 valid but expired, 1 not a
   link of this render (tampered, revoked, other secret), -1 store error. */
int  job_store_review_check (job_store_t *self, const char *render_id, int64_t exp,
                             const char *by, const char *since, const char *sig, int64_t now_s,
                             char *err);
/* Records the decision (status "approved" | "changes_requested"; comment and
   by may be NULL) unless one is recorded: 0 recorded, 1 decided already
   (nothing changed), -1 store error. */
int  job_store_review_decide (job_store_t *self, const char *render_id, const char *status,
                              const char *comment, const char *by, int64_t now_ms, char *err);
/* Revokes every review link of the render made so far. 0 / -1. */
int  job_store_review_revoke (job_store_t *self, const char *render_id, char *err);

/* Appends an event and, when webhook_url is not NULL, a pending delivery for
   it; seq_out gets the event's seq. Call inside the transaction of the final
   state it reports. Only a delivery reads the payload (events_since), so it
   is stored only with one: without webhook_url the row keeps an empty
   payload and `payload` may be NULL. 0 / -1. */
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

/* ---- webhook management (deliveries list, redeliver, secret rotation) ------ */

typedef struct {
    char    delivery_id [PROTO_ID_MAX];     /* "" when the object has no delivery yet */
    char    event_id [PROTO_ID_MAX];
    char    event_type [PROTO_SHORT_MAX];
    int64_t event_seq;
    char    url [2049];                      /* the delivery's (or the render's) webhook_url */
    bool    has_webhook;                     /* the object has a webhook_url at all */
    char    object_status [PROTO_SHORT_MAX]; /* the render's status ("processing", ...) */
    char    status [PROTO_SHORT_MAX];        /* webhook_status: none|pending|retrying|delivered|failed */
    int32_t attempts;                        /* attempts since the last (re)delivery */
} job_store_delivery_t;

typedef struct {
    int64_t     at_ms;
    int32_t     status_code;
    int64_t     latency_ms;
    const char *error;                       /* NULL when the attempt succeeded */
    const char *response_head;               /* NULL when the body was empty */
} job_store_attempt_t;

/* Finds the delivery of object_id (a render, or any object an event names)
   belonging to account_id. 0 with out filled (delivery_id "" when the object
   exists but has no delivery yet); -1 with err "not found" or a SQLite reason. */
int job_store_delivery_get (job_store_t *self, const char *object_id, const char *account_id,
                            job_store_delivery_t *out, char *err);

/* Calls fn for the last `limit` attempts of a delivery, oldest first. 0 / -1. */
int job_store_delivery_attempts (job_store_t *self, const char *delivery_id, int32_t limit,
                                 void (*fn) (const job_store_attempt_t *a, void *arg), void *arg,
                                 char *err);

/* Sends a delivery again: status pending, attempts 0 (the attempt log keeps
   every row), the render's webhook_status pending. 0; -1 with err. */
int job_store_delivery_reset (job_store_t *self, const char *delivery_id, int64_t now_ms, char *err);

/* Rotates the account's webhook secret: a new whsec_ (32 random bytes) into
   new_secret; the old one keeps signing until now + overlap_s (0: stops at
   once). Any earlier old secret stops at once: at most two HMAC secrets ever
   sign. 0; -1 with err "not found". */
int job_store_webhook_secret_rotate (job_store_t *self, const char *account_id, int64_t overlap_s,
                                     int64_t now_ms, char new_secret [80], char *err);

/* ed25519 signing: action 0 reads, 1 enables, 2 disables. A key pair is made
   on first use; public_key gets base64 of the 32-byte key. 0 / -1. */
int job_store_webhook_ed25519 (job_store_t *self, const char *account_id, int action,
                               char public_key [64], bool *enabled, char *err);

/* ---- idempotency keys -------------------------------------------------------
   A key row is (account, scope "POST /v1/renders", key) -> fingerprint of the
   canonical request, the object it made, and the response to replay. State
   "done" replays status+body; "in_flight" (a sync create or a cancel whose
   answer the gateway has not stored yet) answers 409 until hold_until, after
   which a row with a fallback response (status > 0) replays that and one
   without is forgotten. Rows older than the TTL count as absent. */

typedef enum {
    JOB_STORE_IDEM_NEW = 0,        /* no live row: run the request */
    JOB_STORE_IDEM_REPLAY = 1,     /* out filled: answer it again */
    JOB_STORE_IDEM_IN_FLIGHT = 2,  /* the first request has not been answered */
    JOB_STORE_IDEM_MISMATCH = 3    /* same key, other parameters */
} job_store_idem_state_t;

typedef struct {
    int32_t status;
    char    object_id [PROTO_ID_MAX];
    char   *body;                  /* heap, the caller frees (REPLAY only) */
} job_store_idem_t;

/* Looks the key up for account+scope. created_after_ms: rows created before
   it are expired. Returns a job_store_idem_state_t, -1 on error. */
int job_store_idem_lookup (job_store_t *self, const char *account_id, const char *scope,
                           const char *key, const char *fingerprint, int64_t now_ms,
                           int64_t created_after_ms, job_store_idem_t *out, char *err);

/* Writes the key row (replacing an expired one). done: status/body are the
   response; not done: the row is in flight until hold_until_ms and status/body
   (status 0, body "" for none) are its fallback. 0 / -1. */
int job_store_idem_put (job_store_t *self, const char *account_id, const char *scope,
                        const char *key, const char *fingerprint, const char *object_id,
                        bool done, int32_t status, const char *body, int64_t hold_until_ms,
                        int64_t now_ms, char *err);

/* Stores the response of an in-flight row (state becomes done). A status
   outside 2xx deletes the row instead: a refused request changed nothing and
   may run again with the same key. 0; -1 with err "not found" when there is
   no in-flight row, or a SQLite reason. */
int job_store_idem_complete (job_store_t *self, const char *account_id, const char *scope,
                             const char *key, int32_t status, const char *body, char *err);

/* Deletes rows created before before_ms. Number deleted, -1 on error. */
int job_store_idem_sweep (job_store_t *self, int64_t before_ms, char *err);

/* ---- credits -------------------------------------------------------------------
   accounts.credits is the balance (JOB_STORE_UNLIMITED: no limit); every
   change is a ledger row. A render is charged once, when it becomes final
   (job_store_render_complete): one credit per succeeded image. */

typedef struct {
    char    account_id [PROTO_ID_MAX];
    char    name [128];
    bool    unlimited;
    int64_t balance;               /* 0 when unlimited */
    int64_t used;                  /* credits charged for renders, ever */
    int64_t reserved;              /* images of processing renders not failed or canceled */
} job_store_account_t;

typedef struct {
    int64_t     seq;
    int64_t     amount;            /* + grants and top-ups, - charges */
    int64_t     balance_after;
    bool        unlimited;         /* balance_after means nothing */
    const char *reason;            /* grant | topup | render */
    const char *render_id;         /* NULL unless reason is render */
    const char *note;              /* NULL when none */
    int64_t     created_at_ms;
} job_store_ledger_entry_t;

/* The account's balance, usage and reservation. 0; -1 with err "not found". */
int job_store_account_get (job_store_t *self, const char *account_id,
                           job_store_account_t *out, char *err);

/* Calls fn for the newest `limit` ledger entries, newest first. 0 / -1. */
int job_store_ledger_list (job_store_t *self, const char *account_id, int32_t limit,
                           void (*fn) (const job_store_ledger_entry_t *e, void *arg), void *arg,
                           char *err);

/* 0 when the account can pay `images` more (unlimited, or images <= balance
   - reserved); 1 when it cannot (available gets balance - reserved); -1 on error. */
int job_store_credits_check (job_store_t *self, const char *account_id, int64_t images,
                             int64_t *available, char *err);

/* Adds `amount` (1..JOB_STORE_CREDITS_MAX) to the account named by its acct_
   id, its full sk_ key or its listed key prefix, with a topup ledger row, in
   its own savepoint (works beside a running scheduler). balance_out gets the
   new balance. 0; -1 with err "no such account", "ambiguous prefix",
   "the account has unlimited credits" or a SQLite reason. */
#define JOB_STORE_CREDITS_MAX (INT64_MAX / 4)
int job_store_credits_add (job_store_t *self, const char *who, int64_t amount,
                           const char *note, char account_id [PROTO_ID_MAX],
                           int64_t *balance_out, char *err);

/* ---- list and cancel ------------------------------------------------------------ */

/* Ids of the account's renders newest first (by creation seq), at most
   `limit`, after render `starting_after` ("" or NULL: from the newest) into
   ids (room for limit). 0 with *n and *has_more; -1 with err "not found"
   when starting_after is not a render of the account, or a SQLite reason. */
int job_store_render_list (job_store_t *self, const char *account_id, int32_t limit,
                           const char *starting_after, char (*ids) [PROTO_ID_MAX],
                           int32_t *n, bool *has_more, char *err);

/* Cancels a processing render: queued and leased tasks become canceled (a
   late result for one is stale and ignored; a leased one still counts
   against its renderer's slots until then); the next settle completes the
   render as canceled and charges only succeeded images. 0; -1 with err
   "not found" (unknown or another account's) or "finished: <status>". */
int job_store_render_cancel (job_store_t *self, const char *render_id, const char *account_id,
                             int64_t now_ms, char *err);

/* Whether attempt `attempt` of task_id is held by `renderer` (its hex
   identity): leased to it, or canceled while it was drawing. Renderers'
   RESULT and FAIL are taken only from the holder, so a peer that joined the
   work socket cannot report for tasks it was not given. 1 held, 0 not, -1. */
int job_store_task_held_by (job_store_t *self, const char *task_id, int32_t attempt,
                            const char *renderer, char *err);

/* The renderer of a canceled task's current attempt answered (the answer is
   ignored): the slot it held is free. A no-op for any other task. 0 / -1. */
int job_store_task_release (job_store_t *self, const char *task_id, int32_t attempt, char *err);

/* The canceled tasks of render_id a renderer is still drawing (the ones
   job_store_render_cancel found leased): fn (renderer, task_id, attempt, arg)
   for each, grouped by renderer (its hex identity). 0 / -1 with err. */
int job_store_render_running (job_store_t *self, const char *render_id,
                              void (*fn) (const char *renderer, const char *task_id,
                                          int32_t attempt, void *arg),
                              void *arg, char *err);

/* Request ids for logs: the gateway request (X-Request-Id) that created a
   render or job. req_set records it ("" or NULL: nothing); req_get finds it
   by render/job id or by task id ("" when none). 0 / -1. */
int job_store_req_set (job_store_t *self, const char *object_id, const char *req, char *err);
int job_store_req_get (job_store_t *self, const char *object_id, char req [PROTO_ID_MAX]);

/* The render (or job) task_id belongs to, into render_id ("" when no task
   has that id). 0; -1 on a store error (render_id ""). */
int job_store_task_render (job_store_t *self, const char *task_id, char render_id [PROTO_ID_MAX]);

/* ---- storage --------------------------------------------------------------
   Inline images (CREATE_RENDER blobs) are recorded once in blobs and named by
   render_blobs while their render is processing; a final render's task specs
   are emptied and its render_blobs rows dropped. Retention deletes final
   renders (tasks, events, deliveries, request ids, idempotency keys) older
   than a cut-off; ledger rows stay, so balances stay their sum. Blobs nothing
   names are then collected: the caller deletes their files after COMMIT. */
#define JOB_STORE_SWEEP_MAX 256

/* The last error was SQLITE_FULL, or PostgreSQL's SQLSTATE 53100
   disk_full (the disk or the database is full). */
bool job_store_is_full (job_store_t *self);

/* The account's stored bytes into *bytes: the inline images of its
   processing renders plus every output its renders keep (a counter kept with
   each create, result, final state and expiry, so this is one row read).
   0 / -1. */
int job_store_storage_used (job_store_t *self, const char *account_id, int64_t *bytes, char *err);

/* Deletes up to limit (1..JOB_STORE_SWEEP_MAX) final renders completed
   before before_ms whose webhook is not still pending or retrying, oldest
   first, with what only they need. Number deleted,
   -1 on error (caller rolls back). */
int job_store_retention_sweep (job_store_t *self, int64_t before_ms, int32_t limit, char *err);

/* Deletes up to limit blob rows that no task and no processing render names
   and calls fn (sha256, arg) for each, so the caller removes the file once
   the transaction commits. Number deleted, -1 on error. */
int job_store_blob_gc (job_store_t *self, int32_t limit,
                       void (*fn) (const char *sha256, void *arg), void *arg, char *err);

/* 1 when a blob row sha256 exists, 0 when not, -1 on error. */
int job_store_blob_known (job_store_t *self, const char *sha256);

/* Puts a leased (task, attempt) back in the queue without counting the
   attempt (the scheduler could not store its result: disk full). 0 / -1. */
int job_store_task_unlease (job_store_t *self, const char *task_id, int32_t attempt, char *err);

/* Tests: lowers the number of statements the store may cache (at least the
   ones already cached). A statement past the cap fails with err "statement
   cache full", in every build. */
void job_store_stmt_cache_cap (job_store_t *self, int cap);

/* Tasks queued and leased now (metrics). 0 / -1. */
int job_store_task_state_counts (job_store_t *self, int64_t *queued, int64_t *leased);

/* ---- capture profiles (sqlite_profiles.c) -----------------------------------
   Named per account (name unique in it). The store keeps what the scheduler
   gives it: summary (JSON, no secret values) and sealed (the encrypted
   profile); it never sees a key or a plaintext secret. */

#define JOB_STORE_PROFILES_MAX  100    /* profiles one account may hold */

typedef struct {
    char     id [PROTO_ID_MAX];        /* cpr_... */
    char     name [128];
    int64_t  created_at_ms;
    char    *summary;                  /* heap when read: job_store_profile_free */
    uint8_t *sealed;
    size_t   sealed_len;
} job_store_profile_t;

/* Inserts p for account_id. 0; 1 when the account has a profile of that
   name; 2 when it holds JOB_STORE_PROFILES_MAX already; -1 with err. */
int job_store_profile_create (job_store_t *self, const char *account_id, const job_store_profile_t *p,
                              char *err);
/* The account's profile id into out (summary and sealed heap). 0; 1 when it
   has none of that id (another account's answers the same); -1 with err. */
int job_store_profile_get (job_store_t *self, const char *account_id, const char *id,
                           job_store_profile_t *out, char *err);
/* Calls fn for each of the account's profiles, oldest first (out's heap
   fields borrowed for the call; sealed not read). 0 / -1 with err. */
int job_store_profile_list (job_store_t *self, const char *account_id,
                            void (*fn) (const job_store_profile_t *p, void *arg), void *arg, char *err);
/* 0 deleted; 1 when the account has no such profile; -1 with err. */
int job_store_profile_delete (job_store_t *self, const char *account_id, const char *id, char *err);
void job_store_profile_free (job_store_profile_t *p);

/* Online backup (easel backup), SQLite only (on PostgreSQL: -1 with err
   saying to use pg_dump, nothing written): copies the whole database into `dest_path`
   with SQLite's backup API while other connections (the scheduler) keep
   writing; WAL readers do not block writers, so the copy is one consistent
   snapshot. Writes dest_path.tmp, checks it (quick_check), fsyncs and renames
   it over dest_path. 0; -1 with err (256 bytes) and no dest_path change. */
int job_store_backup (job_store_t *self, const char *dest_path, char *err);

#endif
