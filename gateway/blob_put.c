/*  blob_put.c: PUT and DELETE on presigned object store URLs (see blob_put.h). */
#include "blob_put.h"
#include "easel_limits.h"
#include "log.h"
#include "proto.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_ANSWER_MAX 16384             /* an error answer, kept to read its Code */

typedef struct {
    char   body [S_ANSWER_MAX + 1];
    size_t len;
    char   etag [80];
} s_answer_t;

static size_t
s_body (char *ptr, size_t size, size_t n, void *arg)
{
    s_answer_t *a = arg;
    size_t add = size * n, room = S_ANSWER_MAX - a->len;
    size_t take = add < room ? add : room;
    memcpy (a->body + a->len, ptr, take);
    a->len += take;
    a->body [a->len] = 0;
    return add;                        /* the rest is dropped, not an error */
}

/* Keeps the ETag header's value without its quotes. */
static size_t
s_header (char *ptr, size_t size, size_t n, void *arg)
{
    s_answer_t *a = arg;
    size_t len = size * n;
    if (len > 5 && strncasecmp (ptr, "ETag:", 5) == 0) {
        const char *v = ptr + 5;
        size_t vlen = len - 5;
        while (vlen && (*v == ' ' || *v == '"')) {
            v++;
            vlen--;
        }
        while (vlen && (v [vlen - 1] == '\r' || v [vlen - 1] == '\n' || v [vlen - 1] == '"' || v [vlen - 1] == ' '))
            vlen--;
        snprintf (a->etag, sizeof a->etag, "%.*s", (int) vlen, v);
    }
    return len;
}

int
blob_put_md5 (const void *data, size_t len, char hex [33], char b64 [25])
{
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest (data, len, md, &n, EVP_md5 (), NULL) != 1 || n != 16)
        return -1;
    for (int i = 0; i < 16; i++)
        snprintf (hex + 2 * i, 3, "%02x", md [i]);
    return EVP_EncodeBlock ((unsigned char *) b64, md, 16) == 24 ? 0 : -1;
}

/* One request: the HTTP status, or -1 with err. */
static long
s_request (const char *method, const char *url, const void *data, size_t len, const char *md5_b64,
           s_answer_t *a, char *err)
{
    CURL *c = curl_easy_init ();
    if (!c) {
        snprintf (err, PROTO_ERR_MAX, "cannot start a transfer");
        return -1;
    }
    char h_md5 [64];
    struct curl_slist *headers = NULL, *next = NULL;
    snprintf (h_md5, sizeof h_md5, "Content-MD5: %s", md5_b64 ? md5_b64 : "");
    const char *lines [] = { "Expect:", "Content-Type: application/octet-stream", md5_b64 ? h_md5 : NULL };
    for (size_t i = 0; data && i < sizeof lines / sizeof lines [0]; i++)
        if (lines [i] && (next = curl_slist_append (headers, lines [i])))
            headers = next;
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, (long) EASEL_UPLOAD_CONNECT_TIMEOUT_MS);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, (long) EASEL_UPLOAD_TIMEOUT_MS);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_body);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    if (data) {
        curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, len ? data : "");
    }
    CURLcode rc = curl_easy_perform (c);
    long status = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf (err, PROTO_ERR_MAX, "%s", curl_easy_strerror (rc));
    curl_slist_free_all (headers);
    curl_easy_cleanup (c);
    return status;
}

int
blob_put_upload (const char *url, const void *data, size_t len, const char md5_hex [33],
                 const char *md5_b64, char *err)
{
    static s_answer_t zero;
    s_answer_t a = zero;
    long status = s_request ("PUT", url, data, len, md5_b64, &a, err);
    if (status < 0)
        return -1;
    if (status == 400 && (strstr (a.body, "<Code>BadDigest</Code>") || strstr (a.body, "<Code>InvalidDigest</Code>"))) {
        snprintf (err, PROTO_ERR_MAX, "the store refused the bytes as not matching their MD5");
        return 1;
    }
    if (status != 200) {
        snprintf (err, PROTO_ERR_MAX, "the store answered HTTP %ld to the upload", status);
        return -1;
    }
    if (strcmp (a.etag, md5_hex) != 0) {
        snprintf (err, PROTO_ERR_MAX, "the store kept an object with ETag %.40s, not the MD5 %s sent",
                  a.etag, md5_hex);
        return 1;
    }
    return 0;
}

void
blob_put_delete (const char *url)
{
    static s_answer_t zero;
    s_answer_t a = zero;
    char err [PROTO_ERR_MAX] = "";
    long status = s_request ("DELETE", url, NULL, 0, NULL, &a, err);
    if (status != 204 && status != 200 && status != 404) {
        char code [16];
        snprintf (code, sizeof code, "%ld", status);
        log_warn ("cannot remove an upload's incoming object; the sweep will", "status", code,
                  "reason", err, NULL);
    }
}
