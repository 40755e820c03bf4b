/*  proto_msgs.c: every Easel bus body, declared once (see proto_msgs.h).

    One table per message: its fields in wire order, with kind, caps from
    easel_limits.h and flags. REQ: the decoder requires the key; SET: the
    encoder writes it only when set; OPT: neither; `.when`: written and read
    only when the named field is set. Below the tables, the proto_X_encode /
    _decode / _free names of proto.h as one-line wrappers over the walker
    (proto.c), and the table of top-level messages tests and fuzzers visit.
    Thread: constant data only.  */
#include "proto_msgs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ PF_REQ
#define SET PF_SET
#define OPT 0u
#define S_HTTP_STATUS_MIN 100
#define S_HTTP_STATUS_MAX 599
#define S_ANGLE_MAX 359

/* Field descriptors for the struct S_T (defined around each table). */
#define S_M(m)   .name = #m, .off = offsetof (S_T, m), .size = sizeof (((S_T *) 0)->m)
#define STR(m, fl)            S_M (m), .kind = PK_STR, .flags = (fl)
#define SHA(m, fl)            S_M (m), .kind = PK_SHA, .flags = (fl)
#define DUP(m, max, fl)       S_M (m), .kind = PK_DUP, .flags = (fl), .hi = (max)
#define BIN(m, n, lo_, max, fl) S_M (m), .kind = PK_BIN, .flags = (fl), .off2 = offsetof (S_T, n), \
                              .lo = (lo_), .hi = (max)
#define I32(m, lo_, hi_, fl)  S_M (m), .kind = PK_I32, .flags = (fl), .lo = (lo_), .hi = (hi_)
#define I64(m, lo_, fl)       S_M (m), .kind = PK_I64, .flags = (fl), .lo = (lo_), .hi = INT64_MAX
#define U32(m, hi_, fl)       S_M (m), .kind = PK_U32, .flags = (fl), .lo = 0, .hi = (hi_)
#define BOOL(m, fl)           S_M (m), .kind = PK_BOOL, .flags = (fl)
#define U32S(m, n, cap, item, fl) S_M (m), .kind = PK_U32S, .flags = (fl), \
                              .off2 = offsetof (S_T, n), .hi = (cap), .item_max = (item)
#define STRS(m, n, cap, item, fl) S_M (m), .kind = PK_STRS, .flags = (fl), \
                              .off2 = offsetof (S_T, n), .hi = (cap), .item_max = (item)
#define F64(m, lo_, hi_, fl)  S_M (m), .kind = PK_F64, .flags = (fl), .lo = (lo_), .hi = (hi_)
#define MAP(m, n, vals, cap, item, fl) S_M (m), .kind = PK_MAP, .flags = (fl), \
                              .off2 = offsetof (S_T, n), .off3 = offsetof (S_T, vals), \
                              .hi = (cap), .item_max = (item)
#define ITEMS(m, n, msg, cap, fl) S_M (m), .kind = PK_ITEMS, .flags = (fl), \
                              .off2 = offsetof (S_T, n), .sub = &(msg), .hi = (cap)
#define STRUCT(m, msg, fl)    S_M (m), .kind = PK_STRUCT, .flags = (fl), .sub = &(msg)
#define ARRAY(m, n, msg, lo_, cap, fl) S_M (m), .kind = PK_ARRAY, .flags = (fl), \
                              .off2 = offsetof (S_T, n), .sub = &(msg), .lo = (lo_), .hi = (cap)
#define MSGS(m, n, msg, cap, fl) S_M (m), .kind = PK_MSGS, .flags = (fl), \
                              .off2 = offsetof (S_T, n), .sub = &(msg), .hi = (cap)

#define S_MSG(n, T, check_, seed_) { .name = #n, .size = sizeof (T), .fields = s_##n##_fields, \
    .nfields = sizeof s_##n##_fields / sizeof s_##n##_fields [0], .check = (check_), .seed = (seed_) }

/* ---- nested parts ---------------------------------------------------------- */

/* An error object {code, message, param?}; absent when code is "". */
#define S_T proto_error_t
static const proto_field_t s_error_fields [] = {
    { STR (code, REQ) },
    { DUP (message, EASEL_MAX_ERROR_TEXT_BYTES, REQ) },
    { DUP (param, EASEL_MAX_ERROR_TEXT_BYTES, SET) },
};
#undef S_T
static const proto_msg_t s_error = S_MSG (error, proto_error_t, NULL, NULL);

