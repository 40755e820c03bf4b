/*  cli_render.c: `easel render spec.json [--async] [--wait] [--out DIR]`
    and `easel capture URL [--device D] [--background P] [--full-page]
    [--format F] [--out FILE] [--json]`.

    render: POSTs the spec (at most 25 MiB). Without --async the server
    waits (sync); a 202 is then followed with long polls. --async answers
    with the id at once unless --wait follows it too. With --out DIR every
    image of a finished render is downloaded as DIR/<img_id>.<format>.
    capture: POSTs /v1/capture, follows the job to its end, downloads the
    framed image to --out (default ./<cap_id>.<format>) and prints its path.
    Exit codes as cli_api.h. Single threaded.  */
#include <stdbool.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>

#include "cli.h"
#include "cli_api.h"
#include "cli_upload.h"
#include "util.h"

#define S_SPEC_MAX (25 * 1024 * 1024)

int cli_print_object (json_t *obj, bool as_json);

static int
s_download (const char *url, const char *path)
{
    cli_api_resp_t resp;
    int rc = cli_api_call ("GET", url, NULL, 120, &resp);
    if (rc)
        return rc;
    if (resp.status != 200) {
        fprintf (stderr, "easel: downloading %s answered HTTP %ld\n", url, resp.status);
        rc = CLI_TRANSPORT;
    }
    else
        rc = cli_api_save (path, resp.body, resp.len);
    cli_api_resp_free (&resp);
    return rc;
}

static const char *
s_ext (const char *format)
{
    return format && strcmp (format, "jpeg") == 0 ? "jpg" : format ? format : "png";
}

/* POSTs body to path; a 202 whose object is not final is followed. */
static int
s_submit (const char *path, const char *kind, const char *body, bool follow, json_t **obj)
{
    cli_api_resp_t resp;
    int rc = cli_api_call ("POST", path, body, 120, &resp);
    if (rc == 0)
        rc = cli_api_json (&resp, obj);
    cli_api_resp_free (&resp);
    if (rc)
        return rc;
    bool failed;
    const char *status = json_string_value (json_object_get (*obj, "status"));
    if (!follow || cli_api_final (status, &failed))
        return 0;
    const char *id = json_string_value (json_object_get (*obj, "id"));
    if (!id)
        id = json_string_value (json_object_get (*obj, "job_id"));
    char copy [64];
    snprintf (copy, sizeof copy, "%s", id ? id : "");
    json_decref (*obj);
    return cli_api_watch (kind, copy, obj);
}

/* A name part safe as one path segment: letters, digits, '.', '_', '-'. */
static void
s_segment (const char *v, const char *fallback, char *out, size_t size)
{
    snprintf (out, size, "%s", v && *v && strcmp (v, ".") != 0 && strcmp (v, "..") != 0 ? v : fallback);
    for (char *p = out; *p; p++)
        if (!isalnum ((unsigned char) *p) && *p != '.' && *p != '_' && *p != '-')
            *p = '_';
}

/* DIR/<locale>/<preset>/<NN>.<ext> of an image (NN its slide, from 01),
   creating the folders: "default" without a locale, WxH without a preset. */
