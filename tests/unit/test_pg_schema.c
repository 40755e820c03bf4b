/*  test_pg_schema.c: the PostgreSQL store's versioned schema
    (store/pg_schema.h) and its open, against the real server
    tests/pg/run.sh starts (EASEL_DATABASE_URL). A new database is brought
    to PG_SCHEMA_VERSION with one schema_version row per step, holding the
    same tables and columns as SQLite's schema of that version; opening it
    again changes nothing; a database of a newer schema is refused and left
    alone, by the runner and by job_store_open; steps must be numbered
    1..n; a failing step is rolled back alone; four processes migrating one
    new database at once apply each step once; the CLI's read-only open
    refuses another version and makes nothing; `easel backup`'s store call
    answers with pg_dump.
    Single thread (and forked children); every failure says what was expected. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "store/pg_schema.h"
#include "store/store_backend.h"
#include "store/store_schema.h"

#include <sqlite3.h>

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *s_base;         /* the run's EASEL_DATABASE_URL */

/* A connection to a new database of its own, named for label. */
static PGconn *
s_fresh (const char *label, const char **url_out)
{
    char err [256] = "";
    const char *url = store_test_url (s_base, label, err);
    REQUIRE (url, "a database for %s: %s", label, err);
    PGconn *conn = PQconnectdb (url);
    REQUIRE (PQstatus (conn) == CONNECTION_OK, "connect to %s: %s", url, PQerrorMessage (conn));
    if (url_out)
        *url_out = url;
    return conn;
}

/* The first column of the first row of sql, as a number (-1 on error). */
static long
s_number (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    long v = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
           ? strtol (PQgetvalue (res, 0, 0), NULL, 10) : -1;
    if (v < 0)
        fprintf (stderr, "%s: %s", sql, PQresultErrorMessage (res));
    PQclear (res);
    return v;
}

static const char *s_tables =
    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'";

static void
s_new_and_again (void)
{
    PGconn *conn = s_fresh ("new", NULL);
    char err [256] = "";
    CHECK (pg_schema_version (conn) == 0, "a new database has version 0");
    CHECK (pg_schema_migrate (conn, pg_migrations, pg_migrations_n, err) == 0, "migrate: %s", err);
    CHECK (pg_schema_version (conn) == PG_SCHEMA_VERSION, "at version %d, got %d", PG_SCHEMA_VERSION,
           pg_schema_version (conn));
    CHECK (s_number (conn, "SELECT count(*) FROM schema_version") == PG_SCHEMA_VERSION,
           "one schema_version row per step");
    CHECK (pg_migrations [pg_migrations_n - 1].version == PG_SCHEMA_VERSION,
           "PG_SCHEMA_VERSION is the last step");
    long tables = s_number (conn, s_tables);
    CHECK (s_number (conn, "SELECT count(*) FROM information_schema.tables WHERE table_name IN"
                           " ('meta', 'accounts', 'tasks', 'ledger', 'capture_profiles', 'schema_version')") == 6,
           "the store's tables exist (%ld tables)", tables);
    CHECK (pg_schema_migrate (conn, pg_migrations, pg_migrations_n, err) == 0, "again: %s", err);
    CHECK (s_number (conn, "SELECT count(*) FROM schema_version") == PG_SCHEMA_VERSION
           && s_number (conn, s_tables) == tables, "a current database is left as it is");
    PQfinish (conn);
}

static void
s_newer_refused (void)
{
    const char *url = NULL;
    PGconn *conn = s_fresh ("newer", &url);
    char err [256] = "";
    REQUIRE (pg_schema_migrate (conn, pg_migrations, pg_migrations_n, err) == 0, "migrate: %s", err);
    PGresult *res = PQexec (conn, "INSERT INTO schema_version (version) VALUES (99)");
    REQUIRE (PQresultStatus (res) == PGRES_COMMAND_OK, "mark it newer: %s", PQresultErrorMessage (res));
    PQclear (res);
    long tables = s_number (conn, s_tables);
    CHECK (pg_schema_migrate (conn, pg_migrations, pg_migrations_n, err) == -1
           && strstr (err, "newer than this Easel's"), "a newer database is refused: '%s'", err);
    CHECK (pg_schema_version (conn) == 99 && s_number (conn, s_tables) == tables,
           "and left untouched");
    /* job_store_open says the same */
    char saved [512];
    snprintf (saved, sizeof saved, "%s", s_base);
    setenv ("EASEL_DATABASE_URL", url, 1);
    err [0] = 0;
    job_store_t *store = job_store_open ("/nonexistent-data-dir", err);
    setenv ("EASEL_DATABASE_URL", saved, 1);
    CHECK (!store && strstr (err, "newer than this Easel's"), "job_store_open refuses it: '%s'", err);
    job_store_destroy (&store);
    PQfinish (conn);
}

