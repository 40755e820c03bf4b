/*  frameit_map.c: frameit's device table, Framefile merge and the slide a
    screenshot becomes (see frameit_map.h). The device sizes are fastlane
    frameit's (device_types.rb); the preset is the App Store or Play class
    those sizes belong to today. */
#include "frameit_map.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const frameit_device_t s_devices [] = {
    { "iphone-se",        "iPhone SE",          3, "IOS", {{640, 1136}, {640, 1096}}, "appstore.iphone_4_7", "iphone_home" },
    { "iphone-8",         "iPhone 8",           6, "IOS", {{750, 1334}},              "appstore.iphone_4_7", "iphone_home" },
    { "iphone-8-plus",    "iPhone 8 Plus",      6, "IOS", {{1242, 2208}},             "appstore.iphone_5_5", "iphone_home" },
    { "iphone-11",        "iPhone 11",          9, "IOS", {{828, 1792}},              "appstore.iphone_6_1", "iphone" },
    { "iphone-11-pro",    "iPhone 11 Pro",      9, "IOS", {{1125, 2436}},             "appstore.iphone_6_1", "iphone" },
    { "iphone11-pro-max", "iPhone 11 Pro Max",  9, "IOS", {{1242, 2688}},             "appstore.iphone_6_5", "iphone" },
    { "iphone-13-mini",   "iPhone 13 Mini",    11, "IOS", {{1080, 2340}},             "appstore.iphone_6_1", "iphone" },
    { "iphone-14",        "iPhone 14",         12, "IOS", {{1170, 2532}},             "appstore.iphone_6_1", "iphone" },
    { "iphone-14-plus",   "iPhone 14 Plus",    12, "IOS", {{1284, 2778}},             "appstore.iphone_6_5", "iphone" },
    { "iphone-16",        "iPhone 16",         13, "IOS", {{1179, 2556}},             "appstore.iphone_6_3", "iphone" },
    { "iphone-16-plus",   "iPhone 16 Plus",    13, "IOS", {{1290, 2796}},             "appstore.iphone_6_9", "iphone" },
    { "iphone-17-pro",    "iPhone 17 Pro",     14, "IOS", {{1206, 2622}},             "appstore.iphone_6_3", "iphone" },
    { "iphone17-pro-max", "iPhone 17 Pro Max", 14, "IOS", {{1320, 2868}},             "appstore.iphone_6_9", "iphone" },
    { "ipad-10-2",        "iPad 10.2",          1, "IOS", {{1620, 2160}},             "appstore.ipad_11",    "ipad" },
    { "ipad-air-2",       "iPad Air 2",         1, "IOS", {{1536, 2048}},             "appstore.ipad_11",    "ipad" },
    { "ipad-air-2019",    "iPad Air (2019)",    2, "IOS", {{1668, 2224}},             "appstore.ipad_11",    "ipad" },
    { "ipadPro11",        "iPad Pro (11-inch)", 1, "IOS", {{1668, 2388}},             "appstore.ipad_11",    "ipad" },
    { "ipadPro129",       "iPad Pro (12.9-inch) (4th generation)", 5, "IOS", {{2048, 2732}}, "appstore.ipad_13", "ipad" },
    { "mac",              "MacBook",            0, "IOS", {{800, 1280}, {900, 1440}, {1600, 2560}, {1800, 2880}}, "appstore.mac", "mac" },
    { "samsung-galaxy-s-duos", "Samsung Galaxy S Duos", 3, "ANDROID", {{480, 800}}, "play.phone", "android_phone" },
    { "motorola-moto-e",  "Motorola Moto E",    3, "ANDROID", {{540, 960}},           "play.phone", "android_phone" },
    { "samsung-galaxy-s3", "Samsung Galaxy S3", 3, "ANDROID", {{720, 1280}},          "play.phone", "android_phone" },
    { "nexus-4",          "Nexus 4",            7, "ANDROID", {{768, 1280}},          "play.phone", "android_phone" },
    { "nexus-5x",         "Nexus 5X",           7, "ANDROID", {{1080, 1920}},         "play.phone", "android_phone" },
    { "google-pixel-3",   "Google Pixel 3",     7, "ANDROID", {{1080, 2160}},         "play.phone", "android_phone" },
    { "google-pixel-4",   "Google Pixel 4",     9, "ANDROID", {{1080, 2280}},         "play.phone", "android_phone" },
    { "google-pixel-5",   "Google Pixel 5",    10, "ANDROID", {{1080, 2340}},         "play.phone", "android_phone" },
    { "nexus-6p",         "Nexus 6P",           7, "ANDROID", {{1440, 2560}},         "play.phone", "android_phone" },
    { "google-pixel-3-xl", "Google Pixel 3 XL", 7, "ANDROID", {{1440, 2960}},         "play.phone", "android_phone" },
    { "google-pixel-4-xl", "Google Pixel 4 XL", 9, "ANDROID", {{1440, 3040}},         "play.phone", "android_phone" },
    { "nexus-9",          "Nexus 9",            7, "ANDROID", {{1536, 2048}},         "play.tablet_10", "android_tablet" },
};
#define S_NDEVICES (sizeof s_devices / sizeof s_devices [0])

