/*  pg_core.c: the PostgreSQL backend's handle (job_store.h over libpq):
    open (connect, then the schema migrations of pg_schema.c), the
    prepared-statement cache and binding helpers every pg_*.c file uses
    (store_pg.h), transactions, the account savepoint, and the answers a
    server database gives differently from a file: a full disk is SQLSTATE
    53100, and `easel backup` is pg_dump's job.
    Statements are prepared once per connection and cached by the address
    of their SQL literal; values are always parameters ($n), described by
    a short format string. A lost connection is reset at the next begin
    (its prepared statements go with it and are prepared again).
    Thread: one handle belongs to one thread (the scheduler's loop, or the CLI).
    Memory: the handle owns its connection; results are the caller's. */

#include "store_pg.h"

#include <stdarg.h>

#define S_BYTEA_OID 17
#define S_INT8_OID  20
#define S_TEXT_OID  25

/* ---- errors ------------------------------------------------------------------ */

void
pg_set_err (char *err, const char *msg)
{
    if (err)
        snprintf (err, STORE_ERR_MAX, "%s", msg);
}

/* The first line of a libpq message (they end in newlines, and DETAIL
   lines may quote values). */
static void
s_first_line (char *err, const char *prefix, const char *msg)
{
    if (!err)
        return;
    size_t n = strcspn (msg ? msg : "", "\n");
    snprintf (err, STORE_ERR_MAX, "%s%.*s", prefix, (int) (n > 200 ? 200 : n), msg ? msg : "");
}

int
pg_fail (job_store_t *self, PGresult *res, char *err)
{
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    snprintf (self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    if (self->cache_full) {
        if (err)
            snprintf (err, STORE_ERR_MAX, "statement cache full (%d statements)", self->cache_cap);
    }
    else
    if (res && *PQresultErrorMessage (res))
        s_first_line (err, "postgresql: ", PQresultErrorMessage (res));
    else
        s_first_line (err, "postgresql: ", PQerrorMessage (self->conn));
    self->cache_full = false;
    PQclear (res);
    return -1;
}

/* ---- statements -------------------------------------------------------------- */

/* The cache slot of sql, prepared on first use with the parameter types
   of fmt. -1 when the cache is full or the prepare fails (*res then holds
   the failed result, or NULL). */
static int
s_prepared (job_store_t *self, const char *sql, const char *fmt, PGresult **res)
{
    *res = NULL;
    for (int i = 0; i < self->ncache; i++)
        if (self->cache [i] == sql)
            return i;
    /* a real check, not an assert: release builds must refuse too */
    if (self->ncache >= self->cache_cap) {
        self->cache_full = true;
        return -1;
    }
    Oid types [PG_PARAMS_MAX];
    int n = (int) strlen (fmt);
    assert (n <= PG_PARAMS_MAX);
    for (int i = 0; i < n; i++)
        types [i] = fmt [i] == 's' ? S_TEXT_OID : fmt [i] == 'i' ? S_INT8_OID : S_BYTEA_OID;
    char name [16];
    snprintf (name, sizeof name, "s%d", self->ncache);
    PGresult *r = PQprepare (self->conn, name, sql, n, types);
    if (!r || PQresultStatus (r) != PGRES_COMMAND_OK) {
        *res = r;
        return -1;
    }
    PQclear (r);
    self->cache [self->ncache] = sql;
    return self->ncache++;
}

/* Runs sql with the arguments of ap per fmt; the result, whatever its
   status, or NULL with *failed set when it could not run. */
static PGresult *
s_exec_v (job_store_t *self, const char *sql, const char *fmt, va_list ap, PGresult **failed)
{
    int slot = s_prepared (self, sql, fmt, failed);
    if (slot < 0)
        return NULL;
    const char *values [PG_PARAMS_MAX];
    int lengths [PG_PARAMS_MAX], formats [PG_PARAMS_MAX];
    char nums [PG_PARAMS_MAX][24];
    int n = (int) strlen (fmt);
    for (int i = 0; i < n; i++) {
        lengths [i] = 0;
        formats [i] = 0;
        if (fmt [i] == 's')
            values [i] = va_arg (ap, const char *);
        else
        if (fmt [i] == 'i') {
            snprintf (nums [i], sizeof nums [i], "%lld", (long long) va_arg (ap, int64_t));
            values [i] = nums [i];
        }
        else {
            assert (fmt [i] == 'b');
            const void *p = va_arg (ap, const void *);
            size_t len = va_arg (ap, size_t);
            assert (len <= INT32_MAX);
            values [i] = p ? p : "";
            lengths [i] = (int) len;
            formats [i] = 1;        /* binary: the bytes as they are */
        }
    }
    char name [16];
    snprintf (name, sizeof name, "s%d", slot);
    return PQexecPrepared (self->conn, name, n, values, lengths, formats, 0);
}

PGresult *
pg_query (job_store_t *self, char *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    PGresult *failed = NULL;
    PGresult *res = s_exec_v (self, sql, fmt, ap, &failed);
    va_end (ap);
    if (!res) {
        pg_fail (self, failed, err);
        return NULL;
    }
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        pg_fail (self, res, err);
        return NULL;
    }
    return res;
}

