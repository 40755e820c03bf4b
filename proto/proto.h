/*  proto.h: Easel's wire protocol. Message types, their msgpack codec, ids.

    A bus message is the multipart frame list
        [empty][EASEL_PROTO_TAG][command byte][msgpack body]
    (a ROUTER sees the peer identity in front of it). The body is a msgpack map
    that always carries "v" (EASEL_PROTO_VERSION); requests on the api socket also
    carry "rid", a request id the reply repeats.

    Every decoder is strict: unknown version, a field of the wrong type, a missing
    required field, a string or array over its cap, or a body over
    EASEL_MAX_MSG_BYTES returns -1 with a one-line reason in `err`; it never
    crashes and never reads past the buffer. Unknown extra keys are ignored
    (forward compatibility).

    Every body type is declared once, as a table of its fields (proto_msgs.c);
    proto_X_encode / _decode / _free are one-line wrappers over one walker
    (proto.c), and the table itself is visible below (proto_msg_*) so that
    tests and fuzzers visit every message without a list of their own.

    Memory: every pointer member of a message struct is heap owned by it
    after a decode (or proto_msg_sample) and only borrowed by an encode; free
    it with the matching proto_X_free(), which every message has and which
    is safe on a zeroed or already-freed struct.
    Encoders append to a caller-owned msgpack_sbuffer and return 0 / -1.
    No function here keeps global state; all are thread safe.  */
#ifndef EASEL_PROTO_H
#define EASEL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <msgpack.h>
#include "easel_limits.h"

/* ---- commands --------------------------------------------------------- */

typedef enum {
    /* api socket: client -> scheduler */
    PROTO_CREATE_RENDER   = 0x01,
    PROTO_GET_RENDER      = 0x02,
    PROTO_GET_FILE        = 0x03,
    PROTO_EVENTS_SINCE    = 0x04,
    PROTO_DELIVERY_REPORT = 0x05,
    PROTO_PING            = 0x06,
    /* api socket: a gateway's read lease on the render state stream
       (docs/design.md "Render state in the gateway"): proto_simple_t {rid,
       holder, state_epoch, state_seq applied} -> LEASE {rid, lease_ms} */
    PROTO_STATE_ACK       = 0x1B,
    /* api socket: idempotency, list, cancel, account (answered as noted) */
    PROTO_IDEM_COMPLETE   = 0x07,   /* proto_idem_complete_t -> ACK */
    PROTO_CANCEL_RENDER   = 0x08,   /* proto_cancel_t -> RENDER | REPLAY */
    PROTO_LIST_RENDERS    = 0x09,   /* proto_list_t -> RENDER_LIST */
    PROTO_GET_ACCOUNT     = 0x0A,   /* proto_get_t (id "") -> ACCOUNT */
    PROTO_IDEM_BEGIN      = 0x0B,   /* proto_idem_begin_t -> ACK | REPLAY */
    /* api socket: webhook management (webhooker/ owner), answered by JSON */
    PROTO_DELIVERIES_GET  = 0x0C,   /* proto_webhook_req_t: attempt log of `id` */
    PROTO_REDELIVER       = 0x0D,   /* proto_webhook_req_t: send `id`'s event again */
    PROTO_WEBHOOK_TEST    = 0x0E,   /* proto_webhook_req_t: a webhook.test event to `url` */
    PROTO_WEBHOOK_ACCOUNT = 0x0F,   /* proto_webhook_req_t: `action` on the account's secrets */
    /* work socket: renderer -> scheduler */
    PROTO_READY           = 0x10,
    PROTO_HEARTBEAT       = 0x11,   /* both directions, body {v} */
    PROTO_RESULT          = 0x12,
    PROTO_FAIL            = 0x13,
    PROTO_DISCONNECT      = 0x14,   /* body {v} */
    PROTO_DRAINING        = 0x1C,   /* body {v}: lease nothing new here; held tasks finish */
    /* api socket: framed web captures (client -> scheduler) */
    PROTO_CREATE_CAPTURE  = 0x18,   /* proto_create_render_t of one capture task (idem_key/
                                       idem_fp as CREATE_RENDER) -> RENDER | REPLAY */
    PROTO_REVIEW          = 0x19,   /* proto_review_t: decide or revoke links -> JSON */
    PROTO_CAPTURE_PROFILE = 0x1A,   /* proto_profile_req_t: capture profiles -> JSON */
    /* work socket: scheduler -> renderer */
    PROTO_TASK            = 0x20,
    PROTO_CANCEL_TASKS    = 0x21,   /* proto_cancel_tasks_t: stop these tasks (render canceled) */
    /* api socket: uploaded files (client -> scheduler), answered by JSON */
    PROTO_FILE_PUT        = 0x28,   /* proto_file_put_t -> JSON (201 new, 200 already stored) */
    PROTO_FILE_FIND       = 0x29,   /* proto_file_find_t -> JSON (200 the file object) | ERROR 404 */
    /* api socket: an operator's command (the easel CLI), answered by JSON */
    PROTO_ADMIN           = 0x2A,   /* proto_admin_t -> JSON 200 | ERROR (403 bad secret) */
    PROTO_UPLOAD_BEGIN    = 0x2B,   /* proto_upload_begin_t -> JSON 200 the file object (already
                                       stored) | 202 {name, url, delete_url}: PUT the bytes there,
                                       then FILE_PUT naming it | 204: send them in FILE_PUT */
    /* api socket: scheduler -> client replies */
    PROTO_RENDER          = 0x40,
    PROTO_FILE            = 0x41,
    PROTO_EVENTS          = 0x42,
    PROTO_ACK             = 0x43,   /* body {v, rid} */
    PROTO_PONG            = 0x44,   /* body {v, rid, renderers} */
    PROTO_REPLAY          = 0x45,   /* proto_body_t: a stored idempotent response */
    PROTO_RENDER_LIST     = 0x46,   /* proto_render_list_t */
    PROTO_ACCOUNT         = 0x47,   /* proto_body_t: the account JSON */
    PROTO_JSON            = 0x4A,   /* proto_json_t: an HTTP status and JSON body */
    PROTO_LEASE           = 0x4B,   /* proto_simple_t: the read lease granted (lease_ms, 0: none) */
    PROTO_ERROR           = 0x7F
} proto_cmd_t;

