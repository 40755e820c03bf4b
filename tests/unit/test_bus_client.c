/*  test_bus_client.c: request/reply with the scheduler (common/bus_client.h)
    against a fake scheduler on inproc: replies are matched to their
    request by rid and carry its tag; a late reply to a request given up
    on, a reply naming no waiting request and one without a rid are
    dropped; deadlines come out earliest first and expire; a reset forgets
    what waits, opens a fresh socket and backs off (doubling, back to the
    minimum after a reply); a call with no scheduler or no answer fails
    within its timeout; a call to an echoing scheduler gets its reply past a
    malformed message and a stray reply, and leaves the client usable the
    asynchronous way. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "check.h"
#include "bus.h"
#include "bus_client.h"
#include "util.h"

/* The fake scheduler: one ROUTER in the test's thread. */
static zsock_t *
s_router (const char *endpoint)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    bus_socket_setup (router);
    REQUIRE (zsock_bind (router, "%s", endpoint) == 0, "bind %s", endpoint);
    return router;
}

static void
s_body (msgpack_sbuffer *sb, const char *rid)
{
    proto_simple_t simple = { 0 };
    snprintf (simple.rid, sizeof simple.rid, "%s", rid);
    msgpack_sbuffer_init (sb);
    proto_simple_encode (&simple, sb);
}

static int
s_send (bus_client_t *c, const char *rid, int timeout_ms, void *tag)
{
    msgpack_sbuffer sb;
    s_body (&sb, rid);
    int64_t until = util_mono_ms () + 1000;
    int rc;
    /* IMMEDIATE: the first send may come before the inproc pipe is up */
    while ((rc = bus_client_send (c, PROTO_PING, &sb, rid, timeout_ms, tag)) != 0
       &&  errno == EAGAIN && util_mono_ms () < until)
        zclock_sleep (2);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

/* The request the router holds next: its identity (the caller's) and rid. */
static zframe_t *
s_take (zsock_t *router, char *rid)
{
    zpoller_t *p = zpoller_new (router, NULL);
    zframe_t *id = NULL;
    if (zpoller_wait (p, 1000) == router) {
        bus_msg_t m;
        char err [PROTO_ERR_MAX];
        if (bus_recv (router, true, &m, err) == 0
        &&  bus_client_peek_rid ((const char *) zframe_data (m.body), zframe_size (m.body), rid) == 0) {
            id = m.identity;
            m.identity = NULL;
        }
        bus_msg_free (&m);
    }
    zpoller_destroy (&p);
    return id;
}

static void
s_answer (zsock_t *router, zframe_t *id, const char *rid)
{
    msgpack_sbuffer sb;
    s_body (&sb, rid);
    bus_send_sbuf (router, id, PROTO_PONG, &sb);
    msgpack_sbuffer_destroy (&sb);
}

/* Waits up to ms for the client's next message; bus_client_recv's result. */
static int
s_recv (bus_client_t *c, bus_reply_t *r, int ms)
{
    char err [PROTO_ERR_MAX];
    zmq_pollitem_t item = { zsock_resolve (bus_client_sock (c)), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, ms) <= 0)
        return -1;
    return bus_client_recv (c, r, err);
}

