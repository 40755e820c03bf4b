/*  encode.h: encodes a libgd truecolor canvas as PNG with libpng directly.

    RGB (no alpha), 8 bits, PNG_FILTER_SUB, zlib level 1: libgd's own PNG path
    cannot choose the filter and is ~3x slower (DESIGN.md "Pitfalls"). No time
    or text chunks, so the same pixels always give the same bytes.

    Thread: any. Memory: *out is the caller's (free). */
#ifndef EASEL_ENCODE_H
#define EASEL_ENCODE_H

#include <gd.h>
#include <stddef.h>
#include <stdint.h>

/* Encodes im into a new buffer of at most max_bytes. Returns 0 with *out and
   *out_len set, or -1 with a reason in err (errsz bytes) and *out NULL. */
int encode_png (gdImagePtr im, size_t max_bytes, uint8_t **out, size_t *out_len,
                char *err, size_t errsz);

#endif
