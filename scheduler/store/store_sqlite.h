/*  store_sqlite.h: what the SQLite backend's files (sqlite_*.c) share, and
    nothing outside scheduler/store/ may include: the handle's struct, the
    statement cache and binding helpers, the savepoint, and the few
    functions one concern's file calls in another's. The public contract is
    job_store.h; these helpers follow its conventions (0 / -1 with err
    filled, 256 bytes).
    Thread: the handle's. Memory: statements belong to the handle. */
#ifndef EASEL_STORE_SQLITE_H
#define EASEL_STORE_SQLITE_H

/* every job_store_* this backend defines is sqlite_store_* (store_ops.h) */
#define STORE_FN(name) sqlite_store_##name
#include "store_names.h"
#include "store_backend.h"
#include "store_ops.h"
#include "util.h"

#include <sqlite3.h>
#include <sodium.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_ERR_MAX    256
#define STORE_PATH_MAX   4096
#define S_STMT_CACHE     200          /* distinct SQL statements; raise when adding more */

struct _job_store_t {
    store_head_t head;             /* first: the dispatcher's ops table */
    sqlite3 *db;
    char url_secret [65];          /* hex of 32 random bytes, kept in meta */
    struct { const char *sql; sqlite3_stmt *stmt; } cache [S_STMT_CACHE];
    int ncache;
    int cache_cap;                 /* S_STMT_CACHE; lowered only by tests */
    bool cache_full;               /* the last store_stmt failed because the cache was full */
};

/* Copies msg into err (when not NULL). */
void store_set_err (char *err, const char *msg);

/* Fills err with the last SQLite error (or "statement cache full") and
   returns -1, so a failure path reads `return store_fail (self, err);`. */
int store_fail (job_store_t *self, char *err);

/* The cached statement for `sql` (a string literal: the cache is keyed by
   its address), reset and bound per fmt: 's' text (NULL binds NULL),
   'i' int64_t, 'b' blob (const void *, size_t). NULL on a prepare or bind
   error or a full cache (store_fail then says which). */
sqlite3_stmt *store_stmt (job_store_t *self, const char *sql, const char *fmt, ...);

/* Runs a statement that returns no rows. 0 / -1 (err filled). */
int store_run (job_store_t *self, char *err, const char *sql, const char *fmt, ...);

/* Text column i into dst (cap size), "" for NULL; store_col_dup: a heap
   copy (the caller's), NULL for NULL or out of memory. */
void  store_col_copy (sqlite3_stmt *st, int i, char *dst, size_t size);
char *store_col_dup (sqlite3_stmt *st, int i);

/* `what` (SAVEPOINT, RELEASE or ROLLBACK TO) on the savepoint "acct": atomic
   alone (the CLI), nested inside the scheduler's pass transaction. 0 / -1. */
int store_savepoint (job_store_t *self, const char *what);

/* sqlite_accounts.c: books the charge of a render that just became final
   (job_store_render_complete calls it). 0 / -1. */
int store_render_charge (job_store_t *self, const char *render_id, int64_t now_ms, char *err);

/* sqlite_review.c: the review row of r->id into r's review fields, with a
   link signed for its current generation. 0 / -1. */
int store_review_fill (job_store_t *self, int64_t now_ms, proto_render_t *r, char *err);

#endif
