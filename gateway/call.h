/*  call.h: one HTTP request inside easel-gateway, and what every route does
    with it: replies (one mg_write each), auth and its failure budget, one bus
    round trip to the scheduler, the body, and Idempotency-Keys (CONTRACT 5).

    A call_t lives on the stack of the civetweb worker serving the request
    (gateway.c builds it, the route table picks its handler, routes.h). It
    borrows the read-only gateway_t and, per round trip, a client of its
    api_pool_t. Internals never reach a client: a 500 says only the request
    id, and the log says the rest.
    Thread: the calling civetweb worker. */
#ifndef EASEL_CALL_H
#define EASEL_CALL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "gateway.h"
#include "api_pool.h"
#include "render_request.h"
#include "file_upload.h"
#include "capture_request.h"
#include "job_json.h"
#include "deliveries.h"
#include "render_json.h"
#include "presets_json.h"
#include "lint_rules.h"
#include "openapi.h"
#include "render_archive.h"
#include "render_changes.h"
#include "render_cache.h"
#include "review_page.h"
#include "metrics.h"
#include "log.h"
#include "util.h"
#include "json_depth.h"


#define HEAD_MAX         2048      /* status line + headers of one response */
#define EXTRA_MAX        512       /* route-specific headers */
#define BODY_CHUNK       65536     /* first allocation for a body of unknown length */
#define RECHECK_MS       1000      /* a waiting request re-asks the scheduler this often */
#define S_STR_(x)        #x
#define S_STR(x)         S_STR_(x)

typedef struct call_s call_t;

struct call_s {
    struct mg_connection *conn;
    const gateway_t *gw;
    char             request_id [PROTO_ID_MAX];
    const char      *id;           /* the route's {id} segment, "" when it has none */
    int              route_arg;    /* the route table's argument for its handler */
    char             auth [65];
    char             account [PROTO_ID_MAX];  /* call_auth: the key's account */
    int              auth_state;   /* call_auth ran: 1 passed, -1 refused with auth_err */
    api_error_t      auth_err;
    bool             body_read;    /* the request body was consumed */
    bool             accept_replay;   /* call_bus: a REPLAY reply returns 1 (keyed POSTs) */
    /* a keyed POST run by a route that knows nothing of keys (IDEM_BEGIN):
       call_reply stores its answer; its body was read once, for the fingerprint */
    bool             idem_open;
    char             idem_scope [PROTO_SHORT_MAX + PROTO_ID_MAX];
    char             idem_key [EASEL_IDEMPOTENCY_KEY_MAX + 1];
    char            *body_cache;
    size_t           body_cache_len;
};


/* Writes status line, headers and body with one mg_write. `extra` holds whole
   "Name: value\r\n" lines or is NULL. ctype NULL means no body headers (304). */
int call_reply (call_t *c, int status, const char *ctype, const char *extra, const char *body, size_t len);

/* Serialises obj (stolen) as the body. */
int call_reply_json (call_t *c, int status, json_t *obj, const char *extra);

int call_reply_error (call_t *c, const api_error_t *e, const char *extra);

/* Logs `reason` with the request id and fills e with a 500 that says neither. */
int call_internal (call_t *c, api_error_t *e, const char *reason);

/* A request refused for its credentials (e, a 401) takes a token from its
   client address's auth_fail bucket; an empty one turns e into the 429. */
void call_auth_failed (call_t *c, int64_t now, api_error_t *e);

/* 0 while the client address may still fail authentication; -1 with e the
   429 once its auth_fail bucket is empty (then nothing is asked of the bus). */
int call_auth_budget (call_t *c, int64_t now, api_error_t *e);

/* Authorization: Bearer sk_... -> c->auth (hex sha256 of the key) and
   c->account, from the key cache or one GET_ACCOUNT (key_cache.h), before
   any byte of the body is read; then the account's rate limits. A refused
   key takes a token from the client address's auth_fail bucket, and an
   empty bucket answers 429 without asking the scheduler. Runs once per
   request; a second call repeats the first answer. */
int call_auth (call_t *c, api_error_t *e);

/* One round trip to the scheduler expecting reply command `expect`. An ERROR
   reply becomes e (its status, code, message and param); no reply is a 503. */
