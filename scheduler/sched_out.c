/*  sched_out.c: the scheduler's outbound queue (see sched_out.h).
    Thread: the scheduler's loop. Memory: each queued message owns a copy of
    its identity frame and body; a flush or rollback frees them. */
#include "sched_out.h"
#include "read_lease.h"
#include "bus.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    zsock_t  *sock;
    zframe_t *identity;
    int       cmd;
    char     *body;
    size_t    len;
    char      rid [PROTO_ID_MAX];             /* api replies: to answer 503 instead */
    char      task_id [PROTO_ID_MAX];         /* TASK sends: to requeue on send failure */
    int32_t   attempt;
    int64_t   hold_seq;                       /* held replies: the state seq they wait for */
    int64_t   hold_ms;                        /* and since when (monotonic) */
} s_msg_t;

typedef struct {
    char    type [PROTO_SHORT_MAX];
    char    object_id [PROTO_ID_MAX];
    int64_t seq;
} s_hint_t;

typedef struct {
    char   topic [PROTO_SHORT_MAX];
    char  *body;                              /* NULL: empty, or a reset for want of memory */
    size_t len;
} s_state_t;

struct _sched_out_t {
    s_state_t *states;                        /* the state stream's messages of this pass */
    size_t    nstates, states_cap;
    int64_t   state_seq;                      /* the last state seq published */
    s_msg_t  *out;
    size_t    nout, out_cap;
    s_hint_t *pubs;
    size_t    npubs, pubs_cap;
    s_msg_t  *unsent;                         /* TASKs whose send failed: ended next pass */
    size_t    nunsent, unsent_cap;
    int64_t   last_seq;                       /* highest published event seq */
    read_lease_t *lease;                      /* NULL: nothing is held */
    s_msg_t  *held;                           /* api replies waiting for the lease holders */
    size_t    nheld, held_cap;
    int64_t   released_seq;                   /* highest state seq a sent api reply reflects */
};

sched_out_t *
sched_out_new (void)
{
    return calloc (1, sizeof (sched_out_t));
}

static void
s_msg_free (s_msg_t *o)
{
    zframe_destroy (&o->identity);
    free (o->body);
    o->body = NULL;
}

void
sched_out_destroy (sched_out_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sched_out_t *self = *self_p;
    for (size_t i = 0; i < self->nout; i++)
        s_msg_free (&self->out [i]);
    free (self->out);
    for (size_t i = 0; i < self->nheld; i++)
        s_msg_free (&self->held [i]);
    free (self->held);
    for (size_t i = 0; i < self->nstates; i++)
        free (self->states [i].body);
    free (self->states);
    free (self->pubs);
    free (self->unsent);
    free (self);
    *self_p = NULL;
}

/* The queued message, or NULL when out of memory (logged). */
static s_msg_t *
s_queue (sched_out_t *self, zsock_t *sock, zframe_t *identity, int cmd,
         const char *body, size_t len, const char *rid)
{
    if (util_grow ((void **) &self->out, &self->out_cap, self->nout, sizeof *self->out)) {
        log_error ("out of memory queueing a reply", NULL);
        return NULL;
    }
    s_msg_t *o = &self->out [self->nout];
    memset (o, 0, sizeof *o);
    o->body = malloc (len ? len : 1);
    if (!o->body) {
        log_error ("out of memory queueing a reply", NULL);
        return NULL;
    }
    memcpy (o->body, body, len);
    o->len = len;
    o->sock = sock;
    o->identity = identity ? zframe_dup (identity) : NULL;
    o->cmd = cmd;
    snprintf (o->rid, sizeof o->rid, "%s", rid ? rid : "");
    self->nout++;
    return o;
}

void
sched_out_queue (sched_out_t *self, zsock_t *sock, zframe_t *identity, int cmd,
                 const char *body, size_t len, const char *rid)
{
    s_queue (self, sock, identity, cmd, body, len, rid);
}

void
sched_out_task (sched_out_t *self, zsock_t *sock, zframe_t *identity,
                const char *body, size_t len, const char *task_id, int32_t attempt)
{
    s_msg_t *o = s_queue (self, sock, identity, PROTO_TASK, body, len, NULL);
    if (o) {
        snprintf (o->task_id, sizeof o->task_id, "%s", task_id);
        o->attempt = attempt;
    }
}

void
sched_out_error (sched_out_t *self, zsock_t *sock, zframe_t *identity, const char *rid,
                 int32_t status, const char *code, const char *message, const char *param)
{
    proto_errmsg_t e;
    memset (&e, 0, sizeof e);
    snprintf (e.rid, sizeof e.rid, "%s", rid ? rid : "");
    e.status = status;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_error_set (&e.error, code, message, param) == 0 && proto_errmsg_encode (&e, &sb) == 0)
        s_queue (self, sock, identity, PROTO_ERROR, sb.data, sb.size, rid);
    else
        log_error ("cannot encode an error reply", "code", code, NULL);
    msgpack_sbuffer_destroy (&sb);
    proto_errmsg_free (&e);
}

