/*  api_profiles.c: capture profiles on the api socket (see api_profiles.h).
    Thread: the scheduler's loop, in the pass's transaction. Memory: opened
    secrets live only for the request and are wiped (sodium_memzero) before
    they are freed; no secret value is logged. */
#include "api_profiles.h"
#include "job_json.h"
#include "log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define S_TAG   crypto_aead_xchacha20poly1305_ietf_ABYTES

int
api_profiles_parse_key (const char *text, uint8_t key [API_PROFILE_KEY_BYTES])
{
    size_t n = text ? strlen (text) : 0, got = 0;
    if (n == 2 * API_PROFILE_KEY_BYTES
    &&  sodium_hex2bin (key, API_PROFILE_KEY_BYTES, text, n, NULL, &got, NULL) == 0
    &&  got == API_PROFILE_KEY_BYTES)
        return 0;
    const int variants [] = { sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                              sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING };
    for (size_t i = 0; n > 0 && i < sizeof variants / sizeof variants [0]; i++)
        if (sodium_base642bin (key, API_PROFILE_KEY_BYTES, text, n, NULL, &got, NULL, variants [i]) == 0
        &&  got == API_PROFILE_KEY_BYTES)
            return 0;
    sodium_memzero (key, API_PROFILE_KEY_BYTES);
    return -1;
}

/* The associated data: the row's id and account, so sealed bytes open only there. */
static void
s_ad (const char *id, const char *account, char *ad, size_t size)
{
    snprintf (ad, size, "%s\n%s", id, account);
}

/* Seals n bytes into nonce || ciphertext (heap), bound to ad. NULL when out
   of memory. */
static uint8_t *
s_seal_bytes (const uint8_t *key, const char *ad, const void *data, size_t n, size_t *len)
{
    uint8_t *out = malloc (S_NONCE + n + S_TAG);
    if (!out)
        return NULL;
    randombytes_buf (out, S_NONCE);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt (out + S_NONCE, &clen, data, n, (const uint8_t *) ad,
                                                strlen (ad), NULL, out, key);
    *len = S_NONCE + (size_t) clen;
    return out;
}

/* Opens sealed bytes into a heap copy with one NUL past *len_out; NULL when
   they do not open with this key and ad (another key, altered, another row). */
static char *
s_open_bytes (const uint8_t *key, const char *ad, const uint8_t *sealed, size_t len, size_t *len_out)
{
    if (len < S_NONCE + S_TAG)
        return NULL;
    char *out = malloc (len - S_NONCE - S_TAG + 1);
    unsigned long long n = 0;
    if (!out || crypto_aead_xchacha20poly1305_ietf_decrypt ((uint8_t *) out, &n, NULL, sealed + S_NONCE,
                                                            len - S_NONCE, (const uint8_t *) ad,
                                                            strlen (ad), sealed, key) != 0) {
        free (out);
        return NULL;
    }
    out [n] = '\0';
    *len_out = (size_t) n;
    return out;
}

static uint8_t *
s_seal (const uint8_t *key, const char *id, const char *account, const char *text, size_t *len)
{
    char ad [2 * PROTO_ID_MAX + 2];
    s_ad (id, account, ad, sizeof ad);
    return s_seal_bytes (key, ad, text, strlen (text), len);
}

static char *
s_open (const uint8_t *key, const char *id, const char *account, const uint8_t *sealed, size_t len,
        size_t *text_len)
{
    char ad [2 * PROTO_ID_MAX + 2];
    s_ad (id, account, ad, sizeof ad);
    return s_open_bytes (key, ad, sealed, len, text_len);
}

/* A sealed task spec: API_SPEC_SEALED, then nonce || ciphertext. */
#define S_SPEC_AD "easel capture task spec"

int
api_profiles_seal_spec (const uint8_t *key, char **spec, size_t *spec_len)
{
    size_t n = 0;
    uint8_t *sealed = s_seal_bytes (key, S_SPEC_AD, *spec, *spec_len, &n);
    char *out = sealed ? malloc (n + 1) : NULL;
    if (!out) {
        free (sealed);
        return -1;
    }
    out [0] = (char) API_SPEC_SEALED;
    memcpy (out + 1, sealed, n);
    free (sealed);
    sodium_memzero (*spec, *spec_len);
    free (*spec);
    *spec = out;
    *spec_len = n + 1;
    return 0;
}

