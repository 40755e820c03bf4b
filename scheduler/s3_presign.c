/*  s3_presign.c: presigned S3 URLs (see s3_presign.h).
    Thread: any. Memory: none kept; key material is wiped before return. */
#include "s3_presign.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define S_ERR_MAX 256

static void
s_hex (const unsigned char *bytes, size_t n, char *out)
{
    static const char hex [] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out [2 * i] = hex [bytes [i] >> 4];
        out [2 * i + 1] = hex [bytes [i] & 15];
    }
    out [2 * n] = 0;
}

static int
s_hmac (const void *key, size_t key_len, const char *text, unsigned char out [32])
{
    unsigned int n = 0;
    return HMAC (EVP_sha256 (), key, (int) key_len, (const unsigned char *) text, strlen (text),
                 out, &n) && n == 32 ? 0 : -1;
}

/* The canonical URI of a key: each segment URI-encoded, '/' kept. */
static int
s_canonical_path (const s3_location_t *loc, const char *key, char *out, size_t size)
{
    size_t o = 0;
    int n = loc->path_style ? snprintf (out, size, "/%s/", loc->bucket) : snprintf (out, size, "/");
    if (n < 0 || (size_t) n >= size)
        return -1;
    o = (size_t) n;
    const char *p = key;
    while (*p) {
        size_t seg = strcspn (p, "/");
        char part [S3_KEY_MAX + 1], enc [3 * S3_KEY_MAX + 1];
        if (seg > S3_KEY_MAX)
            return -1;
        memcpy (part, p, seg);
        part [seg] = 0;
        if (s3_uri_encode (part, enc, sizeof enc))
            return -1;
        n = snprintf (out + o, size - o, "%s%s", enc, p [seg] == '/' ? "/" : "");
        if (n < 0 || (size_t) n >= size - o)
            return -1;
        o += (size_t) n;
        p += seg + (p [seg] == '/');
    }
    return 0;
}

