/*  test_capture_profile.c: capture profiles without a stack. A profile body
    is accepted or refused with a 422 naming the field; a resolved profile
    merges under a capture's options as capture_profile.h says (defaults
    the capture lacks, headers by name without case, the capture's own
    cookie of the same name and domain winning, a cookie of another site
    left out); the scheduler's key parses from hex or base64 only at 32
    bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capture_profile.h"
#include "api_profiles.h"
#include "capture_request.h"

#include "check.h"

static void
s_bad (const char *body, int status, const char *code, const char *param)
{
    api_error_t e;
    memset (&e, 0, sizeof e);
    char *json = NULL;
    int rc = capture_profile_validate (body, strlen (body), &json, &e);
    CHECK (rc == -1 && e.status == status && strcmp (e.code, code) == 0 && strcmp (e.param, param) == 0,
           "%s: expected %d %s param=%s, got rc %d %d %s param=%s (%s)", body, status, code, param, rc,
           e.status, e.code, e.param, e.message);
    free (json);
}

int
main (void)
{
    api_error_t e;
    char *json = NULL;
    const char *good = "{\"name\": \"staging login\", \"cookies\": [{\"name\": \"sid\", \"value\": \"s3\","
                       " \"domain\": \".example.com\", \"secure\": true}], \"headers\": {\"X-Token\": \"t\"},"
                       " \"local_storage\": {\"k\": \"v\"}, \"defaults\": {\"device\": \"none\","
                       " \"viewport\": {\"width\": 800, \"height\": 600}, \"block\": [\"ads\"]}}";
    CHECK (capture_profile_validate (good, strlen (good), &json, &e) == 0 && json && strstr (json, "staging login"),
           "a good profile: %d %s %s", e.status, e.param, e.message);
    free (json);
    s_bad ("[1]", 422, "parameter_invalid", "");
    s_bad ("{\"name\": 1}", 422, "parameter_invalid", "name");
    s_bad ("{\"cookies\": []}", 422, "parameter_missing", "name");
    s_bad ("{\"name\": \"p\", \"password\": \"x\"}", 422, "parameter_unknown", "password");
    s_bad ("{\"name\": \"p\", \"cookies\": [{\"name\": \"a\", \"value\": \"v\"}]}", 422, "parameter_missing",
           "cookies[0].domain");
    s_bad ("{\"name\": \"p\", \"cookies\": [{\"name\": \"a\", \"value\": \"v\", \"domain\": \"a.example\"},"
           " {\"name\": \"b\", \"value\": \"v;\", \"domain\": \"a.example\"}]}", 422, "parameter_invalid",
           "cookies[1].value");
    s_bad ("{\"name\": \"p\", \"cookies\": [{\"name\": \"a\", \"value\": \"v\", \"domain\": \"a/b\"}]}", 422,
           "parameter_invalid", "cookies[0].domain");
    s_bad ("{\"name\": \"p\", \"headers\": {\"bad header\": \"v\"}}", 422, "parameter_invalid", "headers.bad header");
    s_bad ("{\"name\": \"p\", \"defaults\": {\"cookies\": []}}", 422, "parameter_unknown", "defaults.cookies");
    s_bad ("{\"name\": \"p\", \"defaults\": {\"viewport\": {\"width\": 1}}}", 422, "parameter_invalid",
           "defaults.viewport.width");
    s_bad ("{\"name\": \"p\", \"defaults\": {\"nonsense\": 1}}", 422, "parameter_unknown", "defaults.nonsense");
    s_bad ("{\"name\": \"p\",", 400, "invalid_json", "");

    /* the merge */
    json_t *profile = json_loads ("{\"cookies\": [{\"name\": \"sid\", \"value\": \"p\", \"domain\": \"example.com\"},"
                                  " {\"name\": \"far\", \"value\": \"f\", \"domain\": \"other.example\"},"
                                  " {\"name\": \"keep\", \"value\": \"k\", \"domain\": \".app.example.com\"}],"
                                  " \"headers\": {\"X-Token\": \"p\", \"X-Other\": \"o\"},"
                                  " \"local_storage\": {\"a\": \"p\", \"b\": \"p\"},"
                                  " \"defaults\": {\"device\": \"none\", \"format\": \"jpeg\"}}", 0, NULL);
    json_t *body = json_loads ("{\"url\": \"https://app.example.com/x\", \"profile_id\": \"cpr_x\", \"format\": \"png\","
                               " \"cookies\": [{\"name\": \"sid\", \"value\": \"mine\", \"domain\": \"example.com\"}],"
                               " \"headers\": {\"x-token\": \"mine\"}, \"local_storage\": {\"a\": \"mine\"}}", 0, NULL);
    CHECK (profile && body && capture_profile_merge (body, profile, &e) == 0, "the merge runs");
    CHECK (!json_object_get (body, "profile_id"), "profile_id is removed");
    CHECK (strcmp (json_string_value (json_object_get (body, "device")), "none") == 0, "a default the capture lacks");
    CHECK (strcmp (json_string_value (json_object_get (body, "format")), "png") == 0, "the capture's own option wins");
    json_t *h = json_object_get (body, "headers");
    CHECK (json_object_size (h) == 2 && !json_object_get (h, "X-Token")
           && strcmp (json_string_value (json_object_get (h, "x-token")), "mine") == 0
           && json_object_get (h, "X-Other"), "headers merge by name without case");
    json_t *ls = json_object_get (body, "local_storage");
    CHECK (strcmp (json_string_value (json_object_get (ls, "a")), "mine") == 0 && json_object_get (ls, "b"),
           "local storage merges by key");
    json_t *cookies = json_object_get (body, "cookies");
    char *ctext = json_dumps (cookies, JSON_COMPACT);
    CHECK (json_array_size (cookies) == 2 && ctext && !strstr (ctext, "\"far\"") && strstr (ctext, "\"keep\"")
           && strstr (ctext, "mine") && !strstr (ctext, "\"value\":\"p\""),
           "cookies: the other site's left out, the capture's own wins: %s", ctext ? ctext : "");
    free (ctext);
    char *merged = json_dumps (body, JSON_COMPACT);
    proto_create_render_t cr;
    CHECK (merged && capture_request_parse (merged, strlen (merged), &cr, &e) == 0,
           "the merged body is a valid capture: %s %s", e.param, e.message);
    if (merged)
        proto_create_render_free (&cr);
    free (merged);
    json_decref (body);
    json_decref (profile);

    /* the scheduler's key */
    uint8_t key [API_PROFILE_KEY_BYTES];
    CHECK (api_profiles_parse_key ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", key) == 0
           && key [0] == 0x01 && key [31] == 0xef, "64 hex digits");
    CHECK (api_profiles_parse_key ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", key) == 0 && key [31] == 31,
           "base64 of 32 bytes");
    CHECK (api_profiles_parse_key ("abcd", key) == -1, "2 bytes are refused");
    CHECK (api_profiles_parse_key ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==", key) == -1,
           "34 bytes are refused");
    CHECK (api_profiles_parse_key ("", key) == -1, "empty is refused");

    /* a capture task's spec sealed at rest: opens only with its key, unaltered */
    const char plain [] = "\x82\xa3" "url" "\xa5" "https" "\xa6" "cookie" "\xa6" "s3cret";
    char *spec = malloc (sizeof plain - 1);
    REQUIRE (spec, "memory");
    memcpy (spec, plain, sizeof plain - 1);
    size_t len = sizeof plain - 1;
    CHECK (!api_profiles_spec_sealed (spec, len) && api_profiles_open_spec (key, &spec, &len) == 0
           && len == sizeof plain - 1, "a plain spec is left alone");
    REQUIRE (api_profiles_seal_spec (key, &spec, &len) == 0, "seal");
    CHECK (api_profiles_spec_sealed (spec, len) && len > sizeof plain && !memmem (spec, len, "s3cret", 6),
           "sealed: marked, longer, no plain text");
    char *copy = malloc (len);
    REQUIRE (copy, "memory");
    memcpy (copy, spec, len);
    size_t copy_len = len;
    uint8_t other [API_PROFILE_KEY_BYTES];
    memcpy (other, key, sizeof other);
    other [0] ^= 1;
    CHECK (api_profiles_open_spec (other, &copy, &copy_len) == -1, "another key does not open it");
    CHECK (api_profiles_open_spec (NULL, &copy, &copy_len) == -1, "no key does not open it");
    copy [copy_len - 1] ^= 1;
    CHECK (api_profiles_open_spec (key, &copy, &copy_len) == -1, "an altered byte does not open");
    free (copy);
    CHECK (api_profiles_open_spec (key, &spec, &len) == 0 && len == sizeof plain - 1
           && memcmp (spec, plain, len) == 0, "opens to the same bytes");
    free (spec);
    return check_done ("test_capture_profile");
}
