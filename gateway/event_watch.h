/*  event_watch.h: wakes request threads when a render reaches a final state.

    One background thread (a CZMQ actor) owns a SUB socket on the scheduler's
    events endpoint, subscribed to "render.". Each event names the render
    (rid field of the body); its id goes into a ring of recently finished ids
    and every waiter is woken (mutex + condition variable broadcast). Waiting
    is only a fast path: callers re-check over the api socket anyway, since
    PUB/SUB may drop messages. event_watch_wait is thread safe. */
#ifndef EASEL_EVENT_WATCH_H
#define EASEL_EVENT_WATCH_H

#include <stdbool.h>

typedef struct _event_watch_t event_watch_t;

/* Starts the subscriber thread on `endpoint`. NULL on failure. */
event_watch_t *event_watch_new (const char *endpoint);
/* Stops the thread and frees; *self_p becomes NULL. Safe on NULL. */
void event_watch_destroy (event_watch_t **self_p);

/* Blocks up to timeout_ms until an event for object `id` has arrived (or had
   arrived recently). True if it did, false on timeout. */
bool event_watch_wait (event_watch_t *self, const char *id, int timeout_ms);

/* Records that `id` finished and wakes waiters (the actor's path; exposed
   for tests). */
void event_watch_notify (event_watch_t *self, const char *id);

#endif
