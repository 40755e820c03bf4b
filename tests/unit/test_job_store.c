/*  test_job_store.c: the SQL store on a temp data dir: accounts and keys,
    auth lookup, renders and tasks, leases and attempt counting, the final
    state's event + delivery written in one transaction, signed file URLs,
    the review gate (one decision, signed and revocable review links).
    Single thread; every failure prints what was expected and exits 1. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int count;
    job_store_key_info_t last;
} s_keys_t;

static void
s_count_key (const job_store_key_info_t *info, void *arg)
{
    s_keys_t *keys = arg;
    keys->count++;
    keys->last = *info;
}

static void
s_leased (const char *renderer, int64_t n, void *arg)
{
    int64_t *counts = arg;
    if (strcmp (renderer, "r1") == 0)
        counts [0] = n;
    if (strcmp (renderer, "r2") == 0)
        counts [1] = n;
}

static void
s_create_render (job_store_t *store, const char *account, int ntasks, const char *webhook,
                 char render_id [PROTO_ID_MAX])
{
    proto_task_spec_t tasks [4];
    memset (tasks, 0, sizeof tasks);
    for (int i = 0; i < ntasks; i++) {
        tasks [i].slide = i;
        snprintf (tasks [i].locale, sizeof tasks [i].locale, "en-US");
        snprintf (tasks [i].preset, sizeof tasks [i].preset, "play.phone");
        snprintf (tasks [i].format, sizeof tasks [i].format, "png");
        tasks [i].width = 1080;
        tasks [i].height = 1920;
        tasks [i].spec = "spec-bytes";
        tasks [i].spec_len = 10;
    }
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    req.webhook_url = (char *) webhook;
    req.metadata_json = "{\"release\":\"42\"}";
    req.ntasks = ntasks;
    req.tasks = tasks;
    char err [256] = "";
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_render_create (store, account, &req, util_now_ms (), render_id, NULL, err) == 0,
             "render_create should succeed: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

int
main (void)
{
    char dir [] = "/tmp/easel-test-store-XXXXXX";
    REQUIRE (mkdtemp (dir), "mkdtemp");
    char data [256];
    snprintf (data, sizeof data, "%s/data", dir);   /* a missing dir is created */
    char err [256] = "";
    job_store_t *store = store_test_open (data, err);
    REQUIRE (store, "job_store_open should create %s: %s", data, err);

    /* ---- accounts and keys ---- */
    REQUIRE (job_store_account_count (store) == 0, "a new store has no accounts");
    job_store_new_key_t acme, other;
    REQUIRE (job_store_account_create (store, "acme", JOB_STORE_UNLIMITED, &acme, err) == 0,
             "account_create: %s", err);
    CHECK (strncmp (acme.api_key, "sk_", 3) == 0 && strlen (acme.api_key) == 43,
           "api key should be sk_ + 40 chars, got %s", acme.api_key);
    CHECK (strncmp (acme.api_key, acme.key_prefix, strlen (acme.key_prefix)) == 0
           && strlen (acme.key_prefix) == 11, "prefix should be sk_ + 8 chars, got %s", acme.key_prefix);
    CHECK (strncmp (acme.account_id, "acct_", 5) == 0, "account id should be acct_..., got %s", acme.account_id);
    uint8_t raw [64];
    size_t raw_len = 0;
    CHECK (strncmp (acme.webhook_secret, "whsec_", 6) == 0
           && sodium_base642bin (raw, sizeof raw, acme.webhook_secret + 6, strlen (acme.webhook_secret + 6),
                                 NULL, &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0
           && raw_len == 32, "webhook secret should be whsec_ + base64 of 32 bytes, got %s",
           acme.webhook_secret);
    REQUIRE (job_store_account_create (store, "other", 100, &other, err) == 0, "second account: %s", err);
    job_store_new_key_t refused;
    CHECK (job_store_account_create (store, "", 1, &refused, err) == -1, "an empty name should be refused");
    CHECK (job_store_account_count (store) == 2, "expected 2 accounts");

    char hash [65], account [PROTO_ID_MAX];
    util_sha256_hex (acme.api_key, strlen (acme.api_key), hash);
    CHECK (job_store_auth (store, hash, account) == 0 && strcmp (account, acme.account_id) == 0,
           "auth by sha256 of the key should find %s, got '%s'", acme.account_id, account);
    util_sha256_hex ("sk_nope", 7, hash);
    CHECK (job_store_auth (store, hash, account) == -1, "an unknown key should not authenticate");

    s_keys_t keys;
    memset (&keys, 0, sizeof keys);
    CHECK (job_store_key_list (store, s_count_key, &keys, err) == 0, "key_list: %s", err);
    CHECK (keys.count == 2 && strcmp (keys.last.name, "other") == 0 && keys.last.credits == 100
           && !keys.last.revoked, "key_list: 2 keys ending with other's (credits 100), got %d %s %lld",
           keys.count, keys.last.name, (long long) keys.last.credits);

    char other_id [PROTO_ID_MAX];
    snprintf (other_id, sizeof other_id, "%s", other.account_id);
    CHECK (job_store_key_revoke (store, other.key_prefix, err) == 0, "revoke by prefix: %s", err);
    util_sha256_hex (other.api_key, strlen (other.api_key), hash);
    CHECK (job_store_auth (store, hash, account) == -1, "a revoked key must not authenticate");
    CHECK (job_store_key_revoke (store, other.api_key, err) == -1 && strcmp (err, "no such key") == 0,
           "revoking twice should say 'no such key', got '%s'", err);
    CHECK (job_store_key_revoke (store, "sk_", err) == -1, "a bare sk_ prefix matches nothing live");

    /* ---- a render with two tasks ---- */
    char rid [PROTO_ID_MAX];
    s_create_render (store, acme.account_id, 2, "https://hooks.example.com/easel", rid);
    proto_render_t r;
    memset (&r, 0, sizeof r);
    REQUIRE (job_store_render_get (store, rid, acme.account_id, util_now_ms (), &r, err) == 0,
             "render_get: %s", err);
    CHECK (strcmp (r.status, "processing") == 0 && r.total == 2 && r.done == 0 && r.nimages == 2,
           "new render: processing 0/2 with 2 images, got %s %d/%d (%d)", r.status, r.done, r.total, r.nimages);
    CHECK (strcmp (r.webhook_status, "pending") == 0, "webhook_status pending, got %s", r.webhook_status);
    CHECK (strcmp (r.metadata_json, "{\"release\":\"42\"}") == 0, "metadata kept, got %s", r.metadata_json);
    CHECK (strcmp (r.images [0].status, "queued") == 0 && strncmp (r.images [0].id, "img_", 4) == 0,
           "image 0 queued img_..., got %s %s", r.images [0].status, r.images [0].id);
    char img0 [PROTO_ID_MAX], img1 [PROTO_ID_MAX];
    snprintf (img0, sizeof img0, "%s", r.images [0].id);
    snprintf (img1, sizeof img1, "%s", r.images [1].id);
    proto_render_free (&r);
    memset (&r, 0, sizeof r);
    CHECK (job_store_render_get (store, rid, other_id, util_now_ms (), &r, err) == -1
           && strcmp (err, "not found") == 0, "another account must not see the render (got '%s')", err);
    proto_render_free (&r);

    /* ---- leases and attempts ---- */
    int64_t now = util_now_ms ();
    proto_task_t t;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_task_lease_next (store, "r1", now, 60000, &t, err) == 1
           && strcmp (t.task_id, img0) == 0 && t.attempt == 1 && t.spec_len == 10
           && memcmp (t.spec, "spec-bytes", 10) == 0,
           "first lease: %s attempt 1 with its spec, got %s attempt %d", img0, t.task_id, t.attempt);
    proto_task_free (&t);
    CHECK (job_store_task_lease_next (store, "r2", now, 60000, &t, err) == 1
           && strcmp (t.task_id, img1) == 0, "second lease: %s", img1);
    proto_task_free (&t);
    CHECK (job_store_task_lease_next (store, "r1", now, 60000, &t, err) == 0, "nothing left to lease");
    int64_t counts [2] = { 0, 0 };
    CHECK (job_store_task_leased_counts (store, s_leased, counts, err) == 0
           && counts [0] == 1 && counts [1] == 1, "one lease each, got %lld %lld",
           (long long) counts [0], (long long) counts [1]);
    CHECK (job_store_task_requeue_leased (store, "r1", INT64_MAX, "renderer died", 2, now, err) == 1,
           "r1's lease should be requeued");
    CHECK (job_store_task_lease_next (store, "r2", now, 60000, &t, err) == 1
           && strcmp (t.task_id, img0) == 0 && t.attempt == 2,
           "the requeued task comes back with attempt 2, got %s attempt %d", t.task_id, t.attempt);
    proto_task_free (&t);
    proto_result_t res;
    memset (&res, 0, sizeof res);
    snprintf (res.task_id, sizeof res.task_id, "%s", img0);
    res.attempt = 1;
    res.width = 1080;
    res.height = 1920;
    res.len = 5;
    CHECK (job_store_task_succeed (store, &res, "00", now, err) == -1 && strcmp (err, "stale") == 0,
           "a result for attempt 1 after attempt 2 started is stale, got '%s'", err);
    proto_error_t boom;
    memset (&boom, 0, sizeof boom);
    proto_error_set (&boom, "screenshot_fetch_failed", "boom", NULL);
    CHECK (job_store_task_fail (store, img0, 2, &boom, true, 2, now, err) == 0,
           "retryable fail on the last attempt: %s", err);
    proto_error_free (&boom);

    char sha [65];
    util_sha256_hex ("image", 5, sha);
    CHECK (job_store_blob_add (store, sha, 5, "image/png", err) == 0
           && job_store_blob_add (store, sha, 5, "image/png", err) == 0, "blob_add twice: %s", err);
    snprintf (res.task_id, sizeof res.task_id, "%s", img1);
    CHECK (job_store_task_succeed (store, &res, sha, now, err) == 0, "result for the current attempt: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);

    memset (&r, 0, sizeof r);
    REQUIRE (job_store_render_get (store, rid, NULL, now, &r, err) == 0, "render_get: %s", err);
    CHECK (r.done == 2 && r.credits_used == 1, "done 2, credits 1, got %d %lld", r.done, (long long) r.credits_used);
    CHECK (strcmp (r.images [0].status, "failed") == 0 && r.images [0].attempts == 2
           && strcmp (r.images [0].error.code, "attempts_exhausted") == 0
           && r.images [0].error.message
           && strcmp (r.images [0].error.message, "rendering failed after 2 attempts: boom") == 0,
           "image 0 failed for good after 2 attempts, got %s %d %s '%s'", r.images [0].status,
           r.images [0].attempts, r.images [0].error.code,
           r.images [0].error.message ? r.images [0].error.message : "(null)");
    CHECK (strcmp (r.error.code, "attempts_exhausted") == 0, "the render's error is the task's, got '%s'", r.error.code);
    proto_image_t *ok = &r.images [1];
    CHECK (strcmp (ok->status, "succeeded") == 0 && strcmp (ok->sha256, sha) == 0 && ok->bytes == 5,
           "image 1 succeeded with sha and bytes");
    CHECK (ok->url_exp == EASEL_SIGNED_EXP (now, EASEL_FILE_URL_TTL_S), "url expiry is the end of the signing window + TTL");
    CHECK (job_store_url_check (store, img1, ok->url_exp, ok->url_sig, now / 1000),
           "the signed URL of a succeeded image verifies");
    CHECK (!job_store_url_check (store, img0, ok->url_exp, ok->url_sig, now / 1000),
           "the signature is bound to the image id");
    CHECK (!job_store_url_check (store, img1, ok->url_exp + 1, ok->url_sig, now / 1000),
           "the signature is bound to the expiry");
    CHECK (!job_store_url_check (store, img1, ok->url_exp, ok->url_sig, ok->url_exp + 1),
           "an expired URL does not verify");
    proto_render_free (&r);

    job_store_file_t file;
    CHECK (job_store_file_get (store, img1, &file, err) == 0 && strcmp (file.account_id, acme.account_id) == 0
           && strcmp (file.sha256, sha) == 0 && strcmp (file.content_type, "image/png") == 0,
           "file_get of a succeeded image: %s", err);
    CHECK (job_store_file_get (store, img0, &file, err) == -1 && strcmp (err, "not found") == 0,
           "a failed image has no file");

    /* ---- settle: the final state, its event and delivery share a transaction ---- */
    char settled [PROTO_ID_MAX];
    CHECK (job_store_render_next_settled (store, settled, err) == 1 && strcmp (settled, rid) == 0,
           "the render with every task ended is settled");
    int64_t seq = 0;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_render_complete (store, rid, now, err) == 0, "complete: %s", err);
    CHECK (job_store_event_add (store, "evt_01ROLLEDBACK0000000000000", "render.failed", acme.account_id,
                                rid, now, "{}", "https://hooks.example.com/easel", &seq, err) == 0,
           "event_add: %s", err);
    job_store_rollback (store);
    proto_events_t ev;
    memset (&ev, 0, sizeof ev);
    CHECK (job_store_events_since (store, 0, 10, &ev, err) == 0 && ev.nevents == 0 && ev.last_seq == 0,
           "a rolled back final state leaves no event, got %d events", ev.nevents);
    proto_events_free (&ev);
    CHECK (job_store_render_next_settled (store, settled, err) == 1, "after rollback the render is still to settle");

    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_render_complete (store, rid, now, err) == 0, "complete: %s", err);
    CHECK (job_store_event_add (store, "evt_01KEPT000000000000000000", "render.failed", acme.account_id,
                                rid, now, "{\"type\":\"render.failed\"}", "https://hooks.example.com/easel",
                                &seq, err) == 0 && seq > 0, "event_add: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    CHECK (job_store_render_next_settled (store, settled, err) == 0, "nothing left to settle");
    memset (&ev, 0, sizeof ev);
    CHECK (job_store_events_since (store, 0, 10, &ev, err) == 0 && ev.nevents == 1 && ev.last_seq == seq,
           "one event with a pending delivery, got %d (last_seq %lld)", ev.nevents, (long long) ev.last_seq);
    if (ev.nevents == 1)
        CHECK (ev.events [0].seq == seq && strcmp (ev.events [0].secret, acme.webhook_secret) == 0
               && strcmp (ev.events [0].url, "https://hooks.example.com/easel") == 0
               && strcmp (ev.events [0].payload, "{\"type\":\"render.failed\"}") == 0
               && strcmp (ev.events [0].delivery_id, "evt_01KEPT000000000000000000") == 0
               && strcmp (ev.events [0].object_id, rid) == 0,
               "the event carries url, account secret, payload and its delivery id");
    proto_events_free (&ev);
    memset (&r, 0, sizeof r);
    CHECK (job_store_render_get (store, rid, NULL, now, &r, err) == 0 && strcmp (r.status, "failed") == 0
           && r.completed_at_ms == now, "the render is failed and completed, got %s", r.status);
    proto_render_free (&r);

    /* ---- delivery reports ---- */
    proto_delivery_report_t rep;
    memset (&rep, 0, sizeof rep);
    snprintf (rep.delivery_id, sizeof rep.delivery_id, "evt_01KEPT000000000000000000");
    rep.status_code = 500;
    rep.error = "HTTP 500";
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_delivery_report (store, &rep, 8, now, err) == 0, "report: %s", err);
    memset (&r, 0, sizeof r);
    job_store_render_get (store, rid, NULL, now, &r, err);
    CHECK (strcmp (r.webhook_status, "retrying") == 0, "a failed attempt makes it retrying, got %s", r.webhook_status);
    proto_render_free (&r);
    memset (&ev, 0, sizeof ev);
    CHECK (job_store_events_since (store, 0, 10, &ev, err) == 0 && ev.nevents == 1 && ev.events [0].attempts == 1,
           "a retrying delivery is still listed with 1 attempt");
    proto_events_free (&ev);
    rep.ok = true;
    rep.status_code = 200;
    rep.error = NULL;
    CHECK (job_store_delivery_report (store, &rep, 8, now, err) == 0, "report: %s", err);
    snprintf (rep.delivery_id, sizeof rep.delivery_id, "evt_01NOSUCH00000000000000000");
    CHECK (job_store_delivery_report (store, &rep, 8, now, err) == -1 && strcmp (err, "not found") == 0,
           "an unknown delivery is 'not found', got '%s'", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    memset (&ev, 0, sizeof ev);
    CHECK (job_store_events_since (store, 0, 10, &ev, err) == 0 && ev.nevents == 0, "a delivered event is not listed");
    proto_events_free (&ev);
    memset (&r, 0, sizeof r);
    job_store_render_get (store, rid, NULL, now, &r, err);
    CHECK (strcmp (r.webhook_status, "delivered") == 0, "webhook_status delivered, got %s", r.webhook_status);
    proto_render_free (&r);

    /* ---- lease expiry, and the url secret survives a reopen ---- */
    char rid2 [PROTO_ID_MAX];
    s_create_render (store, acme.account_id, 1, NULL, rid2);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_task_lease_next (store, "r1", now, 10, &t, err) == 1, "lease the new task");
    proto_task_free (&t);
    CHECK (job_store_task_requeue_leased (store, NULL, now + 5, "lease expired", 3, now, err) == 0,
           "a lease not yet expired stays");
    CHECK (job_store_task_requeue_leased (store, NULL, now + 11, "lease expired", 3, now, err) == 1,
           "an expired lease is requeued");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    char sig [65], sig2 [65];
    job_store_url_sign (store, img1, 12345, sig);
    job_store_destroy (&store);
    job_store_destroy (&store);    /* safe twice */
    store = store_test_open (data, err);
    REQUIRE (store, "reopen: %s", err);
    job_store_url_sign (store, img1, 12345, sig2);
    CHECK (strcmp (sig, sig2) == 0, "the url secret persists across opens");
    CHECK (job_store_account_count (store) == 2, "accounts persist");

    /* ---- the review gate: pending, one decision, revocable links ---- */
    proto_render_t rv;
    memset (&rv, 0, sizeof rv);
    REQUIRE (job_store_render_get (store, rid2, NULL, now, &rv, err) == 0, "render_get: %s", err);
    CHECK (strcmp (rv.review_status, "pending") == 0 && !rv.review_by && rv.review_decided_at_ms == 0
           && rv.review_exp == EASEL_SIGNED_EXP (now, EASEL_REVIEW_URL_TTL_S) && strlen (rv.review_sig) == 64,
           "a new render is pending with a signed link, got %s exp %lld", rv.review_status,
           (long long) rv.review_exp);
    char link_sig [65];
    int64_t link_exp = rv.review_exp;
    snprintf (link_sig, sizeof link_sig, "%s", rv.review_sig);
    proto_render_free (&rv);
    CHECK (job_store_review_check (store, rid2, link_exp, NULL, NULL, link_sig, now / 1000, err) == 0, "its link verifies");
    CHECK (job_store_review_check (store, rid2, link_exp + 1, NULL, NULL, link_sig, now / 1000, err) == 1,
           "the signature covers exp");
    CHECK (job_store_review_check (store, rid, link_exp, NULL, NULL, link_sig, now / 1000, err) == 1,
           "the signature covers the render id");
    CHECK (job_store_review_check (store, rid2, link_exp, NULL, NULL, link_sig, link_exp + 1, err) == 2,
           "a link past its exp is expired");
    /* a link that names its reviewer and an earlier render binds both */
    int64_t gen = -1;
    char named [65], named2 [65];
    REQUIRE (job_store_review_gen (store, rid2, &gen, err) == 0 && gen == 0, "gen: %s", err);
    job_store_review_sign (store, rid2, gen, link_exp, "Dana", rid, named);
    CHECK (job_store_review_check (store, rid2, link_exp, "Dana", rid, named, now / 1000, err) == 0,
           "a named link verifies with its name and since");
    CHECK (job_store_review_check (store, rid2, link_exp, "Eve", rid, named, now / 1000, err) == 1,
           "the signature covers the reviewer's name");
    CHECK (job_store_review_check (store, rid2, link_exp, "Dana", NULL, named, now / 1000, err) == 1,
           "the signature covers since");
    CHECK (job_store_review_check (store, rid2, link_exp, NULL, NULL, named, now / 1000, err) == 1,
           "a named link is not a plain one");
    job_store_review_sign (store, rid2, gen, link_exp, "Dana.since=", NULL, named2);
    job_store_review_sign (store, rid2, gen, link_exp, "Dana", ".since=", named);
    CHECK (strcmp (named, named2) != 0, "no name can move bytes into since");
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_review_decide (store, rid2, "changes_requested", "Fix it", "Dana", now, err) == 0,
           "the first decision is recorded: %s", err);
    CHECK (job_store_review_decide (store, rid2, "approved", NULL, "Eve", now + 1, err) == 1,
           "a second decision changes nothing");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    memset (&rv, 0, sizeof rv);
    REQUIRE (job_store_render_get (store, rid2, NULL, now, &rv, err) == 0, "render_get: %s", err);
    CHECK (strcmp (rv.review_status, "changes_requested") == 0 && rv.review_by && strcmp (rv.review_by, "Dana") == 0
           && rv.review_comment && strcmp (rv.review_comment, "Fix it") == 0 && rv.review_decided_at_ms == now,
           "the first decision stands, got %s by %s", rv.review_status, rv.review_by ? rv.review_by : "?");
    CHECK (strcmp (rv.review_sig, link_sig) == 0, "a decision does not change the link");
    proto_render_free (&rv);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_review_revoke (store, rid2, err) == 0, "revoke: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    CHECK (job_store_review_check (store, rid2, link_exp, NULL, NULL, link_sig, now / 1000, err) == 1,
           "a revoked link no longer verifies");
    memset (&rv, 0, sizeof rv);
    REQUIRE (job_store_render_get (store, rid2, NULL, now, &rv, err) == 0, "render_get: %s", err);
    CHECK (strcmp (rv.review_sig, link_sig) != 0
           && job_store_review_check (store, rid2, rv.review_exp, NULL, NULL, rv.review_sig, now / 1000, err) == 0
           && strcmp (rv.review_status, "changes_requested") == 0,
           "after revoking, a new link works and the decision stays");
    proto_render_free (&rv);
    job_store_destroy (&store);

    /* ---- fairness between accounts (job_store_task_lease_fair) ---- */
    char data2 [300];
    snprintf (data2, sizeof data2, "%s/fair", dir);
    store = store_test_open (data2, err);
    REQUIRE (store, "open the fairness store: %s", err);
    job_store_new_key_t fa, fb;
    REQUIRE (job_store_account_create (store, "big", JOB_STORE_UNLIMITED, &fa, err) == 0
             && job_store_account_create (store, "small", JOB_STORE_UNLIMITED, &fb, err) == 0,
             "fairness accounts: %s", err);
    CHECK (job_store_render_accounts_processing (store, err) == 0, "no render yet: no account busy");
    char big [PROTO_ID_MAX], small [PROTO_ID_MAX];
    s_create_render (store, fa.account_id, 4, NULL, big);
    CHECK (job_store_render_accounts_processing (store, err) == 1, "one account with work");
    s_create_render (store, fb.account_id, 1, NULL, small);
    CHECK (job_store_render_accounts_processing (store, err) == 2, "two accounts with work");
    proto_render_t rs;
    memset (&rs, 0, sizeof rs);
    REQUIRE (job_store_render_get (store, small, NULL, now, &rs, err) == 0 && rs.nimages == 1,
             "the small render: %s", err);
    char small_task [PROTO_ID_MAX];
    snprintf (small_task, sizeof small_task, "%s", rs.images [0].id);
    proto_render_free (&rs);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    /* the account holding the fewest leases goes first (oldest render among
       equals); past the cap the big render still takes every slot nobody
       else wants */
    const char *expect [] = { "big", "small", "big", "big", "big", NULL };
    /* render_last: the lease took its render's last queued task (the small
       render's only one; the big render's fourth) */
    const bool expect_last [] = { false, true, false, false, true };
    for (int i = 0; i < 5; i++) {
        char who [8];
        snprintf (who, sizeof who, "f%d", i);
        int rc = job_store_task_lease_fair (store, who, false, 2, now, 60000, &t, err);
        bool is_small = rc == 1 && strcmp (t.task_id, small_task) == 0;
        CHECK (rc == 1 && is_small == (strcmp (expect [i], "small") == 0),
               "lease %d with cap 2 should go to the %s render (rc %d, task %s)", i, expect [i], rc,
               rc == 1 ? t.task_id : "-");
        CHECK (rc == 1 && t.render_last == expect_last [i] && t.attempt == 1,
               "lease %d: render_last %d (expected %d), attempt %d (expected 1)", i,
               rc == 1 ? (int) t.render_last : -1, (int) expect_last [i], rc == 1 ? (int) t.attempt : -1);
        if (rc == 1)
            proto_task_free (&t);
    }
    CHECK (job_store_task_lease_fair (store, "f9", false, 2, now, 60000, &t, err) == 0,
           "everything leased: nothing left");
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    job_store_destroy (&store);

    char cmd [512];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "warning: could not remove %s\n", dir);
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("job_store: all checks passed\n");
    return 0;
}
