/*  device_table.h: every device frame Easel draws, as data: its geometry in
    units of a frame 1000 wide (portrait), its features, and the device it
    stands for (platform, form factor, CSS viewport, scale, safe-area
    insets). The gateway validates `device` names and capture viewports with
    it and the renderer draws from it (renderer/device_frame.h, which has
    the table of sizes); no graphics library is needed here.

    Thread: any; the table is constant. */
#ifndef EASEL_DEVICE_TABLE_H
#define EASEL_DEVICE_TABLE_H

#include <stdbool.h>

typedef enum {
    DEVICE_FEAT_NONE = 0,
    DEVICE_FEAT_ISLAND,            /* pill at the top of the screen */
    DEVICE_FEAT_HOME,              /* earpiece above, home button below the screen */
    DEVICE_FEAT_CAMERA_DOT,        /* camera dot in the top bezel */
    DEVICE_FEAT_PUNCH_HOLE,        /* camera hole in the screen */
    DEVICE_FEAT_LAPTOP,            /* lid and base */
    DEVICE_FEAT_BROWSER,           /* window toolbar with traffic lights and address bar */
    DEVICE_FEAT_WATCH              /* crown and side button */
} device_feature_t;

typedef struct {
    const char *name;
    int frame_w, frame_h;          /* frame_h 0: from the screenshot's aspect */
    int screen_x, screen_y, screen_w, screen_h;   /* screen_h 0: from the screenshot */
    int frame_radius, screen_radius;
    int rim;                       /* width of the finish-coloured outer edge, 0: none */
    device_feature_t feature;
    int feat_a, feat_b, feat_c;    /* feature sizes (renderer/device_frame.h) */
    bool rotates;                  /* turns landscape for a landscape screenshot */
    const char *platform;          /* "apple" | "android" | "any" */
    const char *display;           /* "iPhone", "Android tablet", ... (messages) */
    const char *form;              /* "phone" | "tablet" | "desktop" | "watch" | "any" */
    int css_w, css_h;              /* the device's viewport, CSS px (portrait) */
    int scale;                     /* device pixels per CSS px */
    int safe_top, safe_bottom;     /* safe-area insets, CSS px of css_w x css_h */
} device_frame_t;

/* The frame called name, or NULL when there is none. */
const device_frame_t *device_frame_find (const char *name);
/* The i-th frame, NULL past the end (for docs and tests). */
const device_frame_t *device_frame_at (int i);

#endif
