/*  host_table.h: the webhooker's per-host cap (EASEL_WEBHOOK_PER_HOST).

    For each "host:port" with something going on: how many transfers run
    there now, and the due deliveries waiting for a slot there, first come
    first served. A delivery that finds its host full is parked here (out of
    the timer heap) instead of being looked at again on every wake-up; a
    transfer that ends there hands its slot to the first one parked. A host
    with nothing running and nobody waiting is forgotten.

    Thread: the webhooker's one thread. Memory: the table owns its host
    records; parked deliveries stay the caller's (linked through their
    park_* fields, attempt.h) and must be unparked before they are freed.  */
#ifndef EASEL_HOST_TABLE_H
#define EASEL_HOST_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "attempt.h"

typedef struct _host_table_t host_table_t;

/* A table allowing per_host (>= 1) transfers to each host; NULL when out
   of memory. */
host_table_t *host_table_new (int64_t per_host);

/* Frees the table and nulls *self_p; safe on NULL and twice. Deliveries
   still parked are left unlinked. */
void host_table_destroy (host_table_t **self_p);

/* Counts a transfer to host in and returns true when it is below the cap;
   false (nothing counted) when it is full. Out of memory is fatal. */
bool host_table_acquire (host_table_t *self, const char *host);

/* A transfer to host that acquire counted has ended (or never started).
   Returns the first delivery parked on host, taken off its queue, when that
   frees a slot for it; NULL otherwise. */
delivery_t *host_table_release (host_table_t *self, const char *host);

/* Queues d (due, WAITING, not parked) on its host, which acquire found full. */
void host_table_park (host_table_t *self, delivery_t *d);

/* Takes d off its host's queue; nothing when it is not parked. */
void host_table_unpark (host_table_t *self, delivery_t *d);

/* Transfers running to host now (0 for a host the table does not know). */
int64_t host_table_busy (const host_table_t *self, const char *host);

#endif
