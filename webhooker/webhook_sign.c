/*  webhook_sign.c: HMAC-SHA256 webhook signatures (see webhook_sign.h).
    OpenSSL EVP_MAC streams "<prefix>" then the body, so a large body is never
    copied. No state; thread safe; all output goes to caller buffers.  */
#include "webhook_sign.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#define S_KEY_MAX 192                  /* decoded Standard Webhooks key bytes */

/* HMAC-SHA256(key, head || body) into out. 0 / -1 on an OpenSSL failure. */
static int
s_hmac (const void *key, size_t key_len, const char *head, const void *body, size_t len,
        uint8_t out[32])
{
    EVP_MAC *mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new (mac) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end ()
    };
    size_t out_len = 0;
    int rc = -1;
    if (ctx
    &&  EVP_MAC_init (ctx, key, key_len, params) == 1
    &&  EVP_MAC_update (ctx, (const unsigned char *) head, strlen (head)) == 1
    &&  (len == 0 || EVP_MAC_update (ctx, body, len) == 1)
    &&  EVP_MAC_final (ctx, out, &out_len, 32) == 1
    &&  out_len == 32)
        rc = 0;
    EVP_MAC_CTX_free (ctx);
    EVP_MAC_free (mac);
    return rc;
}

static bool
s_secret_ok (const char *secret)
{
    return secret && *secret && strnlen (secret, WEBHOOK_SECRET_MAX + 1) <= WEBHOOK_SECRET_MAX;
}

/* The hex digest for the ASA scheme into hex (65 bytes). 0 / -1. */
static int
s_asa_hex (const char *secret, int64_t t, const void *body, size_t len, char hex[65])
{
    char head[32];
    uint8_t mac[32];
    if (!s_secret_ok (secret))
        return -1;
    snprintf (head, sizeof head, "%" PRId64 ".", t);
    if (s_hmac (secret, strlen (secret), head, body, len, mac))
        return -1;
    sodium_bin2hex (hex, 65, mac, sizeof mac);
    return 0;
}

/* The base64 digest for the Standard Webhooks scheme into b64 (45 bytes). 0 / -1. */
static int
s_std_b64 (const char *secret, const char *id, int64_t t, const void *body, size_t len,
           char b64[45])
{
    const size_t plen = strlen (WEBHOOK_SECRET_PREFIX);
    uint8_t key[S_KEY_MAX];
    size_t key_len = 0;
    char head[128];
    uint8_t mac[32];
    if (!s_secret_ok (secret) || !id || !*id || strncmp (secret, WEBHOOK_SECRET_PREFIX, plen) != 0)
        return -1;
    const char *enc = secret + plen;
    if (sodium_base642bin (key, sizeof key, enc, strlen (enc), NULL, &key_len, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0 || key_len == 0)
        return -1;
    int n = snprintf (head, sizeof head, "%s.%" PRId64 ".", id, t);
    int rc = (n > 0 && (size_t) n < sizeof head) ? s_hmac (key, key_len, head, body, len, mac) : -1;
    sodium_memzero (key, sizeof key);
    if (rc)
        return -1;
    sodium_bin2base64 (b64, 45, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

int
webhook_sign_asa (const char *secret, int64_t t, const void *body, size_t len,
                  char out[WEBHOOK_ASA_MAX])
{
    char hex[65];
    if (s_asa_hex (secret, t, body, len, hex))
        return -1;
    snprintf (out, WEBHOOK_ASA_MAX, "t=%" PRId64 ",v1=%s", t, hex);
    return 0;
}

int
webhook_sign_std (const char *secret, const char *id, int64_t t,
                  const void *body, size_t len, char out[WEBHOOK_STD_MAX])
{
    char b64[45];
    if (s_std_b64 (secret, id, t, body, len, b64))
        return -1;
    snprintf (out, WEBHOOK_STD_MAX, "v1,%s", b64);
    return 0;
}

/* Parses a whole decimal timestamp. 0 / -1. */
static int
s_parse_t (const char *s, size_t n, int64_t *out)
{
    char buf[24];
    char *end = NULL;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy (buf, s, n);
    buf[n] = 0;
    if (buf[0] < '0' || buf[0] > '9')
        return -1;
    long long v = strtoll (buf, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static bool
s_fresh (int64_t t, int64_t now, int64_t tolerance_s)
{
    int64_t age = now - t;
    return age <= tolerance_s && age >= -tolerance_s;
}

/* Constant-time match of a candidate (n bytes) against the expected NUL-terminated digest. */
static bool
s_match (const char *cand, size_t n, const char *expected)
{
    return n == strlen (expected) && CRYPTO_memcmp (cand, expected, n) == 0;
}

int
webhook_verify_asa (const char *secret, const char *header, const void *body, size_t len,
                    int64_t now, int64_t tolerance_s)
{
    if (!header || strnlen (header, WEBHOOK_HEADER_MAX + 1) > WEBHOOK_HEADER_MAX)
        return -1;
    /* First pass: the timestamp; second pass: the v1 entries. */
    int64_t t = 0;
    bool have_t = false;
    for (const char *p = header; *p; ) {
        size_t n = strcspn (p, ",");
        if (n > 2 && strncmp (p, "t=", 2) == 0) {
            if (have_t || s_parse_t (p + 2, n - 2, &t))
                return -1;
            have_t = true;
        }
        p += n + (p[n] == ',');
    }
    char hex[65];
    if (!have_t || !s_fresh (t, now, tolerance_s) || s_asa_hex (secret, t, body, len, hex))
        return -1;
    bool ok = false;
    for (const char *p = header; *p; ) {
        size_t n = strcspn (p, ",");
        if (n > 3 && strncmp (p, "v1=", 3) == 0 && s_match (p + 3, n - 3, hex))
            ok = true;
        p += n + (p[n] == ',');
    }
    return ok ? 0 : -1;
}

int
webhook_verify_std (const char *secret, const char *id, const char *timestamp,
                    const char *sig_header, const void *body, size_t len,
                    int64_t now, int64_t tolerance_s)
{
    int64_t t = 0;
    char b64[45];
    if (!timestamp || !sig_header || strnlen (sig_header, WEBHOOK_HEADER_MAX + 1) > WEBHOOK_HEADER_MAX
    ||  s_parse_t (timestamp, strlen (timestamp), &t) || !s_fresh (t, now, tolerance_s)
    ||  s_std_b64 (secret, id, t, body, len, b64))
        return -1;
    bool ok = false;
    for (const char *p = sig_header; *p; ) {
        size_t n = strcspn (p, " ");
        if (n > 3 && strncmp (p, "v1,", 3) == 0 && s_match (p + 3, n - 3, b64))
            ok = true;
        p += n + (p[n] == ' ');
    }
    return ok ? 0 : -1;
}
