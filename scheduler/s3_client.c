/*  s3_client.c: signed requests to one S3 bucket (see s3_client.h).
    Thread: the owner's. Memory: the client owns its curl handle and the
    credentials (wiped on destroy); a reply's body is the caller's. */
#include "s3_client.h"
#include "s3_presign.h"
#include "util.h"

#include <assert.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_ERR_MAX 256
#define S_URL_MAX (S3_ENDPOINT_MAX + S3_BUCKET_MAX + S3_KEY_MAX + 2048)

struct _s3_client_t {
    s3_location_t loc;
    CURL *curl;
    char *access_key;
    char *secret_key;
    char  sigv4 [S3_REGION_MAX + 16];      /* "aws:amz:<region>:s3" */
    struct curl_slist *connect_to;
};

/* Decodes %XX escapes of src[0..n) into out. -1 on a bad escape or no room. */
static int
s_percent_decode (const char *src, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src [i];
        if (c == '%') {
            if (i + 2 >= n || !isxdigit ((unsigned char) src [i + 1]) || !isxdigit ((unsigned char) src [i + 2]))
                return -1;
            char hex [3] = { src [i + 1], src [i + 2], 0 };
            c = (char) strtol (hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= size || c == 0)
            return -1;
        out [o++] = c;
    }
    out [o] = 0;
    return 0;
}

static bool
s_bucket_valid (const char *b)
{
    size_t n = strlen (b);
    return n >= 3 && n <= S3_BUCKET_MAX && strspn (b, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n
        && b [0] != '.' && b [0] != '-' && b [n - 1] != '.' && b [n - 1] != '-';
}

/* Splits endpoint URL `ep` into scheme_out (8 bytes) and host_out (no
   path; S3_ENDPOINT_MAX + 1 bytes); what names the parameter in err. */
static int
s_endpoint_split (const char *ep, const char *what, char *scheme_out, char *host_out, char *err)
{
    const char *host = NULL;
    if (strncmp (ep, "http://", 7) == 0) {
        snprintf (scheme_out, 8, "http");
        host = ep + 7;
    }
    else
    if (strncmp (ep, "https://", 8) == 0) {
        snprintf (scheme_out, 8, "https");
        host = ep + 8;
    }
    else {
        snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL %s must be an http:// or https:// URL", what);
        return -1;
    }
    size_t n = strlen (host);
    while (n > 0 && host [n - 1] == '/')
        n--;
    if (n == 0 || n > S3_ENDPOINT_MAX || strcspn (host, "/?#@ ") < n) {
        snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL %s must be scheme://host[:port] "
                  "(no path, no user) under %d bytes", what, S3_ENDPOINT_MAX);
        return -1;
    }
    memcpy (host_out, host, n);
    host_out [n] = 0;
    return 0;
}

void
s3_location_public (const s3_location_t *loc, s3_location_t *out)
{
    *out = *loc;
    if (loc->public_host [0]) {
        memcpy (out->scheme, loc->public_scheme, sizeof out->scheme);
        memcpy (out->host, loc->public_host, sizeof out->host);
    }
}

