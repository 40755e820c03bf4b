/*  store_backend.h: what a store backend provides beyond job_store.h, and
    what every backend shares (store_keys.c). job_store.h is the one store
    interface; a backend is a set of files that defines every row of
    store_ops.h under its own prefix (SQLite: scheduler/store/sqlite_*.c,
    the embedded default; PostgreSQL: scheduler/store/pg_*.c), and both
    link into every program: job_store_open (store_dispatch.c) picks one by
    EASEL_DATABASE_URL. Adding a backend is adding its files, its table and
    its open; no caller changes.
    Thread: the handle's. Memory: nothing here allocates. */
#ifndef EASEL_STORE_BACKEND_H
#define EASEL_STORE_BACKEND_H

#include "job_store.h"

/* The handle's URL secret (hex, NUL-terminated, kept by the backend with the
   data so every process on the same data signs alike). Borrowed. */
const char *store_url_secret (job_store_t *self);

/* The backends' opens. store_sqlite_open: <data_dir>/easel.db;
   store_pg_open: the PostgreSQL database of a libpq URL
   (postgres://user:password@host:port/dbname?sslmode=...). as_is false:
   job_store_open's contract (made if missing, migrated); true:
   job_store_open_beside's (nothing made or migrated, another schema
   version refused naming both). NULL with err (256 bytes). */
job_store_t *store_sqlite_open (const char *data_dir, bool as_is, char *err);
job_store_t *store_pg_open (const char *url, bool as_is, char *err);

/* The backend's own connection, for store_copy.c: the SQLite handle of a
   SQLite store, the libpq connection of a PostgreSQL one; NULL when self
   is the other backend's. Borrowed. */
struct sqlite3;
struct pg_conn;
struct sqlite3 *store_sqlite_db (job_store_t *self);
struct pg_conn *store_pg_conn (job_store_t *self);

/* True when url names PostgreSQL (postgres:// or postgresql://). */
bool store_url_is_pg (const char *url);

/* "sqlite" or "postgresql": the handle's backend. Borrowed, static. */
const char *store_backend_name (job_store_t *self);

/* store_keys.c: the image cache key of a render task (hex sha256 of the
   drawing version and the spec) into key; false when an input is fetched by
   URL (not named by content) or the spec does not decode. */
bool store_cache_key (const proto_task_spec_t *t, char key [65]);

/* store_keys.c: the render a create just wrote, as job_store_render_get
   reads it back, without reading it: store_made_init the head (made zeroed
   by the caller, room for every task; 0, or -1 out of memory, made then
   freed by the caller), store_made_image each task queued, in order (the
   image, for the backend to mark one the image cache served). */
int store_made_init (proto_render_t *made, const char *render_id, const char *account_id,
                     const proto_create_render_t *req, int64_t now_ms);
proto_image_t *store_made_image (proto_render_t *made, const char *task_id, const proto_task_spec_t *t);

#endif
