/*  test_capture_proto.c: the wire additions of captures. READY's optional
    "capture" (absent = false, so an older renderer is never sent a capture
    task), RESULT's optional "credits" (0..100; absent = the default price),
    and CREATE_CAPTURE's name. */
#include <stdio.h>
#include <string.h>
#include "proto.h"

static int s_failures;

#define CHECK(cond, ...) do { if (!(cond)) { s_failures++; \
    fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf (stderr, __VA_ARGS__); \
    fputc ('\n', stderr); } } while (0)

static void
test_ready (void)
{
    for (int cap = 0; cap < 2; cap++) {
        proto_ready_t in = { .slots = 2, .capture = cap };
        snprintf (in.name, sizeof in.name, "host:1");
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        CHECK (proto_ready_encode (&in, &sb) == 0, "encode READY");
        proto_ready_t out;
        char err [PROTO_ERR_MAX] = "";
        CHECK (proto_ready_decode (sb.data, sb.size, &out, err) == 0, "decode READY: %s", err);
        CHECK (out.capture == (bool) cap && out.slots == 2, "READY capture %d came back %d", cap, out.capture);
        /* a READY without the key (an older renderer) cannot capture */
        if (!cap)
            CHECK (memmem (sb.data, sb.size, "capture", 7) == NULL, "capture false is not sent");
        msgpack_sbuffer_destroy (&sb);
    }
}

static void
test_result (void)
{
    uint8_t data [3] = { 1, 2, 3 };
    int32_t cases [] = { 0, 1, 3, 100 };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        proto_result_t in = { .attempt = 1, .width = 10, .height = 10, .data = data, .len = 3,
                              .credits = cases [i] };
        snprintf (in.task_id, sizeof in.task_id, "cap_x");
        snprintf (in.format, sizeof in.format, "png");
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        CHECK (proto_result_encode (&in, &sb) == 0, "encode RESULT");
        proto_result_t out;
        char err [PROTO_ERR_MAX] = "";
        CHECK (proto_result_decode (sb.data, sb.size, &out, err) == 0, "decode RESULT: %s", err);
        CHECK (out.credits == cases [i], "credits %d came back %d", cases [i], out.credits);
        proto_result_free (&out);
        msgpack_sbuffer_destroy (&sb);
    }
    /* over the cap: refused */
    proto_result_t in = { .attempt = 1, .width = 10, .height = 10, .data = data, .len = 3, .credits = 101 };
    snprintf (in.task_id, sizeof in.task_id, "cap_x");
    snprintf (in.format, sizeof in.format, "png");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_result_encode (&in, &sb);
    proto_result_t out;
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_result_decode (sb.data, sb.size, &out, err) == -1 && strstr (err, "credits"),
           "credits 101 must be refused naming the field, got: %s", err);
    msgpack_sbuffer_destroy (&sb);
}

int
main (void)
{
    test_ready ();
    test_result ();
    CHECK (strcmp (proto_cmd_name (PROTO_CREATE_CAPTURE), "CREATE_CAPTURE") == 0, "command name");
    CHECK (PROTO_CREATE_CAPTURE == 0x18, "CREATE_CAPTURE is 0x18");
    if (s_failures) {
        fprintf (stderr, "test_capture_proto: %d failed\n", s_failures);
        return 1;
    }
    printf ("test_capture_proto: all passed\n");
    return 0;
}
