/*  test_renderer_lint.c: store readiness of what the renderer makes.
    - every canvas preset renders at its default size as RGB without alpha
      and passes the `dimensions` rule;
    - a clean spec gives no findings at all; each lint rule fires on a spec
      (or output) made to break it;
    - the same spec gives the same bytes in png, jpeg and webp;
    - the render-level lint object (set_count, play_promo_eligible, counts). */
#include "check.h"
#include "device_frame.h"
#include "image_source.h"
#include "lint.h"
#include "presets.h"
#include "render_lint.h"
#include "lint_rules.h"
#include "slide_render.h"

#include <gd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static slide_render_opts_t s_opts;

/* A w x h screenshot with texture (uniform: one flat colour). */
static uint8_t *
s_make_shot (int w, int h, bool uniform, int *len)
{
    gdImagePtr im = gdImageCreateTrueColor (w, h);
    gdImageFilledRectangle (im, 0, 0, w - 1, h - 1, gdTrueColor (0xF4, 0xF4, 0xF8));
    if (!uniform) {
        gdImageFilledRectangle (im, 0, 0, w - 1, h / 8, gdTrueColor (0x28, 0x5A, 0xC8));
        for (int y = h / 5; y < h; y += h / 12 + 1)
            gdImageFilledRectangle (im, w / 10, y, w - w / 10, y + h / 24, gdTrueColor (0xC0, 0xC8, 0xD8));
    }
    uint8_t *png = gdImagePngPtr (im, len);
    gdImageDestroy (im);
    return png;
}

static uint8_t *s_shot;              /* 1179x2556 textured */
static int s_shot_len;

static char s_l1[] = "Track every habit";

/* The clean spec: no finding at all. */
static proto_slide_t
s_clean (void)
{
    proto_slide_t spec = {
        .width = 1320, .height = 2868, .bg_ncolors = 2, .bg_colors = { 0x0F2027, 0x2C5364 },
        .bg_angle = 180, .nlines = 1, .lines = { s_l1 }, .text_color = 0xFFFFFF,
        .shot_data = s_shot, .shot_len = (size_t) s_shot_len, .padding_pm = -1,
        .device = "iphone", .format = "png", .preset = "appstore.iphone_6_9", .finish = "silver",
        .locale = "en-US", .display_stated = true
    };
    return spec;
}

static int
s_run (const proto_slide_t *spec, lint_report_t *lint, uint8_t **out, size_t *len)
{
    render_error_t err;
    uint8_t *bytes = NULL;
    size_t n = 0;
    int rc = slide_render_lint (spec, &s_opts, &bytes, &n, lint, &err);
    CHECK (rc == 0, "render failed: %s %s", err.code, err.message);
    if (out)
        *out = bytes, *len = n;
    else
        free (bytes);
    return rc;
}

static bool
s_has (const lint_report_t *r, const char *rule, lint_severity_t sev)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp (r->items[i].rule, rule) == 0 && r->items[i].severity == sev)
            return true;
    return false;
}

static void
s_dump (const char *name, const lint_report_t *r)
{
    char *j = lint_to_json (r);
    fprintf (stderr, "  %s findings: %s\n", name, j ? j : "?");
    free (j);
}

/* Renders spec and checks `rule` fires with severity sev. */
static void
s_fires (const char *name, const proto_slide_t *spec, const char *rule, lint_severity_t sev)
{
    lint_report_t r;
    if (s_run (spec, &r, NULL, NULL) != 0)
        return;
    bool ok = s_has (&r, rule, sev);
    CHECK (ok, "%s: expected %s (%s)", name, rule, lint_severity_name (sev));
    if (!ok)
        s_dump (name, &r);
}

