/*  capture_profile.h: capture profiles at the gateway (docs/api.md,
    "Capture profiles"): the body of POST /v1/capture_profiles checked with
    the capture's own validators (capture_request.h), the round trip to the
    scheduler (CAPTURE_PROFILE; it seals and opens the secrets, api_profiles.h)
    and the merge of a resolved profile under a capture's options.

    A profile body: {"name": 1..100 of [A-Za-z0-9 _.-], "cookies": [cookie
    objects as a capture's, domain required], "headers": {...},
    "local_storage": {...}, "defaults": {capture options but url, async,
    webhook_url, cookies, headers, local_storage, profile_id}}. Every
    rejection is a 422 naming the field ("cookies[1].domain",
    "defaults.viewport.width").

    The merge, for a capture naming profile_id: each default the capture
    does not set; headers and local storage keyed by name (the capture's
    win); the profile's cookies whose domain is the page's host or a parent
    of it (the others are left out: a cookie never goes to another site),
    then the capture's own (replacing one of the same name and domain).
    Headers still go only to the page's own origin (capture.c).
    Thread: any civetweb worker. Memory: as each function says. */
#ifndef EASEL_CAPTURE_PROFILE_H
#define EASEL_CAPTURE_PROFILE_H

#include <jansson.h>
#include "api_pool.h"
#include "render_request.h"

#define CAPTURE_PROFILE_NAME_MAX 100

/* Validates a POST body; 0 with *json (heap, compact, the caller frees) to
   send as the create, or -1 with e (400 invalid_json, 422 naming the field). */
int capture_profile_validate (const char *body, size_t len, char **json, api_error_t *e);

/* One CAPTURE_PROFILE round trip: action (create, list, show, delete,
   resolve) on id (or ""), json the create's body (or NULL). 0 with *status
   and *out (heap JSON, the caller frees; resolve's holds secrets: wipe and
   free it, never log it); -1 with e (the scheduler's error, 503 without it). */
int capture_profile_call (api_pool_t *pool, const char *auth, const char *action, const char *id,
                          const char *json, int *status, char **out, api_error_t *e);

/* Merges profile (the resolve answer, borrowed) under the capture body obj
   (changed in place; profile_id removed); a default that does not apply to
   the capture's format (capture_request_option_applies: its own format, or
   else the profile's) is left out. 0, or -1 with e (the merged
   cookies, headers or local storage over their caps: 422 naming them). */
int capture_profile_merge (json_t *obj, json_t *profile, api_error_t *e);

#endif
