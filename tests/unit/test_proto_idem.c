/*  test_proto_idem.c: codecs of the idempotency, cancel, list and account
    messages (0x07-0x0A, 0x45-0x47): round trips, the optional key fields of
    CREATE_RENDER, and strict rejections (out-of-range limit and status,
    oversize key, a render list item that is not a RENDER body).
    Each failed check prints what was expected; exit 1 on any failure. */
#include "check.h"
#include "proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
test_create_keyed (void)
{
    proto_task_spec_t task = { .slide = 0, .width = 300, .height = 600, .format = "png",
                               .spec = "s", .spec_len = 1 };
    proto_create_render_t in = { .rid = "rid_1", .auth = "a", .metadata_json = "{}",
                                 .ntasks = 1, .tasks = &task, .idem_key = "key 1",
                                 .idem_fp = "ff", .idem_hold_ms = 65000 };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_create_render_encode (&in, &sb) == 0, "encode");
    proto_create_render_t out;
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_create_render_decode (sb.data, sb.size, &out, err) == 0, "decode: %s", err);
    CHECK (strcmp (out.idem_key, "key 1") == 0 && strcmp (out.idem_fp, "ff") == 0
           && out.idem_hold_ms == 65000, "key fields survive: %s %s", out.idem_key, out.idem_fp);
    proto_create_render_free (&out);
    msgpack_sbuffer_destroy (&sb);
    /* without a key the fields are absent and decode as "" */
    in.idem_key [0] = 0;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_create_render_encode (&in, &sb) == 0, "encode");
    CHECK (proto_create_render_decode (sb.data, sb.size, &out, err) == 0, "decode: %s", err);
    CHECK (out.idem_key [0] == 0 && out.idem_hold_ms == 0, "no key: %s", out.idem_key);
    proto_create_render_free (&out);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_small (void)
{
    char err [PROTO_ERR_MAX] = "";
    msgpack_sbuffer sb;

    proto_idem_complete_t ic = { .rid = "rid_2", .auth = "a", .scope = "POST /v1/renders",
                                 .key = "k", .status = 200, .body = "{\"id\":\"x\"}" };
    msgpack_sbuffer_init (&sb);
    CHECK (proto_idem_complete_encode (&ic, &sb) == 0, "encode");
    proto_idem_complete_t ic2;
    CHECK (proto_idem_complete_decode (sb.data, sb.size, &ic2, err) == 0, "decode: %s", err);
    CHECK (strcmp (ic2.scope, ic.scope) == 0 && ic2.status == 200 && strcmp (ic2.body, ic.body) == 0,
           "idem_complete round trip");
    proto_idem_complete_free (&ic2);
    msgpack_sbuffer_destroy (&sb);
    ic.status = 99;
    msgpack_sbuffer_init (&sb);
    proto_idem_complete_encode (&ic, &sb);
    CHECK (proto_idem_complete_decode (sb.data, sb.size, &ic2, err) == -1 && strstr (err, "status"),
           "a status below 200 is refused: %s", err);
    msgpack_sbuffer_destroy (&sb);

    proto_cancel_t c = { .rid = "rid_3", .auth = "a", .id = "rnd_1", .idem_key = "k", .idem_fp = "f" };
    msgpack_sbuffer_init (&sb);
    CHECK (proto_cancel_encode (&c, &sb) == 0, "encode");
    proto_cancel_t c2;
    CHECK (proto_cancel_decode (sb.data, sb.size, &c2, err) == 0 && strcmp (c2.id, "rnd_1") == 0
           && strcmp (c2.idem_key, "k") == 0, "cancel round trip: %s", err);
    msgpack_sbuffer_destroy (&sb);
    char long_key [EASEL_IDEMPOTENCY_KEY_MAX + 2];
    memset (long_key, 'k', sizeof long_key - 1);
    long_key [sizeof long_key - 1] = 0;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 5);
    const char *keys [] = { "v", "rid", "auth", "id", "idem_key" };
    msgpack_pack_str (&pk, 1); msgpack_pack_str_body (&pk, keys [0], 1);
    msgpack_pack_int (&pk, EASEL_PROTO_VERSION);
    const char *vals [] = { NULL, "r", "a", "rnd_1", long_key };
    for (int i = 1; i < 5; i++) {
        msgpack_pack_str (&pk, strlen (keys [i])); msgpack_pack_str_body (&pk, keys [i], strlen (keys [i]));
        msgpack_pack_str (&pk, strlen (vals [i])); msgpack_pack_str_body (&pk, vals [i], strlen (vals [i]));
    }
    CHECK (proto_cancel_decode (sb.data, sb.size, &c2, err) == -1 && strstr (err, "idem_key"),
           "a 256-byte key is refused: %s", err);
    msgpack_sbuffer_destroy (&sb);

    proto_list_t l = { .rid = "rid_4", .auth = "a", .limit = 100, .starting_after = "rnd_9" };
    msgpack_sbuffer_init (&sb);
    CHECK (proto_list_encode (&l, &sb) == 0, "encode");
    proto_list_t l2;
    CHECK (proto_list_decode (sb.data, sb.size, &l2, err) == 0 && l2.limit == 100
           && strcmp (l2.starting_after, "rnd_9") == 0, "list round trip: %s", err);
    msgpack_sbuffer_destroy (&sb);
    l.limit = EASEL_LIST_LIMIT_MAX + 1;
    msgpack_sbuffer_init (&sb);
    proto_list_encode (&l, &sb);
    CHECK (proto_list_decode (sb.data, sb.size, &l2, err) == -1 && strstr (err, "limit"),
           "limit over the cap is refused: %s", err);
    msgpack_sbuffer_destroy (&sb);

    proto_body_t b = { .rid = "rid_5", .status = 202, .id = "rnd_1", .body = "{}" };
    msgpack_sbuffer_init (&sb);
    CHECK (proto_body_encode (&b, &sb) == 0, "encode");
    proto_body_t b2;
    CHECK (proto_body_decode (sb.data, sb.size, &b2, err) == 0 && b2.status == 202
           && strcmp (b2.body, "{}") == 0 && strcmp (b2.id, "rnd_1") == 0, "body round trip: %s", err);
    proto_body_free (&b2);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_render_list (void)
{
    char err [PROTO_ERR_MAX] = "";
    proto_render_t renders [2];
    memset (renders, 0, sizeof renders);
    for (int i = 0; i < 2; i++) {
        snprintf (renders [i].id, sizeof renders [i].id, "rnd_%d", i);
        snprintf (renders [i].status, sizeof renders [i].status, "canceled");
        snprintf (renders [i].webhook_status, sizeof renders [i].webhook_status, "none");
        renders [i].credits_used = i + 1;
    }
    proto_render_list_t in = { .rid = "rid_6", .has_more = true, .nrenders = 2, .renders = renders };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_render_list_encode (&in, &sb) == 0, "encode");
    proto_render_list_t out;
    CHECK (proto_render_list_decode (sb.data, sb.size, &out, err) == 0, "decode: %s", err);
    CHECK (out.has_more && out.nrenders == 2 && strcmp (out.renders [1].id, "rnd_1") == 0
           && out.renders [1].credits_used == 2 && strcmp (out.renders [0].status, "canceled") == 0,
           "render list round trip");
    proto_render_list_free (&out);
    proto_render_list_free (&out);       /* safe twice */
    msgpack_sbuffer_destroy (&sb);
    /* an item that is not a RENDER body */
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 4);
    msgpack_pack_str (&pk, 1); msgpack_pack_str_body (&pk, "v", 1); msgpack_pack_int (&pk, 1);
    msgpack_pack_str (&pk, 3); msgpack_pack_str_body (&pk, "rid", 3);
    msgpack_pack_str (&pk, 1); msgpack_pack_str_body (&pk, "r", 1);
    msgpack_pack_str (&pk, 8); msgpack_pack_str_body (&pk, "has_more", 8); msgpack_pack_false (&pk);
    msgpack_pack_str (&pk, 7); msgpack_pack_str_body (&pk, "renders", 7);
    msgpack_pack_array (&pk, 1);
    msgpack_pack_bin (&pk, 3); msgpack_pack_bin_body (&pk, "abc", 3);
    CHECK (proto_render_list_decode (sb.data, sb.size, &out, err) == -1 && out.renders == NULL,
           "a garbage item is refused and nothing leaks: %s", err);
    msgpack_sbuffer_destroy (&sb);
}

int
main (void)
{
    test_create_keyed ();
    test_small ();
    test_render_list ();
    if (check_failures)
        fprintf (stderr, "test_proto_idem: %d failed\n", check_failures);
    else
        printf ("test_proto_idem: passed\n");
    return check_failures ? 1 : 0;
}
