/*  render_request.c: validation of POST /v1/renders bodies and their expansion
    into task specs. See render_request.h.

    Parsing happens in two passes: the JSON is checked into an rr_req_t (which
    borrows strings from the jansson tree and owns decoded inline screenshots),
    then every image of slides x locales x presets is encoded. No state.
    This file holds the entry points, the shared helpers, and the body's top
    level (matrix, canvas, background); slides are in render_request_slide.c,
    the expansion into task specs in render_request_expand.c, and what they
    share in render_request_int.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <curl/curl.h>
#include "render_request_int.h"
#include "json_depth.h"
#include "presets.h"
#include "util.h"

int
api_error_set (api_error_t *e, int status, const char *code, const char *param,
               const char *fmt, ...)
{
    memset (e, 0, sizeof *e);
    e->status = status;
    const char *type = status == 401 ? "authentication_error"
                     : status == 429 ? "rate_limit_error"
                     : status >= 500 ? "api_error" : "invalid_request_error";
    snprintf (e->type, sizeof e->type, "%s", type);
    snprintf (e->code, sizeof e->code, "%s", code);
    snprintf (e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (e->message, sizeof e->message, fmt, ap);
    va_end (ap);
    return -1;
}

int
api_json_depth_check (const char *body, size_t len, api_error_t *e)
{
    switch (json_shape_check (body, len, EASEL_MAX_JSON_DEPTH, EASEL_MAX_JSON_VALUES)) {
        case JSON_SHAPE_OK:
            return 0;
        case JSON_SHAPE_TOO_DEEP:
            return api_error_set (e, 400, "json_too_deep", NULL,
                                  "The JSON nests arrays and objects more than %d deep; %d is the limit.",
                                  EASEL_MAX_JSON_DEPTH, EASEL_MAX_JSON_DEPTH);
        default:
            return api_error_set (e, 400, "json_too_many_values", NULL,
                                  "The JSON holds more than %d values (array elements and object "
                                  "members); %d is the limit.", EASEL_MAX_JSON_VALUES,
                                  EASEL_MAX_JSON_VALUES);
    }
}

/* A parameter path, printf-style (paths are short; a cap hit just shortens the name). */
void
rr_path (char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (out, size, fmt, ap);
    va_end (ap);
}

/* See render_request_int.h (RR_MSG). */
rr_msg_t
rr_msg (const char *fmt, ...)
{
    rr_msg_t m;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (m.text, sizeof m.text, fmt, ap);
    va_end (ap);
    return m;
}
/* Shorthands for the 422s, with the param built printf-style. */
int
rr_fail (api_error_t *e, const char *code, const char *message, const char *param_fmt, ...)
{
    char param [API_ERROR_PARAM_MAX];
    va_list ap;
    va_start (ap, param_fmt);
    vsnprintf (param, sizeof param, param_fmt, ap);
    va_end (ap);
    return api_error_set (e, 422, code, param, "%s", message);
}

/* A member that is present and not null, else NULL. */
json_t *
rr_member (const json_t *obj, const char *key)
{
    json_t *v = json_object_get (obj, key);
    return json_is_null (v) ? NULL : v;
}

/* Rejects keys of obj not in `allowed` (NULL-terminated) as parameter_unknown. */
int
rr_check_keys (const json_t *obj, const char *const *allowed, const char *prefix, api_error_t *e)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) obj, key, value) {
        bool known = false;
        for (int i = 0; allowed [i] && !known; i++)
            known = strcmp (allowed [i], key) == 0;
        if (!known) {
            char param [API_ERROR_PARAM_MAX];
            snprintf (param, sizeof param, "%s%s%s", prefix, *prefix ? "." : "", key);
            return api_error_set (e, 422, "parameter_unknown", param,
                                  "Received unknown parameter: %s", param);
        }
    }
    return 0;
}

