/*  device_frame.c: the frame table, geometry (portrait or turned), the
    rounded-rectangle painter and the drawing of each frame's features. */
#include "device_frame.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define S_BEZEL   0x0A0A0B          /* bezel around every screen */
#define S_SCREEN  0x000000
#define S_BLACK_EDGE  0x2C2C2E
#define S_SILVER_EDGE 0xC8C9CC

static const device_frame_t s_frames[] = {
    { .name = "iphone", .frame_w = 1000, .frame_h = 2088,
      .screen_x = 36, .screen_y = 36, .screen_w = 928, .screen_h = 2016,
      .frame_radius = 90, .screen_radius = 54, .rim = 8,
      .feature = DEVICE_FEAT_ISLAND, .feat_a = 260, .feat_b = 76, .feat_c = 28,
      .rotates = true, .platform = "apple" },
    { .name = "iphone_home", .frame_w = 1000, .frame_h = 2040,
      .screen_x = 60, .screen_y = 240, .screen_w = 880, .screen_h = 1560,
      .frame_radius = 150, .screen_radius = 0, .rim = 10,
      .feature = DEVICE_FEAT_HOME, .feat_a = 150, .feat_b = 160, .feat_c = 20,
      .rotates = true, .platform = "apple" },
    { .name = "ipad", .frame_w = 1000, .frame_h = 1300,
      .screen_x = 50, .screen_y = 50, .screen_w = 900, .screen_h = 1200,
      .frame_radius = 60, .screen_radius = 30, .rim = 8,
      .feature = DEVICE_FEAT_CAMERA_DOT, .feat_a = 14, .feat_c = 25,
      .rotates = true, .platform = "apple" },
    { .name = "android_phone", .frame_w = 1000, .frame_h = 2100,
      .screen_x = 30, .screen_y = 30, .screen_w = 940, .screen_h = 2040,
      .frame_radius = 80, .screen_radius = 60, .rim = 8,
      .feature = DEVICE_FEAT_PUNCH_HOLE, .feat_a = 40, .feat_c = 65,
      .rotates = true, .platform = "android" },
    { .name = "android_tablet", .frame_w = 1000, .frame_h = 1552,
      .screen_x = 40, .screen_y = 40, .screen_w = 920, .screen_h = 1472,
      .frame_radius = 50, .screen_radius = 20, .rim = 6,
      .feature = DEVICE_FEAT_CAMERA_DOT, .feat_a = 12, .feat_c = 20,
      .rotates = true, .platform = "android" },
    { .name = "mac", .frame_w = 1000, .frame_h = 600,
      .screen_x = 80, .screen_y = 20, .screen_w = 840, .screen_h = 525,
      .frame_radius = 30, .screen_radius = 6, .rim = 4,
      .feature = DEVICE_FEAT_LAPTOP, .feat_a = 570, .feat_b = 30, .feat_c = 60,
      .platform = "apple" },
    { .name = "browser-macos", .frame_w = 1000, .frame_h = 0,
      .screen_x = 0, .screen_y = 70, .screen_w = 1000, .screen_h = 0,
      .frame_radius = 20, .screen_radius = 20, .rim = 0,
      .feature = DEVICE_FEAT_BROWSER, .feat_a = 70, .platform = "any" },
    { .name = "watch", .frame_w = 1060, .frame_h = 1220,
      .screen_x = 90, .screen_y = 110, .screen_w = 820, .screen_h = 1004,
      .frame_radius = 260, .screen_radius = 180, .rim = 10,
      .feature = DEVICE_FEAT_WATCH, .feat_a = 1000, .platform = "apple" },
    { .name = "none", .frame_w = 1000, .frame_h = 0,
      .screen_x = 0, .screen_y = 0, .screen_w = 1000, .screen_h = 0,
      .frame_radius = 40, .screen_radius = 40, .platform = "any" },
};

#define S_NFRAMES ((int) (sizeof s_frames / sizeof s_frames[0]))

const device_frame_t *
device_frame_find (const char *name)
{
    for (int i = 0; name && i < S_NFRAMES; i++)
        if (strcmp (s_frames[i].name, name) == 0)
            return &s_frames[i];
    return NULL;
}

