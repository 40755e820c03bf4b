/*  lint.h: the per-image store lint report, computed in the renderer from the
    spec, what the drawing measured and the final encoded bytes.

    Rules (severity): dimensions (error: the image's size is not one its
    preset, or with "store":"appstore" any App Store preset, accepts),
    display_type_ambiguous (warning: 2048x2732 or 3840x2160 without a preset
    naming the display class), format (error: a store image not PNG/JPEG),
    alpha (error: an alpha channel or tRNS), color_space (warning: not 8-bit
    sRGB: other bit depth, an embedded ICC profile, CMYK/grey JPEG),
    play_dimensions (error: sides outside 320..3840 or long side over 2x the
    short), play_file_size (error: over the preset's byte cap, 8 MB),
    feature_graphic (error: not exactly 1024x500), text_contrast (WCAG
    contrast of the text against the lightest and darkest pixel behind its
    glyphs: < 3 error; < 4.5 warning unless large text, >= 4.5 % of the
    canvas width, 3.5 % when bold), frame_contrast (info: frame edge vs the
    background around it < 3), text_overflow (error: the text does not fit
    at its minimum size), source_upscaled (warning), screen_aspect_mismatch
    (warning: screenshot and screen aspect differ by more than 1 %),
    platform_mismatch (warning: an Android frame on an App Store image or an
    Apple frame on a Play image), form_factor_mismatch (warning: a phone
    frame on a tablet preset, a tablet frame on a phone preset, ...: the
    frame's form factor against presets_form_factor), prohibited_copy (warning: Play's banned
    promotional words and calls to action, one word list per language),
    untranslated_copy (warning: the gateway found the locale's own lines
    word for word another language's), missing_glyphs (error), locale_fallback (warning:
    the locale had no text of its own), blank_screen (warning: the device
    screen is nearly uniform). Set-level rules (set_count,
    play_promo_eligible, appstore_required_class) live in common/render_lint.c.

    Thread: any; no state. Memory: lint_to_json's string is the caller's. */
#ifndef EASEL_LINT_H
#define EASEL_LINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto.h"
#include "device_frame.h"
#include "text_layout.h"

#define LINT_MAX_FINDINGS 24

typedef enum { LINT_ERROR = 0, LINT_WARNING, LINT_INFO } lint_severity_t;

typedef struct {
    char rule[32];
    lint_severity_t severity;
    char message[320];
    bool has_region;               /* where on the image the finding is, px */
    int  region_x, region_y, region_w, region_h;
} lint_finding_t;

typedef struct {
    int n;
    lint_finding_t items[LINT_MAX_FINDINGS];
    char thumb[PROTO_THUMB_HEX + 1];   /* the finished image's thumbnail (encode_thumb), "" none */
} lint_report_t;

/* What the drawing measured. */
typedef struct {
    bool has_headline, has_subtitle;
    text_result_t headline, subtitle;
    bool headline_bold;
    device_frame_info_t frame;
    const char *frame_platform;    /* "apple" | "android" | "any"; NULL: no frame */
    const device_frame_t *frame_def;   /* the frame drawn; NULL: none */
    bool screen_blank;
    double frame_contrast;         /* edge vs background around it; 0 when unknown */
} lint_facts_t;

/* Adds a finding (silently dropped past LINT_MAX_FINDINGS). The message's
   first letter is capitalised, so it may start with lint_a's article. */
void lint_add (lint_report_t *r, const char *rule, lint_severity_t sev, const char *fmt, ...)
    __attribute__((format (printf, 4, 5)));

/* Marks the finding added last as being about the rectangle (x, y, w, h)
   of the image (px): the review page outlines it. Nothing when no finding
   was added or the rectangle is empty. */
void lint_region (lint_report_t *r, int x, int y, int w, int h);

/* "an" before a word read with a vowel sound ("an iPad", "an App Store",
   "an Android", "an 8-bit", "an MB"), else "a" ("a Google Play", "a
   unique", "a one-off"). */
const char *lint_a (const char *word);

/* The rules that need the spec and the drawing. */
void lint_drawing (const proto_slide_t *spec, const lint_facts_t *facts, lint_report_t *r);

/* The rules that need the encoded image (size from its header, format,
   alpha, colour space, file size). */
void lint_output (const proto_slide_t *spec, const char *format, const uint8_t *bytes, size_t len,
                  lint_report_t *r);

/* The store a spec is linted for: its preset's, else spec->store ("" none). */
const char *lint_store (const proto_slide_t *spec);

/* "error" | "warning" | "info" */
const char *lint_severity_name (lint_severity_t s);

/* The findings as a JSON array of {rule, severity, message} (NULL when out
   of memory); at most EASEL_MAX_FINDINGS_BYTES (later findings dropped). */
char *lint_to_json (const lint_report_t *r);

#endif
