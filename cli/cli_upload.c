/*  cli_upload.c: local files to uploads (see cli_upload.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli_api.h"
#include "cli_upload.h"
#include "util.h"

#define S_KEY_MAX  160             /* "<locale>/<preset>" */
#define S_PATH_MAX 4096
#define EASEL_CLI_SITES_MAX 16     /* slides (at most 10) and the background */

int
cli_upload_file (const char *path, char file_id [64], bool *skipped)
{
    size_t len = 0;
    if (skipped)
        *skipped = false;
    if (access (path, R_OK) != 0) {
        fprintf (stderr, "easel: %s: missing or unreadable\n", path);
        return CLI_USAGE;
    }
    char *data = util_read_file (path, CLI_UPLOAD_MAX_BYTES, &len);
    if (!data) {
        fprintf (stderr, "easel: %s: unreadable or over %d bytes\n", path, CLI_UPLOAD_MAX_BYTES);
        return CLI_USAGE;
    }
    char sha [65], query [128];
    util_sha256_hex (data, len, sha);
    snprintf (query, sizeof query, "/v1/files?sha256=%s", sha);
    cli_api_resp_t resp;
    int rc = cli_api_call ("GET", query, NULL, 60, &resp);
    bool have = rc == 0 && resp.status == 200;
    if (rc == 0 && !have && resp.status != 404)
        rc = cli_api_json (&resp, &(json_t *) { NULL });
    if (rc == 0 && !have) {
        cli_api_resp_free (&resp);
        rc = cli_api_call_bytes ("POST", "/v1/files", "application/octet-stream", data, len, 300, &resp);
    }
    free (data);
    if (rc) {
        cli_api_resp_free (&resp);
        return rc;
    }
    json_t *obj = NULL;
    if (cli_api_json (&resp, &obj)) {
        fprintf (stderr, "easel: %s was not uploaded\n", path);
        cli_api_resp_free (&resp);
        return CLI_TRANSPORT;
    }
    cli_api_resp_free (&resp);
    const char *id = json_string_value (json_object_get (obj, "id"));
    snprintf (file_id, 64, "%s", id ? id : "");
    json_decref (obj);
    if (skipped)
        *skipped = have;
    return id ? 0 : CLI_TRANSPORT;
}

typedef struct {
    json_t *owner;                 /* the screenshot or image object holding "path" */
    char    tmpl [S_PATH_MAX];
} s_site_t;

typedef struct {
    char  *paths [CLI_UPLOAD_MAX_FILES];
    char   ids [CLI_UPLOAD_MAX_FILES][64];
    int    n;
} s_files_t;

static int
s_add_path (s_files_t *f, const char *path)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp (f->paths [i], path) == 0)
            return i;
    if (f->n == CLI_UPLOAD_MAX_FILES) {
        fprintf (stderr, "easel: the spec names more than %d files\n", CLI_UPLOAD_MAX_FILES);
        return -1;
    }
    f->paths [f->n] = strdup (path);
    return f->paths [f->n] ? f->n++ : -1;
}

static void
s_progress (cli_upload_style_t style, int done, int total, const char *path, const char *id, bool skipped)
{
    if (style == CLI_UPLOAD_TTY) {
        int width = 30, fill = total ? done * width / total : width;
        fprintf (stderr, "\ruploads [%.*s%*s] %d/%d", fill, "##############################",
                 width - fill, "", done, total);
        if (done == total)
            fputc ('\n', stderr);
    }
    else
    if (style == CLI_UPLOAD_PLAIN)
        fprintf (stderr, "upload %d/%d %s %s (%s)\n", done, total, skipped ? "skipped" : "sent", path, id);
    else {
        json_t *line = json_pack ("{s:s, s:i, s:i, s:s, s:s, s:b}", "event", "upload", "done", done,
                                  "total", total, "path", path, "file_id", id, "skipped", skipped);
        char *text = line ? json_dumps (line, JSON_COMPACT) : NULL;
        if (text)
            fprintf (stderr, "%s\n", text);
        free (text);
        json_decref (line);
    }
    fflush (stderr);
}

