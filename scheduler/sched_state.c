/*  sched_state.c: the render state stream (see sched_state.h). The touched
    ids of a pass are an open-addressing set of SCHED_STATE_TOUCH_MAX ids in
    twice as many slots, walked in touch order at the collect.
    Thread: the scheduler's loop. Memory: the room owns its arrays. */
#include "sched_state.h"
#include "log.h"
#include "render_json.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SLOTS (2 * SCHED_STATE_TOUCH_MAX)

struct _sched_state_t {
    int64_t epoch;
    char    ids [SCHED_STATE_TOUCH_MAX][PROTO_ID_MAX];   /* in touch order */
    int     nids;
    int     slots [S_SLOTS];          /* index + 1 into ids; 0 empty */
    bool    reset;                    /* this pass publishes a reset instead */
};

sched_state_t *
sched_state_new (void)
{
    sched_state_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    uint64_t r = 0;
    while (r == 0) {                  /* positive, never 0 (0 reads as "not set") */
        randombytes_buf (&r, sizeof r);
        r &= INT64_MAX;
    }
    self->epoch = (int64_t) r;
    return self;
}

void
sched_state_destroy (sched_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int64_t
sched_state_epoch (const sched_state_t *self)
{
    return self->epoch;
}

void
sched_state_forget (sched_state_t *self)
{
    self->nids = 0;
    self->reset = false;
    memset (self->slots, 0, sizeof self->slots);
}

void
sched_state_reset (sched_state_t *self)
{
    self->reset = true;
}

void
sched_state_touch (sched_state_t *self, const char *id)
{
    if (self->reset || !id || strncmp (id, "rnd_", 4) != 0 || strlen (id) >= PROTO_ID_MAX)
        return;
    uint32_t h = util_fnv1a (UTIL_FNV_SEED, id) % S_SLOTS;
    for (;; h = (h + 1) % S_SLOTS) {
        int i = self->slots [h] - 1;
        if (i < 0)
            break;
        if (strcmp (self->ids [i], id) == 0)
            return;
    }
    if (self->nids == SCHED_STATE_TOUCH_MAX) {
        self->reset = true;           /* too many to name: every gateway starts over */
        return;
    }
    snprintf (self->ids [self->nids], PROTO_ID_MAX, "%s", id);
    self->slots [h] = ++self->nids;
}

/* Queues a body-less state message (gone or reset) about id. */
static void
s_queue_simple (sched_state_t *self, sched_out_t *out, const char *topic, const char *id)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    snprintf (s.rid, sizeof s.rid, "%s", id);
    s.state_epoch = self->epoch;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_simple_encode (&s, &sb) == 0)
        sched_out_state (out, topic, sb.data, sb.size);
    else
        sched_out_state (out, PROTO_TOPIC_STATE_RESET, NULL, 0);
    msgpack_sbuffer_destroy (&sb);
}

/* One touched render: its state, or gone. 0; -1 with err on a store error. */
static int
s_collect_one (sched_state_t *self, job_store_t *store, sched_out_t *out, const char *id,
               int64_t now_ms, char *err)
{
    proto_render_t r;
    memset (&r, 0, sizeof r);
    int rc = job_store_render_head (store, id, &r, err);
    bool carried = rc == 0 && render_json_state_carried (&r);
    proto_render_free (&r);
    memset (&r, 0, sizeof r);
    if (rc && strcmp (err, "not found") != 0)
        return -1;
    if (carried && (rc = job_store_render_get (store, id, NULL, now_ms, &r, err)) != 0) {
        proto_render_free (&r);
        if (strcmp (err, "not found") != 0)
            return -1;
        carried = false;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (carried) {
        snprintf (r.rid, sizeof r.rid, "state");
        r.state_epoch = self->epoch;
        r.signed_ms = now_ms;
        carried = proto_render_encode (&r, &sb) == 0 && sb.size <= SCHED_STATE_BODY_MAX;
        proto_render_free (&r);
    }
    if (carried)
        sched_out_state (out, PROTO_TOPIC_STATE_RENDER, sb.data, sb.size);
    else
        s_queue_simple (self, out, PROTO_TOPIC_STATE_GONE, id);
    msgpack_sbuffer_destroy (&sb);
    return 0;
}

int
sched_state_collect (sched_state_t *self, job_store_t *store, sched_out_t *out,
                     int64_t now_ms, char *err)
{
    int rc = 0;
    if (self->reset)
        s_queue_simple (self, out, PROTO_TOPIC_STATE_RESET, "");
    else
        for (int i = 0; i < self->nids && rc == 0; i++)
            rc = s_collect_one (self, store, out, self->ids [i], now_ms, err);
    sched_state_forget (self);
    return rc;
}
