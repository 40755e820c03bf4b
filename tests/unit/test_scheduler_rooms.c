/*  test_scheduler_rooms.c: the scheduler's rooms driven in this process,
    no process spawned: scheduler_t over a temp job store, its api and work
    ROUTERs and events PUB bound on inproc:// endpoints, a DEALER playing the
    gateway and DEALERs playing renderers. Each step sends a message, runs
    one scheduler_pass and reads what it sent:
      - READY joins the fleet (renderer table), PING counts it;
      - CREATE_RENDER answers RENDER and the same pass dispatches its TASK
        to the renderer with free slots; RESULT settles it (GET_RENDER
        succeeded, a render.succeeded hint on the events socket);
      - a HEARTBEAT keeps a renderer past EASEL_PEER_DEAD_MS alive; a silent
        one is dropped and its leased task goes to another as attempt 2; a
        RESULT from the dropped peer is ignored;
      - the outbound queue of a rolled-back pass answers 503 to the api
        request it held and sends nothing on the work socket;
      - ADMIN without the scheduler's admin secret is 403 and writes
        nothing; with it, keys and credits change in the store;
      - GET_ACCOUNT with key_only names the key's account alone, without
        it the whole account (reserved, ledger); an unknown key is ERROR;
      - the render state stream: a cancel's state.render (the render as
        GET_RENDER reads it, canceled, with the stream's epoch) is published
        in the cancel's pass (readable once its reply is), its seq one past the
        previous state message's, and PONG and RENDER replies carry where
        the stream stands (epoch, last seq);
      - a create's RENDER, made from what its pass wrote, is byte for byte
        the encoding of the render read back in that pass; the same
        Idempotency-Key again answers REPLAY with the first 202 body.
    Single thread. The temp dir is removed at exit. */
#include "check.h"
#include "store_test.h"
#include "scheduler.h"
#include "dispatch.h"
#include "bus.h"
#include "log.h"
#include "render_json.h"
#include "util.h"

#include <czmq.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_WAIT_MS 2000

static char s_dir [] = "/tmp/easel-test-rooms-XXXXXX";
static scheduler_t s_sched;
static zsock_t *s_gateway, *s_sub;
static char s_auth [65];

static void
s_cleanup (void)
{
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "warning: could not remove %s\n", s_dir);
}

static zsock_t *
s_bound (int type, const char *endpoint)
{
    zsock_t *sock = zsock_new (type);
    REQUIRE (sock, "zsock_new");
    bus_socket_setup (sock);
    REQUIRE (zsock_bind (sock, "%s", endpoint) == 0, "bind %s", endpoint);
    return sock;
}

static zsock_t *
s_dealer (const char *endpoint, const char *identity)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    REQUIRE (sock, "zsock_new");
    bus_socket_setup (sock);
    if (identity)
        zsock_set_identity (sock, identity);
    REQUIRE (zsock_connect (sock, "%s", endpoint) == 0, "connect %s", endpoint);
    return sock;
}

static void
s_send (zsock_t *sock, int cmd, msgpack_sbuffer *sb)
{
    REQUIRE (bus_send_sbuf (sock, NULL, cmd, sb) == 0, "send %s", proto_cmd_name (cmd));
    msgpack_sbuffer_destroy (sb);
}

/* One message on a DEALER within timeout_ms: 0, or -1 when none came. */
static int
s_recv (zsock_t *sock, int timeout_ms, bus_msg_t *msg)
{
    memset (msg, 0, sizeof *msg);
    zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) != 1)
        return -1;
    char err [PROTO_ERR_MAX];
    return bus_recv (sock, false, msg, err);
}

/* Runs one pass once the scheduler's sockets have something to read (the
   inproc pipe delivers at once, but the pass only reads what is there). */
static void
s_pass (void)
{
    zmq_pollitem_t items [] = {
        { zsock_resolve (s_sched.api), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (s_sched.work), 0, ZMQ_POLLIN, 0 },
    };
    zmq_poll (items, 2, 200);
    scheduler_pass (&s_sched, false);
}

static void
s_ready (zsock_t *renderer, const char *name, int slots)
{
    proto_ready_t ready;
    memset (&ready, 0, sizeof ready);
    snprintf (ready.name, sizeof ready.name, "%s", name);
    ready.slots = slots;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_ready_encode (&ready, &sb) == 0, "encode READY");
    s_send (renderer, PROTO_READY, &sb);
}

static void
s_heartbeat (zsock_t *renderer)
{
    proto_simple_t hb;
    memset (&hb, 0, sizeof hb);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_simple_encode (&hb, &sb) == 0, "encode HEARTBEAT");
    s_send (renderer, PROTO_HEARTBEAT, &sb);
}

/* PING -> the PONG's renderer count, -1 when no PONG came. */
static int
s_ping (void)
{
    proto_simple_t ping;
    memset (&ping, 0, sizeof ping);
    snprintf (ping.rid, sizeof ping.rid, "ping-1");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_simple_encode (&ping, &sb) == 0, "encode PING");
    s_send (s_gateway, PROTO_PING, &sb);
    s_pass ();
    bus_msg_t m;
    int renderers = -1;
    if (s_recv (s_gateway, S_WAIT_MS, &m) == 0) {
        proto_simple_t pong;
        char err [PROTO_ERR_MAX];
        if (m.cmd == PROTO_PONG
        &&  proto_simple_decode ((const char *) zframe_data (m.body), zframe_size (m.body), &pong, err) == 0
        &&  strcmp (pong.rid, "ping-1") == 0)
            renderers = pong.renderers;
        bus_msg_free (&m);
    }
    return renderers;
}

