/*  test_fastlane_layout.c: store languages and paths of the fastlane tree
    (catalog/fastlane_layout.h), including the refused inputs. */
#include "check.h"
#include "fastlane_layout.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>



static const char *
s_lang (const char *store, const char *locale)
{
    static char out [64];
    return fastlane_store_language (store, locale, out, sizeof out) == 0 ? out : "(none)";
}

int
main (void)
{
    /* App Store Connect language names (deliver folders) */
    CHECK (strcmp (s_lang ("appstore", "en-US"), "en-US") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", ""), "en-US") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "ja-JP"), "ja") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "de"), "de-DE") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "en"), "en-US") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "pt_BR"), "pt-BR") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "zh-CN"), "zh-Hans") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "zh-TW"), "zh-Hant") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "nb-NO"), "no") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "ko-KR"), "ko") == 0, "as documented");
    /* right-to-left and Indic App Store Connect languages are placed, not unplaced */
    CHECK (strcmp (s_lang ("appstore", "ar-SA"), "ar-SA") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "ar"), "ar-SA") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "he-IL"), "he") == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "iw-IL"), "he") == 0, "as documented");
    static const char *const indic [][2] = {
        { "bn-IN", "bn" }, { "gu-IN", "gu" }, { "kn-IN", "kn" }, { "ml-IN", "ml" }, { "mr-IN", "mr" },
        { "or-IN", "or" }, { "pa-IN", "pa" }, { "sl-SI", "sl" }, { "ta-IN", "ta" }, { "te-IN", "te" },
        { "ur-PK", "ur" },
    };
    for (size_t i = 0; i < sizeof indic / sizeof indic [0]; i++)
        CHECK (strcmp (s_lang ("appstore", indic [i][0]), indic [i][1]) == 0, "as documented");
    CHECK (strcmp (s_lang ("appstore", "xx-YY"), "(none)") == 0, "as documented");
    /* Google Play languages (supply folders) */
    CHECK (strcmp (s_lang ("play", "ja"), "ja-JP") == 0, "as documented");
    CHECK (strcmp (s_lang ("play", "ja-JP"), "ja-JP") == 0, "as documented");
    CHECK (strcmp (s_lang ("play", "he"), "iw-IL") == 0, "as documented");
    CHECK (strcmp (s_lang ("play", "zh-Hans"), "zh-CN") == 0, "as documented");
    CHECK (strcmp (s_lang ("play", "es-MX"), "es-419") == 0, "as documented");
    CHECK (strcmp (s_lang ("play", "ar-SA"), "ar") == 0, "as documented");
    CHECK (strcmp (s_lang ("play", "sv"), "sv-SE") == 0, "as documented");
    CHECK (strcmp (s_lang ("play", "xx-YY"), "(none)") == 0, "as documented");
    CHECK (strcmp (s_lang ("steam", "en-US"), "(none)") == 0, "as documented");

    char p [FASTLANE_PATH_MAX];
    const char *why = "unset";
    CHECK (fastlane_path ("he-IL", "appstore.iphone_6_9", 0, 1320, 2868, "png", p, sizeof p, &why) == 0, "as documented");
    CHECK (strcmp (p, "screenshots/he/01_appstore.iphone_6_9_1320x2868.png") == 0 && why == NULL, "as documented");
    CHECK (fastlane_path ("ar-SA", "appstore.iphone_6_9", 1, 1320, 2868, "png", p, sizeof p, &why) == 0, "as documented");
    CHECK (strcmp (p, "screenshots/ar-SA/02_appstore.iphone_6_9_1320x2868.png") == 0 && why == NULL, "as documented");
    CHECK (fastlane_path ("ja-JP", "appstore.iphone_6_9", 0, 1320, 2868, "png", p, sizeof p, &why) == 0, "as documented");
    CHECK (strcmp (p, "screenshots/ja/01_appstore.iphone_6_9_1320x2868.png") == 0 && why == NULL, "as documented");
    CHECK (fastlane_path ("en-US", "appstore.ipad_13", 2, 2064, 2752, "jpeg", p, sizeof p, &why) == 0, "as documented");
    CHECK (strcmp (p, "screenshots/en-US/03_appstore.ipad_13_IPAD_PRO_3GEN_129_2064x2752.jpg") == 0, "as documented");
    CHECK (fastlane_path ("en-US", "appstore.ipad_12_9", 0, 2048, 2732, "png", p, sizeof p, &why) == 0, "as documented");
    CHECK (strstr (p, "3GEN") == NULL, "as documented");
    CHECK (fastlane_path ("de-DE", "play.phone", 9, 1080, 1920, "png", p, sizeof p, &why) == 0, "as documented");
    CHECK (strcmp (p, "metadata/android/de-DE/images/phoneScreenshots/10_play.phone_1080x1920.png") == 0, "as documented");
    CHECK (fastlane_path ("", "play.tablet_7", 0, 1200, 1920, "png", p, sizeof p, &why) == 0, "as documented");
    CHECK (strcmp (p, "metadata/android/en-US/images/sevenInchScreenshots/01_play.tablet_7_1200x1920.png") == 0, "as documented");
    CHECK (fastlane_path ("fr-FR", "play.feature_graphic", 0, 1024, 500, "png", p, sizeof p, &why) == 0, "as documented");
    CHECK (strcmp (p, "metadata/android/fr-FR/images/featureGraphic.png") == 0, "as documented");
    /* unplaced, with a reason */
    CHECK (fastlane_path ("fr-FR", "play.feature_graphic", 1, 1024, 500, "png", p, sizeof p, &why) == 1 && why, "as documented");
    CHECK (fastlane_path ("en-US", "appstore.iphone_6_9", 0, 1320, 2868, "webp", p, sizeof p, &why) == 1, "as documented");
    CHECK (strcmp (p, "unplaced/appstore.iphone_6_9/en-US/01_1320x2868.webp") == 0 && strstr (why, "WebP"), "as documented");
    CHECK (fastlane_path ("", "", 0, 816, 1056, "pdf", p, sizeof p, &why) == 1, "a capture's PDF is unplaced");
    CHECK (strcmp (p, "unplaced/custom/default/01_816x1056.pdf") == 0 && strstr (why, "PDF"), "a PDF keeps its .pdf: %s", p);
    CHECK (fastlane_path ("en-US", "", 0, 1000, 1000, "png", p, sizeof p, &why) == 1, "as documented");
    CHECK (strcmp (p, "unplaced/custom/en-US/01_1000x1000.png") == 0, "as documented");
    CHECK (fastlane_path ("en-US", "appstore.vision_pro", 0, 3840, 2160, "png", p, sizeof p, &why) == 1, "as documented");
    CHECK (fastlane_path ("en-US", "appstore.watch_s10", 0, 416, 496, "png", p, sizeof p, &why) == 1, "as documented");
    CHECK (fastlane_path ("en-US", "play.chromebook", 0, 1920, 1080, "png", p, sizeof p, &why) == 1, "as documented");
    CHECK (fastlane_path ("xx-YY", "appstore.iphone_6_9", 0, 1320, 2868, "png", p, sizeof p, &why) == 1, "as documented");
    /* refused: unsafe names, bad numbers, a buffer too small */
    CHECK (fastlane_path ("../etc", "play.phone", 0, 1080, 1920, "png", p, sizeof p, &why) == -1, "as documented");
    CHECK (fastlane_path ("en-US", "play/phone", 0, 1080, 1920, "png", p, sizeof p, &why) == -1, "as documented");
    CHECK (fastlane_path ("en-US", "play.phone", -1, 1080, 1920, "png", p, sizeof p, &why) == -1, "as documented");
    CHECK (fastlane_path ("en-US", "play.phone", 0, 0, 1920, "png", p, sizeof p, &why) == -1, "as documented");
    CHECK (fastlane_path ("en-US", "play.phone", 0, 1080, 1920, "gif", p, sizeof p, &why) == -1, "as documented");
    CHECK (fastlane_path ("en-US", "play.phone", 0, 1080, 1920, "png", p, 10, &why) == -1, "as documented");

    /* the plan moves a second image for one place under unplaced/duplicates */
    fastlane_item_t items [2];
    memset (items, 0, sizeof items);
    for (int i = 0; i < 2; i++) {
        snprintf (items [i].id, sizeof items [i].id, "img_%d", i);
        snprintf (items [i].locale, sizeof items [i].locale, "%s", i ? "ja" : "ja-JP");
        snprintf (items [i].preset, sizeof items [i].preset, "appstore.iphone_6_9");
        snprintf (items [i].format, sizeof items [i].format, "png");
        items [i].width = 1320;
        items [i].height = 2868;
    }
    CHECK (fastlane_plan (items, 2) == 0, "as documented");
    CHECK (items [0].why == NULL && strcmp (items [1].path, "unplaced/duplicates/img_1.png") == 0 && items [1].why, "as documented");
    json_t *report = fastlane_report ("rnd_x", "succeeded", NULL, items, 2);
    CHECK (report && json_array_size (json_object_get (report, "files")) == 2, "as documented");
    CHECK (json_is_false (json_object_get (json_array_get (json_object_get (report, "files"), 1), "placed")), "as documented");
    json_decref (report);

    if (check_failures)
        fprintf (stderr, "test_fastlane_layout: %d failures\n", check_failures);
    else
        printf ("test_fastlane_layout: ok\n");
    return check_failures ? 1 : 0;
}
