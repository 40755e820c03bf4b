/*  render_lint.c: the render's lint object (see render_lint.h). No state. */
#include "render_lint.h"
#include "presets.h"
#include "json_depth.h"
#include "lint_rules.h"

#include <stdio.h>
#include <string.h>

static void
s_add (json_t *findings, const char *rule, const char *severity, const char *image,
       const char *message)
{
    json_array_append_new (findings, json_pack ("{s:s, s:s, s:o, s:s}", "rule", rule,
                                                "severity", severity,
                                                "image", image && *image ? json_string (image) : json_null (),
                                                "message", message));
}

static bool
s_same_group (const proto_image_t *a, const proto_image_t *b)
{
    return strcmp (a->preset, b->preset) == 0 && strcmp (a->locale, b->locale) == 0;
}

/* set_count: once per (preset, locale) group, at the group's first image. */
static void
s_set_count (const proto_render_t *r, json_t *findings)
{
    for (int32_t i = 0; i < r->nimages; i++) {
        const proto_image_t *im = &r->images[i];
        const presets_canvas_t *p = presets_find (im->preset);
        if (!p || strcmp (im->status, "succeeded") != 0
        ||  strcmp (p->name, "play.feature_graphic") == 0)
            continue;
        bool first = true;
        int n = 0;
        for (int32_t j = 0; j < r->nimages; j++) {
            if (!s_same_group (im, &r->images[j]) || strcmp (r->images[j].status, "succeeded") != 0)
                continue;
            if (j < i) {
                first = false;      /* reported at the group's first image: stop here */
                break;
            }
            n++;
        }
        if (!first)
            continue;
        bool play = strcmp (p->store, "play") == 0;
        int lo = play ? 2 : 1, hi = play ? 8 : 10;
        char msg[256];
        const char *where = im->locale[0] ? im->locale : "the render";
        if (n > hi) {
            snprintf (msg, sizeof msg, "%s has %d %s images for %s; the store takes at most %d.",
                      p->name, n, p->display, where, hi);
            s_add (findings, "set_count", "error", NULL, msg);
        }
        else
        if (n < lo) {
            snprintf (msg, sizeof msg, "%s has %d image for %s; Google Play needs at least %d.",
                      p->name, n, where, lo);
            s_add (findings, "set_count", "warning", NULL, msg);
        }
    }
}

static bool
s_promo_size_ok (const proto_image_t *im)
{
    int lo = im->width < im->height ? im->width : im->height;
    int hi = im->width < im->height ? im->height : im->width;
    return lo >= 1080 && (int64_t) hi * 9 == (int64_t) lo * 16;
}

/* play_promo_eligible: per locale, over Play phone and tablet images. */
static void
s_promo (const proto_render_t *r, json_t *findings)
{
    for (int32_t i = 0; i < r->nimages; i++) {
        const proto_image_t *im = &r->images[i];
        const presets_canvas_t *p = presets_find (im->preset);
        if (!p || strcmp (p->store, "play") != 0 || strncmp (p->name, "play.phone", 10) != 0
        ||  strcmp (im->status, "succeeded") != 0)
            continue;
        bool first = true;
        int n = 0, ok = 0;
        for (int32_t j = 0; j < r->nimages; j++) {
            const proto_image_t *o = &r->images[j];
            if (!s_same_group (im, o) || strcmp (o->status, "succeeded") != 0)
                continue;
            if (j < i) {
                first = false;      /* reported at the group's first image: stop here */
                break;
            }
            n++;
            ok += s_promo_size_ok (o);
        }
        if (!first || (n >= 4 && ok == n))
            continue;
        char msg[320];
        snprintf (msg, sizeof msg, "%s images for %s are not eligible for Google Play promotion: it "
                  "needs at least 4 screenshots, at least 1080 px, 9:16 or 16:9 (%d given, %d qualify).",
                  p->name, im->locale[0] ? im->locale : "the render", n, ok);
        s_add (findings, "play_promo_eligible", "info", NULL, msg);
    }
}

static bool
s_prefix (const char *s, const char *prefix)
{
    return strncmp (s, prefix, strlen (prefix)) == 0;
}

/* appstore_required_class: per locale, at its first App Store image, the
   largest iPhone and iPad classes are there when any of that family is. */
