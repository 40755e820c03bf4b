/*  host_table.c: transfers per host and the queue of deliveries waiting
    for one (host_table.h).

    A zhashx from "host:port" to a host record; the record counts running
    transfers and holds a doubly linked queue through the deliveries' own
    park_prev / park_next, so parking and unparking are O(1). Thread: the
    webhooker's. Memory: the records (freed when their host goes idle).  */
#include <czmq.h>
#include <stdio.h>

#include "host_table.h"
#include "log.h"

typedef struct {
    char key[ATTEMPT_HOST_MAX];
    int64_t busy;                       /* transfers running */
    delivery_t *first, *last;           /* parked, oldest first */
} s_host_t;

struct _host_table_t {
    zhashx_t *hosts;                    /* key -> s_host_t */
    int64_t per_host;
};

static void
s_host_free (void **item)
{
    free (*item);
    *item = NULL;
}

host_table_t *
host_table_new (int64_t per_host)
{
    assert (per_host >= 1);
    host_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->hosts = zhashx_new ();
    if (!self->hosts) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->hosts, s_host_free);
    self->per_host = per_host;
    return self;
}

void
host_table_destroy (host_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    host_table_t *self = *self_p;
    for (s_host_t *h = zhashx_first (self->hosts); h; h = zhashx_next (self->hosts))
        for (delivery_t *d = h->first, *next; d; d = next) {
            next = d->park_next;
            d->parked_on = NULL;
            d->park_prev = d->park_next = NULL;
        }
    zhashx_destroy (&self->hosts);
    free (self);
    *self_p = NULL;
}

/* Forgets h when nothing runs there and nobody waits. */
static void
s_idle (host_table_t *self, s_host_t *h)
{
    if (h->busy == 0 && !h->first)
        zhashx_delete (self->hosts, h->key);
}

bool
host_table_acquire (host_table_t *self, const char *host)
{
    s_host_t *h = zhashx_lookup (self->hosts, host);
    if (!h) {
        h = calloc (1, sizeof *h);
        if (!h)
            log_fatal ("out of memory", NULL);
        snprintf (h->key, sizeof h->key, "%s", host);
        zhashx_insert (self->hosts, h->key, h);
    }
    if (h->busy >= self->per_host)
        return false;
    h->busy++;
    return true;
}

delivery_t *
host_table_release (host_table_t *self, const char *host)
{
    s_host_t *h = zhashx_lookup (self->hosts, host);
    if (!h)
        return NULL;
    if (h->busy > 0)
        h->busy--;
    delivery_t *next = h->busy < self->per_host ? h->first : NULL;
    if (next)
        host_table_unpark (self, next);
    else
        s_idle (self, h);
    return next;
}

void
host_table_park (host_table_t *self, delivery_t *d)
{
    s_host_t *h = zhashx_lookup (self->hosts, d->host);
    assert (h && !d->parked_on);
    d->parked_on = h;
    d->park_next = NULL;
    d->park_prev = h->last;
    if (h->last)
        h->last->park_next = d;
    else
        h->first = d;
    h->last = d;
}

void
host_table_unpark (host_table_t *self, delivery_t *d)
{
    s_host_t *h = d->parked_on;
    if (!h)
        return;
    if (d->park_prev)
        d->park_prev->park_next = d->park_next;
    else
        h->first = d->park_next;
    if (d->park_next)
        d->park_next->park_prev = d->park_prev;
    else
        h->last = d->park_prev;
    d->parked_on = NULL;
    d->park_prev = d->park_next = NULL;
    s_idle (self, h);
}

int64_t
host_table_busy (const host_table_t *self, const char *host)
{
    const s_host_t *h = zhashx_lookup (self->hosts, host);
    return h ? h->busy : 0;
}
