/*  api_idem.h: Idempotency-Keys (see job_store.h, job_store_idem_*). A
    keyed create looks its key up first (api_idem_check) and writes its row
    in its own transaction; keyed POSTs the scheduler does not run itself
    (webhook management, ...) claim a key with IDEM_BEGIN; the gateway
    stores what it answered with IDEM_COMPLETE.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_IDEM_H
#define EASEL_API_IDEM_H

#include "api.h"

/* Looks an Idempotency-Key up before a keyed request runs (key "" is no
   key). 0: new, run it; -1: answered here (REPLAY of the stored response,
   409 idempotency_key_in_use, 422 idempotency_key_reused, or 503). */
int api_idem_check (scheduler_t *self, zframe_t *identity, const char *rid, const char *account,
                    const char *scope, const char *key, const char *fp);

/* IDEM_COMPLETE: ACK, 404 when no key of the account is in flight. */
void api_idem_complete (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
/* IDEM_BEGIN: ACK with the key claimed, or what api_idem_check answered. */
void api_idem_begin (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