int
s3_location_parse (const char *url, s3_location_t *loc, char *err)
{
    assert (url && loc && err);
    memset (loc, 0, sizeof *loc);
    if (strncmp (url, "s3://", 5) != 0) {
        snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL must start with s3://");
        return -1;
    }
    const char *p = url + 5;
    size_t blen = strcspn (p, "/?");
    if (blen > S3_BUCKET_MAX) {
        snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL bucket name is over %d characters", S3_BUCKET_MAX);
        return -1;
    }
    memcpy (loc->bucket, p, blen);
    loc->bucket [blen] = 0;
    if (!s_bucket_valid (loc->bucket)) {
        snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL bucket must be 3..63 of a-z 0-9 . -");
        return -1;
    }
    p += blen;
    if (*p == '/') {
        p++;
        size_t plen = strcspn (p, "?");
        while (plen > 0 && p [plen - 1] == '/')
            plen--;
        bool empty_segment = plen > 0 && p [0] == '/';
        for (size_t i = 1; i < plen; i++)
            empty_segment |= p [i] == '/' && p [i - 1] == '/';
        if (plen > S3_PREFIX_MAX || empty_segment
        ||  strspn (p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") < plen) {
            snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL prefix must be at most %d of A-Z a-z 0-9 . _ - / "
                      "(no empty segment)", S3_PREFIX_MAX);
            return -1;
        }
        if (plen > 0) {
            memcpy (loc->prefix, p, plen);
            loc->prefix [plen] = '/';
            loc->prefix [plen + 1] = 0;
        }
        p += strcspn (p, "?");
    }
    snprintf (loc->region, sizeof loc->region, "us-east-1");
    char endpoint [S3_ENDPOINT_MAX + 16] = "", public_ep [S3_ENDPOINT_MAX + 16] = "";
    if (*p == '?')
        p++;
    while (*p) {
        size_t n = strcspn (p, "&");
        const char *eq = memchr (p, '=', n);
        if (!eq) {
            snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL query part %.*s has no value", (int) (n < 40 ? n : 40), p);
            return -1;
        }
        size_t klen = (size_t) (eq - p);
        const char *v = eq + 1;
        size_t vlen = n - klen - 1;
        char val [S3_ENDPOINT_MAX + 16];
        if (s_percent_decode (v, vlen, val, sizeof val)) {
            snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL %.*s value is too long or badly escaped", (int) (klen < 20 ? klen : 20), p);
            return -1;
        }
        if (klen == 8 && memcmp (p, "endpoint", 8) == 0)
            snprintf (endpoint, sizeof endpoint, "%s", val);
        else
        if (klen == 15 && memcmp (p, "public_endpoint", 15) == 0)
            snprintf (public_ep, sizeof public_ep, "%s", val);
        else
        if (klen == 6 && memcmp (p, "region", 6) == 0) {
            if (!*val || strlen (val) > S3_REGION_MAX
            ||  strspn (val, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen (val)) {
                snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL region must be 1..%d of a-z 0-9 -", S3_REGION_MAX);
                return -1;
            }
            snprintf (loc->region, sizeof loc->region, "%s", val);
        }
        else
        if (klen == 10 && memcmp (p, "path_style", 10) == 0) {
            if (strcmp (val, "0") && strcmp (val, "1")) {
                snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL path_style must be 0 or 1");
                return -1;
            }
            loc->path_style = val [0] == '1';
        }
        else {
            snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL has an unknown parameter %.*s "
                      "(endpoint, region, path_style, public_endpoint)", (int) (klen < 40 ? klen : 40), p);
            return -1;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    if (!*endpoint)
        snprintf (endpoint, sizeof endpoint, "https://s3.%s.amazonaws.com", loc->region);
    if (s_endpoint_split (endpoint, "endpoint", loc->scheme, loc->host, err))
        return -1;
    if (*public_ep && s_endpoint_split (public_ep, "public_endpoint", loc->public_scheme, loc->public_host, err))
        return -1;
    /* a dotted bucket has no valid certificate as a host name under TLS */
    if (!loc->path_style && strchr (loc->bucket, '.')
    &&  (strcmp (loc->scheme, "https") == 0 || strcmp (loc->public_scheme, "https") == 0)) {
        snprintf (err, S_ERR_MAX, "EASEL_BLOB_URL bucket with dots needs path_style=1 over https");
        return -1;
    }
    return 0;
}

int
s3_location_object_url (const s3_location_t *loc, const char *key, char *out, size_t size)
{
    int n = loc->path_style
          ? snprintf (out, size, "%s://%s/%s/%s", loc->scheme, loc->host, loc->bucket, key)
          : snprintf (out, size, "%s://%s.%s/%s", loc->scheme, loc->bucket, loc->host, key);
    return n < 0 || (size_t) n >= size ? -1 : 0;
}

s3_client_t *
s3_client_new (const s3_location_t *loc, const char *access_key, const char *secret_key,
               const char *connect_to, char *err)
{
    assert (loc && err);
    if (!access_key || !*access_key || !secret_key || !*secret_key) {
        snprintf (err, S_ERR_MAX, "S3 credentials missing: set EASEL_S3_ACCESS_KEY and "
                  "EASEL_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
        return NULL;
    }
    s3_client_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, S_ERR_MAX, "out of memory");
        return NULL;
    }
    self->loc = *loc;
    snprintf (self->sigv4, sizeof self->sigv4, "aws:amz:%s:s3", loc->region);
    self->access_key = strdup (access_key);
    self->secret_key = strdup (secret_key);
    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        snprintf (err, S_ERR_MAX, "curl_global_init failed");
    else
    if (!self->access_key || !self->secret_key || !(self->curl = curl_easy_init ()))
        snprintf (err, S_ERR_MAX, "out of memory");
    else
    if (connect_to && !(self->connect_to = curl_slist_append (NULL, connect_to)))
        snprintf (err, S_ERR_MAX, "out of memory");
    else
        return self;
    s3_client_destroy (&self);
    return NULL;
}

static void
s_wipe_free (char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = 0;
        free (s);
    }
}

void
s3_client_destroy (s3_client_t **self_p)
{
    assert (self_p);
    s3_client_t *self = *self_p;
    if (self) {
        if (self->curl)
            curl_easy_cleanup (self->curl);
        curl_slist_free_all (self->connect_to);
        s_wipe_free (self->access_key);
        s_wipe_free (self->secret_key);
        free (self);
        *self_p = NULL;
    }
}

