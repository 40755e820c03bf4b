/*  render_lint.h: the "lint" object of a render: every image's findings (the
    renderer's report, stored with the image) tagged with the image id, plus
    the set-level rules that need the whole render, evaluated once it is
    final:
      set_count (App Store: 1-10 images per display class and locale, error
        above; Google Play: 2-8 per preset and locale, warning below,
        error above),
      play_promo_eligible (info: a locale's play.phone images are not
        eligible for promotional placement, which needs >= 4 screenshots,
        >= 1080 px on the short side, 9:16 or 16:9),
      appstore_required_class (warning: a locale has iPhone images without
        the 6.9" class, or iPad images without the 13" class).
    {"passed": no errors, "errors": n, "warnings": n, "ruleset": LINT_RULESET,
     "findings": [{"rule",
    "severity", "image" (id or null), "message"}]}.

    Thread: any. Memory: the returned json_t is the caller's. */
#ifndef EASEL_RENDER_LINT_H
#define EASEL_RENDER_LINT_H

#include <jansson.h>
#include "proto.h"

json_t *render_lint_build (const proto_render_t *r);

#endif
