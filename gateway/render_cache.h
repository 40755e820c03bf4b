/*  render_cache.h: the gateway's cache of finished render answers.
    GET /v1/renders/{id} of a render that can no longer change is answered
    from here without the bus round trip to the scheduler. Only these are
    kept (render_cache_eligible): status succeeded, failed or canceled AND no
    webhook_url -- a render with a webhook changes webhook_status after it
    finished (delivery reports, redeliver), so it is never cached; a
    processing render is never cached. A review decision (or revoked review
    links) shows in a cached answer at most RENDER_CACHE_TTL_MS late. Nothing else in a final render's JSON
    changes, except the signed image URLs, which are re-signed on every fetch:
    a cached answer carries URLs signed at most RENDER_CACHE_TTL_MS earlier
    (they stay valid for EASEL_FILE_URL_TTL_S from their signing).
    Entries are keyed by (sha256 of the API key, render id): a key of another
    account never matches (it gets the scheduler's 404), and a revoked key is
    refused by the scheduler once its entries age out (at most
    RENDER_CACHE_TTL_MS).
    Bounded: RENDER_CACHE_ENTRIES entries of at most RENDER_CACHE_BODY_MAX
    bytes each (larger answers are not cached), least recently used evicted.
    Thread: any (civetweb workers); one mutex. Memory: the cache owns its
    copies; render_cache_get returns a heap copy the caller frees. */
#ifndef EASEL_RENDER_CACHE_H
#define EASEL_RENDER_CACHE_H

#include "proto.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RENDER_CACHE_ENTRIES   1024          /* answers kept, least recently used out */
#define RENDER_CACHE_BODY_MAX  (64 * 1024)   /* bytes of one answer; larger ones are not kept */
#define RENDER_CACHE_TTL_MS    1000          /* an entry is served this long after it was stored */

/* True when r can no longer change (see above), so its answer may be kept. */
bool render_cache_eligible (const proto_render_t *r);

/* Stores the answer body for (auth, id) at monotonic time now_ms (replacing
   an older one). Does nothing for a body over RENDER_CACHE_BODY_MAX. */
void render_cache_put (const char *auth, const char *id, const char *body, size_t len,
                       int64_t now_ms);

/* A heap copy of the body kept for (auth, id) if stored less than
   RENDER_CACHE_TTL_MS before now_ms, its length in *len; NULL otherwise. */
char *render_cache_get (const char *auth, const char *id, int64_t now_ms, size_t *len);

/* Drops every entry (tests). */
void render_cache_clear (void);

/* Answers served from the cache and lookups that missed, since start. */
void render_cache_stats (uint64_t *hits, uint64_t *misses);

#endif