static int
s_image_path (const char *out, json_t *img, char *path, size_t size)
{
    char locale [80], preset [80], custom [40];
    snprintf (custom, sizeof custom, "%lldx%lld", (long long) json_integer_value (json_object_get (img, "width")),
              (long long) json_integer_value (json_object_get (img, "height")));
    s_segment (json_string_value (json_object_get (img, "locale")), "default", locale, sizeof locale);
    s_segment (json_string_value (json_object_get (img, "preset")), custom, preset, sizeof preset);
    mkdir (out, 0755);
    snprintf (path, size, "%s/%s", out, locale);
    mkdir (path, 0755);
    snprintf (path, size, "%s/%s/%s", out, locale, preset);
    if (mkdir (path, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf (path, size, "%s/%s/%s/%02lld.%s", out, locale, preset,
              (long long) json_integer_value (json_object_get (img, "slide")) + 1,
              s_ext (json_string_value (json_object_get (img, "format"))));
    return 0;
}

int
cli_render (int argc, char **argv)
{
    const char *spec = NULL, *out = NULL, *layout = NULL;
    bool async = false, wait = false, as_json = false, fail_on_lint = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--layout") == 0 && i + 1 < argc) layout = argv [++i];   /* cli_export.c */
        else if (strcmp (argv [i], "--fail-on-lint") == 0) fail_on_lint = true;
        else if (strcmp (argv [i], "--async") == 0) async = true;
        else if (strcmp (argv [i], "--wait") == 0) wait = true;
        else if (strcmp (argv [i], "--json") == 0) as_json = true;
        else if (strcmp (argv [i], "--out") == 0 && i + 1 < argc) out = argv [++i];
        else if ((argv [i][0] != '-' || strcmp (argv [i], "-") == 0) && !spec) spec = argv [i];
        else {
            fprintf (stderr, "easel: unknown argument \"%s\" (usage: easel render spec.json|- [--async] [--wait] [--out DIR] [--layout fastlane] [--fail-on-lint] [--json])\n", argv [i]);
            return CLI_USAGE;
        }
    }
    if (!spec) {
        fprintf (stderr, "usage: easel render spec.json|- [--async] [--wait] [--out DIR] [--layout fastlane] [--fail-on-lint] [--json]\n");
        return CLI_USAGE;
    }
    if (layout && (strcmp (layout, "fastlane") != 0 || !out)) {
        fprintf (stderr, "easel: --layout takes fastlane, with --out DIR\n");
        return CLI_USAGE;
    }
    size_t len = 0;
    bool from_stdin = strcmp (spec, "-") == 0;   /* "-": the spec comes on standard input */
    char *text = util_read_file (from_stdin ? "/dev/stdin" : spec, S_SPEC_MAX, &len);
    if (from_stdin)
        spec = "standard input";
    if (!text) {
        fprintf (stderr, "easel: cannot read %s (missing, unreadable or over 25 MiB)\n", spec);
        return CLI_USAGE;
    }
    json_error_t je;
    json_t *body = json_loadb (text, len, 0, &je);
    free (text);
    if (!json_is_object (body)) {
        fprintf (stderr, "easel: %s is not a JSON object: %s (line %d, column %d)\n", spec, je.text,
                 je.line, je.column);
        json_decref (body);
        return CLI_USAGE;
    }
    if (async)
        json_object_set_new (body, "async", json_true ());
    /* local "path"s: checked, uploaded once each, replaced by file_ids */
    int rc = cli_api_init ();
    if (rc == 0)
        rc = cli_upload_spec (body, as_json ? CLI_UPLOAD_JSON : isatty (2) ? CLI_UPLOAD_TTY
                                                                         : CLI_UPLOAD_PLAIN);
    char *payload = rc ? NULL : json_dumps (body, JSON_COMPACT);
    json_decref (body);
    if (rc)
        return rc;
    rc = payload ? 0 : CLI_USAGE;
    json_t *obj = NULL;
    if (rc == 0)
        rc = s_submit ("/v1/renders", "render", payload, !async || wait, &obj);
    free (payload);
    if (rc)
        return rc;
    rc = cli_print_object (obj, as_json);
    size_t i;
    json_t *img;
    if (layout && out && strcmp (json_string_value (json_object_get (obj, "status")), "processing") != 0) {
        int erc = cli_export_fastlane (out, obj, as_json, fail_on_lint);
        json_decref (obj);
        return erc ? erc : rc;
    }
    if (out && strcmp (json_string_value (json_object_get (obj, "status")), "processing") != 0) {
        int saved = 0;
        json_array_foreach (json_object_get (obj, "images"), i, img) {
            const char *url = json_string_value (json_object_get (img, "url"));
            if (!url)
                continue;
            char path [4096];
            if (s_image_path (out, img, path, sizeof path)) {
                fprintf (stderr, "easel: cannot create the folders for %s\n", path);
                rc = CLI_TRANSPORT;
                break;
            }
            int drc = s_download (url, path);
            if (drc) {
                rc = drc;
                break;
            }
            saved++;
        }
        if (!as_json)
            printf ("saved %d image%s under %s/<locale>/<preset>/<slide>.<format>\n", saved,
                    saved == 1 ? "" : "s", out);
    }
    json_decref (obj);
    return rc;
}

int
cli_capture (int argc, char **argv)
{
    const char *url = NULL, *device = NULL, *bg = NULL, *out = NULL, *format = NULL;
    bool full = false, as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--full-page") == 0) full = true;
        else if (strcmp (argv [i], "--json") == 0) as_json = true;
        else if (strcmp (argv [i], "--device") == 0 && i + 1 < argc) device = argv [++i];
        else if (strcmp (argv [i], "--background") == 0 && i + 1 < argc) bg = argv [++i];
        else if (strcmp (argv [i], "--format") == 0 && i + 1 < argc) format = argv [++i];
        else if (strcmp (argv [i], "--out") == 0 && i + 1 < argc) out = argv [++i];
        else if (argv [i][0] != '-' && !url) url = argv [i];
        else {
            fprintf (stderr, "easel: unknown argument \"%s\" (usage: easel capture URL [--device D] [--background P] [--full-page] [--format F] [--out FILE] [--json])\n", argv [i]);
            return CLI_USAGE;
        }
    }
    if (!url) {
        fprintf (stderr, "usage: easel capture URL [--device D] [--background P] [--full-page] [--format F] [--out FILE] [--json]\n");
        return CLI_USAGE;
    }
    json_t *body = json_pack ("{s:s, s:b}", "url", url, "full_page", full);
    if (body && device)
        json_object_set_new (body, "device", json_string (device));
    if (body && bg)
        json_object_set_new (body, "background_preset", json_string (bg));
    if (body && format)
        json_object_set_new (body, "format", json_string (format));
    char *payload = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    int rc = payload ? cli_api_init () : CLI_USAGE;
    json_t *obj = NULL;
    if (rc == 0)
        rc = s_submit ("/v1/capture", "job", payload, true, &obj);
    free (payload);
    if (rc)
        return rc;
    rc = cli_print_object (obj, as_json);
    json_t *result = json_object_get (obj, "result");
    if (rc == 0 && json_is_object (result)) {
        char path [4096];
        if (out)
            snprintf (path, sizeof path, "%s", out);
        else
            snprintf (path, sizeof path, "%s.%s", json_string_value (json_object_get (result, "id")),
                      s_ext (json_string_value (json_object_get (result, "format"))));
        rc = s_download (json_string_value (json_object_get (result, "url")), path);
        if (rc == 0 && !as_json)
            printf ("saved %s\n", path);
    }
    json_decref (obj);
    return rc;
}
