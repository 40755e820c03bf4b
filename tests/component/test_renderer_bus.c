/*  test_renderer_bus.c: the easel-renderer process against a fake scheduler.
    A ROUTER on 127.0.0.1 plays the scheduler: the renderer must announce
    READY{slots}, heartbeat, answer a TASK with a RESULT, reconnect on a fresh
    socket (a new identity, READY again) when the scheduler goes silent, and on
    SIGTERM send DRAINING, then DISCONNECT, and exit 0.
    Usage: test_renderer_bus PATH-TO-easel-renderer */
#include "../unit/check.h"
#include "bus.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Next message other than a HEARTBEAT (when skip_hb) within timeout_ms; cmd -1 on timeout. */
static bus_msg_t
s_recv (zsock_t *router, int timeout_ms, bool skip_hb)
{
    bus_msg_t msg = { .cmd = -1 };
    int64_t until = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (router, NULL);
    while (zclock_mono () < until) {
        if (!zpoller_wait (poller, (int) (until - zclock_mono ())))
            continue;
        char err[PROTO_ERR_MAX];
        if (bus_recv (router, true, &msg, err) != 0) {
            fprintf (stderr, "bad frame from renderer: %s\n", err);
            bus_msg_free (&msg);
            msg.cmd = -1;
            continue;
        }
        if (skip_hb && msg.cmd == PROTO_HEARTBEAT) {
            bus_msg_free (&msg);
            msg.cmd = -1;
            continue;
        }
        break;
    }
    zpoller_destroy (&poller);
    return msg;
}

static void
s_send_simple (zsock_t *router, zframe_t *identity, int cmd)
{
    proto_simple_t simple = { .rid = "" };
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    proto_simple_encode (&simple, &buf);
    bus_send_sbuf (router, identity, cmd, &buf);
    msgpack_sbuffer_destroy (&buf);
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: test_renderer_bus PATH-TO-easel-renderer\n");
        return 2;
    }
    zsys_init ();
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    bus_socket_setup (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    CHECK (port > 0, "expected to bind a ROUTER on loopback");
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);

    pid_t pid = fork ();
    if (pid == 0) {
        execl (argv[1], argv[1], "--work", endpoint, "--slots", "2", (char *) NULL);
        _exit (127);
    }

    /* READY{slots 2} */
    bus_msg_t msg = s_recv (router, 5000, true);
    CHECK (msg.cmd == PROTO_READY, "expected READY first, got %d", msg.cmd);
    if (msg.cmd == PROTO_READY) {
        proto_ready_t ready = { 0 };
        char err[PROTO_ERR_MAX];
        CHECK (proto_ready_decode ((char *) zframe_data (msg.body), zframe_size (msg.body), &ready, err) == 0
               && ready.slots == 2 && strchr (ready.name, ':'),
               "expected READY{slots 2, name host:pid}, got slots %d name %s", ready.slots, ready.name);
    }
    else {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        fprintf (stderr, "the renderer never announced itself; giving up\n");
        return 1;
    }
    zframe_t *first = msg.identity ? zframe_dup (msg.identity) : NULL;
    bus_msg_free (&msg);

    /* a HEARTBEAT from the renderer within ~1 s */
    msg = s_recv (router, 2500, false);
    CHECK (msg.cmd == PROTO_HEARTBEAT, "expected a HEARTBEAT within 2.5 s, got %d", msg.cmd);
    bus_msg_free (&msg);

    /* TASK -> RESULT */
    static char line[] = "Bus test";
    proto_slide_t spec = { .width = 300, .height = 600, .bg_ncolors = 1, .bg_colors = {0x204060},
                           .nlines = 1, .lines = {line}, .text_color = 0xFFFFFF,
                           .device = "iphone", .format = "png" };
    msgpack_sbuffer specbuf, taskbuf;
    msgpack_sbuffer_init (&specbuf);
    msgpack_sbuffer_init (&taskbuf);
    proto_slide_encode (&spec, &specbuf);
    proto_task_t task = { .task_id = "img_01JD0000000000000000000001", .attempt = 1,
                          .spec = specbuf.data, .spec_len = specbuf.size };
    proto_task_encode (&task, &taskbuf);
    s_send_simple (router, first, PROTO_HEARTBEAT);
    CHECK (first && bus_send_sbuf (router, first, PROTO_TASK, &taskbuf) == 0, "expected to send the TASK");
    msg = s_recv (router, 10000, true);
    CHECK (msg.cmd == PROTO_RESULT, "expected a RESULT for the TASK, got %d", msg.cmd);
    if (msg.cmd == PROTO_RESULT) {
        proto_result_t res = { 0 };
        char err[PROTO_ERR_MAX];
        CHECK (proto_result_decode ((char *) zframe_data (msg.body), zframe_size (msg.body), &res, err) == 0
               && strcmp (res.task_id, task.task_id) == 0 && res.width == 300 && res.height == 600 && res.len > 8
               && memcmp (res.data + 1, "PNG", 3) == 0,
               "expected RESULT %s 300x600 png, got %s %dx%d", task.task_id, res.task_id, res.width, res.height);
        proto_result_free (&res);
    }
    bus_msg_free (&msg);
    msgpack_sbuffer_destroy (&specbuf);
    msgpack_sbuffer_destroy (&taskbuf);

    /* silence: after 3 s the renderer drops its socket, waits 1 s, and comes
       back on a fresh one (new identity) with READY */
    int64_t t0 = zclock_mono ();
    msg = s_recv (router, 8000, true);
    int64_t waited = zclock_mono () - t0;
    CHECK (msg.cmd == PROTO_READY, "expected READY again after silence, got %d", msg.cmd);
    CHECK (waited >= 3000 && waited < 7000, "expected the reconnect 3-7 s after silence, took %lld ms", (long long) waited);
    CHECK (msg.identity && first && !zframe_eq (msg.identity, first), "expected a fresh socket (a new identity)");
    zframe_t *second = msg.identity ? zframe_dup (msg.identity) : NULL;
    bus_msg_free (&msg);
    s_send_simple (router, second, PROTO_HEARTBEAT);

    /* SIGTERM drains: DRAINING, then (holding no task) DISCONNECT, exit 0 */
    kill (pid, SIGTERM);
    msg = s_recv (router, 3000, true);
    CHECK (msg.cmd == PROTO_DRAINING, "expected DRAINING on SIGTERM, got %d", msg.cmd);
    bus_msg_free (&msg);
    msg = s_recv (router, 6000, true);
    CHECK (msg.cmd == PROTO_DISCONNECT, "expected DISCONNECT after the drain, got %d", msg.cmd);
    bus_msg_free (&msg);
    int status = 0;
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "expected exit 0 on SIGTERM, got status %d", status);

    zframe_destroy (&first);
    zframe_destroy (&second);
    zsock_destroy (&router);
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("renderer_bus: all checks passed\n");
    return 0;
}
