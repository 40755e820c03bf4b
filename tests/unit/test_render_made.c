/*  test_render_made.c: the render a create answers without reading it back
    (job_store_render_create's `made`) is, encoded as RENDER, byte for byte
    the render job_store_render_get reads back in the same transaction: a
    render with a webhook and metadata, one without, one whose images are
    served from the image cache (findings, thumbnail, signed URL), and one
    that asks no cache. And what a pass reads again after its own writes
    (a backend may keep an answer for the rest of the pass; PostgreSQL
    does): a picture that succeeded earlier in the pass is served to a
    create after it; a key revoked in the pass stops authenticating; credits
    added in the pass show in the next check. Runs on either backend
    (store_test.h).
    Single thread. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Encodes r as the scheduler does (rid and stream fields left zero). */
static void
s_encode (const proto_render_t *r, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init (sb);
    REQUIRE (proto_render_encode (r, sb) == 0, "a render encodes");
}

/* Creates req at now in one transaction and compares made with the read
   back; returns the render id in id. cached: how many images must have
   come from the cache. */
static void
s_create_compare (job_store_t *store, const char *what, const char *account,
                  const proto_create_render_t *req, int64_t now, int cached,
                  char id [PROTO_ID_MAX])
{
    char err [256] = "";
    proto_render_t made, back;
    memset (&made, 0, sizeof made);
    memset (&back, 0, sizeof back);
    REQUIRE (job_store_begin (store, err) == 0, "%s: begin: %s", what, err);
    REQUIRE (job_store_render_create (store, account, req, now, id, &made, err) == 0,
             "%s: create should succeed: %s", what, err);
    REQUIRE (job_store_render_get (store, id, NULL, now, &back, err) == 0,
             "%s: read back: %s", what, err);
    REQUIRE (job_store_commit (store, err) == 0, "%s: commit: %s", what, err);
    int hits = 0;
    for (int32_t i = 0; i < made.nimages; i++)
        hits += made.images [i].cached;
    CHECK (hits == cached, "%s: %d images should come from the cache, made says %d", what, cached, hits);
    CHECK (strcmp (made.id, id) == 0, "%s: made is the new render %s, not %s", what, id, made.id);
    msgpack_sbuffer a, b;
    s_encode (&made, &a);
    s_encode (&back, &b);
    CHECK (a.size == b.size && memcmp (a.data, b.data, a.size) == 0,
           "%s: the made render (%zu bytes) should encode as the read back (%zu bytes)",
           what, a.size, b.size);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
    proto_render_free (&made);
    proto_render_free (&back);
}

/* A slide spec the image cache keys (no URL: every input named by content). */
static void
s_task (proto_task_spec_t *t, msgpack_sbuffer *spec, const char *headline, int slide)
{
    proto_slide_t sl = { .width = 100, .height = 200, .bg_ncolors = 1, .device = "none",
                         .format = "png" };
    sl.nlines = 1;
    sl.lines [0] = (char *) headline;
    msgpack_sbuffer_init (spec);
    REQUIRE (proto_slide_encode (&sl, spec) == 0, "slide encodes");
    memset (t, 0, sizeof *t);
    t->spec = spec->data;
    t->spec_len = spec->size;
    t->slide = slide;
    t->width = 100;
    t->height = 200;
    snprintf (t->format, sizeof t->format, "png");
    snprintf (t->locale, sizeof t->locale, "de-DE");
    snprintf (t->preset, sizeof t->preset, "play.phone");
}

/* One pass of creates and the writes between them (a fresh store in dir). */
static void
s_one_pass (const char *dir, proto_task_spec_t *pic)
{
    char err [256] = "";
    job_store_t *store = store_test_open (dir, err);
    REQUIRE (store, "open: %s", err);
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "pass", 1, &key, err) == 0, "account: %s", err);
    char hash [65], who [PROTO_ID_MAX], id [PROTO_ID_MAX], later [PROTO_ID_MAX];
    util_sha256_hex (key.api_key, strlen (key.api_key), hash);
    int64_t now = util_now_ms (), available = 0;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_auth (store, hash, who) == 0 && strcmp (who, key.account_id) == 0,
           "the new key authenticates in the pass");
    CHECK (job_store_credits_check (store, key.account_id, 2, &available, err) == 1 && available == 1,
           "2 images on 1 credit are short (available %lld): %s", (long long) available, err);

    /* a create of a picture never drawn, then that image succeeds, then the picture again */
    proto_render_t made;
    memset (&made, 0, sizeof made);
    proto_create_render_t req = { .metadata_json = "{}", .ntasks = 1, .tasks = pic };
    REQUIRE (job_store_render_create (store, key.account_id, &req, now, id, &made, err) == 0, "create: %s", err);
    CHECK (made.nimages == 1 && !made.images [0].cached, "a new picture is not served from the cache");
    proto_render_free (&made);
    proto_task_t task;
    memset (&task, 0, sizeof task);
    REQUIRE (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1, "lease: %s", err);
    REQUIRE (strcmp (task.render_id, id) == 0, "the render's task is leased");
    uint8_t out [12] = { 7, 8, 9 };
    char out_sha [65];
    util_sha256_hex (out, sizeof out, out_sha);
    proto_result_t res = { .attempt = task.attempt, .width = 100, .height = 200, .data = out, .len = sizeof out };
    snprintf (res.task_id, sizeof res.task_id, "%s", task.task_id);
    snprintf (res.format, sizeof res.format, "png");
    REQUIRE (job_store_blob_add (store, out_sha, sizeof out, "image/png", err) == 0
          && job_store_task_succeed (store, &res, out_sha, now, err) == 0, "succeed: %s", err);
    proto_task_free (&task);
    memset (&made, 0, sizeof made);
    REQUIRE (job_store_render_create (store, key.account_id, &req, now + 1, later, &made, err) == 0,
             "create again: %s", err);
    CHECK (made.nimages == 1 && made.images [0].cached && strcmp (made.images [0].status, "succeeded") == 0,
           "the picture that succeeded earlier in the pass is served from the cache (status %s)",
           made.nimages ? made.images [0].status : "none");
    proto_render_free (&made);

    /* credits added, then a key revoked, in the same pass */
    char acct [PROTO_ID_MAX];
    int64_t balance = 0;
    REQUIRE (job_store_credits_add (store, key.account_id, 5, "top up", acct, &balance, err) == 0,
             "credits add: %s", err);
    CHECK (job_store_credits_check (store, key.account_id, 2, &available, err) == 0,
           "the credits added in the pass count at the next check: %s", err);
    REQUIRE (job_store_key_revoke (store, key.api_key, err) == 0, "revoke: %s", err);
    CHECK (job_store_auth (store, hash, who) == -1, "a key revoked in the pass stops authenticating in it");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    job_store_destroy (&store);
}

