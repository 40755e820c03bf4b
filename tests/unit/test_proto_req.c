/*  test_proto_req.c: the optional "req" field (the gateway's X-Request-Id,
    for logs) of CREATE_RENDER / CREATE_CAPTURE, TASK and the EVENTS items:
    round trips, absent = "", and an over-long value refused by the decoder.
    Each failed check prints what was expected; exit 1 on any failure. */
#include "check.h"
#include "proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A map {v, <fields>, req: <long string>} for the over-long case. */
static void
s_long_req_task (msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 5);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_int (&pk, EASEL_PROTO_VERSION);
    msgpack_pack_str_with_body (&pk, "task_id", 7);
    msgpack_pack_str_with_body (&pk, "img_1", 5);
    msgpack_pack_str_with_body (&pk, "attempt", 7);
    msgpack_pack_int (&pk, 1);
    msgpack_pack_str_with_body (&pk, "spec", 4);
    msgpack_pack_bin_with_body (&pk, "s", 1);
    char big [PROTO_ID_MAX + 10];
    memset (big, 'r', sizeof big);
    msgpack_pack_str_with_body (&pk, "req", 3);
    msgpack_pack_str_with_body (&pk, big, sizeof big);
}

int
main (void)
{
    char err [PROTO_ERR_MAX] = "";
    /* CREATE_RENDER */
    proto_task_spec_t spec = { .width = 300, .height = 600, .format = "png", .spec = "s", .spec_len = 1 };
    proto_create_render_t cr = { .rid = "rid_1", .auth = "a", .metadata_json = "{}", .ntasks = 1,
                                 .tasks = &spec, .req = "req_01KNS1WNPW9FCHZSK4XNTHMB0H" };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_create_render_encode (&cr, &sb) == 0, "encode");
    proto_create_render_t crd;
    CHECK (proto_create_render_decode (sb.data, sb.size, &crd, err) == 0, "decode: %s", err);
    CHECK (strcmp (crd.req, cr.req) == 0, "req survives: %s", crd.req);
    proto_create_render_free (&crd);
    msgpack_sbuffer_destroy (&sb);
    cr.req [0] = 0;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_create_render_encode (&cr, &sb) == 0, "encode");
    CHECK (proto_create_render_decode (sb.data, sb.size, &crd, err) == 0 && crd.req [0] == 0,
           "absent req decodes as empty: %s", err);
    proto_create_render_free (&crd);
    msgpack_sbuffer_destroy (&sb);

    /* TASK */
    proto_task_t t = { .task_id = "img_1", .attempt = 2, .spec = "xyz", .spec_len = 3,
                       .req = "req_01KNS1WNPW9FCHZSK4XNTHMB0H" };
    msgpack_sbuffer_init (&sb);
    CHECK (proto_task_encode (&t, &sb) == 0, "encode");
    proto_task_t td;
    CHECK (proto_task_decode (sb.data, sb.size, &td, err) == 0, "decode: %s", err);
    CHECK (strcmp (td.req, t.req) == 0 && td.attempt == 2 && td.spec_len == 3, "task req: %s", td.req);
    proto_task_free (&td);
    msgpack_sbuffer_destroy (&sb);
    t.req [0] = 0;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_task_encode (&t, &sb) == 0, "encode");
    CHECK (proto_task_decode (sb.data, sb.size, &td, err) == 0 && td.req [0] == 0, "no req: %s", err);
    proto_task_free (&td);
    msgpack_sbuffer_destroy (&sb);
    /* a req over PROTO_ID_MAX is refused, naming the field */
    msgpack_sbuffer_init (&sb);
    s_long_req_task (&sb);
    CHECK (proto_task_decode (sb.data, sb.size, &td, err) == -1 && strstr (err, "req"),
           "over-long req refused: %s", err);
    proto_task_free (&td);
    msgpack_sbuffer_destroy (&sb);

    /* EVENTS items */
    proto_event_t ev = { .seq = 7, .id = "evt_1", .type = "render.succeeded", .object_id = "rnd_1",
                         .created_at_ms = 1, .delivery_id = "evt_1", .attempts = 0,
                         .req = "req_01KNS1WNPW9FCHZSK4XNTHMB0H" };
    proto_events_t evs = { .rid = "rid_2", .last_seq = 7, .nevents = 1, .events = &ev };
    msgpack_sbuffer_init (&sb);
    CHECK (proto_events_encode (&evs, &sb) == 0, "encode");
    proto_events_t evd;
    CHECK (proto_events_decode (sb.data, sb.size, &evd, err) == 0, "decode: %s", err);
    CHECK (evd.nevents == 1 && strcmp (evd.events [0].req, ev.req) == 0, "event req survives");
    proto_events_free (&evd);
    msgpack_sbuffer_destroy (&sb);

    if (check_failures)
        fprintf (stderr, "test_proto_req: %d failed\n", check_failures);
    else
        printf ("test_proto_req: ok\n");
    return check_failures ? 1 : 0;
}
