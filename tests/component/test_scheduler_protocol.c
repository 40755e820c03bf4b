/*  test_scheduler_protocol.c: runs the real easel-scheduler (path in argv[1])
    on random loopback ports and a temp data dir, and talks to it as a gateway
    (api DEALER), as fake renderers (work DEALERs) and as a subscriber (SUB):
    create -> TASK -> RESULT -> RENDER/FILE; a silent renderer's task goes to
    another with attempt 2 and the stale result is ignored; a non-retryable
    FAIL fails the render with an event and delivery; kill -9 and restart
    re-dispatches the leased task; malformed frames get ERROR 400.
    Single thread. Every process started is killed at exit, even on failure. */
#include "../unit/check.h"
#include "bus.h"
#include "job_store.h"
#include "util.h"

#include <czmq.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_WAIT_MS 5000

static pid_t s_pid = -1;            /* the running scheduler */
static char s_dir [] = "/tmp/easel-test-sched-XXXXXX";
static char s_api [64], s_work [64], s_events [64], s_data [128], s_log [128];
static const char *s_binary;
static zsock_t *s_live;             /* a fake renderer kept alive while we poll */

static void
s_kill (void)
{
    if (s_pid > 0) {
        kill (s_pid, SIGKILL);
        waitpid (s_pid, NULL, 0);
        s_pid = -1;
    }
}

static void
s_show_log (void)
{
    char cmd [256];
    snprintf (cmd, sizeof cmd, "tail -n 30 '%s' >&2", s_log);
    if (system (cmd) != 0)
        fprintf (stderr, "(no scheduler log)\n");
}

static void
s_cleanup (void)
{
    s_kill ();
    char cmd [256];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "warning: could not remove %s\n", s_dir);
}

#undef REQUIRE                     /* here it also prints the scheduler's log */
#define REQUIRE(cond, ...) do { if (!(cond)) { CHECK (cond, __VA_ARGS__); s_show_log (); exit (1); } } while (0)

static void
s_start (void)
{
    pid_t pid = fork ();
    REQUIRE (pid >= 0, "fork");
    if (pid == 0) {
        FILE *log = freopen (s_log, "a", stderr);
        (void) log;
        execl (s_binary, s_binary, "--api", s_api, "--work", s_work, "--events", s_events,
               "--data", s_data, "--max-attempts", "3", "--public-url", "http://files.test",
               (char *) NULL);
        _exit (127);
    }
    s_pid = pid;
}

/* Waits for one message on sock. 0 / -1 on timeout or a framing error. */
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

static zsock_t *
s_dealer (const char *endpoint)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    REQUIRE (sock, "zsock_new");
    bus_socket_setup (sock);
    REQUIRE (zsock_connect (sock, "%s", endpoint) == 0, "connect %s", endpoint);
    return sock;
}

/* bus_send_sbuf, retried while a fresh DEALER is still connecting (IMMEDIATE
   makes a send with no connection fail with EAGAIN). 0 / -1. */
static int
s_send (zsock_t *sock, int cmd, const msgpack_sbuffer *body)
{
    int64_t end = util_mono_ms () + S_WAIT_MS;
    while (bus_send_sbuf (sock, NULL, cmd, body) != 0) {
        if (util_mono_ms () > end)
            return -1;
        zclock_sleep (20);
    }
    return 0;
}

/* Sends a request on the api socket and returns the reply (cmd, body). */
static int
s_call (zsock_t *api, int cmd, msgpack_sbuffer *body, bus_msg_t *reply)
{
    REQUIRE (s_send (api, cmd, body) == 0, "send %s", proto_cmd_name (cmd));
    msgpack_sbuffer_destroy (body);
    while (true) {
        int rc = s_recv (api, S_WAIT_MS, reply);
        REQUIRE (rc == 0, "no reply to %s within %d ms", proto_cmd_name (cmd), S_WAIT_MS);
        if (reply->cmd != PROTO_PONG)
            return reply->cmd;
        bus_msg_free (reply);      /* a late answer to a re-sent PING */
    }
}

/* The next api reply that is not a stray PONG. 0 / -1. */
static int
s_recv_api (zsock_t *api, bus_msg_t *m)
{
    while (s_recv (api, S_WAIT_MS, m) == 0) {
        if (m->cmd != PROTO_PONG)
            return 0;
        bus_msg_free (m);
    }
    return -1;
}

static const char *
s_body (bus_msg_t *m, size_t *len)
{
    *len = zframe_size (m->body);
    return (const char *) zframe_data (m->body);
}

