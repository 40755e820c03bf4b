/*  test_proto.c: proto codec round trips, strict rejections, garbage input,
    and ULID ids. Each failed check prints what was expected and exits 1.  */
#include "check.h"
#include "proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STREQ(a, b) (strcmp ((a), (b)) == 0)

/* ---- raw msgpack builders for hand-made bad bodies ---- */
static void s_key (msgpack_packer *pk, const char *k)
{ msgpack_pack_str (pk, strlen (k)); msgpack_pack_str_body (pk, k, strlen (k)); }
static void s_kv_str (msgpack_packer *pk, const char *k, const char *v)
{ s_key (pk, k); msgpack_pack_str (pk, strlen (v)); msgpack_pack_str_body (pk, v, strlen (v)); }
static void s_kv_int (msgpack_packer *pk, const char *k, int64_t v)
{ s_key (pk, k); msgpack_pack_int64 (pk, v); }

static void
s_expect_err (int rc, const char *err, const char *want, int line)
{
    if (rc != -1 || !strstr (err, want)) {
        fprintf (stderr, "FAIL line %d: expected rc -1 and err containing \"%s\", got rc %d err \"%s\"\n",
                 line, want, rc, err);
        check_failures++;
    }
}
#define EXPECT_ERR(call, want) do { char err_[PROTO_ERR_MAX] = ""; \
    int rc_ = call; s_expect_err (rc_, err_, want, __LINE__); } while (0)
#define ERRBUF err_

/* ---- round trips ---- */

static void
test_slide (void)
{
    proto_slide_t in = { .slide = 3, .width = 1290, .height = 2796, .bg_ncolors = 3,
                         .bg_colors = { 0x112233, 0xABCDEF, 0xFFFFFF }, .bg_angle = 180,
                         .nlines = 2, .text_color = 0xFF0000 };
    snprintf (in.locale, sizeof in.locale, "de-DE");
    snprintf (in.preset, sizeof in.preset, "appstore.iphone_6_9");
    snprintf (in.device, sizeof in.device, "iphone");
    snprintf (in.format, sizeof in.format, "png");
    in.lines [0] = "Hello";
    in.lines [1] = "Wörld ✓";
    uint8_t shot [300];
    for (size_t i = 0; i < sizeof shot; i++)
        shot [i] = (uint8_t) i;
    in.shot_data = shot;
    in.shot_len = sizeof shot;
    /* layout fields */
    in.nsub = 1;
    in.sub [0] = "Sous-titre";
    in.sub_color = 0x00FF00;
    snprintf (in.text_position, sizeof in.text_position, "bottom");
    in.padding_pm = 0;
    in.font_weight = 800;
    in.font_size_max = 120;
    in.font_size_min = 40;
    snprintf (in.fit, sizeof in.fit, "cover");
    snprintf (in.finish, sizeof in.finish, "silver");
    in.bg_image_url = "https://acme.app/bg.png";
    snprintf (in.store, sizeof in.store, "appstore");
    in.display_stated = true;
    in.text_fallback = true;
    snprintf (in.untranslated_of, sizeof in.untranslated_of, "en-US");

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_slide_encode (&in, &sb) == 0, "slide encodes");
    proto_slide_t out;
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_slide_decode (sb.data, sb.size, &out, err) == 0, "slide decodes: %s", err);
    CHECK (out.slide == 3 && out.width == 1290 && out.height == 2796, "ints kept");
    CHECK (out.bg_ncolors == 3 && out.bg_colors [1] == 0xABCDEF && out.bg_angle == 180, "bg kept");
    CHECK (out.nlines == 2 && STREQ (out.lines [1], "Wörld ✓") && !out.lines [2], "lines kept");
    CHECK (out.text_color == 0xFF0000, "text colour kept");
    CHECK (STREQ (out.locale, "de-DE") && STREQ (out.preset, "appstore.iphone_6_9"), "locale/preset kept");
    CHECK (STREQ (out.device, "iphone") && STREQ (out.format, "png"), "device/format kept");
    CHECK (out.shot_len == sizeof shot && memcmp (out.shot_data, shot, sizeof shot) == 0, "shot bytes kept");
    CHECK (out.shot_url == NULL, "absent shot_url is NULL");
    CHECK (out.nsub == 1 && STREQ (out.sub [0], "Sous-titre") && out.sub_color == 0x00FF00,
           "subtitle kept");
    CHECK (STREQ (out.text_position, "bottom") && out.padding_pm == 0 && out.font_weight == 800
           && out.font_size_max == 120 && out.font_size_min == 40, "layout numbers kept (padding 0 too)");
    CHECK (STREQ (out.fit, "cover") && STREQ (out.finish, "silver") && STREQ (out.store, "appstore")
           && STREQ (out.bg_image_url, "https://acme.app/bg.png") && out.display_stated && out.text_fallback
           && STREQ (out.untranslated_of, "en-US"),
           "layout strings and flags kept");
    proto_slide_free (&out);
    proto_slide_free (&out);       /* idempotent */
    CHECK (out.shot_data == NULL && out.lines [0] == NULL, "free NULLs pointers");

    /* url instead of data, no locale/preset */
    in.shot_data = NULL;
    in.shot_len = 0;
    in.shot_url = "https://example.com/a.png";
    in.locale [0] = in.preset [0] = '\0';
    in.nlines = 0;
    sb.size = 0;
    CHECK (proto_slide_encode (&in, &sb) == 0, "slide with url encodes");
    CHECK (proto_slide_decode (sb.data, sb.size, &out, err) == 0, "decodes: %s", err);
    CHECK (out.shot_url && STREQ (out.shot_url, in.shot_url) && !out.shot_data && out.nlines == 0,
           "url kept, no data, no lines");
    CHECK (out.locale [0] == '\0' && out.preset [0] == '\0', "empty locale/preset");
    proto_slide_free (&out);

    /* every truncation fails cleanly */
    for (size_t n = 0; n < sb.size; n++) {
        int rc = proto_slide_decode (sb.data, n, &out, err);
        CHECK (rc == -1 && err [0], "truncated slide (%zu of %zu bytes) rejected", n, sb.size);
        proto_slide_free (&out);
    }
    /* trailing garbage */
    msgpack_sbuffer_write (&sb, "\x00", 1);
    EXPECT_ERR (proto_slide_decode (sb.data, sb.size, &out, ERRBUF), "trailing bytes after the body");
    msgpack_sbuffer_destroy (&sb);

    /* over-long headline line, too many lines, too many colours */
    char longline [EASEL_MAX_HEADLINE_BYTES + 2];
    memset (longline, 'x', sizeof longline - 1);
    longline [sizeof longline - 1] = '\0';
    proto_slide_t bad = in;
    bad.shot_url = NULL;
    bad.nlines = 1;
    bad.lines [0] = longline;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_slide_encode (&bad, &sb) == -1 && sb.size == 0,
           "an over-long line is refused by the encoder (test_proto_table: and by the decoder)");
    msgpack_sbuffer_destroy (&sb);

    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 10);
    s_kv_int (&pk, "v", 1); s_kv_int (&pk, "slide", 0);
    s_kv_int (&pk, "width", 100); s_kv_int (&pk, "height", 100);
    s_key (&pk, "bg_colors"); msgpack_pack_array (&pk, 1); msgpack_pack_uint32 (&pk, 0);
    s_kv_int (&pk, "bg_angle", 0);
    s_key (&pk, "lines"); msgpack_pack_array (&pk, 5);
    for (int i = 0; i < 5; i++) msgpack_pack_str (&pk, 0);
    s_kv_int (&pk, "text_color", 0); s_kv_str (&pk, "device", "none"); s_kv_str (&pk, "format", "png");
    EXPECT_ERR (proto_slide_decode (sb.data, sb.size, &out, ERRBUF), "field 'lines' has too many items");
    msgpack_sbuffer_destroy (&sb);
}