int
pg_run (job_store_t *self, char *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    PGresult *failed = NULL;
    PGresult *res = s_exec_v (self, sql, fmt, ap, &failed);
    va_end (ap);
    if (!res)
        return pg_fail (self, failed, err);
    ExecStatusType st = PQresultStatus (res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return pg_fail (self, res, err);
    const char *n = PQcmdTuples (res);
    self->changes = *n ? strtoll (n, NULL, 10) : 0;
    PQclear (res);
    return 0;
}

int
pg_exec (job_store_t *self, const char *sql, char *err)
{
    PGresult *res = PQexec (self->conn, sql);
    if (!res || PQresultStatus (res) != PGRES_COMMAND_OK)
        return pg_fail (self, res, err);
    PQclear (res);
    return 0;
}

/* ---- columns ----------------------------------------------------------------- */

int64_t
pg_i64 (const PGresult *res, int r, int c)
{
    if (PQgetisnull (res, r, c))
        return 0;
    const char *v = PQgetvalue (res, r, c);
    if (v [0] == 't' && !v [1])
        return 1;
    if (v [0] == 'f' && !v [1])
        return 0;
    return strtoll (v, NULL, 10);
}

void
pg_copy (const PGresult *res, int r, int c, char *dst, size_t size)
{
    snprintf (dst, size, "%s", PQgetisnull (res, r, c) ? "" : PQgetvalue (res, r, c));
}

char *
pg_dup (const PGresult *res, int r, int c)
{
    return PQgetisnull (res, r, c) ? NULL : strdup (PQgetvalue (res, r, c));
}

const char *
pg_text (const PGresult *res, int r, int c)
{
    return PQgetisnull (res, r, c) ? NULL : PQgetvalue (res, r, c);
}

int
pg_bytea (const PGresult *res, int r, int c, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t n = 0;
    unsigned char *raw = PQgetisnull (res, r, c) ? NULL
                       : PQunescapeBytea ((const unsigned char *) PQgetvalue (res, r, c), &n);
    if (!PQgetisnull (res, r, c) && !raw)
        return -1;
    *out = malloc (n ? n : 1);
    if (*out && n)
        memcpy (*out, raw, n);
    if (raw)
        PQfreemem (raw);
    *len = *out ? n : 0;
    return *out ? 0 : -1;
}

/* ---- the account savepoint --------------------------------------------------- */

int
pg_sp_begin (job_store_t *self, char *err)
{
    self->sp_own = PQtransactionStatus (self->conn) == PQTRANS_IDLE;
    return pg_exec (self, self->sp_own ? "BEGIN" : "SAVEPOINT acct", err);
}

int
pg_sp_end (job_store_t *self, bool ok, char *err)
{
    if (ok)
        return pg_exec (self, self->sp_own ? "COMMIT" : "RELEASE SAVEPOINT acct", err);
    char ignored [STORE_ERR_MAX];
    if (self->sp_own)
        pg_exec (self, "ROLLBACK", ignored);
    else
    if (pg_exec (self, "ROLLBACK TO SAVEPOINT acct", ignored) == 0)
        pg_exec (self, "RELEASE SAVEPOINT acct", ignored);
    return 0;
}

/* ---- open / close ------------------------------------------------------------ */

static void
s_notice_quiet (void *arg, const char *message)
{
    (void) arg;
    (void) message;
}

/* The URL secret from meta, made first unless as_is (a reader beside the
   scheduler, which made it). */
static int
s_load_url_secret (job_store_t *self, bool as_is, char *err)
{
    uint8_t raw [32];
    char hex [65];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
    /* insert unless present, then read: two processes opening a new database agree */
    if (!as_is && pg_run (self, err, "INSERT INTO meta (key, value) VALUES ('url_secret', $1)"
                           " ON CONFLICT (key) DO NOTHING", "s", hex))
        return -1;
    PGresult *res = pg_query (self, err, "SELECT value FROM meta WHERE key = 'url_secret'", "");
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        pg_set_err (err, "postgresql: the url secret is missing from meta");
        return -1;
    }
    pg_copy (res, 0, 0, self->url_secret, sizeof self->url_secret);
    PQclear (res);
    return 0;
}