/* "#RRGGBB" -> 0xRRGGBB. */
int
rr_color (const json_t *v, const char *path, uint32_t *out, api_error_t *e)
{
    const char *s = json_string_value (v);
    bool ok = s && strlen (s) == 7 && s [0] == '#';
    uint32_t c = 0;
    for (int i = 1; ok && i < 7; i++) {
        char ch = s [i];
        int d = ch >= '0' && ch <= '9' ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        ok = d >= 0;
        c = (c << 4) | (uint32_t) (d & 0xF);
    }
    if (!ok)
        return rr_fail (e, "parameter_invalid", "Colours are strings of the form \"#RRGGBB\".",
                        "%s", path);
    *out = c;
    return 0;
}

bool
render_request_url_ok (const char *url)
{
    if (!url || strlen (url) > EASEL_MAX_URL_BYTES)
        return false;
    CURLU *h = curl_url ();
    if (!h)
        return false;
    char *scheme = NULL, *host = NULL;
    bool ok = curl_url_set (h, CURLUPART_URL, url, 0) == CURLUE_OK
           && curl_url_get (h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
           && curl_url_get (h, CURLUPART_HOST, &host, 0) == CURLUE_OK
           && (strcmp (scheme, "http") == 0 || strcmp (scheme, "https") == 0)
           && *host;
    curl_free (scheme);
    curl_free (host);
    curl_url_cleanup (h);
    return ok;
}

/* ---- sections ------------------------------------------------------------ */

static int
s_parse_matrix (const json_t *m, rr_req_t *req, api_error_t *e)
{
    static const char *const keys [] = { "locales", "presets", NULL };
    if (!json_is_object (m))
        return rr_fail (e, "parameter_invalid", "matrix must be an object.", "matrix");
    if (rr_check_keys (m, keys, "matrix", e))
        return -1;
    json_t *locales = rr_member (m, "locales");
    if (locales) {
        size_t n = json_array_size (locales);
        if (!json_is_array (locales) || n < 1 || n > MAX_LOCALES)
            return rr_fail (e, "parameter_invalid",
                            RR_MSG ("matrix.locales must be an array of 1 to %d locale tags.", MAX_LOCALES), "matrix.locales");
        for (size_t i = 0; i < n; i++) {
            const char *tag = json_string_value (json_array_get (locales, i));
            size_t len = tag ? strlen (tag) : 0;
            bool ok = len >= LOCALE_MIN_BYTES && len <= LOCALE_MAX_BYTES
                   && strspn (tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == len;
            for (size_t j = 0; ok && j < i; j++)
                ok = strcmp (req->locales [j], tag) != 0;
            if (!ok)
                return rr_fail (e, "parameter_invalid",
                                "Locales are distinct BCP 47 tags such as \"en-US\".",
                                "matrix.locales[%zu]", i);
            req->locales [req->nlocales++] = tag;
        }
    }
    json_t *presets = rr_member (m, "presets");
    if (presets) {
        size_t n = json_array_size (presets);
        if (!json_is_array (presets) || n < 1 || n > MAX_MATRIX_PRESETS)
            return rr_fail (e, "parameter_invalid",
                            RR_MSG ("matrix.presets must be an array of 1 to %d canvas preset names.", MAX_MATRIX_PRESETS),
                            "matrix.presets");
        for (size_t i = 0; i < n; i++) {
            const presets_canvas_t *p = presets_find (json_string_value (json_array_get (presets, i)));
            if (!p)
                return rr_fail (e, "parameter_invalid", "Unknown canvas preset; see the preset list in the docs.",
                                "matrix.presets[%zu]", i);
            for (int j = 0; j < req->npresets; j++)
                if (req->presets [j] == p)
                    return rr_fail (e, "parameter_invalid", "A preset is listed twice.",
                                    "matrix.presets[%zu]", i);
            req->presets [req->npresets++] = p;
        }
    }
    return 0;
}

static int
s_side (const json_t *v, const char *path, int32_t *out, api_error_t *e)
{
    json_int_t n = json_integer_value (v);
    if (!json_is_integer (v) || n < EASEL_MIN_CANVAS_SIDE_PX || n > EASEL_MAX_CANVAS_SIDE_PX)
        return rr_fail (e, "parameter_invalid",
                        "Canvas sides are integers from 100 to 8192 pixels.", "%s", path);
    *out = (int32_t) n;
    return 0;
}

/* The default size of p in the asked orientation (-1: none asked, the
   preset's own); -1 when p does not take it. */
int
rr_preset_size (const presets_canvas_t *p, int orient, int32_t *w, int32_t *h)
{
    int32_t pw = p->sizes [0].width, ph = p->sizes [0].height;
    bool native_landscape = pw > ph;
    if (pw == ph || orient < 0 || native_landscape == (orient == 1)) {
        *w = pw, *h = ph;
        return 0;
    }
    if (p->orient != PRESETS_ORIENT_BOTH)
        return -1;
    *w = ph, *h = pw;
    return 0;
}

static int
s_parse_canvas (const json_t *c, rr_req_t *req, api_error_t *e)
{
    static const char *const keys [] = { "preset", "width", "height", "orientation", "store", NULL };
    if (!json_is_object (c))
        return rr_fail (e, "parameter_invalid", "canvas must be an object.", "canvas");
    if (rr_check_keys (c, keys, "canvas", e))
        return -1;
    json_t *preset = rr_member (c, "preset");
    json_t *width = rr_member (c, "width");
    json_t *height = rr_member (c, "height");
    json_t *orient = rr_member (c, "orientation");
    json_t *store = rr_member (c, "store");
    if (orient) {
        const char *o = json_string_value (orient);
        if (!o || (strcmp (o, "portrait") && strcmp (o, "landscape")))
            return rr_fail (e, "parameter_invalid", "orientation is \"portrait\" or \"landscape\".",
                            "canvas.orientation");
        req->orient = strcmp (o, "landscape") == 0;
    }
    if (store) {
        const char *st = json_string_value (store);
        if (!st || (strcmp (st, "appstore") && strcmp (st, "play")))
            return rr_fail (e, "parameter_invalid", "store is \"appstore\" or \"play\".", "canvas.store");
        if (preset)
            return rr_fail (e, "parameter_invalid", "store is for custom sizes; a preset names its store.",
                            "canvas.store");
        req->store = st;
    }
    if (width && s_side (width, "canvas.width", &req->width, e))
        return -1;
    if (height && s_side (height, "canvas.height", &req->height, e))
        return -1;
    if (!preset) {
        if (!width || !height)
            return rr_fail (e, "parameter_missing",
                            "canvas needs a preset, or a width and a height.",
                            "%s", !width ? "canvas.width" : "canvas.height");
        req->have_canvas = true;
        return 0;
    }
    const presets_canvas_t *p = presets_find (json_string_value (preset));
    if (!p)
        return rr_fail (e, "parameter_invalid", "Unknown canvas preset; see the preset list in the docs.",
                        "canvas.preset");
    req->canvas_preset = p;
    req->have_canvas = true;
    if (!width && !height) {
        if (rr_preset_size (p, req->orient, &req->width, &req->height))
            return rr_fail (e, "parameter_invalid", "This preset does not take that orientation.",
                            "canvas.orientation");
        return 0;
    }
    /* a preset with a size picks one of the sizes the store accepts */
    if (width && height && presets_size_ok (p, req->width, req->height)
    &&  (!orient || (req->width > req->height) == (req->orient == 1) || req->width == req->height))
        return 0;
    return rr_fail (e, "parameter_invalid",
                    "This size is not one the preset accepts; omit width and height for its default.",
                    "canvas.width");
}

static int
s_parse_background (const json_t *b, rr_req_t *req, api_error_t *e)
{
    static const char *const keys [] = { "preset", "color", "gradient", "image", NULL };
    if (!json_is_object (b))
        return rr_fail (e, "parameter_invalid", "background must be an object.", "background");
    if (rr_check_keys (b, keys, "background", e))
        return -1;
    json_t *preset = rr_member (b, "preset");
    json_t *color = rr_member (b, "color");
    json_t *gradient = rr_member (b, "gradient");
    json_t *image = rr_member (b, "image");
    if ((preset != NULL) + (color != NULL) + (gradient != NULL) + (image != NULL) != 1)
        return rr_fail (e, "parameter_invalid",
                        "background takes exactly one of preset, color, gradient or image.", "background");
    req->bg_angle = DEFAULT_ANGLE;
    if (image) {
        static const char *const ikeys [] = { "url", "file_id", NULL };
        if (!json_is_object (image))
            return rr_fail (e, "parameter_invalid", "image is an object with a url or a file_id.",
                            "background.image");
        if (rr_check_keys (image, ikeys, "background.image", e))
            return -1;
        json_t *url = rr_member (image, "url");
        json_t *file_id = rr_member (image, "file_id");
        if ((url != NULL) + (file_id != NULL) != 1)
            return rr_fail (e, "parameter_invalid", "image takes exactly one of url or file_id.",
                            "background.image");
        if (file_id && rr_check_file_id (file_id, "background.image", req, false, &req->bg_file_id, e))
            return -1;
        if (url && !render_request_url_ok (json_string_value (url)))
            return rr_fail (e, "parameter_invalid", RR_MSG ("url is an http(s) URL of at most %d bytes.", EASEL_MAX_URL_BYTES),
                            "background.image.url");
        req->bg_image_url = url ? json_string_value (url) : NULL;
        /* under the image while it loads nothing shows; a dark base for its edges */
        const presets_background_t *p = presets_background_find (PRESETS_DEFAULT_BACKGROUND);
        req->bg_ncolors = p->ncolors;
        memcpy (req->bg_colors, p->colors, sizeof req->bg_colors);
        req->bg_angle = p->angle;
        return 0;
    }
    if (preset) {
        const presets_background_t *p = presets_background_find (json_string_value (preset));
        if (!p)
            return rr_fail (e, "parameter_invalid",
                            "Background presets are midnight, sunset, ocean, forest, paper, graphite and aurora.",
                            "background.preset");
        req->bg_ncolors = p->ncolors;
        memcpy (req->bg_colors, p->colors, sizeof req->bg_colors);
        req->bg_angle = p->angle;
        return 0;
    }
    if (color) {
        req->bg_ncolors = 1;
        return rr_color (color, "background.color", &req->bg_colors [0], e);
    }
    static const char *const gkeys [] = { "colors", "angle", NULL };
    if (!json_is_object (gradient))
        return rr_fail (e, "parameter_invalid", "gradient must be an object.", "background.gradient");
    if (rr_check_keys (gradient, gkeys, "background.gradient", e))
        return -1;
    json_t *colors = rr_member (gradient, "colors");
    if (!colors)
        return rr_fail (e, "parameter_missing", "A gradient needs colors.", "background.gradient.colors");
    size_t n = json_array_size (colors);
    if (!json_is_array (colors) || n < 2 || n > MAX_GRADIENT_STOPS)
        return rr_fail (e, "parameter_invalid", "A gradient has 2 to 4 colours.",
                        "background.gradient.colors");
    for (size_t i = 0; i < n; i++) {
        char path [API_ERROR_PARAM_MAX];
        rr_path (path, sizeof path, "background.gradient.colors[%zu]", i);
        if (rr_color (json_array_get (colors, i), path, &req->bg_colors [i], e))
            return -1;
    }
    req->bg_ncolors = (int32_t) n;
    json_t *angle = rr_member (gradient, "angle");
    if (angle) {
        json_int_t a = json_integer_value (angle);
        if (!json_is_integer (angle) || a < 0 || a > 359)
            return rr_fail (e, "parameter_invalid", "angle is an integer from 0 to 359 degrees.",
                            "background.gradient.angle");
        req->bg_angle = (int32_t) a;
    }
    return 0;
}

/* One of `allowed` (NULL-terminated) as a string, else a 422 naming path. */
int
rr_enum (const json_t *v, const char *const *allowed, const char *path, const char **out,
         const char *message, api_error_t *e)
{
    const char *s = json_string_value (v);
    for (int i = 0; s && allowed [i]; i++)
        if (strcmp (allowed [i], s) == 0) {
            *out = allowed [i];
            return 0;
        }
    return rr_fail (e, "parameter_invalid", message, "%s", path);
}

/* ---- entry --------------------------------------------------------------- */

static int
s_parse_top (const json_t *root, rr_req_t *req, proto_create_render_t *out, api_error_t *e)
{
    static const char *const keys [] = { "async", "webhook_url", "canvas", "matrix", "background",
                                         "format", "slides", "metadata", "layout", "headline",
                                         "subtitle", "cache", NULL };
    if (!json_is_object (root))
        return api_error_set (e, 400, "invalid_json", NULL, "The request body must be a JSON object.");
    if (rr_check_keys (root, keys, "", e))
        return -1;

    json_t *async = rr_member (root, "async");
    if (async && !json_is_boolean (async))
        return rr_fail (e, "parameter_invalid", "async is a boolean.", "async");
    out->sync = !json_is_true (async);
    /* cache: false draws every image again, even one identical to an earlier image */
    json_t *cache = rr_member (root, "cache");
    if (cache && !json_is_boolean (cache))
        return rr_fail (e, "parameter_invalid", "cache is a boolean.", "cache");
    out->no_cache = json_is_false (cache);

    json_t *slides = rr_member (root, "slides");
    if (!slides)
        return rr_fail (e, "parameter_missing", "slides is required.", "slides");
    size_t nslides = json_array_size (slides);
    if (!json_is_array (slides) || nslides < 1 || nslides > EASEL_MAX_SLIDES)
        return rr_fail (e, "parameter_invalid", RR_MSG ("slides is an array of 1 to %d slides.", EASEL_MAX_SLIDES), "slides");

    json_t *matrix = rr_member (root, "matrix");
    if (matrix && s_parse_matrix (matrix, req, e))
        return -1;
    json_t *canvas = rr_member (root, "canvas");
    if (canvas && s_parse_canvas (canvas, req, e))
        return -1;
    if (!canvas && req->npresets == 0)
        return rr_fail (e, "parameter_missing", "canvas is required (or matrix.presets).", "canvas");

    json_t *background = rr_member (root, "background");
    if (background) {
        if (s_parse_background (background, req, e))
            return -1;
    }
    else {
        const presets_background_t *p = presets_background_find (PRESETS_DEFAULT_BACKGROUND);
        req->bg_ncolors = p->ncolors;
        memcpy (req->bg_colors, p->colors, sizeof req->bg_colors);
        req->bg_angle = p->angle;
    }

    json_t *format = rr_member (root, "format");
    static const char *const formats [] = { "png", "jpeg", "webp", NULL };
    req->format = "png";
    if (format && rr_enum (format, formats, "format", &req->format,
                           "format is \"png\", \"jpeg\" or \"webp\" (stores take png and jpeg).", e))
        return -1;
    if (!req->store)
        req->store = "";
    for (int p = 0; p < req->npresets; p++) {
        int32_t pw, ph;
        if (rr_preset_size (req->presets [p], req->orient, &pw, &ph))
            return rr_fail (e, "parameter_invalid", "This preset does not take the canvas orientation.",
                            "matrix.presets[%d]", p);
    }
    if (rr_parse_defaults (root, req, e))
        return -1;

    json_t *webhook = rr_member (root, "webhook_url");
    if (webhook) {
        if (!render_request_url_ok (json_string_value (webhook)))
            return rr_fail (e, "parameter_invalid", RR_MSG ("webhook_url is an http(s) URL of at most %d bytes.", EASEL_MAX_URL_BYTES),
                            "webhook_url");
        out->webhook_url = strdup (json_string_value (webhook));
    }
    json_t *metadata = rr_member (root, "metadata");
    if (metadata && !json_is_object (metadata))
        return rr_fail (e, "parameter_invalid", "metadata is an object.", "metadata");
    out->metadata_json = metadata ? json_dumps (metadata, JSON_COMPACT | JSON_SORT_KEYS)
                                  : strdup ("{}");
    if (!out->metadata_json || (webhook && !out->webhook_url))
        return api_error_set (e, 500, "internal_error", NULL, "out of memory");
    if (strlen (out->metadata_json) > EASEL_MAX_METADATA_BYTES)
        return rr_fail (e, "parameter_invalid", RR_MSG ("metadata is at most %d bytes as compact JSON.", EASEL_MAX_METADATA_BYTES),
                        "metadata");

    for (size_t i = 0; i < nslides; i++) {
        req->nslides = (int) i + 1;    /* so a failed slide's data is freed too */
        if (rr_parse_slide (json_array_get (slides, i), (int) i, req, &req->slides [i], e))
            return -1;
    }

    /* a null in a screenshot's file_id map leaves its image out (the cells
       are bounded: EASEL_MAX_SLIDES x MAX_LOCALES x MAX_MATRIX_PRESETS) */
    int64_t total = rr_image_count (req);
    if (total == 0)
        return rr_fail (e, "parameter_invalid", "Every image of this render is skipped (null file_id"
                        " entries): there is nothing to render.", "slides");
    if (total > EASEL_MAX_IMAGES_PER_RENDER)
        return api_error_set (e, 422, "parameter_invalid", "matrix",
                              "This render has %lld images; a render has at most %d.",
                              (long long) total, EASEL_MAX_IMAGES_PER_RENDER);
    if (out->sync && total > EASEL_SYNC_MAX_IMAGES)
        return api_error_set (e, 422, "use_async", "async",
                              "This render has %lld images; renders of more than %d images must set "
                              "\"async\": true.", (long long) total, EASEL_SYNC_MAX_IMAGES);
    return rr_expand (req, (int32_t) total, out, e);
}

int
render_request_parse (const char *body, size_t len, proto_create_render_t *out, api_error_t *err)
{
    return render_request_parse_files (body, len, NULL, NULL, out, err);
}

int
render_request_parse_files (const char *body, size_t len, render_file_resolve_fn *resolve,
                            void *arg, proto_create_render_t *out, api_error_t *err)
{
    memset (out, 0, sizeof *out);
    memset (err, 0, sizeof *err);
    if (api_json_depth_check (body, len, err))
        return -1;
    json_error_t jerr;
    json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return api_error_set (err, 400, "invalid_json", NULL,
                              "Malformed JSON at line %d, column %d: %s.",
                              jerr.line, jerr.column, jerr.text);
    rr_req_t *req = calloc (1, sizeof *req);
    rr_files_t *files = calloc (1, sizeof *files);
    if (req && files) {
        req->orient = -1;              /* no orientation asked: each preset's own */
        files->resolve = resolve;
        files->arg = arg;
        req->files = files;
    }
    else {
        free (req);
        req = NULL;
    }
    int rc = req ? s_parse_top (root, req, out, err)
                 : api_error_set (err, 500, "internal_error", NULL, "out of memory");
    for (int i = 0; req && i < req->nslides; i++)
        free (req->slides [i].data);
    free (req);
    free (files);
    json_decref (root);
    if (rc) {
        proto_create_render_free (out);
        memset (out, 0, sizeof *out);
    }
    return rc;
}
