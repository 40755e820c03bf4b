/*  capture_spec.c: the capture task spec as JSON text (see capture_spec.h). */
#include "capture_spec.h"
#include "json_depth.h"
#include "easel_limits.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
capture_spec_encode (const capture_spec_t *self, size_t *len_out)
{
    json_t *headers = json_object ();
    for (int32_t i = 0; headers && i < self->nheaders; i++)
        json_object_set_new (headers, self->header_names [i], json_string (self->header_values [i]));
    json_t *obj = json_pack ("{s:s, s:i, s:i, s:i, s:b, s:b, s:i, s:s, s:s, s:s, s:o*}",
                             "url", self->url ? self->url : "", "width", (int) self->width,
                             "height", (int) self->height, "dpr", (int) self->dpr,
                             "full_page", self->full_page, "networkidle", self->networkidle,
                             "delay_ms", (int) self->delay_ms, "format", self->format,
                             "device", self->device, "background", self->background,
                             "headers", headers);
    if (!obj)
        return NULL;
    char *text = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (obj);
    if (text && len_out)
        *len_out = strlen (text);
    return text;
}

static int
s_copy (json_t *obj, const char *key, char *out, size_t size, char *err)
{
    const char *v = json_string_value (json_object_get (obj, key));
    if (!v || strlen (v) >= size) {
        snprintf (err, 256, "capture spec: bad '%s'", key);
        return -1;
    }
    memcpy (out, v, strlen (v) + 1);
    return 0;
}

static int
s_int (json_t *obj, const char *key, int lo, int hi, int32_t *out, char *err)
{
    json_t *v = json_object_get (obj, key);
    if (!json_is_integer (v) || json_integer_value (v) < lo || json_integer_value (v) > hi) {
        snprintf (err, 256, "capture spec: '%s' is not a whole number in %d..%d", key, lo, hi);
        return -1;
    }
    *out = (int32_t) json_integer_value (v);
    return 0;
}

int
capture_spec_decode (const char *data, size_t len, capture_spec_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    json_error_t je;
    json_t *obj = json_depth_ok (data, len, EASEL_MAX_JSON_DEPTH)
                ? json_loadb (data, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object (obj)) {
        snprintf (err, 256, "capture spec: not a JSON object");
        json_decref (obj);
        return -1;
    }
    const char *url = json_string_value (json_object_get (obj, "url"));
    json_t *headers = json_object_get (obj, "headers");
    int rc = 0;
    if (!url || !*url || strlen (url) > CAPTURE_URL_MAX) {
        snprintf (err, 256, "capture spec: bad 'url'");
        rc = -1;
    }
    else
    if (!(self->url = strdup (url)))
        rc = -1;
    if (rc == 0)
        rc = s_int (obj, "width", CAPTURE_VIEWPORT_MIN, CAPTURE_VIEWPORT_MAX, &self->width, err)
          || s_int (obj, "height", CAPTURE_VIEWPORT_MIN, CAPTURE_VIEWPORT_MAX, &self->height, err)
          || s_int (obj, "dpr", 1, CAPTURE_DPR_MAX, &self->dpr, err)
          || s_int (obj, "delay_ms", 0, CAPTURE_DELAY_MAX_MS, &self->delay_ms, err)
          || s_copy (obj, "format", self->format, sizeof self->format, err)
          || s_copy (obj, "device", self->device, sizeof self->device, err)
          || s_copy (obj, "background", self->background, sizeof self->background, err) ? -1 : 0;
    if (rc == 0) {
        self->full_page = json_is_true (json_object_get (obj, "full_page"));
        self->networkidle = json_is_true (json_object_get (obj, "networkidle"));
        if (headers && (!json_is_object (headers) || json_object_size (headers) > CAPTURE_HEADERS_MAX)) {
            snprintf (err, 256, "capture spec: bad 'headers'");
            rc = -1;
        }
    }
    const char *name;
    json_t *value;
    if (rc == 0 && headers)
        json_object_foreach (headers, name, value) {
            const char *v = json_string_value (value);
            if (!v || strlen (name) + strlen (v) > CAPTURE_HEADER_BYTES_MAX) {
                snprintf (err, 256, "capture spec: bad header");
                rc = -1;
                break;
            }
            self->header_names [self->nheaders] = strdup (name);
            self->header_values [self->nheaders] = strdup (v);
            self->nheaders++;
            if (!self->header_names [self->nheaders - 1] || !self->header_values [self->nheaders - 1]) {
                snprintf (err, 256, "out of memory");
                rc = -1;
                break;
            }
        }
    json_decref (obj);
    if (rc)
        capture_spec_free (self);
    return rc;
}

void
capture_spec_free (capture_spec_t *self)
{
    if (!self)
        return;
    free (self->url);
    for (int32_t i = 0; i < self->nheaders; i++) {
        free (self->header_names [i]);
        free (self->header_values [i]);
    }
    memset (self, 0, sizeof *self);
}

void
capture_spec_host (const char *url, char *out, size_t size)
{
    out [0] = '\0';
    const char *p = url ? strstr (url, "://") : NULL;
    if (!p || size == 0)
        return;
    p += 3;
    const char *at = p + strcspn (p, "/?#");
    const char *cred = memchr (p, '@', (size_t) (at - p));
    if (cred)
        p = cred + 1;
    size_t n = (size_t) (at - p);
    if (n >= size)
        n = size - 1;
    memcpy (out, p, n);
    out [n] = '\0';
}
