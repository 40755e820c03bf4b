/*  admin_ops.h: the operator's writes on a store, one implementation for
    both ways a write arrives: the scheduler's ADMIN handler (api_admin.c,
    inside its pass's transaction) and the CLI on a data dir no scheduler
    holds (inside a transaction of its own). The verbs are those of
    proto_admin_t (proto.h). Uses job_store.h only, so any backend serves.
    Thread: the store handle's. Memory: *out is the caller's (json_decref). */
#ifndef EASEL_ADMIN_OPS_H
#define EASEL_ADMIN_OPS_H

#include "job_store.h"
#include <jansson.h>

#define ADMIN_NOTE_MAX  200        /* bytes of a top-up's note */
#define ADMIN_NAME_MAX  127        /* bytes of an account's name */

/* Runs req's verb on self (a transaction must be open). 0 with *out the
   answer object; 1 refused, err (PROTO_ERR_MAX) saying why in a sentence
   for the operator (bad argument, no such account or key), nothing
   written; -1 the store failed, err its reason (roll back). */
int admin_ops_run (job_store_t *self, const proto_admin_t *req, int64_t now_ms, json_t **out, char *err);

#endif
