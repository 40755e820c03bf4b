/*  job_store.c: Easel's state in SQLite (see job_store.h). The only file that
    writes SQL. Statements are prepared once and cached by the address of their
    SQL literal; bindings are described by a short format string.
    Thread: one handle belongs to one thread (the scheduler's loop, or the CLI).
    Memory: the handle owns its statements; out-structs are the caller's. */
#include "job_store.h"
#include "util.h"

#include <sqlite3.h>
#include <sodium.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#define S_ERR_MAX      256
#define S_STMT_CACHE   200            /* distinct SQL statements; raise when adding more */
#define S_PATH_MAX     4096

struct _job_store_t {
    sqlite3 *db;
    char url_secret [65];          /* hex of 32 random bytes, kept in meta */
    struct { const char *sql; sqlite3_stmt *stmt; } cache [S_STMT_CACHE];
    int ncache;
    int cache_cap;                 /* S_STMT_CACHE; lowered only by tests */
    bool cache_full;               /* the last s_stmt failed because the cache was full */
};

static const char *s_schema =
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
static const char *s_schema_ledger =
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
static const char *s_schema_files =
    "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, width INTEGER NOT NULL,"
    "  height INTEGER NOT NULL, format TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL, UNIQUE (account_id, sha256));"
    "CREATE INDEX IF NOT EXISTS files_sha ON files(sha256);"
    "CREATE INDEX IF NOT EXISTS files_expires ON files(expires_at);";

/* ---- small helpers --------------------------------------------------------- */

static void
s_set_err (char *err, const char *msg)
{
    if (err)
        snprintf (err, S_ERR_MAX, "%s", msg);
}

static int
s_fail (job_store_t *self, char *err)
{
    if (err && self->cache_full)
        snprintf (err, S_ERR_MAX, "statement cache full (%d statements)", self->cache_cap);
    else
    if (err)
        snprintf (err, S_ERR_MAX, "sqlite: %s", sqlite3_errmsg (self->db));
    self->cache_full = false;
    return -1;
}

/* Returns the cached statement for `sql` (a literal), reset and bound per fmt:
   's' text (NULL binds NULL), 'i' int64_t, 'b' blob (const void *, size_t).
   NULL on a prepare or bind error. */
static sqlite3_stmt *
s_stmt_v (job_store_t *self, const char *sql, const char *fmt, va_list ap)
{
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < self->ncache && !st; i++)
        if (self->cache [i].sql == sql)
            st = self->cache [i].stmt;
    if (!st) {
        /* a real check, not an assert: release builds must refuse too */
        if (self->ncache >= self->cache_cap) {
            self->cache_full = true;
            return NULL;
        }
        if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
            return NULL;
        self->cache [self->ncache].sql = sql;
        self->cache [self->ncache++].stmt = st;
    }
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    int rc = SQLITE_OK;
    for (int i = 0; fmt [i] && rc == SQLITE_OK; i++) {
        if (fmt [i] == 's') {
            const char *v = va_arg (ap, const char *);
            rc = v ? sqlite3_bind_text (st, i + 1, v, -1, SQLITE_TRANSIENT)
                   : sqlite3_bind_null (st, i + 1);
        }
        else
        if (fmt [i] == 'i')
            rc = sqlite3_bind_int64 (st, i + 1, va_arg (ap, int64_t));
        else {
            assert (fmt [i] == 'b');
            const void *p = va_arg (ap, const void *);
            size_t n = va_arg (ap, size_t);
            rc = sqlite3_bind_blob64 (st, i + 1, p ? p : "", n, SQLITE_TRANSIENT);
        }
    }
    return rc == SQLITE_OK ? st : NULL;
}

static sqlite3_stmt *
s_stmt (job_store_t *self, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    sqlite3_stmt *st = s_stmt_v (self, sql, fmt, ap);
    va_end (ap);
    return st;
}

/* Runs a statement that returns no rows. 0 / -1 (err filled). */
static int
s_run (job_store_t *self, char *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    sqlite3_stmt *st = s_stmt_v (self, sql, fmt, ap);
    va_end (ap);
    if (!st || sqlite3_step (st) != SQLITE_DONE) {
        int rc = s_fail (self, err);
        if (st)
            sqlite3_reset (st);
        return rc;
    }
    sqlite3_reset (st);
    return 0;
}

/* Copies text column i into dst (cap size), "" for NULL. */
static void
s_col_copy (sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const char *v = (const char *) sqlite3_column_text (st, i);
    snprintf (dst, size, "%s", v ? v : "");
}

/* Heap copy of text column i; NULL for NULL. */
static char *
s_col_dup (sqlite3_stmt *st, int i)
{
    const char *v = (const char *) sqlite3_column_text (st, i);
    return v ? strdup (v) : NULL;
}

/* ---- open / close ---------------------------------------------------------- */

static int
s_load_url_secret (job_store_t *self, char *err)
{
    uint8_t raw [32];
    char hex [65];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
    /* INSERT OR IGNORE then read: two processes opening a new dir agree */
    if (s_run (self, err, "INSERT OR IGNORE INTO meta (key, value) VALUES ('url_secret', ?)",
               "s", hex))
        return -1;
    sqlite3_stmt *st = s_stmt (self, "SELECT value FROM meta WHERE key = 'url_secret'", "");
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return s_fail (self, err);
    s_col_copy (st, 0, self->url_secret, sizeof self->url_secret);
    sqlite3_reset (st);
    return 0;
}

static int s_add_findings_column (job_store_t *self);

job_store_t *
job_store_open (const char *data_dir, char *err)
{
    assert (data_dir);
    if (sodium_init () < 0) {
        s_set_err (err, "libsodium failed to initialise");
        return NULL;
    }
    if (mkdir (data_dir, 0700) != 0 && errno != EEXIST) {
        if (err)
            snprintf (err, S_ERR_MAX, "cannot create data dir %s: %s", data_dir, strerror (errno));
        return NULL;
    }
    char path [S_PATH_MAX];
    if (snprintf (path, sizeof path, "%s/easel.db", data_dir) >= (int) sizeof path) {
        s_set_err (err, "data dir path too long");
        return NULL;
    }
    job_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        s_set_err (err, "out of memory");
        return NULL;
    }
    self->cache_cap = S_STMT_CACHE;
    /* NOMUTEX: a handle belongs to one thread, so no lock per SQLite call */
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                         | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK
    ||  sqlite3_busy_timeout (self->db, 5000) != SQLITE_OK
    /* secure_delete: a final task's spec (capture headers are secrets) is
       overwritten with zeros in the file, not only unlinked from the tree */
    ||  sqlite3_exec (self->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
                      NULL, NULL, NULL) != SQLITE_OK
    ||  sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        s_fail (self, err);
        job_store_destroy (&self);
        return NULL;
    }
    if (sqlite3_exec (self->db, s_schema, NULL, NULL, NULL) != SQLITE_OK
    ||  sqlite3_exec (self->db, s_schema_ledger, NULL, NULL, NULL) != SQLITE_OK
    ||  sqlite3_exec (self->db, s_schema_files, NULL, NULL, NULL) != SQLITE_OK
    ||  s_add_findings_column (self) != 0
    ||  s_load_url_secret (self, err) != 0
    ||  sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        s_fail (self, err);
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        job_store_destroy (&self);
        return NULL;
    }
    return self;
}

void
job_store_destroy (job_store_t **self_p)
{
    assert (self_p);
    job_store_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < self->ncache; i++)
        sqlite3_finalize (self->cache [i].stmt);
    sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

int
job_store_begin (job_store_t *self, char *err)
{
    return sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
         ? 0 : s_fail (self, err);
}

int
job_store_commit (job_store_t *self, char *err)
{
    return sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK
         ? 0 : s_fail (self, err);
}

