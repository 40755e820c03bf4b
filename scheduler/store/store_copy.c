/*  store_copy.c: job_store_copy_to_pg (job_store.h), the move of a SQLite
    store onto PostgreSQL. Both backends have the same tables and columns
    (test_pg_schema checks it), so the copy is driven by PostgreSQL's
    catalogue: for each table, in an order its foreign keys allow, every
    column PostgreSQL has is read from SQLite and inserted with a statement
    prepared once (BYTEA as binary parameters, everything else as text,
    NULL as NULL), then each identity counter is set past the copied rows.
    Thread: the caller's; opens and closes both stores. Memory: nothing
    outlives the call. */
#include "store_backend.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ERR_MAX   256
#define S_COLS_MAX  48
#define S_SQL_MAX   4096

/* Every table of the schema, in an order that satisfies its foreign keys.
   meta holds the URL secret and replaces the one PostgreSQL's open made. */
static const char *s_tables [] = {
    "meta", "accounts", "api_keys", "renders", "blobs", "tasks", "events", "deliveries",
    "delivery_attempts", "webhook_secrets_old", "webhook_keys", "ledger", "idempotency_keys",
    "request_ids", "render_blobs", "reviews", "files", "capture_profiles",
};
/* Each backend's own: its schema's version rows and the active scheduler's lease. */
static const char *s_own [] = { "schema_version", "scheduler_lease" };

#define S_N(a) (sizeof (a) / sizeof (a) [0])

static bool
s_listed (const char *name, const char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (name, list [i]) == 0)
            return true;
    return false;
}

/* PQexec of sql expecting `want`; the result (PQclear it), or NULL with err. */
static PGresult *
s_exec (PGconn *pg, const char *sql, ExecStatusType want, char *err)
{
    PGresult *res = PQexec (pg, sql);
    if (PQresultStatus (res) == want)
        return res;
    snprintf (err, S_ERR_MAX, "postgresql: %.200s", res ? PQresultErrorMessage (res) : PQerrorMessage (pg));
    err [strcspn (err, "\n")] = 0;
    PQclear (res);
    return NULL;
}

static int
s_run (PGconn *pg, const char *sql, char *err)
{
    PGresult *res = s_exec (pg, sql, PGRES_COMMAND_OK, err);
    PQclear (res);
    return res ? 0 : -1;
}

/* Refuses a database this copy would overwrite or mix into. 0 / -1. */
static int
s_check_target (PGconn *pg, char *err)
{
    PGresult *res = s_exec (pg, "SELECT table_name FROM information_schema.tables"
                                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                            PGRES_TUPLES_OK, err);
    if (!res)
        return -1;
    int rc = 0, found = 0;
    for (int i = 0; i < PQntuples (res) && rc == 0; i++) {
        const char *t = PQgetvalue (res, i, 0);
        if (s_listed (t, s_tables, S_N (s_tables)))
            found++;
        else
        if (!s_listed (t, s_own, S_N (s_own))) {
            snprintf (err, S_ERR_MAX, "the PostgreSQL database has a table \"%.60s\" this Easel does not"
                      " know: it is not an empty Easel database", t);
            rc = -1;
        }
    }
    PQclear (res);
    if (rc == 0 && found != (int) S_N (s_tables)) {
        snprintf (err, S_ERR_MAX, "the PostgreSQL database lacks %d of Easel's tables",
                  (int) S_N (s_tables) - found);
        rc = -1;
    }
    if (rc)
        return -1;
    /* a live lease is a scheduler running on it; the table lock keeps one
       from taking the lease (and so from writing) until the copy commits */
    if (s_run (pg, "LOCK TABLE scheduler_lease IN EXCLUSIVE MODE", err))
        return -1;
    res = s_exec (pg, "SELECT holder FROM scheduler_lease WHERE expires_at >"
                      " (extract(epoch from clock_timestamp()) * 1000)::bigint",
                  PGRES_TUPLES_OK, err);
    if (!res)
        return -1;
    if (PQntuples (res) > 0) {
        snprintf (err, S_ERR_MAX, "a scheduler (%.80s) holds the PostgreSQL database's lease: stop it first",
                  PQgetvalue (res, 0, 0));
        rc = -1;
    }
    PQclear (res);
    for (size_t i = 1; rc == 0 && i < S_N (s_tables); i++) {
        char sql [200];
        snprintf (sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s)", s_tables [i]);
        res = s_exec (pg, sql, PGRES_TUPLES_OK, err);
        if (!res)
            return -1;
        if (strcmp (PQgetvalue (res, 0, 0), "t") == 0) {
            snprintf (err, S_ERR_MAX, "the PostgreSQL database already holds Easel state (table %s has"
                      " rows): the copy goes only into an empty one", s_tables [i]);
            rc = -1;
        }
        PQclear (res);
    }
    return rc;
}