/* CREATE_RENDER of one task (without running a pass). */
static void
s_create_send (const char *rid)
{
    proto_task_spec_t task;
    memset (&task, 0, sizeof task);
    snprintf (task.locale, sizeof task.locale, "en-US");
    snprintf (task.preset, sizeof task.preset, "play.phone");
    snprintf (task.format, sizeof task.format, "png");
    task.width = 1080;
    task.height = 1920;
    task.spec = "SPEC-BYTES";
    task.spec_len = 10;
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    snprintf (req.rid, sizeof req.rid, "%s", rid);
    snprintf (req.auth, sizeof req.auth, "%s", s_auth);
    req.metadata_json = "{}";
    req.ntasks = 1;
    req.tasks = &task;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_create_render_encode (&req, &sb) == 0, "encode CREATE_RENDER");
    s_send (s_gateway, PROTO_CREATE_RENDER, &sb);
}

/* The RENDER answering rid on the gateway into r (caller frees); the
   reply's command. */
static int
s_render_reply (const char *rid, proto_render_t *r)
{
    bus_msg_t m;
    memset (r, 0, sizeof *r);
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "an answer to %s", rid);
    int cmd = m.cmd;
    if (cmd == PROTO_RENDER) {
        char err [PROTO_ERR_MAX];
        REQUIRE (proto_render_decode ((const char *) zframe_data (m.body), zframe_size (m.body),
                                      r, err) == 0, "RENDER decodes: %s", err);
        CHECK (strcmp (r->rid, rid) == 0, "the reply echoes rid %s, got '%s'", rid, r->rid);
    }
    bus_msg_free (&m);
    return cmd;
}

static void
s_get (const char *id, proto_render_t *r)
{
    proto_get_t get;
    memset (&get, 0, sizeof get);
    snprintf (get.rid, sizeof get.rid, "get-1");
    snprintf (get.auth, sizeof get.auth, "%s", s_auth);
    snprintf (get.id, sizeof get.id, "%s", id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_get_encode (&get, &sb) == 0, "encode GET_RENDER");
    s_send (s_gateway, PROTO_GET_RENDER, &sb);
    s_pass ();
    REQUIRE (s_render_reply ("get-1", r) == PROTO_RENDER, "GET_RENDER answers RENDER");
}

/* The next TASK on renderer into task (caller frees): 0, -1 when none came. */
static int
s_task (zsock_t *renderer, int timeout_ms, proto_task_t *task)
{
    bus_msg_t m;
    memset (task, 0, sizeof *task);
    while (s_recv (renderer, timeout_ms, &m) == 0) {
        int rc = -2;
        char err [PROTO_ERR_MAX];
        if (m.cmd == PROTO_TASK)
            rc = proto_task_decode ((const char *) zframe_data (m.body), zframe_size (m.body),
                                    task, err);
        bus_msg_free (&m);
        if (rc != -2)
            return rc;
    }
    return -1;
}

static void
s_result (zsock_t *renderer, const char *task_id, int attempt)
{
    proto_result_t res;
    memset (&res, 0, sizeof res);
    snprintf (res.task_id, sizeof res.task_id, "%s", task_id);
    res.attempt = attempt;
    res.width = 1080;
    res.height = 1920;
    snprintf (res.format, sizeof res.format, "png");
    res.data = (uint8_t *) "PNG-BYTES";
    res.len = 9;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_result_encode (&res, &sb) == 0, "encode RESULT");
    s_send (renderer, PROTO_RESULT, &sb);
}

/* A hint of topic on the events socket within S_WAIT_MS, naming object_id. */
static bool
s_hint (const char *topic, const char *object_id)
{
    int64_t end = util_mono_ms () + S_WAIT_MS;
    while (util_mono_ms () < end) {
        zmq_pollitem_t item = { zsock_resolve (s_sub), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 100) != 1)
            continue;
        char got [PROTO_SHORT_MAX], err [PROTO_ERR_MAX];
        int64_t seq = 0;
        zframe_t *body = NULL;
        if (bus_recv_event (s_sub, got, &seq, &body, err) != 0)
            continue;
        proto_simple_t s;
        bool match = strcmp (got, topic) == 0
                  && proto_simple_decode ((const char *) zframe_data (body), zframe_size (body), &s, err) == 0
                  && strcmp (s.rid, object_id) == 0 && seq > 0;
        zframe_destroy (&body);
        if (match)
            return true;
    }
    return false;
}

static zsock_t *s_r1, *s_r2;        /* the fake renderers */

