/*  test_render_state.c: the gateway's render state (render_state.h) fed
    by hand with the messages of the scheduler's state stream: a render
    answered as render_json_build makes it, only for its account and signing
    window; nothing before the first message; a gap, a heartbeat ahead of
    the stream, a new epoch, a bad message, state.reset and a silent stream
    drop everything; state.gone drops one; a lookup waits for the stream to
    reach its fence and misses when it does not; seeding only when no later
    change can be missing, never over a newer entry, never a finished render
    with a webhook; a message older than a seeded entry leaves it; eviction
    keeps RENDER_STATE_ENTRIES; one fence serves concurrent callers.
    Clocks are explicit values; the one wait is RENDER_STATE_FENCE_WAIT_MS. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "render_json.h"
#include "render_state.h"
#include "util.h"

#define URL   "http://gw.test"
#define EPOCH 77
#define ACCT  "acct_01KNS1WNPW9FCHZSK4XNTHMB0H"

static int64_t s_now;              /* wall ms: inside one signing window */
static const int64_t s_mono = 1000000;

/* A render id numbered n. */
static void
s_id (int n, char id [PROTO_ID_MAX])
{
    snprintf (id, PROTO_ID_MAX, "rnd_%026d", n);
}

static void
s_render (proto_render_t *r, const char *id, const char *status)
{
    memset (r, 0, sizeof *r);
    snprintf (r->rid, sizeof r->rid, "state");
    snprintf (r->id, sizeof r->id, "%s", id);
    snprintf (r->account_id, sizeof r->account_id, ACCT);
    snprintf (r->status, sizeof r->status, "%s", status);
    snprintf (r->webhook_status, sizeof r->webhook_status, "none");
    r->created_at_ms = s_now - 5000;
    r->total = 1;
    r->state_epoch = EPOCH;
    r->signed_ms = s_now;
}

/* Publishes r as "state.render" with seq. */
static void
s_send_render (render_state_t *st, proto_render_t *r, int64_t seq, int64_t mono)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_render_encode (r, &sb) == 0, "a render encodes");
    char final_id [PROTO_ID_MAX];
    render_state_on_message (st, PROTO_TOPIC_STATE_RENDER, seq, sb.data, sb.size, mono, final_id);
    msgpack_sbuffer_destroy (&sb);
}

static void
s_send_simple (render_state_t *st, const char *topic, int64_t seq, int64_t epoch, int64_t state_seq,
               const char *rid, int64_t mono)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    snprintf (s.rid, sizeof s.rid, "%s", rid);
    s.state_epoch = epoch;
    s.state_seq = state_seq;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    REQUIRE (proto_simple_encode (&s, &sb) == 0, "a simple body encodes");
    char final_id [PROTO_ID_MAX];
    render_state_on_message (st, topic, seq, sb.data, sb.size, mono, final_id);
    msgpack_sbuffer_destroy (&sb);
}

/* The body for id at fence (EPOCH, seq) as a string (the table's copy has
   a length, no terminator), or NULL. */
static char *
s_get (render_state_t *st, const char *id, int64_t seq, bool *final)
{
    size_t len = 0;
    bool f = false;
    char *text = render_state_get (st, id, ACCT, EPOCH, seq, s_now, s_mono, &len, &f);
    if (final)
        *final = f;
    char *z = text ? realloc (text, len + 1) : NULL;
    if (z)
        z [len] = '\0';
    else
        free (text);
    return z;
}

/* The answer render_json_build makes of r, as the scheduler's round trip would. */
static char *
s_expected (const proto_render_t *r)
{
    json_t *obj = render_json_build (r, URL);
    char *text = render_json_dump (obj, NULL);
    json_decref (obj);
    return text;
}

