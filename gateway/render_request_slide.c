/*  render_request_slide.c: the slides of a POST /v1/renders body: each
    slide's headline and subtitle (lines, per locale), layout, device and
    screenshot (url template, inline data, or uploaded file_id), checked into
    an rr_slide_t and merged over the render's defaults, which are parsed
    here too. Every rejection names its field. See render_request_int.h.

    Pure functions, no state. A slide borrows from the jansson tree and owns
    only its decoded inline screenshot (freed by render_request_parse_files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "render_request_int.h"
#include "device_table.h"
#include "image_probe.h"
#include "util.h"

/* An array of 1..EASEL_MAX_HEADLINE_LINES non-empty strings of bounded length. */
static int
s_check_lines (const json_t *a, const char *path, api_error_t *e)
{
    size_t n = json_array_size (a);
    if (!json_is_array (a) || n < 1 || n > EASEL_MAX_HEADLINE_LINES)
        return rr_fail (e, "parameter_invalid", RR_MSG ("A headline has 1 to %d lines of text.", EASEL_MAX_HEADLINE_LINES), "%s", path);
    for (size_t i = 0; i < n; i++) {
        const json_t *line = json_array_get (a, i);
        size_t len = json_string_length (line);
        if (!json_is_string (line) || len < 1 || len > EASEL_MAX_HEADLINE_BYTES)
            return rr_fail (e, "parameter_invalid",
                            RR_MSG ("Each headline line is a non-empty string of at most %d bytes.", EASEL_MAX_HEADLINE_BYTES),
                            "%s[%zu]", path, i);
    }
    return 0;
}

/* ---- layout and text style ------------------------------------------------ */

#define MIN_FONT_PX   8
#define MAX_FONT_PX   1000
#define MAX_PADDING_PCT (EASEL_PADDING_PM_MAX / 10)

/* {"text_position","padding","fit","finish","device"} at path into st. */
static int
s_parse_layout (const json_t *o, const char *path, rr_style_t *st, api_error_t *e)
{
    static const char *const keys [] = { "text_position", "padding", "fit", "finish", "device", NULL };
    static const char *const positions [] = { "top", "bottom", NULL };
    static const char *const fits [] = { "contain", "cover", NULL };
    static const char *const finishes [] = { "auto", "black", "silver", NULL };
    char p [API_ERROR_PARAM_MAX];
    if (!json_is_object (o))
        return rr_fail (e, "parameter_invalid", "layout must be an object.", "%s", path);
    if (rr_check_keys (o, keys, path, e))
        return -1;
    json_t *v;
    if ((v = rr_member (o, "text_position"))) {
        rr_path (p, sizeof p, "%s.text_position", path);
        if (rr_enum (v, positions, p, &st->position, "text_position is \"top\" or \"bottom\".", e))
            return -1;
    }
    if ((v = rr_member (o, "padding"))) {
        json_int_t n = json_integer_value (v);
        if (!json_is_integer (v) || n < 0 || n > MAX_PADDING_PCT)
            return rr_fail (e, "parameter_invalid",
                            RR_MSG ("padding is an integer per cent of the width, 0 to %d.", MAX_PADDING_PCT), "%s.padding", path);
        st->padding_pm = (int32_t) n * 10;
    }
    if ((v = rr_member (o, "fit"))) {
        rr_path (p, sizeof p, "%s.fit", path);
        if (rr_enum (v, fits, p, &st->fit, "fit is \"contain\" or \"cover\".", e))
            return -1;
    }
    if ((v = rr_member (o, "finish"))) {
        rr_path (p, sizeof p, "%s.finish", path);
        if (rr_enum (v, finishes, p, &st->finish, "finish is \"auto\", \"black\" or \"silver\".", e))
            return -1;
    }
    if ((v = rr_member (o, "device"))) {
        st->device = json_string_value (v);
        if (!st->device || !device_frame_find (st->device))
            return rr_fail (e, "parameter_invalid",
                            "Unknown device; frames are iphone, iphone_home, ipad, android_phone, "
                            "android_tablet, mac, browser-macos, watch and none.", "%s.device", path);
    }
    return 0;
}