static void
s_matching (void)
{
    zsock_t *router = s_router ("inproc://bc-match");
    bus_client_t *c = bus_client_new ("inproc://bc-match");
    REQUIRE (c, "bus_client_new");
    int tag_a, tag_b;
    REQUIRE (s_send (c, "req_a", 5000, &tag_a) == 0, "send a");
    REQUIRE (s_send (c, "req_b", 5000, &tag_b) == 0, "send b");
    CHECK (bus_client_waiting (c) == 2, "two wait");
    errno = 0;
    CHECK (s_send (c, "req_a", 5000, NULL) == -1 && errno == EEXIST, "a rid that waits is refused");
    char rid_a [PROTO_ID_MAX], rid_b [PROTO_ID_MAX];
    zframe_t *ida = s_take (router, rid_a), *idb = s_take (router, rid_b);
    REQUIRE (ida && idb, "the scheduler got both");

    /* b answered first; a is given up on, then answered late */
    s_answer (router, idb, rid_b);
    bus_reply_t r;
    CHECK (s_recv (c, &r, 1000) == 0 && r.tag == &tag_b && strcmp (r.rid, "req_b") == 0
           && r.cmd == PROTO_PONG, "b's reply carries b's tag");
    zframe_destroy (&r.body);
    bus_client_forget (c, "req_a");
    CHECK (bus_client_waiting (c) == 0, "nothing waits");
    s_answer (router, ida, rid_a);
    CHECK (s_recv (c, &r, 1000) == 1 && !r.body, "the late reply to a is dropped");
    s_answer (router, ida, "req_nobody");
    CHECK (s_recv (c, &r, 1000) == 1 && !r.body, "a reply naming no request is dropped");
    bus_send (router, ida, PROTO_PONG, "\x90", 1);  /* an array: no rid */
    CHECK (s_recv (c, &r, 1000) == 1 && !r.body, "a reply without a rid is dropped");

    /* a stale reply ahead of the right one: the right one is still taken */
    REQUIRE (s_send (c, "req_c", 5000, &tag_a) == 0, "send c");
    char rid_c [PROTO_ID_MAX];
    zframe_t *idc = s_take (router, rid_c);
    s_answer (router, idc, "req_a");
    s_answer (router, idc, rid_c);
    CHECK (s_recv (c, &r, 1000) == 1, "the stale one first, dropped");
    CHECK (s_recv (c, &r, 1000) == 0 && r.tag == &tag_a && strcmp (r.rid, "req_c") == 0,
           "then c's own reply");
    zframe_destroy (&r.body);
    zframe_destroy (&ida);
    zframe_destroy (&idb);
    zframe_destroy (&idc);
    bus_client_destroy (&c);
    bus_client_destroy (&c);
    zsock_destroy (&router);
}

static void
s_deadlines_and_reset (void)
{
    zsock_t *router = s_router ("inproc://bc-reset");
    bus_client_t *c = bus_client_new ("inproc://bc-reset");
    CHECK (bus_client_deadline (c) == -1 && !bus_client_expired (c, util_mono_ms ()),
           "no deadline while nothing waits");
    int64_t t0 = util_mono_ms ();
    REQUIRE (s_send (c, "req_slow", 5000, NULL) == 0, "send slow");
    REQUIRE (s_send (c, "req_fast", 100, NULL) == 0, "send fast");
    int64_t at = bus_client_deadline (c);
    CHECK (at >= t0 + 100 && at < t0 + 1000, "the earliest deadline is the 100 ms one (+%lld)",
           (long long) (at - t0));
    CHECK (!bus_client_expired (c, at - 1) && bus_client_expired (c, at), "expires at its deadline");
    bus_client_forget (c, "req_fast");
    CHECK (bus_client_deadline (c) >= t0 + 5000, "forgetting a request drops its deadline");

    char rid [PROTO_ID_MAX];
    zframe_t *old_id = s_take (router, rid);
    zframe_destroy (&old_id);
    old_id = s_take (router, rid);
    int p1 = bus_client_reset (c), p2 = bus_client_reset (c), p3 = bus_client_reset (c);
    CHECK (p1 == EASEL_RECONNECT_MIN_MS && p2 == 2 * p1 && p3 == 4 * p1,
           "backoff doubles from %d ms: %d %d %d", EASEL_RECONNECT_MIN_MS, p1, p2, p3);
    CHECK (bus_client_waiting (c) == 0 && bus_client_deadline (c) == -1, "a reset forgets what waits");
    s_answer (router, old_id, "req_slow");
    REQUIRE (s_send (c, "req_new", 5000, NULL) == 0, "send after the reset");
    zframe_t *new_id = s_take (router, rid);
    CHECK (new_id && !zframe_eq (new_id, old_id), "a fresh socket after the reset");
    s_answer (router, new_id, rid);
    bus_reply_t r;
    CHECK (s_recv (c, &r, 1000) == 0 && strcmp (r.rid, "req_new") == 0,
           "the old socket's late reply never arrives; the new one's does");
    zframe_destroy (&r.body);
    CHECK (bus_client_reset (c) == EASEL_RECONNECT_MIN_MS, "a reply brings the backoff back to the minimum");
    zframe_destroy (&old_id);
    zframe_destroy (&new_id);
    bus_client_destroy (&c);
    zsock_destroy (&router);
}

