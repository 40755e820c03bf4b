/*  test_bus.c: bus framing over an inproc ROUTER/DEALER pair and PUB/SUB:
    round trips keep identity, command and body; malformed framing is
    rejected with a reason while the identity is kept for an ERROR reply.  */
#include "check.h"
#include "bus.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool
s_ready (zsock_t *sock)
{
    zpoller_t *p = zpoller_new (sock, NULL);
    bool ok = zpoller_wait (p, 2000) == sock;
    zpoller_destroy (&p);
    return ok;
}

int
main (void)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    bus_socket_setup (router);
    bus_socket_setup (dealer);
    CHECK (zsock_linger (router) == 0 && zsock_sndhwm (router) == EASEL_BUS_HWM, "router options set");
    CHECK (zsock_maxmsgsize (dealer) == EASEL_MAX_MSG_BYTES && zsock_immediate (dealer) == 1, "dealer options set");
    zsock_set_identity (dealer, "peer-1");
    CHECK (zsock_bind (router, "inproc://bus-test") == 0, "bind");

    /* DEALER with IMMEDIATE and no connection: EAGAIN, no blocking */
    errno = 0;
    CHECK (bus_send (dealer, NULL, PROTO_PING, "x", 1) == -1 && errno == EAGAIN,
           "unconnected dealer send fails with EAGAIN, got errno %d", errno);
    CHECK (zsock_connect (dealer, "inproc://bus-test") == 0, "connect");
    zclock_sleep (50);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_simple_t ping = { .rid = "r1" };
    proto_simple_encode (&ping, &sb);
    CHECK (bus_send_sbuf (dealer, NULL, PROTO_PING, &sb) == 0, "dealer sends");
    bus_msg_t msg;
    char err [PROTO_ERR_MAX];
    CHECK (s_ready (router) && bus_recv (router, true, &msg, err) == 0, "router receives: %s", err);
    CHECK (msg.cmd == PROTO_PING, "cmd PING, got %d", msg.cmd);
    CHECK (msg.identity && zframe_streq (msg.identity, "peer-1"), "identity is peer-1");
    proto_simple_t got;
    CHECK (msg.body && proto_simple_decode ((char *) zframe_data (msg.body), zframe_size (msg.body), &got, err) == 0
           && strcmp (got.rid, "r1") == 0, "body decodes to rid r1: %s", err);

    /* reply with the identity */
    CHECK (bus_send (router, msg.identity, PROTO_PONG, sb.data, sb.size) == 0, "router replies");
    bus_msg_t reply;
    CHECK (s_ready (dealer) && bus_recv (dealer, false, &reply, err) == 0, "dealer receives: %s", err);
    CHECK (reply.cmd == PROTO_PONG && reply.identity == NULL && zframe_size (reply.body) == sb.size, "reply framing");
    bus_msg_free (&reply);
    bus_msg_free (&reply);

    /* ROUTER_MANDATORY: an unknown peer is EHOSTUNREACH, not a silent drop */
    zframe_t *ghost = zframe_from ("nobody");
    errno = 0;
    CHECK (bus_send (router, ghost, PROTO_ACK, "", 0) == -1 && errno == EHOSTUNREACH,
           "send to unknown peer fails with EHOSTUNREACH, got errno %d", errno);
    CHECK (bus_send (router, NULL, PROTO_ACK, "", 0) == -1, "router send without identity refused");
    zframe_destroy (&ghost);
    bus_msg_free (&msg);

    /* malformed framing, sent raw from the dealer */
    struct { const char *what; zmsg_t *m; const char *want; } bad [5];
    for (int i = 0; i < 5; i++)
        bad [i].m = zmsg_new ();
    bad [0].what = "missing delimiter"; bad [0].want = "missing empty delimiter frame";
    zmsg_addstr (bad [0].m, EASEL_PROTO_TAG); zmsg_addmem (bad [0].m, "\x06", 1); zmsg_addmem (bad [0].m, "", 0);
    bad [1].what = "wrong tag"; bad [1].want = "bad protocol tag";
    zmsg_addmem (bad [1].m, "", 0); zmsg_addstr (bad [1].m, "EASEL2"); zmsg_addmem (bad [1].m, "\x06", 1);
    zmsg_addmem (bad [1].m, "", 0);
    bad [2].what = "2-byte command"; bad [2].want = "command frame must be 1 byte";
    zmsg_addmem (bad [2].m, "", 0); zmsg_addstr (bad [2].m, EASEL_PROTO_TAG); zmsg_addmem (bad [2].m, "\x06\x00", 2);
    zmsg_addmem (bad [2].m, "", 0);
    bad [3].what = "no body"; bad [3].want = "missing body frame";
    zmsg_addmem (bad [3].m, "", 0); zmsg_addstr (bad [3].m, EASEL_PROTO_TAG); zmsg_addmem (bad [3].m, "\x06", 1);
    bad [4].what = "extra frame"; bad [4].want = "unexpected extra frames";
    zmsg_addmem (bad [4].m, "", 0); zmsg_addstr (bad [4].m, EASEL_PROTO_TAG); zmsg_addmem (bad [4].m, "\x06", 1);
    zmsg_addmem (bad [4].m, "", 0); zmsg_addmem (bad [4].m, "", 0);
    for (int i = 0; i < 5; i++) {
        CHECK (zmsg_send (&bad [i].m, dealer) == 0, "raw send %s", bad [i].what);
        err [0] = '\0';
        int rc = s_ready (router) ? bus_recv (router, true, &msg, err) : 0;
        CHECK (rc == -1 && strstr (err, bad [i].want), "%s rejected with \"%s\", got \"%s\"",
               bad [i].what, bad [i].want, err);
        CHECK (msg.identity && zframe_streq (msg.identity, "peer-1") && msg.body == NULL,
               "%s keeps the identity for an ERROR reply", bad [i].what);
        bus_msg_free (&msg);
    }
    /* a good message still flows after the bad ones */
    CHECK (bus_send (dealer, NULL, PROTO_HEARTBEAT, sb.data, sb.size) == 0, "send after bad");
    CHECK (s_ready (router) && bus_recv (router, true, &msg, err) == 0 && msg.cmd == PROTO_HEARTBEAT,
           "heartbeat received after bad frames: %s", err);
    bus_msg_free (&msg);

    /* PUB/SUB */
    zsock_t *pub = zsock_new (ZMQ_PUB);
    zsock_t *sub = zsock_new (ZMQ_SUB);
    bus_socket_setup (pub);
    bus_socket_setup (sub);
    zsock_set_subscribe (sub, "");
    CHECK (zsock_bind (pub, "inproc://bus-events") == 0 && zsock_connect (sub, "inproc://bus-events") == 0,
           "pub/sub wired");
    zclock_sleep (50);
    CHECK (bus_publish (pub, "render.succeeded", 1234567890123LL, sb.data, sb.size) == 0, "publish");
    char topic [PROTO_SHORT_MAX];
    int64_t seq;
    zframe_t *body = NULL;
    CHECK (s_ready (sub) && bus_recv_event (sub, topic, &seq, &body, err) == 0, "event received: %s", err);
    CHECK (strcmp (topic, "render.succeeded") == 0 && seq == 1234567890123LL && body
           && zframe_size (body) == sb.size, "event topic/seq/body kept (seq %lld)", (long long) seq);
    zframe_destroy (&body);
    zsock_send (pub, "sss", "hb", "12x", "");
    CHECK (s_ready (sub) && bus_recv_event (sub, topic, &seq, &body, err) == -1 && strstr (err, "bad event seq")
           && body == NULL, "non-decimal seq rejected, got \"%s\"", err);
    zsock_send (pub, "ss", "hb", "1");
    CHECK (s_ready (sub) && bus_recv_event (sub, topic, &seq, &body, err) == -1 && strstr (err, "3 frames"),
           "2-frame event rejected, got \"%s\"", err);

    msgpack_sbuffer_destroy (&sb);
    zsock_destroy (&sub);
    zsock_destroy (&pub);
    zsock_destroy (&dealer);
    zsock_destroy (&router);
    if (check_failures) {
        fprintf (stderr, "test_bus: %d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("test_bus: all checks passed\n");
    return 0;
}
