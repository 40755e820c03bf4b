/*  presets.h: the catalogue of store canvas presets (App Store, Google Play)
    and of named backgrounds. Static read-only tables; thread safe; nothing to
    free. The gateway validates requests against it, the renderer and the
    docs describe the same names. */
#ifndef EASEL_PRESETS_H
#define EASEL_PRESETS_H

#include <stddef.h>
#include <stdint.h>

#define PRESETS_MAX_SIZES 4

typedef struct {
    int32_t width, height;
} presets_size_t;

typedef struct {
    const char *name;              /* "appstore.iphone_6_9" */
    const char *store;             /* "appstore" | "play" */
    const char *display;           /* "iPhone 6.9\" display" */
    int         nsizes;            /* 1..PRESETS_MAX_SIZES */
    presets_size_t sizes[PRESETS_MAX_SIZES];   /* accepted sizes; sizes[0] is the default */
} presets_canvas_t;

typedef struct {
    const char *name;              /* "midnight" */
    int         ncolors;           /* 1: flat colour; 2..4: linear gradient */
    uint32_t    colors[4];         /* 0xRRGGBB */
    int32_t     angle;             /* degrees, 0..359 (180 = top to bottom) */
} presets_background_t;

/* The canvas preset called `name`, or NULL when there is none. */
const presets_canvas_t *presets_find (const char *name);
/* The i-th canvas preset (0..presets_count()-1), NULL past the end. */
const presets_canvas_t *presets_at (size_t i);
size_t presets_count (void);

/* The named background, or NULL when there is none. */
const presets_background_t *presets_background_find (const char *name);
/* "midnight": the background of a render that names none. */
#define PRESETS_DEFAULT_BACKGROUND "midnight"

#endif
