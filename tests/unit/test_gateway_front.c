/*  test_gateway_front.c: what the gateway checks before it does any work:
    JSON depth by scanning (json_depth), the bounded table (lru_table), token
    buckets (rate_limit), the strict Authorization parse and the key cache's
    expiry (key_cache). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "json_depth.h"
#include "lru_table.h"
#include "rate_limit.h"
#include "key_cache.h"
#include "easel_limits.h"

static char *
s_nest (const char *open, const char *close, size_t depth, const char *inner)
{
    size_t lo = strlen (open), lc = strlen (close), li = strlen (inner);
    char *s = malloc (depth * (lo + lc) + li + 1), *p = s;
    for (size_t i = 0; i < depth; i++, p += lo)
        memcpy (p, open, lo);
    memcpy (p, inner, li);
    p += li;
    for (size_t i = 0; i < depth; i++, p += lc)
        memcpy (p, close, lc);
    *p = '\0';
    return s;
}

static void
s_test_json_depth (void)
{
    static const struct { const char *text; size_t depth; } cases [] = {
        { "1", 0 }, { "\"[[[\"", 0 }, { "[]", 1 }, { "{}", 1 }, { "[[],[[]]]", 3 },
        { "{\"a\":{\"b\":[1,{\"c\":2}]}}", 4 },
        { "[\"\\\"[[[\"]", 1 },            /* an escaped quote does not end the string */
        { "[\"\\\\\",[[]]]", 3 },          /* an escaped backslash does */
        { "]]]][", 1 },                    /* unbalanced: left for the parser */
        { "[\"unterminated [[[[", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        size_t got = json_depth (cases [i].text, strlen (cases [i].text), 100);
        CHECK (got == cases [i].depth, "json_depth(%s): expected %zu, got %zu",
               cases [i].text, cases [i].depth, got);
    }
    char *at = s_nest ("[", "]", EASEL_MAX_JSON_DEPTH, "1");
    char *over = s_nest ("[", "]", EASEL_MAX_JSON_DEPTH + 1, "1");
    char *meta = s_nest ("{\"a\":", "}", 300, "1");
    char *huge = s_nest ("[", "]", 1000000, "");
    CHECK (json_depth_ok (at, strlen (at), EASEL_MAX_JSON_DEPTH), "depth at the limit passes");
    CHECK (!json_depth_ok (over, strlen (over), EASEL_MAX_JSON_DEPTH), "one over the limit is refused");
    CHECK (!json_depth_ok (meta, strlen (meta), EASEL_MAX_JSON_DEPTH), "objects 300 deep are refused");
    CHECK (json_depth (huge, strlen (huge), 32) == 33, "the scan stops once past the limit");
    CHECK (json_depth_ok (NULL, 0, 1) && json_depth_ok ("", 0, 1), "no body is not deep");
    CHECK (json_shape_check (at, strlen (at), EASEL_MAX_JSON_DEPTH, 100) == JSON_SHAPE_OK, "shape ok");
    CHECK (json_shape_check (over, strlen (over), EASEL_MAX_JSON_DEPTH, 100) == JSON_SHAPE_TOO_DEEP,
           "shape: too deep");
    CHECK (json_shape_check ("[1,2,3]", 7, 4, 4) == JSON_SHAPE_OK, "[1,2,3] holds 4 or fewer");
    CHECK (json_shape_check ("[1,2,3,4]", 9, 4, 4) == JSON_SHAPE_TOO_MANY, "[1,2,3,4] holds more than 4");
    CHECK (json_shape_check ("[\"1,2,3,4,5\"]", 13, 4, 2) == JSON_SHAPE_OK, "commas in strings do not count");
    CHECK (json_shape_check ("{\"a\":1,\"b\":2}", 13, 4, 3) == JSON_SHAPE_OK, "an object of two members");
    free (at);
    free (over);
    free (meta);
    free (huge);
}

