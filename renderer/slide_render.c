/*  slide_render.c: background, headline, screenshot in its frame, encode.
    See slide_render.h. Every failure becomes a render_error_t here, so the
    task layer only copies it into a FAIL. */
#include "slide_render.h"
#include "device_frame.h"
#include "encode.h"
#include "fetch.h"
#include "image_source.h"
#include "text_layout.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_GRADIENT_STEPS 4096          /* colour lookup table resolution */

static void
s_error (render_error_t *err, const char *code, bool retryable, const char *param,
         const char *fmt, ...)
{
    snprintf (err->code, sizeof err->code, "%s", code);
    snprintf (err->param, sizeof err->param, "%s", param ? param : "");
    err->retryable = retryable;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, ap);
    va_end (ap);
}

/* Colour at t in [0,1] across evenly spaced stops. */
static int
s_stop_color (const proto_slide_t *spec, double t)
{
    int n = spec->bg_ncolors;
    double pos = t * (n - 1);
    int i = (int) floor (pos);
    if (i >= n - 1)
        i = n - 2;
    double f = pos - i;
    uint32_t a = spec->bg_colors[i], b = spec->bg_colors[i + 1];
    int ch[3];
    for (int k = 0; k < 3; k++) {
        int shift = 16 - 8 * k;
        double va = (a >> shift) & 0xFF, vb = (b >> shift) & 0xFF;
        ch[k] = (int) lround (va + (vb - va) * f);
    }
    return gdTrueColor (ch[0], ch[1], ch[2]);
}

/* CSS linear-gradient geometry: angle 180 runs top to bottom, 90 left to
   right; t is linear in x and y, so it is computed incrementally per row. */
static void
s_paint_background (gdImagePtr im, const proto_slide_t *spec)
{
    int w = gdImageSX (im), h = gdImageSY (im);
    if (spec->bg_ncolors == 1) {
        int c = (int) (spec->bg_colors[0] & 0xFFFFFF);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                im->tpixels[y][x] = c;
        return;
    }
    static const double pi = 3.14159265358979323846;
    double rad = spec->bg_angle * pi / 180.0;
    double dx = sin (rad), dy = -cos (rad);
    double len = fabs (w * dx) + fabs (h * dy);
    int lut[S_GRADIENT_STEPS];
    for (int i = 0; i < S_GRADIENT_STEPS; i++)
        lut[i] = s_stop_color (spec, i / (double) (S_GRADIENT_STEPS - 1));
    double ax = dx / len, ay = dy / len;
    double c0 = 0.5 - (w / 2.0) * ax - (h / 2.0) * ay;
    for (int y = 0; y < h; y++) {
        int *row = im->tpixels[y];
        double t = c0 + (y + 0.5) * ay + 0.5 * ax;
        for (int x = 0; x < w; x++, t += ax) {
            int i = (int) lround (t * (S_GRADIENT_STEPS - 1));
            row[x] = lut[i < 0 ? 0 : i >= S_GRADIENT_STEPS ? S_GRADIENT_STEPS - 1 : i];
        }
    }
}

/* Loads the screenshot bytes (fetched or inline), checks size, decodes. */
static gdImagePtr
s_load_shot (const proto_slide_t *spec, const slide_render_opts_t *opts, render_error_t *err)
{
    char param[96];
    bool by_url = spec->shot_url != NULL;
    snprintf (param, sizeof param, "slides[%d].screenshot.%s", spec->slide, by_url ? "url" : "data");
    size_t max_bytes = opts->max_source_bytes ? opts->max_source_bytes : EASEL_MAX_SOURCE_BYTES;
    uint64_t max_pixels = opts->max_source_pixels ? opts->max_source_pixels : EASEL_MAX_SOURCE_PIXELS;

    fetch_result_t got = { 0 };
    const uint8_t *data = spec->shot_data;
    size_t len = spec->shot_len;
    if (by_url) {
        fetch_opts_t fo = { .allow_private = opts->allow_private, .max_bytes = max_bytes };
        if (fetch_url (spec->shot_url, &fo, &got) != 0) {
            switch (got.status) {
                case FETCH_NOT_ALLOWED:
                    s_error (err, "url_not_allowed", false, param,
                             "%s resolves to %s, a private address; private networks are not allowed",
                             param, got.address);
                    break;
                case FETCH_TOO_LARGE:
                    s_error (err, "screenshot_too_large", false, param,
                             "%s is larger than %zu bytes", param, max_bytes);
                    break;
                case FETCH_HTTP_STATUS:
                    s_error (err, "screenshot_fetch_failed",
                             got.http_status >= 500 || got.http_status == 408 || got.http_status == 429,
                             param, "%s answered HTTP %ld", param, got.http_status);
                    break;
                case FETCH_TIMEOUT:
                case FETCH_NETWORK:
                    s_error (err, "screenshot_fetch_failed", true, param,
                             "%s could not be fetched: %s", param, got.message);
                    break;
                default:            /* redirect, bad URL: the input is at fault */
                    s_error (err, "screenshot_fetch_failed", false, param, "%s %s", param, got.message);
            }
            fetch_result_free (&got);
            return NULL;
        }
        data = got.data;
        len = got.len;
    }
    else
    if (len > max_bytes) {
        s_error (err, "screenshot_too_large", false, param, "%s is larger than %zu bytes", param, max_bytes);
        return NULL;
    }
    image_source_kind_t kind;
    uint32_t w, h;
    gdImagePtr shot = NULL;
    if (image_source_probe (data, len, &kind, &w, &h) != 0)
        s_error (err, "screenshot_invalid", false, param, "%s is not a PNG, JPEG or WebP image", param);
    else
    if ((uint64_t) w * h > max_pixels)
        s_error (err, "screenshot_too_large", false, param,
                 "%s is %ux%u pixels, over the limit of %llu", param, w, h,
                 (unsigned long long) max_pixels);
    else
    if (!(shot = image_source_decode (data, len, kind)))
        s_error (err, "screenshot_invalid", false, param,
                 "%s is not a PNG, JPEG or WebP image (it does not decode)", param);
    fetch_result_free (&got);
    return shot;
}

