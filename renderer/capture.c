/*  capture.c: the capture task: probe, browser shot, framing (see capture.h).

    Thread: the calling worker thread owns everything here for one task:
    the probe (renderer/fetch.c), the page's browser (capture_page.h), the
    framed image. Memory: every buffer is capped (EASEL_MAX_SOURCE_BYTES for
    an image URL, the canvas at EASEL_MAX_CANVAS_SIDE_PX). */

#include "capture.h"
#include "background.h"
#include "capture_page.h"
#include "capture_spec.h"
#include "cdp.h"
#include "device_frame.h"
#include "encode.h"
#include "fetch.h"
#include "image_source.h"
#include "log.h"
#include "presets.h"
#include "resample.h"
#include "text_layout.h"
#include "util.h"
#include "web_url.h"

#include <jansson.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define S_PROBE_MAX_BYTES  EASEL_MAX_SOURCE_BYTES
#define S_MARGIN_PM        60                   /* background margin, per mille of the frame width */

/* ---- errors ---------------------------------------------------------------- */

int
capture_error (render_error_t *why, const char *code, bool retryable, const char *fmt, const char *arg)
{
    snprintf (why->code, sizeof why->code, "%s", code);
    snprintf (why->message, sizeof why->message, fmt, arg ? arg : "");
    snprintf (why->param, sizeof why->param, "url");
    why->retryable = retryable;
    return -1;
}

/* ---- probe: is it an image, and which address does the host have --------- */

/* fetch_url with the task's headers and navigation timeout, stopping at the
   first byte unless the answer may be an image: 0 with *page set, or got
   holding the image bytes, and got->ip the address the host resolved to
   (checked against the private-network rule); -1 with why. */
static int
s_probe (const capture_spec_t *spec, const char *url, const capture_opts_t *opts, fetch_result_t *got,
         bool *page, render_error_t *why)
{
    fetch_opts_t fo = { .allow_private = opts->allow_private, .allow = opts->allow,
                        .max_bytes = S_PROBE_MAX_BYTES,
                        .timeout_ms = (long) opts->nav_timeout_ms, .images_only = true,
                        .nheaders = spec->nheaders, .header_names = spec->header_names,
                        .header_values = spec->header_values };
    char text [64];
    *page = false;
    if (fetch_url (url, &fo, got) == 0)
        return 0;
    snprintf (text, sizeof text, "%ld", got->http_status);
    switch (got->status) {
        case FETCH_NOT_IMAGE:
        case FETCH_REDIRECT:            /* the browser follows it, each hop through egress */
            *page = true;               /* a page: the browser loads it */
            return 0;
        case FETCH_NOT_ALLOWED:
            return capture_error (why, "url_not_allowed", false, "url resolves to %s, a private address",
                          got->address);
        case FETCH_TIMEOUT:
            return capture_error (why, "navigation_timeout", fetch_transient (got), "navigation timeout%s", "");
        case FETCH_HTTP_STATUS:
            return capture_error (why, "capture_failed", fetch_transient (got), "the page answered HTTP %s", text);
        case FETCH_TOO_LARGE:
            snprintf (text, sizeof text, "%zu", (size_t) S_PROBE_MAX_BYTES);
            return capture_error (why, "capture_failed", false, "url is an image larger than %s bytes", text);
        default:
            return capture_error (why, "capture_failed", fetch_transient (got), "navigation failed: %s", got->message);
    }
}

/* ---- framing ----------------------------------------------------------------- */

/* Frame size in px for a shot drawn 1:1 in the screen. */
static void
s_frame_size (const device_frame_t *f, int sw, int sh, int *fw, int *fh)
{
    bool rotate = f->rotates && sw > sh;
    int frame_w = rotate ? f->frame_h : f->frame_w, frame_h = rotate ? f->frame_w : f->frame_h;
    int screen_w = rotate ? f->screen_h : f->screen_w;
    double k = (double) sw / (screen_w > 0 ? screen_w : 1000);
    *fw = (int) lround (frame_w * k);
    if (f->frame_h == 0)           /* height from the shot: toolbar + shot */
        *fh = (int) lround (f->screen_y * k) + sh;
    else
        *fh = (int) lround (frame_h * k);
}

/* The page's host in a browser frame's address bar (220..780 x 17..53 frame
   units), laid out and drawn as slide text is (text_layout.h): shaped, any
   script, shrunk to fit the field. */
