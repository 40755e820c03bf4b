/*  test_event_watch.c: the gateway's waiting (gateway/event_watch.h) without
    a scheduler: an id notified before the wait is seen at once; a waiter
    blocked on an id is woken by its notification and not by others'; an id
    pushed out of the ring by newer ones is no longer seen; the waiting cap
    (event_watch_enter / leave) admits exactly max waiters. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <czmq.h>
#include "check.h"
#include "event_watch.h"
#include "util.h"

static event_watch_t *s_watch;
static bool s_woken;
static int64_t s_waited_ms;

static void *
s_waiter (void *arg)
{
    int64_t t0 = util_mono_ms ();
    s_woken = event_watch_wait (s_watch, arg, 5000);
    s_waited_ms = util_mono_ms () - t0;
    return NULL;
}

int
main (void)
{
    zsys_init ();
    /* nothing listens there: the SUB connects lazily and never hears a thing */
    s_watch = event_watch_new ("tcp://127.0.0.1:9", NULL);
    CHECK (s_watch, "event_watch_new");

    event_watch_notify (s_watch, "rnd_early");
    CHECK (event_watch_wait (s_watch, "rnd_early", 0), "an id notified before the wait is seen");
    CHECK (!event_watch_wait (s_watch, "rnd_other", 50), "an id never notified times out");

    pthread_t t;
    pthread_create (&t, NULL, s_waiter, "rnd_late");
    zclock_sleep (100);
    for (int i = 0; i < 20; i++) {
        char id [32];
        snprintf (id, sizeof id, "rnd_noise_%d", i);
        event_watch_notify (s_watch, id);
    }
    zclock_sleep (100);
    event_watch_notify (s_watch, "rnd_late");
    pthread_join (t, NULL);
    CHECK (s_woken && s_waited_ms < 4000, "the waiter is woken by its own id (woken %d after %lld ms)",
           s_woken, (long long) s_waited_ms);

    for (int i = 0; i < 2000; i++) {
        char id [32];
        snprintf (id, sizeof id, "rnd_flood_%d", i);
        event_watch_notify (s_watch, id);
    }
    CHECK (!event_watch_wait (s_watch, "rnd_early", 0), "an id pushed out of the ring is gone");
    CHECK (event_watch_wait (s_watch, "rnd_flood_1999", 0), "the newest id is there");

    event_watch_set_max_waiters (s_watch, 3);
    int admitted = 0;
    for (int i = 0; i < 5; i++)
        admitted += event_watch_enter (s_watch);
    CHECK (admitted == 3, "a cap of 3 admits 3 of 5, got %d", admitted);
    event_watch_leave (s_watch);
    CHECK (event_watch_enter (s_watch), "a place freed by leave is taken again");
    CHECK (!event_watch_enter (s_watch), "and then the cap holds again");
    for (int i = 0; i < 3; i++)
        event_watch_leave (s_watch);

    event_watch_destroy (&s_watch);
    CHECK (s_watch == NULL, "destroy nulls the pointer");
    event_watch_destroy (&s_watch);
    if (check_failures)
        fprintf (stderr, "test_event_watch: %d failed\n", check_failures);
    else
        printf ("test_event_watch: ok\n");
    return check_failures ? 1 : 0;
}
