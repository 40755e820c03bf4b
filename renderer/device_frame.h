/*  device_frame.h: device frames drawn in code from descriptions (no art files).

    Every frame is described in units of a frame 1000 wide (portrait); drawing
    scales the whole frame to fit a box on the canvas (centred) and the
    screenshot into the frame's screen rectangle, clipped to its rounded
    corners: "contain" keeps the whole screenshot (letterboxed on the screen
    colour), "cover" fills the screen and crops the overflow. A screenshot is
    enlarged only when it is smaller than the screen, and the info says so
    (the `source_upscaled` lint finding). Phones and tablets turn landscape
    when the screenshot is landscape.

      name            frame (w x h)   screen rect (x, y, w x h)   radius frame/screen  features
      iphone          1000 x 2088     36, 36, 928 x 2016          90 / 54   Dynamic Island 260x76 at 28
      iphone_home     1000 x 2040     60, 240, 880 x 1560         150 / 0   earpiece, home button d 150
      ipad            1000 x 1300     50, 50, 900 x 1200          60 / 30   camera dot
      android_phone   1000 x 2148     30, 30, 940 x 2088          80 / 60   punch-hole camera d 40
      android_tablet  1000 x 1552     40, 40, 920 x 1472          50 / 20   camera dot
      mac             1000 x 600      80, 20, 840 x 525 (lid 60..940 x 0..570) 30 / 6   base 0..1000 x 570..600
      browser-macos   1000 x (70+h)   0, 70, 1000 x h (h from the screenshot)  20 / 20  traffic lights, toolbar, address bar
      watch           1060 x 1220     90, 110, 820 x 1004         260 / 180 crown and side button
      none            1000 x (shot)   0, 0, 1000 x (shot)         40 / 40   -

    Finishes: "black" (edge #2C2C2E) and "silver" (edge #C8C9CC); bezels are
    black in both, the Mac base and browser toolbar take the finish. "auto"
    (the default of a render) measures the canvas just outside the frame
    before drawing and takes the finish whose edge contrasts more with it;
    when neither reaches DEVICE_FRAME_MIN_CONTRAST (a gradient from dark to
    light behind the frame) it also draws a thin rim outside the frame whose
    every pixel is near-white or near-black, whichever contrasts more with
    the background under it (device_frame_rim_rgb), so the outline stays
    visible everywhere.

    Each frame also describes its device for captures: the CSS viewport
    (css_w x css_h), the device scale factor and the safe-area insets (CSS
    px hidden by the Dynamic Island, camera or status bar at the top and the
    home indicator at the bottom), plus a display name for lint messages
    and its form factor ("phone" | "tablet" | "desktop" | "watch" | "any").

    The table itself (names, geometry, the device for captures) is data in
    catalog/device_table.h, which needs no graphics library.

    Thread: any; the table is constant. Memory: borrows the images. */
#ifndef EASEL_DEVICE_FRAME_H
#define EASEL_DEVICE_FRAME_H

#include <gd.h>
#include <stdbool.h>
#include <stdint.h>
#include "device_table.h"

/* The contrast "auto" wants between the frame's outline and the canvas. */
#define DEVICE_FRAME_MIN_CONTRAST 3.0

/* What the drawing did, for the lint rules. */
typedef struct {
    bool   drawn;                  /* a frame or screenshot was drawn */
    int    frame_x, frame_y, frame_w, frame_h;        /* on the canvas */
    int    screen_x, screen_y, screen_w, screen_h;
    double shot_scale;             /* screenshot pixels -> canvas pixels (0: no shot) */
    double aspect_diff;            /* |shot aspect / screen aspect - 1| */
    uint32_t edge_rgb;             /* outer edge colour (frame_contrast) */
    bool   has_edge;               /* false for "none" */
    bool   silver;                 /* the finish drawn (after "auto") */
    int    rim_px;                 /* width of the contrast rim outside the frame, 0: none
                                      (frame_x.. include it) */
} device_frame_info_t;

/* Draws frame (and shot, which may be NULL) scaled to fit and centred in the
   box (x, y, w, h) of canvas. finish: "black" | "silver" | "auto" ("" black); cover:
   fill the screen instead of containing the shot. Returns 0, or -1 when the
   box is empty or an allocation fails. May convert shot to truecolor. */
int device_frame_draw (gdImagePtr canvas, const device_frame_t *frame, gdImagePtr shot,
                       int x, int y, int w, int h, const char *finish, bool cover,
                       device_frame_info_t *info);

/* The worst WCAG contrast between the outline drawn (info: edge_rgb, or
   the rim's colours when rim_px) and the canvas 4 px outside info's frame
   rectangle, over 33 points a side; 21 when nothing can be sampled. */
double device_frame_edge_contrast (gdImagePtr canvas, const device_frame_info_t *info);

/* The rim colour over a background pixel: near-white on a dark one,
   near-black on a light one (at least 4:1 against it). */
uint32_t device_frame_rim_rgb (uint32_t under_rgb);

/* Paints a rounded rectangle with anti-aliased corners: flat colour rgb when
   src is NULL, else the pixels of truecolor src (its (0,0) at canvas (src_x, src_y), its
   alpha respected; pixels outside src untouched). From
   DEVICE_FRAME_PARTS_MIN_PX pixels on, in par_threads() row stripes at once
   (the same pixels). */
void device_frame_paint_rrect (gdImagePtr canvas, int x, int y, int w, int h, double radius,
                               uint32_t rgb, gdImagePtr src, int src_x, int src_y);

/* The same with src resampled to tw x th first (resample.h, a triangle
   filter), row by row straight into the canvas. src is converted to
   truecolor when it is a palette image. Returns 0, or -1 when src cannot be
   resampled to that size (a side over RESAMPLE_MAX_SIDE_PX) or an
   allocation fails. From DEVICE_FRAME_PARTS_MIN_PX output pixels on, the
   rows are resampled in par_threads() stripes at once (par.h). */
#define DEVICE_FRAME_PARTS_MIN_PX (256 * 1024)
int device_frame_paint_scaled (gdImagePtr canvas, int x, int y, int w, int h, double radius,
                               gdImagePtr src, int tw, int th, int src_x, int src_y);

#endif