const store_ops_t store_pg_ops = STORE_OPS_TABLE ("postgresql");

job_store_t *
store_pg_open (const char *url, bool as_is, char *err)
{
    assert (url);
    if (sodium_init () < 0) {
        pg_set_err (err, "libsodium failed to initialise");
        return NULL;
    }
    job_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        pg_set_err (err, "out of memory");
        return NULL;
    }
    self->head.ops = &store_pg_ops;
    self->cache_cap = PG_STMT_CACHE;
    char timeout [16];
    snprintf (timeout, sizeof timeout, "%d", PG_CONNECT_TIMEOUT_S);
    /* the URL's own settings come last and win over these defaults; a
       silent link fails a call in seconds (unacknowledged data for
       PG_TCP_USER_TIMEOUT_MS, or an idle connection's keepalives unanswered
       for about 9 s) instead of as long as TCP retries, so a scheduler cut
       off from its database stops waiting and the next pass reconnects */
    char user_timeout [16];
    snprintf (user_timeout, sizeof user_timeout, "%d", PG_TCP_USER_TIMEOUT_MS);
    const char *keys [] = { "connect_timeout", "application_name", "keepalives", "keepalives_idle",
                            "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname", NULL };
    const char *values [] = { timeout, "easel", "1", "5", "2", "2", user_timeout, url, NULL };
    self->conn = PQconnectdbParams (keys, values, 1);
    if (!self->conn || PQstatus (self->conn) != CONNECTION_OK) {
        if (self->conn)
            s_first_line (err, "cannot connect to PostgreSQL: ", PQerrorMessage (self->conn));
        else
            pg_set_err (err, "out of memory");
        job_store_destroy (&self);
        return NULL;
    }
    PQsetNoticeProcessor (self->conn, s_notice_quiet, NULL);
    /* each migration commits alone; a database of a newer schema is refused
       before any table or row is touched */
    if (!as_is && pg_schema_migrate (self->conn, pg_migrations, pg_migrations_n, err) != 0) {
        job_store_destroy (&self);
        return NULL;
    }
    int version = as_is ? pg_schema_version (self->conn) : PG_SCHEMA_VERSION;
    if (version != PG_SCHEMA_VERSION) {
        if (version < 0)
            s_first_line (err, "postgresql: reading the schema version: ", PQerrorMessage (self->conn));
        else
        if (err)
            snprintf (err, STORE_ERR_MAX, "the database is at schema version %d and this Easel's is"
                      " %d: use the easel of the running scheduler, or stop it and run this one",
                      version, PG_SCHEMA_VERSION);
        job_store_destroy (&self);
        return NULL;
    }
    if (s_load_url_secret (self, as_is, err) != 0) {
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
    if (self->conn)
        PQfinish (self->conn);
    free (self);
    *self_p = NULL;
}

/* ---- transactions ------------------------------------------------------------ */

int
job_store_begin (job_store_t *self, char *err)
{
    /* a connection lost since the last pass: connect again, prepare again */
    if (PQstatus (self->conn) != CONNECTION_OK) {
        PQreset (self->conn);
        self->ncache = 0;
        if (PQstatus (self->conn) != CONNECTION_OK)
            return pg_fail (self, NULL, err);
    }
    return pg_exec (self, "BEGIN", err);
}

/* The database's clock in ms since the epoch, as SQL. */
#define S_DB_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

