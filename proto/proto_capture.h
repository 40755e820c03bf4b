/*  proto_capture.h: the spec of one framed web capture, as the gateway
    validated it and the renderer runs it. It travels as the task spec of a
    capture task (tasks whose id starts "cap_"): a msgpack body of the one
    codec (proto.c), declared in proto_msgs.c beside every other message, so
    the scheduler stores it as opaque bytes and the fuzzers visit it.

    Limits (enforced by the gateway with messages naming the API field,
    re-checked by the decoder): viewport sides CAPTURE_VIEWPORT_MIN..MAX,
    device_scale_factor 1..CAPTURE_DPR_MAX, delay_ms 0..CAPTURE_DELAY_MAX_MS,
    at most CAPTURE_HEADERS_MAX headers of CAPTURE_HEADER_BYTES_MAX bytes
    (name + value) each, URL at most CAPTURE_URL_MAX bytes; every list at
    most CAPTURE_LIST_MAX entries of CAPTURE_SELECTOR_MAX bytes; a pdf's
    paper sides CAPTURE_PDF_PAPER_MIN_IN..MAX_IN inches, margins
    0..CAPTURE_PDF_MARGIN_MAX_IN, scale CAPTURE_PDF_SCALE_MIN..MAX_PCT per
    cent, page_ranges at most CAPTURE_PDF_RANGES_MAX bytes; a result (image
    or PDF) at most CAPTURE_RESULT_MAX_BYTES. Header
    values, cookie values and local_storage values are secrets: nothing in
    proto logs a value (decode errors name fields, never their contents).

    Memory: every pointer member is heap owned after a decode and borrowed by
    an encode; proto_capture_free releases exactly those (safe twice). */
#ifndef EASEL_PROTO_CAPTURE_H
#define EASEL_PROTO_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "easel_limits.h"

#define CAPTURE_URL_MAX            EASEL_MAX_URL_BYTES
#define CAPTURE_VIEWPORT_MIN       100
#define CAPTURE_VIEWPORT_MAX       4000
#define CAPTURE_VIEWPORT_W_DEFAULT 1440
#define CAPTURE_VIEWPORT_H_DEFAULT 900
#define CAPTURE_DPR_MAX            3
#define CAPTURE_DELAY_MAX_MS       10000
#define CAPTURE_FULL_PAGE_MAX_PX   32768   /* CSS px: a taller page is cut here (tiled past 16384 device px) */
#define CAPTURE_HEADERS_MAX        20
#define CAPTURE_HEADER_BYTES_MAX   4096    /* name + value of one header */
#define CAPTURE_LIST_MAX           20      /* entries of hide, remove, click, block_urls... */
#define CAPTURE_SELECTOR_MAX       512     /* bytes of one selector or URL pattern */
#define CAPTURE_PADDING_MAX        500     /* CSS px around a selector's box */
#define CAPTURE_CLIP_MAX           16384   /* CSS px, each of x, y, w, h (one screenshot) */
#define CAPTURE_CSS_MAX_BYTES      65536
#define CAPTURE_JS_MAX_BYTES       65536
#define CAPTURE_JS_TIMEOUT_MS      5000    /* one js injection runs at most this long */
#define CAPTURE_WAIT_FOR_MS        10000   /* wait_for / wait_for_hidden, within the nav timeout */
#define CAPTURE_COOKIES_MAX        50
#define CAPTURE_COOKIE_BYTES_MAX   4096    /* name + value of one cookie */
#define CAPTURE_STORAGE_MAX        50      /* local_storage keys */
#define CAPTURE_STORAGE_BYTES_MAX  16384   /* key + value of one local_storage entry */
#define CAPTURE_COOKIE_DOMAIN_MAX  255
#define CAPTURE_COOKIE_PATH_MAX    1024
#define CAPTURE_GEO_ACCURACY_MAX   10000000   /* metres */
#define CAPTURE_UA_MAX             512
#define CAPTURE_LOCALE_MAX         35
#define CAPTURE_TZ_MAX             64
#define CAPTURE_SPEC_MAX_BYTES     (1024 * 1024)   /* one encoded spec (a slide's screenshot.capture) */
#define CAPTURE_RESULT_MAX_BYTES   (EASEL_MAX_MSG_BYTES / 2)   /* the encoded image or PDF of one capture */
#define CAPTURE_PDF_PAPER_MIN_IN   1       /* inches, each side of the paper */
#define CAPTURE_PDF_PAPER_MAX_IN   50
#define CAPTURE_PDF_MARGIN_MAX_IN  10      /* inches, each margin */
#define CAPTURE_PDF_MARGIN_DEFAULT_IN 0.4  /* Chromium's own default (1 cm) */
#define CAPTURE_PDF_CONTENT_MIN_IN 1       /* the margins leave at least this, each way */
#define CAPTURE_PDF_SCALE_MIN_PCT  10      /* Page.printToPDF scale 0.1..2 */
#define CAPTURE_PDF_SCALE_MAX_PCT  200
#define CAPTURE_PDF_RANGES_MAX     256     /* bytes of page_ranges ("1-3, 5") */
#define CAPTURE_PDF_PAGE_MAX       100000  /* a page number in page_ranges */
#define CAPTURE_PDF_CSS_PX_PER_IN  96      /* the result's width and height: the paper in CSS px */


