/*  test_api_pool.c: the gateway's shared bus clients (gateway/api_pool.h)
    against a fake scheduler (a ROUTER in a thread that echoes each request's
    body back after a delay): more callers than clients all get their own
    answer, one after another, the pool never opening more than its size of
    sockets; a caller that finds no free client within the timeout gets -1
    and the pool still serves afterwards; a NULL pool is -1. The key cache's
    lookup over the pool (key_cache_fetch) asks GET_ACCOUNT with key_only
    and keeps the account the answer names. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <czmq.h>
#include "check.h"
#include "api_pool.h"
#include "bus.h"
#include "key_cache.h"
#include "util.h"

#define S_DELAY_MS 300

static char s_endpoint [64];
static volatile int s_peers_max;        /* distinct identities seen by the fake scheduler */
static volatile int s_key_only = -1;    /* the last GET_ACCOUNT's key_only, -1 before one */

/* GET_ACCOUNT: the fake answers ACCOUNT naming acct_fake, as the scheduler
   does for a key it knows. */
static void
s_account (zsock_t *router, const bus_msg_t *m)
{
    proto_get_t g;
    char err [PROTO_ERR_MAX];
    memset (&g, 0, sizeof g);
    if (proto_get_decode ((const char *) zframe_data (m->body), zframe_size (m->body), &g, err))
        return;
    s_key_only = g.key_only;
    proto_body_t b;
    memset (&b, 0, sizeof b);
    snprintf (b.rid, sizeof b.rid, "%s", g.rid);
    snprintf (b.id, sizeof b.id, "acct_fake");
    b.status = 200;
    b.body = "{\"object\":\"account\",\"id\":\"acct_fake\"}";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_body_encode (&b, &sb) == 0)
        bus_send (router, m->identity, PROTO_ACCOUNT, sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
}

static void
s_fake_scheduler (zsock_t *pipe, void *args)
{
    (void) args;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    bus_socket_setup (router);
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", port);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    zlist_t *peers = zlist_new ();
    zlist_autofree (peers);
    zlist_comparefn (peers, (zlist_compare_fn *) strcmp);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which != router)
            break;
        bus_msg_t m;
        char err [PROTO_ERR_MAX];
        if (bus_recv (router, true, &m, err))
            continue;
        char *hex = zframe_strhex (m.identity);
        if (hex && !zlist_exists (peers, hex))
            zlist_append (peers, hex);
        zstr_free (&hex);
        s_peers_max = (int) zlist_size (peers);
        zclock_sleep (S_DELAY_MS);
        if (m.cmd == PROTO_GET_ACCOUNT)
            s_account (router, &m);
        else
            bus_send (router, m.identity, PROTO_PONG, (const char *) zframe_data (m.body), zframe_size (m.body));
        bus_msg_free (&m);
    }
    zlist_destroy (&peers);
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

typedef struct {
    api_pool_t *pool;
    char        rid [32];
    int         rc;
    bool        echoed;
} s_caller_t;

static void *
s_call (void *arg)
{
    s_caller_t *c = arg;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 1);
    msgpack_pack_str_with_body (&pk, "rid", 3);
    msgpack_pack_str_with_body (&pk, c->rid, strlen (c->rid));
    int got = 0;
    zframe_t *reply = NULL;
    c->rc = api_pool_call (c->pool, PROTO_PING, &sb, c->rid, &got, &reply);
    char rid [PROTO_ID_MAX] = "";
    c->echoed = c->rc == 0 && got == PROTO_PONG
             && bus_client_peek_rid ((const char *) zframe_data (reply), zframe_size (reply), rid) == 0
             && strcmp (rid, c->rid) == 0;
    zframe_destroy (&reply);
    msgpack_sbuffer_destroy (&sb);
    return NULL;
}

