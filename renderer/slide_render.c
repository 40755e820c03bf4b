/*  slide_render.c: background, text, screenshot in its frame, encode, lint.
    See slide_render.h. Every failure becomes a render_error_t here, so the
    task layer only copies it into a FAIL. */
#include "slide_render.h"
#include "background.h"
#include "device_frame.h"
#include "encode.h"
#include "fetch.h"
#include "image_source.h"
#include "par.h"
#include "presets.h"
#include "resample.h"
#include "text_layout.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* True (with err set) when the task was told to stop. */
static bool
s_canceled (const slide_render_opts_t *opts, render_error_t *err)
{
    if (!opts->cancel || !atomic_load (opts->cancel))
        return false;
    s_error (err, "canceled", false, NULL, "the render was canceled");
    return true;
}

/* Loads image bytes (fetched or inline), checks the size from the header
   before decoding, decodes. `param` names the field in errors. */
static gdImagePtr
s_load_image (const char *what, const char *url, const uint8_t *inline_data, size_t inline_len,
              const char *param, const slide_render_opts_t *opts, render_error_t *err)
{
    char c_large[PROTO_SHORT_MAX], c_fetch[PROTO_SHORT_MAX], c_invalid[PROTO_SHORT_MAX];
    snprintf (c_large, sizeof c_large, "%s_too_large", what);
    snprintf (c_fetch, sizeof c_fetch, "%s_fetch_failed", what);
    snprintf (c_invalid, sizeof c_invalid, "%s_invalid", what);
    bool by_url = url != NULL;
    size_t max_bytes = opts->max_source_bytes ? opts->max_source_bytes : EASEL_MAX_SOURCE_BYTES;
    uint64_t max_pixels = opts->max_source_pixels ? opts->max_source_pixels : EASEL_MAX_SOURCE_PIXELS;

    fetch_result_t got = { 0 };
    const uint8_t *data = inline_data;
    size_t len = inline_len;
    if (by_url) {
        fetch_opts_t fo = { .allow_private = opts->allow_private, .allow = opts->allow, .max_bytes = max_bytes,
                            .cancel = opts->cancel };
        if (fetch_cache_get (opts->fetch_cache, opts->render_id, url, &fo, &got) != 0) {
            switch (got.status) {
                case FETCH_CANCELED:
                    s_error (err, "canceled", false, NULL, "the render was canceled while"
                             " fetching %s", param);
                    break;
                case FETCH_NOT_ALLOWED:
                    s_error (err, "url_not_allowed", false, param,
                             "%s resolves to %s, a private address; private networks are not allowed",
                             param, got.address);
                    break;
                case FETCH_TOO_LARGE:
                    s_error (err, c_large, false, param,
                             "%s is larger than %zu bytes", param, max_bytes);
                    break;
                case FETCH_HTTP_STATUS:
                    s_error (err, c_fetch, fetch_transient (&got), param, "%s answered HTTP %ld",
                             param, got.http_status);
                    break;
                case FETCH_TIMEOUT:
                case FETCH_NETWORK:
                    s_error (err, c_fetch, fetch_transient (&got), param,
                             "%s could not be fetched: %s", param, got.message);
                    break;
                default:            /* redirect, bad URL: the input is at fault */
                    s_error (err, c_fetch, false, param, "%s %s", param, got.message);
            }
            fetch_result_free (&got);
            return NULL;
        }
        data = got.data;
        len = got.len;
    }
    else
    if (len > max_bytes) {
        s_error (err, c_large, false, param, "%s is larger than %zu bytes", param, max_bytes);
        return NULL;
    }
    image_source_kind_t kind;
    uint32_t w, h;
    gdImagePtr shot = NULL;
    if (image_source_probe (data, len, &kind, &w, &h) != 0)
        s_error (err, c_invalid, false, param, "%s is not a PNG, JPEG or WebP image", param);
    else
    if ((uint64_t) w * h > max_pixels)
        s_error (err, c_large, false, param,
                 "%s is %ux%u pixels, over the limit of %llu", param, w, h,
                 (unsigned long long) max_pixels);
    else
    if (!(shot = image_source_decode (data, len, kind)))
        s_error (err, c_invalid, false, param,
                 "%s is not a PNG, JPEG or WebP image (it does not decode)", param);
    fetch_result_free (&got);
    return shot;
}

/* "" (the default) or one of a, b. */
static bool
s_one_of (const char *v, const char *a, const char *b)
{
    return !v[0] || strcmp (v, a) == 0 || strcmp (v, b) == 0;
}