const device_frame_t *
device_frame_at (int i)
{
    return i >= 0 && i < S_NFRAMES ? &s_frames[i] : NULL;
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
    if (w <= 0 || h <= 0)
        return;
    double r = fmax (0.0, fmin (radius, fmin (w, h) / 2.0));
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

/* Halves a truecolor image with a 2x2 box filter (alpha averaged too). */
static gdImagePtr
s_halve (gdImagePtr src)
{
    int w = gdImageSX (src) / 2, h = gdImageSY (src) / 2;
    gdImagePtr dst = w > 0 && h > 0 ? gdImageCreateTrueColor (w, h) : NULL;
    if (!dst)
        return NULL;
    for (int y = 0; y < h; y++) {
        const int *r0 = src->tpixels[2 * y], *r1 = src->tpixels[2 * y + 1];
        int *out = dst->tpixels[y];
        for (int x = 0; x < w; x++) {
            int p[4] = { r0[2 * x], r0[2 * x + 1], r1[2 * x], r1[2 * x + 1] };
            int a = 0, r = 0, g = 0, b = 0;
            for (int k = 0; k < 4; k++) {
                a += (p[k] >> 24) & 0x7F;
                r += (p[k] >> 16) & 0xFF;
                g += (p[k] >> 8) & 0xFF;
                b += p[k] & 0xFF;
            }
            out[x] = ((a + 2) / 4) << 24 | ((r + 2) / 4) << 16 | ((g + 2) / 4) << 8 | ((b + 2) / 4);
        }
    }
    return dst;
}

/* libgd's fixed-point bilinear scaler is fast (~60 ms for a phone
   screenshot) and looks right for mild scaling (k >= 0.75) but aliases on a
   big reduction; gdImageCopyResampled averages properly but costs ~200 ms.
   So a big reduction first halves with a box filter (a few ms each) until
   the rest is mild, then scales bilinearly. All deterministic. */
static gdImagePtr
s_scale (gdImagePtr shot, int tw, int th, double k)
{
    if (!gdImageTrueColor (shot) && !gdImagePaletteToTrueColor (shot))
        return NULL;
    gdImagePtr cur = shot;
    while (k < 0.75 && gdImageSX (cur) >= 4 && gdImageSY (cur) >= 4) {
        gdImagePtr half = s_halve (cur);
        if (cur != shot)
            gdImageDestroy (cur);
        if (!half)
            return NULL;
        cur = half;
        k *= 2;
    }
    gdImageSetInterpolationMethod (cur, GD_BILINEAR_FIXED);
    gdImagePtr out = gdImageScale (cur, (unsigned) tw, (unsigned) th);
    if (cur != shot)
        gdImageDestroy (cur);
    return out;
}

/* The frame's geometry in frame units, portrait or turned (x <-> y). */
typedef struct {
    double fw, fh, sx, sy, sw, sh;
    bool   turned;
} s_geom_t;

/* A rectangle in portrait frame units, mapped to the canvas (turned: the
   portrait x axis runs down the canvas, y across it). */
static void
s_map (const s_geom_t *g, double s, int ox, int oy, double x, double y, double w, double h,
       int *cx, int *cy, int *cw, int *ch)
{
    if (g->turned) {
        double t = x; x = y; y = t;
        t = w; w = h; h = t;
    }
    *cx = ox + (int) lround (x * s);
    *cy = oy + (int) lround (y * s);
    *cw = (int) lround (w * s);
    *ch = (int) lround (h * s);
}

static void
s_rect (gdImagePtr im, const s_geom_t *g, double s, int ox, int oy,
        double x, double y, double w, double h, double r, uint32_t rgb)
{
    int cx, cy, cw, ch;
    s_map (g, s, ox, oy, x, y, w, h, &cx, &cy, &cw, &ch);
    device_frame_paint_rrect (im, cx, cy, cw, ch, r * s, rgb, NULL, 0, 0);
}

static uint32_t
s_lighter (uint32_t rgb, int by)
{
    int c[3];
    for (int k = 0; k < 3; k++) {
        c[k] = (int) ((rgb >> (16 - 8 * k)) & 0xFF) + by;
        c[k] = c[k] < 0 ? 0 : c[k] > 255 ? 255 : c[k];
    }
    return (uint32_t) ((c[0] << 16) | (c[1] << 8) | c[2]);
}

int
device_frame_draw (gdImagePtr canvas, const device_frame_t *f, gdImagePtr shot,
                   int x, int y, int w, int h, const char *finish, bool cover,
                   device_frame_info_t *info)
{
    memset (info, 0, sizeof *info);
    if (w <= 0 || h <= 0)
        return -1;
    bool silver = finish && strcmp (finish, "silver") == 0;
    uint32_t edge = silver ? S_SILVER_EDGE : S_BLACK_EDGE;
    double shot_aspect = shot ? (double) gdImageSY (shot) / gdImageSX (shot) : 0.625;
    s_geom_t g = { f->frame_w, f->frame_h, f->screen_x, f->screen_y, f->screen_w, f->screen_h,
                   f->rotates && shot && gdImageSX (shot) > gdImageSY (shot) };
    if (f->frame_h == 0) {              /* the frame takes the screenshot's shape */
        g.sh = f->screen_w * shot_aspect;
        g.fh = g.sy + g.sh;
    }
    double fw = g.turned ? g.fh : g.fw, fh = g.turned ? g.fw : g.fh;
    double s = fmin (w / fw, h / fh);
    int cfw = (int) lround (fw * s), cfh = (int) lround (fh * s);
    int ox = x + (w - cfw) / 2, oy = y + (h - cfh) / 2;
    info->drawn = true;
    info->frame_x = ox, info->frame_y = oy, info->frame_w = cfw, info->frame_h = cfh;
    info->edge_rgb = edge;
    info->has_edge = strcmp (f->name, "none") != 0;

    /* body */
    double body_w = f->feature == DEVICE_FEAT_WATCH ? f->feat_a : g.fw;
    double body_x = 0, body_h = g.fh;
    switch (f->feature) {
        case DEVICE_FEAT_LAPTOP:
            body_x = 60, body_w = 880, body_h = f->feat_a;
            /* base: finish coloured, a notch for opening the lid */
            s_rect (canvas, &g, s, ox, oy, 0, f->feat_a, g.fw, f->feat_b, 12, silver ? 0xB9BABD : 0x3A3A3C);
            s_rect (canvas, &g, s, ox, oy, 0, f->feat_a, g.fw, f->feat_b * 0.35, 0,
                    s_lighter (silver ? 0xB9BABD : 0x3A3A3C, 25));
            s_rect (canvas, &g, s, ox, oy, 500 - 80, f->feat_a, 160, f->feat_b * 0.35, 6,
                    silver ? 0x9A9B9E : 0x1F1F21);
            break;
        case DEVICE_FEAT_WATCH:
            s_rect (canvas, &g, s, ox, oy, 980, 330, 70, 200, 24, s_lighter (edge, 20));
            s_rect (canvas, &g, s, ox, oy, 990, 640, 50, 160, 18, edge);
            break;
        case DEVICE_FEAT_BROWSER:
            break;
        default:
            break;
    }
    if (f->feature == DEVICE_FEAT_BROWSER) {
        uint32_t bar = silver ? 0xE8E8EA : 0x2B2B2D;
        s_rect (canvas, &g, s, ox, oy, 0, 0, g.fw, f->feat_a + 40, f->frame_radius, bar);
        static const uint32_t lights[3] = { 0xFF5F57, 0xFEBC2E, 0x28C840 };
        for (int i = 0; i < 3; i++)
            s_rect (canvas, &g, s, ox, oy, 28 + i * 34 - 11, f->feat_a / 2.0 - 11, 22, 22, 11, lights[i]);
        s_rect (canvas, &g, s, ox, oy, 220, f->feat_a / 2.0 - 18, 560, 36, 18,
                silver ? 0xFFFFFF : 0x3C3C3F);
        s_rect (canvas, &g, s, ox, oy, 0, f->feat_a - 1, g.fw, 1, 0, silver ? 0xD0D0D2 : 0x1A1A1C);
    }
    else
    if (info->has_edge) {
        s_rect (canvas, &g, s, ox, oy, body_x, 0, body_w, body_h, f->frame_radius, edge);
        s_rect (canvas, &g, s, ox, oy, body_x + f->rim, f->rim, body_w - 2 * f->rim,
                body_h - 2 * f->rim, f->frame_radius - f->rim, S_BEZEL);
    }

    /* screen */
    int sx, sy, sw, sh;
    s_map (&g, s, ox, oy, g.sx, g.sy, g.sw, g.sh, &sx, &sy, &sw, &sh);
    double sr = f->screen_radius * s;
    info->screen_x = sx, info->screen_y = sy, info->screen_w = sw, info->screen_h = sh;
    if (info->has_edge && f->feature != DEVICE_FEAT_BROWSER)
        device_frame_paint_rrect (canvas, sx, sy, sw, sh, sr, S_SCREEN, NULL, 0, 0);
    if (shot && sw > 0 && sh > 0) {
        double kx = sw / (double) gdImageSX (shot), ky = sh / (double) gdImageSY (shot);
        double k = cover ? fmax (kx, ky) : fmin (kx, ky);
        int tw = (int) lround (gdImageSX (shot) * k), th = (int) lround (gdImageSY (shot) * k);
        if (tw < 1) tw = 1;
        if (th < 1) th = 1;
        info->shot_scale = k;
        info->aspect_diff = fabs (((double) gdImageSY (shot) / gdImageSX (shot)) / ((double) sh / sw) - 1.0);
        gdImagePtr tmp = s_scale (shot, tw, th, k);
        if (!tmp)
            return -1;
        if (f->feature == DEVICE_FEAT_BROWSER) {
            /* the content's bottom corners follow the window's */
            int wx, wy, ww, wh;
            s_map (&g, s, ox, oy, 0, 0, g.fw, g.fh, &wx, &wy, &ww, &wh);
            device_frame_paint_rrect (canvas, wx, wy, ww, wh, sr, 0, tmp,
                                      sx + (sw - tw) / 2, sy + (sh - th) / 2);
        }
        else {
            /* cover: only the part over the screen is painted */
            device_frame_paint_rrect (canvas, sx, sy, sw, sh, sr, 0, tmp,
                                      sx + (sw - tw) / 2, sy + (sh - th) / 2);
        }
        gdImageDestroy (tmp);
    }

    /* features over the screen or bezel */
    switch (f->feature) {
        case DEVICE_FEAT_ISLAND:
            s_rect (canvas, &g, s, ox, oy, g.sx + (g.sw - f->feat_a) / 2.0, g.sy + f->feat_c,
                    f->feat_a, f->feat_b, f->feat_b / 2.0, 0x000000);
            break;
        case DEVICE_FEAT_HOME: {
            double d = f->feat_a, cy = g.sy + g.sh + (g.fh - g.sy - g.sh) / 2.0;
            s_rect (canvas, &g, s, ox, oy, (g.fw - d) / 2, cy - d / 2, d, d, d / 2, s_lighter (edge, 10));
            s_rect (canvas, &g, s, ox, oy, (g.fw - d) / 2 + 8, cy - d / 2 + 8, d - 16, d - 16,
                    d / 2 - 8, S_BEZEL);
            s_rect (canvas, &g, s, ox, oy, (g.fw - f->feat_b) / 2.0, g.sy / 2.0 - f->feat_c / 2.0,
                    f->feat_b, f->feat_c, f->feat_c / 2.0, 0x2A2A2C);
            break;
        }
        case DEVICE_FEAT_CAMERA_DOT:
            s_rect (canvas, &g, s, ox, oy, g.fw / 2 - f->feat_a / 2.0, f->feat_c - f->feat_a / 2.0,
                    f->feat_a, f->feat_a, f->feat_a / 2.0, 0x26282C);
            break;
        case DEVICE_FEAT_PUNCH_HOLE:
            s_rect (canvas, &g, s, ox, oy, g.fw / 2 - f->feat_a / 2.0, f->feat_c - f->feat_a / 2.0,
                    f->feat_a, f->feat_a, f->feat_a / 2.0, 0x000000);
            break;
        case DEVICE_FEAT_LAPTOP:
            s_rect (canvas, &g, s, ox, oy, 495, 6, 10, 10, 5, 0x26282C);    /* camera dot */
            break;
        default:
            break;
    }
    return 0;
}