int
cli_upload_spec (json_t *body, cli_upload_style_t style)
{
    /* the sites: slides[i].screenshot and background.image with a "path" */
    s_site_t *sites = calloc (EASEL_CLI_SITES_MAX, sizeof *sites);
    s_files_t *files = calloc (1, sizeof *files);
    int nsites = 0, rc = 0;
    if (!sites || !files) {
        free (sites);
        free (files);
        return CLI_TRANSPORT;
    }
    size_t i;
    json_t *sl;
    json_t *owners [EASEL_CLI_SITES_MAX];
    int nowners = 0;
    json_array_foreach (json_object_get (body, "slides"), i, sl)
        if (nowners < EASEL_CLI_SITES_MAX - 1)
            owners [nowners++] = json_object_get (sl, "screenshot");
    owners [nowners++] = json_object_get (json_object_get (body, "background"), "image");
    for (int o = 0; o < nowners; o++) {
        json_t *p = json_object_get (owners [o], "path");
        if (!p)
            continue;
        if (!json_is_string (p) || json_string_length (p) >= S_PATH_MAX) {
            fprintf (stderr, "easel: a \"path\" in the spec is not a string of at most %d bytes\n", S_PATH_MAX - 1);
            rc = CLI_USAGE;
            goto done;
        }
        sites [nsites].owner = owners [o];
        snprintf (sites [nsites++].tmpl, S_PATH_MAX, "%s", json_string_value (p));
    }
    if (nsites == 0)
        goto done;
    /* the matrix a template expands over */
    json_t *locales = json_object_get (json_object_get (body, "matrix"), "locales");
    json_t *presets = json_object_get (json_object_get (body, "matrix"), "presets");
    const char *canvas_preset = json_string_value (json_object_get (json_object_get (body, "canvas"), "preset"));
    size_t nl = json_array_size (locales), np = json_array_size (presets);
    /* every file the spec names must be there before anything is sent */
    for (int s = 0; s < nsites && rc == 0; s++)
        for (size_t l = 0; l < (nl ? nl : 1) && rc == 0; l++)
            for (size_t p = 0; p < (np ? np : 1) && rc == 0; p++) {
                const char *loc = nl ? json_string_value (json_array_get (locales, l)) : "";
                const char *pre = np ? json_string_value (json_array_get (presets, p))
                                     : canvas_preset ? canvas_preset : "";
                char path [S_PATH_MAX];
                if (!loc || !pre || util_template_expand (sites [s].tmpl, loc, pre, path, sizeof path)) {
                    fprintf (stderr, "easel: %s: cannot expand {locale}/{preset}\n", sites [s].tmpl);
                    rc = CLI_USAGE;
                }
                else
                if (access (path, R_OK) != 0) {
                    fprintf (stderr, "easel: %s: missing or unreadable (from \"%s\")\n", path, sites [s].tmpl);
                    rc = CLI_USAGE;
                }
                else
                if (s_add_path (files, path) < 0)
                    rc = CLI_USAGE;
            }
    for (int f = 0; f < files->n && rc == 0; f++) {
        bool skipped = false;
        rc = cli_upload_file (files->paths [f], files->ids [f], &skipped);
        if (rc == 0)
            s_progress (style, f + 1, files->n, files->paths [f], files->ids [f], skipped);
    }
    /* path -> file_id (one id, or a map by "<locale>/<preset>") */
    for (int s = 0; s < nsites && rc == 0; s++) {
        bool by_locale = strstr (sites [s].tmpl, "{locale}") != NULL;
        bool by_preset = strstr (sites [s].tmpl, "{preset}") != NULL;
        json_t *map = json_object ();
        for (size_t l = 0; l < (nl ? nl : 1); l++)
            for (size_t p = 0; p < (np ? np : 1); p++) {
                const char *loc = nl ? json_string_value (json_array_get (locales, l)) : "";
                const char *pre = np ? json_string_value (json_array_get (presets, p))
                                     : canvas_preset ? canvas_preset : "";
                char path [S_PATH_MAX], key [S_KEY_MAX];
                util_template_expand (sites [s].tmpl, loc, pre, path, sizeof path);
                int f = s_add_path (files, path);
                if (by_locale && by_preset)
                    snprintf (key, sizeof key, "%s/%s", loc, pre);
                else
                    snprintf (key, sizeof key, "%s", by_locale ? loc : by_preset ? pre : "default");
                if (f >= 0)
                    json_object_set_new (map, key, json_string (files->ids [f]));
            }
        json_object_del (sites [s].owner, "path");
        if (!by_locale && !by_preset)
            json_object_set (sites [s].owner, "file_id", json_object_get (map, "default"));
        else
            json_object_set (sites [s].owner, "file_id", map);
        json_decref (map);
    }
done:
    for (int f = 0; f < files->n; f++)
        free (files->paths [f]);
    free (files);
    free (sites);
    return rc;
}