/* Text style keys of a headline or subtitle object (lines are checked apart). */
static int
s_parse_text_style (const json_t *o, const char *path, bool subtitle, rr_style_t *st, api_error_t *e)
{
    char p [API_ERROR_PARAM_MAX];
    json_t *v;
    if ((v = rr_member (o, "color"))) {
        rr_path (p, sizeof p, "%s.color", path);
        if (rr_color (v, p, &st->color, e))
            return -1;
        st->has_color = true;
    }
    if (subtitle)
        return 0;
    if ((v = rr_member (o, "weight"))) {
        json_int_t n = json_integer_value (v);
        if (!json_is_integer (v) || n < 100 || n > 900 || n % 100)
            return rr_fail (e, "parameter_invalid", "weight is 100, 200, ... 900 (600 and up draw bold).",
                            "%s.weight", path);
        st->weight = (int32_t) n;
    }
    if ((v = rr_member (o, "font_size"))) {
        static const char *const fkeys [] = { "max", "min", NULL };
        rr_path (p, sizeof p, "%s.font_size", path);
        if (!json_is_object (v))
            return rr_fail (e, "parameter_invalid", "font_size is an object {max, min} in pixels.", "%s", p);
        if (rr_check_keys (v, fkeys, p, e))
            return -1;
        json_t *mx = rr_member (v, "max"), *mn = rr_member (v, "min");
        json_int_t nmax = json_integer_value (mx), nmin = json_integer_value (mn);
        if (mx && (!json_is_integer (mx) || nmax < MIN_FONT_PX || nmax > MAX_FONT_PX))
            return rr_fail (e, "parameter_invalid", "font_size.max is an integer from 8 to 1000 pixels.",
                            "%s.max", p);
        if (mn && (!json_is_integer (mn) || nmin < MIN_FONT_PX || nmin > MAX_FONT_PX
               ||  (mx && nmin > nmax)))
            return rr_fail (e, "parameter_invalid",
                            "font_size.min is an integer from 8 pixels up to font_size.max.", "%s.min", p);
        st->size_max = (int32_t) nmax;
        st->size_min = (int32_t) nmin;
    }
    return 0;
}

/* The render-wide "layout", "headline" and "subtitle" defaults. */
int
rr_parse_defaults (const json_t *root, rr_req_t *req, api_error_t *e)
{
    static const char *const hkeys [] = { "color", "weight", "font_size", NULL };
    static const char *const skeys [] = { "color", NULL };
    req->layout.padding_pm = req->head.padding_pm = req->subst.padding_pm = -1;
    json_t *v;
    if ((v = rr_member (root, "layout")) && s_parse_layout (v, "layout", &req->layout, e))
        return -1;
    if ((v = rr_member (root, "headline"))) {
        if (!json_is_object (v))
            return rr_fail (e, "parameter_invalid", "headline (the defaults) is an object.", "headline");
        if (rr_check_keys (v, hkeys, "headline", e) || s_parse_text_style (v, "headline", false, &req->head, e))
            return -1;
    }
    if ((v = rr_member (root, "subtitle"))) {
        if (!json_is_object (v))
            return rr_fail (e, "parameter_invalid", "subtitle (the defaults) is an object.", "subtitle");
        if (rr_check_keys (v, skeys, "subtitle", e) || s_parse_text_style (v, "subtitle", true, &req->subst, e))
            return -1;
    }
    return 0;
}

/* White text unless the background's colours are light on average (paper):
   then near-black. A background image counts as dark. */
static uint32_t
s_default_text_color (const rr_req_t *req)
{
    if (req->bg_image_url || req->bg_file_id || req->bg_ncolors < 1)
        return DEFAULT_TEXT_COLOR;
    double sum = 0;
    for (int i = 0; i < req->bg_ncolors; i++) {
        uint32_t c = req->bg_colors [i];
        sum += (0.299 * ((c >> 16) & 0xFF) + 0.587 * ((c >> 8) & 0xFF) + 0.114 * (c & 0xFF)) / 255.0;
    }
    return sum / req->bg_ncolors > 0.6 ? DEFAULT_DARK_TEXT : DEFAULT_TEXT_COLOR;
}

/* Fields of `over` that are set win over `under`. */
static void
s_style_merge (rr_style_t *over, const rr_style_t *under)
{
    if (!over->position) over->position = under->position;
    if (over->padding_pm < 0) over->padding_pm = under->padding_pm;
    if (!over->fit) over->fit = under->fit;
    if (!over->finish) over->finish = under->finish;
    if (!over->device) over->device = under->device;
    if (!over->has_color) over->has_color = under->has_color, over->color = under->color;
    if (!over->weight) over->weight = under->weight;
    if (!over->size_max) over->size_max = under->size_max;
    if (!over->size_min) over->size_min = under->size_min;
}

/* Lines at path: an array, or an object locale -> array with an optional
   "default" for locales without their own. */
