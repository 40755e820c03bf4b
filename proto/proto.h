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

    Memory: decoded structs own their strings and buffers (heap); free them with
    the matching proto_X_free(), which is safe on a zeroed or already-freed struct.
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
    /* work socket: renderer -> scheduler */
    PROTO_READY           = 0x10,
    PROTO_HEARTBEAT       = 0x11,   /* both directions, body {v} */
    PROTO_RESULT          = 0x12,
    PROTO_FAIL            = 0x13,
    PROTO_DISCONNECT      = 0x14,   /* body {v} */
    /* work socket: scheduler -> renderer */
    PROTO_TASK            = 0x20,
    /* api socket: scheduler -> client replies */
    PROTO_RENDER          = 0x40,
    PROTO_FILE            = 0x41,
    PROTO_EVENTS          = 0x42,
    PROTO_ACK             = 0x43,   /* body {v, rid} */
    PROTO_PONG            = 0x44,   /* body {v, rid, renderers} */
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
    char     device[PROTO_SHORT_MAX];   /* "iphone" or "none" */
    char     format[PROTO_SHORT_MAX];   /* "png" */
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
} proto_task_spec_t;

typedef struct {
    char     rid[PROTO_ID_MAX];
    char     auth[65];             /* hex sha256 of the API key */
    bool     sync;                 /* a sync create: the gateway will wait on it */
    char    *webhook_url;          /* NULL when none */
    char    *metadata_json;        /* canonical JSON object text, "{}" when none */
    int32_t  ntasks;               /* 1..EASEL_MAX_IMAGES_PER_RENDER */
    proto_task_spec_t *tasks;
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
} proto_get_t;

int  proto_get_encode (const proto_get_t *self, msgpack_sbuffer *out);
int  proto_get_decode (const char *data, size_t len, proto_get_t *self, char *err);

/* ---- api reply: RENDER -------------------------------------------------- */
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
} proto_render_t;

int  proto_render_encode (const proto_render_t *self, msgpack_sbuffer *out);
int  proto_render_decode (const char *data, size_t len, proto_render_t *self, char *err);
void proto_render_free (proto_render_t *self);

/* ---- api reply: FILE ---------------------------------------------------- */
typedef struct {
    char     rid[PROTO_ID_MAX];
    char     id[PROTO_ID_MAX];
    char     content_type[PROTO_SHORT_MAX];
    char     sha256[65];
    uint8_t *data;
    size_t   len;
} proto_file_t;

int  proto_file_encode (const proto_file_t *self, msgpack_sbuffer *out);
int  proto_file_decode (const char *data, size_t len, proto_file_t *self, char *err);
void proto_file_free (proto_file_t *self);

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
} proto_event_t;

typedef struct {
    char    rid[PROTO_ID_MAX];
    int64_t last_seq;
    int32_t nevents;
    proto_event_t *events;
} proto_events_t;

int  proto_events_since_encode (const proto_events_since_t *self, msgpack_sbuffer *out);
int  proto_events_since_decode (const char *data, size_t len, proto_events_since_t *self, char *err);
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

/* ---- small bodies: ACK, PING, PONG, HEARTBEAT, DISCONNECT ---------------- */
/* On the events PUB socket the body is a proto_simple_t too: rid carries the
   object id the event is about (rnd_...), last_seq the event's seq. */
typedef struct {
    char    rid[PROTO_ID_MAX];     /* "" for HEARTBEAT / DISCONNECT */
    int32_t renderers;             /* PONG: live renderer count; 0 otherwise */
    int64_t last_seq;              /* HEARTBEAT on the events socket: highest seq */
} proto_simple_t;

int  proto_simple_encode (const proto_simple_t *self, msgpack_sbuffer *out);
int  proto_simple_decode (const char *data, size_t len, proto_simple_t *self, char *err);

/* ---- work: READY, TASK, RESULT, FAIL ------------------------------------- */
typedef struct {
    char    name[PROTO_SHORT_MAX]; /* host:pid, for logs */
    int32_t slots;                 /* 1..256 */
} proto_ready_t;

int  proto_ready_encode (const proto_ready_t *self, msgpack_sbuffer *out);
int  proto_ready_decode (const char *data, size_t len, proto_ready_t *self, char *err);

typedef struct {
    char    task_id[PROTO_ID_MAX]; /* the image id the task produces (img_...) */
    int32_t attempt;               /* 1-based */
    char   *spec;                  /* encoded proto_slide_t */
    size_t  spec_len;
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

/* ---- events PUB -----------------------------------------------------------
    Frames: [topic][seq as decimal text][msgpack proto_simple_t-like body].
    Topics: "render.succeeded", "render.failed", "hb" (heartbeat, body last_seq). */
#define PROTO_TOPIC_HEARTBEAT "hb"

#endif
