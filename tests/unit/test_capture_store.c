/*  test_capture_store.c: capture jobs in the SQL store on a temp data dir:
    job_/cap_ ids, a renderer that cannot capture never leases a capture task
    (a render behind it still goes out), one that can does; the 3-credit hold
    at create, the charge at the RESULT's price (1 for an image URL, 3 for a
    page), nothing for a failure; jobs are not listed as renders. Capture
    profiles: names unique per account, the sealed bytes (zeros included)
    read back as written, another account's profile is "none", the cap of
    JOB_STORE_PROFILES_MAX, delete.
    Single thread; every failure prints what was expected and exits 1. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_create (job_store_t *store, const char *account, bool capture, char id [PROTO_ID_MAX])
{
    char spec [] = "{}";
    proto_task_spec_t t = { .width = 800, .height = 600, .spec = spec, .spec_len = 2 };
    snprintf (t.format, sizeof t.format, "png");
    proto_create_render_t req = { .ntasks = 1, .tasks = &t, .metadata_json = (char *) "{}" };
    char err [256] = "";
    int rc = capture ? job_store_capture_create (store, account, &req, util_now_ms (), id, err)
                     : job_store_render_create (store, account, &req, util_now_ms (), id, NULL, err);
    REQUIRE (rc == 0, "create: %s", err);
}

static void
s_settle (job_store_t *store)
{
    char id [PROTO_ID_MAX], err [256] = "";
    while (job_store_render_next_settled (store, id, err) == 1)
        REQUIRE (job_store_render_complete (store, id, util_now_ms (), err) == 0, "complete: %s", err);
}

static int64_t
s_used (job_store_t *store, const char *account)
{
    job_store_account_t a;
    char err [256] = "";
    REQUIRE (job_store_account_get (store, account, &a, err) == 0, "account_get: %s", err);
    return a.used;
}

static void
s_succeed (job_store_t *store, const proto_task_t *task, int32_t credits)
{
    char err [256] = "", sha [65];
    uint8_t png [4] = { 1, 2, 3, 4 };
    util_sha256_hex (png, sizeof png, sha);
    REQUIRE (job_store_blob_add (store, sha, 4, "image/png", err) == 0, "blob_add: %s", err);
    proto_result_t res = { .attempt = task->attempt, .width = 896, .height = 752, .data = png,
                           .len = 4, .credits = credits };
    snprintf (res.task_id, sizeof res.task_id, "%s", task->task_id);
    snprintf (res.format, sizeof res.format, "png");
    REQUIRE (job_store_task_succeed (store, &res, sha, util_now_ms (), err) == 0, "succeed: %s", err);
}

static void
s_list_count (const job_store_profile_t *p, void *arg)
{
    (void) p;
    (*(int *) arg)++;
}

/* Capture profiles of acct (and none of other's). */
static void
s_profiles (job_store_t *store, const char *acct, const char *other)
{
    char err [256] = "";
    uint8_t sealed [40];
    for (size_t i = 0; i < sizeof sealed; i++)
        sealed [i] = (uint8_t) (i * 37);       /* starts with a zero byte, holds 0x5c ('\\') */
    job_store_profile_t p = { .created_at_ms = 1000, .summary = "{\"headers\":[\"Cookie\"]}",
                              .sealed = sealed, .sealed_len = sizeof sealed };
    snprintf (p.id, sizeof p.id, "cpr_one");
    snprintf (p.name, sizeof p.name, "staging");
    CHECK (job_store_profile_create (store, acct, &p, err) == 0, "create: %s", err);
    snprintf (p.id, sizeof p.id, "cpr_two");
    CHECK (job_store_profile_create (store, acct, &p, err) == 1, "a second profile named staging is refused");
    CHECK (job_store_profile_create (store, other, &p, err) == 0, "another account may use the name: %s", err);
    job_store_profile_t got;
    CHECK (job_store_profile_get (store, acct, "cpr_one", &got, err) == 0
           && got.sealed_len == sizeof sealed && memcmp (got.sealed, sealed, sizeof sealed) == 0
           && strcmp (got.summary, p.summary) == 0 && strcmp (got.name, "staging") == 0
           && got.created_at_ms == 1000, "the profile reads back as written: %s", err);
    job_store_profile_free (&got);
    CHECK (job_store_profile_get (store, other, "cpr_one", &got, err) == 1,
           "another account's profile is none of this one's");
    int n = 0;
    CHECK (job_store_profile_list (store, acct, s_list_count, &n, err) == 0 && n == 1,
           "one profile listed, got %d", n);
    for (int i = 1; i < JOB_STORE_PROFILES_MAX; i++) {
        snprintf (p.id, sizeof p.id, "cpr_m%d", i);
        snprintf (p.name, sizeof p.name, "more %d", i);
        REQUIRE (job_store_profile_create (store, acct, &p, err) == 0, "profile %d: %s", i, err);
    }
    snprintf (p.id, sizeof p.id, "cpr_over");
    snprintf (p.name, sizeof p.name, "one too many");
    CHECK (job_store_profile_create (store, acct, &p, err) == 2, "past JOB_STORE_PROFILES_MAX: 2");
    CHECK (job_store_profile_delete (store, acct, "cpr_one", err) == 0, "delete: %s", err);
    CHECK (job_store_profile_delete (store, acct, "cpr_one", err) == 1, "a deleted profile is gone");
    n = 0;
    CHECK (job_store_profile_list (store, acct, s_list_count, &n, err) == 0
           && n == JOB_STORE_PROFILES_MAX - 1, "after delete %d listed", n);
}