int
main (void)
{
    char dir [] = "/tmp/easel-test-made-XXXXXX";
    REQUIRE (mkdtemp (dir), "mkdtemp");
    char err [256] = "";
    job_store_t *store = store_test_open (dir, err);
    REQUIRE (store, "open: %s", err);
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "made", 100, &key, err) == 0, "account: %s", err);
    const char *acct = key.account_id;
    int64_t now = util_now_ms ();

    msgpack_sbuffer s1, s2, s3;
    proto_task_spec_t tasks [3];
    s_task (&tasks [0], &s1, "One", 0);
    s_task (&tasks [1], &s2, "Two", 1);
    s_task (&tasks [2], &s3, "Three", 2);
    char first [PROTO_ID_MAX], id [PROTO_ID_MAX], cmd [600];

    proto_create_render_t req = { .webhook_url = "https://hooks.example.com/easel",
                                  .metadata_json = "{\"release\":\"42\",\"n\":[1,2]}",
                                  .ntasks = 3, .tasks = tasks };
    s_create_compare (store, "webhook and metadata", acct, &req, now, 0, first);
    proto_create_render_t plain = { .ntasks = 1, .tasks = tasks };
    s_create_compare (store, "no webhook, no metadata", acct, &plain, now, 0, id);

    /* the first render's image of slide 0 succeeds, with findings and a thumbnail */
    proto_task_t task;
    memset (&task, 0, sizeof task);
    char settled [PROTO_ID_MAX];
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1, "lease: %s", err);
    REQUIRE (strcmp (task.render_id, first) == 0, "the oldest render's task is leased first");
    uint8_t out [10] = { 4, 5, 6 };
    char out_sha [65];
    util_sha256_hex (out, sizeof out, out_sha);
    REQUIRE (job_store_blob_add (store, out_sha, sizeof out, "image/png", err) == 0, "blob: %s", err);
    proto_result_t res = { .attempt = task.attempt, .width = 100, .height = 200, .data = out,
                           .len = sizeof out,
                           .findings_json = "[{\"rule\":\"contrast\",\"severity\":\"warn\",\"message\":\"low\"}]" };
    snprintf (res.task_id, sizeof res.task_id, "%s", task.task_id);
    snprintf (res.format, sizeof res.format, "png");
    memset (res.thumb, 'a', PROTO_THUMB_HEX);
    REQUIRE (job_store_task_succeed (store, &res, out_sha, now, err) == 0, "succeed: %s", err);
    proto_task_free (&task);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);

    /* slide 0's picture again, beside one never drawn: one image from the cache */
    proto_task_spec_t again [2] = { tasks [0], tasks [2] };
    proto_create_render_t hit = { .metadata_json = "{}", .ntasks = 2, .tasks = again };
    s_create_compare (store, "one image from the cache", acct, &hit, now + 5, 1, id);
    proto_create_render_t whole = { .ntasks = 1, .tasks = tasks };
    s_create_compare (store, "every image from the cache", acct, &whole, now + 7, 1, id);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_render_next_settled (store, settled, err) == 1, "a render served whole is ready to settle");
    job_store_rollback (store);
    whole.no_cache = true;
    s_create_compare (store, "no cache asked", acct, &whole, now + 9, 0, id);

    char pass_dir [] = "/tmp/easel-test-made-pass-XXXXXX";
    REQUIRE (mkdtemp (pass_dir), "mkdtemp");
    proto_task_spec_t pic;
    msgpack_sbuffer s4;
    s_task (&pic, &s4, "Drawn in the pass", 0);
    s_one_pass (pass_dir, &pic);
    msgpack_sbuffer_destroy (&s4);
    snprintf (cmd, sizeof cmd, "rm -rf %s", pass_dir);
    CHECK (system (cmd) == 0, "cleanup");

    msgpack_sbuffer_destroy (&s1);
    msgpack_sbuffer_destroy (&s2);
    msgpack_sbuffer_destroy (&s3);
    job_store_destroy (&store);
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK (system (cmd) == 0, "cleanup");
    return check_done ("render_made");
}
