/*  fuzz_gateway.c: libFuzzer target for the gateway's request handling, in
    process. LLVMFuzzerInitialize starts civetweb on an ephemeral loopback
    port with the gateway's handler and error hook, and a scheduler stand-in
    (a CZMQ actor on a ROUTER) that knows one key (sk_fuzz_good) and answers
    every request: GET_ACCOUNT with the account, creates, gets and cancels
    with a finished render, PING with a PONG, anything else with a 404
    error. Each input is sent as it is, a raw HTTP request (method, path,
    headers and body all come from the fuzzer), over a fresh connection;
    the answer is read to EOF. A crash, an ASan report, or a request that
    gets no answer at all within 10 s (a stall: abort) is a finding. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <czmq.h>
#include <sodium.h>
#include <civetweb.h>
#include "gateway.h"
#include "http_error.h"
#include "bus.h"
#include "util.h"

#define GOOD_KEY "sk_fuzz_good"
#define ACCOUNT  "acct_01J00000000000000000000000"

static int s_port;
static gateway_t s_gw;
static char s_api [64], s_events [64];
static zactor_t *s_sched;
static struct mg_context *s_ctx;

/* At exit, before CZMQ's own atexit hook (registered earlier, so run later)
   tears the ZeroMQ context down under civetweb's live workers. */
static void
s_stop (void)
{
    mg_stop (s_ctx);
    mg_exit_library ();
    api_pool_destroy (&s_gw.pool);
    event_watch_destroy (&s_gw.events);
    key_cache_destroy (&s_gw.keys);
    rate_limit_destroy (&s_gw.limits);
    zactor_destroy (&s_sched);
}

static void
s_send_render (zsock_t *router, zframe_t *who, const char *rid)
{
    proto_render_t out;
    memset (&out, 0, sizeof out);
    snprintf (out.rid, sizeof out.rid, "%s", rid);
    proto_id_new ("rnd_", out.id, sizeof out.id);
    snprintf (out.account_id, sizeof out.account_id, ACCOUNT);
    snprintf (out.status, sizeof out.status, "succeeded");
    snprintf (out.webhook_status, sizeof out.webhook_status, "none");
    out.created_at_ms = out.completed_at_ms = util_now_ms ();
    out.metadata_json = (char *) "{\"a\":[1,{\"b\":2}]}";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_render_encode (&out, &sb);
    bus_send_sbuf (router, who, PROTO_RENDER, &sb);
    msgpack_sbuffer_destroy (&sb);
}

static void
s_send_error (zsock_t *router, zframe_t *who, const char *rid, int status, const char *code)
{
    proto_errmsg_t em;
    memset (&em, 0, sizeof em);
    snprintf (em.rid, sizeof em.rid, "%s", rid);
    em.status = status;
    proto_error_set (&em.error, code, "from the scheduler stand-in", NULL);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_errmsg_encode (&em, &sb);
    bus_send_sbuf (router, who, PROTO_ERROR, &sb);
    msgpack_sbuffer_destroy (&sb);
    proto_errmsg_free (&em);
}

static void
s_answer (zsock_t *router, bus_msg_t *m, const char *good)
{
    const char *data = (const char *) zframe_data (m->body);
    size_t len = zframe_size (m->body);
    char rid [PROTO_ID_MAX], err [PROTO_ERR_MAX];
    if (bus_client_peek_rid (data, len, rid))
        return;
    if (m->cmd == PROTO_GET_ACCOUNT) {
        proto_get_t g;
        if (proto_get_decode (data, len, &g, err) || strcmp (g.auth, good)) {
            s_send_error (router, m->identity, rid, 401, "invalid_api_key");
            return;
        }
        proto_body_t b = { .status = 200, .body = (char *) "{\"object\":\"account\"}" };
        snprintf (b.rid, sizeof b.rid, "%s", rid);
        snprintf (b.id, sizeof b.id, ACCOUNT);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        proto_body_encode (&b, &sb);
        bus_send_sbuf (router, m->identity, PROTO_ACCOUNT, &sb);
        msgpack_sbuffer_destroy (&sb);
    }
    else
    if (m->cmd == PROTO_PING) {
        proto_simple_t p;
        memset (&p, 0, sizeof p);
        snprintf (p.rid, sizeof p.rid, "%s", rid);
        p.renderers = 1;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        proto_simple_encode (&p, &sb);
        bus_send_sbuf (router, m->identity, PROTO_PONG, &sb);
        msgpack_sbuffer_destroy (&sb);
    }
    else
    if (m->cmd == PROTO_CREATE_RENDER || m->cmd == PROTO_CREATE_CAPTURE
    ||  m->cmd == PROTO_GET_RENDER || m->cmd == PROTO_CANCEL_RENDER)
        s_send_render (router, m->identity, rid);
    else
    if (m->cmd == PROTO_IDEM_BEGIN || m->cmd == PROTO_IDEM_COMPLETE) {
        proto_simple_t p;
        memset (&p, 0, sizeof p);
        snprintf (p.rid, sizeof p.rid, "%s", rid);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        proto_simple_encode (&p, &sb);
        bus_send_sbuf (router, m->identity, PROTO_ACK, &sb);
        msgpack_sbuffer_destroy (&sb);
    }
    else
        s_send_error (router, m->identity, rid, 404, "resource_missing");
}