static bool
s_takes (const frameit_device_t *d, int w, int h)
{
    for (int i = 0; i < 4 && d->sizes [i][0]; i++)
        if ((d->sizes [i][0] == w && d->sizes [i][1] == h) || (d->sizes [i][0] == h && d->sizes [i][1] == w))
            return true;
    return false;
}

const frameit_device_t *
frameit_device_detect (int w, int h, const char *filename, const char *platform)
{
    const frameit_device_t *by_name = NULL, *found = NULL;
    bool any = !platform || strcasecmp (platform, "ANY") == 0;
    for (size_t i = 0; i < S_NDEVICES; i++) {
        const frameit_device_t *d = &s_devices [i];
        if (!s_takes (d, w, h))
            continue;
        if (filename && (strstr (filename, d->name) || strstr (filename, d->id))
        &&  (!by_name || d->priority > by_name->priority))
            by_name = d;
        if ((any || strcasecmp (platform, d->platform) == 0) && (!found || d->priority > found->priority))
            found = d;
    }
    return by_name ? by_name : found;
}

const frameit_device_t *
frameit_device_find (const char *id_or_name)
{
    for (size_t i = 0; id_or_name && i < S_NDEVICES; i++)
        if (strcmp (s_devices [i].id, id_or_name) == 0 || strcmp (s_devices [i].name, id_or_name) == 0)
            return &s_devices [i];
    return NULL;
}

void
frameit_warn (json_t *warnings, const char *fmt, ...)
{
    char msg [FRAMEIT_ERR_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    size_t i;
    json_t *w;
    json_array_foreach (warnings, i, w)
        if (strcmp (json_string_value (w), msg) == 0)
            return;
    json_array_append_new (warnings, json_string (msg));
}

/* Objects merge key by key (recursively); anything else is replaced. */
static void
s_deep_merge (json_t *into, const json_t *from)
{
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *) from, k, v) {
        json_t *cur = json_object_get (into, k);
        if (json_is_object (cur) && json_is_object (v))
            s_deep_merge (cur, v);
        else
            json_object_set_new (into, k, json_deep_copy (v));
    }
}

json_t *
frameit_config (const json_t *framefile, const char *path, char *err, size_t err_size)
{
    if (!framefile)
        return json_object ();
    const json_t *def = json_object_get (framefile, "default");
    const json_t *data = json_object_get (framefile, "data");
    if ((def && !json_is_object (def)) || (data && !json_is_array (data))) {
        snprintf (err, err_size, "Framefile.json: \"default\" is an object and \"data\" an array");
        return NULL;
    }
    json_t *values = def ? json_deep_copy (def) : json_object ();
    size_t i;
    json_t *entry;
    json_array_foreach ((json_t *) data, i, entry) {
        const char *filter = json_string_value (json_object_get (entry, "filter"));
        if (!json_is_object (entry) || !filter) {
            snprintf (err, err_size, "Framefile.json: data[%zu] is an object with a \"filter\" string", i);
            json_decref (values);
            return NULL;
        }
        if (strstr (path, filter))
            s_deep_merge (values, entry);
    }
    json_object_del (values, "filter");
    return values;
}