int
job_store_lease_take (job_store_t *self, const char *holder, int64_t ttl_ms, int64_t *token, char *err)
{
    assert (self && holder && token);
    *token = 0;
    if (PQstatus (self->conn) != CONNECTION_OK) {
        PQreset (self->conn);
        self->ncache = 0;
        if (PQstatus (self->conn) != CONNECTION_OK)
            return pg_fail (self, NULL, err);
    }
    /* one statement, atomic: a new row, a renewal by its holder, or a take
       over an expired lease (the token grows) */
    PGresult *res = pg_query (self, err,
        "INSERT INTO scheduler_lease (id, holder, token, expires_at)"
        " VALUES (1, $1, 1, " S_DB_NOW_MS " + $2::bigint)"
        " ON CONFLICT (id) DO UPDATE SET"
        "   token = CASE WHEN scheduler_lease.holder = EXCLUDED.holder THEN scheduler_lease.token"
        "           ELSE scheduler_lease.token + 1 END,"
        "   holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at"
        " WHERE scheduler_lease.holder = EXCLUDED.holder"
        "    OR scheduler_lease.expires_at < " S_DB_NOW_MS
        " RETURNING token", "si", holder, ttl_ms);
    if (!res)
        return -1;
    int held = PQntuples (res) == 1;
    if (held)
        *token = pg_i64 (res, 0, 0);
    PQclear (res);
    return held;
}

void
job_store_lease_fence (job_store_t *self, const char *holder, int64_t token, int64_t ttl_ms)
{
    assert (self && holder);
    snprintf (self->lease_holder, sizeof self->lease_holder, "%s", holder);
    self->lease_token = token;
    self->lease_ttl_ms = ttl_ms;
}

int
job_store_commit (job_store_t *self, char *err)
{
    /* the fence: this transaction commits only under the lease it renews */
    if (self->lease_token > 0) {
        char why [STORE_ERR_MAX] = "";
        /* the token decides, not the clock: a lease that ran out while this
           scheduler was cut off is still its own until another takes it
           (which changes the token); the row lock orders this renewal and
           a standby's take */
        if (pg_run (self, why, "UPDATE scheduler_lease SET expires_at = " S_DB_NOW_MS " + $3::bigint"
                               " WHERE id = 1 AND holder = $1 AND token = $2::bigint", "sii",
                    self->lease_holder, self->lease_token, self->lease_ttl_ms) != 0
        ||  self->changes != 1) {
            job_store_rollback (self);
            if (err)
                snprintf (err, STORE_ERR_MAX, JOB_STORE_LEASE_LOST ": %s", why [0] ? why
                          : "another scheduler holds the database's lease now; nothing of this pass"
                            " was committed");
            return -1;
        }
    }
    /* COMMIT of a failed transaction answers ROLLBACK, not an error */
    PGresult *res = PQexec (self->conn, "COMMIT");
    if (!res || PQresultStatus (res) != PGRES_COMMAND_OK)
        return pg_fail (self, res, err);
    bool rolled_back = strcmp (PQcmdStatus (res), "ROLLBACK") == 0;
    PQclear (res);
    if (rolled_back) {
        pg_set_err (err, "postgresql: the transaction failed and was rolled back");
        return -1;
    }
    return 0;
}

void
job_store_rollback (job_store_t *self)
{
    if (PQtransactionStatus (self->conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec (self->conn, "ROLLBACK");
        PQclear (res);
    }
}

/* ---- limits, tests and backup ------------------------------------------------ */

bool
job_store_is_full (job_store_t *self)
{
    return strcmp (self->sqlstate, "53100") == 0;      /* disk_full */
}

void
job_store_stmt_cache_cap (job_store_t *self, int cap)
{
    assert (self && cap >= 0 && cap <= PG_STMT_CACHE);
    self->cache_cap = cap < self->ncache ? self->ncache : cap;
}

int
job_store_backup (job_store_t *self, const char *dest_path, char *err)
{
    (void) self;
    (void) dest_path;
    pg_set_err (err, "the job store is on PostgreSQL (EASEL_DATABASE_URL): back it up with"
                     " pg_dump, e.g. pg_dump -Fc -f easel.dump \"$EASEL_DATABASE_URL\""
                     " (see docs/operations.md, PostgreSQL)");
    return -1;
}

const char *
store_url_secret (job_store_t *self)
{
    return self->url_secret;
}

struct pg_conn *
store_pg_conn (job_store_t *self)
{
    return self && self->head.ops == &store_pg_ops ? self->conn : NULL;
}
