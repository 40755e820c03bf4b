/*  key_cache.c: API key -> account, cached (see key_cache.h). */
#include "key_cache.h"
#include "lru_table.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    int64_t expires_ms;
    bool    valid;
    char    account [PROTO_ID_MAX];
} s_entry_t;

static metrics_series_t *s_answers [3];   /* by key_cache_answer_t */
static pthread_once_t s_metrics_once = PTHREAD_ONCE_INIT;

static void
s_metrics_init (void)
{
    metrics_family_t *f = metrics_counter ("easel_gateway_key_cache_total",
        "API key lookups in the gateway's key cache, by result (miss: asked the scheduler, "
        "valid, invalid: refused without asking).", "result");
    s_answers [KEY_CACHE_MISS] = metrics_get (f, "miss");
    s_answers [KEY_CACHE_VALID] = metrics_get (f, "valid");
    s_answers [KEY_CACHE_INVALID] = metrics_get (f, "invalid");
}

struct _key_cache_t {
    pthread_mutex_t lock;
    int             ttl_ms;
    int             negative_ttl_ms;
    lru_table_t    *entries;
};

key_cache_t *
key_cache_new (int ttl_ms)
{
    pthread_once (&s_metrics_once, s_metrics_init);
    key_cache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->ttl_ms = ttl_ms > 0 ? ttl_ms : 0;
    self->negative_ttl_ms = self->ttl_ms < EASEL_KEY_CACHE_NEGATIVE_TTL_MS
                          ? self->ttl_ms : EASEL_KEY_CACHE_NEGATIVE_TTL_MS;
    self->entries = lru_table_new (KEY_CACHE_ENTRIES, sizeof (s_entry_t));
    if (!self->entries) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
key_cache_destroy (key_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    key_cache_t *self = *self_p;
    lru_table_destroy (&self->entries);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

key_cache_answer_t
key_cache_get (key_cache_t *self, const char *key_hash, int64_t now_ms, char account [PROTO_ID_MAX])
{
    if (!self || self->ttl_ms == 0) {
        metrics_inc (s_answers [KEY_CACHE_MISS], 1);
        return KEY_CACHE_MISS;
    }
    key_cache_answer_t answer = KEY_CACHE_MISS;
    pthread_mutex_lock (&self->lock);
    s_entry_t *e = lru_table_find (self->entries, key_hash, now_ms);
    if (e && now_ms < e->expires_ms) {
        answer = e->valid ? KEY_CACHE_VALID : KEY_CACHE_INVALID;
        if (e->valid)
            memcpy (account, e->account, PROTO_ID_MAX);
    }
    pthread_mutex_unlock (&self->lock);
    metrics_inc (s_answers [answer], 1);
    return answer;
}

void
key_cache_put (key_cache_t *self, const char *key_hash, const char *account, int64_t now_ms)
{
    if (!self || self->ttl_ms == 0)
        return;
    pthread_mutex_lock (&self->lock);
    bool created;
    s_entry_t *e = lru_table_upsert (self->entries, key_hash, now_ms, &created);
    if (e) {
        e->valid = account != NULL;
        snprintf (e->account, sizeof e->account, "%s", account ? account : "");
        e->expires_ms = now_ms + (account ? self->ttl_ms : self->negative_ttl_ms);
    }
    pthread_mutex_unlock (&self->lock);
}

int
key_cache_bearer (const char *header, char hash [65], api_error_t *e)
{
    static const char alphabet [] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    if (!header)
        return api_error_set (e, 401, "missing_api_key", NULL,
                              "No API key provided; send Authorization: Bearer sk_...");
    if (strncasecmp (header, "Bearer ", 7) != 0)
        return api_error_set (e, 401, "invalid_api_key", NULL,
                              "Send the API key as Authorization: Bearer sk_...");
    const char *key = header + 7;
    size_t len = strlen (key);
    if (len < 4 || len > KEY_CACHE_KEY_MAX || strncmp (key, "sk_", 3) != 0
    ||  strspn (key + 3, alphabet) != len - 3)
        return api_error_set (e, 401, "invalid_api_key", NULL, "Invalid API key provided.");
    util_sha256_hex (key, len, hash);
    return 0;
}

int
key_cache_fetch (key_cache_t *self, api_pool_t *pool, const char *key_hash,
                 int64_t now_ms, char account [PROTO_ID_MAX], api_error_t *e)
{
    if (!pool)
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    proto_get_t g;
    memset (&g, 0, sizeof g);
    proto_id_new ("rid_", g.rid, sizeof g.rid);
    snprintf (g.auth, sizeof g.auth, "%s", key_hash);
    g.key_only = true;             /* the account's id is all the cache keeps */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int got = 0, rc;
    zframe_t *reply = NULL;
    char err [PROTO_ERR_MAX] = "";
    if (proto_get_encode (&g, &sb))
        rc = api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    else
    if (api_pool_call (pool, PROTO_GET_ACCOUNT, &sb, g.rid, &got, &reply))
        rc = api_error_set (e, 503, "scheduler_unavailable", NULL,
                            "The scheduler is not answering; retry shortly.");
    else
    if (got == PROTO_ERROR) {
        proto_errmsg_t em;
        memset (&em, 0, sizeof em);
        if (proto_errmsg_decode ((const char *) zframe_data (reply), zframe_size (reply), &em, err)
        ||  em.status < 400 || em.status > 599) {
            log_error ("bad ERROR reply to GET_ACCOUNT", "reason", err, NULL);
            rc = api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
        }
        else
        if (em.status == 401) {
            key_cache_put (self, key_hash, NULL, now_ms);
            rc = api_error_set (e, 401, "invalid_api_key", NULL, "Invalid API key provided.");
        }
        else
            rc = api_error_set (e, em.status, em.error.code [0] ? em.error.code : "error",
                                em.error.param, "%s", em.error.message ? em.error.message : "");
        proto_errmsg_free (&em);
    }
    else {
        proto_body_t b;
        memset (&b, 0, sizeof b);
        if (got != PROTO_ACCOUNT
        ||  proto_body_decode ((const char *) zframe_data (reply), zframe_size (reply), &b, err)
        ||  !b.id [0]) {
            log_error ("bad reply to GET_ACCOUNT", "cmd", proto_cmd_name (got), "reason", err, NULL);
            rc = api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
        }
        else {
            memcpy (account, b.id, PROTO_ID_MAX);
            key_cache_put (self, key_hash, account, now_ms);
            rc = 0;
        }
        proto_body_free (&b);
    }
    zframe_destroy (&reply);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}
