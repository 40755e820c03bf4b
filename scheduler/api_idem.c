/*  api_idem.c: Idempotency-Keys on the api socket (see api_idem.h).
    Thread: the scheduler's loop, in the pass's transaction. */
#include "api_idem.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Looks an Idempotency-Key up before a keyed request runs. 0: new, run it;
   -1: answered here (replay, 409 in flight, 422 reused, or 503). */
int
api_idem_check (scheduler_t *self, zframe_t *identity, const char *rid, const char *account,
                const char *scope, const char *key, const char *fp)
{
    if (!key [0])
        return 0;
    job_store_idem_t row;
    char err [256] = "";
    int rc = job_store_idem_lookup (self->store, account, scope, key, fp, self->pass.now_ms,
                                    self->pass.now_ms - self->cfg.idem_ttl_s * 1000, &row, err);
    switch (rc) {
        case JOB_STORE_IDEM_NEW:
            return 0;
        case JOB_STORE_IDEM_REPLAY:
            log_info ("idempotent replay", "account", account, "scope", scope, "object", row.object_id, NULL);
            api_reply_stored (self, identity, rid, PROTO_REPLAY, row.status, row.object_id, row.body);
            break;
        case JOB_STORE_IDEM_IN_FLIGHT:
            api_error (self, identity, rid, 409, "idempotency_key_in_use",
                       "A request with this Idempotency-Key is still in flight; retry after"
                       " it has been answered.", "Idempotency-Key");
            break;
        case JOB_STORE_IDEM_MISMATCH:
            api_error (self, identity, rid, 422, "idempotency_key_reused",
                       "This Idempotency-Key was already used with other parameters; use a"
                       " new key for a new request.", "Idempotency-Key");
            break;
        default:
            api_unavailable (self, identity, rid, "idem_lookup", err);
    }
    free (row.body);
    return -1;
}

/* IDEM_COMPLETE: the gateway stores what it answered a keyed request with. */
void
api_idem_complete (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_idem_complete_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_idem_complete_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account) == 0) {
        if (job_store_idem_complete (self->store, account, req.scope, req.key, req.status,
                                     req.body, err) == 0)
            api_reply_simple (self, identity, req.rid, PROTO_ACK, 0);
        else
        if (strcmp (err, "not found") == 0)
            api_error (self, identity, req.rid, 404, "resource_missing",
                       "No in-flight request with this Idempotency-Key.", "Idempotency-Key");
        else
            api_unavailable (self, identity, req.rid, "idem_complete", err);
    }
    proto_idem_complete_free (&req);
}

/* IDEM_BEGIN: claims a key for a keyed POST the scheduler does not run itself
   (webhook management, ...): in flight until IDEM_COMPLETE or hold_ms. */
void
api_idem_begin (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_idem_begin_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_idem_begin_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account)
    ||  api_idem_check (self, identity, req.rid, account, req.scope, req.key, req.fp))
        return;
    if (job_store_idem_put (self->store, account, req.scope, req.key, req.fp, "", false, 0, NULL,
                            self->pass.now_ms + req.hold_ms + EASEL_IDEMPOTENCY_HOLD_MARGIN_MS,
                            self->pass.now_ms, err)) {
        api_unavailable (self, identity, req.rid, "idem_put", err);
        return;
    }
    api_reply_simple (self, identity, req.rid, PROTO_ACK, 0);
}
