/*  encode.c: libpng to a growing memory buffer (see encode.h). */
#include "encode.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *data;
    size_t   len, cap, max;
    char     err[128];
} s_sink_t;

static void
s_write (png_structp png, png_bytep bytes, png_size_t n)
{
    s_sink_t *sink = png_get_io_ptr (png);
    if (n > sink->max - sink->len) {
        snprintf (sink->err, sizeof sink->err, "encoded image is over %zu bytes", sink->max);
        png_error (png, sink->err);
    }
    if (sink->len + n > sink->cap) {
        size_t cap = sink->cap ? sink->cap * 2 : 256 * 1024;
        while (cap < sink->len + n)
            cap *= 2;
        uint8_t *grown = realloc (sink->data, cap);
        if (!grown) {
            snprintf (sink->err, sizeof sink->err, "out of memory");
            png_error (png, sink->err);
        }
        sink->data = grown;
        sink->cap = cap;
    }
    memcpy (sink->data + sink->len, bytes, n);
    sink->len += n;
}

static void
s_flush (png_structp png) { (void) png; }

static void
s_error (png_structp png, png_const_charp msg)
{
    s_sink_t *sink = png_get_error_ptr (png);
    if (msg != sink->err)
        snprintf (sink->err, sizeof sink->err, "libpng: %s", msg);
    png_longjmp (png, 1);
}

static void
s_warning (png_structp png, png_const_charp msg) { (void) png; (void) msg; }

int
encode_png (gdImagePtr im, size_t max_bytes, uint8_t **out, size_t *out_len,
            char *err, size_t errsz)
{
    *out = NULL;
    *out_len = 0;
    if (!gdImageTrueColor (im)) {
        snprintf (err, errsz, "encode_png needs a truecolor image");
        return -1;
    }
    int w = gdImageSX (im), h = gdImageSY (im);
    s_sink_t sink = { .max = max_bytes };
    png_bytep row = malloc ((size_t) w * 3);
    png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &sink, s_error, s_warning);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    if (!row || !png || !info) {
        snprintf (err, errsz, "out of memory");
        png_destroy_write_struct (&png, &info);
        free (row);
        return -1;
    }
    if (setjmp (png_jmpbuf (png))) {
        snprintf (err, errsz, "%s", sink.err);
        png_destroy_write_struct (&png, &info);
        free (row);
        free (sink.data);
        return -1;
    }
    png_set_write_fn (png, &sink, s_write, s_flush);
    png_set_IHDR (png, info, (png_uint_32) w, (png_uint_32) h, 8, PNG_COLOR_TYPE_RGB,
                  PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_filter (png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_set_compression_level (png, 1);
    png_write_info (png, info);
    for (int y = 0; y < h; y++) {
        const int *src = im->tpixels[y];
        for (int x = 0; x < w; x++) {
            row[3 * x]     = (png_byte) ((src[x] >> 16) & 0xFF);
            row[3 * x + 1] = (png_byte) ((src[x] >> 8) & 0xFF);
            row[3 * x + 2] = (png_byte) (src[x] & 0xFF);
        }
        png_write_row (png, row);
    }
    png_write_end (png, info);
    png_destroy_write_struct (&png, &info);
    free (row);
    *out = sink.data;
    *out_len = sink.len;
    return 0;
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
