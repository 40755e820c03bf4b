/*  test_read_lease.c: scheduler/read_lease.c, the gateways' read leases, on
    an explicit clock: nothing is released in the quiet start; a holder
    blocks a seq until it acknowledges it; a holder that stops acknowledging
    blocks for at most READ_LEASE_MS, after which it is forgotten; a lease is
    never granted past a held reply's deadline; a new or lapsed holder gets
    no lease until it applied everything already sent; another epoch's or a
    nameless acknowledgment is no holder; the table's cap. */
#include <stdint.h>
#include <stdio.h>
#include "check.h"
#include "read_lease.h"

int
main (void)
{
    const int64_t t0 = 1000000;
    read_lease_t *l = read_lease_new (t0);
    REQUIRE (l, "read_lease_new");

    /* the quiet start: a scheduler this one replaced may have granted leases */
    CHECK (!read_lease_clear (l, 1, t0), "nothing is released at start");
    CHECK (read_lease_next_ms (l, 1, t0) == t0 + READ_LEASE_MS, "the quiet start ends READ_LEASE_MS on");
    int64_t t = t0 + READ_LEASE_MS;
    CHECK (read_lease_clear (l, 1, t), "no holder, quiet over: released");
    CHECK (read_lease_next_ms (l, 1, t) == INT64_MAX, "no holder: nothing to wait for");

    /* a holder caught up with what was sent: a full lease */
    int32_t g = read_lease_ack (l, "gw_a", 5, 5, INT64_MAX, t);
    CHECK (g == READ_LEASE_MS, "a caught-up holder gets READ_LEASE_MS, got %d", g);
    CHECK (read_lease_holders (l, t) == 1, "one holder");
    CHECK (read_lease_clear (l, 5, t), "seq 5 acknowledged: released");
    CHECK (!read_lease_clear (l, 6, t), "seq 6 not acknowledged by gw_a: held");
    CHECK (read_lease_next_ms (l, 6, t) == t + READ_LEASE_MS, "seq 6 waits at most gw_a's term");
    g = read_lease_ack (l, "gw_a", 6, 5, INT64_MAX, t + 10);
    CHECK (g == READ_LEASE_MS && read_lease_clear (l, 6, t + 10), "gw_a acknowledged 6: released");

    /* a second holder that lapsed: no lease until it caught up, but it blocks */
    g = read_lease_ack (l, "gw_b", 3, 6, INT64_MAX, t + 20);
    CHECK (g == 0, "a new holder behind what was sent gets no lease, got %d", g);
    CHECK (!read_lease_clear (l, 7, t + 20), "it still blocks seq 7 (so it can catch up)");
    g = read_lease_ack (l, "gw_b", 7, 6, INT64_MAX, t + 30);
    CHECK (g == READ_LEASE_MS, "once caught up it is a holder, got %d", g);

    /* a holder that stops acknowledging: seq 8 waits for gw_b's term, no longer */
    int64_t held_at = t + 40;
    read_lease_ack (l, "gw_a", 8, 6, INT64_MAX, held_at);
    CHECK (!read_lease_clear (l, 8, held_at), "gw_b has not acknowledged 8");
    int64_t until = read_lease_next_ms (l, 8, held_at);
    CHECK (until == t + 30 + READ_LEASE_MS, "seq 8 waits until gw_b's term, got %lld", (long long) until);
    /* gw_b acknowledges an old seq again (its stream is stuck): its lease
       cannot reach past the held reply's deadline */
    int64_t deadline = held_at + READ_LEASE_MS;
    g = read_lease_ack (l, "gw_b", 7, 6, deadline, held_at + 500);
    read_lease_ack (l, "gw_a", 8, 6, INT64_MAX, held_at + 600);
    CHECK (g == READ_LEASE_MS - 500, "a renewal stops at the held reply's deadline, got %d", g);
    CHECK (!read_lease_clear (l, 8, deadline - 1), "held until the deadline");
    CHECK (read_lease_clear (l, 8, deadline), "released at the deadline: gw_b's term ended");
    CHECK (read_lease_holders (l, deadline) == 1, "gw_b is forgotten, gw_a stays, got %d",
           read_lease_holders (l, deadline));
    /* gw_b comes back behind what was sent meanwhile: no lease */
    g = read_lease_ack (l, "gw_b", 7, 8, INT64_MAX, deadline + 1);
    CHECK (g == 0, "a lapsed holder behind gets no lease, got %d", g);

    /* no name: no holder */
    CHECK (read_lease_ack (l, "", 9, 0, INT64_MAX, deadline + 2) == 0, "a nameless ack gets nothing");

    /* the cap: one holder more than the table gets nothing */
    read_lease_t *full = read_lease_new (0);
    REQUIRE (full, "read_lease_new");
    char name [32];
    int granted = 0;
    for (int i = 0; i < READ_LEASE_HOLDERS_MAX; i++) {
        snprintf (name, sizeof name, "gw_%d", i);
        granted += read_lease_ack (full, name, 1, 1, INT64_MAX, READ_LEASE_MS) > 0;
    }
    CHECK (granted == READ_LEASE_HOLDERS_MAX, "every holder up to the cap, got %d", granted);
    CHECK (read_lease_ack (full, "gw_more", 1, 1, INT64_MAX, READ_LEASE_MS) == 0, "one more: nothing");
    CHECK (read_lease_ack (full, "gw_more", 1, 1, INT64_MAX, 3 * READ_LEASE_MS) == READ_LEASE_MS,
           "once the others' terms ended, a slot is free again");
    read_lease_destroy (&full);

    read_lease_destroy (&l);
    CHECK (l == NULL, "destroy nulls the pointer");
    read_lease_destroy (&l);
    if (check_failures) {
        printf ("%d failure(s)\n", check_failures);
        return 1;
    }
    printf ("ok\n");
    return 0;
}
