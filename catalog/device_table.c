/*  device_table.c: the device frames as data (see device_table.h). */
#include "device_table.h"

#include <string.h>

static const device_frame_t s_frames[] = {
    { .name = "iphone", .frame_w = 1000, .frame_h = 2088,
      .screen_x = 36, .screen_y = 36, .screen_w = 928, .screen_h = 2016,
      .frame_radius = 90, .screen_radius = 54, .rim = 8,
      .feature = DEVICE_FEAT_ISLAND, .feat_a = 260, .feat_b = 76, .feat_c = 28,
      .rotates = true, .platform = "apple", .display = "iPhone", .form = "phone",
      .css_w = 393, .css_h = 852, .scale = 3, .safe_top = 59, .safe_bottom = 34 },
    { .name = "iphone_home", .frame_w = 1000, .frame_h = 2040,
      .screen_x = 60, .screen_y = 240, .screen_w = 880, .screen_h = 1560,
      .frame_radius = 150, .screen_radius = 0, .rim = 10,
      .feature = DEVICE_FEAT_HOME, .feat_a = 150, .feat_b = 160, .feat_c = 20,
      .rotates = true, .platform = "apple", .display = "iPhone with a Home button", .form = "phone",
      .css_w = 375, .css_h = 667, .scale = 2, .safe_top = 20, .safe_bottom = 0 },
    { .name = "ipad", .frame_w = 1000, .frame_h = 1300,
      .screen_x = 50, .screen_y = 50, .screen_w = 900, .screen_h = 1200,
      .frame_radius = 60, .screen_radius = 30, .rim = 8,
      .feature = DEVICE_FEAT_CAMERA_DOT, .feat_a = 14, .feat_c = 25,
      .rotates = true, .platform = "apple", .display = "iPad", .form = "tablet",
      .css_w = 820, .css_h = 1093, .scale = 2, .safe_top = 24, .safe_bottom = 20 },
    { .name = "android_phone", .frame_w = 1000, .frame_h = 2148,
      .screen_x = 30, .screen_y = 30, .screen_w = 940, .screen_h = 2088,
      .frame_radius = 80, .screen_radius = 60, .rim = 8,
      .feature = DEVICE_FEAT_PUNCH_HOLE, .feat_a = 40, .feat_c = 65,
      .rotates = true, .platform = "android", .display = "Android phone", .form = "phone",
      .css_w = 412, .css_h = 915, .scale = 3, .safe_top = 32, .safe_bottom = 16 },
    { .name = "android_tablet", .frame_w = 1000, .frame_h = 1552,
      .screen_x = 40, .screen_y = 40, .screen_w = 920, .screen_h = 1472,
      .frame_radius = 50, .screen_radius = 20, .rim = 6,
      .feature = DEVICE_FEAT_CAMERA_DOT, .feat_a = 12, .feat_c = 20,
      .rotates = true, .platform = "android", .display = "Android tablet", .form = "tablet",
      .css_w = 800, .css_h = 1280, .scale = 2, .safe_top = 24, .safe_bottom = 16 },
    { .name = "mac", .frame_w = 1000, .frame_h = 600,
      .screen_x = 80, .screen_y = 20, .screen_w = 840, .screen_h = 525,
      .frame_radius = 30, .screen_radius = 6, .rim = 4,
      .feature = DEVICE_FEAT_LAPTOP, .feat_a = 570, .feat_b = 30, .feat_c = 60,
      .platform = "apple", .display = "Mac", .form = "desktop",
      .css_w = 1440, .css_h = 900, .scale = 2 },
    { .name = "browser-macos", .frame_w = 1000, .frame_h = 0,
      .screen_x = 0, .screen_y = 70, .screen_w = 1000, .screen_h = 0,
      .frame_radius = 20, .screen_radius = 20, .rim = 0,
      .feature = DEVICE_FEAT_BROWSER, .feat_a = 70, .platform = "any",
      .display = "browser window", .form = "any", .css_w = 1440, .css_h = 900, .scale = 1 },
    { .name = "watch", .frame_w = 1060, .frame_h = 1220,
      .screen_x = 90, .screen_y = 110, .screen_w = 820, .screen_h = 1004,
      .frame_radius = 260, .screen_radius = 180, .rim = 10,
      .feature = DEVICE_FEAT_WATCH, .feat_a = 1000, .platform = "apple",
      .display = "Apple Watch", .form = "watch", .css_w = 205, .css_h = 251, .scale = 2 },
    { .name = "none", .frame_w = 1000, .frame_h = 0,
      .screen_x = 0, .screen_y = 0, .screen_w = 1000, .screen_h = 0,
      .frame_radius = 40, .screen_radius = 40, .platform = "any",
      .display = "frameless screen", .form = "any", .css_w = 1440, .css_h = 900, .scale = 1 },
};

#define S_NFRAMES ((int) (sizeof s_frames / sizeof s_frames[0]))

const device_frame_t *
device_frame_find (const char *name)
{
    for (int i = 0; name && i < S_NFRAMES; i++)
        if (strcmp (s_frames[i].name, name) == 0)
            return &s_frames[i];
    return NULL;
}

const device_frame_t *
device_frame_at (int i)
{
    return i >= 0 && i < S_NFRAMES ? &s_frames[i] : NULL;
}