static uint32_t
s_be32 (const uint8_t *p) { return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

/* Every preset with nothing stated (its default device, the "auto" finish,
   the default midnight background): the frame is visible (no
   frame_contrast), and it is the preset's kind of device for its store. */
static void
test_every_preset_default_look (void)
{
    const presets_canvas_t *p;
    for (size_t i = 0; (p = presets_at (i)); i++) {
        proto_slide_t spec = s_clean ();
        snprintf (spec.preset, sizeof spec.preset, "%s", p->name);
        spec.width = p->sizes[0].width;
        spec.height = p->sizes[0].height;
        spec.device[0] = '\0';
        snprintf (spec.finish, sizeof spec.finish, "auto");
        lint_report_t r;
        if (s_run (&spec, &r, NULL, NULL) != 0)
            continue;
        CHECK (!s_has (&r, "frame_contrast", LINT_INFO) && !s_has (&r, "platform_mismatch", LINT_WARNING)
               && !s_has (&r, "form_factor_mismatch", LINT_WARNING),
               "%s: the default look passes frame_contrast, platform and form factor", p->name);
        if (s_has (&r, "frame_contrast", LINT_INFO) || s_has (&r, "platform_mismatch", LINT_WARNING)
        ||  s_has (&r, "form_factor_mismatch", LINT_WARNING))
            s_dump (p->name, &r);
    }
    /* the old default, a black frame on midnight, is what frame_contrast flags */
    proto_slide_t spec = s_clean ();
    snprintf (spec.finish, sizeof spec.finish, "black");
    s_fires ("black on midnight", &spec, "frame_contrast", LINT_INFO);
}

/* "auto" picks silver on a dark canvas, black on a light one, and adds a
   rim when neither contrasts (a dark-to-light gradient behind the frame). */
static void
test_auto_finish (void)
{
    static const struct { uint32_t top, bottom; bool silver, rim; } cases[] = {
        { 0x0F2027, 0x2C5364, true, false },      /* midnight */
        { 0xF5F5F0, 0xF5F5F0, false, false },     /* paper */
        { 0x2C2C2E, 0xFFFFFF, false, true },      /* dark to light */
    };
    const device_frame_t *f = device_frame_find ("iphone");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gdImagePtr im = gdImageCreateTrueColor (600, 1200);
        for (int y = 0; y < 1200; y++) {
            uint32_t a = cases[k].top, b = cases[k].bottom;
            int c[3];
            for (int j = 0; j < 3; j++) {
                int va = (int) ((a >> (16 - 8 * j)) & 0xFF), vb = (int) ((b >> (16 - 8 * j)) & 0xFF);
                c[j] = va + (vb - va) * y / 1199;
            }
            gdImageLine (im, 0, y, 599, y, gdTrueColor (c[0], c[1], c[2]));
        }
        device_frame_info_t info;
        CHECK (device_frame_draw (im, f, NULL, 50, 50, 500, 1100, "auto", false, &info) == 0, "auto: draws");
        CHECK (info.silver == cases[k].silver && (info.rim_px > 0) == cases[k].rim,
               "auto case %zu: silver %d rim %d", k, info.silver, info.rim_px);
        double c = device_frame_edge_contrast (im, &info);
        CHECK (c >= DEVICE_FRAME_MIN_CONTRAST, "auto case %zu: the outline contrasts %.2f:1", k, c);
        gdImageDestroy (im);
    }
}

static void
test_every_preset (void)
{
    const presets_canvas_t *p;
    for (size_t i = 0; (p = presets_at (i)); i++) {
        proto_slide_t spec = s_clean ();
        snprintf (spec.preset, sizeof spec.preset, "%s", p->name);
        spec.width = p->sizes[0].width;
        spec.height = p->sizes[0].height;
        spec.shot_data = NULL;
        spec.shot_len = 0;
        snprintf (spec.device, sizeof spec.device, "none");
        lint_report_t r;
        uint8_t *png = NULL;
        size_t len = 0;
        if (s_run (&spec, &r, &png, &len) != 0)
            continue;
        CHECK (len > 33 && s_be32 (png + 16) == (uint32_t) spec.width && s_be32 (png + 20) == (uint32_t) spec.height
               && png[24] == 8 && png[25] == 2,
               "%s: expected an 8-bit RGB (type 2) %dx%d PNG", p->name, spec.width, spec.height);
        CHECK (!s_has (&r, "dimensions", LINT_ERROR) && !s_has (&r, "alpha", LINT_ERROR)
               && !s_has (&r, "feature_graphic", LINT_ERROR) && !s_has (&r, "play_dimensions", LINT_ERROR)
               && !s_has (&r, "format", LINT_ERROR),
               "%s: the default size passes the size, format and alpha rules", p->name);
        for (int k = 0; k < r.n; k++)
            CHECK (r.items[k].severity != LINT_ERROR, "%s: unexpected error %s: %s", p->name,
                   r.items[k].rule, r.items[k].message);
        free (png);
    }
}