int
api_profiles_open_spec (const uint8_t *key, char **spec, size_t *spec_len)
{
    if (!api_profiles_spec_sealed (*spec, *spec_len))
        return 0;
    size_t n = 0;
    char *open = key ? s_open_bytes (key, S_SPEC_AD, (const uint8_t *) *spec + 1, *spec_len - 1, &n) : NULL;
    if (!open)
        return -1;
    free (*spec);
    *spec = open;
    *spec_len = n;
    return 0;
}

static void
s_wipe_free (char *text, size_t len)
{
    if (text)
        sodium_memzero (text, len);
    free (text);
}

/* The summary of a validated profile body: names, domains and keys, no value. */
static json_t *
s_summary (const char *id, const char *name, int64_t created_ms, json_t *body)
{
    char created [40];
    job_json_time (created_ms, created, sizeof created);
    json_t *cookies = json_array (), *headers = json_array (), *storage = json_array ();
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get (body, "cookies"), i, c) {
        json_t *o = json_pack ("{s:O, s:O}", "name", json_object_get (c, "name"),
                               "domain", json_object_get (c, "domain"));
        if (o && json_object_get (c, "path"))
            json_object_set (o, "path", json_object_get (c, "path"));
        json_array_append_new (cookies, o);
    }
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get (body, "headers"), key, v)
        json_array_append_new (headers, json_string (key));
    json_object_foreach (json_object_get (body, "local_storage"), key, v)
        json_array_append_new (storage, json_string (key));
    json_t *defaults = json_object_get (body, "defaults");
    return json_pack ("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:O}", "id", id, "object", "capture_profile",
                      "name", name, "created_at", created, "cookies", cookies, "headers", headers,
                      "local_storage", storage, "defaults", defaults ? defaults : json_object ());
}

