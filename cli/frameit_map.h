/*  frameit_map.h: fastlane frameit's inputs mapped to an Easel render spec:
    the device a screenshot's pixel size (or its file name, or
    force_device_type) names, as frameit picks it, with the store preset and
    frame Easel draws it in; the Framefile.json values for one screenshot
    (default deep-merged with every data[] entry whose filter is in the
    path); and the slide those values and texts make. Keys Easel cannot
    honour are added once each to a warnings array, never dropped silently.
    Static tables; no state; the caller owns every returned json_t.  */
#ifndef EASEL_FRAMEIT_MAP_H
#define EASEL_FRAMEIT_MAP_H

#include <stddef.h>
#include <jansson.h>

#define FRAMEIT_ERR_MAX 512

typedef struct {
    const char *id;                /* frameit's device id ("iphone-14-pro") */
    const char *name;              /* its name without "Apple" ("iPhone 14 Pro") */
    int         priority;          /* frameit's: the higher wins among equal sizes */
    const char *platform;          /* "IOS" | "ANDROID" */
    int         sizes [4][2];      /* portrait pixel sizes (landscape: swapped) */
    const char *preset;            /* the Easel preset its images go to */
    const char *frame;             /* the Easel device frame */
} frameit_device_t;

/* frameit's detection: among devices taking w x h (either orientation), one
   whose name or id is in filename wins; else the highest priority on
   platform ("IOS", "ANDROID", "ANY"). NULL when none takes the size. */
const frameit_device_t *frameit_device_detect (int w, int h, const char *filename, const char *platform);
/* force_device_type: by id, or name without "Apple". NULL when unknown. */
const frameit_device_t *frameit_device_find (const char *id_or_name);

/* Adds msg to the warnings array unless it is there already. */
void frameit_warn (json_t *warnings, const char *fmt, ...);

/* The values for the screenshot at path (relative to the folder): a deep
   copy of framefile.default merged with each data[] entry whose filter is
   in path. {} without a Framefile. NULL with err when data/default have
   the wrong shape. */
json_t *frameit_config (const json_t *framefile, const char *path, char *err, size_t err_size);

/* The slide for one screenshot (no "screenshot" member yet): title and
   keyword are the texts found (NULL: none); shot_w the screenshot's width,
   canvas_w the preset's. Easel-side keys, every unsupported or approximated
   Framefile key warned about. NULL with err on a value frameit refuses too
   (a colour without '#', an unknown frame colour, bad padding...). */
json_t *frameit_slide (const json_t *config, const char *title, const char *keyword, int shot_w,
                       int canvas_w, json_t *warnings, char *err, size_t err_size);

#endif
