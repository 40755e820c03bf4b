/*  render_request.c: validation of POST /v1/renders bodies and their expansion
    into task specs. See render_request.h.

    Parsing happens in two passes: the JSON is checked into an s_req_t (which
    borrows strings from the jansson tree and owns decoded inline screenshots),
    then every image of slides x locales x presets is encoded. No state. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <sodium.h>
#include <curl/curl.h>
#include "render_request.h"
#include "json_depth.h"
#include "presets.h"
#include "device_table.h"
#include "image_probe.h"
#include "util.h"

#define MAX_LOCALES          40
#define LOCALE_MIN_BYTES     2
#define LOCALE_MAX_BYTES     35
#define MAX_MATRIX_PRESETS   32
#define MAX_GRADIENT_STOPS   4
#define DEFAULT_ANGLE        180
#define DEFAULT_TEXT_COLOR   0xFFFFFFu  /* on a dark background (or an image) */
#define DEFAULT_DARK_TEXT    0x1C1C1Eu  /* on a light background */
/* room left in one bus message for everything that is not a task spec */
#define SPEC_BYTES_MAX       (EASEL_MAX_MSG_BYTES - 1024 * 1024)

/* Layout and text style: each field is set or not, so a slide's values
   merge over the render's "layout" / "headline" / "subtitle" defaults. */
typedef struct {
    const char *position;          /* "top" | "bottom"; NULL unset */
    int32_t     padding_pm;        /* -1 unset */
    const char *fit;               /* "contain" | "cover" */
    const char *finish;            /* "auto" | "black" | "silver" */
    const char *device;
    bool        has_color;
    uint32_t    color;
    int32_t     weight;            /* 0 unset */
    int32_t     size_max, size_min;   /* 0 unset */
} s_style_t;

typedef struct {
    json_t     *lines;             /* borrowed: array, or object locale -> array; NULL = none */
    json_t     *sub;               /* borrowed subtitle lines, same shapes; NULL = none */
    uint32_t    text_color;
    uint32_t    sub_color;
    const char *url;               /* borrowed URL template; NULL when none */
    uint8_t    *data;              /* owned: decoded inline screenshot; NULL when none */
    size_t      data_len;
    char        sha256 [65];       /* hex sha256 of data: the blob its tasks name */
    json_t     *file_id;           /* borrowed: a file id, or object key -> file id; NULL none */
    const char *device;            /* borrowed */
    s_style_t   layout, head, subst;   /* merged: slide over render defaults */
} s_slide_t;

#define MAX_FILE_IDS 64       /* distinct file ids one render names */

/* The file ids a render names, each resolved once to its sha256. */
typedef struct {
    render_file_resolve_fn *resolve;                   /* NULL: file_id is refused */
    void       *arg;
    int         n;
    const char *ids [MAX_FILE_IDS];                    /* borrowed */
    char        sha256 [MAX_FILE_IDS][65];
} s_files_t;

typedef struct {
    s_files_t  *files;
    const char *locales [MAX_LOCALES];                 /* borrowed */
    int         nlocales;
    const presets_canvas_t *presets [MAX_MATRIX_PRESETS];
    int         npresets;
    const presets_canvas_t *canvas_preset;             /* NULL: custom size */
    int32_t     width, height;                         /* the canvas size */
    bool        have_canvas;
    int32_t     bg_ncolors;
    uint32_t    bg_colors [PROTO_MAX_STOPS];
    int32_t     bg_angle;
    const char *bg_image_url;                          /* borrowed; NULL when none */
    int         orient;                                /* canvas.orientation: -1 none, 0 portrait, 1 landscape */
    const char *store;                                 /* canvas.store for custom sizes, "" */
    const char *format;                                /* "png" | "jpeg" | "webp" */
    s_style_t   layout, head, subst;                   /* render-wide defaults */
    s_slide_t   slides [EASEL_MAX_SLIDES];
    int         nslides;
} s_req_t;

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
static void
s_path (char *out, size_t size, const char *fmt, ...) __attribute__((format (printf, 3, 4)));
static void
s_path (char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (out, size, fmt, ap);
    va_end (ap);
}

/* Shorthands for the 422s, with the param built printf-style. */
/* A message with its limit formatted in from the constant (one home per
   limit): S_MSG ("at most %d bytes.", EASEL_MAX_URL_BYTES), valid until the
   end of the enclosing full expression. */
