/*  capture_request.h: turns the JSON body of POST /v1/capture (CONTRACT 4)
    into a CREATE_CAPTURE message: one task whose spec is a capture_spec_t
    (common/capture_spec.h) as JSON text. Every rejection names the field
    ("url", "viewport.width", "device", "headers.X-Token").

    Limits: url and webhook_url http(s), at most 2048 bytes; viewport sides
    100..4000 (default the device's CSS viewport, device_frame.c: 1440x900;
    iphone 393x852, android_phone 412x915, ipad 820x1093, android_tablet
    800x1280); device_scale_factor 1..3 (default the device's scale: iphone
    and android_phone 3, ipad, android_tablet and mac 2, else 1, lowered
    when the viewport would pass the pixel cap; width x height x factor^2 at
    most EASEL_MAX_SOURCE_PIXELS); delay_ms
    0..10000; wait_until load|networkidle; format png|jpeg|webp; device
    browser-macos (default) | iphone | ipad | android_phone | android_tablet
    | mac | none; background_preset a background preset (default midnight);
    headers at most 20, each name a token, name + value at most 4096 bytes.
    The page options (capture_spec.h caps): selector (+ padding, not with
    clip), clip, block categories, block_urls, block_resources, hide,
    remove, click, css, js, wait_for(_hidden), color_scheme, reduced_motion,
    media, cookies (domain the page's host or a parent of it with a dot, so
    none is set for a third party), local_storage, user_agent, locale (BCP
    47), timezone (a file under /usr/share/zoneinfo), geolocation. format
    pdf: the pdf object (page_size a paper name or {width, height} inches
    1..50, landscape, margin top/right/bottom/left 0..10 in leaving 1 in of
    content, print_background, scale 0.1..2, page_ranges "1-3, 5"), media
    print unless given, device none, and background_preset,
    device_scale_factor, full_page, selector, padding, clip refused; the
    task's size is the paper's in CSS px.

    Pure; any thread. The caller frees `out` with proto_create_render_free(). */
#ifndef EASEL_CAPTURE_REQUEST_H
#define EASEL_CAPTURE_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "proto.h"
#include "render_request.h"
#include "web_url.h"

/* 0 with out filled (rid and auth left empty); -1 with err (400 invalid_json,
   422 parameter_missing / parameter_invalid / parameter_unknown), out zeroed. */
int capture_request_parse (const char *body, size_t len, proto_create_render_t *out,
                           api_error_t *err);

/* True when a cookie's domain is page's host or a parent of it with a dot
   (an IP host: only itself), so a cookie never goes to a third party. */
bool capture_request_cookie_domain_ok (const char *domain, const web_url_t *page);

/* False when the capture option `key` has no use in a capture of format
   pdf (pdf true: device, background_preset, device_scale_factor,
   full_page, selector, padding, clip) or of an image format (pdf false:
   the pdf object), so a capture profile's default of it is left out. */
bool capture_request_option_applies (const char *key, bool pdf);

/* The capture spec of one image of a render whose slide screenshot is
   {"capture": opts}: opts (borrowed; a capture's page options, its url a
   template with {locale} and {preset}) with the url expanded, a viewport of
   width/scale x height/scale CSS px at scale (the canvas at the device's
   scale), device none, format png, and `locale` (Accept-Language,
   navigator.language) when not "". Refused in opts: the options the render
   sets (viewport, device_scale_factor, device, background_preset, format,
   pdf, locale, full_page, selector, padding, clip, async, webhook_url) and
   the secrets a render keeps no copy of (headers, cookies, local_storage,
   profile_id). width 0: a check of opts alone (sample template values, the
   default viewport). 0 with *spec (encoded, heap: the caller frees) and
   *len; -1 with err, its param under `param` ("slides[0].screenshot.capture"). */
int capture_request_slide (const json_t *opts, const char *locale, const char *preset, int width,
                           int height, int scale, const char *param, uint8_t **spec, size_t *len,
                           api_error_t *err);

#endif