static int
s_check_spec (const proto_slide_t *spec, render_error_t *err)
{
    if (spec->width < EASEL_MIN_CANVAS_SIDE_PX || spec->width > EASEL_MAX_CANVAS_SIDE_PX
    ||  spec->height < EASEL_MIN_CANVAS_SIDE_PX || spec->height > EASEL_MAX_CANVAS_SIDE_PX)
        s_error (err, "bad_task", false, NULL, "canvas %dx%d is outside %d..%d pixels a side",
                 spec->width, spec->height, EASEL_MIN_CANVAS_SIDE_PX, EASEL_MAX_CANVAS_SIDE_PX);
    else
    if (spec->bg_ncolors < 1 || spec->bg_ncolors > PROTO_MAX_STOPS)
        s_error (err, "bad_task", false, NULL, "background has %d colours, expected 1..%d",
                 spec->bg_ncolors, PROTO_MAX_STOPS);
    else
    if (spec->nlines < 0 || spec->nlines > EASEL_MAX_HEADLINE_LINES)
        s_error (err, "bad_task", false, NULL, "headline has %d lines, expected 0..%d",
                 spec->nlines, EASEL_MAX_HEADLINE_LINES);
    else
    if (!device_frame_find (spec->device[0] ? spec->device : "iphone"))
        s_error (err, "bad_task", false, NULL, "unknown device \"%s\"", spec->device);
    else
        return 0;
    return -1;
}

gdImagePtr
slide_render_draw (const proto_slide_t *spec, const slide_render_opts_t *opts, render_error_t *err)
{
    memset (err, 0, sizeof *err);
    if (s_check_spec (spec, err) != 0)
        return NULL;
    gdImagePtr shot = NULL;
    if (spec->shot_url || spec->shot_data) {
        shot = s_load_shot (spec, opts, err);
        if (!shot)
            return NULL;
    }
    int w = spec->width, h = spec->height;
    gdImagePtr im = gdImageCreateTrueColor (w, h);
    if (!im) {
        if (shot)
            gdImageDestroy (shot);
        s_error (err, "render_failed", true, NULL, "cannot allocate a %dx%d canvas", w, h);
        return NULL;
    }
    s_paint_background (im, spec);

    int pad = (int) lround (w * 0.08);
    int top = (int) lround (h * 0.05), bottom = top;
    char why[256];
    if (text_layout_draw (im, opts->font_path, spec->lines, spec->nlines, spec->text_color,
                          top, w - 2 * pad, w * 0.055, &bottom, why, sizeof why) != 0) {
        s_error (err, "render_failed", true, NULL, "headline: %s", why);
        goto failed;
    }
    const device_frame_t *frame = device_frame_find (spec->device[0] ? spec->device : "iphone");
    int box_y = bottom + (int) lround (h * 0.04);
    int box_h = h - (int) lround (h * 0.04) - box_y;
    if ((shot || frame->rim > 0) && box_h > 0
    &&  device_frame_draw (im, frame, shot, pad, box_y, w - 2 * pad, box_h) != 0) {
        s_error (err, "render_failed", true, NULL, "cannot draw the device frame");
        goto failed;
    }
    if (shot)
        gdImageDestroy (shot);
    return im;
failed:
    if (shot)
        gdImageDestroy (shot);
    gdImageDestroy (im);
    return NULL;
}

int
slide_render (const proto_slide_t *spec, const slide_render_opts_t *opts,
              uint8_t **png, size_t *png_len, render_error_t *err)
{
    *png = NULL;
    *png_len = 0;
    gdImagePtr im = slide_render_draw (spec, opts, err);
    if (!im)
        return -1;
    char why[128];
    /* the RESULT must fit one bus message, with room for its envelope */
    int rc = encode_png (im, EASEL_MAX_MSG_BYTES - 4096, png, png_len, why, sizeof why);
    gdImageDestroy (im);
    if (rc != 0)
        s_error (err, "render_failed", false, NULL, "PNG encoding: %s", why);
    return rc;
}