static void
test_clean_and_each_rule (void)
{
    proto_slide_t spec = s_clean ();
    lint_report_t r;
    uint8_t *png = NULL;
    size_t len = 0;
    if (s_run (&spec, &r, &png, &len) == 0) {
        CHECK (r.n == 0, "clean spec: expected no findings, got %d", r.n);
        if (r.n)
            s_dump ("clean", &r);
    }

    /* dimensions */
    spec = s_clean ();
    spec.width = 1000, spec.height = 2000;
    s_fires ("dimensions", &spec, "dimensions", LINT_ERROR);
    /* an App Store custom size no display class takes */
    spec = s_clean ();
    spec.preset[0] = '\0';
    snprintf (spec.store, sizeof spec.store, "appstore");
    spec.width = 1000, spec.height = 2000;
    s_fires ("appstore custom size", &spec, "dimensions", LINT_ERROR);

    /* display_type_ambiguous: 2048x2732 without a preset */
    spec = s_clean ();
    spec.preset[0] = '\0';
    spec.display_stated = false;
    spec.width = 2048, spec.height = 2732;
    s_fires ("ambiguous", &spec, "display_type_ambiguous", LINT_WARNING);
    spec = s_clean ();
    snprintf (spec.preset, sizeof spec.preset, "appstore.ipad_12_9");
    spec.width = 2048, spec.height = 2732;
    snprintf (spec.device, sizeof spec.device, "ipad");
    if (s_run (&spec, &r, NULL, NULL) == 0)
        CHECK (!s_has (&r, "display_type_ambiguous", LINT_WARNING), "ambiguous: a preset states the class");

    /* format: webp for a store */
    spec = s_clean ();
    snprintf (spec.format, sizeof spec.format, "webp");
    s_fires ("format", &spec, "format", LINT_ERROR);

    /* alpha and color_space: outputs made to break them */
    {
        gdImagePtr im = gdImageCreateTrueColor (1320, 2868);
        gdImageSaveAlpha (im, 1);
        gdImageAlphaBlending (im, 0);
        gdImageFilledRectangle (im, 0, 0, 1319, 2867, gdTrueColorAlpha (0, 0, 0, 64));
        int n = 0;
        uint8_t *rgba = gdImagePngPtr (im, &n);
        gdImageDestroy (im);
        lint_report_t o = { 0 };
        spec = s_clean ();
        lint_output (&spec, "png", rgba, (size_t) n, &o);
        CHECK (s_has (&o, "alpha", LINT_ERROR), "alpha: an RGBA PNG fires alpha");
        gdFree (rgba);
        memset (&o, 0, sizeof o);
        lint_output (&spec, "png", png, len, &o);
        CHECK (!s_has (&o, "alpha", LINT_ERROR) && !s_has (&o, "color_space", LINT_WARNING),
               "alpha/color_space: our PNG is RGB sRGB");
        /* an iCCP chunk after IHDR: not plain sRGB */
        uint8_t *icc = malloc (len + 20);
        if (icc && png) {
            memcpy (icc, png, 33);
            static const uint8_t chunk[20] = { 0, 0, 0, 8, 'i', 'C', 'C', 'P', 'x', 0, 0, 0, 0, 0, 0, 0,
                                               0, 0, 0, 0 };
            memcpy (icc + 33, chunk, 20);
            memcpy (icc + 53, png + 33, len - 33);
            memset (&o, 0, sizeof o);
            lint_output (&spec, "png", icc, len + 20, &o);
            CHECK (s_has (&o, "color_space", LINT_WARNING), "color_space: an embedded ICC profile fires");
        }
        free (icc);
        /* play_file_size: the same header at 9 MB */
        size_t big = 9 * 1024 * 1024;
        uint8_t *fat = calloc (1, big);
        if (fat && png) {
            memcpy (fat, png, len);
            spec = s_clean ();
            snprintf (spec.preset, sizeof spec.preset, "play.phone");
            spec.width = 1080, spec.height = 1920;
            memset (&o, 0, sizeof o);
            /* lint the 1080x1920 size the preset takes, with 9 MB of bytes */
            gdImagePtr im2 = gdImageCreateTrueColor (1080, 1920);
            int n2 = 0;
            uint8_t *p2 = gdImagePngPtr (im2, &n2);
            gdImageDestroy (im2);
            memcpy (fat, p2, (size_t) n2);
            gdFree (p2);
            lint_output (&spec, "png", fat, big, &o);
            CHECK (s_has (&o, "play_file_size", LINT_ERROR), "play_file_size: 9 MB fires");
            memset (&o, 0, sizeof o);
            lint_output (&spec, "png", fat, (size_t) n2, &o);
            CHECK (!s_has (&o, "play_file_size", LINT_ERROR), "play_file_size: a small file passes");
        }
        free (fat);
    }
    free (png);

    /* play_dimensions: a custom Play size with a ratio over 2 */
    spec = s_clean ();
    spec.preset[0] = '\0';
    snprintf (spec.store, sizeof spec.store, "play");
    snprintf (spec.device, sizeof spec.device, "android_phone");
    spec.width = 400, spec.height = 1000;
    s_fires ("play_dimensions", &spec, "play_dimensions", LINT_ERROR);

    /* feature_graphic: the preset at another size */
    spec = s_clean ();
    snprintf (spec.preset, sizeof spec.preset, "play.feature_graphic");
    snprintf (spec.device, sizeof spec.device, "none");
    spec.shot_data = NULL, spec.shot_len = 0;
    spec.width = 1000, spec.height = 500;
    s_fires ("feature_graphic", &spec, "feature_graphic", LINT_ERROR);

    /* text_contrast: dark grey on a near-black background */
    spec = s_clean ();
    spec.bg_ncolors = 1, spec.bg_colors[0] = 0x222222, spec.text_color = 0x333333;
    s_fires ("text_contrast", &spec, "text_contrast", LINT_ERROR);
    /* mid contrast (about 3.5:1) on small text: a warning */
    spec = s_clean ();
    spec.bg_ncolors = 1, spec.bg_colors[0] = 0x000000, spec.text_color = 0x666666;
    spec.font_size_max = 30;
    s_fires ("text_contrast small", &spec, "text_contrast", LINT_WARNING);

    /* frame_contrast: a black frame on a black background */
    spec = s_clean ();
    spec.bg_ncolors = 1, spec.bg_colors[0] = 0x000000;
    snprintf (spec.finish, sizeof spec.finish, "black");
    s_fires ("frame_contrast", &spec, "frame_contrast", LINT_INFO);

    /* text_overflow: too long for its area at its minimum size */
    static char long1[] = "An extraordinarily long headline that keeps going and going",
                long2[] = "and then some more words that cannot possibly fit in here",
                long3[] = "because the minimum size is set far too large for them all",
                long4[] = "to wrap into the space the layout gives the headline block";
    spec = s_clean ();
    spec.nlines = 4, spec.lines[0] = long1, spec.lines[1] = long2, spec.lines[2] = long3, spec.lines[3] = long4;
    spec.font_size_max = 140, spec.font_size_min = 120;
    s_fires ("text_overflow", &spec, "text_overflow", LINT_ERROR);
    {   /* and it says where: the drawn headline's bounds, inside the canvas, in the JSON too */
        lint_report_t r;
        if (s_run (&spec, &r, NULL, NULL) == 0) {
            const lint_finding_t *f = NULL;
            for (int i = 0; i < r.n && !f; i++)
                if (strcmp (r.items[i].rule, "text_overflow") == 0)
                    f = &r.items[i];
            CHECK (f && f->has_region && f->region_w > 0 && f->region_h > 0 && f->region_x >= 0
                   && f->region_y >= 0 && f->region_x + f->region_w <= (int) spec.width
                   && f->region_y + f->region_h <= (int) spec.height,
                   "text_overflow names the headline's region inside the %dx%d canvas", (int) spec.width,
                   (int) spec.height);
            char *j = lint_to_json (&r);
            CHECK (j && strstr (j, "\"region\":{\"x\":"), "the findings JSON carries the region: %s", j ? j : "?");
            free (j);
        }
    }

    /* source_upscaled and screen_aspect_mismatch: a small square screenshot */
    int small_len = 0;
    uint8_t *small = s_make_shot (300, 300, false, &small_len);
    spec = s_clean ();
    spec.shot_data = small, spec.shot_len = (size_t) small_len;
    s_fires ("source_upscaled", &spec, "source_upscaled", LINT_WARNING);
    s_fires ("screen_aspect_mismatch", &spec, "screen_aspect_mismatch", LINT_WARNING);
    gdFree (small);

    /* platform_mismatch: an Android frame on an App Store image, and the reverse */
    spec = s_clean ();
    snprintf (spec.device, sizeof spec.device, "android_phone");
    s_fires ("platform_mismatch", &spec, "platform_mismatch", LINT_WARNING);
    spec = s_clean ();
    snprintf (spec.preset, sizeof spec.preset, "play.phone");
    spec.width = 1080, spec.height = 1920;
    s_fires ("platform_mismatch reverse", &spec, "platform_mismatch", LINT_WARNING);

    /* the messages read as English: an before a vowel sound, device and store names capitalised */
    spec = s_clean ();
    snprintf (spec.device, sizeof spec.device, "android_phone");
    if (s_run (&spec, &r, NULL, NULL) == 0)
        for (int k = 0; k < r.n; k++)
            if (strcmp (r.items[k].rule, "platform_mismatch") == 0)
                CHECK (strncmp (r.items[k].message, "An Android phone frame (\"android_phone\") on an App "
                                "Store image;", 56) == 0, "grammar: got \"%s\"", r.items[k].message);
    spec = s_clean ();
    snprintf (spec.preset, sizeof spec.preset, "play.phone");
    spec.width = 1080, spec.height = 1920;
    if (s_run (&spec, &r, NULL, NULL) == 0)
        for (int k = 0; k < r.n; k++)
            if (strcmp (r.items[k].rule, "platform_mismatch") == 0)
                CHECK (strncmp (r.items[k].message, "An iPhone frame (\"iphone\") on a Google Play "
                                "image;", 50) == 0, "grammar: got \"%s\"", r.items[k].message);
    static const struct { const char *word, *a; } arts[] = {
        { "Android", "an" }, { "App Store", "an" }, { "iPad", "an" }, { "iPhone", "an" },
        { "Apple Watch", "an" }, { "Google Play", "a" }, { "Mac", "a" }, { "unique", "a" },
        { "one", "a" }, { "hour", "an" }, { "MB", "an" }, { "PNG", "a" }, { "8-bit", "an" },
        { "browser window", "a" }, { "", "a" },
    };
    for (size_t k = 0; k < sizeof arts / sizeof arts[0]; k++)
        CHECK (strcmp (lint_a (arts[k].word), arts[k].a) == 0, "lint_a (\"%s\"): want %s, got %s",
               arts[k].word, arts[k].a, lint_a (arts[k].word));
    {
        lint_report_t g = { 0 };
        lint_add (&g, "x", LINT_INFO, "%s %s frame", lint_a ("iPad"), "iPad");
        CHECK (strcmp (g.items[0].message, "An iPad frame") == 0, "lint_add capitalises: %s", g.items[0].message);
    }

    /* form_factor_mismatch: a phone frame on a tablet preset and the reverse; the
       preset's own device (device unset) does not fire it */
    static const struct { const char *preset, *device; int w, h; bool fires; } forms[] = {
        { "appstore.ipad_13", "iphone", 2064, 2752, true },
        { "appstore.ipad_13", "ipad", 2064, 2752, false },
        { "appstore.ipad_13", "", 2064, 2752, false },
        { "play.tablet_10", "android_phone", 1600, 2560, true },
        { "play.tablet_10", "", 1600, 2560, false },
        { "play.phone", "android_tablet", 1080, 1920, true },
        { "appstore.iphone_6_9", "ipad", 1320, 2868, true },
        { "appstore.tv", "iphone", 3840, 2160, true },
        { "appstore.iphone_6_9", "none", 1320, 2868, false },
    };
    for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
        spec = s_clean ();
        snprintf (spec.preset, sizeof spec.preset, "%s", forms[k].preset);
        snprintf (spec.device, sizeof spec.device, "%s", forms[k].device);
        spec.width = forms[k].w, spec.height = forms[k].h;
        if (s_run (&spec, &r, NULL, NULL) != 0)
            continue;
        bool got = s_has (&r, "form_factor_mismatch", LINT_WARNING);
        CHECK (got == forms[k].fires, "form_factor_mismatch: \"%s\" on %s: want %s", forms[k].device,
               forms[k].preset, forms[k].fires ? "a finding" : "none");
        if (got != forms[k].fires)
            s_dump ("form_factor_mismatch", &r);
        for (int i = 0; got && i < r.n; i++)
            if (strcmp (r.items[i].rule, "form_factor_mismatch") == 0 && k == 0)
                CHECK (strstr (r.items[i].message, "An iPhone frame (\"iphone\") on an iPad 13") == r.items[i].message,
                       "form_factor_mismatch message: %s", r.items[i].message);
    }

    /* prohibited_copy: on Play */
    static char promo[] = "The #1 habit app, free today";
    spec = s_clean ();
    snprintf (spec.preset, sizeof spec.preset, "play.phone");
    snprintf (spec.device, sizeof spec.device, "android_phone");
    spec.width = 1080, spec.height = 1920;
    spec.lines[0] = promo;
    s_fires ("prohibited_copy", &spec, "prohibited_copy", LINT_WARNING);
    /* prohibited_copy: each language's own list, Unicode case, word bounds */
    static const struct { const char *locale, *text; bool fires; } copies[] = {
        { "de-DE", "Jetzt KOSTENLOS testen", true },
        { "de-DE", "Gewohnheiten im Blick", false },
        { "ja-JP", "今すぐダウンロードして始めよう", true },
        { "ja-JP", "毎日の習慣を記録", false },
        { "ru-RU", "БЕСПЛАТНО навсегда", true },
        { "es-ES", "Sale el sol cada día", false },      /* "sale" is English only */
        { "es-ES", "Descarga ahora y empieza", true },
        { "en-US", "Bestseller habits", false },          /* "best" on a word bound only */
        { "en-US", "Editor's Choice 2026", true },
        { "pt-BR", "Baixe agora", true },
        { "ko-KR", "지금 다운로드하세요", true },
        { "zh-CN", "立即下载开始记录", true },
        { "ar-SA", "تطبيق مجاني للعادات", true },
        { "tr-TR", "Ücretsiz dene", true },
        { "hi-IN", "अभी डाउनलोड करें", true },
        { "nl-NL", "The best habit app", true },          /* no Dutch list: English */
    };
    for (size_t k = 0; k < sizeof copies / sizeof copies[0]; k++) {
        char line[128];
        snprintf (line, sizeof line, "%s", copies[k].text);
        spec = s_clean ();
        snprintf (spec.preset, sizeof spec.preset, "play.phone");
        snprintf (spec.device, sizeof spec.device, "android_phone");
        snprintf (spec.locale, sizeof spec.locale, "%s", copies[k].locale);
        spec.width = 1080, spec.height = 1920;
        spec.lines[0] = line;
        if (s_run (&spec, &r, NULL, NULL) != 0)
            continue;
        CHECK (s_has (&r, "prohibited_copy", LINT_WARNING) == copies[k].fires,
               "prohibited_copy: %s \"%s\": want %s", copies[k].locale, copies[k].text,
               copies[k].fires ? "a finding" : "none");
    }

    /* untranslated_copy: the gateway names the other locale */
    spec = s_clean ();
    snprintf (spec.locale, sizeof spec.locale, "de-DE");
    snprintf (spec.untranslated_of, sizeof spec.untranslated_of, "en-US");
    s_fires ("untranslated_copy", &spec, "untranslated_copy", LINT_WARNING);

    spec = s_clean ();
    snprintf (spec.preset, sizeof spec.preset, "play.phone");
    snprintf (spec.device, sizeof spec.device, "android_phone");
    spec.width = 1080, spec.height = 1920;
    spec.lines[0] = s_l1;
    int android_len = 0;             /* the Android phone's screen: 412x915 CSS px at 3x */
    uint8_t *android = s_make_shot (1236, 2745, false, &android_len);
    spec.shot_data = android, spec.shot_len = (size_t) android_len;
    if (s_run (&spec, &r, NULL, NULL) == 0)
        CHECK (r.n == 0, "clean Play spec: expected no findings, got %d (%s)", r.n, r.n ? r.items[0].rule : "");
    gdFree (android);

    /* missing_glyphs: U+0378 is unassigned, no font has it */
    static char odd[] = "Hello \xCD\xB8 world";
    spec = s_clean ();
    spec.lines[0] = odd;
    s_fires ("missing_glyphs", &spec, "missing_glyphs", LINT_ERROR);

    /* locale_fallback */
    spec = s_clean ();
    spec.text_fallback = true;
    s_fires ("locale_fallback", &spec, "locale_fallback", LINT_WARNING);

    /* blank_screen: a one-colour screenshot, and a frame with none */
    int blank_len = 0;
    uint8_t *blank = s_make_shot (1179, 2556, true, &blank_len);
    spec = s_clean ();
    spec.shot_data = blank, spec.shot_len = (size_t) blank_len;
    s_fires ("blank_screen", &spec, "blank_screen", LINT_WARNING);
    gdFree (blank);
    spec = s_clean ();
    spec.shot_data = NULL, spec.shot_len = 0;
    s_fires ("blank_screen no shot", &spec, "blank_screen", LINT_WARNING);

    /* a spec with a layout value the renderer does not know is a bad task */
    spec = s_clean ();
    snprintf (spec.fit, sizeof spec.fit, "stretch");
    render_error_t err;
    uint8_t *out = NULL;
    size_t n = 0;
    CHECK (slide_render_lint (&spec, &s_opts, &out, &n, &r, &err) == -1 && strcmp (err.code, "bad_task") == 0
           && !err.retryable, "unknown fit: bad_task, not retryable (got %s)", err.code);
    free (out);
}

