/*  task_reqs.h: the request id (X-Request-Id of the creating request) of
    each task leased by this scheduler, remembered at lease time so that the
    log line of its RESULT or FAIL needs no query. A direct-mapped table of
    TASK_REQS_SLOTS slots: a later lease hashing to the same slot replaces an
    entry, so a lookup can miss; the caller then asks the store
    (job_store_req_get). A task's request id never changes, so a hit is never
    stale.
    Thread: the scheduler's loop. Memory: fixed, owned by the table. */
#ifndef EASEL_TASK_REQS_H
#define EASEL_TASK_REQS_H

#include "proto.h"
#include <stdbool.h>

#define TASK_REQS_SLOTS 4096        /* ~0.5 MB; more than the leases a loop holds at once */

typedef struct _task_reqs_t task_reqs_t;

task_reqs_t *task_reqs_new (void);
void task_reqs_destroy (task_reqs_t **self_p);

/* Remembers req ("" for none) for task_id. */
void task_reqs_put (task_reqs_t *self, const char *task_id, const char *req);

/* Copies task_id's request id into req: true; false when not remembered. */
bool task_reqs_get (task_reqs_t *self, const char *task_id, char req [PROTO_ID_MAX]);

#endif
