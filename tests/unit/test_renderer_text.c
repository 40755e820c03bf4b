/*  test_renderer_text.c: text in every language.
    Arabic and Hebrew headlines run right to left, a Japanese (and a Korean)
    one is drawn with CJK glyphs, a Hindi (and a Thai) one is shaped; each
    is compared with a reference render committed under tests/golden/
    (400x200 text-only crops, a small per-pixel tolerance). A character no
    font has gives missing_glyphs.
    EASEL_GOLDEN_WRITE=1 rewrites the references (then look at them). */
#include "check.h"
#include "lint.h"
#include "slide_render.h"
#include "text_layout.h"

#include <gd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static slide_render_opts_t s_opts;

/* Black text on white, 400x200, fixed size (no auto-fit), no frame. */
static gdImagePtr
s_draw (const char *text, const char *locale, lint_report_t *lint)
{
    char *line = (char *) text;
    proto_slide_t spec = { .width = 400, .height = 200, .bg_ncolors = 1, .bg_colors = { 0xFFFFFF },
                           .nlines = 1, .lines = { line }, .text_color = 0x000000,
                           .padding_pm = 20, .font_size_max = 40, .font_size_min = 40,
                           .device = "none", .format = "png" };
    snprintf (spec.locale, sizeof spec.locale, "%s", locale);
    render_error_t err;
    memset (lint, 0, sizeof *lint);
    gdImagePtr im = slide_render_draw (&spec, &s_opts, lint, &err);
    CHECK (im != NULL, "%s: draw failed: %s", locale, err.message);
    return im;
}

static bool
s_has (const lint_report_t *r, const char *rule)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp (r->items[i].rule, rule) == 0)
            return true;
    return false;
}

static int
s_ink (int c)
{
    return 255 - (((c >> 16) & 0xFF) + ((c >> 8) & 0xFF) + (c & 0xFF)) / 3;
}

/* Ink bounds (x0..x1) of dark pixels; -1 when none. */
static void
s_bounds (gdImagePtr im, int *x0, int *x1)
{
    *x0 = -1, *x1 = -1;
    for (int x = 0; x < gdImageSX (im); x++)
        for (int y = 0; y < gdImageSY (im); y++)
            if (s_ink (gdImageGetTrueColorPixel (im, x, y)) > 96) {
                if (*x0 < 0)
                    *x0 = x;
                *x1 = x;
                break;
            }
}

/* Compares with the golden (or writes it). */
static void
s_golden (const char *name, gdImagePtr im)
{
    const char *dir = getenv ("EASEL_GOLDEN_DIR");
    char path[512];
    snprintf (path, sizeof path, "%s/text_%s.png", dir ? dir : "tests/golden", name);
    if (getenv ("EASEL_GOLDEN_WRITE")) {
        FILE *f = fopen (path, "wb");
        CHECK (f, "cannot write %s", path);
        if (f) {
            gdImagePng (im, f);
            fclose (f);
        }
        return;
    }
    FILE *f = fopen (path, "rb");
    CHECK (f, "%s: no reference image at %s", name, path);
    if (!f)
        return;
    gdImagePtr ref = gdImageCreateFromPng (f);
    fclose (f);
    CHECK (ref && gdImageSX (ref) == gdImageSX (im) && gdImageSY (ref) == gdImageSY (im),
           "%s: the reference is not a 400x200 PNG", name);
    if (!ref)
        return;
    int off = 0, total = gdImageSX (im) * gdImageSY (im);
    for (int y = 0; y < gdImageSY (im) && gdImageSY (ref) == gdImageSY (im); y++)
        for (int x = 0; x < gdImageSX (im) && gdImageSX (ref) == gdImageSX (im); x++) {
            int a = gdImageGetTrueColorPixel (im, x, y), b = gdImageGetTrueColorPixel (ref, x, y);
            for (int s = 0; s < 24; s += 8)
                if (abs (((a >> s) & 0xFF) - ((b >> s) & 0xFF)) > 40) {
                    off++;
                    break;
                }
        }
    CHECK (off * 200 <= total, "%s: %d of %d pixels differ from %s (over 0.5 %%)", name, off, total, path);
    gdImageDestroy (ref);
}

/* Right to left: the first word drawn alone matches the right end of the
   whole line (column ink profiles), and not its left end. */
static void
s_check_rtl (const char *name, const char *line, const char *first_word, const char *locale)
{
    lint_report_t l1, l2;
    gdImagePtr a = s_draw (line, locale, &l1), b = s_draw (first_word, locale, &l2);
    if (!a || !b) {
        if (a) gdImageDestroy (a);
        if (b) gdImageDestroy (b);
        return;
    }
    int ax0, ax1, bx0, bx1;
    s_bounds (a, &ax0, &ax1);
    s_bounds (b, &bx0, &bx1);
    int wb = bx1 - bx0 + 1;
    long right = 0, left = 0;
    for (int dx = 0; dx < wb; dx++) {
        long pb = 0, pr = 0, pl = 0;
        for (int y = 0; y < 200; y++) {
            pb += s_ink (gdImageGetTrueColorPixel (b, bx0 + dx, y));
            pr += s_ink (gdImageGetTrueColorPixel (a, ax1 - wb + 1 + dx, y));
            pl += s_ink (gdImageGetTrueColorPixel (a, ax0 + dx, y));
        }
        right += labs (pb - pr);
        left += labs (pb - pl);
    }
    CHECK (ax0 >= 0 && bx0 >= 0 && right * 3 < left,
           "%s: the first word should be at the right end (difference right %ld, left %ld)",
           name, right, left);
    gdImageDestroy (a);
    gdImageDestroy (b);
}

