/*  fetch.c: libcurl easy download under limits (see fetch.h).
    Thread: any. Memory: the body buffer grows up to max_bytes and is handed
    to the caller in fetch_result_t. */
#include "fetch.h"
#include "easel_limits.h"
#include "netguard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *data;
    size_t   len, cap, max;
    bool     over;
    bool     allow_private;
    bool     refused;
    char     refused_addr[64];
} s_ctx_t;

static curl_socket_t
s_opensocket (void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    s_ctx_t *ctx = clientp;
    if (purpose == CURLSOCKTYPE_IPCXN && !ctx->allow_private
    &&  netguard_is_private (&addr->addr, ctx->refused_addr, sizeof ctx->refused_addr)) {
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
        .allow_private = opts && opts->allow_private
    };
    long timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : EASEL_FETCH_TIMEOUT_MS;
    CURL *curl = curl_easy_init ();
    if (!curl)
        return s_fail (out, FETCH_NETWORK, "%s", "cannot create a curl handle");

    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (curl, CURLOPT_PROXY, "");      /* the check must see the real peer */
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) EASEL_FETCH_CONNECT_TIMEOUT_MS);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt (curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) ctx.max);
    curl_easy_setopt (curl, CURLOPT_OPENSOCKETFUNCTION, s_opensocket);
    curl_easy_setopt (curl, CURLOPT_OPENSOCKETDATA, &ctx);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "easel-renderer/0.1");
    curl_easy_setopt (curl, CURLOPT_ACCEPT_ENCODING, "");

    CURLcode rc = curl_easy_perform (curl);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &out->http_status);
    const char *ctype = NULL;
    if (curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
        snprintf (out->content_type, sizeof out->content_type, "%s", ctype);
    curl_easy_cleanup (curl);

    int result = -1;
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
