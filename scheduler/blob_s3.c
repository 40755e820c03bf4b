/*  blob_s3.c: the blob store's S3 backend (see blob_s3.h).
    Thread: the owner's. Memory: the backend owns its client; get's buffer
    is the caller's. */
#include "blob_s3.h"
#include "presigned.h"
#include "s3_client.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_ERR_MAX 256

typedef struct {
    s3_location_t loc;
    s3_client_t *client;
    int page_keys;                     /* max-keys of a list page */
} s_s3_t;

static const blob_backend_t s_s3_ops;

/* The object key of blob sha256. */
static void
s_key (s_s3_t *self, const char *sha256, char key [S3_KEY_MAX])
{
    snprintf (key, S3_KEY_MAX, "%s%.2s/%s", self->loc.prefix, sha256, sha256);
}

/* "<what>: <status> <Code>" for an S3 error answer. */
static void
s_http_error (char *err, const char *what, const s3_reply_t *reply)
{
    snprintf (err, S_ERR_MAX, "s3 %s: HTTP %ld%s%s", what, reply->status,
              *reply->code ? " " : "", reply->code);
}

static void
s_s3_destroy (void *impl)
{
    s_s3_t *self = impl;
    s3_client_destroy (&self->client);
    free (self);
}

static const char *
s_env (const char *name, const char *fallback)
{
    const char *v = getenv (name);
    return v && *v ? v : getenv (fallback);
}

blob_store_t *
blob_s3_new (const char *url, const char *connect_to, char *err)
{
    assert (url && err);
    s_s3_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, S_ERR_MAX, "out of memory");
        return NULL;
    }
    self->page_keys = BLOB_S3_LIST_PAGE_KEYS;
    if (s3_location_parse (url, &self->loc, err)) {
        free (self);
        return NULL;
    }
    self->client = s3_client_new (&self->loc, s_env ("EASEL_S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
                                  s_env ("EASEL_S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"), connect_to, err);
    if (!self->client) {
        free (self);
        return NULL;
    }
    s3_reply_t reply;
    char why [S_ERR_MAX];
    if (s3_client_request (self->client, "HEAD", "", NULL, NULL, 0, NULL, S3_ERROR_BODY_MAX,
                           &reply, why)) {
        snprintf (err, S_ERR_MAX, "s3 bucket %s: %s", self->loc.bucket, why);
        s_s3_destroy (self);
        return NULL;
    }
    if (reply.status != 200) {
        char what [S3_BUCKET_MAX + 16];
        snprintf (what, sizeof what, "bucket %s", self->loc.bucket);
        /* a HEAD answer has no body: name the usual causes */
        if (!*reply.code && reply.status == 404)
            snprintf (reply.code, sizeof reply.code, "NoSuchBucket");
        else
        if (!*reply.code && reply.status == 403)
            snprintf (reply.code, sizeof reply.code, "AccessDenied (check the credentials)");
        s_http_error (err, what, &reply);
        s3_reply_reset (&reply);
        s_s3_destroy (self);
        return NULL;
    }
    s3_reply_reset (&reply);
    blob_store_t *store = blob_store_wrap (&s_s3_ops, self);
    if (!store)
        snprintf (err, S_ERR_MAX, "out of memory");
    return store;
}

/* Base64 of the MD5 of data, for Content-MD5. */
static int
s_content_md5 (const void *data, size_t len, char out [32])
{
    return presigned_md5 (data, len, NULL, out);
}

