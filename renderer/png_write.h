/*  png_write.h: a PNG writer for opaque libgd truecolor canvases: 8-bit RGB,
    not interlaced, one filter per row, SUB or UP, whichever has the smaller
    sum of absolute residuals (libpng's adaptive heuristic over the two
    cheap filters; see s_costs in png_write.c for why only those), the filtered
    rows compressed in one call by libdeflate into a zlib stream, then
    IHDR / IDAT (split at PNG_WRITE_IDAT_BYTES) / IEND with their CRCs.
    With threads > 1 the rows are cut into parts of about
    PNG_WRITE_PART_BYTES filtered bytes (at least one per thread), taken in
    order by that many threads (par.h), each part filtered into a buffer of
    its own and compressed by libdeflate alone into a raw DEFLATE stream;
    the streams are joined into the one zlib stream (deflate_join.h: each
    but the last ends in an empty stored block, as after zlib's sync flush)
    with the Adler-32 of all the rows. Matches do not reach across a join
    (under 0.1 % bigger on the benchmark slide), and only threads x
    PNG_WRITE_PART_BYTES of filtered rows exist at once instead of the
    whole image's (11 MB for 1320x2868).
    No time, text or colour chunks: the same pixels and level always give
    the same bytes. Alpha is dropped (the canvas is opaque).

    Thread: any (each call has its own compressor). Memory: *out is the
    caller's (free). */
#ifndef EASEL_PNG_WRITE_H
#define EASEL_PNG_WRITE_H

#include <gd.h>
#include <stddef.h>
#include <stdint.h>

/* The level the renderer encodes at: the lowest CPU that keeps the file
   within 1.15x of libpng level 6 on the benchmark slide (bench/README.md). */
#define PNG_WRITE_LEVEL        2
#define PNG_WRITE_IDAT_BYTES   (1 << 20)       /* data bytes per IDAT chunk */
#define PNG_WRITE_MAX_SIDE_PX  65535           /* per side; 2^31-1 is PNG's own cap */
/* encode_png compresses on par_threads() threads from this many filtered
   bytes on; below it on one (a thread start would cost more) */
#define PNG_WRITE_PARTS_MIN_BYTES (512 * 1024)
#define PNG_WRITE_PART_BYTES      (1 << 20)    /* filtered bytes per part */

/* Encodes truecolor im at libdeflate level (1..12) on threads
   (1..PAR_MAX_THREADS; 1: the calling thread alone, one libdeflate call over
   all the rows) into a new buffer of at most max_bytes. Returns 0 with *out
   and *out_len set, or -1 with a reason in err (errsz bytes) and *out NULL:
   not truecolor, a side over PNG_WRITE_MAX_SIDE_PX, a level or thread count
   out of range, out of memory, or an output over max_bytes. */
int png_write (gdImagePtr im, int level, int threads, size_t max_bytes, uint8_t **out,
               size_t *out_len, char *err, size_t errsz);

#endif