/* Name of a command for logs ("CREATE_RENDER"), "UNKNOWN" otherwise. */
const char *proto_cmd_name (int cmd);

/* ---- ids ----------------------------------------------------------------
    prefix + 26-char Crockford-base32 ULID (48-bit ms time, 80 random bits from
    libsodium). PROTO_ID_MAX fits the longest prefix ("file_") + 26 + NUL. */
#define PROTO_ID_MAX 40
/* Writes a new id with `prefix` ("rnd_", "img_", ...) into out. 0 / -1 if out is too small. */
int  proto_id_new (const char *prefix, char *out, size_t out_size);
/* True if `id` is `prefix` followed by exactly 26 Crockford base32 characters. */
bool proto_id_valid (const char *id, const char *prefix);

/* ---- common small types ------------------------------------------------- */

#define PROTO_ERR_MAX 256          /* size of every `err` buffer below */
#define PROTO_SHORT_MAX 64         /* status, code, preset, locale, format, device fields */

/* A reason a request or a task failed, as the HTTP error object shows it. */
typedef struct {
    char code[PROTO_SHORT_MAX];    /* "screenshot_fetch_failed"; "" when no error */
    char *message;                 /* sentence for humans; NULL when no error */
    char *param;                   /* "slides[0].screenshot.url"; NULL if none */
} proto_error_t;

/* ---- the slide spec: one image to render (a task) ------------------------
    Built by the gateway from the validated JSON, stored by the scheduler as
    encoded bytes, decoded by the renderer. Colours are 0xRRGGBB. */
#define PROTO_MAX_STOPS 4
#define PROTO_COLOR_MAX 0xFFFFFF
typedef struct {
    int32_t  slide;                /* index into the request's slides[] (names errors) */
    char     locale[PROTO_SHORT_MAX];   /* "" when the render has no matrix */
    char     preset[PROTO_SHORT_MAX];   /* "appstore.iphone_6_9" or "" for custom size */
    int32_t  width, height;
    /* background: ncolors == 1 is a flat colour, 2..4 a linear gradient */
    int32_t  bg_ncolors;
    uint32_t bg_colors[PROTO_MAX_STOPS];
    int32_t  bg_angle;             /* degrees, 0..359; 180 = top to bottom */
    /* headline */
    int32_t  nlines;               /* 0..EASEL_MAX_HEADLINE_LINES */
    char    *lines[EASEL_MAX_HEADLINE_LINES];
    uint32_t text_color;
    /* screenshot: exactly one of url / data, or neither (headline only) */
    char    *shot_url;
    uint8_t *shot_data;
    size_t   shot_len;
    /* or an inline screenshot sent once per render (proto_blob_t), named by
       its hex sha256; the TASK carrying this spec carries the bytes. "" none */
    char     shot_sha256[65];
    char     device[PROTO_SHORT_MAX];   /* a device_frame.h name: "iphone", "ipad", ..., "none" */
    char     format[PROTO_SHORT_MAX];   /* "png" | "jpeg" | "webp" */
    /* layout (optional on the wire: 0 / "" mean the renderer's default) */
    int32_t  nsub;                 /* subtitle lines, 0..EASEL_MAX_HEADLINE_LINES */
    char    *sub[EASEL_MAX_HEADLINE_LINES];
    uint32_t sub_color;
    char     text_position[PROTO_SHORT_MAX];  /* "top" (default) | "bottom" */
    int32_t  padding_pm;           /* side padding, per mille of the width, 0..300; -1 default */
    int32_t  font_weight;          /* 100..900 (>= 600 draws bold); 0 default (700) */
    int32_t  font_size_max;        /* headline size in px; 0: 5.5 % of the width */
    int32_t  font_size_min;        /* smallest auto-fit size in px; 0: 40 % of the max */
    char     fit[PROTO_SHORT_MAX];      /* screenshot in the screen: "contain" (default) | "cover" */
    char     finish[PROTO_SHORT_MAX];   /* frame finish: "black" (default) | "silver" */
    char    *bg_image_url;         /* background image (cover), NULL when none */
    /* or an uploaded background image named by its hex sha256 (the TASK
       carries its bytes as bg_blob); "" none. bg_data/bg_len: its bytes,
       as shot_data is to shot_sha256 (the renderer borrows the task's) */
    char     bg_sha256[65];
    uint8_t *bg_data;
    size_t   bg_len;
    char     store[PROTO_SHORT_MAX];    /* "appstore" | "play" | "" (lint target) */
    bool     display_stated;       /* the display class was named (a preset) */
    bool     text_fallback;        /* the headline came from "default", not the locale */
    char     untranslated_of[PROTO_SHORT_MAX];  /* the locale's own lines are word for word
                                                   this other language's; "" when not */
    /* or a page captured for this image (screenshot.capture): an encoded
       capture spec (proto_capture.h, at most CAPTURE_SPEC_MAX_BYTES) the
       renderer's browser takes unframed; NULL when none */
    uint8_t *capture;
    size_t   capture_len;
} proto_slide_t;

