/*  fuzz_png.c: libFuzzer target for the renderer's source-image decoding
    (renderer/image_source.c): the probe, then the decode, of any bytes. The
    fast PNG path checks every chunk's CRC, so a mutated input would almost
    always stop there; the target therefore repairs the CRCs of the chunks it
    can walk (up to 64) before decoding, so the mutations reach the inflate,
    the unfiltering and the pixel conversion.  */
#include "image_source.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t
s_be32 (const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void
s_fix_crcs (uint8_t *d, size_t len)
{
    size_t pos = 8;
    for (int i = 0; i < 64 && pos + 12 <= len; i++) {
        size_t n = s_be32 (d + pos);
        if (n > len - pos - 12)
            return;
        uint32_t crc = libdeflate_crc32 (0, d + pos + 4, 4 + n);
        uint8_t *c = d + pos + 8 + n;
        c[0] = (uint8_t) (crc >> 24); c[1] = (uint8_t) (crc >> 16);
        c[2] = (uint8_t) (crc >> 8);  c[3] = (uint8_t) crc;
        pos += 12 + n;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc (size ? size : 1);
    if (!copy)
        return 0;
    memcpy (copy, data, size);
    if (size >= 8 && memcmp (copy, "\x89PNG\r\n\x1a\n", 8) == 0)
        s_fix_crcs (copy, size);
    image_source_kind_t kind;
    uint32_t w = 0, h = 0;
    if (image_source_probe (copy, size, &kind, &w, &h) == 0 && (uint64_t) w * h <= 1u << 20) {
        gdImagePtr im = image_source_decode (copy, size, kind);
        if (im)
            gdImageDestroy (im);
    }
    free (copy);
    return 0;
}