void
sched_out_reply (sched_out_t *self, zsock_t *sock, zframe_t *identity, const char *rid,
                 int cmd, int rc, msgpack_sbuffer *sb)
{
    if (rc == 0)
        s_queue (self, sock, identity, cmd, sb->data, sb->size, rid);
    else {
        log_error ("cannot encode a reply", "cmd", proto_cmd_name (cmd), NULL);
        sched_out_error (self, sock, identity, rid, 500, "internal_error",
                         "the scheduler could not encode its reply", NULL);
    }
    msgpack_sbuffer_destroy (sb);
}

void
sched_out_bad_message (sched_out_t *self, zsock_t *sock, zframe_t *identity,
                       const char *data, size_t len, const char *reason)
{
    proto_simple_t probe;
    char ignored [PROTO_ERR_MAX];
    if (proto_simple_decode (data, len, &probe, ignored) != 0)
        probe.rid [0] = 0;
    log_warn ("bad message", "reason", reason, NULL);
    sched_out_error (self, sock, identity, probe.rid, 400, "bad_message", reason, NULL);
}

int
sched_out_pub (sched_out_t *self, const char *type, const char *object_id, int64_t seq)
{
    if (util_grow ((void **) &self->pubs, &self->pubs_cap, self->npubs, sizeof *self->pubs))
        return -1;
    s_hint_t *p = &self->pubs [self->npubs++];
    snprintf (p->type, sizeof p->type, "%s", type);
    snprintf (p->object_id, sizeof p->object_id, "%s", object_id);
    p->seq = seq;
    return 0;
}

void
sched_out_state (sched_out_t *self, const char *topic, const char *body, size_t len)
{
    if (util_grow ((void **) &self->states, &self->states_cap, self->nstates, sizeof *self->states)) {
        /* no room to say what changed: the last message of the pass becomes
           a reset (there is always one when any was queued) */
        log_error ("out of memory queueing a state message: the gateways start over", NULL);
        if (self->nstates > 0) {
            s_state_t *last = &self->states [self->nstates - 1];
            free (last->body);
            last->body = NULL;
            last->len = 0;
            snprintf (last->topic, sizeof last->topic, "%s", PROTO_TOPIC_STATE_RESET);
        }
        return;
    }
    s_state_t *s = &self->states [self->nstates++];
    snprintf (s->topic, sizeof s->topic, "%s", topic);
    s->body = body && len ? malloc (len) : NULL;
    s->len = s->body ? len : 0;
    if (s->body)
        memcpy (s->body, body, len);
    else
    if (body && len)
        snprintf (s->topic, sizeof s->topic, "%s", PROTO_TOPIC_STATE_RESET);
}

int64_t
sched_out_state_seq (sched_out_t *self)
{
    return self->state_seq;
}

static void
s_states_drop (sched_out_t *self)
{
    for (size_t i = 0; i < self->nstates; i++)
        free (self->states [i].body);
    self->nstates = 0;
}

void
sched_out_rollback (sched_out_t *self, zsock_t *api, bool full)
{
    s_states_drop (self);
    size_t n = self->nout;
    s_msg_t *old = self->out;
    self->out = NULL;
    self->nout = self->out_cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (old [i].sock == api && full)
            sched_out_error (self, api, old [i].identity, old [i].rid, 507, "insufficient_storage",
                             "The scheduler's disk is full; nothing of this request was stored.", NULL);
        else
        if (old [i].sock == api)
            sched_out_error (self, api, old [i].identity, old [i].rid, 503,
                             "store_unavailable", "The job store is unavailable.", NULL);
        s_msg_free (&old [i]);
    }
    free (old);
    self->npubs = 0;
}

void
sched_out_publish (zsock_t *pub, const char *topic, const char *object_id, int64_t seq)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    snprintf (s.rid, sizeof s.rid, "%s", object_id);
    s.last_seq = seq;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_simple_encode (&s, &sb) == 0)
        bus_publish (pub, topic, seq, sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
}

void
sched_out_heartbeat (sched_out_t *self, zsock_t *pub, int64_t state_epoch)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    s.last_seq = self->last_seq;
    s.state_epoch = state_epoch;
    s.state_seq = self->state_seq;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_simple_encode (&s, &sb) == 0)
        bus_publish (pub, PROTO_TOPIC_HEARTBEAT, self->last_seq, sb.data, sb.size);
    msgpack_sbuffer_destroy (&sb);
}

/* Sends o (a failed send is logged; on `work` reported and a TASK kept)
   and frees it. */