static int
s_s3_put (void *impl, const void *data, size_t len, const char *sha256, char *err)
{
    s_s3_t *self = impl;
    char key [S3_KEY_MAX];
    s_key (self, sha256, key);
    s3_reply_t reply;
    char why [S_ERR_MAX];
    /* same name, same size: the same bytes are there */
    if (s3_client_request (self->client, "HEAD", key, NULL, NULL, 0, NULL, S3_ERROR_BODY_MAX,
                           &reply, why) == 0) {
        bool there = reply.status == 200 && reply.length == (long long) len;
        s3_reply_reset (&reply);
        if (there)
            return 0;
    }
    char md5 [32], h_md5 [64], h_sha [96];
    if (s_content_md5 (data, len, md5)) {
        snprintf (err, S_ERR_MAX, "s3 PUT %s: cannot compute Content-MD5", key);
        return -1;
    }
    snprintf (h_md5, sizeof h_md5, "Content-MD5: %s", md5);
    snprintf (h_sha, sizeof h_sha, "x-amz-content-sha256: %s", sha256);
    const char *headers [] = { h_md5, h_sha, NULL };
    /* an empty blob still needs a body pointer, or no body is sent */
    if (s3_client_request (self->client, "PUT", key, NULL, len ? data : "", len, headers,
                           S3_ERROR_BODY_MAX, &reply, why)) {
        snprintf (err, S_ERR_MAX, "s3 %s", why);
        return -1;
    }
    int rc = 0;
    if (reply.status != 200) {
        char what [S3_KEY_MAX + 8];
        snprintf (what, sizeof what, "PUT %s", key);
        s_http_error (err, what, &reply);
        rc = -1;
    }
    s3_reply_reset (&reply);
    return rc;
}

static void *
s_s3_get (void *impl, const char *sha256, size_t max, size_t *len_out, char *err)
{
    s_s3_t *self = impl;
    char key [S3_KEY_MAX];
    s_key (self, sha256, key);
    s3_reply_t reply;
    char why [S_ERR_MAX];
    if (s3_client_request (self->client, "GET", key, NULL, NULL, 0, NULL, max, &reply, why)) {
        snprintf (err, S_ERR_MAX, "blob %s: s3 %s", sha256, why);
        return NULL;
    }
    if (reply.status != 200) {
        if (reply.status == 404)
            snprintf (err, S_ERR_MAX, "blob %s missing (s3 %s)", sha256, *reply.code ? reply.code : "404");
        else {
            char what [S3_KEY_MAX + 8];
            snprintf (what, sizeof what, "GET %s", key);
            s_http_error (err, what, &reply);
        }
        s3_reply_reset (&reply);
        return NULL;
    }
    char got [65];
    util_sha256_hex (reply.body ? reply.body : "", reply.len, got);
    if (strcmp (got, sha256) != 0) {
        snprintf (err, S_ERR_MAX, "blob %s: the object's bytes hash to %.16s...", sha256, got);
        s3_reply_reset (&reply);
        return NULL;
    }
    char *data = reply.body;
    if (!data && !(data = calloc (1, 1))) {
        snprintf (err, S_ERR_MAX, "out of memory");
        return NULL;
    }
    *len_out = reply.len;
    return data;
}

/* DELETE of one object key. 0 (also when it was not there) / -1. */
static int
s_delete_key (s_s3_t *self, const char *key)
{
    s3_reply_t reply;
    char why [S_ERR_MAX];
    if (s3_client_request (self->client, "DELETE", key, NULL, NULL, 0, NULL, S3_ERROR_BODY_MAX,
                           &reply, why))
        return -1;
    /* S3 answers 204 whether or not the key was there */
    int rc = reply.status == 204 || reply.status == 200 || reply.status == 404 ? 0 : -1;
    s3_reply_reset (&reply);
    return rc;
}

static int
s_s3_delete (void *impl, const char *sha256)
{
    s_s3_t *self = impl;
    char key [S3_KEY_MAX];
    s_key (self, sha256, key);
    return s_delete_key (self, key);
}