int  proto_slide_encode (const proto_slide_t *self, msgpack_sbuffer *out);
int  proto_slide_decode (const char *data, size_t len, proto_slide_t *self, char *err);
void proto_slide_free (proto_slide_t *self);

/* ---- api: CREATE_RENDER ------------------------------------------------- */
typedef struct {
    int32_t  slide;
    char     locale[PROTO_SHORT_MAX];
    char     preset[PROTO_SHORT_MAX];
    int32_t  width, height;
    char     format[PROTO_SHORT_MAX];
    char    *spec;                 /* encoded proto_slide_t, kept opaque by the scheduler */
    size_t   spec_len;
    char     blob[65];             /* optional: hex sha256 of the render blob it needs (in blobs,
                                      or an uploaded file the account holds); "" none */
    char     bg_blob[65];          /* optional: hex sha256 of its uploaded background image
                                      (an uploaded file the account holds); "" none */
    bool     browser;              /* optional: its slide captures a page, so only a renderer
                                      that captures may lease it */
} proto_task_spec_t;

/* An inline image of a render, decoded, sent once however many tasks use it. */
#define PROTO_MAX_BLOBS EASEL_MAX_SLIDES
typedef struct {
    char     sha256[65];           /* hex sha256 of data (checked on decode) */
    uint8_t *data;
    size_t   len;                  /* 1..EASEL_MAX_SOURCE_BYTES, or 0 when name is set */
    /* optional: the gateway PUT the bytes to the incoming object `name`
       (UPLOAD_BEGIN with for_render); sha256 names them, bytes and md5
       (hex, the object's ETag) are what the store must hold */
    char     name[PROTO_ID_MAX];   /* "" when data carries the bytes */
    int64_t  bytes;
    char     md5[33];
} proto_blob_t;

typedef struct {
    char     rid[PROTO_ID_MAX];
    char     auth[65];             /* hex sha256 of the API key */
    bool     sync;                 /* a sync create: the gateway will wait on it */
    char    *webhook_url;          /* NULL when none */
    char    *metadata_json;        /* canonical JSON object text, "{}" when none */
    int32_t  ntasks;               /* 1..EASEL_MAX_IMAGES_PER_RENDER */
    proto_task_spec_t *tasks;
    int32_t  nblobs;               /* 0..PROTO_MAX_BLOBS, optional on the wire */
    proto_blob_t *blobs;
    /* Idempotency-Key (optional): "" when none. fp is the hex sha256 of the
       canonical request; hold_ms how long a sync create may stay in flight. */
    char     idem_key[EASEL_IDEMPOTENCY_KEY_MAX + 1];
    char     idem_fp[65];
    int64_t  idem_hold_ms;
    char     req[PROTO_ID_MAX];    /* optional "req": the gateway's X-Request-Id, for logs */
    bool     no_cache;             /* optional: draw every image even when an identical one exists */
} proto_create_render_t;

int  proto_create_render_encode (const proto_create_render_t *self, msgpack_sbuffer *out);
int  proto_create_render_decode (const char *data, size_t len, proto_create_render_t *self, char *err);
void proto_create_render_free (proto_create_render_t *self);

/* ---- api: GET_RENDER / GET_FILE ----------------------------------------- */
typedef struct {
    char rid[PROTO_ID_MAX];
    char auth[65];                 /* "" for GET_FILE with a signed URL */
    char id[PROTO_ID_MAX];         /* rnd_... or img_... */
    int64_t exp;                   /* GET_FILE: signed URL expiry (unix s), 0 if none */
    char sig[65];                  /* GET_FILE: hex HMAC, "" if none */
    /* GET_RENDER by a review link (optional on the wire): what the link
       binds besides its render and expiry (the reviewer's name, an earlier
       render to compare with), and, to load that earlier render, the
       render the link belongs to ("" = id itself) */
    char link_by[EASEL_REVIEW_BY_MAX + 1];
    char link_since[PROTO_ID_MAX];
    char link_of[PROTO_ID_MAX];
    /* GET_FILE (optional on the wire): the client follows a redirect, so
       the reply may name a URL of the bytes instead of carrying them */
    bool redirect_ok;
    /* GET_ACCOUNT (optional on the wire): only the account the key belongs
       to (the gateway's key cache), answered without the balance,
       reservation and ledger, whose reservation walks every processing
       render of the account */
    bool key_only;
} proto_get_t;

int  proto_get_encode (const proto_get_t *self, msgpack_sbuffer *out);
int  proto_get_decode (const char *data, size_t len, proto_get_t *self, char *err);
void proto_get_free (proto_get_t *self);

/* ---- api reply: RENDER -------------------------------------------------- */
/* A finished image's perceptual thumbnail: PROTO_THUMB_SIDE x PROTO_THUMB_SIDE
   RGB pixels (3 bytes each, box-filtered from the whole image) as lower-case
   hex, so two renders can be compared without decoding either. */