/* Expects an ERROR with status and code. */
static void
s_expect_error (bus_msg_t *m, int status, const char *code, const char *what)
{
    CHECK (m->cmd == PROTO_ERROR, "%s: expected ERROR, got %s", what, proto_cmd_name (m->cmd));
    if (m->cmd == PROTO_ERROR) {
        proto_errmsg_t e;
        size_t len;
        const char *data = s_body (m, &len);
        char err [PROTO_ERR_MAX];
        CHECK (proto_errmsg_decode (data, len, &e, err) == 0, "%s: error decodes: %s", what, err);
        CHECK (e.status == status && strcmp (e.error.code, code) == 0,
               "%s: expected %d %s, got %d %s", what, status, code, e.status, e.error.code);
        proto_errmsg_free (&e);
    }
    bus_msg_free (m);
}

/* PINGs until a PONG with this ping's rid comes back (a PING sent while a
   DEALER has not yet seen its peer die is lost, so it is sent again every
   second). Returns the live renderer count, -1 on timeout. */
static int
s_ping (zsock_t *api, int timeout_ms)
{
    static int counter;
    proto_simple_t ping;
    memset (&ping, 0, sizeof ping);
    snprintf (ping.rid, sizeof ping.rid, "ping-%d", ++counter);
    int64_t end = util_mono_ms () + timeout_ms, resend = 0;
    while (util_mono_ms () < end) {
        if (util_mono_ms () >= resend) {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            proto_simple_encode (&ping, &sb);
            s_send (api, PROTO_PING, &sb);
            msgpack_sbuffer_destroy (&sb);
            resend = util_mono_ms () + 1000;
        }
        bus_msg_t m;
        if (s_recv (api, 100, &m) == 0) {
            int renderers = -1;
            proto_simple_t pong;
            char err [PROTO_ERR_MAX];
            size_t len;
            const char *data = s_body (&m, &len);
            if (m.cmd == PROTO_PONG && proto_simple_decode (data, len, &pong, err) == 0
            &&  strcmp (pong.rid, ping.rid) == 0)
                renderers = pong.renderers;
            bus_msg_free (&m);
            if (renderers >= 0)
                return renderers;
        }
    }
    return -1;
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
    proto_ready_encode (&ready, &sb);
    REQUIRE (s_send (renderer, PROTO_READY, &sb) == 0, "send READY");
    msgpack_sbuffer_destroy (&sb);
}

static void
s_heartbeat (zsock_t *renderer)
{
    proto_simple_t hb;
    memset (&hb, 0, sizeof hb);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_simple_encode (&hb, &sb);
    s_send (renderer, PROTO_HEARTBEAT, &sb);
    msgpack_sbuffer_destroy (&sb);
}

/* Waits for a TASK on renderer, heartbeating it every 500 ms. 0 / -1. */
static int
s_wait_task (zsock_t *renderer, int timeout_ms, proto_task_t *task)
{
    int64_t end = util_mono_ms () + timeout_ms, next_hb = 0;
    while (util_mono_ms () < end) {
        if (util_mono_ms () >= next_hb) {
            s_heartbeat (renderer);
            next_hb = util_mono_ms () + 500;
        }
        bus_msg_t m;
        if (s_recv (renderer, 100, &m) != 0)
            continue;
        int rc = -2;
        if (m.cmd == PROTO_TASK) {
            size_t len;
            const char *data = s_body (&m, &len);
            char err [PROTO_ERR_MAX];
            rc = proto_task_decode (data, len, task, err);
        }
        bus_msg_free (&m);
        if (rc != -2)
            return rc;
    }
    return -1;
}

static void
s_create (zsock_t *api, const char *auth, const char *webhook, char render_id [PROTO_ID_MAX],
          bus_msg_t *reply_out)
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
    snprintf (req.rid, sizeof req.rid, "create-1");
    snprintf (req.auth, sizeof req.auth, "%s", auth);
    req.webhook_url = (char *) webhook;
    req.metadata_json = "{}";
    req.ntasks = 1;
    req.tasks = &task;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_create_render_encode (&req, &sb) == 0, "encode create");
    bus_msg_t m;
    s_call (api, PROTO_CREATE_RENDER, &sb, &m);
    render_id [0] = 0;
    if (reply_out) {
        *reply_out = m;
        return;
    }
    REQUIRE (m.cmd == PROTO_RENDER, "CREATE_RENDER should answer RENDER, got %s", proto_cmd_name (m.cmd));
    proto_render_t r;
    size_t len;
    const char *data = s_body (&m, &len);
    char err [PROTO_ERR_MAX];
    REQUIRE (proto_render_decode (data, len, &r, err) == 0, "render decodes: %s", err);
    CHECK (strcmp (r.rid, "create-1") == 0, "the reply echoes rid, got '%s'", r.rid);
    CHECK (strcmp (r.status, "processing") == 0 && r.total == 1 && r.nimages == 1
           && strcmp (r.images [0].status, "queued") == 0,
           "a new render is processing with one queued image, got %s %d", r.status, r.nimages);
    CHECK (strcmp (r.webhook_status, webhook ? "pending" : "none") == 0, "webhook_status, got %s",
           r.webhook_status);
    snprintf (render_id, PROTO_ID_MAX, "%s", r.id);
    proto_render_free (&r);
    bus_msg_free (&m);
}

