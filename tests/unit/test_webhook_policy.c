/*  test_webhook_policy.c: the retry schedule (parsing, jitter bounds,
    Retry-After cap, when to give up) and the private-address rule.  */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "netguard.h"
#include "webhook_policy.h"

static bool
s_private (const char *text)
{
    struct sockaddr_storage ss = { 0 };
    char out[64];
    if (strchr (text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        in6->sin6_family = AF_INET6;
        inet_pton (AF_INET6, text, &in6->sin6_addr);
    }
    else {
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        in->sin_family = AF_INET;
        inet_pton (AF_INET, text, &in->sin_addr);
    }
    bool p = netguard_is_private ((struct sockaddr *) &ss, out, sizeof out);
    CHECK (strcmp (out, text) == 0, "expected the address text %s, got %s", text, out);
    return p;
}

int
main (void)
{
    webhook_schedule_t s = { 0 };
    CHECK (webhook_schedule_parse (&s, WEBHOOK_SCHEDULE_DEFAULT) == 0 && s.nsteps == 7,
           "expected the default schedule to parse into 7 steps, got %d", s.nsteps);
    CHECK (s.step_s[0] == 5 && s.step_s[6] == 36000, "expected steps 5..36000");
    const char *bad[] = { "", "5,", ",5", "5,,6", "-1", "5,x", "1e3", "99999999999", NULL };
    for (int i = 0; bad[i]; i++)
        CHECK (webhook_schedule_parse (&s, bad[i]) == -1, "expected schedule \"%s\" rejected", bad[i]);
    CHECK (s.nsteps == 7, "expected a rejected schedule to leave the old one in place");

    /* jitter stays within +-20 % of the step: 5 s -> 4000..6000 ms */
    for (int i = 0; i < 1000; i++) {
        int64_t ms = webhook_schedule_next_ms (&s, 1, 8, 500, -1);
        CHECK (ms >= 4000 && ms <= 6000, "expected 4000..6000 ms after attempt 1, got %lld", (long long) ms);
    }
    int64_t ms = webhook_schedule_next_ms (&s, 2, 8, 503, -1);
    CHECK (ms >= 240000 && ms <= 360000, "expected 240..360 s after attempt 2, got %lld ms", (long long) ms);
    /* Retry-After honoured, capped at the step's maximum */
    CHECK (webhook_schedule_next_ms (&s, 1, 8, 429, 2) == 2000, "expected Retry-After: 2 to give 2000 ms");
    CHECK (webhook_schedule_next_ms (&s, 1, 8, 429, 3600) == 6000,
           "expected Retry-After: 3600 capped at 6000 ms (5 s + 20 %%)");
    /* giving up */
    CHECK (webhook_schedule_next_ms (&s, 1, 8, 410, -1) == -1, "expected 410 to stop retries");
    CHECK (webhook_schedule_next_ms (&s, 7, 8, 500, -1) > 0, "expected a retry after attempt 7 of 8");
    CHECK (webhook_schedule_next_ms (&s, 8, 8, 500, -1) == -1, "expected no retry after the 8th attempt");
    webhook_schedule_parse (&s, "1,1,1");
    CHECK (webhook_schedule_next_ms (&s, 3, 8, 500, -1) >= 800, "expected a retry after attempt 3 with 1,1,1");
    CHECK (webhook_schedule_next_ms (&s, 4, 8, 500, -1) == -1, "expected the 1,1,1 schedule exhausted after 4 attempts");
    CHECK (webhook_schedule_max_attempts (&s, 8) == 4, "expected 1,1,1 to allow 4 attempts in all");

    const char *priv[] = { "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                           "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
                           "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1",
                           "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", NULL };
    const char *pub[] = { "93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1",
                          "2606:4700::1111", "::ffff:8.8.8.8", NULL };
    for (int i = 0; priv[i]; i++)
        CHECK (s_private (priv[i]), "expected %s to count as private", priv[i]);
    for (int i = 0; pub[i]; i++)
        CHECK (!s_private (pub[i]), "expected %s to count as public", pub[i]);

    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("webhook_policy: all checks passed\n");
    return check_failures ? 1 : 0;
}
