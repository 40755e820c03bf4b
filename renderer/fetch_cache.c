/*  fetch_cache.c: (render id, URL) -> fetched body (see fetch_cache.h).
    Thread: any, under self->lock. Memory: entries and their bodies are the
    cache's; callers get copies. A few hundred entries at most: a list. */
#include "fetch_cache.h"
#include "util.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct s_entry {
    struct s_entry *next;
    char    *render_id;
    char    *url;
    uint8_t *data;                 /* NULL while loading */
    size_t   len;
    char     content_type [128];
    char     ip [64];
    bool     loading;              /* a thread is fetching it; others wait */
    int64_t  used_ms;              /* monotonic, last hit */
    /* a failed fetch is kept too, so a failing URL is not asked once per
       image: its answer, until expires_ms (0: like a success) */
    fetch_status_t status;
    long     http_status;
    char     address [64];
    char     message [256];
    int64_t  expires_ms;
} s_entry_t;

struct _fetch_cache_t {
    pthread_mutex_t lock;
    pthread_cond_t  loaded;
    s_entry_t *head;
    size_t   bytes, max_bytes;
    int      count;
    int64_t  idle_ms;
    uint64_t fetches, hits;
};

fetch_cache_t *
fetch_cache_new (size_t max_bytes, int64_t idle_ms)
{
    fetch_cache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->loaded, NULL);
    self->max_bytes = max_bytes ? max_bytes : FETCH_CACHE_BYTES_DEFAULT;
    self->idle_ms = idle_ms > 0 ? idle_ms : FETCH_CACHE_IDLE_MS;
    return self;
}

static void
s_entry_free (s_entry_t *e)
{
    free (e->render_id);
    free (e->url);
    free (e->data);
    free (e);
}

