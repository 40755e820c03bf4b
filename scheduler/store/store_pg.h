/*  store_pg.h: what the PostgreSQL backend's files (pg_*.c) share, and
    nothing outside scheduler/store/ (and its tests) may include: the
    handle's struct, the prepared-statement cache and its binding format,
    column readers, the account savepoint, the schema's migrations, and the
    few functions one concern's file calls in another's. The public
    contract is job_store.h; these helpers follow its conventions (0 / -1
    with err filled, 256 bytes). Every value travels as a parameter ($1,
    $2, ...) of a statement prepared once per connection; no SQL is built
    from values.
    Thread: the handle's. Memory: results are the caller's (PQclear). */
#ifndef EASEL_STORE_PG_H
#define EASEL_STORE_PG_H

/* every job_store_* this backend defines is pg_store_* (store_ops.h) */
#define STORE_FN(name) pg_store_##name
#include "store_names.h"
#include "store_backend.h"
#include "store_ops.h"
#include "util.h"

#include "pg_schema.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_ERR_MAX     256
#define PG_STMT_CACHE     200         /* distinct SQL statements; raise when adding more */
#define PG_PARAMS_MAX     16          /* parameters of one statement */
#define PG_CONNECT_TIMEOUT_S 10       /* libpq connect_timeout when the URL sets none */
#define PG_TCP_USER_TIMEOUT_MS 5000   /* libpq tcp_user_timeout when the URL sets none */
#define PG_PIPELINE_MAX   256         /* statements sent ahead of their answers; more waits for them */
#define PG_AHEAD_MAX      4           /* reads sent ahead of the one a caller waits for */
#define PG_KEPT_MAX       16          /* answers of pg_query_kept held for the rest of a pass */
#define PG_IDLE_TXN_LEASES 2          /* the server ends a fenced session idle in a transaction
                                         this many lease times (job_store_lease_fence) */

struct _job_store_t {
    store_head_t head;             /* first: the dispatcher's ops table */
    PGconn *conn;
    char url_secret [65];          /* hex of 32 random bytes, kept in meta */
    /* prepared statements, keyed by the address of their SQL literal and
       named s<index> on the connection */
    const char *cache [PG_STMT_CACHE];
    char cache_state [PG_STMT_CACHE];  /* PG_PREP_*: prepared, sent in the pipeline, or to send */
    int ncache;
    int cache_cap;                 /* PG_STMT_CACHE; lowered only by tests */
    bool cache_full;               /* the last statement failed because the cache was full */
    int64_t changes;               /* rows the last pg_run changed */
    char sqlstate [6];             /* of the last failed statement, "" when none */
    bool sp_own;                   /* the open account savepoint is a whole transaction */
    /* the fence every commit checks (job_store_lease_fence); token 0: none */
    char lease_holder [JOB_STORE_LEASE_HOLDER_MAX];
    int64_t lease_token, lease_ttl_ms;
    bool session_set;              /* this connection has the fenced session's settings */
    /* the pass's pipeline (libpq pipeline mode, from job_store_begin to its
       commit or rollback): what was sent and is not answered yet, in order,
       and the first failure among the answers, which fails the pass */
    bool in_pass;                  /* job_store_begin ran; commit or rollback ends it */
    int sp_depth;                  /* an account savepoint is open: statements wait for answers */
    struct { char kind; int slot; } pend [PG_PIPELINE_MAX + 4];
    int npend;
    struct { int slot; uint64_t hash; PGresult *res; } ahead [PG_AHEAD_MAX];
    int nahead;                    /* answers of pg_query_ahead, taken by the pg_query after */
    /* answers of pg_query_kept this pass: each read again until a statement
       naming its table is sent (or the pass ends) */
    struct { int slot; uint64_t hash; const char *table; PGresult *res; } kept [PG_KEPT_MAX];
    int nkept;
    bool pipe_failed;
    bool fence_lost;               /* the pass's fence found another scheduler's lease */
    char pipe_err [STORE_ERR_MAX];
};

#define PG_PREP_NONE 0             /* not on the connection: prepare before use */
#define PG_PREP_SENT 1             /* its prepare is in the pipeline, unanswered */
#define PG_PREP_DONE 2

/* Copies msg into err (when not NULL). */
void pg_set_err (char *err, const char *msg);

/* Fills err with the failure of res (or the connection's, res NULL, or
   "statement cache full"), remembers its SQLSTATE, clears res and returns
   -1, so a failure path reads `return pg_fail (self, res, err);`. */
int pg_fail (job_store_t *self, PGresult *res, char *err);

