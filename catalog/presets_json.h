/*  presets_json.h: the body of GET /v1/presets, built from presets.h so
    clients need no copy of the catalogue: every canvas preset with its store,
    display class, accepted sizes (the first is the default), orientation
    rule, size rule, byte cap, alpha rule and formats, and the background
    presets with their colours.

    Thread: any. Memory: the returned json_t is the caller's (json_decref). */
#ifndef EASEL_PRESETS_JSON_H
#define EASEL_PRESETS_JSON_H

#include <jansson.h>

/* {"object":"list","data":[...],"backgrounds":[...]}; NULL when out of memory. */
json_t *presets_json_build (void);

#endif
