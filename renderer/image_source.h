/*  image_source.h: recognises and decodes a screenshot (PNG, JPEG, WebP).

    The header is read first (libgd has no header-only call, so this module
    reads PNG IHDR, JPEG SOF and WebP VP8/VP8L/VP8X itself) so the caller can
    refuse an image over EASEL_MAX_SOURCE_PIXELS before libgd allocates it.

    Thread: any; no state. Memory: the returned gdImagePtr is the caller's
    (gdImageDestroy). */
#ifndef EASEL_IMAGE_SOURCE_H
#define EASEL_IMAGE_SOURCE_H

#include <gd.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    IMAGE_SOURCE_UNKNOWN = 0,
    IMAGE_SOURCE_PNG,
    IMAGE_SOURCE_JPEG,
    IMAGE_SOURCE_WEBP
} image_source_kind_t;

/* Reads the format and dimensions from the header only. Returns 0, or -1 when
   the bytes are not a PNG, JPEG or WebP with a readable size (nothing set). */
int image_source_probe (const uint8_t *data, size_t len, image_source_kind_t *kind,
                        uint32_t *width, uint32_t *height);

/* Decodes with libgd, except the common PNG (8-bit RGB or RGBA, not
   interlaced, no palette or tRNS, at most EASEL_MAX_SOURCE_PIXELS), which is
   inflated with libdeflate and unfiltered here into the same pixels libgd
   gives (~3x faster to inflate); anything odd in such a file sends it to
   libgd too. Returns a new image, or NULL when it cannot be decoded. */
gdImagePtr image_source_decode (const uint8_t *data, size_t len, image_source_kind_t kind);

#endif