static void
s_serves_the_same_body (void)
{
    render_state_t *st = render_state_new (URL);
    char id [PROTO_ID_MAX];
    s_id (1, id);
    proto_render_t r;
    s_render (&r, id, "processing");
    CHECK (s_get (st, id, 0, NULL) == NULL, "nothing is trusted before the first message");
    s_send_render (st, &r, 1, s_mono);
    bool final = true;
    char *got = s_get (st, id, 1, &final), *want = s_expected (&r);
    CHECK (got && strcmp (got, want) == 0, "the body render_json_build makes: %s", got ? got : "(miss)");
    CHECK (!final, "a processing render is not final");
    free (got);
    free (want);
    size_t len;
    bool f;
    got = render_state_get (st, id, "acct_other", EPOCH, 1, s_now, s_mono, &len, &f);
    CHECK (got == NULL, "another account's render is a miss (the scheduler answers 404)");
    free (got);
    got = render_state_get (st, id, ACCT, EPOCH, 1, s_now + EASEL_SIGN_WINDOW_S * 1000, s_mono, &len, &f);
    CHECK (got == NULL, "an answer signed in an earlier signing window is a miss");
    free (got);
    got = render_state_get (st, id, ACCT, EPOCH + 1, 1, s_now, s_mono, &len, &f);
    CHECK (got == NULL, "a fence of another epoch is a miss");
    free (got);
    s_render (&r, id, "canceled");
    s_send_render (st, &r, 2, s_mono);
    got = s_get (st, id, 2, &final);
    CHECK (got && strstr (got, "\"canceled\"") && final, "the newer state replaces the older");
    free (got);
    s_send_simple (st, PROTO_TOPIC_STATE_GONE, 3, EPOCH, 0, id, s_mono);
    CHECK ((got = s_get (st, id, 3, NULL)) == NULL, "state.gone drops the render");
    free (got);
    render_state_destroy (&st);
    render_state_destroy (&st);
}

/* One render held at seq 1; then `what` happens; it must be gone. */
static void
s_dropped_after (const char *what, void (*event) (render_state_t *st))
{
    render_state_t *st = render_state_new (URL);
    char id [PROTO_ID_MAX];
    s_id (2, id);
    proto_render_t r;
    s_render (&r, id, "processing");
    s_send_render (st, &r, 1, s_mono);
    char *got = s_get (st, id, 1, NULL);
    CHECK (got != NULL, "held before %s", what);
    free (got);
    event (st);
    size_t len;
    bool f;
    got = render_state_get (st, id, ACCT, EPOCH, 0, s_now, s_mono, &len, &f);
    CHECK (got == NULL, "dropped after %s", what);
    free (got);
    uint64_t hits, misses, resets;
    render_state_stats (st, &hits, &misses, &resets);
    CHECK (resets >= 2, "%s counted as a reset (%llu)", what, (unsigned long long) resets);
    render_state_destroy (&st);
}

static void s_gap (render_state_t *st)
{
    char other [PROTO_ID_MAX];
    s_id (3, other);
    proto_render_t r;
    s_render (&r, other, "processing");
    s_send_render (st, &r, 3, s_mono);       /* seq 2 was lost */
    char *got = s_get (st, other, 3, NULL);
    CHECK (got != NULL, "the message after the gap is applied");
    free (got);
}
static void s_hb_ahead (render_state_t *st) { s_send_simple (st, PROTO_TOPIC_HEARTBEAT, 0, EPOCH, 5, "", s_mono); }
static void s_new_epoch (render_state_t *st) { s_send_simple (st, PROTO_TOPIC_HEARTBEAT, 0, EPOCH + 1, 0, "", s_mono); }
static void s_no_epoch (render_state_t *st) { s_send_simple (st, PROTO_TOPIC_HEARTBEAT, 0, 0, 0, "", s_mono); }
static void s_reset (render_state_t *st) { s_send_simple (st, PROTO_TOPIC_STATE_RESET, 2, EPOCH, 0, "", s_mono); }
static void s_bad (render_state_t *st)
{
    char final_id [PROTO_ID_MAX];
    render_state_on_message (st, PROTO_TOPIC_STATE_RENDER, 2, "\x81", 1, s_mono, final_id);
}
static void s_silent (render_state_t *st)
{
    (void) st;     /* the lookup below comes RENDER_STATE_SILENT_MS late */
}

