/*  test_renderer_draw.c: slide_render and render_task_run end to end, no network.
    A gradient + 2-line headline + inline PNG screenshot at 1320x2868 must give
    an RGB PNG of that size, byte-identical on a second run, with the expected
    background colours; a custom 800x600 flat canvas works; bad inputs give
    typed errors; a TASK round-trips to a RESULT or a FAIL, and one with an
    uploaded background draws it. */
#include "check.h"
#include "render_task.h"
#include "slide_render.h"
#include "util.h"

#include <gd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static slide_render_opts_t s_opts;

static uint32_t
s_be32 (const uint8_t *p) { return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

/* A w x h screenshot: orange with a darker top band and some texture. */
static uint8_t *
s_make_shot (int w, int h, int *len)
{
    gdImagePtr im = gdImageCreateTrueColor (w, h);
    gdImageFilledRectangle (im, 0, 0, w - 1, h - 1, gdTrueColor (0xFF, 0x88, 0x00));
    gdImageFilledRectangle (im, 0, 0, w - 1, h / 10, gdTrueColor (0x33, 0x22, 0x11));
    for (int y = h / 5; y < h; y += 40)
        gdImageFilledRectangle (im, w / 10, y, w - w / 10, y + 3, gdTrueColor (0xEE, 0x77, 0x00));
    uint8_t *png = gdImagePngPtr (im, len);
    gdImageDestroy (im);
    return png;
}

static bool
s_near (int color, uint32_t rgb, int tol)
{
    int dr = abs (((color >> 16) & 0xFF) - (int) ((rgb >> 16) & 0xFF));
    int dg = abs (((color >> 8) & 0xFF) - (int) ((rgb >> 8) & 0xFF));
    int db = abs ((color & 0xFF) - (int) (rgb & 0xFF));
    return dr <= tol && dg <= tol && db <= tol;
}

static void
s_check_ihdr (const uint8_t *png, size_t len, uint32_t w, uint32_t h)
{
    CHECK (len > 33 && memcmp (png + 1, "PNG", 3) == 0 && memcmp (png + 12, "IHDR", 4) == 0,
           "expected a PNG with IHDR first");
    if (len <= 33)
        return;
    CHECK (s_be32 (png + 16) == w && s_be32 (png + 20) == h,
           "expected IHDR %ux%u, got %ux%u", w, h, s_be32 (png + 16), s_be32 (png + 20));
    CHECK (png[24] == 8 && png[25] == 2, "expected 8-bit colour type 2 (RGB), got depth %d type %d",
           png[24], png[25]);
}

static proto_slide_t
s_base_spec (uint8_t *shot, int shot_len)
{
    static char l1[] = "Track every habit", l2[] = "Stay on your streak";
    proto_slide_t spec = {
        .slide = 0, .width = 1320, .height = 2868,
        .bg_ncolors = 2, .bg_colors = {0x1E3C72, 0x6A11CB}, .bg_angle = 180,
        .nlines = 2, .lines = {l1, l2}, .text_color = 0xFFFFFF,
        .shot_data = shot, .shot_len = (size_t) shot_len,
        .device = "iphone", .format = "png", .preset = "appstore.iphone_6_9"
    };
    return spec;
}

static void
test_full_slide (void)
{
    int shot_len = 0;
    uint8_t *shot = s_make_shot (400, 868, &shot_len);
    proto_slide_t spec = s_base_spec (shot, shot_len);
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    render_error_t err;
    CHECK (slide_render (&spec, &s_opts, &a, &alen, &err) == 0, "render failed: %s %s", err.code, err.message);
    CHECK (slide_render (&spec, &s_opts, &b, &blen, &err) == 0, "second render failed: %s", err.message);
    if (a && b) {
        s_check_ihdr (a, alen, 1320, 2868);
        CHECK (alen == blen && memcmp (a, b, alen) == 0,
               "expected the same spec to give identical bytes (%zu vs %zu bytes)", alen, blen);
        gdImagePtr im = gdImageCreateFromPngPtr ((int) alen, a);
        CHECK (im != NULL, "expected libgd to decode our PNG");
        if (im) {
            int top = gdImageGetTrueColorPixel (im, 3, 3);
            int bottom = gdImageGetTrueColorPixel (im, 3, 2864);
            CHECK (s_near (top, 0x1E3C72, 2), "expected ~#1E3C72 at the top left, got #%06X", top);
            CHECK (s_near (bottom, 0x6A11CB, 2), "expected ~#6A11CB at the bottom left, got #%06X", bottom);
            int screen = gdImageGetTrueColorPixel (im, 660, 1800);
            CHECK (s_near (screen, 0xFF8800, 24), "expected the orange screenshot at (660,1800), got #%06X", screen);
            int bezel = gdImageGetTrueColorPixel (im, 660, 2740);
            CHECK (s_near (bezel, 0x0A0A0B, 4), "expected the dark bezel at (660,2740), got #%06X", bezel);
            int text = 0;               /* white-ish headline pixels in the top band */
            for (int y = 140; y < 340; y++)
                for (int x = 100; x < 1220; x++)
                    text += s_near (gdImageGetTrueColorPixel (im, x, y), 0xFFFFFF, 10);
            CHECK (text > 2000, "expected a white headline near the top, found %d white pixels", text);
            gdImageDestroy (im);
        }
    }
    free (a);
    free (b);
    gdFree (shot);
}

static void
test_custom_canvas (void)
{
    static char l1[] = "Hello";
    proto_slide_t spec = { .width = 800, .height = 600, .bg_ncolors = 1, .bg_colors = {0x112233},
                           .nlines = 1, .lines = {l1}, .text_color = 0xFFFFFF,
                           .device = "none", .format = "png" };
    uint8_t *png = NULL;
    size_t len = 0;
    render_error_t err;
    CHECK (slide_render (&spec, &s_opts, &png, &len, &err) == 0, "800x600 render failed: %s", err.message);
    if (!png)
        return;
    s_check_ihdr (png, len, 800, 600);
    gdImagePtr im = gdImageCreateFromPngPtr ((int) len, png);
    if (im) {
        int c = gdImageGetTrueColorPixel (im, 2, 2);
        CHECK (c == 0x112233, "expected flat #112233 at (2,2), got #%06X", c);
        c = gdImageGetTrueColorPixel (im, 797, 597);
        CHECK (c == 0x112233, "expected flat #112233 at (797,597), got #%06X", c);
        gdImageDestroy (im);
    }
    free (png);

    /* a left-to-right gradient at 90 degrees */
    spec.bg_ncolors = 3;
    spec.bg_colors[0] = 0xFF0000; spec.bg_colors[1] = 0x00FF00; spec.bg_colors[2] = 0x0000FF;
    spec.bg_angle = 90;
    CHECK (slide_render (&spec, &s_opts, &png, &len, &err) == 0, "gradient render failed: %s", err.message);
    im = png ? gdImageCreateFromPngPtr ((int) len, png) : NULL;
    if (im) {
        int l = gdImageGetTrueColorPixel (im, 0, 590), m = gdImageGetTrueColorPixel (im, 400, 590);
        int r = gdImageGetTrueColorPixel (im, 799, 590);
        CHECK (s_near (l, 0xFF0000, 2) && s_near (m, 0x00FF00, 4) && s_near (r, 0x0000FF, 2),
               "expected red | green | blue across at 90 degrees, got #%06X #%06X #%06X", l, m, r);
        gdImageDestroy (im);
    }
    free (png);
}

static void
test_bad_inputs (void)
{
    static uint8_t junk[] = "this is not an image at all, just text";
    proto_slide_t spec = s_base_spec (junk, sizeof junk);
    uint8_t *png = NULL;
    size_t len = 0;
    render_error_t err;
    CHECK (slide_render (&spec, &s_opts, &png, &len, &err) == -1 && png == NULL, "expected junk to fail");
    CHECK (strcmp (err.code, "screenshot_invalid") == 0 && !err.retryable,
           "expected screenshot_invalid not retryable, got %s", err.code);
    CHECK (strcmp (err.param, "slides[0].screenshot.data") == 0, "expected param slides[0].screenshot.data, got %s", err.param);
    CHECK (strstr (err.message, "is not a PNG, JPEG or WebP image") != NULL, "unexpected message: %s", err.message);

    int shot_len = 0;
    uint8_t *shot = s_make_shot (200, 400, &shot_len);
    spec = s_base_spec (shot, shot_len);
    slide_render_opts_t small = s_opts;
    small.max_source_pixels = 200 * 400 - 1;
    CHECK (slide_render (&spec, &small, &png, &len, &err) == -1 && strcmp (err.code, "screenshot_too_large") == 0,
           "expected screenshot_too_large over the pixel cap, got %s", err.code);
    small.max_source_pixels = 0;
    small.max_source_bytes = (size_t) shot_len - 1;
    CHECK (slide_render (&spec, &small, &png, &len, &err) == -1 && strcmp (err.code, "screenshot_too_large") == 0,
           "expected screenshot_too_large over the byte cap, got %s", err.code);

    /* a task round trip: RESULT for a good spec, FAIL bad_task for junk */
    msgpack_sbuffer specbuf, out;
    msgpack_sbuffer_init (&specbuf);
    spec.width = 400;
    spec.height = 800;
    CHECK (proto_slide_encode (&spec, &specbuf) == 0, "expected the slide to encode");
    proto_task_t task = { .task_id = "img_01JD0000000000000000000000", .attempt = 2,
                          .spec = specbuf.data, .spec_len = specbuf.size };
    for (int round = 0; round < 2; round++) {
        msgpack_sbuffer_init (&out);
        int cmd = 0;
        render_error_t why;
        CHECK (render_task_run (&task, &s_opts, &cmd, &out, &why) == 0,
               "render_task_run failed: %s", why.message);
        char derr[PROTO_ERR_MAX] = "";
        if (round == 0) {
            proto_result_t res = { 0 };
            CHECK (cmd == PROTO_RESULT && proto_result_decode (out.data, out.size, &res, derr) == 0,
                   "expected a RESULT, got cmd %d (%s)", cmd, derr);
            CHECK (strcmp (res.task_id, task.task_id) == 0 && res.attempt == 2 && res.width == 400
                   && res.height == 800 && strcmp (res.format, "png") == 0 && res.len > 100,
                   "unexpected RESULT %s attempt %d %dx%d %s", res.task_id, res.attempt, res.width, res.height, res.format);
            proto_result_free (&res);
            task.spec = "\x01\x02garbage";
            task.spec_len = 9;
        }
        else {
            proto_fail_t fail = { 0 };
            CHECK (cmd == PROTO_FAIL && proto_fail_decode (out.data, out.size, &fail, derr) == 0,
                   "expected a FAIL, got cmd %d (%s)", cmd, derr);
            CHECK (strcmp (fail.error.code, "bad_task") == 0 && !fail.retryable && fail.attempt == 2
                   && strcmp (why.code, "bad_task") == 0,
                   "expected FAIL bad_task not retryable, got %s", fail.error.code);
            proto_fail_free (&fail);
        }
        msgpack_sbuffer_destroy (&out);
    }
    msgpack_sbuffer_destroy (&specbuf);
    gdFree (shot);
}

/* An uploaded background travels as the task's bg_blob: the spec names it by
   bg_sha256, the renderer draws it cover-fit under the frame; a task that
   came without it answers a retryable blob_missing. */
static void
test_background_blob (void)
{
    /* a 100x200 background: magenta over a teal bottom half */
    gdImagePtr bgim = gdImageCreateTrueColor (100, 200);
    gdImageFilledRectangle (bgim, 0, 0, 99, 99, gdTrueColor (0xE0, 0x20, 0xC0));
    gdImageFilledRectangle (bgim, 0, 100, 99, 199, gdTrueColor (0x10, 0x90, 0x90));
    int bg_len = 0;
    uint8_t *bg = gdImagePngPtr (bgim, &bg_len);
    gdImageDestroy (bgim);
    int shot_len = 0;
    uint8_t *shot = s_make_shot (200, 400, &shot_len);
    proto_slide_t spec = s_base_spec (shot, shot_len);
    spec.width = 400;
    spec.height = 800;
    util_sha256_hex (bg, (size_t) bg_len, spec.bg_sha256);
    msgpack_sbuffer specbuf, out;
    msgpack_sbuffer_init (&specbuf);
    CHECK (proto_slide_encode (&spec, &specbuf) == 0, "expected the slide to encode");
    proto_task_t task = { .task_id = "img_01JD0000000000000000000001", .attempt = 1,
                          .spec = specbuf.data, .spec_len = specbuf.size,
                          .bg_blob = bg, .bg_blob_len = (size_t) bg_len };
    memcpy (task.bg_blob_sha256, spec.bg_sha256, sizeof task.bg_blob_sha256);
    for (int round = 0; round < 2; round++) {
        msgpack_sbuffer_init (&out);
        int cmd = 0;
        render_error_t why;
        CHECK (render_task_run (&task, &s_opts, &cmd, &out, &why) == 0, "render_task_run: %s", why.message);
        char derr[PROTO_ERR_MAX] = "";
        if (round == 0) {
            proto_result_t res = { 0 };
            CHECK (cmd == PROTO_RESULT && proto_result_decode (out.data, out.size, &res, derr) == 0,
                   "expected a RESULT with the background, got cmd %d (%s) %s", cmd, derr, why.message);
            gdImagePtr im = res.len ? gdImageCreateFromPngPtr ((int) res.len, res.data) : NULL;
            CHECK (im != NULL, "expected the RESULT to decode");
            if (im) {
                /* cover-fit: 100x200 scaled x4 over 400x800, its halves at the top and bottom */
                int top = gdImageGetTrueColorPixel (im, 3, 3);
                int bottom = gdImageGetTrueColorPixel (im, 3, 796);
                CHECK (s_near (top, 0xE020C0, 6), "expected the magenta background at the top, got #%06X", top);
                CHECK (s_near (bottom, 0x109090, 6), "expected the teal background at the bottom, got #%06X", bottom);
                gdImageDestroy (im);
            }
            proto_result_free (&res);
            task.bg_blob_sha256[0] = '\0';      /* the scheduler could not read it */
            task.bg_blob = NULL;
            task.bg_blob_len = 0;
        }
        else {
            proto_fail_t fail = { 0 };
            CHECK (cmd == PROTO_FAIL && proto_fail_decode (out.data, out.size, &fail, derr) == 0
                   && strcmp (fail.error.code, "blob_missing") == 0 && fail.retryable,
                   "expected a retryable FAIL blob_missing without the background, got %s", fail.error.code);
            proto_fail_free (&fail);
        }
        msgpack_sbuffer_destroy (&out);
    }
    msgpack_sbuffer_destroy (&specbuf);
    gdFree (shot);
    gdFree (bg);
}

static double
s_ms (struct timespec a, struct timespec b)
{
    return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

/* Not an assertion: prints how long a store-size slide takes (for the record). */
static void
test_timing (void)
{
    int shot_len = 0;
    uint8_t *shot = s_make_shot (1179, 2556, &shot_len);
    proto_slide_t spec = s_base_spec (shot, shot_len);
    render_error_t err;
    struct timespec t0, t1, t2;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    gdImagePtr im = slide_render_draw (&spec, &s_opts, NULL, &err);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    uint8_t *png = NULL;
    size_t len = 0;
    CHECK (slide_render (&spec, &s_opts, &png, &len, &err) == 0, "timing render failed: %s", err.message);
    clock_gettime (CLOCK_MONOTONIC, &t2);
    printf ("timing: 1320x2868 slide with a 1179x2556 screenshot: draw %.1f ms, draw+encode %.1f ms, %zu bytes\n",
            s_ms (t0, t1), s_ms (t1, t2), len);
    if (im)
        gdImageDestroy (im);
    free (png);
    gdFree (shot);
}

int
main (void)
{
    const char *font = getenv ("EASEL_FONT");
    s_opts.font_path = font && *font ? font : "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    gdFontCacheSetup ();
    test_full_slide ();
    test_custom_canvas ();
    test_bad_inputs ();
    test_background_blob ();
    test_timing ();
    gdFontCacheShutdown ();
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("renderer_draw: all checks passed\n");
    return 0;
}
