/*  read_lease.c: the gateways' read leases (see read_lease.h). A linear
    table of at most READ_LEASE_HOLDERS_MAX holders: a gateway fleet is small
    and every lookup is per acknowledgment or per held reply, not per GET.
    Thread: the scheduler's loop. Memory: the table is the struct's. */
#include "read_lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char    holder [PROTO_ID_MAX];     /* "": a free slot */
    int64_t acked;                     /* the last seq it said it applied */
    int64_t until_ms;                  /* its term: blocks held replies until then */
} s_holder_t;

struct _read_lease_t {
    int64_t    quiet_until_ms;
    s_holder_t holders [READ_LEASE_HOLDERS_MAX];
};

read_lease_t *
read_lease_new (int64_t now_mono_ms)
{
    read_lease_t *self = calloc (1, sizeof *self);
    if (self)
        self->quiet_until_ms = now_mono_ms + READ_LEASE_MS;
    return self;
}

void
read_lease_destroy (read_lease_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

/* holder's slot, a free one (or one whose term ended) when unknown, or NULL
   when full. */
static s_holder_t *
s_slot (read_lease_t *self, const char *holder, int64_t now, bool *known)
{
    s_holder_t *free_slot = NULL;
    *known = false;
    for (int i = 0; i < READ_LEASE_HOLDERS_MAX; i++) {
        s_holder_t *h = &self->holders [i];
        if (h->holder [0] && strcmp (h->holder, holder) == 0) {
            *known = h->until_ms > now;
            return h;
        }
        if (!free_slot && (!h->holder [0] || h->until_ms <= now))
            free_slot = h;
    }
    return free_slot;
}

int32_t
read_lease_ack (read_lease_t *self, const char *holder, int64_t seq, int64_t released_seq,
                int64_t deadline_ms, int64_t now_mono_ms)
{
    if (!holder || !holder [0])
        return 0;
    bool known = false;
    s_holder_t *h = s_slot (self, holder, now_mono_ms, &known);
    if (!h)
        return 0;
    /* a holder that lapsed (or is new) missed nothing only when it applied
       everything already sent; a live one cannot be behind that (a reply
       waited for it) */
    bool caught_up = seq >= released_seq;
    if (!known) {
        snprintf (h->holder, sizeof h->holder, "%s", holder);
        h->acked = seq;
    }
    else
    if (seq > h->acked)
        h->acked = seq;
    int64_t term = READ_LEASE_MS;
    if (deadline_ms != INT64_MAX && deadline_ms - now_mono_ms < term)
        term = deadline_ms - now_mono_ms;
    if (term < 0)
        term = 0;
    h->until_ms = now_mono_ms + term;
    return (known || caught_up) && term > 0 ? (int32_t) term : 0;
}

bool
read_lease_clear (read_lease_t *self, int64_t seq, int64_t now_mono_ms)
{
    if (now_mono_ms < self->quiet_until_ms)
        return false;
    bool clear = true;
    for (int i = 0; i < READ_LEASE_HOLDERS_MAX; i++) {
        s_holder_t *h = &self->holders [i];
        if (!h->holder [0])
            continue;
        if (h->until_ms <= now_mono_ms)
            h->holder [0] = '\0';
        else
        if (h->acked < seq)
            clear = false;
    }
    return clear;
}

int64_t
read_lease_next_ms (const read_lease_t *self, int64_t seq, int64_t now_mono_ms)
{
    if (now_mono_ms < self->quiet_until_ms)
        return self->quiet_until_ms;
    int64_t next = INT64_MAX;
    for (int i = 0; i < READ_LEASE_HOLDERS_MAX; i++) {
        const s_holder_t *h = &self->holders [i];
        if (h->holder [0] && h->acked < seq && h->until_ms < next)
            next = h->until_ms;
    }
    return next;
}

int
read_lease_holders (const read_lease_t *self, int64_t now_mono_ms)
{
    int n = 0;
    for (int i = 0; i < READ_LEASE_HOLDERS_MAX; i++)
        n += self->holders [i].holder [0] && self->holders [i].until_ms > now_mono_ms;
    return n;
}
