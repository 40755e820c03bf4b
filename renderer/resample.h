/*  resample.h: a separable triangle-filter resampler for truecolor libgd
    images (the screenshot into the frame's screen, a background image over
    the canvas).

    Each output pixel is the weighted mean of the source pixels under a tent
    centred on it: 1 source pixel wide when enlarging (bilinear), 1/k wide
    when reducing by k, so reductions average every source pixel and do not
    alias. Vertical pass first (rows reduced to the output's count, one row
    buffer, vectorisable), then horizontal; 8-bit rounding between the passes,
    so a pixel is within 1 level of the exact filter. All four bytes of a
    libgd pixel (its 7-bit alpha too) are filtered alike. Integer arithmetic
    only: the same input gives the same pixels on every run.

    Thread: any (no shared state). Memory: the result is the caller's
    (gdImageDestroy). */
#ifndef EASEL_RESAMPLE_H
#define EASEL_RESAMPLE_H

#include <gd.h>

/* Largest output side accepted, pixels (the canvas cap is far below). */
#define RESAMPLE_MAX_SIDE_PX 32768

/* A new tw x th truecolor image resampled from truecolor src. Returns NULL
   when src is not truecolor, a size is outside 1..RESAMPLE_MAX_SIDE_PX, or an
   allocation fails. src is not changed. */
gdImagePtr resample_image (gdImagePtr src, int tw, int th);

/* The same, a row at a time, so a caller can put each row straight where it
   goes (the screenshot into the canvas) without a tw x th image between.
   resample_new: NULL on the same conditions as resample_image; src is
   borrowed and must outlive it. resample_row: output row y (0 <= y < th,
   any order) into out, tw pixels. */
typedef struct resample_s resample_t;
resample_t *resample_new (gdImagePtr src, int tw, int th);
void resample_row (resample_t *self, int y, int *out);
void resample_destroy (resample_t **self_p);

#endif
