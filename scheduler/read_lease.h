/*  read_lease.h: the gateways' read leases on the render state stream
    (docs/design.md "Render state in the gateway"). A gateway that holds a
    valid lease answers GET /v1/renders/{id} from its table without a fence;
    in exchange the scheduler sends no reply of a pass that published state
    seq S (sched_out holds it) until every live holder acknowledged having
    applied S, or its lease ran out.

    A holder acknowledges (STATE_ACK) the last seq it applied; each
    acknowledgment renews its lease for at most READ_LEASE_MS, never past
    the release deadline of a held reply it has not acknowledged (so no
    reply waits longer than READ_LEASE_MS for anyone), and grants a lease
    only once the holder applied every seq a reply already sent reflects (a
    holder that lapsed, or is new, first catches up). For READ_LEASE_MS
    after start nothing held is released: a gateway may still hold a lease
    of the scheduler this one replaced.
    Times are the scheduler's monotonic ms; a gateway counts its lease from
    when it sent the acknowledgment, so it ends before the scheduler's view.
    Thread: the scheduler's loop. Memory: a fixed table. */
#ifndef EASEL_READ_LEASE_H
#define EASEL_READ_LEASE_H

#include "proto.h"
#include <stdbool.h>
#include <stdint.h>

#define READ_LEASE_MS           EASEL_READ_LEASE_MS
#define READ_LEASE_HOLDERS_MAX  64        /* gateways; one more is granted nothing */

typedef struct _read_lease_t read_lease_t;

/* An empty table, quiet (nothing released) until now_mono_ms + READ_LEASE_MS.
   NULL out of memory. */
read_lease_t *read_lease_new (int64_t now_mono_ms);
void read_lease_destroy (read_lease_t **self_p);

/* holder acknowledged seq at now. released_seq is the highest state seq a
   sent reply reflects; deadline_ms is when the oldest held reply of a seq
   above `seq` is released regardless (INT64_MAX: none held). Returns the
   lease granted in ms (0: none: the holder is new or lapsed and has not
   caught up to released_seq, or the table is full); the holder blocks held
   replies until it acknowledges their seq or its term ends either way. */
int32_t read_lease_ack (read_lease_t *self, const char *holder, int64_t seq, int64_t released_seq,
                        int64_t deadline_ms, int64_t now_mono_ms);

/* Whether a reply of state seq may be sent at now: the quiet start is over
   and every holder whose term has not ended acknowledged seq. Holders whose
   term ended are forgotten. */
bool read_lease_clear (read_lease_t *self, int64_t seq, int64_t now_mono_ms);

/* When read_lease_clear (seq) may turn true without an acknowledgment: the
   end of the quiet start or the earliest term of a holder blocking seq
   (INT64_MAX: none). */
int64_t read_lease_next_ms (const read_lease_t *self, int64_t seq, int64_t now_mono_ms);

/* Holders whose term has not ended at now (metrics, tests). */
int read_lease_holders (const read_lease_t *self, int64_t now_mono_ms);

#endif