#define S_T proto_task_spec_t
static const proto_field_t s_task_spec_fields [] = {
    { I32 (slide, 0, INT32_MAX, REQ) },
    { STR (locale, OPT) },
    { STR (preset, OPT) },
    { I32 (width, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { I32 (height, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { STR (format, REQ) },
    { BIN (spec, spec_len, 0, EASEL_MAX_MSG_BYTES, REQ) },
    { SHA (blob, SET) },
    { SHA (bg_blob, SET) },
    { BOOL (browser, SET) },
};
#undef S_T
static const proto_msg_t s_task_spec = S_MSG (task_spec, proto_task_spec_t, NULL, NULL);

#define S_T proto_blob_t
static const proto_field_t s_blob_fields [] = {
    { SHA (sha256, OPT) },
    { BIN (data, len, 0, EASEL_MAX_SOURCE_BYTES, REQ) },
    { STR (name, SET) },
    { I64 (bytes, 1, REQ), .when = "name" },
    { STR (md5, REQ), .when = "name" },
};
#undef S_T
static const proto_msg_t s_blob = S_MSG (blob, proto_blob_t, NULL, NULL);

#define S_T proto_image_t
static const proto_field_t s_image_fields [] = {
    { STR (id, REQ) },
    { STR (status, REQ) },
    { I32 (slide, 0, INT32_MAX, REQ) },
    { STR (locale, OPT) },
    { STR (preset, OPT) },
    { I32 (width, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { I32 (height, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { STR (format, REQ) },
    { I64 (bytes, 0, REQ) },
    { STR (sha256, REQ) },
    { I64 (url_exp, 0, OPT) },
    { STR (url_sig, OPT) },
    { I32 (attempts, 0, INT32_MAX, REQ) },
    { STRUCT (error, s_error, SET) },
    { DUP (findings_json, EASEL_MAX_FINDINGS_BYTES, SET) },
    { BOOL (cached, SET) },
    { STR (thumb, SET) },
};
#undef S_T
static const proto_msg_t s_image = S_MSG (image, proto_image_t, NULL, NULL);

#define S_T proto_event_t
static const proto_field_t s_event_fields [] = {
    { I64 (seq, 0, REQ) },
    { STR (id, REQ) },
    { STR (type, REQ) },
    { STR (object_id, REQ) },
    { I64 (created_at_ms, 0, REQ) },
    { STR (delivery_id, OPT) },
    { DUP (url, EASEL_MAX_URL_BYTES, SET) },
    { DUP (secret, EASEL_MAX_SECRET_BYTES, SET) },
    { DUP (payload, EASEL_MAX_MSG_BYTES, SET) },
    { I32 (attempts, 0, INT32_MAX, REQ) },
    { STR (req, SET) },
};
#undef S_T
static const proto_msg_t s_event = S_MSG (event, proto_event_t, NULL, NULL);

#define S_T proto_task_ref_t
static const proto_field_t s_task_ref_fields [] = {
    { STR (task_id, REQ) },
    { I32 (attempt, 1, INT32_MAX, REQ) },
};
#undef S_T
static const proto_msg_t s_task_ref = S_MSG (task_ref, proto_task_ref_t, NULL, NULL);

/* ---- the slide spec ------------------------------------------------------------ */

#define S_T proto_slide_t
static const proto_field_t s_slide_fields [] = {
    { I32 (slide, 0, INT32_MAX, REQ) },
    { STR (locale, OPT) },
    { STR (preset, OPT) },
    { I32 (width, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { I32 (height, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { U32S (bg_colors, bg_ncolors, PROTO_MAX_STOPS, PROTO_COLOR_MAX, REQ) },
    { I32 (bg_angle, 0, S_ANGLE_MAX, REQ) },
    { STRS (lines, nlines, EASEL_MAX_HEADLINE_LINES, EASEL_MAX_HEADLINE_BYTES, REQ) },
    { U32 (text_color, PROTO_COLOR_MAX, REQ) },
    { DUP (shot_url, EASEL_MAX_URL_BYTES, SET) },
    { BIN (shot_data, shot_len, 0, EASEL_MAX_SOURCE_BYTES, SET) },
    { SHA (shot_sha256, SET) },
    { STR (device, REQ) },
    { STR (format, REQ) },
    /* layout: optional on decode, 0 / "" the renderer's default */
    { STRS (sub, nsub, EASEL_MAX_HEADLINE_LINES, EASEL_MAX_HEADLINE_BYTES, OPT) },
    { U32 (sub_color, PROTO_COLOR_MAX, OPT) },
    { STR (text_position, OPT) },
    { I32 (padding_pm, -1, EASEL_PADDING_PM_MAX, OPT), .dflt = -1 },
    { I32 (font_weight, 0, EASEL_FONT_WEIGHT_MAX, OPT) },
    { I32 (font_size_max, 0, EASEL_MAX_CANVAS_SIDE_PX, OPT) },
    { I32 (font_size_min, 0, EASEL_MAX_CANVAS_SIDE_PX, OPT) },
    { STR (fit, OPT) },
    { STR (finish, OPT) },
    { DUP (bg_image_url, EASEL_MAX_URL_BYTES, SET) },
    { STR (store, OPT) },
    { BOOL (display_stated, OPT) },
    { BOOL (text_fallback, OPT) },
    { STR (untranslated_of, SET) },
    { SHA (bg_sha256, SET) },
    { BIN (bg_data, bg_len, 0, EASEL_MAX_SOURCE_BYTES, SET) },
    { BIN (capture, capture_len, 1, CAPTURE_SPEC_MAX_BYTES, SET) },
};
#undef S_T

/* ---- api requests ------------------------------------------------------------- */

#define S_T proto_create_render_t
static const proto_field_t s_create_render_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { BOOL (sync, REQ) },
    { DUP (webhook_url, EASEL_MAX_URL_BYTES, SET) },
    { DUP (metadata_json, EASEL_MAX_METADATA_BYTES, REQ), .null_as = "{}" },
    { ARRAY (tasks, ntasks, s_task_spec, 1, EASEL_MAX_IMAGES_PER_RENDER, REQ) },
    { ARRAY (blobs, nblobs, s_blob, 0, PROTO_MAX_BLOBS, SET) },
    { STR (idem_key, SET) },
    { STR (idem_fp, OPT), .when = "idem_key" },
    { I64 (idem_hold_ms, 0, OPT), .when = "idem_key" },
    { STR (req, SET) },
    { BOOL (no_cache, SET) },
};
#undef S_T

/* Each inline blob's sha256 names its bytes; a task's blob not among them
   is an uploaded file the scheduler looks up in the account's. */
static int
s_create_render_check (const void *self_, char *err)
{
    const proto_create_render_t *self = self_;
    for (int32_t i = 0; i < self->nblobs; i++) {
        const proto_blob_t *b = &self->blobs [i];
        if (b->name [0]) {
            /* stored by the gateway: named by its hashes, no bytes here */
            if (!b->sha256 [0] || b->len > 0 || b->bytes > EASEL_MAX_SOURCE_BYTES || strlen (b->md5) != 32
            ||  strspn (b->md5, "0123456789abcdef") != 32) {
                if (err)
                    snprintf (err, PROTO_ERR_MAX, "blobs[%d]: a stored blob has a sha256, no data, "
                              "a 32-hex md5 and 1..%d bytes", (int) i, EASEL_MAX_SOURCE_BYTES);
                return -1;
            }
        }
        else
        if (!b->sha256 [0] || b->len == 0 || !proto_sha256_matches (b->data, b->len, b->sha256)) {
            if (err)
                snprintf (err, PROTO_ERR_MAX, "blobs[%d]: sha256 does not match its data", (int) i);
            return -1;
        }
    }
    return 0;
}

/* The sample's blobs carry their bytes (a named one is the seed of none). */
static void
s_create_render_seed (void *self_)
{
    proto_create_render_t *self = self_;
    for (int32_t i = 0; i < self->nblobs; i++)
        self->blobs [i].name [0] = '\0';
}

#define S_T proto_get_t
static const proto_field_t s_get_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (id, REQ) },
    { I64 (exp, 0, OPT) },
    { STR (sig, OPT) },
    { STR (link_by, SET) },
    { STR (link_since, SET) },
    { STR (link_of, SET) },
    { BOOL (redirect_ok, SET) },
    { BOOL (key_only, SET) },
};
#undef S_T

#define S_T proto_review_t
static const proto_field_t s_review_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (id, REQ) },
    { I64 (exp, 0, OPT) },
    { STR (sig, OPT) },
    { STR (link_by, SET) },
    { STR (link_since, SET) },
    { STR (action, REQ) },
    { STR (status, OPT) },
    { DUP (comment, EASEL_REVIEW_COMMENT_MAX, SET) },
    { DUP (by, EASEL_REVIEW_BY_MAX, SET) },
};
#undef S_T

#define S_T proto_upload_begin_t
static const proto_field_t s_upload_begin_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { SHA (sha256, REQ) },
    { I64 (bytes, 1, REQ) },
    { BOOL (for_render, SET) },
};
#undef S_T

static int
s_upload_begin_check (const void *self_, char *err)
{
    const proto_upload_begin_t *self = self_;
    if (self->bytes > EASEL_MAX_SOURCE_BYTES) {
        if (err)
            snprintf (err, PROTO_ERR_MAX, "'bytes' is over %d", EASEL_MAX_SOURCE_BYTES);
        return -1;
    }
    return 0;
}

#define S_T proto_file_put_t
static const proto_field_t s_file_put_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (format, REQ) },
    { I32 (width, 1, INT32_MAX, REQ) },
    { I32 (height, 1, INT32_MAX, REQ) },
    { BIN (data, len, 0, EASEL_MAX_SOURCE_BYTES, REQ) },
    { STR (name, SET) },
    { SHA (sha256, REQ), .when = "name" },
    { I64 (bytes, 1, REQ), .when = "name" },
    { STR (md5, REQ), .when = "name" },
};
#undef S_T

/* The bytes ride in data, or are named (an incoming object): one of them. */
static int
s_file_put_check (const void *self_, char *err)
{
    const proto_file_put_t *self = self_;
    bool named = self->name [0] != '\0';
    if (named ? self->len > 0 || strlen (self->md5) != 32 || strspn (self->md5, "0123456789abcdef") != 32
                || self->bytes > EASEL_MAX_SOURCE_BYTES
              : self->len == 0) {
        if (err)
            snprintf (err, PROTO_ERR_MAX, "a file put carries data, or names an incoming object "
                      "(no data, a 32-hex md5, 1..%d bytes)", EASEL_MAX_SOURCE_BYTES);
        return -1;
    }
    return 0;
}

/* The sample names an incoming object. */
static void
s_file_put_seed (void *self_)
{
    proto_file_put_t *self = self_;
    free (self->data);
    self->data = NULL;
    self->len = 0;
    memset (self->md5, 'a', 32);
    self->md5 [32] = '\0';
}

#define S_T proto_file_find_t
static const proto_field_t s_file_find_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (id, REQ) },
    { STR (sha256, REQ) },
};
#undef S_T

static int
s_file_find_check (const void *self_, char *err)
{
    const proto_file_find_t *self = self_;
    if (!self->id [0] == !self->sha256 [0]) {
        if (err)
            snprintf (err, PROTO_ERR_MAX, "exactly one of 'id' and 'sha256' is set");
        return -1;
    }
    return 0;
}

static void
s_file_find_seed (void *self)
{
    ((proto_file_find_t *) self)->sha256 [0] = '\0';
}

#define S_T proto_events_since_t
static const proto_field_t s_events_since_fields [] = {
    { STR (rid, REQ) },
    { I64 (since, 0, REQ) },
    { I32 (limit, 1, EASEL_EVENTS_PAGE_MAX, REQ) },
};
#undef S_T

#define S_T proto_delivery_report_t
static const proto_field_t s_delivery_report_fields [] = {
    { STR (rid, REQ) },
    { STR (delivery_id, REQ) },
    { BOOL (ok, REQ) },
    { BOOL (final, OPT) },
    { I32 (status_code, 0, 999, REQ) },
    { I64 (latency_ms, 0, REQ) },
    { DUP (error, EASEL_MAX_ERROR_TEXT_BYTES, SET) },
    { DUP (response_head, EASEL_WEBHOOK_RESPONSE_KEEP_BYTES, SET) },
};
#undef S_T

#define S_T proto_webhook_req_t
static const proto_field_t s_webhook_req_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (id, OPT) },
    { DUP (url, PROTO_WEBHOOK_URL_MAX, SET) },
    { STR (action, OPT) },
    { S_M (overlap_s), .kind = PK_I64, .lo = -1, .hi = EASEL_WEBHOOK_OVERLAP_MAX_S },
};
#undef S_T

