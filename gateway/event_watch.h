/*  event_watch.h: wakes request threads when a render reaches a final state.

    One background thread (a CZMQ actor) owns a SUB socket on the scheduler's
    events endpoint, subscribed to "render.". Each event names the render
    (rid field of the body); its id goes into a ring of recently finished ids
    and every waiter is woken (mutex + condition variable broadcast). Waiting
    is only a fast path: callers re-check over the api socket anyway, since
    PUB/SUB may drop messages. event_watch_wait is thread safe.

    With a render state (render_state.h) the same thread also subscribes to
    the render state stream ("state." and the heartbeat "hb") and applies it;
    a state that says a render left processing wakes its waiters too.

    Waiting costs a thread and no socket; the number of requests waiting at
    once is still capped (event_watch_enter), so a flood of long polls is
    answered rather than left to take every thread. */
#ifndef EASEL_EVENT_WATCH_H
#define EASEL_EVENT_WATCH_H

#include <stdbool.h>
#include "render_state.h"

typedef struct _event_watch_t event_watch_t;

/* Starts the subscriber thread on `endpoint`, applying the state stream to
   state (borrowed; NULL: none). NULL on failure. */
event_watch_t *event_watch_new (const char *endpoint, render_state_t *state);
/* Stops the thread and frees; *self_p becomes NULL. Safe on NULL. */
void event_watch_destroy (event_watch_t **self_p);

/* Blocks up to timeout_ms until an event for object `id` has arrived (or had
   arrived recently). True if it did, false on timeout. */
bool event_watch_wait (event_watch_t *self, const char *id, int timeout_ms);

/* The most requests that may wait at once (default EASEL_MAX_WAITERS). */
void event_watch_set_max_waiters (event_watch_t *self, int max);
/* Takes a waiting place: true, or false when all are taken (nothing
   changes). Each true is matched by one event_watch_leave. */
bool event_watch_enter (event_watch_t *self);
void event_watch_leave (event_watch_t *self);

/* Records that `id` finished and wakes waiters (the actor's path; exposed
   for tests). */
void event_watch_notify (event_watch_t *self, const char *id);

#endif
