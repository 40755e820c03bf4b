/*  render_cache.c: the gateway's cache of finished render answers (see
    render_cache.h). A fixed table of RENDER_CACHE_ENTRIES slots, a hash index
    of twice as many buckets chained through the slots, and a use counter for
    least-recently-used eviction (a scan of the table, only when a new entry
    finds it full).
    Thread: any; every function takes `s_lock`. Memory: bodies are the
    cache's heap copies, freed on replace, eviction and clear. */
#include "render_cache.h"
#include "metrics.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define S_BUCKETS  (2 * RENDER_CACHE_ENTRIES)
#define S_AUTH_MAX 65                 /* sha256 hex of the API key */

typedef struct {
    char     auth [S_AUTH_MAX];
    char     id [PROTO_ID_MAX];
    char    *body;                    /* NULL: the slot is free */
    size_t   len;
    int64_t  stored_ms;               /* monotonic */
    uint64_t used;                    /* s_clock at the last put or hit */
    int      next;                    /* next slot in the bucket's chain, -1 ends */
} s_entry_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_entry_t s_table [RENDER_CACHE_ENTRIES];
static int       s_heads [S_BUCKETS];   /* slot + 1 of a bucket's first entry; 0 empty */
static int       s_count;               /* slots in use: they are s_table [0 .. s_count) or freed */
static uint64_t  s_clock, s_hits, s_misses;
static metrics_series_t *s_hit_series, *s_miss_series;
static pthread_once_t s_metrics_once = PTHREAD_ONCE_INIT;

static void
s_metrics_init (void)
{
    metrics_family_t *f = metrics_counter ("easel_gateway_render_cache_total",
        "GET /v1/renders/{id} lookups in the finished-render cache, by result (hit, miss).",
        "result");
    s_hit_series = metrics_get (f, "hit");
    s_miss_series = metrics_get (f, "miss");
}

bool
render_cache_eligible (const proto_render_t *r)
{
    bool final = strcmp (r->status, "succeeded") == 0 || strcmp (r->status, "failed") == 0
              || strcmp (r->status, "canceled") == 0;
    return final && (!r->webhook_url || !r->webhook_url [0]);
}

static size_t
s_bucket (const char *auth, const char *id)
{
    return util_fnv1a (util_fnv1a (UTIL_FNV_SEED, auth), id) % S_BUCKETS;
}

/* The slot holding (auth, id), or -1. */
static int
s_find (const char *auth, const char *id, size_t bucket)
{
    for (int i = s_heads [bucket] - 1; i >= 0; i = s_table [i].next)
        if (strcmp (s_table [i].id, id) == 0 && strcmp (s_table [i].auth, auth) == 0)
            return i;
    return -1;
}

/* Takes slot i out of its bucket's chain and frees its body. */
static void
s_unlink (int i)
{
    s_entry_t *e = &s_table [i];
    size_t bucket = s_bucket (e->auth, e->id);
    int *link = &s_heads [bucket];
    int prev = -1;
    for (int j = *link - 1; j >= 0; prev = j, j = s_table [j].next)
        if (j == i) {
            if (prev < 0)
                *link = e->next + 1;
            else
                s_table [prev].next = e->next;
            break;
        }
    free (e->body);
    e->body = NULL;
    e->next = -1;
}

/* A free slot: an unused one, else the least recently used one emptied. */
static int
s_free_slot (void)
{
    if (s_count < RENDER_CACHE_ENTRIES)
        return s_count++;
    int victim = 0;
    for (int i = 0; i < RENDER_CACHE_ENTRIES; i++) {
        if (!s_table [i].body)
            return i;
        if (s_table [i].used < s_table [victim].used)
            victim = i;
    }
    s_unlink (victim);
    return victim;
}

void
render_cache_put (const char *auth, const char *id, const char *body, size_t len,
                  int64_t now_ms)
{
    if (!auth || !id || !body || len > RENDER_CACHE_BODY_MAX
    ||  strlen (auth) >= S_AUTH_MAX || strlen (id) >= PROTO_ID_MAX)
        return;
    char *copy = malloc (len ? len : 1);
    if (!copy)
        return;
    memcpy (copy, body, len);
    pthread_mutex_lock (&s_lock);
    size_t bucket = s_bucket (auth, id);
    int i = s_find (auth, id, bucket);
    if (i >= 0)
        free (s_table [i].body);
    else {
        i = s_free_slot ();
        s_entry_t *e = &s_table [i];
        memcpy (e->auth, auth, strlen (auth) + 1);
        memcpy (e->id, id, strlen (id) + 1);
        e->next = s_heads [bucket] - 1;
        s_heads [bucket] = i + 1;
    }
    s_table [i].body = copy;
    s_table [i].len = len;
    s_table [i].stored_ms = now_ms;
    s_table [i].used = ++s_clock;
    pthread_mutex_unlock (&s_lock);
}

char *
render_cache_get (const char *auth, const char *id, int64_t now_ms, size_t *len)
{
    char *copy = NULL;
    pthread_once (&s_metrics_once, s_metrics_init);
    pthread_mutex_lock (&s_lock);
    int i = s_find (auth, id, s_bucket (auth, id));
    if (i >= 0 && now_ms - s_table [i].stored_ms >= RENDER_CACHE_TTL_MS) {
        s_unlink (i);                 /* aged out: the scheduler is asked again */
        i = -1;
    }
    if (i >= 0 && (copy = malloc (s_table [i].len ? s_table [i].len : 1))) {
        memcpy (copy, s_table [i].body, s_table [i].len);
        *len = s_table [i].len;
        s_table [i].used = ++s_clock;
        s_hits++;
    }
    else
        s_misses++;
    pthread_mutex_unlock (&s_lock);
    metrics_inc (copy ? s_hit_series : s_miss_series, 1);
    return copy;
}

void
render_cache_clear (void)
{
    pthread_mutex_lock (&s_lock);
    for (int i = 0; i < s_count; i++) {
        free (s_table [i].body);
        s_table [i].body = NULL;
        s_table [i].next = -1;
    }
    memset (s_heads, 0, sizeof s_heads);
    s_count = 0;
    pthread_mutex_unlock (&s_lock);
}

void
render_cache_stats (uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock (&s_lock);
    *hits = s_hits;
    *misses = s_misses;
    pthread_mutex_unlock (&s_lock);
}
