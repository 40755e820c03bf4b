/*  test_bus_worker.c: the worker link (common/bus_worker.h) against a fake
    scheduler, a ROUTER on inproc in the same thread, with short timings:
    READY carries the capabilities and heartbeats go both ways; work and
    errors reach the owner while heartbeats do not; a scheduler that falls
    silent is declared dead, the generation moves on (an answer of the old
    link is refused with ESTALE) and after the backoff a fresh socket says
    READY again; given two schedulers' endpoints a link talks to one only
    (every answer to the scheduler that gave the work) and the next link
    after a silence to the other; a drain says DRAINING and DISCONNECT, and
    a scheduler silent during a drain ends the link without a reconnect. */
#include <errno.h>
#include <string.h>
#include <czmq.h>
#include "check.h"
#include "bus.h"
#include "bus_worker.h"
#include "util.h"

#define S_HB_MS    40
#define S_DEAD_MS  200
#define S_BACK_MS  150

static const bus_worker_timing_t s_timing = {
    .heartbeat_ms = S_HB_MS, .dead_ms = S_DEAD_MS,
    .backoff_min_ms = S_BACK_MS, .backoff_max_ms = 4 * S_BACK_MS, .ready_retry_ms = 5
};

/* The fake scheduler and what it saw. */
typedef struct {
    zsock_t  *router;
    bool      beating;                 /* heartbeats the worker */
    int64_t   next_hb_ms;
    zframe_t *peer;                    /* the last identity heard */
    int       readies, heartbeats, drainings, disconnects, peers, results;
    char      ready [64];
    size_t    ready_len;
} s_fake_t;

/* Owner side: what bus_worker handed over or did. */
typedef struct {
    int owner_msgs, last_cmd, lost;
} s_seen_t;

static void
s_fake_recv (s_fake_t *f)
{
    bus_msg_t m;
    char err [PROTO_ERR_MAX];
    if (bus_recv (f->router, true, &m, err) != 0) {
        bus_msg_free (&m);
        return;
    }
    if (!f->peer || !zframe_eq (f->peer, m.identity)) {
        zframe_destroy (&f->peer);
        f->peer = zframe_dup (m.identity);
        f->peers++;
    }
    if (m.cmd == PROTO_READY) {
        f->readies++;
        f->ready_len = zframe_size (m.body) < sizeof f->ready ? zframe_size (m.body) : 0;
        memcpy (f->ready, zframe_data (m.body), f->ready_len);
    }
    f->heartbeats += m.cmd == PROTO_HEARTBEAT;
    f->drainings += m.cmd == PROTO_DRAINING;
    f->disconnects += m.cmd == PROTO_DISCONNECT;
    f->results += m.cmd == PROTO_RESULT;
    bus_msg_free (&m);
}

static void
s_fake_send (s_fake_t *f, int cmd)
{
    proto_simple_t simple = { .rid = "" };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_simple_encode (&simple, &sb);
    if (f->peer)
        bus_send_sbuf (f->router, f->peer, cmd, &sb);
    msgpack_sbuffer_destroy (&sb);
}

/* Runs the worker and n fake schedulers for ms. */
static void
s_pump_n (bus_worker_t *w, s_fake_t **fakes, int n, s_seen_t *seen, int ms)
{
    int64_t until = util_mono_ms () + ms;
    for (int64_t now = util_mono_ms (); now < until; now = util_mono_ms ()) {
        int wait = bus_worker_wait_ms (w);
        if (wait > 5)
            wait = 5;
        zsock_t *sock = bus_worker_sock (w);
        zmq_pollitem_t items [3];
        for (int i = 0; i < n; i++)
            items [i] = (zmq_pollitem_t) { zsock_resolve (fakes [i]->router), 0, ZMQ_POLLIN, 0 };
        items [n] = (zmq_pollitem_t) { sock ? zsock_resolve (sock) : NULL, 0, ZMQ_POLLIN, 0 };
        zmq_poll (items, sock ? n + 1 : n, wait);
        for (int i = 0; i < n; i++)
            while (zsock_events (fakes [i]->router) & ZMQ_POLLIN)
                s_fake_recv (fakes [i]);
        bus_msg_t m;
        char err [PROTO_ERR_MAX];
        while (bus_worker_sock (w) && (zsock_events (bus_worker_sock (w)) & ZMQ_POLLIN))
            if (bus_worker_recv (w, &m, err) == 0) {
                seen->owner_msgs++;
                seen->last_cmd = m.cmd;
                bus_msg_free (&m);
            }
        seen->lost += bus_worker_tick (w);
        for (int i = 0; i < n; i++) {
            s_fake_t *f = fakes [i];
            if (f->beating && f->peer && util_mono_ms () >= f->next_hb_ms) {
                s_fake_send (f, PROTO_HEARTBEAT);
                f->next_hb_ms = util_mono_ms () + S_HB_MS;
            }
        }
    }
}

/* Runs both ends for ms. */
static void
s_pump (bus_worker_t *w, s_fake_t *f, s_seen_t *seen, int ms)
{
    s_pump_n (w, &f, 1, seen, ms);
}

