/*  capture_profile.c: capture profiles at the gateway (see capture_profile.h). */
#include "capture_profile.h"
#include "capture_request.h"
#include "capture_spec.h"
#include "deliveries.h"
#include "web_url.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_PROBE_URL "https://profile.invalid/"

static const char *s_secret_keys [] = { "cookies", "headers", "local_storage" };
static const char *s_not_defaults [] = { "url", "async", "webhook_url", "cookies", "headers",
                                         "local_storage", "profile_id" };

/* capture_request_parse of obj (borrowed) as a capture body: 0, or -1 with
   e, its param "prefix" + the capture's own param (a "cookies[0]" head
   renamed to "cookies[index]" when index >= 0). */
static int
s_check (json_t *obj, const char *prefix, long index, api_error_t *e)
{
    char *text = json_dumps (obj, JSON_COMPACT);
    if (!text)
        return api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
    proto_create_render_t cr;
    int rc = capture_request_parse (text, strlen (text), &cr, e);
    sodium_memzero (text, strlen (text));
    free (text);
    if (rc == 0) {
        proto_create_render_free (&cr);
        return 0;
    }
    char param [API_ERROR_PARAM_MAX];
    const char *rest = e->param;
    if (index >= 0 && strncmp (rest, "cookies[0]", 10) == 0) {
        snprintf (param, sizeof param, "cookies[%ld]%s", index, rest + 10);
        snprintf (e->message, sizeof e->message, "%s is not valid: as in a capture, cookies[i] must be a"
                  " cookie object (name token, value, domain a host, path from '/').", param);
    }
    else
    if (index >= 0 && strcmp (rest, "url") == 0) {
        snprintf (param, sizeof param, "cookies[%ld].domain", index);
        snprintf (e->message, sizeof e->message, "%s must be a host name such as app.example.com.", param);
    }
    else
        snprintf (param, sizeof param, "%s%s", prefix, rest);
    snprintf (e->param, sizeof e->param, "%s", param);
    return -1;
}

static bool
s_name_ok (const char *name)
{
    size_t n = name ? strlen (name) : 0;
    if (n == 0 || n > CAPTURE_PROFILE_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || strchr (" _.-", *p)))
            return false;
    return true;
}

