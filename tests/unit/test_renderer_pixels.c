/*  test_renderer_pixels.c: the renderer's pixel kernels against references.
    - device_frame_paint_rrect (row spans + corner coverage) gives exactly the
      pixels of the per-pixel painter it replaced (kept below as s_ref_rrect),
      flat and from a source with translucent pixels, odd sizes, radii wider
      than the box, clipped at every canvas edge;
    - resample_image: a flat image stays exactly flat, a 1-pixel checkerboard
      reduced by 3 comes out mid-grey (no aliasing), every pixel within 2
      levels of a double-precision tent filter, bad sizes give NULL;
    - device_frame_draw with every frame, shots portrait, landscape, larger
      and tiny, contain and cover: the shot fills the screen's centre;
    - png_write: valid PNGs that libgd decodes to the same pixels and zlib
      inflates to exactly the filtered rows, its Adler-32 checked (1x1, odd
      sizes, a 20000-pixel-wide row, noise big enough for several IDAT
      chunks, a picture-like canvas in several 1 MiB parts), on 1 to 7
      threads, the same bytes twice, and the bad cases;
    - deflate_join_unfinal: streams of stored, static and dynamic blocks
      joined one after another inflate (zlib) to the parts in order; every
      truncation and random bytes are refused (0), never read past;
    - image_source_decode's libdeflate fast path for PNGs gives libgd's
      pixels (RGB, RGBA, every filter), and leaves interlaced, palette,
      truncated and corrupted files to libgd;
    - pixbuf_rgb_from_px / pixbuf_px_from_rgb (SSSE3 shuffles where the CPU
      has them) give the bytes of a per-pixel reference at every width 1..70,
      alpha dropped, and write nothing past the row. */
#include "check.h"
#include "device_frame.h"
#include "image_source.h"
#include "par.h"
#include "pixbuf.h"
#include "png_write.h"
#include "resample.h"

#include <gd.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t s_seed = 2463534242u;

static unsigned
s_rand (void)                           /* xorshift32: incompressible bytes */
{
    s_seed ^= s_seed << 13;
    s_seed ^= s_seed >> 17;
    s_seed ^= s_seed << 5;
    return s_seed;
}

static gdImagePtr
s_noise (int w, int h, bool alpha)
{
    gdImagePtr im = gdImageCreateTrueColor (w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int a = alpha ? (int) (s_rand () % 4 == 0 ? s_rand () % 128 : 0) : 0;
            im->tpixels[y][x] = gdTrueColorAlpha ((int) (s_rand () & 255), (int) (s_rand () & 255),
                                                  (int) (s_rand () & 255), a);
        }
    return im;
}

/* ---- the per-pixel painter device_frame_paint_rrect replaced ---------------- */

static int
s_ref_cover (double px, double py, double cx, double cy, double r)
{
    double d = hypot (px - cx, py - cy);
    double c = r - d + 0.5;
    return c <= 0 ? 0 : c >= 1 ? 255 : (int) lround (c * 255);
}

static int
s_ref_mix (int a, int b, int t)
{
    return (a * t + b * (255 - t) + 127) / 255;
}

static void
s_ref_rrect (gdImagePtr canvas, int x, int y, int w, int h, double radius,
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
                if ((px < x + ri) == (dx < 0) && (py < y + ri) == (dy < 0))
                    cover = s_ref_cover (px + 0.5, py + 0.5, cx, cy, r);
            }
            if (cover == 0)
                continue;
            int color = (int) rgb;
            if (src) {
                int sx = px - src_x;
                if (sx < 0 || sx >= gdImageSX (src))
                    continue;
                color = src->tpixels[sy][sx];
                cover = cover * (127 - gdTrueColorGetAlpha (color)) / 127;
            }
            int under = row[px];
            row[px] = gdTrueColor (
                s_ref_mix ((color >> 16) & 0xFF, (under >> 16) & 0xFF, cover),
                s_ref_mix ((color >> 8) & 0xFF, (under >> 8) & 0xFF, cover),
                s_ref_mix (color & 0xFF, under & 0xFF, cover));
        }
    }
}