static void
test_ready_create_dispatch_result (void)
{
    CHECK (s_ping () == 0, "no renderer before READY");
    s_ready (s_r1, "r1:1", 2);
    s_pass ();
    REQUIRE (renderer_table_size (s_sched.fleet) == 1, "READY joins the fleet, got %d",
             renderer_table_size (s_sched.fleet));
    renderer_t *r = renderer_table_at (s_sched.fleet, 0);
    CHECK (strcmp (r->name, "r1:1") == 0 && r->slots == 2 && !r->capture,
           "the table keeps name and slots, got %s %d", r->name, (int) r->slots);
    CHECK (strcmp (r->hex, "7231") == 0, "the hex identity of \"r1\", got %s", r->hex);
    CHECK (s_ping () == 1, "PONG counts the renderer");

    s_create_send ("create-1");
    s_pass ();
    proto_render_t rend;
    REQUIRE (s_render_reply ("create-1", &rend) == PROTO_RENDER, "CREATE_RENDER answers RENDER");
    CHECK (strcmp (rend.status, "processing") == 0 && rend.nimages == 1,
           "a new render is processing with one image, got %s %d", rend.status, rend.nimages);
    char render_id [PROTO_ID_MAX];
    snprintf (render_id, sizeof render_id, "%s", rend.id);
    proto_render_free (&rend);

    proto_task_t task;
    REQUIRE (s_task (s_r1, S_WAIT_MS, &task) == 0, "the create's pass dispatches its TASK to r1");
    CHECK (task.attempt == 1 && strcmp (task.render_id, render_id) == 0,
           "attempt 1 of the render's task, got %d of %s", (int) task.attempt, task.render_id);
    CHECK (r->leased == 1, "dispatch counted the lease, got %lld", (long long) r->leased);
    s_result (s_r1, task.task_id, task.attempt);
    s_pass ();
    proto_task_free (&task);

    s_get (render_id, &rend);
    CHECK (strcmp (rend.status, "succeeded") == 0 && rend.nimages == 1
           && strcmp (rend.images [0].status, "succeeded") == 0,
           "the RESULT settles the render, got %s", rend.status);
    proto_render_free (&rend);
    CHECK (s_hint ("render.succeeded", render_id), "a render.succeeded hint is published");
}

static void
test_liveness_and_requeue (void)
{
    renderer_t *r = renderer_table_at (s_sched.fleet, 0);
    /* a heartbeat in the pass refreshes a renderer about to be dropped */
    r->last_seen_ms = util_mono_ms () - EASEL_PEER_DEAD_MS - 1000;
    s_heartbeat (s_r1);
    s_pass ();
    CHECK (renderer_table_size (s_sched.fleet) == 1, "a heartbeating renderer stays");

    s_create_send ("create-2");
    s_pass ();
    proto_render_t rend;
    REQUIRE (s_render_reply ("create-2", &rend) == PROTO_RENDER, "CREATE_RENDER answers RENDER");
    char render_id [PROTO_ID_MAX];
    snprintf (render_id, sizeof render_id, "%s", rend.id);
    proto_render_free (&rend);
    proto_task_t first;
    REQUIRE (s_task (s_r1, S_WAIT_MS, &first) == 0, "r1 gets the second render's TASK");

    /* r1 falls silent; r2 joins in the pass that drops r1 */
    r = renderer_table_at (s_sched.fleet, 0);
    r->last_seen_ms = util_mono_ms () - EASEL_PEER_DEAD_MS - 1000;
    s_ready (s_r2, "r2:1", 1);
    s_pass ();
    REQUIRE (renderer_table_size (s_sched.fleet) == 1, "the silent renderer is dropped, got %d",
             renderer_table_size (s_sched.fleet));
    CHECK (strcmp (renderer_table_at (s_sched.fleet, 0)->name, "r2:1") == 0, "r2 remains");
    proto_task_t again;
    REQUIRE (s_task (s_r2, S_WAIT_MS, &again) == 0, "the dropped renderer's task goes to r2");
    CHECK (strcmp (again.task_id, first.task_id) == 0 && again.attempt == 2,
           "the same task as attempt 2, got %s attempt %d", again.task_id, (int) again.attempt);

    /* the dropped peer's late RESULT is not the holder's: ignored */
    s_result (s_r1, first.task_id, first.attempt);
    s_pass ();
    s_get (render_id, &rend);
    CHECK (strcmp (rend.status, "processing") == 0, "a stale RESULT changes nothing, got %s",
           rend.status);
    proto_render_free (&rend);
    s_result (s_r2, again.task_id, again.attempt);
    s_pass ();
    s_get (render_id, &rend);
    CHECK (strcmp (rend.status, "succeeded") == 0, "the holder's RESULT settles it, got %s",
           rend.status);
    proto_render_free (&rend);
    proto_task_free (&first);
    proto_task_free (&again);
}

