/*  presigned.h: requests on presigned object store URLs, and the MD5 an
    S3 PUT is checked by. With blobs on an S3-compatible store the
    scheduler presigns each object a gateway (an upload) or a renderer (a
    task's inputs and result) reads or writes, so they hold no credentials;
    this is their one HTTP client for those URLs. A URL's query is a
    signature: it is never logged, nor put in err.
    Thread: any (one libcurl handle per call). Memory: an answer's body is
    the caller's (presigned_answer_free). */
#ifndef EASEL_PRESIGNED_H
#define EASEL_PRESIGNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t   max;                  /* set by the caller: the most body bytes kept */
    bool     truncate;             /* past max: keep the first max and go on (an error
                                      answer read for its Code); false: stop, over */
    uint8_t *body;                 /* NUL-terminated past len; NULL when empty */
    size_t   len;
    bool     over;                 /* the body ran past max and the transfer stopped */
    char     etag [80];            /* the ETag header's value without quotes, "" none */
} presigned_answer_t;

/* Hex MD5 of data into hex (33 bytes; NULL: not wanted) and its base64,
   Content-MD5's form, into b64 (25 bytes). 0 / -1. */
int presigned_md5 (const void *data, size_t len, char hex [33], char b64 [25]);

/* One request: method (GET, PUT, DELETE) on url, with body[0..len) when
   body is not NULL (Content-Type application/octet-stream, and Content-MD5
   md5_b64 when not NULL), within connect_ms to connect and timeout_ms in
   all; the answer's body (up to a->max) and ETag into a. The HTTP status,
   or -1 with err (PROTO_ERR_MAX bytes: libcurl's reason, or the body over
   a->max). */
long presigned_request (const char *method, const char *url, const void *body, size_t len,
                        const char *md5_b64, long connect_ms, long timeout_ms, presigned_answer_t *a,
                        char *err);

/* Frees a->body; a can be reused. Safe twice. */
void presigned_answer_free (presigned_answer_t *a);

#endif
