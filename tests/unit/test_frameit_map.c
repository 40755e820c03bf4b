/*  test_frameit_map.c: frameit's inputs as Easel sees them (cli/frameit_map.h):
    devices by size, file name, platform and force_device_type; the
    Framefile's default deep-merged with matching data[] filters; the slide
    a config makes, and one warning per key Easel cannot honour. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "check.h"
#include "frameit_map.h"

static bool
s_warned (json_t *w, const char *part)
{
    size_t i, n = 0;
    json_t *v;
    json_array_foreach (w, i, v)
        n += strstr (json_string_value (v), part) != NULL;
    return n == 1;
}

int
main (void)
{
    const frameit_device_t *d = frameit_device_detect (1320, 2868, "x.png", "IOS");
    CHECK (d && strcmp (d->preset, "appstore.iphone_6_9") == 0, "1320x2868 is the 6.9\" class");
    d = frameit_device_detect (2868, 1320, "x.png", "IOS");
    CHECK (d && strcmp (d->preset, "appstore.iphone_6_9") == 0, "landscape sizes match too");
    CHECK (frameit_device_detect (1080, 1920, "x.png", "IOS") == NULL, "an Android size on IOS: none");
    d = frameit_device_detect (1080, 1920, "x.png", "ANDROID");
    CHECK (d && strcmp (d->preset, "play.phone") == 0, "1080x1920 on ANDROID is a Play phone");
    d = frameit_device_detect (1536, 2048, "x.png", "IOS");
    CHECK (d && strcmp (d->frame, "ipad") == 0, "1536x2048 on IOS is an iPad");
    d = frameit_device_detect (1536, 2048, "Nexus 9-01.png", "IOS");
    CHECK (d && strcmp (d->preset, "play.tablet_10") == 0, "the file name wins over the platform");
    d = frameit_device_detect (1080, 2340, "x.png", "ANY");
    CHECK (d && strcmp (d->id, "iphone-13-mini") == 0, "ANY: the higher priority (%s)", d ? d->id : "none");
    CHECK (frameit_device_find ("iPad Air 2") && frameit_device_find ("nexus-5x") && !frameit_device_find ("Foo"),
           "force_device_type by name and id");

    json_error_t je;
    json_t *ff = json_loads ("{\"default\":{\"title\":{\"color\":\"#fff\",\"font_size\":100},\"padding\":\"5%\"},"
                             "\"data\":[{\"filter\":\"Home\",\"title\":{\"text\":\"Hi\"},\"frame\":\"BLACK\"},"
                             "{\"filter\":\"iPad\",\"title\":{\"color\":\"#102030\"},\"title_below_image\":true}]}", 0, &je);
    char err [FRAMEIT_ERR_MAX];
    json_t *c = frameit_config (ff, "en-US/iPad-Home.png", err, sizeof err);
    CHECK (c && json_integer_value (json_object_get (json_object_get (c, "title"), "font_size")) == 100
           && strcmp (json_string_value (json_object_get (json_object_get (c, "title"), "text")), "Hi") == 0
           && strcmp (json_string_value (json_object_get (json_object_get (c, "title"), "color")), "#102030") == 0
           && !json_object_get (c, "filter"), "deep merge of default and both filters");
    json_t *w = json_array ();
    json_t *slide = frameit_slide (c, "Line one\nLine two", NULL, 1000, 2000, w, err, sizeof err);
    json_t *head = json_object_get (slide, "headline");
    CHECK (slide && json_array_size (json_object_get (head, "lines")) == 2, "a line break makes two lines");
    CHECK (strcmp (json_string_value (json_object_get (head, "color")), "#102030") == 0, "colour");
    CHECK (json_integer_value (json_object_get (json_object_get (head, "font_size"), "max")) == 200,
           "font_size scales with the canvas (100 px of 1000 -> 200 of 2000)");
    json_t *layout = json_object_get (slide, "layout");
    CHECK (json_integer_value (json_object_get (layout, "padding")) == 5
           && strcmp (json_string_value (json_object_get (layout, "finish")), "black") == 0
           && strcmp (json_string_value (json_object_get (layout, "text_position")), "bottom") == 0,
           "padding, frame and title_below_image");
    json_decref (slide);
    json_decref (c);

    json_t *bad = json_loads ("{\"title\":{\"color\":\"red\"}}", 0, &je);
    CHECK (frameit_slide (bad, "x", NULL, 100, 100, w, err, sizeof err) == NULL && strstr (err, "title.color"),
           "a colour without # is refused like frameit: %s", err);
    json_decref (bad);
    bad = json_loads ("{\"frame\":\"PLAID\"}", 0, &je);
    CHECK (frameit_slide (bad, "x", NULL, 100, 100, w, err, sizeof err) == NULL && strstr (err, "PLAID"),
           "an unknown frame colour is refused");
    json_decref (bad);

    json_t *odd = json_loads ("{\"interline_spacing\":4,\"show_complete_frame\":false,\"shadow\":1,"
                              "\"frame\":\"ROSE_GOLD\",\"title\":{\"font\":\"a.ttf\",\"fonts\":[]},"
                              "\"keyword\":{\"color\":\"#FF0000\"},\"stack_title\":false}", 0, &je);
    for (int i = 0; i < 2; i++) {
        slide = frameit_slide (odd, "Title", "Key", 100, 100, w, err, sizeof err);
        CHECK (slide && strcmp (json_string_value (json_array_get (json_object_get (json_object_get (slide, "headline"),
               "lines"), 0)), "Key Title") == 0, "keyword and title on one line");
        json_decref (slide);
    }
    CHECK (s_warned (w, "interline_spacing") && s_warned (w, "show_complete_frame") && s_warned (w, "\"shadow\"")
           && s_warned (w, "ROSE_GOLD") && s_warned (w, "title.font:") && s_warned (w, "title.fonts")
           && s_warned (w, "one line"), "each unsupported key warned once: %s", json_dumps (w, 0));
    json_decref (odd);
    slide = frameit_slide (json_object_get (ff, "default"), "T", "K", 100, 100, w, err, sizeof err);
    json_decref (slide);
    json_t *stacked = json_loads ("{\"stack_title\":true,\"keyword\":{\"color\":\"#00FF00\"}}", 0, &je);
    slide = frameit_slide (stacked, "Title", "Key", 100, 100, w, err, sizeof err);
    CHECK (slide && strcmp (json_string_value (json_object_get (json_object_get (slide, "headline"), "color")), "#00FF00") == 0
           && json_object_get (slide, "subtitle"), "stack_title: keyword headline, title subtitle");
    json_decref (slide);
    json_decref (stacked);
    json_decref (w);
    json_decref (ff);
    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("frameit_map: all checks passed\n");
    return check_failures ? 1 : 0;
}
