/*  blob_put.c: PUT and DELETE on presigned object store URLs (see blob_put.h). */
#include "blob_put.h"
#include "easel_limits.h"
#include "log.h"
#include "presigned.h"
#include "proto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_ANSWER_MAX 16384             /* an error answer, kept to read its Code */

int
blob_put_upload (const char *url, const void *data, size_t len, const char md5_hex [33],
                 const char *md5_b64, char *err)
{
    presigned_answer_t a = { .max = S_ANSWER_MAX, .truncate = true };
    long status = presigned_request ("PUT", url, data ? data : "", len, md5_b64, EASEL_UPLOAD_CONNECT_TIMEOUT_MS,
                                     EASEL_UPLOAD_TIMEOUT_MS, &a, err);
    const char *body = a.body ? (const char *) a.body : "";
    int rc = 0;
    if (status < 0)
        rc = -1;
    else
    if (status == 400 && (strstr (body, "<Code>BadDigest</Code>") || strstr (body, "<Code>InvalidDigest</Code>"))) {
        snprintf (err, PROTO_ERR_MAX, "the store refused the bytes as not matching their MD5");
        rc = 1;
    }
    else
    if (status != 200) {
        snprintf (err, PROTO_ERR_MAX, "the store answered HTTP %ld to the upload", status);
        rc = -1;
    }
    else
    if (strcmp (a.etag, md5_hex) != 0) {
        snprintf (err, PROTO_ERR_MAX, "the store kept an object with ETag %.40s, not the MD5 %s sent",
                  a.etag, md5_hex);
        rc = 1;
    }
    presigned_answer_free (&a);
    return rc;
}

void
blob_put_delete (const char *url)
{
    presigned_answer_t a = { .max = S_ANSWER_MAX, .truncate = true };
    char err [PROTO_ERR_MAX] = "";
    long status = presigned_request ("DELETE", url, NULL, 0, NULL, EASEL_UPLOAD_CONNECT_TIMEOUT_MS,
                                     EASEL_UPLOAD_TIMEOUT_MS, &a, err);
    presigned_answer_free (&a);
    if (status != 204 && status != 200 && status != 404) {
        char code [16];
        snprintf (code, sizeof code, "%ld", status);
        log_warn ("cannot remove an upload's incoming object; the sweep will", "status", code,
                  "reason", err, NULL);
    }
}
