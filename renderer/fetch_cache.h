/*  fetch_cache.h: a screenshot URL is fetched once per render per renderer.

    The images of one render often share a URL (one screenshot for 40 locales);
    each task would fetch it again, and again on every attempt. The cache keeps
    a fetched body keyed by (render id, URL): the bytes are only ever reused
    within the render that fetched them (the fetch that filled the entry passed
    the private-address check; another render fetches for itself). Bounded in
    bytes and entries; an entry goes when its render is done (fetch_cache_drop)
    or after idle_ms unused, oldest first when over the bounds. A failed
    fetch is kept too (its status and message, no body), so a failing URL is
    not asked once per image: a transient failure (5xx, 408, 429, network,
    timeout) for FETCH_CACHE_RETRY_MS, any other as long as a success; a
    canceled fetch is not kept. While one thread fetches a key, the others
    asking for it wait for that fetch instead of starting their own.

    Thread: any (one mutex). Memory: the cache owns its entries; get hands the
    caller its own copy in out (fetch_result_free). */
#ifndef EASEL_FETCH_CACHE_H
#define EASEL_FETCH_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "fetch.h"

#define FETCH_CACHE_BYTES_DEFAULT   (64u * 1024 * 1024)
#define FETCH_CACHE_ENTRIES_MAX     256
#define FETCH_CACHE_IDLE_MS         60000
#define FETCH_CACHE_RETRY_MS        5000    /* a transient failure is asked again after */

typedef struct _fetch_cache_t fetch_cache_t;

/* NULL on out of memory. max_bytes 0: FETCH_CACHE_BYTES_DEFAULT; idle_ms 0:
   FETCH_CACHE_IDLE_MS. */
fetch_cache_t *fetch_cache_new (size_t max_bytes, int64_t idle_ms);
void fetch_cache_destroy (fetch_cache_t **self_p);

/* As fetch_url (url, opts, out), answered from the cache when render_id
   already fetched url. render_id NULL or "": no caching. 0 / -1 as fetch_url. */
int fetch_cache_get (fetch_cache_t *self, const char *render_id, const char *url,
                     const fetch_opts_t *opts, fetch_result_t *out);

/* Drops every entry of render_id (its render is done). */
void fetch_cache_drop (fetch_cache_t *self, const char *render_id);

/* Network fetches made and answers served from the cache, since new. */
void fetch_cache_stats (fetch_cache_t *self, uint64_t *fetches, uint64_t *hits);

#endif
