/*  test_pg_pipeline.c: the PostgreSQL store's pass in libpq pipeline mode
    (pg_core.c), against the real server tests/pg/run.sh starts
    (EASEL_DATABASE_URL). A pass sends its writes without waiting for their
    answers; what it must still guarantee:
    - a write that fails midway fails the whole pass: the reads after it
      fail with its error, the commit fails, nothing of the pass (before or
      after the failure) is in the database, and the next pass works
      (statements whose prepare the failure skipped are prepared again);
    - the lease fence travels with the COMMIT: a scheduler whose lease was
      taken over commits nothing of a pass of pipelined writes;
    - a pass reads its own unanswered writes, and reads sent ahead answer
      the read they were sent for;
    - a pass of more statements than the pipeline holds commits them all;
    - a read kept for the pass (pg_query_kept: a key, an account's credits)
      answers again without the server until a write naming its table: a
      revoke committed by another session mid-pass shows from the next pass
      on, one written in the pass at once.
    A second connection (libpq, the test's own) counts rows and plants the
    failure: a CHECK constraint a request id breaks.
    Thread: main only. Memory: the test's. */

#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "util.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_TTL_MS 500
#define S_MANY_TASKS 300           /* more statements than PG_PIPELINE_MAX (256) */

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

/* The test's own connection to dir's database. */
static PGconn *
s_side (const char *dir)
{
    char err [256] = "";
    const char *url = store_test_url (getenv ("EASEL_DATABASE_URL"), dir, err);
    REQUIRE (url, "the database of %s: %s", dir, err);
    PGconn *c = PQconnectdb (url);
    REQUIRE (PQstatus (c) == CONNECTION_OK, "connect: %s", PQerrorMessage (c));
    return c;
}

static long long
s_count (PGconn *c, const char *sql)
{
    PGresult *res = PQexec (c, sql);
    REQUIRE (PQresultStatus (res) == PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage (res));
    long long n = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    return n;
}

/* Creates a render of ntasks tasks in the open pass. 0 / -1 (err). */
static int
s_render (job_store_t *store, const char *account, int ntasks, char id [PROTO_ID_MAX], char *err)
{
    proto_task_spec_t *tasks = calloc ((size_t) ntasks, sizeof *tasks);
    REQUIRE (tasks, "out of memory");
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
    req.metadata_json = "{}";
    req.no_cache = true;
    req.ntasks = ntasks;
    req.tasks = tasks;
    int rc = job_store_render_create (store, account, &req, util_now_ms (), id, NULL, err);
    free (tasks);
    return rc;
}

static void
s_failure_midway (void)
{
    char err [256] = "";
    job_store_t *store = store_test_open ("pipe-fail", err);
    REQUIRE (store, "open: %s", err);
    PGconn *side = s_side ("pipe-fail");
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "pipe", JOB_STORE_UNLIMITED, &key, err) == 0, "account: %s", err);
    PQclear (PQexec (side, "ALTER TABLE request_ids ADD CONSTRAINT no_poison CHECK (req <> 'poison')"));

    char a [PROTO_ID_MAX], b [PROTO_ID_MAX], c [PROTO_ID_MAX];
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (s_render (store, key.account_id, 2, a, err) == 0, "a render before the failure is sent: %s", err);
    /* the failing write only goes out: its answer comes with the next read */
    CHECK (job_store_req_set (store, a, "poison", err) == 0, "the failing write is sent: %s", err);
    CHECK (s_render (store, key.account_id, 2, b, err) == 0, "a render after it is sent: %s", err);
    /* a statement first used after the failure: its prepare is skipped too */
    CHECK (job_store_idem_put (store, key.account_id, "POST /v1/renders", "k1", "fp", a, true, 202, "{}",
                               0, util_now_ms (), err) == 0, "a key row after it is sent: %s", err);
    proto_render_t r;
    memset (&r, 0, sizeof r);
    err [0] = 0;
    CHECK (job_store_render_get (store, a, NULL, util_now_ms (), &r, err) == -1
        && strstr (err, "no_poison"), "the next read fails with the write's error: %s", err);
    proto_render_free (&r);
    err [0] = 0;
    CHECK (job_store_commit (store, err) == -1 && strstr (err, "no_poison"),
           "the pass cannot commit: %s", err);
    job_store_rollback (store);
    CHECK (s_count (side, "SELECT count(*) FROM renders") == 0
        && s_count (side, "SELECT count(*) FROM tasks") == 0
        && s_count (side, "SELECT count(*) FROM idempotency_keys") == 0,
           "nothing of the failed pass is in the database");

    /* the next pass: the same statements, prepared again where needed */
    REQUIRE (job_store_begin (store, err) == 0, "begin again: %s", err);
    CHECK (s_render (store, key.account_id, 3, c, err) == 0
        && job_store_req_set (store, c, "req_fine", err) == 0
        && job_store_idem_put (store, key.account_id, "POST /v1/renders", "k1", "fp", c, true, 202, "{}",
                               0, util_now_ms (), err) == 0
        && job_store_commit (store, err) == 0, "the next pass commits: %s", err);
    job_store_idem_t row;
    memset (&row, 0, sizeof row);
    CHECK (job_store_idem_lookup (store, key.account_id, "POST /v1/renders", "k1", "fp", util_now_ms (),
                                  0, &row, err) == JOB_STORE_IDEM_REPLAY
        && strcmp (row.object_id, c) == 0, "its key row is there: %s", err);
    free (row.body);
    char req [PROTO_ID_MAX] = "";
    job_store_req_get (store, c, req);
    CHECK (strcmp (req, "req_fine") == 0, "its request id is there: '%s'", req);
    CHECK (s_count (side, "SELECT count(*) FROM tasks") == 3, "its 3 tasks are there");
    PQfinish (side);
    job_store_destroy (&store);
}