/* block categories: rule lists shipped in renderer/block/ */
#define CAPTURE_BLOCK_ADS            1u
#define CAPTURE_BLOCK_TRACKERS       2u
#define CAPTURE_BLOCK_COOKIE_BANNERS 4u
#define CAPTURE_BLOCK_CHAT_WIDGETS   8u
#define CAPTURE_BLOCK_ALL            15u

typedef struct {
    int32_t n;
    char   *v[CAPTURE_LIST_MAX];
} capture_list_t;

typedef struct {
    char    *name, *value, *domain, *path;   /* domain, path: NULL = the page's host, "/" */
    bool     secure, http_only;
    int64_t  expires;              /* unix s, 0 = a session cookie */
} capture_cookie_t;

/* format "pdf": Page.printToPDF of the loaded page (docs/api.md "pdf") */
typedef struct {
    double   width_in, height_in;  /* the paper, as named or given (landscape turns it) */
    bool     landscape;
    double   margin_top_in, margin_right_in, margin_bottom_in, margin_left_in;
    bool     print_background;
    int32_t  scale_pct;            /* 100 = 1.0 */
    char    *page_ranges;          /* NULL: every page; else "1-3, 5" as the gateway checked it */
} capture_pdf_t;

typedef struct {
    char    *url;
    int32_t  width, height;        /* viewport, CSS px */
    int32_t  dpr;                  /* device_scale_factor 1..3 */
    bool     full_page;
    bool     networkidle;          /* wait_until: false "load", true "networkidle" */
    int32_t  delay_ms;
    char     format[16];           /* png | jpeg | webp | pdf */
    char     device[32];           /* a device_frame name */
    char     background[32];       /* a background preset name */
    int32_t  nheaders;
    char    *header_names[CAPTURE_HEADERS_MAX];
    char    *header_values[CAPTURE_HEADERS_MAX];
    /* exact regions */
    char    *selector;             /* NULL: the viewport (or full page) */
    int32_t  padding;              /* CSS px around the selector's box */
    bool     has_clip;
    int32_t  clip_x, clip_y, clip_w, clip_h;   /* CSS px of the page */
    /* a clean page */
    uint32_t block;                /* CAPTURE_BLOCK_* */
    capture_list_t block_urls;     /* Network.setBlockedURLs patterns ('*' wildcards) */
    capture_list_t block_resources;/* DevTools resource types: Image, Font, Media... */
    capture_list_t hide, remove, clicks;
    uint32_t click_optional;       /* bit i: clicks.v[i] may match nothing */
    char    *css, *js;
    char    *wait_for, *wait_for_hidden;
    char     color_scheme[8];      /* "" | light | dark */
    bool     reduced_motion;
    char     media[8];             /* "" | screen | print */
    /* a logged-in page */
    int32_t  ncookies;
    capture_cookie_t cookies[CAPTURE_COOKIES_MAX];
    int32_t  nstorage;
    char    *storage_keys[CAPTURE_STORAGE_MAX];
    char    *storage_values[CAPTURE_STORAGE_MAX];
    char    *user_agent, *locale, *timezone;
    bool     has_geo;
    double   latitude, longitude, accuracy;
    /* a printed page: set (width_in > 0) exactly when format is "pdf" */
    capture_pdf_t pdf;
} capture_spec_t;

typedef capture_spec_t proto_capture_t;

/* The one codec's names for it (proto_msgs.c). decode: 0, or -1 with the
   reason in err (PROTO_ERR_MAX bytes) and self zeroed. */
int  proto_capture_encode (const proto_capture_t *self, msgpack_sbuffer *out);
int  proto_capture_decode (const char *data, size_t len, proto_capture_t *self, char *err);
void proto_capture_free (proto_capture_t *self);

#endif