static void
test_create_render (void)
{
    proto_task_spec_t tasks [2] = {
        { .slide = 0, .width = 1290, .height = 2796, .spec = "\x01\x02\x00\x03", .spec_len = 4 },
        { .slide = 1, .width = 100, .height = 200, .spec = "", .spec_len = 0 },
    };
    snprintf (tasks [0].locale, sizeof tasks [0].locale, "en-US");
    snprintf (tasks [0].preset, sizeof tasks [0].preset, "appstore.iphone_6_9");
    snprintf (tasks [0].format, sizeof tasks [0].format, "png");
    snprintf (tasks [1].format, sizeof tasks [1].format, "png");
    proto_create_render_t in = { .sync = true, .webhook_url = "https://hook.example/x",
                                 .metadata_json = "{\"a\":1}", .ntasks = 2, .tasks = tasks };
    CHECK (proto_id_new ("req_", in.rid, sizeof in.rid) == 0, "rid");
    memset (in.auth, 'a', 64);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    CHECK (proto_create_render_encode (&in, &sb) == 0, "encodes");
    proto_create_render_t out;
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_create_render_decode (sb.data, sb.size, &out, err) == 0, "decodes: %s", err);
    CHECK (STREQ (out.rid, in.rid) && STREQ (out.auth, in.auth) && out.sync, "header kept");
    CHECK (STREQ (out.webhook_url, in.webhook_url) && STREQ (out.metadata_json, "{\"a\":1}"), "strings kept");
    CHECK (out.ntasks == 2, "2 tasks, got %d", out.ntasks);
    CHECK (out.tasks [0].spec_len == 4 && memcmp (out.tasks [0].spec, "\x01\x02\x00\x03", 4) == 0, "spec bytes kept");
    CHECK (STREQ (out.tasks [0].preset, "appstore.iphone_6_9") && STREQ (out.tasks [0].locale, "en-US"), "preset kept");
    CHECK (out.tasks [1].spec_len == 0 && out.tasks [1].width == 100 && out.tasks [1].slide == 1, "task 1 kept");
    CHECK (!out.no_cache, "the image cache is on unless asked");
    proto_create_render_free (&out);
    proto_create_render_free (&out);
    in.no_cache = true;
    sb.size = 0;
    CHECK (proto_create_render_encode (&in, &sb) == 0 && proto_create_render_decode (sb.data, sb.size, &out, err) == 0
           && out.no_cache, "no_cache kept: %s", err);
    proto_create_render_free (&out);
    in.no_cache = false;

    /* inline images: carried with their sha256, or named as objects the
       gateway stored (no bytes, their size and MD5) */
    proto_blob_t blobs [2] = { { .data = (uint8_t *) "INLINE", .len = 6 }, { .bytes = 77 } };
    /* sha256 ("INLINE"), as sha256sum prints it */
    snprintf (blobs [0].sha256, sizeof blobs [0].sha256, "%s", "b3d48d5c8cc2c6e19f769d3ff6f25f4a03f7b1b1b0a8424e1cf1110415bd4897");
    memset (blobs [1].sha256, 'b', 64);
    snprintf (blobs [1].name, sizeof blobs [1].name, "upl_inline");
    memset (blobs [1].md5, 'c', 32);
    in.nblobs = 2;
    in.blobs = blobs;
    sb.size = 0;
    CHECK (proto_create_render_encode (&in, &sb) == 0 && proto_create_render_decode (sb.data, sb.size, &out, err) == 0
           && out.nblobs == 2 && out.blobs [0].len == 6 && !out.blobs [0].name [0]
           && STREQ (out.blobs [1].name, "upl_inline") && out.blobs [1].bytes == 77 && out.blobs [1].len == 0
           && STREQ (out.blobs [1].md5, blobs [1].md5), "carried and named blobs round trip: %s", err);
    proto_create_render_free (&out);
    blobs [1].data = (uint8_t *) "X";
    blobs [1].len = 1;
    sb.size = 0;
    CHECK (proto_create_render_encode (&in, &sb) == 0 && proto_create_render_decode (sb.data, sb.size, &out, err) == -1
           && strstr (err, "stored blob"), "a named blob carrying bytes is refused: %s", err);
    blobs [1].data = NULL;
    blobs [1].len = 0;
    blobs [1].md5 [0] = 'z';
    sb.size = 0;
    CHECK (proto_create_render_encode (&in, &sb) == 0 && proto_create_render_decode (sb.data, sb.size, &out, err) == -1,
           "a named blob's md5 is hex: %s", err);
    in.nblobs = 0;
    in.blobs = NULL;

    in.webhook_url = NULL;
    in.metadata_json = NULL;
    sb.size = 0;
    CHECK (proto_create_render_encode (&in, &sb) == 0, "encodes without webhook");
    CHECK (proto_create_render_decode (sb.data, sb.size, &out, err) == 0, "decodes: %s", err);
    CHECK (out.webhook_url == NULL && STREQ (out.metadata_json, "{}"), "absent webhook NULL, metadata {}");
    proto_create_render_free (&out);

    /* oversize metadata and url */
    char *big = malloc (EASEL_MAX_URL_BYTES + 2);
    memset (big, 'u', EASEL_MAX_URL_BYTES + 1);
    big [EASEL_MAX_URL_BYTES + 1] = '\0';
    in.webhook_url = big;
    sb.size = 0;
    CHECK (proto_create_render_encode (&in, &sb) == -1 && sb.size == 0,
           "an over-long webhook_url is refused by the encoder");
    free (big);
    in.webhook_url = NULL;

    /* too many tasks: encoder refuses, decoder refuses a hand-made one */
    in.ntasks = EASEL_MAX_IMAGES_PER_RENDER + 1;
    sb.size = 0;
    CHECK (proto_create_render_encode (&in, &sb) == -1 && sb.size == 0, "encoder refuses 501 tasks and rolls back");
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 5);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "rid", "r"); s_kv_str (&pk, "auth", "a");
    s_kv_str (&pk, "metadata_json", "{}");
    s_key (&pk, "sync"); msgpack_pack_false (&pk);
    sb.data [0] = (char) 0x86;     /* 6 entries: add tasks */
    s_key (&pk, "tasks"); msgpack_pack_array (&pk, EASEL_MAX_IMAGES_PER_RENDER + 1);
    for (int i = 0; i <= EASEL_MAX_IMAGES_PER_RENDER; i++) msgpack_pack_map (&pk, 0);
    EXPECT_ERR (proto_create_render_decode (sb.data, sb.size, &out, ERRBUF), "field 'tasks' has too many items");
    msgpack_sbuffer_destroy (&sb);
}