static void
s_call_timeouts (void)
{
    /* nobody bound (ipc: an inproc connect queues before a bind): IMMEDIATE
       keeps the request, the call gives up in time */
    char nobody [96];
    snprintf (nobody, sizeof nobody, "ipc:///tmp/easel-test-bus-client-%d.sock", (int) getpid ());
    bus_client_t *c = bus_client_new (nobody);
    msgpack_sbuffer sb;
    s_body (&sb, "req_1");
    errno = 0;
    CHECK (bus_client_send (c, PROTO_PING, &sb, "req_1", 100, NULL) == -1 && errno == EAGAIN,
           "no scheduler connected: EAGAIN (errno %d)", errno);
    CHECK (bus_client_waiting (c) == 0, "and nothing waits");
    int cmd = 0;
    zframe_t *reply = NULL;
    int64_t t0 = util_mono_ms ();
    CHECK (bus_client_call (c, PROTO_PING, &sb, "req_1", 150, &cmd, &reply) == -1 && !reply,
           "a call with no scheduler fails");
    int64_t took = util_mono_ms () - t0;
    CHECK (took >= 140 && took < 1000, "within its 150 ms timeout (took %lld)", (long long) took);
    bus_client_destroy (&c);

    /* a scheduler that never answers */
    zsock_t *router = s_router ("inproc://bc-mute");
    c = bus_client_new ("inproc://bc-mute");
    t0 = util_mono_ms ();
    CHECK (bus_client_call (c, PROTO_PING, &sb, "req_1", 150, &cmd, &reply) == -1 && !reply,
           "a call without an answer fails");
    took = util_mono_ms () - t0;
    CHECK (took >= 140 && took < 1000, "at its 150 ms timeout (took %lld)", (long long) took);
    CHECK (bus_client_waiting (c) == 0, "and was reset");
    msgpack_sbuffer_destroy (&sb);
    bus_client_destroy (&c);
    zsock_destroy (&router);
}

static void
s_echo (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *router = s_router ("inproc://bc-echo");
    zsock_signal (pipe, 0);
    zpoller_t *p = zpoller_new (pipe, router, NULL);
    while (zpoller_wait (p, -1) == router) {
        bus_msg_t m;
        char err [PROTO_ERR_MAX];
        if (bus_recv (router, true, &m, err) == 0) {
            zmsg_t *bad = zmsg_new ();             /* a malformed one (no tag) first */
            zmsg_addmem (bad, zframe_data (m.identity), zframe_size (m.identity));
            zmsg_addmem (bad, "", 0);
            zmsg_addstr (bad, "not-easel");
            zmsg_send (&bad, router);
            s_answer (router, m.identity, "req_other");    /* then a stray one */
            bus_send (router, m.identity, PROTO_PONG, (const char *) zframe_data (m.body),
                      zframe_size (m.body));
        }
        bus_msg_free (&m);
    }
    zpoller_destroy (&p);
    zsock_destroy (&router);
}

static void
s_call_echo (void)
{
    zactor_t *echo = zactor_new (s_echo, NULL);
    bus_client_t *c = bus_client_new ("inproc://bc-echo");
    for (int i = 0; i < 3; i++) {
        char rid [PROTO_ID_MAX], got [PROTO_ID_MAX] = "";
        snprintf (rid, sizeof rid, "req_%d", i);
        msgpack_sbuffer sb;
        s_body (&sb, rid);
        int cmd = 0;
        zframe_t *reply = NULL;
        int rc = bus_client_call (c, PROTO_PING, &sb, rid, 2000, &cmd, &reply);
        CHECK (rc == 0 && cmd == PROTO_PONG && reply
               && bus_client_peek_rid ((const char *) zframe_data (reply), zframe_size (reply), got) == 0
               && strcmp (got, rid) == 0, "call %d gets its own reply (got '%s')", i, got);
        zframe_destroy (&reply);
        msgpack_sbuffer_destroy (&sb);
    }
    /* a call leaves a receive timeout on the socket: the asynchronous way
       still never blocks on it */
    bus_reply_t out;
    char err [PROTO_ERR_MAX];
    int64_t t0 = util_mono_ms ();
    CHECK (bus_client_recv (c, &out, err) == 1, "nothing to take after the calls");
    CHECK (util_mono_ms () - t0 < 100, "and bus_client_recv did not wait (%lld ms)",
           (long long) (util_mono_ms () - t0));
    bus_client_destroy (&c);
    zactor_destroy (&echo);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    check_case ("matching", s_matching);
    check_case ("deadlines_and_reset", s_deadlines_and_reset);
    check_case ("call_timeouts", s_call_timeouts);
    check_case ("call_echo", s_call_echo);
    return check_done ("test_bus_client");
}
