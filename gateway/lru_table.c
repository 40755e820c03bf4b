/*  lru_table.c: fixed-size set-associative records (see lru_table.h).
    Slots are one flat array: set s holds slots [s * WAYS, (s + 1) * WAYS);
    each slot is a header (key, last use) followed by the caller's value,
    padded to 8 bytes. An empty slot has key[0] == '\0'. */
#include "lru_table.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char    key [LRU_TABLE_KEY_MAX];
    int64_t used;
} s_head_t;

struct _lru_table_t {
    size_t   nsets;
    size_t   value_size;
    size_t   stride;               /* bytes of one slot: header + value, 8-aligned */
    size_t   size;
    uint64_t evictions;
    unsigned char hash_key [crypto_shorthash_KEYBYTES];
    unsigned char *slots;
};

lru_table_t *
lru_table_new (size_t capacity, size_t value_size)
{
    if (capacity == 0 || value_size == 0 || value_size > 4096 || sodium_init () < 0)
        return NULL;
    lru_table_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->nsets = (capacity + LRU_TABLE_WAYS - 1) / LRU_TABLE_WAYS;
    self->value_size = value_size;
    self->stride = (sizeof (s_head_t) + value_size + 7) & ~(size_t) 7;
    self->slots = calloc (self->nsets * LRU_TABLE_WAYS, self->stride);
    if (!self->slots) {
        free (self);
        return NULL;
    }
    randombytes_buf (self->hash_key, sizeof self->hash_key);
    return self;
}

void
lru_table_destroy (lru_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->slots);
    free (*self_p);
    *self_p = NULL;
}

static s_head_t *
s_slot (lru_table_t *self, size_t i)
{
    return (s_head_t *) (self->slots + i * self->stride);
}

/* First slot of key's set; 0 / -1 for a key too long to store. */
static int
s_set (lru_table_t *self, const char *key, size_t *first)
{
    size_t n = strnlen (key, LRU_TABLE_KEY_MAX);
    if (n >= LRU_TABLE_KEY_MAX)
        return -1;
    unsigned char h [crypto_shorthash_BYTES];
    crypto_shorthash (h, (const unsigned char *) key, n, self->hash_key);
    uint64_t v;
    memcpy (&v, h, sizeof v);
    *first = (size_t) (v % self->nsets) * LRU_TABLE_WAYS;
    return 0;
}

static s_head_t *
s_lookup (lru_table_t *self, const char *key)
{
    size_t first;
    if (!key [0] || s_set (self, key, &first))
        return NULL;
    for (size_t i = first; i < first + LRU_TABLE_WAYS; i++) {
        s_head_t *h = s_slot (self, i);
        if (h->key [0] && strcmp (h->key, key) == 0)
            return h;
    }
    return NULL;
}

void *
lru_table_find (lru_table_t *self, const char *key, int64_t now)
{
    s_head_t *h = s_lookup (self, key);
    if (!h)
        return NULL;
    h->used = now;
    return h + 1;
}

void *
lru_table_upsert (lru_table_t *self, const char *key, int64_t now, bool *created)
{
    *created = false;
    size_t first;
    if (!key [0] || s_set (self, key, &first))
        return NULL;
    s_head_t *victim = NULL;
    for (size_t i = first; i < first + LRU_TABLE_WAYS; i++) {
        s_head_t *h = s_slot (self, i);
        if (h->key [0] && strcmp (h->key, key) == 0) {
            h->used = now;
            return h + 1;
        }
        if (!h->key [0]) {
            if (!victim || victim->key [0])
                victim = h;
        }
        else
        if (!victim || (victim->key [0] && h->used < victim->used))
            victim = h;
    }
    if (victim->key [0])
        self->evictions++;
    else
        self->size++;
    memset (victim, 0, self->stride);
    memcpy (victim->key, key, strlen (key) + 1);
    victim->used = now;
    *created = true;
    return victim + 1;
}

void
lru_table_remove (lru_table_t *self, const char *key)
{
    s_head_t *h = s_lookup (self, key);
    if (h) {
        memset (h, 0, self->stride);
        self->size--;
    }
}

size_t
lru_table_size (const lru_table_t *self)
{
    return self->size;
}

uint64_t
lru_table_evictions (const lru_table_t *self)
{
    return self->evictions;
}
