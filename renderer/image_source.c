/*  image_source.c: header probes, a fast path for plain PNGs, and libgd
    decoding (see image_source.h). */
#include "image_source.h"
#include "pixbuf.h"
#include "easel_limits.h"

#include <libdeflate.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_FAST_MAX_SIDE_PX (1u << 16)   /* the fast path's caps (and EASEL_MAX_SOURCE_PIXELS): larger goes to libgd */

static uint32_t
s_be16 (const uint8_t *p) { return ((uint32_t) p[0] << 8) | p[1]; }
static uint32_t
s_be32 (const uint8_t *p) { return (s_be16 (p) << 16) | s_be16 (p + 2); }
static uint32_t
s_le24 (const uint8_t *p) { return p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16); }

static int
s_probe_png (const uint8_t *d, size_t len, uint32_t *w, uint32_t *h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len < 24 || memcmp (d, sig, 8) != 0 || memcmp (d + 12, "IHDR", 4) != 0)
        return -1;
    *w = s_be32 (d + 16);
    *h = s_be32 (d + 20);
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
        uint32_t seglen = s_be16 (d + i);
        if (seglen < 2)
            return -1;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 7 > len)
                return -1;
            *h = s_be16 (d + i + 3);
            *w = s_be16 (d + i + 5);
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

/* ---- plain PNGs: 8-bit RGB or RGBA, not interlaced, no PLTE/tRNS -------- */