static void
s_drops (void)
{
    s_dropped_after ("a gap", s_gap);
    s_dropped_after ("a heartbeat ahead of the stream", s_hb_ahead);
    s_dropped_after ("a new epoch", s_new_epoch);
    s_dropped_after ("a heartbeat without a state stream", s_no_epoch);
    s_dropped_after ("state.reset", s_reset);
    s_dropped_after ("a message that does not decode", s_bad);
    /* silence: looked up later than RENDER_STATE_SILENT_MS after the last message */
    render_state_t *st = render_state_new (URL);
    char id [PROTO_ID_MAX];
    s_id (4, id);
    proto_render_t r;
    s_render (&r, id, "processing");
    s_send_render (st, &r, 1, s_mono);
    s_silent (st);
    size_t len;
    bool f;
    char *got = render_state_get (st, id, ACCT, EPOCH, 1, s_now, s_mono + RENDER_STATE_SILENT_MS + 1, &len, &f);
    CHECK (got == NULL, "a stream silent past RENDER_STATE_SILENT_MS is not trusted");
    free (got);
    got = render_state_get (st, id, ACCT, EPOCH, 1, s_now, s_mono + RENDER_STATE_SILENT_MS + 2, &len, &f);
    CHECK (got == NULL, "and what it held is gone");
    free (got);
    render_state_destroy (&st);
}

static void
s_fence_waits (void)
{
    render_state_t *st = render_state_new (URL);
    char id [PROTO_ID_MAX];
    s_id (5, id);
    proto_render_t r;
    s_render (&r, id, "processing");
    s_send_render (st, &r, 1, s_mono);
    int64_t t0 = util_mono_ms ();
    char *got = s_get (st, id, 2, NULL);
    CHECK (got == NULL, "a fence the stream has not reached is a miss (the change may be missing)");
    CHECK (util_mono_ms () - t0 >= RENDER_STATE_FENCE_WAIT_MS - 5, "it waited for the stream first");
    free (got);
    render_state_destroy (&st);
}

static void
s_seeds (void)
{
    render_state_t *st = render_state_new (URL);
    char id [PROTO_ID_MAX], other [PROTO_ID_MAX];
    s_id (6, id);
    s_id (7, other);
    proto_render_t r;
    s_render (&r, other, "processing");
    s_send_render (st, &r, 1, s_mono);       /* the stream stands at 1 */
    s_render (&r, id, "processing");
    r.state_seq = 1;
    char *text = s_expected (&r);
    render_state_seed (st, &r, text, strlen (text), s_mono);
    char *got = s_get (st, id, 1, NULL);
    CHECK (got && strcmp (got, text) == 0, "an answer read at the stream's seq is kept");
    free (got);
    free (text);
    /* a message older than the seeded answer leaves it */
    s_id (8, id);
    s_render (&r, id, "canceled");
    r.state_seq = 3;                         /* read after seqs 2 and 3 were published */
    text = s_expected (&r);
    render_state_seed (st, &r, text, strlen (text), s_mono);
    free (text);
    s_render (&r, id, "processing");
    s_send_render (st, &r, 2, s_mono);       /* seq 2: the older processing state */
    s_send_simple (st, PROTO_TOPIC_STATE_GONE, 3, EPOCH, 0, "rnd_00000000000000000000000099", s_mono);
    bool final = false;
    got = s_get (st, id, 3, &final);
    CHECK (got && strstr (got, "\"canceled\"") && final, "the older message did not replace it");
    free (got);
    /* the stream past the answer's seq: a change after it may be missing */
    s_id (9, id);
    s_render (&r, id, "processing");
    r.state_seq = 2;
    text = s_expected (&r);
    render_state_seed (st, &r, text, strlen (text), s_mono);
    free (text);
    CHECK ((got = s_get (st, id, 3, NULL)) == NULL, "not kept: the stream (3) had passed its seq (2)");
    free (got);
    /* a finished render with a webhook is never kept */
    s_id (10, id);
    s_render (&r, id, "succeeded");
    r.webhook_url = strdup ("https://hooks.test/x");
    r.state_seq = 3;
    text = s_expected (&r);
    CHECK (!render_json_state_carried (&r), "a finished render with a webhook is not carried");
    render_state_seed (st, &r, text, strlen (text), s_mono);
    free (text);
    free (r.webhook_url);
    CHECK ((got = s_get (st, id, 3, NULL)) == NULL, "not kept: its webhook_status goes on changing");
    free (got);
    render_state_destroy (&st);
}

