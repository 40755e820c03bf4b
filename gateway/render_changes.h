/*  render_changes.h: what changed between two renders of one account
    (GET /v1/renders/{id}/changes?since=rnd_...).

    Images are matched by (slide, locale, preset). A pair whose bytes are
    identical (sha256) is "unchanged"; any other pair is "changed", with a
    perceptual `difference` in 0..1: the mean absolute difference of the two
    images' 16x16 RGB thumbnails (proto.h PROTO_THUMB_SIDE) over 255,
    or null when either has no thumbnail (not finished, or drawn before
    thumbnails). An image only in the newer render is "new", one only in the
    earlier render "removed". A pipeline uploads only what is not unchanged.

    Thread: any; no state. Memory: the returned object is the caller's. */
#ifndef EASEL_RENDER_CHANGES_H
#define EASEL_RENDER_CHANGES_H

#include <jansson.h>
#include "proto.h"

/* The changes of render `now` since render `since`: {"object":
   "render_changes", "id", "since", "summary": {"unchanged", "changed",
   "new", "removed"}, "images": [{"status", "slide", "locale", "preset",
   "image", "since_image", "difference"}]} (images in `now`'s order, then
   the removed ones). NULL when out of memory. */
json_t *render_changes_build (const proto_render_t *now, const proto_render_t *since);

/* The perceptual difference of two thumbnails (hex, PROTO_THUMB_HEX
   digits): 0..1, or -1 when either is not a thumbnail. */
double render_changes_difference (const char *a, const char *b);

#endif