#define S_T proto_profile_req_t
static const proto_field_t s_profile_req_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (id, OPT) },
    { STR (action, REQ) },
    { DUP (json, PROTO_PROFILE_JSON_MAX, SET) },
};
#undef S_T

#define S_T proto_idem_complete_t
static const proto_field_t s_idem_complete_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (scope, REQ) },
    { STR (key, REQ) },
    { I32 (status, 200, S_HTTP_STATUS_MAX, REQ) },
    { DUP (body, EASEL_IDEMPOTENCY_BODY_MAX, REQ) },
};
#undef S_T

#define S_T proto_idem_begin_t
static const proto_field_t s_idem_begin_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (scope, REQ) },
    { STR (key, REQ) },
    { STR (fp, REQ) },
    { I64 (hold_ms, 0, REQ) },
};
#undef S_T

#define S_T proto_cancel_t
static const proto_field_t s_cancel_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { STR (id, REQ) },
    { STR (idem_key, SET) },
    { STR (idem_fp, OPT), .when = "idem_key" },
    { I64 (idem_hold_ms, 0, OPT), .when = "idem_key" },
};
#undef S_T

#define S_T proto_list_t
static const proto_field_t s_list_fields [] = {
    { STR (rid, REQ) },
    { STR (auth, REQ) },
    { I32 (limit, 1, EASEL_LIST_LIMIT_MAX, REQ) },
    { STR (starting_after, OPT) },
};
#undef S_T

