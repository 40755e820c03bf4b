/*  pg_schema.h: the PostgreSQL schema's versions (pg_schema.c), apart from
    store_pg.h so its tests can run the migrations on a bare connection.
    The versions are SQLite's (store_schema.h), recorded in the table
    schema_version (one row per applied step). Each missing step runs in
    its own transaction holding pg_advisory_xact_lock (PG_SCHEMA_LOCK_KEY)
    and re-reads the version there, so two processes migrating at once
    apply each step once; a database whose version is above the last step
    is refused and left untouched.
    Thread: the caller's. Memory: the steps are static. */
#ifndef EASEL_PG_SCHEMA_H
#define EASEL_PG_SCHEMA_H

#include <libpq-fe.h>

#define PG_SCHEMA_LOCK_KEY 0x656173656cLL    /* "easel" */
#define PG_SCHEMA_VERSION  6

typedef struct {
    int         version;           /* 1, 2, 3 ...: the step's position in the list */
    const char *sql;               /* one script of statements without parameters */
} pg_migration_t;

extern const pg_migration_t pg_migrations [];
extern const int pg_migrations_n;

/* Brings conn to steps[n-1].version. 0; -1 with err (256 bytes) naming the
   step, or saying the database is newer than steps (nothing changed), or
   that steps are not numbered 1..n. */
int pg_schema_migrate (PGconn *conn, const pg_migration_t *steps, int n, char *err);

/* conn's schema version (0 when it has none), -1 on error. */
int pg_schema_version (PGconn *conn);

#endif