static int
s_check_text_lines (const json_t *lines, const char *path, const rr_req_t *req, api_error_t *e)
{
    if (!json_is_object (lines))
        return s_check_lines (lines, path, e);
    if (req->nlocales == 0)
        return rr_fail (e, "parameter_invalid",
                        "Per-locale lines need matrix.locales.", "%s", path);
    json_t *fallback = rr_member (lines, "default");
    if (fallback) {
        char dpath [API_ERROR_PARAM_MAX];
        rr_path (dpath, sizeof dpath, "%s.default", path);
        if (s_check_lines (fallback, dpath, e))
            return -1;
    }
    for (int l = 0; l < req->nlocales; l++) {
        char lpath [API_ERROR_PARAM_MAX];
        rr_path (lpath, sizeof lpath, "%s.%s", path, req->locales [l]);
        json_t *arr = rr_member (lines, req->locales [l]);
        if (!arr && !fallback)
            return rr_fail (e, "parameter_missing",
                            "Lines are missing for a locale of matrix.locales (or give \"default\").",
                            "%s", lpath);
        if (arr && s_check_lines (arr, lpath, e))
            return -1;
    }
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) lines, key, value) {
        bool known = strcmp (key, "default") == 0;
        for (int l = 0; l < req->nlocales && !known; l++)
            known = strcmp (req->locales [l], key) == 0;
        if (!known)
            return rr_fail (e, "parameter_unknown", "This locale is not in matrix.locales.",
                            "%s.%s", path, key);
    }
    return 0;
}

/* A slide's "headline" or "subtitle" object. */
static int
s_parse_text (const json_t *h, int i, bool subtitle, const rr_req_t *req, json_t **lines_out,
              rr_style_t *st, api_error_t *e)
{
    static const char *const hkeys [] = { "lines", "color", "weight", "font_size", NULL };
    static const char *const skeys [] = { "lines", "color", NULL };
    const char *what = subtitle ? "subtitle" : "headline";
    char path [API_ERROR_PARAM_MAX];
    rr_path (path, sizeof path, "slides[%d].%s", i, what);
    if (!json_is_object (h))
        return rr_fail (e, "parameter_invalid", "headline and subtitle are objects.", "%s", path);
    if (rr_check_keys (h, subtitle ? skeys : hkeys, path, e)
    ||  s_parse_text_style (h, path, subtitle, st, e))
        return -1;
    json_t *lines = rr_member (h, "lines");
    rr_path (path, sizeof path, "slides[%d].%s.lines", i, what);
    if (!lines)
        return rr_fail (e, "parameter_missing", "A headline or subtitle needs lines.", "%s", path);
    *lines_out = lines;
    return s_check_text_lines (lines, path, req, e);
}

static int
s_decode_data (const char *b64, size_t len, const char *path, rr_slide_t *slide, api_error_t *e)
{
    /* a data: URL prefix is allowed ("data:image/png;base64,...") */
    if (len > 5 && strncmp (b64, "data:", 5) == 0) {
        const char *comma = memchr (b64, ',', len);
        if (!comma || comma - b64 < 12 || memcmp (comma - 7, ";base64", 7) != 0)
            return rr_fail (e, "parameter_invalid", "data is base64, optionally as a base64 data: URL.",
                            "%s", path);
        len -= (size_t) (comma + 1 - b64);
        b64 = comma + 1;
    }
    if (len == 0)
        return rr_fail (e, "parameter_invalid", "data is empty.", "%s", path);
    /* cap the encoded text before decoding (line breaks allowed: len / 64 slack) */
    if (len > (size_t) EASEL_MAX_SOURCE_BYTES / 3 * 4 + 4 + len / 64)
        return rr_fail (e, "parameter_invalid", "The screenshot is over the 20 MiB limit.", "%s", path);
    size_t cap = len / 4 * 3 + 3;
    slide->data = malloc (cap);
    if (!slide->data)
        return api_error_set (e, 500, "internal_error", NULL, "out of memory");
    const char *end = NULL;
    if (sodium_base642bin (slide->data, cap, b64, len, " \t\r\n", &slide->data_len, &end,
                           sodium_base64_VARIANT_ORIGINAL) != 0 || end != b64 + len)
        return rr_fail (e, "parameter_invalid", "data is not valid base64.", "%s", path);
    if (slide->data_len == 0 || slide->data_len > EASEL_MAX_SOURCE_BYTES)
        return rr_fail (e, "parameter_invalid", "The screenshot is over the 20 MiB limit.", "%s", path);
    /* the image header, before anything decodes the pixels */
    image_source_kind_t kind;
    uint32_t w, h;
    if (image_source_probe (slide->data, slide->data_len, &kind, &w, &h) != 0)
        return rr_fail (e, "screenshot_invalid", "The screenshot is not a PNG, JPEG or WebP image.",
                        "%s", path);
    if ((uint64_t) w * h > EASEL_MAX_SOURCE_PIXELS)
        return api_error_set (e, 422, "screenshot_too_large", path,
                              "The screenshot is %ux%u pixels; the limit is %d pixels in all.",
                              w, h, EASEL_MAX_SOURCE_PIXELS);
    util_sha256_hex (slide->data, slide->data_len, slide->sha256);
    return 0;
}