static void
s_test_lru_table (void)
{
    lru_table_t *t = lru_table_new (16, sizeof (int));
    CHECK (t, "lru_table_new");
    bool created;
    int *v = lru_table_upsert (t, "a", 1, &created);
    CHECK (v && created && *v == 0, "a new record is zeroed");
    *v = 42;
    v = lru_table_upsert (t, "a", 2, &created);
    CHECK (v && !created && *v == 42, "the same key finds its record");
    CHECK (lru_table_find (t, "b", 3) == NULL, "an absent key is not found");
    char key [32];
    for (int i = 0; i < 10000; i++) {
        snprintf (key, sizeof key, "k%d", i);
        int *r = lru_table_upsert (t, key, 10 + i, &created);
        CHECK (r && created, "upsert %s", key);
        *r = i;
    }
    CHECK (lru_table_size (t) <= 16, "the table never holds more than its capacity (%zu)",
           lru_table_size (t));
    CHECK (lru_table_evictions (t) >= 10000 - 16, "old records were pushed out");
    int *last = lru_table_find (t, "k9999", 99999);
    CHECK (last && *last == 9999, "the newest record is kept");
    char longkey [LRU_TABLE_KEY_MAX + 8];
    memset (longkey, 'x', sizeof longkey - 1);
    longkey [sizeof longkey - 1] = '\0';
    CHECK (lru_table_upsert (t, longkey, 1, &created) == NULL, "an over-long key is refused");
    lru_table_remove (t, "k9999");
    CHECK (lru_table_find (t, "k9999", 1) == NULL, "a removed record is gone");
    lru_table_destroy (&t);
    lru_table_destroy (&t);
    CHECK (t == NULL, "destroy nulls and is safe twice");
}

static void
s_test_rate_limit (void)
{
    rate_rule_t r = { -1, -1 };
    CHECK (rate_rule_parse ("50:200", &r) == 0 && r.rate == 50 && r.burst == 200, "50:200");
    CHECK (rate_rule_parse ("0.5:3", &r) == 0 && r.rate == 0.5 && r.burst == 3, "0.5:3");
    CHECK (rate_rule_parse ("0", &r) == 0 && r.rate == 0, "0 is no limit");
    const char *bad [] = { "", "50", "50:", ":5", "-1:5", "0:5", "5:0", "5:1.5", "abc:5", "5:5x",
                           "1e3:5", "5:99999999999", NULL };
    for (int i = 0; bad [i]; i++) {
        rate_rule_t keep = { 7, 7 };
        CHECK (rate_rule_parse (bad [i], &keep) == -1 && keep.rate == 7, "'%s' is refused", bad [i]);
    }

    rate_rule_t rules [RATE_CLASSES];
    memcpy (rules, rate_limit_defaults, sizeof rules);
    rules [RATE_ALL] = (rate_rule_t) { 10, 3 };
    rules [RATE_WEBHOOK_TEST] = (rate_rule_t) { 0.5, 2 };
    rate_limit_t *rl = rate_limit_new (rules);
    CHECK (rl, "rate_limit_new");
    rate_class_t all [1] = { RATE_ALL }, hook [2] = { RATE_ALL, RATE_WEBHOOK_TEST }, refused;
    int retry = 0;
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        CHECK (rate_limit_take (rl, "acct_a", all, 1, t, &retry, &refused) == 0, "burst token %d", i);
    CHECK (rate_limit_take (rl, "acct_a", all, 1, t, &retry, &refused) == -1 && refused == RATE_ALL
           && retry == 1, "past the burst: refused with Retry-After 1 (got %d)", retry);
    CHECK (rate_limit_take (rl, "acct_b", all, 1, t, &retry, &refused) == 0, "another account has its own bucket");
    CHECK (rate_limit_take (rl, "acct_a", all, 1, t + 100, &retry, &refused) == 0,
           "100 ms at 10/s refills one token");
    t += 10000;
    CHECK (rate_limit_take (rl, "acct_c", hook, 2, t, &retry, &refused) == 0, "hook 1");
    CHECK (rate_limit_take (rl, "acct_c", hook, 2, t, &retry, &refused) == 0, "hook 2");
    CHECK (rate_limit_take (rl, "acct_c", hook, 2, t, &retry, &refused) == -1
           && refused == RATE_WEBHOOK_TEST && retry == 2,
           "third test webhook: refused by its class, retry in 2 s at 0.5/s (got %d)", retry);
    CHECK (rate_limit_take (rl, "acct_c", all, 1, t, &retry, &refused) == 0,
           "a refused request took nothing from the other bucket");
    CHECK (rate_limit_peek (rl, "10.0.0.1", RATE_AUTH_FAIL, t, &retry) == 0, "peek on a fresh address");
    rate_class_t fail [1] = { RATE_AUTH_FAIL };
    int taken = 0;
    while (rate_limit_take (rl, "10.0.0.1", fail, 1, t, &retry, &refused) == 0 && taken < 1000)
        taken++;
    CHECK (taken == 100, "auth_fail default burst is 100 (took %d)", taken);
    CHECK (rate_limit_peek (rl, "10.0.0.1", RATE_AUTH_FAIL, t, &retry) == -1 && retry >= 1,
           "peek sees the empty bucket");
    rate_class_t classes [RATE_CLASSES];
    int n = 0;
    rate_limit_classes ("POST", "/v1/renders", classes, &n);
    CHECK (n == 2 && classes [1] == RATE_CREATE, "POST /v1/renders is a create");
    rate_limit_classes ("GET", "/v1/renders", classes, &n);
    CHECK (n == 1 && classes [0] == RATE_ALL, "GET /v1/renders is only 'all'");
    rate_limit_classes ("POST", "/v1/webhooks/test", classes, &n);
    CHECK (n == 2 && classes [1] == RATE_WEBHOOK_TEST, "POST /v1/webhooks/test");
    /* many clients: memory stays fixed, each still limited */
    char who [32];
    for (int i = 0; i < 100000; i++) {
        snprintf (who, sizeof who, "acct_%d", i);
        rate_limit_take (rl, who, all, 1, t, &retry, &refused);
    }
    rate_limit_destroy (&rl);
    rate_limit_destroy (&rl);
    CHECK (rl == NULL, "destroy nulls");
    CHECK (rate_limit_take (NULL, "x", all, 1, t, &retry, &refused) == 0, "no limiter allows");
}