static void
test_rrect (void)
{
    static const struct { int x, y, w, h; double r; int sx, sy; } cases[] = {
        { 10, 10, 100, 80, 20, 10, 10 },       /* ordinary */
        { 5, 7, 61, 33, 16.5, 0, 0 },          /* odd sizes, radius = h / 2 */
        { 3, 3, 9, 9, 40, 3, 3 },              /* radius wider than the box */
        { -20, -15, 90, 70, 25.3, -30, -10 },  /* clipped at the top left */
        { 90, 60, 80, 90, 31, 95, 58 },        /* clipped at the bottom right, src offset */
        { 0, 0, 150, 120, 0, 0, 0 },           /* square corners, whole canvas */
        { 40, 30, 1, 1, 0.5, 40, 30 },         /* one pixel */
        { 20, 20, 7, 50, 3.5, 18, 25 },        /* narrow */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int with_src = 0; with_src < 2; with_src++) {
            gdImagePtr a = s_noise (150, 120, false), b = gdImageCreateTrueColor (150, 120);
            for (int y = 0; y < 120; y++)
                memcpy (b->tpixels[y], a->tpixels[y], 150 * sizeof (int));
            gdImagePtr src = with_src ? s_noise (70, 60, true) : NULL;
            device_frame_paint_rrect (a, cases[i].x, cases[i].y, cases[i].w, cases[i].h, cases[i].r,
                                      0x3366CC, src, cases[i].sx, cases[i].sy);
            s_ref_rrect (b, cases[i].x, cases[i].y, cases[i].w, cases[i].h, cases[i].r,
                         0x3366CC, src, cases[i].sx, cases[i].sy);
            int diff = 0, fx = -1, fy = -1;
            for (int y = 0; y < 120; y++)
                for (int x = 0; x < 150; x++)
                    if (a->tpixels[y][x] != b->tpixels[y][x] && diff++ == 0)
                        fx = x, fy = y;
            CHECK (diff == 0, "rrect case %zu (%s): expected the per-pixel painter's pixels, "
                   "%d differ (first at %d,%d: #%08X vs #%08X)", i, with_src ? "src" : "flat",
                   diff, fx, fy, fx >= 0 ? a->tpixels[fy][fx] : 0, fx >= 0 ? b->tpixels[fy][fx] : 0);
            gdImageDestroy (a);
            gdImageDestroy (b);
            if (src)
                gdImageDestroy (src);
        }
}

/* ---- resample ---------------------------------------------------------------- */

/* The tent filter in doubles, clamped edges, one channel at byte offset c. */
static double
s_ref_tent (gdImagePtr src, int tw, int th, int ox, int oy, int c)
{
    int sw = gdImageSX (src), sh = gdImageSY (src);
    double kx = (double) tw / sw, ky = (double) th / sh;
    double rx = kx < 1 ? 1 / kx : 1, ry = ky < 1 ? 1 / ky : 1;
    double cx = (ox + 0.5) / kx - 0.5, cy = (oy + 0.5) / ky - 0.5;
    double sum = 0, wsum = 0;
    for (int j = (int) floor (cy - ry); j <= (int) ceil (cy + ry); j++)
        for (int i = (int) floor (cx - rx); i <= (int) ceil (cx + rx); i++) {
            double wx = 1 - fabs (i - cx) / rx, wy = 1 - fabs (j - cy) / ry;
            if (wx <= 0 || wy <= 0)
                continue;
            int si = i < 0 ? 0 : i >= sw ? sw - 1 : i, sj = j < 0 ? 0 : j >= sh ? sh - 1 : j;
            int p = src->tpixels[sj][si];
            sum += wx * wy * ((p >> (8 * c)) & 0xFF);
            wsum += wx * wy;
        }
    return sum / wsum;
}

