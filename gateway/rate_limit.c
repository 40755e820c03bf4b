/*  rate_limit.c: token buckets in a bounded table (see rate_limit.h).
    A record is keyed "<class>/<who>" and holds the tokens left at its last
    refill; a new record starts full. Thread: any, under s_lock per limiter. */
#include "rate_limit.h"
#include "lru_table.h"
#include "metrics.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const rate_rule_t rate_limit_defaults [RATE_CLASSES] = {
    [RATE_ALL]          = { 50.0, 200.0 },
    [RATE_CREATE]       = { 10.0, 100.0 },
    [RATE_WEBHOOK_TEST] = { 1.0, 5.0 },
    [RATE_AUTH_FAIL]    = { 10.0, 100.0 },
};

typedef struct {
    double  tokens;
    int64_t refilled_ms;
} s_bucket_t;

struct _rate_limit_t {
    pthread_mutex_t lock;
    rate_rule_t     rules [RATE_CLASSES];
    lru_table_t    *buckets;
};

static metrics_series_t *s_refused [RATE_CLASSES];
static pthread_once_t s_metrics_once = PTHREAD_ONCE_INIT;

static void
s_metrics_init (void)
{
    metrics_family_t *f = metrics_counter ("easel_rate_limited_total",
        "Requests refused with 429 by a rate limit, by class (all, create, webhook_test, auth_fail).",
        "class");
    for (int i = 0; i < RATE_CLASSES; i++)
        s_refused [i] = metrics_get (f, rate_class_name ((rate_class_t) i));
}

const char *
rate_class_name (rate_class_t cls)
{
    switch (cls) {
        case RATE_ALL:          return "all";
        case RATE_CREATE:       return "create";
        case RATE_WEBHOOK_TEST: return "webhook_test";
        case RATE_AUTH_FAIL:    return "auth_fail";
        default:                return "unknown";
    }
}

void
rate_limit_classes (const char *method, const char *path, rate_class_t out [RATE_CLASSES], int *n)
{
    out [0] = RATE_ALL;
    *n = 1;
    if (!method || !path || strcmp (method, "POST") != 0)
        return;
    if (strcmp (path, "/v1/renders") == 0 || strcmp (path, "/v1/capture") == 0)
        out [(*n)++] = RATE_CREATE;
    else
    if (strcmp (path, "/v1/webhooks/test") == 0)
        out [(*n)++] = RATE_WEBHOOK_TEST;
}

int
rate_rule_parse (const char *text, rate_rule_t *out)
{
    if (!text)
        return -1;
    if (strcmp (text, "0") == 0) {
        out->rate = 0;
        out->burst = 0;
        return 0;
    }
    const char *colon = strchr (text, ':');
    if (!colon || colon == text || strspn (text, "0123456789.") != (size_t) (colon - text))
        return -1;
    errno = 0;
    char *end = NULL;
    double rate = strtod (text, &end);
    if (errno || end != colon || !isfinite (rate) || rate <= 0 || rate > 1e6)
        return -1;
    const char *b = colon + 1;
    if (!*b || strspn (b, "0123456789") != strlen (b) || strlen (b) > 9)
        return -1;
    double burst = strtod (b, &end);
    if (*end || burst < 1)
        return -1;
    out->rate = rate;
    out->burst = burst;
    return 0;
}

int
rate_limit_config (int argc, char **argv, rate_rule_t rules [RATE_CLASSES],
                   const char **bad_flag, const char **bad_value)
{
    /* the gateway's settings table rows, in rate_class_t order */
    static const config_opt_t knobs [RATE_CLASSES] = { RATE_LIMIT_CONFIG_ROWS };
    memcpy (rules, rate_limit_defaults, sizeof rate_limit_defaults);
    for (size_t i = 0; i < RATE_CLASSES; i++) {
        const char *value = util_config (argc, argv, knobs [i].flag, knobs [i].env, NULL);
        if (value && rate_rule_parse (value, &rules [i])) {
            *bad_flag = knobs [i].flag;
            *bad_value = value;
            return -1;
        }
    }
    return 0;
}

