/*  test_store_schema.c: the store's versioned schema (store/store_schema.h).
    A database the unversioned store made (its CREATE statements and ALTER
    TABLE probes are copied below as fixtures, one as it ended and one from
    before the ledger) is recognised, brought to STORE_SCHEMA_VERSION with
    its rows intact and ends with the same tables, columns and indexes as a
    new one; a version 2 database gains version 3's background input column
    and version 4's browser flag
    with its rows and tasks intact; a version 4 database's image cache index
    becomes version 5's, of succeeded images only; a database of a newer
    schema is refused and left alone; the
    migration runner applies steps in order, one transaction each, and a
    failing step leaves the version before it.
    Single thread; every failure says what was expected. */
#include "check.h"
#include "job_store.h"
#include "store/store_schema.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fixtures: the unversioned store's schema, as job_store.c had it ---- */

static const char *s_old_schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  webhook_secret TEXT NOT NULL, credits INTEGER NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS api_keys (hash TEXT PRIMARY KEY, prefix TEXT NOT NULL,"
    "  account_id TEXT NOT NULL REFERENCES accounts(id), created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS api_keys_prefix ON api_keys(prefix);"
    "CREATE TABLE IF NOT EXISTS renders (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL REFERENCES accounts(id),"
    "  status TEXT NOT NULL, created_at INTEGER NOT NULL, completed_at INTEGER NOT NULL DEFAULT 0,"
    "  total INTEGER NOT NULL, webhook_url TEXT, webhook_status TEXT NOT NULL,"
    "  metadata TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS renders_status ON renders(status);"
    "CREATE INDEX IF NOT EXISTS renders_account_status ON renders(account_id, status);"
    "CREATE TABLE IF NOT EXISTS blobs (sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL,"
    "  content_type TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY,"
    "  render_id TEXT NOT NULL REFERENCES renders(id), render_seq INTEGER NOT NULL,"
    "  idx INTEGER NOT NULL, slide INTEGER NOT NULL, locale TEXT NOT NULL, preset TEXT NOT NULL,"
    "  width INTEGER NOT NULL, height INTEGER NOT NULL, format TEXT NOT NULL, spec BLOB NOT NULL,"
    "  state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, renderer TEXT,"
    "  lease_expires_ms INTEGER NOT NULL DEFAULT 0, error_code TEXT, error_message TEXT,"
    "  error_param TEXT, sha256 TEXT REFERENCES blobs(sha256), bytes INTEGER NOT NULL DEFAULT 0);"
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
    "  public_key TEXT NOT NULL, secret_key TEXT NOT NULL, enabled INTEGER NOT NULL);";

/* Credits ledger and idempotency keys (see job_store.h). The ledger is
   append-only: sum(amount) of an account with a balance equals its balance;
   the last statement books an opening entry for accounts made before it. */
static const char *s_old_schema_ledger =
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
    "INSERT INTO ledger (account_id, amount, balance_after, reason, note, created_at)"
    "  SELECT id, credits, credits, 'grant', 'opening balance', created_at FROM accounts a"
    "  WHERE credits > 0 AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.account_id = a.id);";

/* Uploaded files (job_store_upload_*): the row pins its blob until it expires. */
static const char *s_old_schema_files =
    "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, width INTEGER NOT NULL,"
    "  height INTEGER NOT NULL, format TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL, UNIQUE (account_id, sha256));"
    "CREATE INDEX IF NOT EXISTS files_sha ON files(sha256);"
    "CREATE INDEX IF NOT EXISTS files_expires ON files(expires_at);";

/* The ALTER TABLE probes of the unversioned store, in its order, with the
   backfill and the two indexes it made after them. */
static const char *s_old_alters =
    "ALTER TABLE tasks ADD COLUMN findings TEXT;"
    "ALTER TABLE tasks ADD COLUMN price INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE tasks ADD COLUMN input_sha256 TEXT;"
    "ALTER TABLE renders ADD COLUMN inline_bytes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;"
    "UPDATE accounts SET stored_bytes = (SELECT coalesce(sum(t.bytes), 0)"
    " FROM renders r JOIN tasks t ON t.render_id = r.id"
    " WHERE r.account_id = accounts.id);"
    "CREATE INDEX IF NOT EXISTS tasks_input ON tasks(input_sha256)"
    " WHERE input_sha256 IS NOT NULL;"
    "ALTER TABLE tasks ADD COLUMN cache_key TEXT;"
    "ALTER TABLE tasks ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tasks ADD COLUMN thumb TEXT;"
    "CREATE INDEX IF NOT EXISTS tasks_cache ON tasks(cache_key)"
    " WHERE cache_key IS NOT NULL;";

#define S_KEY    "sk_0123456789abcdef0123456789abcdef01234567"
#define S_SECRET "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7"

/* Rows every fixture has: an account with a key and 10 credits, a render
   of two succeeded images (200 + 300 bytes), an event with a delivery. */
static const char *s_rows_common =
    "INSERT INTO meta VALUES ('url_secret', '" S_SECRET "');"
    "INSERT INTO accounts (id, name, webhook_secret, credits, created_at)"
    " VALUES ('acct_old', 'old', 'whsec_old', 10, 1000);"
    "INSERT INTO blobs VALUES ('aa', 200, 'image/png'), ('bb', 300, 'image/png');"
    "INSERT INTO renders (id, account_id, status, created_at, completed_at, total, webhook_url,"
    " webhook_status, metadata) VALUES ('rnd_old', 'acct_old', 'succeeded', 2000, 3000, 2,"
    " 'https://example.com/hook', 'delivered', '{\"release\":\"7\"}');"
    "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale, preset, width, height,"
    " format, spec, state, attempt, sha256, bytes) VALUES"
    " ('img_old0', 'rnd_old', 1, 0, 0, 'en-US', 'play.phone', 1080, 1920, 'png', x'', 'succeeded', 1, 'aa', 200),"
    " ('img_old1', 'rnd_old', 1, 1, 1, 'de-DE', 'play.phone', 1080, 1920, 'png', x'', 'succeeded', 1, 'bb', 300);"
    "INSERT INTO events (id, type, account_id, object_id, created_at, payload)"
    " VALUES ('evt_old', 'render.succeeded', 'acct_old', 'rnd_old', 3000, '{}');"
    "INSERT INTO deliveries (id, event_seq, account_id, url, status, attempts, updated_at)"
    " VALUES ('evt_old', 1, 'acct_old', 'https://example.com/hook', 'delivered', 1, 3001);";

/* Rows of tables the early store did not have yet. */
static const char *s_rows_late =
    "UPDATE accounts SET stored_bytes = 500;"
    "INSERT INTO ledger (account_id, amount, balance_after, reason, note, created_at)"
    " VALUES ('acct_old', 10, 10, 'grant', 'account created', 1000);"
    "INSERT INTO idempotency_keys VALUES ('acct_old', 'POST /v1/renders', 'k1', 'fp1',"
    " 'rnd_old', 'done', 202, '{\"id\":\"rnd_old\"}', 0, 2000);"
    "INSERT INTO reviews (render_id, status, by_name, decided_at) VALUES"
    " ('rnd_old', 'approved', 'ana', 3500);";

static void
s_exec (sqlite3 *db, const char *sql, const char *what)
{
    char *msg = NULL;
    REQUIRE (sqlite3_exec (db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", what,
             msg ? msg : "?");
}

static sqlite3 *
s_raw (const char *dir)
{
    char path [512];
    snprintf (path, sizeof path, "%s/easel.db", dir);
    sqlite3 *db = NULL;
    REQUIRE (sqlite3_open (path, &db) == SQLITE_OK, "open %s", path);
    return db;
}

static int64_t
s_int (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    REQUIRE (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK, "prepare %s: %s", sql,
             sqlite3_errmsg (db));
    int64_t v = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : -1;
    sqlite3_finalize (st);
    return v;
}

/* Every table's columns (name, type, not null, default, key) and every
   index's table and SQL, one line each, into out (cap size). */
static void
s_schema_text (const char *dir, char *out, size_t size)
{
    sqlite3 *db = s_raw (dir);
    sqlite3_stmt *st = NULL;
    REQUIRE (sqlite3_prepare_v2 (db,
        "SELECT m.name || '.' || p.name || ' ' || p.type || ' ' || p.\"notnull\" || ' '"
        " || coalesce(p.dflt_value, '-') || ' ' || p.pk FROM sqlite_master m,"
        " pragma_table_info(m.name) p WHERE m.type = 'table' UNION ALL"
        " SELECT 'index ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '-')"
        " FROM sqlite_master WHERE type = 'index' ORDER BY 1", -1, &st, NULL) == SQLITE_OK,
        "prepare the schema query: %s", sqlite3_errmsg (db));
    size_t used = 0;
    out [0] = 0;
    while (sqlite3_step (st) == SQLITE_ROW) {
        int n = snprintf (out + used, size - used, "%s\n", (const char *) sqlite3_column_text (st, 0));
        REQUIRE (n > 0 && (size_t) n < size - used, "the schema text fits %zu bytes", size);
        used += (size_t) n;
    }
    sqlite3_finalize (st);
    sqlite3_close (db);
}

static char s_fresh_schema [32768];

static void
s_mkdir (char *tmpl)
{
    REQUIRE (mkdtemp (tmpl), "mkdtemp %s", tmpl);
}

static void
s_rmdir (const char *dir)
{
    char cmd [512];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
}

/* A new data dir: the latest version, the schema every migration path must end at. */
static void
s_case_fresh (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    char err [256] = "";
    job_store_t *store = job_store_open (dir, err);
    REQUIRE (store, "a new data dir opens: %s", err);
    job_store_destroy (&store);
    sqlite3 *db = s_raw (dir);
    CHECK (s_int (db, "PRAGMA user_version") == STORE_SCHEMA_VERSION,
           "a new database is at version %d, got %lld", STORE_SCHEMA_VERSION,
           (long long) s_int (db, "PRAGMA user_version"));
    sqlite3_close (db);
    /* reopening a current database changes nothing */
    store = job_store_open (dir, err);
    REQUIRE (store, "a current database reopens: %s", err);
    job_store_destroy (&store);
    s_schema_text (dir, s_fresh_schema, sizeof s_fresh_schema);
    CHECK (strstr (s_fresh_schema, "tasks.thumb TEXT") && strstr (s_fresh_schema, "index tasks_cache_done"),
           "the schema text lists the late columns and indexes:\n%s", s_fresh_schema);
    /* version 5: the image cache's index holds succeeded images only, so a
       create's cache lookup never walks the queued tasks of its key */
    CHECK (strstr (s_fresh_schema, "ON tasks(cache_key) WHERE cache_key IS NOT NULL AND state = 'succeeded'")
           && !strstr (s_fresh_schema, "index tasks_cache tasks"),
           "the cache index is partial on succeeded tasks and the old one is gone:\n%s", s_fresh_schema);
    s_rmdir (dir);
}

/* Checks what every adopted fixture must still hold; stored is the
   account's stored bytes, ledger its ledger rows (summing to 10). */
static void
s_check_adopted (const char *dir, int64_t stored, int ledger)
{
    char err [256] = "";
    job_store_t *store = job_store_open (dir, err);
    REQUIRE (store, "the unversioned database opens: %s", err);
    char account [PROTO_ID_MAX], hash [65];
    util_sha256_hex (S_KEY, strlen (S_KEY), hash);
    sqlite3 *db = s_raw (dir);
    char sql [256];
    snprintf (sql, sizeof sql, "INSERT INTO api_keys VALUES ('%s', 'sk_01234567', 'acct_old', 1000, NULL)", hash);
    s_exec (db, sql, "add the key");
    CHECK (s_int (db, "PRAGMA user_version") == STORE_SCHEMA_VERSION,
           "adopted at version %d, got %lld", STORE_SCHEMA_VERSION,
           (long long) s_int (db, "PRAGMA user_version"));
    CHECK (s_int (db, "SELECT count(*) FROM tasks WHERE price = 1 AND cached = 0") == 2,
           "the added columns have their defaults");
    sqlite3_close (db);
    CHECK (job_store_auth (store, hash, account) == 0 && strcmp (account, "acct_old") == 0,
           "the key still finds its account");
    proto_render_t r;
    memset (&r, 0, sizeof r);
    REQUIRE (job_store_render_get (store, "rnd_old", "acct_old", 5000, &r, err) == 0,
             "the render reads: %s", err);
    CHECK (strcmp (r.status, "succeeded") == 0 && r.nimages == 2 && r.done == 2
           && strcmp (r.images [1].locale, "de-DE") == 0 && r.images [1].bytes == 300
           && strcmp (r.metadata_json, "{\"release\":\"7\"}") == 0,
           "the render and its images are intact: %s, %d images", r.status, r.nimages);
    /* the old url secret still signs: links made before the upgrade verify */
    char want [65], msg [64];
    int n = snprintf (msg, sizeof msg, "img_old0.%lld", (long long) r.images [0].url_exp);
    util_hmac_sha256_hex (S_SECRET, strlen (S_SECRET), msg, (size_t) n, want);
    CHECK (strcmp (r.images [0].url_sig, want) == 0, "file URLs are signed with the kept secret");
    proto_render_free (&r);
    job_store_account_t a;
    REQUIRE (job_store_account_get (store, "acct_old", &a, err) == 0, "account_get: %s", err);
    CHECK (!a.unlimited && a.balance == 10, "the balance is kept, got %lld", (long long) a.balance);
    int64_t bytes = -1;
    CHECK (job_store_storage_used (store, "acct_old", &bytes, err) == 0 && bytes == stored,
           "stored bytes %lld, got %lld", (long long) stored, (long long) bytes);
    job_store_delivery_t d;
    CHECK (job_store_delivery_get (store, "rnd_old", "acct_old", &d, err) == 0
           && strcmp (d.delivery_id, "evt_old") == 0 && strcmp (d.status, "delivered") == 0,
           "the delivery is kept: %s", err);
    job_store_destroy (&store);
    db = s_raw (dir);
    CHECK (s_int (db, "SELECT count(*) FROM ledger WHERE account_id = 'acct_old'") == ledger
           && s_int (db, "SELECT sum(amount) FROM ledger") == 10,
           "%d ledger rows summing to the balance, got %lld", ledger,
           (long long) s_int (db, "SELECT count(*) FROM ledger"));
    s_exec (db, "DELETE FROM api_keys", "drop the key again");
    sqlite3_close (db);
    /* the same tables, columns and indexes as a new database */
    static char adopted [32768];
    s_schema_text (dir, adopted, sizeof adopted);
    CHECK (strcmp (adopted, s_fresh_schema) == 0, "the adopted schema equals a new one:\n"
           "-- adopted\n%s-- new\n%s", adopted, s_fresh_schema);
}

/* The CLI's reads beside a running scheduler (job_store_open_beside): no
   database is made, none is migrated, another version is refused as is. */
static void
s_case_beside (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    char err [256] = "", path [512];
    snprintf (path, sizeof path, "%s/easel.db", dir);
    CHECK (!job_store_open_beside (dir, err) && access (path, F_OK) != 0,
           "no database is made beside: \"%s\"", err);
    job_store_t *store = job_store_open (dir, err);
    REQUIRE (store, "open: %s", err);
    job_store_destroy (&store);
    store = job_store_open_beside (dir, err);
    CHECK (store, "a current database opens as is: %s", err);
    job_store_destroy (&store);
    sqlite3 *db = s_raw (dir);
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION - 1);
    s_exec (db, sql, "stamp the version before");
    sqlite3_close (db);
    char want [128];
    snprintf (want, sizeof want, "schema version %d and this Easel's is %d",
              STORE_SCHEMA_VERSION - 1, STORE_SCHEMA_VERSION);
    store = job_store_open_beside (dir, err);
    CHECK (!store && strstr (err, want), "an older database is refused: \"%s\"", err);
    job_store_destroy (&store);
    db = s_raw (dir);
    CHECK (s_int (db, "PRAGMA user_version") == STORE_SCHEMA_VERSION - 1,
           "and left at its version, got %lld", (long long) s_int (db, "PRAGMA user_version"));
    sqlite3_close (db);
    s_rmdir (dir);
}

/* A database as the unversioned store left it: every table, every probe applied. */
static void
s_case_unversioned (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    sqlite3 *db = s_raw (dir);
    s_exec (db, s_old_schema, "old schema");
    s_exec (db, s_old_schema_ledger, "old ledger schema");
    s_exec (db, s_old_schema_files, "old files schema");
    s_exec (db, s_old_alters, "old ALTER probes");
    s_exec (db, s_rows_common, "rows");
    s_exec (db, s_rows_late, "late rows");
    CHECK (s_int (db, "PRAGMA user_version") == 0, "the fixture is unversioned");
    sqlite3_close (db);
    s_check_adopted (dir, 500, 1);
    db = s_raw (dir);
    CHECK (s_int (db, "SELECT count(*) FROM idempotency_keys WHERE body = '{\"id\":\"rnd_old\"}'") == 1
           && s_int (db, "SELECT count(*) FROM reviews WHERE status = 'approved'") == 1,
           "idempotency keys and reviews are kept");
    sqlite3_close (db);
    s_rmdir (dir);
}

/* A database from before the ledger, uploads and every ALTER: the missing
   columns and tables arrive, stored bytes are counted, the balance gets
   its opening ledger entry. */
static void
s_case_early (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    sqlite3 *db = s_raw (dir);
    s_exec (db, s_old_schema, "early schema");
    s_exec (db, s_rows_common, "rows");
    sqlite3_close (db);
    s_check_adopted (dir, 500, 1);
    s_rmdir (dir);
}

/* A version 2 database (capture profiles, before tasks had a background
   input) with a queued task: version 3 adds tasks.bg_input_sha256 (NULL for
   the old task, which still leases) and its index, and ends as a new one. */
static void
s_case_v2 (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    sqlite3 *db = s_raw (dir);
    char err [256] = "";
    REQUIRE (store_migrations_n >= 3 && store_migrations [2].version == 3,
             "the list has a version 3 step");
    REQUIRE (store_schema_migrate (db, store_migrations, 2, err) == 0, "up to version 2: %s", err);
    CHECK (s_int (db, "SELECT count(*) FROM pragma_table_info('tasks') WHERE name = 'bg_input_sha256'") == 0,
           "version 2 has no bg_input_sha256");
    s_exec (db, s_rows_common, "rows");
    s_exec (db, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale, preset, width, height,"
                " format, spec, state, attempt, input_sha256) VALUES ('img_q', 'rnd_old', 1, 2, 0, 'en-US',"
                " 'play.phone', 1080, 1920, 'png', x'00', 'queued', 0, 'aa');"
                "UPDATE renders SET status = 'processing'", "a queued task");
    sqlite3_close (db);
    job_store_t *store = job_store_open (dir, err);
    REQUIRE (store, "a version 2 database opens: %s", err);
    proto_task_t task;
    memset (&task, 0, sizeof task);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_task_lease_next (store, "r1", 5000, 60000, &task, err) == 1
           && strcmp (task.task_id, "img_q") == 0 && strcmp (task.blob_sha256, "aa") == 0
           && task.bg_blob_sha256 [0] == 0,
           "the old task leases with its screenshot and no background: %s '%s' '%s'", task.task_id,
           task.blob_sha256, task.bg_blob_sha256);
    proto_task_free (&task);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    job_store_destroy (&store);
    db = s_raw (dir);
    CHECK (s_int (db, "PRAGMA user_version") == STORE_SCHEMA_VERSION && STORE_SCHEMA_VERSION >= 4,
           "migrated to version %d, got %lld", STORE_SCHEMA_VERSION,
           (long long) s_int (db, "PRAGMA user_version"));
    CHECK (s_int (db, "SELECT count(*) FROM tasks WHERE bg_input_sha256 IS NULL") == 3,
           "every old task has no background input");
    CHECK (s_int (db, "SELECT count(*) FROM tasks WHERE browser = 0") == 3,
           "version 4: every old task needs no browser");
    s_exec (db, "DELETE FROM tasks WHERE id = 'img_q'", "drop the queued task");
    sqlite3_close (db);
    static char migrated [32768];
    s_schema_text (dir, migrated, sizeof migrated);
    CHECK (strstr (migrated, "tasks.bg_input_sha256 TEXT") && strstr (migrated, "index tasks_bg_input"),
           "the column and its index are there:\n%s", migrated);
    CHECK (strcmp (migrated, s_fresh_schema) == 0, "the migrated schema equals a new one:\n"
           "-- migrated\n%s-- new\n%s", migrated, s_fresh_schema);
    s_rmdir (dir);
}