static int
s_address_bar (gdImagePtr canvas, const device_frame_info_t *info, const char *host,
               const capture_opts_t *opts, char *err, size_t errsz)
{
    double s = info->frame_w / 1000.0;
    char *lines [1] = { (char *) host };
    text_block_t b = { .lines = lines, .nlines = 1, .weight = 400,
                       .rgb = info->silver ? 0x3C3C43 : 0xDDDDE0,   /* on the white field, or dark */
                       .size_max = 15 * s, .size_min = 9 * s, .locale = "",
                       .fallback_font = opts->font_path, .max_width = (int) (560 * s),
                       .max_height = (int) (36 * s) };
    text_result_t r;
    memset (&r, 0, sizeof r);
    if (text_layout_fit (&b, &r, err, errsz))
        return -1;
    int top = info->frame_y + (int) (35 * s) - r.height / 2;
    return text_layout_draw (canvas, &b, &r, info->frame_x + (int) (500 * s), top, err, errsz);
}

/* Frames png into the requested device and background, encodes in format. */
/* shot with pad_top rows above and pad_bottom below, each a copy of its
   edge row (a page's header colour runs on under the status bar); NULL
   when out of memory. */
static gdImagePtr
s_pad_rows (gdImagePtr shot, int pad_top, int pad_bottom)
{
    int w = gdImageSX (shot), h = gdImageSY (shot);
    gdImagePtr im = gdImageCreateTrueColor (w, h + pad_top + pad_bottom);
    if (!im)
        return NULL;
    for (int y = 0; y < h + pad_top + pad_bottom; y++) {
        int sy = y < pad_top ? 0 : y >= pad_top + h ? h - 1 : y - pad_top;
        memcpy (im->tpixels[y], shot->tpixels[sy], (size_t) w * sizeof (int));
    }
    return im;
}

static int
s_frame (const capture_spec_t *spec, const capture_opts_t *opts, const uint8_t *data, size_t len,
         const char *host, int pad_top, int pad_bottom, uint8_t **out, size_t *out_len,
         int *width, int *height, render_error_t *why)
{
    image_source_kind_t kind;
    uint32_t w0, h0;
    if (image_source_probe (data, len, &kind, &w0, &h0) != 0)
        return capture_error (why, "capture_failed", false, "url is not a PNG, JPEG or WebP image%s", "");
    if ((uint64_t) w0 * h0 > EASEL_MAX_SOURCE_PIXELS)
        return capture_error (why, "capture_failed", false, "the image is over %s pixels", "40 million");
    gdImagePtr shot = image_source_decode (data, len, kind);
    if (!shot)
        return capture_error (why, "capture_failed", false, "the image does not decode%s", "");
    if (!gdImageTrueColor (shot))
        gdImagePaletteToTrueColor (shot);
    if (pad_top > 0 || pad_bottom > 0) {
        gdImagePtr padded = s_pad_rows (shot, pad_top, pad_bottom);
        gdImageDestroy (shot);
        if (!padded)
            return capture_error (why, "capture_failed", true, "out of memory%s", "");
        shot = padded;
    }
    const device_frame_t *f = device_frame_find (spec->device);
    const presets_background_t *bg = presets_background_find (spec->background);
    if (!f || !bg) {
        gdImageDestroy (shot);
        return capture_error (why, "bad_task", false, "unknown device or background%s", "");
    }
    int fw, fh;
    s_frame_size (f, gdImageSX (shot), gdImageSY (shot), &fw, &fh);
    int margin = (int) ((int64_t) fw * S_MARGIN_PM / 1000);
    int cw = fw + 2 * margin, ch = fh + 2 * margin;
    int longest = cw > ch ? cw : ch;
    if (longest > EASEL_MAX_CANVAS_SIDE_PX) {    /* too big: scale the shot down */
        double k = (double) EASEL_MAX_CANVAS_SIDE_PX / longest;
        int nw = (int) (gdImageSX (shot) * k), nh = (int) (gdImageSY (shot) * k);
        gdImagePtr small = resample_image (shot, nw > 0 ? nw : 1, nh > 0 ? nh : 1);
        gdImageDestroy (shot);
        if (!small)
            return capture_error (why, "capture_failed", true, "out of memory%s", "");
        shot = small;
        s_frame_size (f, gdImageSX (shot), gdImageSY (shot), &fw, &fh);
        margin = (int) ((int64_t) fw * S_MARGIN_PM / 1000);
        cw = fw + 2 * margin, ch = fh + 2 * margin;
        if (cw > EASEL_MAX_CANVAS_SIDE_PX) cw = EASEL_MAX_CANVAS_SIDE_PX;
        if (ch > EASEL_MAX_CANVAS_SIDE_PX) ch = EASEL_MAX_CANVAS_SIDE_PX;
    }
    gdImagePtr canvas = gdImageCreateTrueColor (cw, ch);
    if (!canvas) {
        gdImageDestroy (shot);
        return capture_error (why, "capture_failed", true, "out of memory%s", "");
    }
    gdImageAlphaBlending (canvas, 1);
    background_paint (canvas, bg->colors, bg->ncolors, bg->angle);
    device_frame_info_t info;
    memset (&info, 0, sizeof info);
    int rc = device_frame_draw (canvas, f, shot, margin, margin, fw, fh, "auto", false, &info);
    gdImageDestroy (shot);
    char err [256] = "";
    if (rc == 0 && f->feature == DEVICE_FEAT_BROWSER && host [0])
        rc = s_address_bar (canvas, &info, host, opts, err, sizeof err);
    if (rc == 0)
        rc = encode_image (canvas, spec->format, CAPTURE_RESULT_MAX_BYTES, out, out_len, err, sizeof err);
    *width = gdImageSX (canvas);
    *height = gdImageSY (canvas);
    gdImageDestroy (canvas);
    if (rc)
        return capture_error (why, "capture_failed", true, "cannot draw the frame: %s", err);
    return 0;
}