static void
test_resample (void)
{
    gdImagePtr flat = gdImageCreateTrueColor (37, 23);
    gdImageFilledRectangle (flat, 0, 0, 36, 22, gdTrueColor (0x12, 0xAB, 0xF0));
    static const int sizes[][2] = { { 100, 61 }, { 11, 7 }, { 1, 1 }, { 37, 23 }, { 5, 90 } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        gdImagePtr out = resample_image (flat, sizes[i][0], sizes[i][1]);
        CHECK (out && gdImageSX (out) == sizes[i][0] && gdImageSY (out) == sizes[i][1],
               "expected a %dx%d image", sizes[i][0], sizes[i][1]);
        int bad = 0;
        for (int y = 0; out && y < gdImageSY (out); y++)
            for (int x = 0; x < gdImageSX (out); x++)
                bad += out->tpixels[y][x] != gdTrueColor (0x12, 0xAB, 0xF0);
        CHECK (bad == 0, "expected a flat image to stay exactly flat at %dx%d, %d pixels differ",
               sizes[i][0], sizes[i][1], bad);
        if (out)
            gdImageDestroy (out);
    }
    gdImageDestroy (flat);

    gdImagePtr checker = gdImageCreateTrueColor (300, 300);
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 300; x++)
            checker->tpixels[y][x] = (x + y) % 2 ? 0xFFFFFF : 0;
    gdImagePtr out = resample_image (checker, 100, 100);
    int lo = 255, hi = 0;
    for (int y = 2; out && y < 98; y++)
        for (int x = 2; x < 98; x++) {
            int g = out->tpixels[y][x] & 0xFF;
            lo = g < lo ? g : lo;
            hi = g > hi ? g : hi;
        }
    CHECK (out && lo >= 112 && hi <= 143, "expected a checkerboard reduced by 3 to be mid-grey, "
           "got %d..%d", lo, hi);
    if (out)
        gdImageDestroy (out);
    gdImageDestroy (checker);

    gdImagePtr noise = s_noise (61, 47, true);
    /* taps: 3 (one load a pixel), ~7 and ~17 (pairs of loads; 47 -> 5: over
       8 pairs down the rows, the scalar loop), and enlargements */
    static const int tests[][2] = { { 50, 40 }, { 20, 13 }, { 122, 94 }, { 61, 47 }, { 7, 100 }, { 12, 5 } };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int tw = tests[i][0], th = tests[i][1];
        out = resample_image (noise, tw, th);
        CHECK (out != NULL, "expected a %dx%d resample", tw, th);
        double worst = 0;
        for (int y = 0; out && y < th; y++)
            for (int x = 0; x < tw; x++)
                for (int c = 0; c < 4; c++) {
                    double d = fabs (((out->tpixels[y][x] >> (8 * c)) & 0xFF)
                                     - s_ref_tent (noise, tw, th, x, y, c));
                    worst = d > worst ? d : worst;
                }
        CHECK (worst <= 2.0, "expected %dx%d within 2 levels of the exact tent filter, worst %.2f",
               tw, th, worst);
        if (out)
            gdImageDestroy (out);
    }
    /* streamed into a canvas = resampled first, then painted */
    static const int boxes[][6] = { { 10, 5, 100, 80, -7, -3 }, { -20, -10, 150, 130, -40, -25 },
                                    { 30, 30, 40, 40, 30, 30 } };
    for (size_t i = 0; i < sizeof boxes / sizeof boxes[0]; i++)
        for (int r = 0; r < 2; r++) {
            gdImagePtr a = s_noise (120, 100, false), b = gdImageCreateTrueColor (120, 100);
            for (int y = 0; y < 100; y++)
                memcpy (b->tpixels[y], a->tpixels[y], 120 * sizeof (int));
            int tw = 130, th = 97;
            CHECK (device_frame_paint_scaled (a, boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3],
                                              r * 12.5, noise, tw, th, boxes[i][4], boxes[i][5]) == 0,
                   "expected device_frame_paint_scaled to paint box %zu", i);
            gdImagePtr tmp = resample_image (noise, tw, th);
            device_frame_paint_rrect (b, boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3], r * 12.5,
                                      0, tmp, boxes[i][4], boxes[i][5]);
            int diff = 0;
            for (int y = 0; y < 100; y++)
                diff += memcmp (a->tpixels[y], b->tpixels[y], 120 * sizeof (int)) != 0;
            CHECK (diff == 0, "box %zu radius %.1f: expected streaming to paint the same pixels as "
                   "resample_image + paint_rrect, %d rows differ", i, r * 12.5, diff);
            gdImageDestroy (tmp);
            gdImageDestroy (a);
            gdImageDestroy (b);
        }
    gdImagePtr canvas = gdImageCreateTrueColor (10, 10);
    CHECK (device_frame_paint_scaled (canvas, 0, 0, 10, 10, 0, noise, 10, RESAMPLE_MAX_SIDE_PX + 1, 0, 0) == -1,
           "expected -1 for a size over RESAMPLE_MAX_SIDE_PX");
    gdImageDestroy (canvas);
    CHECK (resample_image (noise, 0, 10) == NULL, "expected NULL for a width of 0");
    CHECK (resample_image (noise, 10, RESAMPLE_MAX_SIDE_PX + 1) == NULL, "expected NULL over the side cap");
    gdImageDestroy (noise);
    gdImagePtr pal = gdImageCreate (10, 10);
    CHECK (resample_image (pal, 5, 5) == NULL, "expected NULL for a palette image");
    gdImageDestroy (pal);
}

/* ---- every frame, portrait and landscape, contain and cover ---------------- */

static void
test_frames (void)
{
    static const int shots[][2] = { { 90, 200 }, { 300, 140 }, { 2000, 3000 }, { 7, 5 } };
    for (int i = 0; device_frame_at (i); i++)
        for (size_t k = 0; k < sizeof shots / sizeof shots[0]; k++)
            for (int cover = 0; cover < 2; cover++) {
                const device_frame_t *f = device_frame_at (i);
                gdImagePtr canvas = gdImageCreateTrueColor (400, 500);
                gdImageFilledRectangle (canvas, 0, 0, 399, 499, 0x336699);
                gdImagePtr shot = gdImageCreateTrueColor (shots[k][0], shots[k][1]);
                gdImageFilledRectangle (shot, 0, 0, shots[k][0] - 1, shots[k][1] - 1, 0xFF8800);
                device_frame_info_t info;
                int rc = device_frame_draw (canvas, f, shot, 20, 30, 360, 440, "black", cover, &info);
                CHECK (rc == 0 && info.drawn, "%s with a %dx%d shot: expected a drawing", f->name,
                       shots[k][0], shots[k][1]);
                int cx = info.screen_x + info.screen_w / 2, cy = info.screen_y + info.screen_h / 2;
                if (rc == 0 && cx >= 0 && cy >= 0 && cx < 400 && cy < 500)
                    CHECK (canvas->tpixels[cy][cx] == 0xFF8800, "%s %s with a %dx%d shot: expected the "
                           "shot's orange at the screen centre (%d,%d), got #%06X", f->name,
                           cover ? "cover" : "contain", shots[k][0], shots[k][1], cx, cy,
                           canvas->tpixels[cy][cx]);
                gdImageDestroy (shot);
                gdImageDestroy (canvas);
            }
}

