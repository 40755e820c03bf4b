/*  presets.c: the preset tables behind presets.h. Read-only data, no state. */
#include <string.h>
#include "presets.h"

#define S(w, h) { (w), (h) }
#define MB (1024 * 1024)
/* App Store: listed sizes only, no file size cap stated by the store */
#define APPLE(orient) (orient), false, 0, 0, 0.0, 0, "apple"
/* Google Play: any size with sides 320..3840 and long side <= 2x short, 8 MB */
#define PLAY(orient) (orient), true, 320, 3840, 2.0, 8 * MB, "android"

static const presets_canvas_t s_canvases[] = {
    { "appstore.iphone_6_9", "appstore", "iPhone 6.9\" display", 3,
      { S (1320, 2868), S (1290, 2796), S (1260, 2736) }, APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.iphone_6_5", "appstore", "iPhone 6.5\" display", 2,
      { S (1284, 2778), S (1242, 2688) }, APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.iphone_6_3", "appstore", "iPhone 6.3\" display", 2,
      { S (1206, 2622), S (1179, 2556) }, APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.iphone_6_1", "appstore", "iPhone 6.1\" display", 3,
      { S (1170, 2532), S (1125, 2436), S (1080, 2340) }, APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.iphone_5_5", "appstore", "iPhone 5.5\" display", 1, { S (1242, 2208) },
      APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.iphone_4_7", "appstore", "iPhone 4.7\" display", 1, { S (750, 1334) },
      APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.ipad_13", "appstore", "iPad 13\" display", 2,
      { S (2064, 2752), S (2048, 2732) }, APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.ipad_12_9", "appstore", "iPad Pro 12.9\" display", 1, { S (2048, 2732) },
      APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.ipad_11", "appstore", "iPad 11\" display", 4,
      { S (1668, 2420), S (1668, 2388), S (1640, 2360), S (1488, 2266) },
      APPLE (PRESETS_ORIENT_BOTH) },
    { "appstore.mac", "appstore", "Mac", 4,
      { S (2880, 1800), S (2560, 1600), S (1440, 900), S (1280, 800) },
      APPLE (PRESETS_ORIENT_NATIVE) },
    { "appstore.tv", "appstore", "Apple TV", 2, { S (3840, 2160), S (1920, 1080) },
      APPLE (PRESETS_ORIENT_NATIVE) },
    { "appstore.vision_pro", "appstore", "Apple Vision Pro", 1, { S (3840, 2160) },
      APPLE (PRESETS_ORIENT_NATIVE) },
    { "appstore.watch_ultra", "appstore", "Apple Watch Ultra", 2, { S (422, 514), S (410, 502) },
      APPLE (PRESETS_ORIENT_NATIVE) },
    { "appstore.watch_s10", "appstore", "Apple Watch Series 10", 1, { S (416, 496) },
      APPLE (PRESETS_ORIENT_NATIVE) },
    { "appstore.watch_s7", "appstore", "Apple Watch Series 7", 1, { S (396, 484) },
      APPLE (PRESETS_ORIENT_NATIVE) },
    { "play.phone", "play", "Phone", 1, { S (1080, 1920) }, PLAY (PRESETS_ORIENT_BOTH) },
    { "play.tablet_7", "play", "7-inch tablet", 1, { S (1200, 1920) }, PLAY (PRESETS_ORIENT_BOTH) },
    { "play.tablet_10", "play", "10-inch tablet", 1, { S (1600, 2560) }, PLAY (PRESETS_ORIENT_BOTH) },
    { "play.chromebook", "play", "Chromebook", 1, { S (1920, 1080) }, PLAY (PRESETS_ORIENT_BOTH) },
    { "play.tv", "play", "Android TV", 1, { S (1920, 1080) }, PLAY (PRESETS_ORIENT_NATIVE) },
    /* Wear OS: square only (ratio 1:1), sides 384..3840 */
    { "play.wear", "play", "Wear OS", 1, { S (384, 384) },
      PRESETS_ORIENT_NATIVE, true, 384, 3840, 1.0, 8 * MB, "android" },
    /* exactly 1024x500, at most 1 MB */
    { "play.feature_graphic", "play", "Feature graphic", 1, { S (1024, 500) },
      PRESETS_ORIENT_NATIVE, false, 0, 0, 0.0, 1 * MB, "android" },
};