static void
s_run (api_pool_t *pool, s_caller_t *callers, int n)
{
    pthread_t t [16];
    for (int i = 0; i < n; i++) {
        callers [i].pool = pool;
        snprintf (callers [i].rid, sizeof callers [i].rid, "rid-%d-%d", n, i);
        pthread_create (&t [i], NULL, s_call, &callers [i]);
        zclock_sleep (20);          /* in order: the first ones borrow first */
    }
    for (int i = 0; i < n; i++)
        pthread_join (t [i], NULL);
}

int
main (void)
{
    zsys_init ();
    zactor_t *fake = zactor_new (s_fake_scheduler, NULL);

    /* 6 callers, 2 clients, a generous timeout: all answered, at most 2 sockets */
    api_pool_t *pool = api_pool_new (s_endpoint, 2, 5000);
    CHECK (pool, "api_pool_new");
    s_caller_t callers [6];
    memset (callers, 0, sizeof callers);
    int64_t t0 = util_mono_ms ();
    s_run (pool, callers, 6);
    int64_t took = util_mono_ms () - t0;
    for (int i = 0; i < 6; i++)
        CHECK (callers [i].rc == 0 && callers [i].echoed, "caller %d got its own answer (rc %d)", i,
               callers [i].rc);
    CHECK (s_peers_max <= 2, "the fake scheduler saw %d sockets, the pool has 2", s_peers_max);
    CHECK (took >= 2 * S_DELAY_MS, "6 calls on 2 clients cannot all run at once (took %lld ms)",
           (long long) took);
    api_pool_destroy (&pool);
    CHECK (pool == NULL, "destroy nulls the pointer");
    api_pool_destroy (&pool);

    /* 1 client, a timeout shorter than one call: the second caller gives up */
    pool = api_pool_new (s_endpoint, 1, S_DELAY_MS / 2 + 50);
    memset (callers, 0, sizeof callers);
    s_run (pool, callers, 2);
    CHECK (callers [1].rc == -1, "no free client within the timeout: -1, got %d", callers [1].rc);
    /* the first one's own call timed out too (the fake answers after 300 ms) */
    zclock_sleep (2 * S_DELAY_MS);
    api_pool_destroy (&pool);
    pool = api_pool_new (s_endpoint, 1, 5000);
    memset (callers, 0, sizeof callers);
    s_run (pool, callers, 1);
    CHECK (callers [0].rc == 0 && callers [0].echoed, "a fresh pool serves afterwards");
    api_pool_destroy (&pool);

    /* the key cache's lookup: GET_ACCOUNT with key_only, the named account kept */
    pool = api_pool_new (s_endpoint, 1, 5000);
    key_cache_t *kc = key_cache_new (5000);
    char account [PROTO_ID_MAX] = "";
    api_error_t e;
    memset (&e, 0, sizeof e);
    CHECK (key_cache_fetch (kc, pool, "h1", 1000, account, &e) == 0 && strcmp (account, "acct_fake") == 0,
           "key_cache_fetch takes the account the answer names, got '%s' (%d)", account, e.status);
    CHECK (s_key_only == 1, "the lookup asks GET_ACCOUNT with key_only, got %d", s_key_only);
    account [0] = 0;
    CHECK (key_cache_get (kc, "h1", 2000, account) == KEY_CACHE_VALID && strcmp (account, "acct_fake") == 0,
           "and remembers it, got '%s'", account);
    key_cache_destroy (&kc);
    api_pool_destroy (&pool);

    int got = 0;
    zframe_t *reply = NULL;
    CHECK (api_pool_call (NULL, PROTO_PING, NULL, "x", &got, &reply) == -1 && !reply, "NULL pool: -1");
    CHECK (api_pool_new (s_endpoint, 0, 100) == NULL, "a pool of 0 clients is refused");

    zactor_destroy (&fake);
    if (check_failures)
        fprintf (stderr, "test_api_pool: %d failed\n", check_failures);
    else
        printf ("test_api_pool: ok\n");
    return check_failures ? 1 : 0;
}
