/*  review_page.c: the review page, its token and decision validation (see
    review_page.h). Thread: any. Memory: returned strings are the caller's. */
#include "review_page.h"
#include "render_json.h"
#include "json_depth.h"
#include "easel_limits.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* generated at build time from gateway/review/ (gateway/CMakeLists.txt) */
extern const char easel_review_html [], easel_review_css [], easel_review_js [];

#define S_PAGE_MAX (8 * 1024 * 1024)    /* the page of a 500-image render is ~200 KB */
#define S_URL_MAX  1600                 /* a page link: public_url (the gateway caps it) + path */

void
review_page_nonce (char nonce [REVIEW_NONCE_HEX + 1])
{
    unsigned char raw [REVIEW_NONCE_HEX / 2];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (nonce, REVIEW_NONCE_HEX + 1, raw, sizeof raw);
}

void
review_page_token (const char *sig, const char *render_id, const char *nonce, char out [65])
{
    char msg [PROTO_ID_MAX + REVIEW_NONCE_HEX + 32];
    int n = snprintf (msg, sizeof msg, "review-form.%.39s.%.32s", render_id, nonce);
    util_hmac_sha256_hex (sig, strlen (sig), msg, (size_t) n, out);
}

bool
review_page_token_ok (const char *sig, const char *render_id, const char *nonce,
                      const char *token)
{
    if (!sig || !*sig || !nonce || !token || strlen (nonce) != REVIEW_NONCE_HEX
    ||  strspn (nonce, "0123456789abcdef") != REVIEW_NONCE_HEX || strlen (token) != 64)
        return false;
    char expect [65];
    review_page_token (sig, render_id, nonce, expect);
    return util_str_equal_ct (expect, token);
}

bool
review_page_same_origin (const char *origin, const char *fetch_site, const char *public_url)
{
    if (fetch_site && strcmp (fetch_site, "same-origin") != 0 && strcmp (fetch_site, "none") != 0)
        return false;
    if (!origin)
        return true;
    /* public_url's origin: scheme://authority, without a path */
    const char *scheme_end = strstr (public_url, "://");
    if (!scheme_end)
        return false;
    size_t n = (size_t) (scheme_end + 3 - public_url) + strcspn (scheme_end + 3, "/?#");
    return strlen (origin) == n && strncasecmp (origin, public_url, n) == 0;
}

