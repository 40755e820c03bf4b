/*  scheduler.h: the scheduler as rooms, and the pass that runs them.

    The scheduler struct holds only its rooms, each with its own state:
      cfg    configuration, read once by main.c (scheduler_config_t)
      pass   the transaction one pass runs in: its clocks, whether it failed
             (rolls back), whether the disk was full, whether a task ended so
             finished renders are looked for (scheduler_pass_t)
      sweep  retention: the next sweep, the orphan-scan shard, blobs whose
             files go after COMMIT (scheduler_sweep_t)
      bus    the api and work ROUTERs and the events PUB (bound by main.c,
             inproc sockets in tests)
      store, blobs   the job store and the blob store
      out    the outbound queue (sched_out.h)
      fleet  the renderer table (renderer_table.h)
      reqs   request ids of leased tasks (task_reqs.h)
      state  the render state stream: renders touched this pass (sched_state.h)
    The handlers of the api socket are api.h (a command table over the
    api_*.h concerns), of the work socket work.h; dispatch.h leases queued
    tasks to the fleet.

    scheduler_pass applies up to EASEL_GROUP_MAX_MSGS messages plus timers and
    dispatch in ONE transaction and only after COMMIT sends what it queued.
    A failed commit rolls back and answers every request of the pass with
    503 store_unavailable (507 on a full disk).
    Thread: one, the scheduler's loop, owns every room. */
#ifndef EASEL_SCHEDULER_H
#define EASEL_SCHEDULER_H

#include "blob_store.h"
#include "blob_worker.h"
#include "job_store.h"
#include "renderer_table.h"
#include "sched_out.h"
#include "sched_state.h"
#include "task_reqs.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define SCHEDULER_URL_MAX          1024
#define SCHEDULER_FULL_BACKOFF_MS  1000   /* after a full-disk failure, dispatch pauses */
#define SCHEDULER_SWEEP_EVERY_MS   1000   /* retention sweep period */
#define SCHEDULER_LEASE_TTL_MS     2500   /* the database's lease lives this long past each commit */
#define SCHEDULER_SWEEP_BATCH      64     /* renders, then blobs, one sweep deletes at most */
#define SCHEDULER_ORPHAN_AGE_S     3600   /* a file no row names is removed after this */

typedef struct {
    const char *api_ep, *work_ep, *events_ep, *data_dir;
    char     public_url [SCHEDULER_URL_MAX];
    int32_t  max_attempts;
    int64_t  lease_ms;
    int64_t  account_lease_cap;    /* tasks of one account leased while others wait; 0 none */
    int64_t  idem_ttl_s;           /* idempotency keys are kept this long */
    int64_t  retention_s;          /* final renders and jobs are kept this long */
    int64_t  quota_bytes;          /* stored bytes an account's renders may name */
    int64_t  blob_redirect_s;      /* GET_FILE on S3: presigned redirect lifetime; 0 streams */
    bool     standby;              /* wait for the data dir's lock before binding */
    bool     blob_via_scheduler;   /* S3: image bytes through the bus anyway (no presigned task URLs) */
    bool     has_profile_key;      /* EASEL_PROFILE_KEY given: capture profiles work */
    uint8_t  profile_key [32];     /* api_profiles.h */
} scheduler_config_t;

typedef struct {
    int64_t  now_ms, mono_ms;      /* wall and monotonic clock of this pass */
    bool     failed;               /* a store error: the pass rolls back */
    bool     full;                 /* ... because the disk is full: creates answer 507 */
    bool     settle;               /* a task ended: look for finished renders */
    int64_t  full_until_ms;        /* monotonic: the disk was full, no dispatch until then */
} scheduler_pass_t;

typedef struct {
    char   (*unlink) [65];         /* blobs collected this pass: files go after COMMIT */
    size_t   nunlink, unlink_cap;
    int64_t  next_ms;              /* monotonic time of the next retention sweep */
    int      scan_shard;           /* next blob shard the orphan scan walks */
    char   (*adopting) [65];       /* blobs the worker is adopting: no row names them yet, and
                                      the orphan scan must not take them (a multiset) */
    size_t   nadopting, adopting_cap;
} scheduler_sweep_t;

typedef struct {
    scheduler_config_t    cfg;
    scheduler_pass_t      pass;
    scheduler_sweep_t     sweep;
    zsock_t          *api, *work, *pub;        /* borrowed: whoever bound them closes them */
    job_store_t      *store;
    blob_store_t     *blobs;
    blob_worker_t    *adopter;                 /* an object store's round trips off the loop;
                                                  NULL (files): none, or made in the pass */
    sched_out_t      *out;
    renderer_table_t *fleet;
    task_reqs_t      *reqs;
    sched_state_t    *state;
    read_lease_t     *leases;        /* the gateways' read leases (the process attaches them to out) */
    char              admin_secret [65];       /* DATA/admin.secret; "" refuses every ADMIN */
    bool              lease_lost;              /* a commit found another holder: stop serving */
} scheduler_t;

/* Creates the rooms of self that sched_destroy frees (out, fleet, reqs, state);
   cfg, the sockets and the stores are the caller's to set. 0; -1 out of
   memory (nothing left allocated). */
int scheduler_init (scheduler_t *self);
/* Frees what scheduler_init made and the sweep's list. Safe twice. */
void scheduler_destroy (scheduler_t *self);

/* A store call failed with err during `what`: logged; the pass will roll
   back (and answer 507 when the store says the disk is full). */
void scheduler_store_failed (scheduler_t *self, const char *what, const char *err);

/* The render state stream's view of `render_id` changed in this pass;
   scheduler_touch_task names it by one of its tasks. */
void scheduler_touch (scheduler_t *self, const char *render_id);
void scheduler_touch_task (scheduler_t *self, const char *task_id);

/* Notes (add) or forgets (!add: one of them) an adoption of blob sha256
   the blob worker runs: until its answer is applied no row names the blob,
   so the orphan scan must not remove it. */
void scheduler_adopting (scheduler_t *self, const char *sha256, bool add);

/* Renders whose last task ended get their final status, event and outbox
   row in this pass; their hints are queued. Clears pass.settle. */
void scheduler_settle (scheduler_t *self);

/* One pass: begin, every message waiting on api and work (up to
   EASEL_GROUP_MAX_MSGS), then unsent TASKs, dead renderers, the timers (when
   tick), settling and dispatch; commit, then send. When tick, heartbeats go
   to every renderer and on the events socket after the sends. */
void scheduler_pass (scheduler_t *self, bool tick);

#endif
