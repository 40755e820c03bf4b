/*  capture_spec.h: one framed web capture, as the gateway validated it and
    the renderer runs it. The struct, its caps and its codec are proto's
    (proto_capture.h: the task spec of a capture task is a message of the one
    codec); this header adds what only the services need: the prices, the
    result finding of a cut page, and the encode/decode names the gateway and
    the renderer call. The page options (regions, a clean page, a logged-in
    page) are documented in docs/api.md.

    Thread: any; no state. Memory: capture_spec_t owns its strings after a
    decode; free with capture_spec_free() (safe twice); capture_spec_encode's
    result is the caller's (free). */
#ifndef EASEL_CAPTURE_SPEC_H
#define EASEL_CAPTURE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto_capture.h"

#define CAPTURE_TRUNCATED_RULE     "capture_truncated"   /* the result finding of a cut page */
#define CAPTURE_PRICE_PAGE         3       /* credits: a page loaded in the browser */
#define CAPTURE_PRICE_IMAGE        1       /* credits: an image URL framed as it is */

/* The encoded spec (msgpack, heap; *len_out its length), or NULL when a
   member is over its cap or memory ran out. */
char *capture_spec_encode (const capture_spec_t *self, size_t *len_out);

/* Decodes and checks the caps. 0, or -1 with a reason in err (256 bytes)
   and self zeroed. */
int  capture_spec_decode (const char *data, size_t len, capture_spec_t *self, char *err);

void capture_spec_free (capture_spec_t *self);

/* The host of an http(s) URL into out ("" when there is none). */
void capture_spec_host (const char *url, char *out, size_t size);

#endif