/* The body, bezel and screen layers each leave alone what the next covers
   whole: inside the frame (away from its rounded corners) nothing of the
   canvas under it may show, so two canvases of different colours give the
   same pixels there. */
static void
test_frame_layers (void)
{
    for (int i = 0; device_frame_at (i); i++) {
        const device_frame_t *f = device_frame_at (i);
        if (f->feature == DEVICE_FEAT_WATCH || f->feature == DEVICE_FEAT_LAPTOP
        ||  f->feature == DEVICE_FEAT_BROWSER || strcmp (f->name, "none") == 0)
            continue;
        for (int turned = 0; turned < 2; turned++) {
            gdImagePtr c[2];
            device_frame_info_t info[2];
            gdImagePtr shot = turned ? gdImageCreateTrueColor (300, 200) : NULL;
            for (int k = 0; k < 2; k++) {
                c[k] = k ? s_noise (900, 1100, false) : gdImageCreateTrueColor (900, 1100);
                if (!k)
                    gdImageFilledRectangle (c[k], 0, 0, 899, 1099, 0x336699);
                if (shot)
                    gdImageFilledRectangle (shot, 0, 0, 299, 199, 0xFF8800);
                device_frame_draw (c[k], f, shot, 30, 40, 840, 1020, "black", false, &info[k]);
            }
            int fx = info[0].frame_x, fy = info[0].frame_y, fw = info[0].frame_w, fh = info[0].frame_h;
            int diff = 0, dx = -1, dy = -1;
            for (int y = fy + 2; y < fy + fh - 2; y++)
                for (int x = fx + 2; x < fx + fw - 2; x++) {
                    bool mid_row = y >= fy + fh * 15 / 100 && y < fy + fh * 85 / 100;
                    bool mid_col = x >= fx + fw * 15 / 100 && x < fx + fw * 85 / 100;
                    if ((mid_row || mid_col) && c[0]->tpixels[y][x] != c[1]->tpixels[y][x] && diff++ == 0)
                        dx = x, dy = y;
                }
            CHECK (info[0].drawn && fw > 100 && fh > 100 && diff == 0,
                   "%s%s: expected nothing of the canvas to show inside the frame, %d pixels "
                   "differ (first at %d,%d)", f->name, turned ? " turned" : "", diff, dx, dy);
            for (int k = 0; k < 2; k++)
                gdImageDestroy (c[k]);
            if (shot)
                gdImageDestroy (shot);
        }
    }
}

/* A rounded rectangle of more than DEVICE_FRAME_PARTS_MIN_PX pixels is
   painted in row stripes on par_threads() threads: the same pixels as the
   per-pixel painter still. */
static void
test_rrect_large (void)
{
    for (int with_src = 0; with_src < 2; with_src++) {
        gdImagePtr a = s_noise (900, 700, false), b = gdImageCreateTrueColor (900, 700);
        for (int y = 0; y < 700; y++)
            memcpy (b->tpixels[y], a->tpixels[y], 900 * sizeof (int));
        gdImagePtr src = with_src ? s_noise (880, 690, true) : NULL;
        device_frame_paint_rrect (a, 7, 5, 885, 690, 60.5, 0x3366CC, src, 9, 4);
        s_ref_rrect (b, 7, 5, 885, 690, 60.5, 0x3366CC, src, 9, 4);
        int diff = 0;
        for (int y = 0; y < 700; y++)
            for (int x = 0; x < 900; x++)
                diff += a->tpixels[y][x] != b->tpixels[y][x];
        CHECK (diff == 0, "large rrect (%s, %d threads): expected the per-pixel painter's pixels, %d differ",
               with_src ? "src" : "flat", par_threads (), diff);
        gdImageDestroy (a);
        gdImageDestroy (b);
        if (src)
            gdImageDestroy (src);
    }
}

/* ---- png_write --------------------------------------------------------------- */

