/*  capture_page.c: page options, selectors, tiling, the screenshot or the
    printed PDF (see capture_page.h).

    Thread: the calling worker thread owns the browser (cdp.h) for one task.

    Page options (capture_spec.h) stay inside the egress rule: blocking is
    Network.setBlockedURLs and Fetch (failRequest), never a proxy exception;
    cookies go to Network.setCookies with the domain the gateway checked
    (or the page URL), local storage is written only when the document's
    origin is the page's, headers only to that origin (cdp.c). Cookie,
    storage and header values are never logged. */

#include "capture_page.h"
#include "cdp.h"
#include "device_frame.h"
#include "egress.h"
#include "encode.h"
#include "image_source.h"
#include "log.h"
#include "util.h"

#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TEXTURE_PX       16384                /* Chromium's largest screenshot side, device px */
#define S_TILE_PX          4096                 /* device px of one tile of a taller page */

/* The device's safe-area insets (device_frame.h) for this viewport, CSS
   px, scaled with its width: the page is laid out between them, so nothing
   sits under the Dynamic Island, camera or home indicator, and s_frame
   fills the bands from the page's edge rows. None in landscape. */
void
capture_safe_area (const capture_spec_t *spec, int *top, int *bottom)
{
    const device_frame_t *f = device_frame_find (spec->device);
    *top = *bottom = 0;
    if (!f || f->css_w <= 0 || spec->height <= spec->width)
        return;
    *top = (int) lround ((double) f->safe_top * spec->width / f->css_w);
    *bottom = (int) lround ((double) f->safe_bottom * spec->width / f->css_w);
    if (*top + *bottom > spec->height / 4)
        *top = *bottom = 0;
}

/* ---- page options (capture_spec.h) ----------------------------------------- */

extern const char easel_block_ads [], easel_block_trackers [], easel_block_cookie_banners [],
                  easel_block_chat_widgets [];

/* The rule list of block category bit i (CAPTURE_BLOCK_*). */
static const char *
s_block_list (int i)
{
    const char *lists [] = { easel_block_ads, easel_block_trackers, easel_block_cookie_banners,
                             easel_block_chat_widgets };
    return lists [i];
}

/* Each "<kind> <value>" line of the spec's block categories, kind "url"
   appended to urls (a JSON array), kind "css" to sel ("a, b, ..."). */
static void
s_block_rules (const capture_spec_t *spec, json_t *urls, json_t *sel_list)
{
    for (int i = 0; i < 4; i++) {
        if (!(spec->block & (1u << i)))
            continue;
        const char *p = s_block_list (i);
        while (*p) {
            size_t n = strcspn (p, "\n");
            char line [CAPTURE_SELECTOR_MAX + 8];
            if (n < sizeof line) {
                memcpy (line, p, n);
                line [n] = '\0';
                if (strncmp (line, "url ", 4) == 0)
                    json_array_append_new (urls, json_string (line + 4));
                else
                if (strncmp (line, "css ", 4) == 0)
                    json_array_append_new (sel_list, json_string (line + 4));
            }
            p += n + (p [n] == '\n');
        }
    }
}

/* value as a JavaScript literal (JSON text), heap; NULL when out of memory. */
static char *
s_js_literal (json_t *value)
{
    char *text = value ? json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref (value);
    return text;
}

/* Runtime.evaluate of expr (awaiting a promise; at most timeout_ms). 0
   with *value (a new reference, JSON null when undefined); -1 with err,
   the page's exception text included. */
static int
s_eval (cdp_t *b, const char *expr, int timeout_ms, json_t **value, char *err, size_t errsz)
{
    json_t *reply = NULL, *res = NULL;
    *value = NULL;
    int rc = cdp_call (b, "Runtime.evaluate",
                         json_pack ("{s:s, s:b, s:b, s:i}", "expression", expr, "awaitPromise", 1,
                                    "returnByValue", 1, "timeout", timeout_ms),
                         true, util_mono_ms () + timeout_ms + 5000, &reply, &res, err, errsz);
    if (rc == 0) {
        json_t *exc = json_object_get (res, "exceptionDetails");
        if (exc) {
            json_t *ex = json_object_get (exc, "exception");
            const char *d = json_string_value (json_object_get (ex, "description"));
            snprintf (err, errsz, "%.200s", d ? d : json_string_value (json_object_get (exc, "text"))
                                                  ? json_string_value (json_object_get (exc, "text")) : "an exception");
            rc = -1;
        }
        else {
            json_t *v = json_object_get (json_object_get (res, "result"), "value");
            *value = v ? json_incref (v) : json_null ();
        }
    }
    else
    if (rc == 1)
        snprintf (err, errsz, "no answer in time");
    json_decref (reply);
    return rc ? -1 : 0;
}

static int
s_call_ignore (cdp_t *b, const char *method, json_t *params, char *err, size_t errsz)
{
    json_t *reply = NULL, *res = NULL;
    int rc = cdp_call (b, method, params, true, util_mono_ms () + 10000, &reply, &res, err, errsz);
    json_decref (reply);
    return rc ? -1 : 0;
}

