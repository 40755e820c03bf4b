/*  webhook_policy.h: when and where the webhooker may deliver.
    - The retry schedule: seconds to wait after each failed attempt, with
      jitter, a server's Retry-After capped, and when to give up.
    - The private-address rule: which resolved addresses a delivery may not
      connect to unless private networks are allowed.
    No state beyond the caller's schedule struct; thread safe.  */
#ifndef EASEL_WEBHOOK_POLICY_H
#define EASEL_WEBHOOK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WEBHOOK_SCHEDULE_DEFAULT "5,300,1800,7200,18000,36000,36000"
#define WEBHOOK_SCHEDULE_MAX     32          /* steps in one schedule */
#define WEBHOOK_STEP_MAX_S       (7 * 24 * 3600)
#define WEBHOOK_JITTER_PCT       20

typedef struct {
    int     nsteps;
    int64_t step_s[WEBHOOK_SCHEDULE_MAX];
} webhook_schedule_t;

/* Parses "5,300,1800": 1..WEBHOOK_SCHEDULE_MAX whole numbers of seconds, each
   0..WEBHOOK_STEP_MAX_S. 0; -1 with self unchanged on any malformed step. */
int webhook_schedule_parse (webhook_schedule_t *self, const char *text);

/* After a failed attempt: `attempts` is the number of attempts made so far,
   this one included (>= 1); `retry_after_s` is the server's Retry-After or -1.
   Returns the delay in ms before the next attempt, or -1 to give up (status
   410, attempts reached max_attempts, or the schedule is exhausted).
   The delay is step * (1 +- 20 %) at random; a Retry-After replaces it, capped
   at the step's maximum (step + 20 %). */
int64_t webhook_schedule_next_ms (const webhook_schedule_t *self, int attempts,
                                  int max_attempts, int status_code, int64_t retry_after_s);

/* Attempts a delivery gets in all under this schedule: min(max_attempts, nsteps + 1).
   The scheduler can use it to mark a delivery failed when the webhooker gives up. */
int webhook_schedule_max_attempts (const webhook_schedule_t *self, int max_attempts);


#endif