/* ---- api replies -------------------------------------------------------------- */

#define S_T proto_render_t
static const proto_field_t s_render_fields [] = {
    { STR (rid, REQ) },
    { STR (id, REQ) },
    { STR (account_id, REQ) },
    { STR (status, REQ) },
    { I64 (created_at_ms, 0, REQ) },
    { I64 (completed_at_ms, 0, REQ) },
    { I32 (done, 0, INT32_MAX, REQ) },
    { I32 (total, 0, INT32_MAX, REQ) },
    { I64 (credits_used, 0, REQ) },
    { DUP (webhook_url, EASEL_MAX_URL_BYTES, SET) },
    { STR (webhook_status, REQ) },
    { DUP (metadata_json, EASEL_MAX_METADATA_BYTES, REQ), .null_as = "{}" },
    { STRUCT (error, s_error, SET) },
    { STR (review_status, SET) },
    { DUP (review_comment, EASEL_REVIEW_COMMENT_MAX, SET), .when = "review_status" },
    { DUP (review_by, EASEL_REVIEW_BY_MAX, SET), .when = "review_status" },
    { I64 (review_decided_at_ms, 0, OPT), .when = "review_status" },
    { I64 (review_exp, 0, OPT), .when = "review_sig" },
    { STR (review_sig, SET) },
    { ARRAY (images, nimages, s_image, 0, EASEL_MAX_IMAGES_PER_RENDER, REQ) },
    { I64 (state_epoch, 0, SET) },
    { I64 (state_seq, 0, SET) },
    { I64 (signed_ms, 0, SET) },
};
#undef S_T
static const proto_msg_t s_render = S_MSG (render, proto_render_t, NULL, NULL);