/* A version 4 database: its image cache index held every keyed task; at
   version 5 the index holds the succeeded ones only, and the cache still
   finds them. */
static void
s_case_v4 (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    sqlite3 *db = s_raw (dir);
    char err [256] = "";
    REQUIRE (store_migrations_n >= 5 && store_migrations [4].version == 5,
             "the list has a version 5 step");
    REQUIRE (store_schema_migrate (db, store_migrations, 4, err) == 0, "up to version 4: %s", err);
    CHECK (s_int (db, "SELECT count(*) FROM sqlite_master WHERE name = 'tasks_cache'") == 1,
           "version 4 has the index of every keyed task");
    s_exec (db, s_rows_common, "rows");
    s_exec (db, "UPDATE tasks SET cache_key = 'k0' WHERE id = 'img_old0';"
                "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale, preset, width, height,"
                " format, spec, state, attempt, cache_key) VALUES ('img_q', 'rnd_old', 1, 2, 0, 'en-US',"
                " 'play.phone', 1080, 1920, 'png', x'00', 'queued', 0, 'k0');", "keyed tasks");
    sqlite3_close (db);
    job_store_t *store = job_store_open (dir, err);
    REQUIRE (store, "a version 4 database opens: %s", err);
    job_store_destroy (&store);
    db = s_raw (dir);
    CHECK (s_int (db, "PRAGMA user_version") == STORE_SCHEMA_VERSION && STORE_SCHEMA_VERSION >= 5,
           "migrated to version %d, got %lld", STORE_SCHEMA_VERSION,
           (long long) s_int (db, "PRAGMA user_version"));
    CHECK (s_int (db, "SELECT count(*) FROM sqlite_master WHERE name = 'tasks_cache'") == 0,
           "the old index is gone");
    CHECK (s_int (db, "SELECT count(*) FROM tasks INDEXED BY tasks_cache_done"
                      " WHERE cache_key = 'k0' AND state = 'succeeded'") == 1,
           "the new index finds the succeeded image of the key");
    CHECK (s_int (db, "SELECT count(*) FROM tasks WHERE cache_key = 'k0'") == 2,
           "the queued task keeps its key for when it succeeds");
    s_exec (db, "DELETE FROM tasks WHERE id = 'img_q'", "drop the queued task");
    sqlite3_close (db);
    static char migrated [32768];
    s_schema_text (dir, migrated, sizeof migrated);
    CHECK (strcmp (migrated, s_fresh_schema) == 0, "the migrated schema equals a new one:\n"
           "-- migrated\n%s-- new\n%s", migrated, s_fresh_schema);
    s_rmdir (dir);
}

