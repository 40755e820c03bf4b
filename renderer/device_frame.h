/*  device_frame.h: device bezels drawn from descriptions in code (no art files).

    Every frame is described in units of a frame 1000 wide; drawing scales the
    whole frame to fit a box on the canvas and the screenshot to fit (aspect
    kept, centred) the frame's screen rectangle, clipped to its rounded corners.

      name     frame (w x h)    screen rect (x, y, w, h)   frame r   screen r   island (w x h, top)
      iphone   1000 x 2088      36, 36, 928 x 2016         90 (9%)   54         260 x 76, 28
      none     1000 x (shot)    0, 0, 1000 x (shot)        40 (4%)   40         -

    "iphone" is a dark body (#1C1C1E, a #3A3A3C rim) with a black screen and a
    Dynamic Island pill; "none" is the screenshot alone with rounded corners,
    its height taken from the screenshot's aspect.

    Thread: any; the table is constant. Memory: borrows the images. */
#ifndef EASEL_DEVICE_FRAME_H
#define EASEL_DEVICE_FRAME_H

#include <gd.h>
#include <stdint.h>

typedef struct {
    const char *name;
    int frame_w, frame_h;          /* frame_h 0: from the screenshot's aspect */
    int screen_x, screen_y, screen_w, screen_h;   /* screen_h 0: frame_h */
    int frame_radius, screen_radius;
    int island_w, island_h, island_top;           /* island_w 0: none */
    int rim;                       /* width of the lighter outer rim, 0: none */
    uint32_t body_rgb, rim_rgb, screen_rgb;
} device_frame_t;

/* The frame called name ("iphone", "none"), or NULL when there is none. */
const device_frame_t *device_frame_find (const char *name);

/* Draws frame (and shot, which may be NULL) scaled to fit and centred in the
   box (x, y, w, h) of canvas. Returns 0, or -1 when the box is empty or an
   allocation fails (the canvas may then be partly drawn). May convert shot to
   truecolor and set its interpolation method. */
int device_frame_draw (gdImagePtr canvas, const device_frame_t *frame, gdImagePtr shot,
                       int x, int y, int w, int h);

/* Paints a rounded rectangle with anti-aliased corners: flat colour rgb when
   src is NULL, else the pixels of truecolor src (its (0,0) at canvas (src_x, src_y), its
   alpha respected; pixels outside src untouched). */
void device_frame_paint_rrect (gdImagePtr canvas, int x, int y, int w, int h, double radius,
                               uint32_t rgb, gdImagePtr src, int src_x, int src_y);

#endif
