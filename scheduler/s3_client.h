/*  s3_client.h: signed requests to one bucket of an S3-compatible store.
    An s3_location_t is what EASEL_BLOB_URL says (bucket, key prefix,
    endpoint, region, addressing); an s3_client_t sends one request at a
    time to it, signed by libcurl's built-in AWS SigV4 (nothing of the
    signing is ours), with timeouts on every request and bounded retries
    with backoff on 5xx answers and transport failures.
    Thread: a client belongs to one thread. Memory: the client owns its
    curl handle and a copy of the credentials; a reply's body is the
    caller's (s3_reply_reset). The credentials are never logged nor put in
    an error string. */
#ifndef EASEL_S3_CLIENT_H
#define EASEL_S3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_CONNECT_TIMEOUT_MS   3000      /* TCP (and TLS) connect */
#define S3_REQUEST_TIMEOUT_MS   30000     /* one whole request, body included */
#define S3_ATTEMPTS             3         /* tries of a request on 5xx or transport failure */
#define S3_BACKOFF_MS           100       /* wait before the 2nd try; doubles after */
#define S3_ERROR_BODY_MAX       16384     /* bytes of an error answer kept to read its Code */
#define S3_BUCKET_MAX           63
#define S3_PREFIX_MAX           200
#define S3_REGION_MAX           40
#define S3_ENDPOINT_MAX         400
#define S3_KEY_MAX              (S3_PREFIX_MAX + 80)

typedef struct {
    char bucket [S3_BUCKET_MAX + 1];
    char prefix [S3_PREFIX_MAX + 2];      /* "" or ending in '/' */
    char region [S3_REGION_MAX + 1];
    char scheme [8];                      /* "http" or "https" */
    char host [S3_ENDPOINT_MAX + 1];      /* endpoint host[:port], no path */
    bool path_style;                      /* endpoint/bucket/key, else bucket.host/key */
    /* public_endpoint: the store as users reach it (redirects); "" = the endpoint */
    char public_scheme [8];
    char public_host [S3_ENDPOINT_MAX + 1];
} s3_location_t;

/* Parses `s3://bucket[/prefix][?endpoint=URL&region=R&path_style=0|1&public_endpoint=URL]`
   (query values may be percent-encoded). Defaults: region us-east-1,
   endpoint https://s3.<region>.amazonaws.com, virtual-hosted addressing,
   no public endpoint (redirects name `endpoint`). public_endpoint is the
   same store under the name users reach (a proxy that keeps the Host):
   only URLs handed to users are made for it (s3_client_presign's public_).
   Bucket names are 3..63 of [a-z0-9.-]; a prefix is [A-Za-z0-9._-/].
   0, or -1 with a one-line reason naming the part in err (256 bytes). */
int s3_location_parse (const char *url, s3_location_t *loc, char *err);

/* The location's base URL of object `key`, without the key's prefix
   (virtual-hosted or path-style), into out. 0 / -1 when it does not fit. */
int s3_location_object_url (const s3_location_t *loc, const char *key, char *out, size_t size);

typedef struct _s3_client_t s3_client_t;

/* A client of loc signing with access_key / secret_key (both non-empty).
   connect_to, when not NULL, is a CURLOPT_CONNECT_TO entry
   ("HOST:PORT:ADDR:PORT"), so a virtual-hosted bucket name can reach a
   local server. NULL with a reason in err. */
s3_client_t *s3_client_new (const s3_location_t *loc, const char *access_key,
                            const char *secret_key, const char *connect_to, char *err);
void s3_client_destroy (s3_client_t **self_p);

typedef struct {
    long   status;                    /* HTTP status */
    long long length;                 /* the answer's Content-Length, -1 when unknown */
    char  *body;                      /* the answer's body (NUL-terminated), or NULL */
    size_t len;
    char   code [64];                 /* an error answer's S3 <Code>, or "" */
    char   etag [80];                 /* the answer's ETag without its quotes, or "" */
} s3_reply_t;

/* Frees a reply's body and clears it. */
void s3_reply_reset (s3_reply_t *reply);

/* Sends `method` on `key` (an object key under the bucket, prefix
   included; "" for the bucket itself) with the canonical query string
   `query` (params sorted, values URI-encoded; NULL for none), `body` of
   `len` bytes (NULL for none) and extra header lines `headers` (NULL-ended,
   or NULL). Answers larger than max_body are refused. Retries on 5xx and
   transport failures S3_ATTEMPTS times in all. 0 when an answer came
   (any status: reply filled, its body the caller's), -1 with a one-line
   reason in err (256 bytes) otherwise, reply empty. */
int s3_client_request (s3_client_t *self, const char *method, const char *key, const char *query,
                       const void *body, size_t len, const char *const *headers,
                       size_t max_body, s3_reply_t *reply, char *err);

/* A presigned URL (s3_presign.h) of `method` on `key` with this client's
   location and credentials, valid expires_s seconds from now (content_type:
   NULL, or the Content-Type a GET is answered with). public_: for the
   location's public endpoint when it has one (signed for that host). 0 /
   -1 with a reason in err. */
int s3_client_presign (s3_client_t *self, const char *method, const char *key, const char *content_type,
                       bool public_, int64_t expires_s, char *out, size_t size, char *err);

/* loc as users reach it: its public endpoint in place of its endpoint
   (a copy of loc when it has none). */
void s3_location_public (const s3_location_t *loc, s3_location_t *out);

/* Copies the text of the first <tag>...</tag> of xml (len bytes) into out
   (size bytes) with the five XML entities decoded. Returns a pointer just
   past the closing tag, or NULL when there is none or it does not fit. */
const char *s3_xml_text (const char *xml, size_t len, const char *tag, char *out, size_t size);

/* URI-encodes src for a SigV4 canonical query value (RFC 3986 unreserved
   kept). 0 / -1 when it does not fit. */
int s3_uri_encode (const char *src, char *out, size_t size);

#endif