#define PROTO_THUMB_SIDE 16
#define PROTO_THUMB_HEX  (2 * 3 * PROTO_THUMB_SIDE * PROTO_THUMB_SIDE)
typedef struct {
    char     id[PROTO_ID_MAX];     /* img_... ("" for an image that failed before it had one) */
    char     status[PROTO_SHORT_MAX];   /* "queued", "leased", "succeeded", "failed" */
    int32_t  slide;
    char     locale[PROTO_SHORT_MAX];
    char     preset[PROTO_SHORT_MAX];
    int32_t  width, height;
    char     format[PROTO_SHORT_MAX];
    int64_t  bytes;
    char     sha256[65];
    int64_t  url_exp;              /* signed file URL: expiry (unix s) and hex HMAC */
    char     url_sig[65];
    int32_t  attempts;
    proto_error_t error;
    char    *findings_json;        /* the RESULT's lint findings (JSON array), NULL = none */
    bool     cached;               /* served from an identical earlier image (optional on the wire) */
    char     thumb[PROTO_THUMB_HEX + 1];  /* "" when none (optional on the wire) */
} proto_image_t;

typedef struct {
    char     rid[PROTO_ID_MAX];
    char     id[PROTO_ID_MAX];
    char     account_id[PROTO_ID_MAX];
    char     status[PROTO_SHORT_MAX];   /* processing | succeeded | failed | canceled */
    int64_t  created_at_ms, completed_at_ms;   /* completed 0 while processing */
    int32_t  done, total;
    int64_t  credits_used;
    char    *webhook_url;          /* NULL when none */
    char     webhook_status[PROTO_SHORT_MAX];  /* none | pending | retrying | delivered | failed */
    char    *metadata_json;        /* "{}" when none */
    proto_error_t error;
    int32_t  nimages;
    proto_image_t *images;
    /* the review gate (renders, optional on the wire): "" reads as pending */
    char     review_status[PROTO_SHORT_MAX];   /* pending | approved | changes_requested */
    char    *review_comment;       /* NULL when none */
    char    *review_by;            /* NULL when none */
    int64_t  review_decided_at_ms; /* 0 while pending */
    int64_t  review_exp;           /* signed review link: expiry (unix s), 0 none */
    char     review_sig[65];       /* and its hex HMAC */
    /* the render state stream (optional on the wire; 0 = not set): the
       scheduler's state epoch and the last state seq it had published when
       it read the render (RENDER replies, state messages), and the time its
       URLs were signed at (docs/design.md "Render state in the gateway") */
    int64_t  state_epoch;
    int64_t  state_seq;
    int64_t  signed_ms;
} proto_render_t;

int  proto_render_encode (const proto_render_t *self, msgpack_sbuffer *out);
int  proto_render_decode (const char *data, size_t len, proto_render_t *self, char *err);
void proto_render_free (proto_render_t *self);

/* ---- api: REVIEW (answered by JSON) ------------------------------------
    A decision on a render or the revocation of its review links. Either the
    account's key speaks (auth) or a signed review link (exp + sig, auth ""). */
typedef struct {
    char    rid[PROTO_ID_MAX];
    char    auth[65];              /* hex sha256 of the API key; "" for a signed link */
    char    id[PROTO_ID_MAX];      /* rnd_... */
    int64_t exp;                   /* the review link's expiry (unix s), 0 with a key */
    char    sig[65];               /* its hex HMAC, "" with a key */
    char    link_by[EASEL_REVIEW_BY_MAX + 1];   /* what a signed link binds (proto_get_t), */
    char    link_since[PROTO_ID_MAX];           /* or, for "link", what the new link binds */
    char    action[PROTO_SHORT_MAX];    /* "decide" | "revoke" | "link" (mint a link) */
    char    status[PROTO_SHORT_MAX];    /* decide: "approved" | "changes_requested" */
    char   *comment;               /* NULL when none, <= EASEL_REVIEW_COMMENT_MAX bytes */
    char   *by;                    /* NULL when none, <= EASEL_REVIEW_BY_MAX bytes */
} proto_review_t;

int  proto_review_encode (const proto_review_t *self, msgpack_sbuffer *out);
int  proto_review_decode (const char *data, size_t len, proto_review_t *self, char *err);
void proto_review_free (proto_review_t *self);

/* ---- api reply: FILE ---------------------------------------------------- */
typedef struct {
    char     rid[PROTO_ID_MAX];
    char     id[PROTO_ID_MAX];
    char     content_type[PROTO_SHORT_MAX];
    char     sha256[65];
    uint8_t *data;
    size_t   len;
    char    *location;             /* NULL, or a short-lived URL of the bytes (data empty);
                                      <= EASEL_FILE_LOCATION_MAX bytes, optional on the wire */
} proto_file_t;

int  proto_file_encode (const proto_file_t *self, msgpack_sbuffer *out);
int  proto_file_decode (const char *data, size_t len, proto_file_t *self, char *err);
void proto_file_free (proto_file_t *self);

/* ---- api: uploaded files (UPLOAD_BEGIN, FILE_PUT, FILE_FIND) --------------
    The gateway checks the bytes (type, size, pixels from the header) and
    asks (UPLOAD_BEGIN) where they go. With the files backend it sends them
    with what it read (data); the scheduler hashes them again, stores them
    content addressed and answers the file object JSON (PROTO_JSON). With an
    object store the gateway PUTs them itself to the presigned incoming URL
    the scheduler gave and FILE_PUT names that object (name, sha256, bytes,
    md5; no data): the scheduler's blob worker checks the object's size and
    ETag and adopts it, and only then is the row written and answered. */
typedef struct {
    char     rid[PROTO_ID_MAX];
    char     auth[65];             /* hex sha256 of the API key */
    char     sha256[65];           /* of the bytes the gateway holds */
    int64_t  bytes;                /* 1..EASEL_MAX_SOURCE_BYTES */
    bool     for_render;           /* optional: an inline image of a create (no file row: only
                                      202 with the URLs, or 204) */
} proto_upload_begin_t;

