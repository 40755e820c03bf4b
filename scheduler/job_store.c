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

#define S_ERR_MAX      256
#define S_STMT_CACHE   64
#define S_PATH_MAX     4096

struct _job_store_t {
    sqlite3 *db;
    char url_secret [65];          /* hex of 32 random bytes, kept in meta */
    struct { const char *sql; sqlite3_stmt *stmt; } cache [S_STMT_CACHE];
    int ncache;
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
    "CREATE INDEX IF NOT EXISTS delivery_attempts_delivery ON delivery_attempts(delivery_id);";

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
    if (err)
        snprintf (err, S_ERR_MAX, "sqlite: %s", sqlite3_errmsg (self->db));
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
        assert (self->ncache < S_STMT_CACHE);
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
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK
    ||  sqlite3_busy_timeout (self->db, 5000) != SQLITE_OK
    ||  sqlite3_exec (self->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                "PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK
    ||  sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        s_fail (self, err);
        job_store_destroy (&self);
        return NULL;
    }
    if (sqlite3_exec (self->db, s_schema, NULL, NULL, NULL) != SQLITE_OK
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
               hash, out->key_prefix, out->account_id, now)) {
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
        if (s_run (self, err, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale,"
                              " preset, width, height, format, spec, state)"
                              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued')", "ssiiissiisb",
                   task_id, render_id, render_seq, (int64_t) i, (int64_t) t->slide, t->locale,
                   t->preset, (int64_t) t->width, (int64_t) t->height, t->format,
                   (const void *) t->spec, t->spec_len))
            return -1;
    }
    return 0;
}

/* Fills one image from a tasks row (columns as in job_store_render_get). */
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
        " attempt, error_code, error_message, error_param"
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
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_render_next_settled (job_store_t *self, char render_id [PROTO_ID_MAX], char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT r.id FROM renders r WHERE r.status = 'processing' AND NOT EXISTS"
        " (SELECT 1 FROM tasks t WHERE t.render_id = r.id AND t.state IN ('queued', 'leased'))"
        " LIMIT 1", "");
    if (!st)
        return s_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        s_col_copy (st, 0, render_id, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : s_fail (self, err);
}

int
job_store_render_complete (job_store_t *self, const char *render_id, int64_t now_ms, char *err)
{
    return s_run (self, err,
        "UPDATE renders SET completed_at = ?2, status = CASE WHEN EXISTS (SELECT 1 FROM tasks"
        " WHERE render_id = ?1 AND state <> 'succeeded') THEN 'failed' ELSE 'succeeded' END"
        " WHERE id = ?1 AND status = 'processing'", "si", render_id, now_ms);
}

/* ---- tasks --------------------------------------------------------------------- */

int
job_store_task_lease_next (job_store_t *self, const char *renderer, int64_t now_ms,
                           int64_t lease_ms, proto_task_t *out, char *err)
{
    assert (self && renderer && out);
    sqlite3_stmt *st = s_stmt (self,
        "SELECT id, attempt, spec FROM tasks WHERE state = 'queued'"
        " ORDER BY render_seq, idx LIMIT 1", "");
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
    return 1;
}

int
job_store_task_leased_counts (job_store_t *self,
                              void (*fn) (const char *renderer, int64_t n, void *arg),
                              void *arg, char *err)
{
    sqlite3_stmt *st = s_stmt (self,
        "SELECT renderer, count(*) FROM tasks WHERE state = 'leased' GROUP BY renderer", "");
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
    if (s_run (self, err, "UPDATE tasks SET state = 'succeeded', sha256 = ?, bytes = ?, width = ?,"
                          " height = ?, renderer = NULL, lease_expires_ms = 0"
                          " WHERE id = ? AND attempt = ? AND state = 'leased'", "siiisi",
               sha256, (int64_t) result->len, (int64_t) result->width, (int64_t) result->height,
               result->task_id, (int64_t) result->attempt))
        return -1;
    if (sqlite3_changes (self->db) == 0) {
        s_set_err (err, "stale");
        return -1;
    }
    return 0;
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

/* ---- events and deliveries ------------------------------------------------------- */

int
job_store_event_add (job_store_t *self, const char *event_id, const char *type,
                     const char *account_id, const char *object_id, int64_t created_at_ms,
                     const char *payload, const char *webhook_url, int64_t *seq_out,
                     char *err)
{
    if (s_run (self, err, "INSERT INTO events (id, type, account_id, object_id, created_at, payload)"
                          " VALUES (?, ?, ?, ?, ?, ?)", "ssssis",
               event_id, type, account_id, object_id, created_at_ms, payload))
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
        "SELECT e.seq, e.id, e.type, e.object_id, e.created_at, d.id, d.url, a.webhook_secret,"
        " e.payload, d.attempts FROM events e JOIN deliveries d ON d.event_seq = e.seq"
        " JOIN accounts a ON a.id = e.account_id"
        " WHERE e.seq > ? AND d.status IN ('pending', 'retrying') ORDER BY e.seq LIMIT ?",
        "ii", since, (int64_t) limit);
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