static void
test_same_bytes (void)
{
    static const char *formats[] = { "png", "jpeg", "webp" };
    for (int i = 0; i < 3; i++) {
        proto_slide_t spec = s_clean ();
        snprintf (spec.format, sizeof spec.format, "%s", formats[i]);
        uint8_t *a = NULL, *b = NULL;
        size_t alen = 0, blen = 0;
        lint_report_t r;
        if (s_run (&spec, &r, &a, &alen) == 0 && s_run (&spec, &r, &b, &blen) == 0) {
            CHECK (alen == blen && memcmp (a, b, alen) == 0, "%s: same spec, same bytes", formats[i]);
            image_source_kind_t kind;
            uint32_t w, h;
            CHECK (image_source_probe (a, alen, &kind, &w, &h) == 0 && w == 1320 && h == 2868
                   && kind == (i == 0 ? IMAGE_SOURCE_PNG : i == 1 ? IMAGE_SOURCE_JPEG : IMAGE_SOURCE_WEBP),
                   "%s: the output is that format at 1320x2868", formats[i]);
        }
        free (a);
        free (b);
    }
}

/* render-level: set_count and play_promo_eligible over images */
static void
test_render_lint (void)
{
    proto_image_t imgs[9];
    memset (imgs, 0, sizeof imgs);
    for (int i = 0; i < 9; i++) {
        snprintf (imgs[i].id, sizeof imgs[i].id, "img_%d", i);
        snprintf (imgs[i].status, sizeof imgs[i].status, "succeeded");
        snprintf (imgs[i].preset, sizeof imgs[i].preset, "play.phone");
        snprintf (imgs[i].locale, sizeof imgs[i].locale, "en-US");
        imgs[i].width = 1080, imgs[i].height = 1920;
    }
    char f0[] = "[{\"rule\":\"text_contrast\",\"severity\":\"error\",\"message\":\"low\"}]";
    imgs[0].findings_json = f0;
    proto_render_t r = { .nimages = 9, .images = imgs };
    snprintf (r.status, sizeof r.status, "succeeded");
    json_t *lint = render_lint_build (&r);
    char *text = json_dumps (lint, JSON_COMPACT);
    CHECK (text && strstr (text, "\"set_count\"") && strstr (text, "\"image\":\"img_0\"")
           && json_integer_value (json_object_get (lint, "errors")) == 2
           && json_is_false (json_object_get (lint, "passed")),
           "render lint: 9 Play images fire set_count; image findings carry the id: %s", text ? text : "");
    CHECK (text && !strstr (text, "play_promo_eligible"), "render lint: 9 1080x1920 shots are promo eligible");
    free (text);
    json_decref (lint);

    r.nimages = 2;
    imgs[0].findings_json = NULL;
    lint = render_lint_build (&r);
    text = json_dumps (lint, JSON_COMPACT);
    CHECK (text && strstr (text, "play_promo_eligible") && !strstr (text, "set_count")
           && json_is_true (json_object_get (lint, "passed")),
           "render lint: 2 shots are not promo eligible (info), set_count quiet: %s", text ? text : "");
    free (text);
    json_decref (lint);

    r.nimages = 1;
    snprintf (imgs[0].preset, sizeof imgs[0].preset, "appstore.iphone_6_9");
    lint = render_lint_build (&r);
    CHECK (json_array_size (json_object_get (lint, "findings")) == 0 && json_is_true (json_object_get (lint, "passed")),
           "render lint: one App Store image is a clean set");
    json_decref (lint);

    /* appstore_required_class: iPhone 6.5" without 6.9", iPad 11" without 13", per locale */
    snprintf (imgs[0].preset, sizeof imgs[0].preset, "appstore.iphone_6_5");
    snprintf (imgs[1].preset, sizeof imgs[1].preset, "appstore.ipad_11");
    snprintf (imgs[2].preset, sizeof imgs[2].preset, "appstore.iphone_6_9");
    snprintf (imgs[2].locale, sizeof imgs[2].locale, "de-DE");
    snprintf (imgs[3].preset, sizeof imgs[3].preset, "appstore.iphone_6_1");
    snprintf (imgs[3].locale, sizeof imgs[3].locale, "de-DE");
    r.nimages = 4;
    lint = render_lint_build (&r);
    text = json_dumps (lint, JSON_COMPACT);
    CHECK (json_string_value (json_object_get (lint, "ruleset"))
           && strcmp (json_string_value (json_object_get (lint, "ruleset")), LINT_RULESET) == 0,
           "render lint: the report names its ruleset");

    int required = 0;
    size_t k;
    json_t *f;
    json_array_foreach (json_object_get (lint, "findings"), k, f)
        required += strcmp (json_string_value (json_object_get (f, "rule")), "appstore_required_class") == 0;
    CHECK (required == 2 && text && strstr (text, "no iPhone 6.9") && strstr (text, "no iPad 13")
           && json_is_true (json_object_get (lint, "passed")),
           "render lint: en-US lacks the 6.9\" and 13\" sets (two warnings), de-DE has its 6.9\": %s",
           text ? text : "");
    free (text);
    json_decref (lint);

    /* every rule the catalogue lists names its source page and when it was checked */
    const lint_rule_t *rule;
    for (size_t i = 0; (rule = lint_rules_at (i)); i++)
        CHECK (strncmp (rule->source, "https://", 8) == 0 && strlen (rule->checked) == 10,
               "lint rule %s: source and checked date", rule->rule);
}

int
main (void)
{
    const char *font = getenv ("EASEL_FONT");
    s_opts.font_path = font ? font : "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    s_shot = s_make_shot (1179, 2556, false, &s_shot_len);
    test_every_preset ();
    test_every_preset_default_look ();
    test_auto_finish ();
    test_clean_and_each_rule ();
    test_same_bytes ();
    test_render_lint ();
    gdFree (s_shot);
    text_layout_thread_end ();
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("renderer_lint: all checks passed\n");
    return 0;
}