int  proto_upload_begin_encode (const proto_upload_begin_t *self, msgpack_sbuffer *out);
int  proto_upload_begin_decode (const char *data, size_t len, proto_upload_begin_t *self, char *err);
void proto_upload_begin_free (proto_upload_begin_t *self);

typedef struct {
    char     rid[PROTO_ID_MAX];
    char     auth[65];             /* hex sha256 of the API key */
    char     format[PROTO_SHORT_MAX];   /* "png" | "jpeg" | "webp", read from the bytes */
    int32_t  width, height;        /* from the image header, >= 1 */
    uint8_t *data;                 /* 1..EASEL_MAX_SOURCE_BYTES, or none when name is set */
    size_t   len;
    /* optional: the bytes are the incoming object `name` (UPLOAD_BEGIN's 202) */
    char     name[PROTO_ID_MAX];   /* "" when data carries the bytes */
    char     sha256[65];
    int64_t  bytes;
    char     md5[33];              /* hex, the object's ETag */
} proto_file_put_t;

int  proto_file_put_encode (const proto_file_put_t *self, msgpack_sbuffer *out);
int  proto_file_put_decode (const char *data, size_t len, proto_file_put_t *self, char *err);
void proto_file_put_free (proto_file_put_t *self);

/* One of id / sha256 is set: the account's live file of that id, or of
   those bytes. */
typedef struct {
    char     rid[PROTO_ID_MAX];
    char     auth[65];
    char     id[PROTO_ID_MAX];     /* file_..., or "" */
    char     sha256[65];           /* hex, or "" */
} proto_file_find_t;

int  proto_file_find_encode (const proto_file_find_t *self, msgpack_sbuffer *out);
int  proto_file_find_decode (const char *data, size_t len, proto_file_find_t *self, char *err);
void proto_file_find_free (proto_file_find_t *self);

/* ---- api reply: ERROR --------------------------------------------------- */
typedef struct {
    char    rid[PROTO_ID_MAX];
    int32_t status;                /* the HTTP status the gateway answers with */
    proto_error_t error;
} proto_errmsg_t;

int  proto_errmsg_encode (const proto_errmsg_t *self, msgpack_sbuffer *out);
int  proto_errmsg_decode (const char *data, size_t len, proto_errmsg_t *self, char *err);
void proto_errmsg_free (proto_errmsg_t *self);
void proto_error_free (proto_error_t *self);
/* Fills e; message/param are copied (param may be NULL). 0 / -1 on allocation failure. */
int  proto_error_set (proto_error_t *e, const char *code, const char *message, const char *param);

/* ---- api: EVENTS_SINCE and its reply EVENTS ------------------------------
    The webhooker asks for events after seq `since`; the reply carries only
    events that still have a delivery to make (outbox rows not delivered and
    not failed for good), plus last_seq, the highest seq the scheduler has. */
typedef struct {
    char    rid[PROTO_ID_MAX];
    int64_t since;
    int32_t limit;                 /* 1..EASEL_EVENTS_PAGE_MAX */
} proto_events_since_t;

typedef struct {
    int64_t seq;
    char    id[PROTO_ID_MAX];      /* evt_... */
    char    type[PROTO_SHORT_MAX]; /* render.succeeded | render.failed */
    char    object_id[PROTO_ID_MAX];
    int64_t created_at_ms;
    char    delivery_id[PROTO_ID_MAX];  /* "" when the event has no webhook */
    char   *url;                   /* webhook_url, NULL when none */
    char   *secret;                /* the account's whsec_... signing secret */
    char   *payload;               /* the exact JSON body to POST */
    int32_t attempts;              /* delivery attempts made so far */
    char    req[PROTO_ID_MAX];     /* optional "req": X-Request-Id that created the object */
} proto_event_t;

typedef struct {
    char    rid[PROTO_ID_MAX];
    int64_t last_seq;
    int32_t nevents;
    proto_event_t *events;
} proto_events_t;

int  proto_events_since_encode (const proto_events_since_t *self, msgpack_sbuffer *out);
int  proto_events_since_decode (const char *data, size_t len, proto_events_since_t *self, char *err);
void proto_events_since_free (proto_events_since_t *self);
int  proto_events_encode (const proto_events_t *self, msgpack_sbuffer *out);
int  proto_events_decode (const char *data, size_t len, proto_events_t *self, char *err);
void proto_events_free (proto_events_t *self);

/* ---- api: DELIVERY_REPORT (webhooker -> scheduler, answered by ACK) ------ */
typedef struct {
    char    rid[PROTO_ID_MAX];
    char    delivery_id[PROTO_ID_MAX];
    bool    ok;                    /* 2xx */
    bool    final;                 /* not ok and no further attempt will be made */
    int32_t status_code;           /* HTTP status, 0 when no response */
    int64_t latency_ms;
    char   *error;                 /* NULL when ok */
    char   *response_head;         /* first EASEL_WEBHOOK_RESPONSE_KEEP_BYTES of the body, may be NULL */
} proto_delivery_report_t;

int  proto_delivery_report_encode (const proto_delivery_report_t *self, msgpack_sbuffer *out);
int  proto_delivery_report_decode (const char *data, size_t len, proto_delivery_report_t *self, char *err);
void proto_delivery_report_free (proto_delivery_report_t *self);

