/*  cli_frameit.c: `easel frameit [FOLDER] [--platform ios|android|any]
    [--fail-on-lint] [--json]`, a drop-in for fastlane frameit: every *.png
    under FOLDER (not *_framed.png, .itmsp/, device_frames/, watch shots)
    with the Framefile.json and title/keyword.strings frameit would read
    (frameit_map.h, strings_file.h), rendered through the API and written as
    <name>_framed.png beside each screenshot, store-sized and linted.
    The screenshots go up through s_source_* (POST /v1/files when the
    server has it, inline base64 otherwise), then are packed into as few
    renders as the API allows (s_render_take): with uploads one per
    orientation, split only at a render's caps (slides, locales, presets,
    files), each slide a file_id map per "<locale>/<preset>" whose empty
    cells are null; inline, one per locale, preset and orientation. Exit
    codes as cli_api.h. Over 800 lines: the walk, the sources and the
    packing share the per-screenshot table built in one pass; the Framefile
    and .strings readers are already their own files (frameit_map.c,
    strings_file.c).
    Single threaded; every json_t is freed before return.  */
#include <ftw.h>
#include <limits.h>
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
#include "easel_limits.h"
#include "frameit_map.h"
#include "presets.h"
#include "strings_file.h"
#include "util.h"

#define S_MAX_SHOTS      500          /* a render's image cap */
#define S_BODY_MAX       (25 * 1024 * 1024)
#define S_SHOT_MAX_BYTES (20 * 1024 * 1024)