static void
test_get_and_small (void)
{
    proto_get_t in = { .exp = 1700000000 }, out;
    snprintf (in.rid, sizeof in.rid, "r1");
    snprintf (in.id, sizeof in.id, "img_01ARZ3NDEKTSV4RRFFQ69G5FAV");
    memset (in.sig, 'f', 64);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_get_encode (&in, &sb) == 0, "get encodes");
    CHECK (proto_get_decode (sb.data, sb.size, &out, err) == 0, "get decodes: %s", err);
    CHECK (STREQ (out.id, in.id) && out.exp == in.exp && STREQ (out.sig, in.sig) && out.auth [0] == '\0', "get kept");
    CHECK (out.link_by [0] == '\0' && out.link_since [0] == '\0' && out.link_of [0] == '\0',
           "a plain get has no link fields");
    snprintf (in.link_by, sizeof in.link_by, "Dana Ø");
    snprintf (in.link_since, sizeof in.link_since, "rnd_01ARZ3NDEKTSV4RRFFQ69G5FAW");
    snprintf (in.link_of, sizeof in.link_of, "rnd_01ARZ3NDEKTSV4RRFFQ69G5FAX");
    sb.size = 0;
    CHECK (proto_get_encode (&in, &sb) == 0 && proto_get_decode (sb.data, sb.size, &out, err) == 0
           && STREQ (out.link_by, in.link_by) && STREQ (out.link_since, in.link_since)
           && STREQ (out.link_of, in.link_of), "a review link's fields round trip: %s", err);
    CHECK (!out.redirect_ok, "a get does not take a redirect unless it says so");
    in.redirect_ok = true;
    sb.size = 0;
    CHECK (proto_get_encode (&in, &sb) == 0 && proto_get_decode (sb.data, sb.size, &out, err) == 0
           && out.redirect_ok, "redirect_ok round trips: %s", err);
    CHECK (!out.key_only, "a get asks for the whole account unless it says key_only");
    size_t without = sb.size;
    in.key_only = true;
    sb.size = 0;
    CHECK (proto_get_encode (&in, &sb) == 0 && proto_get_decode (sb.data, sb.size, &out, err) == 0
           && out.key_only && sb.size > without,
           "key_only round trips and is on the wire only when set: %s", err);
    in.key_only = false;
    proto_review_t rv = { .action = "link", .exp = 5 }, rv2;
    snprintf (rv.rid, sizeof rv.rid, "r9");
    snprintf (rv.id, sizeof rv.id, "rnd_01ARZ3NDEKTSV4RRFFQ69G5FAX");
    snprintf (rv.link_by, sizeof rv.link_by, "Priya");
    snprintf (rv.link_since, sizeof rv.link_since, "rnd_01ARZ3NDEKTSV4RRFFQ69G5FAW");
    sb.size = 0;
    CHECK (proto_review_encode (&rv, &sb) == 0 && proto_review_decode (sb.data, sb.size, &rv2, err) == 0
           && STREQ (rv2.link_by, "Priya") && STREQ (rv2.link_since, rv.link_since) && STREQ (rv2.action, "link")
           && rv2.exp == 5, "REVIEW link fields round trip: %s", err);
    proto_review_free (&rv2);

    /* uploads: bytes and header facts round trip; an empty body or both
       lookup keys are refused */
    proto_file_put_t fp = { .rid = "r2", .format = "webp", .width = 3, .height = 4,
                            .data = (uint8_t *) "abc", .len = 3 }, fp2;
    sb.size = 0;
    CHECK (proto_file_put_encode (&fp, &sb) == 0 && proto_file_put_decode (sb.data, sb.size, &fp2, err) == 0,
           "file_put round trip: %s", err);
    CHECK (STREQ (fp2.format, "webp") && fp2.width == 3 && fp2.height == 4 && fp2.len == 3
           && memcmp (fp2.data, "abc", 3) == 0, "file_put kept");
    proto_file_put_free (&fp2);
    proto_file_put_free (&fp2);
    fp.len = 0;
    sb.size = 0;
    CHECK (proto_file_put_encode (&fp, &sb) == 0 && proto_file_put_decode (sb.data, sb.size, &fp2, err) == -1
           && strstr (err, "carries data"), "an upload without bytes or a name is refused: %s", err);
    /* an upload the gateway stored itself names its incoming object */
    snprintf (fp.name, sizeof fp.name, "upl_x");
    memset (fp.sha256, 'b', 64);
    memset (fp.md5, 'c', 32);
    fp.bytes = 1234;
    sb.size = 0;
    CHECK (proto_file_put_encode (&fp, &sb) == 0 && proto_file_put_decode (sb.data, sb.size, &fp2, err) == 0
           && STREQ (fp2.name, "upl_x") && STREQ (fp2.sha256, fp.sha256) && STREQ (fp2.md5, fp.md5)
           && fp2.bytes == 1234 && fp2.len == 0, "a named upload round trips: %s", err);
    proto_file_put_free (&fp2);
    fp.data = (uint8_t *) "abc";
    fp.len = 3;
    sb.size = 0;
    CHECK (proto_file_put_encode (&fp, &sb) == 0 && proto_file_put_decode (sb.data, sb.size, &fp2, err) == -1,
           "a named upload carrying bytes too is refused: %s", err);
    fp.len = 0;
    fp.md5 [0] = 'x';
    sb.size = 0;
    CHECK (proto_file_put_encode (&fp, &sb) == 0 && proto_file_put_decode (sb.data, sb.size, &fp2, err) == -1,
           "a named upload's md5 is hex: %s", err);
    proto_upload_begin_t ub = { .rid = "r4", .bytes = 10 }, ub2;
    memset (ub.sha256, 'd', 64);
    sb.size = 0;
    CHECK (proto_upload_begin_encode (&ub, &sb) == 0 && proto_upload_begin_decode (sb.data, sb.size, &ub2, err) == 0
           && ub2.bytes == 10 && STREQ (ub2.sha256, ub.sha256), "upload_begin round trips: %s", err);
    ub.bytes = (int64_t) EASEL_MAX_SOURCE_BYTES + 1;
    sb.size = 0;
    CHECK (proto_upload_begin_encode (&ub, &sb) == 0 && proto_upload_begin_decode (sb.data, sb.size, &ub2, err) == -1
           && strstr (err, "bytes"), "an upload over the source cap is refused: %s", err);
    CHECK (STREQ (proto_cmd_name (PROTO_UPLOAD_BEGIN), "UPLOAD_BEGIN"), "upload_begin's name");
    proto_file_find_t ff = { .rid = "r3" }, ff2;
    memset (ff.sha256, 'a', 64);
    sb.size = 0;
    CHECK (proto_file_find_encode (&ff, &sb) == 0 && proto_file_find_decode (sb.data, sb.size, &ff2, err) == 0
           && STREQ (ff2.sha256, ff.sha256) && ff2.id [0] == '\0', "file_find by sha256: %s", err);
    snprintf (ff.id, sizeof ff.id, "file_x");
    sb.size = 0;
    CHECK (proto_file_find_encode (&ff, &sb) == 0 && proto_file_find_decode (sb.data, sb.size, &ff2, err) != 0
           && strstr (err, "exactly one"), "file_find with both refused: %s", err);
    CHECK (STREQ (proto_cmd_name (PROTO_FILE_PUT), "FILE_PUT") && STREQ (proto_cmd_name (PROTO_FILE_FIND), "FILE_FIND"),
           "file command names");

    proto_simple_t s = { .renderers = 7, .last_seq = 123456789012LL }, s2;
    snprintf (s.rid, sizeof s.rid, "rnd_x");
    sb.size = 0;
    CHECK (proto_simple_encode (&s, &sb) == 0 && proto_simple_decode (sb.data, sb.size, &s2, err) == 0,
           "simple round trip: %s", err);
    CHECK (STREQ (s2.rid, "rnd_x") && s2.renderers == 7 && s2.last_seq == 123456789012LL, "simple kept");
    /* {v:1} alone is a valid simple body (HEARTBEAT) */
    CHECK (proto_simple_decode ("\x81\xa1v\x01", 4, &s2, err) == 0 && s2.rid [0] == '\0', "bare {v} is a simple body: %s", err);

    proto_ready_t r = { .slots = 4 }, r2;
    snprintf (r.name, sizeof r.name, "host:123");
    sb.size = 0;
    CHECK (proto_ready_encode (&r, &sb) == 0 && proto_ready_decode (sb.data, sb.size, &r2, err) == 0,
           "ready round trip: %s", err);
    CHECK (STREQ (r2.name, "host:123") && r2.slots == 4, "ready kept");
    r.slots = 0;
    sb.size = 0;
    proto_ready_encode (&r, &sb);
    EXPECT_ERR (proto_ready_decode (sb.data, sb.size, &r2, ERRBUF), "field 'slots' out of range");

    proto_events_since_t es = { .since = 42, .limit = 100 }, es2;
    snprintf (es.rid, sizeof es.rid, "w1");
    sb.size = 0;
    CHECK (proto_events_since_encode (&es, &sb) == 0 && proto_events_since_decode (sb.data, sb.size, &es2, err) == 0,
           "events_since round trip: %s", err);
    CHECK (es2.since == 42 && es2.limit == 100 && STREQ (es2.rid, "w1"), "events_since kept");
    es.limit = EASEL_EVENTS_PAGE_MAX + 1;
    sb.size = 0;
    proto_events_since_encode (&es, &sb);
    EXPECT_ERR (proto_events_since_decode (sb.data, sb.size, &es2, ERRBUF), "field 'limit' out of range");
    msgpack_sbuffer_destroy (&sb);
}