/* ---- api: webhook management (DELIVERIES_GET, REDELIVER, WEBHOOK_TEST,
    WEBHOOK_ACCOUNT) and its reply JSON -----------------------------------
    The scheduler builds the whole HTTP JSON body; the gateway passes it on
    with `status`. WEBHOOK_ACCOUNT actions: "rotate" (new secret, the old one
    still signs for overlap_s), "public_key" (the ed25519 key), "ed25519_on",
    "ed25519_off". */
#define PROTO_WEBHOOK_URL_MAX   2048
#define PROTO_JSON_MAX          (4 * 1024 * 1024)
typedef struct {
    char    rid[PROTO_ID_MAX];
    char    auth[65];              /* hex sha256 of the API key */
    char    id[PROTO_ID_MAX];      /* rnd_... for DELIVERIES_GET / REDELIVER, else "" */
    char   *url;                   /* WEBHOOK_TEST: the target; NULL otherwise */
    char    action[PROTO_SHORT_MAX];    /* WEBHOOK_ACCOUNT */
    int64_t overlap_s;             /* rotate: seconds the old secret stays valid, -1 default */
} proto_webhook_req_t;

int  proto_webhook_req_encode (const proto_webhook_req_t *self, msgpack_sbuffer *out);
int  proto_webhook_req_decode (const char *data, size_t len, proto_webhook_req_t *self, char *err);
void proto_webhook_req_free (proto_webhook_req_t *self);

/* ---- api: capture profiles (CAPTURE_PROFILE), answered by JSON ----------
    actions: "create" (json: the validated profile body, capture_profile.h),
    "list", "show" and "delete" (id cpr_...), and "resolve" (id): the whole
    decrypted profile, for the gateway to merge under a capture's options;
    never passed on to a client. */
#define PROTO_PROFILE_JSON_MAX  (256 * 1024)
typedef struct {
    char    rid[PROTO_ID_MAX];
    char    auth[65];              /* hex sha256 of the API key */
    char    id[PROTO_ID_MAX];      /* cpr_... or "" */
    char    action[PROTO_SHORT_MAX];
    char   *json;                  /* create: the profile; NULL otherwise */
} proto_profile_req_t;

int  proto_profile_req_encode (const proto_profile_req_t *self, msgpack_sbuffer *out);
int  proto_profile_req_decode (const char *data, size_t len, proto_profile_req_t *self, char *err);
void proto_profile_req_free (proto_profile_req_t *self);

typedef struct {
    char    rid[PROTO_ID_MAX];
    int32_t status;                /* 200..599 */
    char   *json;                  /* the body, at most PROTO_JSON_MAX bytes */
} proto_json_t;

int  proto_json_encode (const proto_json_t *self, msgpack_sbuffer *out);
int  proto_json_decode (const char *data, size_t len, proto_json_t *self, char *err);
void proto_json_free (proto_json_t *self);

/* ---- api: ADMIN (the easel CLI's writes, answered by JSON) -------------
    A write of `easel credits add`, `easel keys create|revoke|rotate-secret|
    public-key` on a data dir a scheduler holds, so that every write goes
    through the scheduler's one writer. `secret` is the hex secret the
    scheduler wrote at start to DATA/admin.secret (0600, scheduler/data_lock.h);
    any other value is refused with 403. Verbs (scheduler/admin_ops.h):
      "credits_add"   who: acct_, sk_ key or prefix; amount; text: the note
      "key_create"    text: the name; amount: credits, -1 unlimited
      "key_revoke"    who: the key or its prefix
      "secret_rotate" who: acct_; amount: overlap seconds, -1 the default
      "ed25519"       who: acct_; amount: 0 read, 1 enable, 2 disable */
#define PROTO_ADMIN_WHO_MAX   128
#define PROTO_ADMIN_TEXT_MAX  256
typedef struct {
    char    rid[PROTO_ID_MAX];
    char    secret[65];            /* 64 lower-case hex digits */
    char    verb[PROTO_SHORT_MAX];
    char    who[PROTO_ADMIN_WHO_MAX];
    char   *text;                  /* heap: note or name; NULL none */
    int64_t amount;
} proto_admin_t;

int  proto_admin_encode (const proto_admin_t *self, msgpack_sbuffer *out);
int  proto_admin_decode (const char *data, size_t len, proto_admin_t *self, char *err);
void proto_admin_free (proto_admin_t *self);

/* ---- api: idempotency, cancel, list, account (0x07-0x0A, 0x45-0x47) -----
    IDEM_COMPLETE stores the response the gateway answered a keyed request
    with (a sync create, a cancel) so that a retry replays it. REPLAY and
    ACCOUNT carry an HTTP status and a JSON body the gateway writes as is. */
typedef struct {
    char    rid[PROTO_ID_MAX];
    char    auth[65];
    char    scope[PROTO_SHORT_MAX + PROTO_ID_MAX];  /* "POST /v1/renders" */
    char    key[EASEL_IDEMPOTENCY_KEY_MAX + 1];
    int32_t status;                /* 200..599 */
    char   *body;                  /* at most EASEL_IDEMPOTENCY_BODY_MAX bytes */
} proto_idem_complete_t;

int  proto_idem_complete_encode (const proto_idem_complete_t *self, msgpack_sbuffer *out);
int  proto_idem_complete_decode (const char *data, size_t len, proto_idem_complete_t *self, char *err);
void proto_idem_complete_free (proto_idem_complete_t *self);

/* IDEM_BEGIN claims a key for any other keyed POST before it runs (ACK: run
   it, then IDEM_COMPLETE; REPLAY; or ERROR 409 / 422). */
