/*  cli_jobs.c: `easel jobs status ID [--watch] [--json]` and
    `easel renders status ID [--watch] [--json]`. --watch follows the object
    with long polls (?wait=30) until it is final, a progress bar on a
    terminal and a line per change otherwise (stderr); --json prints the
    object on stdout. Exit: 0 completed/succeeded (or not final without
    --watch), 1 failed/canceled, 2 usage, 3 transport or an error answer.
    Single threaded.  */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "cli_api.h"

/* Prints obj (JSON or a short summary) and returns the exit code of its status. */
/* A render in a few lines: images by status, failed images with their
   error, and the lint summary with its first findings (URLs: --json). */
static void
s_render_summary (json_t *obj)
{
    json_t *images = json_object_get (obj, "images"), *img;
    if (!json_is_array (images))
        return;
    size_t i, n = json_array_size (images), ok = 0, failed = 0;
    json_array_foreach (images, i, img) {
        const char *st = json_string_value (json_object_get (img, "status"));
        ok += st && strcmp (st, "succeeded") == 0;
        failed += st && strcmp (st, "failed") == 0;
    }
    printf ("images: %zu (%zu succeeded, %zu failed, %zu other)\n", n, ok, failed, n - ok - failed);
    json_array_foreach (images, i, img) {
        const char *st = json_string_value (json_object_get (img, "status"));
        if (!st || strcmp (st, "failed") != 0)
            continue;
        json_t *err = json_object_get (img, "error");
        printf ("  failed: slide %lld %s %s: %s\n", (long long) json_integer_value (json_object_get (img, "slide")),
                json_string_value (json_object_get (img, "locale")) ? json_string_value (json_object_get (img, "locale")) : "",
                json_string_value (json_object_get (img, "preset")) ? json_string_value (json_object_get (img, "preset")) : "",
                json_string_value (json_object_get (err, "message")) ? json_string_value (json_object_get (err, "message")) : "?");
    }
    json_t *lint = json_object_get (obj, "lint");
    if (!json_is_object (lint))
        return;
    printf ("lint: %s, %lld error%s, %lld warning%s\n", json_is_true (json_object_get (lint, "passed")) ? "passed" : "failed",
            (long long) json_integer_value (json_object_get (lint, "errors")),
            json_integer_value (json_object_get (lint, "errors")) == 1 ? "" : "s",
            (long long) json_integer_value (json_object_get (lint, "warnings")),
            json_integer_value (json_object_get (lint, "warnings")) == 1 ? "" : "s");
    int shown = 0;
    json_t *f;
    for (int pass = 0; pass < 2; pass++)        /* errors first, then warnings */
        json_array_foreach (json_object_get (lint, "findings"), i, f) {
            const char *sev = json_string_value (json_object_get (f, "severity"));
            if (!sev || strcmp (sev, pass ? "warning" : "error") != 0 || shown >= 5)
                continue;
            printf ("  %s %s: %s\n", sev, json_string_value (json_object_get (f, "rule")),
                    json_string_value (json_object_get (f, "message")));
            shown++;
        }
    size_t total = json_array_size (json_object_get (lint, "findings"));
    if (total > (size_t) shown && shown > 0)
        printf ("  ... (--json lists every finding and image URL)\n");
}

int
cli_print_object (json_t *obj, bool as_json)
{
    const char *status = json_string_value (json_object_get (obj, "status"));
    const char *id = json_string_value (json_object_get (obj, "id"));
    if (as_json) {
        char *text = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text)
            printf ("%s\n", text);
        free (text);
    }
    else {
        printf ("%s %s\n", id ? id : "?", status ? status : "?");
        json_t *result = json_object_get (obj, "result");
        if (json_is_object (result))
            printf ("%s %lldx%lld %s %s\n", json_string_value (json_object_get (result, "id")),
                    (long long) json_integer_value (json_object_get (result, "width")),
                    (long long) json_integer_value (json_object_get (result, "height")),
                    json_string_value (json_object_get (result, "format")),
                    json_string_value (json_object_get (result, "url")));
        s_render_summary (obj);
    }
    bool failed;
    if (cli_api_final (status, &failed) && failed) {
        json_t *err = json_object_get (obj, "error");
        const char *msg = json_is_string (err) ? json_string_value (err)
                        : json_string_value (json_object_get (err, "message"));
        fprintf (stderr, "easel: %s %s: %s\n", id ? id : "?", status, msg ? msg : "no reason given");
        return CLI_FAILED;
    }
    return CLI_OK;
}

int
cli_status (const char *kind, int argc, char **argv)
{
    /* argv: "jobs" "status" ID [--watch] [--json] */
    const char *id = NULL;
    bool watch = false, as_json = false;
    if (argc < 2 || strcmp (argv [1], "status") != 0) {
        fprintf (stderr, "usage: easel %ss status ID [--watch] [--json]\n", kind);
        return CLI_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp (argv [i], "--watch") == 0)
            watch = true;
        else
        if (strcmp (argv [i], "--json") == 0)
            as_json = true;
        else
        if (argv [i][0] != '-' && !id)
            id = argv [i];
        else {
            fprintf (stderr, "easel: unknown argument \"%s\" (usage: easel %ss status ID [--watch] [--json])\n",
                     argv [i], kind);
            return CLI_USAGE;
        }
    }
    const char *prefix = strcmp (kind, "job") == 0 ? "job_" : "rnd_";
    if (!id || strlen (id) != 30 || strncmp (id, prefix, 4) != 0) {
        fprintf (stderr, "easel: %ss status wants a %s... id\n", kind, prefix);
        return CLI_USAGE;
    }
    int rc = cli_api_init ();
    if (rc)
        return rc;
    json_t *obj = NULL;
    if (watch)
        rc = cli_api_watch (kind, id, &obj);
    else {
        char path [128];
        snprintf (path, sizeof path, "/v1/%ss/%s", kind, id);
        cli_api_resp_t resp;
        rc = cli_api_call ("GET", path, NULL, 30, &resp);
        if (rc == 0)
            rc = cli_api_json (&resp, &obj);
        cli_api_resp_free (&resp);
    }
    if (rc == 0)
        rc = cli_print_object (obj, as_json);
    json_decref (obj);
    return rc;
}
