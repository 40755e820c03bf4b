/*  capture_spec.c: the capture task spec as JSON text (see capture_spec.h). */
#include "capture_spec.h"
#include "json_depth.h"
#include "easel_limits.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_put_str (json_t *obj, const char *key, const char *v)
{
    if (v)
        json_object_set_new (obj, key, json_string (v));
}

static void
s_put_list (json_t *obj, const char *key, const capture_list_t *list)
{
    if (list->n == 0)
        return;
    json_t *a = json_array ();
    for (int32_t i = 0; a && i < list->n; i++)
        json_array_append_new (a, json_string (list->v [i]));
    json_object_set_new (obj, key, a);
}

/* The page options after the base fields; absent ones are left out. */
static void
s_encode_options (const capture_spec_t *self, json_t *obj)
{
    s_put_str (obj, "selector", self->selector);
    if (self->padding)
        json_object_set_new (obj, "padding", json_integer (self->padding));
    if (self->has_clip)
        json_object_set_new (obj, "clip", json_pack ("{s:i, s:i, s:i, s:i}", "x", (int) self->clip_x,
                             "y", (int) self->clip_y, "width", (int) self->clip_w,
                             "height", (int) self->clip_h));
    if (self->block)
        json_object_set_new (obj, "block", json_integer (self->block));
    s_put_list (obj, "block_urls", &self->block_urls);
    s_put_list (obj, "block_resources", &self->block_resources);
    s_put_list (obj, "hide", &self->hide);
    s_put_list (obj, "remove", &self->remove);
    s_put_list (obj, "click", &self->clicks);
    if (self->click_optional)
        json_object_set_new (obj, "click_optional", json_integer (self->click_optional));
    s_put_str (obj, "css", self->css);
    s_put_str (obj, "js", self->js);
    s_put_str (obj, "wait_for", self->wait_for);
    s_put_str (obj, "wait_for_hidden", self->wait_for_hidden);
    if (self->color_scheme [0])
        s_put_str (obj, "color_scheme", self->color_scheme);
    if (self->reduced_motion)
        json_object_set_new (obj, "reduced_motion", json_true ());
    if (self->media [0])
        s_put_str (obj, "media", self->media);
    if (self->ncookies) {
        json_t *a = json_array ();
        for (int32_t i = 0; a && i < self->ncookies; i++) {
            const capture_cookie_t *c = &self->cookies [i];
            json_t *o = json_pack ("{s:s, s:s, s:b, s:b, s:I}", "name", c->name, "value", c->value,
                                   "secure", c->secure, "http_only", c->http_only,
                                   "expires", (json_int_t) c->expires);
            if (o) {
                s_put_str (o, "domain", c->domain);
                s_put_str (o, "path", c->path);
            }
            json_array_append_new (a, o);
        }
        json_object_set_new (obj, "cookies", a);
    }
    if (self->nstorage) {
        json_t *o = json_object ();
        for (int32_t i = 0; o && i < self->nstorage; i++)
            json_object_set_new (o, self->storage_keys [i], json_string (self->storage_values [i]));
        json_object_set_new (obj, "local_storage", o);
    }
    s_put_str (obj, "user_agent", self->user_agent);
    s_put_str (obj, "locale", self->locale);
    s_put_str (obj, "timezone", self->timezone);
    if (self->has_geo)
        json_object_set_new (obj, "geolocation", json_pack ("{s:f, s:f, s:f}", "latitude", self->latitude,
                             "longitude", self->longitude, "accuracy", self->accuracy));
}

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
    s_encode_options (self, obj);
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

/* An optional string of at most max bytes, copied. */
static int
s_str (json_t *obj, const char *key, size_t max, char **out, char *err)
{
    json_t *v = json_object_get (obj, key);
    if (!v)
        return 0;
    if (!json_is_string (v) || strlen (json_string_value (v)) > max) {
        snprintf (err, 256, "capture spec: bad '%s'", key);
        return -1;
    }
    if (!(*out = strdup (json_string_value (v)))) {
        snprintf (err, 256, "out of memory");
        return -1;
    }
    return 0;
}