#define S_T proto_file_t
static const proto_field_t s_file_fields [] = {
    { STR (rid, REQ) },
    { STR (id, REQ) },
    { STR (content_type, REQ) },
    { STR (sha256, REQ) },
    { BIN (data, len, 0, EASEL_MAX_MSG_BYTES, REQ) },
    { DUP (location, EASEL_FILE_LOCATION_MAX, SET) },
};
#undef S_T

#define S_T proto_errmsg_t
static const proto_field_t s_errmsg_fields [] = {
    { STR (rid, REQ) },
    { I32 (status, S_HTTP_STATUS_MIN, S_HTTP_STATUS_MAX, REQ) },
    { STRUCT (error, s_error, REQ | SET) },
};
#undef S_T

#define S_T proto_events_t
static const proto_field_t s_events_fields [] = {
    { STR (rid, REQ) },
    { I64 (last_seq, 0, REQ) },
    { ARRAY (events, nevents, s_event, 0, EASEL_EVENTS_PAGE_MAX, REQ) },
};
#undef S_T

#define S_T proto_admin_t
static const proto_field_t s_admin_fields [] = {
    { STR (rid, REQ) },
    { SHA (secret, REQ) },
    { STR (verb, REQ) },
    { STR (who, OPT) },
    { DUP (text, PROTO_ADMIN_TEXT_MAX, SET) },
    { I64 (amount, -1, REQ) },
};
#undef S_T

#define S_T proto_json_t
static const proto_field_t s_json_fields [] = {
    { STR (rid, REQ) },
    { I32 (status, 200, S_HTTP_STATUS_MAX, REQ) },
    { DUP (json, PROTO_JSON_MAX, REQ), .null_as = "{}" },
};
#undef S_T

#define S_T proto_body_t
static const proto_field_t s_body_fields [] = {
    { STR (rid, REQ) },
    { I32 (status, 200, S_HTTP_STATUS_MAX, REQ) },
    { STR (id, OPT) },
    { DUP (body, EASEL_IDEMPOTENCY_BODY_MAX, REQ) },
};
#undef S_T

#define S_T proto_render_list_t
static const proto_field_t s_render_list_fields [] = {
    { STR (rid, REQ) },
    { BOOL (has_more, REQ) },
    { MSGS (renders, nrenders, s_render, EASEL_LIST_LIMIT_MAX, REQ) },
};
#undef S_T

#define S_T proto_simple_t
static const proto_field_t s_simple_fields [] = {
    { STR (rid, OPT) },
    { I32 (renderers, 0, INT32_MAX, OPT) },
    { I64 (last_seq, 0, OPT) },
    { I64 (state_epoch, 0, SET) },
    { I64 (state_seq, 0, SET) },
    { STR (holder, SET) },
    { I32 (lease_ms, 0, INT32_MAX, SET) },
};
#undef S_T

/* ---- work socket ------------------------------------------------------------------ */

#define S_T proto_ready_t
static const proto_field_t s_ready_fields [] = {
    { STR (name, REQ) },
    { I32 (slots, 1, EASEL_RENDERER_SLOTS_MAX, REQ) },
    { BOOL (capture, SET) },
};
#undef S_T

