/*  cli_certs.c: `easel certs create NAME [--dir DIR]`: a CurveZMQ keypair for
    one bus member, written with zcert: DIR/NAME (public, give it to the other
    side) and DIR/NAME_secret (both keys, mode 0600, stays on its host). The
    scheduler's public file is every client's EASEL_CURVE_SERVER_KEY; a
    client's public file goes into the scheduler's EASEL_CURVE_ALLOWED_DIR.
    Single threaded; output to stdout, errors to stderr. */
#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define S_NAME_MAX 64              /* bytes of NAME: [A-Za-z0-9._-], not starting with '.' */
#define S_PATH_MAX 1024

static const char *s_usage =
    "usage: easel certs create NAME [--dir DIR] [--json]\n"
    "NAME: 1..64 of A-Z a-z 0-9 . _ - (not starting with '.'); DIR defaults to the current directory.\n"
    "Writes DIR/NAME (public) and DIR/NAME_secret (secret, mode 0600); never overwrites.\n";

static bool
s_name_ok (const char *name)
{
    size_t n = strlen (name);
    if (n == 0 || n > S_NAME_MAX || name [0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int
s_create (const char *name, const char *dir, bool as_json)
{
    if (!s_name_ok (name)) {
        fprintf (stderr, "easel: bad certificate name \"%s\"\n%s", name, s_usage);
        return 2;
    }
    char pub [S_PATH_MAX], sec [S_PATH_MAX];
    if (snprintf (pub, sizeof pub, "%s/%s", dir, name) >= (int) sizeof pub
    ||  snprintf (sec, sizeof sec, "%s/%s_secret", dir, name) >= (int) sizeof sec) {
        fprintf (stderr, "easel: --dir path too long (limit %d bytes)\n", S_PATH_MAX - S_NAME_MAX - 10);
        return 2;
    }
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        fprintf (stderr, "easel: cannot create %s: %s\n", dir, strerror (errno));
        return 1;
    }
    if (access (pub, F_OK) == 0 || access (sec, F_OK) == 0) {
        fprintf (stderr, "easel: %s or its _secret already exists; not overwritten\n", pub);
        return 1;
    }
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "easel: cannot make a keypair\n");
        return 1;
    }
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "created-by", "easel certs create");
    int rc = zcert_save (cert, pub);
    if (rc == 0)
        rc = chmod (sec, 0600);
    if (rc != 0) {
        fprintf (stderr, "easel: cannot write %s: %s\n", pub, strerror (errno));
        unlink (pub);
        unlink (sec);
        zcert_destroy (&cert);
        return 1;
    }
    if (as_json) {
        json_t *obj = json_pack ("{s:s, s:s, s:s, s:s}", "name", name, "public_file", pub,
                                 "secret_file", sec, "public_key", zcert_public_txt (cert));
        char *text = obj ? json_dumps (obj, JSON_COMPACT) : NULL;
        if (text)
            puts (text);
        free (text);
        json_decref (obj);
    }
    else
        printf ("public  %s\nsecret  %s (mode 0600)\nkey     %s\n", pub, sec, zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

int
cli_certs (int argc, char **argv)
{
    if (argc < 3 || strcmp (argv [1], "create") != 0 || argv [2][0] == '-') {
        fputs (s_usage, stderr);
        return 2;
    }
    const char *dir = ".";
    bool as_json = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp (argv [i], "--dir") == 0 && i + 1 < argc)
            dir = argv [++i];
        else
        if (strncmp (argv [i], "--dir=", 6) == 0)
            dir = argv [i] + 6;
        else
        if (strcmp (argv [i], "--json") == 0)
            as_json = true;
        else {
            fprintf (stderr, "easel: unknown argument \"%s\"\n%s", argv [i], s_usage);
            return 2;
        }
    }
    if (!*dir) {
        fprintf (stderr, "easel: --dir must not be empty\n");
        return 2;
    }
    return s_create (argv [2], dir, as_json);
}
