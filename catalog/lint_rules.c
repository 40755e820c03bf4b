/*  lint_rules.c: the lint rule catalogue (see lint_rules.h). */
#include "lint_rules.h"

#include <string.h>

/* The pages the rules follow. */
#define APPLE_SPECS  "https://developer.apple.com/help/app-store-connect/reference/screenshot-specifications"
#define APPLE_UPLOAD "https://developer.apple.com/help/app-store-connect/manage-app-information/upload-app-previews-and-screenshots"
#define PLAY_ASSETS  "https://support.google.com/googleplay/android-developer/answer/9866151"
#define PLAY_POLICY  "https://support.google.com/googleplay/android-developer/answer/9898842"
#define WCAG_AA      "https://www.w3.org/TR/WCAG22/#contrast-minimum"
#define CHECKED      "2026-12-02"

static const lint_rule_t s_rules [] = {
    { "dimensions", "error", "image",
      "the size is not one the preset accepts (a custom size with store appstore: no App Store display class takes it)",
      APPLE_SPECS, CHECKED },
    { "display_type_ambiguous", "warning", "image",
      "2048x2732 or 3840x2160 without a preset naming the display class", APPLE_SPECS, CHECKED },
    { "format", "error", "image", "a store image that is not PNG or JPEG", APPLE_SPECS, CHECKED },
    { "alpha", "error", "image", "the image has an alpha channel or transparency", APPLE_SPECS, CHECKED },
    { "color_space", "warning", "image",
      "not 8-bit sRGB (other bit depth, an embedded ICC profile, CMYK or grey)", APPLE_SPECS, CHECKED },
    { "play_dimensions", "error", "image",
      "a Play image with a side outside 320-3840 px or the long side over 2x the short", PLAY_ASSETS, CHECKED },
    { "play_file_size", "error", "image", "a Play image over 8 MB (feature graphic: 1 MB)", PLAY_ASSETS, CHECKED },
    { "feature_graphic", "error", "image", "play.feature_graphic is not exactly 1024x500", PLAY_ASSETS, CHECKED },
    { "text_contrast", "error / warning", "image",
      "WCAG contrast of the text against the lightest and darkest pixel behind its glyphs: under 3 is an error; under 4.5 a warning unless the text is large (4.5 % of the width, 3.5 % when bold)",
      WCAG_AA, CHECKED },
    { "frame_contrast", "info", "image", "the device frame's edge against the background around it is under 3",
      "https://www.w3.org/TR/WCAG22/#non-text-contrast", CHECKED },
    { "text_overflow", "error", "image", "the text does not fit its area at its minimum size", APPLE_UPLOAD, CHECKED },
    { "source_upscaled", "warning", "image", "the screenshot is enlarged to fill the device screen",
      APPLE_SPECS, CHECKED },
    { "screen_aspect_mismatch", "warning", "image",
      "screenshot and device screen aspect ratios differ by more than 1 %", APPLE_SPECS, CHECKED },
    { "platform_mismatch", "warning", "image",
      "an Android frame on an App Store image, or an Apple frame on a Play image",
      "https://developer.apple.com/app-store/review/guidelines/#2.3.10", CHECKED },
    { "form_factor_mismatch", "warning", "image",
      "the frame is another kind of device than the preset's (a phone frame on an iPad or Play tablet preset, a tablet frame on a phone preset, any device frame on a TV preset)",
      APPLE_UPLOAD, CHECKED },
    { "prohibited_copy", "warning", "image",
      "Play text with performance, ranking, price or promotional words or a call to action (\"#1\", \"best\", \"top\", \"free\", \"sale\", \"new\", \"discount\", \"million downloads\", \"download now\", \"install now\", ...), from word lists for English, Spanish, Portuguese, French, German, Italian, Russian, Turkish, Indonesian, Japanese, Korean, Chinese, Arabic and Hindi",
      PLAY_POLICY, CHECKED },
    { "untranslated_copy", "warning", "image",
      "the locale's headline is word for word another language's (it was given explicitly, not taken from \"default\")",
      APPLE_UPLOAD, CHECKED },
    { "missing_glyphs", "error", "image", "a character no installed font has (named as U+XXXX)",
      APPLE_UPLOAD, CHECKED },
    { "locale_fallback", "warning", "image", "the locale used the \"default\" lines", APPLE_UPLOAD, CHECKED },
    { "blank_screen", "warning", "image", "the device screen is nearly one colour", APPLE_UPLOAD, CHECKED },
    { "set_count", "error / warning", "set",
      "App Store: more than 10 images per display class and locale (error); Play: more than 8 (error) or fewer than 2 (warning) per preset and locale",
      APPLE_SPECS, CHECKED },
    { "appstore_required_class", "warning", "set",
      "a locale has iPhone images but no iPhone 6.9\" set, or iPad images but no iPad 13\" set (App Store Connect requires the largest class and scales it for the others)",
      APPLE_SPECS, CHECKED },
    { "play_promo_eligible", "info", "set",
      "a locale's play.phone images are not eligible for promotion (needs at least 4 shots, 1080 px on the short side, 9:16 or 16:9)",
      PLAY_ASSETS, CHECKED },
};

size_t
lint_rules_count (void)
{
    return sizeof s_rules / sizeof s_rules [0];
}

const lint_rule_t *
lint_rules_at (size_t i)
{
    return i < lint_rules_count () ? &s_rules [i] : NULL;
}

const lint_rule_t *
lint_rules_find (const char *rule)
{
    for (size_t i = 0; i < lint_rules_count (); i++)
        if (strcmp (s_rules [i].rule, rule) == 0)
            return &s_rules [i];
    return NULL;
}

json_t *
lint_rules_json_build (void)
{
    json_t *data = json_array ();
    for (size_t i = 0; data && i < lint_rules_count (); i++) {
        const lint_rule_t *r = &s_rules [i];
        if (json_array_append_new (data, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "rule", r->rule,
                                                    "severity", r->severity, "scope", r->scope,
                                                    "fires", r->fires, "source", r->source,
                                                    "checked", r->checked))) {
            json_decref (data);
            return NULL;
        }
    }
    return data ? json_pack ("{s:s, s:s, s:o}", "object", "list", "ruleset", LINT_RULESET, "data", data)
                : NULL;
}
