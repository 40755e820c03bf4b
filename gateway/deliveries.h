/*  deliveries.h: the webhook routes of easel-gateway (CONTRACT 6):
      GET  /v1/renders/{id}/deliveries      the attempt log (also /v1/jobs/{id}/...)
      POST /v1/renders/{id}/redeliver       send the same event (same webhook-id) again
      POST /v1/webhooks/test                {"url": ...}: a signed webhook.test event
      GET  /v1/webhooks/test/{evt}/deliveries   the attempt log of a test event
      POST /v1/account/webhook_secret/rotate    [{"overlap_s": N}]: a new whsec_ secret
      GET  /v1/account/webhook_public_key   the ed25519 public key
      POST /v1/account/webhook_signing      {"ed25519": true|false}
    gateway.c's route table names the route (its argument), authenticates
    and reads the body; this file validates it, asks
    the scheduler (DELIVERIES_GET / REDELIVER / WEBHOOK_TEST / WEBHOOK_ACCOUNT)
    and hands back the status and JSON body the scheduler built.
    Thread: any civetweb worker, borrowing clients of the gateway's api_pool_t. No state. */
#ifndef EASEL_DELIVERIES_H
#define EASEL_DELIVERIES_H

#include "api_pool.h"
#include "render_request.h"

typedef enum {
    DELIVERIES_NONE = 0,
    DELIVERIES_LIST,
    DELIVERIES_REDELIVER,
    DELIVERIES_TEST,
    DELIVERIES_TEST_LIST,
    DELIVERIES_ROTATE,
    DELIVERIES_PUBLIC_KEY,
    DELIVERIES_SIGNING
} deliveries_route_t;

/* 2: the route needs a JSON body; 1: an optional one; 0: none. */
int deliveries_body (deliveries_route_t route);

/* Runs the route for the account whose key hashes to `auth`. 0 with *status
   and *json (heap, the caller frees) to send; -1 with e filled (404 for a
   malformed id, 422 naming the field for a bad body, 503 when the scheduler
   does not answer, 500 without a client). The id and body are checked
   before anything is sent. body may be NULL. */
int deliveries_call (api_pool_t *client, deliveries_route_t route, const char *auth,
                     const char *id, const char *body, size_t len,
                     int *status, char **json, api_error_t *e);

/* The scheduler's reply `got` (JSON or ERROR) into *status and *json (heap,
   the caller's), or e with the ERROR's status, code and param (a malformed
   reply: 500). 0 / -1. Shared by every route answered by scheduler JSON. */
int deliveries_reply_json (int got, zframe_t *reply, int *status, char **json, api_error_t *e);

#endif