static int
s_validate (json_t *root, api_error_t *e)
{
    if (!json_is_object (root))
        return api_error_set (e, 422, "parameter_invalid", NULL, "The body must be a JSON object.");
    const char *key;
    json_t *v;
    json_object_foreach (root, key, v) {
        bool known = strcmp (key, "name") == 0 || strcmp (key, "defaults") == 0;
        for (size_t i = 0; i < 3; i++)
            known = known || strcmp (key, s_secret_keys [i]) == 0;
        if (!known)
            return api_error_set (e, 422, "parameter_unknown", key, "Unknown parameter: %.100s.", key);
    }
    json_t *name = json_object_get (root, "name");
    if (!name)
        return api_error_set (e, 422, "parameter_missing", "name", "name is required.");
    if (!s_name_ok (json_string_value (name)))
        return api_error_set (e, 422, "parameter_invalid", "name",
                              "name must be 1..%d letters, digits, spaces, '_', '.' or '-'.",
                              CAPTURE_PROFILE_NAME_MAX);
    /* headers and local storage: as a capture's */
    json_t *probe = json_pack ("{s:s}", "url", S_PROBE_URL);
    for (size_t i = 1; probe && i < 3; i++)
        if (json_object_get (root, s_secret_keys [i]))
            json_object_set (probe, s_secret_keys [i], json_object_get (root, s_secret_keys [i]));
    int rc = probe ? s_check (probe, "", -1, e) : api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
    json_decref (probe);
    if (rc)
        return -1;
    /* cookies: each as a capture's on a page of its own domain */
    json_t *cookies = json_object_get (root, "cookies");
    if (cookies && (!json_is_array (cookies) || json_array_size (cookies) > CAPTURE_COOKIES_MAX))
        return api_error_set (e, 422, "parameter_invalid", "cookies",
                              "cookies must be an array of at most %d cookie objects.", CAPTURE_COOKIES_MAX);
    size_t i;
    json_t *c;
    json_array_foreach (cookies, i, c) {
        char param [API_ERROR_PARAM_MAX];
        const char *domain = json_string_value (json_object_get (c, "domain"));
        snprintf (param, sizeof param, "cookies[%zu].domain", i);
        if (json_is_object (c) && !json_object_get (c, "domain"))
            return api_error_set (e, 422, "parameter_missing", param,
                                  "%s is required in a profile: the site the cookie is for.", param);
        if (json_is_object (c) && (!domain || strlen (domain) > 253 || strpbrk (domain, "/:@?#[] ")))
            return api_error_set (e, 422, "parameter_invalid", param,
                                  "%s must be a host name such as app.example.com.", param);
        char url [300];
        snprintf (url, sizeof url, "https://%s/", domain ? (domain [0] == '.' ? domain + 1 : domain) : "x.invalid");
        json_t *one = json_pack ("{s:s, s:[O]}", "url", url, "cookies", c);
        rc = one ? s_check (one, "", (long) i, e) : api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
        json_decref (one);
        if (rc)
            return -1;
    }
    /* defaults: capture options on any page */
    json_t *defaults = json_object_get (root, "defaults");
    if (!defaults)
        return 0;
    if (!json_is_object (defaults))
        return api_error_set (e, 422, "parameter_invalid", "defaults",
                              "defaults must be an object of capture options.");
    json_object_foreach (defaults, key, v)
        for (size_t k = 0; k < sizeof s_not_defaults / sizeof s_not_defaults [0]; k++)
            if (strcmp (key, s_not_defaults [k]) == 0) {
                char param [API_ERROR_PARAM_MAX];
                snprintf (param, sizeof param, "defaults.%s", key);
                return api_error_set (e, 422, "parameter_unknown", param,
                                      "%s cannot be a default (a profile holds %s itself, or it is per capture).",
                                      param, key);
            }
    json_t *probe2 = json_deep_copy (defaults);
    if (!probe2)
        return api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
    json_object_set_new (probe2, "url", json_string (S_PROBE_URL));
    rc = s_check (probe2, "defaults.", -1, e);
    json_decref (probe2);
    return rc;
}