char *
review_page_escape (const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : *p == '"' || *p == '\'' ? 6 : 1;
    char *out = malloc (n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = text; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                        : *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;
        if (rep) {
            memcpy (o, rep, strlen (rep));
            o += strlen (rep);
        }
        else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* JSON text made safe inside <script type="application/json">: < > & only
   occur inside strings there, so their \u escapes mean the same. */
static char *
s_script_json (const char *json)
{
    size_t n = strlen (json), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += json [i] == '<' || json [i] == '>' || json [i] == '&' ? 5 : 0;
    char *out = malloc (n + extra + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (json [i] == '<' || json [i] == '>' || json [i] == '&') {
            snprintf (o, 7, "\\u%04x", (unsigned) json [i]);
            o += 6;
        }
        else
            *o++ = json [i];
    }
    *o = '\0';
    return out;
}

/* tmpl with each "{{name}}" of names replaced by the value at the same
   index (inserted as is, not scanned again); other text kept. */
static char *
s_fill (const char *tmpl, const char *const *names, const char *const *values, int n, size_t *len)
{
    size_t cap = strlen (tmpl) + 1;
    for (int i = 0; i < n; i++)
        for (const char *p = tmpl; (p = strstr (p, names [i])); p += strlen (names [i]))
            cap += strlen (values [i]);
    if (cap > S_PAGE_MAX)
        return NULL;
    char *out = malloc (cap), *o = out;
    if (!out)
        return NULL;
    const char *p = tmpl;
    while (*p) {
        int hit = -1;
        for (int i = 0; i < n && hit < 0; i++)
            if (strncmp (p, names [i], strlen (names [i])) == 0)
                hit = i;
        if (hit < 0) {
            *o++ = *p++;
            continue;
        }
        size_t vlen = strlen (values [hit]);
        memcpy (o, values [hit], vlen);
        o += vlen;
        p += strlen (names [hit]);
    }
    *o = '\0';
    *len = (size_t) (o - out);
    return out;
}

json_t *
review_page_render (const proto_render_t *r, const char *public_url)
{
    json_t *obj = render_json_build (r, public_url);
    if (obj)
        json_object_del (obj, "webhook_url");
    return obj;
}

static int s_url_decode (const char *src, size_t n, char *dst, size_t cap);

char *
review_page_html (const proto_render_t *r, const char *public_url,
                  const review_link_t *link, const json_t *changes, const char *nonce,
                  size_t *len)
{
    /* absolute, under public_url: right behind a proxy that adds a path too */
    char token [65], q [REVIEW_LINK_QUERY_MAX], page [S_URL_MAX], status [S_URL_MAX],
         decide [S_URL_MAX], archive [S_URL_MAX];
    review_page_token (link->sig, r->id, nonce, token);
    if (review_link_query (link, q, sizeof q) || strlen (public_url) + strlen (q) > S_URL_MAX - 80)
        return NULL;
    snprintf (page, sizeof page, "%s/v1/renders/%s/review?%s", public_url, r->id, q);
    snprintf (status, sizeof status, "%s/v1/renders/%s/review/status?%s", public_url, r->id, q);
    snprintf (decide, sizeof decide, "%s/v1/renders/%s/review?%s", public_url, r->id, q);
    snprintf (archive, sizeof archive, "%s/v1/renders/%s/archive?%s", public_url, r->id, q);
    json_t *obj = review_page_render (r, public_url);
    json_t *data = obj ? json_pack ("{s:o, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:s*, s:s*, s:O*}",
                                    "render", obj, "nonce", nonce, "token", token,
                                    "urls", "page", page, "status", status, "decide", decide,
                                    "archive", archive,
                                    "by", link->by [0] ? link->by : NULL,
                                    "since", link->since [0] ? link->since : NULL,
                                    "changes", changes)
                       : NULL;
    char *json = data ? render_json_dump (data, NULL) : NULL;
    json_decref (data);
    char *safe = json ? s_script_json (json) : NULL;
    free (json);
    if (!safe)
        return NULL;
    static const char *const names [] = { "{{nonce}}", "{{css}}", "{{js}}", "{{data}}" };
    const char *values [] = { nonce, easel_review_css, easel_review_js, safe };
    char *html = s_fill (easel_review_html, names, values, 4, len);
    free (safe);
    return html;
}

void
review_page_headers (const char *nonce, const char *public_url, char *buf, size_t cap)
{
    const char *scheme_end = strstr (public_url, "://");
    int origin = scheme_end ? (int) ((size_t) (scheme_end + 3 - public_url)
                                     + strcspn (scheme_end + 3, "/?#")) : 0;
    snprintf (buf, cap,
              "Content-Security-Policy: default-src 'none'; img-src 'self' data: %.*s;"
              " style-src 'nonce-%s'; script-src 'nonce-%s'; connect-src 'self' %.*s;"
              " form-action 'self' %.*s; base-uri 'none'; frame-ancestors 'none'\r\n"
              "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
              "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n",
              origin > 200 ? 0 : origin, public_url, nonce, nonce,
              origin > 200 ? 0 : origin, public_url, origin > 200 ? 0 : origin, public_url);
}

char *
review_page_error (const char *title, const char *message, size_t *len)
{
    char *t = review_page_escape (title), *m = review_page_escape (message);
    char *out = NULL;
    if (t && m) {
        size_t cap = strlen (t) * 2 + strlen (m) + 1024;
        out = malloc (cap);
        if (out)
            *len = (size_t) snprintf (out, cap,
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<meta name=\"color-scheme\" content=\"light dark\"><title>%s</title></head>"
                "<body style=\"font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;"
                "padding:0 1rem\"><h1 id=\"error-title\">%s</h1><p id=\"error-message\">%s</p>"
                "</body></html>", t, t, m);
    }
    free (t);
    free (m);
    return out;
}

/* ---- decisions ---------------------------------------------------------- */

/* Checks and copies one optional text field (NULL / "" mean none). */
static int
s_text (const char *name, const char *value, size_t max, char **out, api_error_t *e)
{
    if (!value || !*value)
        return 0;
    if (strlen (value) > max)
        return api_error_set (e, 422, "parameter_invalid", name,
                              "%s is at most %zu bytes of UTF-8.", name, max);
    json_t *probe = json_string (value);            /* NULL: not UTF-8 */
    bool ok = probe != NULL;
    json_decref (probe);
    for (const unsigned char *p = (const unsigned char *) value; ok && *p; p++)
        ok = *p >= 0x20 || *p == '\n' || *p == '\r' || *p == '\t';
    if (!ok)
        return api_error_set (e, 422, "parameter_invalid", name,
                              "%s must be UTF-8 text without control characters.", name);
    *out = strdup (value);
    return *out ? 0 : api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
}

static int
s_decision (const char *status, const char *comment, const char *by, proto_review_t *out,
            api_error_t *e)
{
    if (!status || !*status)
        return api_error_set (e, 422, "parameter_missing", "status",
                              "status is required: \"approved\" or \"changes_requested\".");
    if (strcmp (status, "approved") != 0 && strcmp (status, "changes_requested") != 0)
        return api_error_set (e, 422, "parameter_invalid", "status",
                              "status must be \"approved\" or \"changes_requested\".");
    snprintf (out->action, sizeof out->action, "decide");
    snprintf (out->status, sizeof out->status, "%s", status);
    if (s_text ("comment", comment, EASEL_REVIEW_COMMENT_MAX, &out->comment, e)
    ||  s_text ("by", by, EASEL_REVIEW_BY_MAX, &out->by, e)) {
        proto_review_free (out);
        return -1;
    }
    return 0;
}

/* An optional string member: absent or null is NULL; another type is 422. */
static int
s_member (json_t *doc, const char *name, const char **out, api_error_t *e)
{
    json_t *v = json_object_get (doc, name);
    *out = NULL;
    if (!v || json_is_null (v))
        return 0;
    if (!json_is_string (v))
        return api_error_set (e, 422, "parameter_invalid", name, "%s must be a string.", name);
    *out = json_string_value (v);
    return 0;
}

int
review_page_parse_json (const char *body, size_t len, proto_review_t *out, api_error_t *e)
{
    if (api_json_depth_check (body, len, e))
        return -1;
    json_error_t jerr;
    json_t *doc = len ? json_loadb (body, len, 0, &jerr) : NULL;
    if (!doc)
        return len ? api_error_set (e, 400, "invalid_json", NULL,
                                    "The body is not valid JSON: %s (line %d, column %d).",
                                    jerr.text, jerr.line, jerr.column)
                   : api_error_set (e, 422, "parameter_missing", "status",
                                    "status is required: \"approved\" or \"changes_requested\".");
    int rc = 0;
    if (!json_is_object (doc))
        rc = api_error_set (e, 400, "invalid_json", NULL, "The body must be a JSON object.");
    const char *key;
    json_t *value;
    json_object_foreach (doc, key, value)
        if (!rc && strcmp (key, "status") && strcmp (key, "comment") && strcmp (key, "by"))
            rc = api_error_set (e, 422, "parameter_unknown", key,
                                "Unknown parameter: %.64s (a decision takes status, comment, by).", key);
    json_t *st = json_object_get (doc, "status");
    if (!rc && st && !json_is_string (st))
        rc = api_error_set (e, 422, "parameter_invalid", "status",
                            "status must be \"approved\" or \"changes_requested\".");
    const char *comment = NULL, *by = NULL;
    if (!rc && (s_member (doc, "comment", &comment, e) || s_member (doc, "by", &by, e)))
        rc = -1;
    if (!rc)
        rc = s_decision (json_string_value (st), comment, by, out, e);
    json_decref (doc);
    return rc;
}

int
review_page_parse_link (const char *body, size_t len, review_link_t *out, int64_t *ttl_s,
                        api_error_t *e)
{
    memset (out, 0, sizeof *out);
    *ttl_s = EASEL_REVIEW_URL_TTL_S;
    if (len == 0)
        return 0;                                   /* no body: a plain link */
    if (api_json_depth_check (body, len, e))
        return -1;
    json_error_t jerr;
    json_t *doc = json_loadb (body, len, 0, &jerr);
    if (!doc)
        return api_error_set (e, 400, "invalid_json", NULL,
                              "The body is not valid JSON: %s (line %d, column %d).",
                              jerr.text, jerr.line, jerr.column);
    int rc = json_is_object (doc) ? 0
           : api_error_set (e, 400, "invalid_json", NULL, "The body must be a JSON object.");
    const char *key, *by = NULL, *since = NULL;
    json_t *value;
    json_object_foreach (doc, key, value)
        if (!rc && strcmp (key, "by") && strcmp (key, "since") && strcmp (key, "expires_in"))
            rc = api_error_set (e, 422, "parameter_unknown", key, "Unknown parameter: %.64s"
                                " (a review link takes by, since, expires_in).", key);
    if (!rc && (s_member (doc, "by", &by, e) || s_member (doc, "since", &since, e)))
        rc = -1;
    bool ctl = false;
    for (const unsigned char *p = (const unsigned char *) (by ? by : ""); *p; p++)
        ctl = ctl || *p < 0x20 || *p == 0x7f;
    if (!rc && by && (!*by || strlen (by) > EASEL_REVIEW_BY_MAX || ctl))
        rc = api_error_set (e, 422, "parameter_invalid", "by", "by is the reviewer's name:"
                            " 1 to %d bytes of UTF-8 on one line.", EASEL_REVIEW_BY_MAX);
    if (!rc && since && !proto_id_valid (since, "rnd_"))
        rc = api_error_set (e, 422, "parameter_invalid", "since",
                            "since is the id of an earlier render of this account (rnd_...).");
    json_t *ttl = json_object_get (doc, "expires_in");
    if (!rc && ttl && !json_is_null (ttl)) {
        if (!json_is_integer (ttl) || json_integer_value (ttl) < EASEL_REVIEW_LINK_TTL_MIN_S
        ||  json_integer_value (ttl) > EASEL_REVIEW_LINK_TTL_MAX_S)
            rc = api_error_set (e, 422, "parameter_invalid", "expires_in",
                                "expires_in is a whole number of seconds, %d to %d.",
                                EASEL_REVIEW_LINK_TTL_MIN_S, EASEL_REVIEW_LINK_TTL_MAX_S);
        else
            *ttl_s = json_integer_value (ttl);
    }
    if (!rc) {
        snprintf (out->by, sizeof out->by, "%s", by ? by : "");
        snprintf (out->since, sizeof out->since, "%s", since ? since : "");
    }
    json_decref (doc);
    return rc;
}

/* A hex digit's value plus one; 0 for another character. */
static int
s_hex (char c)
{
    return c >= '0' && c <= '9' ? c - '0' + 1 : c >= 'a' && c <= 'f' ? c - 'a' + 11
         : c >= 'A' && c <= 'F' ? c - 'A' + 11 : 0;
}

/* %XX and + decoded copy of src[0..n) into dst (cap); -1 over cap, a bad
   %, or %00. */
static int
s_url_decode (const char *src, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= cap)
            return -1;
        char c = src [i];
        if (c == '+')
            c = ' ';
        else
        if (c == '%') {
            if (i + 2 >= n || !s_hex (src [i + 1]) || !s_hex (src [i + 2]))
                return -1;
            c = (char) ((s_hex (src [i + 1]) - 1) * 16 + s_hex (src [i + 2]) - 1);
            i += 2;
            if (c == '\0')            /* would cut the text short unseen */
                return -1;
        }
        dst [o++] = c;
    }
    dst [o] = '\0';
    return 0;
}

