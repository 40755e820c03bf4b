/*  test_capture_proto.c: the wire additions of captures. READY's optional
    "capture" (absent = false, so an older renderer is never sent a capture
    task), RESULT's optional "credits" (0..100; absent = the default price),
    CREATE_CAPTURE's name, and its Idempotency-Key fields (idem_key, idem_fp,
    idem_hold_ms: the scheduler writes the key row with the job). */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "proto.h"

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

/* A capture create carries the key and fingerprint; without a key none is sent. */
static void
test_create_capture_idem (void)
{
    for (int keyed = 0; keyed < 2; keyed++) {
        proto_task_spec_t task = { .slide = 0, .width = 1440, .height = 900, .format = "png",
                                   .spec = "x", .spec_len = 1 };
        proto_create_render_t in = { .rid = "rid_1", .auth = "a", .sync = true,
                                     .metadata_json = "{}", .ntasks = 1, .tasks = &task };
        if (keyed) {
            snprintf (in.idem_key, sizeof in.idem_key, "cap-key-1");
            memset (in.idem_fp, 'f', 64);
            in.idem_fp [64] = 0;
            in.idem_hold_ms = 65000;
        }
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        CHECK (proto_create_render_encode (&in, &sb) == 0, "encode CREATE_CAPTURE");
        CHECK ((memmem (sb.data, sb.size, "idem_key", 8) != NULL) == (bool) keyed,
               "idem_key sent only with a key (keyed %d)", keyed);
        proto_create_render_t out;
        char err [PROTO_ERR_MAX] = "";
        CHECK (proto_create_render_decode (sb.data, sb.size, &out, err) == 0, "decode: %s", err);
        CHECK (strcmp (out.idem_key, in.idem_key) == 0 && strcmp (out.idem_fp, in.idem_fp) == 0
               && out.idem_hold_ms == in.idem_hold_ms && out.sync,
               "idem fields came back '%s' '%s' %lld", out.idem_key, out.idem_fp,
               (long long) out.idem_hold_ms);
        proto_create_render_free (&out);
        msgpack_sbuffer_destroy (&sb);
    }
}

int
main (void)
{
    test_ready ();
    test_result ();
    test_create_capture_idem ();
    CHECK (strcmp (proto_cmd_name (PROTO_CREATE_CAPTURE), "CREATE_CAPTURE") == 0, "command name");
    CHECK (PROTO_CREATE_CAPTURE == 0x18, "CREATE_CAPTURE is 0x18");
    if (check_failures) {
        fprintf (stderr, "test_capture_proto: %d failed\n", check_failures);
        return 1;
    }
    printf ("test_capture_proto: all passed\n");
    return 0;
}