static inline int
s_paeth (int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs (p - a), pb = abs (p - b), pc = abs (p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Undoes filter f of row (n bytes, bpp bytes a pixel) in place; prev is the
   unfiltered row above (zeros for the first). -1 for an unknown filter. */
static int
s_unfilter (int f, uint8_t *restrict row, const uint8_t *restrict prev, size_t n, size_t bpp)
{
    size_t i;
    switch (f) {
        case 0:
            return 0;
        case 1:
            for (i = bpp; i < n; i++)
                row[i] = (uint8_t) (row[i] + row[i - bpp]);
            return 0;
        case 2:
            for (i = 0; i < n; i++)
                row[i] = (uint8_t) (row[i] + prev[i]);
            return 0;
        case 3:
            for (i = 0; i < bpp; i++)
                row[i] = (uint8_t) (row[i] + (prev[i] >> 1));
            for (; i < n; i++)
                row[i] = (uint8_t) (row[i] + ((row[i - bpp] + prev[i]) >> 1));
            return 0;
        case 4:
            for (i = 0; i < bpp; i++)
                row[i] = (uint8_t) (row[i] + prev[i]);
            for (; i < n; i++)
                row[i] = (uint8_t) (row[i] + s_paeth (row[i - bpp], prev[i], prev[i - bpp]));
            return 0;
        default:
            return -1;
    }
}

/* The common screenshot PNG decoded with libdeflate (inflate ~3x zlib's
   speed) into the same pixels libgd gives: RGB opaque, RGBA alpha as
   127 - a / 2. NULL for anything else or anything odd (other depths and
   colour types, interlacing, PLTE or tRNS, a bad CRC, short or long image
   data): the caller then asks libgd, so every other PNG decodes as before. */
static gdImagePtr
s_png_fast (const uint8_t *d, size_t len)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (len < 8 + 25 || memcmp (d, sig, 8) != 0 || s_be32 (d + 8) != 13
    ||  memcmp (d + 12, "IHDR", 4) != 0
    ||  libdeflate_crc32 (0, d + 12, 17) != s_be32 (d + 29))
        return NULL;
    uint32_t w = s_be32 (d + 16), h = s_be32 (d + 20);
    int depth = d[24], ctype = d[25];
    if (w == 0 || h == 0 || w > S_FAST_MAX_SIDE_PX || h > S_FAST_MAX_SIDE_PX
    ||  (uint64_t) w * h > EASEL_MAX_SOURCE_PIXELS || depth != 8
    ||  (ctype != 2 && ctype != 6) || d[26] || d[27] || d[28])
        return NULL;
    /* the IDAT chunks (consecutive, as PNG requires), each CRC checked */
    size_t pos = 33, first = 0, idat_len = 0, nidat = 0;
    bool after_idat = false, iend = false;
    while (pos + 12 <= len) {
        size_t n = s_be32 (d + pos);
        const uint8_t *type = d + pos + 4;
        if (n > len - pos - 12)
            return NULL;
        if (memcmp (type, "IEND", 4) == 0) {
            iend = true;
            break;
        }
        if (memcmp (type, "IDAT", 4) == 0) {
            if (after_idat || libdeflate_crc32 (0, type, 4 + n) != s_be32 (d + pos + 8 + n))
                return NULL;
            if (nidat++ == 0)
                first = pos;
            idat_len += n;
        }
        else {
            if (nidat)
                after_idat = true;
            if (memcmp (type, "PLTE", 4) == 0 || memcmp (type, "tRNS", 4) == 0
            ||  !(type[0] & 0x20))          /* another critical chunk */
                return NULL;
        }
        pos += 12 + n;
    }
    if (!iend || nidat == 0)
        return NULL;
    size_t bpp = ctype == 6 ? 4 : 3, n = bpp * w, stride = n + 1;
    size_t raw_len = stride * h;
    size_t raw_mapped = 0;
    uint8_t *zdata = NULL, *raw = pixbuf_alloc (raw_len, &raw_mapped), *zero = calloc (1, n);
    const uint8_t *z = d + first + 8;
    if (raw && zero && nidat > 1) {         /* join the IDAT payloads */
        zdata = malloc (idat_len);
        size_t at = 0;
        for (size_t p = first; zdata && at < idat_len; ) {
            size_t cn = s_be32 (d + p);
            if (memcmp (d + p + 4, "IDAT", 4) == 0) {
                memcpy (zdata + at, d + p + 8, cn);
                at += cn;
            }
            p += 12 + cn;
        }
        z = zdata;
    }
    gdImagePtr im = NULL;
    struct libdeflate_decompressor *dz = raw && zero && z ? libdeflate_alloc_decompressor () : NULL;
    size_t got = 0;
    if (dz && libdeflate_zlib_decompress (dz, z, idat_len, raw, raw_len, &got) == LIBDEFLATE_SUCCESS
    &&  got == raw_len)
        im = gdImageCreateTrueColor ((int) w, (int) h);
    if (im) {
        const uint8_t *prev = zero;
        for (uint32_t y = 0; y < h; y++) {
            uint8_t *row = raw + (size_t) y * stride;
            if (s_unfilter (row[0], row + 1, prev, n, bpp) != 0) {
                gdImageDestroy (im);
                im = NULL;
                break;
            }
            const uint8_t *p = row + 1;
            int *out = im->tpixels[y];
            if (bpp == 3)
                for (uint32_t x = 0; x < w; x++, p += 3)
                    out[x] = gdTrueColor (p[0], p[1], p[2]);
            else
                for (uint32_t x = 0; x < w; x++, p += 4)
                    out[x] = gdTrueColorAlpha (p[0], p[1], p[2], gdAlphaMax - (p[3] >> 1));
            prev = row + 1;
        }
    }
    if (im && bpp == 4) {
        gdImageAlphaBlending (im, 0);
        gdImageSaveAlpha (im, 1);
    }
    if (dz)
        libdeflate_free_decompressor (dz);
    free (zdata);
    free (zero);
    pixbuf_free (raw, raw_mapped);
    return im;
}

gdImagePtr
image_source_decode (const uint8_t *data, size_t len, image_source_kind_t kind)
{
    if (kind == IMAGE_SOURCE_PNG) {
        gdImagePtr im = s_png_fast (data, len);
        if (im)
            return im;
    }
    if (len > INT_MAX)
        return NULL;
    void *p = (void *) data;            /* libgd's API is not const-correct; it only reads */
    switch (kind) {
        case IMAGE_SOURCE_PNG:  return gdImageCreateFromPngPtr ((int) len, p);
        case IMAGE_SOURCE_JPEG: return gdImageCreateFromJpegPtr ((int) len, p);
        case IMAGE_SOURCE_WEBP: return gdImageCreateFromWebpPtr ((int) len, p);
        default:                return NULL;
    }
}
