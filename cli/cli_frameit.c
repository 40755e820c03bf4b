/*  cli_frameit.c: `easel frameit [FOLDER] [--platform ios|android|any]
    [--fail-on-lint] [--json]`, a drop-in for fastlane frameit: every *.png
    under FOLDER (not *_framed.png, .itmsp/, device_frames/, watch shots)
    with the Framefile.json and title/keyword.strings frameit would read
    (frameit_map.h, strings_file.h), rendered through the API and written as
    <name>_framed.png beside each screenshot, store-sized and linted.
    The screenshots go up through s_source_* (POST /v1/files when the
    server has it, inline base64 otherwise). Exit codes as cli_api.h.
    Single threaded; every json_t is freed before return.  */
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libgen.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cli_api.h"
#include "frameit_map.h"
#include "presets.h"
#include "strings_file.h"
#include "util.h"

#define S_MAX_SHOTS      500          /* a render's image cap */
#define S_BODY_MAX       (25 * 1024 * 1024)
#define S_SHOT_MAX_BYTES (20 * 1024 * 1024)
#define S_SLIDES_MAX     10

typedef struct {
    char  path [4096];               /* as found under FOLDER */
    char  rel [4096];                /* relative to FOLDER: filters and .strings keys match it */
    char  out [4200];                /* <name>_framed.png */
    char  locale [64];
    int   w, h;
    const frameit_device_t *device;
    json_t *slide;                   /* owned */
    int   group, slide_index;
} s_shot_t;

static s_shot_t *s_shots;
static int       s_nshots;
static const char *s_root;

static int
s_visit (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) ftw;
    size_t n = strlen (path);
    if (flag != FTW_F || n < 4 || strcasecmp (path + n - 4, ".png") != 0)
        return 0;
    if (strstr (path, "_framed.png") || strstr (path, ".itmsp/") || strstr (path, "device_frames/"))
        return 0;
    const char *base = strrchr (path, '/') ? strrchr (path, '/') + 1 : path;
    if (strncasecmp (base, "watch", 5) == 0 || strcasestr (base, "watch-") == base) {
        fprintf (stderr, "easel: Apple Watch screenshots are not framed: %s\n", path);
        return 0;
    }
    if (s_nshots >= S_MAX_SHOTS)
        return 1;
    s_shot_t *s = &s_shots [s_nshots++];
    memset (s, 0, sizeof *s);
    snprintf (s->path, sizeof s->path, "%s", path);
    size_t rl = strlen (s_root);
    snprintf (s->rel, sizeof s->rel, "%s", strncmp (path, s_root, rl) == 0 ? path + rl + (path [rl] == '/') : path);
    snprintf (s->out, sizeof s->out, "%.*s_framed.png", (int) (n - 4), path);
    return 0;
}