static void
test_out_rollback (void)
{
    bus_msg_t m;
    char err [PROTO_ERR_MAX];
    s_heartbeat (s_r2);
    s_pass ();
    renderer_t *r = renderer_table_at (s_sched.fleet, 0);
    sched_out_t *out = s_sched.out;
    sched_out_t *probe = sched_out_new ();
    REQUIRE (probe, "sched_out_new");
    sched_out_destroy (&probe);
    CHECK (probe == NULL, "destroy nulls the pointer");
    sched_out_destroy (&probe);                  /* twice is safe */

    /* a request whose answer a pass holds, and a TASK the same pass queued */
    proto_simple_t ping;
    memset (&ping, 0, sizeof ping);
    snprintf (ping.rid, sizeof ping.rid, "ping-held");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_simple_encode (&ping, &sb) == 0, "encode PING");
    s_send (s_gateway, PROTO_PING, &sb);
    zmq_pollitem_t item = { zsock_resolve (s_sched.api), 0, ZMQ_POLLIN, 0 };
    REQUIRE (zmq_poll (&item, 1, S_WAIT_MS) == 1, "the PING arrives");
    bus_msg_t req;
    REQUIRE (bus_recv (s_sched.api, true, &req, err) == 0, "receive the PING: %s", err);
    sched_out_queue (out, s_sched.api, req.identity, PROTO_PONG, "y", 1, "ping-held");
    sched_out_task (out, s_sched.work, r->identity, "z", 1, "img_x", 1);
    CHECK (sched_out_size (out) == 2, "the reply and the TASK queued, got %zu", sched_out_size (out));
    bus_msg_free (&req);
    sched_out_rollback (out, s_sched.api, true);
    CHECK (sched_out_size (out) == 1, "only the api answer is left, got %zu", sched_out_size (out));
    sched_out_flush (out, s_sched.work, s_sched.pub, NULL, NULL, 0);
    CHECK (sched_out_size (out) == 0, "a flush empties the queue");
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "the held request is answered");
    CHECK (m.cmd == PROTO_ERROR, "answered with ERROR, got %s", proto_cmd_name (m.cmd));
    proto_errmsg_t e;
    REQUIRE (proto_errmsg_decode ((const char *) zframe_data (m.body), zframe_size (m.body), &e, err) == 0,
             "ERROR decodes: %s", err);
    CHECK (e.status == 507 && strcmp (e.error.code, "insufficient_storage") == 0
           && strcmp (e.rid, "ping-held") == 0,
           "a full disk's rollback answers 507 with the rid, got %d %s '%s'", e.status, e.error.code, e.rid);
    proto_errmsg_free (&e);
    bus_msg_free (&m);
    CHECK (s_recv (s_r2, 200, &m) != 0, "a rolled-back TASK is not sent");
}

/* The read lease's hold (sched_out with a read_lease_t): a pass that
   published state keeps its api replies (not its PONG) until the holder
   acknowledged the pass's seq; a holder that stops acknowledging holds
   them until its term ends, READ_LEASE_MS at most. */
static void
test_out_hold (void)
{
    bus_msg_t m, req;
    char err [PROTO_ERR_MAX];
    sched_out_t *out = s_sched.out;
    read_lease_t *lease = read_lease_new (0);
    REQUIRE (lease, "read_lease_new");
    int64_t now = READ_LEASE_MS;                  /* past the quiet start */
    int64_t seq = sched_out_state_seq (out);
    CHECK (read_lease_ack (lease, "gw_x", seq, sched_out_released_seq (out), INT64_MAX, now) > 0,
           "gw_x holds a lease");
    sched_out_set_lease (out, lease);

    proto_simple_t ping;
    memset (&ping, 0, sizeof ping);
    snprintf (ping.rid, sizeof ping.rid, "ping-lease");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_simple_encode (&ping, &sb) == 0, "encode PING");
    s_send (s_gateway, PROTO_PING, &sb);
    zmq_pollitem_t item = { zsock_resolve (s_sched.api), 0, ZMQ_POLLIN, 0 };
    REQUIRE (zmq_poll (&item, 1, S_WAIT_MS) == 1, "the PING arrives");
    REQUIRE (bus_recv (s_sched.api, true, &req, err) == 0, "receive the PING: %s", err);

    /* a pass with state: its ACK waits, its PONG does not */
    sched_out_state (out, PROTO_TOPIC_STATE_RESET, NULL, 0);
    sched_out_queue (out, s_sched.api, req.identity, PROTO_ACK, "a", 1, "held-1");
    sched_out_queue (out, s_sched.api, req.identity, PROTO_PONG, "p", 1, "pong-1");
    sched_out_flush (out, s_sched.work, s_sched.pub, NULL, NULL, now);
    CHECK (sched_out_held (out) == 1, "one reply held, got %zu", sched_out_held (out));
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "the PONG is sent at once");
    CHECK (m.cmd == PROTO_PONG, "PONG first, got %s", proto_cmd_name (m.cmd));
    bus_msg_free (&m);
    sched_out_release (out, now + 10);
    CHECK (s_recv (s_gateway, 100, &m) != 0, "the ACK waits for gw_x");
    CHECK (sched_out_next_release_ms (out, now + 10) == now + READ_LEASE_MS,
           "it waits gw_x's term at most");
    read_lease_ack (lease, "gw_x", sched_out_state_seq (out), sched_out_released_seq (out),
                    sched_out_held_deadline (out, sched_out_state_seq (out)), now + 20);
    sched_out_release (out, now + 20);
    CHECK (sched_out_held (out) == 0, "acknowledged: released");
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "the ACK is sent once gw_x acknowledged");
    CHECK (m.cmd == PROTO_ACK, "ACK, got %s", proto_cmd_name (m.cmd));
    bus_msg_free (&m);
    CHECK (sched_out_released_seq (out) == sched_out_state_seq (out), "released up to the pass's seq");

    /* gw_x stops acknowledging: the next pass's reply goes when its term ends */
    sched_out_state (out, PROTO_TOPIC_STATE_RESET, NULL, 0);
    sched_out_queue (out, s_sched.api, req.identity, PROTO_ACK, "b", 1, "held-2");
    sched_out_flush (out, s_sched.work, s_sched.pub, NULL, NULL, now + 30);
    CHECK (sched_out_held (out) == 1, "the second pass's reply held");
    int64_t next = sched_out_next_release_ms (out, now + 30);
    CHECK (next == now + 20 + READ_LEASE_MS, "it waits until gw_x's term ends, got %lld",
           (long long) (next - now));
    sched_out_release (out, next - 1);
    CHECK (sched_out_held (out) == 1, "still held just before");
    sched_out_release (out, next);
    CHECK (sched_out_held (out) == 0, "released when gw_x's term ends");
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "the second ACK is sent");
    bus_msg_free (&m);
    CHECK (read_lease_holders (lease, next) == 0, "gw_x is forgotten");

    bus_msg_free (&req);
    sched_out_set_lease (out, NULL);
    read_lease_destroy (&lease);
}