typedef struct {
    char  path [4096];               /* as found under FOLDER */
    char  rel [4096];                /* relative to FOLDER: filters and .strings keys match it */
    char  out [4200];                /* <name>_framed.png */
    char  locale [64];
    int   w, h;
    const frameit_device_t *device;
    json_t *slide;                   /* owned: this screenshot's own slide */
    char *key;                       /* owned: the slide without texts and screenshot */
    char  bg_path [4096];            /* the Framefile's background, "" none */
    char  bg_id [64];                /* its upload, "" none */
    int   render, slide_index;       /* where it went */
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

static int
s_shot_cmp (const void *a, const void *b)
{
    return strcmp (((const s_shot_t *) a)->path, ((const s_shot_t *) b)->path);
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

/* Drops from s_shots every file a Framefile names as a background (in
   default or a data[] entry; frameit's backgrounds often sit among the
   screenshots): it is drawn behind them, not framed. A Framefile that does
   not load is left to the plan to report. 0, or -1 out of memory. */
static int
s_drop_backgrounds (void)
{
    json_t *loaded = json_object (), *bgs = json_object ();
    int rc = loaded && bgs ? 0 : -1;
    for (int i = 0; i < s_nshots && rc == 0; i++) {
        char ff [4200];
        if (!s_find_up (s_shots [i].path, "Framefile.json", 3, ff, sizeof ff) || json_object_get (loaded, ff))
            continue;
        json_object_set_new (loaded, ff, json_true ());
        json_t *framefile = json_load_file (ff, 0, NULL);
        json_t *entries = json_array ();
        json_array_append (entries, json_object_get (framefile, "default"));
        json_array_extend (entries, json_object_get (framefile, "data"));
        size_t k;
        json_t *e;
        json_array_foreach (entries, k, e) {
            const char *bg = json_string_value (json_object_get (e, "background"));
            char dir [4200], path [8400], real [PATH_MAX];
            snprintf (dir, sizeof dir, "%s", ff);
            if (!bg || !*bg)
                continue;
            snprintf (path, sizeof path, "%s%s%s", bg [0] == '/' ? "" : dirname (dir), bg [0] == '/' ? "" : "/", bg);
            if (realpath (path, real))
                json_object_set_new (bgs, real, json_true ());
        }
        json_decref (entries);
        json_decref (framefile);
    }
    int kept = 0;
    for (int i = 0; i < s_nshots && rc == 0; i++) {
        char real [PATH_MAX];
        if (realpath (s_shots [i].path, real) && json_object_get (bgs, real))
            continue;
        if (kept != i)
            s_shots [kept] = s_shots [i];
        kept++;
    }
    if (rc == 0)
        s_nshots = kept;
    json_decref (loaded);
    json_decref (bgs);
    return rc;
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
   ctype is the Content-Type sent ("application/octet-stream": the server
   tells the format from the bytes). NULL with a message on stderr. */
static json_t *
s_source_screenshot (const char *path, const char *ctype, size_t *inline_bytes)
{
    size_t len;
    char *bytes = util_read_file (path, S_SHOT_MAX_BYTES, &len);
    if (!bytes) {
        fprintf (stderr, "easel: cannot read %s (missing, unreadable or over 20 MiB)\n", path);
        return NULL;
    }
    if (s_source_mode != S_SOURCE_INLINE) {
        cli_api_resp_t resp;
        int rc = cli_api_call_bytes ("POST", "/v1/files", ctype, bytes, len, 120, &resp);
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

/* One render of the run: its body, and what packing needs to know of it. */
typedef struct {
    bool    landscape;
    json_t *spec;                    /* owned: the POST /v1/renders body */
    json_t *keys;                    /* owned: slides[i]'s s_shot_t.key, in order */
    json_t *files;                   /* owned: the distinct file ids it names, as keys */
    bool    has_bg;                  /* its screenshots have a Framefile background */
    json_t *bg;                      /* owned: "<locale>/<preset>" -> background file id */
    json_t *render;                  /* owned: the final render */
    char    id [64];
} s_render_t;

/* A string's value, "" for anything else. */
static const char *
s_str (const json_t *v)
{
    const char *t = json_string_value (v);
    return t ? t : "";
}

static json_t *
s_matrix (const s_render_t *r, const char *which)
{
    return json_object_get (json_object_get (r->spec, "matrix"), which);
}

static bool
s_has_string (const json_t *arr, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach (arr, i, x)
        if (strcmp (json_string_value (x), v) == 0)
            return true;
    return false;
}

/* A copy of shot s's slide as a render with several presets takes it: the
   device left out when it is the preset's own (the gateway picks it per
   preset), so shots of several devices can share a slide. NULL: out of memory. */
static json_t *
s_slide_shared (const s_shot_t *s)
{
    json_t *slide = json_deep_copy (s->slide);
    const char *own = presets_default_device (presets_find (s->device->preset));
    if (own && strcmp (own, s->device->frame) == 0)
        json_object_del (slide, "device");
    return slide;
}

/* The shared slide without its texts and screenshot, as canonical text:
   shots with the same key can share a slide (their lines go per locale).
   NULL: out of memory. */
static char *
s_slide_key (const s_shot_t *s)
{
    json_t *k = s_slide_shared (s);
    json_object_del (k, "screenshot");
    json_object_del (json_object_get (k, "headline"), "lines");
    json_object_del (json_object_get (k, "subtitle"), "lines");
    char *text = k ? json_dumps (k, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref (k);
    return text;
}

/* A new, empty render body for one orientation (its matrix filled as shots come). */
static int
s_render_new (s_render_t *r, bool landscape, bool has_bg, const char *preset)
{
    memset (r, 0, sizeof *r);
    r->landscape = landscape;
    r->has_bg = has_bg;
    r->bg = json_object ();
    r->spec = json_pack ("{s:b, s:{s:s}, s:{s:[], s:[]}, s:s, s:[]}", "async", 1,
                         "canvas", "preset", preset, "matrix", "locales", "presets",
                         "format", "png", "slides");
    r->keys = json_array ();
    r->files = json_object ();
    if (r->spec && landscape)
        json_object_set_new (json_object_get (r->spec, "canvas"), "orientation", json_string ("landscape"));
    return r->spec && r->keys && r->files && r->bg ? 0 : -1;
}

/* Whether slide j of r can take s in its cell "<locale>/<preset>": the same
   key, the cell free, and the texts of its locale the same (or not set). */
static bool
s_slide_fits (const s_render_t *r, size_t j, const s_shot_t *s, const char *cell)
{
    if (strcmp (json_string_value (json_array_get (r->keys, j)), s->key) != 0)
        return false;
    json_t *slide = json_array_get (json_object_get (r->spec, "slides"), j);
    json_t *map = json_object_get (json_object_get (slide, "screenshot"), "file_id");
    if (json_object_get (map, cell))
        return false;
    static const char *const texts [] = { "headline", "subtitle" };
    for (int t = 0; t < 2; t++) {
        json_t *have = json_object_get (json_object_get (json_object_get (slide, texts [t]), "lines"), s->locale);
        json_t *want = json_object_get (json_object_get (s->slide, texts [t]), "lines");
        if (have && !json_equal (have, want))
            return false;
    }
    return true;
}

/* A new slide of r from s: its own, with a file_id map of one cell (every
   other cell null: no image) and its lines per locale ("default" for the
   locales of the matrix it has no image in, never drawn). */
static int
s_slide_add (s_render_t *r, const s_shot_t *s, const char *cell, const char *file_id)
{
    json_t *slide = s_slide_shared (s);
    json_t *map = json_pack ("{s:s, s:n}", cell, file_id, "default");
    static const char *const texts [] = { "headline", "subtitle" };
    for (int t = 0; slide && t < 2; t++) {
        json_t *text = json_object_get (slide, texts [t]);
        json_t *lines = json_object_get (text, "lines");
        if (lines)
            json_object_set_new (text, "lines", json_pack ("{s:O, s:O}", s->locale, lines, "default", lines));
    }
    if (!slide || !map
    ||  json_object_set_new (slide, "screenshot", json_pack ("{s:o}", "file_id", map))
    ||  json_array_append_new (json_object_get (r->spec, "slides"), slide)
    ||  json_array_append_new (r->keys, json_string (s->key))) {
        return -1;
    }
    return 0;
}

/* Puts shot s into r when it fits: its orientation, and the render's caps
   (EASEL_MAX_SLIDES slides, EASEL_MAX_LOCALES locales, EASEL_MAX_MATRIX_PRESETS
   presets, EASEL_MAX_FILES_PER_RENDER files). Uploaded, it joins a slide of
   its key whose cell "<locale>/<preset>" is free, or opens one; the cells
   of the matrix no screenshot fills are null in the slides' file_id maps,
   so the gateway draws none there. Inline (no uploads: a screenshot is data,
   the same for every cell of its slide) a render holds one locale and
   preset. 1 taken, 0 does not fit, -1 out of memory. */
static int
s_render_take (s_render_t *r, s_shot_t *s, bool upload)
{
    json_t *slides = json_object_get (r->spec, "slides");
    json_t *locales = s_matrix (r, "locales"), *presets = s_matrix (r, "presets");
    size_t nslides = json_array_size (slides);
    bool new_locale = !s_has_string (locales, s->locale);
    bool new_preset = !s_has_string (presets, s->device->preset);
    if (r->landscape != (s->w > s->h) || r->has_bg != (s->bg_id [0] != 0))
        return 0;
    json_t *shot = json_object_get (s->slide, "screenshot");
    if (!upload) {
        if (nslides >= EASEL_MAX_SLIDES || (nslides > 0 && (new_locale || new_preset)))
            return 0;
        if (json_array_append (slides, s->slide))
            return -1;
        s->slide_index = (int) nslides;
    }
    else {
        const char *fid = json_string_value (json_object_get (shot, "file_id"));
        size_t new_files = !json_object_get (r->files, fid)
                         + (s->bg_id [0] && strcmp (fid, s->bg_id) && !json_object_get (r->files, s->bg_id));
        if (json_array_size (locales) + new_locale > EASEL_MAX_LOCALES
        ||  json_array_size (presets) + new_preset > EASEL_MAX_MATRIX_PRESETS
        ||  json_object_size (r->files) + new_files > EASEL_MAX_FILES_PER_RENDER)
            return 0;
        char cell [200];
        snprintf (cell, sizeof cell, "%s/%s", s->locale, s->device->preset);
        /* the background is the render's, per cell: one per cell */
        const char *bg = json_string_value (json_object_get (r->bg, cell));
        if (bg && strcmp (bg, s->bg_id) != 0)
            return 0;
        size_t j;
        for (j = 0; j < nslides; j++)
            if (s_slide_fits (r, j, s, cell))
                break;
        if (j == nslides && nslides >= EASEL_MAX_SLIDES)
            return 0;
        if (j == nslides) {
            if (s_slide_add (r, s, cell, fid))
                return -1;
        }
        else {
            json_t *slide = json_array_get (slides, j);
            json_t *map = json_object_get (json_object_get (slide, "screenshot"), "file_id");
            if (json_object_set_new (map, cell, json_string (fid)))
                return -1;
            static const char *const texts [] = { "headline", "subtitle" };
            for (int t = 0; t < 2; t++) {
                json_t *lines = json_object_get (json_object_get (s->slide, texts [t]), "lines");
                json_t *have = json_object_get (json_object_get (slide, texts [t]), "lines");
                if (lines && have && json_object_set (have, s->locale, lines))
                    return -1;
            }
        }
        if (json_object_set_new (r->files, fid, json_true ())
        ||  (s->bg_id [0] && (json_object_set_new (r->files, s->bg_id, json_true ())
                           || json_object_set_new (r->bg, cell, json_string (s->bg_id)))))
            return -1;
        s->slide_index = (int) j;
    }
    if ((new_locale && json_array_append_new (locales, json_string (s->locale)))
    ||  (new_preset && json_array_append_new (presets, json_string (s->device->preset))))
        return -1;
    return 1;
}

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
    s_render_t *renders = calloc (S_MAX_SHOTS, sizeof *renders);
    json_t *warnings = json_array ();
    int nrenders = 0;
    if (!s_shots || !renders || !warnings) {
        free (s_shots);
        free (renders);
        json_decref (warnings);
        return CLI_TRANSPORT;
    }
    s_root = folder;
    s_nshots = 0;
    s_source_mode = S_SOURCE_UNKNOWN;
    if (nftw (folder, s_visit, 16, FTW_PHYS) != 0 || s_nshots == 0) {
        fprintf (stderr, "easel: %s screenshots (*.png) under %s\n",
                 s_nshots >= S_MAX_SHOTS ? "more than 500" : "found no", folder);
        rc = CLI_USAGE;
        goto done;
    }
    /* in name order, as fastlane uploads them: slides are numbered in it */
    qsort (s_shots, (size_t) s_nshots, sizeof *s_shots, s_shot_cmp);
    if (s_drop_backgrounds ()) {
        rc = CLI_TRANSPORT;
        goto done;
    }
    if (s_nshots == 0) {
        fprintf (stderr, "easel: found no screenshots (*.png) under %s, only Framefile backgrounds\n", folder);
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
        /* the background, as frameit takes it: a path from the Framefile's folder */
        const char *bg = json_string_value (json_object_get (config, "background"));
        if (rc == 0 && bg && *bg) {
            char ffdir [4200];
            snprintf (ffdir, sizeof ffdir, "%s", ff);
            if (bg [0] == '/')
                snprintf (s->bg_path, sizeof s->bg_path, "%s", bg);
            else
                snprintf (s->bg_path, sizeof s->bg_path, "%s/%s", dirname (ffdir), bg);
            FILE *f = fopen (s->bg_path, "rb");
            if (!f) {
                fprintf (stderr, "easel: %s: background \"%s\" cannot be read (%s)\n", s->path, bg, s->bg_path);
                rc = CLI_USAGE;
            }
            else
                fclose (f);
        }
        else
        if (rc == 0 && json_object_get (config, "background"))
            frameit_warn (warnings, "background: a path to an image file is expected; Easel's default background is used");
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
        s->key = s_slide_key (s);
        if (!s->key) {
            rc = CLI_TRANSPORT;
            break;
        }
        /* the App Store takes 10 screenshots per display class and locale */
        int same = 0;
        for (int j = 0; j < i; j++)
            same += strcmp (s_shots [j].locale, s->locale) == 0 && s_shots [j].device == s->device;
        if (same == EASEL_MAX_SLIDES)
            frameit_warn (warnings, "more than %d screenshots for %s on %s: the App Store takes %d per display class",
                          EASEL_MAX_SLIDES, s->locale, s->device->preset, EASEL_MAX_SLIDES);
    }
    if (rc)
        goto done;
    /* 2. the screenshots through the image source */
    size_t inline_total = 0;
    for (int i = 0; i < s_nshots; i++) {
        json_t *shot = s_source_screenshot (s_shots [i].path, "image/png", &inline_total);
        if (!shot) {
            rc = CLI_TRANSPORT;
            goto done;
        }
        json_object_set_new (s_shots [i].slide, "screenshot", shot);
    }
    /* the backgrounds, once each: they go only as uploads (background.image.file_id) */
    for (int i = 0; i < s_nshots && s_source_mode == S_SOURCE_UPLOAD; i++) {
        s_shot_t *s = &s_shots [i];
        for (int j = 0; j < i && s->bg_path [0] && !s->bg_id [0]; j++)
            if (strcmp (s_shots [j].bg_path, s->bg_path) == 0)
                memcpy (s->bg_id, s_shots [j].bg_id, sizeof s->bg_id);    /* j < i: never s itself */
        if (!s->bg_path [0] || s->bg_id [0])
            continue;
        json_t *up = s_source_screenshot (s->bg_path, "application/octet-stream", &inline_total);
        const char *id = json_string_value (json_object_get (up, "file_id"));
        if (id)
            snprintf (s->bg_id, sizeof s->bg_id, "%s", id);
        json_decref (up);
        if (!id) {
            rc = CLI_TRANSPORT;
            goto done;
        }
    }
    for (int i = 0; i < s_nshots && s_source_mode != S_SOURCE_UPLOAD; i++)
        if (s_shots [i].bg_path [0])
            frameit_warn (warnings, "background: this server has no uploads (POST /v1/files), so the Framefile background is not sent; Easel's default background is used");
    if (!as_json) {
        size_t i;
        json_t *w;
        json_array_foreach (warnings, i, w)
            fprintf (stderr, "easel: warning: %s\n", json_string_value (w));
    }
    /* 3. pack: each screenshot into the first render it fits (one per
       orientation while the caps allow, with uploads), else a new one */
    bool upload = s_source_mode == S_SOURCE_UPLOAD;
    for (int i = 0; i < s_nshots; i++) {
        s_shot_t *s = &s_shots [i];
        int took = 0;
        for (int g = 0; g < nrenders && took == 0; g++)
            if ((took = s_render_take (&renders [g], s, upload)) == 1)
                s->render = g;
        if (took == 0) {
            s->render = nrenders;
            took = s_render_new (&renders [nrenders], s->w > s->h, s->bg_id [0] != 0, s->device->preset) == 0
                 ? s_render_take (&renders [nrenders], s, upload) : -1;
            nrenders++;
        }
        if (took != 1) {
            fprintf (stderr, "easel: out of memory packing the renders\n");
            rc = CLI_TRANSPORT;
            goto done;
        }
    }
    for (int g = 0; g < nrenders; g++) {
        s_render_t *r = &renders [g];
        if (r->has_bg && json_object_set_new (r->spec, "background",
                                              json_pack ("{s:{s:O}}", "image", "file_id", r->bg))) {
            rc = CLI_TRANSPORT;
            goto done;
        }
        char *body = json_dumps (renders [g].spec, JSON_COMPACT);
        size_t blen = body ? strlen (body) : 0;
        free (body);
        if (blen > S_BODY_MAX) {
            fprintf (stderr, "easel: the %s %s screenshots are %.1f MiB as inline base64, over the 25 MiB body limit of one render; this server has no uploads (POST /v1/files), so frame fewer or smaller screenshots per locale and device\n",
                     json_string_value (json_array_get (s_matrix (&renders [g], "locales"), 0)),
                     json_string_value (json_array_get (s_matrix (&renders [g], "presets"), 0)),
                     (double) blen / (1024 * 1024));
            rc = CLI_USAGE;
            goto done;
        }
    }
    /* 4. submit every render, then follow them */
    if (nrenders > 1 && !as_json)
        fprintf (stderr, "easel: %d renders: %s\n", nrenders, upload
                 ? "a render holds one orientation and at most 10 slides (screenshots of one style per locale and device share a slide)"
                 : "without uploads a render holds one locale, store preset and orientation");
    for (int g = 0; g < nrenders && rc == 0; g++) {
        char *body = json_dumps (renders [g].spec, JSON_COMPACT);
        cli_api_resp_t resp;
        json_t *obj = NULL;
        rc = body ? cli_api_call ("POST", "/v1/renders", body, 120, &resp) : CLI_TRANSPORT;
        free (body);
        if (rc == 0) {
            rc = cli_api_json (&resp, &obj);
            cli_api_resp_free (&resp);
        }
        if (rc == 0)
            snprintf (renders [g].id, sizeof renders [g].id, "%s", json_string_value (json_object_get (obj, "id")));
        json_decref (obj);
    }
    for (int g = 0; g < nrenders && rc == 0; g++)
        rc = cli_api_watch ("render", renders [g].id, &renders [g].render);
    if (rc)
        goto done;
    /* 5. download, report */
    long errors = 0, warns = 0, failed_images = 0;
    json_t *report = json_pack ("{s:s, s:[], s:[], s:O}", "source",
                                s_source_mode == S_SOURCE_UPLOAD ? "upload" : "inline", "renders", "images",
                                "warnings", warnings);
    for (int g = 0; g < nrenders; g++) {
        json_t *lint = json_object_get (renders [g].render, "lint");
        errors += (long) json_integer_value (json_object_get (lint, "errors"));
        warns += (long) json_integer_value (json_object_get (lint, "warnings"));
        json_array_append (json_object_get (report, "renders"), renders [g].render);
    }
    for (int i = 0; i < s_nshots; i++) {
        s_shot_t *s = &s_shots [i];
        json_t *render = renders [s->render].render, *img, *found = NULL;
        size_t k;
        json_array_foreach (json_object_get (render, "images"), k, img)
            if (json_integer_value (json_object_get (img, "slide")) == s->slide_index
            &&  strcmp (s_str (json_object_get (img, "locale")), s->locale) == 0
            &&  strcmp (s_str (json_object_get (img, "preset")), s->device->preset) == 0)
                found = img;
        const char *url = json_string_value (json_object_get (found, "url"));
        const char *st = json_string_value (json_object_get (found, "status"));
        json_t *entry = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "screenshot", s->path,
                                   "output", s->out, "locale", s->locale, "device", s->device->name,
                                   "preset", s->device->preset, "frame", s->device->frame,
                                   "render_id", renders [s->render].id, "slide", s->slide);
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
                s_nshots - (int) failed_images, s_nshots, nrenders, nrenders == 1 ? "" : "s",
                s_source_mode == S_SOURCE_UPLOAD ? "uploaded" : "inline", errors ? "failed" : "passed",
                errors, errors == 1 ? "" : "s", warns, warns == 1 ? "" : "s");
        for (int g = 0; g < nrenders; g++) {
            size_t k, m;
            json_t *f, *img;
            json_t *images = json_object_get (renders [g].render, "images");
            json_array_foreach (json_object_get (json_object_get (renders [g].render, "lint"), "findings"), k, f) {
                if (strcmp (json_string_value (json_object_get (f, "severity")), "info") == 0)
                    continue;
                const char *of = json_string_value (json_object_get (f, "image"));
                json_t *at = NULL;
                json_array_foreach (images, m, img)
                    if (of && strcmp (s_str (json_object_get (img, "id")), of) == 0)
                        at = img;
                printf ("  %s %s %s: %s\n", at ? s_str (json_object_get (at, "locale")) : "-",
                        at ? s_str (json_object_get (at, "preset")) : "-",
                        json_string_value (json_object_get (f, "rule")),
                        json_string_value (json_object_get (f, "message")));
            }
        }
    }
    json_decref (report);
    if (rc == 0 && failed_images)
        rc = CLI_FAILED;
    if (rc == 0 && fail_on_lint && errors)
        rc = CLI_FAILED;
done:
    for (int i = 0; i < s_nshots; i++) {
        json_decref (s_shots [i].slide);
        free (s_shots [i].key);
    }
    for (int g = 0; g < nrenders; g++) {
        json_decref (renders [g].spec);
        json_decref (renders [g].keys);
        json_decref (renders [g].files);
        json_decref (renders [g].bg);
        json_decref (renders [g].render);
    }
    json_decref (warnings);
    free (renders);
    free (s_shots);
    s_shots = NULL;
    return rc;
}
