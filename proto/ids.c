/*  ids.c: ULID-based ids ("rnd_01J..."), and command names for logs.

    An id is a prefix plus 26 Crockford base32 characters encoding 128 bits:
    a 48-bit big-endian millisecond timestamp, then 80 random bits from
    libsodium, taken from a per-thread pool. Thread: safe (sodium_init once,
    the pool is each thread's own).  */
#include "proto.h"
#include <sodium.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define S_ULID_CHARS 26
static const char s_alphabet [] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Random bytes for ids from a per-thread pool filled S_POOL_BYTES at a
   time by libsodium: one getrandom(2) per S_POOL_BYTES / 10 ids instead of
   one per id (the gateway makes a request id per request). A forked child
   starts with an empty pool, so it never repeats its parent's ids. */
#define S_POOL_BYTES 640
static __thread uint8_t s_pool [S_POOL_BYTES];
static __thread size_t  s_pool_left;
static pthread_once_t   s_once = PTHREAD_ONCE_INIT;
static int              s_sodium_rc;

static void
s_pool_forget (void)
{
    sodium_memzero (s_pool, sizeof s_pool);
    s_pool_left = 0;
}

static void
s_init (void)
{
    s_sodium_rc = sodium_init () < 0 ? -1 : 0;
    pthread_atfork (NULL, NULL, s_pool_forget);
}

static void
s_random (uint8_t *out, size_t n)
{
    if (n > sizeof s_pool) {
        randombytes_buf (out, n);
        return;
    }
    if (s_pool_left < n) {
        randombytes_buf (s_pool, sizeof s_pool);
        s_pool_left = sizeof s_pool;
    }
    uint8_t *take = s_pool + (sizeof s_pool - s_pool_left);
    memcpy (out, take, n);
    sodium_memzero (take, n);                /* used bytes are not kept */
    s_pool_left -= n;
}

int
proto_id_new (const char *prefix, char *out, size_t out_size)
{
    size_t plen = prefix ? strlen (prefix) : 0;
    pthread_once (&s_once, s_init);
    if (!out || out_size < plen + S_ULID_CHARS + 1 || s_sodium_rc < 0)
        return -1;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    uint8_t random [10];
    s_random (random, sizeof random);

    unsigned __int128 v = ms & 0xFFFFFFFFFFFFull;
    for (size_t i = 0; i < sizeof random; i++)
        v = (v << 8) | random [i];
    memcpy (out, prefix, plen);
    for (int i = S_ULID_CHARS - 1; i >= 0; i--) {
        out [plen + (size_t) i] = s_alphabet [(unsigned) (v & 31)];
        v >>= 5;
    }
    out [plen + S_ULID_CHARS] = '\0';
    return 0;
}

bool
proto_id_valid (const char *id, const char *prefix)
{
    if (!id || !prefix)
        return false;
    size_t plen = strlen (prefix);
    if (strncmp (id, prefix, plen) != 0 || strlen (id + plen) != S_ULID_CHARS)
        return false;
    for (const char *p = id + plen; *p; p++)
        if (!strchr (s_alphabet, *p))
            return false;
    return true;
}

const char *
proto_cmd_name (int cmd)
{
    switch (cmd) {
        case PROTO_CREATE_RENDER:   return "CREATE_RENDER";
        case PROTO_GET_RENDER:      return "GET_RENDER";
        case PROTO_GET_FILE:        return "GET_FILE";
        case PROTO_EVENTS_SINCE:    return "EVENTS_SINCE";
        case PROTO_DELIVERY_REPORT: return "DELIVERY_REPORT";
        case PROTO_PING:            return "PING";
        case PROTO_STATE_ACK:       return "STATE_ACK";
        case PROTO_LEASE:           return "LEASE";
        case PROTO_IDEM_COMPLETE:   return "IDEM_COMPLETE";
        case PROTO_CANCEL_RENDER:   return "CANCEL_RENDER";
        case PROTO_LIST_RENDERS:    return "LIST_RENDERS";
        case PROTO_GET_ACCOUNT:     return "GET_ACCOUNT";
        case PROTO_IDEM_BEGIN:      return "IDEM_BEGIN";
        case PROTO_REPLAY:          return "REPLAY";
        case PROTO_RENDER_LIST:     return "RENDER_LIST";
        case PROTO_ACCOUNT:         return "ACCOUNT";
        case PROTO_DELIVERIES_GET:  return "DELIVERIES_GET";
        case PROTO_REDELIVER:       return "REDELIVER";
        case PROTO_WEBHOOK_TEST:    return "WEBHOOK_TEST";
        case PROTO_WEBHOOK_ACCOUNT: return "WEBHOOK_ACCOUNT";
        case PROTO_JSON:            return "JSON";
        case PROTO_READY:           return "READY";
        case PROTO_HEARTBEAT:       return "HEARTBEAT";
        case PROTO_RESULT:          return "RESULT";
        case PROTO_FAIL:            return "FAIL";
        case PROTO_DISCONNECT:      return "DISCONNECT";
        case PROTO_DRAINING:        return "DRAINING";
        case PROTO_CREATE_CAPTURE:  return "CREATE_CAPTURE";
        case PROTO_REVIEW:          return "REVIEW";
        case PROTO_CAPTURE_PROFILE: return "CAPTURE_PROFILE";
        case PROTO_TASK:            return "TASK";
        case PROTO_CANCEL_TASKS:    return "CANCEL_TASKS";
        case PROTO_FILE_PUT:        return "FILE_PUT";
        case PROTO_FILE_FIND:       return "FILE_FIND";
        case PROTO_ADMIN:           return "ADMIN";
        case PROTO_UPLOAD_BEGIN:    return "UPLOAD_BEGIN";
        case PROTO_RENDER:          return "RENDER";
        case PROTO_FILE:            return "FILE";
        case PROTO_EVENTS:          return "EVENTS";
        case PROTO_ACK:             return "ACK";
        case PROTO_PONG:            return "PONG";
        case PROTO_ERROR:           return "ERROR";
        default:                    return "UNKNOWN";
    }
}