static void
s_fenced_batch (void)
{
    char err [256] = "";
    job_store_t *x = store_test_open ("pipe-fence", err);
    REQUIRE (x, "open x: %s", err);
    job_store_t *y = store_test_open ("pipe-fence", err);
    REQUIRE (y, "open y: %s", err);
    PGconn *side = s_side ("pipe-fence");
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (x, "fence", JOB_STORE_UNLIMITED, &key, err) == 0, "account: %s", err);
    int64_t tx = 0, ty = 0;
    REQUIRE (job_store_lease_take (x, "x", S_TTL_MS, &tx, err) == 1, "x takes the lease: %s", err);
    job_store_lease_fence (x, "x", tx, S_TTL_MS);

    /* under its lease, a pass of more statements than the pipeline holds */
    char id [PROTO_ID_MAX];
    REQUIRE (job_store_begin (x, err) == 0, "begin: %s", err);
    CHECK (s_render (x, key.account_id, S_MANY_TASKS, id, err) == 0
        && job_store_commit (x, err) == 0, "x's long pass commits: %s", err);
    CHECK (s_count (side, "SELECT count(*) FROM tasks") == S_MANY_TASKS, "every task of the long pass");

    /* y takes the lease over; x's pipelined pass is refused by the fence */
    int held = 0;
    for (int i = 0; i < 100 && (held = job_store_lease_take (y, "y", S_TTL_MS, &ty, err)) == 0; i++)
        s_sleep_ms (50);
    REQUIRE (held == 1, "y takes the expired lease: %s", err);
    REQUIRE (job_store_begin (x, err) == 0, "x begins: %s", err);
    for (int i = 0; i < 5; i++)
        CHECK (s_render (x, key.account_id, 4, id, err) == 0
            && job_store_req_set (x, id, "req_x", err) == 0, "x's writes are sent: %s", err);
    err [0] = 0;
    CHECK (job_store_commit (x, err) == -1
        && strncmp (err, JOB_STORE_LEASE_LOST, strlen (JOB_STORE_LEASE_LOST)) == 0,
           "the fence fails the whole batch: %s", err);
    job_store_rollback (x);
    CHECK (s_count (side, "SELECT count(*) FROM renders") == 1
        && s_count (side, "SELECT count(*) FROM tasks") == S_MANY_TASKS
        && s_count (side, "SELECT count(*) FROM request_ids") == 0, "nothing of x's fenced pass");
    PQfinish (side);
    job_store_destroy (&x);
    job_store_destroy (&y);
}

