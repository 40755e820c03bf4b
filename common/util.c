/*  util.c: time, hashing and configuration helpers (see util.h).
    Thread: any. Memory: only util_read_file allocates (caller frees). */
#include "util.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
util_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
util_iso8601 (int64_t unix_ms, char *out, size_t size)
{
    time_t secs = (time_t) (unix_ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    if (strftime (out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && size > 0)
        out [0] = '\0';
}

static void
s_hex (const uint8_t *bin, size_t len, char *out)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out [2 * i] = digits [bin [i] >> 4];
        out [2 * i + 1] = digits [bin [i] & 15];
    }
    out [2 * len] = '\0';
}

uint32_t
util_fnv1a (uint32_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

int
util_grow (void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t next = *cap ? *cap * 2 : 64;
    void *grown = realloc (*arr, next * elem);
    if (!grown)
        return -1;
    *arr = grown;
    *cap = next;
    return 0;
}

void
util_sha256_hex (const void *data, size_t len, char out [65])
{
    uint8_t md [32];
    unsigned int md_len = sizeof md;
    EVP_Digest (data, len, md, &md_len, EVP_sha256 (), NULL);
    s_hex (md, 32, out);
}

/* libsodium's streaming HMAC, not OpenSSL 3's one-shot HMAC(): that one
   fetches the MAC and digest from the provider and builds a context on
   every call (EVP_Q_mac), several times the cost of the hashing for the
   short messages signed here (a create signs its review link: 4 % of the
   scheduler's samples under bench/api.py's creates). Same RFC 2104 bytes,
   any key length. */
void
util_hmac_sha256 (const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out [32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init (&st, key, key_len);
    crypto_auth_hmacsha256_update (&st, msg, msg_len);
    crypto_auth_hmacsha256_final (&st, out);
    sodium_memzero (&st, sizeof st);
}

void
util_hmac_sha256_hex (const void *key, size_t key_len, const void *msg, size_t msg_len, char out [65])
{
    uint8_t md [32];
    util_hmac_sha256 (key, key_len, msg, msg_len, md);
    s_hex (md, 32, out);
}

bool
util_str_equal_ct (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp (a, b, la) == 0;
}

int
util_parse_i64 (const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll (s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int64_t) v;
    return 0;
}

const char *
util_config (int argc, char **argv, const char *flag, const char *env, const char *dflt)
{
    size_t flen = flag ? strlen (flag) : 0;
    for (int i = 1; flag && i < argc; i++) {
        if (strcmp (argv [i], flag) == 0 && i + 1 < argc)
            return argv [i + 1];
        if (strncmp (argv [i], flag, flen) == 0 && argv [i][flen] == '=')
            return argv [i] + flen + 1;
    }
    const char *value = env ? getenv (env) : NULL;
    if (value && *value)
        return value;
    return dflt;
}

bool
util_config_flag (int argc, char **argv, const char *flag, const char *env)
{
    for (int i = 1; flag && i < argc; i++)
        if (strcmp (argv [i], flag) == 0)
            return true;
    const char *value = env ? getenv (env) : NULL;
    return value && (strcmp (value, "1") == 0 || strcmp (value, "true") == 0
                     || strcmp (value, "yes") == 0);
}

char *
util_read_file (const char *path, size_t max, size_t *len_out)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    size_t cap = max < 4096 ? max : 4096, len = 0;   /* never read past max */
    char *buf = malloc (cap + 1);
    while (buf) {
        if (len == cap) {
            if (cap >= max) {
                if (fgetc (f) == EOF)
                    break;           /* exactly max bytes: accepted */
                free (buf);
                buf = NULL;
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *grown = realloc (buf, cap + 1);
            if (!grown) {
                free (buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
        size_t n = fread (buf + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    if (buf && ferror (f)) {
        free (buf);
        buf = NULL;
    }
    fclose (f);
    if (!buf)
        return NULL;
    buf [len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

int
util_template_expand (const char *tmpl, const char *locale, const char *preset, char *out, size_t size)
{
    size_t n = 0;
    while (*tmpl) {
        const char *rep = NULL;
        size_t skip = 1;
        if (strncmp (tmpl, "{locale}", 8) == 0)
            rep = locale, skip = 8;
        else
        if (strncmp (tmpl, "{preset}", 8) == 0)
            rep = preset, skip = 8;
        size_t add = rep ? strlen (rep) : 1;
        if (n + add >= size)
            return -1;
        memcpy (out + n, rep ? rep : tmpl, add);
        n += add;
        tmpl += skip;
    }
    out [n] = '\0';
    return 0;
}
