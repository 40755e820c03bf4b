/*  webhook_policy.c: retry schedule and private-address rule (see webhook_policy.h).
    Jitter comes from libsodium's randombytes. No state; thread safe.  */
#include "webhook_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

int
webhook_schedule_parse (webhook_schedule_t *self, const char *text)
{
    webhook_schedule_t tmp = { 0 };
    const char *p = text;
    if (!p || !*p)
        return -1;
    while (*p) {
        char *end = NULL;
        if (*p < '0' || *p > '9' || tmp.nsteps == WEBHOOK_SCHEDULE_MAX)
            return -1;
        long long v = strtoll (p, &end, 10);
        if (v > WEBHOOK_STEP_MAX_S || (*end && *end != ','))
            return -1;
        tmp.step_s[tmp.nsteps++] = v;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p)
            return -1;                 /* trailing comma */
    }
    *self = tmp;
    return 0;
}

int64_t
webhook_schedule_next_ms (const webhook_schedule_t *self, int attempts,
                          int max_attempts, int status_code, int64_t retry_after_s)
{
    if (status_code == 410 || attempts < 1 || attempts >= max_attempts || attempts > self->nsteps)
        return -1;
    int64_t step_ms = self->step_s[attempts - 1] * 1000;
    int64_t spread = step_ms * WEBHOOK_JITTER_PCT / 100;
    int64_t max_ms = step_ms + spread;
    if (retry_after_s >= 0)
        return retry_after_s * 1000 < max_ms ? retry_after_s * 1000 : max_ms;
    if (spread == 0)
        return step_ms;
    /* uniform in [step - spread, step + spread] */
    uint32_t span = spread * 2 + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t) (spread * 2 + 1);
    return step_ms - spread + (int64_t) randombytes_uniform (span);
}

int
webhook_schedule_max_attempts (const webhook_schedule_t *self, int max_attempts)
{
    return self->nsteps + 1 < max_attempts ? self->nsteps + 1 : max_attempts;
}

static bool
s_v4_private (const uint8_t a[4])
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127
        || (a[0] == 100 && (a[1] & 0xC0) == 64)        /* 100.64/10 CGNAT */
        || (a[0] == 169 && a[1] == 254)                /* link-local, metadata */
        || (a[0] == 172 && (a[1] & 0xF0) == 16)        /* 172.16/12 */
        || (a[0] == 192 && a[1] == 168)
        || (a[0] == 192 && a[1] == 0 && a[2] == 0)     /* 192.0.0/24 IETF */
        || (a[0] == 198 && (a[1] & 0xFE) == 18)        /* 198.18/15 benchmarking */
        || a[0] >= 224;                                /* multicast, reserved, broadcast */
}

bool
webhook_addr_private (const struct sockaddr *sa, char *text, size_t size)
{
    if (size)
        text[0] = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        inet_ntop (AF_INET, &in->sin_addr, text, size);
        return s_v4_private ((const uint8_t *) &in->sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xFF,0xFF };
        static const uint8_t nat64[12] = { 0,0x64,0xFF,0x9B, 0,0,0,0, 0,0,0,0 };
        static const uint8_t zero[16] = { 0 };
        inet_ntop (AF_INET6, &in6->sin6_addr, text, size);
        if (memcmp (a, mapped, 12) == 0 || memcmp (a, nat64, 12) == 0)
            return s_v4_private (a + 12);
        return memcmp (a, zero, 15) == 0                /* :: and ::1 */
            || (a[0] & 0xFE) == 0xFC                    /* fc00::/7 ULA */
            || (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)  /* fe80::/10 */
            || a[0] == 0xFF;                            /* multicast */
    }
    return true;
}
