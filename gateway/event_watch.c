/*  event_watch.c: SUB thread + waiter wake-ups (see event_watch.h).
    The actor thread owns the SUB socket; the ring and condvar are shared under
    `lock`. Memory: event_watch_t is freed by event_watch_destroy. */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <czmq.h>
#include "event_watch.h"
#include "bus.h"
#include "bus_security.h"
#include "log.h"
#include "easel_limits.h"
#include "util.h"

#define RING_SIZE 1024             /* finished ids remembered for late waiters */

struct _event_watch_t {
    char           *endpoint;
    render_state_t *state;         /* borrowed; NULL: the state stream is not followed */
    zactor_t       *actor;
    pthread_mutex_t lock;
    pthread_cond_t  changed;       /* CLOCK_MONOTONIC */
    char            ring [RING_SIZE][PROTO_ID_MAX];
    uint64_t        count;         /* ids ever written; the next goes to count % RING_SIZE */
    int             waiters;       /* requests between enter and leave */
    int             max_waiters;
};

void
event_watch_set_max_waiters (event_watch_t *self, int max)
{
    pthread_mutex_lock (&self->lock);
    self->max_waiters = max;
    pthread_mutex_unlock (&self->lock);
}

bool
event_watch_enter (event_watch_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool room = self->waiters < self->max_waiters;
    if (room)
        self->waiters++;
    pthread_mutex_unlock (&self->lock);
    return room;
}

void
event_watch_leave (event_watch_t *self)
{
    pthread_mutex_lock (&self->lock);
    assert (self->waiters > 0);
    self->waiters--;
    pthread_mutex_unlock (&self->lock);
}

void
event_watch_notify (event_watch_t *self, const char *id)
{
    pthread_mutex_lock (&self->lock);
    snprintf (self->ring [self->count % RING_SIZE], PROTO_ID_MAX, "%s", id);
    self->count++;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
}

/* Whether id is among the ids written since *from (every id still in the
   ring when *from is 0 or older than the ring); *from moves to now. A woken
   waiter so looks only at what arrived since it last looked: thousands of
   waiters and a burst of events cost one comparison per waiter and event,
   not the whole ring each. Under lock. */
static bool
s_seen (const event_watch_t *self, const char *id, uint64_t *from)
{
    uint64_t start = *from;
    if (start == 0 || self->count - start > RING_SIZE)
        start = self->count > RING_SIZE ? self->count - RING_SIZE : 0;
    *from = self->count;
    for (uint64_t i = start; i < self->count; i++)
        if (strcmp (self->ring [i % RING_SIZE], id) == 0)
            return true;
    return false;
}

bool
event_watch_wait (event_watch_t *self, const char *id, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->lock);
    uint64_t from = 0;
    bool seen = s_seen (self, id, &from);
    while (!seen) {
        if (pthread_cond_timedwait (&self->changed, &self->lock, &deadline) != 0)
            break;
        seen = s_seen (self, id, &from);
    }
    if (!seen)
        seen = s_seen (self, id, &from);
    pthread_mutex_unlock (&self->lock);
    return seen;
}

static void
s_actor (zsock_t *pipe, void *args)
{
    event_watch_t *self = args;
    zsock_t *sub = zsock_new (ZMQ_SUB);
    if (sub) {
        bus_socket_setup (sub);
        bus_security_apply (sub);
        zsock_set_subscribe (sub, "render.");
        zsock_set_subscribe (sub, "job.");       /* capture jobs (job.completed|failed) */
        if (self->state) {
            zsock_set_subscribe (sub, PROTO_TOPIC_STATE);
            zsock_set_subscribe (sub, PROTO_TOPIC_HEARTBEAT);
        }
    }
    if (!sub || bus_connect (sub, self->endpoint)) {
        log_error ("cannot connect to the events endpoint", "endpoint", self->endpoint, NULL);
        zsock_destroy (&sub);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, sub, NULL);
    while (poller) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe || !which) {
            zmsg_t *msg = which ? zmsg_recv (pipe) : NULL;
            char *command = msg ? zmsg_popstr (msg) : NULL;
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            zmsg_destroy (&msg);
            if (term)
                break;
            continue;
        }
        char topic [PROTO_SHORT_MAX], err [PROTO_ERR_MAX];
        int64_t seq;
        zframe_t *body = NULL;
        proto_simple_t ev;
        if (bus_recv_event (sub, topic, &seq, &body, err) != 0)
            log_warn ("bad event", "reason", err, NULL);
        else
        if (strcmp (topic, PROTO_TOPIC_HEARTBEAT) == 0
        ||  strncmp (topic, PROTO_TOPIC_STATE, strlen (PROTO_TOPIC_STATE)) == 0) {
            char final_id [PROTO_ID_MAX];
            if (self->state)
                render_state_on_message (self->state, topic, seq, (const char *) zframe_data (body),
                                         zframe_size (body), util_mono_ms (), final_id);
            if (self->state && final_id [0])
                event_watch_notify (self, final_id);
        }
        else
        if (proto_simple_decode ((const char *) zframe_data (body), zframe_size (body), &ev, err) == 0)
            event_watch_notify (self, ev.rid);
        else
            log_warn ("bad event", "reason", err, NULL);
        zframe_destroy (&body);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
}

event_watch_t *
event_watch_new (const char *endpoint, render_state_t *state)
{
    event_watch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->changed, &attr);
    pthread_condattr_destroy (&attr);
    pthread_mutex_init (&self->lock, NULL);
    self->max_waiters = EASEL_MAX_WAITERS;
    self->state = state;
    self->endpoint = strdup (endpoint);
    if (self->endpoint)
        self->actor = zactor_new (s_actor, self);
    if (!self->actor) {
        event_watch_destroy (&self);
        return NULL;
    }
    return self;
}

void
event_watch_destroy (event_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    event_watch_t *self = *self_p;
    zactor_destroy (&self->actor);
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->lock);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}
