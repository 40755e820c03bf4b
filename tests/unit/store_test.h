/*  store_test.h: opens a job store for a test on whichever backend the
    run chose. Without EASEL_DATABASE_URL it is job_store_open (SQLite under
    dir). With a postgres:// URL (tests/pg/run.sh sets one) each distinct
    dir gets a database of its own, created on first use in the server the
    URL names, so a test that opens a "new" data dir gets an empty store
    and one that reopens a dir finds its rows, as on SQLite.
    Include it once per test program, after check.h.
    Thread: the test's main thread. Memory: the table is static. */
#ifndef EASEL_STORE_TEST_H
#define EASEL_STORE_TEST_H

#include "job_store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORE_TEST_DIRS 16

static struct { char dir [512]; char url [512]; } s_store_test_dbs [STORE_TEST_DIRS];
static int s_store_test_n;

/* The URL of dir's own database in the server of base, created the first
   time; NULL (err filled) when it cannot be made. */
static const char *
store_test_url (const char *base, const char *dir, char *err)
{
    for (int i = 0; i < s_store_test_n; i++)
        if (strcmp (s_store_test_dbs [i].dir, dir) == 0)
            return s_store_test_dbs [i].url;
    if (s_store_test_n == STORE_TEST_DIRS || strlen (dir) >= sizeof s_store_test_dbs [0].dir) {
        snprintf (err, 256, "store_test: too many data dirs or too long a path");
        return NULL;
    }
    PGconn *conn = PQconnectdb (base);
    if (PQstatus (conn) != CONNECTION_OK) {
        snprintf (err, 256, "store_test: cannot connect to %s: %s", base, PQerrorMessage (conn));
        PQfinish (conn);
        return NULL;
    }
    /* the name is made here from the pid and a counter, never from input */
    char name [64], sql [128];
    snprintf (name, sizeof name, "t_%ld_%d", (long) getpid (), s_store_test_n);
    snprintf (sql, sizeof sql, "CREATE DATABASE %s", name);
    PGresult *res = PQexec (conn, sql);
    bool made = PQresultStatus (res) == PGRES_COMMAND_OK;
    if (!made)
        snprintf (err, 256, "store_test: %s: %s", sql, PQresultErrorMessage (res));
    PQclear (res);
    int n = s_store_test_n;
    if (made) {
        snprintf (s_store_test_dbs [n].dir, sizeof s_store_test_dbs [n].dir, "%s", dir);
        snprintf (s_store_test_dbs [n].url, sizeof s_store_test_dbs [n].url, "postgresql://%s@%s:%s/%s",
                  PQuser (conn), PQhost (conn), PQport (conn), name);
        s_store_test_n++;
    }
    PQfinish (conn);
    return made ? s_store_test_dbs [n].url : NULL;
}

/* job_store_open (dir, err) on this run's backend (see above). */
static inline job_store_t *
store_test_open (const char *dir, char *err)
{
    const char *base = getenv ("EASEL_DATABASE_URL");
    if (!base || !*base)
        return job_store_open (dir, err);
    char saved [512];
    snprintf (saved, sizeof saved, "%s", base);
    const char *url = store_test_url (saved, dir, err);
    if (!url)
        return NULL;
    setenv ("EASEL_DATABASE_URL", url, 1);
    job_store_t *store = job_store_open (dir, err);
    setenv ("EASEL_DATABASE_URL", saved, 1);
    return store;
}

/* "sqlite" without EASEL_DATABASE_URL, else "postgresql": what the run is on. */
static inline const char *
store_test_backend (void)
{
    const char *url = getenv ("EASEL_DATABASE_URL");
    return url && *url ? "postgresql" : "sqlite";
}

#endif