/* A key of a per-image file_id map: "default", a locale of the matrix, a
   preset of the render, or "<locale>/<preset>". */
static bool
s_file_key_known (const rr_req_t *req, const char *key)
{
    if (strcmp (key, "default") == 0)
        return true;
    const char *slash = strchr (key, '/');
    size_t llen = slash ? (size_t) (slash - key) : strlen (key);
    bool locale = false, preset = false;
    for (int l = 0; l < req->nlocales && !locale; l++)
        locale = strlen (req->locales [l]) == llen && strncmp (req->locales [l], key, llen) == 0;
    const char *pname = slash ? slash + 1 : key;
    for (int p = 0; p < req->npresets && !preset; p++)
        preset = strcmp (req->presets [p]->name, pname) == 0;
    if (!preset && req->canvas_preset)
        preset = strcmp (req->canvas_preset->name, pname) == 0;
    return slash ? locale && preset : locale || preset;
}

/* See render_request_int.h. */
int
rr_check_file_id (json_t *file_id, const char *path, const rr_req_t *req, bool skip,
                  json_t **out, api_error_t *e)
{
    if (!req->files || !req->files->resolve)
        return rr_fail (e, "parameter_invalid", "file_id is not taken here.", "%s.file_id", path);
    if (json_is_string (file_id)) {
        *out = file_id;
        return 0;
    }
    if (!json_is_object (file_id) || json_object_size (file_id) == 0)
        return rr_fail (e, "parameter_invalid",
                        "file_id is a file id, or an object of locale (or preset, or "
                        "\"<locale>/<preset>\", or \"default\") -> file id.", "%s.file_id", path);
    const char *key;
    json_t *v;
    json_object_foreach (file_id, key, v) {
        if (!s_file_key_known (req, key))
            return rr_fail (e, "parameter_unknown",
                            "This key is not a locale of matrix.locales, a preset of the render, "
                            "\"<locale>/<preset>\" or \"default\".", "%s.file_id.%.60s", path, key);
        if (json_is_null (v) && !skip)
            return rr_fail (e, "parameter_invalid", "A background file id is a string (file_...);"
                            " null skips an image only in slides[].screenshot.file_id.",
                            "%s.file_id.%.60s", path, key);
        if (!json_is_string (v) && !json_is_null (v))
            return rr_fail (e, "parameter_invalid", "A file id is a string (file_...), or null to"
                            " render no image for this key.", "%s.file_id.%.60s", path, key);
    }
    *out = file_id;
    return 0;
}

/* The sha256 of file id `id` into out (resolved once per render). */
int
rr_file_sha (rr_files_t *f, const char *id, const char *param, char out [65], api_error_t *e)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp (f->ids [i], id) == 0) {
            memcpy (out, f->sha256 [i], 65);
            return 0;
        }
    if (f->n == MAX_FILE_IDS)
        return api_error_set (e, 422, "parameter_invalid", param,
                              "A render names at most %d distinct files.", MAX_FILE_IDS);
    if (f->resolve (f->arg, id, param, f->sha256 [f->n], e))
        return -1;
    f->ids [f->n] = id;
    memcpy (out, f->sha256 [f->n++], 65);
    return 0;
}

/* See render_request_int.h. */
int
rr_file_pick (const json_t *file_id, const char *locale, const char *preset, const char **id)
{
    *id = NULL;
    if (json_is_string (file_id)) {
        *id = json_string_value (file_id);
        return 1;
    }
    char both [2 * PROTO_SHORT_MAX + 2];
    snprintf (both, sizeof both, "%s/%s", locale, preset);
    const char *keys [] = { locale [0] && preset [0] ? both : "", locale, preset, "default" };
    for (int k = 0; k < 4; k++) {
        json_t *v = keys [k][0] ? json_object_get (file_id, keys [k]) : NULL;
        if (json_is_null (v))
            return RR_FILE_SKIP;
        if (v) {
            *id = json_string_value (v);
            return 1;
        }
    }
    return -1;
}

bool
rr_image_skipped (const rr_req_t *req, int s, const char *locale, const char *preset)
{
    const char *id;
    return req->slides [s].file_id
        && rr_file_pick (req->slides [s].file_id, locale, preset, &id) == RR_FILE_SKIP;
}