static uint32_t
s_be32 (const uint8_t *p) { return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

static void
s_round_trip (gdImagePtr im, const char *what, int parts)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    char why[128] = "";
    CHECK (png_write (im, PNG_WRITE_LEVEL, parts, 1u << 30, &a, &alen, why, sizeof why) == 0,
           "%s, %d threads: png_write failed: %s", what, parts, why);
    CHECK (png_write (im, PNG_WRITE_LEVEL, parts, 1u << 30, &b, &blen, why, sizeof why) == 0,
           "%s, %d threads: second png_write failed: %s", what, parts, why);
    if (!a || !b) {
        free (a);
        free (b);
        return;
    }
    CHECK (alen == blen && memcmp (a, b, alen) == 0, "%s: expected the same bytes twice", what);
    CHECK (alen > 33 && memcmp (a + 12, "IHDR", 4) == 0 && a[24] == 8 && a[25] == 2,
           "%s: expected IHDR first, 8-bit RGB", what);
    int idat = 0;                           /* walk the chunks: IHDR, IDAT..., IEND at the end */
    size_t pos = 8;
    bool iend = false;
    while (pos + 12 <= alen) {
        uint32_t n = s_be32 (a + pos);
        if (memcmp (a + pos + 4, "IDAT", 4) == 0)
            idat++;
        if (memcmp (a + pos + 4, "IEND", 4) == 0)
            iend = pos + 12 + n == alen;
        pos += 12 + (size_t) n;
    }
    CHECK (iend && pos == alen && idat >= 1, "%s: expected chunks ending in IEND (%d IDAT)", what, idat);
    /* zlib itself over the joined IDATs: one stream, its Adler-32 checked,
       exactly the filtered rows and nothing after them */
    size_t zlen = 0, want = (size_t) gdImageSY (im) * (1 + 3 * (size_t) gdImageSX (im));
    uint8_t *z = malloc (alen), *rows = malloc (want + 1);
    for (pos = 8; z && pos + 12 <= alen; pos += 12 + (size_t) s_be32 (a + pos))
        if (memcmp (a + pos + 4, "IDAT", 4) == 0) {
            memcpy (z + zlen, a + pos + 8, s_be32 (a + pos));
            zlen += s_be32 (a + pos);
        }
    uLongf got = (uLongf) want + 1;
    int zrc = z && rows ? uncompress (rows, &got, z, (uLong) zlen) : Z_MEM_ERROR;
    CHECK (zrc == Z_OK && got == want, "%s, %d threads: expected zlib to inflate %zu bytes (rc %d, %lu bytes)",
           what, parts, want, zrc, (unsigned long) got);
    free (z);
    free (rows);
    gdImagePtr back = gdImageCreateFromPngPtr ((int) alen, a);
    CHECK (back != NULL, "%s: expected libgd to decode the PNG", what);
    if (back) {
        int bad = 0;
        for (int y = 0; y < gdImageSY (im); y++)
            for (int x = 0; x < gdImageSX (im); x++)
                bad += (gdImageGetTrueColorPixel (back, x, y) & 0xFFFFFF) != (im->tpixels[y][x] & 0xFFFFFF);
        CHECK (gdImageSX (back) == gdImageSX (im) && gdImageSY (back) == gdImageSY (im) && bad == 0,
               "%s, %d threads: expected the same pixels back, %d differ", what, parts, bad);
        gdImageDestroy (back);
    }
    if (strcmp (what, "noise 800x700") == 0)
        CHECK (idat >= 2, "expected a %zu-byte file to hold several IDAT chunks, got %d", alen, idat);
    free (a);
    free (b);
}

static void
test_png_write (void)
{
    static const int sizes[][2] = { { 1, 1 }, { 3, 7 }, { 17, 5 }, { 20000, 2 }, { 2, 333 } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        gdImagePtr im = s_noise (sizes[i][0], sizes[i][1], false);
        char what[64];
        snprintf (what, sizeof what, "noise %dx%d", sizes[i][0], sizes[i][1]);
        for (int parts = 1; parts <= 4; parts++)
            s_round_trip (im, what, parts);
        gdImageDestroy (im);
    }
    /* smooth content, where every filter gets picked somewhere */
    gdImagePtr smooth = gdImageCreateTrueColor (257, 129);
    for (int y = 0; y < 129; y++)
        for (int x = 0; x < 257; x++)
            smooth->tpixels[y][x] = gdTrueColor (x & 255, (x + y) & 255, (x * y / 64) & 255);
    for (int parts = 1; parts <= 7; parts++)
        s_round_trip (smooth, "smooth 257x129", parts);
    gdImageDestroy (smooth);
    /* a picture-like canvas: flat areas, gradients, edges and some noise, so
       each part holds several Huffman blocks of each kind before its join */
    gdImagePtr canvas = gdImageCreateTrueColor (1100, 1500);
    for (int y = 0; y < 1500; y++)
        for (int x = 0; x < 1100; x++)
            canvas->tpixels[y][x] = y % 300 < 150 ? gdTrueColor (y / 6, 40, 200 - y / 8)
                                  : (x / 50 + y / 50) % 3 ? gdTrueColor (250, 250, 250)
                                  : (int) (s_rand () & 0xFFFFFF);
    for (int parts = 1; parts <= 4; parts++)
        s_round_trip (canvas, "canvas 1100x1500", parts);
    gdImageDestroy (canvas);
    uint8_t *out = (uint8_t *) 1;
    size_t len = 99;
    char why[128] = "";
    gdImagePtr big = s_noise (800, 700, true);   /* ~1.7 MB of incompressible rows */
    s_round_trip (big, "noise 800x700", 1);
    s_round_trip (big, "noise 800x700", 2);
    CHECK (png_write (big, PNG_WRITE_LEVEL, 0, 1u << 30, &out, &len, why, sizeof why) == -1
           && strstr (why, "threads 0") != NULL, "expected 0 threads to fail, got \"%s\"", why);

    out = (uint8_t *) 1;
    len = 99;
    CHECK (png_write (big, 0, 1, 1u << 30, &out, &len, why, sizeof why) == -1 && out == NULL && len == 0
           && strstr (why, "level 0") != NULL, "expected level 0 to fail naming the level, got \"%s\"", why);
    CHECK (png_write (big, 13, 1, 1u << 30, &out, &len, why, sizeof why) == -1 && strstr (why, "1..12"),
           "expected level 13 to fail, got \"%s\"", why);
    CHECK (png_write (big, PNG_WRITE_LEVEL, 1, 1000, &out, &len, why, sizeof why) == -1 && out == NULL
           && strstr (why, "over 1000 bytes") != NULL, "expected the byte cap to fail, got \"%s\"", why);
    gdImageDestroy (big);
    gdImagePtr pal = gdImageCreate (4, 4);
    CHECK (png_write (pal, PNG_WRITE_LEVEL, 1, 1u << 30, &out, &len, why, sizeof why) == -1
           && strstr (why, "truecolor") != NULL, "expected a palette image to fail, got \"%s\"", why);
    gdImageDestroy (pal);
}

