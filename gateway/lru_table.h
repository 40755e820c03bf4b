/*  lru_table.h: a fixed-size table of small records keyed by short strings,
    the least recently used record of a set making room for a new one.

    The key cache and the rate limiter keep one record per API key, account
    or client address; a hostile client can make up any number of those, so
    the table never grows: its memory is fixed at lru_table_new and a new key
    replaces the stalest record among the LRU_TABLE_WAYS slots its hash
    picks. The hash is keyed (SipHash, a random key per table), so a client
    cannot aim its keys at one set to push out someone else's records.

    Thread: not thread safe; the owner holds its own lock around every call.
    Memory: the table owns its records; pointers it returns stay valid until
    the next lru_table_upsert or lru_table_destroy. */
#ifndef EASEL_LRU_TABLE_H
#define EASEL_LRU_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LRU_TABLE_KEY_MAX 96       /* bytes of a key, NUL included; longer keys are refused */
#define LRU_TABLE_WAYS    8        /* slots one key may land in */

typedef struct _lru_table_t lru_table_t;

/* A table of at least `capacity` records (rounded up to whole sets) of
   value_size bytes each, all zero. NULL on allocation failure or a zero
   size. */
lru_table_t *lru_table_new (size_t capacity, size_t value_size);
/* Frees the table; *self_p becomes NULL. Safe on NULL. */
void lru_table_destroy (lru_table_t **self_p);

/* The record stored under key, marked used at `now` (any increasing clock),
   or NULL when there is none. */
void *lru_table_find (lru_table_t *self, const char *key, int64_t now);

/* The record stored under key, or a new zeroed one (then *created is true)
   in the place of an empty slot or the least recently used record of its
   set. NULL only for a key of LRU_TABLE_KEY_MAX bytes or more. */
void *lru_table_upsert (lru_table_t *self, const char *key, int64_t now, bool *created);

/* Forgets the record under key, if any. */
void lru_table_remove (lru_table_t *self, const char *key);

/* Records held, and records pushed out to make room, since lru_table_new. */
size_t   lru_table_size (const lru_table_t *self);
uint64_t lru_table_evictions (const lru_table_t *self);

#endif
