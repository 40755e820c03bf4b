/*  test_job_store_ledger.c: credits and idempotency keys in the SQL store on
    a temp data dir: the grant, reservation and 402 check, one charge per
    final render (failed and canceled images free), top-ups by account, key
    and prefix, the ledger summing to the balance; key rows: replay, 409 in
    flight, 422 mismatch, the lapsed in-flight fallback, TTL expiry and the
    sweep; list pages and cancel.
    Single thread; every failure prints what was expected and exits 1. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_metered [PROTO_ID_MAX];     /* the account s_test_ledger made */

typedef struct {
    int     count;
    int64_t sum;
    int     renders;
    job_store_ledger_entry_t newest;
    char    newest_reason [16];
} s_ledger_t;

static void
s_ledger_add (const job_store_ledger_entry_t *e, void *arg)
{
    s_ledger_t *l = arg;
    if (l->count == 0) {
        l->newest = *e;
        snprintf (l->newest_reason, sizeof l->newest_reason, "%s", e->reason);
    }
    l->count++;
    l->sum += e->amount;
    if (strcmp (e->reason, "render") == 0)
        l->renders++;
}

static void
s_count_r1 (const char *renderer, int64_t n, void *arg)
{
    if (strcmp (renderer, "r1") == 0)
        *(int64_t *) arg = n;
}

/* job_store_render_running rows, as "renderer task attempt;" text. */
static void
s_running (const char *renderer, const char *task_id, int32_t attempt, void *arg)
{
    char *out = arg;
    size_t used = strlen (out);
    snprintf (out + used, 512 - used, "%s %s %d;", renderer, task_id, (int) attempt);
}

static s_ledger_t
s_ledger (job_store_t *store, const char *account)
{
    s_ledger_t l;
    memset (&l, 0, sizeof l);
    char err [256] = "";
    REQUIRE (job_store_ledger_list (store, account, 1000, s_ledger_add, &l, err) == 0,
             "ledger_list: %s", err);
    return l;
}

