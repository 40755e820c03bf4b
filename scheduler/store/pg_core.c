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

/* The cache slot of sql, a new one (PG_PREP_NONE) when it has none. -1
   when the cache is full. */
static int
s_slot (job_store_t *self, const char *sql)
{
    for (int i = 0; i < self->ncache; i++)
        if (self->cache [i] == sql)
            return i;
    /* a real check, not an assert: release builds must refuse too */
    if (self->ncache >= self->cache_cap) {
        self->cache_full = true;
        return -1;
    }
    self->cache [self->ncache] = sql;
    self->cache_state [self->ncache] = PG_PREP_NONE;
    return self->ncache++;
}

static void
s_types (const char *fmt, Oid *types)
{
    int n = (int) strlen (fmt);
    assert (n <= PG_PARAMS_MAX);
    for (int i = 0; i < n; i++)
        types [i] = fmt [i] == 's' ? S_TEXT_OID : fmt [i] == 'i' ? S_INT8_OID : S_BYTEA_OID;
}

/* The cache slot of sql, prepared on first use with the parameter types
   of fmt (outside a pass: the answer is waited for). -1 when the cache is
   full or the prepare fails (*res then holds the failed result, or NULL). */
static int
s_prepared (job_store_t *self, const char *sql, const char *fmt, PGresult **res)
{
    *res = NULL;
    int slot = s_slot (self, sql);
    if (slot < 0 || self->cache_state [slot] == PG_PREP_DONE)
        return slot;
    Oid types [PG_PARAMS_MAX];
    s_types (fmt, types);
    char name [16];
    snprintf (name, sizeof name, "s%d", slot);
    PGresult *r = PQprepare (self->conn, name, sql, (int) strlen (fmt), types);
    if (!r || PQresultStatus (r) != PGRES_COMMAND_OK) {
        *res = r;
        return -1;
    }
    PQclear (r);
    self->cache_state [slot] = PG_PREP_DONE;
    return slot;
}

/* The values of fmt's parameters from ap, in the arrays libpq takes. */
typedef struct {
    const char *values [PG_PARAMS_MAX];
    int lengths [PG_PARAMS_MAX], formats [PG_PARAMS_MAX];
    char nums [PG_PARAMS_MAX][24];
    int n;
} s_params_t;

static void
s_params (s_params_t *p, const char *fmt, va_list ap)
{
    p->n = (int) strlen (fmt);
    for (int i = 0; i < p->n; i++) {
        p->lengths [i] = 0;
        p->formats [i] = 0;
        if (fmt [i] == 's')
            p->values [i] = va_arg (ap, const char *);
        else
        if (fmt [i] == 'i') {
            snprintf (p->nums [i], sizeof p->nums [i], "%lld", (long long) va_arg (ap, int64_t));
            p->values [i] = p->nums [i];
        }
        else {
            assert (fmt [i] == 'b');
            const void *v = va_arg (ap, const void *);
            size_t len = va_arg (ap, size_t);
            assert (len <= INT32_MAX);
            p->values [i] = v ? v : "";
            p->lengths [i] = (int) len;
            p->formats [i] = 1;        /* binary: the bytes as they are */
        }
    }
}

/* FNV-1a of the parameters' bytes (and their lengths and NULLs): what
   tells an answer sent ahead from one of other arguments. */
static uint64_t
s_params_hash (const s_params_t *p)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < p->n; i++) {
        size_t len = !p->values [i] ? 0 : p->formats [i] ? (size_t) p->lengths [i] : strlen (p->values [i]);
        uint8_t head [9] = { p->values [i] ? 1 : 0 };
        for (int b = 0; b < 8; b++)
            head [1 + b] = (uint8_t) ((uint64_t) len >> (8 * b));
        for (size_t b = 0; b < sizeof head; b++)
            h = (h ^ head [b]) * 1099511628211ULL;
        for (size_t b = 0; b < len; b++)
            h = (h ^ (uint8_t) p->values [i][b]) * 1099511628211ULL;
    }
    return h;
}

/* Runs sql with the arguments of ap per fmt, outside a pass; the result,
   whatever its status, or NULL with *failed set when it could not run. */