/* One ADMIN round trip: the answer's command, and its JSON (caller frees) or
   the ERROR's status. */
static int
s_admin (const char *secret, const char *verb, const char *who, const char *text, int64_t amount,
         json_t **json, int *status)
{
    proto_admin_t a;
    memset (&a, 0, sizeof a);
    snprintf (a.rid, sizeof a.rid, "admin-1");
    snprintf (a.secret, sizeof a.secret, "%s", secret);
    snprintf (a.verb, sizeof a.verb, "%s", verb);
    snprintf (a.who, sizeof a.who, "%s", who);
    a.text = (char *) text;
    a.amount = amount;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_admin_encode (&a, &sb) == 0, "encode ADMIN");
    s_send (s_gateway, PROTO_ADMIN, &sb);
    s_pass ();
    bus_msg_t m;
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "ADMIN %s is answered", verb);
    char err [PROTO_ERR_MAX];
    int cmd = m.cmd;
    *json = NULL;
    *status = 0;
    if (cmd == PROTO_JSON) {
        proto_json_t j;
        REQUIRE (proto_json_decode ((const char *) zframe_data (m.body), zframe_size (m.body), &j, err) == 0,
                 "JSON decodes: %s", err);
        *status = j.status;
        *json = json_loads (j.json, 0, NULL);
        proto_json_free (&j);
    }
    else
    if (cmd == PROTO_ERROR) {
        proto_errmsg_t e;
        REQUIRE (proto_errmsg_decode ((const char *) zframe_data (m.body), zframe_size (m.body), &e, err) == 0,
                 "ERROR decodes: %s", err);
        *status = e.status;
        proto_errmsg_free (&e);
    }
    bus_msg_free (&m);
    return cmd;
}

static void
test_admin_secret (void)
{
    static const char good [] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const char bad [] = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    json_t *j = NULL;
    int status = 0;
    /* no secret set: every ADMIN is refused, the right-looking one too */
    CHECK (s_admin (good, "key_create", "", "nobody", 5, &j, &status) == PROTO_ERROR && status == 403,
           "without a secret ADMIN is 403, got %d", status);
    snprintf (s_sched.admin_secret, sizeof s_sched.admin_secret, "%s", good);
    CHECK (s_admin (bad, "key_create", "", "wrong", 5, &j, &status) == PROTO_ERROR && status == 403,
           "a wrong secret is 403, got %d", status);
    CHECK (s_admin ("", "key_create", "", "missing", 5, &j, &status) == PROTO_ERROR && status == 403,
           "a missing secret is 403, got %d", status);
    char err [256] = "";
    int64_t accounts = job_store_account_count (s_sched.store);
    CHECK (accounts == 1, "refused ADMINs made no account, got %lld", (long long) accounts);

    REQUIRE (s_admin (good, "key_create", "", "metered", 5, &j, &status) == PROTO_JSON && status == 200 && j,
             "key_create answers JSON 200, got %d", status);
    const char *account = json_string_value (json_object_get (j, "account_id"));
    REQUIRE (account && json_integer_value (json_object_get (j, "credits")) == 5, "the new account");
    char id [PROTO_ID_MAX];
    snprintf (id, sizeof id, "%s", account);
    json_decref (j);
    CHECK (s_admin (good, "credits_add", id, "invoice 1", 2, &j, &status) == PROTO_JSON
           && json_integer_value (json_object_get (j, "balance")) == 7,
           "credits_add answers the new balance 7");
    json_decref (j);
    job_store_account_t a;
    memset (&a, 0, sizeof a);
    REQUIRE (job_store_account_get (s_sched.store, id, &a, err) == 0, "account_get: %s", err);
    CHECK (a.balance == 7, "the store has the top-up, got %lld", (long long) a.balance);
    CHECK (s_admin (good, "credits_add", "acct_00000000000000000000000000", NULL, 2, &j, &status) == PROTO_ERROR
           && status == 404, "an unknown account is 404, got %d", status);
    CHECK (s_admin (good, "credits_add", id, NULL, 0, &j, &status) == PROTO_ERROR && status == 400,
           "0 credits is 400, got %d", status);
    CHECK (s_admin (good, "drop_tables", "", NULL, 0, &j, &status) == PROTO_ERROR && status == 400,
           "an unknown verb is 400, got %d", status);
}