/* GET_RENDER into r (caller frees). Returns the reply command. */
static int
s_get_render (zsock_t *api, const char *auth, const char *id, proto_render_t *r, bus_msg_t *err_out)
{
    proto_get_t get;
    memset (&get, 0, sizeof get);
    snprintf (get.rid, sizeof get.rid, "get-1");
    snprintf (get.auth, sizeof get.auth, "%s", auth);
    snprintf (get.id, sizeof get.id, "%s", id);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_get_encode (&get, &sb);
    bus_msg_t m;
    int cmd = s_call (api, PROTO_GET_RENDER, &sb, &m);
    memset (r, 0, sizeof *r);
    if (cmd == PROTO_RENDER) {
        size_t len;
        const char *data = s_body (&m, &len);
        char err [PROTO_ERR_MAX];
        REQUIRE (proto_render_decode (data, len, r, err) == 0, "render decodes: %s", err);
        bus_msg_free (&m);
    }
    else
    if (err_out)
        *err_out = m;
    else
        bus_msg_free (&m);
    return cmd;
}

/* Polls GET_RENDER until the image has `status` (or timeout); fills r. */
static bool
s_wait_image (zsock_t *api, const char *auth, const char *id, const char *status, proto_render_t *r)
{
    int64_t end = util_mono_ms () + S_WAIT_MS;
    while (true) {
        if (s_get_render (api, auth, id, r, NULL) == PROTO_RENDER && r->nimages == 1
        &&  strcmp (r->images [0].status, status) == 0)
            return true;
        if (util_mono_ms () > end)
            return false;
        proto_render_free (r);
        if (s_live)
            s_heartbeat (s_live);
        zclock_sleep (50);
    }
}

static void
s_send_result (zsock_t *renderer, const char *task_id, int attempt, const char *bytes)
{
    proto_result_t res;
    memset (&res, 0, sizeof res);
    snprintf (res.task_id, sizeof res.task_id, "%s", task_id);
    res.attempt = attempt;
    res.width = 1080;
    res.height = 1920;
    snprintf (res.format, sizeof res.format, "png");
    res.data = (uint8_t *) bytes;
    res.len = strlen (bytes);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_result_encode (&res, &sb) == 0, "encode result");
    REQUIRE (s_send (renderer, PROTO_RESULT, &sb) == 0, "send RESULT");
    msgpack_sbuffer_destroy (&sb);
}

/* GET_FILE; returns the reply (caller frees). */
static void
s_get_file (zsock_t *api, const char *auth, const char *id, int64_t exp, const char *sig, bus_msg_t *m)
{
    proto_get_t get;
    memset (&get, 0, sizeof get);
    snprintf (get.rid, sizeof get.rid, "file-1");
    snprintf (get.auth, sizeof get.auth, "%s", auth);
    snprintf (get.id, sizeof get.id, "%s", id);
    get.exp = exp;
    snprintf (get.sig, sizeof get.sig, "%s", sig);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_get_encode (&get, &sb);
    s_call (api, PROTO_GET_FILE, &sb, m);
}

/* Waits for a published event with `topic` on sub; fills rid. */
static bool
s_wait_event (zsock_t *sub, const char *topic, char rid [PROTO_ID_MAX], int64_t *seq)
{
    int64_t end = util_mono_ms () + S_WAIT_MS;
    while (util_mono_ms () < end) {
        zmq_pollitem_t item = { zsock_resolve (sub), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 100) != 1)
            continue;
        char got [PROTO_SHORT_MAX], err [PROTO_ERR_MAX];
        zframe_t *body = NULL;
        if (bus_recv_event (sub, got, seq, &body, err) != 0)
            continue;
        proto_simple_t s;
        bool match = strcmp (got, topic) == 0
                  && proto_simple_decode ((const char *) zframe_data (body), zframe_size (body), &s, err) == 0;
        zframe_destroy (&body);
        if (match) {
            snprintf (rid, PROTO_ID_MAX, "%s", s.rid);
            return true;
        }
    }
    return false;
}