/* The frame a spec draws: its device, else its preset's default. */
static const device_frame_t *
s_frame_of (const proto_slide_t *spec)
{
    return device_frame_find (spec->device[0] ? spec->device
                                              : presets_default_device (presets_find (spec->preset)));
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
    if (spec->nlines < 0 || spec->nlines > EASEL_MAX_HEADLINE_LINES
    ||  spec->nsub < 0 || spec->nsub > EASEL_MAX_HEADLINE_LINES)
        s_error (err, "bad_task", false, NULL, "headline has %d lines, expected 0..%d",
                 spec->nlines, EASEL_MAX_HEADLINE_LINES);
    else
    if (!s_frame_of (spec))
        s_error (err, "bad_task", false, NULL, "unknown device \"%s\"", spec->device);
    else
    if (spec->format[0] && strcmp (spec->format, "png") && strcmp (spec->format, "jpeg")
    &&  strcmp (spec->format, "webp"))
        s_error (err, "bad_task", false, NULL, "unknown format \"%s\"", spec->format);
    else
    if (!s_one_of (spec->text_position, "top", "bottom") || !s_one_of (spec->fit, "contain", "cover")
    ||  (!s_one_of (spec->finish, "black", "silver") && strcmp (spec->finish, "auto") != 0)
    ||  !s_one_of (spec->store, "appstore", "play"))
        s_error (err, "bad_task", false, NULL, "unknown layout value (text_position \"%s\", fit \"%s\", "
                 "finish \"%s\", store \"%s\")", spec->text_position, spec->fit, spec->finish, spec->store);
    else
        return 0;
    return -1;
}

/* Cover-scales a background image over the whole canvas. */
static int
s_paint_bg_image (gdImagePtr im, gdImagePtr bg)
{
    int w = gdImageSX (im), h = gdImageSY (im);
    double k = fmax (w / (double) gdImageSX (bg), h / (double) gdImageSY (bg));
    double dtw = ceil (gdImageSX (bg) * k), dth = ceil (gdImageSY (bg) * k);
    if (dtw > RESAMPLE_MAX_SIDE_PX || dth > RESAMPLE_MAX_SIDE_PX)
        return -1;                      /* a sliver of an image: not scalable to cover */
    int tw = (int) dtw, th = (int) dth;
    /* resampled row by row into the canvas, only the rows that show */
    return device_frame_paint_scaled (im, 0, 0, w, h, 0, bg, tw, th, -(tw - w) / 2, -(th - h) / 2);
}

/* Luminance range over a grid of the screen rectangle: nearly one colour? */
static bool
s_screen_blank (gdImagePtr im, const device_frame_info_t *fi)
{
    if (fi->screen_w < 4 || fi->screen_h < 4)
        return false;
    double lo = 2, hi = -1;
    int x0 = fi->screen_x + fi->screen_w / 10, x1 = fi->screen_x + fi->screen_w * 9 / 10;
    int y0 = fi->screen_y + fi->screen_h / 10, y1 = fi->screen_y + fi->screen_h * 9 / 10;
    int stepx = (x1 - x0) / 48 + 1, stepy = (y1 - y0) / 96 + 1;
    for (int y = y0; y < y1; y += stepy)
        for (int x = x0; x < x1; x += stepx) {
            if (x < 0 || y < 0 || x >= gdImageSX (im) || y >= gdImageSY (im))
                continue;
            double l = text_layout_luminance ((uint32_t) im->tpixels[y][x] & 0xFFFFFF);
            lo = fmin (lo, l);
            hi = fmax (hi, l);
        }
    return hi >= 0 && hi - lo < 0.02;
}

/* The two independent first steps of a slide with a screenshot: part 0
   fetches and decodes it (err set on failure), part 1 makes the canvas
   and paints its background (im NULL when it cannot be allocated). */
typedef struct {
    const proto_slide_t       *spec;
    const slide_render_opts_t *opts;
    render_error_t            *err;
    const char                *param;
    gdImagePtr                 shot, im;
    bool                       im_tried;
} s_prep_t;

static void
s_prep_part (void *arg, int part)
{
    s_prep_t *p = arg;
    const proto_slide_t *spec = p->spec;
    if (part == 0) {
        p->shot = s_load_image ("screenshot", spec->shot_url, spec->shot_data, spec->shot_len,
                                p->param, p->opts, p->err);
        return;
    }
    if (p->im_tried)
        return;
    p->im_tried = true;
    p->im = gdImageCreateTrueColor (spec->width, spec->height);
    if (p->im)
        background_paint (p->im, spec->bg_colors, spec->bg_ncolors, spec->bg_angle);
}

