/*  attempt.h: one webhook delivery and its HTTP attempts.

    delivery_t is what the webhooker knows of one delivery from the EVENTS
    reply that names it until the scheduler has ACKed the report of its last
    attempt (webhooker/main.c keeps them, their timers and their host's
    queue). This module makes one attempt: it signs the payload with every
    secret (both signature schemes, docs/webhooks.md), starts the curl
    transfer on the caller's multi handle, and when curl says it is done
    turns the answer into the report for the scheduler and the time of the
    next attempt (the retry schedule, Retry-After, the floor after a timeout
    or a 429). It also keeps the attempt metrics and writes the --trace line.

    States: WAITING (due at due_ms) -> SENDING (curl transfer) -> REPORTING
    (report sent or to be re-sent) -> WAITING again or gone.

    Thread: the webhooker's one thread. Memory: delivery_t owns its strings,
    its curl handle while SENDING, and its report.  */
#ifndef EASEL_ATTEMPT_H
#define EASEL_ATTEMPT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "easel_limits.h"
#include "proto.h"
#include "timer_heap.h"
#include "webhook_policy.h"

#define ATTEMPT_HOST_MAX   300          /* "host:port" key of the per-host cap */
#define ATTEMPT_RETRY_MS   1000         /* a transfer that could not start (memory) waits this long */

/* How attempts are made: fixed at start, shared by every delivery. */
typedef struct {
    bool allow_private;                 /* --allow-private-networks */
    webhook_schedule_t schedule;        /* EASEL_WEBHOOK_SCHEDULE */
    int64_t timeout_ms;                 /* one attempt, EASEL_WEBHOOK_TIMEOUT_MS */
    int64_t min_retry_ms;               /* floor after a timeout or a 429 */
    bool trace;                         /* --trace: one "webhook trace" line per first attempt */
} attempt_conf_t;

typedef enum { DELIVERY_WAITING, DELIVERY_SENDING, DELIVERY_REPORTING } delivery_state_t;

typedef struct _delivery_t delivery_t;
struct _delivery_t {
    const attempt_conf_t *conf;
    void *owner;                        /* the webhooker's, untouched here */
    char delivery_id[PROTO_ID_MAX];
    char event_id[PROTO_ID_MAX];
    char req[PROTO_ID_MAX];             /* X-Request-Id that created the render ("" unknown) */
    int64_t event_ms;                   /* when the event was written (wall clock) */
    int64_t seq;                        /* the event's seq (a redelivery hint names it) */
    char *url, *secret, *payload;
    char host[ATTEMPT_HOST_MAX];        /* "host:port": the per-host cap counts these */
    int attempts;                       /* attempts made so far */
    bool again;                         /* redelivered while in flight: send once more */
    bool wait_peer;                     /* its report found no scheduler: resend when one connects */
    delivery_state_t state;
    int64_t due_ms;                     /* WAITING: next attempt; REPORTING: next (re)send */
    /* the webhooker's bookkeeping: its timer, or its place in its host's queue */
    timer_heap_node_t timer;
    void *parked_on;                    /* the host it waits for (NULL: not parked) */
    delivery_t *park_prev, *park_next;
    /* the transfer */
    CURL *easy;
    struct curl_slist *headers;
    char response[EASEL_WEBHOOK_RESPONSE_KEEP_BYTES + 1];
    size_t response_len;
    char errbuf[CURL_ERROR_SIZE];
    char refused[64];                   /* a private address the connect refused */
    int64_t started_ms;
    /* the report of the last attempt */
    proto_delivery_report_t report;
    bool report_sent;                   /* waiting in the bus client for its answer */
    int64_t next_attempt_ms;            /* -1: this was the last attempt */
    /* --trace: wall-clock microseconds of the steps of the first attempt (0: not seen) */
    int64_t tr_sub_us, tr_fetch_us, tr_reply_us, tr_start_us;
};

/* Registers the attempt metrics (easel_webhook_attempts_total,
   easel_webhook_attempt_duration_seconds, easel_webhook_delivery_seconds).
   Once, before the first attempt. */
void attempt_metrics_init (void);

/* "host:port" of url into out (the whole url when it does not parse):
   the key of the per-host cap. */
void attempt_host_key (const char *url, char *out, size_t size);

/* Wall clock in microseconds, for --trace lines comparable with the db's ms. */
int64_t attempt_wall_us (void);

/* Starts an attempt of d (WAITING) on multi. Returns 0 when the transfer
   runs (d is SENDING); 1 when the attempt is over already (a secret that
   cannot sign: d is REPORTING with its report); -1 when it could not start
   (memory: d stays WAITING, due again in ATTEMPT_RETRY_MS). */
int attempt_start (delivery_t *d, CURLM *multi);

/* curl finished e (result): takes the transfer off multi, frees it, and
   makes d's report and next attempt time (d is REPORTING). Returns d, the
   delivery e belonged to. */
delivery_t *attempt_finish (CURLM *multi, CURL *e, CURLcode result);

#endif