/* GET_ACCOUNT into *body (caller frees) and *id; the reply's command. */
static int
s_account (const char *auth, bool key_only, char **body, char id [PROTO_ID_MAX])
{
    proto_get_t get;
    memset (&get, 0, sizeof get);
    snprintf (get.rid, sizeof get.rid, "account-1");
    snprintf (get.auth, sizeof get.auth, "%s", auth);
    get.key_only = key_only;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_get_encode (&get, &sb) == 0, "encode GET_ACCOUNT");
    s_send (s_gateway, PROTO_GET_ACCOUNT, &sb);
    s_pass ();
    bus_msg_t m;
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "an answer to GET_ACCOUNT");
    int cmd = m.cmd;
    *body = NULL;
    id [0] = 0;
    if (cmd == PROTO_ACCOUNT) {
        proto_body_t b;
        char err [PROTO_ERR_MAX];
        REQUIRE (proto_body_decode ((const char *) zframe_data (m.body), zframe_size (m.body),
                                    &b, err) == 0, "ACCOUNT decodes: %s", err);
        snprintf (id, PROTO_ID_MAX, "%s", b.id);
        *body = strdup (b.body ? b.body : "");
        proto_body_free (&b);
    }
    bus_msg_free (&m);
    return cmd;
}

/* The gateway's key cache asks GET_ACCOUNT with key_only: the key's account
   and nothing that walks its renders; GET /v1/account still gets it all. */
static void
test_account_key_only (void)
{
    char *body = NULL, id [PROTO_ID_MAX], full_id [PROTO_ID_MAX];
    REQUIRE (s_account (s_auth, false, &body, full_id) == PROTO_ACCOUNT && body,
             "GET_ACCOUNT answers ACCOUNT");
    json_t *j = json_loads (body, 0, NULL);
    CHECK (j && json_object_get (j, "reserved") && json_object_get (j, "ledger")
           && strcmp (json_string_value (json_object_get (j, "id")), full_id) == 0,
           "the whole account has reserved and ledger: %s", body);
    json_decref (j);
    free (body);
    REQUIRE (s_account (s_auth, true, &body, id) == PROTO_ACCOUNT && body, "key_only answers ACCOUNT");
    CHECK (strcmp (id, full_id) == 0, "key_only names the key's account %s, got %s", full_id, id);
    j = json_loads (body, 0, NULL);
    CHECK (j && !json_object_get (j, "reserved") && !json_object_get (j, "ledger")
           && !json_object_get (j, "balance")
           && strcmp (json_string_value (json_object_get (j, "id")), id) == 0,
           "key_only is the id alone: %s", body);
    json_decref (j);
    free (body);
    char unknown [65];
    memset (unknown, 'a', 64);
    unknown [64] = 0;
    CHECK (s_account (unknown, true, &body, id) == PROTO_ERROR && !body,
           "an unknown key is an ERROR with key_only too");
}

/* The next state.* message on the events socket within wait_ms: its topic,
   seq and body (caller destroys); false when none came. Other topics are
   skipped. */
static bool
s_state_msg (int wait_ms, char topic [PROTO_SHORT_MAX], int64_t *seq, zframe_t **body)
{
    int64_t end = util_mono_ms () + wait_ms;
    do {
        zmq_pollitem_t item = { zsock_resolve (s_sub), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, wait_ms > 0 ? 50 : 0) != 1)
            continue;
        char err [PROTO_ERR_MAX];
        if (bus_recv_event (s_sub, topic, seq, body, err) != 0)
            continue;
        if (strncmp (topic, PROTO_TOPIC_STATE, strlen (PROTO_TOPIC_STATE)) == 0)
            return true;
        zframe_destroy (body);
    } while (util_mono_ms () < end);
    return false;
}

/* PING -> the PONG's state epoch and seq. */
static void
s_ping_state (int64_t *epoch, int64_t *seq)
{
    proto_simple_t ping;
    memset (&ping, 0, sizeof ping);
    snprintf (ping.rid, sizeof ping.rid, "ping-s");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_simple_encode (&ping, &sb) == 0, "encode PING");
    s_send (s_gateway, PROTO_PING, &sb);
    s_pass ();
    bus_msg_t m;
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0 && m.cmd == PROTO_PONG, "a PONG");
    proto_simple_t pong;
    char err [PROTO_ERR_MAX];
    REQUIRE (proto_simple_decode ((const char *) zframe_data (m.body), zframe_size (m.body), &pong, err) == 0,
             "PONG decodes: %s", err);
    *epoch = pong.state_epoch;
    *seq = pong.state_seq;
    bus_msg_free (&m);
}