/* Refuses a SQLite store holding a table the copy would leave behind. 0 / -1. */
static int
s_check_source (sqlite3 *db, char *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2 (db, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                " AND name NOT LIKE 'sqlite_%'", -1, &st, NULL) != SQLITE_OK) {
        snprintf (err, S_ERR_MAX, "sqlite: %.200s", sqlite3_errmsg (db));
        return -1;
    }
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (st)) == SQLITE_ROW) {
        const char *t = (const char *) sqlite3_column_text (st, 0);
        if (!s_listed (t, s_tables, S_N (s_tables)) && !s_listed (t, s_own, S_N (s_own))) {
            snprintf (err, S_ERR_MAX, "the SQLite store has a table \"%.60s\" this Easel cannot copy", t);
            rc = -1;
        }
    }
    sqlite3_finalize (st);
    return rc;
}

typedef struct {
    char name [64];
    bool bytea;
    bool identity;
} s_col_t;

/* Whether SQLite's table has column (PRAGMA table_info). */
static bool
s_sqlite_has (sqlite3 *db, const char *table, const char *column)
{
    char sql [160];
    snprintf (sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK)
        while (!found && sqlite3_step (st) == SQLITE_ROW)
            found = strcmp ((const char *) sqlite3_column_text (st, 1), column) == 0;
    sqlite3_finalize (st);
    return found;
}

/* PostgreSQL's columns of table, in order. Their count, -1 with err. */
static int
s_columns (PGconn *pg, const char *table, s_col_t *cols, char *err)
{
    const char *params [1] = { table };
    PGresult *res = PQexecParams (pg, "SELECT column_name, data_type, is_identity FROM information_schema.columns"
                                      " WHERE table_schema = current_schema() AND table_name = $1"
                                      " ORDER BY ordinal_position", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK) {
        snprintf (err, S_ERR_MAX, "postgresql: %.200s", PQresultErrorMessage (res));
        PQclear (res);
        return -1;
    }
    int n = PQntuples (res);
    if (n < 1 || n > S_COLS_MAX) {
        snprintf (err, S_ERR_MAX, "table %s has %d columns (at most %d are copied)", table, n, S_COLS_MAX);
        PQclear (res);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        snprintf (cols [i].name, sizeof cols [i].name, "%s", PQgetvalue (res, i, 0));
        cols [i].bytea = strcmp (PQgetvalue (res, i, 1), "bytea") == 0;
        cols [i].identity = strcmp (PQgetvalue (res, i, 2), "YES") == 0;
    }
    PQclear (res);
    return n;
}

