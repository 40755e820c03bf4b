/*  render_changes.c: image by image, two renders compared (see render_changes.h). */
#include "render_changes.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int
s_nibble (char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

double
render_changes_difference (const char *a, const char *b)
{
    if (!a || !b || strlen (a) != PROTO_THUMB_HEX || strlen (b) != PROTO_THUMB_HEX)
        return -1;
    double sum = 0;
    for (int i = 0; i < PROTO_THUMB_HEX; i += 2) {
        int ah = s_nibble (a [i]), al = s_nibble (a [i + 1]);
        int bh = s_nibble (b [i]), bl = s_nibble (b [i + 1]);
        if (ah < 0 || al < 0 || bh < 0 || bl < 0)
            return -1;
        sum += abs ((ah << 4 | al) - (bh << 4 | bl));
    }
    return sum / (255.0 * (PROTO_THUMB_HEX / 2));
}

static bool
s_same_place (const proto_image_t *a, const proto_image_t *b)
{
    return a->slide == b->slide && strcmp (a->locale, b->locale) == 0 && strcmp (a->preset, b->preset) == 0;
}

static json_t *
s_str_or_null (const char *s)
{
    return s && *s ? json_string (s) : json_null ();
}

static json_t *
s_entry (const char *status, const proto_image_t *place, const proto_image_t *now,
         const proto_image_t *before, json_t *difference)
{
    return json_pack ("{s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "status", status, "slide", place->slide,
                      "locale", s_str_or_null (place->locale), "preset", s_str_or_null (place->preset),
                      "image", now ? s_str_or_null (now->id) : json_null (),
                      "since_image", before ? s_str_or_null (before->id) : json_null (),
                      "difference", difference);
}

json_t *
render_changes_build (const proto_render_t *now, const proto_render_t *since)
{
    json_t *images = json_array ();
    int unchanged = 0, changed = 0, added = 0, removed = 0;
    bool *matched = calloc ((size_t) (since->nimages > 0 ? since->nimages : 1), sizeof *matched);
    if (!images || !matched) {
        json_decref (images);
        free (matched);
        return NULL;
    }
    for (int32_t i = 0; i < now->nimages; i++) {
        const proto_image_t *a = &now->images [i], *b = NULL;
        for (int32_t j = 0; j < since->nimages && !b; j++)
            if (!matched [j] && s_same_place (a, &since->images [j])) {
                b = &since->images [j];
                matched [j] = true;
            }
        if (!b) {
            added++;
            json_array_append_new (images, s_entry ("new", a, a, NULL, json_null ()));
            continue;
        }
        bool both = strcmp (a->status, "succeeded") == 0 && strcmp (b->status, "succeeded") == 0;
        if (both && a->sha256 [0] && strcmp (a->sha256, b->sha256) == 0) {
            unchanged++;
            json_array_append_new (images, s_entry ("unchanged", a, a, b, json_real (0)));
            continue;
        }
        changed++;
        double d = both ? render_changes_difference (a->thumb, b->thumb) : -1;
        json_array_append_new (images, s_entry ("changed", a, a, b,
                                                d < 0 ? json_null () : json_real (round (d * 1e4) / 1e4)));
    }
    for (int32_t j = 0; j < since->nimages; j++)
        if (!matched [j]) {
            removed++;
            json_array_append_new (images, s_entry ("removed", &since->images [j], NULL,
                                                    &since->images [j], json_null ()));
        }
    free (matched);
    return json_pack ("{s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i}, s:o}", "object", "render_changes",
                      "id", now->id, "since", since->id, "summary", "unchanged", unchanged,
                      "changed", changed, "new", added, "removed", removed, "images", images);
}
