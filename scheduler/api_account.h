/*  api_account.h: GET_ACCOUNT on the api socket: the account's balance,
    usage, credits reserved by renders still processing, and its newest
    EASEL_LEDGER_SHOWN ledger entries, as the JSON of GET /v1/account.
    With key_only (the gateway's key cache) only {"object", "id"}: the
    reservation is a walk of the account's processing renders, which a key
    check every few seconds per gateway must not pay.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_ACCOUNT_H
#define EASEL_API_ACCOUNT_H

#include "api.h"

void api_account_get (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