static void
s_required_class (const proto_render_t *r, json_t *findings)
{
    static const struct { const char *family, *largest, *kind, *what; } s_need [] = {
        { "appstore.iphone_", "appstore.iphone_6_9", "iPhone", "iPhone 6.9\"" },
        { "appstore.ipad_", "appstore.ipad_13", "iPad", "iPad 13\"" },
    };
    for (int32_t i = 0; i < r->nimages; i++) {
        const proto_image_t *im = &r->images[i];
        if (strcmp (im->status, "succeeded") != 0 || !s_prefix (im->preset, "appstore."))
            continue;
        bool first = true;
        for (int32_t j = 0; j < i && first; j++)
            first = !(strcmp (r->images[j].status, "succeeded") == 0
                   && s_prefix (r->images[j].preset, "appstore.")
                   && strcmp (r->images[j].locale, im->locale) == 0);
        if (!first)
            continue;
        for (size_t k = 0; k < sizeof s_need / sizeof s_need [0]; k++) {
            bool family = false, largest = false;
            for (int32_t j = i; j < r->nimages; j++) {
                const proto_image_t *o = &r->images[j];
                if (strcmp (o->status, "succeeded") != 0 || strcmp (o->locale, im->locale) != 0)
                    continue;
                family |= s_prefix (o->preset, s_need [k].family);
                largest |= strcmp (o->preset, s_need [k].largest) == 0;
            }
            if (!family || largest)
                continue;
            char msg[320];
            snprintf (msg, sizeof msg, "%s has %s images but no %s set (%s): App Store Connect "
                      "requires the largest display class and scales it for the smaller ones.",
                      im->locale[0] ? im->locale : "The render", s_need [k].kind,
                      s_need [k].what, s_need [k].largest);
            s_add (findings, "appstore_required_class", "warning", NULL, msg);
        }
    }
}

json_t *
render_lint_build (const proto_render_t *r)
{
    json_t *findings = json_array ();
    if (!findings)
        return NULL;
    for (int32_t i = 0; i < r->nimages; i++) {
        const proto_image_t *im = &r->images[i];
        if (!im->findings_json
        ||  !json_depth_ok (im->findings_json, strlen (im->findings_json), EASEL_MAX_JSON_DEPTH))
            continue;
        json_t *arr = json_loads (im->findings_json, 0, NULL);
        size_t k;
        json_t *f;
        json_array_foreach (arr, k, f) {
            const char *rule = json_string_value (json_object_get (f, "rule"));
            const char *sev = json_string_value (json_object_get (f, "severity"));
            const char *msg = json_string_value (json_object_get (f, "message"));
            if (rule && sev && msg) {
                s_add (findings, rule, sev, im->id, msg);
                /* where on the image, when the renderer knows: four whole numbers */
                json_t *reg = json_object_get (f, "region");
                json_t *x = json_object_get (reg, "x"), *y = json_object_get (reg, "y");
                json_t *w = json_object_get (reg, "width"), *h = json_object_get (reg, "height");
                if (json_is_integer (x) && json_is_integer (y) && json_is_integer (w) && json_is_integer (h))
                    json_object_set_new (json_array_get (findings, json_array_size (findings) - 1), "region",
                                         json_pack ("{s:I, s:I, s:I, s:I}", "x", json_integer_value (x),
                                                    "y", json_integer_value (y), "width", json_integer_value (w),
                                                    "height", json_integer_value (h)));
            }
        }
        json_decref (arr);
    }
    if (strcmp (r->status, "processing") != 0) {
        s_set_count (r, findings);
        s_promo (r, findings);
        s_required_class (r, findings);
    }
    int errors = 0, warnings = 0;
    size_t k;
    json_t *f;
    json_array_foreach (findings, k, f) {
        const char *sev = json_string_value (json_object_get (f, "severity"));
        errors += strcmp (sev, "error") == 0;
        warnings += strcmp (sev, "warning") == 0;
    }
    return json_pack ("{s:b, s:i, s:i, s:s, s:o}", "passed", errors == 0, "errors", errors,
                      "warnings", warnings, "ruleset", LINT_RULESET, "findings", findings);
}