int
main (void)
{
    char dir [] = "/tmp/easel-test-capture-store-XXXXXX";
    REQUIRE (mkdtemp (dir), "mkdtemp");
    char err [256] = "";
    job_store_t *store = store_test_open (dir, err);
    REQUIRE (store, "open: %s", err);
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "cap", 10, &key, err) == 0, "account: %s", err);
    const char *acct = key.account_id;

    char job [PROTO_ID_MAX], rnd [PROTO_ID_MAX];
    s_create (store, acct, true, job);
    s_create (store, acct, false, rnd);
    CHECK (proto_id_valid (job, "job_"), "a capture job id is job_...: %s", job);
    int64_t avail = 0;
    /* the job holds 3, the render 1: 10 - 4 = 6 left */
    CHECK (job_store_credits_check (store, acct, 7, &avail, err) == 1 && avail == 6,
           "hold of 3 for a capture + 1 for an image: available %lld", (long long) avail);

    /* a renderer that cannot capture skips the (older) capture task */
    proto_task_t t;
    memset (&t, 0, sizeof t);
    int rc = job_store_task_lease_for (store, "plain", false, util_now_ms (), 10000, &t, err);
    REQUIRE (rc == 1, "lease for a plain renderer: %d %s", rc, err);
    CHECK (strncmp (t.task_id, "img_", 4) == 0, "a plain renderer got %s, expected the img_ task", t.task_id);
    proto_task_free (&t);
    rc = job_store_task_lease_for (store, "plain", false, util_now_ms (), 10000, &t, err);
    CHECK (rc == 0, "nothing else for a plain renderer: %d (%s)", rc, t.task_id);
    proto_task_free (&t);
    rc = job_store_task_lease_for (store, "browser", true, util_now_ms (), 10000, &t, err);
    REQUIRE (rc == 1, "lease for a capture renderer: %d %s", rc, err);
    CHECK (strncmp (t.task_id, "cap_", 4) == 0, "a capture renderer got %s", t.task_id);

    /* an image URL: the result says 1 credit */
    s_succeed (store, &t, 1);
    proto_task_free (&t);
    s_settle (store);
    proto_render_t r;
    memset (&r, 0, sizeof r);
    REQUIRE (job_store_render_get (store, job, acct, util_now_ms (), &r, err) == 0, "get: %s", err);
    CHECK (strcmp (r.status, "succeeded") == 0 && r.credits_used == 1, "job %s charged %lld, expected 1",
           r.status, (long long) r.credits_used);
    CHECK (strncmp (r.images [0].id, "cap_", 4) == 0, "the job's image is cap_...: %s", r.images [0].id);
    proto_render_free (&r);
    CHECK (s_used (store, acct) == 1, "used after the image job: %lld", (long long) s_used (store, acct));

    /* a page: 3 credits; a failed capture: nothing */
    char page [PROTO_ID_MAX], bad [PROTO_ID_MAX];
    s_create (store, acct, true, page);
    s_create (store, acct, true, bad);
    rc = job_store_task_lease_for (store, "browser", true, util_now_ms (), 10000, &t, err);
    REQUIRE (rc == 1, "lease page: %s", err);
    s_succeed (store, &t, 3);
    proto_task_free (&t);
    rc = job_store_task_lease_for (store, "browser", true, util_now_ms (), 10000, &t, err);
    REQUIRE (rc == 1, "lease bad: %s", err);
    proto_error_t e;
    memset (&e, 0, sizeof e);
    proto_error_set (&e, "navigation_timeout", "navigation timeout", "url");
    REQUIRE (job_store_task_fail (store, t.task_id, t.attempt, &e, false, 3, util_now_ms (), err) == 0,
             "fail: %s", err);
    proto_error_free (&e);
    proto_task_free (&t);
    s_settle (store);
    CHECK (s_used (store, acct) == 4, "used after a page (3) and a failure (0): %lld",
           (long long) s_used (store, acct));

    /* jobs are not renders in the list */
    char ids [10][PROTO_ID_MAX];
    int32_t n = 0;
    bool more = false;
    REQUIRE (job_store_render_list (store, acct, 10, NULL, ids, &n, &more, err) == 0, "list: %s", err);
    CHECK (n == 1 && strcmp (ids [0], rnd) == 0, "the render list holds only %s, got %d ids", rnd, n);

    job_store_new_key_t key2;
    REQUIRE (job_store_account_create (store, "other", 1, &key2, err) == 0, "account: %s", err);
    s_profiles (store, acct, key2.account_id);

    job_store_destroy (&store);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
    if (check_failures) {
        fprintf (stderr, "test_capture_store: %d failed\n", check_failures);
        return 1;
    }
    printf ("test_capture_store: all passed\n");
    return 0;
}