/* A database a newer Easel migrated is refused, and left as it was. */
static void
s_case_newer (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    char err [256] = "";
    job_store_t *store = job_store_open (dir, err);
    REQUIRE (store, "open: %s", err);
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "acme", 5, &key, err) == 0, "account: %s", err);
    job_store_destroy (&store);
    sqlite3 *db = s_raw (dir);
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
    s_exec (db, sql, "stamp a newer version");
    sqlite3_close (db);
    err [0] = 0;
    store = job_store_open (dir, err);
    CHECK (!store, "a database of a newer schema is refused");
    char want [128];
    snprintf (want, sizeof want, "schema version %d, newer than this Easel's %d",
              STORE_SCHEMA_VERSION + 1, STORE_SCHEMA_VERSION);
    CHECK (strstr (err, want), "the error says \"%s\", got \"%s\"", want, err);
    job_store_destroy (&store);
    db = s_raw (dir);
    CHECK (s_int (db, "PRAGMA user_version") == STORE_SCHEMA_VERSION + 1
           && s_int (db, "SELECT count(*) FROM accounts") == 1,
           "the refused database keeps its version and rows");
    sqlite3_close (db);
    s_rmdir (dir);
}

static int
s_before_fail (sqlite3 *db, char *err)
{
    (void) db;
    snprintf (err, 256, "refused on purpose");
    return -1;
}

