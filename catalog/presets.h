/*  presets.h: the catalogue of store canvas presets (App Store, Google Play)
    and of named backgrounds. Static read-only tables; thread safe; nothing to
    free. The gateway validates requests against it, GET /v1/presets lists it
    (presets_json.c), the renderer lints against it, and docs/api.md
    describes the same names.

    Sizes are listed in the preset's native orientation (sizes[0] is the
    default). A preset that accepts the other orientation (PRESETS_ORIENT_BOTH)
    accepts every size swapped too ("orientation":"landscape" on a portrait
    preset). Google Play presets also accept any size inside their rules
    (each side min_side..max_side, long side <= max_ratio x short side). */
#ifndef EASEL_PRESETS_H
#define EASEL_PRESETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRESETS_MAX_SIZES 4

typedef struct {
    int32_t width, height;
} presets_size_t;

typedef enum {
    PRESETS_ORIENT_NATIVE = 0,     /* only the listed sizes as they are */
    PRESETS_ORIENT_BOTH   = 1      /* the listed sizes and their swaps */
} presets_orient_t;

typedef struct {
    const char *name;              /* "appstore.iphone_6_9" */
    const char *store;             /* "appstore" | "play" */
    const char *display;           /* "iPhone 6.9\" display" (the display class) */
    int         nsizes;            /* 1..PRESETS_MAX_SIZES */
    presets_size_t sizes[PRESETS_MAX_SIZES];   /* accepted sizes; sizes[0] is the default */
    presets_orient_t orient;
    bool        rule_sized;        /* any size inside the side/ratio rules is accepted too */
    int32_t     min_side, max_side;            /* rule_sized: pixels per side */
    double      max_ratio;         /* rule_sized: long side / short side at most */
    int64_t     max_bytes;         /* file size cap, 0: none documented by the store */
    const char *platform;          /* "apple" | "android": frames that belong on it */
} presets_canvas_t;

typedef struct {
    const char *name;              /* "midnight" */
    int         ncolors;           /* 1: flat colour; 2..4: linear gradient */
    uint32_t    colors[4];         /* 0xRRGGBB */
    int32_t     angle;             /* degrees, 0..359 (180 = top to bottom) */
} presets_background_t;

/* Formats a store accepts (both stores: PNG and JPEG, no alpha). */
#define PRESETS_STORE_FORMATS "png,jpeg"

/* The canvas preset called `name`, or NULL when there is none. */
const presets_canvas_t *presets_find (const char *name);
/* The i-th canvas preset (0..presets_count()-1), NULL past the end. */
const presets_canvas_t *presets_at (size_t i);
size_t presets_count (void);

/* True when w x h is a size the preset accepts (a listed size, its swap when
   the preset takes both orientations, or any size inside a Play rule). */
bool presets_size_ok (const presets_canvas_t *p, int32_t w, int32_t h);

/* True when some App Store preset accepts w x h as a listed size. */
bool presets_appstore_size_known (int32_t w, int32_t h);

/* The named background, or NULL when there is none. */
const presets_background_t *presets_background_find (const char *name);
/* The i-th background preset, NULL past the end. */
const presets_background_t *presets_background_at (size_t i);
/* The device frame a render on preset p gets when it names none: the
   preset's own kind of device (phones a phone, iPads an iPad, Play tablets
   a tablet, the Mac a Mac, watches a watch; TV, Vision Pro, Chromebook,
   Wear OS and the feature graphic a frameless rounded screen "none").
   NULL (a custom size): "iphone". A device_frame.h name; never NULL. */
const char *presets_default_device (const presets_canvas_t *p);

/* The form factor of preset p: "phone" | "tablet" | "desktop" | "watch" |
   "tv" | "any" (feature graphic, custom sizes: NULL). The
   `form_factor_mismatch` lint rule compares it with the frame's. */
const char *presets_form_factor (const presets_canvas_t *p);

/* "midnight": the background of a render that names none. */
#define PRESETS_DEFAULT_BACKGROUND "midnight"

#endif
