/*  pixbuf.h: large scratch buffers written once front to back (the PNG
    writer's filtered rows, the PNG reader's inflated rows), mapped with
    MADV_HUGEPAGE so that a 10 MB buffer costs a few page faults instead of
    ~2,500 (bench/README.md: a few ms of a slide on this machine, whose THP
    mode is `madvise`). Below PIXBUF_HUGE_MIN_BYTES, when mmap fails, or in
    an AddressSanitizer build (so that it checks the bounds), plain malloc.

    And the two row conversions between libgd's truecolor pixels (an int
    0xAARRGGBB a pixel) and packed R G B bytes, which the PNG reader and
    writer run over every pixel: 16 bytes a shuffle where the CPU has SSSE3
    (asked at run time), else four bytes a load or store; the same bytes
    either way.

    Thread: any. Memory: the caller's, freed with pixbuf_free. */
#ifndef EASEL_PIXBUF_H
#define EASEL_PIXBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define PIXBUF_HUGE_BYTES     (2u << 20)                /* a transparent huge page */
#define PIXBUF_HUGE_MIN_BYTES (2 * PIXBUF_HUGE_BYTES)

/* n bytes (not zeroed), or NULL. *mapped is what pixbuf_free needs. */
uint8_t *pixbuf_alloc (size_t n, size_t *mapped);
/* Frees p from pixbuf_alloc (NULL is fine). */
void pixbuf_free (uint8_t *p, size_t mapped);

/* rgb (3 * w bytes) from w libgd truecolor pixels, alpha dropped. */
void pixbuf_rgb_from_px (uint8_t *restrict rgb, const int *restrict px, int w);
/* w opaque libgd truecolor pixels (gdTrueColor (r, g, b)) from rgb. */
void pixbuf_px_from_rgb (int *restrict px, const uint8_t *restrict rgb, int w);
/* Whether the SSSE3 paths run (for tests and the bench). */
bool pixbuf_simd (void);

#endif
