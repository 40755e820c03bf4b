/*  fastlane_layout.c: the fastlane deliver / supply tree (see fastlane_layout.h).
    Thread: any (constant tables only). Memory: none kept. */
#include "fastlane_layout.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

/* App Store Connect's localizations as deliver takes them as folder names:
   the 2015 list (FastlaneCore::Languages::ALL_LANGUAGES) plus Arabic,
   Hebrew, Slovenian and the Indic languages App Store Connect added later
   (ar-SA, he, bn, gu, kn, ml, mr, or, pa, sl, ta, te, ur). */
static const char *s_asc [] = {
    "ar-SA", "bn", "ca", "cs", "da", "de-DE", "el", "en-AU", "en-CA", "en-GB", "en-US", "es-ES",
    "es-MX", "fi", "fr-CA", "fr-FR", "gu", "he", "hi", "hr", "hu", "id", "it", "ja", "kn", "ko",
    "ml", "mr", "ms", "nl-NL", "no", "or", "pa", "pl", "pt-BR", "pt-PT", "ro", "ru", "sk", "sl",
    "sv", "ta", "te", "th", "tr", "uk", "ur", "vi", "zh-Hans", "zh-Hant", NULL
};

/* Google Play listing languages supply accepts (Supply::Languages, "-" form). */
static const char *s_play [] = {
    "af", "am", "ar", "az-AZ", "be", "bg", "bn-BD", "ca", "cs-CZ", "da-DK", "de-DE", "el-GR",
    "en-AU", "en-CA", "en-GB", "en-IN", "en-SG", "en-US", "en-ZA", "es-419", "es-ES", "es-US",
    "et", "eu-ES", "fa", "fi-FI", "fil", "fr-CA", "fr-FR", "gl-ES", "hi-IN", "hr", "hu-HU",
    "hy-AM", "id", "is-IS", "it-IT", "iw-IL", "ja-JP", "ka-GE", "km-KH", "kn-IN", "ko-KR",
    "ky-KG", "lo-LA", "lt", "lv", "mk-MK", "ml-IN", "mn-MN", "mr-IN", "ms", "ms-MY", "my-MM",
    "ne-NP", "nl-NL", "no-NO", "pl-PL", "pt-BR", "pt-PT", "rm", "ro", "ru-RU", "si-LK", "sk",
    "sl", "sr", "sv-SE", "sw", "ta-IN", "te-IN", "th", "tr-TR", "uk", "vi", "zh-CN", "zh-HK",
    "zh-TW", "zu", NULL
};

/* Locale aliases tried before the language-part match: {store, from, to}. */
static const char *s_alias [][3] = {
    { "appstore", "zh-CN", "zh-Hans" }, { "appstore", "zh-SG", "zh-Hans" },
    { "appstore", "zh-TW", "zh-Hant" }, { "appstore", "zh-HK", "zh-Hant" },
    { "appstore", "zh-MO", "zh-Hant" }, { "appstore", "nb", "no" }, { "appstore", "nb-NO", "no" },
    { "appstore", "zh", "zh-Hans" }, { "appstore", "iw", "he" }, { "appstore", "iw-IL", "he" },
    { "play", "zh-Hans", "zh-CN" }, { "play", "zh-Hant", "zh-TW" }, { "play", "zh", "zh-CN" },
    { "play", "he", "iw-IL" }, { "play", "he-IL", "iw-IL" }, { "play", "nb", "no-NO" },
    { "play", "nb-NO", "no-NO" }, { "play", "es-MX", "es-419" }, { "play", "fil-PH", "fil" },
};

/* The sizes deliver maps to a display class (Deliver::AppScreenshot.devices). */
static const int s_deliver_sizes [][2] = {
    { 1290, 2796 }, { 1260, 2736 }, { 1320, 2868 },                     /* 6.7" (6.9") */
    { 1242, 2688 }, { 1284, 2778 },                                     /* 6.5" */
    { 1179, 2556 }, { 1206, 2622 },                                     /* 6.1" (6.3") */
    { 1125, 2436 }, { 1170, 2532 },                                     /* 5.8" */
    { 1242, 2208 }, { 750, 1334 }, { 640, 1096 }, { 640, 1136 }, { 1136, 600 },
    { 640, 920 }, { 640, 960 }, { 960, 600 },
    { 1024, 748 }, { 1024, 768 }, { 2048, 1496 }, { 2048, 1536 }, { 768, 1004 }, { 1536, 2008 },
    { 1668, 2224 }, { 1668, 2388 }, { 1668, 2420 },                     /* iPad 10.5", 11" */
    { 2048, 2732 }, { 2064, 2752 },                                     /* iPad 12.9" / 13" */
    { 1280, 800 }, { 1440, 900 }, { 2560, 1600 }, { 2880, 1800 },       /* Mac */
    { 312, 390 }, { 368, 448 }, { 396, 484 }, { 410, 502 },             /* Watch */
    { 1920, 1080 }, { 3840, 2160 },                                     /* Apple TV */
};