/* The value of name in a query string, decoded into dst (cap): its length,
   -1 absent, -2 too long or badly encoded. */
static int
s_query_var (const char *qs, const char *name, char *dst, size_t cap)
{
    size_t nlen = strlen (name);
    for (const char *p = qs; p && *p; ) {
        const char *stop = p + strcspn (p, "&");
        if ((size_t) (stop - p) > nlen && p [nlen] == '=' && strncmp (p, name, nlen) == 0)
            return s_url_decode (p + nlen + 1, (size_t) (stop - p) - nlen - 1, dst, cap)
                 ? -2 : (int) strlen (dst);
        p = *stop ? stop + 1 : stop;
    }
    return -1;
}

int
review_link_parse (const char *qs, review_link_t *out)
{
    memset (out, 0, sizeof *out);
    char e [24] = "";
    if (!qs || s_query_var (qs, "exp", e, sizeof e) <= 0
    ||  s_query_var (qs, "sig", out->sig, sizeof out->sig) != 64
    ||  strspn (out->sig, "0123456789abcdef") != 64 || util_parse_i64 (e, 0, INT64_MAX, &out->exp))
        return -1;
    int by = s_query_var (qs, "by", out->by, sizeof out->by);
    int since = s_query_var (qs, "since", out->since, sizeof out->since);
    if (by < -1 || since < -1)
        return -1;
    for (const unsigned char *p = (const unsigned char *) out->by; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return -1;
    if (since > 0 && !proto_id_valid (out->since, "rnd_"))
        return -1;
    return 0;
}

int
review_link_query (const review_link_t *link, char *buf, size_t cap)
{
    char *by = link->by [0] ? curl_easy_escape (NULL, link->by, 0) : NULL;
    if (link->by [0] && !by)
        return -1;
    int n = snprintf (buf, cap, "exp=%lld&sig=%.64s%s%s%s%s", (long long) link->exp, link->sig,
                      by ? "&by=" : "", by ? by : "", link->since [0] ? "&since=" : "",
                      link->since);
    curl_free (by);
    return n < 0 || (size_t) n >= cap ? -1 : 0;
}

int
review_page_parse_form (const char *body, size_t len, proto_review_t *out,
                        char nonce [65], char token [65], api_error_t *e)
{
    static char const *const names [] = { "status", "comment", "by", "nonce", "token" };
    static const size_t caps [] = { PROTO_SHORT_MAX, EASEL_REVIEW_COMMENT_MAX + 1,
                                    EASEL_REVIEW_BY_MAX + 1, 65, 65 };
    char *vals [5] = { NULL };
    int rc = len > REVIEW_FORM_MAX
           ? api_error_set (e, 413, "body_too_large", NULL, "A decision form is at most %d bytes.",
                            REVIEW_FORM_MAX) : 0;
    for (int i = 0; !rc && i < 5; i++)
        if (!(vals [i] = calloc (1, caps [i] * 3 + 1)))
            rc = api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
    const char *p = body, *end = body + len;
    while (!rc && p < end) {
        const char *amp = memchr (p, '&', (size_t) (end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr (p, '=', (size_t) (stop - p));
        if (eq) {
            for (int i = 0; i < 5; i++) {
                if ((size_t) (eq - p) != strlen (names [i]) || strncmp (p, names [i], (size_t) (eq - p)))
                    continue;
                if (s_url_decode (eq + 1, (size_t) (stop - eq - 1), vals [i], caps [i]))
                    rc = api_error_set (e, 422, "parameter_invalid", names [i],
                                        "%s is too long or badly encoded.", names [i]);
            }
        }
        p = stop + 1;
    }
    if (!rc) {
        snprintf (nonce, 65, "%s", vals [3]);
        snprintf (token, 65, "%s", vals [4]);
        rc = s_decision (vals [0], vals [1], vals [2], out, e);
    }
    for (int i = 0; i < 5; i++)
        free (vals [i]);
    return rc;
}