int
s3_presign (const s3_location_t *loc, const char *access_key, const char *secret_key,
            const char *method, const char *key, const char *content_type,
            int64_t now_s, int64_t expires_s,
            char *out, size_t size, char *canonical, size_t canonical_size, char *err)
{
    assert (loc && method && key && out && err);
    if (!access_key || !*access_key || !secret_key || !*secret_key) {
        snprintf (err, S_ERR_MAX, "presign: no S3 credentials");
        return -1;
    }
    if (strcmp (method, "GET") && strcmp (method, "PUT") && strcmp (method, "HEAD") && strcmp (method, "DELETE")) {
        snprintf (err, S_ERR_MAX, "presign: method must be GET, PUT, HEAD or DELETE");
        return -1;
    }
    if (expires_s < 1 || expires_s > S3_PRESIGN_EXPIRES_MAX_S) {
        snprintf (err, S_ERR_MAX, "presign: expiry must be 1..%d seconds", S3_PRESIGN_EXPIRES_MAX_S);
        return -1;
    }
    if (!*key || strlen (key) > S3_KEY_MAX) {
        snprintf (err, S_ERR_MAX, "presign: key must be 1..%d bytes", S3_KEY_MAX);
        return -1;
    }
    time_t t = (time_t) now_s;
    struct tm tm;
    char date [16], stamp [20];
    if (!gmtime_r (&t, &tm) || !strftime (date, sizeof date, "%Y%m%d", &tm)
    ||  !strftime (stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm)) {
        snprintf (err, S_ERR_MAX, "presign: bad time");
        return -1;
    }
    char host [S3_ENDPOINT_MAX + S3_BUCKET_MAX + 2], path [4 * S3_KEY_MAX + S3_BUCKET_MAX + 8];
    char scope [S3_REGION_MAX + 64], credential [3 * (512 + S3_REGION_MAX + 64)];
    char query [4096], creq [8192];
    int n = loc->path_style ? snprintf (host, sizeof host, "%s", loc->host)
                            : snprintf (host, sizeof host, "%s.%s", loc->bucket, loc->host);
    if (n < 0 || (size_t) n >= sizeof host || s_canonical_path (loc, key, path, sizeof path)
    ||  strlen (access_key) > 500) {
        snprintf (err, S_ERR_MAX, "presign: host, key or access key too long");
        return -1;
    }
    snprintf (scope, sizeof scope, "%s/%s/s3/aws4_request", date, loc->region);
    char cred_raw [512 + sizeof scope];
    snprintf (cred_raw, sizeof cred_raw, "%s/%s", access_key, scope);
    if (s3_uri_encode (cred_raw, credential, sizeof credential)) {
        snprintf (err, S_ERR_MAX, "presign: access key too long");
        return -1;
    }
    char type_enc [3 * 128] = "";
    if (content_type && (strcmp (method, "GET") || strlen (content_type) > 127
                         || s3_uri_encode (content_type, type_enc, sizeof type_enc))) {
        snprintf (err, S_ERR_MAX, "presign: a content type goes with GET only, at most 127 bytes");
        return -1;
    }
    /* the canonical query: parameters sorted by name (byte order, so
       X-Amz-* before response-*), values encoded */
    n = snprintf (query, sizeof query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s"
                  "&X-Amz-Date=%s&X-Amz-Expires=%lld&X-Amz-SignedHeaders=host%s%s",
                  credential, stamp, (long long) expires_s,
                  *type_enc ? "&response-content-type=" : "", type_enc);
    if (n < 0 || (size_t) n >= sizeof query) {
        snprintf (err, S_ERR_MAX, "presign: query too long");
        return -1;
    }
    n = snprintf (creq, sizeof creq, "%s\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD",
                  method, path, query, host);
    if (n < 0 || (size_t) n >= sizeof creq) {
        snprintf (err, S_ERR_MAX, "presign: canonical request too long");
        return -1;
    }
    if (canonical && snprintf (canonical, canonical_size, "%s", creq) >= (int) canonical_size) {
        snprintf (err, S_ERR_MAX, "presign: canonical request buffer too small");
        return -1;
    }
    unsigned char digest [32];
    char creq_hex [65], to_sign [256];
    if (EVP_Digest (creq, strlen (creq), digest, NULL, EVP_sha256 (), NULL) != 1) {
        snprintf (err, S_ERR_MAX, "presign: sha256 failed");
        return -1;
    }
    s_hex (digest, 32, creq_hex);
    snprintf (to_sign, sizeof to_sign, "AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, scope, creq_hex);

    /* the signing key: HMAC chain from "AWS4" + secret over date, region, service */
    char first [600];
    if (snprintf (first, sizeof first, "AWS4%s", secret_key) >= (int) sizeof first) {
        snprintf (err, S_ERR_MAX, "presign: secret key too long");
        return -1;
    }
    unsigned char k1 [32], k2 [32], sig [32];
    int rc = s_hmac (first, strlen (first), date, k1)
          || s_hmac (k1, 32, loc->region, k2)
          || s_hmac (k2, 32, "s3", k1)
          || s_hmac (k1, 32, "aws4_request", k2)
          || s_hmac (k2, 32, to_sign, sig) ? -1 : 0;
    OPENSSL_cleanse (first, sizeof first);
    OPENSSL_cleanse (k1, sizeof k1);
    OPENSSL_cleanse (k2, sizeof k2);
    if (rc) {
        snprintf (err, S_ERR_MAX, "presign: hmac failed");
        return -1;
    }
    char sig_hex [65];
    s_hex (sig, 32, sig_hex);
    n = snprintf (out, size, "%s://%s%s?%s&X-Amz-Signature=%s", loc->scheme, host, path, query, sig_hex);
    if (n < 0 || (size_t) n >= size) {
        snprintf (err, S_ERR_MAX, "presign: URL over %zu bytes", size);
        return -1;
    }
    return 0;
}
