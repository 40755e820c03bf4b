/*  test_render_cache.c: the gateway's finished-render cache (render_cache.h):
    which renders may be kept, hit / miss by (key hash, id), ageing out at
    RENDER_CACHE_TTL_MS (explicit clock values: nothing here sleeps), the
    body cap, replacement, and least-recently-used eviction at
    RENDER_CACHE_ENTRIES. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "render_cache.h"

#define KEY_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define KEY_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* True when (auth, id) answers exactly `want` at now. */
static int
s_has (const char *auth, const char *id, int64_t now, const char *want)
{
    size_t len = 0;
    char *got = render_cache_get (auth, id, now, &len);
    int ok = got && len == strlen (want) && memcmp (got, want, len) == 0;
    free (got);
    return ok;
}

static int
s_missing (const char *auth, const char *id, int64_t now)
{
    size_t len = 0;
    char *got = render_cache_get (auth, id, now, &len);
    free (got);
    return got == NULL;
}

static void
s_eligible (void)
{
    proto_render_t r;
    memset (&r, 0, sizeof r);
    const char *final [] = { "succeeded", "failed", "canceled" };
    for (int i = 0; i < 3; i++) {
        snprintf (r.status, sizeof r.status, "%s", final [i]);
        r.webhook_url = NULL;
        CHECK (render_cache_eligible (&r), "%s without a webhook must be eligible", final [i]);
        r.webhook_url = (char *) "";
        CHECK (render_cache_eligible (&r), "%s with an empty webhook_url must be eligible", final [i]);
        r.webhook_url = (char *) "https://example.com/hook";
        CHECK (!render_cache_eligible (&r), "%s with a webhook must not be eligible", final [i]);
    }
    r.webhook_url = NULL;
    snprintf (r.status, sizeof r.status, "processing");
    CHECK (!render_cache_eligible (&r), "a processing render must not be eligible");
    snprintf (r.status, sizeof r.status, "%s", "");
    CHECK (!render_cache_eligible (&r), "an empty status must not be eligible");
}

static void
s_hit_miss_age (void)
{
    render_cache_clear ();
    uint64_t h0, m0, h1, m1;
    render_cache_stats (&h0, &m0);
    CHECK (s_missing (KEY_A, "rnd_1", 1000), "empty cache must miss");
    render_cache_put (KEY_A, "rnd_1", "{\"id\":\"rnd_1\"}", 14, 1000);
    CHECK (s_has (KEY_A, "rnd_1", 1000, "{\"id\":\"rnd_1\"}"), "a stored answer must hit");
    CHECK (s_has (KEY_A, "rnd_1", 1000 + RENDER_CACHE_TTL_MS - 1, "{\"id\":\"rnd_1\"}"),
           "an answer younger than the TTL must hit");
    /* isolation: another key, or another id, never sees it */
    CHECK (s_missing (KEY_B, "rnd_1", 1001), "another key must miss");
    CHECK (s_missing (KEY_A, "rnd_2", 1001), "another id must miss");
    CHECK (s_missing (KEY_A, "rnd_", 1001) && s_missing (KEY_A, "rnd_10", 1001),
           "a prefix or extension of the id must miss");
    /* ageing out */
    CHECK (s_missing (KEY_A, "rnd_1", 1000 + RENDER_CACHE_TTL_MS), "an answer TTL old must miss");
    CHECK (s_missing (KEY_A, "rnd_1", 1000), "an aged-out answer is dropped");
    render_cache_stats (&h1, &m1);
    CHECK (h1 - h0 == 2 && m1 - m0 == 7, "stats: %llu hits %llu misses",
           (unsigned long long) (h1 - h0), (unsigned long long) (m1 - m0));
    /* replacement: the newer body and time win */
    render_cache_put (KEY_A, "rnd_1", "one", 3, 5000);
    render_cache_put (KEY_A, "rnd_1", "two", 3, 6000);
    CHECK (s_has (KEY_A, "rnd_1", 6000 + RENDER_CACHE_TTL_MS - 1, "two"), "replaced answer");
    /* the same id under two keys: two entries */
    render_cache_put (KEY_B, "rnd_1", "bee", 3, 6000);
    CHECK (s_has (KEY_A, "rnd_1", 6001, "two") && s_has (KEY_B, "rnd_1", 6001, "bee"),
           "one id under two keys");
}

static void
s_caps (void)
{
    render_cache_clear ();
    size_t big = RENDER_CACHE_BODY_MAX + 1;
    char *body = malloc (big);
    if (!body) {
        CHECK (0, "out of memory");
        return;
    }
    memset (body, 'x', big);
    render_cache_put (KEY_A, "rnd_big", body, big, 0);
    CHECK (s_missing (KEY_A, "rnd_big", 1), "a body over RENDER_CACHE_BODY_MAX must not be kept");
    render_cache_put (KEY_A, "rnd_max", body, RENDER_CACHE_BODY_MAX, 0);
    size_t len = 0;
    char *got = render_cache_get (KEY_A, "rnd_max", 1, &len);
    CHECK (got && len == RENDER_CACHE_BODY_MAX, "a body of exactly the cap must be kept");
    free (got);
    free (body);
    /* an id or key too long is ignored, not cut */
    char long_id [PROTO_ID_MAX + 8];
    memset (long_id, 'i', sizeof long_id - 1);
    long_id [sizeof long_id - 1] = 0;
    render_cache_put (KEY_A, long_id, "x", 1, 0);
    CHECK (s_missing (KEY_A, long_id, 1), "an over-long id must not be kept");

    /* LRU: fill, touch entry 0, add one more: entry 1 (least recently used) goes */
    render_cache_clear ();
    char id [32];
    for (int i = 0; i < RENDER_CACHE_ENTRIES; i++) {
        snprintf (id, sizeof id, "rnd_%d", i);
        render_cache_put (KEY_A, id, id, strlen (id), 100);
    }
    CHECK (s_has (KEY_A, "rnd_0", 101, "rnd_0"), "entry 0 before eviction");
    render_cache_put (KEY_A, "rnd_new", "new", 3, 102);
    CHECK (s_has (KEY_A, "rnd_new", 103, "new"), "the new entry is kept");
    CHECK (s_has (KEY_A, "rnd_0", 103, "rnd_0"), "the recently used entry 0 stays");
    CHECK (s_missing (KEY_A, "rnd_1", 103), "the least recently used entry 1 is evicted");
    int kept = 0;
    for (int i = 2; i < RENDER_CACHE_ENTRIES; i++) {
        snprintf (id, sizeof id, "rnd_%d", i);
        kept += s_has (KEY_A, id, 104, id);
    }
    CHECK (kept == RENDER_CACHE_ENTRIES - 2, "the other entries stay: %d", kept);
    render_cache_clear ();
    CHECK (s_missing (KEY_A, "rnd_0", 105), "clear drops everything");
}

int
main (void)
{
    s_eligible ();
    s_hit_miss_age ();
    s_caps ();
    if (check_failures) {
        fprintf (stderr, "%d failure(s)\n", check_failures);
        return 1;
    }
    printf ("ok\n");
    return 0;
}