int
s3_client_presign (s3_client_t *self, const char *method, const char *key, const char *content_type,
                   bool public_, int64_t expires_s, char *out, size_t size, char *err)
{
    assert (self);
    s3_location_t loc = self->loc;
    if (public_)
        s3_location_public (&self->loc, &loc);
    return s3_presign (&loc, self->access_key, self->secret_key, method, key, content_type,
                       (int64_t) time (NULL), expires_s, out, size, NULL, 0, err);
}

void
s3_reply_reset (s3_reply_t *reply)
{
    free (reply->body);
    memset (reply, 0, sizeof *reply);
}

typedef struct {
    CURL  *curl;
    char  *data;
    size_t len;
    size_t max;                        /* of a 2xx body; an error body may have S3_ERROR_BODY_MAX */
    bool   over;
} s_sink_t;

static size_t
s_sink_write (char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_sink_t *sink = arg;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo (sink->curl, CURLINFO_RESPONSE_CODE, &status);
    size_t max = status >= 300 && sink->max < S3_ERROR_BODY_MAX ? S3_ERROR_BODY_MAX : sink->max;
    if (n > max - sink->len) {
        sink->over = true;
        return 0;                          /* CURLE_WRITE_ERROR ends the transfer */
    }
    char *grown = realloc (sink->data, sink->len + n + 1);
    if (!grown)
        return 0;
    sink->data = grown;
    memcpy (sink->data + sink->len, ptr, n);
    sink->len += n;
    sink->data [sink->len] = 0;
    return n;
}

const char *
s3_xml_text (const char *xml, size_t len, const char *tag, char *out, size_t size)
{
    char open [64], close [64];
    if (!xml || snprintf (open, sizeof open, "<%s>", tag) >= (int) sizeof open
    ||  snprintf (close, sizeof close, "</%s>", tag) >= (int) sizeof close)
        return NULL;
    size_t ol = strlen (open), cl = strlen (close);
    const char *end = xml + len;
    const char *start = NULL;
    for (const char *p = xml; p + ol <= end; p++)
        if (*p == '<' && memcmp (p, open, ol) == 0) {
            start = p + ol;
            break;
        }
    if (!start)
        return NULL;
    const char *stop = NULL;
    for (const char *p = start; p + cl <= end; p++)
        if (*p == '<' && memcmp (p, close, cl) == 0) {
            stop = p;
            break;
        }
    if (!stop)
        return NULL;
    static const struct { const char *ent; char c; } ents [] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
    };
    size_t o = 0;
    for (const char *p = start; p < stop; ) {
        char c = *p;
        size_t adv = 1;
        if (c == '&') {
            size_t e = 0;
            for (; e < sizeof ents / sizeof ents [0]; e++) {
                size_t el = strlen (ents [e].ent);
                if ((size_t) (stop - p) >= el && memcmp (p, ents [e].ent, el) == 0) {
                    c = ents [e].c;
                    adv = el;
                    break;
                }
            }
            if (e == sizeof ents / sizeof ents [0])
                return NULL;               /* a numeric or unknown entity: not ours to read */
        }
        if (o + 1 >= size)
            return NULL;
        out [o++] = c;
        p += adv;
    }
    out [o] = 0;
    return stop + cl;
}

int
s3_uri_encode (const char *src, char *out, size_t size)
{
    static const char hex [] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *) src; *p; p++) {
        if (isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            if (o + 1 >= size)
                return -1;
            out [o++] = (char) *p;
        }
        else {
            if (o + 3 >= size)
                return -1;
            out [o++] = '%';
            out [o++] = hex [*p >> 4];
            out [o++] = hex [*p & 15];
        }
    }
    if (o >= size)
        return -1;
    out [o] = 0;
    return 0;
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) != 0)
        ;
}

/* One try of a request. 0 with status and sink filled when an answer came;
   -1 with curl's reason in err; *transient says whether a retry may help. */
