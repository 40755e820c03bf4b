/*  test_webhook_many.c: easel-webhooker runs more than 1,024 deliveries at
    once (its sockets are past FD_SETSIZE, so only a poll of curl's own
    sockets reaches them).
        test_webhook_many PATH/TO/easel-webhooker
    This process is the fake scheduler (ROUTER + PUB) and the receiver: S_N
    deliveries spread over S_PORTS loopback ports (the per-host cap is 256),
    each request held unanswered until all S_N are in at the same time; then
    the last S_LAST connected (the webhooker's highest descriptors) are
    answered 200 alone, and once their reports are in, all the others.
    Checks: all S_N requests were open together, the S_LAST were reported
    before any other answer was sent (the time it took is printed), and S_N
    ok reports came back, one per delivery. Raises the soft
    RLIMIT_NOFILE (the webhooker inherits it); exits 77 (skipped) when the
    hard limit is too low for that. Bounded: S_WAIT_MS at most per phase.  */
#include <czmq.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../unit/check.h"
#include "bus.h"
#include "proto.h"

#define S_N        1100                 /* deliveries at once: more than FD_SETSIZE */
#define S_PORTS    5                    /* 5 x the cap of 256 > S_N */
#define S_NOFILE   4096                 /* both processes hold ~S_N sockets */
#define S_WAIT_MS  40000
#define S_REQ_MAX  4096                 /* one request, headers and body */
#define S_LAST     50                   /* answered first, alone */
#define SECRET "whsec_ZWFzZWwtdGVzdC12ZWN0b3Itc2VjcmV0LWtleS1BISE="

typedef struct {
    int fd;
    char buf[S_REQ_MAX];
    size_t len;
    bool complete;                      /* the whole request is in, unanswered */
} s_conn_t;

static s_conn_t *s_conns[S_N * 2];
static int s_nconns;
static int s_listen[S_PORTS], s_port[S_PORTS];
static bool s_delivered[S_N];

static int
s_listen_on (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) || listen (fd, 1024)
    ||  getsockname (fd, (struct sockaddr *) &a, &alen))
        return -1;
    fcntl (fd, F_SETFL, O_NONBLOCK);
    *port = ntohs (a.sin_port);
    return fd;
}

/* Whether c holds a whole request: headers, then Content-Length bytes. */
static bool
s_request_complete (s_conn_t *c)
{
    c->buf[c->len] = 0;
    char *end = strstr (c->buf, "\r\n\r\n");
    if (!end)
        return false;
    const char *cl = strcasestr (c->buf, "\r\ncontent-length:");
    long body = cl ? strtol (cl + 17, NULL, 10) : 0;
    return (size_t) (end + 4 - c->buf) + (size_t) body <= c->len;
}

/* Answers (200) and closes the connections accepted from..to-1. */
static void
s_answer (int from, int to)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    for (int i = from; i < to && i < s_nconns; i++) {
        if (s_conns[i]->fd < 0)
            continue;
        if (s_conns[i]->complete && write (s_conns[i]->fd, ok, sizeof ok - 1) < 0)
            CHECK (0, "expected to answer connection %d", i);
        close (s_conns[i]->fd);
        s_conns[i]->fd = -1;
        s_conns[i]->complete = false;
    }
}

