/*  cli_admin.h: how the CLI's writes reach a data dir. When a scheduler
    holds the dir (data_lock.h) a write is one ADMIN request on its api
    socket, carrying the secret of DATA/admin.secret, so the scheduler's
    one writer makes it and its own view has it at once; only when none
    does, the CLI opens the store itself under the shared lock (a
    scheduler's start waits for it). Either way the work is admin_ops.c.
    Single threaded. Memory: *out is the caller's (json_decref). */
#ifndef EASEL_CLI_ADMIN_H
#define EASEL_CLI_ADMIN_H

#include <jansson.h>
#include "job_store.h"
#include "proto.h"

#define CLI_ADMIN_ERR_MAX 320
#define CLI_ADMIN_TIMEOUT_MS (2 * EASEL_REQUEST_TIMEOUT_MS)   /* a busy scheduler's answer */

/* Runs req (its verb, who, text, amount; rid and secret are filled here)
   on the data dir `data`. 0 with *out the answer object; 1 refused (err:
   the reason, e.g. no such account, a wrong secret); -1 failed (err). */
int cli_admin_run (const char *data, proto_admin_t *req, json_t **out, char *err);

/* The store of `data` for the CLI's reads. A scheduler holds the dir: the
   store as it is (job_store_open_beside: no migration; a schema other than
   this Easel's is refused); none does: job_store_open (it may migrate) under
   the shared lock, so no scheduler starts meanwhile. *lock_fd is released
   with data_lock_release after job_store_destroy. NULL with err. */
job_store_t *cli_admin_open_read (const char *data, int *lock_fd, char *err);

#endif
