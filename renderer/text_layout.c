/*  text_layout.c: measure, shrink to fit, draw (see text_layout.h). */
#include "text_layout.h"

#include <math.h>
#include <stdio.h>

static gdFTStringExtra
s_extra (void)
{
    gdFTStringExtra ex = { .flags = gdFTEX_RESOLUTION, .hdpi = 72, .vdpi = 72 };
    return ex;
}

/* Widest line at size, in pixels; -1 with err on a FreeType error. */
static int
s_widest (const char *font, char *const *lines, int nlines, double size,
          char *err, size_t errsz)
{
    int widest = 0;
    for (int i = 0; i < nlines; i++) {
        int brect[8];
        gdFTStringExtra ex = s_extra ();
        char *msg = gdImageStringFTEx (NULL, brect, 0, (char *) font, size, 0.0,
                                       0, 0, lines[i], &ex);
        if (msg) {
            snprintf (err, errsz, "font %s: %s", font, msg);
            return -1;
        }
        if (brect[2] - brect[0] > widest)
            widest = brect[2] - brect[0];
    }
    return widest;
}

int
text_layout_draw (gdImagePtr im, const char *font_path,
                  char *const *lines, int nlines, uint32_t rgb,
                  int top, int max_width, double size_px,
                  int *bottom, char *err, size_t errsz)
{
    *bottom = top;
    if (nlines <= 0)
        return 0;
    double size = size_px;
    for (;;) {
        int widest = s_widest (font_path, lines, nlines, size, err, errsz);
        if (widest < 0)
            return -1;
        if (widest <= max_width || size <= TEXT_LAYOUT_MIN_PX)
            break;
        size = fmax (TEXT_LAYOUT_MIN_PX, size * 0.92);
    }
    int advance = (int) lround (size * TEXT_LAYOUT_LINE_HEIGHT);
    int ascent = (int) lround (size * 0.95);
    int color = gdTrueColor ((rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF);
    for (int i = 0; i < nlines; i++) {
        int brect[8];
        gdFTStringExtra ex = s_extra ();
        char *msg = gdImageStringFTEx (NULL, brect, 0, (char *) font_path, size, 0.0,
                                       0, 0, lines[i], &ex);
        if (!msg) {
            int x = (gdImageSX (im) - (brect[2] - brect[0])) / 2 - brect[0];
            int y = top + ascent + i * advance;
            ex = s_extra ();
            msg = gdImageStringFTEx (im, brect, color, (char *) font_path, size, 0.0,
                                     x, y, lines[i], &ex);
        }
        if (msg) {
            snprintf (err, errsz, "font %s: %s", font_path, msg);
            return -1;
        }
    }
    *bottom = top + nlines * advance;
    return 0;
}
