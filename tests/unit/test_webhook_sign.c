/*  test_webhook_sign.c: webhook signatures match the shipped test vectors, and
    verification accepts valid and rotated deliveries and rejects tampered,
    stale and wrong-secret ones.

        test_webhook_sign VECTORS.json      check the vectors (ctest)
        test_webhook_sign --generate        print the vectors (how the file was made)

    tests/unit/test_webhook_vectors.py checks the same file with an independent
    Python computation, so the C code and the file cannot drift together.  */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "check.h"
#include "webhook_sign.h"

#define SECRET_A   "whsec_ZWFzZWwtdGVzdC12ZWN0b3Itc2VjcmV0LWtleS1BISE="
#define SECRET_OLD "whsec_ZWFzZWwtdGVzdC12ZWN0b3Itc2VjcmV0LWtleS1PTEQ="
#define SECRET_B   "whsec_ZWFzZWwtdGVzdC12ZWN0b3Itc2VjcmV0LWtleS1CISE="
#define EVENT_ID   "evt_01KNS1WNPW9FCHZSK4XNTHMB0H"
#define T0         1767225600
#define BODY       "{\"type\":\"render.succeeded\",\"event_id\":\"" EVENT_ID "\",\"id\":\"rnd_01KNS1WNPW9FCHZSK4XNTHMB0J\",\"status\":\"succeeded\",\"headline\":\"Caf\xc3\xa9 \xe2\x98\x95\"}"

/* Both headers for a list of signing secrets, as the webhooker builds them. */
static void
s_headers (json_t *secrets, int64_t t, const char *body, char *asa, char *std, size_t size)
{
    size_t i;
    json_t *s;
    snprintf (asa, size, "t=%lld", (long long) t);
    std[0] = 0;
    json_array_foreach (secrets, i, s) {
        char a[WEBHOOK_ASA_MAX], b[WEBHOOK_STD_MAX];
        CHECK (webhook_sign_asa (json_string_value (s), t, body, strlen (body), a) == 0,
               "expected webhook_sign_asa to accept secret %s", json_string_value (s));
        CHECK (webhook_sign_std (json_string_value (s), EVENT_ID, t, body, strlen (body), b) == 0,
               "expected webhook_sign_std to accept secret %s", json_string_value (s));
        size_t la = strlen (asa), lb = strlen (std);
        snprintf (asa + la, size - la, "%s", strchr (a, ','));
        snprintf (std + lb, size - lb, "%s%s", lb ? " " : "", b);
    }
}

static json_t *
s_vector (const char *name, const char *verify_secret, json_t *signing, const char *body,
          int64_t now, bool valid)
{
    char asa[WEBHOOK_HEADER_MAX], std[WEBHOOK_HEADER_MAX];
    s_headers (signing, T0, BODY, asa, std, sizeof asa);
    return json_pack ("{s:s, s:s, s:o, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:b}",
        "name", name, "secret", verify_secret, "signing_secrets", signing,
        "webhook_id", EVENT_ID, "timestamp", (json_int_t) T0, "now", (json_int_t) now,
        "signed_body", BODY, "body", body, "x_asa_signature", asa,
        "webhook_signature", std, "valid", valid);
}