/* Runs the statement `sql` (a string literal: the cache is keyed by its
   address) with parameters per fmt: 's' text (const char *, NULL is
   NULL), 'i' int64_t, 'b' bytea (const void *, size_t). pg_query: a result
   with rows (the caller's, PQclear), NULL on failure (err filled); in a
   pass it first takes the answers of everything sent before it (one round
   trip for all), and fails when one of them failed. pg_run: a statement
   whose rows and count nobody reads; in a pass (outside an account
   savepoint) it is only sent, and a failure fails the pass at its next
   read or its commit (which then rolls everything back), so 0 means "sent"
   there; elsewhere it runs at once. pg_run_now: runs at once (in a pass,
   with everything sent before it) and self->changes gets the rows it
   changed. 0 / -1. */
PGresult *pg_query (job_store_t *self, char *err, const char *sql, const char *fmt, ...);
int pg_run (job_store_t *self, char *err, const char *sql, const char *fmt, ...);
int pg_run_now (job_store_t *self, char *err, const char *sql, const char *fmt, ...);
/* In a pass: sends the read sql now, so that the pg_query of the same sql
   and arguments that follows takes its answer in the round trip of the
   first read after it instead of one of its own (a read that does not
   follow runs as usual; reads sent ahead are taken in order, and one
   skipped by a later one's read is dropped). Outside a pass: nothing. */
void pg_query_ahead (job_store_t *self, const char *sql, const char *fmt, ...);

/* pg_query for a read of the one table `table` (a literal) that the
   pass's many messages repeat (an API key, an account's credits): in a
   pass, its answer is kept and a later pg_query_kept of the same sql and
   arguments is answered from it (a copy, the caller's) with no round trip,
   until any statement that may write and whose SQL names `table` (or one
   of several written "a|b") is sent (a write to
   it, or a read that may lock it), a command (BEGIN, SAVEPOINT, ROLLBACK
   TO, ...) runs, or the pass ends. The pass is one transaction, so what it
   reads again is what it read before plus its own writes, and those drop
   the answer; a commit of another session in between is seen as if it
   came after the pass (as SQLite's snapshot of a pass would). Outside a
   pass: pg_query. */
PGresult *pg_query_kept (job_store_t *self, char *err, const char *table, const char *sql,
                         const char *fmt, ...);

/* A parameterless command (BEGIN, COMMIT, ...). 0 / -1 (err filled). */
int pg_exec (job_store_t *self, const char *sql, char *err);

/* Column readers of row r, column c: pg_i64 0 for NULL (and 1/0 for a
   boolean t/f); pg_copy "" for NULL, into dst (cap size); pg_dup a heap
   copy (the caller's), NULL for NULL or out of memory; pg_text the value
   borrowed from res, NULL for NULL; pg_bytea a heap copy of a bytea into
   *out (the caller's, never NULL on success) and *len. 0 / -1 (memory). */
int64_t     pg_i64 (const PGresult *res, int r, int c);
void        pg_copy (const PGresult *res, int r, int c, char *dst, size_t size);
char       *pg_dup (const PGresult *res, int r, int c);
const char *pg_text (const PGresult *res, int r, int c);
int         pg_bytea (const PGresult *res, int r, int c, uint8_t **out, size_t *len);

/* The account savepoint: atomic alone (the CLI: a transaction of its own)
   and nested inside the scheduler's pass transaction (a savepoint).
   pg_sp_begin, then pg_sp_end with ok false to undo. 0 / -1. */
int pg_sp_begin (job_store_t *self, char *err);
int pg_sp_end (job_store_t *self, bool ok, char *err);

/* the schema's migrations: pg_schema.h */

/* ---- between concerns -------------------------------------------------------- */

/* pg_accounts.c: books the charge of a render that just became final. 0 / -1. */
int pg_render_charge (job_store_t *self, const char *render_id, int64_t now_ms, char *err);

/* pg_review.c: the review row of r->id into r's review fields, with a link
   signed for its current generation. 0 / -1. */
int pg_review_fill (job_store_t *self, int64_t now_ms, proto_render_t *r, char *err);
/* pg_review.c: the same for a render with no reviews row yet (one made in
   this transaction: generation 0, pending), without reading. 0. */
int pg_review_fill_new (job_store_t *self, int64_t now_ms, proto_render_t *r);
/* pg_files.c: the statement job_store_storage_used reads with ($1 the
   account id), for pg_query_ahead. */
extern const char PG_STORED_BYTES_OF_ACCOUNT [];
/* pg_review.c: the statement pg_review_fill reads with ($1 the render id),
   for pg_query_ahead. */
extern const char PG_REVIEW_OF_RENDER [];

#endif