static void
s_fake_init (s_fake_t *f, const char *endpoint)
{
    memset (f, 0, sizeof *f);
    f->router = zsock_new (ZMQ_ROUTER);
    bus_socket_setup (f->router);
    REQUIRE (zsock_bind (f->router, "%s", endpoint) == 0, "bind %s", endpoint);
    f->beating = true;
}

static void
s_fake_destroy (s_fake_t *f)
{
    zframe_destroy (&f->peer);
    zsock_destroy (&f->router);
}

static bus_worker_t *
s_worker (const char *endpoint, msgpack_sbuffer *ready)
{
    proto_ready_t r = { .slots = 3, .capture = true };
    snprintf (r.name, sizeof r.name, "test:1");
    msgpack_sbuffer_init (ready);
    REQUIRE (proto_ready_encode (&r, ready) == 0, "READY encodes");
    bus_worker_t *w = bus_worker_new (endpoint, ready->data, ready->size);
    REQUIRE (w, "bus_worker_new");
    bus_worker_set_timing (w, &s_timing);
    return w;
}

static void
s_ready_and_heartbeats (void)
{
    s_fake_t f;
    s_fake_init (&f, "inproc://bw-ready");
    msgpack_sbuffer ready;
    bus_worker_t *w = s_worker ("inproc://bw-ready", &ready);
    s_seen_t seen = { 0 };
    s_pump (w, &f, &seen, 5 * S_HB_MS);
    CHECK (f.readies == 1, "one READY, got %d", f.readies);
    CHECK (f.ready_len == ready.size && memcmp (f.ready, ready.data, ready.size) == 0,
           "READY is the capabilities body given");
    CHECK (f.heartbeats >= 3, "a heartbeat every %d ms, got %d in %d ms", S_HB_MS, f.heartbeats, 5 * S_HB_MS);
    CHECK (bus_worker_ready (w), "READY has left");
    s_pump (w, &f, &seen, 2 * S_DEAD_MS);
    CHECK (seen.lost == 0 && f.peers == 1, "a scheduler that heartbeats stays alive (lost %d)", seen.lost);
    CHECK (seen.owner_msgs == 0, "heartbeats are not the owner's (got %d)", seen.owner_msgs);

    /* work reaches the owner; answers of the current generation go */
    s_fake_send (&f, PROTO_CANCEL_TASKS);
    s_pump (w, &f, &seen, 20);
    CHECK (seen.owner_msgs == 1 && seen.last_cmd == PROTO_CANCEL_TASKS, "the owner got the work message");
    int beats = f.heartbeats;
    CHECK (bus_worker_send (w, bus_worker_gen (w), PROTO_HEARTBEAT, ready.data, ready.size) == 0,
           "an answer of the current link is sent");
    s_pump (w, &f, &seen, 5);
    CHECK (f.heartbeats > beats, "and arrives");
    bus_worker_destroy (&w);
    bus_worker_destroy (&w);
    msgpack_sbuffer_destroy (&ready);
    s_fake_destroy (&f);
}

static void
s_heartbeat_loss_reconnects (void)
{
    s_fake_t f;
    s_fake_init (&f, "inproc://bw-loss");
    msgpack_sbuffer ready;
    bus_worker_t *w = s_worker ("inproc://bw-loss", &ready);
    s_seen_t seen = { 0 };
    s_pump (w, &f, &seen, 3 * S_HB_MS);
    REQUIRE (f.readies == 1, "READY before the loss");
    int gen = bus_worker_gen (w);

    f.beating = false;                 /* the scheduler falls silent */
    int64_t t0 = util_mono_ms ();
    while (!seen.lost && util_mono_ms () - t0 < 4 * S_DEAD_MS)
        s_pump (w, &f, &seen, 5);
    int64_t took = util_mono_ms () - t0;
    CHECK (seen.lost == 1, "a silent scheduler is declared dead");
    CHECK (took >= S_DEAD_MS - S_HB_MS && took < S_DEAD_MS + 100,
           "dead after about %d ms of silence, took %lld", S_DEAD_MS, (long long) took);
    CHECK (bus_worker_gen (w) != gen, "the generation moved on");
    CHECK (!bus_worker_sock (w), "no socket during the backoff");
    errno = 0;
    CHECK (bus_worker_send (w, gen, PROTO_RESULT, ready.data, ready.size) == -1 && errno == ESTALE,
           "an answer of the dead link is refused with ESTALE (errno %d)", errno);

    f.beating = true;
    s_pump (w, &f, &seen, S_BACK_MS / 2);
    CHECK (f.readies == 1, "no reconnect before the backoff (%d ms)", S_BACK_MS);
    s_pump (w, &f, &seen, S_BACK_MS);
    CHECK (f.readies == 2 && f.peers == 2, "a fresh socket said READY again (readies %d, peers %d)",
           f.readies, f.peers);
    s_pump (w, &f, &seen, 2 * S_DEAD_MS);
    CHECK (seen.lost == 1, "the new link lives while the scheduler heartbeats (lost %d)", seen.lost);
    bus_worker_destroy (&w);
    msgpack_sbuffer_destroy (&ready);
    s_fake_destroy (&f);
}

