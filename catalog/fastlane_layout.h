/*  fastlane_layout.h: where each image of a render goes in a tree that
    fastlane deliver (App Store) and fastlane supply (Google Play) upload as
    it is. Used by `easel export` / `easel render --layout fastlane` (cli/)
    and by GET /v1/renders/{id}/archive (gateway/), so both write the same
    tree:

      screenshots/<asc-language>/<NN>_<preset>[_IPAD_PRO_3GEN_129]_<W>x<H>.<png|jpg>
          deliver reads every language folder of screenshots/ and picks the
          display class from the pixel size; 2048x2732 and 2064x2752 are the
          12.9" 2nd generation class unless the file name carries
          IPAD_PRO_3GEN_129, so appstore.ipad_13 images carry it.
      metadata/android/<play-language>/images/<type>/<NN>_<preset>_<W>x<H>.<png|jpg>
          type: phoneScreenshots, sevenInchScreenshots, tenInchScreenshots,
          tvScreenshots, wearScreenshots; play.feature_graphic (first slide)
          is metadata/android/<lang>/images/featureGraphic.<ext>.
      unplaced/<preset>/<locale>/<NN>_<W>x<H>.<ext>
          images neither tool can take as they are (WebP, custom sizes,
          Vision Pro and watch sizes deliver does not know, Chromebook, a
          locale the store has no language for); the report says why.
      easel-report.json   the render id, its lint report and every file's
                          place (or reason for being unplaced).

    NN is the slide number from 01, so files sort in slide order (both tools
    upload a folder's files sorted by name). Language folders follow
    FastlaneCore::Languages::ALL_LANGUAGES (deliver) and Supply::Languages
    (supply): "ja-JP" becomes "ja" for the App Store and stays "ja-JP" for
    Play; a render without locales uses "en-US".

    Pure; any thread. */
#ifndef EASEL_FASTLANE_LAYOUT_H
#define EASEL_FASTLANE_LAYOUT_H

#include <stddef.h>

#define FASTLANE_PATH_MAX   256      /* one relative path */
#define FASTLANE_REPORT_NAME "easel-report.json"

/* The store's language folder for `locale` ("" -> "en-US"). store is
   "appstore" or "play". 0, or -1 when the store has no such language. */
int fastlane_store_language (const char *store, const char *locale, char *out, size_t size);

/* The relative path of one image. Returns 0 when placed for deliver or
   supply, 1 when it goes under unplaced/ (then *why, when not NULL, says
   why), -1 when the arguments are bad or the path does not fit `size`. */
int fastlane_path (const char *locale, const char *preset, int slide, int width, int height,
                   const char *format, char *out, size_t size, const char **why);

/* One succeeded image of a render, and where the plan puts it. */
typedef struct {
    char        id [48];
    char        locale [48];
    char        preset [48];
    int         slide, width, height;
    char        format [8];
    char        path [FASTLANE_PATH_MAX];   /* filled by fastlane_plan */
    const char *why;                        /* NULL when placed */
} fastlane_item_t;

/* Fills path/why of every item; a second image for a path already taken (two
   locales that map to one store language) goes under unplaced/ with its id in
   the name. 0, or -1 when an item is malformed. */
int fastlane_plan (fastlane_item_t *items, int n);

/* easel-report.json: {"object":"fastlane_export","render":id,"status":...,
   "lint":<lint, copied; null when NULL>,"files":[{"image","locale","preset",
   "slide","path","placed","reason"}]}. A new reference, NULL on out of memory. */
struct json_t;
struct json_t *fastlane_report (const char *render_id, const char *status,
                                const struct json_t *lint, const fastlane_item_t *items, int n);

#endif
