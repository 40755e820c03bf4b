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