/* "#RGB" / "#RRGGBB" (frameit passes any colour with '#' to ImageMagick). */
static int
s_color (const char *v, char out [8])
{
    size_t n = v ? strlen (v) : 0;
    if (n == 4 && v [0] == '#' && strspn (v + 1, "0123456789abcdefABCDEF") == 3) {
        snprintf (out, 8, "#%c%c%c%c%c%c", v [1], v [1], v [2], v [2], v [3], v [3]);
        return 0;
    }
    if ((n == 7 || n == 9) && v [0] == '#' && strspn (v + 1, "0123456789abcdefABCDEF") == n - 1) {
        snprintf (out, 8, "%.7s", v);
        return 0;
    }
    return -1;
}

/* Lines of text (split at line breaks, empty ones left out, at most 4). */
static json_t *
s_lines (const char *text, const char *what, json_t *warnings)
{
    json_t *lines = json_array ();
    const char *p = text;
    while (*p) {
        size_t n = strcspn (p, "\n");
        if (n > 0) {
            if (json_array_size (lines) == 4) {
                frameit_warn (warnings, "%s \"%.40s...\": Easel draws at most 4 lines; the rest is left out", what, text);
                break;
            }
            if (n > 200) {
                frameit_warn (warnings, "%s \"%.40s...\": a line is over 200 bytes; it is cut at 200", what, text);
                n = 200;
                while (n > 0 && ((unsigned char) p [n] & 0xC0) == 0x80)
                    n--;
            }
            json_array_append_new (lines, json_stringn (p, n));
        }
        p += strcspn (p, "\n");
        if (*p)
            p++;
    }
    if (json_array_size (lines) == 0) {
        json_decref (lines);
        return NULL;
    }
    return lines;
}

/* The headline/subtitle style of a Framefile "title"/"keyword" object. */
static int
s_text_style (const json_t *t, const char *key, const json_t *config, int shot_w, int canvas_w,
              json_t *out, json_t *warnings, char *err, size_t err_size)
{
    static const char *const known [] = { "color", "font", "font_size", "font_weight", "text", "fonts", NULL };
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *) t, k, v) {
        bool ok = false;
        for (int i = 0; known [i]; i++)
            ok |= strcmp (known [i], k) == 0;
        if (!ok)
            frameit_warn (warnings, "%s.%s is not a frameit key; ignored", key, k);
    }
    const char *color = json_string_value (json_object_get (t, "color"));
    if (json_object_get (t, "color")) {
        char hex [8];
        if (s_color (color, hex)) {
            snprintf (err, err_size, "%s.color \"%s\" is not a colour like #RRGGBB", key, color ? color : "?");
            return -1;
        }
        json_object_set_new (out, "color", json_string (hex));
    }
    if (json_object_get (t, "font"))
        frameit_warn (warnings, "%s.font: Easel draws text in its own fonts (Noto by script); the font file is not used", key);
    if (json_object_get (t, "fonts"))
        frameit_warn (warnings, "%s.fonts: per-locale fonts are not used; Easel picks Noto by each locale's script (CJK forms by locale)", key);
    json_t *w = json_object_get (t, "font_weight");
    if (w) {
        long weight = 0;
        const char *ws = json_string_value (w);
        if (json_is_number (w))
            weight = lround (json_number_value (w));
        else if (ws && (strcasecmp (ws, "bold") == 0 || strcasecmp (ws, "bolder") == 0))
            weight = 700;
        else if (ws && strcasecmp (ws, "normal") == 0)
            weight = 400;
        else if (ws)
            weight = strtol (ws, NULL, 10);
        if (weight < 100 || weight > 900) {
            frameit_warn (warnings, "%s.font_weight is not 100-900, bold or normal; the default weight is used", key);
        }
        else
            json_object_set_new (out, "weight", json_integer ((weight + 50) / 100 * 100));
    }
    double px = 0;
    json_t *fs = json_object_get (t, "font_size");
    if (json_is_number (fs) && json_number_value (fs) > 0)
        px = json_number_value (fs) * canvas_w / (shot_w > 0 ? shot_w : canvas_w);
    else {
        json_t *f = json_object_get (config, "font_scale_factor");
        if (f && !json_is_number (f)) {
            snprintf (err, err_size, "font_scale_factor must be numeric");
            return -1;
        }
        if (f)
            px = json_number_value (f) * canvas_w;
    }
    if (px > 0) {
        long size = lround (px);
        if (size < 8 || size > 1000) {
            frameit_warn (warnings, "%s font size %ld px (scaled to the canvas) is outside 8-1000; clamped", key, size);
            size = size < 8 ? 8 : 1000;
        }
        json_object_set_new (out, "font_size", json_pack ("{s:I}", "max", (json_int_t) size));
    }
    return 0;
}

