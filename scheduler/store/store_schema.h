/*  store_schema.h: the SQLite schema's versions (sqlite_schema.c). The
    database's PRAGMA user_version is the last migration applied to it; open
    applies every later step of store_migrations in order, each in its own
    transaction, and refuses a database whose version is above the last
    step (made by a newer Easel). Private to scheduler/store/ and its tests.
    Thread: the caller's. Memory: the steps are static. */
#ifndef EASEL_STORE_SCHEMA_H
#define EASEL_STORE_SCHEMA_H

#include <sqlite3.h>

typedef struct {
    int         version;           /* 1, 2, 3 ...: the step's position in the list */
    const char *sql;               /* one script, run with sqlite3_exec */
    /* run first, in the same transaction (NULL: none); 0 / -1 with err */
    int       (*before) (sqlite3 *db, char *err);
} store_migration_t;

extern const store_migration_t store_migrations [];
extern const int store_migrations_n;

/* The version of the newest step: what a database is at after open. */
#define STORE_SCHEMA_VERSION 6

/* Brings db from its user_version to steps[n-1].version: for each missing
   step, BEGIN IMMEDIATE, re-read the version (another process may have
   migrated meanwhile), run before and sql, set user_version, COMMIT. A step
   that fails is rolled back alone: the database stays at the step before
   it. 0; -1 with err (256 bytes) naming the step, or saying the database is
   newer than steps (nothing changed), or that steps are not numbered 1..n. */
int store_schema_migrate (sqlite3 *db, const store_migration_t *steps, int n, char *err);

/* db's PRAGMA user_version, -1 on error. */
int store_schema_version (sqlite3 *db);

#endif
