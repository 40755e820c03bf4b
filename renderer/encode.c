/*  encode.c: PNG through png_write, JPEG and WebP through libgd (see encode.h). */
#include "encode.h"
#include "png_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
encode_png (gdImagePtr im, size_t max_bytes, uint8_t **out, size_t *out_len,
            char *err, size_t errsz)
{
    return png_write (im, PNG_WRITE_LEVEL, max_bytes, out, out_len, err, errsz);
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
