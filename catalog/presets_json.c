/*  presets_json.c: GET /v1/presets (see presets_json.h). No state. */
#include "presets_json.h"
#include "presets.h"

#include <stdio.h>

static json_t *
s_size (int32_t w, int32_t h)
{
    return json_pack ("{s:i, s:i}", "width", (int) w, "height", (int) h);
}

static json_t *
s_canvas (const presets_canvas_t *p)
{
    json_t *sizes = json_array ();
    for (int i = 0; i < p->nsizes; i++)
        json_array_append_new (sizes, s_size (p->sizes[i].width, p->sizes[i].height));
    bool landscape = p->sizes[0].width > p->sizes[0].height;
    json_t *orient = json_array ();
    if (p->sizes[0].width == p->sizes[0].height)
        json_array_append_new (orient, json_string ("square"));
    else {
        json_array_append_new (orient, json_string (landscape ? "landscape" : "portrait"));
        if (p->orient == PRESETS_ORIENT_BOTH)
            json_array_append_new (orient, json_string (landscape ? "portrait" : "landscape"));
    }
    json_t *rules = json_object ();
    if (p->rule_sized) {
        json_object_set_new (rules, "min_side", json_integer (p->min_side));
        json_object_set_new (rules, "max_side", json_integer (p->max_side));
        json_object_set_new (rules, "max_aspect_ratio", json_real (p->max_ratio));
    }
    else
        json_object_set_new (rules, "exact_sizes", json_true ());
    json_t *formats = json_pack ("[s, s]", "png", "jpeg");
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:s}",
                             "name", p->name, "object", "preset", "store", p->store,
                             "display_class", p->display,
                             "default_size", s_size (p->sizes[0].width, p->sizes[0].height),
                             "sizes", sizes, "orientations", orient, "size_rules", rules,
                             "max_bytes", p->max_bytes ? json_integer (p->max_bytes) : json_null (),
                             "alpha_allowed", 0, "formats", formats, "platform", p->platform);
    return obj;
}

static json_t *
s_background (const presets_background_t *b)
{
    json_t *colors = json_array ();
    for (int i = 0; i < b->ncolors; i++) {
        char hex[8];
        snprintf (hex, sizeof hex, "#%06X", (unsigned) (b->colors[i] & 0xFFFFFF));
        json_array_append_new (colors, json_string (hex));
    }
    return json_pack ("{s:s, s:o, s:i}", "name", b->name, "colors", colors, "angle", (int) b->angle);
}

json_t *
presets_json_build (void)
{
    json_t *data = json_array ();
    json_t *bgs = json_array ();
    if (!data || !bgs) {
        json_decref (data);
        json_decref (bgs);
        return NULL;
    }
    const presets_canvas_t *p;
    for (size_t i = 0; (p = presets_at (i)); i++)
        json_array_append_new (data, s_canvas (p));
    const presets_background_t *b;
    for (size_t i = 0; (b = presets_background_at (i)); i++)
        json_array_append_new (bgs, s_background (b));
    return json_pack ("{s:s, s:o, s:o}", "object", "list", "data", data, "backgrounds", bgs);
}
