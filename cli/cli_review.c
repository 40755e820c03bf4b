/*  cli_review.c: `easel renders review rnd_... [--wait] [--timeout S] [--json]`:
    the review decision of a render, so a CI job can wait on a person. With
    --wait it follows the render (long polls while it processes, then a GET
    every CLI_REVIEW_POLL_MS) until the review is decided or --timeout
    seconds pass. Exit: 0 approved, 1 changes requested, 4 no decision (yet:
    pending without --wait, or the timeout passed), 2 usage, 3 transport or
    an error answer. The decision (and the review page's link while waiting)
    go to stderr; --json prints the render on stdout.

    `easel renders review-link rnd_... [--by NAME] [--since rnd_...]
    [--expires-in S] [--json]`: a new review link (POST
    /v1/renders/{id}/review_links) that names its reviewer and/or an earlier
    render whose changes the page marks; prints its URL (--json: the object).
    Single threaded. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "cli.h"
#include "cli_api.h"
#include "util.h"

#define CLI_NO_DECISION      4
#define CLI_REVIEW_POLL_MS   2000           /* a final render is asked this often */
#define CLI_REVIEW_TIMEOUT_MAX_S (30LL * 24 * 3600)

static const char *s_usage = "usage: easel renders review rnd_... [--wait] [--timeout S] [--json]";

/* The render (GET, with ?wait= while it processes and time is left). */
static int
s_fetch (const char *id, int64_t wait_s, json_t **obj)
{
    char path [128];
    if (wait_s > 0)
        snprintf (path, sizeof path, "/v1/renders/%s?wait=%lld", id, (long long) wait_s);
    else
        snprintf (path, sizeof path, "/v1/renders/%s", id);
    cli_api_resp_t resp;
    int rc = cli_api_call ("GET", path, NULL, wait_s + 30, &resp);
    if (rc == 0)
        rc = cli_api_json (&resp, obj);
    cli_api_resp_free (&resp);
    return rc;
}

static bool
s_processing (json_t *obj)
{
    const char *s = json_string_value (json_object_get (obj, "status"));
    return s && strcmp (s, "processing") == 0;
}

static const char *
s_review_status (json_t *obj)
{
    const char *s = json_string_value (json_object_get (json_object_get (obj, "review"), "status"));
    return s ? s : "pending";
}

int
cli_review (int argc, char **argv)
{
    /* argv: "renders" "review" ID [--wait] [--timeout S] [--json] */
    const char *id = NULL;
    bool wait = false, as_json = false;
    int64_t timeout_s = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp (argv [i], "--wait") == 0)
            wait = true;
        else
        if (strcmp (argv [i], "--json") == 0)
            as_json = true;
        else
        if (strcmp (argv [i], "--timeout") == 0 && i + 1 < argc) {
            if (util_parse_i64 (argv [++i], 1, CLI_REVIEW_TIMEOUT_MAX_S, &timeout_s)) {
                fprintf (stderr, "easel: --timeout is whole seconds, 1 to %lld\n", CLI_REVIEW_TIMEOUT_MAX_S);
                return CLI_USAGE;
            }
        }
        else
        if (argv [i][0] != '-' && !id)
            id = argv [i];
        else {
            fprintf (stderr, "easel: unknown argument \"%s\" (%s)\n", argv [i], s_usage);
            return CLI_USAGE;
        }
    }
    if (!id || strlen (id) != 30 || strncmp (id, "rnd_", 4) != 0) {
        fprintf (stderr, "easel: renders review wants a rnd_... id (%s)\n", s_usage);
        return CLI_USAGE;
    }
    int rc = cli_api_init ();
    if (rc)
        return rc;
    int64_t deadline = timeout_s ? util_mono_ms () + timeout_s * 1000 : INT64_MAX;
    json_t *obj = NULL;
    bool told = false;
    for (;;) {
        int64_t left_s = (deadline - util_mono_ms ()) / 1000;
        bool processing = obj && s_processing (obj);
        int64_t wait_s = wait && processing ? (left_s < CLI_WAIT_S ? left_s : CLI_WAIT_S) : 0;
        json_decref (obj);
        obj = NULL;
        if ((rc = s_fetch (id, wait_s, &obj)))
            return rc;
        const char *review = s_review_status (obj);
        if (strcmp (review, "pending") != 0 || !wait || util_mono_ms () >= deadline)
            break;
        if (!told) {
            const char *url = json_string_value (json_object_get (obj, "review_url"));
            fprintf (stderr, "easel: waiting for a review decision on %s%s%s\n", id,
                     url ? "; review page: " : "", url ? url : "");
            told = true;
        }
        if (!s_processing (obj)) {
            int64_t pause = deadline - util_mono_ms ();
            if (pause > CLI_REVIEW_POLL_MS)
                pause = CLI_REVIEW_POLL_MS;
            struct timespec ts = { (time_t) (pause / 1000), (long) (pause % 1000) * 1000000L };
            if (pause > 0)
                nanosleep (&ts, NULL);
        }
    }
    json_t *r = json_object_get (obj, "review");
    const char *review = s_review_status (obj);
    const char *by = json_string_value (json_object_get (r, "by"));
    const char *comment = json_string_value (json_object_get (r, "comment"));
    if (as_json) {
        char *text = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (text)
            printf ("%s\n", text);
        free (text);
    }
    else
        printf ("%s review %s\n", id, review);
    if (strcmp (review, "pending") == 0) {
        fprintf (stderr, "easel: %s has no review decision%s\n", id,
                 wait ? " before the timeout" : " yet (--wait waits for one)");
        rc = CLI_NO_DECISION;
    }
    else {
        fprintf (stderr, "easel: %s %s%s%s%s%s\n", id,
                 strcmp (review, "approved") == 0 ? "approved" : "changes requested",
                 by ? " by " : "", by ? by : "", comment ? ": " : "", comment ? comment : "");
        rc = strcmp (review, "approved") == 0 ? CLI_OK : CLI_FAILED;
    }
    json_decref (obj);
    return rc;
}

