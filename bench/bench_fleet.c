/*  bench_fleet.c: the scheduler's dispatch capacity against simulated renderers.

    One process plays both sides of a running scheduler (bench/fleet.py starts
    it with synchronous=FULL, as always):
      1. preload: CREATE_RENDER messages on the api socket queue --tasks tasks
         (--per-render each) while no renderer is connected;
      2. drain: --renderers DEALERs connect to the work socket, say READY with
         one slot and answer every TASK at once with a tiny PNG RESULT; timed
         from the first READY until GET_RENDER shows every render finished;
      3. stream: with the fleet still connected, --stream-tasks more tasks are
         created in renders of 10 with at most --window tasks outstanding;
         queue-to-result latency is the time from a CREATE_RENDER being sent to
         the RESULT of each of its tasks being sent.
    Prints one JSON object. Gives up after --timeout-s seconds (exit 1).

    Thread: one. Memory: all state in main's arrays, freed at exit.
    Bench-only: built with -DEASEL_BENCH=ON, never run by ctest or CI. */
#include "bus.h"
#include "proto.h"
#include "util.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_RENDERERS 1000
#define S_MAX_TASKS     1000000
#define S_CREATE_WINDOW 8             /* preload: creates in flight */
#define S_STREAM_PER_RENDER 10

/* A 1x1 RGB PNG. */
static const uint8_t s_tiny_png [] = {
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82
};

typedef struct {
    char   id [PROTO_ID_MAX];
    double t;                      /* ms, monotonic */
} s_stamp_t;

typedef struct {
    zsock_t *api;
    zsock_t *fleet [S_MAX_RENDERERS];
    int      nfleet;
    char     auth [65];
    char    *spec;                 /* encoded slide spec every task carries */
    size_t   spec_len;
    /* renders created: ids, and the time each create was sent */
    s_stamp_t *renders;
    int      nrenders, renders_cap;
    /* images created (stream phase): id -> create-sent time */
    s_stamp_t *images;
    int      nimages, images_cap;
    /* results sent: task id -> time */
    s_stamp_t *results;
    int      nresults, results_cap;
    double  *turnaround;           /* result sent -> next task arrives, same renderer */
    int      nturn;
    double   last_result [S_MAX_RENDERERS];
    double   deadline;
    long     rid_seq;
    double   sent_at [S_CREATE_WINDOW * 16];   /* by rid % this: create send time */
} s_bench_t;

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static int
s_cmp_stamp (const void *a, const void *b)
{
    return strcmp (((const s_stamp_t *) a)->id, ((const s_stamp_t *) b)->id);
}

static double
s_pct (double *v, int n, double p)
{
    if (n == 0)
        return 0;
    qsort (v, (size_t) n, sizeof *v, s_cmp_double);
    int i = (int) (p * (n - 1) + 0.5);
    return v [i];
}

static int
s_push (s_stamp_t **arr, int *n, int *cap, const char *id, double t)
{
    if (*n == *cap) {
        int grown = *cap ? *cap * 2 : 1024;
        if (grown > S_MAX_TASKS + S_MAX_RENDERERS)
            return -1;
        s_stamp_t *p = realloc (*arr, (size_t) grown * sizeof **arr);
        if (!p)
            return -1;
        *arr = p;
        *cap = grown;
    }
    snprintf ((*arr) [*n].id, PROTO_ID_MAX, "%s", id);
    (*arr) [*n].t = t;
    (*n)++;
    return 0;
}

/* bus_send_sbuf, retried while the peer is not connected yet (IMMEDIATE
   DEALERs answer EAGAIN until then), up to the deadline. */
static int
s_send (s_bench_t *self, zsock_t *sock, int cmd, const msgpack_sbuffer *sb)
{
    while (bus_send_sbuf (sock, NULL, cmd, sb) != 0) {
        if (errno != EAGAIN || s_now () > self->deadline)
            return -1;
        zclock_sleep (1);
    }
    return 0;
}