static void
s_send (sched_out_t *self, s_msg_t *o, zsock_t *work, sched_out_failed_fn *failed, void *arg)
{
    if (bus_send (o->sock, o->identity, o->cmd, o->body, o->len) != 0) {
        int e = errno;
        if (o->sock == work) {
            if (failed)
                failed (o->identity, e, arg);
            if (o->task_id [0]
            &&  util_grow ((void **) &self->unsent, &self->unsent_cap, self->nunsent,
                           sizeof *self->unsent) == 0) {
                self->unsent [self->nunsent] = *o;
                self->unsent [self->nunsent].identity = NULL;
                self->unsent [self->nunsent++].body = NULL;
            }
        }
        log_warn ("send failed", "cmd", proto_cmd_name (o->cmd), "reason", zmq_strerror (e), NULL);
    }
    s_msg_free (o);
}

/* Whether o waits for the lease holders: an api reply (not to a renderer)
   of a pass that published state, other than the fence's PONG and the
   lease's own answer (neither says anything of a render). */
static bool
s_holds (const sched_out_t *self, const s_msg_t *o, zsock_t *work, bool published)
{
    return self->lease && published && o->sock != work && o->cmd != PROTO_PONG
        && o->cmd != PROTO_LEASE;
}

void
sched_out_flush (sched_out_t *self, zsock_t *work, zsock_t *pub,
                 sched_out_failed_fn *failed, void *arg, int64_t now_mono_ms)
{
    /* the stream first: a reply must not reach anyone before its change */
    bool published = self->nstates > 0;
    for (size_t i = 0; i < self->nstates; i++) {
        s_state_t *s = &self->states [i];
        if (bus_publish (pub, s->topic, ++self->state_seq, s->body ? s->body : "", s->len) != 0)
            log_warn ("state message not published", "topic", s->topic, NULL);
    }
    s_states_drop (self);
    /* a pass's replies wait until every lease holder applied its state
       (kept in order behind the replies already waiting) */
    bool hold = published && (self->nheld > 0
                           || (self->lease && !read_lease_clear (self->lease, self->state_seq, now_mono_ms)));
    for (size_t i = 0; i < self->nout; i++) {
        s_msg_t *o = &self->out [i];
        if (hold && s_holds (self, o, work, published)
        &&  util_grow ((void **) &self->held, &self->held_cap, self->nheld, sizeof *self->held) == 0) {
            o->hold_seq = self->state_seq;
            o->hold_ms = now_mono_ms;
            self->held [self->nheld++] = *o;
            continue;
        }
        if (o->sock != work && self->state_seq > self->released_seq)
            self->released_seq = self->state_seq;
        s_send (self, o, work, failed, arg);
    }
    self->nout = 0;
    for (size_t i = 0; i < self->npubs; i++) {
        sched_out_publish (pub, self->pubs [i].type, self->pubs [i].object_id, self->pubs [i].seq);
        if (self->pubs [i].seq > self->last_seq)
            self->last_seq = self->pubs [i].seq;
    }
    self->npubs = 0;
}

void
sched_out_set_lease (sched_out_t *self, read_lease_t *lease)
{
    self->lease = lease;
}

void
sched_out_release (sched_out_t *self, int64_t now_mono_ms)
{
    size_t n = 0;
    while (n < self->nheld) {
        s_msg_t *o = &self->held [n];
        if (now_mono_ms < o->hold_ms + READ_LEASE_MS
        &&  self->lease && !read_lease_clear (self->lease, o->hold_seq, now_mono_ms))
            break;
        if (o->hold_seq > self->released_seq)
            self->released_seq = o->hold_seq;
        s_send (self, o, NULL, NULL, NULL);
        n++;
    }
    if (n) {
        memmove (self->held, self->held + n, (self->nheld - n) * sizeof *self->held);
        self->nheld -= n;
    }
}

int64_t
sched_out_next_release_ms (sched_out_t *self, int64_t now_mono_ms)
{
    if (!self->nheld)
        return INT64_MAX;
    const s_msg_t *o = &self->held [0];
    int64_t next = o->hold_ms + READ_LEASE_MS;
    if (self->lease) {
        int64_t lease_next = read_lease_next_ms (self->lease, o->hold_seq, now_mono_ms);
        if (lease_next < next)
            next = lease_next;
    }
    return next;
}

int64_t
sched_out_held_deadline (sched_out_t *self, int64_t seq)
{
    for (size_t i = 0; i < self->nheld; i++)
        if (self->held [i].hold_seq > seq)
            return self->held [i].hold_ms + READ_LEASE_MS;
    return INT64_MAX;
}

int64_t
sched_out_released_seq (sched_out_t *self)
{
    return self->released_seq;
}

size_t
sched_out_held (sched_out_t *self)
{
    return self->nheld;
}

void
sched_out_unsent_drain (sched_out_t *self, sched_out_unsent_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->nunsent; i++)
        fn (self->unsent [i].task_id, self->unsent [i].attempt, arg);
    self->nunsent = 0;
}

int64_t
sched_out_last_seq (sched_out_t *self)
{
    return self->last_seq;
}

void
sched_out_set_last_seq (sched_out_t *self, int64_t seq)
{
    self->last_seq = seq;
}

size_t
sched_out_size (sched_out_t *self)
{
    return self->nout;
}
