/*  lint_rules.c: the lint rule catalogue (see lint_rules.h). */
#include "lint_rules.h"

static const lint_rule_t s_rules [] = {
    { "dimensions", "error", "image",
      "the size is not one the preset accepts (a custom size with store appstore: no App Store display class takes it)" },
    { "display_type_ambiguous", "warning", "image",
      "2048x2732 or 3840x2160 without a preset naming the display class" },
    { "format", "error", "image", "a store image that is not PNG or JPEG" },
    { "alpha", "error", "image", "the image has an alpha channel or transparency" },
    { "color_space", "warning", "image",
      "not 8-bit sRGB (other bit depth, an embedded ICC profile, CMYK or grey)" },
    { "play_dimensions", "error", "image",
      "a Play image with a side outside 320-3840 px or the long side over 2x the short" },
    { "play_file_size", "error", "image", "a Play image over 8 MB (feature graphic: 1 MB)" },
    { "feature_graphic", "error", "image", "play.feature_graphic is not exactly 1024x500" },
    { "text_contrast", "error / warning", "image",
      "WCAG contrast of the text against the lightest and darkest pixel behind its glyphs: under 3 is an error; under 4.5 a warning unless the text is large (4.5 % of the width, 3.5 % when bold)" },
    { "frame_contrast", "info", "image", "the device frame's edge against the background around it is under 3" },
    { "text_overflow", "error", "image", "the text does not fit its area at its minimum size" },
    { "source_upscaled", "warning", "image", "the screenshot is enlarged to fill the device screen" },
    { "screen_aspect_mismatch", "warning", "image",
      "screenshot and device screen aspect ratios differ by more than 1 %" },
    { "platform_mismatch", "warning", "image",
      "an Android frame on an App Store image, or an Apple frame on a Play image" },
    { "form_factor_mismatch", "warning", "image",
      "the frame is another kind of device than the preset's (a phone frame on an iPad or Play tablet preset, a tablet frame on a phone preset, any device frame on a TV preset)" },
    { "prohibited_copy", "warning", "image",
      "Play text with ranking or price words (\"#1\", \"best\", \"top\", \"free\", \"sale\", \"new\", \"discount\", \"download now\", ...)" },
    { "missing_glyphs", "error", "image", "a character no installed font has (named as U+XXXX)" },
    { "locale_fallback", "warning", "image", "the locale used the \"default\" lines" },
    { "blank_screen", "warning", "image", "the device screen is nearly one colour" },
    { "set_count", "error / warning", "set",
      "App Store: more than 10 images per display class and locale (error); Play: more than 8 (error) or fewer than 2 (warning) per preset and locale" },
    { "play_promo_eligible", "info", "set",
      "a locale's play.phone images are not eligible for promotion (needs at least 4 shots, 1080 px on the short side, 9:16 or 16:9)" },
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
