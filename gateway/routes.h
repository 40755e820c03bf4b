/*  routes.h: the handlers of the gateway's route table (gateway.c), each
    serving one route with the call it is given (call.h; c->id holds the
    route's {id} segment). They live with their concern: renders.c (renders,
    capture jobs, the account), files.c (uploads and served files),
    review_routes.c (the review gate), profile_routes.c (capture profiles).
    Thread: the calling civetweb worker. */
#ifndef EASEL_ROUTES_H
#define EASEL_ROUTES_H

#include "call.h"
#include "route_table.h"

/* ---- renders.c */
int route_create_render (call_t *c);
int route_show_render (call_t *c);
/* POST /v1/capture: as a render create, the Idempotency-Key and the body's
   fingerprint ride on CREATE_CAPTURE and the scheduler writes the key row in
   the job's transaction (scope "POST /v1/capture"); a keyed sync capture
   stores the answer it gets (IDEM_COMPLETE) before writing it. */
int route_create_capture (call_t *c);
/* GET /v1/jobs/{id}[?wait=S] */
int route_show_job (call_t *c);
/* GET /v1/renders?limit=1..100&starting_after=rnd_...: newest first. */
int route_list_renders (call_t *c);
/* POST /v1/renders/{id}/cancel: no parameters; an empty body or {}. */
int route_cancel_render (call_t *c);
/* GET /v1/account: balance, usage and the newest ledger entries (the
   scheduler builds the JSON). */
int route_show_account (call_t *c);
/* GET /v1/renders/{id}/archive: the fastlane zip of a finished render (render_archive.c). */
int route_render_archive (call_t *c);
/* GET /v1/renders/{id}/changes?since=rnd_...: image by image against an
   earlier render of the same account (render_changes.h). */
int route_render_changes (call_t *c);

/* ---- files.c */
int route_show_file (call_t *c);
/* POST /v1/files: raw image bytes or multipart/form-data with one file part.
   Content addressed, so an Idempotency-Key adds nothing and is not stored. */
int route_create_file (call_t *c);
/* GET /v1/files?sha256=<64 hex>: the account's file of those bytes, or 404. */
int route_find_file (call_t *c);
/* render_request's resolver: the sha256 of the caller's live file id, or a
   422 file_not_found naming param (another account's file answers the same). */
int files_resolve_file (void *arg, const char *id, const char *param, char sha256 [65], api_error_t *e);

/* Bytes a gateway put in the object store itself (files_store_direct). */
typedef struct {
    char  sha256 [65];
    char  name [PROTO_ID_MAX];     /* the incoming object the scheduler adopts */
    char  md5 [33];                /* hex: its ETag */
    char *delete_url;              /* heap: a presigned DELETE of it, or NULL */
    char *file_json;               /* heap: the file the account has (2), or NULL */
} files_stored_t;

/* Asks the scheduler where data's bytes go (UPLOAD_BEGIN; for_render: an
   inline image of a create, else an upload) and PUTs them there when it
   says: 2 the account has these bytes (upload only; out->file_json its
   file), 1 stored in the object store (out names them), 0 they go in the
   bus message (files, --blob-via-scheduler), -1 with e (a failed or
   corrupted PUT: 503 / 502, its object deleted). out's heap parts are the
   caller's. */
int files_store_direct (call_t *c, const uint8_t *data, size_t len, bool for_render, files_stored_t *out,
                        api_error_t *e);

/* ---- review_routes.c */
/* GET /v1/renders/{id}/review?exp=&sig=: the review page. */
int route_review_page (call_t *c);
/* GET /v1/renders/{id}/review/status?exp=&sig=: the render object, for the
   page's live status (JSON errors: the page's script reads them). */
int route_review_status (call_t *c);
/* POST /v1/renders/{id}/review (API key, JSON) and, with ?exp=&sig=, the
   review page's form. */
int route_review_decide (call_t *c);
/* POST /v1/renders/{id}/review_links (API key): a new review link that
   names its reviewer (by, shown on the page and recorded as the decision's
   by) and/or an earlier render to mark changes against (since), with its
   own expiry. The scheduler signs it; 201 with the review_link object. */
int route_review_mint (call_t *c);
/* POST /v1/renders/{id}/review_links/revoke (API key): every review link
   made so far stops working; the answer carries a new review_url. No
   parameters: an empty body or {}. */
int route_review_revoke (call_t *c);

/* ---- profile_routes.c: the route table's argument says which */
enum { PROFILE_ROUTE_CREATE = 0, PROFILE_ROUTE_LIST, PROFILE_ROUTE_SHOW, PROFILE_ROUTE_DELETE };
int route_capture_profile (call_t *c);

#endif
