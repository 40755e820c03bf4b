/*  capture_request.c: POST /v1/capture validation (see capture_request.h). */
#include "capture_request.h"
#include "capture_spec.h"
#include "device_table.h"
#include "presets.h"
#include "web_url.h"
#include "easel_limits.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_devices [] = {
    "browser-macos", "iphone", "ipad", "android_phone", "android_tablet", "mac", "none"
};

static const char *s_keys [] = {
    "url", "async", "webhook_url", "device", "background_preset", "viewport",
    "device_scale_factor", "full_page", "wait_until", "delay_ms", "headers", "format"
};

static bool
s_in (const char *v, const char **list, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp (v, list [i]) == 0)
            return true;
    return false;
}

/* A whole number in lo..hi at key (absent: dflt). 0 / -1 with err. */
static int
s_int (json_t *obj, const char *key, const char *param, int lo, int hi, int dflt, int32_t *out,
       api_error_t *err)
{
    json_t *v = json_object_get (obj, key);
    *out = dflt;
    if (!v)
        return 0;
    double d = json_number_value (v);
    if (!json_is_number (v) || d != (double) (long long) d || d < lo || d > hi)
        return api_error_set (err, 422, "parameter_invalid", param,
                              "%s must be a whole number from %d to %d.", param, lo, hi);
    *out = (int32_t) d;
    return 0;
}

static int
s_bool (json_t *obj, const char *key, bool *out, api_error_t *err)
{
    json_t *v = json_object_get (obj, key);
    *out = false;
    if (!v)
        return 0;
    if (!json_is_boolean (v))
        return api_error_set (err, 422, "parameter_invalid", key, "%s must be true or false.", key);
    *out = json_is_true (v);
    return 0;
}

/* A string from the list at key (absent: dflt). */
static int
s_choice (json_t *obj, const char *key, const char **list, size_t n, const char *dflt,
          const char **out, api_error_t *err)
{
    json_t *v = json_object_get (obj, key);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_string (v) || !s_in (json_string_value (v), list, n)) {
        char allowed [256] = "";
        for (size_t i = 0; i < n; i++) {
            size_t used = strlen (allowed);
            snprintf (allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "", list [i]);
        }
        return api_error_set (err, 422, "parameter_invalid", key, "%s must be one of: %s.", key, allowed);
    }
    *out = json_string_value (v);
    return 0;
}

static bool
s_token (const char *name)
{
    if (!*name || strlen (name) > 256)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || strchr ("!#$%&'*+-.^_`|~", *p)))
            return false;
    return true;
}

static int
s_headers (json_t *obj, capture_spec_t *spec, api_error_t *err)
{
    json_t *h = json_object_get (obj, "headers");
    if (!h)
        return 0;
    if (!json_is_object (h))
        return api_error_set (err, 422, "parameter_invalid", "headers",
                              "headers must be an object of header names to string values.");
    if (json_object_size (h) > CAPTURE_HEADERS_MAX)
        return api_error_set (err, 422, "parameter_invalid", "headers",
                              "headers has more than %d entries.", CAPTURE_HEADERS_MAX);
    const char *name;
    json_t *value;
    json_object_foreach (h, name, value) {
        char param [API_ERROR_PARAM_MAX];
        snprintf (param, sizeof param, "headers.%.100s", name);
        const char *v = json_string_value (value);
        if (!s_token (name))
            return api_error_set (err, 422, "parameter_invalid", param,
                                  "%s is not a valid header name.", param);
        if (!v || strpbrk (v, "\r\n") || strlen (name) + strlen (v) > CAPTURE_HEADER_BYTES_MAX)
            return api_error_set (err, 422, "parameter_invalid", param,
                                  "%s must be a string of at most %d bytes without line breaks.",
                                  param, CAPTURE_HEADER_BYTES_MAX);
        spec->header_names [spec->nheaders] = (char *) name;     /* borrowed from the JSON */
        spec->header_values [spec->nheaders++] = (char *) v;
    }
    return 0;
}