static void
test_render (void)
{
    proto_image_t imgs [2];
    memset (imgs, 0, sizeof imgs);
    snprintf (imgs [0].id, sizeof imgs [0].id, "img_A");
    snprintf (imgs [0].status, sizeof imgs [0].status, "succeeded");
    snprintf (imgs [0].format, sizeof imgs [0].format, "png");
    snprintf (imgs [0].locale, sizeof imgs [0].locale, "fr-FR");
    imgs [0].width = 1290; imgs [0].height = 2796; imgs [0].bytes = 123456;
    imgs [0].url_exp = 1800000000; imgs [0].attempts = 1;
    char findings [] = "[{\"rule\":\"blank_screen\",\"severity\":\"warning\",\"message\":\"m\"}]";
    imgs [0].findings_json = findings;
    memset (imgs [0].sha256, 'e', 64);
    memset (imgs [0].url_sig, 'd', 64);
    imgs [0].cached = true;
    memset (imgs [0].thumb, '7', PROTO_THUMB_HEX);
    snprintf (imgs [1].status, sizeof imgs [1].status, "failed");
    snprintf (imgs [1].format, sizeof imgs [1].format, "png");
    imgs [1].slide = 1; imgs [1].attempts = 3;
    CHECK (proto_error_set (&imgs [1].error, "screenshot_fetch_failed", "could not fetch", "slides[1].screenshot.url") == 0, "error set");

    proto_render_t in = { .created_at_ms = 1700000000123LL, .completed_at_ms = 1700000001123LL,
                          .done = 2, .total = 2, .credits_used = 1, .webhook_url = "https://h/x",
                          .metadata_json = "{}", .nimages = 2, .images = imgs };
    snprintf (in.rid, sizeof in.rid, "r");
    snprintf (in.id, sizeof in.id, "rnd_1");
    snprintf (in.account_id, sizeof in.account_id, "acct_1");
    snprintf (in.status, sizeof in.status, "failed");
    snprintf (in.webhook_status, sizeof in.webhook_status, "pending");
    proto_error_set (&in.error, "partial_failure", "1 of 2 images failed", NULL);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err [PROTO_ERR_MAX] = "";
    proto_render_t out;
    CHECK (proto_render_encode (&in, &sb) == 0, "render encodes");
    CHECK (proto_render_decode (sb.data, sb.size, &out, err) == 0, "render decodes: %s", err);
    CHECK (out.created_at_ms == in.created_at_ms && out.completed_at_ms == in.completed_at_ms, "times kept");
    CHECK (out.done == 2 && out.total == 2 && out.credits_used == 1, "counts kept");
    CHECK (STREQ (out.webhook_url, "https://h/x") && STREQ (out.webhook_status, "pending"), "webhook kept");
    CHECK (STREQ (out.error.code, "partial_failure") && out.error.param == NULL, "render error kept, param NULL");
    CHECK (out.nimages == 2 && STREQ (out.images [0].sha256, imgs [0].sha256) && out.images [0].bytes == 123456,
           "image 0 kept");
    CHECK (out.images [0].url_exp == 1800000000 && STREQ (out.images [0].url_sig, imgs [0].url_sig), "url sig kept");
    CHECK (out.images [0].error.code [0] == '\0' && out.images [0].error.message == NULL, "no error on image 0");
    CHECK (STREQ (out.images [0].findings_json, findings) && out.images [1].findings_json == NULL,
           "image findings kept, absent stays NULL");
    CHECK (out.images [0].cached && !out.images [1].cached && STREQ (out.images [0].thumb, imgs [0].thumb)
           && out.images [1].thumb [0] == '\0', "cached and thumb kept, absent stays unset");
    CHECK (STREQ (out.images [1].error.param, "slides[1].screenshot.url") && out.images [1].attempts == 3,
           "image 1 error kept");
    proto_render_free (&out);
    proto_render_free (&out);
    proto_error_free (&imgs [1].error);
    proto_error_free (&in.error);

    /* processing render: no images yet, no error */
    in.nimages = 0;
    in.images = NULL;
    in.webhook_url = NULL;
    sb.size = 0;
    CHECK (proto_render_encode (&in, &sb) == 0 && proto_render_decode (sb.data, sb.size, &out, err) == 0,
           "empty render round trip: %s", err);
    CHECK (out.nimages == 0 && out.images == NULL && out.webhook_url == NULL && out.error.message == NULL,
           "empty render fields");
    proto_render_free (&out);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_file_errmsg_events (void)
{
    char err [PROTO_ERR_MAX] = "";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);

    uint8_t png [] = { 0x89, 'P', 'N', 'G', 0, 1, 2 };
    proto_file_t f = { .data = png, .len = sizeof png }, f2;
    snprintf (f.content_type, sizeof f.content_type, "image/png");
    snprintf (f.id, sizeof f.id, "img_1");
    CHECK (proto_file_encode (&f, &sb) == 0 && proto_file_decode (sb.data, sb.size, &f2, err) == 0,
           "file round trip: %s", err);
    CHECK (f2.len == sizeof png && memcmp (f2.data, png, sizeof png) == 0 && STREQ (f2.content_type, "image/png"),
           "file bytes kept");
    CHECK (f2.location == NULL, "a file with bytes names no location");
    proto_file_free (&f2);
    proto_file_free (&f2);
    char where [] = "https://bucket.s3.example/p/ab/abc?X-Amz-Signature=00";
    proto_file_t fl = { .data = (uint8_t *) "", .len = 0, .location = where };
    snprintf (fl.id, sizeof fl.id, "img_2");
    sb.size = 0;
    CHECK (proto_file_encode (&fl, &sb) == 0 && proto_file_decode (sb.data, sb.size, &f2, err) == 0
           && f2.location && STREQ (f2.location, where) && f2.len == 0, "a file's location round trips: %s", err);
    proto_file_free (&f2);

    proto_errmsg_t e = { .status = 404 }, e2;
    snprintf (e.rid, sizeof e.rid, "r9");
    proto_error_set (&e.error, "not_found", "No such render", "id");
    sb.size = 0;
    CHECK (proto_errmsg_encode (&e, &sb) == 0 && proto_errmsg_decode (sb.data, sb.size, &e2, err) == 0,
           "errmsg round trip: %s", err);
    CHECK (e2.status == 404 && STREQ (e2.error.code, "not_found") && STREQ (e2.error.message, "No such render")
           && STREQ (e2.error.param, "id"), "errmsg kept");
    proto_errmsg_free (&e2);
    proto_errmsg_free (&e);
    proto_errmsg_free (&e);
    /* an ERROR without its error object is missing a field */
    sb.size = 0;
    proto_errmsg_encode (&e, &sb);
    EXPECT_ERR (proto_errmsg_decode (sb.data, sb.size, &e2, ERRBUF), "missing field 'error'");

    proto_event_t evs [2];
    memset (evs, 0, sizeof evs);
    evs [0].seq = 5; evs [0].created_at_ms = 99; evs [0].attempts = 2;
    snprintf (evs [0].id, sizeof evs [0].id, "evt_1");
    snprintf (evs [0].type, sizeof evs [0].type, "render.succeeded");
    snprintf (evs [0].object_id, sizeof evs [0].object_id, "rnd_1");
    snprintf (evs [0].delivery_id, sizeof evs [0].delivery_id, "dlv_1");
    evs [0].url = "https://hook/x"; evs [0].secret = "whsec_abc"; evs [0].payload = "{\"id\":\"evt_1\"}";
    evs [1].seq = 6;
    snprintf (evs [1].type, sizeof evs [1].type, "render.failed");
    proto_events_t ev = { .last_seq = 6, .nevents = 2, .events = evs }, ev2;
    snprintf (ev.rid, sizeof ev.rid, "w");
    sb.size = 0;
    CHECK (proto_events_encode (&ev, &sb) == 0 && proto_events_decode (sb.data, sb.size, &ev2, err) == 0,
           "events round trip: %s", err);
    CHECK (ev2.last_seq == 6 && ev2.nevents == 2, "events count kept");
    CHECK (STREQ (ev2.events [0].payload, evs [0].payload) && STREQ (ev2.events [0].secret, "whsec_abc")
           && STREQ (ev2.events [0].url, "https://hook/x") && ev2.events [0].attempts == 2, "event 0 kept");
    CHECK (ev2.events [1].url == NULL && ev2.events [1].payload == NULL && ev2.events [1].delivery_id [0] == '\0',
           "event 1 optional fields absent");
    proto_events_free (&ev2);
    proto_events_free (&ev2);
    ev.nevents = EASEL_EVENTS_PAGE_MAX + 1;
    sb.size = 0;
    CHECK (proto_events_encode (&ev, &sb) == -1, "events encoder refuses over page max");

    proto_delivery_report_t d = { .ok = false, .status_code = 500, .latency_ms = 321,
                                  .error = "HTTP 500", .response_head = "oops" }, d2;
    snprintf (d.delivery_id, sizeof d.delivery_id, "dlv_1");
    sb.size = 0;
    CHECK (proto_delivery_report_encode (&d, &sb) == 0
           && proto_delivery_report_decode (sb.data, sb.size, &d2, err) == 0, "report round trip: %s", err);
    CHECK (!d2.ok && d2.status_code == 500 && d2.latency_ms == 321 && STREQ (d2.error, "HTTP 500")
           && STREQ (d2.response_head, "oops"), "report kept");
    proto_delivery_report_free (&d2);
    d.ok = true; d.error = NULL; d.response_head = NULL; d.status_code = 204;
    sb.size = 0;
    CHECK (proto_delivery_report_encode (&d, &sb) == 0
           && proto_delivery_report_decode (sb.data, sb.size, &d2, err) == 0, "ok report: %s", err);
    CHECK (d2.ok && !d2.final && d2.error == NULL && d2.response_head == NULL,
           "absent error/response_head NULL, final false");
    proto_delivery_report_free (&d2);
    d.ok = false; d.final = true; d.status_code = 500;
    sb.size = 0;
    CHECK (proto_delivery_report_encode (&d, &sb) == 0
           && proto_delivery_report_decode (sb.data, sb.size, &d2, err) == 0 && d2.final,
           "a final report stays final: %s", err);
    proto_delivery_report_free (&d2);
    msgpack_sbuffer_destroy (&sb);
}