/* padding: integer pixels of the screenshot, "AxB" or "N%"; Easel's is
   the side padding in % of the width (0-30). -1 on a bad value. */
static int
s_padding (const json_t *p, int shot_w, json_t *warnings, double *pct)
{
    if (json_is_integer (p)) {
        *pct = 100.0 * (double) json_integer_value (p) / (shot_w > 0 ? shot_w : 1);
        return 0;
    }
    const char *s = json_string_value (p);
    if (!s)
        return -1;
    size_t n = strlen (s);
    char *end = NULL;
    if (n > 1 && s [n - 1] == '%') {
        *pct = strtod (s, &end);
        return end == s + n - 1 && *pct > 0 ? 0 : -1;
    }
    long a = strtol (s, &end, 10);
    if (end == s || *end != 'x')
        return -1;
    char *end2 = NULL;
    strtol (end + 1, &end2, 10);
    if (end2 == end + 1 || *end2)
        return -1;
    frameit_warn (warnings, "padding \"%s\": Easel takes the side padding only (%ld px); the vertical part is not used", s, a);
    *pct = 100.0 * (double) a / (shot_w > 0 ? shot_w : 1);
    return 0;
}

/* frameit frame colours: dark ones draw the black finish, the rest silver. */
static const char *
s_finish (const char *color, json_t *warnings)
{
    static const char *const exact_black [] = { "BLACK", "SPACE_GRAY", "MATTE_BLACK", "JUST_BLACK", NULL };
    static const char *const exact_silver [] = { "SILVER", "WHITE", "CLEARLY_WHITE", NULL };
    static const char *const dark_words [] = { "BLACK", "GRAY", "GRAPHITE", "MIDNIGHT", "DEEP", "BURGUNDY",
                                               "ULTRAMARINE", "PACIFIC", NULL };
    static const char *const light_words [] = { "WHITE", "SILVER", "GOLD", "PINK", "CORAL", "STARLIGHT",
                                                "TITANIUM", "ORANGE", "LAVENDER", "SAGE", "BLUE", "RED",
                                                "YELLOW", "GREEN", "PURPLE", "SIERRA", "TEAL", "GLOW", NULL };
    for (int i = 0; exact_black [i]; i++)
        if (strcmp (color, exact_black [i]) == 0)
            return "black";
    for (int i = 0; exact_silver [i]; i++)
        if (strcmp (color, exact_silver [i]) == 0)
            return "silver";
    for (int i = 0; dark_words [i]; i++)
        if (strstr (color, dark_words [i])) {
            frameit_warn (warnings, "frame %s: Easel has black and silver finishes; drawn black", color);
            return "black";
        }
    for (int i = 0; light_words [i]; i++)
        if (strstr (color, light_words [i])) {
            frameit_warn (warnings, "frame %s: Easel has black and silver finishes; drawn silver", color);
            return "silver";
        }
    return NULL;
}