/* ---- deflate_join ---------------------------------------------------------- */

#include "deflate_join.h"
#include <libdeflate.h>

static void
test_deflate_join (void)
{
    /* three parts: text-like (static or dynamic blocks), incompressible
       (stored), long runs; each compressed alone, joined, then wrapped in a
       zlib stream that zlib itself must inflate to the three in order */
    enum { N = 200000 };
    uint8_t *in = malloc (3 * N), *z = malloc (8 * N), *back = malloc (3 * N + 1);
    CHECK (in && z && back, "allocation failed");
    if (!in || !z || !back)
        return;
    for (int i = 0; i < N; i++) {
        in[i] = (uint8_t) "the quick brown fox jumps over the lazy dog "[(i * 7 + i / 13) % 44];
        in[N + i] = (uint8_t) s_rand ();
        in[2 * N + i] = (uint8_t) (i / 5000);
    }
    for (int level = 1; level <= 12; level += 5) {
        struct libdeflate_compressor *c = libdeflate_alloc_compressor (level);
        size_t at = 2;
        z[0] = 0x78, z[1] = 0x01;
        for (int p = 0; p < 3; p++) {
            size_t len = libdeflate_deflate_compress (c, in + (size_t) p * N, N, z + at, 2 * N);
            if (p < 2)
                len = deflate_join_unfinal (z + at, len, 2 * N);
            CHECK (len > 0, "level %d, part %d: expected the stream to parse", level, p);
            at += len;
        }
        uint32_t adler = libdeflate_adler32 (1, in, 3 * N);
        for (int k = 0; k < 4; k++)
            z[at++] = (uint8_t) (adler >> (24 - 8 * k));
        uLongf got = 3 * N + 1;
        int rc = uncompress (back, &got, z, (uLong) at);
        CHECK (rc == Z_OK && got == 3 * N && memcmp (back, in, 3 * N) == 0,
               "level %d: expected the joined stream to inflate to the parts (rc %d, %lu bytes)",
               level, rc, (unsigned long) got);
        /* every truncation of a dynamic-block stream is refused */
        size_t len = libdeflate_deflate_compress (c, in, N, z, 2 * N);
        uint8_t *cut = malloc (len + DEFLATE_JOIN_EXTRA_BYTES);
        int accepted = 0;
        for (size_t n = 1; cut && n < len; n += 1 + n / 64) {
            memcpy (cut, z, n);
            accepted += deflate_join_unfinal (cut, n, n + DEFLATE_JOIN_EXTRA_BYTES) != 0;
        }
        CHECK (accepted == 0, "level %d: expected every truncated stream refused, %d accepted", level, accepted);
        free (cut);
        libdeflate_free_compressor (c);
    }
    int parsed = 0;                         /* random bytes: refused or parsed, never read past */
    for (int t = 0; t < 2000; t++) {
        size_t n = 1 + s_rand () % 64;
        uint8_t *r = malloc (n + DEFLATE_JOIN_EXTRA_BYTES);
        for (size_t i = 0; r && i < n; i++)
            r[i] = (uint8_t) s_rand ();
        parsed += r && deflate_join_unfinal (r, n, n + DEFLATE_JOIN_EXTRA_BYTES) != 0;
        free (r);
    }
    CHECK (parsed < 2000, "expected random bytes to be refused mostly, %d of 2000 parsed", parsed);
    CHECK (deflate_join_unfinal (z, 10, 12) == 0, "expected a short cap to be refused");
    free (in);
    free (z);
    free (back);
}

