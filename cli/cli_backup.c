/*  cli_backup.c: `easel backup [--data DIR] FILE`: a consistent copy of the
    data directory's database taken with SQLite's online backup API while the
    scheduler keeps running (job_store_backup). Blobs are content-addressed
    and written before any row names them, so copying blobs/ after FILE gives
    a set in which every referenced blob exists (docs/operations.md). With
    the store on PostgreSQL (EASEL_DATABASE_URL) there is no file to copy:
    the store's answer says to use pg_dump, and the command fails with it.
    Single threaded; output to stdout, errors to stderr. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_admin.h"
#include "data_lock.h"
#include "job_store.h"
#include "config.h"
#include "util.h"

#define S_PATH_MAX 1024

static const char *s_usage =
    "usage: easel backup [--data DIR] FILE [--json]\n"
    "DIR defaults to $EASEL_DATA, then ./easel-data; FILE (up to 1000 bytes) is replaced atomically.\n";

static void
s_print_json (json_t *obj)
{
    char *text = obj ? json_dumps (obj, JSON_COMPACT) : NULL;
    if (text)
        puts (text);
    free (text);
    json_decref (obj);
}

int
cli_backup (int argc, char **argv)
{
    const char *data = util_config (argc, argv, "--data", "EASEL_DATA", EASEL_DATA_DEFAULT);
    const char *file = NULL;
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
        else
        if (argv [i][0] != '-' && !file)
            file = argv [i];
        else {
            fprintf (stderr, "easel: unexpected argument \"%s\"\n%s", argv [i], s_usage);
            return 2;
        }
    }
    if (!file || !*file || strlen (file) > S_PATH_MAX - 24) {
        fprintf (stderr, "easel: backup needs a FILE%s\n%s", file && *file ? " (path too long)" : "",
                 s_usage);
        return 2;
    }
    char db [S_PATH_MAX + 16];
    struct stat st;
    const char *db_url = getenv ("EASEL_DATABASE_URL");
    bool on_file = !db_url || !*db_url;    /* else the store says: pg_dump */
    if (on_file
    &&  (snprintf (db, sizeof db, "%s/easel.db", data) >= (int) sizeof db || stat (db, &st) != 0)) {
        fprintf (stderr, "easel: no database at %s/easel.db\n", data);
        return 1;
    }
    char err [CLI_ADMIN_ERR_MAX] = "";
    int lock = -1;
    job_store_t *store = cli_admin_open_read (data, &lock, err);
    if (!store) {
        fprintf (stderr, "easel: %s\n", err);
        return 1;
    }
    int rc = job_store_backup (store, file, err);
    job_store_destroy (&store);
    data_lock_release (&lock);
    if (rc) {
        fprintf (stderr, "easel: %s\n", err);
        return 1;
    }
    if (stat (file, &st) != 0)
        st.st_size = 0;
    if (as_json)
        s_print_json (json_pack ("{s:s, s:s, s:I}", "data", data, "file", file,
                                 "bytes", (json_int_t) st.st_size));
    else
        printf ("backed up %s/easel.db to %s (%lld bytes)\n", data, file, (long long) st.st_size);
    return 0;
}
