/*  test_store_retention.c: the storage side of the store on a temp data dir:
    an inline image recorded once and named by the tasks that need it, a final
    render's specs and inline images dropped, storage counted per account,
    retention deleting final renders (never a processing one) while the
    ledger keeps balances, blob garbage collection by reference (a task's
    uploaded background pinned like its screenshot), the blob
    store's delete and orphan scan, task unlease, and the statement cache
    refusing past its cap in every build, and the directory fsyncs of a new
    blob. Single thread. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "blob_store.h"
#include "store/store_backend.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t s_image [1000];

/* A render of n tasks all naming one inline image (sha into sha). */
static void
s_create (job_store_t *store, const char *account, int n, char sha [65], char rid [PROTO_ID_MAX])
{
    proto_task_spec_t tasks [4];
    memset (tasks, 0, sizeof tasks);
    util_sha256_hex (s_image, sizeof s_image, sha);
    for (int i = 0; i < n; i++) {
        snprintf (tasks [i].format, sizeof tasks [i].format, "png");
        tasks [i].width = tasks [i].height = 100;
        tasks [i].spec = "spec-bytes";
        tasks [i].spec_len = 10;
        memcpy (tasks [i].blob, sha, 65);
    }
    proto_blob_t blob = { .data = s_image, .len = sizeof s_image };
    memcpy (blob.sha256, sha, 65);
    proto_create_render_t req = { .metadata_json = "{}", .ntasks = n, .tasks = tasks,
                                  .nblobs = 1, .blobs = &blob };
    char err [256] = "";
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_render_create (store, account, &req, util_now_ms (), rid, NULL, err) == 0,
             "render_create: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

static void
s_collect (const char *sha256, void *arg)
{
    char (*out) [65] = arg;
    snprintf (*out, 65, "%s", sha256);
}

static int
s_known_none (const char *sha256, void *arg)
{
    (void) sha256;
    (void) arg;
    return 0;
}

/* An image the cache serves is counted and charged once, at the render that
   drew it: the cache-hit count a create's credit check uses, the stored
   bytes while both renders live, and what their deletion gives back. */
static void
s_cached_bytes (job_store_t *store)
{
    char err [256] = "";
    job_store_new_key_t k, k2;
    REQUIRE (job_store_account_create (store, "cached", 100, &k, err) == 0, "account: %s", err);
    REQUIRE (job_store_account_create (store, "cached-other", 100, &k2, err) == 0, "account: %s", err);
    const char *acct = k.account_id;
    int64_t now = util_now_ms (), used = -1, hits = -1;
    REQUIRE (job_store_begin (store, err) == 0, "begin");
    /* an upload that stays: 50 bytes counted throughout */
    uint8_t keep [50];
    for (size_t i = 0; i < sizeof keep; i++)
        keep [i] = (uint8_t) (i * 31 + 5);
    job_store_upload_t f;
    memset (&f, 0, sizeof f);
    util_sha256_hex (keep, sizeof keep, f.sha256);
    snprintf (f.account_id, sizeof f.account_id, "%s", acct);
    snprintf (f.format, sizeof f.format, "png");
    f.bytes = sizeof keep;
    f.width = f.height = 5;
    f.created_at_ms = now;
    f.expires_at_ms = now + 1000000000;
    REQUIRE (job_store_upload_put (store, &f, "image/png", err) == 0, "upload: %s", err);

    proto_slide_t sl = { .width = 100, .height = 100, .bg_ncolors = 1, .device = "none", .format = "png" };
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_slide_encode (&sl, &sb) == 0, "slide encodes");
    proto_task_spec_t t = { .spec = sb.data, .spec_len = sb.size, .width = 100, .height = 100 };
    snprintf (t.format, sizeof t.format, "png");
    proto_create_render_t req = { .metadata_json = "{}", .ntasks = 1, .tasks = &t };
    CHECK (job_store_render_cache_hits (store, acct, &req, &hits, err) == 0 && hits == 0,
           "nothing is cached yet: %lld %s", (long long) hits, err);
    char first [PROTO_ID_MAX], second [PROTO_ID_MAX], settled [PROTO_ID_MAX];
    REQUIRE (job_store_render_create (store, acct, &req, now, first, NULL, err) == 0, "create: %s", err);
    proto_task_t task;
    memset (&task, 0, sizeof task);
    REQUIRE (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1, "lease: %s", err);
    uint8_t out [10] = { 4, 5, 6 };
    char out_sha [65];
    util_sha256_hex (out, sizeof out, out_sha);
    REQUIRE (job_store_blob_add (store, out_sha, sizeof out, "image/png", err) == 0, "add: %s", err);
    proto_result_t res = { .attempt = task.attempt, .width = 100, .height = 100, .data = out, .len = sizeof out };
    snprintf (res.task_id, sizeof res.task_id, "%s", task.task_id);
    snprintf (res.format, sizeof res.format, "png");
    REQUIRE (job_store_task_succeed (store, &res, out_sha, now, err) == 0, "succeed: %s", err);
    proto_task_free (&task);
    REQUIRE (job_store_render_next_settled (store, settled, err) == 1 && strcmp (settled, first) == 0, "settled");
    REQUIRE (job_store_render_complete (store, first, now, err) == 0, "complete: %s", err);
    CHECK (job_store_render_cache_hits (store, acct, &req, &hits, err) == 0 && hits == 1,
           "the drawn image is a cache hit now: %lld", (long long) hits);
    CHECK (job_store_render_cache_hits (store, k2.account_id, &req, &hits, err) == 0 && hits == 0,
           "never another account's: %lld", (long long) hits);
    req.no_cache = false;
    REQUIRE (job_store_render_create (store, acct, &req, now, second, NULL, err) == 0, "create again: %s", err);
    REQUIRE (job_store_render_next_settled (store, settled, err) == 1 && strcmp (settled, second) == 0,
             "served from the cache, settled at once");
    REQUIRE (job_store_render_complete (store, second, now, err) == 0, "complete: %s", err);
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == 60,
           "the upload and the drawn image, the cached one not again: %lld", (long long) used);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    msgpack_sbuffer_destroy (&sb);

    REQUIRE (job_store_begin (store, err) == 0, "begin");
    CHECK (job_store_retention_sweep (store, now + 1, 10, err) == 2, "both renders expire: %s", err);
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == 50,
           "their deletion gives the drawn bytes back once, the upload stays: %lld", (long long) used);
    char collected [65] = "";
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 1 && strcmp (collected, out_sha) == 0,
           "the drawn image's blob goes with its last render");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

