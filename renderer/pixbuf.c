/*  pixbuf.c: see pixbuf.h. */
#include "pixbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__) || defined(__i386__)
#include <tmmintrin.h>
#define S_X86 1
#endif

uint8_t *
pixbuf_alloc (size_t n, size_t *mapped)
{
    *mapped = 0;
#if defined(__SANITIZE_ADDRESS__)
    bool huge = false;                  /* AddressSanitizer checks malloc'd bounds only */
#else
    bool huge = n >= PIXBUF_HUGE_MIN_BYTES;
#endif
    if (huge) {
        size_t len = (n + PIXBUF_HUGE_BYTES - 1) / PIXBUF_HUGE_BYTES * PIXBUF_HUGE_BYTES;
        void *p = mmap (NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
#ifdef MADV_HUGEPAGE
            madvise (p, len, MADV_HUGEPAGE);    /* a hint: without it, plain pages */
#endif
            *mapped = len;
            return p;
        }
    }
    return malloc (n ? n : 1);
}

void
pixbuf_free (uint8_t *p, size_t mapped)
{
    if (p && mapped)
        munmap (p, mapped);
    else
        free (p);
}

/* Four bytes a store, the fourth overwritten by the next pixel (so the
   row's last pixel alone); 0x..RRGGBB shifted and byte-swapped is R G B 0. */
static void
s_rgb_from_px (uint8_t *restrict rgb, const int *restrict px, int from, int w)
{
    int x = from;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; x + 1 < w; x++) {
        uint32_t v = __builtin_bswap32 ((uint32_t) px[x] << 8);
        memcpy (rgb + 3 * x, &v, 4);
    }
#endif
    for (; x < w; x++) {
        rgb[3 * x]     = (uint8_t) (px[x] >> 16);
        rgb[3 * x + 1] = (uint8_t) (px[x] >> 8);
        rgb[3 * x + 2] = (uint8_t) px[x];
    }
}

/* Four bytes read, byte-swapped, the fourth shifted out; the row's last
   pixel alone (no byte after it). */
static void
s_px_from_rgb (int *restrict px, const uint8_t *restrict rgb, int from, int w)
{
    int x = from;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; x + 1 < w; x++) {
        uint32_t v;
        memcpy (&v, rgb + 3 * x, 4);
        px[x] = (int) (__builtin_bswap32 (v) >> 8);
    }
#endif
    for (; x < w; x++)
        px[x] = (rgb[3 * x] << 16) | (rgb[3 * x + 1] << 8) | rgb[3 * x + 2];
}

#ifdef S_X86
/* Four pixels a shuffle: memory B G R A x4 -> R G B x4 (12 bytes of a 16-byte
   store, the last 4 overwritten by the next store; the last pixels by the
   scalar loop, so nothing is written past 3 * w). */
__attribute__ ((target ("ssse3"))) static void
s_rgb_from_px_ssse3 (uint8_t *restrict rgb, const int *restrict px, int w)
{
    const __m128i pick = _mm_setr_epi8 (2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    int x = 0;
    for (; x + 6 <= w; x += 4) {        /* bytes 3x .. 3x + 15 lie within the row */
        __m128i v = _mm_loadu_si128 ((const __m128i *) (px + x));
        _mm_storeu_si128 ((__m128i *) (rgb + 3 * x), _mm_shuffle_epi8 (v, pick));
    }
    s_rgb_from_px (rgb, px, x, w);
}

/* Four pixels a shuffle: R G B x4 (a 16-byte load, 12 bytes used, only where
   all 16 lie within the row) -> B G R 0 x4. */
__attribute__ ((target ("ssse3"))) static void
s_px_from_rgb_ssse3 (int *restrict px, const uint8_t *restrict rgb, int w)
{
    const __m128i pick = _mm_setr_epi8 (2, 1, 0, -1, 5, 4, 3, -1, 8, 7, 6, -1, 11, 10, 9, -1);
    int x = 0;
    for (; x + 6 <= w; x += 4) {
        __m128i v = _mm_loadu_si128 ((const __m128i *) (rgb + 3 * x));
        _mm_storeu_si128 ((__m128i *) (px + x), _mm_shuffle_epi8 (v, pick));
    }
    s_px_from_rgb (px, rgb, x, w);
}
#endif

bool
pixbuf_simd (void)
{
#ifdef S_X86
    return __builtin_cpu_supports ("ssse3");
#else
    return false;
#endif
}

void
pixbuf_rgb_from_px (uint8_t *restrict rgb, const int *restrict px, int w)
{
#ifdef S_X86
    if (__builtin_cpu_supports ("ssse3")) {
        s_rgb_from_px_ssse3 (rgb, px, w);
        return;
    }
#endif
    s_rgb_from_px (rgb, px, 0, w);
}

void
pixbuf_px_from_rgb (int *restrict px, const uint8_t *restrict rgb, int w)
{
#ifdef S_X86
    if (__builtin_cpu_supports ("ssse3")) {
        s_px_from_rgb_ssse3 (px, rgb, w);
        return;
    }
#endif
    s_px_from_rgb (px, rgb, 0, w);
}
