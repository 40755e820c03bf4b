/*  device_frame.c: geometry (portrait or turned), the rounded-rectangle
    painter and the drawing of each frame's features (the frame table is
    catalog/device_table.c). */
#include "device_frame.h"
#include "par.h"
#include "resample.h"
#include "text_layout.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_BEZEL   0x0A0A0B          /* bezel around every screen */
#define S_SCREEN  0x000000
#define S_BLACK_EDGE  0x2C2C2E
#define S_SILVER_EDGE 0xC8C9CC
#define S_RIM_LIGHT   0xF2F2F4
#define S_RIM_DARK    0x111113

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

/* The coverage of pixel (px, py) of a row in the corner bands, the same
   test per pixel as ever: only the quarter-disc outside the inner square is
   curved. Called only for the pixels outside the row's full-cover span. */
static int
s_edge_cover (int px, int py, int x, int y, int w, int h, double r, int ri)
{
    double cy = py < y + ri ? y + r : y + h - r;
    double cx = px < x + ri ? x + r : x + w - r;
    double dx = px + 0.5 - cx, dy = py + 0.5 - cy;
    if ((px < x + ri) == (dx < 0) && (py < y + ri) == (dy < 0))
        return s_corner_cover (px + 0.5, py + 0.5, cx, cy, r);
    return 255;
}

/* One pixel of colour over row[px] at cover/255, the colour's alpha respected. */
static inline void
s_blend (int *row, int px, int color, int cover, bool has_alpha)
{
    if (has_alpha)
        cover = cover * (127 - gdTrueColorGetAlpha (color)) / 127;
    int under = row[px];
    row[px] = gdTrueColor (
        s_mix ((color >> 16) & 0xFF, (under >> 16) & 0xFF, cover),
        s_mix ((color >> 8) & 0xFF, (under >> 8) & 0xFF, cover),
        s_mix (color & 0xFF, under & 0xFF, cover));
}

/* The pixels [a, b) of a row whose cover is 255: a fill, a copy of opaque
   source pixels, or a blend of the translucent ones. */
static void
s_span (int *row, int a, int b, int flat, const int *srow, int src_x)
{
    if (!srow) {
        for (int px = a; px < b; px++)
            row[px] = flat;
        return;
    }
    const int *s = srow + (a - src_x);
    int n = b - a, any = 0;
    for (int i = 0; i < n; i++)
        any |= s[i];
    if (!(any & 0x7F000000)) {         /* opaque: s_mix at 255 is the colour itself */
        memcpy (row + a, s, (size_t) n * sizeof *row);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (s[i] & 0x7F000000)
            s_blend (row, a + i, s[i], 255, true);
        else
            row[a + i] = s[i];
    }
}

/* A rounded rectangle clipped to the canvas and to a source of sw x sh at
   (src_x, src_y) (has_src), ready to paint row by row. */
typedef struct {
    int    x, y, w, h, ri;
    double r;
    int    x0, x1, y0, y1;              /* the clipped rows and columns */
    int    flat;
    int    hx0, hx1, hy0, hy1;          /* a hole a later opaque layer covers whole:
                                           its pixels are not filled (none: hy0 >= hy1) */
} s_rrect_t;

static bool
s_rrect_setup (s_rrect_t *g, gdImagePtr canvas, int x, int y, int w, int h, double radius,
               uint32_t rgb, bool has_src, int src_x, int src_y, int sw, int sh)
{
    if (w <= 0 || h <= 0)
        return false;
    g->x = x, g->y = y, g->w = w, g->h = h;
    g->r = fmax (0.0, fmin (radius, fmin (w, h) / 2.0));
    g->ri = (int) ceil (g->r);
    g->x0 = x < 0 ? 0 : x, g->x1 = x + w > gdImageSX (canvas) ? gdImageSX (canvas) : x + w;
    g->y0 = y < 0 ? 0 : y, g->y1 = y + h > gdImageSY (canvas) ? gdImageSY (canvas) : y + h;
    if (has_src) {                      /* pixels outside src stay untouched */
        g->x0 = g->x0 > src_x ? g->x0 : src_x;
        g->x1 = g->x1 < src_x + sw ? g->x1 : src_x + sw;
        g->y0 = g->y0 > src_y ? g->y0 : src_y;
        g->y1 = g->y1 < src_y + sh ? g->y1 : src_y + sh;
    }
    g->flat = (int) (rgb & 0xFFFFFF);
    g->hx0 = g->hx1 = g->hy0 = g->hy1 = 0;
    return g->x0 < g->x1 && g->y0 < g->y1;
}

