/*  json_depth.h: how deeply a JSON text nests, found without parsing it.

    jansson parses and dumps recursively, and a civetweb worker runs on a
    100 KB stack: a body nested a thousand deep overflows it. Every path that
    hands client bytes to jansson asks json_depth_ok first; the scan is one
    loop over the bytes (no recursion, no allocation) that counts '[' and '{'
    outside strings, honouring backslash escapes. It does not validate the
    JSON: jansson still does that, on text known to be shallow.

    Thread: any. No state. */
#ifndef EASEL_JSON_DEPTH_H
#define EASEL_JSON_DEPTH_H

#include <stdbool.h>
#include <stddef.h>

/* The deepest nesting of arrays and objects in text[0..len) (0 for a
   scalar), stopping early once it passes `stop` (then stop + 1 is returned).
   Brackets inside strings do not count; an unterminated string or unbalanced
   brackets are left for the parser to refuse. */
size_t json_depth (const char *text, size_t len, size_t stop);

/* True when text[0..len) nests at most max_depth arrays/objects deep. */
bool   json_depth_ok (const char *text, size_t len, size_t max_depth);

/* The same scan, also bounding how many values the text holds (every ','
   and every '[' or '{' outside strings counts one): jansson spends some 40
   bytes on each, so a 25 MB body of "0," would cost half a gigabyte parsed.
   JSON_SHAPE_OK, or which limit the text passes first. */
typedef enum { JSON_SHAPE_OK = 0, JSON_SHAPE_TOO_DEEP, JSON_SHAPE_TOO_MANY } json_shape_t;
json_shape_t json_shape_check (const char *text, size_t len, size_t max_depth, size_t max_values);

#endif