/* Draws in this process now: the canvas is made beside the screenshot's
   decode only when no other is (both at once hold the decode's buffers and
   the canvas, ~10 MB more at 1320x2868; with other draws in flight the
   other cores are busy anyway). */
static atomic_int s_drawing;

static gdImagePtr s_draw (const proto_slide_t *spec, const slide_render_opts_t *opts,
                          lint_report_t *lint, render_error_t *err, bool alone);

gdImagePtr
slide_render_draw (const proto_slide_t *spec, const slide_render_opts_t *opts,
                   lint_report_t *lint, render_error_t *err)
{
    bool alone = atomic_fetch_add (&s_drawing, 1) == 0;
    gdImagePtr im = s_draw (spec, opts, lint, err, alone);
    atomic_fetch_sub (&s_drawing, 1);
    return im;
}

static gdImagePtr
s_draw (const proto_slide_t *spec, const slide_render_opts_t *opts,
        lint_report_t *lint, render_error_t *err, bool alone)
{
    memset (err, 0, sizeof *err);
    if (s_check_spec (spec, err) != 0 || s_canceled (opts, err))
        return NULL;
    char param[96];
    gdImagePtr shot = NULL, bg = NULL, im = NULL;
    int w = spec->width, h = spec->height;
    s_prep_t prep = { .spec = spec, .opts = opts, .err = err, .param = param };
    if (spec->shot_url || spec->shot_data) {
        snprintf (param, sizeof param, "slides[%d].screenshot.%s", spec->slide,
                  spec->shot_url ? "url" : "data");
        /* the screenshot's fetch and decode on this thread, the canvas
           made and painted on another at the same time (same pixels) when
           this is the only draw in flight */
        par_run (alone && par_threads () > 1 ? 2 : 1, s_prep_part, &prep);
        shot = prep.shot;
        if (!shot)
            goto failed_prep;
        if (s_canceled (opts, err))
            goto failed_prep;
    }
    if (spec->bg_image_url || spec->bg_data) {
        /* an uploaded background came with the task; a URL is fetched */
        bg = s_load_image ("background", spec->bg_image_url, spec->bg_data, spec->bg_len,
                           spec->bg_image_url ? "background.image.url" : "background.image.file_id",
                           opts, err);
        if (!bg || s_canceled (opts, err))
            goto failed_prep;
    }
    if (!prep.im)
        s_prep_part (&prep, 1);
    im = prep.im;
    if (!im) {
        s_error (err, "render_failed", true, NULL, "cannot allocate a %dx%d canvas", w, h);
        goto failed;
    }
    if (bg && s_paint_bg_image (im, bg) != 0) {
        s_error (err, "render_failed", true, NULL, "cannot scale the background image");
        goto failed;
    }
    if (s_canceled (opts, err))
        goto failed;

    /* text blocks: fit first, draw after the frame (the contrast is measured
       against what ends up behind the glyphs) */
    lint_facts_t facts;
    memset (&facts, 0, sizeof facts);
    int pad = (int) lround (w * (spec->padding_pm >= 0 ? spec->padding_pm : 80) / 1000.0);
    bool landscape = w > h;
    double size_max = spec->font_size_max > 0 ? spec->font_size_max
                    : landscape ? h * 0.07 : w * 0.07;
    double size_min = spec->font_size_min > 0 ? spec->font_size_min : size_max * 0.4;
    int weight = spec->font_weight > 0 ? spec->font_weight : 700;
    char why[256] = "";
    text_block_t head = { .lines = spec->lines, .nlines = spec->nlines, .rgb = spec->text_color,
                          .weight = weight, .size_max = size_max, .size_min = size_min,
                          .locale = spec->locale, .fallback_font = opts->font_path,
                          .max_width = w - 2 * pad, .max_height = (int) lround (h * 0.20) };
    text_block_t sub = head;
    sub.lines = spec->sub;
    sub.nlines = spec->nsub;
    sub.rgb = spec->nsub ? spec->sub_color : 0;
    sub.weight = 400;
    sub.max_height = (int) lround (h * 0.10);
    facts.has_headline = spec->nlines > 0;
    facts.has_subtitle = spec->nsub > 0;
    facts.headline_bold = weight >= 600;
    if (text_layout_fit (&head, &facts.headline, why, sizeof why) != 0)
        goto text_failed;
    if (facts.has_subtitle) {
        sub.size_max = facts.has_headline ? facts.headline.size * 0.55 : size_max * 0.55;
        sub.size_min = fmin (sub.size_max, size_min * 0.55);
        if (text_layout_fit (&sub, &facts.subtitle, why, sizeof why) != 0)
            goto text_failed;
    }
    int gap = facts.has_headline && facts.has_subtitle ? (int) lround (facts.headline.size * 0.3) : 0;
    int text_h = facts.headline.height + gap + facts.subtitle.height;
    int margin = (int) lround (h * 0.05);
    bool bottom = strcmp (spec->text_position, "bottom") == 0;
    int text_top = bottom ? h - margin - text_h : margin;
    int box_y, box_h;
    if (text_h == 0)
        box_y = (int) lround (h * 0.04), box_h = h - 2 * box_y;
    else
    if (bottom)
        box_y = (int) lround (h * 0.04), box_h = text_top - (int) lround (h * 0.035) - box_y;
    else
        box_y = text_top + text_h + (int) lround (h * 0.035), box_h = h - (int) lround (h * 0.04) - box_y;

    const device_frame_t *frame = s_frame_of (spec);
    bool frameless = strcmp (frame->name, "none") == 0 || strcmp (frame->name, "browser-macos") == 0;
    if ((shot || !frameless) && box_h > 0) {
        if (device_frame_draw (im, frame, shot, pad, box_y, w - 2 * pad, box_h, spec->finish,
                               strcmp (spec->fit, "cover") == 0, &facts.frame) != 0) {
            s_error (err, "render_failed", true, NULL, "cannot draw the device frame");
            goto failed;
        }
        facts.frame_platform = frame->platform;
        facts.frame_def = frame;
        facts.screen_blank = s_screen_blank (im, &facts.frame);
        facts.frame_contrast = facts.frame.has_edge ? device_frame_edge_contrast (im, &facts.frame) : 0;
        if (s_canceled (opts, err))
            goto failed;
    }
    if (facts.has_headline
    &&  text_layout_draw (im, &head, &facts.headline, w / 2, text_top, why, sizeof why) != 0)
        goto text_failed;
    if (facts.has_subtitle
    &&  text_layout_draw (im, &sub, &facts.subtitle, w / 2, text_top + facts.headline.height + gap,
                          why, sizeof why) != 0)
        goto text_failed;
    if (s_canceled (opts, err))
        goto failed;
    if (lint)
        lint_drawing (spec, &facts, lint);
    if (shot)
        gdImageDestroy (shot);
    if (bg)
        gdImageDestroy (bg);
    return im;
text_failed:
    s_error (err, "render_failed", true, NULL, "text: %s", why);
    goto failed;
failed_prep:
    im = prep.im;
failed:
    if (shot)
        gdImageDestroy (shot);
    if (bg)
        gdImageDestroy (bg);
    if (im)
        gdImageDestroy (im);
    return NULL;
}

