/*  fuzz_seeds.c: writes one valid body per decoder into DIR/fuzz_<name>/seed,
    so each fuzzer starts from a message its decoder accepts.  */
#include "proto.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int
s_write (const char *dir, const char *name, msgpack_sbuffer *sb)
{
    char path [512];
    snprintf (path, sizeof path, "%s/fuzz_%s", dir, name);
    mkdir (path, 0755);
    snprintf (path, sizeof path, "%s/fuzz_%s/seed", dir, name);
    FILE *f = fopen (path, "wb");
    bool ok = f && fwrite (sb->data, 1, sb->size, f) == sb->size;
    if (f && fclose (f))
        ok = false;
    if (!ok) {
        fprintf (stderr, "cannot write %s\n", path);
        return -1;
    }
    sb->size = 0;
    return 0;
}

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    const char *dir = argv [1];
    mkdir (dir, 0755);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int rc = 0;

    proto_slide_t slide = { .width = 100, .height = 200, .bg_ncolors = 2, .bg_colors = { 1, 2 },
                            .nlines = 2, .lines = { "a", "b" }, .shot_url = "https://x/y.png",
                            .shot_data = (uint8_t *) "PNG", .shot_len = 3,
                            .locale = "en", .preset = "p", .device = "iphone", .format = "png",
                            .nsub = 1, .sub = { "s" }, .text_position = "bottom", .padding_pm = 50,
                            .font_weight = 700, .font_size_max = 90, .font_size_min = 30,
                            .fit = "cover", .finish = "silver", .bg_image_url = "https://x/bg.png",
                            .store = "play", .display_stated = true };
    rc |= proto_slide_encode (&slide, &sb) || s_write (dir, "slide", &sb);

    /* one inline blob, named by its sha256 and by the task that needs it */
    uint8_t blob_bytes [] = "inline image bytes";
    unsigned char h [crypto_hash_sha256_BYTES];
    proto_blob_t blob = { .data = blob_bytes, .len = sizeof blob_bytes - 1 };
    crypto_hash_sha256 (h, blob.data, blob.len);
    sodium_bin2hex (blob.sha256, sizeof blob.sha256, h, sizeof h);
    proto_task_spec_t task = { .slide = 1, .locale = "en", .preset = "p", .width = 1, .height = 1,
                               .format = "png", .spec = "\x81\xa1v\x01", .spec_len = 4 };
    memcpy (task.blob, blob.sha256, sizeof task.blob);
    proto_create_render_t cr = { .rid = "r", .auth = "a", .sync = true, .webhook_url = "https://h",
                                 .metadata_json = "{}", .ntasks = 1, .tasks = &task,
                                 .nblobs = 1, .blobs = &blob };
    rc |= proto_create_render_encode (&cr, &sb) || s_write (dir, "create_render", &sb);

    proto_get_t get = { .rid = "r", .auth = "a", .id = "rnd_1", .exp = 5, .sig = "s", .link_by = "b",
                        .link_since = "rnd_2", .link_of = "rnd_1" };
    rc |= proto_get_encode (&get, &sb) || s_write (dir, "get", &sb);

    proto_image_t img = { .id = "img_1", .status = "failed", .format = "png", .sha256 = "h",
                          .error = { .code = "c", .message = "m", .param = "p" } };
    proto_render_t render = { .rid = "r", .id = "rnd_1", .account_id = "a", .status = "failed",
                              .webhook_url = "https://h", .webhook_status = "none", .metadata_json = "{}",
                              .error = { .code = "c", .message = "m" }, .nimages = 1, .images = &img };
    rc |= proto_render_encode (&render, &sb) || s_write (dir, "render", &sb);

    proto_file_t file = { .rid = "r", .id = "img_1", .content_type = "image/png", .data = (uint8_t *) "x", .len = 1 };
    rc |= proto_file_encode (&file, &sb) || s_write (dir, "file", &sb);

    proto_errmsg_t em = { .rid = "r", .status = 400, .error = { .code = "c", .message = "m", .param = "p" } };
    rc |= proto_errmsg_encode (&em, &sb) || s_write (dir, "errmsg", &sb);

    proto_events_since_t es = { .rid = "r", .since = 1, .limit = 10 };
    rc |= proto_events_since_encode (&es, &sb) || s_write (dir, "events_since", &sb);

    proto_event_t ev = { .seq = 1, .id = "evt_1", .type = "render.failed", .object_id = "rnd_1",
                         .delivery_id = "d", .url = "https://h", .secret = "whsec_x", .payload = "{}" };
    proto_events_t evs = { .rid = "r", .last_seq = 1, .nevents = 1, .events = &ev };
    rc |= proto_events_encode (&evs, &sb) || s_write (dir, "events", &sb);

    proto_delivery_report_t dr = { .rid = "r", .delivery_id = "d", .status_code = 500, .error = "e",
                                   .response_head = "h" };
    rc |= proto_delivery_report_encode (&dr, &sb) || s_write (dir, "delivery_report", &sb);

    proto_simple_t simple = { .rid = "r", .renderers = 1, .last_seq = 2 };
    rc |= proto_simple_encode (&simple, &sb) || s_write (dir, "simple", &sb);

    proto_ready_t ready = { .name = "h:1", .slots = 2 };
    rc |= proto_ready_encode (&ready, &sb) || s_write (dir, "ready", &sb);

    proto_task_t t = { .task_id = "img_1", .attempt = 1, .spec = "x", .spec_len = 1,
                       .blob = blob.data, .blob_len = blob.len, .render_id = "rnd_1",
                       .render_last = true };
    memcpy (t.blob_sha256, blob.sha256, sizeof t.blob_sha256);
    rc |= proto_task_encode (&t, &sb) || s_write (dir, "task", &sb);

    proto_result_t res = { .task_id = "img_1", .attempt = 1, .format = "png", .data = (uint8_t *) "x", .len = 1 };
    rc |= proto_result_encode (&res, &sb) || s_write (dir, "result", &sb);

    proto_fail_t fail = { .task_id = "img_1", .attempt = 1, .error = { .code = "c", .message = "m" } };
    rc |= proto_fail_encode (&fail, &sb) || s_write (dir, "fail", &sb);

    proto_webhook_req_t wr = { .rid = "r", .auth = "a", .id = "rnd_1", .url = "https://x/h",
                               .action = "rotate", .overlap_s = 60 };
    rc |= proto_webhook_req_encode (&wr, &sb) || s_write (dir, "webhook_req", &sb);

    proto_json_t js = { .rid = "r", .status = 200, .json = "{\"object\":\"list\"}" };
    rc |= proto_json_encode (&js, &sb) || s_write (dir, "json", &sb);

    proto_task_ref_t refs [2] = { { .task_id = "img_1", .attempt = 1 }, { .task_id = "img_2", .attempt = 3 } };
    proto_cancel_tasks_t ct = { .render_id = "rnd_1", .ntasks = 2, .tasks = refs };
    rc |= proto_cancel_tasks_encode (&ct, &sb) || s_write (dir, "cancel_tasks", &sb);

    proto_file_put_t fp = { .rid = "r", .auth = "a", .format = "png", .width = 1, .height = 1,
                            .data = (uint8_t *) "x", .len = 1 };
    rc |= proto_file_put_encode (&fp, &sb) || s_write (dir, "file_put", &sb);
    proto_file_find_t ff = { .rid = "r", .auth = "a", .id = "file_1" };
    rc |= proto_file_find_encode (&ff, &sb) || s_write (dir, "file_find", &sb);

    msgpack_sbuffer_destroy (&sb);
    return rc ? 1 : 0;
}
