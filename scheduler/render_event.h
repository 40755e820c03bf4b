/*  render_event.h: settles one finished render or capture job in the job
    store: its final status, its ledger charge, and its event (the outbox
    row, plus a delivery when it has a webhook_url), all in the caller's
    transaction. The event's payload -- the whole render object (a signed
    URL per image) or the job event -- is built only when a delivery will
    send it: nothing else reads an event's payload (job_store_events_since
    joins deliveries), and for a 500-image render it is ~150 KB of JSON.
    Thread: the scheduler's loop (one job store handle). Memory: nothing is
    kept; `out` is caller-owned. */
#ifndef EASEL_RENDER_EVENT_H
#define EASEL_RENDER_EVENT_H

#include "job_store.h"

typedef struct {
    char    event_id [PROTO_ID_MAX];
    char    type [PROTO_SHORT_MAX];     /* render.succeeded, job.failed, ... */
    char    status [PROTO_SHORT_MAX];   /* the render's final status */
    int64_t seq;                        /* the event's seq, for the PUB hint */
    bool    delivery;                   /* a webhook delivery row was written */
} render_event_t;

/* Completes render_id (job_store_render_complete) and appends its event at
   now_ms; public_url makes the payload's links. 0 with out filled; -1 with
   err (a SQLite reason or "out of memory"). */
int render_event_settle (job_store_t *store, const char *render_id, const char *public_url,
                         int64_t now_ms, render_event_t *out, char *err);

/* Appends the event of render_id's recorded review decision at now_ms
   ("render.approved" | "render.changes_requested", the render object as
   its payload, a delivery when the render has a webhook_url), in the
   caller's transaction. 0 with out filled; -1 with err. */
int render_event_review (job_store_t *store, const char *render_id, const char *public_url,
                         int64_t now_ms, render_event_t *out, char *err);

#endif