static void
s_runner_rules (void)
{
    PGconn *conn = s_fresh ("rules", NULL);
    char err [256] = "";
    const pg_migration_t gap [] = { { 1, "CREATE TABLE a (x int)" }, { 3, "CREATE TABLE b (x int)" } };
    CHECK (pg_schema_migrate (conn, gap, 2, err) == -1 && strstr (err, "not numbered 1..2"),
           "steps must be numbered 1..n: '%s'", err);
    CHECK (pg_schema_version (conn) == 0, "nothing ran");
    const pg_migration_t failing [] = {
        { 1, "CREATE TABLE a (x int)" },
        { 2, "CREATE TABLE b (x int); SELECT no_such_function()" },
    };
    CHECK (pg_schema_migrate (conn, failing, 2, err) == -1
           && strstr (err, "schema migration to version 2 failed"), "a failing step fails: '%s'", err);
    CHECK (pg_schema_version (conn) == 1, "the database stays at the step before it");
    CHECK (s_number (conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'b'") == 0
           && s_number (conn, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'a'") == 1,
           "the failed step left nothing; the one before stays");
    PQfinish (conn);
}

/* Four processes open one new database at once: each step runs once (a
   second run of a CREATE TABLE would fail), and each ends at the last
   version. */
static void
s_concurrent (void)
{
    const char *url = NULL;
    PGconn *conn = s_fresh ("race", &url);
    PQfinish (conn);
    enum { N = 4 };
    pid_t kids [N];
    for (int i = 0; i < N; i++) {
        kids [i] = fork ();
        REQUIRE (kids [i] >= 0, "fork");
        if (kids [i] == 0) {
            PGconn *c = PQconnectdb (url);
            char err [256] = "";
            int rc = PQstatus (c) == CONNECTION_OK
                   ? pg_schema_migrate (c, pg_migrations, pg_migrations_n, err) : -1;
            if (rc)
                fprintf (stderr, "child %d: %s%s\n", i, err, PQerrorMessage (c));
            PQfinish (c);
            _exit (rc ? 1 : 0);
        }
    }
    int ok = 0;
    for (int i = 0; i < N; i++) {
        int status = 0;
        waitpid (kids [i], &status, 0);
        ok += WIFEXITED (status) && WEXITSTATUS (status) == 0;
    }
    CHECK (ok == N, "every process migrates without error, %d of %d did", ok, N);
    conn = PQconnectdb (url);
    CHECK (s_number (conn, "SELECT count(*) FROM schema_version") == PG_SCHEMA_VERSION
           && pg_schema_version (conn) == PG_SCHEMA_VERSION, "each step applied once");
    PQfinish (conn);
}

/* Every column is a "table.column" line of out (cap size), sorted: from a
   SQLite database made by store_migrations, and from a PostgreSQL one made
   by pg_migrations. */
static void
s_sqlite_columns (char *out, size_t size)
{
    sqlite3 *db = NULL;
    char err [256] = "";
    REQUIRE (sqlite3_open (":memory:", &db) == SQLITE_OK, "sqlite in memory");
    REQUIRE (store_schema_migrate (db, store_migrations, store_migrations_n, err) == 0, "sqlite: %s", err);
    sqlite3_stmt *st = NULL;
    REQUIRE (sqlite3_prepare_v2 (db, "SELECT m.name || '.' || c.name FROM sqlite_master m,"
                                     " pragma_table_info(m.name) c WHERE m.type = 'table'"
                                     " AND m.name NOT LIKE 'sqlite_%' ORDER BY 1", -1, &st, NULL) == SQLITE_OK,
             "list sqlite columns: %s", sqlite3_errmsg (db));
    size_t used = 0;
    out [0] = 0;
    while (sqlite3_step (st) == SQLITE_ROW)
        used += (size_t) snprintf (out + used, size - used, "%s\n", sqlite3_column_text (st, 0));
    REQUIRE (used < size, "room for the column list");
    sqlite3_finalize (st);
    sqlite3_close (db);
}

static void
s_pg_columns (PGconn *conn, char *out, size_t size)
{
    PGresult *res = PQexec (conn, "SELECT table_name || '.' || column_name FROM information_schema.columns"
                                  " WHERE table_schema = 'public' AND table_name <> 'schema_version'"
                                  " ORDER BY (table_name || '.' || column_name)::text COLLATE \"C\"");
    REQUIRE (PQresultStatus (res) == PGRES_TUPLES_OK, "list pg columns: %s", PQresultErrorMessage (res));
    size_t used = 0;
    out [0] = 0;
    for (int r = 0; r < PQntuples (res); r++)
        /* seq: api_keys' order of making, SQLite's rowid */
        if (strcmp (PQgetvalue (res, r, 0), "api_keys.seq") != 0)
            used += (size_t) snprintf (out + used, size - used, "%s\n", PQgetvalue (res, r, 0));
    REQUIRE (used < size, "room for the column list");
    PQclear (res);
}

/* Step N is the same schema on both: the same tables and columns. */
static void
s_same_schema (void)
{
    CHECK (STORE_SCHEMA_VERSION == PG_SCHEMA_VERSION && store_migrations_n == pg_migrations_n,
           "the same versions: SQLite %d, PostgreSQL %d", STORE_SCHEMA_VERSION, PG_SCHEMA_VERSION);
    PGconn *conn = s_fresh ("same", NULL);
    char err [256] = "";
    REQUIRE (pg_schema_migrate (conn, pg_migrations, pg_migrations_n, err) == 0, "migrate: %s", err);
    static char lite [16384], pg [16384];
    s_sqlite_columns (lite, sizeof lite);
    s_pg_columns (conn, pg, sizeof pg);
    CHECK (strcmp (lite, pg) == 0 && strlen (lite) > 100,
           "the same tables and columns;\nSQLite:\n%s\nPostgreSQL:\n%s", lite, pg);
    PQfinish (conn);
}

/* The CLI's reads beside a running scheduler (job_store_open_beside): a
   database at another version is refused naming both and gets nothing;
   one at this version opens with the scheduler's URL secret. */
static void
s_beside (void)
{
    const char *url = NULL;
    PGconn *conn = s_fresh ("beside", &url);
    char saved [512], err [256] = "";
    snprintf (saved, sizeof saved, "%s", s_base);
    setenv ("EASEL_DATABASE_URL", url, 1);
    job_store_t *store = job_store_open_beside ("/nonexistent-data-dir", err);
    CHECK (!store && strstr (err, "schema version 0 and this Easel's is"),
           "a database no scheduler made is refused: '%s'", err);
    CHECK (s_number (conn, s_tables) == 0, "and nothing is made in it");
    job_store_t *sched = job_store_open ("/nonexistent-data-dir", err);
    REQUIRE (sched, "the scheduler's open: %s", err);
    store = job_store_open_beside ("/nonexistent-data-dir", err);
    CHECK (store, "beside a migrated database: %s", err);
    if (store) {
        char a [65], b [65];
        job_store_url_sign (sched, "img_x", 7, a);
        job_store_url_sign (store, "img_x", 7, b);
        CHECK (strcmp (a, b) == 0, "the reader signs with the scheduler's secret");
    }
    job_store_destroy (&store);
    job_store_destroy (&sched);
    setenv ("EASEL_DATABASE_URL", saved, 1);
    PQfinish (conn);
}

/* Whether the connection was made with keyword = value. */
static bool
s_conninfo (PGconn *conn, const char *keyword, const char *value)
{
    PQconninfoOption *opts = conn ? PQconninfo (conn) : NULL;
    bool found = false;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp (o->keyword, keyword) == 0)
            found = o->val && strcmp (o->val, value) == 0;
    PQconninfoFree (opts);
    return found;
}

static void
s_store_answers (void)
{
    char err [256] = "";
    job_store_t *store = store_test_open ("answers", err);
    REQUIRE (store, "open: %s", err);
    CHECK (strcmp (store_backend_name (store), "postgresql") == 0, "the handle is PostgreSQL's");
    CHECK (job_store_backup (store, "/tmp/never-written.db", err) == -1 && strstr (err, "pg_dump"),
           "backup on PostgreSQL points to pg_dump: '%s'", err);
    CHECK (access ("/tmp/never-written.db", F_OK) != 0, "and writes nothing");
    /* a connection the server drops fails what runs on it; the next begin
       connects again and prepares its statements again */
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "before", 5, &key, err) == 0, "create: %s", err);
    const char *url = store_test_url (s_base, "answers", err);
    PGconn *admin = PQconnectdb (url);
    PGresult *res = PQexec (admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                   " WHERE application_name = 'easel' AND datname = current_database()");
    CHECK (PQresultStatus (res) == PGRES_TUPLES_OK && strcmp (PQgetvalue (res, 0, 0), "1") == 0,
           "the store's connection is cut: %s", PQresultErrorMessage (res));
    PQclear (res);
    PQfinish (admin);
    usleep (100 * 1000);
    CHECK (job_store_account_count (store) == -1, "a statement on the cut connection fails");
    CHECK (job_store_begin (store, err) == 0, "begin connects again: %s", err);
    CHECK (job_store_account_count (store) == 1, "and the rows are there");
    CHECK (job_store_commit (store, err) == 0, "commit: %s", err);
    /* a silent link fails a call in seconds: keepalives and a TCP user
       timeout unless the URL says otherwise */
    CHECK (s_conninfo (store_pg_conn (store), "tcp_user_timeout", "5000")
           && s_conninfo (store_pg_conn (store), "keepalives", "1")
           && s_conninfo (store_pg_conn (store), "keepalives_idle", "5"),
           "the connection's defaults for a cut link");
    job_store_destroy (&store);
    {
        char saved [512], with [600];
        snprintf (saved, sizeof saved, "%s", s_base);
        snprintf (with, sizeof with, "%s%stcp_user_timeout=12000", saved, strchr (saved, '?') ? "&" : "?");
        setenv ("EASEL_DATABASE_URL", with, 1);
        store = job_store_open ("/nonexistent-data-dir", err);
        setenv ("EASEL_DATABASE_URL", saved, 1);
        CHECK (store && s_conninfo (store_pg_conn (store), "tcp_user_timeout", "12000"),
               "the URL's own tcp_user_timeout wins: %s", err);
        job_store_destroy (&store);
    }
    /* a URL of another scheme is refused at open, naming the variable */
    char saved [512];
    snprintf (saved, sizeof saved, "%s", s_base);
    setenv ("EASEL_DATABASE_URL", "mysql://localhost/easel", 1);
    store = job_store_open ("/nonexistent-data-dir", err);
    setenv ("EASEL_DATABASE_URL", saved, 1);
    CHECK (!store && strstr (err, "EASEL_DATABASE_URL must start with postgres://"),
           "another scheme is refused: '%s'", err);
    /* a server that is not there is a clear error, not a hang */
    setenv ("EASEL_DATABASE_URL", "postgresql://easel@127.0.0.1:1/easel?connect_timeout=2", 1);
    store = job_store_open ("/nonexistent-data-dir", err);
    setenv ("EASEL_DATABASE_URL", saved, 1);
    CHECK (!store && strstr (err, "cannot connect to PostgreSQL"), "no server: '%s'", err);
}

int
main (void)
{
    s_base = getenv ("EASEL_DATABASE_URL");
    REQUIRE (s_base && *s_base, "run me with tests/pg/run.sh (EASEL_DATABASE_URL unset)");
    check_case ("a new database migrates, a current one stays", s_new_and_again);
    check_case ("the same tables and columns as SQLite's", s_same_schema);
    check_case ("a newer database is refused", s_newer_refused);
    check_case ("steps numbered 1..n, a failing step alone", s_runner_rules);
    check_case ("concurrent migrations apply each step once", s_concurrent);
    check_case ("the CLI's reads beside the scheduler", s_beside);
    check_case ("the store's answers on PostgreSQL", s_store_answers);
    return check_done ("pg_schema");
}