static void
test_work (void)
{
    char err [PROTO_ERR_MAX] = "";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_task_t t = { .attempt = 2, .spec = "\x81\xa1v\x01", .spec_len = 4 }, t2;
    snprintf (t.task_id, sizeof t.task_id, "img_1");
    CHECK (proto_task_encode (&t, &sb) == 0 && proto_task_decode (sb.data, sb.size, &t2, err) == 0,
           "task round trip: %s", err);
    CHECK (t2.attempt == 2 && t2.spec_len == 4 && memcmp (t2.spec, t.spec, 4) == 0 && STREQ (t2.task_id, "img_1"),
           "task kept");
    proto_task_free (&t2);
    proto_task_free (&t2);

    uint8_t img [1000];
    memset (img, 0xAB, sizeof img);
    proto_result_t r = { .attempt = 1, .width = 100, .height = 200, .data = img, .len = sizeof img,
                         .findings_json = "[{\"rule\":\"alpha\",\"severity\":\"error\",\"message\":\"m\"}]" }, r2;
    snprintf (r.task_id, sizeof r.task_id, "img_1");
    snprintf (r.format, sizeof r.format, "png");
    memset (r.thumb, 'a', PROTO_THUMB_HEX);
    sb.size = 0;
    CHECK (proto_result_encode (&r, &sb) == 0 && proto_result_decode (sb.data, sb.size, &r2, err) == 0,
           "result round trip: %s", err);
    CHECK (r2.len == sizeof img && memcmp (r2.data, img, sizeof img) == 0 && r2.width == 100 && r2.height == 200,
           "result kept");
    CHECK (r2.findings_json && strstr (r2.findings_json, "\"alpha\""), "result findings kept");
    CHECK (STREQ (r2.thumb, r.thumb), "result thumbnail kept");
    proto_result_free (&r2);
    proto_result_free (&r2);

    proto_fail_t f = { .attempt = 3, .retryable = true }, f2;
    snprintf (f.task_id, sizeof f.task_id, "img_2");
    proto_error_set (&f.error, "render_failed", "font missing", NULL);
    sb.size = 0;
    CHECK (proto_fail_encode (&f, &sb) == 0 && proto_fail_decode (sb.data, sb.size, &f2, err) == 0,
           "fail round trip: %s", err);
    CHECK (f2.retryable && f2.attempt == 3 && STREQ (f2.error.code, "render_failed")
           && STREQ (f2.error.message, "font missing") && f2.error.param == NULL, "fail kept");
    proto_fail_free (&f2);
    proto_fail_free (&f);
    msgpack_sbuffer_destroy (&sb);
}