/* ed25519 (opt-in "v1a"): a key pair from a fixed seed, so the file is reproducible. */
static json_t *
s_ed25519_vectors (void)
{
    uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char pk64[64], sk64[128], v1a[WEBHOOK_ED_MAX], std[WEBHOOK_STD_MAX], header[WEBHOOK_HEADER_MAX];
    memset (seed, 0x42, sizeof seed);
    crypto_sign_seed_keypair (pk, sk, seed);
    sodium_bin2base64 (pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64 (sk64, sizeof sk64, sk, sizeof sk, sodium_base64_VARIANT_ORIGINAL);
    webhook_sign_ed25519 (sk64, EVENT_ID, T0, BODY, strlen (BODY), v1a);
    webhook_sign_std (SECRET_A, EVENT_ID, T0, BODY, strlen (BODY), std);
    snprintf (header, sizeof header, "%s %s", std, v1a);
    json_t *list = json_array ();
    json_array_append_new (list, json_pack ("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:b}",
        "name", "ed25519_valid", "public_key", pk64, "webhook_id", EVENT_ID,
        "timestamp", (json_int_t) T0, "now", (json_int_t) T0 + 10, "body", BODY,
        "webhook_signature", header, "valid", true));
    json_array_append_new (list, json_pack ("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:b}",
        "name", "ed25519_tampered", "public_key", pk64, "webhook_id", EVENT_ID,
        "timestamp", (json_int_t) T0, "now", (json_int_t) T0 + 10, "body", BODY " ",
        "webhook_signature", header, "valid", false));
    return list;
}

static int
s_generate (void)
{
    json_t *v = json_array ();
    json_array_append_new (v, s_vector ("valid", SECRET_A, json_pack ("[s]", SECRET_A),
                                        BODY, T0 + 10, true));
    json_array_append_new (v, s_vector ("rotated", SECRET_A, json_pack ("[s,s]", SECRET_OLD, SECRET_A),
                                        BODY, T0 + 10, true));
    json_array_append_new (v, s_vector ("tampered", SECRET_A, json_pack ("[s]", SECRET_A),
        "{\"type\":\"render.succeeded\",\"event_id\":\"" EVENT_ID "\",\"id\":\"rnd_01KNS1WNPW9FCHZSK4XNTHMB0J\",\"status\":\"failed\",\"headline\":\"Caf\xc3\xa9 \xe2\x98\x95\"}",
        T0 + 10, false));
    json_array_append_new (v, s_vector ("stale", SECRET_A, json_pack ("[s]", SECRET_A),
                                        BODY, T0 + 301, false));
    json_array_append_new (v, s_vector ("wrong_secret", SECRET_B, json_pack ("[s]", SECRET_A),
                                        BODY, T0 + 10, false));
    /* a secret pasted with its line end is another key: receivers store it trimmed */
    json_array_append_new (v, s_vector ("whitespace_in_secret", SECRET_A "\n", json_pack ("[s]", SECRET_A),
                                        BODY, T0 + 10, false));
    json_t *ed = s_ed25519_vectors ();
    json_t *doc = json_pack ("{s:s, s:i, s:o, s:o}",
        "description", "Easel webhook signature test vectors (CONTRACT 6). For each vector, "
        "signing signed_body at timestamp with every signing_secrets entry gives x_asa_signature "
        "and webhook_signature; a receiver holding `secret` that gets `body` at time `now` "
        "must accept it exactly when `valid` is true. X-ASA: HMAC-SHA256 keyed with the whole "
        "secret string, over \"<t>.<body>\", hex. Standard Webhooks: keyed with the base64-decoded "
        "part after whsec_, over \"<webhook_id>.<t>.<body>\", base64. ed25519_vectors: the \"v1a,\" "
        "entry of webhook_signature is a base64 ed25519 signature over \"<webhook_id>.<t>.<body>\" "
        "that verifies under public_key (base64 of the 32-byte key) exactly when `valid` is true.",
        "tolerance_s", 300, "vectors", v, "ed25519_vectors", ed);
    json_dumpf (doc, stdout, JSON_INDENT (2) | JSON_ENSURE_ASCII);
    fputc ('\n', stdout);
    json_decref (doc);
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc == 2 && strcmp (argv[1], "--generate") == 0)
        return s_generate ();
    if (argc != 2) {
        fprintf (stderr, "usage: test_webhook_sign VECTORS.json | --generate\n");
        return 2;
    }
    json_error_t jerr;
    json_t *doc = json_load_file (argv[1], 0, &jerr);
    if (!doc) {
        fprintf (stderr, "FAIL: cannot read %s: %s (line %d)\n", argv[1], jerr.text, jerr.line);
        return 1;
    }
    int64_t tol = json_integer_value (json_object_get (doc, "tolerance_s"));
    json_t *vectors = json_object_get (doc, "vectors");
    CHECK (json_array_size (vectors) == 6, "expected 6 vectors, found %zu", json_array_size (vectors));
    size_t i;
    json_t *v;
    json_array_foreach (vectors, i, v) {
        const char *name = json_string_value (json_object_get (v, "name"));
        const char *secret = json_string_value (json_object_get (v, "secret"));
        const char *id = json_string_value (json_object_get (v, "webhook_id"));
        const char *signed_body = json_string_value (json_object_get (v, "signed_body"));
        const char *body = json_string_value (json_object_get (v, "body"));
        const char *want_asa = json_string_value (json_object_get (v, "x_asa_signature"));
        const char *want_std = json_string_value (json_object_get (v, "webhook_signature"));
        int64_t t = json_integer_value (json_object_get (v, "timestamp"));
        int64_t now = json_integer_value (json_object_get (v, "now"));
        bool valid = json_is_true (json_object_get (v, "valid"));
        if (!name || !secret || !id || !signed_body || !body || !want_asa || !want_std) {
            CHECK (0, "vector %zu is missing a field", i);
            continue;
        }
        char asa[WEBHOOK_HEADER_MAX], std[WEBHOOK_HEADER_MAX], ts[24];
        s_headers (json_object_get (v, "signing_secrets"), t, signed_body, asa, std, sizeof asa);
        CHECK (strcmp (asa, want_asa) == 0, "[%s] X-ASA-Signature: expected %s, signed %s", name, want_asa, asa);
        CHECK (strcmp (std, want_std) == 0, "[%s] webhook-signature: expected %s, signed %s", name, want_std, std);
        int rc = webhook_verify_asa (secret, want_asa, body, strlen (body), now, tol);
        CHECK ((rc == 0) == valid, "[%s] webhook_verify_asa: expected %s, got %s",
               name, valid ? "accept" : "reject", rc == 0 ? "accept" : "reject");
        snprintf (ts, sizeof ts, "%lld", (long long) t);
        rc = webhook_verify_std (secret, id, ts, want_std, body, strlen (body), now, tol);
        CHECK ((rc == 0) == valid, "[%s] webhook_verify_std: expected %s, got %s",
               name, valid ? "accept" : "reject", rc == 0 ? "accept" : "reject");
    }
    json_array_foreach (json_object_get (doc, "ed25519_vectors"), i, v) {
        const char *name = json_string_value (json_object_get (v, "name"));
        const char *body = json_string_value (json_object_get (v, "body"));
        char ts[24];
        snprintf (ts, sizeof ts, "%lld", (long long) json_integer_value (json_object_get (v, "timestamp")));
        int rc = name && body ? webhook_verify_ed25519 (
            json_string_value (json_object_get (v, "public_key")),
            json_string_value (json_object_get (v, "webhook_id")), ts,
            json_string_value (json_object_get (v, "webhook_signature")), body, strlen (body),
            json_integer_value (json_object_get (v, "now")), tol) : -1;
        bool valid = json_is_true (json_object_get (v, "valid"));
        CHECK ((rc == 0) == valid, "[%s] webhook_verify_ed25519: expected %s", name ? name : "?",
               valid ? "accept" : "reject");
    }
    CHECK (json_array_size (json_object_get (doc, "ed25519_vectors")) == 2, "expected 2 ed25519 vectors");
    /* malformed input is rejected, never crashes */
    const char *b = "{}";
    CHECK (webhook_verify_asa (SECRET_A, "", b, 2, T0, 300) == -1, "expected empty header rejected");
    CHECK (webhook_verify_asa (SECRET_A, "v1=00", b, 2, T0, 300) == -1, "expected header without t rejected");
    CHECK (webhook_verify_asa (SECRET_A, "t=abc,v1=00", b, 2, T0, 300) == -1, "expected non-numeric t rejected");
    CHECK (webhook_verify_asa (SECRET_A, NULL, b, 2, T0, 300) == -1, "expected NULL header rejected");
    char out[WEBHOOK_STD_MAX];
    CHECK (webhook_sign_std ("whsec_not base64!", EVENT_ID, T0, b, 2, out) == -1,
           "expected a secret that is not base64 refused by webhook_sign_std");
    CHECK (webhook_sign_std ("sk_abc", EVENT_ID, T0, b, 2, out) == -1,
           "expected a secret without whsec_ refused by webhook_sign_std");
    /* a future timestamp beyond tolerance is as bad as a stale one */
    char asa[WEBHOOK_ASA_MAX];
    webhook_sign_asa (SECRET_A, T0 + 1000, b, 2, asa);
    CHECK (webhook_verify_asa (SECRET_A, asa, b, 2, T0, 300) == -1, "expected a far-future t rejected");
    CHECK (webhook_verify_asa (SECRET_A, asa, b, 2, T0 + 1000, 300) == 0, "expected a fresh signature accepted");
    json_decref (doc);
    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("webhook_sign: all checks passed\n");
    return check_failures ? 1 : 0;
}
