/*  render_state.c: the gateway's render state (see render_state.h). A fixed
    table of RENDER_STATE_ENTRIES slots with a hash index of twice as many
    buckets chained through the slots (as render_cache.c), a clock hand for
    eviction, and the stream's position (epoch, applied seq, last message).
    Thread: any; every function takes `lock`. `applied` is broadcast when
    the stream moves (or is dropped), `fenced` when a fence comes back.
    Memory: bodies are the table's heap copies, freed on replace, drop and
    eviction; render_state_get returns a copy the caller frees. */
#include "render_state.h"
#include "render_json.h"
#include "metrics.h"
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_BUCKETS (2 * RENDER_STATE_ENTRIES)

typedef struct {
    char     id [PROTO_ID_MAX];
    char     account [PROTO_ID_MAX];
    char    *body;                    /* NULL: the slot is free */
    size_t   len;
    int64_t  seq;                     /* the stream seq the body is current as of */
    int64_t  window;                  /* EASEL_SIGN_WINDOW of its signing */
    bool     final;
    bool     referenced;              /* looked up since the hand last passed */
    int      next;                    /* next slot in the bucket's chain, -1 ends */
} s_entry_t;

struct _render_state_t {
    pthread_mutex_t lock;
    pthread_cond_t  applied_cv, fenced_cv;   /* CLOCK_MONOTONIC */
    char           *public_url;
    int64_t         epoch;            /* 0: untrusted, nothing held */
    int64_t         applied;          /* the last seq applied in epoch */
    int64_t         last_msg_ms;      /* monotonic time of the last message */
    s_entry_t       table [RENDER_STATE_ENTRIES];
    int             heads [S_BUCKETS];   /* slot + 1 of a bucket's first entry; 0 empty */
    int             used_slots;       /* slots ever used: table [0 .. used_slots) */
    int             hand;             /* the clock hand */
    size_t          bytes;            /* bodies in all */
    /* fences: numbered as they start; a caller needs one started after it
       came; the highest numbered that came back answers for all below it */
    uint64_t        fence_started, fence_done;
    int             fence_inflight;
    bool            fence_ok;
    int64_t         fence_epoch, fence_seq;
    uint64_t        hits, misses, resets;
    /* the read lease (render_state_lease_start): while lease_epoch is the
       table's and lease_until_ms has not passed, the scheduler sends no
       reply of a seq this table has not applied, so lookups need no fence */
    char            holder [PROTO_ID_MAX];
    int64_t         lease_epoch, lease_until_ms;
    int64_t         acked_epoch, acked_seq;   /* what the acknowledger last sent */
    pthread_cond_t  ack_cv;           /* the stream moved, or stop */
    pthread_t       acker;
    bool            acker_on, acker_stop;
    render_state_ack_fn *ack;
    void           *ack_arg;
    uint64_t        leased;           /* hits answered under the lease */
};

static metrics_series_t *s_hit_series, *s_miss_series, *s_reset_series, *s_leased_series;
static pthread_once_t s_metrics_once = PTHREAD_ONCE_INIT;

static void
s_metrics_init (void)
{
    metrics_family_t *f = metrics_counter ("easel_gateway_render_state_total",
        "GET /v1/renders/{id} lookups in the render state by result (hit, miss; leased: hits"
        " under the read lease, no fence), and its drops (reset: gap, epoch, silence).",
        "result");
    s_hit_series = metrics_get (f, "hit");
    s_miss_series = metrics_get (f, "miss");
    s_reset_series = metrics_get (f, "reset");
    s_leased_series = metrics_get (f, "leased");
}

