/*  api_pool.c: borrowed api clients (see api_pool.h).
    The free list and its condition variable are under `lock`; a borrowed
    client belongs to its borrower until given back. Memory: the pool owns
    every client. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "api_pool.h"
#include "util.h"

struct _api_pool_t {
    pthread_mutex_t lock;
    pthread_cond_t  freed;         /* CLOCK_MONOTONIC */
    int             timeout_ms;
    int             size;
    int             nfree;
    bus_client_t  **all;           /* size clients */
    bus_client_t  **free_list;     /* nfree of them, a stack */
};

api_pool_t *
api_pool_new (const char *endpoint, int size, int timeout_ms)
{
    if (size < 1)
        return NULL;
    api_pool_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->freed, &attr);
    pthread_condattr_destroy (&attr);
    pthread_mutex_init (&self->lock, NULL);
    self->timeout_ms = timeout_ms;
    self->all = calloc ((size_t) size, sizeof *self->all);
    self->free_list = calloc ((size_t) size, sizeof *self->free_list);
    if (!self->all || !self->free_list) {
        api_pool_destroy (&self);
        return NULL;
    }
    for (; self->size < size; self->size++) {
        self->all [self->size] = bus_client_new (endpoint);
        if (!self->all [self->size]) {
            api_pool_destroy (&self);
            return NULL;
        }
        self->free_list [self->nfree++] = self->all [self->size];
    }
    return self;
}

void
api_pool_destroy (api_pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    api_pool_t *self = *self_p;
    for (int i = 0; self->all && i < self->size; i++)
        bus_client_destroy (&self->all [i]);
    free (self->all);
    free (self->free_list);
    pthread_cond_destroy (&self->freed);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

/* A free client, waiting until deadline (monotonic ms); NULL when none came. */
static bus_client_t *
s_borrow (api_pool_t *self, int64_t deadline)
{
    struct timespec ts = { .tv_sec = (time_t) (deadline / 1000),
                           .tv_nsec = (long) (deadline % 1000) * 1000000L };
    pthread_mutex_lock (&self->lock);
    while (self->nfree == 0)
        if (pthread_cond_timedwait (&self->freed, &self->lock, &ts) != 0)
            break;
    bus_client_t *client = self->nfree > 0 ? self->free_list [--self->nfree] : NULL;
    pthread_mutex_unlock (&self->lock);
    return client;
}

static void
s_give_back (api_pool_t *self, bus_client_t *client)
{
    pthread_mutex_lock (&self->lock);
    self->free_list [self->nfree++] = client;
    pthread_cond_signal (&self->freed);
    pthread_mutex_unlock (&self->lock);
}

int
api_pool_call (api_pool_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
               int *reply_cmd, zframe_t **reply)
{
    *reply = NULL;
    if (!self)
        return -1;
    /* util_mono_ms and CLOCK_MONOTONIC share their origin */
    bus_client_t *client = s_borrow (self, util_mono_ms () + self->timeout_ms);
    if (!client)
        return -1;
    int rc = bus_client_call (client, cmd, body, rid, self->timeout_ms, reply_cmd, reply);
    s_give_back (self, client);
    return rc;
}
