/*  png_write.c: filtered rows -> libdeflate zlib stream (in one call, or in
    row parts on threads of their own, joined) -> PNG chunks (see png_write.h). */
#include "png_write.h"
#include "deflate_join.h"
#include "par.h"
#include "pixbuf.h"

#include <libdeflate.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S_NONE, S_SUB, S_UP, S_AVG, S_PAETH, S_NFILTERS };

static void
s_put32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

/* Appends one chunk at *pos of out (room checked by the caller). */
static void
s_chunk (uint8_t *out, size_t *pos, const char *type, const uint8_t *data, size_t n)
{
    uint8_t *p = out + *pos;
    s_put32 (p, (uint32_t) n);
    memcpy (p + 4, type, 4);
    if (n)
        memcpy (p + 8, data, n);
    uint32_t crc = libdeflate_crc32 (0, p + 4, 4 + n);
    s_put32 (p + 8 + n, crc);
    *pos += 12 + n;
}

static inline uint8_t
s_paeth (int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs (p - a), pb = abs (p - b), pc = abs (p - c);
    return (uint8_t) (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

static inline uint32_t
s_abs8 (int r)                          /* |residual| read as a signed byte */
{
    int v = (int8_t) (uint8_t) r;
    return (uint32_t) (v < 0 ? -v : v);
}

/* The cost of the filters tried for row cur (prev: the row above, zeros
   for the first): the sum of |residual| with residuals read as signed
   bytes, one pass, nothing stored. Only SUB and UP are tried: on the
   benchmark slide adding NONE, AVG and PAETH gains 1.5 % in size for 14 ms
   more CPU (bench_render --png-levels). 16-bit lanes so that it vectorises;
   a block of 128 bytes cannot overflow them (128 * 128). */
static void
s_costs (const uint8_t *restrict cur, const uint8_t *restrict prev, size_t n,
         uint32_t cost[S_NFILTERS])
{
    uint32_t cs = 0, cu = 0;
    for (size_t i = 0; i < 3 && i < n; i++) {
        cs += s_abs8 (cur[i]);
        cu += s_abs8 (cur[i] - prev[i]);
    }
    for (size_t i0 = 3; i0 < n; i0 += 128) {
        size_t end = i0 + 128 < n ? i0 + 128 : n;
        uint16_t bs = 0, bu = 0;
        for (size_t i = i0; i < end; i++) {
            int8_t rs = (int8_t) (cur[i] - cur[i - 3]), ru = (int8_t) (cur[i] - prev[i]);
            bs = (uint16_t) (bs + (rs < 0 ? -rs : rs));
            bu = (uint16_t) (bu + (ru < 0 ? -ru : ru));
        }
        cs += bs, cu += bu;
    }
    cost[S_NONE] = cost[S_AVG] = cost[S_PAETH] = UINT32_MAX;
    cost[S_SUB] = cs, cost[S_UP] = cu;
}

/* Row cur through filter k into out (n bytes). */
static void
s_filter (int k, const uint8_t *restrict cur, const uint8_t *restrict prev, size_t n,
          uint8_t *restrict out)
{
    size_t i = 0;
    switch (k) {
        case S_NONE:
            memcpy (out, cur, n);
            return;
        case S_SUB:
            for (; i < 3 && i < n; i++)
                out[i] = cur[i];
            for (; i < n; i++)
                out[i] = (uint8_t) (cur[i] - cur[i - 3]);
            return;
        case S_UP:
            for (; i < n; i++)
                out[i] = (uint8_t) (cur[i] - prev[i]);
            return;
        case S_AVG:
            for (; i < 3 && i < n; i++)
                out[i] = (uint8_t) (cur[i] - (prev[i] >> 1));
            for (; i < n; i++)
                out[i] = (uint8_t) (cur[i] - ((cur[i - 3] + prev[i]) >> 1));
            return;
        default:
            for (; i < 3 && i < n; i++)
                out[i] = (uint8_t) (cur[i] - prev[i]);
            for (; i < n; i++)
                out[i] = (uint8_t) (cur[i] - s_paeth (cur[i - 3], prev[i], prev[i - 3]));
            return;
    }
}

/* Rows [y0, y1) of im converted to RGB and filtered into raw (stride bytes
   a row, the filter byte first); rgb: 2 * n bytes of scratch. The row
   above y0 is read from im, so parts filter alike wherever they start. */
static void
s_filter_rows (gdImagePtr im, int y0, int y1, size_t n, uint8_t *raw, uint8_t *rgb)
{
    int w = gdImageSX (im);
    uint8_t *cur = rgb, *prev = rgb + n;
    memset (prev, 0, n);
    for (int y = y0 > 0 ? y0 - 1 : y0; y < y1; y++) {
        pixbuf_rgb_from_px (cur, im->tpixels[y], w);
        if (y >= y0) {
            uint32_t cost[S_NFILTERS];
            s_costs (cur, prev, n, cost);
            int best = S_NONE;
            for (int k = 1; k < S_NFILTERS; k++)
                if (cost[k] < cost[best])
                    best = k;
            uint8_t *row = raw + (size_t) (y - y0) * (n + 1);
            row[0] = (uint8_t) best;
            s_filter (best, cur, prev, n, row + 1);
        }
        uint8_t *t = cur;
        cur = prev;
        prev = t;
    }
}

/* One part of the parallel path: its rows filtered into a buffer of its
   own and compressed alone into a raw DEFLATE stream, made continuable
   unless it is the last. */
typedef struct {
    int      y0, y1;
    uint8_t *z;
    size_t   zlen;
    uint32_t adler;
} s_part_t;

typedef struct {
    gdImagePtr  im;
    int         level, nparts, rows_per_part;
    size_t      n;
    atomic_int  next;                   /* the next part to take */
    s_part_t   *part;
} s_job_t;

/* A worker: takes parts in order until none is left. At most one part's
   filtered rows are held per worker, so the parallel path holds
   threads x PNG_WRITE_PART_BYTES of them, not the whole image. */
static void
s_worker (void *arg, int worker)
{
    (void) worker;
    s_job_t *job = arg;
    size_t stride = job->n + 1;
    size_t cap_rows = stride * (size_t) job->rows_per_part;
    uint8_t *rgb = malloc (2 * job->n), *raw = malloc (cap_rows);
    struct libdeflate_compressor *z = rgb && raw ? libdeflate_alloc_compressor (job->level) : NULL;
    for (int i; z && (i = atomic_fetch_add (&job->next, 1)) < job->nparts; ) {
        s_part_t *p = &job->part[i];
        size_t len = stride * (size_t) (p->y1 - p->y0);
        s_filter_rows (job->im, p->y0, p->y1, job->n, raw, rgb);
        size_t cap = libdeflate_deflate_compress_bound (z, len) + DEFLATE_JOIN_EXTRA_BYTES;
        p->z = malloc (cap);
        p->zlen = p->z ? libdeflate_deflate_compress (z, raw, len, p->z, cap) : 0;
        if (p->zlen && i + 1 < job->nparts)
            p->zlen = deflate_join_unfinal (p->z, p->zlen, cap);
        p->adler = libdeflate_adler32 (1, raw, len);
        uint8_t *shrunk = p->zlen ? realloc (p->z, p->zlen) : NULL;
        if (shrunk)
            p->z = shrunk;
    }
    if (z)
        libdeflate_free_compressor (z);
    free (raw);
    free (rgb);
}

/* zlib's adler32_combine: the Adler-32 of A then B from theirs and B's length. */
static uint32_t
s_adler_combine (uint32_t a, uint32_t b, size_t blen)
{
    const uint32_t base = 65521;
    uint32_t rem = (uint32_t) (blen % base);
    uint32_t s1 = a & 0xFFFF;
    uint32_t s2 = (uint32_t) ((uint64_t) rem * s1 % base);
    s1 += (b & 0xFFFF) + base - 1;
    s2 += ((a >> 16) & 0xFFFF) + ((b >> 16) & 0xFFFF) + base - rem;
    if (s1 >= base)
        s1 -= base;
    if (s1 >= base)
        s1 -= base;
    if (s2 >= 2 * base)
        s2 -= 2 * base;
    if (s2 >= base)
        s2 -= base;
    return s1 | s2 << 16;
}

/* The zlib stream of im's rows compressed in parts on `threads` threads:
   zlib header, the parts' streams joined, the Adler-32 of all the rows.
   Returns a new buffer (its length in *zlen), or NULL. */
static uint8_t *
s_compress_parts (gdImagePtr im, int level, int threads, size_t n, size_t *zlen)
{
    int h = gdImageSY (im);
    size_t stride = n + 1;
    int rows = (int) (PNG_WRITE_PART_BYTES / stride);
    rows = rows < 1 ? 1 : rows;
    int nparts = (h + rows - 1) / rows;
    if (nparts < threads) {                     /* a small image: one part per thread */
        nparts = threads < h ? threads : h;
        rows = (h + nparts - 1) / nparts;
        nparts = (h + rows - 1) / rows;
    }
    s_job_t job = { .im = im, .level = level, .nparts = nparts, .rows_per_part = rows, .n = n };
    atomic_init (&job.next, 0);
    job.part = calloc ((size_t) nparts, sizeof *job.part);
    if (!job.part)
        return NULL;
    for (int i = 0; i < nparts; i++) {
        job.part[i].y0 = i * rows;
        job.part[i].y1 = (i + 1) * rows < h ? (i + 1) * rows : h;
    }
    par_run (threads < nparts ? threads : nparts, s_worker, &job);
    size_t total = 2 + 4;
    uint32_t adler = 1;
    uint8_t *out = NULL;
    for (int i = 0; i < nparts; i++) {
        s_part_t *p = &job.part[i];
        if (!p->zlen)
            goto done;
        total += p->zlen;
        adler = i ? s_adler_combine (adler, p->adler, stride * (size_t) (p->y1 - p->y0)) : p->adler;
    }
    out = malloc (total);
    if (!out)
        goto done;
    /* libdeflate's header for the level: deflate, 32 KiB window, FLEVEL */
    unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
    unsigned hdr = 0x7800u | flevel << 6;
    hdr += 31 - hdr % 31;
    out[0] = (uint8_t) (hdr >> 8);
    out[1] = (uint8_t) hdr;
    size_t at = 2;
    for (int i = 0; i < nparts; i++) {
        memcpy (out + at, job.part[i].z, job.part[i].zlen);
        at += job.part[i].zlen;
    }
    s_put32 (out + at, adler);
    *zlen = at + 4;
done:
    for (int i = 0; i < nparts; i++)
        free (job.part[i].z);
    free (job.part);
    return out;
}

int
png_write (gdImagePtr im, int level, int threads, size_t max_bytes, uint8_t **out, size_t *out_len,
           char *err, size_t errsz)
{
    *out = NULL;
    *out_len = 0;
    if (!gdImageTrueColor (im)) {
        snprintf (err, errsz, "png_write needs a truecolor image");
        return -1;
    }
    int w = gdImageSX (im), h = gdImageSY (im);
    if (w < 1 || h < 1 || w > PNG_WRITE_MAX_SIDE_PX || h > PNG_WRITE_MAX_SIDE_PX) {
        snprintf (err, errsz, "image %dx%d is outside 1..%d pixels a side", w, h,
                  PNG_WRITE_MAX_SIDE_PX);
        return -1;
    }
    if (level < 1 || level > 12) {
        snprintf (err, errsz, "level %d is outside 1..12", level);
        return -1;
    }
    if (threads < 1 || threads > PAR_MAX_THREADS) {
        snprintf (err, errsz, "threads %d is outside 1..%d", threads, PAR_MAX_THREADS);
        return -1;
    }
    size_t n = 3 * (size_t) w, stride = n + 1;
    size_t raw_len = stride * (size_t) h;
    uint8_t *zbuf = NULL, *png = NULL;
    size_t zlen = 0;
    int rc = -1;
    if (threads == 1) {                         /* one thread, one libdeflate call */
        size_t raw_mapped = 0;
        uint8_t *raw = pixbuf_alloc (raw_len, &raw_mapped), *rgb = malloc (2 * n);
        struct libdeflate_compressor *z = raw && rgb ? libdeflate_alloc_compressor (level) : NULL;
        if (z) {
            s_filter_rows (im, 0, h, n, raw, rgb);
            size_t zcap = libdeflate_zlib_compress_bound (z, raw_len);
            zbuf = malloc (zcap);
            zlen = zbuf ? libdeflate_zlib_compress (z, raw, raw_len, zbuf, zcap) : 0;
            libdeflate_free_compressor (z);
        }
        pixbuf_free (raw, raw_mapped);
        free (rgb);
    }
    else
        zbuf = s_compress_parts (im, level, threads, n, &zlen);
    if (!zbuf || zlen == 0) {
        snprintf (err, errsz, "libdeflate could not compress (or out of memory)");
        goto done;
    }
    size_t nidat = (zlen + PNG_WRITE_IDAT_BYTES - 1) / PNG_WRITE_IDAT_BYTES;
    size_t total = 8 + (12 + 13) + nidat * 12 + zlen + 12;
    if (total > max_bytes) {
        snprintf (err, errsz, "encoded image is over %zu bytes", max_bytes);
        goto done;
    }
    png = malloc (total);
    if (!png) {
        snprintf (err, errsz, "out of memory");
        goto done;
    }
    static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    memcpy (png, sig, 8);
    size_t pos = 8;
    uint8_t ihdr[13];
    s_put32 (ihdr, (uint32_t) w);
    s_put32 (ihdr + 4, (uint32_t) h);
    ihdr[8] = 8;                                /* bit depth */
    ihdr[9] = 2;                                /* colour type RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;         /* deflate, adaptive filters, no interlace */
    s_chunk (png, &pos, "IHDR", ihdr, sizeof ihdr);
    for (size_t off = 0; off < zlen; off += PNG_WRITE_IDAT_BYTES) {
        size_t part = zlen - off < PNG_WRITE_IDAT_BYTES ? zlen - off : PNG_WRITE_IDAT_BYTES;
        s_chunk (png, &pos, "IDAT", zbuf + off, part);
    }
    s_chunk (png, &pos, "IEND", NULL, 0);
    *out = png;
    *out_len = pos;
    png = NULL;
    rc = 0;
done:
    free (zbuf);
    free (png);
    return rc;
}
