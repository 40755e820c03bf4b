/*  capture_request.c: POST /v1/capture validation (see capture_request.h).
    Over 800 lines on purpose: it is the one validator of a capture's
    options, shared by POST /v1/capture, a pdf capture and a render slide's
    screenshot.capture, and its typed field readers (s_int, s_number,
    s_choice, s_known ...) serve all three; split it by option group (page,
    pdf, identity) when the next group arrives. */
#include "capture_request.h"
#include "capture_spec.h"
#include "device_table.h"
#include "util.h"
#include "presets.h"
#include "web_url.h"
#include "easel_limits.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *s_devices [] = {
    "browser-macos", "iphone", "ipad", "android_phone", "android_tablet", "mac", "none"
};

static const char *s_keys [] = {
    "url", "async", "webhook_url", "device", "background_preset", "viewport",
    "device_scale_factor", "full_page", "wait_until", "delay_ms", "headers", "format",
    "selector", "padding", "clip", "block", "block_urls", "block_resources", "hide", "remove",
    "click", "css", "js", "wait_for", "wait_for_hidden", "color_scheme", "reduced_motion", "media",
    "cookies", "local_storage", "user_agent", "locale", "timezone", "geolocation", "pdf"
};

/* pdf.page_size names: the paper in inches, portrait */
static const struct { const char *name; double w, h; } s_papers [] = {
    { "Letter", 8.5, 11 }, { "Legal", 8.5, 14 }, { "Tabloid", 11, 17 },
    { "A3", 297 / 25.4, 420 / 25.4 }, { "A4", 210 / 25.4, 297 / 25.4 }, { "A5", 148 / 25.4, 210 / 25.4 },
};
#define S_PAPER_DEFAULT 0          /* Letter, as Chromium's own default */

/* Options a printed page has no use for: each refused with pdf, by name. */
static const char *s_not_pdf [] = {
    "full_page", "selector", "padding", "clip", "background_preset", "device_scale_factor"
};

