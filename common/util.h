/*  util.h: small helpers several services share: time, hashing, hex, bounded
    number parsing, configuration lookup. No state; thread safe. */
#ifndef EASEL_UTIL_H
#define EASEL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

int64_t util_now_ms (void);                 /* wall clock, unix ms */
int64_t util_mono_ms (void);                /* monotonic ms, for timeouts */

/* Writes "2026-11-22T10:00:00Z" (UTC, second precision) for unix ms into out (>= 21 bytes). */
void util_iso8601 (int64_t unix_ms, char *out, size_t size);

/* Lower-case hex sha256 of data into out (65 bytes, NUL-terminated). */
void util_sha256_hex (const void *data, size_t len, char out[65]);
/* Lower-case hex HMAC-SHA256(key, msg) into out (65 bytes). */
void util_hmac_sha256_hex (const void *key, size_t key_len, const void *msg, size_t msg_len, char out[65]);
/* Raw HMAC-SHA256 into out (32 bytes). */
void util_hmac_sha256 (const void *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[32]);
/* FNV-1a of the string s, continuing from h (start with UTIL_FNV_SEED): a
   cheap hash for in-memory tables, not for anything an attacker may pick. */
#define UTIL_FNV_SEED 2166136261u
uint32_t util_fnv1a (uint32_t h, const char *s);
/* Constant-time string comparison; false when lengths differ. */
bool util_str_equal_ct (const char *a, const char *b);

/* Parses a whole decimal integer in [min, max]. 0 / -1 (no partial parses, no overflow). */
int  util_parse_i64 (const char *s, int64_t min, int64_t max, int64_t *out);

/* Configuration lookup, flags win over environment:
   returns the value of "--name value" or "--name=value" in argv, else getenv(env),
   else dflt. The returned pointer is borrowed (argv, environ or dflt). */
const char *util_config (int argc, char **argv, const char *flag, const char *env, const char *dflt);
/* True if "--name" appears in argv as a bare flag, or env is "1"/"true"/"yes". */
bool util_config_flag (int argc, char **argv, const char *flag, const char *env);

/* tmpl with every {locale} and {preset} replaced into out (size bytes):
   the one substitution of spec templates (gateway) and local paths (CLI).
   0, or -1 when the result would not fit. */
int util_template_expand (const char *tmpl, const char *locale, const char *preset, char *out, size_t size);

/* Grows the heap array *arr (*cap elements of elem bytes) to hold at least
   n + 1, doubling from 64. 0; -1 out of memory (*arr and *cap unchanged). */
int util_grow (void **arr, size_t *cap, size_t n, size_t elem);

/* Reads a whole file (at most max bytes) into a NUL-terminated heap buffer; NULL on error or cap. */
char *util_read_file (const char *path, size_t max, size_t *len_out);

#endif