static int
s_request_once (s3_client_t *self, const char *method, const char *url, const void *body, size_t len,
                struct curl_slist *headers, s_sink_t *sink, long *status, bool *transient, char *err)
{
    CURL *c = self->curl;
    curl_easy_reset (c);
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, (long) S3_CONNECT_TIMEOUT_MS);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, (long) S3_REQUEST_TIMEOUT_MS);
    curl_easy_setopt (c, CURLOPT_AWS_SIGV4, self->sigv4);
    curl_easy_setopt (c, CURLOPT_USERNAME, self->access_key);
    curl_easy_setopt (c, CURLOPT_PASSWORD, self->secret_key);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
    if (self->connect_to)
        curl_easy_setopt (c, CURLOPT_CONNECT_TO, self->connect_to);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_sink_write);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, sink);
    if (strcmp (method, "HEAD") == 0)
        curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
    else
    if (strcmp (method, "GET") != 0)
        curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        /* from memory, so libcurl hashes the payload into the signature */
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
    }
    CURLcode rc = curl_easy_perform (c);
    *transient = false;
    if (rc != CURLE_OK) {
        if (sink->over)
            snprintf (err, S_ERR_MAX, "answer over %zu bytes", sink->max);
        else {
            *transient = rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT
                      || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR
                      || rc == CURLE_PARTIAL_FILE;
            snprintf (err, S_ERR_MAX, "%s", curl_easy_strerror (rc));
        }
        return -1;
    }
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, status);
    *transient = *status >= 500;
    return 0;
}

int
s3_client_request (s3_client_t *self, const char *method, const char *key, const char *query,
                   const void *body, size_t len, const char *const *headers,
                   size_t max_body, s3_reply_t *reply, char *err)
{
    assert (self && method && key && reply && err);
    memset (reply, 0, sizeof *reply);
    char url [S_URL_MAX];
    char path [S3_KEY_MAX + 8];
    size_t ul = 0;
    if (snprintf (path, sizeof path, "%s", key) >= (int) sizeof path
    ||  s3_location_object_url (&self->loc, path, url, sizeof url)
    ||  (query && *query && ((ul = strlen (url)),
                             snprintf (url + ul, sizeof url - ul, "?%s", query) >= (int) (sizeof url - ul)))) {
        snprintf (err, S_ERR_MAX, "request URL too long");
        return -1;
    }
    struct curl_slist *list = NULL;
    bool has_type = false, has_sha = false;
    for (size_t i = 0; headers && headers [i]; i++) {
        struct curl_slist *next = curl_slist_append (list, headers [i]);
        if (!next) {
            curl_slist_free_all (list);
            snprintf (err, S_ERR_MAX, "out of memory");
            return -1;
        }
        list = next;
        has_type |= strncasecmp (headers [i], "Content-Type:", 13) == 0;
        has_sha |= strncasecmp (headers [i], "x-amz-content-sha256:", 21) == 0;
    }
    /* S3 wants the payload's sha256 in a header (libcurl 7.88 signs it but
       does not add it); POSTFIELDS would otherwise say the body is a form;
       "Expect:" keeps a PUT from waiting for a 100 Continue */
    char sha [65], h_sha [96] = "";
    if (!has_sha) {
        util_sha256_hex (body ? body : "", body ? len : 0, sha);
        snprintf (h_sha, sizeof h_sha, "x-amz-content-sha256: %s", sha);
    }
    const char *fixed [] = { body && !has_type ? "Content-Type: application/octet-stream" : NULL,
                             "Expect:", has_sha ? NULL : h_sha };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed [0]; i++) {
        if (!fixed [i])
            continue;
        struct curl_slist *next = curl_slist_append (list, fixed [i]);
        if (!next) {
            curl_slist_free_all (list);
            snprintf (err, S_ERR_MAX, "out of memory");
            return -1;
        }
        list = next;
    }
    int rc = -1;
    long backoff = S3_BACKOFF_MS;
    for (int attempt = 1; attempt <= S3_ATTEMPTS; attempt++) {
        s_sink_t sink = { .curl = self->curl, .max = max_body };
        long status = 0;
        bool transient = false;
        char why [S_ERR_MAX] = "";
        int once = s_request_once (self, method, url, body, len, list, &sink, &status, &transient, why);
        if (once == 0 && (!transient || attempt == S3_ATTEMPTS)) {
            reply->status = status;
            curl_off_t cl = -1;
            curl_easy_getinfo (self->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            reply->length = (long long) cl;
            struct curl_header *h = NULL;
            if (curl_easy_header (self->curl, "ETag", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h->value) {
                const char *v = h->value + (h->value [0] == '"');
                snprintf (reply->etag, sizeof reply->etag, "%.*s", (int) strcspn (v, "\""), v);
            }
            reply->body = sink.data;
            reply->len = sink.len;
            if (status >= 300 && sink.data)
                s3_xml_text (sink.data, sink.len, "Code", reply->code, sizeof reply->code);
            rc = 0;
            break;
        }
        free (sink.data);
        if (once != 0 && (!transient || attempt == S3_ATTEMPTS)) {
            snprintf (err, S_ERR_MAX, "%s %s: %s%s", method, *key ? key : "/", why,
                      attempt > 1 ? " (after retries)" : "");
            break;
        }
        s_sleep_ms (backoff);
        backoff *= 2;
    }
    curl_slist_free_all (list);
    return rc;
}