#define S_T proto_task_t
static const proto_field_t s_task_fields [] = {
    { STR (task_id, REQ) },
    { I32 (attempt, 1, INT32_MAX, REQ) },
    { BIN (spec, spec_len, 0, EASEL_MAX_MSG_BYTES, REQ) },
    { STR (req, SET) },
    { STR (render_id, SET) },
    { BOOL (render_last, OPT), .when = "render_id" },
    { SHA (blob_sha256, SET) },
    { BIN (blob, blob_len, 0, EASEL_MAX_SOURCE_BYTES, REQ), .when = "blob_sha256" },
    { SHA (bg_blob_sha256, SET) },
    { BIN (bg_blob, bg_blob_len, 0, EASEL_MAX_SOURCE_BYTES, REQ), .when = "bg_blob_sha256" },
    { DUP (blob_url, EASEL_MAX_PRESIGNED_URL_BYTES, SET) },
    { SHA (blob_url_sha256, REQ), .when = "blob_url" },
    { DUP (bg_blob_url, EASEL_MAX_PRESIGNED_URL_BYTES, SET) },
    { SHA (bg_blob_url_sha256, REQ), .when = "bg_blob_url" },
    { DUP (put_url, EASEL_MAX_PRESIGNED_URL_BYTES, SET) },
};
#undef S_T

static int
s_task_check (const void *self_, char *err)
{
    const proto_task_t *self = self_;
    if (self->blob_sha256 [0] && !proto_sha256_matches (self->blob, self->blob_len, self->blob_sha256)) {
        if (err)
            snprintf (err, PROTO_ERR_MAX, "blob does not match blob_sha256");
        return -1;
    }
    if (self->bg_blob_sha256 [0]
    &&  !proto_sha256_matches (self->bg_blob, self->bg_blob_len, self->bg_blob_sha256)) {
        if (err)
            snprintf (err, PROTO_ERR_MAX, "bg_blob does not match bg_blob_sha256");
        return -1;
    }
    return 0;
}

/* The sample is a stored result: no bytes, an MD5 of hex digits. */
static void
s_result_seed (void *self_)
{
    proto_result_t *self = self_;
    free (self->data);
    self->data = NULL;
    self->len = 0;
    memset (self->md5, 'a', 32);
    self->md5 [32] = '\0';
}

/* A result stored by the renderer names its bytes; it carries none. */
static int
s_result_check (const void *self_, char *err)
{
    const proto_result_t *self = self_;
    if (self->sha256 [0] && (self->len > 0 || strlen (self->md5) != 32
                             || strspn (self->md5, "0123456789abcdef") != 32)) {
        if (err)
            snprintf (err, PROTO_ERR_MAX, "a stored result has no data and a 32-hex md5");
        return -1;
    }
    return 0;
}