static void
s_test_bearer (void)
{
    char hash [65];
    api_error_t e;
    CHECK (key_cache_bearer ("Bearer sk_valid", hash, &e) == 0 && strlen (hash) == 64, "a plain key");
    CHECK (key_cache_bearer ("bearer sk_A-b_9", hash, &e) == 0, "any case of Bearer, [A-Za-z0-9_-]");
    const char *bad [] = { "Bearer sk_valid junk", "Bearer sk_valid ", "Bearer  sk_valid", "Bearer sk_",
                           "Bearer pk_valid", "Basic sk_valid", "Bearer sk_va\tlid", "Bearer sk_välid",
                           "Bearer sk_valid,sk_other", "sk_valid", "", NULL };
    for (int i = 0; bad [i]; i++)
        CHECK (key_cache_bearer (bad [i], hash, &e) == -1 && e.status == 401
               && strcmp (e.code, "invalid_api_key") == 0, "'%s' is refused", bad [i]);
    CHECK (key_cache_bearer (NULL, hash, &e) == -1 && strcmp (e.code, "missing_api_key") == 0,
           "no header: missing_api_key");
    char longkey [KEY_CACHE_KEY_MAX + 16] = "Bearer sk_";
    memset (longkey + 10, 'a', KEY_CACHE_KEY_MAX);
    longkey [10 + KEY_CACHE_KEY_MAX] = '\0';
    CHECK (key_cache_bearer (longkey, hash, &e) == -1, "a key over the cap is refused");

    key_cache_t *kc = key_cache_new (5000);
    char account [PROTO_ID_MAX] = "";
    CHECK (key_cache_get (kc, "h1", 0, account) == KEY_CACHE_MISS, "unknown: miss");
    key_cache_put (kc, "h1", "acct_1", 1000);
    key_cache_put (kc, "h2", NULL, 1000);
    CHECK (key_cache_get (kc, "h1", 5999, account) == KEY_CACHE_VALID && strcmp (account, "acct_1") == 0,
           "a good key is trusted within the TTL");
    CHECK (key_cache_get (kc, "h1", 6000, account) == KEY_CACHE_MISS, "and asked again after it");
    CHECK (key_cache_get (kc, "h2", 1999, account) == KEY_CACHE_INVALID, "a refused key is remembered");
    CHECK (key_cache_get (kc, "h2", 2000, account) == KEY_CACHE_MISS,
           "for EASEL_KEY_CACHE_NEGATIVE_TTL_MS only");
    key_cache_destroy (&kc);
    kc = key_cache_new (0);
    key_cache_put (kc, "h1", "acct_1", 1000);
    CHECK (key_cache_get (kc, "h1", 1000, account) == KEY_CACHE_MISS, "TTL 0 caches nothing");
    key_cache_destroy (&kc);
    api_error_t fe;
    CHECK (key_cache_fetch (NULL, NULL, "h", 0, account, &fe) == -1 && fe.status == 500,
           "no client: 500");
}

int
main (void)
{
    s_test_json_depth ();
    s_test_lru_table ();
    s_test_rate_limit ();
    s_test_bearer ();
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("gateway_front: all checks passed\n");
    return 0;
}
