/*  test_cancel_tasks.c: the CANCEL_TASKS work message (0x21, scheduler ->
    renderer). Round trip of one and of the most pairs; the decoder refuses an
    empty or over-cap list, a missing render_id, an attempt of 0, an item that
    is not a map, an over-long task id, and a truncated body, each with a
    reason; free is safe twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "proto.h"

static void
test_round_trip (int32_t n)
{
    proto_task_ref_t *refs = calloc ((size_t) n, sizeof *refs);
    CHECK (refs != NULL, "alloc");
    if (!refs)
        return;
    for (int32_t i = 0; i < n; i++) {
        snprintf (refs [i].task_id, sizeof refs [i].task_id, "img_%026d", (int) i);
        refs [i].attempt = 1 + i % 5;
    }
    proto_cancel_tasks_t in = { .render_id = "rnd_01ARZ3NDEKTSV4RRFFQ69G5FAV", .ntasks = n, .tasks = refs };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_cancel_tasks_encode (&in, &sb) == 0, "encode %d pairs", (int) n);
    proto_cancel_tasks_t out;
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_cancel_tasks_decode (sb.data, sb.size, &out, err) == 0, "decode %d: %s", (int) n, err);
    CHECK (out.ntasks == n, "ntasks %d came back %d", (int) n, (int) out.ntasks);
    CHECK (strcmp (out.render_id, in.render_id) == 0, "render_id came back %s", out.render_id);
    for (int32_t i = 0; i < out.ntasks && i < n; i++)
        CHECK (strcmp (out.tasks [i].task_id, refs [i].task_id) == 0
               && out.tasks [i].attempt == refs [i].attempt, "pair %d differs", (int) i);
    /* every strict prefix is refused with a reason */
    for (size_t cut = 0; cut < sb.size && cut < 200; cut++) {
        proto_cancel_tasks_t t;
        err [0] = 0;
        CHECK (proto_cancel_tasks_decode (sb.data, cut, &t, err) == -1 && err [0],
               "truncated at %zu accepted", cut);
        proto_cancel_tasks_free (&t);
    }
    proto_cancel_tasks_free (&out);
    proto_cancel_tasks_free (&out);
    CHECK (out.tasks == NULL && out.ntasks == 0, "free clears");
    msgpack_sbuffer_destroy (&sb);
    free (refs);
}

/* Packs a body by hand: {v, render_id?, tasks: [items]} where each item is
   built by `item` (0 map ok, 1 attempt 0, 2 not a map, 3 long id). */
static void
s_pack (msgpack_sbuffer *sb, bool with_render, uint32_t nitems, int item)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, with_render ? 3 : 2);
    msgpack_pack_str (&pk, 1);
    msgpack_pack_str_body (&pk, "v", 1);
    msgpack_pack_int (&pk, EASEL_PROTO_VERSION);
    if (with_render) {
        msgpack_pack_str (&pk, 9);
        msgpack_pack_str_body (&pk, "render_id", 9);
        msgpack_pack_str (&pk, 5);
        msgpack_pack_str_body (&pk, "rnd_1", 5);
    }
    msgpack_pack_str (&pk, 5);
    msgpack_pack_str_body (&pk, "tasks", 5);
    msgpack_pack_array (&pk, nitems);
    char longid [PROTO_ID_MAX + 8];
    memset (longid, 'x', sizeof longid);
    for (uint32_t i = 0; i < nitems; i++) {
        if (item == 2) {
            msgpack_pack_int (&pk, 7);
            continue;
        }
        msgpack_pack_map (&pk, 2);
        msgpack_pack_str (&pk, 7);
        msgpack_pack_str_body (&pk, "task_id", 7);
        size_t idlen = item == 3 ? sizeof longid : 5;
        msgpack_pack_str (&pk, idlen);
        msgpack_pack_str_body (&pk, item == 3 ? longid : "img_1", idlen);
        msgpack_pack_str (&pk, 7);
        msgpack_pack_str_body (&pk, "attempt", 7);
        msgpack_pack_int (&pk, item == 1 ? 0 : 1);
    }
}

static void
test_refused (void)
{
    struct { bool with_render; uint32_t n; int item; const char *why; } cases [] = {
        { true, 0, 0, "empty list" },
        { true, EASEL_MAX_IMAGES_PER_RENDER + 1, 0, "over the cap" },
        { false, 1, 0, "no render_id" },
        { true, 1, 1, "attempt 0" },
        { true, 1, 2, "item not a map" },
        { true, 1, 3, "task id too long" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        s_pack (&sb, cases [i].with_render, cases [i].n, cases [i].item);
        proto_cancel_tasks_t out;
        char err [PROTO_ERR_MAX] = "";
        CHECK (proto_cancel_tasks_decode (sb.data, sb.size, &out, err) == -1 && err [0],
               "%s accepted", cases [i].why);
        CHECK (out.tasks == NULL && out.ntasks == 0, "%s: nothing kept", cases [i].why);
        proto_cancel_tasks_free (&out);
        msgpack_sbuffer_destroy (&sb);
    }
    /* the hand packer itself makes a good body */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    s_pack (&sb, true, 2, 0);
    proto_cancel_tasks_t out;
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_cancel_tasks_decode (sb.data, sb.size, &out, err) == 0 && out.ntasks == 2,
           "hand-packed body refused: %s", err);
    proto_cancel_tasks_free (&out);
    msgpack_sbuffer_destroy (&sb);

    /* the encoder refuses an empty list */
    proto_cancel_tasks_t empty = { .render_id = "rnd_1" };
    msgpack_sbuffer_init (&sb);
    CHECK (proto_cancel_tasks_encode (&empty, &sb) == -1 && sb.size == 0, "empty list encoded");
    msgpack_sbuffer_destroy (&sb);
    CHECK (strcmp (proto_cmd_name (PROTO_CANCEL_TASKS), "CANCEL_TASKS") == 0 && PROTO_CANCEL_TASKS == 0x21,
           "command name/byte");
}

int
main (void)
{
    test_round_trip (1);
    test_round_trip (EASEL_MAX_IMAGES_PER_RENDER);
    test_refused ();
    if (check_failures) {
        fprintf (stderr, "%d failure(s)\n", check_failures);
        return 1;
    }
    printf ("cancel_tasks: ok\n");
    return 0;
}