#define S_T proto_result_t
static const proto_field_t s_result_fields [] = {
    { STR (task_id, REQ) },
    { I32 (attempt, 1, INT32_MAX, REQ) },
    { I32 (width, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { I32 (height, 0, EASEL_MAX_CANVAS_SIDE_PX, REQ) },
    { STR (format, REQ) },
    { BIN (data, len, 0, EASEL_MAX_MSG_BYTES, REQ) },
    { DUP (findings_json, EASEL_MAX_FINDINGS_BYTES, SET) },
    { I32 (credits, 0, EASEL_TASK_CREDITS_MAX, SET) },
    { STR (thumb, SET) },
    { SHA (sha256, SET) },
    { I64 (bytes, 0, REQ), .when = "sha256" },
    { STR (md5, REQ), .when = "sha256" },
};
#undef S_T

#define S_T proto_fail_t
static const proto_field_t s_fail_fields [] = {
    { STR (task_id, REQ) },
    { I32 (attempt, 1, INT32_MAX, REQ) },
    { BOOL (retryable, REQ) },
    { STRUCT (error, s_error, REQ | SET) },
};
#undef S_T

#define S_T proto_cancel_tasks_t
static const proto_field_t s_cancel_tasks_fields [] = {
    { STR (render_id, REQ) },
    { ARRAY (tasks, ntasks, s_task_ref, 1, EASEL_MAX_IMAGES_PER_RENDER, REQ) },
};
#undef S_T

/* ---- the capture spec (proto_capture.h): the task spec of a capture task ---- */

#define S_T capture_list_t
static const proto_field_t s_capture_list_fields [] = {
    { STRS (v, n, CAPTURE_LIST_MAX, CAPTURE_SELECTOR_MAX, REQ) },
};
#undef S_T
static const proto_msg_t s_capture_list = S_MSG (capture_list, capture_list_t, NULL, NULL);

static int
s_capture_cookie_check (const void *self, char *err)
{
    const capture_cookie_t *c = self;
    if (strlen (c->name) + strlen (c->value) > CAPTURE_COOKIE_BYTES_MAX) {
        proto_fail (err, "a cookie is too long (max %d bytes of name and value)", CAPTURE_COOKIE_BYTES_MAX);
        return -1;
    }
    return 0;
}

#define S_T capture_cookie_t
static const proto_field_t s_capture_cookie_fields [] = {
    { DUP (name, CAPTURE_COOKIE_BYTES_MAX, REQ) },
    { DUP (value, CAPTURE_COOKIE_BYTES_MAX, REQ) },
    { DUP (domain, CAPTURE_COOKIE_DOMAIN_MAX, SET) },
    { DUP (path, CAPTURE_COOKIE_PATH_MAX, SET) },
    { BOOL (secure, SET) },
    { BOOL (http_only, SET) },
    { I64 (expires, 0, SET) },
};
#undef S_T
static const proto_msg_t s_capture_cookie = S_MSG (capture_cookie, capture_cookie_t,
                                                   s_capture_cookie_check, NULL);

#define S_T capture_pdf_t
static const proto_field_t s_capture_pdf_fields [] = {
    { F64 (width_in, CAPTURE_PDF_PAPER_MIN_IN, CAPTURE_PDF_PAPER_MAX_IN, REQ) },
    { F64 (height_in, CAPTURE_PDF_PAPER_MIN_IN, CAPTURE_PDF_PAPER_MAX_IN, REQ) },
    { BOOL (landscape, SET) },
    { F64 (margin_top_in, 0, CAPTURE_PDF_MARGIN_MAX_IN, SET) },
    { F64 (margin_right_in, 0, CAPTURE_PDF_MARGIN_MAX_IN, SET) },
    { F64 (margin_bottom_in, 0, CAPTURE_PDF_MARGIN_MAX_IN, SET) },
    { F64 (margin_left_in, 0, CAPTURE_PDF_MARGIN_MAX_IN, SET) },
    { BOOL (print_background, SET) },
    { I32 (scale_pct, CAPTURE_PDF_SCALE_MIN_PCT, CAPTURE_PDF_SCALE_MAX_PCT, REQ) },
    { DUP (page_ranges, CAPTURE_PDF_RANGES_MAX, SET) },
};
#undef S_T
static const proto_msg_t s_capture_pdf = S_MSG (capture_pdf, capture_pdf_t, NULL, NULL);

static int
s_capture_check (const void *self, char *err)
{
    const capture_spec_t *c = self;
    if (!c->url || !c->url [0]) {
        proto_fail (err, "field 'url' is empty");
        return -1;
    }
    if ((strcmp (c->format, "pdf") == 0) != (c->pdf.width_in > 0)) {
        proto_fail (err, "field 'pdf' is set exactly when format is pdf");
        return -1;
    }
    return 0;
}

/* The table-made sample prints: its pdf part is set, so format says pdf. */
static void
s_capture_seed (void *self)
{
    capture_spec_t *c = self;
    snprintf (c->format, sizeof c->format, "pdf");
}

#define S_T capture_spec_t
static const proto_field_t s_capture_fields [] = {
    { DUP (url, CAPTURE_URL_MAX, REQ) },
    { I32 (width, CAPTURE_VIEWPORT_MIN, CAPTURE_VIEWPORT_MAX, REQ) },
    { I32 (height, CAPTURE_VIEWPORT_MIN, CAPTURE_VIEWPORT_MAX, REQ) },
    { I32 (dpr, 1, CAPTURE_DPR_MAX, REQ) },
    { BOOL (full_page, SET) },
    { BOOL (networkidle, SET) },
    { I32 (delay_ms, 0, CAPTURE_DELAY_MAX_MS, SET) },
    { STR (format, REQ) },
    { STR (device, SET) },
    { STR (background, SET) },
    { MAP (header_names, nheaders, header_values, CAPTURE_HEADERS_MAX, CAPTURE_HEADER_BYTES_MAX, SET) },
    /* exact regions */
    { DUP (selector, CAPTURE_SELECTOR_MAX, SET) },
    { I32 (padding, 0, CAPTURE_PADDING_MAX, SET) },
    { BOOL (has_clip, SET) },
    { I32 (clip_x, 0, CAPTURE_CLIP_MAX, REQ), .when = "has_clip" },
    { I32 (clip_y, 0, CAPTURE_CLIP_MAX, REQ), .when = "has_clip" },
    { I32 (clip_w, 1, CAPTURE_CLIP_MAX, REQ), .when = "has_clip" },
    { I32 (clip_h, 1, CAPTURE_CLIP_MAX, REQ), .when = "has_clip" },
    /* a clean page */
    { U32 (block, CAPTURE_BLOCK_ALL, SET) },
    { STRUCT (block_urls, s_capture_list, SET) },
    { STRUCT (block_resources, s_capture_list, SET) },
    { STRUCT (hide, s_capture_list, SET) },
    { STRUCT (remove, s_capture_list, SET) },
    { STRUCT (clicks, s_capture_list, SET) },
    { U32 (click_optional, (1u << CAPTURE_LIST_MAX) - 1, SET) },
    { DUP (css, CAPTURE_CSS_MAX_BYTES, SET) },
    { DUP (js, CAPTURE_JS_MAX_BYTES, SET) },
    { DUP (wait_for, CAPTURE_SELECTOR_MAX, SET) },
    { DUP (wait_for_hidden, CAPTURE_SELECTOR_MAX, SET) },
    { STR (color_scheme, SET) },
    { BOOL (reduced_motion, SET) },
    { STR (media, SET) },
    /* a logged-in page */
    { ITEMS (cookies, ncookies, s_capture_cookie, CAPTURE_COOKIES_MAX, SET) },
    { MAP (storage_keys, nstorage, storage_values, CAPTURE_STORAGE_MAX, CAPTURE_STORAGE_BYTES_MAX, SET) },
    { DUP (user_agent, CAPTURE_UA_MAX, SET) },
    { DUP (locale, CAPTURE_LOCALE_MAX, SET) },
    { DUP (timezone, CAPTURE_TZ_MAX, SET) },
    { BOOL (has_geo, SET) },
    { F64 (latitude, -90, 90, REQ), .when = "has_geo" },
    { F64 (longitude, -180, 180, REQ), .when = "has_geo" },
    { F64 (accuracy, 0, CAPTURE_GEO_ACCURACY_MAX, REQ), .when = "has_geo" },
    /* a printed page */
    { STRUCT (pdf, s_capture_pdf, SET) },
};
#undef S_T

/* ---- the table of top-level messages, and the names proto.h promises ---------------- */

/* X (name, check, seed): one line per body type, proto_<name>_t. */
#define S_MESSAGES(X) \
    X (slide, NULL, NULL) \
    X (create_render, s_create_render_check, s_create_render_seed) \
    X (get, NULL, NULL) \
    X (review, NULL, NULL) \
    X (upload_begin, s_upload_begin_check, NULL) \
    X (file_put, s_file_put_check, s_file_put_seed) \
    X (file_find, s_file_find_check, s_file_find_seed) \
    X (events_since, NULL, NULL) \
    X (delivery_report, NULL, NULL) \
    X (webhook_req, NULL, NULL) \
    X (admin, NULL, NULL) \
    X (profile_req, NULL, NULL) \
    X (idem_complete, NULL, NULL) \
    X (idem_begin, NULL, NULL) \
    X (cancel, NULL, NULL) \
    X (list, NULL, NULL) \
    X (file, NULL, NULL) \
    X (errmsg, NULL, NULL) \
    X (events, NULL, NULL) \
    X (json, NULL, NULL) \
    X (body, NULL, NULL) \
    X (render_list, NULL, NULL) \
    X (simple, NULL, NULL) \
    X (ready, NULL, NULL) \
    X (task, s_task_check, NULL) \
    X (result, s_result_check, s_result_seed) \
    X (fail, NULL, NULL) \
    X (cancel_tasks, NULL, NULL) \
    X (capture, s_capture_check, s_capture_seed)

#define S_DESCRIBE(n, check, seed) \
    static const proto_msg_t s_##n = S_MSG (n, proto_##n##_t, check, seed);
S_MESSAGES (S_DESCRIBE)

#define S_CODEC(n) \
    int proto_##n##_encode (const proto_##n##_t *self, msgpack_sbuffer *out) \
    { return proto_msg_encode (&s_##n, self, out); } \
    int proto_##n##_decode (const char *data, size_t len, proto_##n##_t *self, char *err) \
    { return proto_msg_decode (&s_##n, data, len, self, err); } \
    void proto_##n##_free (proto_##n##_t *self) \
    { proto_msg_free (&s_##n, self); }
#define S_CODEC_OF(n, check, seed) S_CODEC (n)
S_MESSAGES (S_CODEC_OF)
S_CODEC (render)

#define S_ENTRY(n, check, seed) &s_##n,
static const proto_msg_t *const s_table [] = { S_MESSAGES (S_ENTRY) &s_render };

size_t
proto_msg_count (void)
{
    return sizeof s_table / sizeof s_table [0];
}

const proto_msg_t *
proto_msg_at (size_t i)
{
    return i < proto_msg_count () ? s_table [i] : NULL;
}

const proto_msg_t *
proto_msg_lookup (const char *name)
{
    for (size_t i = 0; name && i < proto_msg_count (); i++)
        if (strcmp (s_table [i]->name, name) == 0)
            return s_table [i];
    return NULL;
}

const char *
proto_msg_name (const proto_msg_t *msg)
{
    return msg ? msg->name : "";
}

size_t
proto_msg_size (const proto_msg_t *msg)
{
    return msg ? msg->size : 0;
}

void
proto_error_free (proto_error_t *self)
{
    proto_msg_free (&s_error, self);
    if (self)
        self->code [0] = '\0';
}

int
proto_error_set (proto_error_t *e, const char *code, const char *message, const char *param)
{
    proto_error_free (e);
    snprintf (e->code, sizeof e->code, "%s", code ? code : "");
    e->message = strdup (message ? message : "");
    e->param = param ? strdup (param) : NULL;
    if (!e->message || (param && !e->param)) {
        proto_error_free (e);
        return -1;
    }
    return 0;
}