/* Before navigation: blocked URLs, cookies, local storage, emulation. 0 / -1 with err. */
static int
s_options_before (cdp_t *b, const capture_spec_t *spec, const char *url, char *err, size_t errsz)
{
    json_t *urls = json_array (), *sels = json_array ();
    s_block_rules (spec, urls, sels);
    json_decref (sels);
    for (int32_t i = 0; i < spec->block_urls.n; i++)
        json_array_append_new (urls, json_string (spec->block_urls.v [i]));
    if (json_array_size (urls) > 0) {
        if (s_call_ignore (b, "Network.setBlockedURLs", json_pack ("{s:o}", "urls", urls), err, errsz))
            return -1;
    }
    else
        json_decref (urls);
    if (spec->ncookies > 0) {
        /* the gateway kept domain to the page's host or a parent of it;
           without one the cookie is the page's host only (url) */
        json_t *list = json_array ();
        for (int32_t i = 0; i < spec->ncookies; i++) {
            const capture_cookie_t *c = &spec->cookies [i];
            json_t *o = json_pack ("{s:s, s:s, s:s, s:b, s:b}", "name", c->name, "value", c->value,
                                   "path", c->path ? c->path : "/", "secure", c->secure,
                                   "httpOnly", c->http_only);
            if (!o)
                continue;
            if (c->domain)
                json_object_set_new (o, "domain", json_string (c->domain));
            else
                json_object_set_new (o, "url", json_string (url));
            if (c->expires > 0)
                json_object_set_new (o, "expires", json_real ((double) c->expires));
            json_array_append_new (list, o);
        }
        if (s_call_ignore (b, "Network.setCookies", json_pack ("{s:o}", "cookies", list), err, errsz))
            return -1;
    }
    if (spec->nstorage > 0) {
        /* runs before the page's scripts in every document; writes only
           when the document is the page's own origin */
        json_t *items = json_object ();
        for (int32_t i = 0; i < spec->nstorage; i++)
            json_object_set_new (items, spec->storage_keys [i], json_string (spec->storage_values [i]));
        char *lit = s_js_literal (items), *origin = s_js_literal (json_string (b->origin));
        size_t n = (lit ? strlen (lit) : 0) + 512;
        char *src = lit && origin ? malloc (n) : NULL;
        int rc = -1;
        if (src) {
            /* b->origin has the port always; location.origin drops a default one */
            snprintf (src, n, "(function(){var o=location.protocol+'//'+location.hostname.replace(/^(.*:.*)$/,'[$1]')"
                      "+':'+(location.port||(location.protocol==='https:'?'443':'80'));"
                      "if(o!==%s)return;var s=%s;try{for(var k in s)localStorage.setItem(k,s[k]);}catch(e){}})();",
                      origin, lit);
            rc = s_call_ignore (b, "Page.addScriptToEvaluateOnNewDocument",
                                json_pack ("{s:s}", "source", src), err, errsz);
        }
        free (src), free (lit), free (origin);
        if (rc)
            return -1;
    }
    if (spec->color_scheme [0] || spec->reduced_motion || spec->media [0]) {
        json_t *features = json_array ();
        if (spec->color_scheme [0])
            json_array_append_new (features, json_pack ("{s:s, s:s}", "name", "prefers-color-scheme",
                                                        "value", spec->color_scheme));
        if (spec->reduced_motion)
            json_array_append_new (features, json_pack ("{s:s, s:s}", "name", "prefers-reduced-motion",
                                                        "value", "reduce"));
        if (s_call_ignore (b, "Emulation.setEmulatedMedia",
                           json_pack ("{s:s, s:o}", "media", spec->media, "features", features), err, errsz))
            return -1;
    }
    if (spec->user_agent || spec->locale) {
        char ua [CAPTURE_UA_MAX + 1] = "";
        if (spec->user_agent)
            snprintf (ua, sizeof ua, "%s", spec->user_agent);
        else {                     /* the browser's own, with the locale's Accept-Language */
            json_t *reply = NULL, *res = NULL;
            if (cdp_call (b, "Browser.getVersion", json_object (), false, util_mono_ms () + 10000,
                            &reply, &res, err, errsz) != 0)
                return -1;
            const char *own = json_string_value (json_object_get (res, "userAgent"));
            snprintf (ua, sizeof ua, "%s", own ? own : "");
            json_decref (reply);
        }
        json_t *p = json_pack ("{s:s}", "userAgent", ua);
        if (p && spec->locale)
            json_object_set_new (p, "acceptLanguage", json_string (spec->locale));
        if (s_call_ignore (b, "Network.setUserAgentOverride", p, err, errsz))
            return -1;
    }
    if (spec->locale
    &&  s_call_ignore (b, "Emulation.setLocaleOverride", json_pack ("{s:s}", "locale", spec->locale), err, errsz))
        return -1;
    if (spec->timezone
    &&  s_call_ignore (b, "Emulation.setTimezoneOverride", json_pack ("{s:s}", "timezoneId", spec->timezone),
                       err, errsz))
        return -1;
    if (spec->has_geo) {
        json_t *reply = NULL, *res = NULL;
        int rc = cdp_call (b, "Browser.grantPermissions",
                             json_pack ("{s:[s], s:s, s:s}", "permissions", "geolocation", "origin", b->origin,
                                        "browserContextId", b->context),
                             false, util_mono_ms () + 10000, &reply, &res, err, errsz);
        json_decref (reply);
        if (rc
        ||  s_call_ignore (b, "Emulation.setGeolocationOverride",
                           json_pack ("{s:f, s:f, s:f}", "latitude", spec->latitude, "longitude",
                                      spec->longitude, "accuracy", spec->accuracy), err, errsz))
            return -1;
    }
    return 0;
}