int
capture_profile_validate (const char *body, size_t len, char **json, api_error_t *e)
{
    *json = NULL;
    if (api_json_depth_check (body, len, e))
        return -1;
    json_error_t je;
    json_t *root = json_loadb (body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return api_error_set (e, 400, "invalid_json", NULL,
                              "The body is not valid JSON: %.120s (line %d, column %d).",
                              je.text, je.line, je.column);
    int rc = s_validate (root, e);
    if (rc == 0 && !(*json = json_dumps (root, JSON_COMPACT)))
        rc = api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
    json_decref (root);
    return rc;
}

int
capture_profile_call (api_pool_t *pool, const char *auth, const char *action, const char *id,
                      const char *json, int *status, char **out, api_error_t *e)
{
    *out = NULL;
    if (!pool)
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    proto_profile_req_t req;
    memset (&req, 0, sizeof req);
    proto_id_new ("rid_", req.rid, sizeof req.rid);
    snprintf (req.auth, sizeof req.auth, "%s", auth);
    snprintf (req.id, sizeof req.id, "%s", id ? id : "");
    snprintf (req.action, sizeof req.action, "%s", action);
    req.json = (char *) json;          /* borrowed: not freed here */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int got = 0, rc;
    zframe_t *reply = NULL;
    if (proto_profile_req_encode (&req, &sb))
        rc = api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    else
    if (api_pool_call (pool, PROTO_CAPTURE_PROFILE, &sb, req.rid, &got, &reply))
        rc = api_error_set (e, 503, "scheduler_unavailable", NULL, "The scheduler is not answering; retry shortly.");
    else
        rc = deliveries_reply_json (got, reply, status, out, e);
    if (reply)
        sodium_memzero (zframe_data (reply), zframe_size (reply));
    zframe_destroy (&reply);
    if (sb.data)
        sodium_memzero (sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

/* The index in list (an array of cookie objects) of one named like c, or -1. */
static long
s_cookie_find (json_t *list, json_t *c)
{
    const char *name = json_string_value (json_object_get (c, "name"));
    const char *domain = json_string_value (json_object_get (c, "domain"));
    size_t i;
    json_t *o;
    json_array_foreach (list, i, o) {
        const char *n = json_string_value (json_object_get (o, "name"));
        const char *d = json_string_value (json_object_get (o, "domain"));
        if (name && n && strcmp (name, n) == 0
        &&  ((!d && !domain) || (d && domain && strcasecmp (d [0] == '.' ? d + 1 : d,
                                                            domain [0] == '.' ? domain + 1 : domain) == 0)))
            return (long) i;
    }
    return -1;
}

/* obj[key] as an object, names compared without case when nocase: the
   profile's entries first, the capture's replacing them. */
static void
s_merge_map (json_t *obj, json_t *profile, const char *key, bool nocase)
{
    json_t *mine = json_object_get (obj, key), *theirs = json_object_get (profile, key);
    if (!json_is_object (theirs) || (mine && !json_is_object (mine)))
        return;                    /* a capture's bad value is reported by its own parse */
    json_t *merged = json_object ();
    const char *k, *k2;
    json_t *v, *v2;
    json_object_foreach (theirs, k, v) {
        bool overridden = false;
        json_object_foreach (mine, k2, v2)
            overridden = overridden || (nocase ? strcasecmp (k, k2) == 0 : strcmp (k, k2) == 0);
        if (!overridden)
            json_object_set (merged, k, v);
    }
    json_object_foreach (mine, k2, v2)
        json_object_set (merged, k2, v2);
    json_object_set_new (obj, key, merged);
}

int
capture_profile_merge (json_t *obj, json_t *profile, api_error_t *e)
{
    json_object_del (obj, "profile_id");
    const char *key;
    json_t *v;
    /* the format the capture will have, its own or the profile's: a default
       it has no use for (a frame for a pdf, a pdf object for an image) is
       left out rather than refused */
    json_t *defaults = json_object_get (profile, "defaults");
    const char *fmt = json_string_value (json_object_get (obj, "format"));
    if (!json_object_get (obj, "format"))
        fmt = json_string_value (json_object_get (defaults, "format"));
    bool pdf = fmt && strcmp (fmt, "pdf") == 0;
    json_object_foreach (defaults, key, v)
        if (!json_object_get (obj, key) && capture_request_option_applies (key, pdf))
            json_object_set (obj, key, v);
    s_merge_map (obj, profile, "headers", true);
    s_merge_map (obj, profile, "local_storage", false);
    json_t *mine = json_object_get (obj, "cookies"), *theirs = json_object_get (profile, "cookies");
    if (!json_is_array (theirs) || (mine && !json_is_array (mine)))
        return 0;
    web_url_t page;
    char why [WEB_URL_ERR_MAX];
    const char *url = json_string_value (json_object_get (obj, "url"));
    if (!url || web_url_parse (url, &page, why) != 0)
        return 0;                  /* the capture's parse names url */
    json_t *merged = json_array ();
    if (!merged)
        return api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
    size_t i;
    json_t *c;
    json_array_foreach (theirs, i, c) {
        const char *domain = json_string_value (json_object_get (c, "domain"));
        if (domain && capture_request_cookie_domain_ok (domain, &page) && s_cookie_find (mine, c) < 0)
            json_array_append (merged, c);
    }
    json_array_foreach (mine, i, c)
        json_array_append (merged, c);
    json_object_set_new (obj, "cookies", merged);
    return 0;
}