/* Row py: the straight middle is filled or copied, the per-pixel coverage
   is computed only in the corner squares. srow: the source row (its pixel 0
   at canvas x src_x), or NULL for the flat colour. */
static void
s_rrect_row (const s_rrect_t *g, int *row, int py, const int *srow, int src_x)
{
    int x = g->x, y = g->y, w = g->w, h = g->h, ri = g->ri, x0 = g->x0, x1 = g->x1;
    bool corner_row = py < y + ri || py >= y + h - ri;
    int ma = x0, mb = x1;               /* the span of full cover */
    if (corner_row) {
        ma = x + ri > x0 ? x + ri : x0;
        mb = x + w - ri < x1 ? x + w - ri : x1;
        if (ma > mb)
            ma = mb = x1;               /* narrower than two radii: all per pixel */
    }
    for (int px = x0; px < x1; px++) {
        if (px == ma) {
            if (!srow && py >= g->hy0 && py < g->hy1 && g->hx0 < mb && g->hx1 > ma) {
                if (g->hx0 > ma)
                    s_span (row, ma, g->hx0, g->flat, NULL, 0);
                if (g->hx1 < mb)
                    s_span (row, g->hx1, mb, g->flat, NULL, 0);
            }
            else
                s_span (row, ma, mb, g->flat, srow, src_x);
            px = mb;
            if (px >= x1)
                break;
        }
        int cover = corner_row ? s_edge_cover (px, py, x, y, w, h, g->r, ri) : 255;
        if (cover == 0)
            continue;
        if (srow)
            s_blend (row, px, srow[px - src_x], cover, true);
        else
            s_blend (row, px, g->flat, cover, false);
    }
}

/* A stripe of a rounded rectangle's rows, painted by one thread; the
   stripes write disjoint canvas rows. */
typedef struct {
    const s_rrect_t *g;
    gdImagePtr canvas, src;
    int        src_x, src_y, nparts;
} s_rrect_job_t;

static void
s_rrect_part (void *arg, int part)
{
    s_rrect_job_t *j = arg;
    const s_rrect_t *g = j->g;
    int rows = g->y1 - g->y0;
    int y0 = g->y0 + (int) ((int64_t) rows * part / j->nparts);
    int y1 = g->y0 + (int) ((int64_t) rows * (part + 1) / j->nparts);
    for (int py = y0; py < y1; py++)
        s_rrect_row (g, j->canvas->tpixels[py], py,
                     j->src ? j->src->tpixels[py - j->src_y] : NULL, j->src_x);
}

/* Of a flat rounded rectangle (canvas x, y, w, h in inner[0..3], its
   radius in inner[4]):
   the rows and columns it covers whole (its rows outside the corner bands,
   their every column), which a flat layer under it need not fill. */
static void
s_hole_of (gdImagePtr canvas, const double inner[5], s_rrect_t *g)
{
    s_rrect_t in;
    if (!s_rrect_setup (&in, canvas, (int) inner[0], (int) inner[1], (int) inner[2], (int) inner[3],
                        inner[4], 0, false, 0, 0, 0, 0))
        return;
    g->hx0 = in.x0, g->hx1 = in.x1;
    g->hy0 = in.y0 > in.y + in.ri ? in.y0 : in.y + in.ri;
    g->hy1 = in.y1 < in.y + in.h - in.ri ? in.y1 : in.y + in.h - in.ri;
}