static void
test_state_stream (void)
{
    char topic [PROTO_SHORT_MAX];
    int64_t seq = 0, last = 0;
    zframe_t *body = NULL;
    while (s_state_msg (200, topic, &seq, &body)) {      /* what the earlier cases published */
        last = seq;
        zframe_destroy (&body);
    }
    int64_t epoch = 0, pong_seq = 0;
    s_ping_state (&epoch, &pong_seq);
    CHECK (epoch == sched_state_epoch (s_sched.state) && epoch > 0, "PONG carries the epoch");
    CHECK (pong_seq == last, "PONG carries the last state seq %lld, got %lld",
           (long long) last, (long long) pong_seq);

    s_create_send ("create-s");
    s_pass ();
    proto_render_t rend;
    REQUIRE (s_render_reply ("create-s", &rend) == PROTO_RENDER, "CREATE_RENDER answers RENDER");
    CHECK (rend.state_epoch == epoch && rend.state_seq == last && rend.signed_ms > 0,
           "RENDER says where the stream stood: epoch %lld seq %lld signed %lld",
           (long long) rend.state_epoch, (long long) rend.state_seq, (long long) rend.signed_ms);
    char id [PROTO_ID_MAX];
    snprintf (id, sizeof id, "%s", rend.id);
    proto_render_free (&rend);
    while (s_state_msg (200, topic, &seq, &body)) {      /* a lease of it, if a renderer was free */
        CHECK (seq == last + 1, "state seqs are contiguous: %lld after %lld", (long long) seq, (long long) last);
        last = seq;
        zframe_destroy (&body);
    }

    proto_cancel_t cr;
    memset (&cr, 0, sizeof cr);
    snprintf (cr.rid, sizeof cr.rid, "cancel-s");
    snprintf (cr.auth, sizeof cr.auth, "%s", s_auth);
    snprintf (cr.id, sizeof cr.id, "%s", id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_cancel_encode (&cr, &sb) == 0, "encode CANCEL_RENDER");
    s_send (s_gateway, PROTO_CANCEL_RENDER, &sb);
    s_pass ();
    REQUIRE (s_render_reply ("cancel-s", &rend) == PROTO_RENDER, "CANCEL_RENDER answers RENDER");
    CHECK (strcmp (rend.status, "canceled") == 0, "canceled, got %s", rend.status);
    proto_render_free (&rend);
    /* the reply was readable: the state must be there already (no wait) */
    bool found = false;
    while (!found && s_state_msg (0, topic, &seq, &body)) {
        CHECK (seq == last + 1, "state seqs are contiguous: %lld after %lld", (long long) seq, (long long) last);
        last = seq;
        proto_render_t st;
        memset (&st, 0, sizeof st);
        char err [PROTO_ERR_MAX];
        if (strcmp (topic, PROTO_TOPIC_STATE_RENDER) == 0
        &&  proto_render_decode ((const char *) zframe_data (body), zframe_size (body), &st, err) == 0
        &&  strcmp (st.id, id) == 0) {
            found = true;
            CHECK (strcmp (st.status, "canceled") == 0 && st.state_epoch == epoch && st.signed_ms > 0,
                   "the state is the canceled render of this epoch, got %s %lld", st.status,
                   (long long) st.state_epoch);
        }
        proto_render_free (&st);
        zframe_destroy (&body);
    }
    CHECK (found, "the cancel's state.render was published in its pass");
    s_ping_state (&epoch, &pong_seq);
    CHECK (pong_seq == last, "PONG after the cancel names its seq %lld, got %lld",
           (long long) last, (long long) pong_seq);
}

/* A keyed CREATE_RENDER of one browser task (no renderer here announced
   capture, so it stays queued through the pass's dispatch); the RENDER's
   raw body into raw (caller destroys) and decoded into r. */
static void
s_create_keyed (const char *rid, const char *key, zframe_t **raw, proto_render_t *r)
{
    proto_task_spec_t task;
    memset (&task, 0, sizeof task);
    snprintf (task.locale, sizeof task.locale, "fr-FR");
    snprintf (task.preset, sizeof task.preset, "play.phone");
    snprintf (task.format, sizeof task.format, "png");
    task.width = 1080;
    task.height = 1920;
    task.spec = "SPEC-BYTES";
    task.spec_len = 10;
    task.browser = true;
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    snprintf (req.rid, sizeof req.rid, "%s", rid);
    snprintf (req.auth, sizeof req.auth, "%s", s_auth);
    snprintf (req.idem_key, sizeof req.idem_key, "%s", key);
    memset (req.idem_fp, 'f', 64);
    req.webhook_url = "https://hooks.example.com/made";
    req.metadata_json = "{\"build\":\"7\"}";
    req.ntasks = 1;
    req.tasks = &task;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_create_render_encode (&req, &sb) == 0, "encode CREATE_RENDER");
    s_send (s_gateway, PROTO_CREATE_RENDER, &sb);
    s_pass ();
    bus_msg_t m;
    memset (r, 0, sizeof *r);
    REQUIRE (s_recv (s_gateway, S_WAIT_MS, &m) == 0, "an answer to %s", rid);
    *raw = m.body;
    m.body = NULL;
    int cmd = m.cmd;
    bus_msg_free (&m);
    char err [PROTO_ERR_MAX];
    if (cmd == PROTO_RENDER)
        REQUIRE (proto_render_decode ((const char *) zframe_data (*raw), zframe_size (*raw), r, err) == 0,
                 "RENDER decodes: %s", err);
    else
        r->id [0] = '\0';
    snprintf (r->status, sizeof r->status, "%s", cmd == PROTO_RENDER ? r->status : proto_cmd_name (cmd));
}

