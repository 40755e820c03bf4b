/*  pixbuf.c: see pixbuf.h. */
#include "pixbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

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