static void
test_scripts (void)
{
    static const struct { const char *name, *text, *locale; } cases[] = {
        { "arabic", "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 \xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9\x85", "ar" },
        { "hebrew", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D", "he" },
        { "japanese", "\xE7\xBF\x92\xE6\x85\xA3\xE3\x82\x92\xE8\xA8\x98\xE9\x8C\xB2", "ja-JP" },
        { "hindi", "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7\xE0\xA4\xBF\xE0\xA4\xA4\xE0\xA4\xBF\xE0\xA4\x9C", "hi-IN" },
        { "thai", "\xE0\xB8\xAA\xE0\xB8\xA7\xE0\xB8\xB1\xE0\xB8\xAA\xE0\xB8\x94\xE0\xB8\xB5", "th-TH" },
        { "korean", "\xEC\x8A\xB5\xEA\xB4\x80 \xEA\xB8\xB0\xEB\xA1\x9D", "ko-KR" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lint_report_t lint;
        gdImagePtr im = s_draw (cases[i].text, cases[i].locale, &lint);
        if (!im)
            continue;
        CHECK (!s_has (&lint, "missing_glyphs"), "%s: every character has a glyph", cases[i].name);
        int x0, x1;
        s_bounds (im, &x0, &x1);
        CHECK (x0 >= 0 && x1 - x0 > 60, "%s: the text is drawn (%d..%d)", cases[i].name, x0, x1);
        s_golden (cases[i].name, im);
        gdImageDestroy (im);
    }
    /* first words: مرحبا and שלום */
    s_check_rtl ("arabic", cases[0].text, "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7", "ar");
    s_check_rtl ("hebrew", cases[1].text, "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "he");
}

/* Hindi: क्ष is one conjunct, so it is narrower than क + ् + ष drawn apart
   (the virama visible) would be: shaping happened. */
static void
test_hindi_shaped (void)
{
    lint_report_t l;
    gdImagePtr joined = s_draw ("\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7", "hi-IN", &l);
    gdImagePtr apart = s_draw ("\xE0\xA4\x95\xE0\xA5\x8D\xE2\x80\x8C\xE0\xA4\xB7", "hi-IN", &l);  /* ZWNJ */
    if (joined && apart) {
        int a0, a1, b0, b1;
        s_bounds (joined, &a0, &a1);
        s_bounds (apart, &b0, &b1);
        CHECK (a1 - a0 + 8 < b1 - b0, "hindi: the conjunct (%d px) is narrower than the parts (%d px)",
               a1 - a0, b1 - b0);
    }
    if (joined) gdImageDestroy (joined);
    if (apart) gdImageDestroy (apart);
}

static void
test_missing (void)
{
    lint_report_t l;
    /* U+0378 (unassigned) and U+10FFFD (private use): no font has them */
    gdImagePtr im = s_draw ("ok \xCD\xB8 \xF4\x8F\xBF\xBD", "en", &l);
    CHECK (s_has (&l, "missing_glyphs"), "missing: a character no font has gives missing_glyphs");
    bool named = false;
    for (int i = 0; i < l.n; i++)
        named |= strstr (l.items[i].message, "U+0378") && strstr (l.items[i].message, "U+10FFFD");
    CHECK (named, "missing: the finding names the code points");
    if (im) gdImageDestroy (im);
    im = s_draw ("Plain Latin, \xCE\x95\xCE\xBB\xCE\xBB\xCE\xB7\xCE\xBD\xCE\xB9\xCE\xBA\xCE\xAC, "
                 "\xD0\xA0\xD1\x83\xD1\x81\xD1\x81\xD0\xBA\xD0\xB8\xD0\xB9", "en", &l);
    CHECK (!s_has (&l, "missing_glyphs"), "missing: Latin, Greek and Cyrillic are all there");
    if (im) gdImageDestroy (im);
}

/* The single-line width of text at 40 px. */
static int
s_width1 (const char *text, const char *locale)
{
    char *line = (char *) text;
    text_block_t b = { .lines = &line, .nlines = 1, .rgb = 0, .weight = 700, .size_max = 40,
                       .size_min = 40, .locale = locale, .fallback_font = s_opts.font_path,
                       .max_width = 100000 };
    text_result_t r;
    char err[128];
    CHECK (text_layout_fit (&b, &r, err, sizeof err) == 0, "width of %s: %s", text, err);
    return r.widest;
}

/* Wraps text at 40 px into max_width: the result. */
static text_result_t
s_wrap (const char *text, const char *locale, int max_width)
{
    char *line = (char *) text;
    text_block_t b = { .lines = &line, .nlines = 1, .rgb = 0, .weight = 700, .size_max = 40,
                       .size_min = 40, .locale = locale, .fallback_font = s_opts.font_path,
                       .max_width = max_width };
    text_result_t r;
    char err[128];
    CHECK (text_layout_fit (&b, &r, err, sizeof err) == 0, "wrap of %s: %s", text, err);
    return r;
}

/* Balanced lines: with the fewest lines, the longest as short as it can be. */
static void
test_balanced (void)
{
    /* "Jede Gewohnheit im" fits, so a greedy wrap leaves "Blick" alone */
    int greedy = s_width1 ("Jede Gewohnheit im", "de-DE");
    int left = s_width1 ("Jede Gewohnheit", "de-DE"), right = s_width1 ("im Blick", "de-DE");
    text_result_t r = s_wrap ("Jede Gewohnheit im Blick", "de-DE", greedy + 2);
    int want = left > right ? left : right;
    CHECK (r.nwrapped == 2 && r.widest <= want + 1 && r.widest >= want - 1,
           "balanced: \"Jede Gewohnheit\" / \"im Blick\" (widest %d px), got %d lines, widest %d px "
           "(greedy %d)", want, r.nwrapped, r.widest, greedy);
    /* every script that wraps: two lines of about half the width each, not
       one nearly full line and a short one */
    static const struct { const char *text, *locale; } lines[] = {
        { "Track every habit you care about in one place", "en-US" },
        { "\xD8\xAA\xD8\xA7\xD8\xA8\xD8\xB9 \xD9\x83\xD9\x84 \xD8\xB9\xD8\xA7\xD8\xAF\xD8\xA9 "
          "\xD9\x81\xD9\x8A \xD9\x85\xD9\x83\xD8\xA7\xD9\x86 \xD9\x88\xD8\xA7\xD8\xAD\xD8\xAF "
          "\xD8\xA8\xD8\xB3\xD9\x87\xD9\x88\xD9\x84\xD8\xA9", "ar-SA" },
        { "\xD7\xA2\xD7\xA7\xD7\x95\xD7\x91 \xD7\x90\xD7\x97\xD7\xA8\xD7\x99 \xD7\x9B\xD7\x9C "
          "\xD7\x94\xD7\xA8\xD7\x92\xD7\x9C \xD7\x91\xD7\x9E\xD7\xA7\xD7\x95\xD7\x9D "
          "\xD7\x90\xD7\x97\xD7\x93", "he-IL" },
        { "\xE3\x81\x99\xE3\x81\xB9\xE3\x81\xA6\xE3\x81\xAE\xE7\xBF\x92\xE6\x85\xA3\xE3\x82\x92"
          "\xE3\x81\xB2\xE3\x81\xA8\xE3\x81\xA4\xE3\x81\xAE\xE5\xA0\xB4\xE6\x89\x80\xE3\x81\xA7"
          "\xE8\xA8\x98\xE9\x8C\xB2", "ja-JP" },
        { "\xEB\xAA\xA8\xEB\x93\xA0 \xEC\x8A\xB5\xEA\xB4\x80\xEC\x9D\x84 \xED\x95\x9C "
          "\xEA\xB3\xB3\xEC\x97\x90\xEC\x84\x9C \xEA\xB8\xB0\xEB\xA1\x9D\xED\x95\x98\xEC\x84\xB8"
          "\xEC\x9A\x94", "ko-KR" },
        { "\xE0\xA4\xB9\xE0\xA4\xB0 \xE0\xA4\x86\xE0\xA4\xA6\xE0\xA4\xA4 \xE0\xA4\x8F\xE0\xA4\x95 "
          "\xE0\xA4\x9C\xE0\xA4\x97\xE0\xA4\xB9 \xE0\xA4\xAA\xE0\xA4\xB0 \xE0\xA4\xA6\xE0\xA5\x87"
          "\xE0\xA4\x96\xE0\xA5\x87\xE0\xA4\x82", "hi-IN" },
    };
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
        int full = s_width1 (lines[k].text, lines[k].locale);
        text_result_t w = s_wrap (lines[k].text, lines[k].locale, full * 3 / 4);
        CHECK (w.nwrapped == 2 && w.widest <= full * 0.62,
               "balanced %s: 2 lines of about %d px, got %d lines, widest %d px", lines[k].locale,
               full / 2, w.nwrapped, w.widest);
    }
}

int
main (void)
{
    const char *font = getenv ("EASEL_FONT");
    s_opts.font_path = font ? font : "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    test_scripts ();
    test_hindi_shaped ();
    test_missing ();
    test_balanced ();
    text_layout_thread_end ();
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("renderer_text: all checks passed\n");
    return 0;
}