static const struct { const char *preset, *folder; } s_play_folders [] = {
    { "play.phone", "phoneScreenshots" }, { "play.tablet_7", "sevenInchScreenshots" },
    { "play.tablet_10", "tenInchScreenshots" }, { "play.tv", "tvScreenshots" },
    { "play.wear", "wearScreenshots" },
};

/* Letters, digits, '-', '_', '.' only (never "." or ".."), 1..63 bytes. */
static bool
s_safe (const char *s)
{
    size_t n = s ? strlen (s) : 0;
    if (n == 0 || n > 63 || strcmp (s, ".") == 0 || strcmp (s, "..") == 0)
        return false;
    return strspn (s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

static const char *
s_find (const char **list, const char *v)
{
    for (int i = 0; list [i]; i++)
        if (strcasecmp (list [i], v) == 0)
            return list [i];
    return NULL;
}

int
fastlane_store_language (const char *store, const char *locale, char *out, size_t size)
{
    if (!store || !out || size == 0)
        return -1;
    bool apple = strcmp (store, "appstore") == 0;
    if (!apple && strcmp (store, "play") != 0)
        return -1;
    const char **list = apple ? s_asc : s_play;
    char tag [64];
    snprintf (tag, sizeof tag, "%s", locale && *locale ? locale : "en-US");
    for (char *p = tag; *p; p++)
        if (*p == '_')
            *p = '-';
    const char *hit = s_find (list, tag);
    for (size_t i = 0; !hit && i < sizeof s_alias / sizeof s_alias [0]; i++)
        if (strcmp (s_alias [i][0], store) == 0 && strcasecmp (s_alias [i][1], tag) == 0)
            hit = s_alias [i][2];
    if (!hit) {
        /* the language part alone: "lang" itself, then "lang-LANG", en-US, else the first */
        char lang [16];
        size_t n = strcspn (tag, "-");
        if (n == 0 || n >= sizeof lang)
            return -1;
        memcpy (lang, tag, n);
        lang [n] = 0;
        char same [40];
        snprintf (same, sizeof same, "%s-%s", lang, lang);
        for (size_t i = n + 1; same [i]; i++)
            if (same [i] >= 'a' && same [i] <= 'z')
                same [i] = (char) (same [i] - 'a' + 'A');
        if (!(hit = s_find (list, lang)) && !(hit = s_find (list, same))
        &&  !(hit = strcasecmp (lang, "en") == 0 ? s_find (list, "en-US") : NULL))
            for (int i = 0; list [i] && !hit; i++)
                if (strncasecmp (list [i], lang, n) == 0 && list [i][n] == '-')
                    hit = list [i];
    }
    if (!hit || strlen (hit) >= size)
        return -1;
    snprintf (out, size, "%s", hit);
    return 0;
}

static bool
s_deliver_knows (int w, int h)
{
    for (size_t i = 0; i < sizeof s_deliver_sizes / sizeof s_deliver_sizes [0]; i++)
        if ((s_deliver_sizes [i][0] == w && s_deliver_sizes [i][1] == h)
        ||  (s_deliver_sizes [i][0] == h && s_deliver_sizes [i][1] == w))
            return true;
    return false;
}

static int
s_fit (int n, size_t size)
{
    return n < 0 || (size_t) n >= size ? -1 : 0;
}

int
fastlane_path (const char *locale, const char *preset, int slide, int width, int height,
               const char *format, char *out, size_t size, const char **why)
{
    const char *reason = NULL;
    if (!out || size == 0 || slide < 0 || slide > 98 || width <= 0 || height <= 0 || !format)
        return -1;
    if (locale && *locale && !s_safe (locale))
        return -1;
    if (preset && *preset && !s_safe (preset))
        return -1;
    const char *ext = strcmp (format, "png") == 0 ? "png" : strcmp (format, "jpeg") == 0 ? "jpg"
                    : strcmp (format, "webp") == 0 ? "webp" : strcmp (format, "pdf") == 0 ? "pdf" : NULL;
    if (!ext)
        return -1;
    bool apple = preset && strncmp (preset, "appstore.", 9) == 0;
    bool play = preset && strncmp (preset, "play.", 5) == 0;
    char lang [64];
    if (strcmp (ext, "webp") == 0)
        reason = "WebP: neither store takes it (render png or jpeg)";
    else if (strcmp (ext, "pdf") == 0)
        reason = "a PDF is a printed page, not a store screenshot";
    else if (!apple && !play)
        reason = "a custom size names no store display class (use a preset)";
    else if (fastlane_store_language (apple ? "appstore" : "play", locale, lang, sizeof lang))
        reason = apple ? "App Store Connect has no language for this locale"
                       : "Google Play has no listing language for this locale";
    else if (apple && strcmp (preset, "appstore.vision_pro") == 0)
        reason = "deliver would file 3840x2160 as Apple TV; upload Vision Pro images by hand";
    else if (apple && !s_deliver_knows (width, height))
        reason = "deliver has no display class for this size";
    else if (apple) {
        bool gen3 = strcmp (preset, "appstore.ipad_13") == 0;
        if (why)
            *why = NULL;
        return s_fit (snprintf (out, size, "screenshots/%s/%02d_%s%s_%dx%d.%s", lang, slide + 1,
                                preset, gen3 ? "_IPAD_PRO_3GEN_129" : "", width, height, ext), size);
    }
    else if (strcmp (preset, "play.feature_graphic") == 0) {
        if (slide == 0) {
            if (why)
                *why = NULL;
            return s_fit (snprintf (out, size, "metadata/android/%s/images/featureGraphic.%s",
                                    lang, ext), size);
        }
        reason = "a Play listing has one feature graphic (the first slide's is used)";
    }
    else {
        for (size_t i = 0; i < sizeof s_play_folders / sizeof s_play_folders [0]; i++)
            if (strcmp (preset, s_play_folders [i].preset) == 0) {
                if (why)
                    *why = NULL;
                return s_fit (snprintf (out, size, "metadata/android/%s/images/%s/%02d_%s_%dx%d.%s",
                                        lang, s_play_folders [i].folder, slide + 1, preset,
                                        width, height, ext), size);
            }
        reason = "fastlane supply has no screenshot folder for this preset";
    }
    if (why)
        *why = reason;
    if (s_fit (snprintf (out, size, "unplaced/%s/%s/%02d_%dx%d.%s", preset && *preset ? preset : "custom",
                         locale && *locale ? locale : "default", slide + 1, width, height, ext), size))
        return -1;
    return 1;
}

int
fastlane_plan (fastlane_item_t *items, int n)
{
    for (int i = 0; i < n; i++) {
        fastlane_item_t *it = &items [i];
        if (fastlane_path (it->locale, it->preset, it->slide, it->width, it->height, it->format,
                           it->path, sizeof it->path, &it->why) < 0)
            return -1;
        for (int j = 0; j < i; j++)
            if (strcmp (items [j].path, it->path) == 0) {
                if (!s_safe (it->id))
                    return -1;
                const char *ext = strrchr (it->path, '.');
                if (s_fit (snprintf (it->path, sizeof it->path, "unplaced/duplicates/%s%s", it->id,
                                     ext ? ext : ""), sizeof it->path))
                    return -1;
                it->why = "another image of this render already has this place "
                          "(two locales map to one store language)";
                break;
            }
    }
    return 0;
}

json_t *
fastlane_report (const char *render_id, const char *status, const json_t *lint,
                 const fastlane_item_t *items, int n)
{
    json_t *files = json_array ();
    for (int i = 0; files && i < n; i++) {
        const fastlane_item_t *it = &items [i];
        json_t *f = json_pack ("{s:s, s:s?, s:s?, s:i, s:s, s:b, s:s?}", "image", it->id,
                               "locale", it->locale [0] ? it->locale : NULL,
                               "preset", it->preset [0] ? it->preset : NULL, "slide", it->slide,
                               "path", it->path, "placed", it->why == NULL, "reason", it->why);
        if (!f || json_array_append_new (files, f)) {
            json_decref (files);
            return NULL;
        }
    }
    if (!files)
        return NULL;
    return json_pack ("{s:s, s:s, s:s, s:o, s:o}", "object", "fastlane_export", "render", render_id,
                      "status", status, "lint", lint ? json_deep_copy (lint) : json_null (),
                      "files", files);
}
