/*  device_frame.c: the frame table and the rounded-rectangle painter. */
#include "device_frame.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

static const device_frame_t s_frames[] = {
    { .name = "iphone", .frame_w = 1000, .frame_h = 2088,
      .screen_x = 36, .screen_y = 36, .screen_w = 928, .screen_h = 2016,
      .frame_radius = 90, .screen_radius = 54,
      .island_w = 260, .island_h = 76, .island_top = 28, .rim = 6,
      .body_rgb = 0x1C1C1E, .rim_rgb = 0x3A3A3C, .screen_rgb = 0x000000 },
    { .name = "none", .frame_w = 1000, .frame_h = 0,
      .screen_x = 0, .screen_y = 0, .screen_w = 1000, .screen_h = 0,
      .frame_radius = 40, .screen_radius = 40 },
};

const device_frame_t *
device_frame_find (const char *name)
{
    for (size_t i = 0; i < sizeof s_frames / sizeof s_frames[0]; i++)
        if (strcmp (s_frames[i].name, name) == 0)
            return &s_frames[i];
    return NULL;
}

/* 0..255: how much of pixel (px, py) lies inside the rounded rectangle. Only
   called for pixels in a corner square. */
static int
s_corner_cover (double px, double py, double cx, double cy, double r)
{
    double d = hypot (px - cx, py - cy);
    double c = r - d + 0.5;
    return c <= 0 ? 0 : c >= 1 ? 255 : (int) lround (c * 255);
}

static inline int
s_mix (int a, int b, int t)            /* a over b at t/255 */
{
    return (a * t + b * (255 - t) + 127) / 255;
}

void
device_frame_paint_rrect (gdImagePtr canvas, int x, int y, int w, int h, double radius,
                          uint32_t rgb, gdImagePtr src, int src_x, int src_y)
{
    double r = fmin (radius, fmin (w, h) / 2.0);
    int ri = (int) ceil (r);
    int x0 = x < 0 ? 0 : x, x1 = x + w > gdImageSX (canvas) ? gdImageSX (canvas) : x + w;
    int y0 = y < 0 ? 0 : y, y1 = y + h > gdImageSY (canvas) ? gdImageSY (canvas) : y + h;
    for (int py = y0; py < y1; py++) {
        int *row = canvas->tpixels[py];
        bool corner_row = py < y + ri || py >= y + h - ri;
        double cy = py < y + ri ? y + r : y + h - r;
        int sy = py - src_y;
        if (src && (sy < 0 || sy >= gdImageSY (src)))
            continue;
        for (int px = x0; px < x1; px++) {
            int cover = 255;
            if (corner_row && (px < x + ri || px >= x + w - ri)) {
                double cx = px < x + ri ? x + r : x + w - r;
                double dx = px + 0.5 - cx, dy = py + 0.5 - cy;
                /* only the quarter-disc outside the inner square is curved */
                if ((px < x + ri) == (dx < 0) && (py < y + ri) == (dy < 0))
                    cover = s_corner_cover (px + 0.5, py + 0.5, cx, cy, r);
            }
            if (cover == 0)
                continue;
            int color = (int) rgb;
            if (src) {
                int sx = px - src_x;
                if (sx < 0 || sx >= gdImageSX (src))
                    continue;
                color = src->tpixels[sy][sx];
                int alpha = gdTrueColorGetAlpha (color);    /* 0 opaque .. 127 clear */
                cover = cover * (127 - alpha) / 127;
            }
            int under = row[px];
            row[px] = gdTrueColor (
                s_mix ((color >> 16) & 0xFF, (under >> 16) & 0xFF, cover),
                s_mix ((color >> 8) & 0xFF, (under >> 8) & 0xFF, cover),
                s_mix (color & 0xFF, under & 0xFF, cover));
        }
    }
}

/* gdImageCopyResampled averages every source pixel, which a big reduction
   needs, but costs ~200 ms for a phone screenshot; for mild scaling (k >= 0.75,
   the usual case: 1179 px into a ~1030 px screen) libgd's fixed-point bilinear
   scaler looks the same in ~60 ms. Both are deterministic. */
static gdImagePtr
s_scale (gdImagePtr shot, int tw, int th, double k)
{
    if (k >= 0.75) {
        if (!gdImageTrueColor (shot) && !gdImagePaletteToTrueColor (shot))
            return NULL;
        gdImageSetInterpolationMethod (shot, GD_BILINEAR_FIXED);
        return gdImageScale (shot, (unsigned) tw, (unsigned) th);
    }
    gdImagePtr tmp = gdImageCreateTrueColor (tw, th);
    if (!tmp)
        return NULL;
    gdImageAlphaBlending (tmp, 0);
    gdImageCopyResampled (tmp, shot, 0, 0, 0, 0, tw, th, gdImageSX (shot), gdImageSY (shot));
    return tmp;
}

int
device_frame_draw (gdImagePtr canvas, const device_frame_t *f, gdImagePtr shot,
                   int x, int y, int w, int h)
{
    double frame_h = f->frame_h, screen_h = f->screen_h;
    if (f->frame_h == 0) {              /* the frame takes the screenshot's shape */
        double aspect = shot ? (double) gdImageSY (shot) / gdImageSX (shot) : 2.0;
        frame_h = f->frame_w * aspect;
        screen_h = frame_h;
    }
    if (w <= 0 || h <= 0)
        return -1;
    double s = fmin (w / (double) f->frame_w, h / frame_h);
    int fw = (int) lround (f->frame_w * s), fh = (int) lround (frame_h * s);
    int fx = x + (w - fw) / 2, fy = y + (h - fh) / 2;
    if (f->rim > 0) {
        int rim = (int) lround (f->rim * s);
        device_frame_paint_rrect (canvas, fx, fy, fw, fh, f->frame_radius * s, f->rim_rgb, NULL, 0, 0);
        device_frame_paint_rrect (canvas, fx + rim, fy + rim, fw - 2 * rim, fh - 2 * rim,
                                  (f->frame_radius - f->rim) * s, f->body_rgb, NULL, 0, 0);
    }
    int sx = fx + (int) lround (f->screen_x * s), sy = fy + (int) lround (f->screen_y * s);
    int sw = (int) lround (f->screen_w * s), sh = (int) lround (screen_h * s);
    double sr = f->screen_radius * s;
    if (f->rim > 0)
        device_frame_paint_rrect (canvas, sx, sy, sw, sh, sr, f->screen_rgb, NULL, 0, 0);
    if (shot && sw > 0 && sh > 0) {
        double k = fmin (sw / (double) gdImageSX (shot), sh / (double) gdImageSY (shot));
        int tw = (int) lround (gdImageSX (shot) * k), th = (int) lround (gdImageSY (shot) * k);
        if (tw < 1) tw = 1;
        if (th < 1) th = 1;
        gdImagePtr tmp = s_scale (shot, tw, th, k);
        if (!tmp)
            return -1;
        device_frame_paint_rrect (canvas, sx, sy, sw, sh, sr, 0, tmp,
                                  sx + (sw - tw) / 2, sy + (sh - th) / 2);
        gdImageDestroy (tmp);
    }
    if (f->island_w > 0) {
        int iw = (int) lround (f->island_w * s), ih = (int) lround (f->island_h * s);
        device_frame_paint_rrect (canvas, sx + (sw - iw) / 2, sy + (int) lround (f->island_top * s),
                                  iw, ih, ih / 2.0, 0x000000, NULL, 0, 0);
    }
    return 0;
}
