/*  fetch.h: downloads one source image over http(s) under Easel's limits.

    Limits (proto/limits.h): at most max_bytes (EASEL_MAX_SOURCE_BYTES), a
    connect and a total timeout, http/https only, no redirects (a 3xx is an
    error), no proxies, and no private addresses unless allowed: the check runs
    at connect time on the address the name resolved to, so a DNS answer cannot
    sneak past it, and the refusal names that address. Optional request
    headers (at most FETCH_HEADERS_MAX, each "name: value" line under
    FETCH_HEADER_LINE_MAX bytes, no CR or LF), and `images_only`: stop at the
    first byte of a body whose Content-Type cannot be an image, so a caller
    that only wants images (capture's probe) never downloads a page.

    Thread: any; each call uses its own curl easy handle. curl_global_init()
    must have run before threads start. Memory: fetch_result_t owns data;
    fetch_result_free() releases it and is safe to call twice. */
#ifndef EASEL_FETCH_H
#define EASEL_FETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "netguard.h"

typedef enum {
    FETCH_OK = 0,
    FETCH_HTTP_STATUS,      /* answered >= 400 (http_status says which) */
    FETCH_REDIRECT,         /* answered 3xx: redirects are not followed */
    FETCH_TOO_LARGE,        /* body over max_bytes */
    FETCH_NOT_ALLOWED,      /* resolved to a private address (see address) */
    FETCH_TIMEOUT,
    FETCH_NETWORK,          /* DNS, connect, TLS, reset... */
    FETCH_BAD_URL,          /* malformed or not http(s) */
    FETCH_CANCELED,         /* *cancel became true: the transfer was aborted */
    FETCH_NOT_IMAGE,        /* images_only: a 2xx whose Content-Type is no image (content_type) */
    FETCH_BAD_HEADERS       /* a request header over the limits or with CR/LF: nothing sent */
} fetch_status_t;

#define FETCH_HEADERS_MAX       32
#define FETCH_HEADER_LINE_MAX   8192    /* "name: value" of one request header */

typedef struct {
    bool   allow_private;   /* permit loopback, RFC 1918, link-local, ULA... */
    const netguard_allow_t *allow;  /* private networks permitted all the same (NULL: none) */
    size_t max_bytes;       /* 0: EASEL_MAX_SOURCE_BYTES */
    long   timeout_ms;      /* 0: EASEL_FETCH_TIMEOUT_MS */
    const atomic_bool *cancel;  /* NULL, or set by another thread to abort the
                                   transfer: checked by libcurl's progress
                                   callback, at least about once a second
                                   even while the peer sends nothing */
    int    nheaders;        /* request headers: names[i] and values[i], 0..FETCH_HEADERS_MAX */
    char  *const *header_names;
    char  *const *header_values;
    bool   images_only;     /* FETCH_NOT_IMAGE, without reading the body, unless the
                               Content-Type may be an image (fetch_type_may_be_image);
                               the size cap then applies to images only (a page of any
                               size is FETCH_NOT_IMAGE, an image over max_bytes is
                               FETCH_TOO_LARGE) */
} fetch_opts_t;

typedef struct {
    fetch_status_t status;
    long     http_status;          /* 0 when no response */
    char     content_type[128];    /* "" when none */
    char     address[64];          /* FETCH_NOT_ALLOWED: the refused address */
    char     ip[64];               /* the address connected to ("" when none) */
    char     message[256];         /* why, for logs and error messages */
    uint8_t *data;                 /* body (FETCH_OK only) */
    size_t   len;
} fetch_result_t;

/* Fetches url into out (zeroed first). Returns 0 on a 2xx answer with out->data
   holding the body, else -1 with out->status and out->message saying why. */
int  fetch_url (const char *url, const fetch_opts_t *opts, fetch_result_t *out);
void fetch_result_free (fetch_result_t *self);

/* True when a Content-Type may announce an image: image/..., application/
   octet-stream, or none at all ("" or NULL). */
bool fetch_type_may_be_image (const char *content_type);


/* Whether a failed fetch may succeed when tried again soon: a timeout, a
   network failure, or an answer of 5xx, 408 or 429. The one rule slides,
   captures and the fetch cache share: such a task is retried, such a
   failure cached only briefly. */
bool fetch_transient (const fetch_result_t *got);

#endif