#define S_FREEZE_CSS "*,*::before,*::after{animation:none!important;transition:none!important;" \
                     "caret-color:transparent!important}"

/* The script that waits (up to ms) until sel matches (hidden: until
   nothing visible matches); resolves true, or false at the limit. */
static char *
s_wait_script (const char *sel, bool hidden, int ms)
{
    char *lit = s_js_literal (json_string (sel));
    size_t n = (lit ? strlen (lit) : 0) + 512;
    char *src = lit ? malloc (n) : NULL;
    if (src)
        snprintf (src, n, "new Promise(function(ok){var t0=Date.now();(function f(){var e=document.querySelector(%s);"
                  "var seen=!!e&&!!(e.offsetWidth||e.offsetHeight||e.getClientRects().length)"
                  "&&getComputedStyle(e).visibility!=='hidden';"
                  "if(seen!==%s)return ok(true);if(Date.now()-t0>%d)return ok(false);setTimeout(f,50);})();})",
                  lit, hidden ? "true" : "false", ms);
    free (lit);
    return src;
}

/* After the load: styles (frozen animations, hide, block lists, css),
   remove, clicks, js, wait_for, wait_for_hidden; a full page is scrolled
   through so lazy content loads. 0 / -1 with why (param the option). */
static int
s_options_after (cdp_t *b, const capture_spec_t *spec, render_error_t *why)
{
    char err [256] = "";
    json_t *v = NULL;
    json_t *urls = json_array (), *sels = json_array ();
    s_block_rules (spec, urls, sels);
    json_decref (urls);
    /* one style sheet: frozen motion, hidden and blocked selectors, the user's css */
    size_t cap = 1024 + (spec->css ? strlen (spec->css) : 0) + (size_t) (spec->hide.n + 200) * (CAPTURE_SELECTOR_MAX + 40);
    char *css = malloc (cap);
    if (!css) {
        json_decref (sels);
        return capture_error (why, "capture_failed", true, "out of memory%s", "");
    }
    size_t used = (size_t) snprintf (css, cap, "%s", S_FREEZE_CSS);
    for (int32_t i = 0; i < spec->hide.n && used < cap; i++)
        used += (size_t) snprintf (css + used, cap - used, "%s{visibility:hidden!important}", spec->hide.v [i]);
    size_t i;
    json_t *sel;
    json_array_foreach (sels, i, sel)
        if (used < cap)
            used += (size_t) snprintf (css + used, cap - used, "%s{display:none!important}", json_string_value (sel));
    json_decref (sels);
    if (spec->css && used < cap)
        used += (size_t) snprintf (css + used, cap - used, "\n%s", spec->css);
    char *lit = s_js_literal (json_string (css));
    free (css);
    json_t *removes = json_array ();
    for (int32_t k = 0; k < spec->remove.n; k++)
        json_array_append_new (removes, json_string (spec->remove.v [k]));
    char *rlit = s_js_literal (removes);
    size_t n = (lit ? strlen (lit) : 0) + (rlit ? strlen (rlit) : 0) + 512;
    char *src = lit && rlit ? malloc (n) : NULL;
    int rc = -1;
    if (src) {
        snprintf (src, n, "(function(){var s=document.createElement('style');s.textContent=%s;"
                  "(document.head||document.documentElement).appendChild(s);"
                  "%s.forEach(function(q){try{document.querySelectorAll(q).forEach(function(e){e.remove();});}catch(e){}});"
                  "if(document.activeElement&&document.activeElement.blur)document.activeElement.blur();"
                  "return true;})()", lit, rlit);
        rc = s_eval (b, src, 5000, &v, err, sizeof err);
        json_decref (v);
    }
    free (src), free (lit), free (rlit);
    if (rc)
        return capture_error (why, "capture_failed", true, "the page styles did not apply: %s", err);
    for (int32_t k = 0; k < spec->clicks.n; k++) {
        char *q = s_js_literal (json_string (spec->clicks.v [k]));
        char script [CAPTURE_SELECTOR_MAX * 6 + 256];
        snprintf (script, sizeof script, "(function(){var e=document.querySelector(%s);if(!e)return false;"
                  "e.scrollIntoView({block:'center'});e.click();return true;})()", q ? q : "''");
        free (q);
        rc = s_eval (b, script, 5000, &v, err, sizeof err);
        bool clicked = rc == 0 && json_is_true (v);
        json_decref (v);
        if (rc == 0 && !clicked && !(spec->click_optional & (1u << k))) {
            rc = capture_error (why, "capture_failed", false, "click: no element matches %s", spec->clicks.v [k]);
            snprintf (why->param, sizeof why->param, "click[%d]", (int) k);
            return rc;
        }
        if (rc)
            return capture_error (why, "capture_failed", false, "click: %s", err);
        bool never = false;        /* what the click starts gets a moment to draw */
        if (cdp_wait (b, 0, &never, util_mono_ms () + 150, NULL) < 0)
            return capture_error (why, "capture_failed", true, "the browser exited during the capture%s", "");
    }
    if (spec->js) {
        rc = s_eval (b, spec->js, CAPTURE_JS_TIMEOUT_MS, &v, err, sizeof err);
        json_decref (v);
        if (rc) {
            capture_error (why, "capture_failed", false, "js failed: %s", err);
            snprintf (why->param, sizeof why->param, "js");
            return -1;
        }
    }
    const char *waits [2] = { spec->wait_for, spec->wait_for_hidden };
    for (int k = 0; k < 2; k++) {
        if (!waits [k])
            continue;
        char *script = s_wait_script (waits [k], k == 1, CAPTURE_WAIT_FOR_MS);
        rc = script ? s_eval (b, script, CAPTURE_WAIT_FOR_MS + 2000, &v, err, sizeof err) : -1;
        free (script);
        bool met = rc == 0 && json_is_true (v);
        json_decref (v);
        if (!met) {
            capture_error (why, "capture_failed", false, k ? "wait_for_hidden: %s is still shown"
                                                  : "wait_for: nothing matched %s in time", waits [k]);
            snprintf (why->param, sizeof why->param, "%s", k ? "wait_for_hidden" : "wait_for");
            return -1;
        }
    }
    if (spec->full_page) {
        /* lazy content: scroll down a viewport at a time up to the cap,
           wait for the images then in the page (each at most 3 s), back to the top */
        char script [1024];
        snprintf (script, sizeof script,
                  "(async function(){var h=innerHeight||800,t0=Date.now();"
                  "for(var y=0;y<Math.min(document.documentElement.scrollHeight,%d)&&Date.now()-t0<8000;y+=h){"
                  "scrollTo(0,y);await new Promise(function(r){setTimeout(r,100);});}"
                  "await Promise.all(Array.from(document.images).filter(function(i){return !i.complete;})"
                  ".map(function(i){return new Promise(function(r){i.addEventListener('load',r);"
                  "i.addEventListener('error',r);setTimeout(r,3000);});}));"
                  "scrollTo(0,0);await new Promise(function(r){setTimeout(r,100);});return true;})()",
                  CAPTURE_FULL_PAGE_MAX_PX);
        rc = s_eval (b, script, 15000, &v, err, sizeof err);
        json_decref (v);
        if (rc)
            return capture_error (why, "capture_failed", true, "the full page warm-up failed: %s", err);
    }
    return 0;
}

