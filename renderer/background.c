/*  background.c: gradient and solid backgrounds (see background.h).
    Thread: any. */
#include "background.h"

#include <math.h>

#define S_GRADIENT_STEPS 4096          /* colour lookup table resolution */

/* Colour at t in [0,1] across n (>= 2) evenly spaced stops. */
static int
s_stop_color (const uint32_t *colors, int n, double t)
{
    double pos = t * (n - 1);
    int i = (int) floor (pos);
    if (i >= n - 1)
        i = n - 2;
    double f = pos - i;
    uint32_t a = colors [i], b = colors [i + 1];
    int ch [3];
    for (int k = 0; k < 3; k++) {
        int shift = 16 - 8 * k;
        double va = (a >> shift) & 0xFF, vb = (b >> shift) & 0xFF;
        ch [k] = (int) lround (va + (vb - va) * f);
    }
    return gdTrueColor (ch [0], ch [1], ch [2]);
}

void
background_paint (gdImagePtr im, const uint32_t *colors, int ncolors, double angle)
{
    int w = gdImageSX (im), h = gdImageSY (im);
    if (ncolors <= 1) {
        int c = ncolors == 1 ? (int) (colors [0] & 0xFFFFFF) : 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                im->tpixels [y][x] = c;
        return;
    }
    static const double pi = 3.14159265358979323846;
    double rad = angle * pi / 180.0;
    double dx = sin (rad), dy = -cos (rad);
    double len = fabs (w * dx) + fabs (h * dy);
    int lut [S_GRADIENT_STEPS];
    for (int i = 0; i < S_GRADIENT_STEPS; i++)
        lut [i] = s_stop_color (colors, ncolors, i / (double) (S_GRADIENT_STEPS - 1));
    double ax = dx / len, ay = dy / len;
    double c0 = 0.5 - (w / 2.0) * ax - (h / 2.0) * ay;
    /* the LUT index in 32.32 fixed point, stepped along the row: a row whose
       index does not change (a vertical gradient) is one fill */
    double scale = (S_GRADIENT_STEPS - 1) * 4294967296.0;
    int64_t step = (int64_t) llround (ax * scale);
    for (int y = 0; y < h; y++) {
        int *row = im->tpixels [y];
        double t = c0 + (y + 0.5) * ay + 0.5 * ax;
        int64_t f = (int64_t) llround (t * scale) + ((int64_t) 1 << 31);
        int i0 = (int) (f >> 32), i1 = (int) ((f + step * (w - 1)) >> 32);
        if (i0 == i1) {
            int c = lut [i0 < 0 ? 0 : i0 >= S_GRADIENT_STEPS ? S_GRADIENT_STEPS - 1 : i0];
            for (int x = 0; x < w; x++)
                row [x] = c;
            continue;
        }
        for (int x = 0; x < w; x++, f += step) {
            int i = (int) (f >> 32);
            row [x] = lut [i < 0 ? 0 : i >= S_GRADIENT_STEPS ? S_GRADIENT_STEPS - 1 : i];
        }
    }
}
