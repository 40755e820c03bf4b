/*  encode.c: PNG through png_write, JPEG and WebP through libgd (see encode.h). */
#include "encode.h"
#include "par.h"
#include "png_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
encode_png (gdImagePtr im, size_t max_bytes, uint8_t **out, size_t *out_len,
            char *err, size_t errsz)
{
    size_t filtered = (3 * (size_t) gdImageSX (im) + 1) * (size_t) gdImageSY (im);
    int threads = filtered >= PNG_WRITE_PARTS_MIN_BYTES ? par_threads () : 1;
    return png_write (im, PNG_WRITE_LEVEL, threads, max_bytes, out, out_len, err, errsz);
}

int
encode_image (gdImagePtr im, const char *format, size_t max_bytes, uint8_t **out,
              size_t *out_len, char *err, size_t errsz)
{
    if (!format || !*format || strcmp (format, "png") == 0)
        return encode_png (im, max_bytes, out, out_len, err, errsz);
    *out = NULL;
    *out_len = 0;
    int size = 0;
    void *data = NULL;
    if (strcmp (format, "jpeg") == 0)
        data = gdImageJpegPtr (im, &size, 90);
    else
    if (strcmp (format, "webp") == 0)
        data = gdImageWebpPtrEx (im, &size, 90);
    else {
        snprintf (err, errsz, "unknown format \"%s\"", format);
        return -1;
    }
    if (!data || size <= 0) {
        if (data)
            gdFree (data);
        snprintf (err, errsz, "libgd cannot encode %s", format);
        return -1;
    }
    if ((size_t) size > max_bytes) {
        gdFree (data);
        snprintf (err, errsz, "encoded image is over %zu bytes", max_bytes);
        return -1;
    }
    *out = malloc ((size_t) size);
    if (!*out) {
        gdFree (data);
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    memcpy (*out, data, (size_t) size);
    *out_len = (size_t) size;
    gdFree (data);
    return 0;
}

void
encode_thumb (gdImagePtr im, char out [PROTO_THUMB_HEX + 1])
{
    static const char hex [] = "0123456789abcdef";
    int w = gdImageSX (im), h = gdImageSY (im), n = PROTO_THUMB_SIDE;
    out [0] = '\0';
    if (w < n || h < n || !gdImageTrueColor (im))
        return;
    char *p = out;
    for (int ty = 0; ty < n; ty++)
        for (int tx = 0; tx < n; tx++) {
            int x0 = (int) ((int64_t) tx * w / n), x1 = (int) ((int64_t) (tx + 1) * w / n);
            int y0 = (int) ((int64_t) ty * h / n), y1 = (int) ((int64_t) (ty + 1) * h / n);
            int64_t sum [3] = { 0, 0, 0 }, count = 0;
            /* every 4th pixel each way: the box's mean within a level */
            for (int y = y0; y < y1; y += 4)
                for (int x = x0; x < x1; x += 4) {
                    int c = im->tpixels [y][x];
                    sum [0] += gdTrueColorGetRed (c);
                    sum [1] += gdTrueColorGetGreen (c);
                    sum [2] += gdTrueColorGetBlue (c);
                    count++;
                }
            for (int k = 0; k < 3; k++) {
                int v = count ? (int) ((sum [k] + count / 2) / count) : 0;
                *p++ = hex [v >> 4];
                *p++ = hex [v & 15];
            }
        }
    *p = '\0';
}
