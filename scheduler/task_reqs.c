/*  task_reqs.c: request ids of leased tasks (see task_reqs.h): FNV-1a of the
    task id picks the slot; the slot keeps the id to tell a hit from a miss.
    Thread: one. Memory: one calloc'd table. */
#include "task_reqs.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char task_id [PROTO_ID_MAX];
    char req [PROTO_ID_MAX];
} s_slot_t;

struct _task_reqs_t {
    s_slot_t slots [TASK_REQS_SLOTS];
};

task_reqs_t *
task_reqs_new (void)
{
    return calloc (1, sizeof (task_reqs_t));
}

void
task_reqs_destroy (task_reqs_t **self_p)
{
    if (self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static s_slot_t *
s_slot (task_reqs_t *self, const char *task_id)
{
    return &self->slots [util_fnv1a (UTIL_FNV_SEED, task_id) % TASK_REQS_SLOTS];
}

void
task_reqs_put (task_reqs_t *self, const char *task_id, const char *req)
{
    if (!self || !task_id [0] || strlen (task_id) >= PROTO_ID_MAX)
        return;
    s_slot_t *s = s_slot (self, task_id);
    snprintf (s->task_id, sizeof s->task_id, "%s", task_id);
    snprintf (s->req, sizeof s->req, "%s", req ? req : "");
}

bool
task_reqs_get (task_reqs_t *self, const char *task_id, char req [PROTO_ID_MAX])
{
    if (!self || !task_id [0])
        return false;
    s_slot_t *s = s_slot (self, task_id);
    if (strcmp (s->task_id, task_id) != 0)
        return false;
    memcpy (req, s->req, PROTO_ID_MAX);
    return true;
}