int call_bus (call_t *c, int cmd, const msgpack_sbuffer *body, const char *rid, int expect,
       zframe_t **reply, api_error_t *e);

/* GET_RENDER with the request's key, or, when link is given, with a review
   link and no key: the link's own render (link_of NULL), or the earlier
   render the link names as since (link_of the link's render). */
int call_get_render_as (call_t *c, const char *id, const review_link_t *link, const char *link_of,
                 proto_render_t *r, api_error_t *e);

int call_get_render (call_t *c, const char *id, proto_render_t *r, api_error_t *e);

/* The answer to GET /v1/renders/{id} from the gateway's render state
   (render_state.h), current as of a fence asked after this call began: a
   heap copy (length in *len, whether the render left processing in *final),
   or NULL when the state cannot answer (off, unknown, untrusted, late,
   another account's, the scheduler silent): ask the scheduler. Needs
   call_auth to have passed (c->account). */
char *call_state_answer (call_t *c, const char *id, size_t *len, bool *final);
/* The render state's acknowledgment (render_state_ack_fn; arg the
   gateway_t): a STATE_ACK round trip, the LEASE's lease_ms. */
int call_state_ack (void *arg, const char *holder, int64_t epoch, int64_t seq, int32_t *lease_ms);

/* Waits until r leaves "processing" or deadline (monotonic ms), replacing *r
   with fresh copies. The event watcher wakes it early; it re-asks the
   scheduler at least every RECHECK_MS since a PUB message may be lost,
   unless the render state says it is still processing. A
   failed re-check ends the wait with *r as it was. Returns -1 without
   waiting when r is still processing and every waiting place is taken
   (--max-waiters), else 0. */
int call_wait_final (call_t *c, proto_render_t *r, int64_t deadline);

/* The body of a render answer: the 202 of an accepted render (the same bytes
   the scheduler stores for an idempotent replay) or the render object. */
char *call_render_text (call_t *c, int status, const proto_render_t *r, size_t *len);

int call_reply_render (call_t *c, int status, const proto_render_t *r);

/* Reads the whole body (Content-Length already checked against the cap). */
int call_read_body (call_t *c, char **out, size_t *out_len, api_error_t *e);

int call_check_json_body (call_t *c, api_error_t *e);

/* The body of a POST that takes no parameters (cancel, revoke): none, or
   the JSON {}. Anything else is 400 invalid_json or 422 parameter_unknown
   naming the first key ("<what> takes no parameters"). With fp, the body's
   idempotency fingerprint. 0, or -1 with e set. */
int call_no_params (call_t *c, const char *what, char fp [65], api_error_t *e);

/* Idempotency-Key header into key ("" when absent). 400 unless 1..255
   printable ASCII characters. */
int call_idem_key (call_t *c, char key [EASEL_IDEMPOTENCY_KEY_MAX + 1], api_error_t *e);

/* Hex sha256 of the canonical form of a JSON body; "" hashes as itself. 0 / -1. */
int call_fingerprint (const char *body, size_t len, char fp [65]);

/* Copies key and fingerprint into a request; a sync request may stay in
   flight for the sync wait plus one bus round trip. */
void call_idem_fill (call_t *c, const char *key, const char *fp, bool sync,
             char out_key [EASEL_IDEMPOTENCY_KEY_MAX + 1], char out_fp [65], int64_t *hold_ms);

/* Writes a REPLAY reply (consumed) byte for byte with Idempotent-Replayed. */
int call_reply_replay (call_t *c, zframe_t **reply);

int call_reply_keyed (call_t *c, const char *scope, const char *key, int status, const proto_render_t *r);

/* call_reply_keyed with the answer's JSON text made already (consumed). */
int call_reply_keyed_text (call_t *c, const char *scope, const char *key, int status,
                    char *text, size_t len);

int call_not_allowed (call_t *c, const char *allow);

/* A keyed POST to a route that knows nothing of keys: IDEM_BEGIN at the
   scheduler, then call_reply stores its answer. 0 to run the route; else the
   status already answered (a replay, a conflict, an error). */
int call_idem_begin (call_t *c, const char *path, const char *key);

#endif