typedef struct {
    char    rid[PROTO_ID_MAX];
    char    auth[65];
    char    scope[PROTO_SHORT_MAX + PROTO_ID_MAX];
    char    key[EASEL_IDEMPOTENCY_KEY_MAX + 1];
    char    fp[65];
    int64_t hold_ms;               /* how long the request may stay in flight */
} proto_idem_begin_t;

int  proto_idem_begin_encode (const proto_idem_begin_t *self, msgpack_sbuffer *out);
int  proto_idem_begin_decode (const char *data, size_t len, proto_idem_begin_t *self, char *err);
void proto_idem_begin_free (proto_idem_begin_t *self);

typedef struct {
    char    rid[PROTO_ID_MAX];
    char    auth[65];
    char    id[PROTO_ID_MAX];      /* rnd_... */
    char    idem_key[EASEL_IDEMPOTENCY_KEY_MAX + 1];   /* "" when none */
    char    idem_fp[65];
    int64_t idem_hold_ms;
} proto_cancel_t;

int  proto_cancel_encode (const proto_cancel_t *self, msgpack_sbuffer *out);
int  proto_cancel_decode (const char *data, size_t len, proto_cancel_t *self, char *err);
void proto_cancel_free (proto_cancel_t *self);

typedef struct {
    char    rid[PROTO_ID_MAX];
    char    auth[65];
    int32_t limit;                 /* 1..EASEL_LIST_LIMIT_MAX */
    char    starting_after[PROTO_ID_MAX];   /* "" for the first page */
} proto_list_t;

int  proto_list_encode (const proto_list_t *self, msgpack_sbuffer *out);
int  proto_list_decode (const char *data, size_t len, proto_list_t *self, char *err);
void proto_list_free (proto_list_t *self);

typedef struct {
    char    rid[PROTO_ID_MAX];
    int32_t status;                /* 200..599 */
    char    id[PROTO_ID_MAX];      /* the object the body is about */
    char   *body;                  /* JSON text, at most EASEL_IDEMPOTENCY_BODY_MAX bytes */
} proto_body_t;

int  proto_body_encode (const proto_body_t *self, msgpack_sbuffer *out);
int  proto_body_decode (const char *data, size_t len, proto_body_t *self, char *err);
void proto_body_free (proto_body_t *self);

/* Newest first; each item is a whole RENDER body (proto_render_encode). */
typedef struct {
    char    rid[PROTO_ID_MAX];
    bool    has_more;
    int32_t nrenders;              /* 0..EASEL_LIST_LIMIT_MAX */
    proto_render_t *renders;
} proto_render_list_t;

int  proto_render_list_encode (const proto_render_list_t *self, msgpack_sbuffer *out);
int  proto_render_list_decode (const char *data, size_t len, proto_render_list_t *self, char *err);
void proto_render_list_free (proto_render_list_t *self);

/* ---- small bodies: ACK, PING, PONG, HEARTBEAT, DISCONNECT ---------------- */
/* On the events PUB socket the body is a proto_simple_t too: rid carries the
   object id the event is about (rnd_...), last_seq the event's seq. */
typedef struct {
    char    rid[PROTO_ID_MAX];     /* "" for HEARTBEAT / DISCONNECT */
    int32_t renderers;             /* PONG: live renderer count; 0 otherwise */
    int64_t last_seq;              /* HEARTBEAT on the events socket: highest seq */
    /* HEARTBEAT on the events socket and PONG (optional on the wire, 0 = not
       set): the render state stream's epoch and last published seq */
    int64_t state_epoch;
    int64_t state_seq;
    /* STATE_ACK: the gateway process holding the lease; LEASE: its length
       from the moment the gateway sent the STATE_ACK (0: no lease) */
    char    holder[PROTO_ID_MAX];
    int32_t lease_ms;
} proto_simple_t;

int  proto_simple_encode (const proto_simple_t *self, msgpack_sbuffer *out);
int  proto_simple_decode (const char *data, size_t len, proto_simple_t *self, char *err);
void proto_simple_free (proto_simple_t *self);

/* ---- work: READY, TASK, RESULT, FAIL ------------------------------------- */
typedef struct {
    char    name[PROTO_SHORT_MAX]; /* host:pid, for logs */
    int32_t slots;                 /* 1..256 */
    bool    capture;               /* optional: can run capture tasks (a browser is there) */
} proto_ready_t;

int  proto_ready_encode (const proto_ready_t *self, msgpack_sbuffer *out);
int  proto_ready_decode (const char *data, size_t len, proto_ready_t *self, char *err);
void proto_ready_free (proto_ready_t *self);

typedef struct {
    char    task_id[PROTO_ID_MAX]; /* the image id the task produces (img_...) */
    int32_t attempt;               /* 1-based */
    char   *spec;                  /* encoded proto_slide_t */
    size_t  spec_len;
    char    req[PROTO_ID_MAX];     /* optional "req": the creating request's X-Request-Id */
    /* optional: the render blob the spec names (shot_sha256), bytes attached */
    char     blob_sha256[65];      /* "" none */
    uint8_t *blob;
    size_t   blob_len;
    /* optional: the uploaded background the spec names (bg_sha256), bytes attached */
    char     bg_blob_sha256[65];   /* "" none */
    uint8_t *bg_blob;
    size_t   bg_blob_len;
    /* optional: the task's render, and whether no other task of it was
       queued when this one was leased (the renderer's fetch cache drops
       the render's entries after it) */
    char     render_id[PROTO_ID_MAX];
    bool     render_last;
    /* optional, blobs on an object store (blob_store.h): instead of the
       bytes, a presigned GET of the input blob whose sha256 is
       blob_url_sha256 (used when blob_sha256 is ""), the same for the
       background (bg_blob_url), and a presigned PUT for the result, so
       image bytes cross neither the bus nor the scheduler */
    char    *blob_url;             /* NULL none */
    char     blob_url_sha256[65];
    char    *bg_blob_url;          /* NULL none */
    char     bg_blob_url_sha256[65];
    char    *put_url;              /* NULL: the result's bytes ride in RESULT */
} proto_task_t;

