/*  test_webhook_deliver.c: easel-webhooker against a fake scheduler (ROUTER +
    PUB, here) and a real HTTP endpoint (test_webhook_receiver.py).
        test_webhook_deliver PATH/TO/easel-webhooker PATH/TO/test_webhook_receiver.py
    Checks: the event is fetched over EVENTS_SINCE, POSTed with the exact
    payload, both signatures verify, a 500 is reported and retried on the
    schedule, the 200 is reported ok and nothing is sent again; a webhooker
    without --allow-private-networks refuses the loopback target and names it;
    a webhooker started before its scheduler binds (its first EVENTS_SINCE
    finds no peer) fetches and delivers once the scheduler is there.  */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../unit/check.h"
#include "bus.h"
#include "proto.h"

#define SECRET "whsec_ZWFzZWwtdGVzdC12ZWN0b3Itc2VjcmV0LWtleS1BISE="
#define EVT_ID "evt_01KNS1WNPW9FCHZSK4XNTHMB0H"
#define PAYLOAD "{\"type\":\"render.succeeded\",\"event_id\":\"" EVT_ID "\",\"headline\":\"Caf\xc3\xa9\"}"

typedef struct {
    int nreports;
    proto_delivery_report_t reports[16];
    int nfetches;
    bool delivered;
} fake_t;

static pid_t
s_spawn (char *const argv[], int out_fd)
{
    pid_t pid = fork ();
    if (pid == 0) {
        if (out_fd >= 0)
            dup2 (out_fd, 1);
        execv (argv[0], argv);
        _exit (127);
    }
    return pid;
}

static void
s_stop (pid_t pid)
{
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
}