static int
s_parse_screenshot (const json_t *s, int i, const rr_req_t *req, rr_slide_t *slide, api_error_t *e)
{
    static const char *const keys [] = { "url", "data", "file_id", NULL };
    char path [API_ERROR_PARAM_MAX];
    rr_path (path, sizeof path, "slides[%d].screenshot", i);
    if (!json_is_object (s))
        return rr_fail (e, "parameter_invalid", "screenshot must be an object.", "%s", path);
    if (rr_check_keys (s, keys, path, e))
        return -1;
    json_t *url = rr_member (s, "url");
    json_t *data = rr_member (s, "data");
    json_t *file_id = rr_member (s, "file_id");
    if ((url != NULL) + (data != NULL) + (file_id != NULL) != 1)
        return rr_fail (e, "parameter_invalid",
                        "screenshot takes exactly one of url, data or file_id.", "%s", path);
    if (file_id)
        return rr_check_file_id (file_id, path, req, true, &slide->file_id, e);
    if (data) {
        char dpath [API_ERROR_PARAM_MAX];
        rr_path (dpath, sizeof dpath, "%s.data", path);
        if (!json_is_string (data))
            return rr_fail (e, "parameter_invalid", "data is a base64 string.", "%s", dpath);
        return s_decode_data (json_string_value (data), json_string_length (data), dpath, slide, e);
    }
    const char *tmpl = json_string_value (url);
    if (!tmpl || json_string_length (url) > EASEL_MAX_URL_BYTES)
        return rr_fail (e, "parameter_invalid", RR_MSG ("url is an http(s) URL of at most %d bytes.", EASEL_MAX_URL_BYTES),
                        "%s.url", path);
    if (strstr (tmpl, "{locale}") && req->nlocales == 0)
        return rr_fail (e, "parameter_invalid", "{locale} in a URL needs matrix.locales.", "%s.url", path);
    if (strstr (tmpl, "{preset}") && req->npresets == 0 && !req->canvas_preset)
        return rr_fail (e, "parameter_invalid", "{preset} in a URL needs a canvas or matrix preset.",
                        "%s.url", path);
    slide->url = tmpl;
    return 0;
}

int
rr_parse_slide (const json_t *js, int i, const rr_req_t *req, rr_slide_t *slide, api_error_t *e)
{
    static const char *const keys [] = { "headline", "subtitle", "screenshot", "device", "layout", NULL };
    char path [API_ERROR_PARAM_MAX];
    rr_path (path, sizeof path, "slides[%d]", i);
    slide->layout.padding_pm = slide->head.padding_pm = slide->subst.padding_pm = -1;
    if (!json_is_object (js))
        return rr_fail (e, "parameter_invalid", "Each slide is an object.", "%s", path);
    if (rr_check_keys (js, keys, path, e))
        return -1;
    json_t *headline = rr_member (js, "headline");
    json_t *shot = rr_member (js, "screenshot");
    if (!headline && !shot)
        return rr_fail (e, "parameter_missing", "A slide needs a headline, a screenshot or both.",
                        "slides[%d].headline", i);
    if (headline && s_parse_text (headline, i, false, req, &slide->lines, &slide->head, e))
        return -1;
    json_t *subtitle = rr_member (js, "subtitle");
    if (subtitle && s_parse_text (subtitle, i, true, req, &slide->sub, &slide->subst, e))
        return -1;
    if (shot && s_parse_screenshot (shot, i, req, slide, e))
        return -1;
    json_t *layout = rr_member (js, "layout");
    rr_path (path, sizeof path, "slides[%d].layout", i);
    if (layout && s_parse_layout (layout, path, &slide->layout, e))
        return -1;
    json_t *device = rr_member (js, "device");
    if (device) {
        slide->layout.device = json_string_value (device);
        if (!slide->layout.device || !device_frame_find (slide->layout.device))
            return rr_fail (e, "parameter_invalid",
                            "Unknown device; frames are iphone, iphone_home, ipad, android_phone, "
                            "android_tablet, mac, browser-macos, watch and none.", "slides[%d].device", i);
    }
    s_style_merge (&slide->layout, &req->layout);
    s_style_merge (&slide->head, &req->head);
    s_style_merge (&slide->subst, &req->subst);
    slide->device = slide->layout.device;     /* NULL: the preset's own device */
    slide->text_color = slide->head.has_color ? slide->head.color : s_default_text_color (req);
    slide->sub_color = slide->subst.has_color ? slide->subst.color : slide->text_color;
    return 0;
}
