/*  rate_limit.h: token buckets per account (or client address) and route
    class, refusing with 429 and a Retry-After once a bucket is empty.

    Every authenticated request takes a token from its account's RATE_ALL
    bucket; a create (POST /v1/renders, POST /v1/capture) also from
    RATE_CREATE, and POST /v1/webhooks/test from RATE_WEBHOOK_TEST. A
    request that fails authentication takes one from its client address's
    RATE_AUTH_FAIL bucket. A bucket holds at most `burst` tokens and gains
    `rate` per second; a refused request takes nothing.

    Bounded: the buckets live in an lru_table_t of RATE_LIMIT_ENTRIES
    records; a bucket pushed out by a newer one starts full again when its
    client comes back (the price of fixed memory, documented in
    docs/operations.md).
    Thread: any (civetweb workers); one mutex. Metrics:
    easel_rate_limited_total{class} counts refusals. */
#ifndef EASEL_RATE_LIMIT_H
#define EASEL_RATE_LIMIT_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATE_LIMIT_ENTRIES   16384    /* buckets kept, least recently used out */
#define RATE_LIMIT_WHO_MAX   64       /* bytes of an account id or address, NUL included */

typedef enum {
    RATE_ALL = 0,                     /* every authenticated request, per account */
    RATE_CREATE,                      /* POST /v1/renders, POST /v1/capture */
    RATE_WEBHOOK_TEST,                /* POST /v1/webhooks/test */
    RATE_AUTH_FAIL,                   /* failed authentication, per client address */
    RATE_CLASSES
} rate_class_t;

/* A bucket's shape: `rate` tokens a second up to `burst`; rate 0 means no
   limit. */
typedef struct {
    double rate;
    double burst;
} rate_rule_t;

/* The defaults per class (docs/api.md lists them): 50:200, 10:100, 1:5, 10:100. */
extern const rate_rule_t rate_limit_defaults [RATE_CLASSES];

/* The class's name as flags, metrics and docs spell it ("all", "create",
   "webhook_test", "auth_fail"). */
const char *rate_class_name (rate_class_t cls);

/* Parses "RATE:BURST" (RATE a positive decimal number of tokens a second,
   BURST a whole number >= 1, or "0" alone for no limit) into out.
   0 / -1 leaving out unchanged. */
int rate_rule_parse (const char *text, rate_rule_t *out);

/* The classes a request to `method` `path` counts against once its account
   is known: RATE_ALL, and RATE_CREATE or RATE_WEBHOOK_TEST when it is one
   of those. Their number (1 or 2) into *n. */
void rate_limit_classes (const char *method, const char *path, rate_class_t out [RATE_CLASSES], int *n);

/* The rules from flags and environment (flags win), each "RATE:BURST" or "0":
   --rate-limit (EASEL_RATE_LIMIT), --create-rate-limit
   (EASEL_CREATE_RATE_LIMIT), --webhook-test-rate-limit
   (EASEL_WEBHOOK_TEST_RATE_LIMIT), --auth-fail-rate-limit
   (EASEL_AUTH_FAIL_RATE_LIMIT); rate_limit_defaults where unset.
   0, or -1 with the flag and the value at fault in *bad_flag, *bad_value. */
/* The four settings rate_limit_config reads, in rate_class_t order, as
   rows of the gateway's settings table (config.h): known, documented, read
   here by these names. */
#define RATE_LIMIT_CONFIG_ROWS \
    { .flag = "--rate-limit", .env = "EASEL_RATE_LIMIT", .kind = CONFIG_TEXT, .shown = "`50:200`", \
      .help = "RATE:BURST a second, per account, every authenticated route (`0`: no limit)" }, \
    { .flag = "--create-rate-limit", .env = "EASEL_CREATE_RATE_LIMIT", .kind = CONFIG_TEXT, \
      .shown = "`10:100`", .help = "POST /v1/renders and /v1/capture, per account" }, \
    { .flag = "--webhook-test-rate-limit", .env = "EASEL_WEBHOOK_TEST_RATE_LIMIT", .kind = CONFIG_TEXT, \
      .shown = "`1:5`", .help = "POST /v1/webhooks/test, per account" }, \
    { .flag = "--auth-fail-rate-limit", .env = "EASEL_AUTH_FAIL_RATE_LIMIT", .kind = CONFIG_TEXT, \
      .shown = "`10:100`", .help = "failed authentications, per client address" }

int rate_limit_config (int argc, char **argv, rate_rule_t rules [RATE_CLASSES],
                       const char **bad_flag, const char **bad_value);

typedef struct _rate_limit_t rate_limit_t;

/* A limiter with one rule per class (copied). NULL on allocation failure. */
rate_limit_t *rate_limit_new (const rate_rule_t rules [RATE_CLASSES]);
/* Frees; *self_p becomes NULL. Safe on NULL. */
void rate_limit_destroy (rate_limit_t **self_p);

/* The rule the limiter applies to cls (for messages). */
rate_rule_t rate_limit_rule (const rate_limit_t *self, rate_class_t cls);

/* Takes one token from `who`'s bucket of every class in classes[0..n) at
   monotonic time now_ms, all or none. 0 when every bucket had one; -1 when
   one was empty, with *retry_after_s the whole seconds (>= 1) until all of
   them hold a token again and *refused the class that refused. A NULL
   limiter, a class without a limit or a `who` too long to key allows. */
int rate_limit_take (rate_limit_t *self, const char *who, const rate_class_t *classes, int n,
                     int64_t now_ms, int *retry_after_s, rate_class_t *refused);

/* As rate_limit_take for one class, but takes nothing: 0 when a token is
   there, -1 (with *retry_after_s) when the bucket is empty. Refusals are
   counted in the metrics as rate_limit_take's are. */
int rate_limit_peek (rate_limit_t *self, const char *who, rate_class_t cls, int64_t now_ms,
                     int *retry_after_s);

#endif