/* ---- rejections ---- */

static void
test_rejections (void)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    proto_get_t g;

    msgpack_pack_map (&pk, 3);
    s_kv_int (&pk, "v", 2); s_kv_str (&pk, "rid", "r"); s_kv_str (&pk, "auth", "");
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "unsupported version 2");

    sb.size = 0;
    msgpack_pack_map (&pk, 3);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "rid", "r"); s_kv_str (&pk, "auth", "");
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "missing field 'id'");

    sb.size = 0;
    msgpack_pack_map (&pk, 2);
    s_kv_str (&pk, "rid", "r"); s_kv_str (&pk, "auth", "");
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "missing field 'v'");

    sb.size = 0;
    msgpack_pack_map (&pk, 4);
    s_kv_int (&pk, "v", 1); s_kv_int (&pk, "rid", 7); s_kv_str (&pk, "auth", ""); s_kv_str (&pk, "id", "x");
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "field 'rid' must be a string");

    sb.size = 0;
    msgpack_pack_map (&pk, 5);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "rid", "r"); s_kv_str (&pk, "auth", ""); s_kv_str (&pk, "id", "x");
    s_kv_str (&pk, "exp", "soon");
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "field 'exp' must be an integer");

    sb.size = 0;
    msgpack_pack_map (&pk, 4);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "rid", "0123456789012345678901234567890123456789");
    s_kv_str (&pk, "auth", ""); s_kv_str (&pk, "id", "x");
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "field 'rid' is too long");

    sb.size = 0;
    msgpack_pack_array (&pk, 1);
    msgpack_pack_int (&pk, 1);
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "body must be a map");

    proto_task_t t;
    sb.size = 0;
    msgpack_pack_map (&pk, 4);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "task_id", "img_1"); s_kv_int (&pk, "attempt", 1);
    s_kv_str (&pk, "spec", "not binary");
    EXPECT_ERR (proto_task_decode (sb.data, sb.size, &t, ERRBUF), "field 'spec' must be binary");

    proto_fail_t f;
    sb.size = 0;
    msgpack_pack_map (&pk, 4);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "task_id", "img_1"); s_kv_int (&pk, "attempt", 1);
    s_kv_int (&pk, "retryable", 1);
    EXPECT_ERR (proto_fail_decode (sb.data, sb.size, &f, ERRBUF), "field 'retryable' must be a boolean");

    /* a header that claims 4 billion items must not allocate for them */
    EXPECT_ERR (proto_get_decode ("\x81\xa1v\xdd\xff\xff\xff\xff", 8, &g, ERRBUF), "truncated message");
    EXPECT_ERR (proto_get_decode ("\xdf\xff\xff\xff\xff", 5, &g, ERRBUF), "truncated message");
    EXPECT_ERR (proto_get_decode ("", 0, &g, ERRBUF), "truncated message");
    EXPECT_ERR (proto_get_decode ("\xc1", 1, &g, ERRBUF), "invalid msgpack byte");
    EXPECT_ERR (proto_get_decode ("\x81\xa1v\x01\x00", 5, &g, ERRBUF), "trailing bytes after the body");
    EXPECT_ERR (proto_get_decode (sb.data, (size_t) EASEL_MAX_MSG_BYTES + 1, &g, ERRBUF), "message too large");

    /* a string with a NUL inside is refused rather than silently cut */
    sb.size = 0;
    msgpack_pack_map (&pk, 4);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "rid", "r"); s_kv_str (&pk, "auth", "");
    s_key (&pk, "id"); msgpack_pack_str (&pk, 3); msgpack_pack_str_body (&pk, "a\0b", 3);
    EXPECT_ERR (proto_get_decode (sb.data, sb.size, &g, ERRBUF), "field 'id' contains a NUL byte");

    /* wrong item type inside an array frees what was decoded so far */
    proto_render_t r;
    sb.size = 0;
    msgpack_pack_map (&pk, 14);
    s_kv_int (&pk, "v", 1); s_kv_str (&pk, "rid", ""); s_kv_str (&pk, "id", "rnd_1");
    s_kv_str (&pk, "account_id", "a"); s_kv_str (&pk, "status", "processing");
    s_kv_int (&pk, "created_at_ms", 1); s_kv_int (&pk, "completed_at_ms", 0);
    s_kv_int (&pk, "done", 0); s_kv_int (&pk, "total", 1); s_kv_int (&pk, "credits_used", 0);
    s_kv_str (&pk, "webhook_url", "https://x"); s_kv_str (&pk, "webhook_status", "none");
    s_kv_str (&pk, "metadata_json", "{}");
    s_key (&pk, "images"); msgpack_pack_array (&pk, 1); msgpack_pack_int (&pk, 3);
    EXPECT_ERR (proto_render_decode (sb.data, sb.size, &r, ERRBUF), "items of 'images' must be maps");
    CHECK (r.webhook_url == NULL && r.images == NULL, "failed decode leaves the struct freed");
    msgpack_sbuffer_destroy (&sb);
}

