/*  image_source.h: recognises and decodes a screenshot (PNG, JPEG, WebP).

    The header is read first (image_source_probe, catalog/image_probe.h) so
    the caller can refuse an image over EASEL_MAX_SOURCE_PIXELS before libgd
    allocates it.

    Thread: any; no state. Memory: the returned gdImagePtr is the caller's
    (gdImageDestroy). */
#ifndef EASEL_IMAGE_SOURCE_H
#define EASEL_IMAGE_SOURCE_H

#include <gd.h>
#include <stddef.h>
#include <stdint.h>
#include "image_probe.h"


/* Decodes with libgd, except the common PNG (8-bit RGB or RGBA, not
   interlaced, no palette or tRNS, at most EASEL_MAX_SOURCE_PIXELS), which is
   inflated with libdeflate and unfiltered here into the same pixels libgd
   gives (~3x faster to inflate); anything odd in such a file sends it to
   libgd too. Returns a new image, or NULL when it cannot be decoded. */
gdImagePtr image_source_decode (const uint8_t *data, size_t len, image_source_kind_t kind);

#endif
