/*  render_json.h: the JSON shapes of CONTRACT.md built from decoded bus
    messages, so the gateway (responses) and the scheduler (webhook payloads)
    say exactly the same thing. Uses jansson; returned objects are the caller's
    (json_decref). */
#ifndef EASEL_RENDER_JSON_H
#define EASEL_RENDER_JSON_H

#include <jansson.h>
#include "proto.h"

/* The render object of CONTRACT section 3. `public_url` is the base of the
   absolute file URLs, without a trailing slash. NULL on allocation failure. */
json_t *render_json_build (const proto_render_t *render, const char *public_url);

/* The render's review object {"status","comment","decided_at","by"}
   (CONTRACT section 8); "pending" when the render carries no decision. */
json_t *render_json_review (const proto_render_t *render);

/* {"error":{"type":type,"code":code,"message":message,"param":param}};
   param may be NULL (then omitted). NULL on allocation failure. */
json_t *render_json_error (const char *type, const char *code, const char *message, const char *param);

/* The envelope every webhook event payload carries (docs/webhooks.md, "The
   event envelope"): type, event_id, id (the object's id), object ("render",
   "job", "webhook_test") and occurred_at (the event's time, ISO 8601 UTC),
   set on obj, replacing keys of those names. Drops webhook_status: a payload
   is written once and would carry a stale snapshot of it. 0, or -1 on
   allocation failure (obj then partly set; the caller discards it). */
int     render_json_envelope (json_t *obj, const char *type, const char *event_id,
                              const char *object, const char *id, int64_t occurred_ms);

/* Serialises compactly with keys in insertion order; caller frees. */
char   *render_json_dump (const json_t *obj, size_t *len_out);

/* The 202 body of an accepted render, text the caller frees: fully decided by
   the id, so the scheduler stores exactly what the gateway answers (an
   idempotent replay is byte for byte). NULL on allocation failure. */
char   *render_json_accepted (const char *render_id, size_t *len_out);

/* Whether the render state stream carries r's state (docs/design.md "Render
   state in the gateway"): at most EASEL_STATE_IMAGES_MAX images, and not a
   finished render with a webhook (its webhook_status changes on each
   delivery report, which names no render). Needs only the render's head:
   status, total, webhook_url. */
bool    render_json_state_carried (const proto_render_t *r);

#endif
