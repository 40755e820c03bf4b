/*  blob_put.h: the gateway's own writes to the object store. With blobs on
    an S3-compatible store the scheduler presigns an incoming object for an
    upload (UPLOAD_BEGIN) and the gateway PUTs the bytes there itself, so
    they never cross the bus nor the scheduler. The URLs come from the
    scheduler over the authenticated bus and name the operator's store; they
    are never logged (their query is a signature).
    Thread: any request thread (one libcurl handle per call). Memory: the
    caller's buffers. */
#ifndef EASEL_BLOB_PUT_H
#define EASEL_BLOB_PUT_H

#include <stddef.h>

/* PUTs data[0..len) to the presigned `url` (presigned.h) with Content-MD5 (so the store
   refuses bytes that arrive changed), within EASEL_UPLOAD_TIMEOUT_MS.
   0 when the store answered 200 with ETag md5_hex; 1 when it refused the
   bytes as not matching their MD5 (400 BadDigest / InvalidDigest) or kept
   others (another ETag): err says which; -1 (err) when it could not be
   reached or answered anything else. err is PROTO_ERR_MAX bytes and never
   carries the URL. */
int blob_put_upload (const char *url, const void *data, size_t len, const char md5_hex [33],
                     const char *md5_b64, char *err);

/* DELETEs the presigned `url` (an upload that could not finish); its
   outcome is only logged, the scheduler's sweep removes what is left. */
void blob_put_delete (const char *url);

#endif