/* device_frame_paint_rrect, and when inner is not NULL (flat colour only)
   the pixels a flat opaque rounded rectangle painted next will cover whole
   are left as they are (the same pixels once it is painted). */
static void
s_paint_rrect (gdImagePtr canvas, int x, int y, int w, int h, double radius,
               uint32_t rgb, gdImagePtr src, int src_x, int src_y, const double *inner)
{
    s_rrect_t g;
    if (!s_rrect_setup (&g, canvas, x, y, w, h, radius, rgb, src != NULL, src_x, src_y,
                        src ? gdImageSX (src) : 0, src ? gdImageSY (src) : 0))
        return;
    if (inner && !src)
        s_hole_of (canvas, inner, &g);
    s_rrect_job_t job = { .g = &g, .canvas = canvas, .src = src, .src_x = src_x, .src_y = src_y };
    int64_t pixels = (int64_t) (g.y1 - g.y0) * (g.x1 - g.x0);
    job.nparts = pixels >= DEVICE_FRAME_PARTS_MIN_PX ? par_threads () : 1;
    if (job.nparts > g.y1 - g.y0)
        job.nparts = g.y1 - g.y0;
    par_run (job.nparts, s_rrect_part, &job);
}

/* Gives the same pixels as blending every pixel at its coverage
   (tests/unit/test_renderer_pixels.c keeps that reference); from
   DEVICE_FRAME_PARTS_MIN_PX pixels on, in row stripes on par_threads()
   threads (each row depends only on itself). */
void
device_frame_paint_rrect (gdImagePtr canvas, int x, int y, int w, int h, double radius,
                          uint32_t rgb, gdImagePtr src, int src_x, int src_y)
{
    s_paint_rrect (canvas, x, y, w, h, radius, rgb, src, src_x, src_y, NULL);
}

/* A stripe of the rows that show, resampled by one thread with its own
   resampler state; the stripes write disjoint canvas rows. */
typedef struct {
    const s_rrect_t *g;
    gdImagePtr canvas, shot;
    int        tw, th, src_x, src_y, nparts;
    int        failed[PAR_MAX_THREADS];
} s_scale_job_t;

static void
s_scale_part (void *arg, int part)
{
    s_scale_job_t *j = arg;
    const s_rrect_t *g = j->g;
    int rows = g->y1 - g->y0;
    int y0 = g->y0 + (int) ((int64_t) rows * part / j->nparts);
    int y1 = g->y0 + (int) ((int64_t) rows * (part + 1) / j->nparts);
    resample_t *rs = resample_new (j->shot, j->tw, j->th);
    int *buf = rs ? malloc ((size_t) j->tw * sizeof *buf) : NULL;
    j->failed[part] = !buf;
    for (int py = y0; buf && py < y1; py++) {
        resample_row (rs, py - j->src_y, buf);
        s_rrect_row (g, j->canvas->tpixels[py], py, buf, j->src_x);
    }
    free (buf);
    resample_destroy (&rs);
}

/* Only the rows that show are resampled and no tw x th image is made; with
   par_threads() > 1 and enough rows, in stripes at once (the same pixels:
   each output row depends only on the source). */