static int
s_list (json_t *obj, const char *key, capture_list_t *list, char *err)
{
    json_t *a = json_object_get (obj, key);
    if (!a)
        return 0;
    if (!json_is_array (a) || json_array_size (a) > CAPTURE_LIST_MAX) {
        snprintf (err, 256, "capture spec: bad '%s'", key);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach (a, i, v) {
        const char *text = json_string_value (v);
        if (!text || strlen (text) > CAPTURE_SELECTOR_MAX) {
            snprintf (err, 256, "capture spec: bad '%s'", key);
            return -1;
        }
        if (!(list->v [list->n] = strdup (text))) {
            snprintf (err, 256, "out of memory");
            return -1;
        }
        list->n++;
    }
    return 0;
}

static int
s_num (json_t *obj, const char *key, double lo, double hi, double *out, char *err)
{
    json_t *v = json_object_get (obj, key);
    if (!json_is_number (v) || json_number_value (v) < lo || json_number_value (v) > hi) {
        snprintf (err, 256, "capture spec: bad '%s'", key);
        return -1;
    }
    *out = json_number_value (v);
    return 0;
}

static int
s_decode_cookies (json_t *a, capture_spec_t *self, char *err)
{
    if (!a)
        return 0;
    if (!json_is_array (a) || json_array_size (a) > CAPTURE_COOKIES_MAX) {
        snprintf (err, 256, "capture spec: bad 'cookies'");
        return -1;
    }
    size_t i;
    json_t *o;
    json_array_foreach (a, i, o) {
        capture_cookie_t *c = &self->cookies [self->ncookies++];
        json_t *exp = json_object_get (o, "expires");
        if (!json_is_object (o)
        ||  s_str (o, "name", CAPTURE_COOKIE_BYTES_MAX, &c->name, err)
        ||  s_str (o, "value", CAPTURE_COOKIE_BYTES_MAX, &c->value, err)
        ||  s_str (o, "domain", 255, &c->domain, err) || s_str (o, "path", 1024, &c->path, err)
        ||  !c->name || !c->value || (exp && !json_is_integer (exp))) {
            snprintf (err, 256, "capture spec: bad 'cookies'");
            return -1;
        }
        c->secure = json_is_true (json_object_get (o, "secure"));
        c->http_only = json_is_true (json_object_get (o, "http_only"));
        c->expires = exp ? (int64_t) json_integer_value (exp) : 0;
    }
    return 0;
}

static int
s_decode_options (json_t *obj, capture_spec_t *self, char *err)
{
    json_t *clip = json_object_get (obj, "clip"), *geo = json_object_get (obj, "geolocation");
    json_t *ls = json_object_get (obj, "local_storage");
    json_t *v;
    if (s_str (obj, "selector", CAPTURE_SELECTOR_MAX, &self->selector, err)
    ||  ((v = json_object_get (obj, "padding"))
         && s_int (obj, "padding", 0, CAPTURE_PADDING_MAX, &self->padding, err))
    ||  ((v = json_object_get (obj, "block")) && s_int (obj, "block", 0, 15, (int32_t *) &self->block, err))
    ||  s_list (obj, "block_urls", &self->block_urls, err)
    ||  s_list (obj, "block_resources", &self->block_resources, err)
    ||  s_list (obj, "hide", &self->hide, err) || s_list (obj, "remove", &self->remove, err)
    ||  s_list (obj, "click", &self->clicks, err)
    ||  ((v = json_object_get (obj, "click_optional"))
         && s_int (obj, "click_optional", 0, (1 << CAPTURE_LIST_MAX) - 1, (int32_t *) &self->click_optional, err))
    ||  s_str (obj, "css", CAPTURE_CSS_MAX_BYTES, &self->css, err)
    ||  s_str (obj, "js", CAPTURE_JS_MAX_BYTES, &self->js, err)
    ||  s_str (obj, "wait_for", CAPTURE_SELECTOR_MAX, &self->wait_for, err)
    ||  s_str (obj, "wait_for_hidden", CAPTURE_SELECTOR_MAX, &self->wait_for_hidden, err)
    ||  (json_object_get (obj, "color_scheme")
         && s_copy (obj, "color_scheme", self->color_scheme, sizeof self->color_scheme, err))
    ||  (json_object_get (obj, "media") && s_copy (obj, "media", self->media, sizeof self->media, err))
    ||  s_decode_cookies (json_object_get (obj, "cookies"), self, err)
    ||  s_str (obj, "user_agent", CAPTURE_UA_MAX, &self->user_agent, err)
    ||  s_str (obj, "locale", CAPTURE_LOCALE_MAX, &self->locale, err)
    ||  s_str (obj, "timezone", CAPTURE_TZ_MAX, &self->timezone, err))
        return -1;
    self->reduced_motion = json_is_true (json_object_get (obj, "reduced_motion"));
    if (clip) {
        self->has_clip = true;
        if (s_int (clip, "x", 0, CAPTURE_CLIP_MAX, &self->clip_x, err)
        ||  s_int (clip, "y", 0, CAPTURE_CLIP_MAX, &self->clip_y, err)
        ||  s_int (clip, "width", 1, CAPTURE_CLIP_MAX, &self->clip_w, err)
        ||  s_int (clip, "height", 1, CAPTURE_CLIP_MAX, &self->clip_h, err))
            return -1;
    }
    if (geo) {
        self->has_geo = true;
        if (s_num (geo, "latitude", -90, 90, &self->latitude, err)
        ||  s_num (geo, "longitude", -180, 180, &self->longitude, err)
        ||  s_num (geo, "accuracy", 0, 1e7, &self->accuracy, err))
            return -1;
    }
    if (ls) {
        if (!json_is_object (ls) || json_object_size (ls) > CAPTURE_STORAGE_MAX) {
            snprintf (err, 256, "capture spec: bad 'local_storage'");
            return -1;
        }
        const char *key;
        json_object_foreach (ls, key, v) {
            const char *text = json_string_value (v);
            if (!text || strlen (key) + strlen (text) > CAPTURE_STORAGE_BYTES_MAX) {
                snprintf (err, 256, "capture spec: bad 'local_storage'");
                return -1;
            }
            self->storage_keys [self->nstorage] = strdup (key);
            self->storage_values [self->nstorage] = strdup (text);
            if (!self->storage_keys [self->nstorage++] || !self->storage_values [self->nstorage - 1]) {
                snprintf (err, 256, "out of memory");
                return -1;
            }
        }
    }
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
    if (rc == 0)
        rc = s_decode_options (obj, self, err);
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
    capture_list_t *lists [] = { &self->block_urls, &self->block_resources, &self->hide, &self->remove,
                                 &self->clicks };
    for (size_t l = 0; l < sizeof lists / sizeof lists [0]; l++)
        for (int32_t i = 0; i < lists [l]->n; i++)
            free (lists [l]->v [i]);
    for (int32_t i = 0; i < self->ncookies; i++) {
        capture_cookie_t *c = &self->cookies [i];
        free (c->name), free (c->value), free (c->domain), free (c->path);
    }
    for (int32_t i = 0; i < self->nstorage; i++) {
        free (self->storage_keys [i]);
        free (self->storage_values [i]);
    }
    free (self->selector), free (self->css), free (self->js), free (self->wait_for);
    free (self->wait_for_hidden), free (self->user_agent), free (self->locale), free (self->timezone);
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
