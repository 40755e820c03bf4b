/*  background.h: the linear-gradient (or solid) background every image
    Easel draws starts from, slides and captures alike.

    Geometry is CSS linear-gradient's: angle 180 runs top to bottom, 90 left
    to right, the stops evenly spaced; one colour is a solid fill. Colours
    come from a 4096-step lookup table, stepped along each row in fixed point,
    so a vertical gradient costs one fill per row.
    Thread: any. Memory: none beyond the stack. */
#ifndef EASEL_BACKGROUND_H
#define EASEL_BACKGROUND_H

#include <gd.h>
#include <stdint.h>

/* Paints the whole of im (truecolor) with ncolors (1..) 0xRRGGBB stops at
   angle degrees. */
void background_paint (gdImagePtr im, const uint32_t *colors, int ncolors, double angle);

#endif
