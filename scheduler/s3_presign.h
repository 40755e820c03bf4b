/*  s3_presign.h: presigned S3 URLs (AWS Signature V4 in the query string),
    so a client without credentials can GET or PUT one object until the URL
    expires. libcurl signs the requests Easel sends itself but makes no
    presigned URL, so the canonical request and the string to sign are
    built here, to the SigV4 documentation; OpenSSL does the SHA-256 and
    HMAC. The signed header is `host` alone and the payload UNSIGNED-PAYLOAD.
    Thread: any (no state). Memory: the caller's buffers. */
#ifndef EASEL_S3_PRESIGN_H
#define EASEL_S3_PRESIGN_H

#include "s3_client.h"

#include <stdint.h>

#define S3_PRESIGN_EXPIRES_MAX_S  604800    /* SigV4's limit: 7 days */
#define S3_PRESIGN_URL_MAX        4096

/* Writes into out (size bytes) the URL that lets anyone send `method`
   ("GET", "PUT", "HEAD" or "DELETE") on object `key` of loc for
   expires_s seconds (1..S3_PRESIGN_EXPIRES_MAX_S) counted from now_s (unix
   seconds: the signature's date). 0, or -1 with a one-line reason in err
   (256 bytes) that never carries the secret. When canonical is not NULL
   the canonical request is copied there (canonical_size bytes): the
   tests compare it with the documentation's. content_type, when not NULL
   (GET only), is signed in as `response-content-type`, the Content-Type
   the store answers with. */
int s3_presign (const s3_location_t *loc, const char *access_key, const char *secret_key,
                const char *method, const char *key, const char *content_type,
                int64_t now_s, int64_t expires_s,
                char *out, size_t size, char *canonical, size_t canonical_size, char *err);

#endif