/* The selector's box in page CSS px, padded, into clip; -1 with why when nothing matches. */
static int
s_selector_box (cdp_t *b, const capture_spec_t *spec, double clip [4], render_error_t *why)
{
    char *q = s_js_literal (json_string (spec->selector));
    char script [CAPTURE_SELECTOR_MAX * 6 + 256];
    snprintf (script, sizeof script, "(function(){var e=document.querySelector(%s);if(!e)return null;"
              "var r=e.getBoundingClientRect();return [r.left+scrollX,r.top+scrollY,r.width,r.height];})()",
              q ? q : "''");
    free (q);
    json_t *v = NULL;
    char err [256] = "";
    int rc = s_eval (b, script, 5000, &v, err, sizeof err);
    if (rc == 0 && json_is_array (v) && json_array_size (v) == 4
    &&  json_number_value (json_array_get (v, 2)) > 0 && json_number_value (json_array_get (v, 3)) > 0) {
        for (int i = 0; i < 4; i++)
            clip [i] = json_number_value (json_array_get (v, (size_t) i));
        json_decref (v);
        clip [0] -= spec->padding, clip [1] -= spec->padding;
        clip [2] += 2 * spec->padding, clip [3] += 2 * spec->padding;
        if (clip [0] < 0) clip [2] += clip [0], clip [0] = 0;
        if (clip [1] < 0) clip [3] += clip [1], clip [1] = 0;
        return 0;
    }
    json_decref (v);
    capture_error (why, "capture_failed", false, "selector: no visible element matches %s", spec->selector);
    snprintf (why->param, sizeof why->param, "selector");
    return -1;
}

/* Base64 PNG text into a decoded image; NULL when it is not one. */
static gdImagePtr
s_decode_b64 (const char *data)
{
    size_t n = data ? strlen (data) : 0, len = 0;
    uint8_t *bytes = n ? malloc (n / 4 * 3 + 3) : NULL;
    gdImagePtr im = NULL;
    if (bytes && sodium_base642bin (bytes, n / 4 * 3 + 3, data, n, NULL, &len, NULL,
                                    sodium_base64_VARIANT_ORIGINAL) == 0)
        im = image_source_decode (bytes, len, IMAGE_SOURCE_PNG);
    free (bytes);
    if (im && !gdImageTrueColor (im))
        gdImagePaletteToTrueColor (im);
    return im;
}

