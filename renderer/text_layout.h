/*  text_layout.h: headline and subtitle blocks, shaped with raqm (HarfBuzz +
    FriBiDi) and drawn glyph by glyph with FreeType onto the gd canvas.

    Fonts (Debian fonts-noto-core, fonts-noto-cjk; regular and bold) are
    picked per character by script, with a fallback per run: Noto Sans (Latin,
    Greek, Cyrillic), Noto Sans Arabic, Hebrew, Devanagari, Thai, Noto Sans CJK
    (the JP, KR, SC or TC face by locale), then the configured fallback font
    (--font, DejaVu Sans Bold). A character none of them has is reported in
    missing[] (a `missing_glyphs` lint finding), never drawn silently as a box.

    Layout: each given line is wrapped at spaces (and between CJK characters)
    to max_width; the size starts at size_max and shrinks by 8 % steps until
    every line fits the width and the block fits max_height, never below
    size_min: a block that does not fit there is drawn at size_min and
    flagged `overflow` (a `text_overflow` lint finding); it is never clipped.
    Lines are centred; paragraph direction is detected per line, so Arabic
    and Hebrew run right to left.

    Thread: any. FreeType faces are opened once per thread and cached in
    thread-local storage (freed when the thread exits, or by
    text_layout_thread_end). Memory: borrows everything given. */
#ifndef EASEL_TEXT_LAYOUT_H
#define EASEL_TEXT_LAYOUT_H

#include <gd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_LAYOUT_LINE_HEIGHT 1.30    /* line advance, in multiples of the size */
#define TEXT_LAYOUT_MAX_WRAPPED 16      /* wrapped lines per block, at most */
#define TEXT_LAYOUT_MAX_MISSING 8       /* distinct missing code points kept */

typedef struct {
    char *const *lines;            /* nlines UTF-8 strings (each may wrap) */
    int      nlines;
    uint32_t rgb;                  /* 0xRRGGBB */
    int      weight;               /* 100..900; >= 600 draws the bold faces */
    double   size_max, size_min;   /* px (72 dpi: points == pixels) */
    const char *locale;            /* BCP 47 tag or "" (picks CJK forms, hints shaping) */
    const char *fallback_font;     /* last-resort font file, may be NULL */
    int      max_width, max_height;   /* px; max_height 0: no height limit */
} text_block_t;

typedef struct {
    double   size;                 /* the size chosen */
    int      height;               /* px the block takes */
    int      nwrapped;             /* lines after wrapping */
    int      widest;               /* px, widest wrapped line */
    bool     overflow;             /* did not fit at size_min */
    int      nmissing;
    uint32_t missing[TEXT_LAYOUT_MAX_MISSING];   /* code points no font has */
    /* filled by text_layout_draw: WCAG contrast of the text against the
       lightest and darkest pixel behind its glyphs (worst of the two) */
    double   min_contrast;
    int      ink_x0, ink_y0, ink_x1, ink_y1;     /* drawn pixels' bounds */
} text_result_t;

/* Chooses the size and wrapping. Returns 0, or -1 with a reason in err when
   no font can be loaded or shaping fails. */
int text_layout_fit (const text_block_t *b, text_result_t *r, char *err, size_t errsz);

/* Draws the block fitted by text_layout_fit, centred on centre_x, its top
   at top. Returns 0, or -1 with a reason in err. */
int text_layout_draw (gdImagePtr im, const text_block_t *b, text_result_t *r,
                      int centre_x, int top, char *err, size_t errsz);

/* WCAG 2 relative luminance of 0xRRGGBB (0..1) and contrast ratio (1..21). */
double text_layout_luminance (uint32_t rgb);
double text_layout_contrast (double l1, double l2);

/* Frees this thread's cached faces now (they are freed at thread exit too). */
void text_layout_thread_end (void);

#endif