static void
s_reads_in_pass (void)
{
    char err [256] = "";
    job_store_t *store = store_test_open ("pipe-read", err);
    REQUIRE (store, "open: %s", err);
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "read", JOB_STORE_UNLIMITED, &key, err) == 0, "account: %s", err);
    char a [PROTO_ID_MAX], b [PROTO_ID_MAX];
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (s_render (store, key.account_id, 2, a, err) == 0 && s_render (store, key.account_id, 3, b, err) == 0,
             "two renders: %s", err);
    /* each read of a render sends its tasks and review reads ahead */
    const char *ids [] = { a, b, a, "rnd_nosuchrender", b };
    int totals [] = { 2, 3, 2, 0, 3 };
    for (int i = 0; i < 5; i++) {
        proto_render_t r;
        memset (&r, 0, sizeof r);
        int rc = job_store_render_get (store, ids [i], key.account_id, util_now_ms (), &r, err);
        if (totals [i])
            CHECK (rc == 0 && strcmp (r.id, ids [i]) == 0 && r.total == totals [i] && r.nimages == totals [i]
                && strcmp (r.images [0].status, "queued") == 0
                && strcmp (r.review_status, "pending") == 0,
                   "read %d: render %s of %d images in the pass that wrote it (rc %d, %d images): %s",
                   i, ids [i], totals [i], rc, r.nimages, err);
        else
            CHECK (rc == -1 && strcmp (err, "not found") == 0, "read %d: an unknown render: %s", i, err);
        proto_render_free (&r);
    }
    /* the credits check sends the stored bytes' read ahead: taken by the
       quota check, or dropped when a later read comes first */
    int64_t available = 0, used = -1;
    CHECK (job_store_credits_check (store, key.account_id, 1, &available, err) == 0
        && job_store_storage_used (store, key.account_id, &used, err) == 0 && used == 0,
           "stored bytes after the credits check: %lld (%s)", (long long) used, err);
    proto_render_t r;
    memset (&r, 0, sizeof r);
    CHECK (job_store_credits_check (store, key.account_id, 1, &available, err) == 0
        && job_store_render_get (store, b, key.account_id, util_now_ms (), &r, err) == 0
        && r.nimages == 3, "a render read after a credits check: %d images (%s)", r.nimages, err);
    proto_render_free (&r);
    CHECK (job_store_commit (store, err) == 0, "commit: %s", err);
    job_store_destroy (&store);
}

static void
s_kept_reads (void)
{
    char err [256] = "";
    job_store_t *store = store_test_open ("pipe-kept", err);
    REQUIRE (store, "open: %s", err);
    PGconn *side = s_side ("pipe-kept");
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "kept", JOB_STORE_UNLIMITED, &key, err) == 0, "account: %s", err);
    char hash [65], who [PROTO_ID_MAX], id [PROTO_ID_MAX];
    util_sha256_hex (key.api_key, strlen (key.api_key), hash);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_auth (store, hash, who) == 0, "the key authenticates");
    /* another session revokes it and commits while the pass runs */
    PQclear (PQexec (side, "UPDATE api_keys SET revoked_at = 1"));
    CHECK (s_render (store, key.account_id, 1, id, err) == 0, "a create in between: %s", err);
    CHECK (job_store_auth (store, hash, who) == 0 && strcmp (who, key.account_id) == 0,
           "the pass's kept answer: still the account's key in this pass");
    CHECK (job_store_commit (store, err) == 0, "commit: %s", err);
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_auth (store, hash, who) == -1, "the next pass sees the revoke");
    job_store_rollback (store);
    /* a write naming the table in the pass drops the kept answer at once */
    PQclear (PQexec (side, "UPDATE api_keys SET revoked_at = NULL"));
    job_store_new_key_t other;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    CHECK (job_store_auth (store, hash, who) == 0, "the key authenticates again");
    CHECK (job_store_key_revoke (store, key.api_key, err) == 0, "revoke in the pass: %s", err);
    CHECK (job_store_auth (store, hash, who) == -1, "revoked in the pass: refused in it");
    CHECK (job_store_account_create (store, "kept-2", JOB_STORE_UNLIMITED, &other, err) == 0, "account: %s", err);
    char other_hash [65];
    util_sha256_hex (other.api_key, strlen (other.api_key), other_hash);
    CHECK (job_store_auth (store, other_hash, who) == 0 && strcmp (who, other.account_id) == 0,
           "a key made in the pass authenticates in it");
    CHECK (job_store_commit (store, err) == 0, "commit: %s", err);
    PQfinish (side);
    job_store_destroy (&store);
}

int
main (void)
{
    const char *base = getenv ("EASEL_DATABASE_URL");
    REQUIRE (base && *base, "run me with tests/pg/run.sh (EASEL_DATABASE_URL unset)");
    check_case ("a write failing midway fails the whole pass", s_failure_midway);
    check_case ("the fence fails a pipelined batch whole", s_fenced_batch);
    check_case ("a pass reads its own writes; reads sent ahead", s_reads_in_pass);
    check_case ("reads kept for the pass", s_kept_reads);
    return check_done ("pg_pipeline");
}