static const char *s_blocks [] = { "ads", "trackers", "cookie_banners", "chat_widgets" };
static const char *s_resources [] = {
    "Document", "Stylesheet", "Image", "Media", "Font", "Script", "XHR", "Fetch", "WebSocket",
    "Manifest", "Other"
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

/* true or false at key (absent: false), named param in an error. */
static int
s_flag (json_t *obj, const char *key, const char *param, bool *out, api_error_t *err)
{
    json_t *v = json_object_get (obj, key);
    *out = false;
    if (!v)
        return 0;
    if (!json_is_boolean (v))
        return api_error_set (err, 422, "parameter_invalid", param, "%s must be true or false.", param);
    *out = json_is_true (v);
    return 0;
}

static int
s_bool (json_t *obj, const char *key, bool *out, api_error_t *err)
{
    return s_flag (obj, key, key, out, err);
}

/* A number in lo..hi at key (absent: *out unchanged). 0 / -1 with err. */
static int
s_number (json_t *obj, const char *key, const char *param, double lo, double hi, double *out,
          api_error_t *err)
{
    json_t *v = json_object_get (obj, key);
    if (!v)
        return 0;
    double d = json_number_value (v);
    if (!json_is_number (v) || !isfinite (d) || d < lo || d > hi)
        return api_error_set (err, 422, "parameter_invalid", param,
                              "%s must be a number from %g to %g.", param, lo, hi);
    *out = d;
    return 0;
}

/* Refuses a key of obj outside keys: 422 parameter_unknown "<prefix>.<key>". */
static int
s_known (json_t *obj, const char *prefix, const char **keys, size_t n, api_error_t *err)
{
    const char *key;
    json_t *v;
    json_object_foreach (obj, key, v)
        if (!s_in (key, keys, n)) {
            char param [API_ERROR_PARAM_MAX];
            snprintf (param, sizeof param, "%s.%.60s", prefix, key);
            return api_error_set (err, 422, "parameter_unknown", param, "Unknown parameter: %s.", param);
        }
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

/* An optional string of 1..max bytes without control characters; borrowed. */
static int
s_text (json_t *obj, const char *key, size_t max, char **out, api_error_t *err)
{
    json_t *v = json_object_get (obj, key);
    if (!v)
        return 0;
    const char *t = json_string_value (v);
    bool ok = t && *t && strlen (t) <= max;
    for (const char *p = t; ok && *p; p++)
        ok = (unsigned char) *p >= 0x20 || *p == '\n' || *p == '\t';
    if (!ok)
        return api_error_set (err, 422, "parameter_invalid", key,
                              "%s must be a non-empty string of at most %zu bytes.", key, max);
    *out = (char *) t;
    return 0;
}

/* An optional array of at most CAPTURE_LIST_MAX strings (CAPTURE_SELECTOR_MAX
   bytes each; from `allowed` when given), borrowed into list. */
static int
s_strings (json_t *obj, const char *key, const char **allowed, size_t nallowed, capture_list_t *list,
           api_error_t *err)
{
    json_t *a = json_object_get (obj, key);
    if (!a)
        return 0;
    if (!json_is_array (a) || json_array_size (a) > CAPTURE_LIST_MAX)
        return api_error_set (err, 422, "parameter_invalid", key,
                              "%s must be an array of at most %d strings.", key, CAPTURE_LIST_MAX);
    size_t i;
    json_t *v;
    json_array_foreach (a, i, v) {
        const char *t = json_string_value (v);
        if (!t || !*t || strlen (t) > CAPTURE_SELECTOR_MAX || strpbrk (t, "\r\n")
        ||  (allowed && !s_in (t, allowed, nallowed))) {
            char param [API_ERROR_PARAM_MAX];
            snprintf (param, sizeof param, "%s[%zu]", key, i);
            return api_error_set (err, 422, "parameter_invalid", param, "%s is not %s.", param,
                                  allowed ? "one of the allowed names" : "a string of 1..512 bytes");
        }
        list->v [list->n++] = (char *) t;
    }
    return 0;
}

/* domain is the page's host or a parent of it with at least one dot that
   is not a public suffix (an IP host: only itself), so a cookie never goes
   to a third party: not to every site under "co.uk" or "github.io". */
bool
capture_request_cookie_domain_ok (const char *domain, const web_url_t *page)
{
    if (*domain == '.')
        domain++;
    size_t dl = strlen (domain), hl = strlen (page->host);
    if (strcasecmp (domain, page->host) == 0)
        return true;
    if (page->host_is_ip || dl >= hl || !strchr (domain, '.'))
        return false;
    return page->host [hl - dl - 1] == '.' && strcasecmp (page->host + hl - dl, domain) == 0
        && !web_url_public_suffix (domain);
}

static int
s_cookies (json_t *obj, const web_url_t *page, capture_spec_t *spec, api_error_t *err)
{
    json_t *a = json_object_get (obj, "cookies");
    if (!a)
        return 0;
    if (!json_is_array (a) || json_array_size (a) > CAPTURE_COOKIES_MAX)
        return api_error_set (err, 422, "parameter_invalid", "cookies",
                              "cookies must be an array of at most %d cookie objects.", CAPTURE_COOKIES_MAX);
    static const char *keys [] = { "name", "value", "domain", "path", "secure", "http_only", "expires" };
    size_t i;
    json_t *c;
    json_array_foreach (a, i, c) {
        char param [API_ERROR_PARAM_MAX];
        snprintf (param, sizeof param, "cookies[%zu]", i);
        if (!json_is_object (c))
            return api_error_set (err, 422, "parameter_invalid", param, "%s must be an object.", param);
        const char *key;
        json_t *v;
        json_object_foreach (c, key, v)
            if (!s_in (key, keys, sizeof keys / sizeof keys [0])) {
                snprintf (param, sizeof param, "cookies[%zu].%.60s", i, key);
                return api_error_set (err, 422, "parameter_unknown", param, "Unknown parameter: %s.", param);
            }
        capture_cookie_t *ck = &spec->cookies [spec->ncookies++];
        const char *name = json_string_value (json_object_get (c, "name"));
        const char *value = json_string_value (json_object_get (c, "value"));
        const char *domain = json_string_value (json_object_get (c, "domain"));
        const char *path = json_string_value (json_object_get (c, "path"));
        json_t *exp = json_object_get (c, "expires");
        snprintf (param, sizeof param, "cookies[%zu].name", i);
        if (!name || !s_token (name))
            return api_error_set (err, 422, "parameter_invalid", param, "%s must be a cookie name token.", param);
        snprintf (param, sizeof param, "cookies[%zu].value", i);
        if (!value || strpbrk (value, ";\r\n") || strlen (name) + strlen (value) > CAPTURE_COOKIE_BYTES_MAX)
            return api_error_set (err, 422, "parameter_invalid", param,
                                  "%s must be a string without ';' or line breaks, name + value at most %d bytes.",
                                  param, CAPTURE_COOKIE_BYTES_MAX);
        snprintf (param, sizeof param, "cookies[%zu].domain", i);
        if (json_object_get (c, "domain") && (!domain || strlen (domain) > 253 || !capture_request_cookie_domain_ok (domain, page)))
            return api_error_set (err, 422, "parameter_invalid", param,
                                  "%s must be the page's host (%s) or a parent domain of it that is not a public suffix.",
                                  param, page->host);
        snprintf (param, sizeof param, "cookies[%zu].path", i);
        if (json_object_get (c, "path") && (!path || path [0] != '/' || strlen (path) > 1024 || strpbrk (path, ";\r\n")))
            return api_error_set (err, 422, "parameter_invalid", param, "%s must start with '/'.", param);
        snprintf (param, sizeof param, "cookies[%zu].expires", i);
        if (exp && (!json_is_integer (exp) || json_integer_value (exp) < 0))
            return api_error_set (err, 422, "parameter_invalid", param,
                                  "%s must be a unix time in seconds.", param);
        static const char *flags [] = { "secure", "http_only" };
        for (int f = 0; f < 2; f++) {
            json_t *b = json_object_get (c, flags [f]);
            snprintf (param, sizeof param, "cookies[%zu].%s", i, flags [f]);
            if (b && !json_is_boolean (b))
                return api_error_set (err, 422, "parameter_invalid", param, "%s must be true or false.", param);
        }
        ck->name = (char *) name, ck->value = (char *) value;
        ck->domain = (char *) domain, ck->path = (char *) path;
        ck->secure = json_is_true (json_object_get (c, "secure"));
        ck->http_only = json_is_true (json_object_get (c, "http_only"));
        ck->expires = exp ? (int64_t) json_integer_value (exp) : 0;
    }
    return 0;
}

/* A zone name of /usr/share/zoneinfo: letters, digits, '_', '-', '+' and '/'
   between parts, no "..". */
static bool
s_timezone_ok (const char *tz)
{
    if (!*tz || *tz == '/' || strstr (tz, "..") || strlen (tz) > CAPTURE_TZ_MAX)
        return false;
    for (const char *p = tz; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || strchr ("_-+/", *p)))
            return false;
    char path [128];
    snprintf (path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    struct stat st;
    return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

/* en, en-US, zh-Hant-TW: 2-3 letters, then alphanumeric subtags of 2..8. */
static bool
s_locale_ok (const char *l)
{
    size_t n = strspn (l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n < 2 || n > 3)
        return false;
    for (const char *p = l + n; *p; ) {
        if (*p != '-' && *p != '_')
            return false;
        size_t k = strspn (p + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        if (k < 2 || k > 8)
            return false;
        p += 1 + k;
    }
    return true;
}

bool
capture_request_option_applies (const char *key, bool pdf)
{
    if (!pdf)
        return strcmp (key, "pdf") != 0;
    return strcmp (key, "device") != 0 && !s_in (key, s_not_pdf, sizeof s_not_pdf / sizeof s_not_pdf [0]);
}

/* "1-3, 5, 8-8": entries N or N-M (1 <= N <= M <= CAPTURE_PDF_PAGE_MAX)
   separated by commas, spaces allowed around each. */
static bool
s_page_ranges_ok (const char *r)
{
    const char *p = r;
    for (;;) {
        long lo = 0, hi;
        p += strspn (p, " ");
        size_t n = strspn (p, "0123456789");
        if (n == 0 || n > 6)
            return false;
        for (size_t i = 0; i < n; i++)
            lo = lo * 10 + (p [i] - '0');
        p += n;
        hi = lo;
        p += strspn (p, " ");
        if (*p == '-') {
            p += 1 + strspn (p + 1, " ");
            n = strspn (p, "0123456789");
            if (n == 0 || n > 6)
                return false;
            hi = 0;
            for (size_t i = 0; i < n; i++)
                hi = hi * 10 + (p [i] - '0');
            p += n;
            p += strspn (p, " ");
        }
        if (lo < 1 || hi < lo || hi > CAPTURE_PDF_PAGE_MAX)
            return false;
        if (*p == '\0')
            return true;
        if (*p++ != ',')
            return false;
    }
}

/* The pdf object of a format "pdf" capture into spec->pdf (defaults:
   Letter, portrait, 0.4 in margins, scale 1, no backgrounds, every page);
   pdf without format pdf is refused. 0 / -1 with err naming the field. */
static int
s_pdf (json_t *obj, bool is_pdf, capture_spec_t *spec, api_error_t *err)
{
    json_t *pdf = json_object_get (obj, "pdf");
    if (pdf && !is_pdf)
        return api_error_set (err, 422, "parameter_invalid", "pdf", "pdf needs format \"pdf\".");
    if (!is_pdf)
        return 0;
    capture_pdf_t *o = &spec->pdf;
    o->width_in = s_papers [S_PAPER_DEFAULT].w, o->height_in = s_papers [S_PAPER_DEFAULT].h;
    o->margin_top_in = o->margin_right_in = o->margin_bottom_in = o->margin_left_in
        = CAPTURE_PDF_MARGIN_DEFAULT_IN;
    o->scale_pct = 100;
    if (!pdf)
        return 0;
    static const char *keys [] = { "page_size", "landscape", "margin", "print_background", "scale",
                                   "page_ranges" };
    if (!json_is_object (pdf))
        return api_error_set (err, 422, "parameter_invalid", "pdf",
                              "pdf must be an object (page_size, landscape, margin, print_background, scale,"
                              " page_ranges).");
    if (s_known (pdf, "pdf", keys, sizeof keys / sizeof keys [0], err))
        return -1;
    json_t *size = json_object_get (pdf, "page_size");
    if (json_is_string (size)) {
        size_t i, n = sizeof s_papers / sizeof s_papers [0];
        for (i = 0; i < n && strcasecmp (json_string_value (size), s_papers [i].name) != 0; i++)
            ;
        if (i == n)
            return api_error_set (err, 422, "parameter_invalid", "pdf.page_size",
                                  "pdf.page_size must be one of Letter, Legal, Tabloid, A3, A4, A5,"
                                  " or {\"width\", \"height\"} in inches.");
        o->width_in = s_papers [i].w, o->height_in = s_papers [i].h;
    }
    else
    if (size) {
        static const char *sides [] = { "width", "height" };
        if (!json_is_object (size))
            return api_error_set (err, 422, "parameter_invalid", "pdf.page_size",
                                  "pdf.page_size must be a paper name or {\"width\", \"height\"} in inches.");
        if (s_known (size, "pdf.page_size", sides, 2, err))
            return -1;
        if (!json_object_get (size, "width") || !json_object_get (size, "height"))
            return api_error_set (err, 422, "parameter_missing", "pdf.page_size",
                                  "pdf.page_size needs width and height (inches).");
        if (s_number (size, "width", "pdf.page_size.width", CAPTURE_PDF_PAPER_MIN_IN,
                      CAPTURE_PDF_PAPER_MAX_IN, &o->width_in, err)
        ||  s_number (size, "height", "pdf.page_size.height", CAPTURE_PDF_PAPER_MIN_IN,
                      CAPTURE_PDF_PAPER_MAX_IN, &o->height_in, err))
            return -1;
    }
    double scale = 1;
    if (s_flag (pdf, "landscape", "pdf.landscape", &o->landscape, err)
    ||  s_flag (pdf, "print_background", "pdf.print_background", &o->print_background, err)
    ||  s_number (pdf, "scale", "pdf.scale", CAPTURE_PDF_SCALE_MIN_PCT / 100.0,
                  CAPTURE_PDF_SCALE_MAX_PCT / 100.0, &scale, err))
        return -1;
    o->scale_pct = (int32_t) lround (scale * 100);
    json_t *margin = json_object_get (pdf, "margin");
    if (margin) {
        static const char *edges [] = { "top", "right", "bottom", "left" };
        static const char *params [] = { "pdf.margin.top", "pdf.margin.right", "pdf.margin.bottom",
                                         "pdf.margin.left" };
        double *outs [] = { &o->margin_top_in, &o->margin_right_in, &o->margin_bottom_in, &o->margin_left_in };
        if (!json_is_object (margin))
            return api_error_set (err, 422, "parameter_invalid", "pdf.margin",
                                  "pdf.margin must be {\"top\", \"right\", \"bottom\", \"left\"} in inches.");
        if (s_known (margin, "pdf.margin", edges, 4, err))
            return -1;
        for (int k = 0; k < 4; k++)
            if (s_number (margin, edges [k], params [k], 0, CAPTURE_PDF_MARGIN_MAX_IN, outs [k], err))
                return -1;
    }
    double pw = o->landscape ? o->height_in : o->width_in, ph = o->landscape ? o->width_in : o->height_in;
    if (pw - o->margin_left_in - o->margin_right_in < CAPTURE_PDF_CONTENT_MIN_IN
    ||  ph - o->margin_top_in - o->margin_bottom_in < CAPTURE_PDF_CONTENT_MIN_IN)
        return api_error_set (err, 422, "parameter_invalid", "pdf.margin",
                              "pdf.margin leaves less than %d inch of the %.2fx%.2f in page for the content.",
                              CAPTURE_PDF_CONTENT_MIN_IN, pw, ph);
    json_t *ranges = json_object_get (pdf, "page_ranges");
    if (ranges) {
        const char *r = json_string_value (ranges);
        if (!r || strlen (r) > CAPTURE_PDF_RANGES_MAX || !s_page_ranges_ok (r))
            return api_error_set (err, 422, "parameter_invalid", "pdf.page_ranges",
                                  "pdf.page_ranges must be pages and ranges such as \"1-3, 5\""
                                  " (1..%d, at most %d bytes).", CAPTURE_PDF_PAGE_MAX, CAPTURE_PDF_RANGES_MAX);
        o->page_ranges = (char *) r;     /* borrowed from the JSON */
    }
    return 0;
}

/* selector, clip, block, hide ... geolocation (docs/api.md). */
static int
s_options (json_t *obj, const web_url_t *page, capture_spec_t *spec, api_error_t *err)
{
    json_t *clip = json_object_get (obj, "clip"), *geo = json_object_get (obj, "geolocation");
    json_t *ls = json_object_get (obj, "local_storage");
    capture_list_t blocks = { 0 }, clicks = { 0 };
    static const char *schemes [] = { "light", "dark" }, *medias [] = { "screen", "print" };
    const char *scheme = NULL, *media = NULL;
    if (s_text (obj, "selector", CAPTURE_SELECTOR_MAX, &spec->selector, err)
    ||  s_int (obj, "padding", "padding", 0, CAPTURE_PADDING_MAX, 0, &spec->padding, err)
    ||  s_strings (obj, "block", s_blocks, 4, &blocks, err)
    ||  s_strings (obj, "block_urls", NULL, 0, &spec->block_urls, err)
    ||  s_strings (obj, "block_resources", s_resources, sizeof s_resources / sizeof s_resources [0],
                   &spec->block_resources, err)
    ||  s_strings (obj, "hide", NULL, 0, &spec->hide, err)
    ||  s_strings (obj, "remove", NULL, 0, &spec->remove, err)
    ||  s_text (obj, "css", CAPTURE_CSS_MAX_BYTES, &spec->css, err)
    ||  s_text (obj, "js", CAPTURE_JS_MAX_BYTES, &spec->js, err)
    ||  s_text (obj, "wait_for", CAPTURE_SELECTOR_MAX, &spec->wait_for, err)
    ||  s_text (obj, "wait_for_hidden", CAPTURE_SELECTOR_MAX, &spec->wait_for_hidden, err)
    ||  s_choice (obj, "color_scheme", schemes, 2, NULL, &scheme, err)
    ||  s_bool (obj, "reduced_motion", &spec->reduced_motion, err)
    ||  s_choice (obj, "media", medias, 2, NULL, &media, err)
    ||  s_cookies (obj, page, spec, err)
    ||  s_text (obj, "user_agent", CAPTURE_UA_MAX, &spec->user_agent, err)
    ||  s_text (obj, "locale", CAPTURE_LOCALE_MAX, &spec->locale, err)
    ||  s_text (obj, "timezone", CAPTURE_TZ_MAX, &spec->timezone, err))
        return -1;
    if (json_object_get (obj, "padding") && !spec->selector)
        return api_error_set (err, 422, "parameter_invalid", "padding", "padding needs a selector.");
    for (int32_t i = 0; i < blocks.n; i++)
        for (uint32_t b = 0; b < 4; b++)
            if (strcmp (blocks.v [i], s_blocks [b]) == 0)
                spec->block |= 1u << b;
    if (scheme)
        snprintf (spec->color_scheme, sizeof spec->color_scheme, "%s", scheme);
    if (media)
        snprintf (spec->media, sizeof spec->media, "%s", media);
    if (spec->locale && !s_locale_ok (spec->locale))
        return api_error_set (err, 422, "parameter_invalid", "locale",
                              "locale must be a BCP 47 language tag such as en-US.");
    if (spec->timezone && !s_timezone_ok (spec->timezone))
        return api_error_set (err, 422, "parameter_invalid", "timezone",
                              "timezone must be an IANA time zone name such as Europe/Paris.");
    if (spec->user_agent && strpbrk (spec->user_agent, "\r\n\t"))
        return api_error_set (err, 422, "parameter_invalid", "user_agent", "user_agent has a line break.");
    if (clip) {
        if (spec->selector)
            return api_error_set (err, 422, "parameter_invalid", "clip", "clip and selector exclude each other.");
        if (!json_is_object (clip))
            return api_error_set (err, 422, "parameter_invalid", "clip",
                                  "clip must be an object {\"x\", \"y\", \"width\", \"height\"}.");
        const char *key;
        json_t *v;
        json_object_foreach (clip, key, v)
            if (strcmp (key, "x") && strcmp (key, "y") && strcmp (key, "width") && strcmp (key, "height"))
                return api_error_set (err, 422, "parameter_unknown", "clip", "Unknown parameter: clip.%.60s.", key);
        if (!json_object_get (clip, "width") || !json_object_get (clip, "height"))
            return api_error_set (err, 422, "parameter_missing", "clip", "clip needs width and height.");
        spec->has_clip = true;
        if (s_int (clip, "x", "clip.x", 0, CAPTURE_CLIP_MAX, 0, &spec->clip_x, err)
        ||  s_int (clip, "y", "clip.y", 0, CAPTURE_CLIP_MAX, 0, &spec->clip_y, err)
        ||  s_int (clip, "width", "clip.width", 1, CAPTURE_CLIP_MAX, 0, &spec->clip_w, err)
        ||  s_int (clip, "height", "clip.height", 1, CAPTURE_CLIP_MAX, 0, &spec->clip_h, err))
            return -1;
    }
    json_t *ca = json_object_get (obj, "click");
    if (ca && (!json_is_array (ca) || json_array_size (ca) > CAPTURE_LIST_MAX))
        return api_error_set (err, 422, "parameter_invalid", "click",
                              "click must be an array of at most %d {\"selector\", \"optional\"} objects.",
                              CAPTURE_LIST_MAX);
    size_t i;
    json_t *c;
    json_array_foreach (ca, i, c) {
        char param [API_ERROR_PARAM_MAX];
        snprintf (param, sizeof param, "click[%zu]", i);
        json_t *sel = json_object_get (c, "selector"), *opt = json_object_get (c, "optional");
        const char *t = json_string_value (sel);
        if (!json_is_object (c) || !t || !*t || strlen (t) > CAPTURE_SELECTOR_MAX
        ||  (opt && !json_is_boolean (opt)) || json_object_size (c) > (opt ? 2u : 1u))
            return api_error_set (err, 422, "parameter_invalid", param,
                                  "%s must be {\"selector\": \"...\", \"optional\": true|false}.", param);
        if (json_is_true (opt))
            spec->click_optional |= 1u << clicks.n;
        clicks.v [clicks.n++] = (char *) t;
    }
    spec->clicks = clicks;
    if (geo) {
        static const struct { const char *key, *param; double lo, hi; } g [] = {
            { "latitude", "geolocation.latitude", -90, 90 },
            { "longitude", "geolocation.longitude", -180, 180 },
            { "accuracy", "geolocation.accuracy", 0, 1e7 },
        };
        if (!json_is_object (geo) || json_object_size (geo) > 3)
            return api_error_set (err, 422, "parameter_invalid", "geolocation",
                                  "geolocation must be {\"latitude\", \"longitude\", \"accuracy\"}.");
        double *outs [] = { &spec->latitude, &spec->longitude, &spec->accuracy };
        spec->accuracy = 100;
        for (int k = 0; k < 3; k++) {
            json_t *v = json_object_get (geo, g [k].key);
            if (!v && k == 2)
                continue;
            if (!json_is_number (v) || json_number_value (v) < g [k].lo || json_number_value (v) > g [k].hi)
                return api_error_set (err, 422, "parameter_invalid", g [k].param,
                                      "%s must be a number from %g to %g.", g [k].param, g [k].lo, g [k].hi);
            *outs [k] = json_number_value (v);
        }
        spec->has_geo = true;
    }
    if (ls) {
        if (!json_is_object (ls) || json_object_size (ls) > CAPTURE_STORAGE_MAX)
            return api_error_set (err, 422, "parameter_invalid", "local_storage",
                                  "local_storage must be an object of at most %d string values.",
                                  CAPTURE_STORAGE_MAX);
        const char *key;
        json_t *v;
        json_object_foreach (ls, key, v) {
            char param [API_ERROR_PARAM_MAX];
            snprintf (param, sizeof param, "local_storage.%.100s", key);
            const char *t = json_string_value (v);
            if (!*key || !t || strlen (key) + strlen (t) > CAPTURE_STORAGE_BYTES_MAX)
                return api_error_set (err, 422, "parameter_invalid", param,
                                      "%s must be a string, key + value at most %d bytes.", param,
                                      CAPTURE_STORAGE_BYTES_MAX);
            spec->storage_keys [spec->nstorage] = (char *) key;
            spec->storage_values [spec->nstorage++] = (char *) t;
        }
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
                              "webhook_url must be an absolute http or https URL of at most %d bytes.",
                              EASEL_MAX_URL_BYTES);
    bool async = false;
    json_t *vp = json_object_get (obj, "viewport");
    static const char *waits [] = { "load", "networkidle" };
    static const char *formats [] = { "png", "jpeg", "webp", "pdf" };
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
    /* a printed page is not framed: no device (or "none"), no background,
       no screenshot region; media print unless given */
    if (s_choice (obj, "format", formats, 4, "png", &format, err))
        return -1;
    bool is_pdf = strcmp (format, "pdf") == 0;
    /* full_page: false is only the default said out loud (the CLI sends it) */
    for (size_t i = 0; is_pdf && i < sizeof s_not_pdf / sizeof s_not_pdf [0]; i++)
        if (json_object_get (obj, s_not_pdf [i])
        &&  !(strcmp (s_not_pdf [i], "full_page") == 0 && json_is_false (json_object_get (obj, "full_page"))))
            return api_error_set (err, 422, "parameter_invalid", s_not_pdf [i],
                                  "%s does not apply to format pdf.", s_not_pdf [i]);
    if (s_choice (obj, "device", s_devices, sizeof s_devices / sizeof s_devices [0],
                  is_pdf ? "none" : "browser-macos", &device, err))
        return -1;
    if (is_pdf && strcmp (device, "none") != 0)
        return api_error_set (err, 422, "parameter_invalid", "device",
                              "format pdf is not framed: leave device out or give \"none\".");
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
    ||  s_headers (obj, &spec, err)
    ||  s_options (obj, &page, &spec, err)
    ||  s_pdf (obj, is_pdf, &spec, err))
        return -1;
    if (is_pdf && !spec.media [0])
        snprintf (spec.media, sizeof spec.media, "print");
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
    if (is_pdf) {              /* the paper, in CSS px */
        bool turn = spec.pdf.landscape;
        t->width = (int32_t) lround ((turn ? spec.pdf.height_in : spec.pdf.width_in) * CAPTURE_PDF_CSS_PX_PER_IN);
        t->height = (int32_t) lround ((turn ? spec.pdf.width_in : spec.pdf.height_in) * CAPTURE_PDF_CSS_PX_PER_IN);
    }
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

/* ---- a render slide's screenshot.capture ------------------------------------ */

/* Options the render sets for its captures (canvas, device, locale, format)
   or that a render's task may not keep (secrets: its spec is stored with
   the render, not cleared as a capture job's is). */
static const char *s_not_slide [] = {
    "async", "webhook_url", "device", "background_preset", "viewport", "device_scale_factor", "format",
    "pdf", "full_page", "selector", "padding", "clip", "locale", "headers", "cookies", "local_storage",
    "profile_id"
};

int
capture_request_slide (const json_t *opts, const char *locale, const char *preset, int width, int height,
                       int scale, const char *param, uint8_t **spec, size_t *len, api_error_t *err)
{
    *spec = NULL, *len = 0;
    if (!json_is_object (opts) || !json_is_string (json_object_get (opts, "url")))
        return api_error_set (err, 422, "parameter_invalid", param,
                              "%s must be an object of capture options with a url.", param);
    for (size_t i = 0; i < sizeof s_not_slide / sizeof s_not_slide [0]; i++)
        if (json_object_get (opts, s_not_slide [i])) {
            char p [API_ERROR_PARAM_MAX];
            snprintf (p, sizeof p, "%s.%s", param, s_not_slide [i]);
            return api_error_set (err, 422, "parameter_invalid", p,
                                  "%s: a render's capture takes its viewport, scale, device, locale and format"
                                  " from the render, and keeps no headers, cookies or local storage.", p);
        }
    char url [EASEL_MAX_URL_BYTES + 1], p [API_ERROR_PARAM_MAX];
    snprintf (p, sizeof p, "%s.url", param);
    /* a check of the options alone: sample values stand in for the templates */
    if (util_template_expand (json_string_value (json_object_get (opts, "url")), width > 0 ? locale : "xx",
                              width > 0 ? preset : "p", url, sizeof url))
        return api_error_set (err, 422, "parameter_invalid", p,
                              "%s is at most %d bytes after {locale} and {preset}.", p, EASEL_MAX_URL_BYTES);
    int vw = 0, vh = 0;
    if (width > 0) {
        vw = (int) lround ((double) width / scale), vh = (int) lround ((double) height / scale);
        if (vw < CAPTURE_VIEWPORT_MIN || vw > CAPTURE_VIEWPORT_MAX || vh < CAPTURE_VIEWPORT_MIN
        ||  vh > CAPTURE_VIEWPORT_MAX)
            return api_error_set (err, 422, "parameter_invalid", param,
                                  "%s: the %dx%d canvas at the device's scale %d is a %dx%d viewport,"
                                  " outside %d..%d CSS px.", param, width, height, scale, vw, vh,
                                  CAPTURE_VIEWPORT_MIN, CAPTURE_VIEWPORT_MAX);
    }
    json_t *body = json_deep_copy (opts);
    if (!body)
        return api_error_set (err, 500, "internal_error", NULL, "Out of memory.");
    json_object_set_new (body, "url", json_string (url));
    json_object_set_new (body, "device", json_string ("none"));
    json_object_set_new (body, "format", json_string ("png"));
    if (width > 0) {
        json_object_set_new (body, "viewport", json_pack ("{s:i, s:i}", "width", vw, "height", vh));
        json_object_set_new (body, "device_scale_factor", json_integer (scale));
    }
    if (width > 0 && locale && *locale)
        json_object_set_new (body, "locale", json_string (locale));
    proto_create_render_t cr;
    memset (&cr, 0, sizeof cr);
    int rc = s_parse (body, &cr, err);
    json_decref (body);
    if (rc) {
        proto_create_render_free (&cr);
        char inner [API_ERROR_PARAM_MAX];
        snprintf (inner, sizeof inner, "%s", err->param);
        snprintf (err->param, sizeof err->param, "%s%s%.100s", param, inner [0] ? "." : "", inner);
        return -1;
    }
    *spec = (uint8_t *) cr.tasks [0].spec, *len = cr.tasks [0].spec_len;
    cr.tasks [0].spec = NULL, cr.tasks [0].spec_len = 0;
    proto_create_render_free (&cr);
    if (*len > CAPTURE_SPEC_MAX_BYTES) {
        free (*spec);
        *spec = NULL, *len = 0;
        return api_error_set (err, 422, "parameter_invalid", param, "%s is over %d bytes encoded.", param,
                              CAPTURE_SPEC_MAX_BYTES);
    }
    return 0;
}