int  proto_task_encode (const proto_task_t *self, msgpack_sbuffer *out);
int  proto_task_decode (const char *data, size_t len, proto_task_t *self, char *err);
void proto_task_free (proto_task_t *self);

typedef struct {
    char     task_id[PROTO_ID_MAX];
    int32_t  attempt;
    int32_t  width, height;
    char     format[PROTO_SHORT_MAX];
    uint8_t *data;                 /* the encoded image */
    size_t   len;
    char    *findings_json;        /* lint findings, a JSON array of {rule, severity,
                                      message}; NULL = none; <= EASEL_MAX_FINDINGS_BYTES */
    int32_t  credits;              /* optional: the task's price (captures: 3 page, 1 image);
                                      0 = the default of one credit */
    char     thumb[PROTO_THUMB_HEX + 1];  /* optional: the image's thumbnail, "" none */
    /* optional: the bytes went to the task's put_url (data then empty):
       their hex sha256, size and hex MD5 (the object's ETag) */
    char     sha256[65];           /* "" when data carries the bytes */
    int64_t  bytes;
    char     md5[33];
} proto_result_t;

int  proto_result_encode (const proto_result_t *self, msgpack_sbuffer *out);
int  proto_result_decode (const char *data, size_t len, proto_result_t *self, char *err);
void proto_result_free (proto_result_t *self);

typedef struct {
    char    task_id[PROTO_ID_MAX];
    int32_t attempt;
    bool    retryable;             /* false: the input is at fault, do not try again */
    proto_error_t error;
} proto_fail_t;

int  proto_fail_encode (const proto_fail_t *self, msgpack_sbuffer *out);
int  proto_fail_decode (const char *data, size_t len, proto_fail_t *self, char *err);
void proto_fail_free (proto_fail_t *self);

/* ---- work: CANCEL_TASKS (scheduler -> renderer) ---------------------------
    Sent after a cancel commits to each renderer that holds a leased task of
    the render: the (task_id, attempt) pairs it holds. The renderer drops
    those still queued and tells those running to stop; each is answered with
    a FAIL whose code is "canceled" (not retryable). A pair the renderer does
    not hold (already answered, other attempt) is ignored. */
typedef struct {
    char    task_id[PROTO_ID_MAX]; /* img_... */
    int32_t attempt;               /* 1-based */
} proto_task_ref_t;

typedef struct {
    char    render_id[PROTO_ID_MAX];    /* rnd_..., for logs */
    int32_t ntasks;                /* 1..EASEL_MAX_IMAGES_PER_RENDER */
    proto_task_ref_t *tasks;       /* heap, ntasks items */
} proto_cancel_tasks_t;

int  proto_cancel_tasks_encode (const proto_cancel_tasks_t *self, msgpack_sbuffer *out);
int  proto_cancel_tasks_decode (const char *data, size_t len, proto_cancel_tasks_t *self, char *err);
void proto_cancel_tasks_free (proto_cancel_tasks_t *self);

/* ---- the message table -----------------------------------------------------
    One entry per body type above (proto_<name>_t); a struct passed with an
    entry must be of that type. */
typedef struct proto_msg_s proto_msg_t;

size_t proto_msg_count (void);
/* The i-th entry, NULL past the end. */
const proto_msg_t *proto_msg_at (size_t i);
/* The entry named `name` ("create_render"), NULL if none. */
const proto_msg_t *proto_msg_lookup (const char *name);
const char *proto_msg_name (const proto_msg_t *msg);
/* sizeof the message's struct. */
size_t proto_msg_size (const proto_msg_t *msg);
int  proto_msg_encode (const proto_msg_t *msg, const void *self, msgpack_sbuffer *out);
int  proto_msg_decode (const proto_msg_t *msg, const char *data, size_t len, void *self, char *err);
void proto_msg_free (const proto_msg_t *msg, void *self);
/* Fills self with a valid instance whose every field is set (a fuzzer seed,
   a round-trip probe); free it with proto_msg_free, also after a -1 (out of
   memory). */
int  proto_msg_sample (const proto_msg_t *msg, void *self);

/* ---- events PUB -----------------------------------------------------------
    Frames: [topic][seq as decimal text][msgpack proto_simple_t-like body].
    Topics: "render.succeeded", "render.failed", "hb" (heartbeat, body last_seq
    and the state stream's epoch and seq).
    The render state stream shares the socket with topics "state.*", whose
    seq frame is the state stream's own, contiguous within one epoch:
    "state.render" (body proto_render_t with state_epoch: a render as
    GET_RENDER answers it), "state.gone" (proto_simple_t, rid the render
    whose state is not carried: drop it), "state.reset" (proto_simple_t:
    drop every render). Their bodies carry state_epoch. */
#define PROTO_TOPIC_HEARTBEAT    "hb"
#define PROTO_TOPIC_STATE        "state."
#define PROTO_TOPIC_STATE_RENDER "state.render"
#define PROTO_TOPIC_STATE_GONE   "state.gone"
#define PROTO_TOPIC_STATE_RESET  "state.reset"

#endif