/* ---- the task ------------------------------------------------------------------ */

/* Starts the browser as opts says and asks it for its version over the
   DevTools pipe: 0 when it answers, and the browser is kept as the first
   capture slot's warm one (cdp_spare_keep). */
static int
s_browser_probe (const capture_opts_t *opts)
{
    render_error_t why;
    cdp_t *b = calloc (1, sizeof *b);
    if (!b)
        return -1;
    int rc = cdp_start (b, opts, CDP_WINDOW_W, CDP_WINDOW_H, &why);
    json_t *reply = NULL, *res = NULL;
    char err [256];
    if (rc == 0)
        rc = cdp_call (b, "Browser.getVersion", json_object (), false, util_mono_ms () + 20000,
                         &reply, &res, err, sizeof err);
    json_decref (reply);
    if (rc == 0 && !b->broken) {
        cdp_spare_keep (b);
        return 0;
    }
    cdp_stop (b);
    free (b);
    return -1;
}

int
capture_browser_setup (capture_opts_t *opts, const char *user, const char *sandbox,
                       char *err, size_t errsz)
{
    opts->drop_user = false;
    if (geteuid () == 0) {
        const char *name = user && *user ? user : "nobody";
        struct passwd *pw = getpwnam (name);
        if (!pw) {
            snprintf (err, errsz, "--browser-user: no such user: %s", name);
            return -1;
        }
        if (pw->pw_uid == 0) {
            snprintf (err, errsz, "--browser-user: the browser may not run as root (%s)", name);
            return -1;
        }
        opts->drop_user = true;
        opts->browser_uid = pw->pw_uid;
        opts->browser_gid = pw->pw_gid;
    }
    const char *mode = sandbox && *sandbox ? sandbox : "auto";
    if (strcmp (mode, "off") == 0) {
        opts->sandbox = false;
        return 0;
    }
    if (strcmp (mode, "on") != 0 && strcmp (mode, "auto") != 0) {
        snprintf (err, errsz, "--browser-sandbox is on, off or auto, not %s", mode);
        return -1;
    }
    opts->sandbox = true;
    if (!opts->chromium || s_browser_probe (opts) == 0)
        return 0;
    if (strcmp (mode, "on") == 0) {
        snprintf (err, errsz, "--browser-sandbox on: the browser does not start with its sandbox here");
        return -1;
    }
    opts->sandbox = false;         /* auto: the caller logs that it is off */
    return 0;
}

const char *
capture_find_chromium (void)
{
    const char *env = getenv ("EASEL_CHROMIUM");
    if (env && *env)
        return access (env, X_OK) == 0 ? env : NULL;
    static const char *paths [] = { "/usr/bin/chromium", "/usr/bin/chromium-browser" };
    for (size_t i = 0; i < sizeof paths / sizeof paths [0]; i++)
        if (access (paths [i], X_OK) == 0)
            return paths [i];
    return NULL;
}