/* Two schedulers bound at once (one cut off and back, one that took over):
   the link talks to one of them only, so every answer goes to the one that
   gave the work; when that one falls silent the next link goes to the other. */
static void
s_one_scheduler_per_link (void)
{
    s_fake_t a, b;
    s_fake_init (&a, "inproc://bw-one-a");
    s_fake_init (&b, "inproc://bw-one-b");
    s_fake_t *both [2] = { &a, &b };
    msgpack_sbuffer ready;
    bus_worker_t *w = s_worker ("inproc://bw-one-a,inproc://bw-one-b", &ready);
    s_seen_t seen = { 0 };
    s_pump_n (w, both, 2, &seen, 3 * S_HB_MS);
    CHECK (a.readies == 1 && b.readies == 0, "READY to the first scheduler only (a %d, b %d)",
           a.readies, b.readies);
    int gen = bus_worker_gen (w);
    int sent = 0;
    for (int i = 0; i < 10; i++)
        sent += bus_worker_send (w, gen, PROTO_RESULT, ready.data, ready.size) == 0;
    s_pump_n (w, both, 2, &seen, 2 * S_HB_MS);
    CHECK (sent == 10 && a.results == 10 && b.results == 0,
           "every answer to the scheduler of the link (sent %d, a %d, b %d)", sent, a.results, b.results);
    CHECK (b.heartbeats == 0, "nothing at all to the other one (%d heartbeats)", b.heartbeats);

    a.beating = false;                 /* the first one falls silent */
    int64_t t0 = util_mono_ms ();
    while (b.readies == 0 && util_mono_ms () - t0 < S_DEAD_MS + 4 * S_BACK_MS)
        s_pump_n (w, both, 2, &seen, 5);
    CHECK (seen.lost == 1 && b.readies == 1 && a.readies == 1,
           "the next link goes to the other scheduler (lost %d, a %d, b %d)", seen.lost, a.readies, b.readies);
    gen = bus_worker_gen (w);
    CHECK (bus_worker_send (w, gen, PROTO_RESULT, ready.data, ready.size) == 0, "an answer on the new link");
    s_pump_n (w, both, 2, &seen, 2 * S_HB_MS);
    CHECK (a.results == 10 && b.results == 1, "it goes to the new scheduler (a %d, b %d)", a.results, b.results);
    bus_worker_destroy (&w);
    msgpack_sbuffer_destroy (&ready);
    s_fake_destroy (&a);
    s_fake_destroy (&b);
}

static void
s_drain (void)
{
    s_fake_t f;
    s_fake_init (&f, "inproc://bw-drain");
    msgpack_sbuffer ready;
    bus_worker_t *w = s_worker ("inproc://bw-drain", &ready);
    s_seen_t seen = { 0 };
    s_pump (w, &f, &seen, 3 * S_HB_MS);
    bus_worker_drain (w);
    bus_worker_drain (w);
    s_pump (w, &f, &seen, 20);
    CHECK (bus_worker_draining (w) && f.drainings == 1, "one DRAINING, got %d", f.drainings);
    bus_worker_disconnect (w, 100);
    s_pump (w, &f, &seen, 30);
    CHECK (f.disconnects == 1, "DISCONNECT at the end of a drain, got %d", f.disconnects);
    CHECK (!bus_worker_sock (w) && bus_worker_gone (w), "the link is closed for good");
    s_pump (w, &f, &seen, S_DEAD_MS + S_BACK_MS + 50);
    CHECK (f.readies == 1, "no reconnect after DISCONNECT (readies %d)", f.readies);
    bus_worker_destroy (&w);
    msgpack_sbuffer_destroy (&ready);

    /* a scheduler silent during a drain ends the link: no reconnect */
    w = s_worker ("inproc://bw-drain", &ready);
    seen = (s_seen_t) { 0 };
    int readies = f.readies;
    s_pump (w, &f, &seen, 3 * S_HB_MS);
    bus_worker_drain (w);
    f.beating = false;
    s_pump (w, &f, &seen, S_DEAD_MS + S_BACK_MS + 50);
    CHECK (seen.lost == 1 && bus_worker_gone (w), "silent while draining: gone (lost %d)", seen.lost);
    CHECK (f.readies == readies + 1, "and not reconnected (readies %d)", f.readies - readies);
    bus_worker_destroy (&w);
    msgpack_sbuffer_destroy (&ready);
    s_fake_destroy (&f);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    check_case ("ready_and_heartbeats", s_ready_and_heartbeats);
    check_case ("heartbeat_loss_reconnects", s_heartbeat_loss_reconnects);
    check_case ("one_scheduler_per_link", s_one_scheduler_per_link);
    check_case ("drain", s_drain);
    return check_done ("test_bus_worker");
}