/* Serves the webhooker for up to ms; stops early once `until` reports arrived. */
static void
s_serve (zsock_t *router, zsock_t *pub, fake_t *f, const char *url, int ms, int until)
{
    int64_t end = zclock_mono () + ms;
    zpoller_t *poller = zpoller_new (router, NULL);
    int64_t next_pub = 0;
    while (zclock_mono () < end && f->nreports < until) {
        if (zclock_mono () >= next_pub) {      /* a heartbeat now and then, as the scheduler does */
            proto_simple_t hb = { .last_seq = 1 };
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            proto_simple_encode (&hb, &sb);
            bus_publish (pub, PROTO_TOPIC_HEARTBEAT, 1, sb.data, sb.size);
            msgpack_sbuffer_destroy (&sb);
            next_pub = zclock_mono () + 1000;
        }
        if (!zpoller_wait (poller, 100))
            continue;
        bus_msg_t m = { 0 };
        char err[PROTO_ERR_MAX];
        if (bus_recv (router, true, &m, err)) {
            CHECK (0, "expected well-formed requests from the webhooker: %s", err);
            bus_msg_free (&m);
            continue;
        }
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        const char *data = (const char *) zframe_data (m.body);
        size_t len = zframe_size (m.body);
        if (m.cmd == PROTO_EVENTS_SINCE) {
            proto_events_since_t req = { 0 };
            CHECK (proto_events_since_decode (data, len, &req, err) == 0, "EVENTS_SINCE decodes: %s", err);
            f->nfetches++;
            proto_event_t ev = { .seq = 1, .created_at_ms = 1767225600000, .attempts = 0 };
            snprintf (ev.id, sizeof ev.id, EVT_ID);
            snprintf (ev.type, sizeof ev.type, "render.succeeded");
            snprintf (ev.object_id, sizeof ev.object_id, "rnd_01KNS1WNPW9FCHZSK4XNTHMB0J");
            snprintf (ev.delivery_id, sizeof ev.delivery_id, "dlv_01KNS1WNPW9FCHZSK4XNTHMB0K");
            ev.url = (char *) url;
            ev.secret = SECRET;
            ev.payload = PAYLOAD;
            proto_events_t reply = { .last_seq = 1, .nevents = (req.since < 1 && !f->delivered), .events = &ev };
            snprintf (reply.rid, sizeof reply.rid, "%s", req.rid);
            proto_events_encode (&reply, &sb);
            bus_send_sbuf (router, m.identity, PROTO_EVENTS, &sb);
        }
        else
        if (m.cmd == PROTO_DELIVERY_REPORT && f->nreports < 16) {
            proto_delivery_report_t *r = &f->reports[f->nreports++];
            CHECK (proto_delivery_report_decode (data, len, r, err) == 0, "DELIVERY_REPORT decodes: %s", err);
            f->delivered |= r->ok;
            proto_simple_t ack = { 0 };
            snprintf (ack.rid, sizeof ack.rid, "%s", r->rid);
            proto_simple_encode (&ack, &sb);
            bus_send_sbuf (router, m.identity, PROTO_ACK, &sb);
        }
        msgpack_sbuffer_destroy (&sb);
        bus_msg_free (&m);
    }
    zpoller_destroy (&poller);
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "usage: test_webhook_deliver EASEL_WEBHOOKER RECEIVER_PY\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    char dir[] = "/tmp/easel-wh-XXXXXX";
    if (!mkdtemp (dir))
        return 1;
    char port_file[128], out_file[128], url[128], api[64], events[64];
    snprintf (port_file, sizeof port_file, "%s/port", dir);
    snprintf (out_file, sizeof out_file, "%s/requests", dir);
    FILE *out = fopen (out_file, "w+");

    char *recv_argv[] = { "/usr/bin/python3", argv[2], port_file, SECRET, "500,200", NULL };
    pid_t receiver = s_spawn (recv_argv, fileno (out));
    for (int i = 0; i < 100 && !zsys_file_exists (port_file); i++)
        usleep (50000);
    FILE *pf = fopen (port_file, "r");
    int portnum = 0;
    CHECK (pf && fscanf (pf, "%d", &portnum) == 1, "expected the receiver to write its port");
    if (pf)
        fclose (pf);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/hooks/easel", portnum);

    zsock_t *router = zsock_new (ZMQ_ROUTER), *pub = zsock_new (ZMQ_PUB);
    bus_socket_setup (router);
    int api_port = zsock_bind (router, "tcp://127.0.0.1:*");
    int ev_port = zsock_bind (pub, "tcp://127.0.0.1:*");
    snprintf (api, sizeof api, "tcp://127.0.0.1:%d", api_port);
    snprintf (events, sizeof events, "tcp://127.0.0.1:%d", ev_port);

    /* 1. allowed: 500 then 200 */
    char *wh_argv[] = { argv[1], "--api", api, "--events", events, "--retry-schedule", "1,1,1",
                        "--allow-private-networks", NULL };
    pid_t wh = s_spawn (wh_argv, -1);
    fake_t f = { 0 };
    s_serve (router, pub, &f, url, 10000, 2);
    s_serve (router, pub, &f, url, 2500, 3);           /* nothing more may come */
    s_stop (wh);
    CHECK (f.nfetches >= 1, "expected the webhooker to send EVENTS_SINCE");
    CHECK (f.nreports == 2, "expected exactly 2 delivery reports (500 then 200), got %d", f.nreports);
    if (f.nreports >= 2) {
        CHECK (!f.reports[0].ok && f.reports[0].status_code == 500,
               "expected report 1: failed with 500, got ok=%d status=%d", f.reports[0].ok, f.reports[0].status_code);
        CHECK (f.reports[0].response_head && strcmp (f.reports[0].response_head, "answered 500") == 0,
               "expected report 1 to keep the response body, got %s", f.reports[0].response_head ?: "(null)");
        CHECK (f.reports[1].ok && f.reports[1].status_code == 200,
               "expected report 2: ok with 200, got ok=%d status=%d", f.reports[1].ok, f.reports[1].status_code);
        CHECK (strcmp (f.reports[1].delivery_id, "dlv_01KNS1WNPW9FCHZSK4XNTHMB0K") == 0,
               "expected the report to name the delivery, got %s", f.reports[1].delivery_id);
    }
    /* what the endpoint saw */
    fflush (out);
    rewind (out);
    char line[4096];
    int nreq = 0;
    while (fgets (line, sizeof line, out)) {
        nreq++;
        CHECK (strstr (line, "\"asa_ok\": true") && strstr (line, "\"std_ok\": true"),
               "expected both signatures to verify independently: %s", line);
        CHECK (strstr (line, "\"user_agent\": \"Easel-Webhooks/1\"")
            && strstr (line, "\"content_type\": \"application/json\"")
            && strstr (line, "\"webhook_id\": \"" EVT_ID "\""),
               "expected the User-Agent, Content-Type and webhook-id headers: %s", line);
        CHECK (strstr (line, "Caf\\u00e9"), "expected the payload bytes unchanged: %s", line);
    }
    CHECK (nreq == 2, "expected the endpoint to see 2 POSTs, saw %d", nreq);
    for (int i = 0; i < f.nreports; i++)
        proto_delivery_report_free (&f.reports[i]);

    /* 2. private networks not allowed: refused at connect, address named */
    char *wh2_argv[] = { argv[1], "--api", api, "--events", events, "--retry-schedule", "1,1,1", NULL };
    unsetenv ("EASEL_ALLOW_PRIVATE_NETWORKS");
    wh = s_spawn (wh2_argv, -1);
    fake_t g = { 0 };
    s_serve (router, pub, &g, url, 10000, 1);
    s_stop (wh);
    CHECK (g.nreports >= 1 && !g.reports[0].ok && g.reports[0].error
           && strstr (g.reports[0].error, "127.0.0.1") && strstr (g.reports[0].error, "private"),
           "expected a refused delivery naming 127.0.0.1 as private, got %s",
           g.nreports && g.reports[0].error ? g.reports[0].error : "(no report)");
    for (int i = 0; i < g.nreports; i++)
        proto_delivery_report_free (&g.reports[i]);

    /* 3. no scheduler yet when the webhooker starts: the same endpoints come
       up later (the receiver answers 200 by now) */
    zsock_destroy (&router);
    zsock_destroy (&pub);
    wh = s_spawn (wh_argv, -1);
    usleep (300 * 1000);                /* its first fetch finds nobody */
    router = zsock_new (ZMQ_ROUTER);
    pub = zsock_new (ZMQ_PUB);
    bus_socket_setup (router);
    CHECK (zsock_bind (router, "%s", api) == api_port && zsock_bind (pub, "%s", events) == ev_port,
           "expected to bind %s and %s again", api, events);
    fake_t h = { 0 };
    s_serve (router, pub, &h, url, 10000, 1);
    s_stop (wh);
    CHECK (h.nfetches >= 1 && h.nreports == 1 && h.reports[0].ok && h.reports[0].status_code == 200,
           "expected a late scheduler to get a fetch and one ok report, got %d fetches, %d reports",
           h.nfetches, h.nreports);
    for (int i = 0; i < h.nreports; i++)
        proto_delivery_report_free (&h.reports[i]);

    s_stop (receiver);
    fclose (out);
    zsock_destroy (&router);
    zsock_destroy (&pub);
    char cmd[160];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "warning: could not remove %s\n", dir);
    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("webhook_deliver: all checks passed\n");
    return check_failures ? 1 : 0;
}
