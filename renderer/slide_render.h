/*  slide_render.h: one slide spec in, image bytes and lint findings (or a
    typed error) out.

    Pure: the same spec gives the same bytes (no clocks, no randomness; a URL
    screenshot or background is as pure as what the server answers).

    Layout (fractions of the canvas; "text_position":"bottom" mirrors it):
    margin 5 % of the height above the text; sides padded padding_pm per
    mille of the width (default 80); the headline at font_size_max (default
    7 % of the width, 7 % of the height on landscape canvases) shrinking to
    fit within 20 % of the height, never below font_size_min (default 40 %
    of the max); the subtitle under it at 55 % of the headline's size, within
    10 % of the height; the device box from 3.5 % below the text to 4 % above
    the bottom edge.

    Thread: any, once curl_global_init() has run. Memory: *out and
    *findings_json are the caller's (free). */
#ifndef EASEL_SLIDE_RENDER_H
#define EASEL_SLIDE_RENDER_H

#include <gd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "netguard.h"
#include "proto.h"
#include "lint.h"
#include "fetch_cache.h"

typedef struct {
    const char *font_path;         /* last-resort font (after the Noto fonts) */
    bool     allow_private;        /* permit private screenshot URLs */
    const netguard_allow_t *allow; /* private networks permitted all the same (NULL: none) */
    size_t   max_source_bytes;     /* 0: EASEL_MAX_SOURCE_BYTES */
    uint64_t max_source_pixels;    /* 0: EASEL_MAX_SOURCE_PIXELS */
    const atomic_bool *cancel;     /* NULL, or set by another thread to stop the
                                      render: checked during each fetch, after
                                      each fetch, after each drawn part and
                                      before encoding; the error is then code
                                      "canceled", not retryable */
    fetch_cache_t *fetch_cache;    /* NULL, or where fetched URLs are kept per render */
    const char *render_id;         /* the task's render (the cache key), NULL none */
} slide_render_opts_t;

/* What went wrong, as the API's error object shows it. */
typedef struct {
    char code[PROTO_SHORT_MAX];    /* "screenshot_fetch_failed", "bad_task", ... */
    char message[512];
    char param[96];                /* "slides[0].screenshot.url"; "" when none */
    bool retryable;                /* true: another attempt may succeed */
} render_error_t;

/* Draws the slide onto a new truecolor canvas. Returns it, or NULL with err
   set. lint (may be NULL) gets the findings that come from the drawing. */
gdImagePtr slide_render_draw (const proto_slide_t *spec, const slide_render_opts_t *opts,
                              lint_report_t *lint, render_error_t *err);

/* Draws, encodes in spec->format and lints. Returns 0 with *out / *out_len
   and the full report in *lint (may be NULL), or -1 with err. */
int slide_render_lint (const proto_slide_t *spec, const slide_render_opts_t *opts,
                       uint8_t **out, size_t *out_len, lint_report_t *lint, render_error_t *err);

/* slide_render_lint without the report. */
int slide_render (const proto_slide_t *spec, const slide_render_opts_t *opts,
                  uint8_t **png, size_t *png_len, render_error_t *err);

#endif
