/*  presigned.c: requests on presigned object store URLs (see presigned.h). */
#include "presigned.h"
#include "proto.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int
presigned_md5 (const void *data, size_t len, char hex [33], char b64 [25])
{
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest (len ? data : "", len, md, &n, EVP_md5 (), NULL) != 1 || n != 16)
        return -1;
    for (int i = 0; hex && i < 16; i++)
        snprintf (hex + 2 * i, 3, "%02x", md [i]);
    return EVP_EncodeBlock ((unsigned char *) b64, md, 16) == 24 ? 0 : -1;
}

static size_t
s_body (char *ptr, size_t size, size_t n, void *arg)
{
    presigned_answer_t *a = arg;
    size_t add = size * n, take = add;
    if (a->len + add > a->max) {
        if (!a->truncate) {
            a->over = true;
            return 0;                  /* stops the transfer */
        }
        take = a->max - a->len;
    }
    if (take) {
        uint8_t *grown = realloc (a->body, a->len + take + 1);
        if (!grown)
            return 0;
        memcpy (grown + a->len, ptr, take);
        a->body = grown;
        a->len += take;
        a->body [a->len] = 0;
    }
    return add;
}

/* Keeps the ETag header's value without its quotes. */
static size_t
s_header (char *ptr, size_t size, size_t n, void *arg)
{
    presigned_answer_t *a = arg;
    size_t len = size * n;
    if (len > 5 && strncasecmp (ptr, "ETag:", 5) == 0) {
        const char *v = ptr + 5;
        size_t vlen = len - 5;
        while (vlen && (*v == ' ' || *v == '"'))
            v++, vlen--;
        while (vlen && (v [vlen - 1] == '\r' || v [vlen - 1] == '\n' || v [vlen - 1] == '"' || v [vlen - 1] == ' '))
            vlen--;
        snprintf (a->etag, sizeof a->etag, "%.*s", (int) vlen, v);
    }
    return len;
}

long
presigned_request (const char *method, const char *url, const void *body, size_t len,
                   const char *md5_b64, long connect_ms, long timeout_ms, presigned_answer_t *a,
                   char *err)
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
    for (size_t i = 0; body && i < sizeof lines / sizeof lines [0]; i++)
        if (lines [i] && (next = curl_slist_append (headers, lines [i])))
            headers = next;
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_body);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (c, CURLOPT_HEADERDATA, a);
    if (strcmp (method, "GET") != 0)
        curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, len ? body : "");
    }
    CURLcode rc = curl_easy_perform (c);
    long status = -1;
    if (rc == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
    else
    if (a->over)
        snprintf (err, PROTO_ERR_MAX, "the object is over %zu bytes", a->max);
    else
        snprintf (err, PROTO_ERR_MAX, "%s", curl_easy_strerror (rc));
    curl_slist_free_all (headers);
    curl_easy_cleanup (c);
    return status;
}

void
presigned_answer_free (presigned_answer_t *a)
{
    free (a->body);
    a->body = NULL;
    a->len = 0;
}