int
device_frame_paint_scaled (gdImagePtr canvas, int x, int y, int w, int h, double radius,
                           gdImagePtr shot, int tw, int th, int src_x, int src_y)
{
    if (!gdImageTrueColor (shot) && !gdImagePaletteToTrueColor (shot))
        return -1;
    s_rrect_t g;
    if (!s_rrect_setup (&g, canvas, x, y, w, h, radius, 0, true, src_x, src_y, tw, th))
        return 0;
    s_scale_job_t job = { .g = &g, .canvas = canvas, .shot = shot, .tw = tw, .th = th,
                          .src_x = src_x, .src_y = src_y };
    int64_t pixels = (int64_t) (g.y1 - g.y0) * tw;
    job.nparts = pixels >= DEVICE_FRAME_PARTS_MIN_PX ? par_threads () : 1;
    if (job.nparts > g.y1 - g.y0)
        job.nparts = g.y1 - g.y0;
    par_run (job.nparts, s_scale_part, &job);
    for (int i = 0; i < job.nparts; i++)
        if (job.failed[i])
            return -1;
    return 0;
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

/* A flat rounded rectangle in frame units; inner: NULL, or the flat opaque
   one painted next over it (canvas units, as s_hole_of takes it). */
static void
s_rect_under (gdImagePtr im, const s_geom_t *g, double s, int ox, int oy,
              double x, double y, double w, double h, double r, uint32_t rgb, const double *inner)
{
    int cx, cy, cw, ch;
    s_map (g, s, ox, oy, x, y, w, h, &cx, &cy, &cw, &ch);
    s_paint_rrect (im, cx, cy, cw, ch, r * s, rgb, NULL, 0, 0, inner);
}

static void
s_rect (gdImagePtr im, const s_geom_t *g, double s, int ox, int oy,
        double x, double y, double w, double h, double r, uint32_t rgb)
{
    s_rect_under (im, g, s, ox, oy, x, y, w, h, r, rgb, NULL);
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

uint32_t
device_frame_rim_rgb (uint32_t under)
{
    double l = text_layout_luminance (under & 0xFFFFFF);
    double light = text_layout_contrast (l, text_layout_luminance (S_RIM_LIGHT));
    double dark = text_layout_contrast (l, text_layout_luminance (S_RIM_DARK));
    return light >= dark ? S_RIM_LIGHT : S_RIM_DARK;
}

/* The worst contrast of edge (0: the rim's colours) against the canvas 4 px
   outside the rectangle (fx, fy, fw, fh). */
static double
s_outline_contrast (gdImagePtr im, int fx, int fy, int fw, int fh, bool rim, uint32_t edge)
{
    double le = text_layout_luminance (edge), worst = 21.0;
    int W = gdImageSX (im), H = gdImageSY (im), d = 4;
    for (int i = 0; i <= 32; i++) {
        int xs[4] = { fx - d, fx + fw + d, fx + fw * i / 32, fx + fw * i / 32 };
        int ys[4] = { fy + fh * i / 32, fy + fh * i / 32, fy - d, fy + fh + d };
        for (int k = 0; k < 4; k++) {
            if (xs[k] < 0 || ys[k] < 0 || xs[k] >= W || ys[k] >= H)
                continue;
            uint32_t under = (uint32_t) im->tpixels[ys[k]][xs[k]] & 0xFFFFFF;
            double lu = text_layout_luminance (under);
            double l = rim ? text_layout_luminance (device_frame_rim_rgb (under)) : le;
            worst = fmin (worst, text_layout_contrast (l, lu));
        }
    }
    return worst;
}

double
device_frame_edge_contrast (gdImagePtr canvas, const device_frame_info_t *info)
{
    return s_outline_contrast (canvas, info->frame_x, info->frame_y, info->frame_w, info->frame_h,
                               info->rim_px > 0, info->edge_rgb);
}

/* The rim: a rounded rectangle ring px wider than the frame rectangle
   (x, y, w, h; frame units) whose pixels contrast with what is under them.
   The frame is drawn over its middle afterwards. */
static void
s_rim (gdImagePtr im, const s_geom_t *g, double s, int ox, int oy,
       double x, double y, double w, double h, double r, int ring)
{
    int cx, cy, cw, ch;
    s_map (g, s, ox, oy, x, y, w, h, &cx, &cy, &cw, &ch);
    s_rrect_t rr;
    if (!s_rrect_setup (&rr, im, cx - ring, cy - ring, cw + 2 * ring, ch + 2 * ring, r * s + ring,
                        0, false, 0, 0, 0, 0))
        return;
    int *buf = malloc ((size_t) gdImageSX (im) * sizeof *buf);
    if (!buf)
        return;                         /* the frame is drawn without its rim */
    for (int py = rr.y0; py < rr.y1; py++) {
        int *row = im->tpixels[py];
        for (int px = rr.x0; px < rr.x1; px++)
            buf[px] = (int) device_frame_rim_rgb ((uint32_t) row[px]);
        s_rrect_row (&rr, row, py, buf, 0);
    }
    free (buf);
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
    bool auto_finish = finish && strcmp (finish, "auto") == 0;
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
    info->has_edge = strcmp (f->name, "none") != 0;
    int ring = 0;
    if (auto_finish && info->has_edge) {
        double cb = s_outline_contrast (canvas, ox, oy, cfw, cfh, false, S_BLACK_EDGE);
        double cs = s_outline_contrast (canvas, ox, oy, cfw, cfh, false, S_SILVER_EDGE);
        silver = cs > cb;
        if (fmax (cb, cs) < DEVICE_FRAME_MIN_CONTRAST) {
            ring = (int) lround (cfw * 0.004);
            ring = ring < 2 ? 2 : ring;
        }
    }
    uint32_t edge = silver ? S_SILVER_EDGE : S_BLACK_EDGE;
    info->edge_rgb = edge;
    info->silver = silver;
    if (ring) {
        info->rim_px = ring;
        info->frame_x -= ring, info->frame_y -= ring;
        info->frame_w += 2 * ring, info->frame_h += 2 * ring;
    }

    /* body */
    double body_w = f->feature == DEVICE_FEAT_WATCH ? f->feat_a : g.fw;
    double body_x = 0, body_h = g.fh;
    if (ring) {
        if (f->feature == DEVICE_FEAT_LAPTOP) {
            s_rim (canvas, &g, s, ox, oy, 60, 0, 880, f->feat_a, f->frame_radius, ring);
            s_rim (canvas, &g, s, ox, oy, 0, f->feat_a, g.fw, f->feat_b, 12, ring);
        }
        else
            s_rim (canvas, &g, s, ox, oy, 0, 0, body_w, body_h, f->frame_radius, ring);
    }
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
    /* screen */
    int sx, sy, sw, sh;
    s_map (&g, s, ox, oy, g.sx, g.sy, g.sw, g.sh, &sx, &sy, &sw, &sh);
    double sr = f->screen_radius * s;
    if (f->feature != DEVICE_FEAT_BROWSER && info->has_edge) {
        /* body, bezel, screen: each layer leaves alone what the next covers whole */
        int bx, by, bw, bh;
        s_map (&g, s, ox, oy, body_x + f->rim, f->rim, body_w - 2 * f->rim, body_h - 2 * f->rim,
               &bx, &by, &bw, &bh);
        double bezel[5] = { bx, by, bw, bh, (f->frame_radius - f->rim) * s };
        double screen[5] = { sx, sy, sw, sh, sr };
        s_rect_under (canvas, &g, s, ox, oy, body_x, 0, body_w, body_h, f->frame_radius, edge, bezel);
        s_rect_under (canvas, &g, s, ox, oy, body_x + f->rim, f->rim, body_w - 2 * f->rim,
                      body_h - 2 * f->rim, f->frame_radius - f->rim, S_BEZEL, screen);
    }
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
        int rc;
        if (f->feature == DEVICE_FEAT_BROWSER) {
            /* the content's bottom corners follow the window's */
            int wx, wy, ww, wh;
            s_map (&g, s, ox, oy, 0, 0, g.fw, g.fh, &wx, &wy, &ww, &wh);
            rc = device_frame_paint_scaled (canvas, wx, wy, ww, wh, sr, shot, tw, th,
                                            sx + (sw - tw) / 2, sy + (sh - th) / 2);
        }
        else                            /* cover: only the part over the screen is painted */
            rc = device_frame_paint_scaled (canvas, sx, sy, sw, sh, sr, shot, tw, th,
                                            sx + (sw - tw) / 2, sy + (sh - th) / 2);
        if (rc != 0)
            return -1;
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
