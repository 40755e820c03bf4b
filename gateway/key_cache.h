/*  key_cache.h: which account an API key belongs to, asked of the scheduler
    once and remembered for a while, so a request is authenticated before the
    gateway reads or parses its body.

    Keyed by the hex sha256 of the key (the key itself is never kept). A key
    the scheduler accepted is trusted for ttl_ms (--key-cache-ttl-ms, default
    EASEL_KEY_CACHE_TTL_MS): revoking a key takes effect within that time. An
    unknown or revoked key is remembered as such for the shorter of ttl_ms
    and EASEL_KEY_CACHE_NEGATIVE_TTL_MS, so a new key starts working soon
    after it is created. The lookup is GET_ACCOUNT with key_only (its reply
    names the account and nothing more); nothing else goes on the bus for an unauthenticated request.

    Bounded: KEY_CACHE_ENTRIES records in an lru_table_t. Metrics:
    easel_gateway_key_cache_total{result} (miss, valid, invalid).
    Thread: any (civetweb workers); one mutex, never held across the bus. */
#ifndef EASEL_KEY_CACHE_H
#define EASEL_KEY_CACHE_H

#include "api_pool.h"
#include "render_request.h"

#define KEY_CACHE_ENTRIES 8192
#define KEY_CACHE_KEY_MAX 256     /* longest API key accepted, sk_ included */

typedef enum {
    KEY_CACHE_MISS = 0,            /* not known, or known too long ago: ask */
    KEY_CACHE_VALID,               /* the key belongs to an account */
    KEY_CACHE_INVALID              /* the scheduler refused the key lately */
} key_cache_answer_t;

typedef struct _key_cache_t key_cache_t;

/* A cache trusting answers ttl_ms (0: no caching at all). NULL on
   allocation failure. */
key_cache_t *key_cache_new (int ttl_ms);
/* Frees; *self_p becomes NULL. Safe on NULL. */
void key_cache_destroy (key_cache_t **self_p);

/* What the cache knows of key_hash at monotonic now_ms; for KEY_CACHE_VALID
   the account id is copied into account. A NULL cache answers MISS. */
key_cache_answer_t key_cache_get (key_cache_t *self, const char *key_hash, int64_t now_ms,
                                  char account [PROTO_ID_MAX]);

/* Remembers key_hash as belonging to account, or as unknown when account is
   NULL. Does nothing on a NULL cache. */
void key_cache_put (key_cache_t *self, const char *key_hash, const char *account, int64_t now_ms);

/* Checks an Authorization header value: exactly "Bearer sk_" and one or more
   of [A-Za-z0-9_-], nothing before or after ("Bearer" in any case), at most
   KEY_CACHE_KEY_MAX characters of key. 0 with the key's hex sha256 in hash;
   -1 with e filled: 401 missing_api_key for a NULL header, else 401
   invalid_api_key. */
int key_cache_bearer (const char *header, char hash [65], api_error_t *e);

/* Asks the scheduler (GET_ACCOUNT on a client of the pool) whose key_hash is and
   remembers the answer. 0 with account filled; -1 with e filled: 401
   invalid_api_key for a key the scheduler refused (remembered), 503 when it
   does not answer, 500 on a malformed reply (neither remembered). */
int key_cache_fetch (key_cache_t *self, api_pool_t *pool, const char *key_hash,
                     int64_t now_ms, char account [PROTO_ID_MAX], api_error_t *e);

#endif
