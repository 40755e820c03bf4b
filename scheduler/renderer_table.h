/*  renderer_table.h: the scheduler's fleet, the renderers it has heard a
    READY from: each one's ROUTER identity (and its hex form, as
    tasks.renderer stores it), name, slots, whether it captures, the tasks it
    holds (refreshed from the store before each dispatch) and when it was
    last heard from. Lookups by identity or hex are one hash probe (the
    index is rebuilt lazily after the table changes). The table knows
    nothing of tasks: dropping a renderer's leases is dispatch.h's.
    Thread: the scheduler's loop. Memory: the table owns each entry's
    identity frame; a renderer_t pointer is valid until the next
    renderer_table_ready or renderer_table_remove. */
#ifndef EASEL_RENDERER_TABLE_H
#define EASEL_RENDERER_TABLE_H

#include "proto.h"
#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define RENDERER_TABLE_MAX     1024     /* renderers one scheduler serves */
#define RENDERER_IDENTITY_MAX  64       /* bytes of a ROUTER peer identity we accept */
#define RENDERER_HEX_MAX       (2 * RENDERER_IDENTITY_MAX + 1)

typedef struct {
    zframe_t *identity;
    char      hex [RENDERER_HEX_MAX];         /* the identity as stored in tasks.renderer */
    char      name [PROTO_SHORT_MAX];
    int32_t   slots;
    bool      capture;                        /* READY said it can run capture tasks */
    int64_t   leased;                         /* refreshed from the store before dispatch */
    int64_t   last_seen_ms;                   /* monotonic; 0 forces the dead check */
} renderer_t;

typedef struct _renderer_table_t renderer_table_t;

/* An empty table; NULL out of memory. */
renderer_table_t *renderer_table_new (void);
/* Frees the table and its identities. Safe on NULL and twice. */
void renderer_table_destroy (renderer_table_t **self_p);

/* Lower-case hex of identity into out (size >= 2 * bytes + 1). 0; -1 when
   the identity is empty or longer than RENDERER_IDENTITY_MAX. */
int renderer_identity_hex (zframe_t *identity, char *out, size_t size);

/* The renderer of this ROUTER identity, or NULL. */
renderer_t *renderer_table_find (renderer_table_t *self, zframe_t *identity);
/* The renderer whose hex identity is hex, or NULL. */
renderer_t *renderer_table_by_hex (renderer_table_t *self, const char *hex);

/* READY from identity: adds the renderer (or updates a known one) with the
   name, slots and capture flag of ready, seen at mono_ms, and logs it. NULL
   (logged, nothing changed) when the table is full or the identity too long. */
renderer_t *renderer_table_ready (renderer_table_t *self, zframe_t *identity,
                                  const proto_ready_t *ready, int64_t mono_ms);

/* Forgets r (its identity freed); the last entry takes its place. */
void renderer_table_remove (renderer_table_t *self, renderer_t *r);

int renderer_table_size (renderer_table_t *self);
/* The i-th renderer, 0 <= i < renderer_table_size. */
renderer_t *renderer_table_at (renderer_table_t *self, int i);
/* Sum over renderers of the slots they have free (slots - leased, >= 0). */
int64_t renderer_table_free_slots (renderer_table_t *self);

/* Sends HEARTBEAT to every renderer on the work ROUTER; one found gone
   (EHOSTUNREACH) gets last_seen_ms 0, so the next pass drops it. */
void renderer_table_heartbeat (renderer_table_t *self, zsock_t *work);

#endif
