/*  sqlite_schema.c: the SQLite schema as an ordered list of migrations
    (store_schema.h) and the function that applies them at open.
    A schema change is a new step at the end of store_migrations with the
    next version and STORE_SCHEMA_VERSION raised to it; a step that
    shipped is never edited. Version 1 is the schema as the unversioned
    store left it: a database from before versions (user_version 0 with
    tables) first gets the columns the old store added with ALTER TABLE
    probes (s_legacy_columns), then the version 1 script, whose statements
    all say IF NOT EXISTS, creates whatever else it lacks.
    A step that rebuilds a table must not run under foreign_keys=ON
    (open sets it); say so in the step and switch it off around the step.
    Thread: the caller's. Memory: nothing is allocated but SQLite's. */
#include "store_schema.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define S_ERR_MAX 256

/* ---- version 1: accounts, renders and tasks, the outbox, ledger,
   idempotency keys, request ids, inline images, reviews, uploaded files ---- */

static const char s_v1 [] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    /* stored_bytes: inline images of processing renders plus every stored
       output, kept as a counter so the quota check is one row read */
    "CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  webhook_secret TEXT NOT NULL, credits INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    "  stored_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS api_keys (hash TEXT PRIMARY KEY, prefix TEXT NOT NULL,"
    "  account_id TEXT NOT NULL REFERENCES accounts(id), created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS api_keys_prefix ON api_keys(prefix);"
    "CREATE TABLE IF NOT EXISTS renders (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL REFERENCES accounts(id),"
    "  status TEXT NOT NULL, created_at INTEGER NOT NULL, completed_at INTEGER NOT NULL DEFAULT 0,"
    "  total INTEGER NOT NULL, webhook_url TEXT, webhook_status TEXT NOT NULL,"
    "  metadata TEXT NOT NULL, inline_bytes INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS renders_status ON renders(status);"
    "CREATE INDEX IF NOT EXISTS renders_account_status ON renders(account_id, status);"
    "CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL,"
    "  content_type TEXT NOT NULL);"
    /* findings: the lint report (JSON); price: credits a succeeded task
       costs (1 per render image; a capture 3 for a page, 1 for a framed
       image URL); cache_key, cached, thumb: the image cache (store_cache_key) */
    "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY,"
    "  render_id TEXT NOT NULL REFERENCES renders(id), render_seq INTEGER NOT NULL,"
    "  idx INTEGER NOT NULL, slide INTEGER NOT NULL, locale TEXT NOT NULL, preset TEXT NOT NULL,"
    "  width INTEGER NOT NULL, height INTEGER NOT NULL, format TEXT NOT NULL, spec BLOB NOT NULL,"
    "  state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, renderer TEXT,"
    "  lease_expires_ms INTEGER NOT NULL DEFAULT 0, error_code TEXT, error_message TEXT,"
    "  error_param TEXT, sha256 TEXT REFERENCES blobs(sha256), bytes INTEGER NOT NULL DEFAULT 0,"
    "  findings TEXT, price INTEGER NOT NULL DEFAULT 1, input_sha256 TEXT, cache_key TEXT,"
    "  cached INTEGER NOT NULL DEFAULT 0, thumb TEXT);"
    "CREATE INDEX IF NOT EXISTS tasks_queue ON tasks(state, render_seq, idx);"
    "CREATE INDEX IF NOT EXISTS tasks_render ON tasks(render_id, idx);"
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, account_id TEXT NOT NULL,"
    "  object_id TEXT NOT NULL, created_at INTEGER NOT NULL, payload TEXT NOT NULL);"
    /* one delivery per event: its id is the event id (the webhook-id header) */
    "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY,"
    "  event_seq INTEGER NOT NULL REFERENCES events(seq), account_id TEXT NOT NULL,"
    "  url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  last_status_code INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries(event_seq);"
    "CREATE TABLE IF NOT EXISTS delivery_attempts (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  delivery_id TEXT NOT NULL REFERENCES deliveries(id), at INTEGER NOT NULL,"
    "  status_code INTEGER NOT NULL, latency_ms INTEGER NOT NULL, error TEXT,"
    "  response_head TEXT);"
    "CREATE INDEX IF NOT EXISTS delivery_attempts_delivery ON delivery_attempts(delivery_id);"
    /* webhook secret rotation: old secrets still sign until valid_until (ms) */
    "CREATE TABLE IF NOT EXISTS webhook_secrets_old (account_id TEXT NOT NULL,"
    "  secret TEXT NOT NULL, valid_until INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS webhook_secrets_old_account ON webhook_secrets_old(account_id);"
    /* opt-in ed25519 signing: base64 keys, enabled 0/1 */
    "CREATE TABLE IF NOT EXISTS webhook_keys (account_id TEXT PRIMARY KEY,"
    "  public_key TEXT NOT NULL, secret_key TEXT NOT NULL, enabled INTEGER NOT NULL);"
    /* the ledger is append-only: sum(amount) of an account with a balance
       equals its balance */
    "CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account_id TEXT NOT NULL REFERENCES accounts(id), amount INTEGER NOT NULL,"
    "  balance_after INTEGER, reason TEXT NOT NULL, render_id TEXT, note TEXT,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS ledger_account ON ledger(account_id, seq);"
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_render ON ledger(render_id) WHERE render_id IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS renders_account ON renders(account_id, seq);"
    "CREATE TABLE IF NOT EXISTS idempotency_keys (account_id TEXT NOT NULL, scope TEXT NOT NULL,"
    "  key TEXT NOT NULL, fingerprint TEXT NOT NULL, object_id TEXT NOT NULL, state TEXT NOT NULL,"
    "  status INTEGER NOT NULL, body TEXT NOT NULL, hold_until INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, PRIMARY KEY (account_id, scope, key));"
    "CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys(created_at);"
    /* the gateway request (X-Request-Id) that created a render, for logs */
    "CREATE TABLE IF NOT EXISTS request_ids (object_id TEXT PRIMARY KEY, req TEXT NOT NULL);"
    /* inline images a processing render uses, stored once (blobs), until it is final */
    "CREATE TABLE IF NOT EXISTS render_blobs (render_id TEXT NOT NULL, sha256 TEXT NOT NULL,"
    "  PRIMARY KEY (render_id, sha256));"
    "CREATE INDEX IF NOT EXISTS render_blobs_sha ON render_blobs(sha256);"
    "CREATE INDEX IF NOT EXISTS tasks_sha ON tasks(sha256);"
    "CREATE INDEX IF NOT EXISTS renders_completed ON renders(completed_at) WHERE status <> 'processing';"
    /* the review gate: a render without a row is pending with link generation 0;
       link_gen is signed into every review link, so raising it revokes them */
    "CREATE TABLE IF NOT EXISTS reviews (render_id TEXT PRIMARY KEY, status TEXT NOT NULL,"
    "  comment TEXT, by_name TEXT, decided_at INTEGER NOT NULL DEFAULT 0,"
    "  link_gen INTEGER NOT NULL DEFAULT 0);"
    /* uploaded files (job_store_upload_*): the row pins its blob until it expires */
    "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, width INTEGER NOT NULL,"
    "  height INTEGER NOT NULL, format TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL, UNIQUE (account_id, sha256));"
    "CREATE INDEX IF NOT EXISTS files_sha ON files(sha256);"
    "CREATE INDEX IF NOT EXISTS files_expires ON files(expires_at);"
    "CREATE INDEX IF NOT EXISTS tasks_input ON tasks(input_sha256) WHERE input_sha256 IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS tasks_cache ON tasks(cache_key) WHERE cache_key IS NOT NULL;"
    /* accounts made before the ledger get an opening entry */
    "INSERT INTO ledger (account_id, amount, balance_after, reason, note, created_at)"
    "  SELECT id, credits, credits, 'grant', 'opening balance', created_at FROM accounts a"
    "  WHERE credits > 0 AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.account_id = a.id);";

/* The columns the unversioned store added to its first tables with ALTER
   TABLE, in the order it added them, and what it then filled in. */
static const struct {
    const char *table, *column, *decl, *backfill;
} s_legacy [] = {
    { "tasks", "findings", "TEXT", NULL },
    { "tasks", "price", "INTEGER NOT NULL DEFAULT 1", NULL },
    { "tasks", "input_sha256", "TEXT", NULL },
    { "renders", "inline_bytes", "INTEGER NOT NULL DEFAULT 0", NULL },
    { "accounts", "stored_bytes", "INTEGER NOT NULL DEFAULT 0",
      "UPDATE accounts SET stored_bytes = (SELECT coalesce(sum(t.bytes), 0)"
      " FROM renders r JOIN tasks t ON t.render_id = r.id WHERE r.account_id = accounts.id)" },
    { "tasks", "cache_key", "TEXT", NULL },
    { "tasks", "cached", "INTEGER NOT NULL DEFAULT 0", NULL },
    { "tasks", "thumb", "TEXT", NULL },
};

static void
s_err_db (char *err, sqlite3 *db, const char *what)
{
    if (err)
        snprintf (err, S_ERR_MAX, "%s: %s", what, sqlite3_errmsg (db));
}

/* 1 when table has column (column NULL: when the table exists), 0 when not,
   -1 on error. */
static int
s_has (sqlite3 *db, const char *table, const char *column)
{
    sqlite3_stmt *st = NULL;
    int rc = column
        ? sqlite3_prepare_v2 (db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
                              -1, &st, NULL)
        : sqlite3_prepare_v2 (db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                  " AND name = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return -1;
    sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
    if (column)
        sqlite3_bind_text (st, 2, column, -1, SQLITE_STATIC);
    int have = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int (st, 0) > 0 : -1;
    sqlite3_finalize (st);
    return have;
}

/* Before version 1: a table the unversioned store made gets the columns it
   lacks (a new database has no tables yet, and nothing happens). */
static int
s_legacy_columns (sqlite3 *db, char *err)
{
    for (size_t i = 0; i < sizeof s_legacy / sizeof s_legacy [0]; i++) {
        int table = s_has (db, s_legacy [i].table, NULL);
        int column = table == 1 ? s_has (db, s_legacy [i].table, s_legacy [i].column) : 1;
        if (table < 0 || column < 0) {
            s_err_db (err, db, "reading the schema");
            return -1;
        }
        if (column == 1)
            continue;
        char sql [256];
        snprintf (sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", s_legacy [i].table,
                  s_legacy [i].column, s_legacy [i].decl);
        if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK
        ||  (s_legacy [i].backfill
          && sqlite3_exec (db, s_legacy [i].backfill, NULL, NULL, NULL) != SQLITE_OK)) {
            s_err_db (err, db, sql);
            return -1;
        }
    }
    return 0;
}

/* ---- version 2: capture profiles (sqlite_profiles.c): the secret part
   sealed (nonce || XChaCha20-Poly1305 ciphertext) by the scheduler with
   the operator's key; summary is what GET shows (names, not values) ---- */

static const char s_v2 [] =
    "CREATE TABLE capture_profiles (id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, summary TEXT NOT NULL, sealed BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL, UNIQUE (account_id, name));";

/* ---- version 3: a task's second input, its uploaded background image
   (background.image.file_id), pinned like input_sha256 until the task is
   final (job_store_blob_gc) ---- */

static const char s_v3 [] =
    "ALTER TABLE tasks ADD COLUMN bg_input_sha256 TEXT;"
    "CREATE INDEX tasks_bg_input ON tasks(bg_input_sha256) WHERE bg_input_sha256 IS NOT NULL;";

/* ---- version 4: tasks.browser, a render task whose slide captures a page
   (screenshot.capture): leased only by renderers that capture ---- */

static const char s_v4 [] =
    "ALTER TABLE tasks ADD COLUMN browser INTEGER NOT NULL DEFAULT 0;";

/* ---- version 5: the image cache's index holds succeeded images only. The
   cache lookup at create (s_cache_serve in sqlite_renders.c) asks for a
   succeeded image with the key; over tasks_cache, which held every keyed
   task, it walked each queued or failed task of that key too, so N creates
   of one picture cost O(N^2) (bench/api.py: 450 creates/s). A task enters
   this index when it succeeds, never at create ---- */

static const char s_v5 [] =
    "DROP INDEX IF EXISTS tasks_cache;"
    "CREATE INDEX tasks_cache_done ON tasks(cache_key)"
    " WHERE cache_key IS NOT NULL AND state = 'succeeded';";

/* ---- version 6: the active scheduler's lease. Kept by the PostgreSQL
   backend, where it is the arbiter between schedulers on one database (a
   holder, a fencing token that grows with each new holder, an expiry);
   here the data dir's lock arbitrates and the table stays empty, so both
   backends keep one schema ---- */

static const char s_v6 [] =
    "CREATE TABLE scheduler_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL,"
    "  token INTEGER NOT NULL, expires_at INTEGER NOT NULL);";

const store_migration_t store_migrations [] = {
    { 1, s_v1, s_legacy_columns },
    { 2, s_v2, NULL },
    { 3, s_v3, NULL },
    { 4, s_v4, NULL },
    { 5, s_v5, NULL },
    { 6, s_v6, NULL },
};
const int store_migrations_n = sizeof store_migrations / sizeof store_migrations [0];

/* ---- applying them ------------------------------------------------------ */

int
store_schema_version (sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int v = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int (st, 0) : -1;
    sqlite3_finalize (st);
    return v;
}

/* Applies steps[i] if db is at version i; 1 when db was at or past it
   already, 0 applied, -1 failed (rolled back, err filled). */
static int
s_step (sqlite3 *db, const store_migration_t *steps, int n, int i, char *err)
{
    if (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        s_err_db (err, db, "schema migration: begin");
        return -1;
    }
    int v = store_schema_version (db);
    if (v < 0 || v > steps [n - 1].version) {
        if (v < 0)
            s_err_db (err, db, "reading the schema version");
        else
        if (err)
            snprintf (err, S_ERR_MAX, "the database is at schema version %d, newer than this"
                      " Easel's %d: run the Easel that wrote it, or restore a backup",
                      v, steps [n - 1].version);
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if (v >= steps [i].version) {
        sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
        return 1;
    }
    char set [64];
    snprintf (set, sizeof set, "PRAGMA user_version = %d", steps [i].version);
    char why [S_ERR_MAX] = "";
    if ((steps [i].before && steps [i].before (db, why) != 0)
    ||  (steps [i].sql && sqlite3_exec (db, steps [i].sql, NULL, NULL, NULL) != SQLITE_OK)
    ||  sqlite3_exec (db, set, NULL, NULL, NULL) != SQLITE_OK
    ||  sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        if (err)
            snprintf (err, S_ERR_MAX, "schema migration to version %d failed: %.180s",
                      steps [i].version, why [0] ? why : sqlite3_errmsg (db));
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int
store_schema_migrate (sqlite3 *db, const store_migration_t *steps, int n, char *err)
{
    assert (db && steps && n > 0);
    for (int i = 0; i < n; i++)
        if (steps [i].version != i + 1) {
            if (err)
                snprintf (err, S_ERR_MAX, "schema migrations are not numbered 1..%d"
                          " (step %d says %d)", n, i + 1, steps [i].version);
            return -1;
        }
    /* a current database costs one read and no write lock */
    int v = store_schema_version (db);
    if (v == steps [n - 1].version)
        return 0;
    /* the version is read again in each step's write transaction, so a
       second process opening the same data dir waits, then skips what is
       done; a newer database is refused there */
    for (int i = 0; i < n; i++)
        if (s_step (db, steps, n, i, err) < 0)
            return -1;
    return 0;
}