static void
s_scheduler (zsock_t *pipe, void *args)
{
    (void) args;
    char good [65];
    util_sha256_hex (GOOD_KEY, strlen (GOOD_KEY), good);
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_t *pub = zsock_new (ZMQ_PUB);
    bus_socket_setup (router);
    int api = zsock_bind (router, "tcp://127.0.0.1:*[40000-]");
    int events = zsock_bind (pub, "tcp://127.0.0.1:*[40000-]");
    snprintf (s_api, sizeof s_api, "tcp://127.0.0.1:%d", api);
    snprintf (s_events, sizeof s_events, "tcp://127.0.0.1:%d", events);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which != router)
            break;
        bus_msg_t m;
        char err [PROTO_ERR_MAX];
        if (bus_recv (router, true, &m, err) == 0)
            s_answer (router, &m, good);
        bus_msg_free (&m);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&router);
    zsock_destroy (&pub);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    zsys_init ();
    if (sodium_init () < 0)
        abort ();
    s_sched = zactor_new (s_scheduler, NULL);
    rate_rule_t rules [RATE_CLASSES];
    memcpy (rules, rate_limit_defaults, sizeof rules);
    rules [RATE_AUTH_FAIL] = (rate_rule_t) { 100000, 100000 };   /* one address sends everything */
    rules [RATE_ALL] = (rate_rule_t) { 100000, 100000 };
    s_gw = (gateway_t) {
        .api_endpoint = s_api, .public_url = "http://fuzz.test",
        .request_timeout_ms = 1000, .sync_wait_ms = 100,
        .events = event_watch_new (s_events, NULL),
        .keys = key_cache_new (EASEL_KEY_CACHE_TTL_MS),
        .limits = rate_limit_new (rules),
        .pool = api_pool_new (s_api, 4, 1000),
        .threads = 4,
    };
    if (!s_sched || !s_gw.events || !s_gw.keys || !s_gw.limits || !s_gw.pool)
        abort ();
    const char *options [] = {
        "listening_ports", "127.0.0.1:0", "num_threads", "4", "tcp_nodelay", "1",
        "enable_keep_alive", "no", "request_timeout_ms", "2000", NULL
    };
    struct mg_callbacks callbacks;
    memset (&callbacks, 0, sizeof callbacks);
    callbacks.init_connection = gateway_connection_open;
    callbacks.connection_close = gateway_connection_close;
    callbacks.http_error = gateway_http_error;
    mg_init_library (0);
    s_ctx = mg_start (&callbacks, &s_gw, options);
    if (!s_ctx)
        abort ();
    mg_set_request_handler (s_ctx, "/", gateway_handle, &s_gw);
    struct mg_server_port ports [4];
    if (mg_get_server_ports (s_ctx, 4, ports) < 1)
        abort ();
    s_port = ports [0].port;
    atexit (s_stop);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) s_port) };
    inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = { .tv_sec = 10 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a)) {
        if (fd >= 0)
            close (fd);
        return 0;
    }
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send (fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;                 /* the gateway may answer and close early */
        sent += (size_t) n;
    }
    shutdown (fd, SHUT_WR);
    char buf [65536];
    ssize_t n;
    bool timed_out = false;
    while ((n = recv (fd, buf, sizeof buf, 0)) != 0) {
        if (n < 0) {
            timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
            break;
        }
    }
    close (fd);
    if (timed_out) {
        fprintf (stderr, "fuzz_gateway: no answer within 10 s (a stall)\n");
        abort ();
    }
    return 0;
}