/* Random bytes through every decoder of the message table. */
static void
test_garbage (void)
{
    srand (12345);
    char buf [256];
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = (size_t) (rand () % (int) sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf [i] = (char) (rand () & 0xff);
        if (n && iter % 2)
            buf [0] = (char) (0x80 | (rand () & 0x0f));   /* fixmap: go deeper more often */
        for (size_t k = 0; k < proto_msg_count (); k++) {
            const proto_msg_t *msg = proto_msg_at (k);
            void *self = calloc (1, proto_msg_size (msg));
            char err [PROTO_ERR_MAX] = "";
            if (proto_msg_decode (msg, buf, n, self, err) != 0)
                CHECK (err [0] != '\0', "a rejected garbage buffer has a reason (%s)", proto_msg_name (msg));
            proto_msg_free (msg, self);
            free (self);
        }
    }
}

static void
test_ids (void)
{
    char id [PROTO_ID_MAX];
    CHECK (proto_id_new ("rnd_", id, sizeof id) == 0, "id made");
    CHECK (strlen (id) == 4 + 26 && strncmp (id, "rnd_", 4) == 0, "rnd_ + 26 chars, got %s", id);
    CHECK (proto_id_valid (id, "rnd_"), "own id valid: %s", id);
    CHECK (!proto_id_valid (id, "img_"), "other prefix invalid");
    CHECK (proto_id_new ("file_", id, 5 + 26) == -1, "too-small buffer refused");
    CHECK (proto_id_new ("file_", id, 5 + 27) == 0 && proto_id_valid (id, "file_"), "exact buffer ok");
    CHECK (proto_id_valid ("img_01ARZ3NDEKTSV4RRFFQ69G5FAV", "img_"), "canonical ULID valid");
    CHECK (!proto_id_valid ("img_01ARZ3NDEKTSV4RRFFQ69G5FA", "img_"), "25 chars invalid");
    CHECK (!proto_id_valid ("img_01ARZ3NDEKTSV4RRFFQ69G5FAVX", "img_"), "27 chars invalid");
    CHECK (!proto_id_valid ("img_01ARZ3NDEKTSV4RRFFQ69G5FAI", "img_"), "I is not Crockford");
    CHECK (!proto_id_valid ("img_01arz3ndektsv4rrffq69g5fav", "img_"), "lowercase invalid");
    CHECK (!proto_id_valid (NULL, "img_"), "NULL invalid");

    /* time prefix: first 10 chars encode ms; it never goes backwards */
    enum { N = 10000 };
    char (*ids) [PROTO_ID_MAX] = calloc (N, PROTO_ID_MAX);
    for (int i = 0; i < N; i++) {
        proto_id_new ("", ids [i], PROTO_ID_MAX);
        if (i)
            CHECK (strncmp (ids [i - 1], ids [i], 10) <= 0, "time prefix monotone: %s then %s", ids [i - 1], ids [i]);
    }
    qsort (ids, N, PROTO_ID_MAX, (int (*) (const void *, const void *)) strcmp);
    for (int i = 1; i < N; i++)
        CHECK (strcmp (ids [i - 1], ids [i]) != 0, "10000 ids unique, duplicate %s", ids [i]);
    free (ids);

    /* the per-thread random pool: a forked child never repeats the parent's next id */
    char parent [PROTO_ID_MAX], child [PROTO_ID_MAX] = "";
    proto_id_new ("", parent, sizeof parent);          /* the pool is part used */
    int fds [2];
    REQUIRE (pipe (fds) == 0, "pipe");
    pid_t pid = fork ();
    REQUIRE (pid >= 0, "fork");
    if (pid == 0) {
        char mine [PROTO_ID_MAX];
        proto_id_new ("", mine, sizeof mine);
        ssize_t w = write (fds [1], mine, sizeof mine);
        _exit (w == (ssize_t) sizeof mine ? 0 : 1);
    }
    proto_id_new ("", parent, sizeof parent);
    ssize_t got = read (fds [0], child, sizeof child);
    waitpid (pid, NULL, 0);
    close (fds [0]);
    close (fds [1]);
    CHECK (got == (ssize_t) sizeof child && strcmp (parent + 10, child + 10) != 0,
           "after fork the parent's and the child's next ids differ in their random part: %s %s",
           parent, child);
    CHECK (STREQ (proto_cmd_name (PROTO_STATE_ACK), "STATE_ACK") && STREQ (proto_cmd_name (PROTO_LEASE), "LEASE"),
           "the read lease's command names");
    CHECK (STREQ (proto_cmd_name (PROTO_CREATE_RENDER), "CREATE_RENDER"), "cmd name");
    CHECK (STREQ (proto_cmd_name (0x99), "UNKNOWN"), "unknown cmd name");
}

int
main (void)
{
    test_slide ();
    test_create_render ();
    test_get_and_small ();
    test_render ();
    test_file_errmsg_events ();
    test_work ();
    test_rejections ();
    test_garbage ();
    test_ids ();
    if (check_failures) {
        fprintf (stderr, "test_proto: %d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("test_proto: all checks passed\n");
    return 0;
}