void
job_store_rollback (job_store_t *self)
{
    if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- accounts and keys ------------------------------------------------------ */

/* Account creation runs in a savepoint, so it is atomic alone (CLI) and also
   nests inside the scheduler's pass transaction. `what` is SAVEPOINT,
   RELEASE or ROLLBACK TO. */
static int
s_savepoint (job_store_t *self, const char *what)
{
    char sql [64];
    snprintf (sql, sizeof sql, "%s acct", what);
    return sqlite3_exec (self->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int
job_store_account_create (job_store_t *self, const char *name, int64_t credits,
                          job_store_new_key_t *out, char *err)
{
    assert (self && name && out);
    memset (out, 0, sizeof *out);
    if (!*name || strlen (name) >= sizeof ((job_store_key_info_t *) 0)->name) {
        s_set_err (err, "account name must be 1..127 bytes");
        return -1;
    }
    if (credits < JOB_STORE_UNLIMITED) {
        s_set_err (err, "credits must be >= 0 (or unlimited)");
        return -1;
    }
    uint8_t raw [32];
    char hex [41];
    char b64 [64];
    randombytes_buf (raw, 20);
    sodium_bin2hex (hex, sizeof hex, raw, 20);
    snprintf (out->api_key, sizeof out->api_key, "sk_%s", hex);
    snprintf (out->key_prefix, sizeof out->key_prefix, "%.11s", out->api_key);
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    snprintf (out->webhook_secret, sizeof out->webhook_secret, "whsec_%s", b64);
    if (proto_id_new ("acct_", out->account_id, sizeof out->account_id)) {
        s_set_err (err, "cannot make an account id");
        return -1;
    }
    char hash [65];
    util_sha256_hex (out->api_key, strlen (out->api_key), hash);
    int64_t now = util_now_ms ();
    if (s_savepoint (self, "SAVEPOINT"))
        return s_fail (self, err);
    if (s_run (self, err, "INSERT INTO accounts (id, name, webhook_secret, credits, created_at)"
                          " VALUES (?, ?, ?, ?, ?)", "sssii",
               out->account_id, name, out->webhook_secret, credits, now)
    ||  s_run (self, err, "INSERT INTO api_keys (hash, prefix, account_id, created_at)"
                          " VALUES (?, ?, ?, ?)", "sssi",
               hash, out->key_prefix, out->account_id, now)
    ||  (credits > 0
      && s_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason, note,"
                           " created_at) VALUES (?1, ?2, ?2, 'grant', 'account created', ?3)",
                "sii", out->account_id, credits, now))) {
        s_savepoint (self, "ROLLBACK TO");
        s_savepoint (self, "RELEASE");
        return -1;
    }
    if (s_savepoint (self, "RELEASE"))
        return s_fail (self, err);
    return 0;
}

int64_t
job_store_account_count (job_store_t *self)
{
    sqlite3_stmt *st = s_stmt (self, "SELECT count(*) FROM accounts", "");
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return -1;
    int64_t n = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return n;
}

int
job_store_key_list (job_store_t *self,
                    void (*fn) (const job_store_key_info_t *info, void *arg), void *arg,
                    char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT k.prefix, a.name, a.id, k.created_at, k.revoked_at IS NOT NULL, a.credits"
        " FROM api_keys k JOIN accounts a ON a.id = k.account_id"
        " ORDER BY k.created_at, k.rowid", "");
    if (!st)
        return s_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        job_store_key_info_t info;
        memset (&info, 0, sizeof info);
        s_col_copy (st, 0, info.key_prefix, sizeof info.key_prefix);
        s_col_copy (st, 1, info.name, sizeof info.name);
        s_col_copy (st, 2, info.account_id, sizeof info.account_id);
        info.created_at_ms = sqlite3_column_int64 (st, 3);
        info.revoked = sqlite3_column_int (st, 4) != 0;
        info.credits = sqlite3_column_int64 (st, 5);
        fn (&info, arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_key_revoke (job_store_t *self, const char *key_or_prefix, char *err)
{
    assert (self && key_or_prefix);
    int64_t now = util_now_ms ();
    if (strncmp (key_or_prefix, "sk_", 3) == 0 && strlen (key_or_prefix) == 43) {
        char hash [65];
        util_sha256_hex (key_or_prefix, strlen (key_or_prefix), hash);
        if (s_run (self, err, "UPDATE api_keys SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL",
                   "is", now, hash))
            return -1;
        if (sqlite3_changes (self->db) == 0) {
            s_set_err (err, "no such key");
            return -1;
        }
        return 0;
    }
    sqlite3_stmt *st = s_stmt (self,
        "SELECT count(*) FROM api_keys WHERE prefix = ? AND revoked_at IS NULL", "s", key_or_prefix);
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return s_fail (self, err);
    int64_t n = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    if (n != 1) {
        s_set_err (err, n == 0 ? "no such key" : "ambiguous prefix");
        return -1;
    }
    return s_run (self, err, "UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL",
                  "is", now, key_or_prefix);
}

int
job_store_auth (job_store_t *self, const char *key_sha256, char account_id [PROTO_ID_MAX])
{
    account_id [0] = 0;
    if (!key_sha256 || strlen (key_sha256) != 64)
        return -1;
    sqlite3_stmt *st = s_stmt (self,
        "SELECT account_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL", "s", key_sha256);
    if (!st)
        return -1;
    int rc = sqlite3_step (st) == SQLITE_ROW ? 0 : -1;
    if (rc == 0)
        s_col_copy (st, 0, account_id, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc;
}

/* ---- renders ----------------------------------------------------------------- */

/* The cache key of a render image whose every input is named by content
   (no screenshot or background URL: inline and uploaded images travel as
   sha256): hex sha256 of EASEL_RENDER_VERSION and the task's spec bytes.
   False for an image that fetches a URL (its bytes are known only when
   fetched) or whose spec does not decode. */
static bool
s_cache_key (const proto_task_spec_t *t, char key [65])
{
    proto_slide_t slide;
    char err [PROTO_ERR_MAX];
    if (proto_slide_decode ((const char *) t->spec, t->spec_len, &slide, err) != 0)
        return false;
    bool content = !slide.shot_url && !slide.bg_image_url
                && !(slide.shot_data && !slide.shot_sha256 [0]);
    proto_slide_free (&slide);
    if (!content)
        return false;
    crypto_hash_sha256_state h;
    unsigned char digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init (&h);
    crypto_hash_sha256_update (&h, (const unsigned char *) "easel-image\n" EASEL_RENDER_VERSION "\n",
                               strlen ("easel-image\n" EASEL_RENDER_VERSION "\n"));
    crypto_hash_sha256_update (&h, (const unsigned char *) t->spec, t->spec_len);
    crypto_hash_sha256_final (&h, digest);
    sodium_bin2hex (key, 65, digest, sizeof digest);
    return true;
}

/* Serves task_id from the account's latest succeeded image with the same
   key whose bytes are still stored: succeeded at once, the same blob,
   size, findings and thumbnail, price 0, cached. Nothing when there is
   none. 0 / -1 (a store error). */
static int
s_cache_serve (job_store_t *self, const char *account_id, const char *task_id, const char *key,
               char *err)
{
    if (s_run (self, err,
        "UPDATE tasks SET (state, sha256, bytes, width, height, findings, thumb, price, cached, spec,"
        " input_sha256) = (SELECT 'succeeded', t.sha256, t.bytes, t.width, t.height, t.findings, t.thumb,"
        " 0, 1, x'', NULL FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE t.cache_key = ?1 AND r.account_id = ?2 AND t.state = 'succeeded' AND t.id <> ?3"
        " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256)"
        " ORDER BY r.created_at DESC LIMIT 1)"
        " WHERE id = ?3 AND EXISTS (SELECT 1 FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE t.cache_key = ?1 AND r.account_id = ?2 AND t.state = 'succeeded' AND t.id <> ?3"
        " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256))",
        "sss", key, account_id, task_id))
        return -1;
    return 0;
}

int
job_store_render_create (job_store_t *self, const char *account_id,
                         const proto_create_render_t *req, int64_t now_ms,
                         char render_id [PROTO_ID_MAX], char *err)
{
    assert (self && account_id && req);
    if (proto_id_new ("rnd_", render_id, PROTO_ID_MAX)) {
        s_set_err (err, "cannot make a render id");
        return -1;
    }
    if (s_run (self, err, "INSERT INTO renders (id, account_id, status, created_at, total,"
                          " webhook_url, webhook_status, metadata)"
                          " VALUES (?, ?, 'processing', ?, ?, ?, ?, ?)", "ssiisss",
               render_id, account_id, now_ms, (int64_t) req->ntasks, req->webhook_url,
               req->webhook_url ? "pending" : "none",
               req->metadata_json ? req->metadata_json : "{}"))
        return -1;
    int64_t render_seq = sqlite3_last_insert_rowid (self->db);
    for (int32_t i = 0; i < req->ntasks; i++) {
        const proto_task_spec_t *t = &req->tasks [i];
        char task_id [PROTO_ID_MAX];
        if (proto_id_new ("img_", task_id, sizeof task_id)) {
            s_set_err (err, "cannot make an image id");
            return -1;
        }
        char key [65];
        bool keyed = s_cache_key (t, key);
        if (s_run (self, err, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale,"
                              " preset, width, height, format, spec, state, input_sha256, cache_key)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)", "ssiiissiisbss",
                   task_id, render_id, render_seq, (int64_t) i, (int64_t) t->slide, t->locale,
                   t->preset, (int64_t) t->width, (int64_t) t->height, t->format,
                   (const void *) t->spec, t->spec_len, t->blob [0] ? t->blob : NULL,
                   keyed ? key : NULL))
            return -1;
        if (keyed && !req->no_cache && s_cache_serve (self, account_id, task_id, key, err))
            return -1;
    }
    int64_t inline_bytes = 0;
    for (int32_t i = 0; i < req->nblobs; i++) {
        if (job_store_blob_add (self, req->blobs [i].sha256, (int64_t) req->blobs [i].len,
                                "application/octet-stream", err)
        ||  s_run (self, err, "INSERT OR IGNORE INTO render_blobs (render_id, sha256) VALUES (?, ?)",
                   "ss", render_id, req->blobs [i].sha256))
            return -1;
        inline_bytes += (int64_t) req->blobs [i].len;
    }
    if (inline_bytes > 0
    &&  (s_run (self, err, "UPDATE renders SET inline_bytes = ? WHERE id = ?", "is",
                inline_bytes, render_id)
      || s_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + ? WHERE id = ?", "is",
                inline_bytes, account_id)))
        return -1;
    return 0;
}

int
job_store_capture_create (job_store_t *self, const char *account_id,
                          const proto_create_render_t *req, int64_t now_ms,
                          char job_id [PROTO_ID_MAX], char *err)
{
    assert (self && account_id && req);
    if (req->ntasks != 1) {
        s_set_err (err, "a capture job has exactly one task");
        return -1;
    }
    if (proto_id_new ("job_", job_id, PROTO_ID_MAX)) {
        s_set_err (err, "cannot make a job id");
        return -1;
    }
    if (s_run (self, err, "INSERT INTO renders (id, account_id, status, created_at, total,"
                          " webhook_url, webhook_status, metadata)"
                          " VALUES (?, ?, 'processing', ?, 1, ?, ?, '{}')", "ssiss",
               job_id, account_id, now_ms, req->webhook_url,
               req->webhook_url ? "pending" : "none"))
        return -1;
    int64_t render_seq = sqlite3_last_insert_rowid (self->db);
    const proto_task_spec_t *t = &req->tasks [0];
    char task_id [PROTO_ID_MAX];
    if (proto_id_new ("cap_", task_id, sizeof task_id)) {
        s_set_err (err, "cannot make a capture id");
        return -1;
    }
    /* the price holds the most a capture can cost until its result says */
    return s_run (self, err, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale,"
                             " preset, width, height, format, spec, state, price)"
                             " VALUES (?, ?, ?, 0, 0, '', '', ?, ?, ?, ?, 'queued', ?)", "ssiiisbi",
                  task_id, job_id, render_seq, (int64_t) t->width, (int64_t) t->height, t->format,
                  (const void *) t->spec, t->spec_len, (int64_t) JOB_STORE_CAPTURE_PRICE_MAX);
}

/* Fills one image from a tasks row (columns as in job_store_render_get). */
/* tasks.findings (lint report JSON) arrived after the first schema: add it
   to an older database; "duplicate column" on a current one is expected. */
static int
s_add_column_to (job_store_t *self, const char *table, const char *name, const char *alter)
{
    sqlite3_stmt *st = NULL;
    int have = 0;
    if (sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM pragma_table_info(?)"
                                      " WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step (st) == SQLITE_ROW)
        have = sqlite3_column_int (st, 0);
    sqlite3_finalize (st);
    if (have)
        return 0;
    return sqlite3_exec (self->db, alter, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
s_add_column (job_store_t *self, const char *name, const char *alter)
{
    return s_add_column_to (self, "tasks", name, alter);
}

/* tasks.price (credits a succeeded task costs: 1 per render image; a
   capture is 3 for a page, 1 for a framed image URL) came with captures. */
static int
s_add_findings_column (job_store_t *self)
{
    return s_add_column (self, "findings", "ALTER TABLE tasks ADD COLUMN findings TEXT")
        || s_add_column (self, "price", "ALTER TABLE tasks ADD COLUMN price INTEGER NOT NULL DEFAULT 1")
        || s_add_column (self, "input_sha256", "ALTER TABLE tasks ADD COLUMN input_sha256 TEXT")
        /* stored bytes per account, kept as a counter so the quota check is O(1):
           inline images of processing renders plus every stored output */
        || s_add_column_to (self, "renders", "inline_bytes",
                            "ALTER TABLE renders ADD COLUMN inline_bytes INTEGER NOT NULL DEFAULT 0")
        || s_add_column_to (self, "accounts", "stored_bytes",
                            "ALTER TABLE accounts ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0;"
                            "UPDATE accounts SET stored_bytes = (SELECT coalesce(sum(t.bytes), 0)"
                            " FROM renders r JOIN tasks t ON t.render_id = r.id"
                            " WHERE r.account_id = accounts.id)")
        || sqlite3_exec (self->db, "CREATE INDEX IF NOT EXISTS tasks_input ON tasks(input_sha256)"
                                   " WHERE input_sha256 IS NOT NULL", NULL, NULL, NULL) != SQLITE_OK
        /* the image cache: a render image's key (s_cache_key), whether it was
           served from an earlier identical image, and its thumbnail */
        || s_add_column (self, "cache_key", "ALTER TABLE tasks ADD COLUMN cache_key TEXT")
        || s_add_column (self, "cached", "ALTER TABLE tasks ADD COLUMN cached INTEGER NOT NULL DEFAULT 0")
        || s_add_column (self, "thumb", "ALTER TABLE tasks ADD COLUMN thumb TEXT")
        || sqlite3_exec (self->db, "CREATE INDEX IF NOT EXISTS tasks_cache ON tasks(cache_key)"
                                   " WHERE cache_key IS NOT NULL", NULL, NULL, NULL) != SQLITE_OK
           ? -1 : 0;
}

static int
s_image_fill (job_store_t *self, sqlite3_stmt *st, int64_t now_ms, proto_image_t *img)
{
    s_col_copy (st, 0, img->id, sizeof img->id);
    s_col_copy (st, 1, img->status, sizeof img->status);
    img->slide = sqlite3_column_int (st, 2);
    s_col_copy (st, 3, img->locale, sizeof img->locale);
    s_col_copy (st, 4, img->preset, sizeof img->preset);
    img->width = sqlite3_column_int (st, 5);
    img->height = sqlite3_column_int (st, 6);
    s_col_copy (st, 7, img->format, sizeof img->format);
    img->bytes = sqlite3_column_int64 (st, 8);
    s_col_copy (st, 9, img->sha256, sizeof img->sha256);
    img->attempts = sqlite3_column_int (st, 10);
    if (sqlite3_column_count (st) > 14 && sqlite3_column_type (st, 14) == SQLITE_TEXT) {
        img->findings_json = strdup ((const char *) sqlite3_column_text (st, 14));
        if (!img->findings_json)
            return -1;
    }
    if (sqlite3_column_count (st) > 16) {
        img->cached = sqlite3_column_int (st, 15) != 0;
        s_col_copy (st, 16, img->thumb, sizeof img->thumb);
    }
    if (strcmp (img->status, "succeeded") == 0) {
        img->url_exp = now_ms / 1000 + EASEL_FILE_URL_TTL_S;
        job_store_url_sign (self, img->id, img->url_exp, img->url_sig);
    }
    if (strcmp (img->status, "failed") == 0)
        return proto_error_set (&img->error, (const char *) sqlite3_column_text (st, 11),
                                (const char *) sqlite3_column_text (st, 12),
                                (const char *) sqlite3_column_text (st, 13));
    return 0;
}

/* The review row of r->id into r's review fields, with a review link signed
   for its current generation and expiring EASEL_REVIEW_URL_TTL_S from now. */
static int
s_review_fill (job_store_t *self, int64_t now_ms, proto_render_t *r, char *err)
{
    sqlite3_stmt *st = s_stmt (self, "SELECT status, comment, by_name, decided_at, link_gen"
                                     " FROM reviews WHERE render_id = ?", "s", r->id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    int64_t gen = 0;
    snprintf (r->review_status, sizeof r->review_status, "pending");
    if (rc == SQLITE_ROW) {
        s_col_copy (st, 0, r->review_status, sizeof r->review_status);
        r->review_comment = s_col_dup (st, 1);
        r->review_by = s_col_dup (st, 2);
        r->review_decided_at_ms = sqlite3_column_int64 (st, 3);
        gen = sqlite3_column_int64 (st, 4);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_fail (self, err);
    r->review_exp = now_ms / 1000 + EASEL_REVIEW_URL_TTL_S;
    job_store_review_sign (self, r->id, gen, r->review_exp, NULL, NULL, r->review_sig);
    return 0;
}

int
job_store_render_get (job_store_t *self, const char *render_id, const char *account_id,
                      int64_t now_ms, proto_render_t *out, char *err)
{
    assert (self && render_id && out);
    sqlite3_stmt *st = s_stmt (self,
        "SELECT id, account_id, status, created_at, completed_at, total, webhook_url,"
        " webhook_status, metadata FROM renders WHERE id = ?", "s", render_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    }
    s_col_copy (st, 0, out->id, sizeof out->id);
    s_col_copy (st, 1, out->account_id, sizeof out->account_id);
    s_col_copy (st, 2, out->status, sizeof out->status);
    out->created_at_ms = sqlite3_column_int64 (st, 3);
    out->completed_at_ms = sqlite3_column_int64 (st, 4);
    out->total = sqlite3_column_int (st, 5);
    out->webhook_url = s_col_dup (st, 6);
    s_col_copy (st, 7, out->webhook_status, sizeof out->webhook_status);
    out->metadata_json = s_col_dup (st, 8);
    sqlite3_reset (st);
    if (account_id && strcmp (account_id, out->account_id) != 0) {
        s_set_err (err, "not found");
        return -1;
    }
    out->images = calloc (out->total > 0 ? (size_t) out->total : 1, sizeof *out->images);
    if (!out->images || !out->metadata_json) {
        s_set_err (err, "out of memory");
        return -1;
    }
    st = s_stmt (self,
        "SELECT id, state, slide, locale, preset, width, height, format, bytes, sha256,"
        " attempt, error_code, error_message, error_param, findings, cached, thumb"
        " FROM tasks WHERE render_id = ? ORDER BY idx", "s", render_id);
    if (!st)
        return s_fail (self, err);
    while ((rc = sqlite3_step (st)) == SQLITE_ROW && out->nimages < out->total) {
        proto_image_t *img = &out->images [out->nimages++];
        if (s_image_fill (self, st, now_ms, img)) {
            sqlite3_reset (st);
            s_set_err (err, "out of memory");
            return -1;
        }
        if (strcmp (img->status, "succeeded") == 0) {
            out->done++;
            out->credits_used++;
        }
        else
        if (strcmp (img->status, "failed") == 0) {
            out->done++;
            if (!out->error.code [0]
            &&  proto_error_set (&out->error, img->error.code, img->error.message, img->error.param)) {
                sqlite3_reset (st);
                s_set_err (err, "out of memory");
                return -1;
            }
        }
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_fail (self, err);
    if (strncmp (out->id, "rnd_", 4) == 0 && s_review_fill (self, now_ms, out, err))
        return -1;
    /* a final render shows what it was charged: its ledger entry */
    if (strcmp (out->status, "processing") != 0) {
        st = s_stmt (self, "SELECT -amount FROM ledger WHERE render_id = ?", "s", render_id);
        if (!st)
            return s_fail (self, err);
        if ((rc = sqlite3_step (st)) == SQLITE_ROW)
            out->credits_used = sqlite3_column_int64 (st, 0);
        sqlite3_reset (st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return s_fail (self, err);
    }
    return 0;
}

int
job_store_render_head (job_store_t *self, const char *render_id, proto_render_t *out, char *err)
{
    assert (self && render_id && out);
    sqlite3_stmt *st = s_stmt (self,
        "SELECT id, account_id, status, created_at, completed_at, total, webhook_url"
        " FROM renders WHERE id = ?", "s", render_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    }
    s_col_copy (st, 0, out->id, sizeof out->id);
    s_col_copy (st, 1, out->account_id, sizeof out->account_id);
    s_col_copy (st, 2, out->status, sizeof out->status);
    out->created_at_ms = sqlite3_column_int64 (st, 3);
    out->completed_at_ms = sqlite3_column_int64 (st, 4);
    out->total = sqlite3_column_int (st, 5);
    bool has_url = sqlite3_column_type (st, 6) != SQLITE_NULL;
    out->webhook_url = s_col_dup (st, 6);
    sqlite3_reset (st);
    /* a lost webhook_url would silently drop its callback */
    if (has_url && !out->webhook_url) {
        s_set_err (err, "out of memory");
        return -1;
    }
    return 0;
}

int
job_store_render_next_settled (job_store_t *self, char render_id [PROTO_ID_MAX], char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        /* by render_seq (= renders.seq): two seeks in tasks_queue per render, no row reads */
        "SELECT r.id FROM renders r WHERE r.status = 'processing' AND NOT EXISTS"
        " (SELECT 1 FROM tasks t WHERE t.state IN ('queued', 'leased') AND t.render_seq = r.seq)"
        " LIMIT 1", "");
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        s_col_copy (st, 0, render_id, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

static int s_render_charge (job_store_t *self, const char *render_id, int64_t now_ms, char *err);

int
job_store_render_complete (job_store_t *self, const char *render_id, int64_t now_ms, char *err)
{
    if (s_run (self, err,
        "UPDATE renders SET completed_at = ?2, status = CASE"
        " WHEN EXISTS (SELECT 1 FROM tasks WHERE render_id = ?1 AND state = 'canceled') THEN 'canceled'"
        " WHEN EXISTS (SELECT 1 FROM tasks WHERE render_id = ?1 AND state <> 'succeeded') THEN 'failed'"
        " ELSE 'succeeded' END"
        " WHERE id = ?1 AND status = 'processing'", "si", render_id, now_ms))
        return -1;
    if (sqlite3_changes (self->db) == 0)
        return 0;
    /* a final task is never drawn again: its spec and inline image go */
    if (s_run (self, err, "UPDATE tasks SET spec = x'', input_sha256 = NULL WHERE render_id = ?",
               "s", render_id)
    ||  s_run (self, err, "DELETE FROM render_blobs WHERE render_id = ?", "s", render_id)
    ||  s_run (self, err, "UPDATE accounts SET stored_bytes = max(0, stored_bytes - (SELECT"
                          " inline_bytes FROM renders WHERE id = ?1)) WHERE id ="
                          " (SELECT account_id FROM renders WHERE id = ?1)", "s", render_id)
    ||  s_run (self, err, "UPDATE renders SET inline_bytes = 0 WHERE id = ?", "s", render_id))
        return -1;
    return s_render_charge (self, render_id, now_ms, err);
}

/* ---- tasks --------------------------------------------------------------------- */

int
job_store_task_lease_next (job_store_t *self, const char *renderer, int64_t now_ms,
                           int64_t lease_ms, proto_task_t *out, char *err)
{
    return job_store_task_lease_for (self, renderer, true, now_ms, lease_ms, out, err);
}

int
job_store_task_lease_for (job_store_t *self, const char *renderer, bool capture,
                          int64_t now_ms, int64_t lease_ms, proto_task_t *out, char *err)
{
    return job_store_task_lease_fair (self, renderer, capture, 0, now_ms, lease_ms, out, err);
}

/* The oldest processing render with a queued task this renderer may take
   whose account holds fewer than `cap` leased tasks, into *seq: 1, or 0 when
   there is none, -1 on error. Walks processing renders (few), not tasks. */
static int
s_fair_render (job_store_t *self, bool capture, int64_t cap, int64_t *seq, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT r.seq FROM renders r WHERE r.status = 'processing'"
        " AND r.account_id NOT IN (SELECT r2.account_id FROM tasks t2"
        "   JOIN renders r2 ON r2.seq = t2.render_seq"
        "   WHERE t2.state = 'leased' OR (t2.state = 'canceled' AND t2.renderer IS NOT NULL)"
        "   GROUP BY r2.account_id HAVING count(*) >= ?2)"
        " AND EXISTS (SELECT 1 FROM tasks t WHERE t.state = 'queued' AND t.render_seq = r.seq"
        "   AND (?1 OR substr(t.id, 1, 4) <> 'cap_'))"
        " ORDER BY r.seq LIMIT 1", "ii", (int64_t) capture, cap);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_task_lease_fair (job_store_t *self, const char *renderer, bool capture,
                           int64_t account_cap, int64_t now_ms, int64_t lease_ms,
                           proto_task_t *out, char *err)
{
    assert (self && renderer && out);
    int64_t seq = 0;
    /* none found: only capped accounts have work, and they may use the free
       slots (seq stays 0: any render) */
    if (account_cap > 0 && s_fair_render (self, capture, account_cap, &seq, err) < 0)
        return -1;
    sqlite3_stmt *st = seq
        ? s_stmt (self,
            "SELECT t.id, t.attempt, t.spec, q.req, t.input_sha256, t.render_id FROM tasks t"
            " LEFT JOIN request_ids q ON q.object_id = t.render_id WHERE t.state = 'queued'"
            " AND t.render_seq = ? AND (? OR substr(t.id, 1, 4) <> 'cap_')"
            " ORDER BY t.idx LIMIT 1", "ii", seq, (int64_t) capture)
        : s_stmt (self,
            /* the request id of its render comes along, for the TASK and the logs */
            "SELECT t.id, t.attempt, t.spec, q.req, t.input_sha256, t.render_id FROM tasks t"
            " LEFT JOIN request_ids q ON q.object_id = t.render_id WHERE t.state = 'queued'"
            " AND (? OR substr(t.id, 1, 4) <> 'cap_')"
            " ORDER BY t.render_seq, t.idx LIMIT 1", "i", (int64_t) capture);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? 0 : s_fail (self, err);
    }
    memset (out, 0, sizeof *out);
    s_col_copy (st, 0, out->task_id, sizeof out->task_id);
    out->attempt = sqlite3_column_int (st, 1) + 1;
    out->spec_len = (size_t) sqlite3_column_bytes (st, 2);
    out->spec = malloc (out->spec_len ? out->spec_len : 1);
    if (out->spec && out->spec_len)
        memcpy (out->spec, sqlite3_column_blob (st, 2), out->spec_len);
    s_col_copy (st, 3, out->req, sizeof out->req);
    s_col_copy (st, 4, out->blob_sha256, sizeof out->blob_sha256);
    s_col_copy (st, 5, out->render_id, sizeof out->render_id);
    sqlite3_reset (st);
    if (!out->spec) {
        s_set_err (err, "out of memory");
        return -1;
    }
    if (s_run (self, err, "UPDATE tasks SET state = 'leased', attempt = ?, renderer = ?,"
                          " lease_expires_ms = ? WHERE id = ?", "isis",
               (int64_t) out->attempt, renderer, now_ms + lease_ms, out->task_id)) {
        proto_task_free (out);
        return -1;
    }
    st = s_stmt (self, "SELECT NOT EXISTS (SELECT 1 FROM tasks WHERE render_id = ?"
                       " AND state = 'queued')", "s", out->render_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        proto_task_free (out);
        return s_fail (self, err);
    }
    out->render_last = sqlite3_column_int (st, 0) != 0;
    sqlite3_reset (st);
    return 1;
}

int64_t
job_store_render_accounts_processing (job_store_t *self, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT count(DISTINCT account_id) FROM renders WHERE status = 'processing'", "");
    if (!st)
        return s_fail (self, err);
    int64_t n = -1;
    if (sqlite3_step (st) == SQLITE_ROW)
        n = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return n < 0 ? s_fail (self, err) : n;
}

int
job_store_task_leased_counts (job_store_t *self,
                              void (*fn) (const char *renderer, int64_t n, void *arg),
                              void *arg, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT renderer, count(*) FROM tasks WHERE state = 'leased'"
        /* a canceled task still being drawn keeps its renderer's slot busy */
        " OR (state = 'canceled' AND renderer IS NOT NULL) GROUP BY renderer", "");
    if (!st)
        return s_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        const char *renderer = (const char *) sqlite3_column_text (st, 0);
        if (renderer)
            fn (renderer, sqlite3_column_int64 (st, 1), arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_task_succeed (job_store_t *self, const proto_result_t *result,
                        const char *sha256, int64_t now_ms, char *err)
{
    (void) now_ms;
    /* findings: the renderer's lint report (JSON array text), kept with the image */
    /* the thumbnail only when it is one: PROTO_THUMB_HEX lower-case hex digits */
    bool thumb = strlen (result->thumb) == PROTO_THUMB_HEX
              && strspn (result->thumb, "0123456789abcdef") == PROTO_THUMB_HEX;
    if (s_run (self, err, "UPDATE tasks SET state = 'succeeded', sha256 = ?, bytes = ?, width = ?,"
                          " height = ?, renderer = NULL, lease_expires_ms = 0, findings = ?,"
                          " price = CASE WHEN ? > 0 THEN ? ELSE price END, thumb = ?"
                          " WHERE id = ? AND attempt = ? AND state = 'leased'", "siiisiissi",
               sha256, (int64_t) result->len, (int64_t) result->width, (int64_t) result->height,
               result->findings_json, (int64_t) result->credits, (int64_t) result->credits,
               thumb ? result->thumb : NULL, result->task_id, (int64_t) result->attempt))
        return -1;
    if (sqlite3_changes (self->db) == 0) {
        s_set_err (err, "stale");
        return -1;
    }
    return s_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + ? WHERE id ="
                             " (SELECT r.account_id FROM tasks t JOIN renders r ON r.id = t.render_id"
                             " WHERE t.id = ?)", "is", (int64_t) result->len, result->task_id);
}

/* Ends attempt `attempt` of a leased task (already checked current). */
static int
s_end_attempt (job_store_t *self, const char *task_id, int32_t attempt,
               const char *code, const char *message, const char *param,
               bool retryable, int32_t max_attempts, char *err)
{
    if (retryable && attempt < max_attempts)
        return s_run (self, err, "UPDATE tasks SET state = 'queued', renderer = NULL,"
                                 " lease_expires_ms = 0 WHERE id = ?", "s", task_id);
    char exhausted [512];
    if (retryable) {
        snprintf (exhausted, sizeof exhausted, "rendering failed after %d attempts: %s",
                  (int) attempt, message ? message : "unknown error");
        code = "attempts_exhausted";
        message = exhausted;
        param = NULL;
    }
    return s_run (self, err, "UPDATE tasks SET state = 'failed', renderer = NULL, lease_expires_ms = 0,"
                             " error_code = ?, error_message = ?, error_param = ? WHERE id = ?",
                  "ssss", code, message, param, task_id);
}

int
job_store_task_fail (job_store_t *self, const char *task_id, int32_t attempt,
                     const proto_error_t *error, bool retryable, int32_t max_attempts,
                     int64_t now_ms, char *err)
{
    (void) now_ms;
    sqlite3_stmt *st = s_stmt (self,
        "SELECT 1 FROM tasks WHERE id = ? AND attempt = ? AND state = 'leased'",
        "si", task_id, (int64_t) attempt);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            s_set_err (err, "stale");
        else
            s_fail (self, err);
        return -1;
    }
    return s_end_attempt (self, task_id, attempt, error->code [0] ? error->code : "render_failed",
                          error->message, error->param, retryable, max_attempts, err);
}

int
job_store_task_requeue_leased (job_store_t *self, const char *renderer,
                               int64_t expired_before_ms, const char *reason,
                               int32_t max_attempts, int64_t now_ms, char *err)
{
    (void) now_ms;
    /* canceled tasks the renderer was still drawing: its slot is free again */
    if (s_run (self, err, "UPDATE tasks SET renderer = NULL WHERE state = 'canceled'"
                          " AND renderer IS NOT NULL AND (?1 IS NULL OR renderer = ?1)"
                          " AND lease_expires_ms < ?2", "si", renderer, expired_before_ms))
        return -1;
    /* collect first: the rows change under the select otherwise */
    sqlite3_stmt *st = s_stmt (self,
        "SELECT id, attempt FROM tasks WHERE state = 'leased'"
        " AND (?1 IS NULL OR renderer = ?1) AND lease_expires_ms < ?2", "si",
        renderer, expired_before_ms);
    if (!st)
        return s_fail (self, err);
    size_t count = 0, cap = 0;
    struct s_leased { char id [PROTO_ID_MAX]; int32_t attempt; } *rows = NULL;
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            struct s_leased *grown = realloc (rows, cap * sizeof *rows);
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            rows = grown;
        }
        s_col_copy (st, 0, rows [count].id, sizeof rows [count].id);
        rows [count++].attempt = sqlite3_column_int (st, 1);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_DONE) {
        free (rows);
        return rc == SQLITE_NOMEM ? (s_set_err (err, "out of memory"), -1) : s_fail (self, err);
    }
    int result = (int) count;
    for (size_t i = 0; i < count && result >= 0; i++)
        if (s_end_attempt (self, rows [i].id, rows [i].attempt, "renderer_lost", reason, NULL,
                           true, max_attempts, err))
            result = -1;
    free (rows);
    return result;
}

/* ---- files ---------------------------------------------------------------------- */

int
job_store_blob_add (job_store_t *self, const char *sha256, int64_t bytes,
                    const char *content_type, char *err)
{
    return s_run (self, err, "INSERT OR IGNORE INTO blobs (sha256, bytes, content_type)"
                             " VALUES (?, ?, ?)", "sis", sha256, bytes, content_type);
}

int
job_store_file_get (job_store_t *self, const char *image_id, job_store_file_t *out, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT r.account_id, t.sha256, b.bytes, b.content_type FROM tasks t"
        " JOIN renders r ON r.id = t.render_id JOIN blobs b ON b.sha256 = t.sha256"
        " WHERE t.id = ? AND t.state = 'succeeded'", "s", image_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        memset (out, 0, sizeof *out);
        s_col_copy (st, 0, out->account_id, sizeof out->account_id);
        s_col_copy (st, 1, out->sha256, sizeof out->sha256);
        out->bytes = sqlite3_column_int64 (st, 2);
        s_col_copy (st, 3, out->content_type, sizeof out->content_type);
    }
    sqlite3_reset (st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
}

void
job_store_url_sign (job_store_t *self, const char *image_id, int64_t exp, char sig [65])
{
    char msg [PROTO_ID_MAX + 32];
    int n = snprintf (msg, sizeof msg, "%s.%lld", image_id, (long long) exp);
    util_hmac_sha256_hex (self->url_secret, strlen (self->url_secret), msg, (size_t) n, sig);
}

bool
job_store_url_check (job_store_t *self, const char *image_id, int64_t exp,
                     const char *sig, int64_t now_s)
{
    if (!sig || !*sig || exp < now_s || strlen (image_id) >= PROTO_ID_MAX)
        return false;
    char expect [65];
    job_store_url_sign (self, image_id, exp, expect);
    return util_str_equal_ct (expect, sig);
}

void
job_store_review_sign (job_store_t *self, const char *render_id, int64_t gen, int64_t exp,
                       const char *by, const char *since, char sig [65])
{
    char msg [2 * PROTO_ID_MAX + EASEL_REVIEW_BY_MAX + 96];
    by = by ? by : "";
    since = since ? since : "";
    /* the name is length-prefixed, so no name can shift bytes into since */
    int n = by [0] || since [0]
          ? snprintf (msg, sizeof msg, "review.%s.%lld.%lld.by=%zu:%s.since=%s", render_id,
                      (long long) gen, (long long) exp, strlen (by), by, since)
          : snprintf (msg, sizeof msg, "review.%s.%lld.%lld", render_id, (long long) gen,
                      (long long) exp);
    util_hmac_sha256_hex (self->url_secret, strlen (self->url_secret), msg, (size_t) n, sig);
}

int
job_store_review_gen (job_store_t *self, const char *render_id, int64_t *gen, char *err)
{
    sqlite3_stmt *st = s_stmt (self, "SELECT link_gen FROM reviews WHERE render_id = ?",
                               "s", render_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    *gen = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_fail (self, err);
    return 0;
}

int
job_store_review_check (job_store_t *self, const char *render_id, int64_t exp,
                        const char *by, const char *since, const char *sig, int64_t now_s,
                        char *err)
{
    if (!sig || strlen (sig) != 64 || strlen (render_id) >= PROTO_ID_MAX
    ||  (by && strlen (by) > EASEL_REVIEW_BY_MAX) || (since && strlen (since) >= PROTO_ID_MAX))
        return 1;
    int64_t gen = 0;
    if (job_store_review_gen (self, render_id, &gen, err))
        return -1;
    char expect [65];
    job_store_review_sign (self, render_id, gen, exp, by, since, expect);
    if (!util_str_equal_ct (expect, sig))
        return 1;
    return exp < now_s ? 2 : 0;
}

int
job_store_review_decide (job_store_t *self, const char *render_id, const char *status,
                         const char *comment, const char *by, int64_t now_ms, char *err)
{
    if (s_run (self, err, "INSERT INTO reviews (render_id, status, comment, by_name, decided_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (render_id) DO UPDATE SET"
                          " status = ?2, comment = ?3, by_name = ?4, decided_at = ?5"
                          " WHERE reviews.status = 'pending'",
               "ssssi", render_id, status, comment, by, now_ms))
        return -1;
    return sqlite3_changes (self->db) == 1 ? 0 : 1;
}

int
job_store_review_revoke (job_store_t *self, const char *render_id, char *err)
{
    return s_run (self, err, "INSERT INTO reviews (render_id, status, link_gen) VALUES (?, 'pending', 1)"
                             " ON CONFLICT (render_id) DO UPDATE SET link_gen = link_gen + 1",
                  "s", render_id);
}

/* ---- events and deliveries ------------------------------------------------------- */

int
job_store_event_add (job_store_t *self, const char *event_id, const char *type,
                     const char *account_id, const char *object_id, int64_t created_at_ms,
                     const char *payload, const char *webhook_url, int64_t *seq_out,
                     char *err)
{
    assert (payload || !webhook_url);
    /* nothing reads the payload of an event without a delivery */
    if (s_run (self, err, "INSERT INTO events (id, type, account_id, object_id, created_at, payload)"
                          " VALUES (?, ?, ?, ?, ?, ?)", "ssssis",
               event_id, type, account_id, object_id, created_at_ms, webhook_url ? payload : ""))
        return -1;
    int64_t seq = sqlite3_last_insert_rowid (self->db);
    if (webhook_url
    &&  s_run (self, err, "INSERT INTO deliveries (id, event_seq, account_id, url, status, updated_at)"
                          " VALUES (?, ?, ?, ?, 'pending', ?)", "sissi",
               event_id, seq, account_id, webhook_url, created_at_ms))
        return -1;
    if (seq_out)
        *seq_out = seq;
    return 0;
}

int64_t
job_store_event_last_seq (job_store_t *self)
{
    sqlite3_stmt *st = s_stmt (self, "SELECT coalesce(max(seq), 0) FROM events", "");
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return -1;
    int64_t seq = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return seq;
}

int
job_store_events_since (job_store_t *self, int64_t since, int32_t limit,
                        proto_events_t *out, char *err)
{
    if (limit < 1 || limit > EASEL_EVENTS_PAGE_MAX)
        limit = EASEL_EVENTS_PAGE_MAX;
    out->last_seq = job_store_event_last_seq (self);
    if (out->last_seq < 0)
        return s_fail (self, err);
    out->events = calloc ((size_t) limit, sizeof *out->events);
    if (!out->events) {
        s_set_err (err, "out of memory");
        return -1;
    }
    sqlite3_stmt *st = s_stmt (self,
        "SELECT e.seq, e.id, e.type, e.object_id, e.created_at, d.id, d.url,"
        /* the current secret, then any old one still in its overlap, then the ed25519 key */
        " a.webhook_secret || coalesce((SELECT ' ' || group_concat(o.secret, ' ')"
        "   FROM webhook_secrets_old o WHERE o.account_id = a.id AND o.valid_until > ?), '')"
        " || coalesce((SELECT ' edsk_' || k.secret_key FROM webhook_keys k"
        "   WHERE k.account_id = a.id AND k.enabled = 1), ''),"
        " e.payload, d.attempts FROM events e JOIN deliveries d ON d.event_seq = e.seq"
        " JOIN accounts a ON a.id = e.account_id"
        " WHERE e.seq > ? AND d.status IN ('pending', 'retrying') ORDER BY e.seq LIMIT ?",
        "iii", util_now_ms (), since, (int64_t) limit);
    if (!st)
        return s_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW && out->nevents < limit) {
        proto_event_t *ev = &out->events [out->nevents++];
        ev->seq = sqlite3_column_int64 (st, 0);
        s_col_copy (st, 1, ev->id, sizeof ev->id);
        s_col_copy (st, 2, ev->type, sizeof ev->type);
        s_col_copy (st, 3, ev->object_id, sizeof ev->object_id);
        ev->created_at_ms = sqlite3_column_int64 (st, 4);
        s_col_copy (st, 5, ev->delivery_id, sizeof ev->delivery_id);
        ev->url = s_col_dup (st, 6);
        ev->secret = s_col_dup (st, 7);
        ev->payload = s_col_dup (st, 8);
        ev->attempts = sqlite3_column_int (st, 9);
        if (!ev->url || !ev->secret || !ev->payload) {
            sqlite3_reset (st);
            s_set_err (err, "out of memory");
            return -1;
        }
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : s_fail (self, err);
}

int
job_store_delivery_report (job_store_t *self, const proto_delivery_report_t *report,
                           int32_t max_attempts, int64_t now_ms, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT d.status, d.attempts, e.object_id FROM deliveries d"
        " JOIN events e ON e.seq = d.event_seq WHERE d.id = ?", "s", report->delivery_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    char status [PROTO_SHORT_MAX], object_id [PROTO_ID_MAX];
    int64_t attempts = 0;
    if (rc == SQLITE_ROW) {
        s_col_copy (st, 0, status, sizeof status);
        attempts = sqlite3_column_int64 (st, 1);
        s_col_copy (st, 2, object_id, sizeof object_id);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    if (s_run (self, err, "INSERT INTO delivery_attempts (delivery_id, at, status_code, latency_ms,"
                          " error, response_head) VALUES (?, ?, ?, ?, ?, ?)", "siiiss",
               report->delivery_id, now_ms, (int64_t) report->status_code, report->latency_ms,
               report->error, report->response_head))
        return -1;
    /* a late report never reopens a finished delivery */
    if (strcmp (status, "delivered") == 0 || strcmp (status, "failed") == 0)
        return 0;
    attempts++;
    const char *next = report->ok ? "delivered"
: report->final || attempts >= max_attempts || report->status_code == 410 ? "failed"
                     : "retrying";
    if (s_run (self, err, "UPDATE deliveries SET status = ?, attempts = ?, last_status_code = ?,"
                          " updated_at = ? WHERE id = ?", "siiis",
               next, attempts, (int64_t) report->status_code, now_ms, report->delivery_id))
        return -1;
    return s_run (self, err, "UPDATE renders SET webhook_status = ? WHERE id = ?", "ss",
                  next, object_id);
}

/* ---- webhook management ------------------------------------------------------------ */

int
job_store_delivery_get (job_store_t *self, const char *object_id, const char *account_id,
                        job_store_delivery_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    snprintf (out->status, sizeof out->status, "none");
    bool found = false;
    sqlite3_stmt *st = s_stmt (self,
        "SELECT webhook_url, status, webhook_status FROM renders WHERE id = ? AND account_id = ?",
        "ss", object_id, account_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        found = true;
        out->has_webhook = sqlite3_column_type (st, 0) != SQLITE_NULL;
        s_col_copy (st, 0, out->url, sizeof out->url);
        s_col_copy (st, 1, out->object_status, sizeof out->object_status);
        s_col_copy (st, 2, out->status, sizeof out->status);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_fail (self, err);
    /* the newest event about the object that has a delivery */
    st = s_stmt (self,
        "SELECT d.id, e.id, e.type, e.seq, d.url, d.status, d.attempts FROM events e"
        " JOIN deliveries d ON d.event_seq = e.seq"
        " WHERE e.object_id = ? AND e.account_id = ? ORDER BY e.seq DESC LIMIT 1",
        "ss", object_id, account_id);
    if (!st)
        return s_fail (self, err);
    rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        found = true;
        out->has_webhook = true;
        s_col_copy (st, 0, out->delivery_id, sizeof out->delivery_id);
        s_col_copy (st, 1, out->event_id, sizeof out->event_id);
        s_col_copy (st, 2, out->event_type, sizeof out->event_type);
        out->event_seq = sqlite3_column_int64 (st, 3);
        s_col_copy (st, 4, out->url, sizeof out->url);
        s_col_copy (st, 5, out->status, sizeof out->status);
        out->attempts = sqlite3_column_int (st, 6);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_fail (self, err);
    if (!found) {
        s_set_err (err, "not found");
        return -1;
    }
    return 0;
}

int
job_store_delivery_attempts (job_store_t *self, const char *delivery_id, int32_t limit,
                             void (*fn) (const job_store_attempt_t *a, void *arg), void *arg,
                             char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT at, status_code, latency_ms, error, response_head FROM"
        " (SELECT id, at, status_code, latency_ms, error, response_head FROM delivery_attempts"
        "  WHERE delivery_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
        "si", delivery_id, (int64_t) limit);
    if (!st)
        return s_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        job_store_attempt_t a = {
            .at_ms = sqlite3_column_int64 (st, 0),
            .status_code = sqlite3_column_int (st, 1),
            .latency_ms = sqlite3_column_int64 (st, 2),
            .error = (const char *) sqlite3_column_text (st, 3),
            .response_head = (const char *) sqlite3_column_text (st, 4),
        };
        fn (&a, arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_delivery_reset (job_store_t *self, const char *delivery_id, int64_t now_ms, char *err)
{
    if (s_run (self, err, "UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = ?"
                          " WHERE id = ?", "is", now_ms, delivery_id))
        return -1;
    if (sqlite3_changes (self->db) == 0) {
        s_set_err (err, "not found");
        return -1;
    }
    return s_run (self, err, "UPDATE renders SET webhook_status = 'pending' WHERE id ="
                             " (SELECT e.object_id FROM deliveries d JOIN events e"
                             "  ON e.seq = d.event_seq WHERE d.id = ?)", "s", delivery_id);
}

int
job_store_webhook_secret_rotate (job_store_t *self, const char *account_id, int64_t overlap_s,
                                 int64_t now_ms, char new_secret [80], char *err)
{
    uint8_t raw [32];
    char b64 [64];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    snprintf (new_secret, 80, "whsec_%s", b64);
    int64_t until = now_ms + (overlap_s > 0 ? overlap_s * 1000 : 0);
    if (s_savepoint (self, "SAVEPOINT"))
        return s_fail (self, err);
    /* only the previous secret keeps signing: an earlier overlap ends now (this
       also bounds the secrets an event carries, see PROTO's 256-byte cap) */
    int rc = s_run (self, err, "DELETE FROM webhook_secrets_old WHERE account_id = ?", "s", account_id);
    if (rc == 0 && overlap_s > 0)
        rc = s_run (self, err, "INSERT INTO webhook_secrets_old (account_id, secret, valid_until)"
                               " SELECT id, webhook_secret, ? FROM accounts WHERE id = ?",
                    "is", until, account_id);
    if (rc == 0)
        rc = s_run (self, err, "UPDATE accounts SET webhook_secret = ? WHERE id = ?", "ss",
                    new_secret, account_id);
    if (rc == 0 && sqlite3_changes (self->db) == 0) {
        s_set_err (err, "not found");
        rc = -1;
    }
    if (rc) {
        s_savepoint (self, "ROLLBACK TO");
        s_savepoint (self, "RELEASE");
        return -1;
    }
    return s_savepoint (self, "RELEASE") ? s_fail (self, err) : 0;
}

int
job_store_webhook_ed25519 (job_store_t *self, const char *account_id, int action,
                           char public_key [64], bool *enabled, char *err)
{
    public_key [0] = 0;
    *enabled = false;
    sqlite3_stmt *st = s_stmt (self, "SELECT count(*) FROM accounts WHERE id = ?", "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return s_fail (self, err);
    }
    bool exists = sqlite3_column_int (st, 0) > 0;
    sqlite3_reset (st);
    if (!exists) {
        s_set_err (err, "not found");
        return -1;
    }
    uint8_t pk [crypto_sign_PUBLICKEYBYTES], sk [crypto_sign_SECRETKEYBYTES];
    char pk64 [64], sk64 [128];
    crypto_sign_keypair (pk, sk);
    sodium_bin2base64 (pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64 (sk64, sizeof sk64, sk, sizeof sk, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero (sk, sizeof sk);
    int rc = s_run (self, err, "INSERT OR IGNORE INTO webhook_keys (account_id, public_key,"
                               " secret_key, enabled) VALUES (?, ?, ?, 0)", "sss",
                    account_id, pk64, sk64);
    sodium_memzero (sk64, sizeof sk64);
    if (rc == 0 && action != 0)
        rc = s_run (self, err, "UPDATE webhook_keys SET enabled = ? WHERE account_id = ?", "is",
                    (int64_t) (action == 1), account_id);
    if (rc)
        return -1;
    st = s_stmt (self, "SELECT public_key, enabled FROM webhook_keys WHERE account_id = ?",
                 "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return s_fail (self, err);
    }
    s_col_copy (st, 0, public_key, 64);
    *enabled = sqlite3_column_int (st, 1) != 0;
    sqlite3_reset (st);
    return 0;
}

/* ---- idempotency keys ---------------------------------------------------------------- */

int
job_store_idem_lookup (job_store_t *self, const char *account_id, const char *scope,
                       const char *key, const char *fingerprint, int64_t now_ms,
                       int64_t created_after_ms, job_store_idem_t *out, char *err)
{
    assert (self && account_id && scope && key && fingerprint && out);
    memset (out, 0, sizeof *out);
    sqlite3_stmt *st = s_stmt (self,
        "SELECT fingerprint, object_id, state, status, body, hold_until FROM idempotency_keys"
        " WHERE account_id = ? AND scope = ? AND key = ? AND created_at >= ?", "sssi",
        account_id, scope, key, created_after_ms);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? JOB_STORE_IDEM_NEW : s_fail (self, err);
    }
    char fp [65], state [16];
    s_col_copy (st, 0, fp, sizeof fp);
    s_col_copy (st, 1, out->object_id, sizeof out->object_id);
    s_col_copy (st, 2, state, sizeof state);
    out->status = sqlite3_column_int (st, 3);
    int64_t hold_until = sqlite3_column_int64 (st, 5);
    bool done = strcmp (state, "done") == 0;
    bool lapsed = !done && hold_until <= now_ms;
    if (strcmp (fp, fingerprint) == 0 && (done || (lapsed && out->status > 0))) {
        out->body = s_col_dup (st, 4);
        if (!out->body) {
            sqlite3_reset (st);
            s_set_err (err, "out of memory");
            return -1;
        }
    }
    sqlite3_reset (st);
    if (strcmp (fp, fingerprint) != 0)
        return JOB_STORE_IDEM_MISMATCH;
    if (done)
        return JOB_STORE_IDEM_REPLAY;
    if (!lapsed)
        return JOB_STORE_IDEM_IN_FLIGHT;
    /* the first request's answer was never stored: settle on the fallback, or forget it */
    if (out->status > 0)
        return s_run (self, err, "UPDATE idempotency_keys SET state = 'done'"
                                 " WHERE account_id = ? AND scope = ? AND key = ?", "sss",
                      account_id, scope, key) ? -1 : JOB_STORE_IDEM_REPLAY;
    return s_run (self, err, "DELETE FROM idempotency_keys WHERE account_id = ? AND scope = ?"
                             " AND key = ?", "sss", account_id, scope, key) ? -1 : JOB_STORE_IDEM_NEW;
}

int
job_store_idem_put (job_store_t *self, const char *account_id, const char *scope,
                    const char *key, const char *fingerprint, const char *object_id,
                    bool done, int32_t status, const char *body, int64_t hold_until_ms,
                    int64_t now_ms, char *err)
{
    assert (self && account_id && scope && key && fingerprint && object_id);
    return s_run (self, err,
        "INSERT OR REPLACE INTO idempotency_keys (account_id, scope, key, fingerprint, object_id,"
        " state, status, body, hold_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "ssssssisii", account_id, scope, key, fingerprint, object_id, done ? "done" : "in_flight",
        (int64_t) status, body ? body : "", hold_until_ms, now_ms);
}

int
job_store_idem_complete (job_store_t *self, const char *account_id, const char *scope,
                         const char *key, int32_t status, const char *body, char *err)
{
    /* only a success is kept: a refused request changed nothing, so it may run again */
    if (status < 200 || status > 299) {
        if (s_run (self, err, "DELETE FROM idempotency_keys WHERE account_id = ? AND scope = ?"
                              " AND key = ? AND state = 'in_flight'", "sss", account_id, scope, key))
            return -1;
    }
    else
    if (s_run (self, err, "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?"
                          " WHERE account_id = ? AND scope = ? AND key = ? AND state = 'in_flight'",
               "issss", (int64_t) status, body, account_id, scope, key))
        return -1;
    if (sqlite3_changes (self->db) == 0) {
        s_set_err (err, "not found");
        return -1;
    }
    return 0;
}

int
job_store_idem_sweep (job_store_t *self, int64_t before_ms, char *err)
{
    if (s_run (self, err, "DELETE FROM idempotency_keys WHERE created_at < ?", "i", before_ms))
        return -1;
    return sqlite3_changes (self->db);
}

/* ---- credits ----------------------------------------------------------------------------- */

/* Books the charge of a render that just became final: one credit per
   succeeded image, one ledger row (even for 0), the balance follows. */
static int
s_render_charge (job_store_t *self, const char *render_id, int64_t now_ms, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT r.account_id, a.credits, (SELECT coalesce(sum(t.price), 0) FROM tasks t"
        " WHERE t.render_id = r.id AND t.state = 'succeeded') FROM renders r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.id = ?", "s", render_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    char account [PROTO_ID_MAX];
    int64_t credits = 0, n = 0;
    if (rc == SQLITE_ROW) {
        s_col_copy (st, 0, account, sizeof account);
        credits = sqlite3_column_int64 (st, 1);
        n = sqlite3_column_int64 (st, 2);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    bool unlimited = credits == JOB_STORE_UNLIMITED;
    if (!unlimited
    &&  s_run (self, err, "UPDATE accounts SET credits = credits - ? WHERE id = ?", "is", n, account))
        return -1;
    return s_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason,"
                             " render_id, created_at) VALUES (?, ?, ?, 'render', ?, ?)", "siisi",
                  account, -n, unlimited ? (int64_t) 0 : credits - n, render_id, now_ms);
}

/* Credits held by the account's processing renders: their images not failed or canceled. */
static int
s_reserved (job_store_t *self, const char *account_id, int64_t *out, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT coalesce(sum(t.price), 0) FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE r.account_id = ? AND r.status = 'processing'"
        " AND t.state IN ('queued', 'leased', 'succeeded')", "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return s_fail (self, err);
    }
    *out = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return 0;
}

int
job_store_account_get (job_store_t *self, const char *account_id,
                       job_store_account_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    sqlite3_stmt *st = s_stmt (self,
        "SELECT a.id, a.name, a.credits, coalesce((SELECT -sum(amount) FROM ledger l"
        " WHERE l.account_id = a.id AND l.reason = 'render'), 0) FROM accounts a WHERE a.id = ?",
        "s", account_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        s_col_copy (st, 0, out->account_id, sizeof out->account_id);
        s_col_copy (st, 1, out->name, sizeof out->name);
        int64_t credits = sqlite3_column_int64 (st, 2);
        out->unlimited = credits == JOB_STORE_UNLIMITED;
        out->balance = out->unlimited ? 0 : credits;
        out->used = sqlite3_column_int64 (st, 3);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    return s_reserved (self, account_id, &out->reserved, err);
}

int
job_store_ledger_list (job_store_t *self, const char *account_id, int32_t limit,
                       void (*fn) (const job_store_ledger_entry_t *e, void *arg), void *arg,
                       char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT l.seq, l.amount, l.balance_after, a.credits = -1, l.reason, l.render_id, l.note,"
        " l.created_at FROM ledger l JOIN accounts a ON a.id = l.account_id"
        " WHERE l.account_id = ? ORDER BY l.seq DESC LIMIT ?", "si", account_id, (int64_t) limit);
    if (!st)
        return s_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        job_store_ledger_entry_t e;
        e.seq = sqlite3_column_int64 (st, 0);
        e.amount = sqlite3_column_int64 (st, 1);
        e.balance_after = sqlite3_column_int64 (st, 2);
        e.unlimited = sqlite3_column_int (st, 3) != 0;
        e.reason = (const char *) sqlite3_column_text (st, 4);
        e.render_id = (const char *) sqlite3_column_text (st, 5);
        e.note = (const char *) sqlite3_column_text (st, 6);
        e.created_at_ms = sqlite3_column_int64 (st, 7);
        if (!e.reason)
            e.reason = "";
        fn (&e, arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_credits_check (job_store_t *self, const char *account_id, int64_t images,
                         int64_t *available, char *err)
{
    /* on every create: the balance and the reservation only, never the ledger sum */
    sqlite3_stmt *st = s_stmt (self, "SELECT credits FROM accounts WHERE id = ?", "s", account_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    int64_t credits = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    if (credits == JOB_STORE_UNLIMITED)
        return 0;
    int64_t reserved = 0;
    if (s_reserved (self, account_id, &reserved, err))
        return -1;
    *available = credits - reserved;
    return images <= *available ? 0 : 1;
}

/* The account named by an acct_ id, a full sk_ key or a listed key prefix. */
static int
s_account_find (job_store_t *self, const char *who, char account_id [PROTO_ID_MAX], char *err)
{
    sqlite3_stmt *st;
    if (strncmp (who, "acct_", 5) == 0)
        st = s_stmt (self, "SELECT id FROM accounts WHERE id = ?", "s", who);
    else
    if (strncmp (who, "sk_", 3) == 0 && strlen (who) == 43) {
        char hash [65];
        util_sha256_hex (who, strlen (who), hash);
        st = s_stmt (self, "SELECT account_id FROM api_keys WHERE hash = ?", "s", hash);
    }
    else
        st = s_stmt (self, "SELECT DISTINCT account_id FROM api_keys WHERE prefix = ?", "s", who);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        s_col_copy (st, 0, account_id, PROTO_ID_MAX);
    int next = rc == SQLITE_ROW ? sqlite3_step (st) : rc;
    sqlite3_reset (st);
    if (rc == SQLITE_DONE) {
        s_set_err (err, "no such account");
        return -1;
    }
    if (rc != SQLITE_ROW || (next != SQLITE_DONE && next != SQLITE_ROW))
        return s_fail (self, err);
    if (next == SQLITE_ROW) {
        s_set_err (err, "ambiguous prefix");
        return -1;
    }
    return 0;
}

int
job_store_credits_add (job_store_t *self, const char *who, int64_t amount,
                       const char *note, char account_id [PROTO_ID_MAX],
                       int64_t *balance_out, char *err)
{
    assert (self && who && account_id);
    if (amount < 1 || amount > JOB_STORE_CREDITS_MAX) {
        s_set_err (err, "amount must be a whole number >= 1");
        return -1;
    }
    if (s_savepoint (self, "SAVEPOINT"))
        return s_fail (self, err);
    int rc = s_account_find (self, who, account_id, err);
    int64_t credits = 0;
    if (rc == 0) {
        sqlite3_stmt *st = s_stmt (self, "SELECT credits FROM accounts WHERE id = ?", "s", account_id);
        rc = st && sqlite3_step (st) == SQLITE_ROW ? 0 : s_fail (self, err);
        if (rc == 0)
            credits = sqlite3_column_int64 (st, 0);
        if (st)
            sqlite3_reset (st);
    }
    if (rc == 0 && credits == JOB_STORE_UNLIMITED) {
        s_set_err (err, "the account has unlimited credits");
        rc = -1;
    }
    if (rc == 0 && credits > JOB_STORE_CREDITS_MAX - amount) {
        s_set_err (err, "the balance would overflow");
        rc = -1;
    }
    int64_t now = util_now_ms ();
    if (rc == 0)
        rc = s_run (self, err, "UPDATE accounts SET credits = ? WHERE id = ?", "is",
                    credits + amount, account_id)
          || s_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason, note,"
                               " created_at) VALUES (?, ?, ?, 'topup', ?, ?)", "siisi",
                    account_id, amount, credits + amount, note, now) ? -1 : 0;
    if (rc) {
        s_savepoint (self, "ROLLBACK TO");
        s_savepoint (self, "RELEASE");
        return -1;
    }
    if (s_savepoint (self, "RELEASE"))
        return s_fail (self, err);
    if (balance_out)
        *balance_out = credits + amount;
    return 0;
}

/* ---- list and cancel ---------------------------------------------------------------------- */

int
job_store_render_list (job_store_t *self, const char *account_id, int32_t limit,
                       const char *starting_after, char (*ids) [PROTO_ID_MAX],
                       int32_t *n, bool *has_more, char *err)
{
    assert (self && account_id && ids && n && has_more && limit > 0);
    *n = 0;
    *has_more = false;
    int64_t before = INT64_MAX;
    if (starting_after && *starting_after) {
        sqlite3_stmt *st = s_stmt (self, "SELECT seq FROM renders WHERE id = ? AND account_id = ?",
                                   "ss", starting_after, account_id);
        if (!st)
            return s_fail (self, err);
        int rc = sqlite3_step (st);
        if (rc == SQLITE_ROW)
            before = sqlite3_column_int64 (st, 0);
        sqlite3_reset (st);
        if (rc != SQLITE_ROW)
            return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    }
    sqlite3_stmt *st = s_stmt (self,
        "SELECT id FROM renders WHERE account_id = ? AND seq < ? AND substr(id, 1, 4) <> 'job_'"
        " ORDER BY seq DESC LIMIT ?",
        "sii", account_id, before, (int64_t) limit + 1);
    if (!st)
        return s_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            continue;
        }
        s_col_copy (st, 0, ids [*n], PROTO_ID_MAX);
        (*n)++;
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_render_cancel (job_store_t *self, const char *render_id, const char *account_id,
                         int64_t now_ms, char *err)
{
    (void) now_ms;
    sqlite3_stmt *st = s_stmt (self, "SELECT status FROM renders WHERE id = ? AND account_id = ?",
                               "ss", render_id, account_id);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    char status [PROTO_SHORT_MAX] = "";
    if (rc == SQLITE_ROW)
        s_col_copy (st, 0, status, sizeof status);
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (s_set_err (err, "not found"), -1) : s_fail (self, err);
    if (strcmp (status, "processing") != 0) {
        if (err)
            snprintf (err, S_ERR_MAX, "finished: %s", status);
        return -1;
    }
    /* a leased task keeps renderer and lease: its slot stays busy until the
       late answer (job_store_task_release) or the lease runs out */
    return s_run (self, err, "UPDATE tasks SET state = 'canceled' WHERE render_id = ?"
                             " AND state IN ('queued', 'leased')", "s", render_id);
}

int
job_store_task_held_by (job_store_t *self, const char *task_id, int32_t attempt,
                        const char *renderer, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT 1 FROM tasks WHERE id = ? AND attempt = ? AND renderer = ?"
        " AND state IN ('leased', 'canceled')", "sis", task_id, (int64_t) attempt, renderer);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_task_release (job_store_t *self, const char *task_id, int32_t attempt, char *err)
{
    return s_run (self, err, "UPDATE tasks SET renderer = NULL WHERE id = ? AND attempt = ?"
                             " AND state = 'canceled'", "si", task_id, (int64_t) attempt);
}

int
job_store_render_running (job_store_t *self, const char *render_id,
                          void (*fn) (const char *renderer, const char *task_id,
                                      int32_t attempt, void *arg),
                          void *arg, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT renderer, id, attempt FROM tasks WHERE render_id = ? AND state = 'canceled'"
        " AND renderer IS NOT NULL ORDER BY renderer, id", "s", render_id);
    if (!st)
        return s_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        const char *renderer = (const char *) sqlite3_column_text (st, 0);
        const char *task_id = (const char *) sqlite3_column_text (st, 1);
        if (renderer && task_id)
            fn (renderer, task_id, sqlite3_column_int (st, 2), arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

/* ---- request ids (logs) ------------------------------------------------------ */

int
job_store_req_set (job_store_t *self, const char *object_id, const char *req, char *err)
{
    if (!req || !*req)
        return 0;
    return s_run (self, err, "INSERT OR REPLACE INTO request_ids (object_id, req) VALUES (?, ?)",
                  "ss", object_id, req) ? -1 : 0;
}

int
job_store_req_get (job_store_t *self, const char *object_id, char req [PROTO_ID_MAX])
{
    req [0] = 0;
    sqlite3_stmt *st = s_stmt (self,
        "SELECT req FROM request_ids WHERE object_id = ?1"
        " OR object_id = (SELECT render_id FROM tasks WHERE id = ?1) LIMIT 1", "s", object_id);
    if (!st)
        return -1;
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        s_col_copy (st, 0, req, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
job_store_task_state_counts (job_store_t *self, int64_t *queued, int64_t *leased)
{
    *queued = *leased = 0;
    sqlite3_stmt *st = s_stmt (self,
        "SELECT (SELECT count(*) FROM tasks WHERE state = 'queued'),"
        " (SELECT count(*) FROM tasks WHERE state = 'leased')", "");
    if (!st)
        return -1;
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        *queued = sqlite3_column_int64 (st, 0);
        *leased = sqlite3_column_int64 (st, 1);
    }
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
job_store_backup (job_store_t *self, const char *dest_path, char *err)
{
    assert (self && dest_path);
    char tmp [S_PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", dest_path) >= (int) sizeof tmp) {
        s_set_err (err, "backup path too long");
        return -1;
    }
    unlink (tmp);
    sqlite3 *dest = NULL;
    int rc = sqlite3_open_v2 (tmp, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3_backup *bk = rc == SQLITE_OK ? sqlite3_backup_init (dest, "main", self->db, "main") : NULL;
    if (!bk) {
        snprintf (err, S_ERR_MAX, "cannot start the backup into %s: %s", tmp,
                  dest ? sqlite3_errmsg (dest) : "out of memory");
        sqlite3_close (dest);
        unlink (tmp);
        return -1;
    }
    /* one step copies every page inside one read transaction: a snapshot */
    rc = sqlite3_backup_step (bk, -1);
    for (int tries = 0; (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < 100; tries++) {
        sqlite3_sleep (50);
        rc = sqlite3_backup_step (bk, -1);
    }
    int finish = sqlite3_backup_finish (bk);
    char check [64] = "";
    if (rc == SQLITE_DONE && finish == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2 (dest, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK
        &&  sqlite3_step (st) == SQLITE_ROW)
            snprintf (check, sizeof check, "%s", (const char *) sqlite3_column_text (st, 0));
        sqlite3_finalize (st);
    }
    if (rc != SQLITE_DONE || finish != SQLITE_OK || strcmp (check, "ok") != 0) {
        snprintf (err, S_ERR_MAX, "backup failed: %s%s%s",
                  rc != SQLITE_DONE ? sqlite3_errstr (rc) : sqlite3_errmsg (dest),
                  *check ? "; quick_check: " : "", check);
        sqlite3_close (dest);
        unlink (tmp);
        return -1;
    }
    sqlite3_close (dest);
    int fd = open (tmp, O_RDONLY);
    int synced = fd >= 0 ? fsync (fd) : -1;
    if (fd >= 0)
        close (fd);
    if (synced != 0 || rename (tmp, dest_path) != 0) {
        snprintf (err, S_ERR_MAX, "cannot write %s: %s", dest_path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

/* ---- storage: quota, retention, blob garbage collection ------------------------ */

bool
job_store_is_full (job_store_t *self)
{
    return sqlite3_errcode (self->db) == SQLITE_FULL;
}

void
job_store_stmt_cache_cap (job_store_t *self, int cap)
{
    assert (self && cap >= 0 && cap <= S_STMT_CACHE);
    self->cache_cap = cap < self->ncache ? self->ncache : cap;
}

int
job_store_storage_used (job_store_t *self, const char *account_id, int64_t *bytes, char *err)
{
    assert (self && account_id && bytes);
    sqlite3_stmt *st = s_stmt (self, "SELECT stored_bytes FROM accounts WHERE id = ?", "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return s_fail (self, err);
    }
    *bytes = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return 0;
}

/* Deletes one final render and every row that only it needs. The ledger
   keeps its rows (render_id then names a render that is gone). */
static int
s_render_delete (job_store_t *self, const char *render_id, char *err)
{
    return s_run (self, err, "UPDATE accounts SET stored_bytes = max(0, stored_bytes - (SELECT"
                             " r.inline_bytes + coalesce((SELECT sum(t.bytes) FROM tasks t"
                             " WHERE t.render_id = r.id), 0) FROM renders r WHERE r.id = ?1))"
                             " WHERE id = (SELECT account_id FROM renders WHERE id = ?1)",
                  "s", render_id)
        || s_run (self, err, "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id"
                             " FROM deliveries d JOIN events e ON e.seq = d.event_seq"
                             " WHERE e.object_id = ?)", "s", render_id)
        || s_run (self, err, "DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM events"
                             " WHERE object_id = ?)", "s", render_id)
        || s_run (self, err, "DELETE FROM events WHERE object_id = ?", "s", render_id)
        || s_run (self, err, "DELETE FROM request_ids WHERE object_id = ?", "s", render_id)
        || s_run (self, err, "DELETE FROM idempotency_keys WHERE object_id = ?", "s", render_id)
        || s_run (self, err, "DELETE FROM render_blobs WHERE render_id = ?", "s", render_id)
        || s_run (self, err, "DELETE FROM reviews WHERE render_id = ?", "s", render_id)
        || s_run (self, err, "DELETE FROM tasks WHERE render_id = ?", "s", render_id)
        || s_run (self, err, "DELETE FROM renders WHERE id = ? AND status <> 'processing'",
                  "s", render_id)
        ? -1 : 0;
}

int
job_store_retention_sweep (job_store_t *self, int64_t before_ms, int32_t limit, char *err)
{
    assert (self && limit > 0 && limit <= JOB_STORE_SWEEP_MAX);
    char ids [JOB_STORE_SWEEP_MAX][PROTO_ID_MAX];
    int n = 0;
    sqlite3_stmt *st = s_stmt (self,
        /* a webhook still being delivered keeps its render until it ends */
        "SELECT id FROM renders WHERE status <> 'processing' AND completed_at < ?"
        " AND webhook_status NOT IN ('pending', 'retrying')"
        " ORDER BY completed_at LIMIT ?", "ii", before_ms, (int64_t) limit);
    if (!st)
        return s_fail (self, err);
    int rc;
    while (n < limit && (rc = sqlite3_step (st)) == SQLITE_ROW)
        s_col_copy (st, 0, ids [n++], PROTO_ID_MAX);
    sqlite3_reset (st);
    for (int i = 0; i < n; i++)
        if (s_render_delete (self, ids [i], err))
            return -1;
    return n;
}

int
job_store_blob_gc (job_store_t *self, int32_t limit,
                   void (*fn) (const char *sha256, void *arg), void *arg, char *err)
{
    assert (self && limit > 0 && limit <= JOB_STORE_SWEEP_MAX && fn);
    char shas [JOB_STORE_SWEEP_MAX][65];
    int n = 0;
    /* mark: anything a task (output or input) or a render's inline image names */
    sqlite3_stmt *st = s_stmt (self,
        "SELECT b.sha256 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.input_sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM render_blobs rb WHERE rb.sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256) LIMIT ?",
        "i", (int64_t) limit);
    if (!st)
        return s_fail (self, err);
    while (n < limit && sqlite3_step (st) == SQLITE_ROW)
        s_col_copy (st, 0, shas [n++], 65);
    sqlite3_reset (st);
    for (int i = 0; i < n; i++) {
        if (s_run (self, err, "DELETE FROM blobs WHERE sha256 = ?", "s", shas [i]))
            return -1;
        fn (shas [i], arg);
    }
    return n;
}

/* ---- uploaded files --------------------------------------------------------- */

static void
s_upload_fill (sqlite3_stmt *st, job_store_upload_t *out)
{
    memset (out, 0, sizeof *out);
    s_col_copy (st, 0, out->id, sizeof out->id);
    s_col_copy (st, 1, out->account_id, sizeof out->account_id);
    s_col_copy (st, 2, out->sha256, sizeof out->sha256);
    out->bytes = sqlite3_column_int64 (st, 3);
    out->width = sqlite3_column_int (st, 4);
    out->height = sqlite3_column_int (st, 5);
    s_col_copy (st, 6, out->format, sizeof out->format);
    out->created_at_ms = sqlite3_column_int64 (st, 7);
    out->expires_at_ms = sqlite3_column_int64 (st, 8);
}

int
job_store_upload_find (job_store_t *self, const char *account_id, const char *id,
                       const char *sha256, int64_t now_ms, job_store_upload_t *out, char *err)
{
    assert (self && out && (id || (account_id && sha256)));
    sqlite3_stmt *st = id
        ? s_stmt (self, "SELECT id, account_id, sha256, bytes, width, height, format, created_at,"
                        " expires_at FROM files WHERE id = ?1 AND expires_at > ?2"
                        " AND (?3 IS NULL OR account_id = ?3)", "sis", id, now_ms, account_id)
        : s_stmt (self, "SELECT id, account_id, sha256, bytes, width, height, format, created_at,"
                        " expires_at FROM files WHERE account_id = ? AND sha256 = ? AND expires_at > ?",
                  "ssi", account_id, sha256, now_ms);
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        s_upload_fill (st, out);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : s_fail (self, err);
}

/* Takes expired rows of account + sha256 (or all expired, sha256 NULL, up to
   limit) off their accounts and deletes them. Number deleted, -1 on error. */
static int
s_upload_expire (job_store_t *self, const char *account_id, const char *sha256, int64_t now_ms,
                 int32_t limit, char *err)
{
    if (s_run (self, err, "UPDATE accounts SET stored_bytes = max(0, stored_bytes - coalesce((SELECT"
                          " sum(f.bytes) FROM (SELECT bytes, account_id FROM files WHERE expires_at <= ?1"
                          " AND (?2 IS NULL OR (account_id = ?2 AND sha256 = ?3)) ORDER BY expires_at"
                          " LIMIT ?4) f WHERE f.account_id = accounts.id), 0))", "issi",
               now_ms, account_id, sha256, (int64_t) limit))
        return -1;
    if (s_run (self, err, "DELETE FROM files WHERE id IN (SELECT id FROM files WHERE expires_at <= ?1"
                          " AND (?2 IS NULL OR (account_id = ?2 AND sha256 = ?3)) ORDER BY expires_at"
                          " LIMIT ?4)", "issi", now_ms, account_id, sha256, (int64_t) limit))
        return -1;
    return sqlite3_changes (self->db);
}

int
job_store_upload_put (job_store_t *self, job_store_upload_t *in, const char *content_type, char *err)
{
    assert (self && in && content_type);
    if (proto_id_new ("file_", in->id, sizeof in->id)) {
        s_set_err (err, "cannot make a file id");
        return -1;
    }
    return s_upload_expire (self, in->account_id, in->sha256, in->created_at_ms, 1, err) < 0
        || job_store_blob_add (self, in->sha256, in->bytes, content_type, err)
        || s_run (self, err, "INSERT INTO files (id, account_id, sha256, bytes, width, height, format,"
                             " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssiiisii",
                  in->id, in->account_id, in->sha256, in->bytes, (int64_t) in->width,
                  (int64_t) in->height, in->format, in->created_at_ms, in->expires_at_ms)
        || s_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + ? WHERE id = ?", "is",
                  in->bytes, in->account_id)
        ? -1 : 0;
}

int
job_store_upload_sweep (job_store_t *self, int64_t now_ms, int32_t limit, char *err)
{
    assert (self && limit > 0);
    return s_upload_expire (self, NULL, NULL, now_ms, limit, err);
}

int
job_store_blob_known (job_store_t *self, const char *sha256)
{
    sqlite3_stmt *st = s_stmt (self, "SELECT 1 FROM blobs WHERE sha256 = ?", "s", sha256);
    if (!st)
        return -1;
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
job_store_task_unlease (job_store_t *self, const char *task_id, int32_t attempt, char *err)
{
    return s_run (self, err, "UPDATE tasks SET state = 'queued', attempt = attempt - 1,"
                             " renderer = NULL, lease_expires_ms = 0"
                             " WHERE id = ? AND attempt = ? AND state = 'leased'",
                  "si", task_id, (int64_t) attempt);
}