int
main (int argc, char **argv)
{
    REQUIRE (argc == 2, "usage: test_scheduler_protocol <path to easel-scheduler>");
    s_binary = argv [1];
    REQUIRE (mkdtemp (s_dir), "mkdtemp");
    atexit (s_cleanup);
    signal (SIGPIPE, SIG_IGN);
    zsys_init ();
    zsys_handler_set (NULL);
    snprintf (s_data, sizeof s_data, "%s/data", s_dir);
    snprintf (s_log, sizeof s_log, "%s/scheduler.log", s_dir);

    /* two accounts, made with the store the CLI uses (WAL: beside the scheduler) */
    char err [256] = "";
    job_store_t *store = job_store_open (s_data, err);
    REQUIRE (store, "open store: %s", err);
    job_store_new_key_t acme, other;
    REQUIRE (job_store_account_create (store, "acme", JOB_STORE_UNLIMITED, &acme, err) == 0, "%s", err);
    REQUIRE (job_store_account_create (store, "other", JOB_STORE_UNLIMITED, &other, err) == 0, "%s", err);
    job_store_destroy (&store);
    char auth [65], other_auth [65];
    util_sha256_hex (acme.api_key, strlen (acme.api_key), auth);
    util_sha256_hex (other.api_key, strlen (other.api_key), other_auth);

    /* random high ports; retry when the scheduler cannot bind them */
    zsock_t *api = NULL;
    srand ((unsigned) (getpid () ^ util_now_ms ()));
    for (int tries = 0; tries < 8 && !api; tries++) {
        int port = 20000 + rand () % 40000;
        snprintf (s_api, sizeof s_api, "tcp://127.0.0.1:%d", port);
        snprintf (s_work, sizeof s_work, "tcp://127.0.0.1:%d", port + 1);
        snprintf (s_events, sizeof s_events, "tcp://127.0.0.1:%d", port + 2);
        s_start ();
        api = s_dealer (s_api);
        if (s_ping (api, 2000) == 0)
            break;
        zsock_destroy (&api);
        s_kill ();
    }
    REQUIRE (api, "the scheduler should start and answer PING with 0 renderers");
    zsock_t *sub = zsock_new_sub (s_events, "");
    REQUIRE (sub, "subscribe to %s", s_events);
    int64_t seq = 0;
    char rid [PROTO_ID_MAX];
    REQUIRE (s_wait_event (sub, PROTO_TOPIC_HEARTBEAT, rid, &seq), "a heartbeat is published every second");

    /* ---- malformed frames: ERROR 400, and the scheduler keeps answering ---- */
    bus_msg_t m;
    zstr_sendx (api, "", "NOT-EASEL", "x", "junk", NULL);
    REQUIRE (s_recv_api (api, &m) == 0, "a bad tag should be answered");
    s_expect_error (&m, 400, "bad_message", "bad protocol tag");
    REQUIRE (bus_send (api, NULL, PROTO_CREATE_RENDER, "\xc1\xc1", 2) == 0, "send junk body");
    REQUIRE (s_recv_api (api, &m) == 0, "a junk body should be answered");
    s_expect_error (&m, 400, "bad_message", "undecodable CREATE_RENDER");
    REQUIRE (bus_send (api, NULL, PROTO_TASK, "\x80", 1) == 0, "send a work command on the api socket");
    REQUIRE (s_recv_api (api, &m) == 0, "a wrong command should be answered");
    s_expect_error (&m, 400, "bad_message", "TASK on the api socket");
    CHECK (s_ping (api, S_WAIT_MS) == 0, "after malformed input the scheduler still answers PING");

    /* ---- auth ---- */
    char bad_auth [65];
    util_sha256_hex ("sk_wrong", 8, bad_auth);
    s_create (api, bad_auth, NULL, rid, &m);
    s_expect_error (&m, 401, "invalid_api_key", "create with an unknown key");

    /* ---- uploads: FILE_PUT once per account and bytes, FILE_FIND by owner only,
       and a create naming a blob it does not carry must name a live file of
       the account (the gateway's lookup can be stale) ---- */
    {
        static const uint8_t bytes [] = "UPLOADED-BYTES";
        proto_file_put_t put = { .format = "png", .width = 2, .height = 3,
                                 .data = (uint8_t *) bytes, .len = sizeof bytes - 1 };
        snprintf (put.rid, sizeof put.rid, "put-1");
        snprintf (put.auth, sizeof put.auth, "%s", auth);
        msgpack_sbuffer sb;
        char ids [2][PROTO_ID_MAX] = { "", "" }, err [PROTO_ERR_MAX];
        for (int n = 0; n < 2; n++) {
            msgpack_sbuffer_init (&sb);      /* s_call destroyed the last one */
            REQUIRE (proto_file_put_encode (&put, &sb) == 0, "encode FILE_PUT");
            s_call (api, PROTO_FILE_PUT, &sb, &m);
            proto_json_t js;
            size_t len;
            const char *data = s_body (&m, &len);
            REQUIRE (m.cmd == PROTO_JSON && proto_json_decode (data, len, &js, err) == 0,
                     "FILE_PUT answers JSON, got %s", proto_cmd_name (m.cmd));
            json_t *obj = json_loads (js.json, 0, NULL);
            CHECK (js.status == (n ? 200 : 201), "FILE_PUT %d answered %d", n, js.status);
            snprintf (ids [n], PROTO_ID_MAX, "%s", json_string_value (json_object_get (obj, "id")));
            CHECK (json_integer_value (json_object_get (obj, "bytes")) == (json_int_t) put.len
                   && json_integer_value (json_object_get (obj, "height")) == 3, "file object: %s", js.json);
            json_decref (obj);
            proto_json_free (&js);
            bus_msg_free (&m);
        }
        CHECK (strncmp (ids [0], "file_", 5) == 0 && strcmp (ids [0], ids [1]) == 0,
               "the same bytes are the same file: %s %s", ids [0], ids [1]);
        /* UPLOAD_BEGIN on the file store: known bytes answer the file, new
           ones go in the FILE_PUT (204); a FILE_PUT naming an object is refused */
        proto_upload_begin_t begin = { .rid = "begin-1", .bytes = (int64_t) put.len };
        snprintf (begin.auth, sizeof begin.auth, "%s", auth);
        util_sha256_hex (bytes, sizeof bytes - 1, begin.sha256);
        for (int n = 0; n < 3; n++) {
            if (n == 1)
                memset (begin.sha256, 'f', 64);          /* bytes the account never sent */
            begin.for_render = n == 2;
            msgpack_sbuffer_init (&sb);
            REQUIRE (proto_upload_begin_encode (&begin, &sb) == 0, "encode UPLOAD_BEGIN");
            s_call (api, PROTO_UPLOAD_BEGIN, &sb, &m);
            proto_json_t js;
            size_t len;
            const char *data = s_body (&m, &len);
            REQUIRE (m.cmd == PROTO_JSON && proto_json_decode (data, len, &js, err) == 0,
                     "UPLOAD_BEGIN answers JSON, got %s", proto_cmd_name (m.cmd));
            CHECK (n == 0 ? js.status == 200 && strstr (js.json, ids [0]) : js.status == 204,
                   "UPLOAD_BEGIN %d: known bytes are the file, new ones go in the message: %d %s",
                   n, js.status, js.json);
            proto_json_free (&js);
            bus_msg_free (&m);
        }
        begin.bytes = (int64_t) EASEL_MAX_SOURCE_BYTES + 1;
        begin.for_render = false;
        msgpack_sbuffer_init (&sb);
        REQUIRE (proto_upload_begin_encode (&begin, &sb) == 0, "encode UPLOAD_BEGIN");
        s_call (api, PROTO_UPLOAD_BEGIN, &sb, &m);
        s_expect_error (&m, 400, "bad_message", "an UPLOAD_BEGIN over the source cap");
        snprintf (begin.auth, sizeof begin.auth, "%s", bad_auth);
        begin.bytes = 10;
        msgpack_sbuffer_init (&sb);
        REQUIRE (proto_upload_begin_encode (&begin, &sb) == 0, "encode UPLOAD_BEGIN");
        s_call (api, PROTO_UPLOAD_BEGIN, &sb, &m);
        s_expect_error (&m, 401, "invalid_api_key", "an UPLOAD_BEGIN with an unknown key");
        proto_file_put_t named = put;
        named.data = NULL;
        named.len = 0;
        snprintf (named.name, sizeof named.name, "upl_x");
        memset (named.sha256, 'f', 64);
        memset (named.md5, 'a', 32);
        named.bytes = 10;
        msgpack_sbuffer_init (&sb);
        REQUIRE (proto_file_put_encode (&named, &sb) == 0, "encode a named FILE_PUT");
        s_call (api, PROTO_FILE_PUT, &sb, &m);
        s_expect_error (&m, 400, "bad_message", "a FILE_PUT naming an object on the file store");
        proto_file_find_t find = { .rid = "find-1" };
        snprintf (find.auth, sizeof find.auth, "%s", other_auth);
        snprintf (find.id, sizeof find.id, "%s", ids [0]);
        msgpack_sbuffer_init (&sb);
        REQUIRE (proto_file_find_encode (&find, &sb) == 0, "encode FILE_FIND");
        s_call (api, PROTO_FILE_FIND, &sb, &m);
        s_expect_error (&m, 404, "resource_missing", "another account's FILE_FIND");

        proto_task_spec_t task;
        memset (&task, 0, sizeof task);
        snprintf (task.format, sizeof task.format, "png");
        task.width = task.height = 100;
        task.spec = "SPEC-BYTES";
        task.spec_len = 10;
        util_sha256_hex (bytes, sizeof bytes - 1, task.blob);
        proto_create_render_t req = { .rid = "create-f", .metadata_json = "{}", .ntasks = 1, .tasks = &task };
        snprintf (req.auth, sizeof req.auth, "%s", other_auth);
        msgpack_sbuffer_init (&sb);
        REQUIRE (proto_create_render_encode (&req, &sb) == 0, "encode create");
        s_call (api, PROTO_CREATE_RENDER, &sb, &m);
        s_expect_error (&m, 422, "file_not_found", "a create naming another account's file");
        snprintf (req.auth, sizeof req.auth, "%s", auth);
        memset (task.blob, 'e', 64);
        msgpack_sbuffer_init (&sb);
        REQUIRE (proto_create_render_encode (&req, &sb) == 0, "encode create");
        s_call (api, PROTO_CREATE_RENDER, &sb, &m);
        s_expect_error (&m, 422, "file_not_found", "a create naming bytes never uploaded");
    }

    /* ---- create -> TASK -> RESULT -> RENDER and FILE ---- */
    zsock_t *ra = s_dealer (s_work);
    s_ready (ra, "fake-a", 2);
    char r1 [PROTO_ID_MAX];
    s_create (api, auth, NULL, r1, NULL);
    proto_task_t task;
    REQUIRE (s_wait_task (ra, S_WAIT_MS, &task) == 0, "renderer A should receive the TASK");
    CHECK (task.attempt == 1 && task.spec_len == 10 && memcmp (task.spec, "SPEC-BYTES", 10) == 0,
           "TASK attempt 1 with the stored spec, got attempt %d", task.attempt);
    char img1 [PROTO_ID_MAX];
    snprintf (img1, sizeof img1, "%s", task.task_id);
    proto_task_free (&task);
    CHECK (s_ping (api, S_WAIT_MS) == 1, "PONG counts one live renderer");
    s_send_result (ra, img1, 1, "PNG-BYTES-ONE");
    proto_render_t r;
    REQUIRE (s_wait_image (api, auth, r1, "succeeded", &r), "the render should succeed after RESULT");
    char sha [65];
    util_sha256_hex ("PNG-BYTES-ONE", 13, sha);
    CHECK (strcmp (r.status, "succeeded") == 0 && r.done == 1 && r.completed_at_ms > 0,
           "render succeeded 1/1, got %s %d", r.status, r.done);
    CHECK (strcmp (r.images [0].id, img1) == 0 && strcmp (r.images [0].sha256, sha) == 0
           && r.images [0].bytes == 13 && r.images [0].url_sig [0] && r.images [0].url_exp > 0,
           "the image has its sha256, size and a signed URL");
    int64_t exp = r.images [0].url_exp;
    char sig [65];
    snprintf (sig, sizeof sig, "%s", r.images [0].url_sig);
    proto_render_free (&r);
    REQUIRE (s_wait_event (sub, "render.succeeded", rid, &seq), "render.succeeded is published");
    CHECK (strcmp (rid, r1) == 0 && seq > 0, "the event names the render, got %s", rid);

    CHECK (s_get_render (api, other_auth, r1, &r, &m) == PROTO_ERROR, "another account must not see the render");
    s_expect_error (&m, 404, "resource_missing", "GET_RENDER by another account");

    s_get_file (api, auth, img1, 0, "", &m);
    CHECK (m.cmd == PROTO_FILE, "GET_FILE by the owner answers FILE, got %s", proto_cmd_name (m.cmd));
    if (m.cmd == PROTO_FILE) {
        proto_file_t f;
        size_t len;
        const char *data = s_body (&m, &len);
        CHECK (proto_file_decode (data, len, &f, err) == 0 && f.len == 13
               && memcmp (f.data, "PNG-BYTES-ONE", 13) == 0 && strcmp (f.sha256, sha) == 0
               && strcmp (f.content_type, "image/png") == 0 && strcmp (f.rid, "file-1") == 0,
               "FILE carries the stored bytes, sha256 and image/png");
        proto_file_free (&f);
    }
    bus_msg_free (&m);
    s_get_file (api, "", img1, exp, sig, &m);
    CHECK (m.cmd == PROTO_FILE, "GET_FILE with a valid signature and no key answers FILE, got %s",
           proto_cmd_name (m.cmd));
    bus_msg_free (&m);
    s_get_file (api, "", img1, exp + 1, sig, &m);
    s_expect_error (&m, 401, "invalid_signature", "GET_FILE with a tampered expiry");
    s_get_file (api, other_auth, img1, 0, "", &m);
    s_expect_error (&m, 404, "resource_missing", "GET_FILE by another account");
    s_get_file (api, auth, "img_01NOSUCHIMAGE000000000000", 0, "", &m);
    s_expect_error (&m, 404, "resource_missing", "GET_FILE of an unknown image");

    /* ---- a renderer that stops heartbeating: its task goes to another, attempt 2 ---- */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_simple_t bye;
    memset (&bye, 0, sizeof bye);
    proto_simple_encode (&bye, &sb);
    REQUIRE (s_send (ra, PROTO_DISCONNECT, &sb) == 0, "send DISCONNECT");
    msgpack_sbuffer_destroy (&sb);
    zsock_t *rc_ = s_dealer (s_work);
    s_ready (rc_, "fake-c", 1);
    int64_t end = util_mono_ms () + S_WAIT_MS;
    while (s_ping (api, S_WAIT_MS) != 1 && util_mono_ms () < end)
        zclock_sleep (50);
    CHECK (s_ping (api, S_WAIT_MS) == 1, "after A's DISCONNECT and C's READY one renderer is live");
    zsock_destroy (&ra);
    char r2 [PROTO_ID_MAX];
    s_create (api, auth, NULL, r2, NULL);
    REQUIRE (s_wait_task (rc_, S_WAIT_MS, &task) == 0, "renderer C should receive the TASK");
    char img2 [PROTO_ID_MAX];
    snprintf (img2, sizeof img2, "%s", task.task_id);
    CHECK (task.attempt == 1, "first attempt, got %d", task.attempt);
    proto_task_free (&task);
    zsock_t *rd = s_dealer (s_work);
    s_ready (rd, "fake-d", 1);
    s_live = rd;
    REQUIRE (s_wait_task (rd, 3 * S_WAIT_MS, &task) == 0,
             "after C is silent for 3 s its task should go to renderer D");
    CHECK (strcmp (task.task_id, img2) == 0 && task.attempt == 2,
           "D gets the same task with attempt 2, got %s attempt %d", task.task_id, task.attempt);
    proto_task_free (&task);
    s_send_result (rc_, img2, 1, "STALE-BYTES");
    zclock_sleep (300);
    s_heartbeat (rd);
    CHECK (s_get_render (api, auth, r2, &r, NULL) == PROTO_RENDER && r.nimages == 1
           && strcmp (r.images [0].status, "leased") == 0 && r.images [0].attempts == 2,
           "a RESULT for the stale attempt is ignored: still leased, attempt 2");
    proto_render_free (&r);
    /* a peer that joined the work socket (no READY, no lease) and C (no
       longer the holder) report the current attempt: both are ignored */
    zsock_t *intruder = s_dealer (s_work);
    s_send_result (intruder, img2, 2, "FORGED-BYTES");
    s_send_result (rc_, img2, 2, "FORGED-BYTES-C");
    proto_fail_t forged;
    memset (&forged, 0, sizeof forged);
    snprintf (forged.task_id, sizeof forged.task_id, "%s", img2);
    forged.attempt = 2;
    proto_error_set (&forged.error, "render_failed", "forged", NULL);
    msgpack_sbuffer fsb;
    msgpack_sbuffer_init (&fsb);
    proto_fail_encode (&forged, &fsb);
    REQUIRE (s_send (intruder, PROTO_FAIL, &fsb) == 0, "send a forged FAIL");
    msgpack_sbuffer_destroy (&fsb);
    proto_fail_free (&forged);
    zclock_sleep (300);
    s_heartbeat (rd);
    CHECK (s_get_render (api, auth, r2, &r, NULL) == PROTO_RENDER && r.nimages == 1
           && strcmp (r.images [0].status, "leased") == 0 && r.images [0].attempts == 2,
           "a RESULT or FAIL from a peer not holding the lease is ignored: still leased, attempt 2");
    proto_render_free (&r);
    zsock_destroy (&intruder);
    s_send_result (rd, img2, 2, "PNG-BYTES-TWO");
    CHECK (s_wait_image (api, auth, r2, "succeeded", &r), "the current attempt's RESULT is accepted");
    util_sha256_hex ("PNG-BYTES-TWO", 13, sha);
    CHECK (r.nimages == 1 && strcmp (r.images [0].sha256, sha) == 0 && r.images [0].attempts == 2,
           "the image holds attempt 2's bytes");
    proto_render_free (&r);
    zsock_destroy (&rc_);

    /* ---- non-retryable FAIL: render failed, event with payload, delivery ---- */
    char r3 [PROTO_ID_MAX];
    s_create (api, auth, "https://hooks.example.com/easel", r3, NULL);
    REQUIRE (s_wait_task (rd, S_WAIT_MS, &task) == 0, "renderer D should receive the third TASK");
    proto_fail_t fail;
    memset (&fail, 0, sizeof fail);
    snprintf (fail.task_id, sizeof fail.task_id, "%s", task.task_id);
    fail.attempt = task.attempt;
    fail.retryable = false;
    proto_error_set (&fail.error, "screenshot_fetch_failed", "HTTP 404 from acme.app",
                     "slides[0].screenshot.url");
    proto_task_free (&task);
    msgpack_sbuffer_init (&sb);
    proto_fail_encode (&fail, &sb);
    REQUIRE (s_send (rd, PROTO_FAIL, &sb) == 0, "send FAIL");
    msgpack_sbuffer_destroy (&sb);
    proto_fail_free (&fail);
    CHECK (s_wait_image (api, auth, r3, "failed", &r), "a non-retryable FAIL fails the image");
    CHECK (strcmp (r.status, "failed") == 0 && strcmp (r.error.code, "screenshot_fetch_failed") == 0
           && r.error.param && strcmp (r.error.param, "slides[0].screenshot.url") == 0
           && r.images [0].attempts == 1,
           "the render is failed with the task's error, got %s %s", r.status, r.error.code);
    proto_render_free (&r);
    REQUIRE (s_wait_event (sub, "render.failed", rid, &seq), "render.failed is published");
    CHECK (strcmp (rid, r3) == 0, "the event names the failed render");
    proto_events_since_t since = { .rid = "ev-1", .since = 0, .limit = 10 };
    msgpack_sbuffer_init (&sb);
    proto_events_since_encode (&since, &sb);
    s_call (api, PROTO_EVENTS_SINCE, &sb, &m);
    REQUIRE (m.cmd == PROTO_EVENTS, "EVENTS_SINCE answers EVENTS, got %s", proto_cmd_name (m.cmd));
    proto_events_t ev;
    size_t len;
    const char *data = s_body (&m, &len);
    REQUIRE (proto_events_decode (data, len, &ev, err) == 0, "events decode: %s", err);
    bus_msg_free (&m);
    CHECK (ev.nevents == 1 && ev.last_seq == seq, "only the event with a webhook is listed (got %d, last_seq %lld)",
           ev.nevents, (long long) ev.last_seq);
    char delivery [PROTO_ID_MAX] = "";
    if (ev.nevents == 1) {
        proto_event_t *e = &ev.events [0];
        snprintf (delivery, sizeof delivery, "%s", e->delivery_id);
        CHECK (strcmp (e->type, "render.failed") == 0 && strcmp (e->object_id, r3) == 0
               && strcmp (e->url, "https://hooks.example.com/easel") == 0
               && strcmp (e->secret, acme.webhook_secret) == 0,
               "event render.failed for %s with url and the account's secret", r3);
        CHECK (strstr (e->payload, "\"type\":\"render.failed\"") && strstr (e->payload, r3)
               && strstr (e->payload, "\"event_id\":\"evt_") && strstr (e->payload, "screenshot_fetch_failed"),
               "the payload is the render object with type and event_id: %s", e->payload);
    }
    proto_events_free (&ev);
    proto_delivery_report_t rep;
    memset (&rep, 0, sizeof rep);
    snprintf (rep.rid, sizeof rep.rid, "rep-1");
    snprintf (rep.delivery_id, sizeof rep.delivery_id, "%s", delivery);
    rep.ok = true;
    rep.status_code = 200;
    rep.latency_ms = 12;
    msgpack_sbuffer_init (&sb);
    proto_delivery_report_encode (&rep, &sb);
    CHECK (s_call (api, PROTO_DELIVERY_REPORT, &sb, &m) == PROTO_ACK, "DELIVERY_REPORT answers ACK");
    bus_msg_free (&m);
    CHECK (s_get_render (api, auth, r3, &r, NULL) == PROTO_RENDER && strcmp (r.webhook_status, "delivered") == 0,
           "after a 2xx report webhook_status is delivered, got %s", r.webhook_status);
    proto_render_free (&r);

    /* ---- kill -9 after the CREATE reply and the TASK; restart re-dispatches ---- */
    char r4 [PROTO_ID_MAX];
    s_create (api, auth, NULL, r4, NULL);
    REQUIRE (s_wait_task (rd, S_WAIT_MS, &task) == 0, "renderer D should receive the fourth TASK");
    char img4 [PROTO_ID_MAX];
    snprintf (img4, sizeof img4, "%s", task.task_id);
    proto_task_free (&task);
    s_kill ();
    s_live = NULL;
    zsock_destroy (&rd);
    s_start ();
    CHECK (s_ping (api, S_WAIT_MS) == 0, "the restarted scheduler answers on the same endpoint");
    zsock_t *re = s_dealer (s_work);
    s_ready (re, "fake-e", 1);
    REQUIRE (s_wait_task (re, S_WAIT_MS, &task) == 0, "after restart the leased task is dispatched again");
    CHECK (strcmp (task.task_id, img4) == 0 && task.attempt == 2,
           "the same task comes back with attempt 2, got %s attempt %d", task.task_id, task.attempt);
    proto_task_free (&task);
    CHECK (s_get_render (api, auth, r1, &r, NULL) == PROTO_RENDER && strcmp (r.status, "succeeded") == 0,
           "a render finished before the crash is still succeeded");
    proto_render_free (&r);
    zsock_destroy (&re);

    /* SIGTERM is a clean exit 0 */
    kill (s_pid, SIGTERM);
    int status = 0;
    waitpid (s_pid, &status, 0);
    s_pid = -1;
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "SIGTERM should exit 0");

    zsock_destroy (&sub);
    zsock_destroy (&api);
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        s_show_log ();
        return 1;
    }
    printf ("scheduler_protocol: all checks passed\n");
    return 0;
}
