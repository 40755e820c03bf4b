/*  cli_export.c: a finished render as the tree fastlane deliver and supply
    upload (catalog/fastlane_layout.h), plus easel-report.json beside it.

        easel export rnd_... --out DIR [--layout fastlane] [--fail-on-lint] [--json]
        easel render spec.json --out DIR --layout fastlane [--fail-on-lint]   (cli_render.c)

    DIR is what fastlane calls its directory: DIR/screenshots is deliver's
    screenshots_path, DIR/metadata/android is supply's metadata_path. Images
    are downloaded with their signed URLs, one at a time, each written to a
    temporary name and renamed, so a tree never holds half a file. Exit 0;
    1 when the render failed or (--fail-on-lint) its lint has errors, after
    the tree is written; 2 usage; 3 transport or an error answer.

    Single threaded. Memory: the render object (caller's) and one image. */
#include "cli.h"
#include "cli_api.h"
#include "fastlane_layout.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_PATH_MAX 4096            /* DIR plus a layout path */

/* mkdir -p of every directory above `path`'s last '/' (path is modified in
   place and restored). 0 / -1. */
static int
s_mkdirs (char *path)
{
    for (char *p = strchr (path + 1, '/'); p; p = strchr (p + 1, '/')) {
        *p = 0;
        int rc = mkdir (path, 0755);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int
s_write_file (const char *path, const char *data, size_t len)
{
    char tmp [S_PATH_MAX + 8];
    if (snprintf (tmp, sizeof tmp, "%s.part", path) >= (int) sizeof tmp)
        return -1;
    FILE *f = fopen (tmp, "wb");
    if (!f)
        return -1;
    int rc = (len == 0 || fwrite (data, 1, len, f) == len) ? 0 : -1;
    if (fclose (f) != 0)
        rc = -1;
    if (rc == 0 && rename (tmp, path) != 0)
        rc = -1;
    if (rc)
        unlink (tmp);
    return rc;
}

static void
s_copy (char *dst, size_t size, json_t *obj, const char *key)
{
    const char *v = json_string_value (json_object_get (obj, key));
    snprintf (dst, size, "%s", v ? v : "");
}

int
cli_export_fastlane (const char *out_dir, json_t *render, bool quiet, bool fail_on_lint)
{
    const char *id = json_string_value (json_object_get (render, "id"));
    const char *status = json_string_value (json_object_get (render, "status"));
    if (!id || !status) {
        fprintf (stderr, "easel: the answer is not a render object\n");
        return CLI_TRANSPORT;
    }
    if (strcmp (status, "processing") == 0) {
        fprintf (stderr, "easel: render %s is still processing; export it once it is final\n", id);
        return CLI_FAILED;
    }
    json_t *images = json_object_get (render, "images");
    size_t nimages = json_array_size (images);
    fastlane_item_t *items = calloc (nimages ? nimages : 1, sizeof *items);
    const char **urls = calloc (nimages ? nimages : 1, sizeof *urls);
    if (!items || !urls) {
        free (items);
        free (urls);
        fprintf (stderr, "easel: out of memory\n");
        return CLI_TRANSPORT;
    }
    int n = 0;
    size_t i;
    json_t *img;
    json_array_foreach (images, i, img) {
        const char *url = json_string_value (json_object_get (img, "url"));
        const char *st = json_string_value (json_object_get (img, "status"));
        if (!url || (st && strcmp (st, "succeeded") != 0))
            continue;
        fastlane_item_t *it = &items [n];
        s_copy (it->id, sizeof it->id, img, "id");
        s_copy (it->locale, sizeof it->locale, img, "locale");
        s_copy (it->preset, sizeof it->preset, img, "preset");
        s_copy (it->format, sizeof it->format, img, "format");
        it->slide = (int) json_integer_value (json_object_get (img, "slide"));
        it->width = (int) json_integer_value (json_object_get (img, "width"));
        it->height = (int) json_integer_value (json_object_get (img, "height"));
        urls [n++] = url;
    }
    int rc = CLI_OK;
    if (fastlane_plan (items, n)) {
        fprintf (stderr, "easel: render %s has an image the fastlane layout cannot name\n", id);
        rc = CLI_TRANSPORT;
    }
    char path [S_PATH_MAX];
    if (rc == 0 && (snprintf (path, sizeof path, "%s/", out_dir) >= (int) sizeof path || s_mkdirs (path))) {
        fprintf (stderr, "easel: cannot create %s: %s\n", out_dir, strerror (errno));
        rc = CLI_TRANSPORT;
    }
    for (int k = 0; rc == 0 && k < n; k++) {
        if (snprintf (path, sizeof path, "%s/%s", out_dir, items [k].path) >= (int) sizeof path
        ||  s_mkdirs (path)) {
            fprintf (stderr, "easel: cannot create the folders of %s\n", path);
            rc = CLI_TRANSPORT;
            break;
        }
        cli_api_resp_t resp;
        rc = cli_api_call ("GET", urls [k], NULL, 120, &resp);
        if (rc == 0 && resp.status != 200) {
            fprintf (stderr, "easel: downloading %s answered HTTP %ld\n", items [k].id, resp.status);
            rc = CLI_TRANSPORT;
        }
        if (rc == 0 && s_write_file (path, resp.body, resp.len)) {
            fprintf (stderr, "easel: cannot write %s: %s\n", path, strerror (errno));
            rc = CLI_TRANSPORT;
        }
        cli_api_resp_free (&resp);
        if (rc == 0 && !quiet)
            printf ("%s %s\n", items [k].why ? "unplaced" : "saved", path);
    }
    json_t *lint = json_object_get (render, "lint");
    if (rc == 0) {
        json_t *report = fastlane_report (id, status, lint, items, n);
        char *text = report ? json_dumps (report, JSON_INDENT (2) | JSON_SORT_KEYS) : NULL;
        json_decref (report);
        if (!text || snprintf (path, sizeof path, "%s/%s", out_dir, FASTLANE_REPORT_NAME) >= (int) sizeof path
        ||  s_write_file (path, text, strlen (text))) {
            fprintf (stderr, "easel: cannot write %s/%s\n", out_dir, FASTLANE_REPORT_NAME);
            rc = CLI_TRANSPORT;
        }
        else if (!quiet)
            printf ("saved %s\n", path);
        free (text);
    }
    json_int_t errors = json_integer_value (json_object_get (lint, "errors"));
    if (rc == 0 && strcmp (status, "succeeded") != 0) {
        fprintf (stderr, "easel: render %s is %s; the tree holds its succeeded images\n", id, status);
        rc = CLI_FAILED;
    }
    else if (rc == 0 && fail_on_lint && errors > 0) {
        fprintf (stderr, "easel: render %s has %lld lint error%s (see %s/%s)\n", id, (long long) errors,
                 errors == 1 ? "" : "s", out_dir, FASTLANE_REPORT_NAME);
        rc = CLI_FAILED;
    }
    free (items);
    free (urls);
    return rc;
}

int
cli_export (int argc, char **argv)
{
    static const char *usage =
        "usage: easel export rnd_... --out DIR [--layout fastlane] [--fail-on-lint] [--json]\n";
    const char *id = NULL, *out = NULL, *layout = "fastlane";
    bool as_json = false, fail_on_lint = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--out") == 0 && i + 1 < argc) out = argv [++i];
        else if (strcmp (argv [i], "--layout") == 0 && i + 1 < argc) layout = argv [++i];
        else if (strcmp (argv [i], "--fail-on-lint") == 0) fail_on_lint = true;
        else if (strcmp (argv [i], "--json") == 0) as_json = true;
        else if (argv [i][0] != '-' && !id) id = argv [i];
        else {
            fprintf (stderr, "easel: unknown argument \"%s\"\n%s", argv [i], usage);
            return CLI_USAGE;
        }
    }
    if (!id || !out || !*out) {
        fputs (usage, stderr);
        return CLI_USAGE;
    }
    if (strcmp (layout, "fastlane") != 0) {
        fprintf (stderr, "easel: --layout must be fastlane (got \"%s\")\n", layout);
        return CLI_USAGE;
    }
    if (strlen (id) > 40 || strspn (id, "abcdefghijklmnopqrstuvwxyz_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                            != strlen (id)) {
        fprintf (stderr, "easel: \"%s\" is not a render id\n", id);
        return CLI_USAGE;
    }
    int rc = cli_api_init ();
    if (rc)
        return rc;
    char path [128];
    snprintf (path, sizeof path, "/v1/renders/%s", id);
    cli_api_resp_t resp;
    json_t *obj = NULL;
    rc = cli_api_call ("GET", path, NULL, 60, &resp);
    if (rc == 0)
        rc = cli_api_json (&resp, &obj);
    cli_api_resp_free (&resp);
    if (rc)
        return rc;
    rc = cli_export_fastlane (out, obj, as_json, fail_on_lint);
    if (as_json && (rc == CLI_OK || rc == CLI_FAILED)) {
        char report [S_PATH_MAX];
        snprintf (report, sizeof report, "%s/%s", out, FASTLANE_REPORT_NAME);
        json_t *r = json_load_file (report, 0, NULL);
        if (r) {
            char *text = json_dumps (r, JSON_COMPACT | JSON_SORT_KEYS);
            if (text)
                printf ("%s\n", text);
            free (text);
            json_decref (r);
        }
    }
    json_decref (obj);
    return rc;
}
