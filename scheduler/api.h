/*  api.h: the scheduler's api socket (the gateways, the webhooker, the
    CLI's operator requests). api_handle routes one request by its command
    to the handler of its concern:
      api_renders.h   render and capture create, get, list, cancel
      api_files.h     uploads (FILE_PUT, FILE_FIND) and GET_FILE
      api_review.h    review decisions, review links
      api_account.h   GET_ACCOUNT (credits, ledger)
      api_webhooks.h  webhook management, EVENTS_SINCE, DELIVERY_REPORT
      api_idem.h      Idempotency-Keys (IDEM_BEGIN, IDEM_COMPLETE, the check
                      every keyed create runs)
    and answers PING itself. The helpers below are what every handler shares:
    each queues its answer on the out room (sent after COMMIT) to the
    requesting identity, so a handler never sends.
    Thread: the scheduler's loop, inside the pass's transaction. Memory:
    handlers keep nothing; every answer is copied into the out queue. */
#ifndef EASEL_API_H
#define EASEL_API_H

#include "scheduler.h"
#include "bus.h"
#include <jansson.h>

/* Applies one api request (the pass has not failed). */
void api_handle (scheduler_t *self, bus_msg_t *msg);

/* Resolves the key hash `auth` into account, or queues 401 invalid_api_key. 0 / -1. */
int api_auth (scheduler_t *self, zframe_t *identity, const char *rid, const char *auth,
              char account [PROTO_ID_MAX]);

/* Queues an ERROR on the api socket. */
void api_error (scheduler_t *self, zframe_t *identity, const char *rid, int32_t status,
                const char *code, const char *message, const char *param);
/* scheduler_store_failed (what, err), then 503 store_unavailable. */
void api_unavailable (scheduler_t *self, zframe_t *identity, const char *rid, const char *what,
                      const char *err);
/* 400 bad_message for a body its decoder refused (sched_out_bad_message). */
void api_bad_message (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                      const char *reason);
/* Queues sb as cmd, or 500 when rc != 0 (sched_out_reply); destroys sb. */
void api_reply (scheduler_t *self, zframe_t *identity, const char *rid, int cmd, int rc,
                msgpack_sbuffer *sb);

/* Queues a RENDER of render_id (account's, or anyone's when account is
   NULL), or 404 resource_missing / 503. 1 when every image of it is final
   (none queued or leased: the render is ready to settle), 0 when some are
   not, -1 when no RENDER was queued. */
int api_reply_render (scheduler_t *self, zframe_t *identity, const char *rid,
                       const char *render_id, const char *account);
/* Queues a RENDER of r, a render read or made in this pass (its rid and
   stream position are set here; r stays the caller's). 1 when every image
   is final, 0 when some are not. */
int api_reply_render_made (scheduler_t *self, zframe_t *identity, const char *rid,
                           proto_render_t *r);
/* Queues a BODY-shaped reply `cmd` (REPLAY, ACCOUNT) of a stored response;
   body is borrowed. */
void api_reply_stored (scheduler_t *self, zframe_t *identity, const char *rid, int cmd,
                       int32_t status, const char *object_id, char *body);
/* Queues a JSON reply of status with obj (stolen; NULL answers 500). */
void api_reply_json (scheduler_t *self, zframe_t *identity, const char *rid, int32_t status,
                     json_t *obj);
/* Whether gateways write uploads and inline images to the blob store
   themselves (UPLOAD_BEGIN answers 202): an object store whose blob worker
   adopts them (not --blob-via-scheduler). */
bool api_direct_uploads (scheduler_t *self);
/* Removes incoming object `name` on the blob worker (a refused upload);
   when it cannot, the sweep does, later. */
void api_drop_incoming (scheduler_t *self, const char *name);

/* Queues {v, rid[, renderers]} as cmd (ACK, PONG). */
void api_reply_simple (scheduler_t *self, zframe_t *identity, const char *rid, int cmd,
                       int32_t renderers);

#endif
