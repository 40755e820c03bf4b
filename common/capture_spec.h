/*  capture_spec.h: one framed web capture, as the gateway validated it and
    the renderer runs it. On the wire it is the opaque task spec of a capture
    task (tasks whose id starts "cap_"), encoded as compact JSON text so the
    scheduler stores it without knowing its fields.

    Limits (enforced by the gateway, re-checked by the decoder): viewport
    sides CAPTURE_VIEWPORT_MIN..MAX, device_scale_factor 1..3, delay_ms
    0..CAPTURE_DELAY_MAX_MS, at most CAPTURE_HEADERS_MAX headers of
    CAPTURE_HEADER_BYTES_MAX bytes each, URL at most CAPTURE_URL_MAX bytes.
    Header values are secrets: nothing here logs them.

    Thread: any; no state. Memory: capture_spec_t owns its strings; free with
    capture_spec_free() (safe twice); capture_spec_encode's result is the
    caller's (free). */
#ifndef EASEL_CAPTURE_SPEC_H
#define EASEL_CAPTURE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPTURE_URL_MAX            2048
#define CAPTURE_VIEWPORT_MIN       100
#define CAPTURE_VIEWPORT_MAX       4000
#define CAPTURE_VIEWPORT_W_DEFAULT 1440
#define CAPTURE_VIEWPORT_H_DEFAULT 900
#define CAPTURE_DPR_MAX            3
#define CAPTURE_DELAY_MAX_MS       10000
#define CAPTURE_FULL_PAGE_MAX_PX   16384   /* CSS px: a taller page is cut here */
#define CAPTURE_HEADERS_MAX        20
#define CAPTURE_HEADER_BYTES_MAX   4096    /* name + value of one header */
#define CAPTURE_PRICE_PAGE         3       /* credits: a page loaded in the browser */
#define CAPTURE_PRICE_IMAGE        1       /* credits: an image URL framed as it is */

typedef struct {
    char    *url;
    int32_t  width, height;        /* viewport, CSS px */
    int32_t  dpr;                  /* device_scale_factor 1..3 */
    bool     full_page;
    bool     networkidle;          /* wait_until: false "load", true "networkidle" */
    int32_t  delay_ms;
    char     format[16];           /* png | jpeg | webp */
    char     device[32];           /* a device_frame name */
    char     background[32];       /* a background preset name */
    int32_t  nheaders;
    char    *header_names[CAPTURE_HEADERS_MAX];
    char    *header_values[CAPTURE_HEADERS_MAX];
} capture_spec_t;

/* JSON text of self (heap; *len_out its length). NULL on allocation failure. */
char *capture_spec_encode (const capture_spec_t *self, size_t *len_out);

/* Parses and checks the limits above. 0, or -1 with a reason in err (256 bytes)
   and self zeroed. */
int  capture_spec_decode (const char *data, size_t len, capture_spec_t *self, char *err);

void capture_spec_free (capture_spec_t *self);

/* The host of an http(s) URL into out ("" when there is none). */
void capture_spec_host (const char *url, char *out, size_t size);

#endif