int
main (void)
{
    char dir [] = "/tmp/easel-test-retention-XXXXXX";
    REQUIRE (mkdtemp (dir), "mkdtemp");
    char err [256] = "";
    job_store_t *store = store_test_open (dir, err);
    REQUIRE (store, "open: %s", err);
    blob_store_t *blobs = blob_store_new (dir, err);
    REQUIRE (blobs, "blob store: %s", err);
    for (size_t i = 0; i < sizeof s_image; i++)
        s_image [i] = (uint8_t) (i * 7);
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "ret", 100, &key, err) == 0, "account: %s", err);
    const char *acct = key.account_id;
    s_cached_bytes (store);

    /* one inline image for 3 tasks: one row, the tasks name it when leased */
    char sha [65], rid [PROTO_ID_MAX], put [65];
    unsigned syncs = blob_store_dir_syncs (blobs);
    CHECK (syncs == 1, "a new blobs/ directory is synced into the data dir, got %u syncs", syncs);
    REQUIRE (blob_store_put (blobs, s_image, sizeof s_image, put, err) == 0, "put: %s", err);
    CHECK (blob_store_dir_syncs (blobs) == syncs + 2,
           "a first file syncs its new shard into blobs/ and the shard, got %u",
           blob_store_dir_syncs (blobs) - syncs);
    syncs = blob_store_dir_syncs (blobs);
    REQUIRE (blob_store_put (blobs, s_image, sizeof s_image, put, err) == 0, "put again: %s", err);
    CHECK (blob_store_dir_syncs (blobs) == syncs, "the same bytes again write nothing");
    s_create (store, acct, 3, sha, rid);
    CHECK (strcmp (put, sha) == 0, "blob_store_put names the bytes by sha256");
    int64_t used = -1;
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == (int64_t) sizeof s_image,
           "storage used counts the inline image once: %lld", (long long) used);
    proto_task_t task;
    memset (&task, 0, sizeof task);
    int64_t now = util_now_ms ();
    REQUIRE (job_store_begin (store, err) == 0, "begin");
    CHECK (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1
           && strcmp (task.blob_sha256, sha) == 0, "a leased task names its blob: '%s'", task.blob_sha256);
    /* the disk was full: the task goes back without the try counted */
    CHECK (job_store_task_unlease (store, task.task_id, task.attempt, err) == 0, "unlease: %s", err);
    proto_task_free (&task);
    CHECK (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1 && task.attempt == 1,
           "after unlease the next lease is attempt 1 again, got %d", task.attempt);
    proto_task_free (&task);
    char collected [65] = "";
    /* a processing render's inline image is never collected */
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 0 && !collected [0],
           "nothing collected while the render is processing: %s", collected);
    CHECK (job_store_retention_sweep (store, now + 1000000, 10, err) == 0,
           "a processing render never expires");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);

    /* the render ends: results stored, then final */
    REQUIRE (job_store_begin (store, err) == 0, "begin");
    uint8_t out_png [10] = { 1, 2, 3 };
    char out_sha [65];
    REQUIRE (blob_store_put (blobs, out_png, sizeof out_png, out_sha, err) == 0, "put out: %s", err);
    REQUIRE (job_store_blob_add (store, out_sha, sizeof out_png, "image/png", err) == 0, "add: %s", err);
    for (int i = 0; i < 3; i++) {
        memset (&task, 0, sizeof task);
        if (i > 0)
            REQUIRE (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1, "lease %d", i);
        else {
            /* the task leased above */
            REQUIRE (job_store_task_requeue_leased (store, NULL, INT64_MAX, "test", 3, now, err) == 1,
                     "requeue: %s", err);
            REQUIRE (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1, "lease 0");
        }
        proto_result_t res = { .attempt = task.attempt, .width = 100, .height = 100,
                               .data = out_png, .len = sizeof out_png };
        snprintf (res.task_id, sizeof res.task_id, "%s", task.task_id);
        snprintf (res.format, sizeof res.format, "png");
        CHECK (job_store_task_succeed (store, &res, out_sha, now, err) == 0, "succeed: %s", err);
        proto_task_free (&task);
    }
    char settled [PROTO_ID_MAX];
    CHECK (job_store_render_next_settled (store, settled, err) == 1 && strcmp (settled, rid) == 0,
           "the render is settled");
    CHECK (job_store_render_complete (store, rid, now, err) == 0, "complete: %s", err);
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == 3 * (int64_t) sizeof out_png,
           "a final render counts its 3 outputs only: %lld", (long long) used);
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 1 && strcmp (collected, sha) == 0,
           "the final render's inline image is collected: '%s'", collected);
    CHECK (job_store_blob_known (store, sha) == 0 && job_store_blob_known (store, out_sha) == 1,
           "the inline row is gone, the output row stays");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    CHECK (blob_store_delete (blobs, sha) == 0 && blob_store_delete (blobs, sha) == 0,
           "delete removes the file, twice is fine");
    size_t len = 0;
    void *gone = blob_store_get (blobs, sha, 1 << 20, &len, err);
    CHECK (!gone, "a deleted blob is gone");
    free (gone);

    proto_render_t r;
    memset (&r, 0, sizeof r);
    CHECK (job_store_render_get (store, rid, acct, now, &r, err) == 0, "get: %s", err);
    proto_render_free (&r);
    job_store_account_t before, after;
    REQUIRE (job_store_account_get (store, acct, &before, err) == 0, "account: %s", err);

    /* retention: completed before the cut-off goes, with its rows */
    REQUIRE (job_store_begin (store, err) == 0, "begin");
    CHECK (job_store_retention_sweep (store, now, 10, err) == 0, "not yet expired at its own time");
    CHECK (job_store_retention_sweep (store, now + 1, 10, err) == 1, "expired after: %s", err);
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 1
           && strcmp (collected, out_sha) == 0, "the expired render's output is collected");
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == 0,
           "an expired render's bytes are given back: %lld", (long long) used);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    memset (&r, 0, sizeof r);
    CHECK (job_store_render_get (store, rid, acct, now, &r, err) == -1 && strcmp (err, "not found") == 0,
           "an expired render is not found: %s", err);
    proto_render_free (&r);
    REQUIRE (job_store_account_get (store, acct, &after, err) == 0, "account: %s", err);
    CHECK (after.balance == before.balance && after.used == before.used && before.used == 3,
           "the ledger keeps balance and usage: %lld/%lld -> %lld/%lld", (long long) before.balance,
           (long long) before.used, (long long) after.balance, (long long) after.used);

    /* uploads: a file row counts its bytes and pins its blob until it expires,
       is found by id or by the account's sha256 only while live, and a new
       upload of the same bytes after expiry replaces the old row */
    uint8_t up [300];
    for (size_t i = 0; i < sizeof up; i++)
        up [i] = (uint8_t) (i * 13 + 1);
    job_store_upload_t f, got;
    memset (&f, 0, sizeof f);
    util_sha256_hex (up, sizeof up, f.sha256);
    snprintf (f.account_id, sizeof f.account_id, "%s", acct);
    snprintf (f.format, sizeof f.format, "png");
    f.bytes = sizeof up;
    f.width = 10;
    f.height = 30;
    f.created_at_ms = now;
    f.expires_at_ms = now + 1000;
    job_store_new_key_t key2;
    REQUIRE (job_store_account_create (store, "other", 100, &key2, err) == 0, "account: %s", err);
    REQUIRE (job_store_begin (store, err) == 0, "begin");
    CHECK (job_store_upload_find (store, acct, NULL, f.sha256, now, &got, err) == 1, "no file yet");
    CHECK (job_store_upload_put (store, &f, "image/png", err) == 0 && strncmp (f.id, "file_", 5) == 0,
           "upload put: %s", err);
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == (int64_t) sizeof up,
           "an upload counts against the quota: %lld", (long long) used);
    CHECK (job_store_upload_find (store, acct, NULL, f.sha256, now, &got, err) == 0
           && strcmp (got.id, f.id) == 0 && got.width == 10 && got.height == 30
           && strcmp (got.format, "png") == 0 && got.expires_at_ms == now + 1000, "found by sha256");
    CHECK (job_store_upload_find (store, NULL, f.id, NULL, now, &got, err) == 0
           && strcmp (got.account_id, acct) == 0, "found by id, with its owner");
    CHECK (job_store_upload_find (store, key2.account_id, NULL, f.sha256, now, &got, err) == 1
           && job_store_upload_find (store, key2.account_id, f.id, NULL, now, &got, err) == 1,
           "another account finds nothing");
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 0, "a live file pins its blob");
    CHECK (job_store_upload_find (store, acct, f.id, NULL, now + 1000, &got, err) == 1,
           "an expired file is not found");
    job_store_upload_t again = f;
    again.created_at_ms = now + 2000;
    again.expires_at_ms = now + 5000;
    CHECK (job_store_upload_put (store, &again, "image/png", err) == 0 && strcmp (again.id, f.id) != 0,
           "the same bytes after expiry are a new file: %s", err);
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == (int64_t) sizeof up,
           "the expired row's bytes were given back: %lld", (long long) used);
    CHECK (job_store_upload_sweep (store, now + 4999, 10, err) == 0, "a live file is not swept");
    CHECK (job_store_upload_sweep (store, now + 5000, 10, err) == 1, "an expired file is swept: %s", err);
    CHECK (job_store_storage_used (store, acct, &used, err) == 0 && used == 0,
           "a swept file's bytes are given back: %lld", (long long) used);
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 1
           && strcmp (collected, f.sha256) == 0, "a swept file's blob is collected");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);

    /* an uploaded background (background.image.file_id): the task names it
       beside its screenshot, the lease hands it over as bg_blob_sha256, it
       stays pinned after its file expires while the task may still be
       drawn, and goes once the render is final */
    uint8_t bgimg [400];
    for (size_t i = 0; i < sizeof bgimg; i++)
        bgimg [i] = (uint8_t) (i * 29 + 3);
    job_store_upload_t bgf;
    memset (&bgf, 0, sizeof bgf);
    util_sha256_hex (bgimg, sizeof bgimg, bgf.sha256);
    snprintf (bgf.account_id, sizeof bgf.account_id, "%s", acct);
    snprintf (bgf.format, sizeof bgf.format, "png");
    bgf.bytes = sizeof bgimg;
    bgf.width = bgf.height = 10;
    bgf.created_at_ms = now;
    bgf.expires_at_ms = now + 1000;
    char bg_rid [PROTO_ID_MAX];
    proto_task_spec_t bgt;
    memset (&bgt, 0, sizeof bgt);
    snprintf (bgt.format, sizeof bgt.format, "png");
    bgt.width = bgt.height = 100;
    bgt.spec = "spec-bytes";
    bgt.spec_len = 10;
    memcpy (bgt.bg_blob, bgf.sha256, 65);
    proto_create_render_t bgreq = { .metadata_json = "{}", .ntasks = 1, .tasks = &bgt };
    REQUIRE (job_store_begin (store, err) == 0, "begin");
    REQUIRE (job_store_upload_put (store, &bgf, "image/png", err) == 0, "background upload: %s", err);
    REQUIRE (job_store_render_create (store, acct, &bgreq, now, bg_rid, NULL, err) == 0,
             "a render with a background file: %s", err);
    CHECK (job_store_upload_sweep (store, now + 1000, 10, err) == 1, "the background's file expires");
    collected [0] = 0;
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 0 && !collected [0],
           "a queued task pins its background after the file expired: '%s'", collected);
    memset (&task, 0, sizeof task);
    CHECK (job_store_task_lease_next (store, "r1", now, 60000, &task, err) == 1
           && strcmp (task.bg_blob_sha256, bgf.sha256) == 0 && !task.blob_sha256 [0],
           "a leased task names its background: '%s'", task.bg_blob_sha256);
    proto_result_t bgres = { .attempt = task.attempt, .width = 100, .height = 100,
                             .data = out_png, .len = sizeof out_png };
    snprintf (bgres.task_id, sizeof bgres.task_id, "%s", task.task_id);
    snprintf (bgres.format, sizeof bgres.format, "png");
    REQUIRE (job_store_blob_add (store, out_sha, sizeof out_png, "image/png", err) == 0, "add: %s", err);
    CHECK (job_store_task_succeed (store, &bgres, out_sha, now, err) == 0, "succeed: %s", err);
    proto_task_free (&task);
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 0,
           "still pinned until the render is final");
    CHECK (job_store_render_complete (store, bg_rid, now, err) == 0, "complete: %s", err);
    CHECK (job_store_blob_gc (store, 10, s_collect, collected, err) == 1
           && strcmp (collected, bgf.sha256) == 0, "a final render's background is collected: '%s'",
           collected);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);

    /* the cache key covers the background: the same spec with another
       background is another key; a background by URL has none */
    {
        proto_slide_t sl = { .width = 100, .height = 100, .bg_ncolors = 1, .device = "none",
                             .format = "png" };
        char keys [3][65];
        bool keyed [3];
        for (int i = 0; i < 3; i++) {
            memset (sl.bg_sha256, i == 1 ? 'b' : 'a', 64);
            sl.bg_sha256 [64] = 0;
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            REQUIRE (proto_slide_encode (&sl, &sb) == 0, "slide %d encodes", i);
            proto_task_spec_t t = { .spec = sb.data, .spec_len = sb.size };
            keyed [i] = store_cache_key (&t, keys [i]);
            msgpack_sbuffer_destroy (&sb);
        }
        CHECK (keyed [0] && keyed [1] && keyed [2], "specs naming an uploaded background are keyed");
        CHECK (strcmp (keys [0], keys [2]) == 0 && strcmp (keys [0], keys [1]) != 0,
               "the same background gives the same key, another background another");
        sl.bg_image_url = "https://example.com/bg.png";
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        REQUIRE (proto_slide_encode (&sl, &sb) == 0, "slide encodes");
        proto_task_spec_t t = { .spec = sb.data, .spec_len = sb.size };
        char k [65];
        CHECK (!store_cache_key (&t, k), "a background fetched by URL has no cache key");
        msgpack_sbuffer_destroy (&sb);
    }

    /* an orphan file (no row) older than the age is removed by the scan */
    uint8_t orphan [5] = { 9, 9, 9, 9, 9 };
    char osha [65];
    REQUIRE (blob_store_put (blobs, orphan, sizeof orphan, osha, err) == 0, "put orphan");
    int shard = (int) strtol ((char [3]) { osha [0], osha [1], 0 }, NULL, 16);
    CHECK (blob_store_scan_shard (blobs, shard, 3600, s_known_none, NULL) == 0,
           "a young orphan stays (its row may be in flight)");
    CHECK (blob_store_scan_shard (blobs, shard, 0, s_known_none, NULL) >= 1, "an old orphan is removed");

    /* the statement cache: past its cap a new statement fails, in every build */
    job_store_stmt_cache_cap (store, 0);
    CHECK (job_store_storage_used (store, acct, &used, err) == 0, "cached statements still run: %s", err);
    job_store_t *fresh = store_test_open (dir, err);
    REQUIRE (fresh, "reopen: %s", err);
    job_store_stmt_cache_cap (fresh, 0);
    CHECK (job_store_storage_used (fresh, acct, &used, err) == -1 && strstr (err, "statement cache full"),
           "an uncached statement past the cap is refused: '%s'", err);
    job_store_destroy (&fresh);

    blob_store_destroy (&blobs);
    job_store_destroy (&store);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
    if (check_failures)
        return 1;
    printf ("store_retention: ok\n");
    return 0;
}