static void
s_create (scheduler_t *self, zframe_t *identity, const proto_profile_req_t *req, const char *account)
{
    json_t *body = req->json ? json_loads (req->json, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *name = json_string_value (json_object_get (body, "name"));
    if (!json_is_object (body) || !name || strlen (name) >= 128) {
        json_decref (body);
        api_error (self, identity, req->rid, 400, "bad_message", "The profile does not decode.", NULL);
        return;
    }
    job_store_profile_t p;
    memset (&p, 0, sizeof p);
    proto_id_new ("cpr_", p.id, sizeof p.id);
    snprintf (p.name, sizeof p.name, "%s", name);
    p.created_at_ms = self->pass.now_ms;
    json_t *secret = json_pack ("{s:O, s:O, s:O}",
                                "cookies", json_object_get (body, "cookies") ? json_object_get (body, "cookies") : json_null (),
                                "headers", json_object_get (body, "headers") ? json_object_get (body, "headers") : json_null (),
                                "local_storage", json_object_get (body, "local_storage")
                                                 ? json_object_get (body, "local_storage") : json_null ());
    char *secret_text = secret ? json_dumps (secret, JSON_COMPACT) : NULL;
    json_decref (secret);
    json_t *summary = s_summary (p.id, p.name, p.created_at_ms, body);
    p.summary = summary ? json_dumps (summary, JSON_COMPACT) : NULL;
    p.sealed = secret_text ? s_seal (self->cfg.profile_key, p.id, account, secret_text, &p.sealed_len) : NULL;
    if (secret_text)
        s_wipe_free (secret_text, strlen (secret_text));
    json_decref (body);
    char err [PROTO_ERR_MAX] = "";
    int rc = p.summary && p.sealed ? job_store_profile_create (self->store, account, &p, err) : -2;
    if (rc == -2)
        api_error (self, identity, req->rid, 500, "internal_error", "Out of memory.", NULL);
    else
    if (rc < 0)
        api_unavailable (self, identity, req->rid, "profile_create", err);
    else
    if (rc == 1)
        api_error (self, identity, req->rid, 409, "profile_name_taken",
                   "This account has a capture profile of that name already; delete it first.", "name");
    else
    if (rc == 2)
        api_error (self, identity, req->rid, 422, "too_many_profiles",
                   "This account holds the most capture profiles it may (100); delete one first.", NULL);
    else
        api_reply_json (self, identity, req->rid, 201, summary ? json_incref (summary) : NULL);
    json_decref (summary);
    free (p.summary);
    free (p.sealed);
}

static void
s_list_one (const job_store_profile_t *p, void *arg)
{
    json_t *item = p->summary ? json_loads (p->summary, 0, NULL) : NULL;
    if (item)
        json_array_append_new (arg, item);
}

/* The account's profile req->id, or 404 / 503 queued (-1). */
static int
s_get (scheduler_t *self, zframe_t *identity, const proto_profile_req_t *req, const char *account,
       job_store_profile_t *p)
{
    char err [PROTO_ERR_MAX] = "";
    int rc = proto_id_valid (req->id, "cpr_") ? job_store_profile_get (self->store, account, req->id, p, err) : 1;
    if (rc < 0)
        api_unavailable (self, identity, req->rid, "profile_get", err);
    if (rc == 1)
        api_error (self, identity, req->rid, 404, "resource_missing", "No such capture profile.", "id");
    return rc ? -1 : 0;
}

/* resolve: the whole profile, secrets opened. */
static void
s_resolve (scheduler_t *self, zframe_t *identity, const proto_profile_req_t *req, const char *account)
{
    job_store_profile_t p;
    if (s_get (self, identity, req, account, &p))
        return;
    size_t len = 0;
    char *text = s_open (self->cfg.profile_key, p.id, account, p.sealed, p.sealed_len, &len);
    json_t *secret = text ? json_loads (text, 0, NULL) : NULL;
    s_wipe_free (text, len);
    json_t *summary = json_loads (p.summary, 0, NULL);
    job_store_profile_free (&p);
    if (!secret) {
        /* sealed with another key, or altered: the operator's to fix */
        log_error ("a capture profile does not open with EASEL_PROFILE_KEY", "profile", req->id, NULL);
        api_error (self, identity, req->rid, 500, "profile_unreadable",
                   "This capture profile cannot be opened with the scheduler's key.", "profile_id");
        json_decref (summary);
        return;
    }
    json_object_set (secret, "name", json_object_get (summary, "name"));
    json_object_set (secret, "defaults", json_object_get (summary, "defaults"));
    json_decref (summary);
    api_reply_json (self, identity, req->rid, 200, secret);
}

void
api_profiles_handle (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_profile_req_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_profile_req_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account) != 0) {
        proto_profile_req_free (&req);
        return;
    }
    if (!self->cfg.has_profile_key) {
        api_error (self, identity, req.rid, 503, "capture_profiles_disabled",
                   "Capture profiles are off: the operator has not set EASEL_PROFILE_KEY on the scheduler.",
                   NULL);
        proto_profile_req_free (&req);
        return;
    }
    job_store_profile_t p;
    if (strcmp (req.action, "create") == 0)
        s_create (self, identity, &req, account);
    else
    if (strcmp (req.action, "list") == 0) {
        json_t *items = json_array ();
        if (job_store_profile_list (self->store, account, s_list_one, items, err)) {
            json_decref (items);
            api_unavailable (self, identity, req.rid, "profile_list", err);
        }
        else
            api_reply_json (self, identity, req.rid, 200, json_pack ("{s:s, s:o}", "object", "list",
                                                                    "data", items));
    }
    else
    if (strcmp (req.action, "show") == 0) {
        if (s_get (self, identity, &req, account, &p) == 0) {
            api_reply_json (self, identity, req.rid, 200, json_loads (p.summary, 0, NULL));
            job_store_profile_free (&p);
        }
    }
    else
    if (strcmp (req.action, "delete") == 0) {
        int rc = proto_id_valid (req.id, "cpr_") ? job_store_profile_delete (self->store, account, req.id, err) : 1;
        if (rc < 0)
            api_unavailable (self, identity, req.rid, "profile_delete", err);
        else
        if (rc == 1)
            api_error (self, identity, req.rid, 404, "resource_missing", "No such capture profile.", "id");
        else
            api_reply_json (self, identity, req.rid, 200, json_pack ("{s:s, s:s, s:b}", "id", req.id,
                                                                    "object", "capture_profile", "deleted", 1));
    }
    else
    if (strcmp (req.action, "resolve") == 0)
        s_resolve (self, identity, &req, account);
    else
        api_error (self, identity, req.rid, 400, "bad_message", "Unknown capture profile action.", "action");
    proto_profile_req_free (&req);
}