/* The PNG's size from its IHDR. -1 when it is not a PNG. */
static int
s_png_size (const char *path, int *w, int *h)
{
    unsigned char b [24];
    FILE *f = fopen (path, "rb");
    size_t got = f ? fread (b, 1, sizeof b, f) : 0;
    if (f)
        fclose (f);
    if (got < 24 || memcmp (b, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp (b + 12, "IHDR", 4) != 0)
        return -1;
    *w = (int) ((unsigned) b [16] << 24 | (unsigned) b [17] << 16 | (unsigned) b [18] << 8 | b [19]);
    *h = (int) ((unsigned) b [20] << 24 | (unsigned) b [21] << 16 | (unsigned) b [22] << 8 | b [23]);
    return 0;
}

/* dir of path, up levels (0: the screenshot's own folder) + "/" + name. */
static void
s_up (const char *path, int levels, const char *name, char *out, size_t size)
{
    char tmp [4096];
    snprintf (tmp, sizeof tmp, "%s", path);
    char *d = dirname (tmp);
    char cur [4096];
    snprintf (cur, sizeof cur, "%s", d);
    for (int i = 0; i < levels; i++) {
        snprintf (tmp, sizeof tmp, "%s", cur);
        snprintf (cur, sizeof cur, "%s", dirname (tmp));
    }
    snprintf (out, size, "%s/%s", cur, name);
}

/* The first of ../, ../../, ../../../ (frameit's search; the Framefile
   also four up, for screengrab's tree) holding name. */
static bool
s_find_up (const char *path, const char *name, int max_levels, char *out, size_t size)
{
    for (int l = 0; l <= max_levels; l++) {
        if (l == 2 && max_levels == 3 && strcmp (name, "Framefile.json") == 0)
            l = 3;                   /* frameit: ./, ../, ../../../ for the Framefile */
        s_up (path, l, name, out, size);
        FILE *f = fopen (out, "rb");
        if (f) {
            fclose (f);
            return true;
        }
    }
    return false;
}

/* The text of type ("title"/"keyword") for shot s: its .strings, else the config's text. */
static char *
s_text (const s_shot_t *s, const char *type, const json_t *config, int *rc)
{
    char name [32], path [4200], err [STRINGS_FILE_ERR_MAX];
    snprintf (name, sizeof name, "%s.strings", type);
    if (s_find_up (s->path, name, 2, path, sizeof path)) {
        size_t len;
        char *data = util_read_file (path, STRINGS_FILE_MAX_BYTES, &len);
        bool readable = data != NULL;
        strings_file_t *sf = data ? strings_file_parse ((uint8_t *) data, len, err, sizeof err) : NULL;
        free (data);
        if (!sf) {
            fprintf (stderr, "easel: %s: %s\n", path, readable ? err : "cannot be read (or over 1 MiB)");
            *rc = CLI_USAGE;
            return NULL;
        }
        const char *v = strings_file_match (sf, s->rel);
        char *copy = v ? strdup (v) : NULL;
        strings_file_destroy (&sf);
        if (copy)
            return copy;
    }
    const char *t = json_string_value (json_object_get (json_object_get (config, type), "text"));
    return t && *t ? strdup (t) : NULL;
}

/* ---- the image source: uploads when the server has them, else inline ---- */

typedef enum { S_SOURCE_UNKNOWN, S_SOURCE_UPLOAD, S_SOURCE_INLINE } s_source_mode_t;
static s_source_mode_t s_source_mode;

/* The "screenshot" object for the file at path: {"file_id"} after POST
   /v1/files (the first call finds out whether the route exists: 404, or
   405/415 from a gateway without it, switch to inline), else {"data"}.
   NULL with a message on stderr. */
static json_t *
s_source_screenshot (const char *path, size_t *inline_bytes)
{
    size_t len;
    char *bytes = util_read_file (path, S_SHOT_MAX_BYTES, &len);
    if (!bytes) {
        fprintf (stderr, "easel: cannot read %s (missing, unreadable or over 20 MiB)\n", path);
        return NULL;
    }
    if (s_source_mode != S_SOURCE_INLINE) {
        cli_api_resp_t resp;
        int rc = cli_api_call_bytes ("POST", "/v1/files", "image/png", bytes, len, 120, &resp);
        if (rc) {
            free (bytes);
            return NULL;
        }
        if (resp.status == 200 || resp.status == 201) {
            json_t *obj = json_loadb (resp.body, resp.len, 0, NULL);
            const char *id = json_string_value (json_object_get (obj, "id"));
            json_t *shot = id ? json_pack ("{s:s}", "file_id", id) : NULL;
            json_decref (obj);
            cli_api_resp_free (&resp);
            free (bytes);
            if (!shot)
                fprintf (stderr, "easel: POST /v1/files answered without an id\n");
            s_source_mode = S_SOURCE_UPLOAD;
            return shot;
        }
        if (s_source_mode == S_SOURCE_UNKNOWN
        &&  (resp.status == 404 || resp.status == 405 || resp.status == 415)) {
            s_source_mode = S_SOURCE_INLINE;
            cli_api_resp_free (&resp);
        }
        else {
            json_t *ignored = NULL;
            fprintf (stderr, "easel: uploading %s: ", path);
            cli_api_json (&resp, &ignored);
            cli_api_resp_free (&resp);
            free (bytes);
            return NULL;
        }
    }
    size_t cap = (len + 2) / 3 * 4 + 1;
    char *b64 = malloc (cap);
    if (!b64) {
        free (bytes);
        return NULL;
    }
    EVP_EncodeBlock ((unsigned char *) b64, (unsigned char *) bytes, (int) len);
    free (bytes);
    *inline_bytes += cap;
    json_t *shot = json_pack ("{s:s}", "data", b64);
    free (b64);
    return shot;
}

/* ---- the command ---------------------------------------------------------- */

static const char *s_usage_line = "usage: easel frameit [FOLDER] [--platform ios|android|any] [--fail-on-lint] [--json]";

typedef struct {
    char   locale [64];
    const char *preset;
    bool   landscape;
    json_t *spec;                    /* owned */
    json_t *render;                  /* owned: the final render */
    char   id [64];
    int    nslides;
} s_group_t;

int
cli_frameit (int argc, char **argv)
{
    const char *folder = ".", *platform = "IOS";
    bool as_json = false, fail_on_lint = false, have_folder = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--json") == 0) as_json = true;
        else if (strcmp (argv [i], "--fail-on-lint") == 0) fail_on_lint = true;
        else if (strcmp (argv [i], "--platform") == 0 && i + 1 < argc) {
            platform = argv [++i];
            if (strcasecmp (platform, "ios") && strcasecmp (platform, "android") && strcasecmp (platform, "any")) {
                fprintf (stderr, "easel: --platform takes ios, android or any\n");
                return CLI_USAGE;
            }
        }
        else if (argv [i][0] != '-' && !have_folder) { folder = argv [i]; have_folder = true; }
        else {
            fprintf (stderr, "easel: unknown argument \"%s\" (%s)\n", argv [i], s_usage_line);
            return CLI_USAGE;
        }
    }
    int rc = cli_api_init ();
    if (rc)
        return rc;
    s_shots = calloc (S_MAX_SHOTS, sizeof *s_shots);
    s_group_t *groups = calloc (S_MAX_SHOTS, sizeof *groups);
    json_t *warnings = json_array ();
    int ngroups = 0;
    if (!s_shots || !groups)
        return CLI_TRANSPORT;
    s_root = folder;
    s_nshots = 0;
    s_source_mode = S_SOURCE_UNKNOWN;
    if (nftw (folder, s_visit, 16, FTW_PHYS) != 0 || s_nshots == 0) {
        fprintf (stderr, "easel: %s screenshots (*.png) under %s\n",
                 s_nshots >= S_MAX_SHOTS ? "more than 500" : "found no", folder);
        rc = CLI_USAGE;
        goto done;
    }
    /* 1. plan: device, preset, texts, slide of every screenshot */
    for (int i = 0; i < s_nshots && rc == 0; i++) {
        s_shot_t *s = &s_shots [i];
        char ff [4200], err [FRAMEIT_ERR_MAX] = "";
        json_t *framefile = NULL;
        if (s_find_up (s->path, "Framefile.json", 3, ff, sizeof ff)) {
            json_error_t je;
            framefile = json_load_file (ff, 0, &je);
            if (!json_is_object (framefile)) {
                fprintf (stderr, "easel: %s is not a JSON object: %s (line %d)\n", ff, je.text, je.line);
                json_decref (framefile);
                rc = CLI_USAGE;
                break;
            }
        }
        json_t *config = frameit_config (framefile, s->rel, err, sizeof err);
        json_decref (framefile);
        if (!config) {
            fprintf (stderr, "easel: %s\n", err);
            rc = CLI_USAGE;
            break;
        }
        if (s_png_size (s->path, &s->w, &s->h)) {
            fprintf (stderr, "easel: %s is not a PNG\n", s->path);
            rc = CLI_USAGE;
        }
        const char *forced = json_string_value (json_object_get (config, "force_device_type"));
        const char *plat = json_string_value (json_object_get (config, "use_platform"));
        if (rc == 0 && forced && !(s->device = frameit_device_find (forced))) {
            fprintf (stderr, "easel: %s: force_device_type \"%s\" is not a frameit device\n", s->path, forced);
            rc = CLI_USAGE;
        }
        if (rc == 0 && !s->device
        &&  !(s->device = frameit_device_detect (s->w, s->h, strrchr (s->path, '/') + 1, plat ? plat : platform))) {
            fprintf (stderr, "easel: unsupported screen size %dx%d for %s (platform %s; Android shots need --platform android or \"use_platform\")\n",
                     s->w, s->h, s->path, plat ? plat : platform);
            rc = CLI_USAGE;
        }
        char *title = NULL, *keyword = NULL;
        if (rc == 0)
            title = s_text (s, "title", config, &rc);
        if (rc == 0)
            keyword = s_text (s, "keyword", config, &rc);
        if (rc == 0 && json_object_get (config, "background"))
            frameit_warn (warnings, "background image: the API takes a background image only as a URL; Easel's default background is used");
        const presets_canvas_t *p = rc == 0 ? presets_find (s->device->preset) : NULL;
        if (rc == 0) {
            s->slide = frameit_slide (config, title, keyword, s->w, p ? p->sizes [0].width : s->w, warnings, err, sizeof err);
            if (!s->slide) {
                fprintf (stderr, "easel: %s: %s\n", s->path, err);
                rc = CLI_USAGE;
            }
            else
                json_object_set_new (s->slide, "device", json_string (s->device->frame));
        }
        free (title);
        free (keyword);
        json_decref (config);
        if (rc)
            break;
        /* the locale: the screenshot's folder (screengrab: metadata/android/<locale>/images/<type>/) */
        char tmp [4096];
        snprintf (tmp, sizeof tmp, "%s", s->path);
        char *dir = dirname (tmp);
        const char *base = strrchr (dir, '/') ? strrchr (dir, '/') + 1 : dir;
        if (strstr (base, "Screenshots")) {
            char t2 [4096];
            snprintf (t2, sizeof t2, "%s", dir);
            char *d2 = dirname (dirname (t2));
            base = strrchr (d2, '/') ? strrchr (d2, '/') + 1 : d2;
        }
        snprintf (s->locale, sizeof s->locale, "%s", base);
        bool landscape = s->w > s->h;
        int g;
        for (g = 0; g < ngroups; g++)
            if (strcmp (groups [g].locale, s->locale) == 0 && strcmp (groups [g].preset, s->device->preset) == 0
            &&  groups [g].landscape == landscape)
                break;
        if (g == ngroups) {
            snprintf (groups [g].locale, sizeof groups [g].locale, "%s", s->locale);
            groups [g].preset = s->device->preset;
            groups [g].landscape = landscape;
            ngroups++;
        }
        if (groups [g].nslides >= S_SLIDES_MAX) {
            fprintf (stderr, "easel: more than %d screenshots for %s on %s; a render takes %d slides (and the App Store 10 per display class)\n",
                     S_SLIDES_MAX, s->locale, s->device->preset, S_SLIDES_MAX);
            rc = CLI_USAGE;
            break;
        }
        s->group = g;
        s->slide_index = groups [g].nslides++;
    }
    if (rc)
        goto done;
    if (!as_json) {
        size_t i;
        json_t *w;
        json_array_foreach (warnings, i, w)
            fprintf (stderr, "easel: warning: %s\n", json_string_value (w));
    }
    /* 2. specs: the screenshots through the image source */
    size_t inline_total = 0;
    for (int g = 0; g < ngroups; g++) {
        groups [g].spec = json_pack ("{s:b, s:{s:s}, s:{s:[s], s:[s]}, s:s, s:[]}", "async", 1,
                                     "canvas", "preset", groups [g].preset,
                                     "matrix", "locales", groups [g].locale, "presets", groups [g].preset,
                                     "format", "png", "slides");
        if (groups [g].landscape)
            json_object_set_new (json_object_get (groups [g].spec, "canvas"), "orientation", json_string ("landscape"));
    }
    for (int i = 0; i < s_nshots; i++) {
        json_t *shot = s_source_screenshot (s_shots [i].path, &inline_total);
        if (!shot) {
            rc = CLI_TRANSPORT;
            goto done;
        }
        json_object_set_new (s_shots [i].slide, "screenshot", shot);
        json_array_append (json_object_get (groups [s_shots [i].group].spec, "slides"), s_shots [i].slide);
    }
    for (int g = 0; g < ngroups; g++) {
        char *body = json_dumps (groups [g].spec, JSON_COMPACT);
        size_t blen = body ? strlen (body) : 0;
        free (body);
        if (blen > S_BODY_MAX) {
            fprintf (stderr, "easel: the %s %s screenshots are %.1f MiB as inline base64, over the 25 MiB body limit of one render; this server has no uploads (POST /v1/files), so frame fewer or smaller screenshots per locale and device\n",
                     groups [g].locale, groups [g].preset, (double) blen / (1024 * 1024));
            rc = CLI_USAGE;
            goto done;
        }
    }
    /* 3. submit every render, then follow them */
    if (ngroups > 1 && !as_json)
        fprintf (stderr, "easel: %d renders, one per locale and store preset: a render draws each slide's screenshot for every locale and preset of its matrix, so per-locale screenshots cannot share one render\n", ngroups);
    for (int g = 0; g < ngroups && rc == 0; g++) {
        char *body = json_dumps (groups [g].spec, JSON_COMPACT);
        cli_api_resp_t resp;
        json_t *obj = NULL;
        rc = body ? cli_api_call ("POST", "/v1/renders", body, 120, &resp) : CLI_TRANSPORT;
        free (body);
        if (rc == 0) {
            rc = cli_api_json (&resp, &obj);
            cli_api_resp_free (&resp);
        }
        if (rc == 0)
            snprintf (groups [g].id, sizeof groups [g].id, "%s", json_string_value (json_object_get (obj, "id")));
        json_decref (obj);
    }
    for (int g = 0; g < ngroups && rc == 0; g++)
        rc = cli_api_watch ("render", groups [g].id, &groups [g].render);
    if (rc)
        goto done;
    /* 4. download, report */
    long errors = 0, warns = 0, failed_images = 0;
    json_t *report = json_pack ("{s:s, s:[], s:[], s:O}", "source",
                                s_source_mode == S_SOURCE_UPLOAD ? "upload" : "inline", "renders", "images",
                                "warnings", warnings);
    for (int g = 0; g < ngroups; g++) {
        json_t *lint = json_object_get (groups [g].render, "lint");
        errors += (long) json_integer_value (json_object_get (lint, "errors"));
        warns += (long) json_integer_value (json_object_get (lint, "warnings"));
        json_array_append (json_object_get (report, "renders"), groups [g].render);
    }
    for (int i = 0; i < s_nshots; i++) {
        s_shot_t *s = &s_shots [i];
        json_t *render = groups [s->group].render, *img, *found = NULL;
        size_t k;
        json_array_foreach (json_object_get (render, "images"), k, img)
            if (json_integer_value (json_object_get (img, "slide")) == s->slide_index)
                found = img;
        const char *url = json_string_value (json_object_get (found, "url"));
        const char *st = json_string_value (json_object_get (found, "status"));
        json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "screenshot", s->path,
                                   "output", s->out, "locale", s->locale, "device", s->device->name,
                                   "preset", s->device->preset, "frame", s->device->frame,
                                   "render_id", groups [s->group].id, "slide", s->slide);
        json_object_del (json_object_get (entry, "slide"), "screenshot");
        json_object_set (entry, "image", found ? found : json_null ());
        json_array_append_new (json_object_get (report, "images"), entry);
        if (!url || !st || strcmp (st, "succeeded") != 0) {
            failed_images++;
            continue;
        }
        cli_api_resp_t resp;
        int drc = cli_api_call ("GET", url, NULL, 120, &resp);
        if (drc == 0 && resp.status != 200) {
            fprintf (stderr, "easel: downloading %s answered HTTP %ld\n", url, resp.status);
            drc = CLI_TRANSPORT;
        }
        if (drc == 0)
            drc = cli_api_save (s->out, resp.body, resp.len);
        if (drc == 0)
            cli_api_resp_free (&resp);
        if (drc) {
            rc = drc;
            break;
        }
        if (!as_json)
            printf ("%s -> %s (%s, %s %lldx%lld)\n", s->path, s->out, s->device->name, s->device->preset,
                    (long long) json_integer_value (json_object_get (found, "width")),
                    (long long) json_integer_value (json_object_get (found, "height")));
    }
    json_object_set_new (report, "lint", json_pack ("{s:b, s:I, s:I}", "passed", errors == 0,
                                                    "errors", (json_int_t) errors, "warnings", (json_int_t) warns));
    if (as_json) {
        char *text = json_dumps (report, JSON_COMPACT);
        if (text)
            printf ("%s\n", text);
        free (text);
    }
    else {
        printf ("framed %d of %d screenshots in %d render%s (%s); lint: %s, %ld error%s, %ld warning%s\n",
                s_nshots - (int) failed_images, s_nshots, ngroups, ngroups == 1 ? "" : "s",
                s_source_mode == S_SOURCE_UPLOAD ? "uploaded" : "inline", errors ? "failed" : "passed",
                errors, errors == 1 ? "" : "s", warns, warns == 1 ? "" : "s");
        for (int g = 0; g < ngroups; g++) {
            size_t k;
            json_t *f;
            json_array_foreach (json_object_get (json_object_get (groups [g].render, "lint"), "findings"), k, f)
                if (strcmp (json_string_value (json_object_get (f, "severity")), "info") != 0)
                    printf ("  %s %s %s: %s\n", groups [g].locale, groups [g].preset,
                            json_string_value (json_object_get (f, "rule")),
                            json_string_value (json_object_get (f, "message")));
        }
    }
    json_decref (report);
    if (rc == 0 && failed_images)
        rc = CLI_FAILED;
    if (rc == 0 && fail_on_lint && errors)
        rc = CLI_FAILED;
done:
    for (int i = 0; i < s_nshots; i++)
        json_decref (s_shots [i].slide);
    for (int g = 0; g < ngroups; g++) {
        json_decref (groups [g].spec);
        json_decref (groups [g].render);
    }
    json_decref (warnings);
    free (groups);
    free (s_shots);
    s_shots = NULL;
    return rc;
}
