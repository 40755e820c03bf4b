/*  encode.h: encodes a libgd truecolor canvas: PNG with png_write.h (RGB,
    8 bits, a filter per row, libdeflate at PNG_WRITE_LEVEL), JPEG and WebP
    through libgd.

    libgd's own PNG path cannot choose the filter and is ~3x slower (DESIGN.md
    "Pitfalls"); libpng + zlib level 1 with SUB was 1.27x the level-6 size.
    No time or text chunks, so the same pixels always give the same bytes.

    Thread: any. Memory: *out is the caller's (free). */
#ifndef EASEL_ENCODE_H
#define EASEL_ENCODE_H

#include <gd.h>
#include <stddef.h>
#include <stdint.h>
#include "proto.h"

/* Encodes im into a new buffer of at most max_bytes. Returns 0 with *out and
   *out_len set, or -1 with a reason in err (errsz bytes) and *out NULL. */
int encode_png (gdImagePtr im, size_t max_bytes, uint8_t **out, size_t *out_len,
                char *err, size_t errsz);

/* Encodes im as format: "png" (above), "jpeg" (libgd, quality 90, baseline,
   no EXIF) or "webp" (libgd/libwebp, lossy quality 90, opaque pixels so no
   alpha). All deterministic. Same contract as encode_png. */
int encode_image (gdImagePtr im, const char *format, size_t max_bytes, uint8_t **out,
                  size_t *out_len, char *err, size_t errsz);

/* The image's perceptual thumbnail into out: PROTO_THUMB_SIDE x
   PROTO_THUMB_SIDE box-filtered RGB pixels as hex, row by row. Two renders' images are compared by it (GET
   /v1/renders/{id}/changes) without decoding either. */
void encode_thumb (gdImagePtr im, char out [PROTO_THUMB_HEX + 1]);

#endif
