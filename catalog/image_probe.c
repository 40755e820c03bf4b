/*  image_probe.c: formats and sizes from image headers (see image_probe.h). */
#include "image_probe.h"

#include <string.h>

static uint32_t
s_le24 (const uint8_t *p) { return p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16); }

static int
s_probe_png (const uint8_t *d, size_t len, uint32_t *w, uint32_t *h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len < 24 || memcmp (d, sig, 8) != 0 || memcmp (d + 12, "IHDR", 4) != 0)
        return -1;
    *w = image_probe_be32 (d + 16);
    *h = image_probe_be32 (d + 20);
    return 0;
}

/* Walks the marker segments up to the first start-of-frame. */
static int
s_probe_jpeg (const uint8_t *d, size_t len, uint32_t *w, uint32_t *h)
{
    if (len < 4 || d[0] != 0xFF || d[1] != 0xD8)
        return -1;
    size_t i = 2;
    while (i < len) {
        if (d[i] != 0xFF)
            return -1;
        while (i < len && d[i] == 0xFF)
            i++;                        /* fill bytes */
        if (i >= len)
            return -1;
        uint8_t m = d[i++];
        if (m == 0x01 || m == 0xD8 || (m >= 0xD0 && m <= 0xD7))
            continue;                   /* markers without a segment */
        if (m == 0xD9 || m == 0xDA || i + 2 > len)
            return -1;                  /* scan or end before any frame header */
        uint32_t seglen = image_probe_be16 (d + i);
        if (seglen < 2)
            return -1;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 7 > len)
                return -1;
            *h = image_probe_be16 (d + i + 3);
            *w = image_probe_be16 (d + i + 5);
            return 0;
        }
        i += seglen;
    }
    return -1;
}

static int
s_probe_webp (const uint8_t *d, size_t len, uint32_t *w, uint32_t *h)
{
    if (len < 30 || memcmp (d, "RIFF", 4) != 0 || memcmp (d + 8, "WEBP", 4) != 0)
        return -1;
    if (memcmp (d + 12, "VP8 ", 4) == 0) {
        if (d[23] != 0x9D || d[24] != 0x01 || d[25] != 0x2A)
            return -1;
        *w = (d[26] | ((uint32_t) d[27] << 8)) & 0x3FFF;
        *h = (d[28] | ((uint32_t) d[29] << 8)) & 0x3FFF;
        return 0;
    }
    if (memcmp (d + 12, "VP8L", 4) == 0) {
        if (d[20] != 0x2F)
            return -1;
        uint32_t bits = d[21] | ((uint32_t) d[22] << 8) | ((uint32_t) d[23] << 16)
                      | ((uint32_t) d[24] << 24);
        *w = (bits & 0x3FFF) + 1;
        *h = ((bits >> 14) & 0x3FFF) + 1;
        return 0;
    }
    if (memcmp (d + 12, "VP8X", 4) == 0) {
        *w = s_le24 (d + 24) + 1;
        *h = s_le24 (d + 27) + 1;
        return 0;
    }
    return -1;
}

int
image_source_probe (const uint8_t *data, size_t len, image_source_kind_t *kind,
                    uint32_t *width, uint32_t *height)
{
    uint32_t w = 0, h = 0;
    image_source_kind_t k = IMAGE_SOURCE_UNKNOWN;
    if (s_probe_png (data, len, &w, &h) == 0)
        k = IMAGE_SOURCE_PNG;
    else
    if (s_probe_jpeg (data, len, &w, &h) == 0)
        k = IMAGE_SOURCE_JPEG;
    else
    if (s_probe_webp (data, len, &w, &h) == 0)
        k = IMAGE_SOURCE_WEBP;
    if (k == IMAGE_SOURCE_UNKNOWN || w == 0 || h == 0)
        return -1;
    *kind = k;
    *width = w;
    *height = h;
    return 0;
}