/* A page taller than Chromium's texture: screenshots of S_TILE_PX device
   rows each (clip + captureBeyondViewport, one layout, so fixed and sticky
   elements sit where that layout puts them, once) stitched into one PNG. 0
   with *png, or -1 with err. */
static int
s_tiled_shot (cdp_t *b, const capture_spec_t *spec, int height, int64_t deadline,
              uint8_t **png, size_t *png_len, char *err, size_t errsz)
{
    int dpr = (int) spec->dpr, w = (int) spec->width * dpr, h = height * dpr;
    gdImagePtr all = gdImageCreateTrueColor (w, h);
    if (!all) {
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    int tile = S_TILE_PX / dpr, rc = 0;
    for (int y = 0; rc == 0 && y < height; y += tile) {
        int th = height - y < tile ? height - y : tile;
        json_t *reply = NULL, *res = NULL;
        rc = cdp_call (b, "Page.captureScreenshot",
                         json_pack ("{s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:b, s:b}", "format", "png", "clip",
                                    "x", 0, "y", y, "width", (int) spec->width, "height", th, "scale", 1,
                                    "captureBeyondViewport", 1, "optimizeForSpeed", 1),
                         true, deadline, &reply, &res, err, errsz);
        gdImagePtr part = rc == 0 ? s_decode_b64 (json_string_value (json_object_get (res, "data"))) : NULL;
        json_decref (reply);
        if (!part) {
            if (rc == 0)
                snprintf (err, errsz, "a tile of the page did not decode");
            rc = -1;
            break;
        }
        gdImageCopy (all, part, 0, y * dpr, 0, 0, gdImageSX (part) < w ? gdImageSX (part) : w,
                     gdImageSY (part) < th * dpr ? gdImageSY (part) : th * dpr);
        gdImageDestroy (part);
    }
    if (rc == 0 && encode_image (all, "png", CDP_MSG_MAX, png, png_len, err, errsz) != 0)
        rc = -1;
    gdImageDestroy (all);
    return rc;
}

/* The page of the job open on b (cdp_job_open) set up, loaded and its
   options applied; when each step ended into at [S_AT_SETUP..S_AT_OPTIONS]
   (monotonic ms, 0 for a step not reached). 0 / -1 with why. */
enum { S_AT_START, S_AT_OPEN, S_AT_SETUP, S_AT_NAVIGATE, S_AT_LOAD, S_AT_OPTIONS, S_AT_SHOT, S_AT_N };
static int
s_load (cdp_t *b, const capture_spec_t *spec, const char *url, const capture_opts_t *opts,
        int64_t at [S_AT_N], render_error_t *why)
{
    int safe_top, safe_bottom;
    capture_safe_area (spec, &safe_top, &safe_bottom);
    int view_h = (int) spec->height - safe_top - safe_bottom;     /* the page's viewport */
    int64_t setup_deadline = util_mono_ms () + 20000;
    json_t *reply = NULL, *res = NULL;
    char err [256] = "";
    int rc = 0;
    /* setup (the page's events are on since cdp_job_open): the viewport,
       and with headers every request paused so that only the page's own
       origin gets them (s_on_paused) */
    bool fetch = spec->nheaders > 0 || spec->block_resources.n > 0;
    /* the viewport, unless the page made ahead has this one already */
    int metrics [3] = { (int) spec->width, view_h, (int) spec->dpr };
    bool same = memcmp (metrics, b->metrics, sizeof metrics) == 0;
    memcpy (b->last_metrics, metrics, sizeof metrics);
    struct { const char *method; json_t *params; } steps [] = {
        { same ? NULL : "Emulation.setDeviceMetricsOverride",
          same ? NULL : json_pack ("{s:i, s:i, s:i, s:b}", "width", metrics [0], "height", metrics [1],
                                   "deviceScaleFactor", metrics [2], "mobile", 0) },
        { fetch ? "Fetch.enable" : NULL,
          fetch ? json_pack ("{s:[{s:s, s:s}]}", "patterns", "urlPattern", "*", "requestStage", "Request")
                : NULL },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps [0]; i++) {
        if (rc == 0 && steps [i].method) {
            rc = cdp_call (b, steps [i].method, steps [i].params, true, setup_deadline,
                             &reply, &res, err, sizeof err);
            json_decref (reply);
        }
        else
            json_decref (steps [i].params);
    }
    if (rc == 0 && s_options_before (b, spec, url, err, sizeof err) != 0)
        rc = -1;
    at [S_AT_SETUP] = util_mono_ms ();
    if (rc)
        return capture_error (why, "capture_failed", true, "the page did not open: %s",
                              err [0] ? err : (rc == 1 ? "no answer" : "it exited"));
    /* navigation: the timeout runs from here */
    int64_t nav_deadline = util_mono_ms () + opts->nav_timeout_ms;
    b->loaded = b->idle = false;
    rc = cdp_call (b, "Page.navigate", json_pack ("{s:s}", "url", url), true,
                     nav_deadline, &reply, &res, err, sizeof err);
    if (rc == 0) {
        const char *etext = json_string_value (json_object_get (res, "errorText"));
        const char *loader = json_string_value (json_object_get (res, "loaderId"));
        snprintf (b->loader, sizeof b->loader, "%s", loader ? loader : "");
        if (etext && *etext) {
            snprintf (err, sizeof err, "%s", etext);
            rc = 2;
        }
    }
    json_decref (reply);
    at [S_AT_NAVIGATE] = util_mono_ms ();
    if (rc == 0)                   /* the next job's context, beside this page's load */
        cdp_prepare_early (b, opts);
    if (rc == 0)
        rc = cdp_wait (b, 0, spec->networkidle ? &b->idle : &b->loaded, nav_deadline, NULL);
    if (rc == 0 && spec->delay_ms > 0) {
        bool never = false;
        rc = cdp_wait (b, 0, &never, util_mono_ms () + spec->delay_ms, NULL);
        rc = rc == 1 ? 0 : rc;
    }
    char rhost [300], raddr [64];
    if (rc == 2 && egress_refused (b->job_egress, rhost, sizeof rhost, raddr, sizeof raddr) > 0) {
        char text [400];
        snprintf (text, sizeof text, "%s resolves to %s", rhost, raddr);
        return capture_error (why, "url_not_allowed", false, "the page or a redirect went to %s, a private address",
                      text);
    }
    if (rc) {
        if (rc == 1)
            return capture_error (why, "navigation_timeout", false, "navigation timeout%s", "");
        if (rc == 2)
            return capture_error (why, "capture_failed", false, "navigation failed: %s", err);
        return capture_error (why, "capture_failed", true, "the browser exited during the capture%s", "");
    }
    at [S_AT_LOAD] = util_mono_ms ();
    rc = s_options_after (b, spec, why);
    at [S_AT_OPTIONS] = util_mono_ms ();
    return rc;
}

/* The loaded page into PNG bytes (a region, the viewport or the full page,
   tiled past the texture). 0 / -1 with why. */
static int
s_shot (cdp_t *b, const capture_spec_t *spec, uint8_t **png, size_t *png_len, bool *truncated,
        render_error_t *why)
{
    int safe_top, safe_bottom;
    capture_safe_area (spec, &safe_top, &safe_bottom);
    int view_h = (int) spec->height - safe_top - safe_bottom;
    json_t *reply = NULL, *res = NULL;
    char err [256] = "";
    int rc = 0;
    int64_t shot_deadline = util_mono_ms () + 30000;
    double clip [4] = { spec->clip_x, spec->clip_y, spec->clip_w, spec->clip_h };
    if (spec->selector && s_selector_box (b, spec, clip, why) != 0)
        return -1;
    bool clipped = spec->selector || spec->has_clip;
    *truncated = false;
    if (spec->full_page && !clipped) {
        rc = cdp_call (b, "Page.getLayoutMetrics", json_object (), true, shot_deadline,
                         &reply, &res, err, sizeof err);
        double h = 0;
        if (rc == 0) {
            json_t *size = json_object_get (res, "cssContentSize");
            if (!size)
                size = json_object_get (res, "contentSize");
            h = json_number_value (json_object_get (size, "height"));
        }
        json_decref (reply);
        int height = (int) ceil (h);
        if (height < view_h)
            height = view_h;
        if (height > CAPTURE_FULL_PAGE_MAX_PX)
            height = CAPTURE_FULL_PAGE_MAX_PX, *truncated = true;
        int64_t px_rows = EASEL_MAX_SOURCE_PIXELS / ((int64_t) spec->width * spec->dpr * spec->dpr);
        if (height > px_rows)      /* and at the pixel cap of any source image */
            height = (int) px_rows, *truncated = true;
        if (rc == 0 && (int64_t) height * spec->dpr > S_TEXTURE_PX) {
            rc = s_tiled_shot (b, spec, height, shot_deadline, png, png_len, err, sizeof err);
            if (rc)
                return capture_error (why, "capture_failed", true, "the screenshot failed: %s", err);
            return 0;
        }
        if (rc == 0) {
            rc = cdp_call (b, "Emulation.setDeviceMetricsOverride",
                             json_pack ("{s:i, s:i, s:i, s:b}", "width", (int) spec->width,
                                        "height", height, "deviceScaleFactor", (int) spec->dpr,
                                        "mobile", 0), true, shot_deadline, &reply, &res, err, sizeof err);
            json_decref (reply);
        }
    }
    /* fast zlib settings: these bytes are decoded here, framed or drawn, and encoded again */
    json_t *shot = json_pack ("{s:s, s:b}", "format", "png", "optimizeForSpeed", 1);
    if (shot && clipped) {
        /* the region in page px, at most the source pixel cap */
        int64_t px_rows = EASEL_MAX_SOURCE_PIXELS / ((int64_t) (clip [2] > 1 ? clip [2] : 1) * spec->dpr * spec->dpr);
        if (clip [3] > (double) px_rows)
            clip [3] = (double) px_rows, *truncated = true;
        if (clip [3] * spec->dpr > S_TEXTURE_PX)   /* one screenshot: Chromium's largest */
            clip [3] = (double) (S_TEXTURE_PX / spec->dpr), *truncated = true;
        json_object_set_new (shot, "clip", json_pack ("{s:f, s:f, s:f, s:f, s:f}", "x", clip [0], "y", clip [1],
                                                      "width", clip [2], "height", clip [3], "scale", 1.0));
        json_object_set_new (shot, "captureBeyondViewport", json_true ());
    }
    if (rc == 0)
        rc = cdp_call (b, "Page.captureScreenshot", shot, true,
                         shot_deadline, &reply, &res, err, sizeof err);
    else
        json_decref (shot);
    const char *data = rc == 0 ? json_string_value (json_object_get (res, "data")) : NULL;
    if (data) {
        size_t n = strlen (data);
        *png = malloc (n / 4 * 3 + 3);
        if (*png && sodium_base642bin (*png, n / 4 * 3 + 3, data, n, NULL, png_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) != 0) {
            free (*png);
            *png = NULL;
        }
    }
    json_decref (reply);
    if (!*png)
        return capture_error (why, "capture_failed", true, "the screenshot failed: %s",
                      err [0] ? err : "the browser exited");
    return 0;
}

/* Appends the base64 (or, when !b64, raw) text of one IO.read chunk to
   *out (at most CAPTURE_RESULT_MAX_BYTES in all). 0; 1 over the cap; -1
   when it does not decode or memory ran out. */
static int
s_append_chunk (const char *data, bool b64, uint8_t **out, size_t *len, size_t *cap)
{
    size_t n = strlen (data), room = b64 ? n / 4 * 3 + 3 : n;
    if (*len + room > (size_t) CAPTURE_RESULT_MAX_BYTES + 3)
        return 1;
    if (*len + room > *cap) {
        size_t want = *cap ? *cap * 2 : 1024 * 1024;
        while (want < *len + room)
            want *= 2;
        uint8_t *grown = realloc (*out, want);
        if (!grown)
            return -1;
        *out = grown, *cap = want;
    }
    size_t got = n;
    if (!b64)
        memcpy (*out + *len, data, n);
    else
    if (sodium_base642bin (*out + *len, *cap - *len, data, n, NULL, &got, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    *len += got;
    return *len > (size_t) CAPTURE_RESULT_MAX_BYTES ? 1 : 0;
}

/* The loaded page printed (Page.printToPDF with spec->pdf), read back as a
   stream in S_PDF_CHUNK pieces so that a PDF over CAPTURE_RESULT_MAX_BYTES
   is refused without ever being one DevTools message. 0 with *pdf (the
   caller frees), or -1 with why (param pdf.page_ranges when Chromium
   refuses the ranges). */
#define S_PDF_CHUNK       (1024 * 1024)
#define S_PDF_EMPTY_READS 8        /* empty answers in a row before the end: the stream is stuck */
static int
s_print (cdp_t *b, const capture_spec_t *spec, uint8_t **pdf, size_t *pdf_len, render_error_t *why)
{
    const capture_pdf_t *o = &spec->pdf;
    int64_t deadline = util_mono_ms () + 60000;
    json_t *p = json_pack ("{s:b, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:s}",
                           "landscape", o->landscape, "printBackground", o->print_background,
                           "scale", o->scale_pct / 100.0, "paperWidth", o->width_in,
                           "paperHeight", o->height_in, "marginTop", o->margin_top_in,
                           "marginRight", o->margin_right_in, "marginBottom", o->margin_bottom_in,
                           "marginLeft", o->margin_left_in, "preferCSSPageSize", 0,
                           "transferMode", "ReturnAsStream");
    if (p && o->page_ranges)
        json_object_set_new (p, "pageRanges", json_string (o->page_ranges));
    json_t *reply = NULL, *res = NULL;
    char err [256] = "", handle [128] = "";
    int rc = cdp_call (b, "Page.printToPDF", p, true, deadline, &reply, &res, err, sizeof err);
    const char *h = rc == 0 ? json_string_value (json_object_get (res, "stream")) : NULL;
    snprintf (handle, sizeof handle, "%s", h ? h : "");
    json_decref (reply);
    if (rc == 0 && !handle [0])
        snprintf (err, sizeof err, "Page.printToPDF answered no stream"), rc = -1;
    if (rc) {
        if (rc == 1 || b->broken)
            return capture_error (why, "capture_failed", true, "printing failed: %s",
                                  err [0] ? err : "the browser exited");
        capture_error (why, "capture_failed", false, "printing failed: %s", err);
        if (o->page_ranges && strstr (err, "range"))
            snprintf (why->param, sizeof why->param, "pdf.page_ranges");
        return -1;
    }
    size_t cap = 0;
    int over = 0, empty = 0;
    *pdf = NULL, *pdf_len = 0;
    for (bool eof = false; rc == 0 && !eof && !over; ) {
        rc = cdp_call (b, "IO.read", json_pack ("{s:s, s:i}", "handle", handle, "size", S_PDF_CHUNK),
                       true, deadline, &reply, &res, err, sizeof err);
        if (rc == 0) {
            const char *data = json_string_value (json_object_get (res, "data"));
            eof = json_is_true (json_object_get (res, "eof"));
            over = data ? s_append_chunk (data, json_is_true (json_object_get (res, "base64Encoded")),
                                          pdf, pdf_len, &cap) : 0;
            if (over < 0)
                snprintf (err, sizeof err, "a piece of the PDF did not decode"), rc = -1;
            else
            if (!eof && (!data || !*data) && ++empty > S_PDF_EMPTY_READS)   /* never spin to the deadline */
                snprintf (err, sizeof err, "IO.read answered nothing before the end"), rc = -1;
            else
            if (data && *data)
                empty = 0;
        }
        json_decref (reply);
    }
    char cerr [256];
    if (!b->broken
    &&  cdp_call (b, "IO.close", json_pack ("{s:s}", "handle", handle), true, util_mono_ms () + 5000,
                  &reply, &res, cerr, sizeof cerr) == 0)
        json_decref (reply);
    if (rc == 0 && over == 0 && (*pdf_len < 5 || memcmp (*pdf, "%PDF-", 5) != 0))
        snprintf (err, sizeof err, "the browser's answer is not a PDF"), rc = -1;
    if (rc || over) {
        free (*pdf);
        *pdf = NULL, *pdf_len = 0;
    }
    if (over) {
        char text [32];
        snprintf (text, sizeof text, "%d", CAPTURE_RESULT_MAX_BYTES);
        return capture_error (why, "capture_failed", false, "the PDF is larger than %s bytes", text);
    }
    if (rc)
        return capture_error (why, "capture_failed", true, "printing failed: %s", err);
    return 0;
}

int
capture_page_shot (const capture_spec_t *spec, const char *url, const capture_opts_t *opts,
                   const atomic_bool *cancel, uint8_t **out, size_t *out_len, bool *truncated,
                   render_error_t *why)
{
    *truncated = false;
    int64_t at [S_AT_N] = { util_mono_ms () };
    cdp_t *b = cdp_warm (opts, why);
    if (!b)
        return -1;
    char err [256] = "";
    int rc = cdp_job_open (b, opts, spec, url, cancel, err, sizeof err);
    at [S_AT_OPEN] = util_mono_ms ();
    bool prepared = b->prepared;
    char context [sizeof b->context], waited [24];
    snprintf (context, sizeof context, "%s", b->context);
    snprintf (waited, sizeof waited, "%lld", (long long) b->prep_waited_ms);
    if (rc)
        capture_error (why, "capture_failed", true, "the browser did not open the page: %s", err);
    else
        rc = s_load (b, spec, url, opts, at, why);
    if (rc == 0)
        rc = strcmp (spec->format, "pdf") == 0 ? s_print (b, spec, out, out_len, why)
                                               : s_shot (b, spec, out, out_len, truncated, why);
    at [S_AT_SHOT] = rc == 0 ? util_mono_ms () : 0;
    /* the next job's page, begun once this page is shot (made while the
       image is framed and encoded, not beside this page's own load), and
       sent before this job's disposal, which the browser answers later */
    cdp_prepare_next (b, opts);
    cdp_job_close (b, false);      /* disposed meanwhile; its answer is read by cdp_pump */
    /* where the time went, ms per step ("-": not reached) */
    static const char *names [S_AT_N] = { "", "open_ms", "setup_ms", "navigate_ms", "load_ms", "options_ms",
                                          "shot_ms" };
    char ms [S_AT_N][16];
    for (int i = 1; i < S_AT_N; i++)
        snprintf (ms [i], sizeof ms [i], at [i] && at [i - 1] ? "%lld" : "-", (long long) (at [i] - at [i - 1]));
    log_info ("page captured", "ok", rc == 0 ? "1" : "0", "prepared", prepared ? "1" : "0",
              "context", context, "prep_wait_ms", waited,
              names [1], ms [1], names [2], ms [2], names [3], ms [3], names [4], ms [4],
              names [5], ms [5], names [6], ms [6], NULL);
    if (rc && cancel && atomic_load (cancel)) {
        capture_error (why, "canceled", false, "the render was canceled%s", " while its page was captured");
        why->param [0] = '\0';
    }
    return rc;
}

void
capture_page_prepare (const capture_opts_t *opts)
{
    render_error_t why;
    memset (&why, 0, sizeof why);
    if (opts->chromium && cdp_prepare (opts, &why) != 0)
        log_warn ("the next capture's browser is not ready", "reason", why.message, NULL);
}

bool
capture_page_pump (const capture_opts_t *opts, int wake_fd)
{
    if (!opts->chromium)
        return false;
    int rc = cdp_pump (wake_fd);
    if (rc < 0) {
        capture_page_prepare (opts);   /* started again, and the next context begun */
        return true;
    }
    return rc == 1;
}