rate_limit_t *
rate_limit_new (const rate_rule_t rules [RATE_CLASSES])
{
    pthread_once (&s_metrics_once, s_metrics_init);
    rate_limit_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->buckets = lru_table_new (RATE_LIMIT_ENTRIES, sizeof (s_bucket_t));
    if (!self->buckets) {
        free (self);
        return NULL;
    }
    memcpy (self->rules, rules, sizeof self->rules);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
rate_limit_destroy (rate_limit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    rate_limit_t *self = *self_p;
    lru_table_destroy (&self->buckets);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

rate_rule_t
rate_limit_rule (const rate_limit_t *self, rate_class_t cls)
{
    rate_rule_t none = { 0, 0 };
    return self && cls < RATE_CLASSES ? self->rules [cls] : none;
}

/* who's bucket of cls refilled to now_ms; NULL when cls has no limit or who
   cannot be a key. Under the lock. */
static s_bucket_t *
s_bucket (rate_limit_t *self, const char *who, rate_class_t cls, int64_t now_ms)
{
    const rate_rule_t *rule = &self->rules [cls];
    if (rule->rate <= 0 || strlen (who) >= RATE_LIMIT_WHO_MAX)
        return NULL;
    char key [LRU_TABLE_KEY_MAX];
    snprintf (key, sizeof key, "%d/%s", (int) cls, who);
    bool created = false;
    s_bucket_t *b = lru_table_upsert (self->buckets, key, now_ms, &created);
    if (!b)
        return NULL;
    if (created) {
        b->tokens = rule->burst;
        b->refilled_ms = now_ms;
    }
    else
    if (now_ms > b->refilled_ms) {
        b->tokens += rule->rate * (double) (now_ms - b->refilled_ms) / 1000.0;
        if (b->tokens > rule->burst)
            b->tokens = rule->burst;
        b->refilled_ms = now_ms;
    }
    return b;
}

/* Whole seconds until b holds one token under rule, at least 1. */
static int
s_wait_s (const s_bucket_t *b, const rate_rule_t *rule)
{
    double s = ceil ((1.0 - b->tokens) / rule->rate);
    return s < 1 ? 1 : s > 86400 ? 86400 : (int) s;
}

int
rate_limit_take (rate_limit_t *self, const char *who, const rate_class_t *classes, int n,
                 int64_t now_ms, int *retry_after_s, rate_class_t *refused)
{
    if (!self || !who)
        return 0;
    s_bucket_t *b [RATE_CLASSES] = { NULL };
    int rc = 0, wait = 0;
    pthread_mutex_lock (&self->lock);
    for (int i = 0; i < n && i < RATE_CLASSES; i++) {
        b [i] = s_bucket (self, who, classes [i], now_ms);
        if (b [i] && b [i]->tokens < 1.0) {
            int w = s_wait_s (b [i], &self->rules [classes [i]]);
            if (rc == 0 || w > wait) {
                wait = w;
                *refused = classes [i];
            }
            rc = -1;
        }
    }
    /* a later upsert may have moved an earlier record: look them up again */
    for (int i = 0; rc == 0 && i < n && i < RATE_CLASSES; i++)
        if (b [i] && (b [i] = s_bucket (self, who, classes [i], now_ms)))
            b [i]->tokens -= 1.0;
    pthread_mutex_unlock (&self->lock);
    if (rc) {
        *retry_after_s = wait;
        metrics_inc (s_refused [*refused], 1);
    }
    return rc;
}

int
rate_limit_peek (rate_limit_t *self, const char *who, rate_class_t cls, int64_t now_ms,
                 int *retry_after_s)
{
    if (!self || !who)
        return 0;
    int rc = 0;
    pthread_mutex_lock (&self->lock);
    s_bucket_t *b = s_bucket (self, who, cls, now_ms);
    if (b && b->tokens < 1.0) {
        *retry_after_s = s_wait_s (b, &self->rules [cls]);
        rc = -1;
    }
    pthread_mutex_unlock (&self->lock);
    if (rc)
        metrics_inc (s_refused [cls], 1);
    return rc;
}