#define S_MSG_MAX 200
typedef struct { char text [S_MSG_MAX]; } s_msg_t;
static s_msg_t
s_msg (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
static s_msg_t
s_msg (const char *fmt, ...)
{
    s_msg_t m;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (m.text, sizeof m.text, fmt, ap);
    va_end (ap);
    return m;
}
#define S_MSG(...) (s_msg (__VA_ARGS__).text)

static int
s_fail (api_error_t *e, const char *code, const char *message, const char *param_fmt, ...)
    __attribute__((format (printf, 4, 5)));
static int
s_fail (api_error_t *e, const char *code, const char *message, const char *param_fmt, ...)
{
    char param [API_ERROR_PARAM_MAX];
    va_list ap;
    va_start (ap, param_fmt);
    vsnprintf (param, sizeof param, param_fmt, ap);
    va_end (ap);
    return api_error_set (e, 422, code, param, "%s", message);
}

/* A member that is present and not null, else NULL. */
static json_t *
s_member (const json_t *obj, const char *key)
{
    json_t *v = json_object_get (obj, key);
    return json_is_null (v) ? NULL : v;
}

/* Rejects keys of obj not in `allowed` (NULL-terminated) as parameter_unknown. */
static int
s_check_keys (const json_t *obj, const char *const *allowed, const char *prefix, api_error_t *e)
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
static int
s_color (const json_t *v, const char *path, uint32_t *out, api_error_t *e)
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
        return s_fail (e, "parameter_invalid", "Colours are strings of the form \"#RRGGBB\".",
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
s_parse_matrix (const json_t *m, s_req_t *req, api_error_t *e)
{
    static const char *const keys [] = { "locales", "presets", NULL };
    if (!json_is_object (m))
        return s_fail (e, "parameter_invalid", "matrix must be an object.", "matrix");
    if (s_check_keys (m, keys, "matrix", e))
        return -1;
    json_t *locales = s_member (m, "locales");
    if (locales) {
        size_t n = json_array_size (locales);
        if (!json_is_array (locales) || n < 1 || n > MAX_LOCALES)
            return s_fail (e, "parameter_invalid",
                           S_MSG ("matrix.locales must be an array of 1 to %d locale tags.", MAX_LOCALES), "matrix.locales");
        for (size_t i = 0; i < n; i++) {
            const char *tag = json_string_value (json_array_get (locales, i));
            size_t len = tag ? strlen (tag) : 0;
            bool ok = len >= LOCALE_MIN_BYTES && len <= LOCALE_MAX_BYTES
                   && strspn (tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == len;
            for (size_t j = 0; ok && j < i; j++)
                ok = strcmp (req->locales [j], tag) != 0;
            if (!ok)
                return s_fail (e, "parameter_invalid",
                               "Locales are distinct BCP 47 tags such as \"en-US\".",
                               "matrix.locales[%zu]", i);
            req->locales [req->nlocales++] = tag;
        }
    }
    json_t *presets = s_member (m, "presets");
    if (presets) {
        size_t n = json_array_size (presets);
        if (!json_is_array (presets) || n < 1 || n > MAX_MATRIX_PRESETS)
            return s_fail (e, "parameter_invalid",
                           S_MSG ("matrix.presets must be an array of 1 to %d canvas preset names.", MAX_MATRIX_PRESETS),
                           "matrix.presets");
        for (size_t i = 0; i < n; i++) {
            const presets_canvas_t *p = presets_find (json_string_value (json_array_get (presets, i)));
            if (!p)
                return s_fail (e, "parameter_invalid", "Unknown canvas preset; see the preset list in the docs.",
                               "matrix.presets[%zu]", i);
            for (int j = 0; j < req->npresets; j++)
                if (req->presets [j] == p)
                    return s_fail (e, "parameter_invalid", "A preset is listed twice.",
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
        return s_fail (e, "parameter_invalid",
                       "Canvas sides are integers from 100 to 8192 pixels.", "%s", path);
    *out = (int32_t) n;
    return 0;
}

/* The default size of p in the asked orientation (-1: none asked, the
   preset's own); -1 when p does not take it. */
static int
s_preset_size (const presets_canvas_t *p, int orient, int32_t *w, int32_t *h)
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
s_parse_canvas (const json_t *c, s_req_t *req, api_error_t *e)
{
    static const char *const keys [] = { "preset", "width", "height", "orientation", "store", NULL };
    if (!json_is_object (c))
        return s_fail (e, "parameter_invalid", "canvas must be an object.", "canvas");
    if (s_check_keys (c, keys, "canvas", e))
        return -1;
    json_t *preset = s_member (c, "preset");
    json_t *width = s_member (c, "width");
    json_t *height = s_member (c, "height");
    json_t *orient = s_member (c, "orientation");
    json_t *store = s_member (c, "store");
    if (orient) {
        const char *o = json_string_value (orient);
        if (!o || (strcmp (o, "portrait") && strcmp (o, "landscape")))
            return s_fail (e, "parameter_invalid", "orientation is \"portrait\" or \"landscape\".",
                           "canvas.orientation");
        req->orient = strcmp (o, "landscape") == 0;
    }
    if (store) {
        const char *st = json_string_value (store);
        if (!st || (strcmp (st, "appstore") && strcmp (st, "play")))
            return s_fail (e, "parameter_invalid", "store is \"appstore\" or \"play\".", "canvas.store");
        if (preset)
            return s_fail (e, "parameter_invalid", "store is for custom sizes; a preset names its store.",
                           "canvas.store");
        req->store = st;
    }
    if (width && s_side (width, "canvas.width", &req->width, e))
        return -1;
    if (height && s_side (height, "canvas.height", &req->height, e))
        return -1;
    if (!preset) {
        if (!width || !height)
            return s_fail (e, "parameter_missing",
                           "canvas needs a preset, or a width and a height.",
                           "%s", !width ? "canvas.width" : "canvas.height");
        req->have_canvas = true;
        return 0;
    }
    const presets_canvas_t *p = presets_find (json_string_value (preset));
    if (!p)
        return s_fail (e, "parameter_invalid", "Unknown canvas preset; see the preset list in the docs.",
                       "canvas.preset");
    req->canvas_preset = p;
    req->have_canvas = true;
    if (!width && !height) {
        if (s_preset_size (p, req->orient, &req->width, &req->height))
            return s_fail (e, "parameter_invalid", "This preset does not take that orientation.",
                           "canvas.orientation");
        return 0;
    }
    /* a preset with a size picks one of the sizes the store accepts */
    if (width && height && presets_size_ok (p, req->width, req->height)
    &&  (!orient || (req->width > req->height) == (req->orient == 1) || req->width == req->height))
        return 0;
    return s_fail (e, "parameter_invalid",
                   "This size is not one the preset accepts; omit width and height for its default.",
                   "canvas.width");
}

static int
s_parse_background (const json_t *b, s_req_t *req, api_error_t *e)
{
    static const char *const keys [] = { "preset", "color", "gradient", "image", NULL };
    if (!json_is_object (b))
        return s_fail (e, "parameter_invalid", "background must be an object.", "background");
    if (s_check_keys (b, keys, "background", e))
        return -1;
    json_t *preset = s_member (b, "preset");
    json_t *color = s_member (b, "color");
    json_t *gradient = s_member (b, "gradient");
    json_t *image = s_member (b, "image");
    if ((preset != NULL) + (color != NULL) + (gradient != NULL) + (image != NULL) != 1)
        return s_fail (e, "parameter_invalid",
                       "background takes exactly one of preset, color, gradient or image.", "background");
    req->bg_angle = DEFAULT_ANGLE;
    if (image) {
        static const char *const ikeys [] = { "url", NULL };
        if (!json_is_object (image))
            return s_fail (e, "parameter_invalid", "image is an object with a url.", "background.image");
        if (json_is_object (image) && s_member (image, "file_id"))
            return s_fail (e, "parameter_invalid", "An uploaded file cannot be a background yet;"
                           " give background.image.url.", "background.image.file_id");
        if (s_check_keys (image, ikeys, "background.image", e))
            return -1;
        const char *url = json_string_value (s_member (image, "url"));
        if (!render_request_url_ok (url))
            return s_fail (e, "parameter_invalid", S_MSG ("url is an http(s) URL of at most %d bytes.", EASEL_MAX_URL_BYTES),
                           "background.image.url");
        req->bg_image_url = url;
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
            return s_fail (e, "parameter_invalid",
                           "Background presets are midnight, sunset, ocean, forest, paper, graphite and aurora.",
                           "background.preset");
        req->bg_ncolors = p->ncolors;
        memcpy (req->bg_colors, p->colors, sizeof req->bg_colors);
        req->bg_angle = p->angle;
        return 0;
    }
    if (color) {
        req->bg_ncolors = 1;
        return s_color (color, "background.color", &req->bg_colors [0], e);
    }
    static const char *const gkeys [] = { "colors", "angle", NULL };
    if (!json_is_object (gradient))
        return s_fail (e, "parameter_invalid", "gradient must be an object.", "background.gradient");
    if (s_check_keys (gradient, gkeys, "background.gradient", e))
        return -1;
    json_t *colors = s_member (gradient, "colors");
    if (!colors)
        return s_fail (e, "parameter_missing", "A gradient needs colors.", "background.gradient.colors");
    size_t n = json_array_size (colors);
    if (!json_is_array (colors) || n < 2 || n > MAX_GRADIENT_STOPS)
        return s_fail (e, "parameter_invalid", "A gradient has 2 to 4 colours.",
                       "background.gradient.colors");
    for (size_t i = 0; i < n; i++) {
        char path [API_ERROR_PARAM_MAX];
        s_path (path, sizeof path, "background.gradient.colors[%zu]", i);
        if (s_color (json_array_get (colors, i), path, &req->bg_colors [i], e))
            return -1;
    }
    req->bg_ncolors = (int32_t) n;
    json_t *angle = s_member (gradient, "angle");
    if (angle) {
        json_int_t a = json_integer_value (angle);
        if (!json_is_integer (angle) || a < 0 || a > 359)
            return s_fail (e, "parameter_invalid", "angle is an integer from 0 to 359 degrees.",
                           "background.gradient.angle");
        req->bg_angle = (int32_t) a;
    }
    return 0;
}

/* An array of 1..EASEL_MAX_HEADLINE_LINES non-empty strings of bounded length. */
static int
s_check_lines (const json_t *a, const char *path, api_error_t *e)
{
    size_t n = json_array_size (a);
    if (!json_is_array (a) || n < 1 || n > EASEL_MAX_HEADLINE_LINES)
        return s_fail (e, "parameter_invalid", S_MSG ("A headline has 1 to %d lines of text.", EASEL_MAX_HEADLINE_LINES), "%s", path);
    for (size_t i = 0; i < n; i++) {
        const json_t *line = json_array_get (a, i);
        size_t len = json_string_length (line);
        if (!json_is_string (line) || len < 1 || len > EASEL_MAX_HEADLINE_BYTES)
            return s_fail (e, "parameter_invalid",
                           S_MSG ("Each headline line is a non-empty string of at most %d bytes.", EASEL_MAX_HEADLINE_BYTES),
                           "%s[%zu]", path, i);
    }
    return 0;
}

/* ---- layout and text style ------------------------------------------------ */

#define MIN_FONT_PX   8
#define MAX_FONT_PX   1000
#define MAX_PADDING_PCT (EASEL_PADDING_PM_MAX / 10)

/* One of `allowed` (NULL-terminated) as a string, else a 422 naming path. */
static int
s_enum (const json_t *v, const char *const *allowed, const char *path, const char **out,
        const char *message, api_error_t *e)
{
    const char *s = json_string_value (v);
    for (int i = 0; s && allowed [i]; i++)
        if (strcmp (allowed [i], s) == 0) {
            *out = allowed [i];
            return 0;
        }
    return s_fail (e, "parameter_invalid", message, "%s", path);
}

/* {"text_position","padding","fit","finish","device"} at path into st. */
static int
s_parse_layout (const json_t *o, const char *path, s_style_t *st, api_error_t *e)
{
    static const char *const keys [] = { "text_position", "padding", "fit", "finish", "device", NULL };
    static const char *const positions [] = { "top", "bottom", NULL };
    static const char *const fits [] = { "contain", "cover", NULL };
    static const char *const finishes [] = { "auto", "black", "silver", NULL };
    char p [API_ERROR_PARAM_MAX];
    if (!json_is_object (o))
        return s_fail (e, "parameter_invalid", "layout must be an object.", "%s", path);
    if (s_check_keys (o, keys, path, e))
        return -1;
    json_t *v;
    if ((v = s_member (o, "text_position"))) {
        s_path (p, sizeof p, "%s.text_position", path);
        if (s_enum (v, positions, p, &st->position, "text_position is \"top\" or \"bottom\".", e))
            return -1;
    }
    if ((v = s_member (o, "padding"))) {
        json_int_t n = json_integer_value (v);
        if (!json_is_integer (v) || n < 0 || n > MAX_PADDING_PCT)
            return s_fail (e, "parameter_invalid",
                           S_MSG ("padding is an integer per cent of the width, 0 to %d.", MAX_PADDING_PCT), "%s.padding", path);
        st->padding_pm = (int32_t) n * 10;
    }
    if ((v = s_member (o, "fit"))) {
        s_path (p, sizeof p, "%s.fit", path);
        if (s_enum (v, fits, p, &st->fit, "fit is \"contain\" or \"cover\".", e))
            return -1;
    }
    if ((v = s_member (o, "finish"))) {
        s_path (p, sizeof p, "%s.finish", path);
        if (s_enum (v, finishes, p, &st->finish, "finish is \"auto\", \"black\" or \"silver\".", e))
            return -1;
    }
    if ((v = s_member (o, "device"))) {
        st->device = json_string_value (v);
        if (!st->device || !device_frame_find (st->device))
            return s_fail (e, "parameter_invalid",
                           "Unknown device; frames are iphone, iphone_home, ipad, android_phone, "
                           "android_tablet, mac, browser-macos, watch and none.", "%s.device", path);
    }
    return 0;
}

/* Text style keys of a headline or subtitle object (lines are checked apart). */
static int
s_parse_text_style (const json_t *o, const char *path, bool subtitle, s_style_t *st, api_error_t *e)
{
    char p [API_ERROR_PARAM_MAX];
    json_t *v;
    if ((v = s_member (o, "color"))) {
        s_path (p, sizeof p, "%s.color", path);
        if (s_color (v, p, &st->color, e))
            return -1;
        st->has_color = true;
    }
    if (subtitle)
        return 0;
    if ((v = s_member (o, "weight"))) {
        json_int_t n = json_integer_value (v);
        if (!json_is_integer (v) || n < 100 || n > 900 || n % 100)
            return s_fail (e, "parameter_invalid", "weight is 100, 200, ... 900 (600 and up draw bold).",
                           "%s.weight", path);
        st->weight = (int32_t) n;
    }
    if ((v = s_member (o, "font_size"))) {
        static const char *const fkeys [] = { "max", "min", NULL };
        s_path (p, sizeof p, "%s.font_size", path);
        if (!json_is_object (v))
            return s_fail (e, "parameter_invalid", "font_size is an object {max, min} in pixels.", "%s", p);
        if (s_check_keys (v, fkeys, p, e))
            return -1;
        json_t *mx = s_member (v, "max"), *mn = s_member (v, "min");
        json_int_t nmax = json_integer_value (mx), nmin = json_integer_value (mn);
        if (mx && (!json_is_integer (mx) || nmax < MIN_FONT_PX || nmax > MAX_FONT_PX))
            return s_fail (e, "parameter_invalid", "font_size.max is an integer from 8 to 1000 pixels.",
                           "%s.max", p);
        if (mn && (!json_is_integer (mn) || nmin < MIN_FONT_PX || nmin > MAX_FONT_PX
               ||  (mx && nmin > nmax)))
            return s_fail (e, "parameter_invalid",
                           "font_size.min is an integer from 8 pixels up to font_size.max.", "%s.min", p);
        st->size_max = (int32_t) nmax;
        st->size_min = (int32_t) nmin;
    }
    return 0;
}

/* The render-wide "layout", "headline" and "subtitle" defaults. */
static int
s_parse_defaults (const json_t *root, s_req_t *req, api_error_t *e)
{
    static const char *const hkeys [] = { "color", "weight", "font_size", NULL };
    static const char *const skeys [] = { "color", NULL };
    req->layout.padding_pm = req->head.padding_pm = req->subst.padding_pm = -1;
    json_t *v;
    if ((v = s_member (root, "layout")) && s_parse_layout (v, "layout", &req->layout, e))
        return -1;
    if ((v = s_member (root, "headline"))) {
        if (!json_is_object (v))
            return s_fail (e, "parameter_invalid", "headline (the defaults) is an object.", "headline");
        if (s_check_keys (v, hkeys, "headline", e) || s_parse_text_style (v, "headline", false, &req->head, e))
            return -1;
    }
    if ((v = s_member (root, "subtitle"))) {
        if (!json_is_object (v))
            return s_fail (e, "parameter_invalid", "subtitle (the defaults) is an object.", "subtitle");
        if (s_check_keys (v, skeys, "subtitle", e) || s_parse_text_style (v, "subtitle", true, &req->subst, e))
            return -1;
    }
    return 0;
}

/* White text unless the background's colours are light on average (paper):
   then near-black. A background image counts as dark. */
static uint32_t
s_default_text_color (const s_req_t *req)
{
    if (req->bg_image_url || req->bg_ncolors < 1)
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
s_style_merge (s_style_t *over, const s_style_t *under)
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
s_check_text_lines (const json_t *lines, const char *path, const s_req_t *req, api_error_t *e)
{
    if (!json_is_object (lines))
        return s_check_lines (lines, path, e);
    if (req->nlocales == 0)
        return s_fail (e, "parameter_invalid",
                       "Per-locale lines need matrix.locales.", "%s", path);
    json_t *fallback = s_member (lines, "default");
    if (fallback) {
        char dpath [API_ERROR_PARAM_MAX];
        s_path (dpath, sizeof dpath, "%s.default", path);
        if (s_check_lines (fallback, dpath, e))
            return -1;
    }
    for (int l = 0; l < req->nlocales; l++) {
        char lpath [API_ERROR_PARAM_MAX];
        s_path (lpath, sizeof lpath, "%s.%s", path, req->locales [l]);
        json_t *arr = s_member (lines, req->locales [l]);
        if (!arr && !fallback)
            return s_fail (e, "parameter_missing",
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
            return s_fail (e, "parameter_unknown", "This locale is not in matrix.locales.",
                           "%s.%s", path, key);
    }
    return 0;
}

/* A slide's "headline" or "subtitle" object. */
static int
s_parse_text (const json_t *h, int i, bool subtitle, const s_req_t *req, json_t **lines_out,
              s_style_t *st, api_error_t *e)
{
    static const char *const hkeys [] = { "lines", "color", "weight", "font_size", NULL };
    static const char *const skeys [] = { "lines", "color", NULL };
    const char *what = subtitle ? "subtitle" : "headline";
    char path [API_ERROR_PARAM_MAX];
    s_path (path, sizeof path, "slides[%d].%s", i, what);
    if (!json_is_object (h))
        return s_fail (e, "parameter_invalid", "headline and subtitle are objects.", "%s", path);
    if (s_check_keys (h, subtitle ? skeys : hkeys, path, e)
    ||  s_parse_text_style (h, path, subtitle, st, e))
        return -1;
    json_t *lines = s_member (h, "lines");
    s_path (path, sizeof path, "slides[%d].%s.lines", i, what);
    if (!lines)
        return s_fail (e, "parameter_missing", "A headline or subtitle needs lines.", "%s", path);
    *lines_out = lines;
    return s_check_text_lines (lines, path, req, e);
}

static int
s_decode_data (const char *b64, size_t len, const char *path, s_slide_t *slide, api_error_t *e)
{
    /* a data: URL prefix is allowed ("data:image/png;base64,...") */
    if (len > 5 && strncmp (b64, "data:", 5) == 0) {
        const char *comma = memchr (b64, ',', len);
        if (!comma || comma - b64 < 12 || memcmp (comma - 7, ";base64", 7) != 0)
            return s_fail (e, "parameter_invalid", "data is base64, optionally as a base64 data: URL.",
                           "%s", path);
        len -= (size_t) (comma + 1 - b64);
        b64 = comma + 1;
    }
    if (len == 0)
        return s_fail (e, "parameter_invalid", "data is empty.", "%s", path);
    /* cap the encoded text before decoding (line breaks allowed: len / 64 slack) */
    if (len > (size_t) EASEL_MAX_SOURCE_BYTES / 3 * 4 + 4 + len / 64)
        return s_fail (e, "parameter_invalid", "The screenshot is over the 20 MiB limit.", "%s", path);
    size_t cap = len / 4 * 3 + 3;
    slide->data = malloc (cap);
    if (!slide->data)
        return api_error_set (e, 500, "internal_error", NULL, "out of memory");
    const char *end = NULL;
    if (sodium_base642bin (slide->data, cap, b64, len, " \t\r\n", &slide->data_len, &end,
                           sodium_base64_VARIANT_ORIGINAL) != 0 || end != b64 + len)
        return s_fail (e, "parameter_invalid", "data is not valid base64.", "%s", path);
    if (slide->data_len == 0 || slide->data_len > EASEL_MAX_SOURCE_BYTES)
        return s_fail (e, "parameter_invalid", "The screenshot is over the 20 MiB limit.", "%s", path);
    /* the image header, before anything decodes the pixels */
    image_source_kind_t kind;
    uint32_t w, h;
    if (image_source_probe (slide->data, slide->data_len, &kind, &w, &h) != 0)
        return s_fail (e, "screenshot_invalid", "The screenshot is not a PNG, JPEG or WebP image.",
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
s_file_key_known (const s_req_t *req, const char *key)
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

/* screenshot.file_id: "file_..." or {"<locale>": "file_...", ...}. */
static int
s_check_file_id (json_t *file_id, const char *path, const s_req_t *req, s_slide_t *slide,
                 api_error_t *e)
{
    if (!req->files || !req->files->resolve)
        return s_fail (e, "parameter_invalid", "file_id is not taken here.", "%s.file_id", path);
    if (json_is_string (file_id)) {
        slide->file_id = file_id;
        return 0;
    }
    if (!json_is_object (file_id) || json_object_size (file_id) == 0)
        return s_fail (e, "parameter_invalid",
                       "file_id is a file id, or an object of locale (or preset, or "
                       "\"<locale>/<preset>\", or \"default\") -> file id.", "%s.file_id", path);
    const char *key;
    json_t *v;
    json_object_foreach (file_id, key, v) {
        if (!s_file_key_known (req, key))
            return s_fail (e, "parameter_unknown",
                           "This key is not a locale of matrix.locales, a preset of the render, "
                           "\"<locale>/<preset>\" or \"default\".", "%s.file_id.%.60s", path, key);
        if (!json_is_string (v))
            return s_fail (e, "parameter_invalid", "A file id is a string (file_...).",
                           "%s.file_id.%.60s", path, key);
    }
    slide->file_id = file_id;
    return 0;
}

/* The sha256 of file id `id` into out (resolved once per render). */
static int
s_file_sha (s_files_t *f, const char *id, const char *param, char out [65], api_error_t *e)
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

/* The file id of slide s for one image: the most specific key of a map
   ("<locale>/<preset>", locale, preset, "default"). NULL when none fits. */
static const char *
s_file_for (const json_t *file_id, const char *locale, const char *preset)
{
    if (json_is_string (file_id))
        return json_string_value (file_id);
    char both [2 * PROTO_SHORT_MAX + 2];
    snprintf (both, sizeof both, "%s/%s", locale, preset);
    const char *keys [] = { both, locale, preset, "default" };
    for (int k = 0; k < 4; k++) {
        json_t *v = keys [k][0] ? json_object_get (file_id, keys [k]) : NULL;
        if (v)
            return json_string_value (v);
    }
    return NULL;
}

static int
s_parse_screenshot (const json_t *s, int i, const s_req_t *req, s_slide_t *slide, api_error_t *e)
{
    static const char *const keys [] = { "url", "data", "file_id", NULL };
    char path [API_ERROR_PARAM_MAX];
    s_path (path, sizeof path, "slides[%d].screenshot", i);
    if (!json_is_object (s))
        return s_fail (e, "parameter_invalid", "screenshot must be an object.", "%s", path);
    if (s_check_keys (s, keys, path, e))
        return -1;
    json_t *url = s_member (s, "url");
    json_t *data = s_member (s, "data");
    json_t *file_id = s_member (s, "file_id");
    if ((url != NULL) + (data != NULL) + (file_id != NULL) != 1)
        return s_fail (e, "parameter_invalid",
                       "screenshot takes exactly one of url, data or file_id.", "%s", path);
    if (file_id)
        return s_check_file_id (file_id, path, req, slide, e);
    if (data) {
        char dpath [API_ERROR_PARAM_MAX];
        s_path (dpath, sizeof dpath, "%s.data", path);
        if (!json_is_string (data))
            return s_fail (e, "parameter_invalid", "data is a base64 string.", "%s", dpath);
        return s_decode_data (json_string_value (data), json_string_length (data), dpath, slide, e);
    }
    const char *tmpl = json_string_value (url);
    if (!tmpl || json_string_length (url) > EASEL_MAX_URL_BYTES)
        return s_fail (e, "parameter_invalid", S_MSG ("url is an http(s) URL of at most %d bytes.", EASEL_MAX_URL_BYTES),
                       "%s.url", path);
    if (strstr (tmpl, "{locale}") && req->nlocales == 0)
        return s_fail (e, "parameter_invalid", "{locale} in a URL needs matrix.locales.", "%s.url", path);
    if (strstr (tmpl, "{preset}") && req->npresets == 0 && !req->canvas_preset)
        return s_fail (e, "parameter_invalid", "{preset} in a URL needs a canvas or matrix preset.",
                       "%s.url", path);
    slide->url = tmpl;
    return 0;
}

static int
s_parse_slide (const json_t *js, int i, const s_req_t *req, s_slide_t *slide, api_error_t *e)
{
    static const char *const keys [] = { "headline", "subtitle", "screenshot", "device", "layout", NULL };
    char path [API_ERROR_PARAM_MAX];
    s_path (path, sizeof path, "slides[%d]", i);
    slide->layout.padding_pm = slide->head.padding_pm = slide->subst.padding_pm = -1;
    if (!json_is_object (js))
        return s_fail (e, "parameter_invalid", "Each slide is an object.", "%s", path);
    if (s_check_keys (js, keys, path, e))
        return -1;
    json_t *headline = s_member (js, "headline");
    json_t *shot = s_member (js, "screenshot");
    if (!headline && !shot)
        return s_fail (e, "parameter_missing", "A slide needs a headline, a screenshot or both.",
                       "slides[%d].headline", i);
    if (headline && s_parse_text (headline, i, false, req, &slide->lines, &slide->head, e))
        return -1;
    json_t *subtitle = s_member (js, "subtitle");
    if (subtitle && s_parse_text (subtitle, i, true, req, &slide->sub, &slide->subst, e))
        return -1;
    if (shot && s_parse_screenshot (shot, i, req, slide, e))
        return -1;
    json_t *layout = s_member (js, "layout");
    s_path (path, sizeof path, "slides[%d].layout", i);
    if (layout && s_parse_layout (layout, path, &slide->layout, e))
        return -1;
    json_t *device = s_member (js, "device");
    if (device) {
        slide->layout.device = json_string_value (device);
        if (!slide->layout.device || !device_frame_find (slide->layout.device))
            return s_fail (e, "parameter_invalid",
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

/* ---- expansion ----------------------------------------------------------- */

/* The lines of `text` for `locale` (borrowed strings) into out / *n; true
   when the locale had none of its own and "default" was used. */
static bool
s_fill_lines (json_t *text, const char *locale, char **out, int32_t *n)
{
    json_t *arr = text;
    bool fallback = false;
    if (json_is_object (arr)) {
        arr = s_member (text, locale);
        if (!arr) {
            arr = s_member (text, "default");
            fallback = true;
        }
    }
    *n = (int32_t) json_array_size (arr);
    for (int32_t k = 0; k < *n; k++)
        out [k] = (char *) json_string_value (json_array_get (arr, (size_t) k));
    return fallback;
}

/* Length of a locale's language subtag ("pt" of "pt-BR"). */
static size_t
s_language_len (const char *locale)
{
    size_t n = strcspn (locale, "-_");
    return n;
}

/* untranslated_copy: the locale's own lines in `text` are word for word
   those of the first locale given them (the text's origin, in the order of
   the object), and that locale is another language: its name into out (""
   when not). A single word (a brand name) is not flagged. */
static void
s_untranslated (json_t *text, const char *locale, char *out, size_t out_size)
{
    out [0] = '\0';
    json_t *own = json_is_object (text) ? s_member (text, locale) : NULL;
    if (!own || !locale [0])
        return;
    bool words = json_array_size (own) > 1;
    size_t k;
    json_t *line;
    json_array_foreach (own, k, line) {
        const char *t = json_string_value (line);
        words |= t && strchr (t, ' ') != NULL;
    }
    if (!words)
        return;
    const char *origin;
    json_t *arr;
    json_object_foreach (text, origin, arr) {
        if (strcmp (origin, "default") == 0 || !json_equal (arr, own))
            continue;
        size_t lang = s_language_len (locale);
        if (strcmp (origin, locale) != 0
        &&  !(s_language_len (origin) == lang && strncasecmp (origin, locale, lang) == 0))
            snprintf (out, out_size, "%s", origin);
        return;
    }
}

/* Encodes one image into out->tasks[out->ntasks++]. */
static int
s_add_image (const s_req_t *req, int s, const char *locale, const presets_canvas_t *preset,
             proto_create_render_t *out, size_t *spec_bytes, api_error_t *e)
{
    const s_slide_t *slide = &req->slides [s];
    proto_slide_t sl;
    memset (&sl, 0, sizeof sl);
    sl.slide = s;
    snprintf (sl.locale, sizeof sl.locale, "%s", locale);
    snprintf (sl.preset, sizeof sl.preset, "%s", preset ? preset->name : "");
    sl.width = req->width;
    sl.height = req->height;
    if (preset && preset != req->canvas_preset && s_preset_size (preset, req->orient, &sl.width, &sl.height))
        return s_fail (e, "parameter_invalid", "This preset does not take the canvas orientation.",
                       "matrix.presets");
    sl.bg_ncolors = req->bg_ncolors;
    memcpy (sl.bg_colors, req->bg_colors, sizeof sl.bg_colors);
    sl.bg_angle = req->bg_angle;
    sl.bg_image_url = (char *) req->bg_image_url;
    sl.text_color = slide->text_color;
    sl.sub_color = slide->sub_color;
    if (slide->lines)
        sl.text_fallback = s_fill_lines (slide->lines, locale, sl.lines, &sl.nlines);
    if (slide->lines)
        s_untranslated (slide->lines, locale, sl.untranslated_of, sizeof sl.untranslated_of);
    if (slide->sub)
        sl.text_fallback |= s_fill_lines (slide->sub, locale, sl.sub, &sl.nsub);
    snprintf (sl.text_position, sizeof sl.text_position, "%s",
              slide->layout.position ? slide->layout.position : "top");
    sl.padding_pm = slide->layout.padding_pm;
    sl.font_weight = slide->head.weight;
    sl.font_size_max = slide->head.size_max;
    sl.font_size_min = slide->head.size_min;
    snprintf (sl.fit, sizeof sl.fit, "%s", slide->layout.fit ? slide->layout.fit : "contain");
    snprintf (sl.finish, sizeof sl.finish, "%s", slide->layout.finish ? slide->layout.finish : "auto");
    snprintf (sl.store, sizeof sl.store, "%s", preset ? preset->store : req->store ? req->store : "");
    sl.display_stated = preset != NULL;
    char url [EASEL_MAX_URL_BYTES + 1];
    if (slide->url) {
        if (util_template_expand (slide->url, locale, sl.preset, url, sizeof url)
        ||  !render_request_url_ok (url))
            return s_fail (e, "parameter_invalid",
                           S_MSG ("url is an http(s) URL of at most %d bytes (after {locale} and {preset}).", EASEL_MAX_URL_BYTES),
                           "slides[%d].screenshot.url", s);
        sl.shot_url = url;
    }
    /* an inline screenshot travels once, in the message's blobs; the spec names it */
    if (slide->data)
        memcpy (sl.shot_sha256, slide->sha256, sizeof sl.shot_sha256);
    /* an uploaded file is in the blob store already: the spec names it the same way */
    if (slide->file_id) {
        char param [API_ERROR_PARAM_MAX];
        s_path (param, sizeof param, "slides[%d].screenshot.file_id", s);
        const char *fid = s_file_for (slide->file_id, locale, sl.preset);
        if (!fid)
            return s_fail (e, "parameter_missing",
                           "No file_id for this image's locale and preset (or give \"default\").",
                           "%s.%s%s%s", param, locale, locale [0] && sl.preset [0] ? "/" : "", sl.preset);
        if (json_is_object (slide->file_id)) {
            size_t n = strlen (param);
            snprintf (param + n, sizeof param - n, ".%.60s", locale [0] ? locale : sl.preset);
        }
        if (s_file_sha (req->files, fid, param, sl.shot_sha256, e))
            return -1;
    }
    const char *device = slide->device ? slide->device
                       : !preset && req->store && strcmp (req->store, "play") == 0 ? "android_phone"
                       : presets_default_device (preset);
    snprintf (sl.device, sizeof sl.device, "%s", device);
    snprintf (sl.format, sizeof sl.format, "%s", req->format);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_slide_encode (&sl, &sb)) {
        msgpack_sbuffer_destroy (&sb);
        return api_error_set (e, 500, "internal_error", NULL, "slide encoding failed");
    }
    *spec_bytes += sb.size;
    proto_task_spec_t *t = &out->tasks [out->ntasks++];
    t->slide = s;
    memcpy (t->locale, sl.locale, sizeof t->locale);
    memcpy (t->preset, sl.preset, sizeof t->preset);
    t->width = sl.width;
    t->height = sl.height;
    memcpy (t->format, sl.format, sizeof t->format);
    t->spec_len = sb.size;
    t->spec = msgpack_sbuffer_release (&sb);
    if (slide->data || slide->file_id)
        memcpy (t->blob, sl.shot_sha256, sizeof t->blob);
    if (*spec_bytes > SPEC_BYTES_MAX)
        return s_fail (e, "parameter_invalid", "The task specs of this render are too large.",
                       "slides");
    return 0;
}

/* Moves each distinct inline screenshot into out->blobs (the slides keep no
   copy), so the message carries it once however many images use it. */
static int
s_take_blobs (s_req_t *req, proto_create_render_t *out, api_error_t *e)
{
    size_t bytes = 0;
    for (int s = 0; s < req->nslides; s++) {
        s_slide_t *slide = &req->slides [s];
        if (!slide->data)
            continue;
        bool seen = false;
        for (int32_t i = 0; i < out->nblobs && !seen; i++)
            seen = strcmp (out->blobs [i].sha256, slide->sha256) == 0;
        if (seen)
            continue;
        if (!out->blobs) {
            out->blobs = calloc (PROTO_MAX_BLOBS, sizeof *out->blobs);
            if (!out->blobs)
                return api_error_set (e, 500, "internal_error", NULL, "out of memory");
        }
        proto_blob_t *b = &out->blobs [out->nblobs++];
        memcpy (b->sha256, slide->sha256, sizeof b->sha256);
        b->data = slide->data;
        b->len = slide->data_len;
        bytes += b->len;
        slide->data = NULL;
    }
    if (bytes > SPEC_BYTES_MAX)
        return s_fail (e, "parameter_invalid",
                       "The inline screenshots of this render are too large together; use url.",
                       "slides");
    return 0;
}

static int
s_expand (s_req_t *req, int32_t total, proto_create_render_t *out, api_error_t *e)
{
    out->tasks = calloc ((size_t) total, sizeof *out->tasks);
    if (!out->tasks)
        return api_error_set (e, 500, "internal_error", NULL, "out of memory");
    size_t spec_bytes = 0;
    int nloc = req->nlocales ? req->nlocales : 1;
    int npre = req->npresets ? req->npresets : 1;
    for (int s = 0; s < req->nslides; s++)
        for (int l = 0; l < nloc; l++)
            for (int p = 0; p < npre; p++) {
                const char *locale = req->nlocales ? req->locales [l] : "";
                const presets_canvas_t *preset = req->npresets ? req->presets [p] : req->canvas_preset;
                if (s_add_image (req, s, locale, preset, out, &spec_bytes, e))
                    return -1;
            }
    return s_take_blobs (req, out, e);
}

/* ---- entry --------------------------------------------------------------- */

static int
s_parse_top (const json_t *root, s_req_t *req, proto_create_render_t *out, api_error_t *e)
{
    static const char *const keys [] = { "async", "webhook_url", "canvas", "matrix", "background",
                                         "format", "slides", "metadata", "layout", "headline",
                                         "subtitle", "cache", NULL };
    if (!json_is_object (root))
        return api_error_set (e, 400, "invalid_json", NULL, "The request body must be a JSON object.");
    if (s_check_keys (root, keys, "", e))
        return -1;

    json_t *async = s_member (root, "async");
    if (async && !json_is_boolean (async))
        return s_fail (e, "parameter_invalid", "async is a boolean.", "async");
    out->sync = !json_is_true (async);
    /* cache: false draws every image again, even one identical to an earlier image */
    json_t *cache = s_member (root, "cache");
    if (cache && !json_is_boolean (cache))
        return s_fail (e, "parameter_invalid", "cache is a boolean.", "cache");
    out->no_cache = json_is_false (cache);

    json_t *slides = s_member (root, "slides");
    if (!slides)
        return s_fail (e, "parameter_missing", "slides is required.", "slides");
    size_t nslides = json_array_size (slides);
    if (!json_is_array (slides) || nslides < 1 || nslides > EASEL_MAX_SLIDES)
        return s_fail (e, "parameter_invalid", S_MSG ("slides is an array of 1 to %d slides.", EASEL_MAX_SLIDES), "slides");

    json_t *matrix = s_member (root, "matrix");
    if (matrix && s_parse_matrix (matrix, req, e))
        return -1;
    json_t *canvas = s_member (root, "canvas");
    if (canvas && s_parse_canvas (canvas, req, e))
        return -1;
    if (!canvas && req->npresets == 0)
        return s_fail (e, "parameter_missing", "canvas is required (or matrix.presets).", "canvas");

    json_t *background = s_member (root, "background");
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

    json_t *format = s_member (root, "format");
    static const char *const formats [] = { "png", "jpeg", "webp", NULL };
    req->format = "png";
    if (format && s_enum (format, formats, "format", &req->format,
                          "format is \"png\", \"jpeg\" or \"webp\" (stores take png and jpeg).", e))
        return -1;
    if (!req->store)
        req->store = "";
    for (int p = 0; p < req->npresets; p++) {
        int32_t pw, ph;
        if (s_preset_size (req->presets [p], req->orient, &pw, &ph))
            return s_fail (e, "parameter_invalid", "This preset does not take the canvas orientation.",
                           "matrix.presets[%d]", p);
    }
    if (s_parse_defaults (root, req, e))
        return -1;

    json_t *webhook = s_member (root, "webhook_url");
    if (webhook) {
        if (!render_request_url_ok (json_string_value (webhook)))
            return s_fail (e, "parameter_invalid", S_MSG ("webhook_url is an http(s) URL of at most %d bytes.", EASEL_MAX_URL_BYTES),
                           "webhook_url");
        out->webhook_url = strdup (json_string_value (webhook));
    }
    json_t *metadata = s_member (root, "metadata");
    if (metadata && !json_is_object (metadata))
        return s_fail (e, "parameter_invalid", "metadata is an object.", "metadata");
    out->metadata_json = metadata ? json_dumps (metadata, JSON_COMPACT | JSON_SORT_KEYS)
                                  : strdup ("{}");
    if (!out->metadata_json || (webhook && !out->webhook_url))
        return api_error_set (e, 500, "internal_error", NULL, "out of memory");
    if (strlen (out->metadata_json) > EASEL_MAX_METADATA_BYTES)
        return s_fail (e, "parameter_invalid", S_MSG ("metadata is at most %d bytes as compact JSON.", EASEL_MAX_METADATA_BYTES),
                       "metadata");

    for (size_t i = 0; i < nslides; i++) {
        req->nslides = (int) i + 1;    /* so a failed slide's data is freed too */
        if (s_parse_slide (json_array_get (slides, i), (int) i, req, &req->slides [i], e))
            return -1;
    }

    int64_t total = (int64_t) nslides * (req->nlocales ? req->nlocales : 1)
                  * (req->npresets ? req->npresets : 1);
    if (total > EASEL_MAX_IMAGES_PER_RENDER)
        return api_error_set (e, 422, "parameter_invalid", "matrix",
                              "This render has %lld images; a render has at most %d.",
                              (long long) total, EASEL_MAX_IMAGES_PER_RENDER);
    if (out->sync && total > EASEL_SYNC_MAX_IMAGES)
        return api_error_set (e, 422, "use_async", "async",
                              "This render has %lld images; renders of more than %d images must set "
                              "\"async\": true.", (long long) total, EASEL_SYNC_MAX_IMAGES);
    return s_expand (req, (int32_t) total, out, e);
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
    s_req_t *req = calloc (1, sizeof *req);
    s_files_t *files = calloc (1, sizeof *files);
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