static int
s_send_create (s_bench_t *self, int ntasks)
{
    proto_create_render_t cr;
    memset (&cr, 0, sizeof cr);
    snprintf (cr.rid, sizeof cr.rid, "b%ld", self->rid_seq);
    self->sent_at [self->rid_seq % (S_CREATE_WINDOW * 16)] = s_now ();
    self->rid_seq++;
    memcpy (cr.auth, self->auth, sizeof cr.auth);
    cr.metadata_json = "{}";
    /* every task draws the same slide: from the image cache, the stream's
       renders would finish at create time and no task would be dispatched */
    cr.no_cache = true;
    cr.ntasks = ntasks;
    cr.tasks = calloc ((size_t) ntasks, sizeof *cr.tasks);
    if (!cr.tasks)
        return -1;
    for (int i = 0; i < ntasks; i++) {
        proto_task_spec_t *t = &cr.tasks [i];
        t->slide = 0;
        snprintf (t->preset, sizeof t->preset, "appstore.iphone_6_9");
        t->width = 1320;
        t->height = 2868;
        snprintf (t->format, sizeof t->format, "png");
        t->spec = self->spec;
        t->spec_len = self->spec_len;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int rc = proto_create_render_encode (&cr, &sb) == 0
          && s_send (self, self->api, PROTO_CREATE_RENDER, &sb) == 0 ? 0 : -1;
    msgpack_sbuffer_destroy (&sb);
    free (cr.tasks);
    return rc;
}

/* Receives one api reply (blocking up to the deadline). Records the render
   and, when stream is set, its image ids. Returns the render's done == total,
   0 when still processing, -1 on error or timeout. */
static int
s_api_reply (s_bench_t *self, bool record, bool stream, double *created_at)
{
    zsock_set_rcvtimeo (self->api, (int) (self->deadline - s_now ()) > 0 ? (int) (self->deadline - s_now ()) : 1);
    bus_msg_t msg;
    char err [PROTO_ERR_MAX];
    memset (&msg, 0, sizeof msg);
    if (bus_recv (self->api, false, &msg, err)) {
        fprintf (stderr, "bench_fleet: api reply: %s\n", err);
        bus_msg_free (&msg);
        return -1;
    }
    int rc = -1;
    if (msg.cmd == PROTO_RENDER) {
        proto_render_t r;
        memset (&r, 0, sizeof r);
        if (proto_render_decode ((const char *) zframe_data (msg.body), zframe_size (msg.body), &r, err) == 0) {
            long seq = strtol (r.rid + 1, NULL, 10);
            double sent = self->sent_at [seq % (S_CREATE_WINDOW * 16)];
            if (created_at)
                *created_at = sent;
            if (record)
                s_push (&self->renders, &self->nrenders, &self->renders_cap, r.id, sent);
            for (int i = 0; stream && i < r.nimages; i++)
                s_push (&self->images, &self->nimages, &self->images_cap, r.images [i].id, sent);
            rc = strcmp (r.status, "processing") != 0 ? 1 : 0;
        }
        else
            fprintf (stderr, "bench_fleet: RENDER: %s\n", err);
        proto_render_free (&r);
    }
    else
    if (msg.cmd == PROTO_ERROR) {
        proto_errmsg_t e;
        memset (&e, 0, sizeof e);
        if (proto_errmsg_decode ((const char *) zframe_data (msg.body), zframe_size (msg.body), &e, err) == 0)
            fprintf (stderr, "bench_fleet: ERROR %d %s: %s\n", e.status, e.error.code,
                     e.error.message ? e.error.message : "");
        proto_errmsg_free (&e);
    }
    else
        fprintf (stderr, "bench_fleet: unexpected reply %s\n", proto_cmd_name (msg.cmd));
    bus_msg_free (&msg);
    return rc;
}

static int
s_fleet_connect (s_bench_t *self, const char *work, int n)
{
    for (int i = 0; i < n; i++) {
        zsock_t *s = zsock_new (ZMQ_DEALER);
        if (!s)
            return -1;
        bus_socket_setup (s);
        if (zsock_connect (s, "%s", work)) {
            zsock_destroy (&s);
            return -1;
        }
        self->fleet [i] = s;
        self->nfleet++;
        proto_ready_t ready = { .slots = 1 };
        snprintf (ready.name, sizeof ready.name, "bench:%d", i);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        proto_ready_encode (&ready, &sb);
        int rc = s_send (self, s, PROTO_READY, &sb);
        msgpack_sbuffer_destroy (&sb);
        if (rc)
            return -1;
    }
    return 0;
}

static void
s_fleet_heartbeat (s_bench_t *self)
{
    proto_simple_t hb;
    memset (&hb, 0, sizeof hb);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_simple_encode (&hb, &sb);
    for (int i = 0; i < self->nfleet; i++)
        bus_send_sbuf (self->fleet [i], NULL, PROTO_HEARTBEAT, &sb);
    msgpack_sbuffer_destroy (&sb);
}

/* Answers every TASK waiting on the fleet's sockets; waits up to wait_ms for
   one. Returns the number of results sent, -1 on error. */
static int
s_fleet_pump (s_bench_t *self, int wait_ms)
{
    zmq_pollitem_t items [S_MAX_RENDERERS];
    for (int i = 0; i < self->nfleet; i++)
        items [i] = (zmq_pollitem_t) { .socket = zsock_resolve (self->fleet [i]), .events = ZMQ_POLLIN };
    int n = zmq_poll (items, self->nfleet, wait_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    int sent = 0;
    for (int i = 0; i < self->nfleet; i++) {
        if (!(items [i].revents & ZMQ_POLLIN))
            continue;
        while (zsock_events (self->fleet [i]) & ZMQ_POLLIN) {
            bus_msg_t msg;
            char err [PROTO_ERR_MAX];
            memset (&msg, 0, sizeof msg);
            if (bus_recv (self->fleet [i], false, &msg, err)) {
                bus_msg_free (&msg);
                return -1;
            }
            if (msg.cmd == PROTO_TASK) {
                double now = s_now ();
                if (self->last_result [i] > 0 && self->nturn < S_MAX_TASKS)
                    self->turnaround [self->nturn++] = now - self->last_result [i];
                proto_task_t task;
                memset (&task, 0, sizeof task);
                if (proto_task_decode ((const char *) zframe_data (msg.body), zframe_size (msg.body),
                                       &task, err) == 0) {
                    proto_result_t res;
                    memset (&res, 0, sizeof res);
                    snprintf (res.task_id, sizeof res.task_id, "%s", task.task_id);
                    res.attempt = task.attempt;
                    res.width = 1;
                    res.height = 1;
                    snprintf (res.format, sizeof res.format, "png");
                    res.data = (uint8_t *) s_tiny_png;
                    res.len = sizeof s_tiny_png;
                    msgpack_sbuffer sb;
                    msgpack_sbuffer_init (&sb);
                    proto_result_encode (&res, &sb);
                    s_send (self, self->fleet [i], PROTO_RESULT, &sb);
                    msgpack_sbuffer_destroy (&sb);
                    self->last_result [i] = s_now ();
                    s_push (&self->results, &self->nresults, &self->results_cap, task.task_id,
                            self->last_result [i]);
                    sent++;
                }
                else
                    fprintf (stderr, "bench_fleet: TASK: %s\n", err);
                proto_task_free (&task);
            }
            bus_msg_free (&msg);
        }
    }
    return sent;
}

/* Every render recorded from index `from` on is finished (GET_RENDER). */
static int
s_wait_renders_done (s_bench_t *self, int from, double *last_hb)
{
    for (int i = from; i < self->nrenders; i++) {
        while (true) {
            if (s_now () > self->deadline)
                return -1;
            proto_get_t g;
            memset (&g, 0, sizeof g);
            snprintf (g.rid, sizeof g.rid, "b%ld", self->rid_seq++);
            memcpy (g.auth, self->auth, sizeof g.auth);
            snprintf (g.id, sizeof g.id, "%s", self->renders [i].id);
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            proto_get_encode (&g, &sb);
            s_send (self, self->api, PROTO_GET_RENDER, &sb);
            msgpack_sbuffer_destroy (&sb);
            int done = s_api_reply (self, false, false, NULL);
            if (done < 0)
                return -1;
            if (s_now () - *last_hb > 500) {
                s_fleet_heartbeat (self);
                *last_hb = s_now ();
            }
            if (done)
                break;
            if (s_fleet_pump (self, 5) < 0)
                return -1;
        }
    }
    return 0;
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: bench_fleet --api EP --work EP --key sk_... [--renderers N<=%d]\n"
                     "       [--tasks N] [--per-render N<=%d] [--stream-tasks N] [--window N]\n"
                     "       [--timeout-s S]\n", S_MAX_RENDERERS, EASEL_MAX_IMAGES_PER_RENDER);
}

static int
s_arg_long (const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol (v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

int
main (int argc, char **argv)
{
    const char *api = NULL, *work = NULL, *key = NULL;
    long renderers = 200, tasks = 100000, per_render = EASEL_MAX_IMAGES_PER_RENDER,
         stream_tasks = 20000, window = 1000, timeout_s = 110;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv [i], *v = argv [i + 1];
        int bad = 0;
        if (!strcmp (a, "--api")) api = v;
        else if (!strcmp (a, "--work")) work = v;
        else if (!strcmp (a, "--key")) key = v;
        else if (!strcmp (a, "--renderers")) bad = s_arg_long (v, 1, S_MAX_RENDERERS, &renderers);
        else if (!strcmp (a, "--tasks")) bad = s_arg_long (v, 0, S_MAX_TASKS, &tasks);
        else if (!strcmp (a, "--per-render")) bad = s_arg_long (v, 1, EASEL_MAX_IMAGES_PER_RENDER, &per_render);
        else if (!strcmp (a, "--stream-tasks")) bad = s_arg_long (v, 0, S_MAX_TASKS, &stream_tasks);
        else if (!strcmp (a, "--window")) bad = s_arg_long (v, S_STREAM_PER_RENDER, S_MAX_TASKS, &window);
        else if (!strcmp (a, "--timeout-s")) bad = s_arg_long (v, 1, 3600, &timeout_s);
        else bad = 1;
        if (bad) {
            fprintf (stderr, "bench_fleet: bad value for %s: %s\n", a, v);
            s_usage ();
            return 2;
        }
    }
    if (argc % 2 == 0 || !api || !work || !key) {
        s_usage ();
        return 2;
    }
    zsys_init ();
    zsys_set_max_sockets (S_MAX_RENDERERS + 64);
    s_bench_t *self = calloc (1, sizeof *self);
    self->turnaround = calloc (S_MAX_TASKS, sizeof (double));
    if (!self || !self->turnaround)
        return 1;
    self->deadline = s_now () + timeout_s * 1e3;
    util_sha256_hex (key, strlen (key), self->auth);

    proto_slide_t slide;
    memset (&slide, 0, sizeof slide);
    snprintf (slide.preset, sizeof slide.preset, "appstore.iphone_6_9");
    slide.width = 1320;
    slide.height = 2868;
    slide.bg_ncolors = 1;
    slide.bg_colors [0] = 0x0F172A;
    slide.nlines = 1;
    slide.lines [0] = "Fleet";
    slide.text_color = 0xFFFFFF;
    slide.padding_pm = -1;
    snprintf (slide.device, sizeof slide.device, "none");
    snprintf (slide.format, sizeof slide.format, "png");
    msgpack_sbuffer spec;
    msgpack_sbuffer_init (&spec);
    proto_slide_encode (&slide, &spec);
    self->spec = spec.data;
    self->spec_len = spec.size;

    self->api = zsock_new (ZMQ_DEALER);
    bus_socket_setup (self->api);
    if (zsock_connect (self->api, "%s", api)) {
        fprintf (stderr, "bench_fleet: cannot connect %s\n", api);
        return 1;
    }
    int rc = 1;
    /* 1. preload */
    double t0 = s_now ();
    long queued = 0, inflight = 0;
    while (queued < tasks || inflight > 0) {
        while (queued < tasks && inflight < S_CREATE_WINDOW) {
            int n = (int) (tasks - queued < per_render ? tasks - queued : per_render);
            if (s_send_create (self, n))
                goto done;
            queued += n;
            inflight++;
        }
        if (s_api_reply (self, true, false, NULL) < 0)
            goto done;
        inflight--;
    }
    double t_preload = s_now () - t0;

    /* 2. drain */
    double t1 = s_now (), last_hb = t1;
    if (s_fleet_connect (self, work, (int) renderers))
        goto done;
    while (self->nresults < tasks) {
        if (s_now () > self->deadline) {
            fprintf (stderr, "bench_fleet: drain timed out at %d of %ld results\n", self->nresults, tasks);
            goto done;
        }
        if (s_fleet_pump (self, 50) < 0)
            goto done;
        if (s_now () - last_hb > 500) {
            s_fleet_heartbeat (self);
            last_hb = s_now ();
        }
    }
    if (s_wait_renders_done (self, 0, &last_hb))
        goto done;
    double t_drain = s_now () - t1;
    int drain_turn = self->nturn;
    double turn_p50 = s_pct (self->turnaround, drain_turn, 0.5);
    double turn_p99 = s_pct (self->turnaround, drain_turn, 0.99);

    /* 3. stream */
    int first_stream_render = self->nrenders;
    int results_before = self->nresults;
    double t2 = s_now ();
    long created = 0;
    inflight = 0;
    while (self->nresults - results_before < stream_tasks) {
        if (s_now () > self->deadline) {
            fprintf (stderr, "bench_fleet: stream timed out\n");
            goto done;
        }
        long outstanding = created - (self->nresults - results_before);
        while (created < stream_tasks && outstanding + S_STREAM_PER_RENDER <= window && inflight < S_CREATE_WINDOW) {
            if (s_send_create (self, S_STREAM_PER_RENDER))
                goto done;
            created += S_STREAM_PER_RENDER;
            outstanding += S_STREAM_PER_RENDER;
            inflight++;
        }
        while (inflight > 0 && (zsock_events (self->api) & ZMQ_POLLIN)) {
            if (s_api_reply (self, true, true, NULL) < 0)
                goto done;
            inflight--;
        }
        if (s_fleet_pump (self, 1) < 0)
            goto done;
        if (s_now () - last_hb > 500) {
            s_fleet_heartbeat (self);
            last_hb = s_now ();
        }
    }
    while (inflight > 0) {
        if (s_api_reply (self, true, true, NULL) < 0)
            goto done;
        inflight--;
    }
    if (s_wait_renders_done (self, first_stream_render, &last_hb))
        goto done;
    double t_stream = s_now () - t2;
    /* join: result time - create time, per stream image */
    s_stamp_t *res = self->results + results_before;
    int nres = self->nresults - results_before;
    qsort (res, (size_t) nres, sizeof *res, s_cmp_stamp);
    double *lat = calloc ((size_t) self->nimages + 1, sizeof (double));
    int nlat = 0;
    for (int i = 0; lat && i < self->nimages; i++) {
        s_stamp_t *hit = bsearch (&self->images [i], res, (size_t) nres, sizeof *res, s_cmp_stamp);
        if (hit)
            lat [nlat++] = hit->t - self->images [i].t;
    }
    printf ("{\"renderers\": %ld, \"tasks\": %ld, \"per_render\": %ld, "
            "\"preload_s\": %.2f, \"preload_tasks_per_s\": %.0f, "
            "\"drain_s\": %.2f, \"drain_tasks_per_s\": %.0f, "
            "\"result_to_next_task_ms_p50\": %.2f, \"result_to_next_task_ms_p99\": %.2f, "
            "\"stream_tasks\": %ld, \"stream_window\": %ld, \"stream_s\": %.2f, "
            "\"stream_tasks_per_s\": %.0f, \"queue_to_result_ms_p50\": %.2f, "
            "\"queue_to_result_ms_p99\": %.2f, \"latency_samples\": %d}\n",
            renderers, tasks, per_render, t_preload / 1e3, tasks / (t_preload / 1e3),
            t_drain / 1e3, tasks / (t_drain / 1e3), turn_p50, turn_p99,
            stream_tasks, window, t_stream / 1e3, stream_tasks / (t_stream / 1e3),
            s_pct (lat, nlat, 0.5), s_pct (lat, nlat, 0.99), nlat);
    free (lat);
    rc = nlat == stream_tasks ? 0 : 1;
    if (rc)
        fprintf (stderr, "bench_fleet: %d latency samples for %ld stream tasks\n", nlat, stream_tasks);
done:
    for (int i = 0; i < self->nfleet; i++)
        zsock_destroy (&self->fleet [i]);
    zsock_destroy (&self->api);
    msgpack_sbuffer_destroy (&spec);
    free (self->renders);
    free (self->images);
    free (self->results);
    free (self->turnaround);
    free (self);
    return rc;
}
