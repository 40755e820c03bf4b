/*  sqlite_core.c: the SQLite backend's handle (job_store.h): open (with the
    schema migrations of sqlite_schema.c), the statement cache and binding
    helpers every sqlite_*.c file uses (store_sqlite.h), transactions,
    savepoints, the online backup and the test hook on the cache size.
    Statements are prepared once and cached by the address of their SQL
    literal; bindings are described by a short format string.
    Thread: one handle belongs to one thread (the scheduler's loop, or the CLI).
    Memory: the handle owns its statements; out-structs are the caller's. */

#include "store_sqlite.h"
#include "store_schema.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers --------------------------------------------------------- */

void
store_set_err (char *err, const char *msg)
{
    if (err)
        snprintf (err, STORE_ERR_MAX, "%s", msg);
}

int
store_fail (job_store_t *self, char *err)
{
    if (err && self->cache_full)
        snprintf (err, STORE_ERR_MAX, "statement cache full (%d statements)", self->cache_cap);
    else
    if (err)
        snprintf (err, STORE_ERR_MAX, "sqlite: %s", sqlite3_errmsg (self->db));
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

sqlite3_stmt *
store_stmt (job_store_t *self, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    sqlite3_stmt *st = s_stmt_v (self, sql, fmt, ap);
    va_end (ap);
    return st;
}

/* Runs a statement that returns no rows. 0 / -1 (err filled). */
int
store_run (job_store_t *self, char *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    sqlite3_stmt *st = s_stmt_v (self, sql, fmt, ap);
    va_end (ap);
    if (!st || sqlite3_step (st) != SQLITE_DONE) {
        int rc = store_fail (self, err);
        if (st)
            sqlite3_reset (st);
        return rc;
    }
    sqlite3_reset (st);
    return 0;
}

/* Copies text column i into dst (cap size), "" for NULL. */
void
store_col_copy (sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const char *v = (const char *) sqlite3_column_text (st, i);
    snprintf (dst, size, "%s", v ? v : "");
}

/* Heap copy of text column i; NULL for NULL. */
char *
store_col_dup (sqlite3_stmt *st, int i)
{
    const char *v = (const char *) sqlite3_column_text (st, i);
    return v ? strdup (v) : NULL;
}

/* Account creation runs in a savepoint, so it is atomic alone (CLI) and also
   nests inside the scheduler's pass transaction. `what` is SAVEPOINT,
   RELEASE or ROLLBACK TO. */
int
store_savepoint (job_store_t *self, const char *what)
{
    char sql [64];
    snprintf (sql, sizeof sql, "%s acct", what);
    return sqlite3_exec (self->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
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
    if (store_run (self, err, "INSERT OR IGNORE INTO meta (key, value) VALUES ('url_secret', ?)",
                   "s", hex))
        return -1;
    sqlite3_stmt *st = store_stmt (self, "SELECT value FROM meta WHERE key = 'url_secret'", "");
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return store_fail (self, err);
    store_col_copy (st, 0, self->url_secret, sizeof self->url_secret);
    sqlite3_reset (st);
    return 0;
}

const store_ops_t store_sqlite_ops = STORE_OPS_TABLE ("sqlite");

/* Opens <data_dir>/easel.db; as_is: the database must exist and be at this
   Easel's schema (nothing is created or migrated), else it is made and
   brought up to date. */
job_store_t *
store_sqlite_open (const char *data_dir, bool as_is, char *err)
{
    assert (data_dir);
    if (sodium_init () < 0) {
        store_set_err (err, "libsodium failed to initialise");
        return NULL;
    }
    if (!as_is && mkdir (data_dir, 0700) != 0 && errno != EEXIST) {
        if (err)
            snprintf (err, STORE_ERR_MAX, "cannot create data dir %s: %s", data_dir, strerror (errno));
        return NULL;
    }
    char path [STORE_PATH_MAX];
    if (snprintf (path, sizeof path, "%s/easel.db", data_dir) >= (int) sizeof path) {
        store_set_err (err, "data dir path too long");
        return NULL;
    }
    job_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        store_set_err (err, "out of memory");
        return NULL;
    }
    self->head.ops = &store_sqlite_ops;
    self->cache_cap = S_STMT_CACHE;
    /* NOMUTEX: a handle belongs to one thread, so no lock per SQLite call */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (as_is ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2 (path, &self->db, flags, NULL) != SQLITE_OK
    ||  sqlite3_busy_timeout (self->db, 5000) != SQLITE_OK
    /* secure_delete: a final task's spec (capture headers are secrets) is
       overwritten with zeros in the file, not only unlinked from the tree */
    ||  sqlite3_exec (self->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
                      NULL, NULL, NULL) != SQLITE_OK) {
        store_fail (self, err);
        job_store_destroy (&self);
        return NULL;
    }
    /* each migration commits alone; a database of a newer schema is refused
       before any table or row is touched */
    if (!as_is && store_schema_migrate (self->db, store_migrations, store_migrations_n, err) != 0) {
        job_store_destroy (&self);
        return NULL;
    }
    int version = as_is ? store_schema_version (self->db) : STORE_SCHEMA_VERSION;
    if (version != STORE_SCHEMA_VERSION) {
        if (err)
            snprintf (err, STORE_ERR_MAX, "the database is at schema version %d and this Easel's is"
                      " %d: use the easel of the running scheduler, or stop it and run this one",
                      version, STORE_SCHEMA_VERSION);
        job_store_destroy (&self);
        return NULL;
    }
    /* as is: a reader beside the scheduler, which made the secret already */
    if (sqlite3_exec (self->db, as_is ? "BEGIN" : "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK
    ||  s_load_url_secret (self, err) != 0
    ||  sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        store_fail (self, err);
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
job_store_lease_take (job_store_t *self, const char *holder, int64_t ttl_ms, int64_t *token, char *err)
{
    (void) self, (void) holder, (void) ttl_ms, (void) err;
    *token = 0;                        /* the data dir's lock (data_lock.h) is the arbiter */
    return 1;
}

void
job_store_lease_fence (job_store_t *self, const char *holder, int64_t token, int64_t ttl_ms)
{
    (void) self, (void) holder, (void) token, (void) ttl_ms;
}

int
job_store_begin (job_store_t *self, char *err)
{
    return sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
         ? 0 : store_fail (self, err);
}

int
job_store_commit (job_store_t *self, char *err)
{
    return sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK
         ? 0 : store_fail (self, err);
}

void
job_store_rollback (job_store_t *self)
{
    if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- limits, tests and backup ---------------------------------------------- */

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
job_store_backup (job_store_t *self, const char *dest_path, char *err)
{
    assert (self && dest_path);
    char tmp [STORE_PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", dest_path) >= (int) sizeof tmp) {
        store_set_err (err, "backup path too long");
        return -1;
    }
    unlink (tmp);
    sqlite3 *dest = NULL;
    int rc = sqlite3_open_v2 (tmp, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3_backup *bk = rc == SQLITE_OK ? sqlite3_backup_init (dest, "main", self->db, "main") : NULL;
    if (!bk) {
        snprintf (err, STORE_ERR_MAX, "cannot start the backup into %s: %s", tmp,
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
        snprintf (err, STORE_ERR_MAX, "backup failed: %s%s%s",
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
        snprintf (err, STORE_ERR_MAX, "cannot write %s: %s", dest_path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

const char *
store_url_secret (job_store_t *self)
{
    return self->url_secret;
}

struct sqlite3 *
store_sqlite_db (job_store_t *self)
{
    return self && self->head.ops == &store_sqlite_ops ? self->db : NULL;
}