json_t *
frameit_slide (const json_t *config, const char *title, const char *keyword, int shot_w, int canvas_w,
               json_t *warnings, char *err, size_t err_size)
{
    static const char *const known [] = { "title", "keyword", "background", "padding", "stack_title",
        "title_below_image", "show_complete_frame", "interline_spacing", "font_scale_factor", "frame",
        "use_platform", "force_device_type", "title_min_height", NULL };
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *) config, k, v) {
        bool ok = false;
        for (int i = 0; known [i]; i++)
            ok |= strcmp (known [i], k) == 0;
        if (!ok)
            frameit_warn (warnings, "Framefile key \"%s\" is not a frameit key; ignored", k);
    }
    json_t *slide = json_object ();
    json_t *layout = json_object ();
    json_t *head = json_object (), *sub = json_object ();
    json_t *tcfg = json_object_get (config, "title"), *kcfg = json_object_get (config, "keyword");
    bool stack = json_is_true (json_object_get (config, "stack_title"));
    /* frameit: keyword then title on one line, or stacked (keyword above).
       Easel: stacked -> headline keyword, subtitle title; else one headline. */
    const json_t *head_cfg = tcfg;
    char joined [1024];
    const char *head_text = title, *sub_text = NULL;
    if (keyword && title && stack) {
        head_text = keyword;
        sub_text = title;
        head_cfg = kcfg;
    }
    else
    if (keyword && title) {
        snprintf (joined, sizeof joined, "%s %s", keyword, title);
        head_text = joined;
        if (kcfg && tcfg && !json_equal (json_object_get (kcfg, "color"), json_object_get (tcfg, "color")))
            frameit_warn (warnings, "keyword and title on one line: Easel draws one headline in the title's style; keyword.color/font_weight are not used (set \"stack_title\": true to draw the keyword as the headline)");
    }
    else
    if (keyword) {
        head_text = keyword;
        head_cfg = kcfg;
    }
    if ((tcfg && !json_is_object (tcfg)) || (kcfg && !json_is_object (kcfg))) {
        snprintf (err, err_size, "title and keyword are objects");
        goto fail;
    }
    if (tcfg && s_text_style (tcfg, "title", config, shot_w, canvas_w, head_cfg == tcfg ? head : sub, warnings, err, err_size))
        goto fail;
    json_t *scratch = json_object ();
    int krc = kcfg ? s_text_style (kcfg, "keyword", config, shot_w, canvas_w, head_cfg == kcfg ? head : scratch,
                                   warnings, err, err_size) : 0;
    json_decref (scratch);
    if (krc)
        goto fail;
    json_t *lines = head_text ? s_lines (head_text, "title", warnings) : NULL;
    if (lines) {
        json_object_set_new (head, "lines", lines);
        json_object_set (slide, "headline", head);
    }
    json_t *slines = sub_text ? s_lines (sub_text, "title", warnings) : NULL;
    if (slines) {
        json_object_set_new (sub, "lines", slines);
        json_object_del (sub, "weight");              /* Easel draws subtitles regular */
        json_object_set (slide, "subtitle", sub);
    }
    json_t *p = json_object_get (config, "padding");
    if (p) {
        double pct;
        if (s_padding (p, shot_w, warnings, &pct)) {
            snprintf (err, err_size, "padding must be an integer, \"AxB\" or a percentage like \"5%%\"");
            goto fail;
        }
        long r = lround (pct);
        if (r < 0 || r > 30) {
            frameit_warn (warnings, "padding is %ld %% of the width; Easel takes 0-30 %%, clamped", r);
            r = r < 0 ? 0 : 30;
        }
        json_object_set_new (layout, "padding", json_integer (r));
    }
    json_t *below = json_object_get (config, "title_below_image");
    json_t *complete = json_object_get (config, "show_complete_frame");
    if ((below && !json_is_boolean (below)) || (complete && !json_is_boolean (complete))) {
        snprintf (err, err_size, "title_below_image and show_complete_frame must be Booleans");
        goto fail;
    }
    if (json_is_true (below))
        json_object_set_new (layout, "text_position", json_string ("bottom"));
    if (json_is_false (complete))
        frameit_warn (warnings, "show_complete_frame false: Easel always draws the whole device, scaled to fit");
    if (json_object_get (config, "interline_spacing"))
        frameit_warn (warnings, "interline_spacing: Easel sets line spacing from the font size; not used");
    if (json_object_get (config, "title_min_height"))
        frameit_warn (warnings, "title_min_height: Easel gives the text 20 %% of the height; not used");
    const char *frame = json_string_value (json_object_get (config, "frame"));
    if (json_object_get (config, "frame")) {
        const char *finish = frame ? s_finish (frame, warnings) : NULL;
        if (!finish) {
            snprintf (err, err_size, "frame \"%s\" is not a frameit frame colour (BLACK, WHITE, SILVER, GOLD, ROSE_GOLD...)",
                      frame ? frame : "?");
            goto fail;
        }
        json_object_set_new (layout, "finish", json_string (finish));
    }
    if (json_object_size (layout))
        json_object_set (slide, "layout", layout);
    json_decref (layout);
    json_decref (head);
    json_decref (sub);
    return slide;
fail:
    json_decref (layout);
    json_decref (head);
    json_decref (sub);
    json_decref (slide);
    return NULL;
}