/* The runner on its own steps: order, one transaction each, a failed step
   leaves the version before it, a fixed list goes on from there. */
static void
s_case_runner (void)
{
    char dir [] = "/tmp/easel-test-schema-XXXXXX";
    s_mkdir (dir);
    sqlite3 *db = s_raw (dir);
    char err [256] = "";
    store_migration_t bad [] = {
        { 1, "CREATE TABLE a (x INTEGER);", NULL },
        { 2, "INSERT INTO a VALUES (1);", NULL },
        { 3, "INSERT INTO a VALUES (2); INSERT INTO nowhere VALUES (3);", NULL },
    };
    CHECK (store_schema_migrate (db, bad, 3, err) == -1
           && strstr (err, "schema migration to version 3 failed") && strstr (err, "nowhere"),
           "a failing step names its version and reason, got \"%s\"", err);
    CHECK (store_schema_version (db) == 2 && s_int (db, "SELECT count(*) FROM a") == 1,
           "steps 1 and 2 stay, step 3 is rolled back whole: version %d, %lld rows",
           store_schema_version (db), (long long) s_int (db, "SELECT count(*) FROM a"));
    store_migration_t good [] = {
        { 1, "CREATE TABLE a (x INTEGER);", NULL },
        { 2, "INSERT INTO a VALUES (1);", NULL },
        { 3, "INSERT INTO a VALUES (2);", NULL },
        { 4, "ALTER TABLE a ADD COLUMN y TEXT NOT NULL DEFAULT 'z';", NULL },
    };
    CHECK (store_schema_migrate (db, good, 4, err) == 0, "the fixed list applies: %s", err);
    CHECK (store_schema_version (db) == 4 && s_int (db, "SELECT sum(x) FROM a") == 3
           && s_int (db, "SELECT count(*) FROM a WHERE y = 'z'") == 2,
           "steps 3 and 4 ran once each after 2: version %d", store_schema_version (db));
    CHECK (store_schema_migrate (db, good, 4, err) == 0 && s_int (db, "SELECT count(*) FROM a") == 2,
           "a current database runs nothing again");
    CHECK (store_schema_migrate (db, good, 3, err) == -1
           && strstr (err, "schema version 4, newer than this Easel's 3"),
           "a list shorter than the database is refused: \"%s\"", err);
    store_migration_t hook [] = {
        { 1, "CREATE TABLE a (x INTEGER);", NULL }, { 2, "INSERT INTO a VALUES (1);", NULL },
        { 3, "INSERT INTO a VALUES (2);", NULL }, { 4, "SELECT 1;", NULL },
        { 5, "INSERT INTO a VALUES (9);", s_before_fail },
    };
    CHECK (store_schema_migrate (db, hook, 5, err) == -1 && strstr (err, "refused on purpose")
           && store_schema_version (db) == 4 && s_int (db, "SELECT count(*) FROM a WHERE x = 9") == 0,
           "a failing before hook stops its step: \"%s\"", err);
    store_migration_t gap [] = { { 1, "SELECT 1;", NULL }, { 3, "SELECT 1;", NULL } };
    CHECK (store_schema_migrate (db, gap, 2, err) == -1 && strstr (err, "not numbered 1..2"),
           "a list with a gap is refused: \"%s\"", err);
    sqlite3_close (db);
    s_rmdir (dir);
}

int
main (void)
{
    /* SQLite's files are read here: whatever the environment says */
    unsetenv ("EASEL_DATABASE_URL");
    check_case ("a new database", s_case_fresh);
    check_case ("the unversioned store's database", s_case_unversioned);
    check_case ("a database from before the ledger", s_case_early);
    check_case ("a version 2 database", s_case_v2);
    check_case ("a version 4 database", s_case_v4);
    check_case ("a newer database", s_case_newer);
    check_case ("the migration runner", s_case_runner);
    check_case ("beside a running scheduler", s_case_beside);
    return check_done ("test_store_schema");
}