/* ---- the PNG fast path decodes to libgd's pixels -------------------------- */

static void
s_same_decode (const uint8_t *png, int len, const char *what)
{
    gdImagePtr a = image_source_decode (png, (size_t) len, IMAGE_SOURCE_PNG);
    gdImagePtr b = gdImageCreateFromPngPtr (len, (void *) png);
    CHECK ((a == NULL) == (b == NULL), "%s: expected the fast path to decode exactly when libgd does", what);
    if (a && b) {
        int bad = 0;
        bool same_size = gdImageSX (a) == gdImageSX (b) && gdImageSY (a) == gdImageSY (b);
        for (int y = 0; same_size && y < gdImageSY (a); y++)
            for (int x = 0; x < gdImageSX (a); x++)
                bad += gdImageGetTrueColorPixel (a, x, y) != gdImageGetTrueColorPixel (b, x, y);
        CHECK (same_size && bad == 0, "%s: expected libgd's pixels, %d differ", what, bad);
    }
    if (a)
        gdImageDestroy (a);
    if (b)
        gdImageDestroy (b);
}

/* A PNG made here with every row's filter chosen (0..4 in turn, or Paeth
   alone) over random filtered bytes: the fast path's unfiltering (Paeth
   a pixel at a time in SIMD lanes) against libgd's. */
static void
test_png_filters (void)
{
    static const int widths[] = { 1, 2, 3, 7, 64, 333 };
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++)
        for (int bpp = 3; bpp <= 4; bpp++)
            for (int only_paeth = 0; only_paeth < 2; only_paeth++) {
                int w = widths[i], h = 23;
                size_t stride = 1 + (size_t) bpp * w, raw_len = stride * h;
                uint8_t *raw = malloc (raw_len);
                uLongf zcap = compressBound ((uLong) raw_len);
                uint8_t *png = malloc (64 + zcap);
                if (!raw || !png) {
                    free (raw);
                    free (png);
                    CHECK (false, "out of memory");
                    return;
                }
                for (int y = 0; y < h; y++) {
                    raw[y * stride] = (uint8_t) (only_paeth ? 4 : y % 5);
                    for (size_t k = 1; k < stride; k++)
                        raw[y * stride + k] = (uint8_t) (y < h / 2 ? (k * 7 + (size_t) y) & 0xFF : s_rand () & 0xFF);
                }
                static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
                memcpy (png, sig, 8);
                uint8_t ihdr[17] = { 'I', 'H', 'D', 'R', 0, 0, 0, (uint8_t) w, 0, 0, 0, (uint8_t) h, 8,
                                     (uint8_t) (bpp == 4 ? 6 : 2), 0, 0, 0 };
                ihdr[6] = (uint8_t) (w >> 8);
                size_t pos = 8;
                uint8_t be[4];
                be[0] = 0, be[1] = 0, be[2] = 0, be[3] = 13;
                memcpy (png + pos, be, 4);
                memcpy (png + pos + 4, ihdr, 17);
                uint32_t crc = (uint32_t) crc32 (0, ihdr, 17);
                be[0] = (uint8_t) (crc >> 24), be[1] = (uint8_t) (crc >> 16), be[2] = (uint8_t) (crc >> 8), be[3] = (uint8_t) crc;
                memcpy (png + pos + 21, be, 4);
                pos += 25;
                uLongf zlen = zcap;
                CHECK (compress (png + pos + 8, &zlen, raw, (uLong) raw_len) == Z_OK, "expected zlib to compress");
                be[0] = (uint8_t) (zlen >> 24), be[1] = (uint8_t) (zlen >> 16), be[2] = (uint8_t) (zlen >> 8), be[3] = (uint8_t) zlen;
                memcpy (png + pos, be, 4);
                memcpy (png + pos + 4, "IDAT", 4);
                crc = (uint32_t) crc32 (0, png + pos + 4, 4 + (uInt) zlen);
                be[0] = (uint8_t) (crc >> 24), be[1] = (uint8_t) (crc >> 16), be[2] = (uint8_t) (crc >> 8), be[3] = (uint8_t) crc;
                memcpy (png + pos + 8 + zlen, be, 4);
                pos += 12 + zlen;
                static const uint8_t iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82 };
                memcpy (png + pos, iend, 12);
                pos += 12;
                char what[96];
                snprintf (what, sizeof what, "%dx%d %s, %s", w, h, bpp == 4 ? "RGBA" : "RGB",
                          only_paeth ? "Paeth rows" : "filters 0..4 in turn");
                gdImagePtr got = image_source_decode (png, pos, IMAGE_SOURCE_PNG);
                CHECK (got != NULL, "%s: expected the PNG to decode", what);
                if (got)
                    gdImageDestroy (got);
                s_same_decode (png, (int) pos, what);
                free (raw);
                free (png);
            }
}

