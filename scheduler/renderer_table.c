/*  renderer_table.c: the scheduler's fleet of renderers (see
    renderer_table.h). Open addressing over twice the table's capacity,
    so the index is at most half full.
    Thread: the scheduler's loop. Memory: entries own their identity. */
#include "renderer_table.h"
#include "bus.h"
#include "log.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_INDEX_SLOTS (2 * RENDERER_TABLE_MAX)

struct _renderer_table_t {
    renderer_t renderers [RENDERER_TABLE_MAX];
    int        nrenderers;
    int16_t    hex_slots [S_INDEX_SLOTS];      /* renderer index + 1, by hash of its hex */
    bool       hex_dirty;                      /* the table changed: rebuilt before use */
};

renderer_table_t *
renderer_table_new (void)
{
    return calloc (1, sizeof (renderer_table_t));
}

void
renderer_table_destroy (renderer_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    renderer_table_t *self = *self_p;
    for (int i = 0; i < self->nrenderers; i++)
        zframe_destroy (&self->renderers [i].identity);
    free (self);
    *self_p = NULL;
}

int
renderer_identity_hex (zframe_t *identity, char *out, size_t size)
{
    size_t n = zframe_size (identity);
    if (n == 0 || n > RENDERER_IDENTITY_MAX || size < 2 * n + 1)
        return -1;
    const uint8_t *b = zframe_data (identity);
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out [2 * i] = digits [b [i] >> 4];
        out [2 * i + 1] = digits [b [i] & 15];
    }
    out [2 * n] = 0;
    return 0;
}

/* FNV-1a of a renderer's hex identity, as a slot of hex_slots. */
static size_t
s_hex_slot (const char *hex)
{
    return util_fnv1a (UTIL_FNV_SEED, hex) % S_INDEX_SLOTS;
}

static void
s_hex_index (renderer_table_t *self)
{
    memset (self->hex_slots, 0, sizeof self->hex_slots);
    for (int i = 0; i < self->nrenderers; i++) {
        size_t k = s_hex_slot (self->renderers [i].hex);
        while (self->hex_slots [k])
            k = (k + 1) % S_INDEX_SLOTS;
        self->hex_slots [k] = (int16_t) (i + 1);
    }
    self->hex_dirty = false;
}

renderer_t *
renderer_table_by_hex (renderer_table_t *self, const char *hex)
{
    if (self->hex_dirty)
        s_hex_index (self);
    for (size_t k = s_hex_slot (hex); self->hex_slots [k]; k = (k + 1) % S_INDEX_SLOTS) {
        renderer_t *r = &self->renderers [self->hex_slots [k] - 1];
        if (strcmp (r->hex, hex) == 0)
            return r;
    }
    return NULL;
}

/* By identity: one hash lookup (every message on the work socket asks). */
renderer_t *
renderer_table_find (renderer_table_t *self, zframe_t *identity)
{
    char hex [RENDERER_HEX_MAX];
    if (renderer_identity_hex (identity, hex, sizeof hex))
        return NULL;
    renderer_t *r = renderer_table_by_hex (self, hex);
    if (r)
        return r;
    for (int i = 0; i < self->nrenderers; i++)   /* not indexed (yet): rebuild next time */
        if (zframe_eq (self->renderers [i].identity, identity)) {
            self->hex_dirty = true;
            return &self->renderers [i];
        }
    return NULL;
}

renderer_t *
renderer_table_ready (renderer_table_t *self, zframe_t *identity, const proto_ready_t *ready,
                      int64_t mono_ms)
{
    renderer_t *r = renderer_table_find (self, identity);
    if (!r) {
        if (self->nrenderers == RENDERER_TABLE_MAX) {
            log_warn ("renderer refused: table full", "renderer", ready->name, NULL);
            return NULL;
        }
        r = &self->renderers [self->nrenderers];
        memset (r, 0, sizeof *r);
        if (renderer_identity_hex (identity, r->hex, sizeof r->hex)) {
            log_warn ("renderer refused: identity too long", "renderer", ready->name, NULL);
            return NULL;
        }
        r->identity = zframe_dup (identity);
        self->nrenderers++;
        self->hex_dirty = true;
    }
    snprintf (r->name, sizeof r->name, "%s", ready->name);
    r->slots = ready->slots;
    r->capture = ready->capture;
    r->last_seen_ms = mono_ms;
    char slots [16];
    snprintf (slots, sizeof slots, "%d", (int) ready->slots);
    log_info ("renderer ready", "renderer", r->name, "slots", slots,
              "capture", r->capture ? "1" : "0", NULL);
    return r;
}

void
renderer_table_remove (renderer_table_t *self, renderer_t *r)
{
    assert (r >= self->renderers && r < self->renderers + self->nrenderers);
    zframe_destroy (&r->identity);
    *r = self->renderers [--self->nrenderers];
    memset (&self->renderers [self->nrenderers], 0, sizeof *r);
    self->hex_dirty = true;
}

int
renderer_table_size (renderer_table_t *self)
{
    return self->nrenderers;
}

renderer_t *
renderer_table_at (renderer_table_t *self, int i)
{
    assert (i >= 0 && i < self->nrenderers);
    return &self->renderers [i];
}

int64_t
renderer_table_free_slots (renderer_table_t *self)
{
    int64_t free_slots = 0;
    for (int i = 0; i < self->nrenderers; i++)
        free_slots += self->renderers [i].slots > self->renderers [i].leased
                    ? self->renderers [i].slots - self->renderers [i].leased : 0;
    return free_slots;
}

void
renderer_table_heartbeat (renderer_table_t *self, zsock_t *work)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_simple_encode (&s, &sb) == 0)
        for (int i = 0; i < self->nrenderers; i++)
            if (bus_send (work, self->renderers [i].identity, PROTO_HEARTBEAT, sb.data, sb.size)
            &&  errno == EHOSTUNREACH)
                self->renderers [i].last_seen_ms = 0;
    msgpack_sbuffer_destroy (&sb);
}
