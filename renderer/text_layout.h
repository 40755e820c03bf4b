/*  text_layout.h: the headline block, drawn with FreeType through libgd.

    Lines are centred horizontally, stacked from `top`, at size_px (points ==
    pixels: 72 dpi), shrunk in steps until the widest line fits max_width.
    Kept on its own so shaped text (raqm) can replace it without touching the
    rest of the slide.

    Thread: any, once gdFontCacheSetup() has run. Memory: borrows everything. */
#ifndef EASEL_TEXT_LAYOUT_H
#define EASEL_TEXT_LAYOUT_H

#include <gd.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_LAYOUT_MIN_PX 8.0          /* never shrink below this */
#define TEXT_LAYOUT_LINE_HEIGHT 1.22    /* line advance, in multiples of the size */

/* Draws nlines lines in colour rgb (0xRRGGBB). *bottom gets the y just below
   the block (top when nlines is 0). Returns 0, or -1 with a reason in err
   (errsz bytes) when FreeType cannot load the font or draw a line. */
int text_layout_draw (gdImagePtr im, const char *font_path,
                      char *const *lines, int nlines, uint32_t rgb,
                      int top, int max_width, double size_px,
                      int *bottom, char *err, size_t errsz);

#endif
