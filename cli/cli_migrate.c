/*  cli_migrate.c: `easel migrate [--data DIR] [--json]`: moves the state of
    a data directory's SQLite store onto the PostgreSQL database named by
    EASEL_DATABASE_URL (job_store_copy_to_pg: one transaction, into an empty
    database only, signed file URLs kept valid). The data dir must have no
    scheduler running (its lock is held shared for the copy, so none starts);
    the blobs stay where they are (docs/operations.md: "Moving to
    PostgreSQL"). Single threaded; output to stdout, errors to stderr. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "data_lock.h"
#include "job_store.h"
#include "util.h"

#define S_PATH_MAX 1024

static const char *s_usage =
    "usage: easel migrate [--data DIR] [--json]\n"
    "copies DIR's SQLite store (DIR defaults to $EASEL_DATA, then ./easel-data) into the empty\n"
    "PostgreSQL database of $EASEL_DATABASE_URL; stop the scheduler on DIR first.\n";

static void
s_count (const char *table, int64_t rows, void *arg)
{
    json_object_set_new (arg, table, json_integer (rows));
}

int
cli_migrate (int argc, char **argv)
{
    const char *data = util_config (argc, argv, "--data", "EASEL_DATA", EASEL_DATA_DEFAULT);
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--data") == 0 && i + 1 < argc)
            i++;
        else
        if (strncmp (argv [i], "--data=", 7) == 0)
            ;
        else
        if (strcmp (argv [i], "--json") == 0)
            as_json = true;
        else {
            fprintf (stderr, "easel: unexpected argument \"%s\"\n%s", argv [i], s_usage);
            return 2;
        }
    }
    const char *url = getenv ("EASEL_DATABASE_URL");
    if (!url || (strncmp (url, "postgres://", 11) != 0 && strncmp (url, "postgresql://", 13) != 0)) {
        fprintf (stderr, "easel: migrate needs EASEL_DATABASE_URL=postgres://... (the database to copy into)\n%s",
                 s_usage);
        return 2;
    }
    char db [S_PATH_MAX + 16];
    struct stat st;
    if (strlen (data) > S_PATH_MAX || snprintf (db, sizeof db, "%s/easel.db", data) >= (int) sizeof db
    ||  stat (db, &st) != 0) {
        fprintf (stderr, "easel: no database at %.1024s/easel.db\n", data);
        return 1;
    }
    char why [DATA_LOCK_ERR_MAX] = "";
    int lock = -1;
    int held = data_lock_share (data, &lock, why);
    if (held != 0) {
        fprintf (stderr, "easel: %s\n", held == 1 ? "a scheduler is running on this data dir: stop it"
                                                    " first, so the copy sees every commit" : why);
        return 1;
    }
    json_t *counts = json_object ();
    char err [256] = "";
    int rc = job_store_copy_to_pg (data, url, s_count, counts, err);
    data_lock_release (&lock);
    if (rc) {
        fprintf (stderr, "easel: nothing copied: %s\n", err);
        json_decref (counts);
        return 1;
    }
    if (as_json) {
        json_t *out = json_pack ("{s:s, s:O}", "copied_from", db, "tables", counts);
        char *text = out ? json_dumps (out, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (text)
            puts (text);
        free (text);
        json_decref (out);
    }
    else {
        printf ("copied %s into PostgreSQL:\n", db);
        const char *table;
        json_t *n;
        json_object_foreach (counts, table, n)
            printf ("  %-20s %lld rows\n", table, (long long) json_integer_value (n));
    }
    json_decref (counts);
    return 0;
}