static void
s_create (job_store_t *store, const char *account, int ntasks, char render_id [PROTO_ID_MAX])
{
    proto_task_spec_t tasks [4];
    memset (tasks, 0, sizeof tasks);
    for (int i = 0; i < ntasks; i++) {
        tasks [i].slide = i;
        snprintf (tasks [i].format, sizeof tasks [i].format, "png");
        tasks [i].width = 300;
        tasks [i].height = 600;
        tasks [i].spec = "spec";
        tasks [i].spec_len = 4;
    }
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    req.metadata_json = "{}";
    req.ntasks = ntasks;
    req.tasks = tasks;
    char err [256] = "";
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_render_create (store, account, &req, util_now_ms (), render_id, NULL, err) == 0,
             "render_create: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

/* Leases the next task to "r1" and ends it: ok succeeds, else fails for good. */
static void
s_finish_next (job_store_t *store, bool ok)
{
    char err [256] = "";
    proto_task_t task;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_task_lease_next (store, "r1", util_now_ms (), 60000, &task, err) == 1,
             "a task to lease: %s", err);
    if (ok) {
        proto_result_t res;
        memset (&res, 0, sizeof res);
        snprintf (res.task_id, sizeof res.task_id, "%s", task.task_id);
        res.attempt = task.attempt;
        res.width = 300;
        res.height = 600;
        res.len = 4;
        char sha [65];
        util_sha256_hex (task.task_id, strlen (task.task_id), sha);
        REQUIRE (job_store_blob_add (store, sha, 4, "image/png", err) == 0, "blob_add: %s", err);
        REQUIRE (job_store_task_succeed (store, &res, sha, util_now_ms (), err) == 0, "succeed: %s", err);
    }
    else {
        proto_error_t e;
        memset (&e, 0, sizeof e);
        proto_error_set (&e, "screenshot_invalid", "not an image", "slides[0].screenshot.url");
        REQUIRE (job_store_task_fail (store, task.task_id, task.attempt, &e, false, 3,
                                      util_now_ms (), err) == 0, "fail: %s", err);
        proto_error_free (&e);
    }
    proto_task_free (&task);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

/* Completes every settled render (as the scheduler's settle does). */
static void
s_settle (job_store_t *store)
{
    char err [256] = "", id [PROTO_ID_MAX];
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    int rc;
    while ((rc = job_store_render_next_settled (store, id, err)) == 1)
        REQUIRE (job_store_render_complete (store, id, util_now_ms (), err) == 0, "complete: %s", err);
    REQUIRE (rc == 0, "next_settled: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

static proto_render_t
s_get (job_store_t *store, const char *id)
{
    proto_render_t r;
    memset (&r, 0, sizeof r);
    char err [256] = "";
    REQUIRE (job_store_render_get (store, id, NULL, util_now_ms (), &r, err) == 0, "get: %s", err);
    return r;
}

static void
s_test_ledger (job_store_t *store)
{
    char err [256] = "";
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "metered", 5, &key, err) == 0, "create: %s", err);
    snprintf (s_metered, sizeof s_metered, "%s", key.account_id);
    s_ledger_t l = s_ledger (store, key.account_id);
    CHECK (l.count == 1 && l.sum == 5 && strcmp (l.newest_reason, "grant") == 0,
           "a new account has one grant of 5, got %d rows sum %lld", l.count, (long long) l.sum);

    int64_t available = -1;
    CHECK (job_store_credits_check (store, key.account_id, 5, &available, err) == 0, "5 of 5 fits");
    CHECK (job_store_credits_check (store, key.account_id, 6, &available, err) == 1 && available == 5,
           "6 of 5 must not fit (available %lld)", (long long) available);

    /* a processing render of 3 holds 3 */
    char r1 [PROTO_ID_MAX], r2 [PROTO_ID_MAX], r3 [PROTO_ID_MAX];
    s_create (store, key.account_id, 3, r1);
    CHECK (job_store_credits_check (store, key.account_id, 3, &available, err) == 1 && available == 2,
           "with 3 held, 3 more must not fit (available %lld)", (long long) available);
    job_store_account_t a;
    REQUIRE (job_store_account_get (store, key.account_id, &a, err) == 0, "account_get: %s", err);
    CHECK (a.reserved == 3 && a.balance == 5 && !a.unlimited, "reserved 3 of balance 5, got %lld/%lld",
           (long long) a.reserved, (long long) a.balance);

    /* r1: 2 succeed, 1 fails for good -> charged 2 */
    s_finish_next (store, true);
    s_finish_next (store, true);
    s_finish_next (store, false);
    s_settle (store);
    proto_render_t r = s_get (store, r1);
    CHECK (strcmp (r.status, "failed") == 0 && r.credits_used == 2,
           "r1 failed with 2 charged, got %s %lld", r.status, (long long) r.credits_used);
    proto_render_free (&r);
    /* settling again charges nothing more */
    s_settle (store);
    l = s_ledger (store, key.account_id);
    CHECK (l.renders == 1, "one charge per render, got %d", l.renders);

    /* r2: 1 succeeds, 1 is being drawn, 1 queued; canceled -> charged 1 */
    s_create (store, key.account_id, 3, r2);
    s_finish_next (store, true);
    proto_task_t drawing;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_task_lease_next (store, "r1", util_now_ms (), 60000, &drawing, err) == 1,
             "lease: %s", err);
    CHECK (job_store_render_cancel (store, r2, "acct_other", util_now_ms (), err) == -1
           && strcmp (err, "not found") == 0, "another account cannot cancel: %s", err);
    CHECK (job_store_render_cancel (store, r2, key.account_id, util_now_ms (), err) == 0, "cancel: %s", err);
    /* the canceled task being drawn still holds r1's slot until r1 answers */
    int64_t held = -1;
    REQUIRE (job_store_task_leased_counts (store, s_count_r1, &held, err) == 0, "%s", err);
    CHECK (held == 1, "a canceled task being drawn holds its slot, got %lld", (long long) held);
    /* the scheduler tells r1 to stop exactly that task (CANCEL_TASKS) */
    char running [512] = "", expect [512];
    snprintf (expect, sizeof expect, "r1 %s %d;", drawing.task_id, (int) drawing.attempt);
    CHECK (job_store_render_running (store, r2, s_running, running, err) == 0
           && strcmp (running, expect) == 0, "running tasks of the canceled render: '%s', expected '%s'",
           running, expect);
    /* its FAIL "canceled" is stale like a late result: no requeue, no charge */
    proto_error_t why = { .code = "canceled", .message = "the render was canceled" };
    CHECK (job_store_task_fail (store, drawing.task_id, drawing.attempt, &why, false, 3,
                                util_now_ms (), err) == -1 && strcmp (err, "stale") == 0,
           "a FAIL for a canceled task is stale: %s", err);
    proto_result_t late;
    memset (&late, 0, sizeof late);
    snprintf (late.task_id, sizeof late.task_id, "%s", drawing.task_id);
    late.attempt = drawing.attempt;
    CHECK (job_store_task_succeed (store, &late, "0", util_now_ms (), err) == -1
           && strcmp (err, "stale") == 0, "a late result of a canceled task is stale: %s", err);
    REQUIRE (job_store_task_release (store, drawing.task_id, drawing.attempt, err) == 0, "%s", err);
    held = 0;
    REQUIRE (job_store_task_leased_counts (store, s_count_r1, &held, err) == 0, "%s", err);
    CHECK (held == 0, "after the late answer the slot is free, got %lld", (long long) held);
    running [0] = 0;
    CHECK (job_store_render_running (store, r2, s_running, running, err) == 0 && running [0] == 0,
           "nothing left running after the answer: '%s'", running);
    proto_task_free (&drawing);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    s_settle (store);
    r = s_get (store, r2);
    CHECK (strcmp (r.status, "canceled") == 0 && r.credits_used == 1,
           "r2 canceled with 1 charged, got %s %lld", r.status, (long long) r.credits_used);
    proto_render_free (&r);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_render_cancel (store, r2, key.account_id, util_now_ms (), err) == -1
           && strcmp (err, "finished: canceled") == 0, "a second cancel is finished: %s", err);
    job_store_rollback (store);

    /* top-ups: by account, by full key, by prefix; refusals */
    char who [PROTO_ID_MAX];
    int64_t balance = 0;
    CHECK (job_store_credits_add (store, key.account_id, 10, NULL, who, &balance, err) == 0
           && balance == 12 && strcmp (who, key.account_id) == 0,
           "top-up by account: balance %lld (%s)", (long long) balance, err);
    CHECK (job_store_credits_add (store, key.api_key, 1, "by key", who, &balance, err) == 0
           && balance == 13, "top-up by key: %lld (%s)", (long long) balance, err);
    CHECK (job_store_credits_add (store, key.key_prefix, 1, NULL, who, &balance, err) == 0
           && balance == 14, "top-up by prefix: %lld (%s)", (long long) balance, err);
    CHECK (job_store_credits_add (store, "acct_nope", 1, NULL, who, &balance, err) == -1
           && strcmp (err, "no such account") == 0, "unknown account: %s", err);
    CHECK (job_store_credits_add (store, key.account_id, 0, NULL, who, &balance, err) == -1,
           "a top-up of 0 is refused");
    job_store_new_key_t dev;
    REQUIRE (job_store_account_create (store, "dev", JOB_STORE_UNLIMITED, &dev, err) == 0, "dev: %s", err);
    CHECK (job_store_credits_add (store, dev.account_id, 1, NULL, who, &balance, err) == -1
           && strstr (err, "unlimited"), "an unlimited account is not topped up: %s", err);
    CHECK (job_store_credits_check (store, dev.account_id, 500, &available, err) == 0,
           "an unlimited account always fits");

    /* r3 on the unlimited account is still charged in the ledger (usage) */
    s_create (store, dev.account_id, 1, r3);
    s_finish_next (store, true);
    s_settle (store);
    REQUIRE (job_store_account_get (store, dev.account_id, &a, err) == 0, "dev get: %s", err);
    CHECK (a.unlimited && a.used == 1, "unlimited usage 1, got %lld", (long long) a.used);

    REQUIRE (job_store_account_get (store, key.account_id, &a, err) == 0, "get: %s", err);
    l = s_ledger (store, key.account_id);
    CHECK (a.balance == 14 - 0 && a.used == 3 && a.reserved == 0,
           "balance 14 used 3, got %lld used %lld", (long long) a.balance, (long long) a.used);
    CHECK (l.sum == a.balance, "the ledger sums to %lld, the balance is %lld",
           (long long) l.sum, (long long) a.balance);
    CHECK (l.newest.balance_after == a.balance, "the newest entry's balance_after");
    CHECK (l.count == 1 + 2 + 3, "grant + 2 charges + 3 top-ups, got %d", l.count);
}

