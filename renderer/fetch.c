/*  fetch.c: libcurl easy download under limits (see fetch.h).
    Thread: any. Memory: the body buffer grows up to max_bytes and is handed
    to the caller in fetch_result_t; the request header list lives for the
    call. images_only is decided at the first body byte (s_stop_unless_image),
    from CURLINFO_CONTENT_TYPE, and again at the end for an empty body. */
#include "fetch.h"
#include "easel_limits.h"
#include "netguard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    uint8_t *data;
    size_t   len, cap, max;
    bool     over;
    bool     allow_private;
    const netguard_allow_t *allow;
    bool     refused;
    char     refused_addr[64];
    const atomic_bool *cancel;
    bool     canceled;
    CURL    *curl;
    bool     images_only, checked, not_image;
} s_ctx_t;

bool
fetch_type_may_be_image (const char *ctype)
{
    return !ctype || !ctype [0] || strncasecmp (ctype, "image/", 6) == 0
        || strncasecmp (ctype, "application/octet-stream", 24) == 0;
}

/* images_only, at the first body byte: true (stop) when the answer is no
   image, or announces an image over the cap. */
static bool
s_stop_unless_image (s_ctx_t *ctx)
{
    const char *ctype = NULL;
    curl_off_t length = -1;
    curl_easy_getinfo (ctx->curl, CURLINFO_CONTENT_TYPE, &ctype);
    if (!fetch_type_may_be_image (ctype)) {
        ctx->not_image = true;
        return true;
    }
    if (curl_easy_getinfo (ctx->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK
    &&  length > 0 && (uint64_t) length > ctx->max) {
        ctx->over = true;
        return true;
    }
    return false;
}

/* The request headers of opts as a curl list in *list; -1 with out filled
   when one is over the limits or could smuggle another line. */
static int
s_headers (const fetch_opts_t *opts, struct curl_slist **list, fetch_result_t *out)
{
    *list = NULL;
    int n = opts ? opts->nheaders : 0;
    if (n < 0 || n > FETCH_HEADERS_MAX || (n > 0 && (!opts->header_names || !opts->header_values))) {
        out->status = FETCH_BAD_HEADERS;
        snprintf (out->message, sizeof out->message, "at most %d request headers", FETCH_HEADERS_MAX);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const char *name = opts->header_names [i], *value = opts->header_values [i];
        char line [FETCH_HEADER_LINE_MAX];
        int len = name && value ? snprintf (line, sizeof line, "%s: %s", name, value) : -1;
        struct curl_slist *more = NULL;
        if (len < 0 || (size_t) len >= sizeof line || strpbrk (line, "\r\n")
        ||  !(more = curl_slist_append (*list, line))) {
            curl_slist_free_all (*list);
            *list = NULL;
            out->status = FETCH_BAD_HEADERS;
            snprintf (out->message, sizeof out->message,
                      "request header %d is missing, over %d bytes or holds a line break (or no memory)",
                      i + 1, FETCH_HEADER_LINE_MAX - 1);
            return -1;
        }
        *list = more;
    }
    return 0;
}

/* libcurl's progress callback: a non-zero return aborts the transfer. */
static int
s_xferinfo (void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    (void) dltotal; (void) dlnow; (void) ultotal; (void) ulnow;
    s_ctx_t *ctx = clientp;
    if (ctx->cancel && atomic_load (ctx->cancel))
        ctx->canceled = true;
    return ctx->canceled ? 1 : 0;
}

static curl_socket_t
s_opensocket (void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    s_ctx_t *ctx = clientp;
    if (purpose == CURLSOCKTYPE_IPCXN
    &&  netguard_refuses (&addr->addr, ctx->allow_private, ctx->allow, ctx->refused_addr,
                          sizeof ctx->refused_addr)) {
        if (!ctx->refused_addr [0])
            snprintf (ctx->refused_addr, sizeof ctx->refused_addr, "(unprintable)");
        ctx->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket (addr->family, addr->socktype, addr->protocol);
}

static size_t
s_write (char *ptr, size_t size, size_t nmemb, void *userp)
{
    s_ctx_t *ctx = userp;
    size_t n = size * nmemb;
    if (ctx->images_only && !ctx->checked) {
        ctx->checked = true;
        if (s_stop_unless_image (ctx))
            return 0;                   /* aborts the transfer */
    }
    if (n > ctx->max - ctx->len) {
        ctx->over = true;
        return 0;                       /* aborts the transfer */
    }
    if (ctx->len + n > ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 64 * 1024;
        while (cap < ctx->len + n)
            cap *= 2;
        if (cap > ctx->max)
            cap = ctx->max;
        uint8_t *grown = realloc (ctx->data, cap);
        if (!grown)
            return 0;
        ctx->data = grown;
        ctx->cap = cap;
    }
    memcpy (ctx->data + ctx->len, ptr, n);
    ctx->len += n;
    return n;
}

static int
s_fail (fetch_result_t *out, fetch_status_t status, const char *fmt, const char *arg)
{
    out->status = status;
    snprintf (out->message, sizeof out->message, fmt, arg);
    return -1;
}

int
fetch_url (const char *url, const fetch_opts_t *opts, fetch_result_t *out)
{
    memset (out, 0, sizeof *out);
    s_ctx_t ctx = {
        .max = opts && opts->max_bytes ? opts->max_bytes : EASEL_MAX_SOURCE_BYTES,
        .allow_private = opts && opts->allow_private,
        .allow = opts ? opts->allow : NULL,
        .cancel = opts ? opts->cancel : NULL
    };
    if (ctx.cancel && atomic_load (ctx.cancel))
        return s_fail (out, FETCH_CANCELED, "%s", "canceled before the fetch started");
    long timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : EASEL_FETCH_TIMEOUT_MS;
    struct curl_slist *headers = NULL;
    if (s_headers (opts, &headers, out))
        return -1;
    CURL *curl = curl_easy_init ();
    if (!curl) {
        curl_slist_free_all (headers);
        return s_fail (out, FETCH_NETWORK, "%s", "cannot create a curl handle");
    }
    ctx.curl = curl;
    ctx.images_only = opts && opts->images_only;

    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (curl, CURLOPT_PROXY, "");      /* the check must see the real peer */
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) EASEL_FETCH_CONNECT_TIMEOUT_MS);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (!ctx.images_only)               /* else a page of any size is still NOT_IMAGE */
        curl_easy_setopt (curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) ctx.max);
    if (headers)
        curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_OPENSOCKETFUNCTION, s_opensocket);
    curl_easy_setopt (curl, CURLOPT_OPENSOCKETDATA, &ctx);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "easel-renderer/0.1");
    curl_easy_setopt (curl, CURLOPT_ACCEPT_ENCODING, "");
    if (ctx.cancel) {
        curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, s_xferinfo);
        curl_easy_setopt (curl, CURLOPT_XFERINFODATA, &ctx);
        curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    }

    CURLcode rc = curl_easy_perform (curl);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &out->http_status);
    const char *ctype = NULL;
    if (curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
        snprintf (out->content_type, sizeof out->content_type, "%s", ctype);
    const char *ip = NULL;
    if (curl_easy_getinfo (curl, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
        snprintf (out->ip, sizeof out->ip, "%s", ip);
    curl_easy_cleanup (curl);
    curl_slist_free_all (headers);
    if (ctx.not_image && rc == CURLE_WRITE_ERROR)
        rc = CURLE_OK;                  /* stopped on purpose: the status decides below */

    int result = -1;
    if (ctx.canceled)
        s_fail (out, FETCH_CANCELED, "%s", "canceled while fetching");
    else
    if (ctx.over || rc == CURLE_FILESIZE_EXCEEDED) {
        out->status = FETCH_TOO_LARGE;
        snprintf (out->message, sizeof out->message, "body is larger than %zu bytes", ctx.max);
    }
    else
    if (ctx.refused && rc != CURLE_OK) {
        snprintf (out->address, sizeof out->address, "%s", ctx.refused_addr);
        s_fail (out, FETCH_NOT_ALLOWED, "resolves to %s, a private address", ctx.refused_addr);
    }
    else
    if (rc == CURLE_OPERATION_TIMEDOUT)
        s_fail (out, FETCH_TIMEOUT, "timed out: %s", errbuf);
    else
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
        s_fail (out, FETCH_BAD_URL, "is not a valid http(s) URL: %s", errbuf);
    else
    if (rc != CURLE_OK)
        s_fail (out, FETCH_NETWORK, "%s", errbuf [0] ? errbuf : curl_easy_strerror (rc));
    else
    if (out->http_status >= 300 && out->http_status < 400) {
        out->status = FETCH_REDIRECT;
        snprintf (out->message, sizeof out->message,
                  "answered HTTP %ld; redirects are not followed", out->http_status);
    }
    else
    if (out->http_status >= 400 || out->http_status < 200) {
        out->status = FETCH_HTTP_STATUS;
        snprintf (out->message, sizeof out->message, "answered HTTP %ld", out->http_status);
    }
    else
    if (ctx.images_only && (ctx.not_image || !fetch_type_may_be_image (out->content_type))) {
        out->status = FETCH_NOT_IMAGE;
        snprintf (out->message, sizeof out->message, "answered Content-Type %s, not an image",
                  out->content_type);
    }
    else {
        out->status = FETCH_OK;
        out->data = ctx.data;
        out->len = ctx.len;
        ctx.data = NULL;
        result = 0;
    }
    free (ctx.data);
    return result;
}

void
fetch_result_free (fetch_result_t *self)
{
    if (!self)
        return;
    free (self->data);
    self->data = NULL;
    self->len = 0;
}

bool
fetch_transient (const fetch_result_t *got)
{
    switch (got->status) {
        case FETCH_TIMEOUT:
        case FETCH_NETWORK:
            return true;
        case FETCH_HTTP_STATUS:
            return got->http_status >= 500 || got->http_status == 408 || got->http_status == 429;
        default:
            return false;
    }
}