/* Answers EVENTS_SINCE with the page after req.since of S_N events. */
static void
s_events (zsock_t *router, zframe_t *identity, const proto_events_since_t *req)
{
    static proto_event_t evs[EASEL_EVENTS_PAGE_MAX];
    static char urls[EASEL_EVENTS_PAGE_MAX][64], payloads[EASEL_EVENTS_PAGE_MAX][96];
    int n = 0;
    for (int64_t seq = req->since + 1; seq <= S_N && n < req->limit && n < EASEL_EVENTS_PAGE_MAX; seq++, n++) {
        proto_event_t *ev = &evs[n];
        int i = (int) seq - 1;
        memset (ev, 0, sizeof *ev);
        ev->seq = seq;
        ev->created_at_ms = 1767225600000;
        snprintf (ev->id, sizeof ev->id, "evt_%026d", i);
        snprintf (ev->type, sizeof ev->type, "render.succeeded");
        snprintf (ev->object_id, sizeof ev->object_id, "rnd_%026d", i);
        snprintf (ev->delivery_id, sizeof ev->delivery_id, "dlv_%026d", i);
        snprintf (urls[n], sizeof urls[n], "http://127.0.0.1:%d/hook/%d", s_port[i % S_PORTS], i);
        snprintf (payloads[n], sizeof payloads[n], "{\"type\":\"render.succeeded\",\"n\":%d}", i);
        ev->url = urls[n];
        ev->secret = SECRET;
        ev->payload = payloads[n];
    }
    proto_events_t reply = { .last_seq = S_N, .nevents = n, .events = evs };
    snprintf (reply.rid, sizeof reply.rid, "%s", req->rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_events_encode (&reply, &sb);
    bus_send_sbuf (router, identity, PROTO_EVENTS, &sb);
    msgpack_sbuffer_destroy (&sb);
}

/* One request from the webhooker; returns the number of ok reports so far. */
static int
s_bus (zsock_t *router, int nok)
{
    bus_msg_t m = { 0 };
    char err[PROTO_ERR_MAX];
    if (bus_recv (router, true, &m, err)) {
        CHECK (0, "expected well-formed requests from the webhooker: %s", err);
        bus_msg_free (&m);
        return nok;
    }
    const char *data = (const char *) zframe_data (m.body);
    size_t len = zframe_size (m.body);
    if (m.cmd == PROTO_EVENTS_SINCE) {
        proto_events_since_t req = { 0 };
        if (proto_events_since_decode (data, len, &req, err) == 0)
            s_events (router, m.identity, &req);
    }
    else
    if (m.cmd == PROTO_DELIVERY_REPORT) {
        proto_delivery_report_t r = { 0 };
        if (proto_delivery_report_decode (data, len, &r, err) == 0) {
            int i = (int) strtol (r.delivery_id + 4, NULL, 10);
            CHECK (r.ok && r.status_code == 200, "expected delivery %s ok with 200, got %d (%s)",
                   r.delivery_id, r.status_code, r.error ? r.error : "");
            if (r.ok && i >= 0 && i < S_N && !s_delivered[i]) {
                s_delivered[i] = true;
                nok++;
            }
            proto_simple_t ack = { 0 };
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            snprintf (ack.rid, sizeof ack.rid, "%s", r.rid);
            proto_simple_encode (&ack, &sb);
            bus_send_sbuf (router, m.identity, PROTO_ACK, &sb);
            msgpack_sbuffer_destroy (&sb);
        }
        proto_delivery_report_free (&r);
    }
    bus_msg_free (&m);
    return nok;
}

/* Accepts, reads, counts complete requests; returns how many are open. */
static int
s_http (const zmq_pollitem_t *items, int nitems)
{
    for (int p = 0; p < S_PORTS; p++) {
        if (!(items[1 + p].revents & ZMQ_POLLIN))
            continue;
        for (int fd; s_nconns < S_N * 2 && (fd = accept (s_listen[p], NULL, NULL)) >= 0; ) {
            fcntl (fd, F_SETFL, O_NONBLOCK);
            s_conn_t *c = calloc (1, sizeof *c);
            REQUIRE (c, "memory for a connection");
            c->fd = fd;
            s_conns[s_nconns++] = c;
        }
    }
    int open = 0;
    for (int i = 1 + S_PORTS; i < nitems; i++) {
        s_conn_t *c = s_conns[i - 1 - S_PORTS];
        if (c->fd >= 0 && (items[i].revents & ZMQ_POLLIN) && !c->complete && c->len < S_REQ_MAX - 1) {
            ssize_t got = read (c->fd, c->buf + c->len, S_REQ_MAX - 1 - c->len);
            if (got > 0) {
                c->len += (size_t) got;
                c->complete = s_request_complete (c);
            }
        }
    }
    for (int i = 0; i < s_nconns; i++)
        open += s_conns[i]->complete;
    return open;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: test_webhook_many EASEL_WEBHOOKER\n");
        return 2;
    }
    struct rlimit rl;
    getrlimit (RLIMIT_NOFILE, &rl);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < S_NOFILE) {
        printf ("test_webhook_many: skipped, the hard RLIMIT_NOFILE %llu is below %d\n",
                (unsigned long long) rl.rlim_max, S_NOFILE);
        return 77;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur < S_NOFILE) {
        rl.rlim_cur = S_NOFILE;
        REQUIRE (setrlimit (RLIMIT_NOFILE, &rl) == 0, "a soft RLIMIT_NOFILE of %d", S_NOFILE);
    }
    signal (SIGPIPE, SIG_IGN);
    zsys_init ();
    zsys_set_logstream (NULL);
    for (int p = 0; p < S_PORTS; p++)
        REQUIRE ((s_listen[p] = s_listen_on (&s_port[p])) >= 0, "a loopback listening socket");
    zsock_t *router = zsock_new (ZMQ_ROUTER), *pub = zsock_new (ZMQ_PUB);
    REQUIRE (router && pub, "the fake scheduler's sockets");
    bus_socket_setup (router);
    char api[64], events[64];
    snprintf (api, sizeof api, "tcp://127.0.0.1:%d", zsock_bind (router, "tcp://127.0.0.1:*"));
    snprintf (events, sizeof events, "tcp://127.0.0.1:%d", zsock_bind (pub, "tcp://127.0.0.1:*"));

    char *wh_argv[] = { argv[1], "--api", api, "--events", events, "--retry-schedule", "1,1,1",
                        "--per-host", "256", "--timeout-ms", "60000", "--allow-private-networks", NULL };
    pid_t wh = fork ();
    if (wh == 0) {
        int null = open ("/dev/null", O_WRONLY);
        dup2 (null, 1);
        execv (argv[1], wh_argv);
        _exit (127);
    }
    static zmq_pollitem_t items[1 + S_PORTS + S_N * 2];
    int nok = 0, most_open = 0;
    bool all_open = false;
    int64_t last_answered_at = 0, last_done_ms = -1;
    int64_t end = zclock_mono () + S_WAIT_MS;
    while (zclock_mono () < end && nok < S_N) {
        int n = 0;
        items[n++] = (zmq_pollitem_t) { zsock_resolve (router), 0, ZMQ_POLLIN, 0 };
        for (int p = 0; p < S_PORTS; p++)
            items[n++] = (zmq_pollitem_t) { NULL, s_listen[p], ZMQ_POLLIN, 0 };
        for (int i = 0; i < s_nconns; i++)
            items[n++] = (zmq_pollitem_t) { NULL, s_conns[i]->fd, ZMQ_POLLIN, 0 };
        if (zmq_poll (items, n, 100) < 0)
            continue;
        while (zsock_events (router) & ZMQ_POLLIN)
            nok = s_bus (router, nok);
        int open = s_http (items, n);
        if (open > most_open)
            most_open = open;
        if (open >= S_N && !all_open) {
            /* every request in at once. Answer the last S_LAST connected
               first, alone: on the webhooker's side those are its highest
               descriptors, past FD_SETSIZE */
            all_open = true;
            s_answer (s_nconns - S_LAST, s_nconns);
            last_answered_at = zclock_mono ();
        }
        if (all_open && last_done_ms < 0 && nok >= S_LAST) {
            last_done_ms = zclock_mono () - last_answered_at;
            s_answer (0, s_nconns);
        }
    }
    s_answer (0, s_nconns);
    for (int i = 0; i < s_nconns; i++)
        free (s_conns[i]);
    kill (wh, SIGTERM);
    int status = 0;
    waitpid (wh, &status, 0);
    CHECK (all_open, "expected all %d requests open at the receiver at once, at most %d were",
           S_N, most_open);
    printf ("test_webhook_many: the %d answered first were reported in %lld ms\n", S_LAST, (long long) last_done_ms);
    CHECK (last_done_ms >= 0, "expected the %d answers on the highest descriptors reported before "
           "any other answer", S_LAST);
    CHECK (nok == S_N, "expected %d ok reports, one per delivery, got %d", S_N, nok);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0,
           "expected the webhooker to stop cleanly on SIGTERM (status %d)", status);
    zsock_destroy (&router);
    zsock_destroy (&pub);
    for (int p = 0; p < S_PORTS; p++)
        close (s_listen[p]);
    return check_done ("test_webhook_many");
}