static const presets_background_t s_backgrounds[] = {
    { "midnight", 2, { 0x0F2027, 0x2C5364 }, 180 },
    { "ocean",    2, { 0x1E3C72, 0x2A5298 }, 180 },
    { "sunset",   3, { 0xFF5F6D, 0xFF9966, 0xFFC371 }, 180 },
    { "forest",   2, { 0x134E5E, 0x71B280 }, 180 },
    { "graphite", 2, { 0x232526, 0x414345 }, 180 },
    { "paper",    1, { 0xF5F5F0 }, 180 },
    { "aurora",   3, { 0x0B3D5C, 0x1FA2A0, 0x6A3FB5 }, 160 },
};

/* Preset name prefix -> default frame and form factor (first match wins). */
static const struct { const char *prefix, *device, *form; } s_kinds[] = {
    { .prefix = "appstore.iphone_5_5", .device = "iphone_home", .form = "phone" },
    { .prefix = "appstore.iphone_4_7", .device = "iphone_home", .form = "phone" },
    { .prefix = "appstore.iphone_", .device = "iphone", .form = "phone" },
    { .prefix = "appstore.ipad_", .device = "ipad", .form = "tablet" },
    { .prefix = "appstore.mac", .device = "mac", .form = "desktop" },
    { .prefix = "appstore.tv", .device = "none", .form = "tv" },
    { .prefix = "appstore.vision_pro", .device = "none", .form = "tv" },
    { .prefix = "appstore.watch_", .device = "watch", .form = "watch" },
    { .prefix = "play.phone", .device = "android_phone", .form = "phone" },
    { .prefix = "play.tablet_", .device = "android_tablet", .form = "tablet" },
    { .prefix = "play.chromebook", .device = "none", .form = "desktop" },
    { .prefix = "play.tv", .device = "none", .form = "tv" },
    { .prefix = "play.wear", .device = "none", .form = "watch" },
    { .prefix = "play.feature_graphic", .device = "none", .form = "any" },
};

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

const presets_canvas_t *
presets_find (const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < COUNT (s_canvases); i++)
        if (strcmp (s_canvases[i].name, name) == 0)
            return &s_canvases[i];
    return NULL;
}

const presets_canvas_t *
presets_at (size_t i)
{
    return i < COUNT (s_canvases) ? &s_canvases[i] : NULL;
}

size_t
presets_count (void)
{
    return COUNT (s_canvases);
}

bool
presets_size_ok (const presets_canvas_t *p, int32_t w, int32_t h)
{
    if (!p)
        return false;
    for (int i = 0; i < p->nsizes; i++) {
        if (p->sizes[i].width == w && p->sizes[i].height == h)
            return true;
        if (p->orient == PRESETS_ORIENT_BOTH && p->sizes[i].width == h && p->sizes[i].height == w)
            return true;
    }
    if (!p->rule_sized)
        return false;
    int32_t lo = w < h ? w : h, hi = w < h ? h : w;
    if (lo < p->min_side || hi > p->max_side || hi > p->max_ratio * lo)
        return false;
    /* a native-only rule (TV) keeps its orientation */
    return p->orient == PRESETS_ORIENT_BOTH
        || (p->sizes[0].width >= p->sizes[0].height) == (w >= h);
}

bool
presets_appstore_size_known (int32_t w, int32_t h)
{
    for (size_t i = 0; i < COUNT (s_canvases); i++)
        if (strcmp (s_canvases[i].store, "appstore") == 0 && presets_size_ok (&s_canvases[i], w, h))
            return true;
    return false;
}

const presets_background_t *
presets_background_find (const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < COUNT (s_backgrounds); i++)
        if (strcmp (s_backgrounds[i].name, name) == 0)
            return &s_backgrounds[i];
    return NULL;
}

const presets_background_t *
presets_background_at (size_t i)
{
    return i < COUNT (s_backgrounds) ? &s_backgrounds[i] : NULL;
}

static int
s_kind (const presets_canvas_t *p)
{
    for (size_t i = 0; p && i < COUNT (s_kinds); i++)
        if (strncmp (p->name, s_kinds[i].prefix, strlen (s_kinds[i].prefix)) == 0)
            return (int) i;
    return -1;
}

const char *
presets_default_device (const presets_canvas_t *p)
{
    int k = s_kind (p);
    return k < 0 ? "iphone" : s_kinds[k].device;
}

const char *
presets_form_factor (const presets_canvas_t *p)
{
    int k = s_kind (p);
    return k < 0 ? NULL : s_kinds[k].form;
}
