/*  fuzz_png_seeds.c: writes small valid images into DIR/fuzz_png/ for the
    image decoding fuzzer: an RGB PNG and an RGBA PNG from libgd (every row
    filter libpng picks), the RGB one again with its image data split over
    two IDAT chunks, and a JPEG.  */
#include <gd.h>
#include <libdeflate.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
s_write (const char *dir, const char *name, const void *data, size_t len)
{
    char path [512];
    snprintf (path, sizeof path, "%s/fuzz_png/%s", dir, name);
    FILE *f = fopen (path, "wb");
    bool ok = f && fwrite (data, 1, len, f) == len;
    if (f && fclose (f))
        ok = false;
    if (!ok)
        fprintf (stderr, "cannot write %s\n", path);
    return ok ? 0 : -1;
}

static void
s_put32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24); p[1] = (uint8_t) (v >> 16); p[2] = (uint8_t) (v >> 8); p[3] = (uint8_t) v;
}

static uint32_t
s_get32 (const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/* png with its first IDAT split in two chunks, written as name; -1 if none. */
static int
s_write_split (const char *dir, const char *name, const uint8_t *png, size_t len)
{
    for (size_t pos = 8; pos + 12 <= len; ) {
        size_t n = s_get32 (png + pos);
        if (n > len - pos - 12)
            break;
        if (memcmp (png + pos + 4, "IDAT", 4) == 0 && n >= 2) {
            size_t a = n / 2, b = n - a;
            uint8_t *out = malloc (len + 12);
            if (!out)
                return -1;
            size_t at = 0;
            memcpy (out, png, pos);
            at = pos;
            const uint8_t *payload = png + pos + 8;
            size_t part [2] = { a, b };
            for (int i = 0; i < 2; i++) {
                s_put32 (out + at, (uint32_t) part [i]);
                memcpy (out + at + 4, "IDAT", 4);
                memcpy (out + at + 8, payload, part [i]);
                s_put32 (out + at + 8 + part [i], libdeflate_crc32 (0, out + at + 4, 4 + part [i]));
                at += 12 + part [i];
                payload += part [i];
            }
            memcpy (out + at, png + pos + 12 + n, len - pos - 12 - n);
            at += len - pos - 12 - n;
            int rc = s_write (dir, name, out, at);
            free (out);
            return rc;
        }
        pos += 12 + n;
    }
    return -1;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_png_seeds DIR\n");
        return 2;
    }
    char path [512];
    snprintf (path, sizeof path, "%s/fuzz_png", argv [1]);
    mkdir (argv [1], 0755);
    mkdir (path, 0755);
    gdImagePtr im = gdImageCreateTrueColor (9, 7);
    if (!im)
        return 1;
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 9; x++)
            gdImageSetPixel (im, x, y, gdTrueColorAlpha (x * 28, y * 36, (x ^ y) * 16, (x + y) * 8));
    int rc = 0, size = 0;
    void *png = gdImagePngPtr (im, &size);
    rc |= png ? s_write (argv [1], "rgb.png", png, (size_t) size) : -1;
    rc |= png ? s_write_split (argv [1], "rgb-2idat.png", png, (size_t) size) : 0;
    gdFree (png);
    void *jpeg = gdImageJpegPtr (im, &size, 80);
    rc |= jpeg ? s_write (argv [1], "small.jpg", jpeg, (size_t) size) : -1;
    gdFree (jpeg);
    gdImageSaveAlpha (im, 1);
    png = gdImagePngPtr (im, &size);
    rc |= png ? s_write (argv [1], "rgba.png", png, (size_t) size) : -1;
    gdFree (png);
    gdImageDestroy (im);
    return rc ? 1 : 0;
}