/* Seconds since the epoch of an S3 timestamp "2026-12-04T14:53:41.000Z". */
static int64_t
s_iso_time (const char *s)
{
    struct tm tm = { 0 };
    if (sscanf (s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t) timegm (&tm);
}

/* Lists the objects under prefix (pages of the bucket listing) and removes
   each older than older_than_s that is a blob no row knows (known given) or,
   known NULL, any incoming object. Number removed. */
static int
s_sweep (s_s3_t *self, const char *prefix, int64_t older_than_s,
         int (*known) (const char *sha256, void *arg), void *arg)
{
    char prefix_enc [3 * S3_KEY_MAX];
    if (s3_uri_encode (prefix, prefix_enc, sizeof prefix_enc))
        return 0;
    size_t plen = strlen (prefix);
    char token [1024] = "";
    int removed = 0;
    int64_t now = (int64_t) time (NULL);
    for (int page = 0; page < BLOB_S3_LIST_PAGES_MAX; page++) {
        char query [4096], token_enc [3 * sizeof token];
        if (s3_uri_encode (token, token_enc, sizeof token_enc))
            break;
        /* the canonical order: parameters sorted by name */
        snprintf (query, sizeof query, "%s%s%slist-type=2&max-keys=%d&prefix=%s",
                  *token ? "continuation-token=" : "", token_enc, *token ? "&" : "",
                  self->page_keys, prefix_enc);
        s3_reply_t reply;
        char why [S_ERR_MAX];
        if (s3_client_request (self->client, "GET", "", query, NULL, 0, NULL, BLOB_S3_LIST_BODY_MAX,
                               &reply, why))
            break;
        if (reply.status != 200 || !reply.body) {
            s3_reply_reset (&reply);
            break;
        }
        const char *p = reply.body, *end = reply.body + reply.len;
        char block [4096];
        while (p < end) {
            const char *next = s3_xml_text (p, (size_t) (end - p), "Contents", block, sizeof block);
            if (!next)
                break;
            p = next;
            char key [S3_KEY_MAX], when [64];
            if (!s3_xml_text (block, strlen (block), "Key", key, sizeof key)
            ||  !s3_xml_text (block, strlen (block), "LastModified", when, sizeof when))
                continue;
            /* only names this store writes: <prefix>ab/<64 hex>, <prefix>incoming/<name> */
            const char *name = key + plen;
            if (strncmp (key, prefix, plen) != 0 || !*name || strchr (name, '/'))
                continue;
            if (known && (strlen (name) != 64 || strspn (name, "0123456789abcdef") != 64
                          || strncmp (name, prefix + plen - 3, 2) != 0))
                continue;
            int64_t t = s_iso_time (when);
            if (t < 0 || now - t < older_than_s)
                continue;
            if (known ? known (name, arg) == 0 && s_s3_delete (self, name) == 0
                      : s_delete_key (self, key) == 0)
                removed++;
        }
        char truncated [8] = "";
        s3_xml_text (reply.body, reply.len, "IsTruncated", truncated, sizeof truncated);
        bool more = strcmp (truncated, "true") == 0
                 && s3_xml_text (reply.body, reply.len, "NextContinuationToken", token, sizeof token)
                 && *token;
        s3_reply_reset (&reply);
        if (!more)
            break;
    }
    return removed;
}

static int
s_s3_scan_shard (void *impl, int shard, int64_t older_than_s,
                 int (*known) (const char *sha256, void *arg), void *arg)
{
    s_s3_t *self = impl;
    char prefix [S3_KEY_MAX];
    snprintf (prefix, sizeof prefix, "%s%02x/", self->loc.prefix, (unsigned) shard);
    int removed = s_sweep (self, prefix, older_than_s, known, arg);
    if (shard == 0) {
        snprintf (prefix, sizeof prefix, "%sincoming/", self->loc.prefix);
        removed += s_sweep (self, prefix, older_than_s, NULL, NULL);
    }
    return removed;
}

static int
s_s3_presign (void *impl, const char *method, const char *sha256, const char *content_type,
              bool public_, int64_t expires_s, char *out, size_t size, char *err)
{
    s_s3_t *self = impl;
    char key [S3_KEY_MAX];
    s_key (self, sha256, key);
    return s3_client_presign (self->client, method, key, content_type, public_, expires_s, out, size, err);
}

/* The key of incoming object name: <prefix>incoming/<name>. */
static void
s_incoming_key (s_s3_t *self, const char *name, char key [S3_KEY_MAX])
{
    snprintf (key, S3_KEY_MAX, "%sincoming/%s", self->loc.prefix, name);
}

static int
s_s3_incoming_url (void *impl, const char *method, const char *name, int64_t expires_s,
                   char *out, size_t size, char *err)
{
    s_s3_t *self = impl;
    char key [S3_KEY_MAX];
    s_incoming_key (self, name, key);
    return s3_client_presign (self->client, method, key, NULL, false, expires_s, out, size, err);
}

static int
s_s3_incoming_del (void *impl, const char *name)
{
    s_s3_t *self = impl;
    char key [S3_KEY_MAX];
    s_incoming_key (self, name, key);
    return s_delete_key (self, key);
}

/* HEAD of key: 1 there (reply filled), 0 missing, -1 with err. */
static int
s_head (s_s3_t *self, const char *key, s3_reply_t *reply, char *err)
{
    char why [S_ERR_MAX];
    if (s3_client_request (self->client, "HEAD", key, NULL, NULL, 0, NULL, S3_ERROR_BODY_MAX,
                           reply, why)) {
        snprintf (err, S_ERR_MAX, "s3 %s", why);
        return -1;
    }
    if (reply->status == 200)
        return 1;
    if (reply->status == 404)
        return 0;
    char what [S3_KEY_MAX + 8];
    snprintf (what, sizeof what, "HEAD %s", key);
    s_http_error (err, what, reply);
    return -1;
}

static int
s_s3_adopt (void *impl, const char *name, const char *sha256, int64_t len, const char *md5,
            char *err)
{
    s_s3_t *self = impl;
    char in [S3_KEY_MAX], key [S3_KEY_MAX];
    s_incoming_key (self, name, in);
    s_key (self, sha256, key);
    s3_reply_t reply;
    int there = s_head (self, in, &reply, err);
    bool bad = there == 0;
    if (there == 0)
        snprintf (err, S_ERR_MAX, "the upload %s is not in the store", name);
    else
    if (there == 1 && (reply.length != (long long) len || strcmp (reply.etag, md5) != 0)) {
        snprintf (err, S_ERR_MAX, "the upload %s has %lld bytes and ETag %.32s, not the %lld bytes"
                  " and MD5 %.32s its result names", name, reply.length, reply.etag, (long long) len, md5);
        /* never adoptable: gone now rather than at the sweep */
        s_delete_key (self, in);
        bad = true;
        there = 0;
    }
    s3_reply_reset (&reply);
    if (there != 1) {
        errno = bad ? EBADMSG : EIO;
        return -1;
    }
    int have = s_head (self, key, &reply, err);
    bool same = have == 1 && reply.length == (long long) len;
    s3_reply_reset (&reply);
    if (have < 0) {
        errno = EIO;
        return -1;
    }
    if (!same) {
        /* a copy inside the store: the bytes never leave it */
        /* bucket names, prefixes and incoming names need no escaping */
        char h_src [S3_KEY_MAX + S3_BUCKET_MAX + 32];
        snprintf (h_src, sizeof h_src, "x-amz-copy-source: /%s/%s", self->loc.bucket, in);
        const char *headers [] = { h_src, NULL };
        char why [S_ERR_MAX];
        if (s3_client_request (self->client, "PUT", key, NULL, "", 0, headers, S3_ERROR_BODY_MAX,
                               &reply, why)) {
            snprintf (err, S_ERR_MAX, "s3 %s", why);
            errno = EIO;
            return -1;
        }
        char etag [80] = "";
        /* a copy may fail after its 200: the body then holds an Error */
        bool copied = reply.status == 200 && reply.body
                   && s3_xml_text (reply.body, reply.len, "ETag", etag, sizeof etag);
        if (!copied) {
            char what [2 * S3_KEY_MAX];
            snprintf (what, sizeof what, "copy %s to %s", in, key);
            s_http_error (err, what, &reply);
        }
        s3_reply_reset (&reply);
        if (!copied) {
            errno = EIO;
            return -1;
        }
    }
    s_delete_key (self, in);          /* when it fails, the sweep removes it */
    return 0;
}

void
blob_s3_set_list_page (blob_store_t *store, int keys)
{
    s_s3_t *self = blob_store_impl (store, &s_s3_ops);
    if (self && keys >= 1 && keys <= BLOB_S3_LIST_PAGE_KEYS)
        self->page_keys = keys;
}

static const blob_backend_t s_s3_ops = {
    .name = "s3", .put = s_s3_put, .get = s_s3_get, .del = s_s3_delete,
    .scan_shard = s_s3_scan_shard, .destroy = s_s3_destroy, .presign = s_s3_presign,
    .incoming_url = s_s3_incoming_url, .incoming_del = s_s3_incoming_del, .adopt = s_s3_adopt,
};