render_state_t *
render_state_new (const char *public_url)
{
    pthread_once (&s_metrics_once, s_metrics_init);
    render_state_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->public_url = strdup (public_url ? public_url : "");
    if (!self->public_url) {
        free (self);
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->applied_cv, &attr);
    pthread_cond_init (&self->fenced_cv, &attr);
    pthread_cond_init (&self->ack_cv, &attr);
    pthread_condattr_destroy (&attr);
    proto_id_new ("gw_", self->holder, sizeof self->holder);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

/* Drops every entry. Under lock. */
static void
s_drop_all (render_state_t *self)
{
    for (int i = 0; i < self->used_slots; i++) {
        free (self->table [i].body);
        self->table [i].body = NULL;
        self->table [i].next = -1;
    }
    memset (self->heads, 0, sizeof self->heads);
    self->used_slots = 0;
    self->hand = 0;
    self->bytes = 0;
}

void
render_state_destroy (render_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    render_state_t *self = *self_p;
    render_state_lease_stop (self);
    s_drop_all (self);
    pthread_cond_destroy (&self->applied_cv);
    pthread_cond_destroy (&self->fenced_cv);
    pthread_cond_destroy (&self->ack_cv);
    pthread_mutex_destroy (&self->lock);
    free (self->public_url);
    free (self);
    *self_p = NULL;
}

static size_t
s_bucket (const char *id)
{
    return util_fnv1a (UTIL_FNV_SEED, id) % S_BUCKETS;
}

static int
s_find (const render_state_t *self, const char *id)
{
    for (int i = self->heads [s_bucket (id)] - 1; i >= 0; i = self->table [i].next)
        if (strcmp (self->table [i].id, id) == 0)
            return i;
    return -1;
}

/* Takes slot i out of its chain and frees its body. Under lock. */
static void
s_unlink (render_state_t *self, int i)
{
    s_entry_t *e = &self->table [i];
    int *link = &self->heads [s_bucket (e->id)];
    int prev = -1;
    for (int j = *link - 1; j >= 0; prev = j, j = self->table [j].next)
        if (j == i) {
            if (prev < 0)
                *link = e->next + 1;
            else
                self->table [prev].next = e->next;
            break;
        }
    self->bytes -= e->len;
    free (e->body);
    e->body = NULL;
    e->len = 0;
    e->next = -1;
}

/* A free slot: a never used one, a freed one under the hand, else the first
   entry the hand finds unreferenced (clearing the marks it passes). */
static int
s_free_slot (render_state_t *self)
{
    if (self->used_slots < RENDER_STATE_ENTRIES)
        return self->used_slots++;
    for (;;) {
        int i = self->hand;
        self->hand = (self->hand + 1) % RENDER_STATE_ENTRIES;
        s_entry_t *e = &self->table [i];
        if (!e->body)
            return i;
        if (!e->referenced) {
            s_unlink (self, i);
            return i;
        }
        e->referenced = false;
    }
}

/* Stores body (taken) as id's entry, current as of seq. Under lock. */
static void
s_put (render_state_t *self, const char *id, const char *account, char *body, size_t len,
       int64_t seq, int64_t signed_ms, bool final)
{
    int i = s_find (self, id);
    if (i >= 0) {
        self->bytes -= self->table [i].len;
        free (self->table [i].body);
    }
    else {
        i = s_free_slot (self);
        s_entry_t *e = &self->table [i];
        snprintf (e->id, sizeof e->id, "%s", id);
        size_t b = s_bucket (id);
        e->next = self->heads [b] - 1;
        self->heads [b] = i + 1;
        e->referenced = false;
    }
    s_entry_t *e = &self->table [i];
    snprintf (e->account, sizeof e->account, "%s", account);
    e->body = body;
    e->len = len;
    e->seq = seq;
    e->window = EASEL_SIGN_WINDOW (signed_ms);
    e->final = final;
    self->bytes += len;
    /* over the byte budget: the hand evicts until it fits (never this one) */
    while (self->bytes > RENDER_STATE_BYTES_MAX) {
        int victim = self->hand;
        self->hand = (self->hand + 1) % RENDER_STATE_ENTRIES;
        if (victim != i && self->table [victim].body)
            s_unlink (self, victim);
    }
}

/* Drops id's entry if held. Under lock. */
static void
s_drop (render_state_t *self, const char *id)
{
    int i = s_find (self, id);
    if (i >= 0)
        s_unlink (self, i);
}

/* The stream can no longer be trusted as it was: every entry goes, and it
   goes on from (epoch, seq) (epoch 0: untrusted until the next message).
   Under lock. */
static void
s_restart (render_state_t *self, int64_t epoch, int64_t seq, const char *why)
{
    if (self->epoch || self->used_slots)
        log_info ("render state dropped", "reason", why, NULL);
    s_drop_all (self);
    self->epoch = epoch;
    self->applied = seq;
    self->lease_epoch = 0;           /* acquired again by the next acknowledgment */
    self->resets++;
    metrics_inc (s_reset_series, 1);
    pthread_cond_broadcast (&self->applied_cv);
    pthread_cond_signal (&self->ack_cv);
}

/* Applies one "state.render" of seq: its answer text (taken; NULL when it
   cannot be kept: a drop). An entry seeded as of a later seq stays.
   Under lock. */
static void
s_apply_render (render_state_t *self, const proto_render_t *r, char *text, size_t len,
                int64_t seq, char final_id [PROTO_ID_MAX])
{
    int i = s_find (self, r->id);
    if (i >= 0 && self->table [i].seq >= seq) {
        free (text);
        return;
    }
    if (!text) {
        s_drop (self, r->id);
        return;
    }
    bool final = strcmp (r->status, "processing") != 0;
    s_put (self, r->id, r->account_id, text, len, seq, r->signed_ms, final);
    if (final)
        snprintf (final_id, PROTO_ID_MAX, "%s", r->id);
}

void
render_state_on_message (render_state_t *self, const char *topic, int64_t seq,
                         const char *body, size_t len, int64_t now_mono_ms,
                         char final_id [PROTO_ID_MAX])
{
    final_id [0] = '\0';
    bool hb = strcmp (topic, PROTO_TOPIC_HEARTBEAT) == 0;
    bool is_render = strcmp (topic, PROTO_TOPIC_STATE_RENDER) == 0;
    if (!hb && strncmp (topic, PROTO_TOPIC_STATE, strlen (PROTO_TOPIC_STATE)) != 0)
        return;
    /* decoded outside the lock: the SUB thread alone gets here */
    char err [PROTO_ERR_MAX];
    proto_render_t r;
    proto_simple_t s;
    memset (&r, 0, sizeof r);
    memset (&s, 0, sizeof s);
    int64_t epoch = 0;
    bool ok = is_render ? proto_render_decode (body, len, &r, err) == 0
                        : proto_simple_decode (body, len, &s, err) == 0;
    if (ok)
        epoch = is_render ? r.state_epoch : s.state_epoch;
    /* the answer's JSON is made before the lock: lookups do not wait on it */
    char *text = NULL;
    size_t tlen = 0;
    if (ok && is_render) {
        json_t *obj = render_json_build (&r, self->public_url);
        text = obj ? render_json_dump (obj, &tlen) : NULL;
        json_decref (obj);
        if (text && tlen > RENDER_STATE_BODY_MAX) {
            free (text);
            text = NULL;
        }
    }
    pthread_mutex_lock (&self->lock);
    self->last_msg_ms = now_mono_ms;
    if (hb) {
        if (!ok || epoch == 0)
            s_restart (self, 0, 0, "heartbeat without a state stream");
        else
        if (epoch != self->epoch)
            s_restart (self, epoch, s.state_seq, "new epoch");
        else
        if (s.state_seq != self->applied)
            s_restart (self, epoch, s.state_seq, "gap (heartbeat)");
    }
    else
    if (!ok || epoch == 0) {
        log_warn ("bad state message", "topic", topic, "reason", ok ? "no epoch" : err, NULL);
        s_restart (self, 0, 0, "bad state message");
    }
    else {
        if (epoch != self->epoch)
            s_restart (self, epoch, seq - 1, "new epoch");
        else
        if (seq != self->applied + 1)
            s_restart (self, epoch, seq - 1, "gap");
        if (is_render) {
            s_apply_render (self, &r, text, tlen, seq, final_id);
            text = NULL;
        }
        else
        if (strcmp (topic, PROTO_TOPIC_STATE_GONE) == 0) {
            int i = s_find (self, s.rid);
            if (i >= 0 && self->table [i].seq < seq)
                s_unlink (self, i);
        }
        else
            s_restart (self, epoch, seq, "state.reset");   /* or a state topic not known here */
        self->applied = seq;
        pthread_cond_broadcast (&self->applied_cv);
        pthread_cond_signal (&self->ack_cv);
    }
    pthread_mutex_unlock (&self->lock);
    free (text);
    if (is_render)
        proto_render_free (&r);
}

/* render_state_fence's work: called and returning with the lock held. */
static int
s_fence (render_state_t *self, render_state_ask_fn *ask, void *arg, int64_t *epoch, int64_t *seq)
{
    uint64_t need = self->fence_started + 1;   /* those out now started before us */
    while (self->fence_done < need) {
        /* none started since we came, and room for one more: ask */
        if (self->fence_started < need && self->fence_inflight < RENDER_STATE_FENCES_MAX) {
            uint64_t mine = ++self->fence_started;
            self->fence_inflight++;
            pthread_mutex_unlock (&self->lock);
            int64_t e = 0, s = 0;
            int rc = ask (arg, &e, &s);
            pthread_mutex_lock (&self->lock);
            self->fence_inflight--;
            /* a later fence saw at least what an earlier one did */
            if (mine > self->fence_done) {
                self->fence_done = mine;
                self->fence_ok = rc == 0 && e != 0;
                self->fence_epoch = e;
                self->fence_seq = s;
            }
            pthread_cond_broadcast (&self->fenced_cv);
        }
        else
            pthread_cond_wait (&self->fenced_cv, &self->lock);
    }
    *epoch = self->fence_epoch;
    *seq = self->fence_seq;
    return self->fence_ok ? 0 : -1;
}

int
render_state_fence (render_state_t *self, render_state_ask_fn *ask, void *arg,
                    int64_t *epoch, int64_t *seq)
{
    pthread_mutex_lock (&self->lock);
    int rc = s_fence (self, ask, arg, epoch, seq);
    pthread_mutex_unlock (&self->lock);
    return rc;
}

/* render_state_get's work, under the lock. */
static char *
s_get (render_state_t *self, const char *id, const char *account, int64_t epoch, int64_t seq,
       int64_t now_ms, int64_t now_mono_ms, size_t *len, bool *final)
{
    char *copy = NULL;
    if (self->epoch && now_mono_ms - self->last_msg_ms > RENDER_STATE_SILENT_MS)
        s_restart (self, 0, 0, "the stream is silent");
    if (self->epoch && self->applied < seq && self->epoch == epoch) {
        struct timespec deadline;
        clock_gettime (CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += (long) RENDER_STATE_FENCE_WAIT_MS * 1000000L;
        deadline.tv_sec += deadline.tv_nsec / 1000000000L;
        deadline.tv_nsec %= 1000000000L;
        while (self->epoch == epoch && self->applied < seq
           &&  pthread_cond_timedwait (&self->applied_cv, &self->lock, &deadline) == 0)
            ;
    }
    int i = self->epoch && self->epoch == epoch && self->applied >= seq ? s_find (self, id) : -1;
    if (i >= 0) {
        s_entry_t *e = &self->table [i];
        if (strcmp (e->account, account) == 0 && e->window == EASEL_SIGN_WINDOW (now_ms)
        &&  (copy = malloc (e->len ? e->len : 1))) {
            memcpy (copy, e->body, e->len);
            *len = e->len;
            *final = e->final;
            e->referenced = true;
        }
    }
    if (copy)
        self->hits++;
    else
        self->misses++;
    return copy;
}

char *
render_state_get (render_state_t *self, const char *id, const char *account,
                  int64_t epoch, int64_t seq, int64_t now_ms, int64_t now_mono_ms,
                  size_t *len, bool *final)
{
    pthread_mutex_lock (&self->lock);
    char *copy = s_get (self, id, account, epoch, seq, now_ms, now_mono_ms, len, final);
    pthread_mutex_unlock (&self->lock);
    metrics_inc (copy ? s_hit_series : s_miss_series, 1);
    return copy;
}

/* Whether the lease covers a lookup at now: the table's epoch's, not run
   out, the stream not silent. Under lock. */
static bool
s_leased (const render_state_t *self, int64_t now_mono_ms)
{
    return self->epoch && self->lease_epoch == self->epoch && now_mono_ms < self->lease_until_ms
        && now_mono_ms - self->last_msg_ms <= RENDER_STATE_SILENT_MS;
}

char *
render_state_read (render_state_t *self, render_state_ask_fn *ask, void *arg, const char *id,
                   const char *account, int64_t now_ms, int64_t now_mono_ms, size_t *len, bool *final)
{
    int64_t epoch = 0, seq = 0;
    pthread_mutex_lock (&self->lock);
    if (s_leased (self, now_mono_ms)) {
        /* every reply sent so far waited for this table to apply its seq */
        char *copy = s_get (self, id, account, self->epoch, self->applied, now_ms, now_mono_ms,
                            len, final);
        if (copy)
            self->leased++;
        pthread_mutex_unlock (&self->lock);
        metrics_inc (copy ? s_hit_series : s_miss_series, 1);
        if (copy)
            metrics_inc (s_leased_series, 1);
        return copy;
    }
    int fenced = s_fence (self, ask, arg, &epoch, &seq);
    char *copy = fenced == 0 ? s_get (self, id, account, epoch, seq, now_ms, now_mono_ms, len, final)
                             : NULL;
    if (fenced != 0)
        self->misses++;
    pthread_mutex_unlock (&self->lock);
    metrics_inc (copy ? s_hit_series : s_miss_series, 1);
    return copy;
}

void
render_state_seed (render_state_t *self, const proto_render_t *r, const char *text, size_t len,
                   int64_t now_mono_ms)
{
    if (!r->state_epoch || !r->signed_ms || len > RENDER_STATE_BODY_MAX || !render_json_state_carried (r))
        return;
    char *copy = malloc (len ? len : 1);
    if (!copy)
        return;
    memcpy (copy, text, len);
    pthread_mutex_lock (&self->lock);
    if (self->epoch && now_mono_ms - self->last_msg_ms > RENDER_STATE_SILENT_MS)
        s_restart (self, 0, 0, "the stream is silent");
    int i = s_find (self, r->id);
    /* every change after state_seq is still to come (and replaces this) */
    if (self->epoch == r->state_epoch && self->applied <= r->state_seq
    &&  (i < 0 || self->table [i].seq < r->state_seq)) {
        s_put (self, r->id, r->account_id, copy, len, r->state_seq, r->signed_ms,
               strcmp (r->status, "processing") != 0);
        copy = NULL;
    }
    pthread_mutex_unlock (&self->lock);
    free (copy);
}

void
render_state_stats (render_state_t *self, uint64_t *hits, uint64_t *misses, uint64_t *resets)
{
    pthread_mutex_lock (&self->lock);
    *hits = self->hits;
    *misses = self->misses;
    *resets = self->resets;
    pthread_mutex_unlock (&self->lock);
}

void
render_state_clear (render_state_t *self)
{
    pthread_mutex_lock (&self->lock);
    s_restart (self, 0, 0, "cleared");
    pthread_mutex_unlock (&self->lock);
}

/* The acknowledger: sends (epoch, applied) whenever the stream moved, and
   at least every EASEL_READ_LEASE_RENEW_MS, one at a time; each answer
   sets the lease, counted from when its acknowledgment was sent. */
static void *
s_acker_main (void *arg)
{
    render_state_t *self = arg;
    pthread_mutex_lock (&self->lock);
    int64_t last_sent_ms = 0;
    while (!self->acker_stop) {
        int64_t now = util_mono_ms ();
        bool moved = self->epoch && (self->epoch != self->acked_epoch || self->applied != self->acked_seq);
        bool due = self->epoch && now - last_sent_ms >= EASEL_READ_LEASE_RENEW_MS;
        if (!moved && !due) {
            int64_t wake_ms = last_sent_ms + EASEL_READ_LEASE_RENEW_MS;
            if (!self->epoch || wake_ms <= now)
                wake_ms = now + EASEL_READ_LEASE_RENEW_MS;
            struct timespec deadline;
            clock_gettime (CLOCK_MONOTONIC, &deadline);
            int64_t ns = (wake_ms - now) * 1000000L + deadline.tv_nsec;
            deadline.tv_sec += ns / 1000000000L;
            deadline.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait (&self->ack_cv, &self->lock, &deadline);
            continue;
        }
        int64_t epoch = self->epoch, seq = self->applied;
        self->acked_epoch = epoch;
        self->acked_seq = seq;
        pthread_mutex_unlock (&self->lock);
        int32_t lease_ms = 0;
        int64_t sent = util_mono_ms ();
        int rc = self->ack (self->ack_arg, self->holder, epoch, seq, &lease_ms);
        pthread_mutex_lock (&self->lock);
        last_sent_ms = sent;
        if (rc == 0 && lease_ms > EASEL_READ_LEASE_MARGIN_MS && self->epoch == epoch) {
            int64_t until = sent + lease_ms - EASEL_READ_LEASE_MARGIN_MS;
            /* a lease is the scheduler's word for this epoch's stream; an
               answer older than the current one never shortens it */
            if (self->lease_epoch != epoch || until > self->lease_until_ms)
                self->lease_until_ms = until;
            self->lease_epoch = epoch;
        }
        else
        if (rc != 0 || lease_ms == 0)
            self->lease_epoch = 0;
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

int
render_state_lease_start (render_state_t *self, render_state_ack_fn *ack, void *arg)
{
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    if (!self->acker_on) {
        self->ack = ack;
        self->ack_arg = arg;
        self->acker_stop = false;
        rc = pthread_create (&self->acker, NULL, s_acker_main, self) == 0 ? 0 : -1;
        self->acker_on = rc == 0;
    }
    pthread_mutex_unlock (&self->lock);
    return rc;
}

void
render_state_lease_stop (render_state_t *self)
{
    pthread_mutex_lock (&self->lock);
    bool on = self->acker_on;
    self->acker_stop = true;
    self->lease_epoch = 0;
    pthread_cond_signal (&self->ack_cv);
    pthread_mutex_unlock (&self->lock);
    if (on)
        pthread_join (self->acker, NULL);
    pthread_mutex_lock (&self->lock);
    self->acker_on = false;
    pthread_mutex_unlock (&self->lock);
}

bool
render_state_leased (render_state_t *self, int64_t now_mono_ms, uint64_t *leased_hits)
{
    pthread_mutex_lock (&self->lock);
    bool leased = s_leased (self, now_mono_ms);
    if (leased_hits)
        *leased_hits = self->leased;
    pthread_mutex_unlock (&self->lock);
    return leased;
}
