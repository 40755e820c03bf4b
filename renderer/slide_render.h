/*  slide_render.h: one slide spec in, PNG bytes (or a typed error) out.

    Pure: the same spec gives the same bytes (no clocks, no randomness; a URL
    screenshot is as pure as what the server answers). Layout, in fractions of
    the canvas: headline from 5 % of the height at ~5.5 % of the width, sides
    padded 8 % of the width, the device box from the headline + 4 % of the
    height to 4 % above the bottom.

    Thread: any, once gdFontCacheSetup() and curl_global_init() have run.
    Memory: *png is the caller's (free). */
#ifndef EASEL_SLIDE_RENDER_H
#define EASEL_SLIDE_RENDER_H

#include <gd.h>
#include <stdbool.h>
#include "proto.h"

typedef struct {
    const char *font_path;         /* TrueType font for the headline */
    bool     allow_private;        /* permit private screenshot URLs */
    size_t   max_source_bytes;     /* 0: EASEL_MAX_SOURCE_BYTES */
    uint64_t max_source_pixels;    /* 0: EASEL_MAX_SOURCE_PIXELS */
} slide_render_opts_t;

/* What went wrong, as the API's error object shows it. */
typedef struct {
    char code[PROTO_SHORT_MAX];    /* "screenshot_fetch_failed", "bad_task", ... */
    char message[512];
    char param[96];                /* "slides[0].screenshot.url"; "" when none */
    bool retryable;                /* true: another attempt may succeed */
} render_error_t;

/* Draws the slide onto a new truecolor canvas. Returns it, or NULL with err set. */
gdImagePtr slide_render_draw (const proto_slide_t *spec, const slide_render_opts_t *opts,
                              render_error_t *err);

/* Draws and encodes as PNG. Returns 0 with *png / *png_len set, or -1 with err. */
int slide_render (const proto_slide_t *spec, const slide_render_opts_t *opts,
                  uint8_t **png, size_t *png_len, render_error_t *err);

#endif
