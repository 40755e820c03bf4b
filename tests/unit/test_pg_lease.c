/*  test_pg_lease.c: the database's lease between two schedulers' stores
    (job_store_lease_take, job_store_lease_fence), against the real server
    tests/pg/run.sh starts (EASEL_DATABASE_URL).

    A scheduler cut off from the database in the middle of a pass leaves a
    session the server sees idle in a transaction, holding that pass's row
    locks (its client's kernel may have given the connection up, the
    server's has not). The one that takes the lease over must not wait on
    those locks for as long as TCP takes to notice: a fenced session is
    ended by the server once it has sat idle in a transaction for two lease
    times, so the new holder's writes go through. The old holder's failed
    statement is an error of its own, not "lease lost"; its next pass finds
    the lease taken and fails with JOB_STORE_LEASE_LOST, committing nothing.

    Single thread: the two stores are two sessions of this process, and the
    "cut-off" one simply sends nothing while the other works. A wait that
    never ends is what the bug looks like: SIGALRM ends the program with a
    failure after S_BOUND_S. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_TTL_MS  500              /* short leases keep the test quick */
#define S_BOUND_S 20               /* far past 2 x S_TTL_MS: only a wait on stale locks gets here */

static void
s_on_alarm (int sig)
{
    (void) sig;
    static const char msg [] = "FAIL test_pg_lease: the new lease holder still waits on the cut-off"
                               " holder's locks after 20 s\n";
    ssize_t n = write (2, msg, sizeof msg - 1);
    (void) n;
    _exit (1);
}

static void
s_sleep_ms (long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
}

static int64_t
s_balance (job_store_t *store, const char *account_id)
{
    job_store_account_t acct;
    char err [256] = "";
    REQUIRE (job_store_account_get (store, account_id, &acct, err) == 0, "read the account: %s", err);
    return acct.balance;
}

static void
s_cut_off_holder (void)
{
    char err [256] = "";
    job_store_t *x = store_test_open ("lease-db", err);
    REQUIRE (x, "open store x: %s", err);
    job_store_t *y = store_test_open ("lease-db", err);
    REQUIRE (y, "open store y: %s", err);

    job_store_new_key_t key;
    REQUIRE (job_store_begin (x, err) == 0
          && job_store_account_create (x, "lease", 100, &key, err) == 0
          && job_store_commit (x, err) == 0, "an account: %s", err);

    int64_t tx = 0, ty = 0;
    CHECK (job_store_lease_take (x, "x", S_TTL_MS, &tx, err) == 1 && tx >= 1, "x takes the lease: %s", err);
    job_store_lease_fence (x, "x", tx, S_TTL_MS);
    CHECK (job_store_lease_take (y, "y", S_TTL_MS, &ty, err) == 0, "y cannot while x's lease lives");

    /* x's pass: it writes the account's row, then goes silent (cut off) */
    char acct [PROTO_ID_MAX];
    int64_t balance = 0;
    REQUIRE (job_store_begin (x, err) == 0
          && job_store_credits_add (x, key.account_id, 1, "x's pass", acct, &balance, err) == 0,
             "x's write: %s", err);

    /* y takes over once x's lease has run out */
    int held = 0;
    for (int i = 0; i < 100 && (held = job_store_lease_take (y, "y", S_TTL_MS, &ty, err)) == 0; i++)
        s_sleep_ms (50);
    REQUIRE (held == 1, "y takes the expired lease: %s", err);
    CHECK (ty == tx + 1, "y's token follows x's: %lld then %lld", (long long) tx, (long long) ty);
    job_store_lease_fence (y, "y", ty, S_TTL_MS);

    /* y writes the row x's silent session has locked: it must get through */
    alarm (S_BOUND_S);
    CHECK (job_store_begin (y, err) == 0
        && job_store_credits_add (y, key.account_id, 10, "y's pass", acct, &balance, err) == 0
        && job_store_commit (y, err) == 0, "y's write goes through: %s", err);
    alarm (0);
    CHECK (s_balance (y, key.account_id) == 110, "only y's write is kept: balance %lld",
           (long long) s_balance (y, key.account_id));

    /* x comes back: its open pass fails on its own error, not "lease lost" */
    err [0] = 0;
    CHECK (job_store_commit (x, err) == -1, "x's interrupted pass cannot commit");
    CHECK (strncmp (err, JOB_STORE_LEASE_LOST, strlen (JOB_STORE_LEASE_LOST)) != 0,
           "a failed statement is not a lost lease: %s", err);
    job_store_rollback (x);
    /* its next pass reconnects and finds the lease taken */
    err [0] = 0;
    int rc = job_store_begin (x, err);
    CHECK (rc == 0, "x reconnects: %s", err);
    if (rc == 0) {
        CHECK (job_store_credits_add (x, key.account_id, 1000, "x's next pass", acct, &balance, err) == 0,
               "x's next write: %s", err);
        err [0] = 0;
        CHECK (job_store_commit (x, err) == -1
            && strncmp (err, JOB_STORE_LEASE_LOST, strlen (JOB_STORE_LEASE_LOST)) == 0,
               "x's next commit is refused by the fence: %s", err);
        job_store_rollback (x);
    }
    CHECK (s_balance (y, key.account_id) == 110, "x committed nothing: balance %lld",
           (long long) s_balance (y, key.account_id));

    /* a holder that stays in touch keeps its session across a long pause
       outside a transaction (only idle-in-transaction is cut short) */
    s_sleep_ms (3 * S_TTL_MS);
    CHECK (job_store_begin (y, err) == 0 && job_store_commit (y, err) == 0,
           "y, idle between passes, commits: %s", err);
    job_store_destroy (&x);
    job_store_destroy (&y);
}

int
main (void)
{
    const char *base = getenv ("EASEL_DATABASE_URL");
    REQUIRE (base && *base, "run me with tests/pg/run.sh (EASEL_DATABASE_URL unset)");
    signal (SIGALRM, s_on_alarm);
    check_case ("a holder cut off mid-pass does not hold up the next", s_cut_off_holder);
    return check_done ("pg_lease");
}