static void
s_test_keys (job_store_t *store)
{
    char err [256] = "";
    const char *acct = "acct_A", *scope = "POST /v1/renders";
    int64_t now = util_now_ms ();
    job_store_idem_t row;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_idem_lookup (store, acct, scope, "k1", "fp1", now, 0, &row, err) == JOB_STORE_IDEM_NEW,
           "an unknown key is new");
    REQUIRE (job_store_idem_put (store, acct, scope, "k1", "fp1", "rnd_1", true, 202, "{\"a\":1}",
                                 now, now, err) == 0, "put: %s", err);
    /* in the same transaction a duplicate already sees the row */
    CHECK (job_store_idem_lookup (store, acct, scope, "k1", "fp1", now, 0, &row, err)
           == JOB_STORE_IDEM_REPLAY && row.status == 202 && row.body && strcmp (row.body, "{\"a\":1}") == 0
           && strcmp (row.object_id, "rnd_1") == 0, "replay of the stored response");
    free (row.body);
    CHECK (job_store_idem_lookup (store, acct, scope, "k1", "fp2", now, 0, &row, err)
           == JOB_STORE_IDEM_MISMATCH, "other parameters are a mismatch");
    CHECK (job_store_idem_lookup (store, "acct_B", scope, "k1", "fp1", now, 0, &row, err)
           == JOB_STORE_IDEM_NEW, "another account's key is independent");
    CHECK (job_store_idem_lookup (store, acct, "POST /v1/renders/x/cancel", "k1", "fp1", now, 0, &row, err)
           == JOB_STORE_IDEM_NEW, "another scope is independent");

    /* in flight until stored, 409 meanwhile; then replays */
    REQUIRE (job_store_idem_put (store, acct, scope, "k2", "fp", "rnd_2", false, 202, "{\"fallback\":1}",
                                 now + 60000, now, err) == 0, "put: %s", err);
    CHECK (job_store_idem_lookup (store, acct, scope, "k2", "fp", now, 0, &row, err)
           == JOB_STORE_IDEM_IN_FLIGHT, "in flight");
    REQUIRE (job_store_idem_complete (store, acct, scope, "k2", 200, "{\"final\":1}", err) == 0,
             "complete: %s", err);
    CHECK (job_store_idem_complete (store, acct, scope, "k2", 200, "{}", err) == -1
           && strcmp (err, "not found") == 0, "a done row is not completed twice");
    CHECK (job_store_idem_lookup (store, acct, scope, "k2", "fp", now, 0, &row, err)
           == JOB_STORE_IDEM_REPLAY && row.status == 200 && strcmp (row.body, "{\"final\":1}") == 0,
           "the completed answer replays");
    free (row.body);

    /* an in-flight row whose holder vanished: its fallback, or forgotten */
    REQUIRE (job_store_idem_put (store, acct, scope, "k3", "fp", "rnd_3", false, 202, "{\"fallback\":1}",
                                 now - 1, now - 5000, err) == 0, "put: %s", err);
    CHECK (job_store_idem_lookup (store, acct, scope, "k3", "fp", now, 0, &row, err)
           == JOB_STORE_IDEM_REPLAY && row.status == 202 && strcmp (row.body, "{\"fallback\":1}") == 0,
           "a lapsed sync create replays its 202 fallback");
    free (row.body);
    REQUIRE (job_store_idem_put (store, acct, "POST /v1/renders/rnd_3/cancel", "k4", "fp", "rnd_3", false,
                                 0, NULL, now - 1, now - 5000, err) == 0, "put: %s", err);
    CHECK (job_store_idem_lookup (store, acct, "POST /v1/renders/rnd_3/cancel", "k4", "fp", now, 0, &row, err)
           == JOB_STORE_IDEM_NEW, "a lapsed row without a fallback is forgotten");

    /* TTL: rows older than the window count as absent, then are swept */
    REQUIRE (job_store_idem_put (store, acct, scope, "old", "fp", "rnd_9", true, 202, "{}",
                                 now - 100000, now - 100000, err) == 0, "put: %s", err);
    CHECK (job_store_idem_lookup (store, acct, scope, "old", "fp", now, now - 50000, &row, err)
           == JOB_STORE_IDEM_NEW, "an expired key is new before the sweep");
    CHECK (job_store_idem_lookup (store, acct, scope, "old", "other", now, now - 50000, &row, err)
           == JOB_STORE_IDEM_NEW, "an expired key is no mismatch either");
    int swept = job_store_idem_sweep (store, now - 50000, err);
    CHECK (swept == 1, "the sweep removes exactly the old row, removed %d (%s)", swept, err);
    CHECK (job_store_idem_lookup (store, acct, scope, "old", "fp", now, 0, &row, err) == JOB_STORE_IDEM_NEW,
           "the swept row is gone");
    CHECK (job_store_idem_lookup (store, acct, scope, "k1", "fp1", now, now - 50000, &row, err)
           == JOB_STORE_IDEM_REPLAY, "a fresh row survives the sweep");
    free (row.body);
    /* a new request may take over an expired key */
    REQUIRE (job_store_idem_put (store, acct, scope, "k1", "fpX", "rnd_X", true, 202, "{}",
                                 now, now, err) == 0, "replace: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

static void
s_test_list (job_store_t *store)
{
    char err [256] = "";
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "lister", JOB_STORE_UNLIMITED, &key, err) == 0, "%s", err);
    char made [5][PROTO_ID_MAX];
    for (int i = 0; i < 5; i++)
        s_create (store, key.account_id, 1, made [i]);
    char ids [2][PROTO_ID_MAX];
    int32_t n = 0;
    bool more = false;
    REQUIRE (job_store_render_list (store, key.account_id, 2, NULL, ids, &n, &more, err) == 0, "%s", err);
    CHECK (n == 2 && more && strcmp (ids [0], made [4]) == 0 && strcmp (ids [1], made [3]) == 0,
           "the first page is the two newest");
    REQUIRE (job_store_render_list (store, key.account_id, 2, made [1], ids, &n, &more, err) == 0, "%s", err);
    CHECK (n == 1 && !more && strcmp (ids [0], made [0]) == 0, "the last page after made[1]");
    CHECK (job_store_render_list (store, "acct_other", 2, made [1], ids, &n, &more, err) == -1
           && strcmp (err, "not found") == 0, "another account's cursor is not found");
}

int
main (void)
{
    char dir [] = "/tmp/easel-test-ledger-XXXXXX";
    REQUIRE (mkdtemp (dir), "mkdtemp");
    char err [256] = "";
    job_store_t *store = store_test_open (dir, err);
    REQUIRE (store, "open: %s", err);
    s_test_ledger (store);
    s_test_keys (store);
    s_test_list (store);
    job_store_destroy (&store);
    /* reopening keeps everything and books no second opening balance */
    store = store_test_open (dir, err);
    REQUIRE (store, "reopen: %s", err);
    s_ledger_t l = s_ledger (store, s_metered);
    CHECK (l.count == 6 && l.sum == 14, "after reopening: %d rows summing to %lld",
           l.count, (long long) l.sum);
    job_store_destroy (&store);
    char cmd [512];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
    if (check_failures)
        fprintf (stderr, "test_job_store_ledger: %d failed\n", check_failures);
    else
        printf ("test_job_store_ledger: passed\n");
    return check_failures ? 1 : 0;
}
