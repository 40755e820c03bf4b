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

/* ---- ed25519 ---------------------------------------------------------------- */

/* "<id>.<t>." then the body, in one heap buffer (ed25519 signs whole messages). */
static uint8_t *
s_ed_message (const char *id, int64_t t, const void *body, size_t len, size_t *out_len)
{
    char head[128];
    int n = snprintf (head, sizeof head, "%s.%" PRId64 ".", id, t);
    if (n < 0 || (size_t) n >= sizeof head)
        return NULL;
    uint8_t *msg = malloc ((size_t) n + len + 1);
    if (!msg)
        return NULL;
    memcpy (msg, head, (size_t) n);
    if (len)
        memcpy (msg + n, body, len);
    *out_len = (size_t) n + len;
    return msg;
}

int
webhook_sign_ed25519 (const char *secret_key_b64, const char *id, int64_t t,
                      const void *body, size_t len, char out[WEBHOOK_ED_MAX])
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES + 8], sig[crypto_sign_BYTES];
    size_t sk_len = 0, msg_len = 0;
    if (!secret_key_b64 || !id || !*id
    ||  sodium_base642bin (sk, sizeof sk, secret_key_b64, strlen (secret_key_b64), NULL, &sk_len,
                           NULL, sodium_base64_VARIANT_ORIGINAL) != 0
    ||  sk_len != crypto_sign_SECRETKEYBYTES)
        return -1;
    uint8_t *msg = s_ed_message (id, t, body, len, &msg_len);
    int rc = msg ? crypto_sign_detached (sig, NULL, msg, msg_len, sk) : -1;
    sodium_memzero (sk, sizeof sk);
    free (msg);
    if (rc)
        return -1;
    memcpy (out, "v1a,", 4);
    sodium_bin2base64 (out + 4, WEBHOOK_ED_MAX - 4, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

int
webhook_verify_ed25519 (const char *public_key_b64, const char *id, const char *timestamp,
                        const char *sig_header, const void *body, size_t len,
                        int64_t now, int64_t tolerance_s)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES + 8], sig[crypto_sign_BYTES + 8];
    size_t pk_len = 0, msg_len = 0, sig_len = 0;
    int64_t t = 0;
    if (!public_key_b64 || !id || !*id || !timestamp || !sig_header
    ||  strnlen (sig_header, WEBHOOK_HEADER_MAX + 1) > WEBHOOK_HEADER_MAX
    ||  s_parse_t (timestamp, strlen (timestamp), &t) || !s_fresh (t, now, tolerance_s)
    ||  sodium_base642bin (pk, sizeof pk, public_key_b64, strlen (public_key_b64), NULL, &pk_len,
                           NULL, sodium_base64_VARIANT_ORIGINAL) != 0
    ||  pk_len != crypto_sign_PUBLICKEYBYTES)
        return -1;
    uint8_t *msg = s_ed_message (id, t, body, len, &msg_len);
    if (!msg)
        return -1;
    bool ok = false;
    for (const char *p = sig_header; *p && !ok; ) {
        size_t n = strcspn (p, " ");
        if (n > 4 && strncmp (p, "v1a,", 4) == 0
        &&  sodium_base642bin (sig, sizeof sig, p + 4, n - 4, NULL, &sig_len, NULL,
                               sodium_base64_VARIANT_ORIGINAL) == 0
        &&  sig_len == crypto_sign_BYTES
        &&  crypto_sign_verify_detached (sig, msg, msg_len, pk) == 0)
            ok = true;
        p += n + (p[n] == ' ');
    }
    free (msg);
    return ok ? 0 : -1;
}