static void
test_png_decode (void)
{
    static const int sizes[][2] = { { 1, 1 }, { 5, 3 }, { 333, 41 }, { 64, 64 } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int variant = 0; variant < 4; variant++) {
            int w = sizes[i][0], h = sizes[i][1];
            gdImagePtr im = gdImageCreateTrueColor (w, h);
            for (int y = 0; y < h; y++)         /* smooth and noisy parts: every filter */
                for (int x = 0; x < w; x++)
                    im->tpixels[y][x] = y < h / 2 ? gdTrueColorAlpha ((x * 3) & 255, (y * 5) & 255,
                                                                      (x + y) & 255, (x + y) % 128)
                                                  : gdTrueColorAlpha ((int) (s_rand () & 255), (int) (s_rand () & 255),
                                                                      (int) (s_rand () & 255), (int) (s_rand () % 128));
            bool alpha = variant & 1, interlaced = variant & 2;
            gdImageSaveAlpha (im, alpha);
            gdImageAlphaBlending (im, 0);
            gdImageInterlace (im, interlaced);
            int len = 0;
            uint8_t *png = gdImagePngPtrEx (im, &len, variant == 0 ? 1 : 6);
            char what[96];
            snprintf (what, sizeof what, "%dx%d %s%s", w, h, alpha ? "RGBA" : "RGB",
                      interlaced ? " interlaced" : "");
            s_same_decode (png, len, what);
            if (len > 60) {                     /* truncated, and a flipped byte in the data */
                snprintf (what, sizeof what, "%dx%d truncated", w, h);
                s_same_decode (png, len - 30, what);
                png[len / 2] ^= 0x55;
                snprintf (what, sizeof what, "%dx%d corrupted", w, h);
                s_same_decode (png, len, what);
            }
            gdFree (png);
            gdImageDestroy (im);
        }
    gdImagePtr pal = gdImageCreate (20, 10);    /* palette: libgd's own path */
    gdImageColorAllocate (pal, 10, 200, 30);
    int len = 0;
    uint8_t *png = gdImagePngPtr (pal, &len);
    s_same_decode (png, len, "palette 20x10");
    gdFree (png);
    gdImageDestroy (pal);
}

/* ---- row conversions between libgd pixels and R G B bytes ---------------- */

static void
test_pixbuf_rows (void)
{
    enum { S_W = 70, S_GUARD = 16 };
    int px[S_W], back[S_W + S_GUARD];
    uint8_t rgb[3 * S_W + S_GUARD];
    for (int w = 1; w <= S_W; w++) {
        for (int x = 0; x < w; x++)
            px[x] = (int) (s_rand () & 0x7FFFFFFF);         /* alpha bits set too: dropped */
        memset (rgb, 0xA5, sizeof rgb);
        pixbuf_rgb_from_px (rgb, px, w);
        int bad = 0;
        for (int x = 0; x < w; x++)
            bad += rgb[3 * x] != ((px[x] >> 16) & 0xFF) || rgb[3 * x + 1] != ((px[x] >> 8) & 0xFF)
                || rgb[3 * x + 2] != (px[x] & 0xFF);
        for (size_t i = 3 * (size_t) w; i < sizeof rgb; i++)
            bad += rgb[i] != 0xA5;
        CHECK (bad == 0, "width %d: expected R G B of each pixel and nothing past the row, %d bytes wrong", w, bad);
        for (int x = 0; x < S_W + S_GUARD; x++)
            back[x] = -1;
        pixbuf_px_from_rgb (back, rgb, w);
        bad = 0;
        for (int x = 0; x < w; x++)
            bad += back[x] != gdTrueColor ((px[x] >> 16) & 0xFF, (px[x] >> 8) & 0xFF, px[x] & 0xFF);
        for (int x = w; x < S_W + S_GUARD; x++)
            bad += back[x] != -1;
        CHECK (bad == 0, "width %d: expected opaque gdTrueColor pixels and nothing past the row, %d wrong", w, bad);
    }
    printf ("pixbuf rows: %s path checked\n", pixbuf_simd () ? "SSSE3" : "scalar");
}

int
main (int argc, char **argv)
{
    if (argc == 2 && strcmp (argv[1], "stripes") == 0) {
        /* the painters that split rows over par_threads() alone */
        test_rrect_large ();
        test_frames ();
        test_frame_layers ();
        if (check_failures) {
            fprintf (stderr, "%d check(s) failed\n", check_failures);
            return 1;
        }
        printf ("renderer_pixels stripes: all checks passed\n");
        return 0;
    }
    test_rrect ();
    test_resample ();
    test_frames ();
    test_frame_layers ();
    test_rrect_large ();
    test_png_write ();
    test_deflate_join ();
    test_png_decode ();
    test_png_filters ();
    test_pixbuf_rows ();
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("renderer_pixels: all checks passed\n");
    return 0;
}