static PGresult *
s_exec_v (job_store_t *self, const char *sql, const char *fmt, va_list ap, PGresult **failed)
{
    int slot = s_prepared (self, sql, fmt, failed);
    if (slot < 0)
        return NULL;
    s_params_t p;
    s_params (&p, fmt, ap);
    char name [16];
    snprintf (name, sizeof name, "s%d", slot);
    return PQexecPrepared (self->conn, name, p.n, p.values, p.lengths, p.formats, 0);
}

/* ---- the pass's pipeline ----------------------------------------------------- */

/* What an entry of self->pend is: its answer decides what a failure means. */
#define S_PEND_DEFER   'd'     /* sent without waiting: a failure fails the pass */
#define S_PEND_FENCE   'f'     /* the lease fence: division by zero is a lost lease */
#define S_PEND_PREPARE 'p'     /* the prepare of cache slot `slot` */
#define S_PEND_WAIT    'w'     /* the statement whose answer the caller waits for */
#define S_PEND_SYNC    'y'     /* a pipeline sync point */
#define S_PEND_AHEAD   'a'     /* a read sent by pg_query_ahead: kept for its pg_query */

static void
s_pend (job_store_t *self, char kind, int slot)
{
    assert (self->npend < PG_PIPELINE_MAX + 4);
    self->pend [self->npend].kind = kind;
    self->pend [self->npend].slot = slot;
    self->npend++;
}

/* Notes the failure res (NULL: the connection's) into first (the first
   failure of this read) and its SQLSTATE. */