static void
s_bounded (void)
{
    render_state_t *st = render_state_new (URL);
    proto_render_t r;
    char id [PROTO_ID_MAX];
    int n = RENDER_STATE_ENTRIES + 100;
    for (int i = 0; i < n; i++) {
        s_id (1000 + i, id);
        s_render (&r, id, "processing");
        s_send_render (st, &r, i + 1, s_mono);
    }
    int held = 0;
    for (int i = 0; i < n; i++) {
        s_id (1000 + i, id);
        char *got = s_get (st, id, n, NULL);
        held += got != NULL;
        free (got);
    }
    CHECK (held == RENDER_STATE_ENTRIES, "the table holds RENDER_STATE_ENTRIES (%d), held %d",
           RENDER_STATE_ENTRIES, held);
    s_id (1000 + n - 1, id);
    char *got = s_get (st, id, n, NULL);
    CHECK (got != NULL, "the newest entry is held");
    free (got);
    render_state_destroy (&st);
}

/* ---- one fence for concurrent callers ------------------------------------ */
static pthread_mutex_t s_ask_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_asks;

static int
s_ask (void *arg, int64_t *epoch, int64_t *seq)
{
    (void) arg;
    pthread_mutex_lock (&s_ask_lock);
    s_asks++;
    pthread_mutex_unlock (&s_ask_lock);
    struct timespec pause = { 0, 20 * 1000000L };
    nanosleep (&pause, NULL);           /* a round trip */
    *epoch = EPOCH;
    *seq = 9;
    return 0;
}

static void *
s_fencer (void *arg)
{
    int64_t epoch = 0, seq = 0;
    int rc = render_state_fence (arg, s_ask, NULL, &epoch, &seq);
    return (void *) (intptr_t) (rc == 0 && epoch == EPOCH && seq == 9);
}

static void
s_fence_shared (void)
{
    render_state_t *st = render_state_new (URL);
    enum { N = 32 };
    pthread_t t [N];
    for (int i = 0; i < N; i++)
        pthread_create (&t [i], NULL, s_fencer, st);
    int good = 0;
    for (int i = 0; i < N; i++) {
        void *ok = NULL;
        pthread_join (t [i], &ok);
        good += ok != NULL;
    }
    CHECK (good == N, "every caller got the fence (%d of %d)", good, N);
    CHECK (s_asks >= 1 && s_asks < N, "%d concurrent callers shared %d asks", N, s_asks);
    render_state_destroy (&st);
}

int
main (void)
{
    s_now = (util_now_ms () / 1000 / EASEL_SIGN_WINDOW_S) * EASEL_SIGN_WINDOW_S * 1000 + 1000;
    check_case ("serves the round trip's body", s_serves_the_same_body);
    check_case ("drops on gaps, epochs, resets, silence", s_drops);
    check_case ("a lookup waits for its fence", s_fence_waits);
    check_case ("seeding from answers", s_seeds);
    check_case ("bounded", s_bounded);
    check_case ("one fence for concurrent callers", s_fence_shared);
    return check_done ("test_render_state");
}