int
slide_render_lint (const proto_slide_t *spec, const slide_render_opts_t *opts,
                   uint8_t **out, size_t *out_len, lint_report_t *lint, render_error_t *err)
{
    *out = NULL;
    *out_len = 0;
    if (lint)
        memset (lint, 0, sizeof *lint);
    gdImagePtr im = slide_render_draw (spec, opts, lint, err);
    if (!im)
        return -1;
    if (s_canceled (opts, err)) {        /* the last point before the costly encode */
        gdImageDestroy (im);
        return -1;
    }
    if (lint)
        encode_thumb (im, lint->thumb);
    char why[128];
    const char *format = spec->format[0] ? spec->format : "png";
    /* the RESULT must fit one bus message, with room for its envelope and findings */
    int rc = encode_image (im, format, EASEL_MAX_MSG_BYTES - 4096 - EASEL_MAX_FINDINGS_BYTES,
                           out, out_len, why, sizeof why);
    gdImageDestroy (im);
    if (rc != 0)
        s_error (err, "render_failed", false, NULL, "%s encoding: %s", format, why);
    else
    if (lint)
        lint_output (spec, format, *out, *out_len, lint);
    return rc;
}

int
slide_render (const proto_slide_t *spec, const slide_render_opts_t *opts,
              uint8_t **png, size_t *png_len, render_error_t *err)
{
    return slide_render_lint (spec, opts, png, png_len, NULL, err);
}