static void
s_pipe_note (job_store_t *self, const PGresult *res, char *first)
{
    if (*first)
        return;
    const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
    snprintf (self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    const char *msg = res && *PQresultErrorMessage (res) ? PQresultErrorMessage (res)
                    : PQerrorMessage (self->conn);
    s_first_line (first, "postgresql: ", msg && *msg ? msg : "the connection was lost");
}

/* Takes the answers of everything sent (after a sync), in order: prepares mark their slot prepared (or to
   prepare again), a failure sends a sync so the server answers what it
   skipped. The result of the S_PEND_WAIT entry, when it succeeded, goes
   to *wait (the caller's). A deferred statement or the fence that failed
   fails the pass (self->pipe_failed, self->pipe_err). 0, or -1 with err
   filled with the first failure. */
static int
s_pipe_read (job_store_t *self, PGresult **wait, char *err)
{
    char first [STORE_ERR_MAX] = "";
    if (wait)
        *wait = NULL;
    /* a sync, not a flush request: the server answers a sync with
       ReadyForQuery, and only then counts the session idle in its
       transaction, the state whose timeout frees the locks of a scheduler
       cut off mid-pass (s_session_settings); inside the transaction a sync
       commits nothing */
    bool synced = self->npend > 0 && self->pend [self->npend - 1].kind == S_PEND_SYNC;
    if (self->npend > 0 && !synced) {
        if (!PQpipelineSync (self->conn))
            s_pipe_note (self, NULL, first);
        else
            s_pend (self, S_PEND_SYNC, 0);
        synced = true;
    }
    if (PQflush (self->conn) != 0)
        s_pipe_note (self, NULL, first);
    bool lost = *first != '\0';
    for (int i = 0; i < self->npend && !lost; i++) {
        char kind = self->pend [i].kind;
        PGresult *res = PQgetResult (self->conn);
        if (kind == S_PEND_SYNC) {
            if (!res || PQresultStatus (res) != PGRES_PIPELINE_SYNC) {
                s_pipe_note (self, res, first);
                lost = true;
            }
            PQclear (res);
            continue;
        }
        if (!res) {
            s_pipe_note (self, NULL, first);
            lost = true;
            break;
        }
        ExecStatusType st = PQresultStatus (res);
        bool ok = st == PGRES_COMMAND_OK || (st == PGRES_TUPLES_OK && kind != S_PEND_PREPARE);
        if (kind == S_PEND_PREPARE)
            self->cache_state [self->pend [i].slot] = ok ? PG_PREP_DONE : PG_PREP_NONE;
        if (!ok) {
            if (kind == S_PEND_FENCE) {
                const char *state = PQresultErrorField (res, PG_DIAG_SQLSTATE);
                self->fence_lost = state && strcmp (state, "22012") == 0;
            }
            if (st != PGRES_PIPELINE_ABORTED)
                s_pipe_note (self, res, first);
            else
            if (!*first)
                snprintf (first, STORE_ERR_MAX, "%s", self->pipe_err [0] ? self->pipe_err
                          : "postgresql: an earlier statement of this pass failed");
            if (kind == S_PEND_DEFER || kind == S_PEND_FENCE)
                self->pipe_failed = true;
            /* the server skips everything up to a sync after an error */
            if (!synced) {
                if (!PQpipelineSync (self->conn)) {
                    lost = true;
                    s_pipe_note (self, NULL, first);
                }
                s_pend (self, S_PEND_SYNC, 0);
                synced = true;
            }
        }
        if (ok && kind == S_PEND_WAIT && wait)
            *wait = res;
        else
        if (ok && kind == S_PEND_AHEAD && st == PGRES_TUPLES_OK) {
            for (int a = 0; a < self->nahead; a++)
                if (self->ahead [a].slot == self->pend [i].slot && !self->ahead [a].res) {
                    self->ahead [a].res = res;
                    res = NULL;
                    break;
                }
            PQclear (res);
        }
        else
            PQclear (res);
        /* each statement's answers end with a NULL */
        while ((res = PQgetResult (self->conn)) != NULL)
            PQclear (res);
    }
    if (lost) {
        /* nothing more will answer on this connection: what was sent is gone */
        for (int i = 0; i < self->npend; i++)
            if (self->pend [i].kind == S_PEND_PREPARE)
                self->cache_state [self->pend [i].slot] = PG_PREP_NONE;
        self->pipe_failed = true;
    }
    self->npend = 0;
    if (self->pipe_failed && !self->pipe_err [0])
        snprintf (self->pipe_err, sizeof self->pipe_err, "%s", first);
    if (!*first)
        return 0;
    if (wait && *wait) {
        PQclear (*wait);
        *wait = NULL;
    }
    if (err)
        snprintf (err, STORE_ERR_MAX, "%s", first);
    return -1;
}

/* Whether sql may change rows (or lock them): anything but a plain SELECT. */
static bool
s_may_write (const char *sql)
{
    return strncmp (sql, "SELECT ", 7) != 0 || strstr (sql, "UPDATE") || strstr (sql, "INSERT")
        || strstr (sql, "DELETE");
}

/* Whether sql names one of the '|'-separated words of tags (each shorter
   than 32 bytes). */
static bool
s_names (const char *sql, const char *tags)
{
    while (*tags) {
        size_t n = strcspn (tags, "|");
        char word [32];
        assert (n > 0 && n < sizeof word);
        memcpy (word, tags, n);
        word [n] = '\0';
        if (strstr (sql, word))
            return true;
        tags += n + (tags [n] == '|');
    }
    return false;
}

/* Drops the kept answers that sql may change (NULL: all of them). */
static void
s_kept_drop (job_store_t *self, const char *sql)
{
    if (self->nkept == 0 || (sql && !s_may_write (sql)))
        return;
    int k = 0;
    for (int i = 0; i < self->nkept; i++) {
        if (!sql || s_names (sql, self->kept [i].table))
            PQclear (self->kept [i].res);
        else
            self->kept [k++] = self->kept [i];
    }
    self->nkept = k;
}

/* The index of the kept answer of sql with arguments of that hash, or -1. */
static int
s_kept_find (job_store_t *self, const char *sql, uint64_t hash)
{
    for (int i = 0; i < self->nkept; i++)
        if (self->cache [self->kept [i].slot] == sql && self->kept [i].hash == hash)
            return i;
    return -1;
}

/* s_params_hash of fmt's arguments in ap. */
static uint64_t
s_args_hash (const char *fmt, va_list ap)
{
    s_params_t p;
    s_params (&p, fmt, ap);
    return s_params_hash (&p);
}

/* Sends sql with ap's arguments (and its prepare first when the
   connection lacks it) as an entry of kind. 0 / -1 (err filled). */
static int
s_pipe_send (job_store_t *self, char kind, const char *sql, const char *fmt, va_list ap, char *err)
{
    int slot = s_slot (self, sql);
    if (slot < 0)
        return pg_fail (self, NULL, err);
    s_kept_drop (self, sql);
    /* room for this statement, its prepare, and a sync after a failure */
    if (self->npend + 2 > PG_PIPELINE_MAX && s_pipe_read (self, NULL, NULL) != 0
    &&  self->pipe_failed) {
        pg_set_err (err, self->pipe_err);
        return -1;
    }
    char name [16];
    snprintf (name, sizeof name, "s%d", slot);
    if (self->cache_state [slot] == PG_PREP_NONE) {
        Oid types [PG_PARAMS_MAX];
        s_types (fmt, types);
        if (!PQsendPrepare (self->conn, name, sql, (int) strlen (fmt), types))
            return pg_fail (self, NULL, err);
        self->cache_state [slot] = PG_PREP_SENT;
        s_pend (self, S_PEND_PREPARE, slot);
    }
    s_params_t p;
    s_params (&p, fmt, ap);
    if (kind == S_PEND_AHEAD) {
        assert (self->nahead < PG_AHEAD_MAX);
        self->ahead [self->nahead].slot = slot;
        self->ahead [self->nahead].hash = s_params_hash (&p);
        self->ahead [self->nahead].res = NULL;
        self->nahead++;
    }
    if (!PQsendQueryPrepared (self->conn, name, p.n, p.values, p.lengths, p.formats, 0))
        return pg_fail (self, NULL, err);
    s_pend (self, kind, slot);
    return 0;
}

/* Drops the answers sent ahead that nothing took. */
static void
s_ahead_clear (job_store_t *self)
{
    for (int a = 0; a < self->nahead; a++)
        PQclear (self->ahead [a].res);
    self->nahead = 0;
}

void
pg_query_ahead (job_store_t *self, const char *sql, const char *fmt, ...)
{
    if (!self->in_pass || self->pipe_failed)
        return;
    va_list ap;
    va_start (ap, fmt);
    uint64_t hash = s_args_hash (fmt, ap);
    va_end (ap);
    if (s_kept_find (self, sql, hash) >= 0)
        return;                        /* its pg_query_kept will not ask the server */
    if (self->nahead >= PG_AHEAD_MAX)
        s_ahead_clear (self);          /* never taken (the reader stopped early) */
    va_start (ap, fmt);
    char ignored [STORE_ERR_MAX];
    s_pipe_send (self, S_PEND_AHEAD, sql, fmt, ap, ignored);   /* a failure shows at the read */
    va_end (ap);
}

/* The answer sent ahead for sql with ap's arguments, when one was (its
   arguments hashed the same); those sent before it were never taken (a
   reader stopped early) and are dropped. NULL otherwise. */
static PGresult *
s_ahead_take (job_store_t *self, const char *sql, const char *fmt, va_list ap)
{
    if (self->nahead == 0)
        return NULL;
    int slot = -1;
    for (int i = 0; i < self->ncache && slot < 0; i++)
        if (self->cache [i] == sql)
            slot = i;
    s_params_t p;
    s_params (&p, fmt, ap);
    uint64_t hash = s_params_hash (&p);
    int a = 0;
    while (a < self->nahead && (self->ahead [a].slot != slot || self->ahead [a].hash != hash))
        a++;
    if (slot < 0 || a == self->nahead)
        return NULL;
    if (!self->ahead [a].res && self->npend > 0 && s_pipe_read (self, NULL, NULL) != 0)
        return NULL;
    PGresult *res = self->ahead [a].res;      /* NULL: it failed, the caller's read tells */
    for (int i = 0; i < a; i++)
        PQclear (self->ahead [i].res);
    self->nahead -= a + 1;
    memmove (&self->ahead [0], &self->ahead [a + 1], (size_t) self->nahead * sizeof self->ahead [0]);
    return res;
}

/* Sends a parameterless command as an entry of kind. 0 / -1. */
static int
s_pipe_command (job_store_t *self, char kind, const char *sql, char *err)
{
    s_kept_drop (self, NULL);          /* a savepoint's rollback undoes what was read */
    if (!PQsendQueryParams (self->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
        return pg_fail (self, NULL, err);
    s_pend (self, kind, 0);
    return 0;
}

/* In a pass: sends sql and waits for its answer and everything's before
   it. The result, whatever its status, or NULL (err filled). */
static PGresult *
s_pipe_wait (job_store_t *self, const char *sql, const char *fmt, va_list ap, char *err)
{
    if (self->pipe_failed) {
        pg_set_err (err, self->pipe_err);
        return NULL;
    }
    if (s_pipe_send (self, S_PEND_WAIT, sql, fmt, ap, err) != 0)
        return NULL;
    PGresult *res = NULL;
    if (s_pipe_read (self, &res, err) != 0)
        return NULL;
    return res;
}

/* pg_query with its arguments in ap (consumed). */
static PGresult *
s_query_v (job_store_t *self, char *err, const char *sql, const char *fmt, va_list ap)
{
    PGresult *res = NULL, *failed = NULL;
    if (self->in_pass) {
        va_list again;
        va_copy (again, ap);
        res = s_ahead_take (self, sql, fmt, again);
        va_end (again);
        if (res)
            return res;
        res = s_pipe_wait (self, sql, fmt, ap, err);
    }
    else {
        res = s_exec_v (self, sql, fmt, ap, &failed);
        if (!res) {
            pg_fail (self, failed, err);
            return NULL;
        }
    }
    if (res && PQresultStatus (res) != PGRES_TUPLES_OK) {
        pg_fail (self, res, err);
        return NULL;
    }
    return res;
}

PGresult *
pg_query (job_store_t *self, char *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    PGresult *res = s_query_v (self, err, sql, fmt, ap);
    va_end (ap);
    return res;
}

PGresult *
pg_query_kept (job_store_t *self, char *err, const char *table, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    va_list again;
    va_copy (again, ap);
    uint64_t hash = s_args_hash (fmt, again);
    va_end (again);
    int k = self->in_pass && !self->pipe_failed ? s_kept_find (self, sql, hash) : -1;
    if (k >= 0) {
        va_end (ap);
        PGresult *copy = PQcopyResult (self->kept [k].res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
        if (!copy)
            pg_set_err (err, "out of memory");
        return copy;
    }
    PGresult *res = s_query_v (self, err, sql, fmt, ap);
    va_end (ap);
    /* kept only when nothing since its send may have changed it: the read
       was answered in order, and a write sent after it dropped nothing yet */
    int slot = -1;
    for (int i = 0; i < self->ncache && slot < 0; i++)
        if (self->cache [i] == sql)
            slot = i;
    if (res && self->in_pass && !self->pipe_failed && slot >= 0) {
        PGresult *copy = PQcopyResult (res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
        if (copy && self->nkept == PG_KEPT_MAX) {
            PQclear (self->kept [0].res);          /* the oldest makes room */
            self->nkept--;
            memmove (&self->kept [0], &self->kept [1], (size_t) self->nkept * sizeof self->kept [0]);
        }
        if (copy) {
            self->kept [self->nkept].slot = slot;
            self->kept [self->nkept].hash = hash;
            self->kept [self->nkept].table = table;
            self->kept [self->nkept].res = copy;
            self->nkept++;
        }
    }
    return res;
}

/* The answer of a statement run for its count: self->changes. 0 / -1. */
static int
s_run_done (job_store_t *self, PGresult *res, PGresult *failed, char *err)
{
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
pg_run_now (job_store_t *self, char *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    PGresult *failed = NULL;
    PGresult *res = self->in_pass ? s_pipe_wait (self, sql, fmt, ap, err)
                                  : s_exec_v (self, sql, fmt, ap, &failed);
    va_end (ap);
    if (!res && self->in_pass)
        return -1;             /* err filled by the read */
    return s_run_done (self, res, failed, err);
}

int
pg_run (job_store_t *self, char *err, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int rc;
    if (self->in_pass && self->sp_depth == 0) {
        if (self->pipe_failed) {
            pg_set_err (err, self->pipe_err);
            rc = -1;
        }
        else
            rc = s_pipe_send (self, S_PEND_DEFER, sql, fmt, ap, err);
        va_end (ap);
        return rc;
    }
    PGresult *failed = NULL;
    PGresult *res = self->in_pass ? s_pipe_wait (self, sql, fmt, ap, err)
                                  : s_exec_v (self, sql, fmt, ap, &failed);
    va_end (ap);
    if (!res && self->in_pass)
        return -1;
    return s_run_done (self, res, failed, err);
}

int
pg_exec (job_store_t *self, const char *sql, char *err)
{
    PGresult *res = NULL;
    if (self->in_pass) {
        if (self->pipe_failed) {
            pg_set_err (err, self->pipe_err);
            return -1;
        }
        if (s_pipe_command (self, S_PEND_WAIT, sql, err) != 0 || s_pipe_read (self, &res, err) != 0)
            return -1;
    }
    else
        res = PQexec (self->conn, sql);
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
    /* in a pass the server's transaction state is known only at syncs */
    self->sp_own = !self->in_pass && PQtransactionStatus (self->conn) == PQTRANS_IDLE;
    if (pg_exec (self, self->sp_own ? "BEGIN" : "SAVEPOINT acct", err) != 0)
        return -1;
    if (self->in_pass)
        self->sp_depth++;
    return 0;
}

int
pg_sp_end (job_store_t *self, bool ok, char *err)
{
    if (self->in_pass && self->sp_depth > 0)
        self->sp_depth--;
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

/* A connection lost since the last call: connect again (its prepared
   statements and session settings are gone with the old one). */
static int
s_reconnect (job_store_t *self, char *err)
{
    if (PQstatus (self->conn) == CONNECTION_OK)
        return 0;
    PQreset (self->conn);
    if (PQpipelineStatus (self->conn) != PQ_PIPELINE_OFF)
        PQexitPipelineMode (self->conn);
    self->ncache = 0;
    self->session_set = false;
    return PQstatus (self->conn) == CONNECTION_OK ? 0 : pg_fail (self, NULL, err);
}

/* The session of a fenced store: the server ends it once it has sat idle
   in a transaction for PG_IDLE_TXN_LEASES lease times. A scheduler cut
   off from the database mid-pass leaves such a session behind (its kernel
   may give the connection up; the server's does not notice for as long as
   TCP keepalive takes, hours by default), and its row locks would hold up
   the scheduler that takes the lease over. 0, or -1 with err. */
static int
s_session_settings (job_store_t *self, char *err)
{
    if (self->lease_token <= 0 || self->session_set)
        return 0;
    char sql [96];
    snprintf (sql, sizeof sql, "SET idle_in_transaction_session_timeout = %lld",
              (long long) (PG_IDLE_TXN_LEASES * self->lease_ttl_ms));
    if (pg_exec (self, sql, err) != 0)
        return -1;
    self->session_set = true;
    return 0;
}

/* Leaves the pass's pipeline; what it sent is answered (or the connection
   is gone). */
static void
s_pass_end (job_store_t *self)
{
    if (PQpipelineStatus (self->conn) != PQ_PIPELINE_OFF)
        PQexitPipelineMode (self->conn);
    s_ahead_clear (self);
    s_kept_drop (self, NULL);
    self->in_pass = false;
    self->sp_depth = 0;
    self->npend = 0;
    self->pipe_failed = false;
    self->pipe_err [0] = '\0';
    self->fence_lost = false;
}

/* A pass is one transaction in libpq's pipeline mode: BEGIN and every
   pg_run are sent without waiting for their answers, which come back with
   the next read's (one round trip for all of them) or the commit's. */
int
job_store_begin (job_store_t *self, char *err)
{
    if (self->in_pass)
        job_store_rollback (self);
    if (s_reconnect (self, err) != 0 || s_session_settings (self, err) != 0)
        return -1;
    if (!PQenterPipelineMode (self->conn))
        return pg_fail (self, NULL, err);
    self->in_pass = true;
    if (s_pipe_command (self, S_PEND_DEFER, "BEGIN", err) != 0) {
        job_store_rollback (self);
        return -1;
    }
    return 0;
}

/* The database's clock in ms since the epoch, as SQL. */
#define S_DB_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

int
job_store_lease_take (job_store_t *self, const char *holder, int64_t ttl_ms, int64_t *token, char *err)
{
    assert (self && holder && token);
    *token = 0;
    if (s_reconnect (self, err) != 0)
        return -1;
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
    self->session_set = false;         /* set by the next job_store_begin */
}

/* The fence as one statement that fails the transaction when the lease
   is not this scheduler's any more (a division by zero: no row renewed),
   so the COMMIT behind it in the same round trip cannot commit. */
static int
s_fence_send (job_store_t *self, char *err, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    /* the token decides, not the clock: a lease that ran out while this
       scheduler was cut off is still its own until another takes it (which
       changes the token); the row lock orders this renewal and a standby's
       take */
    int rc = s_pipe_send (self, S_PEND_FENCE,
        "WITH renewed AS (UPDATE scheduler_lease SET expires_at = " S_DB_NOW_MS " + $3::bigint"
        " WHERE id = 1 AND holder = $1 AND token = $2::bigint RETURNING 1)"
        " SELECT 1 / count(*)::int FROM renewed", fmt, ap, err);
    va_end (ap);
    return rc;
}

int
job_store_commit (job_store_t *self, char *err)
{
    if (!self->in_pass) {
        pg_set_err (err, "postgresql: commit without a transaction");
        return -1;
    }
    if (self->pipe_failed) {
        pg_set_err (err, self->pipe_err);
        job_store_rollback (self);
        return -1;
    }
    /* the fence (this transaction commits only under the lease it renews),
       COMMIT and a sync: one round trip with every write still unanswered */
    PGresult *res = NULL;
    if ((self->lease_token > 0
         && s_fence_send (self, err, "sii", self->lease_holder, self->lease_token, self->lease_ttl_ms))
    ||  s_pipe_command (self, S_PEND_WAIT, "COMMIT", err) != 0
    ||  !PQpipelineSync (self->conn)) {
        job_store_rollback (self);
        return -1;
    }
    s_pend (self, S_PEND_SYNC, 0);
    char why [STORE_ERR_MAX] = "";
    int rc = s_pipe_read (self, &res, why);
    /* COMMIT of a failed transaction answers ROLLBACK, not an error */
    bool rolled_back = res && strcmp (PQcmdStatus (res), "ROLLBACK") == 0;
    PQclear (res);
    if (rc == 0 && !rolled_back) {
        s_pass_end (self);
        return 0;
    }
    bool lost = self->fence_lost;
    job_store_rollback (self);
    if (err && lost)
        snprintf (err, STORE_ERR_MAX, JOB_STORE_LEASE_LOST ": another scheduler holds the"
                  " database's lease now; nothing of this pass was committed");
    else
    if (err && rc != 0)
        /* a statement that failed (a lost connection) says nothing of the
           lease: the next pass reconnects and its fence tells */
        snprintf (err, STORE_ERR_MAX, "%s", why);
    else
        pg_set_err (err, "postgresql: the transaction failed and was rolled back");
    return -1;
}

void
job_store_rollback (job_store_t *self)
{
    if (!self->in_pass) {
        if (PQtransactionStatus (self->conn) != PQTRANS_IDLE) {
            PGresult *res = PQexec (self->conn, "ROLLBACK");
            PQclear (res);
        }
        return;
    }
    /* whatever is unanswered is answered (or skipped after a failure), then
       the transaction ends; on a lost connection the next begin reconnects */
    if (PQstatus (self->conn) == CONNECTION_OK) {
        bool was_failed = self->pipe_failed;
        char ignored [STORE_ERR_MAX];
        if (s_pipe_command (self, S_PEND_WAIT, "ROLLBACK", ignored) == 0 && PQpipelineSync (self->conn)) {
            s_pend (self, S_PEND_SYNC, 0);
            PGresult *res = NULL;
            s_pipe_read (self, &res, ignored);
            PQclear (res);
        }
        self->pipe_failed = was_failed;
    }
    s_pass_end (self);
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