static int
s_run (const capture_spec_t *spec, const capture_opts_t *opts, proto_result_t *res,
       render_error_t *why)
{
    web_url_t url;                 /* the gateway checked it; parsed again, by the same rules */
    char uerr [WEB_URL_ERR_MAX];
    if (web_url_parse (spec->url, &url, uerr) != 0)
        return capture_error (why, "bad_task", false, "url %s", uerr);
    char host [256];
    capture_spec_host (url.canonical, host, sizeof host);
    fetch_result_t probe;
    bool page = false;
    uint8_t *png = NULL;
    size_t png_len = 0;
    bool truncated = false;
    int64_t t0 = util_mono_ms ();
    int rc = s_probe (spec, url.canonical, opts, &probe, &page, why);
    int64_t t_probe = util_mono_ms (), t_page = t_probe;
    bool pdf = strcmp (spec->format, "pdf") == 0;
    if (rc == 0 && pdf)
        page = true;               /* an image URL is printed as the browser shows it */
    if (rc == 0 && !page) {
        image_source_kind_t kind;
        uint32_t w, h;
        if (image_source_probe (probe.data, probe.len, &kind, &w, &h) != 0) {
            if (strncasecmp (probe.content_type, "image/", 6) == 0)
                rc = capture_error (why, "capture_failed", false, "url is not a PNG, JPEG or WebP image%s", "");
            else
                page = true;        /* bytes of no image type: let the browser show them */
        }
    }
    if (rc == 0 && page) {
        if (!opts->chromium)
            rc = capture_error (why, "capture_failed", true, "this renderer has no browser%s", "");
        else
            rc = capture_page_shot (spec, url.canonical, opts, NULL, &png, &png_len, &truncated, why);
        t_page = util_mono_ms ();
    }
    if (rc == 0 && pdf) {          /* not framed; its size is the paper's in CSS px; no findings */
        const capture_pdf_t *o = &spec->pdf;
        res->data = png, res->len = png_len, png = NULL;
        res->width = (int32_t) lround ((o->landscape ? o->height_in : o->width_in) * CAPTURE_PDF_CSS_PX_PER_IN);
        res->height = (int32_t) lround ((o->landscape ? o->width_in : o->height_in) * CAPTURE_PDF_CSS_PX_PER_IN);
        res->credits = CAPTURE_PRICE_PAGE;
    }
    else
    if (rc == 0) {
        int w = 0, h = 0, top = 0, bottom = 0;
        if (page && !spec->selector && !spec->has_clip)   /* a page laid out inside the safe area */
            capture_safe_area (spec, &top, &bottom);
        rc = s_frame (spec, opts, page ? png : probe.data, page ? png_len : probe.len, host,
                      top * spec->dpr, bottom * spec->dpr, &res->data, &res->len, &w, &h, why);
        res->width = w, res->height = h;
        res->credits = page ? CAPTURE_PRICE_PAGE : CAPTURE_PRICE_IMAGE;
        if (rc == 0 && truncated) {  /* job_json shows it as result.truncated */
            char note [256];
            snprintf (note, sizeof note, "[{\"rule\":\"%s\",\"severity\":\"warning\",\"message\":"
                      "\"the page was cut at %d CSS px (or the 40 megapixel cap)\"}]",
                      CAPTURE_TRUNCATED_RULE, CAPTURE_FULL_PAGE_MAX_PX);
            res->findings_json = strdup (note);
        }
    }
    free (png);
    fetch_result_free (&probe);
    /* where the time went, beside the browser's own steps ("page captured") */
    char ms [3][24];
    int64_t t_end = util_mono_ms ();
    snprintf (ms [0], sizeof ms [0], "%lld", (long long) (t_probe - t0));
    snprintf (ms [1], sizeof ms [1], "%lld", (long long) (t_page - t_probe));
    snprintf (ms [2], sizeof ms [2], "%lld", (long long) (t_end - t_page));
    log_info ("capture done", "ok", rc == 0 ? "1" : "0", "page", page ? "1" : "0", "probe_ms", ms [0],
              "browser_ms", ms [1], "frame_ms", ms [2], NULL);
    return rc;
}

int
capture_task_run (const proto_task_t *task, const capture_opts_t *opts,
                  int *cmd, msgpack_sbuffer *out, render_error_t *why)
{
    memset (why, 0, sizeof *why);
    capture_spec_t spec;
    char err [256] = "";
    proto_result_t res;
    memset (&res, 0, sizeof res);
    int rc;
    if (capture_spec_decode (task->spec, task->spec_len, &spec, err) != 0) {
        snprintf (why->code, sizeof why->code, "bad_task");
        snprintf (why->message, sizeof why->message, "the capture spec does not decode: %s", err);
        rc = -1;
    }
    else {
        rc = s_run (&spec, opts, &res, why);
        snprintf (res.format, sizeof res.format, "%s", spec.format);
        capture_spec_free (&spec);
    }
    if (rc == 0) {
        res.attempt = task->attempt;
        snprintf (res.task_id, sizeof res.task_id, "%s", task->task_id);
        *cmd = PROTO_RESULT;
        rc = proto_result_encode (&res, out);
        if (rc)
            snprintf (why->message, sizeof why->message, "cannot encode RESULT for %s", task->task_id);
        proto_result_free (&res);
        return rc;
    }
    proto_result_free (&res);
    proto_fail_t fail = { .attempt = task->attempt, .retryable = why->retryable };
    snprintf (fail.task_id, sizeof fail.task_id, "%s", task->task_id);
    rc = proto_error_set (&fail.error, why->code, why->message, why->param [0] ? why->param : NULL);
    if (rc == 0)
        rc = proto_fail_encode (&fail, out);
    proto_fail_free (&fail);
    *cmd = PROTO_FAIL;
    if (rc)
        snprintf (why->message, sizeof why->message, "cannot encode FAIL for %s", task->task_id);
    return rc;
}
