/*  image_probe.h: the format and pixel size of a PNG, JPEG or WebP from its
    header alone (PNG IHDR, JPEG SOF, WebP VP8/VP8L/VP8X; libgd has no
    header-only call), so the gateway can check an upload and the renderer
    can refuse an image over EASEL_MAX_SOURCE_PIXELS before anything decodes
    it. No graphics library is needed.

    Thread: any; no state. */
#ifndef EASEL_IMAGE_PROBE_H
#define EASEL_IMAGE_PROBE_H

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

/* Big-endian fields of PNG and JPEG headers. */
static inline uint32_t
image_probe_be16 (const uint8_t *p)
{
    return ((uint32_t) p [0] << 8) | p [1];
}

static inline uint32_t
image_probe_be32 (const uint8_t *p)
{
    return (image_probe_be16 (p) << 16) | image_probe_be16 (p + 2);
}

#endif