static int
s_parse (json_t *obj, proto_create_render_t *out, api_error_t *err)
{
    if (!json_is_object (obj))
        return api_error_set (err, 422, "parameter_invalid", NULL, "The body must be a JSON object.");
    const char *key;
    json_t *value;
    json_object_foreach (obj, key, value)
        if (!s_in (key, s_keys, sizeof s_keys / sizeof s_keys [0]))
            return api_error_set (err, 422, "parameter_unknown", key, "Unknown parameter: %.100s.", key);
    capture_spec_t spec;
    memset (&spec, 0, sizeof spec);
    json_t *url = json_object_get (obj, "url");
    if (!url)
        return api_error_set (err, 422, "parameter_missing", "url", "url is required.");
    if (!json_is_string (url))
        return api_error_set (err, 422, "parameter_invalid", "url",
                              "url must be an absolute http or https URL of at most %d bytes.",
                              CAPTURE_URL_MAX);
    /* parsed once, by rules every parser agrees with; the browser gets the canonical form */
    web_url_t page;
    char why [WEB_URL_ERR_MAX];
    if (web_url_parse (json_string_value (url), &page, why) != 0)
        return api_error_set (err, 422, "parameter_invalid", "url", "url %s.", why);
    spec.url = page.canonical;
    json_t *hook = json_object_get (obj, "webhook_url");
    if (hook && !json_is_null (hook)
    &&  (!json_is_string (hook) || !render_request_url_ok (json_string_value (hook))))
        return api_error_set (err, 422, "parameter_invalid", "webhook_url",
                              "webhook_url must be an absolute http or https URL of at most 2048 bytes.");
    bool async = false;
    json_t *vp = json_object_get (obj, "viewport");
    static const char *waits [] = { "load", "networkidle" };
    static const char *formats [] = { "png", "jpeg", "webp" };
    const char *device, *wait, *format, *bg = "midnight";
    if (vp && !json_is_object (vp))
        return api_error_set (err, 422, "parameter_invalid", "viewport",
                              "viewport must be an object {\"width\": W, \"height\": H}.");
    if (vp) {
        json_object_foreach (vp, key, value)
            if (strcmp (key, "width") != 0 && strcmp (key, "height") != 0)
                return api_error_set (err, 422, "parameter_unknown", "viewport",
                                      "Unknown parameter: viewport.%.100s.", key);
    }
    if (s_choice (obj, "device", s_devices, sizeof s_devices / sizeof s_devices [0], "browser-macos",
                  &device, err))
        return -1;
    /* the default viewport and scale are the device's (device_frame.c):
       phones and tablets would otherwise show a desktop page letterboxed,
       at a third of their pixels */
    const device_frame_t *frame = device_frame_find (device);
    int dw = frame && frame->css_w ? frame->css_w : CAPTURE_VIEWPORT_W_DEFAULT;
    int dh = frame && frame->css_h ? frame->css_h : CAPTURE_VIEWPORT_H_DEFAULT;
    int ddpr = frame && frame->scale >= 1 && frame->scale <= CAPTURE_DPR_MAX ? frame->scale : 1;
    if (s_bool (obj, "async", &async, err) || s_bool (obj, "full_page", &spec.full_page, err)
    ||  s_int (vp, "width", "viewport.width", CAPTURE_VIEWPORT_MIN, CAPTURE_VIEWPORT_MAX,
               dw, &spec.width, err)
    ||  s_int (vp, "height", "viewport.height", CAPTURE_VIEWPORT_MIN, CAPTURE_VIEWPORT_MAX,
               dh, &spec.height, err)
    ||  s_int (obj, "device_scale_factor", "device_scale_factor", 1, CAPTURE_DPR_MAX, ddpr, &spec.dpr, err)
    ||  s_int (obj, "delay_ms", "delay_ms", 0, CAPTURE_DELAY_MAX_MS, 0, &spec.delay_ms, err)
    ||  s_choice (obj, "wait_until", waits, 2, "load", &wait, err)
    ||  s_choice (obj, "format", formats, 3, "png", &format, err)
    ||  s_headers (obj, &spec, err))
        return -1;
    /* a default scale gives way to a large viewport; a stated one is refused */
    while (!json_object_get (obj, "device_scale_factor") && spec.dpr > 1
       &&  (int64_t) spec.width * spec.height * spec.dpr * spec.dpr > EASEL_MAX_SOURCE_PIXELS)
        spec.dpr--;
    if ((int64_t) spec.width * spec.height * spec.dpr * spec.dpr > EASEL_MAX_SOURCE_PIXELS)
        return api_error_set (err, 422, "parameter_invalid", "device_scale_factor",
                              "viewport x device_scale_factor is %lld pixels, over the %d limit;"
                              " use a smaller viewport or factor.",
                              (long long) spec.width * spec.height * spec.dpr * spec.dpr,
                              EASEL_MAX_SOURCE_PIXELS);
    json_t *bgv = json_object_get (obj, "background_preset");
    if (bgv) {
        if (!json_is_string (bgv) || !presets_background_find (json_string_value (bgv)))
            return api_error_set (err, 422, "parameter_invalid", "background_preset",
                                  "background_preset must name a background preset (see GET /v1/presets).");
        bg = json_string_value (bgv);
    }
    spec.networkidle = strcmp (wait, "networkidle") == 0;
    snprintf (spec.format, sizeof spec.format, "%s", format);
    snprintf (spec.device, sizeof spec.device, "%s", device);
    snprintf (spec.background, sizeof spec.background, "%s", bg);

    out->tasks = calloc (1, sizeof *out->tasks);
    out->metadata_json = strdup ("{}");
    if (hook && json_is_string (hook))
        out->webhook_url = strdup (json_string_value (hook));
    size_t spec_len = 0;
    char *text = capture_spec_encode (&spec, &spec_len);
    if (!out->tasks || !out->metadata_json || !text || (hook && json_is_string (hook) && !out->webhook_url)) {
        free (text);
        return api_error_set (err, 500, "internal_error", NULL, "Out of memory.");
    }
    out->ntasks = 1;
    out->sync = !async;
    proto_task_spec_t *t = &out->tasks [0];
    t->width = spec.width;
    t->height = spec.height;
    snprintf (t->format, sizeof t->format, "%s", format);
    t->spec = text;
    t->spec_len = spec_len;
    return 0;
}

int
capture_request_parse (const char *body, size_t len, proto_create_render_t *out, api_error_t *err)
{
    memset (out, 0, sizeof *out);
    if (api_json_depth_check (body, len, err))
        return -1;
    json_error_t je;
    json_t *obj = json_loadb (body, len, JSON_REJECT_DUPLICATES, &je);
    if (!obj)
        return api_error_set (err, 400, "invalid_json", NULL,
                              "The body is not valid JSON: %.120s (line %d, column %d).",
                              je.text, je.line, je.column);
    int rc = s_parse (obj, out, err);
    json_decref (obj);
    if (rc)
        proto_create_render_free (out);
    if (rc)
        memset (out, 0, sizeof *out);
    return rc;
}