int
cli_review_link (int argc, char **argv)
{
    /* argv: "renders" "review-link" ID [--by NAME] [--since ID] [--expires-in S] [--json] */
    static const char *usage = "usage: easel renders review-link rnd_... [--by NAME] [--since rnd_...]"
                               " [--expires-in S] [--json]";
    const char *id = NULL;
    bool as_json = false;
    json_t *body = json_object ();
    for (int i = 2; body && i < argc; i++) {
        int64_t ttl = 0;
        if (strcmp (argv [i], "--json") == 0)
            as_json = true;
        else
        if ((strcmp (argv [i], "--by") == 0 || strcmp (argv [i], "--since") == 0) && i + 1 < argc) {
            json_object_set_new (body, argv [i] + 2, json_string (argv [i + 1]));
            i++;
        }
        else
        if (strcmp (argv [i], "--expires-in") == 0 && i + 1 < argc
        &&  util_parse_i64 (argv [i + 1], 1, CLI_REVIEW_TIMEOUT_MAX_S, &ttl) == 0) {
            json_object_set_new (body, "expires_in", json_integer (ttl));
            i++;
        }
        else
        if (argv [i][0] != '-' && !id)
            id = argv [i];
        else {
            fprintf (stderr, "easel: bad argument \"%s\" (%s)\n", argv [i], usage);
            json_decref (body);
            return CLI_USAGE;
        }
    }
    if (!body || !id || strlen (id) != 30 || strncmp (id, "rnd_", 4) != 0) {
        fprintf (stderr, "easel: renders review-link wants a rnd_... id (%s)\n", usage);
        json_decref (body);
        return CLI_USAGE;
    }
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    int rc = text ? cli_api_init () : CLI_FAILED;
    char path [96];
    snprintf (path, sizeof path, "/v1/renders/%s/review_links", id);
    cli_api_resp_t resp;
    json_t *obj = NULL;
    if (rc == 0 && (rc = cli_api_call ("POST", path, text, 60, &resp)) == 0) {
        rc = cli_api_json (&resp, &obj);
        cli_api_resp_free (&resp);
    }
    free (text);
    if (rc)
        return rc;
    const char *url = json_string_value (json_object_get (obj, "url"));
    if (as_json) {
        char *out = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (out)
            printf ("%s\n", out);
        free (out);
    }
    else
        printf ("%s\n", url ? url : "");
    json_decref (obj);
    return url ? CLI_OK : CLI_FAILED;
}