static void
test_create_answer_is_the_read (void)
{
    /* the create's RENDER is made from what the pass wrote (job_store.h):
       the same bytes GET_RENDER's read of the render gives in that pass */
    zframe_t *raw = NULL;
    proto_render_t made;
    s_create_keyed ("made-1", "key-made-1", &raw, &made);
    REQUIRE (made.id [0], "a keyed create answers RENDER, got %s", made.status);
    proto_render_t back;
    memset (&back, 0, sizeof back);
    char err [256] = "";
    REQUIRE (job_store_render_get (s_sched.store, made.id, NULL, made.signed_ms, &back, err) == 0,
             "read the render back: %s", err);
    CHECK (strcmp (back.images [0].status, "queued") == 0, "the browser task is still queued, got %s",
           back.images [0].status);
    snprintf (back.rid, sizeof back.rid, "%s", made.rid);
    back.state_epoch = made.state_epoch;
    back.state_seq = made.state_seq;
    back.signed_ms = made.signed_ms;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_render_encode (&back, &sb) == 0, "encode the read back");
    CHECK (sb.size == zframe_size (raw) && memcmp (sb.data, zframe_data (raw), sb.size) == 0,
           "the create's RENDER (%zu bytes) is the read back's encoding (%zu bytes)",
           zframe_size (raw), sb.size);
    CHECK (made.state_epoch != 0 && strcmp (made.rid, "made-1") == 0,
           "the made answer carries the stream's epoch and the rid");
    msgpack_sbuffer_destroy (&sb);
    proto_render_free (&back);
    zframe_destroy (&raw);

    /* the same key again: the stored 202 body, not a second render */
    proto_render_t again;
    s_create_keyed ("made-2", "key-made-1", &raw, &again);
    CHECK (strcmp (again.status, "REPLAY") == 0, "a replayed key answers REPLAY, got %s", again.status);
    proto_body_t rep;
    memset (&rep, 0, sizeof rep);
    if (strcmp (again.status, "REPLAY") == 0) {
        REQUIRE (proto_body_decode ((const char *) zframe_data (raw), zframe_size (raw), &rep, err) == 0,
                 "REPLAY decodes: %s", err);
        char *accepted = render_json_accepted (made.id, NULL);
        CHECK (rep.status == 202 && strcmp (rep.id, made.id) == 0 && accepted && rep.body
               && strcmp (rep.body, accepted) == 0,
               "the replay is the first create's 202 body, got %d %s", (int) rep.status, rep.id);
        free (accepted);
        proto_body_free (&rep);
    }
    proto_render_free (&again);
    proto_render_free (&made);
    zframe_destroy (&raw);
}

int
main (void)
{
    REQUIRE (mkdtemp (s_dir), "mkdtemp");
    atexit (s_cleanup);
    zsys_init ();
    zsys_handler_set (NULL);
    log_init ("test_scheduler_rooms");

    char err [256] = "";
    scheduler_t *self = &s_sched;
    REQUIRE (scheduler_init (self) == 0, "scheduler_init");
    self->cfg.data_dir = s_dir;
    snprintf (self->cfg.public_url, sizeof self->cfg.public_url, "http://files.test");
    self->cfg.max_attempts = 3;
    self->cfg.lease_ms = 120000;
    self->cfg.idem_ttl_s = EASEL_IDEMPOTENCY_TTL_S;
    self->cfg.retention_s = EASEL_RETENTION_S;
    self->cfg.quota_bytes = EASEL_STORAGE_QUOTA_BYTES;
    self->store = store_test_open (s_dir, err);
    REQUIRE (self->store, "open the job store: %s", err);
    self->blobs = blob_store_new (s_dir, err);
    REQUIRE (self->blobs, "open the blob store: %s", err);
    job_store_new_key_t acme;
    REQUIRE (job_store_account_create (self->store, "acme", JOB_STORE_UNLIMITED, &acme, err) == 0,
             "create an account: %s", err);
    util_sha256_hex (acme.api_key, strlen (acme.api_key), s_auth);

    char api [64], work [64], events [64];
    snprintf (api, sizeof api, "inproc://rooms-api-%d", (int) getpid ());
    snprintf (work, sizeof work, "inproc://rooms-work-%d", (int) getpid ());
    snprintf (events, sizeof events, "inproc://rooms-events-%d", (int) getpid ());
    self->api = s_bound (ZMQ_ROUTER, api);
    self->work = s_bound (ZMQ_ROUTER, work);
    self->pub = s_bound (ZMQ_PUB, events);
    s_gateway = s_dealer (api, NULL);
    s_r1 = s_dealer (work, "r1");
    s_r2 = s_dealer (work, "r2");
    s_sub = zsock_new_sub (events, "");
    REQUIRE (s_sub, "subscribe to %s", events);

    check_case ("ready_create_dispatch_result", test_ready_create_dispatch_result);
    check_case ("liveness_and_requeue", test_liveness_and_requeue);
    check_case ("out_rollback", test_out_rollback);
    check_case ("out_hold", test_out_hold);
    check_case ("admin_secret", test_admin_secret);
    check_case ("account_key_only", test_account_key_only);
    check_case ("state_stream", test_state_stream);
    check_case ("create_answer_is_the_read", test_create_answer_is_the_read);

    zsock_destroy (&s_sub);
    zsock_destroy (&s_r1);
    zsock_destroy (&s_r2);
    zsock_destroy (&s_gateway);
    zsock_destroy (&self->api);
    zsock_destroy (&self->work);
    zsock_destroy (&self->pub);
    scheduler_destroy (self);
    blob_store_destroy (&self->blobs);
    job_store_destroy (&self->store);
    return check_done ("test_scheduler_rooms");
}
