/*  test_render_changes.c: two renders compared image by image
    (gateway/render_changes.h): unchanged by bytes, changed with a perceptual
    difference from the thumbnails, new and removed by place. */
#include "check.h"
#include "render_changes.h"

#include <math.h>
#include <string.h>

static void
s_image (proto_image_t *im, const char *id, int slide, const char *locale, char sha, char thumb)
{
    memset (im, 0, sizeof *im);
    snprintf (im->id, sizeof im->id, "%s", id);
    snprintf (im->status, sizeof im->status, "succeeded");
    snprintf (im->locale, sizeof im->locale, "%s", locale);
    snprintf (im->preset, sizeof im->preset, "appstore.iphone_6_9");
    im->slide = slide;
    memset (im->sha256, sha, 64);
    if (thumb)
        memset (im->thumb, thumb, PROTO_THUMB_HEX);
}

static const json_t *
s_entry (const json_t *obj, const char *status, const char *locale)
{
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get (obj, "images"), i, e)
        if (strcmp (json_string_value (json_object_get (e, "status")), status) == 0
        &&  strcmp (json_string_value (json_object_get (e, "locale")), locale) == 0)
            return e;
    return NULL;
}

int
main (void)
{
    CHECK (render_changes_difference ("", "") < 0, "not thumbnails: -1");
    char a [PROTO_THUMB_HEX + 1], b [PROTO_THUMB_HEX + 1];
    memset (a, '0', PROTO_THUMB_HEX), a [PROTO_THUMB_HEX] = '\0';
    memset (b, 'f', PROTO_THUMB_HEX), b [PROTO_THUMB_HEX] = '\0';
    CHECK (fabs (render_changes_difference (a, b) - 1.0) < 1e-9, "black against white is 1");
    CHECK (render_changes_difference (a, a) == 0, "the same thumbnail is 0");
    b [0] = 'x';
    CHECK (render_changes_difference (a, b) < 0, "a thumbnail with a non-hex digit is refused");

    proto_image_t now_im [3], then_im [3];
    s_image (&now_im [0], "img_a1", 0, "en-US", 'a', '1');
    s_image (&now_im [1], "img_a2", 1, "en-US", 'b', '8');
    s_image (&now_im [2], "img_a3", 0, "fr-FR", 'c', '2');
    s_image (&then_im [0], "img_b1", 0, "en-US", 'a', '1');
    s_image (&then_im [1], "img_b2", 1, "en-US", 'd', '0');
    s_image (&then_im [2], "img_b3", 0, "de-DE", 'e', 0);
    proto_render_t now = { .nimages = 3, .images = now_im }, then = { .nimages = 3, .images = then_im };
    snprintf (now.id, sizeof now.id, "rnd_now");
    snprintf (then.id, sizeof then.id, "rnd_then");
    json_t *c = render_changes_build (&now, &then);
    REQUIRE (c, "built");
    json_t *sum = json_object_get (c, "summary");
    CHECK (json_integer_value (json_object_get (sum, "unchanged")) == 1
           && json_integer_value (json_object_get (sum, "changed")) == 1
           && json_integer_value (json_object_get (sum, "new")) == 1
           && json_integer_value (json_object_get (sum, "removed")) == 1, "one of each");
    const json_t *u = s_entry (c, "unchanged", "en-US"), *ch = s_entry (c, "changed", "en-US");
    CHECK (u && json_real_value (json_object_get (u, "difference")) == 0
           && strcmp (json_string_value (json_object_get (u, "since_image")), "img_b1") == 0, "unchanged pair");
    CHECK (ch && fabs (json_real_value (json_object_get (ch, "difference")) - 0.5333) < 1e-3,
           "changed pair scored by its thumbnails (0x88 vs 0x00 = 136/255)");
    CHECK (s_entry (c, "new", "fr-FR") && json_is_null (json_object_get (s_entry (c, "new", "fr-FR"), "since_image")),
           "new image has no earlier one");
    CHECK (s_entry (c, "removed", "de-DE") && json_is_null (json_object_get (s_entry (c, "removed", "de-DE"), "image")),
           "removed image has no newer one");
    json_decref (c);

    /* a changed pair without thumbnails says so with null */
    then_im [1].thumb [0] = '\0';
    c = render_changes_build (&now, &then);
    CHECK (json_is_null (json_object_get (s_entry (c, "changed", "en-US"), "difference")),
           "no thumbnail: difference null");
    json_decref (c);
    return check_done ("render_changes");
}