void
fetch_cache_destroy (fetch_cache_t **self_p)
{
    assert (self_p);
    fetch_cache_t *self = *self_p;
    if (!self)
        return;
    for (s_entry_t *e = self->head, *next; e; e = next) {
        next = e->next;
        s_entry_free (e);
    }
    pthread_cond_destroy (&self->loaded);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

/* Unlinks and frees entry e (not loading). Under the lock. */
static void
s_remove (fetch_cache_t *self, s_entry_t *e)
{
    for (s_entry_t **p = &self->head; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            break;
        }
    self->bytes -= e->len;
    self->count--;
    s_entry_free (e);
}

/* Drops idle entries, then the least recently used until under the bounds
   (keeping room for `incoming` bytes). Under the lock. */
static void
s_trim (fetch_cache_t *self, size_t incoming, int64_t now)
{
    for (s_entry_t *e = self->head, *next; e; e = next) {
        next = e->next;
        if (!e->loading && (now - e->used_ms > self->idle_ms
                            || (e->expires_ms && now >= e->expires_ms)))
            s_remove (self, e);
    }
    while (self->head && (self->bytes + incoming > self->max_bytes
                          || self->count >= FETCH_CACHE_ENTRIES_MAX)) {
        s_entry_t *oldest = NULL;
        for (s_entry_t *e = self->head; e; e = e->next)
            if (!e->loading && (!oldest || e->used_ms < oldest->used_ms))
                oldest = e;
        if (!oldest)
            break;
        s_remove (self, oldest);
    }
}

/* The entry of (render_id, url); an expired failure is removed, not found. */
static s_entry_t *
s_find (fetch_cache_t *self, const char *render_id, const char *url)
{
    for (s_entry_t *e = self->head; e; e = e->next)
        if (strcmp (e->render_id, render_id) == 0 && strcmp (e->url, url) == 0) {
            if (!e->loading && e->expires_ms && util_mono_ms () >= e->expires_ms) {
                s_remove (self, e);
                return NULL;
            }
            return e;
        }
    return NULL;
}

/* A failure worth keeping: not a cancel (that is this task's, not the
   URL's), nor out of memory. Transient ones (5xx, 408, 429, network,
   timeout) are kept briefly, the others as long as a success. */
static int64_t
s_fail_ttl_ms (const fetch_result_t *got, int64_t idle_ms)
{
    switch (got->status) {
        case FETCH_CANCELED:
        case FETCH_OK:
            return -1;
        default:
            return fetch_transient (got) ? FETCH_CACHE_RETRY_MS : idle_ms;
    }
}

/* out <- a copy of entry e. 0 / -1 (the kept failure, or out of memory). */
static int
s_copy_out (const s_entry_t *e, fetch_result_t *out)
{
    memset (out, 0, sizeof *out);
    if (e->status != FETCH_OK) {
        out->status = e->status;
        out->http_status = e->http_status;
        snprintf (out->address, sizeof out->address, "%s", e->address);
        snprintf (out->message, sizeof out->message, "%s", e->message);
        snprintf (out->content_type, sizeof out->content_type, "%s", e->content_type);
        return -1;
    }
    out->data = malloc (e->len ? e->len : 1);
    if (!out->data) {
        out->status = FETCH_NETWORK;
        snprintf (out->message, sizeof out->message, "out of memory");
        return -1;
    }
    memcpy (out->data, e->data, e->len);
    out->len = e->len;
    out->status = FETCH_OK;
    out->http_status = 200;
    snprintf (out->content_type, sizeof out->content_type, "%s", e->content_type);
    snprintf (out->ip, sizeof out->ip, "%s", e->ip);
    return 0;
}

int
fetch_cache_get (fetch_cache_t *self, const char *render_id, const char *url,
                 const fetch_opts_t *opts, fetch_result_t *out)
{
    if (!self || !render_id || !*render_id)
        return fetch_url (url, opts, out);
    pthread_mutex_lock (&self->lock);
    s_entry_t *e;
    while ((e = s_find (self, render_id, url)) && e->loading) {
        if (opts && opts->cancel && atomic_load (opts->cancel))
            break;
        /* timed, so a canceled waiter notices within a second */
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait (&self->loaded, &self->lock, &until);
    }
    if (e && !e->loading) {
        e->used_ms = util_mono_ms ();
        self->hits++;
        int rc = s_copy_out (e, out);
        pthread_mutex_unlock (&self->lock);
        return rc;
    }
    if (e) {                       /* canceled while another thread loads it */
        pthread_mutex_unlock (&self->lock);
        return fetch_url (url, opts, out);
    }
    e = calloc (1, sizeof *e);
    if (e) {
        e->render_id = strdup (render_id);
        e->url = strdup (url);
        e->loading = true;
        e->used_ms = util_mono_ms ();
    }
    if (!e || !e->render_id || !e->url) {
        if (e)
            s_entry_free (e);
        pthread_mutex_unlock (&self->lock);
        return fetch_url (url, opts, out);
    }
    s_trim (self, 0, e->used_ms);
    e->next = self->head;
    self->head = e;
    self->count++;
    self->fetches++;
    pthread_mutex_unlock (&self->lock);

    int rc = fetch_url (url, opts, out);

    pthread_mutex_lock (&self->lock);
    e->loading = false;
    e->status = FETCH_OK;
    uint8_t *copy = rc == 0 && out->len <= self->max_bytes ? malloc (out->len ? out->len : 1) : NULL;
    if (copy) {
        memcpy (copy, out->data, out->len);
        e->used_ms = util_mono_ms ();
        s_trim (self, out->len, e->used_ms);
        e->data = copy;
        e->len = out->len;
        self->bytes += out->len;
        snprintf (e->content_type, sizeof e->content_type, "%s", out->content_type);
        snprintf (e->ip, sizeof e->ip, "%s", out->ip);
    }
    else
    if (rc != 0 && s_fail_ttl_ms (out, self->idle_ms) > 0) {
        e->status = out->status;
        e->http_status = out->http_status;
        snprintf (e->address, sizeof e->address, "%s", out->address);
        snprintf (e->message, sizeof e->message, "%s", out->message);
        snprintf (e->content_type, sizeof e->content_type, "%s", out->content_type);
        e->used_ms = util_mono_ms ();
        e->expires_ms = e->used_ms + s_fail_ttl_ms (out, self->idle_ms);
    }
    else
        s_remove (self, e);        /* a cancel, or a body that cannot be kept */
    pthread_cond_broadcast (&self->loaded);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

void
fetch_cache_drop (fetch_cache_t *self, const char *render_id)
{
    if (!self || !render_id)
        return;
    pthread_mutex_lock (&self->lock);
    for (s_entry_t *e = self->head, *next; e; e = next) {
        next = e->next;
        if (!e->loading && strcmp (e->render_id, render_id) == 0)
            s_remove (self, e);
    }
    pthread_mutex_unlock (&self->lock);
}

void
fetch_cache_stats (fetch_cache_t *self, uint64_t *fetches, uint64_t *hits)
{
    pthread_mutex_lock (&self->lock);
    *fetches = self->fetches;
    *hits = self->hits;
    pthread_mutex_unlock (&self->lock);
}
