/*  image_source.c: a fast path for plain PNGs, and libgd decoding (see
    image_source.h; the header probes are catalog/image_probe.c). */
#include "image_source.h"
#include "pixbuf.h"
#include "easel_limits.h"

#include <libdeflate.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_FAST_MAX_SIDE_PX (1u << 16)   /* the fast path's caps (and EASEL_MAX_SOURCE_PIXELS): larger goes to libgd */

/* ---- plain PNGs: 8-bit RGB or RGBA, not interlaced, no PLTE/tRNS -------- */

static inline int
s_paeth (int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs (p - a), pb = abs (p - b), pc = abs (p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* A pixel of B (3 or 4, a constant after inlining) bytes in 16-bit lanes.
   A fixed-size copy compiles to one load; a copy of a variable size was a
   call (rep movsb) per pixel, most of the Paeth rows' time. */
static inline __m128i
s_load_px (const uint8_t *p, size_t B)
{
    uint32_t v = 0;
    if (B == 4)
        memcpy (&v, p, 4);
    else {
        uint16_t lo;
        memcpy (&lo, p, 2);
        v = lo | (uint32_t) p[2] << 16;
    }
    return _mm_unpacklo_epi8 (_mm_cvtsi32_si128 ((int) v), _mm_setzero_si128 ());
}

static inline void
s_store_px (uint8_t *p, uint32_t v, size_t B)
{
    if (B == 4)
        memcpy (p, &v, 4);
    else {
        uint16_t lo = (uint16_t) v;
        memcpy (p, &lo, 2);
        p[2] = (uint8_t) (v >> 16);
    }
}

static inline __m128i
s_abs16 (__m128i x)
{
    return _mm_max_epi16 (x, _mm_sub_epi16 (_mm_setzero_si128 (), x));
}

/* Paeth for B-byte pixels (B 3 or 4), a pixel's bytes at once in 16-bit
   lanes (the rows depend on the pixel to the left, so pixels go one by one):
   the same bytes as the scalar loop, ties to a, then b, then c. */
static inline __attribute__ ((always_inline)) void
s_unpaeth_px (uint8_t *restrict row, const uint8_t *restrict prev, size_t n, size_t B)
{
    __m128i a = _mm_setzero_si128 (), c = a;
    for (size_t i = 0; i + B <= n; i += B) {
        __m128i b = s_load_px (prev + i, B), x = s_load_px (row + i, B);
        __m128i pa = _mm_sub_epi16 (b, c), pb = _mm_sub_epi16 (a, c);
        __m128i pc = s_abs16 (_mm_add_epi16 (pa, pb));
        pa = s_abs16 (pa), pb = s_abs16 (pb);
        __m128i least = _mm_min_epi16 (pc, _mm_min_epi16 (pa, pb));
        __m128i is_a = _mm_cmpeq_epi16 (least, pa), is_b = _mm_cmpeq_epi16 (least, pb);
        __m128i bc = _mm_or_si128 (_mm_and_si128 (is_b, b), _mm_andnot_si128 (is_b, c));
        __m128i near = _mm_or_si128 (_mm_and_si128 (is_a, a), _mm_andnot_si128 (is_a, bc));
        __m128i d = _mm_and_si128 (_mm_add_epi16 (x, near), _mm_set1_epi16 (0xFF));
        s_store_px (row + i, (uint32_t) _mm_cvtsi128_si32 (_mm_packus_epi16 (d, d)), B);
        a = d;
        c = b;
    }
}

static void
s_unpaeth (uint8_t *restrict row, const uint8_t *restrict prev, size_t n, size_t bpp)
{
    if (bpp == 3)
        s_unpaeth_px (row, prev, n, 3);
    else
        s_unpaeth_px (row, prev, n, 4);
}
#endif

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
#if defined(__SSE2__)
            if (bpp == 3 || bpp == 4) {
                s_unpaeth (row, prev, n, bpp);
                return 0;
            }
#endif
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
    if (len < 8 + 25 || memcmp (d, sig, 8) != 0 || image_probe_be32 (d + 8) != 13
    ||  memcmp (d + 12, "IHDR", 4) != 0
    ||  libdeflate_crc32 (0, d + 12, 17) != image_probe_be32 (d + 29))
        return NULL;
    uint32_t w = image_probe_be32 (d + 16), h = image_probe_be32 (d + 20);
    int depth = d[24], ctype = d[25];
    if (w == 0 || h == 0 || w > S_FAST_MAX_SIDE_PX || h > S_FAST_MAX_SIDE_PX
    ||  (uint64_t) w * h > EASEL_MAX_SOURCE_PIXELS || depth != 8
    ||  (ctype != 2 && ctype != 6) || d[26] || d[27] || d[28])
        return NULL;
    /* the IDAT chunks (consecutive, as PNG requires), each CRC checked */
    size_t pos = 33, first = 0, idat_len = 0, nidat = 0;
    bool after_idat = false, iend = false;
    while (pos + 12 <= len) {
        size_t n = image_probe_be32 (d + pos);
        const uint8_t *type = d + pos + 4;
        if (n > len - pos - 12)
            return NULL;
        if (memcmp (type, "IEND", 4) == 0) {
            iend = true;
            break;
        }
        if (memcmp (type, "IDAT", 4) == 0) {
            if (after_idat || libdeflate_crc32 (0, type, 4 + n) != image_probe_be32 (d + pos + 8 + n))
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
            size_t cn = image_probe_be32 (d + p);
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
                pixbuf_px_from_rgb (out, p, (int) w);
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