/* Copies one table's rows; *rows their number. 0 / -1. */
static int
s_copy_table (sqlite3 *db, PGconn *pg, const char *table, int64_t *rows, char *err)
{
    s_col_t cols [S_COLS_MAX];
    int n = s_columns (pg, table, cols, err);
    if (n < 0)
        return -1;
    char select [S_SQL_MAX], insert [S_SQL_MAX];
    size_t sl = (size_t) snprintf (select, sizeof select, "SELECT ");
    size_t il = (size_t) snprintf (insert, sizeof insert, "INSERT INTO %s (", table);
    for (int i = 0; i < n; i++) {
        /* every column by name, but an identity column SQLite keeps as its
           rowid (api_keys.seq); a name SQLite lacks would read as a string */
        bool has = s_sqlite_has (db, table, cols [i].name);
        if (!has && !cols [i].identity) {
            snprintf (err, S_ERR_MAX, "the SQLite store's table %s lacks the column %s", table, cols [i].name);
            return -1;
        }
        if (has)
            sl += (size_t) snprintf (select + sl, sizeof select - sl, "%s\"%s\"", i ? ", " : "", cols [i].name);
        else
            sl += (size_t) snprintf (select + sl, sizeof select - sl, "%srowid", i ? ", " : "");
        il += (size_t) snprintf (insert + il, sizeof insert - il, "%s\"%s\"", i ? ", " : "", cols [i].name);
    }
    sl += (size_t) snprintf (select + sl, sizeof select - sl, " FROM %s", table);
    il += (size_t) snprintf (insert + il, sizeof insert - il, ") VALUES (");
    for (int i = 0; i < n; i++)
        il += (size_t) snprintf (insert + il, sizeof insert - il, "%s$%d", i ? ", " : "", i + 1);
    il += (size_t) snprintf (insert + il, sizeof insert - il, ")");
    if (sl >= sizeof select || il >= sizeof insert) {
        snprintf (err, S_ERR_MAX, "table %s: its statements are too long", table);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2 (db, select, -1, &st, NULL) != SQLITE_OK) {
        /* a column PostgreSQL has and SQLite has not: not the same schema */
        snprintf (err, S_ERR_MAX, "sqlite, table %s: %.180s", table, sqlite3_errmsg (db));
        return -1;
    }
    char name [80];
    snprintf (name, sizeof name, "easel_copy_%s", table);
    PGresult *res = PQprepare (pg, name, insert, n, NULL);
    int rc = PQresultStatus (res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        snprintf (err, S_ERR_MAX, "postgresql, table %s: %.180s", table, PQresultErrorMessage (res));
    PQclear (res);
    const char *values [S_COLS_MAX];
    int lengths [S_COLS_MAX], formats [S_COLS_MAX];
    int step;
    *rows = 0;
    while (rc == 0 && (step = sqlite3_step (st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            bool null = sqlite3_column_type (st, i) == SQLITE_NULL;
            formats [i] = cols [i].bytea;
            if (null)
                values [i] = NULL, lengths [i] = 0;
            else
            if (cols [i].bytea) {
                values [i] = sqlite3_column_blob (st, i);
                lengths [i] = sqlite3_column_bytes (st, i);
                if (!values [i])
                    values [i] = "";            /* an empty blob */
            }
            else {
                values [i] = (const char *) sqlite3_column_text (st, i);
                lengths [i] = 0;
            }
        }
        res = PQexecPrepared (pg, name, n, values, lengths, formats, 0);
        if (PQresultStatus (res) != PGRES_COMMAND_OK) {
            snprintf (err, S_ERR_MAX, "postgresql, table %s row %lld: %.160s", table,
                      (long long) *rows + 1, PQresultErrorMessage (res));
            rc = -1;
        }
        PQclear (res);
        (*rows)++;
    }
    if (rc == 0 && step != SQLITE_DONE) {
        snprintf (err, S_ERR_MAX, "sqlite, table %s: %.180s", table, sqlite3_errmsg (db));
        rc = -1;
    }
    sqlite3_finalize (st);
    err [strcspn (err, "\n")] = 0;
    return rc;
}

/* Sets each identity column's counter of table past its copied rows. 0 / -1. */
static int
s_identities (PGconn *pg, const char *table, char *err)
{
    s_col_t cols [S_COLS_MAX];
    int n = s_columns (pg, table, cols, err);
    for (int i = 0; i < n; i++) {
        if (!cols [i].identity)
            continue;
        const char *c = cols [i].name;
        char sql [400];
        snprintf (sql, sizeof sql, "SELECT setval(pg_get_serial_sequence('%s', '%s'),"
                  " coalesce(max(\"%s\"), 1), max(\"%s\") IS NOT NULL) FROM %s", table, c, c, c, table);
        PGresult *set = s_exec (pg, sql, PGRES_TUPLES_OK, err);
        PQclear (set);
        if (!set)
            return -1;
    }
    return n < 0 ? -1 : 0;
}

int
job_store_copy_to_pg (const char *data_dir, const char *url, job_store_copied_fn *tables, void *arg,
                      char *err)
{
    char why [S_ERR_MAX] = "";
    job_store_t *src = store_sqlite_open (data_dir, false, why);
    if (!src) {
        snprintf (err, S_ERR_MAX, "sqlite: %s", why);
        return -1;
    }
    job_store_t *dst = store_pg_open (url, false, why);
    if (!dst) {
        snprintf (err, S_ERR_MAX, "postgresql: %s", why);
        job_store_destroy (&src);
        return -1;
    }
    sqlite3 *db = store_sqlite_db (src);
    PGconn *pg = store_pg_conn (dst);
    int64_t counts [S_N (s_tables)];
    int rc = db && pg ? 0 : -1;
    if (rc)
        snprintf (err, S_ERR_MAX, "the stores are not the backends asked for");
    /* one read transaction on SQLite, one write transaction on PostgreSQL */
    if (rc == 0 && sqlite3_exec (db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf (err, S_ERR_MAX, "sqlite: %.200s", sqlite3_errmsg (db));
        rc = -1;
    }
    if (rc == 0)
        rc = s_check_source (db, err);
    if (rc == 0)
        rc = s_run (pg, "BEGIN ISOLATION LEVEL SERIALIZABLE", err);
    if (rc == 0)
        rc = s_check_target (pg, err);
    if (rc == 0)
        rc = s_run (pg, "DELETE FROM meta", err);
    for (size_t i = 0; rc == 0 && i < S_N (s_tables); i++)
        rc = s_copy_table (db, pg, s_tables [i], &counts [i], err) || s_identities (pg, s_tables [i], err);
    if (rc == 0)
        rc = s_run (pg, "COMMIT", err);
    if (rc) {
        PGresult *res = pg ? PQexec (pg, "ROLLBACK") : NULL;
        PQclear (res);
    }
    if (db)
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
    for (size_t i = 0; rc == 0 && tables && i < S_N (s_tables); i++)
        tables (s_tables [i], counts [i], arg);
    job_store_destroy (&dst);
    job_store_destroy (&src);
    return rc;
}
