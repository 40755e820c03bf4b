/*  metrics.c: the metrics registry and its Prometheus text exposition (see metrics.h).

    Thread: any. Registration and series creation take s_lock; lookups and
    updates are lock-free (C11 atomics). A family's series array is
    append-only: a series is fully written before the release store of
    nseries publishes it, so a reader that acquires nseries sees it whole.
    Memory: everything registered lives until exit. */
#include "metrics.h"

#include <civetweb.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_LEN 96
#define HELP_MAX_LEN 256

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_kind_t;

struct metrics_series_t {
    metrics_family_t *family;
    char              values [METRICS_LABELS_MAX][METRICS_LABEL_VALUE_MAX];
    _Atomic uint64_t  count;                 /* counter value / histogram count */
    _Atomic int64_t   gauge;
    _Atomic uint64_t  sum_bits;              /* histogram sum, a double's bits */
    _Atomic uint64_t  buckets [METRICS_BUCKETS_MAX];   /* non-cumulative */
};

struct metrics_family_t {
    s_kind_t          kind;
    char              name [NAME_MAX_LEN];
    char              help [HELP_MAX_LEN];
    int               nlabels;
    char              labels [METRICS_LABELS_MAX][32];
    int               nbounds;
    double            bounds [METRICS_BUCKETS_MAX];
    _Atomic int       nseries;
    metrics_series_t *series [METRICS_SERIES_MAX];
};

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static metrics_family_t *s_families [METRICS_FAMILIES_MAX];
static _Atomic int s_nfamilies;

const double metrics_latency_buckets [] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};
const int metrics_latency_nbuckets = (int) (sizeof metrics_latency_buckets / sizeof (double));

double
metrics_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* ---- registration ---------------------------------------------------------- */

static int
s_copy (char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen (src) : 0;
    if (n >= size)
        return -1;
    memcpy (dst, src ? src : "", n);
    dst [n] = 0;
    return 0;
}

static metrics_family_t *
s_register (s_kind_t kind, const char *name, const char *help, const char *labels,
            const double *bounds, int nbounds)
{
    if (!name || nbounds < 0 || nbounds > METRICS_BUCKETS_MAX)
        return NULL;
    pthread_mutex_lock (&s_lock);
    metrics_family_t *f = NULL;
    int n = atomic_load (&s_nfamilies);
    for (int i = 0; i < n; i++)
        if (strcmp (s_families [i]->name, name) == 0) {
            f = s_families [i];
            goto done;
        }
    if (n >= METRICS_FAMILIES_MAX || !(f = calloc (1, sizeof *f)))
        goto done;
    f->kind = kind;
    if (s_copy (f->name, sizeof f->name, name) || s_copy (f->help, sizeof f->help, help))
        goto fail;
    for (const char *p = labels; p && *p; ) {
        const char *comma = strchr (p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen (p);
        if (f->nlabels >= METRICS_LABELS_MAX || len == 0 || len >= sizeof f->labels [0])
            goto fail;
        memcpy (f->labels [f->nlabels], p, len);
        f->labels [f->nlabels++][len] = 0;
        p = comma ? comma + 1 : p + len;
    }
    for (int i = 0; i < nbounds; i++) {
        if (i > 0 && !(bounds [i] > bounds [i - 1]))
            goto fail;
        f->bounds [i] = bounds [i];
    }
    f->nbounds = nbounds;
    s_families [n] = f;
    atomic_store_explicit (&s_nfamilies, n + 1, memory_order_release);
    goto done;
fail:
    free (f);
    f = NULL;
done:
    pthread_mutex_unlock (&s_lock);
    return f;
}

metrics_family_t *
metrics_counter (const char *name, const char *help, const char *labels)
{
    return s_register (S_COUNTER, name, help, labels, NULL, 0);
}

metrics_family_t *
metrics_gauge (const char *name, const char *help, const char *labels)
{
    return s_register (S_GAUGE, name, help, labels, NULL, 0);
}

metrics_family_t *
metrics_histogram (const char *name, const char *help, const char *labels,
                   const double *bounds, int nbounds)
{
    return s_register (S_HISTOGRAM, name, help, labels, bounds, nbounds);
}

/* ---- series -------------------------------------------------------------------- */

static bool
s_matches (const metrics_series_t *s, int nlabels, char values [][METRICS_LABEL_VALUE_MAX])
{
    for (int i = 0; i < nlabels; i++)
        if (strcmp (s->values [i], values [i]) != 0)
            return false;
    return true;
}

static metrics_series_t *
s_find (metrics_family_t *f, char values [][METRICS_LABEL_VALUE_MAX])
{
    int n = atomic_load_explicit (&f->nseries, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (s_matches (f->series [i], f->nlabels, values))
            return f->series [i];
    return NULL;
}

metrics_series_t *
metrics_get (metrics_family_t *f, ...)
{
    if (!f)
        return NULL;
    char values [METRICS_LABELS_MAX][METRICS_LABEL_VALUE_MAX];
    va_list ap;
    va_start (ap, f);
    for (int i = 0; i < f->nlabels; i++) {
        const char *v = va_arg (ap, const char *);
        snprintf (values [i], sizeof values [i], "%s", v ? v : "");   /* cut at the cap */
    }
    va_end (ap);
    metrics_series_t *s = s_find (f, values);
    if (s)
        return s;
    pthread_mutex_lock (&s_lock);
    s = s_find (f, values);
    int n = atomic_load (&f->nseries);
    if (!s && n < METRICS_SERIES_MAX && (s = calloc (1, sizeof *s))) {
        s->family = f;
        memcpy (s->values, values, sizeof (values [0]) * (size_t) f->nlabels);
        f->series [n] = s;
        atomic_store_explicit (&f->nseries, n + 1, memory_order_release);
    }
    pthread_mutex_unlock (&s_lock);
    return s;
}

void
metrics_inc (metrics_series_t *s, uint64_t n)
{
    if (s)
        atomic_fetch_add_explicit (&s->count, n, memory_order_relaxed);
}

void
metrics_set (metrics_series_t *s, int64_t v)
{
    if (s)
        atomic_store_explicit (&s->gauge, v, memory_order_relaxed);
}

void
metrics_add (metrics_series_t *s, int64_t d)
{
    if (s)
        atomic_fetch_add_explicit (&s->gauge, d, memory_order_relaxed);
}

void
metrics_observe (metrics_series_t *s, double v)
{
    if (!s || isnan (v))
        return;
    const metrics_family_t *f = s->family;
    int b = 0;
    while (b < f->nbounds && v > f->bounds [b])
        b++;
    if (b < f->nbounds)
        atomic_fetch_add_explicit (&s->buckets [b], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit (&s->sum_bits, memory_order_relaxed), next;
    do {
        double sum;
        memcpy (&sum, &old, sizeof sum);
        sum += v;
        memcpy (&next, &sum, sizeof next);
    } while (!atomic_compare_exchange_weak_explicit (&s->sum_bits, &old, next,
                                                     memory_order_relaxed, memory_order_relaxed));
    atomic_fetch_add_explicit (&s->count, 1, memory_order_relaxed);
}

/* ---- exposition --------------------------------------------------------------- */

static void
s_put_value (FILE *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')      fputs ("\\\\", out);
        else if (*v == '"')  fputs ("\\\"", out);
        else if (*v == '\n') fputs ("\\n", out);
        else                 fputc (*v, out);
    }
}

/* {a="x",b="y"[,le="..."]} or nothing when there are no labels at all. */
static void
s_put_labels (FILE *out, const metrics_series_t *s, const char *le)
{
    const metrics_family_t *f = s->family;
    if (f->nlabels == 0 && !le)
        return;
    fputc ('{', out);
    for (int i = 0; i < f->nlabels; i++) {
        fprintf (out, "%s%s=\"", i ? "," : "", f->labels [i]);
        s_put_value (out, s->values [i]);
        fputc ('"', out);
    }
    if (le)
        fprintf (out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
    fputc ('}', out);
}

static void
s_put_series (FILE *out, const metrics_series_t *s)
{
    const metrics_family_t *f = s->family;
    if (f->kind == S_COUNTER || f->kind == S_GAUGE) {
        fputs (f->name, out);
        s_put_labels (out, s, NULL);
        if (f->kind == S_COUNTER)
            fprintf (out, " %llu\n", (unsigned long long) atomic_load (&s->count));
        else
            fprintf (out, " %lld\n", (long long) atomic_load (&s->gauge));
        return;
    }
    /* read the buckets first: count is bumped last by metrics_observe, so
       the +Inf bucket (= count) is never below the finite ones */
    uint64_t cumulative = 0;
    uint64_t bucket [METRICS_BUCKETS_MAX];
    for (int b = 0; b < f->nbounds; b++)
        bucket [b] = atomic_load (&s->buckets [b]);
    uint64_t count = atomic_load (&s->count);
    uint64_t bits = atomic_load (&s->sum_bits);
    double sum;
    memcpy (&sum, &bits, sizeof sum);
    for (int b = 0; b < f->nbounds; b++) {
        cumulative += bucket [b];
        char le [32];
        snprintf (le, sizeof le, "%g", f->bounds [b]);
        fprintf (out, "%s_bucket", f->name);
        s_put_labels (out, s, le);
        fprintf (out, " %llu\n", (unsigned long long) cumulative);
    }
    if (count < cumulative)
        count = cumulative;
    fprintf (out, "%s_bucket", f->name);
    s_put_labels (out, s, "+Inf");
    fprintf (out, " %llu\n%s_sum", (unsigned long long) count, f->name);
    s_put_labels (out, s, NULL);
    fprintf (out, " %.9g\n%s_count", sum, f->name);
    s_put_labels (out, s, NULL);
    fprintf (out, " %llu\n", (unsigned long long) count);
}

char *
metrics_render (size_t *len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    static const char *types [] = { "counter", "gauge", "histogram" };
    int nf = atomic_load_explicit (&s_nfamilies, memory_order_acquire);
    for (int i = 0; i < nf; i++) {
        const metrics_family_t *f = s_families [i];
        fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, types [f->kind]);
        int ns = atomic_load_explicit (&f->nseries, memory_order_acquire);
        for (int j = 0; j < ns; j++)
            s_put_series (out, f->series [j]);
    }
    if (fclose (out) != 0) {
        free (text);
        return NULL;
    }
    if (len)
        *len = size;
    return text;
}

/* ---- the /metrics listener ----------------------------------------------------- */

static struct mg_context *s_ctx;

static int
s_handle (struct mg_connection *conn, void *cbdata)
{
    (void) cbdata;
    const struct mg_request_info *ri = mg_get_request_info (conn);
    if (strcmp (ri->request_method, "GET") != 0) {
        mg_printf (conn, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"
                         "Content-Length: 0\r\nConnection: close\r\n\r\n");
        return 405;
    }
    size_t len = 0;
    char *text = metrics_render (&len);
    if (!text) {
        mg_printf (conn, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
        return 500;
    }
    mg_printf (conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n\r\n", len);
    mg_write (conn, text, len);
    free (text);
    return 200;
}

int
metrics_serve (const char *listen, char *err, size_t err_size)
{
    if (!listen || !*listen)
        return 0;
    if (s_ctx) {
        snprintf (err, err_size, "metrics listener already started");
        return -1;
    }
    if (strlen (listen) > 255 || strchr (listen, ',') || strchr (listen, ' ')) {
        snprintf (err, err_size, "metrics listen address must be one host:port under 256 bytes");
        return -1;
    }
    const char *options [] = {
        "listening_ports", listen,
        "num_threads", "1",
        "request_timeout_ms", "10000",
        NULL
    };
    struct mg_callbacks callbacks;
    memset (&callbacks, 0, sizeof callbacks);
    s_ctx = mg_start (&callbacks, NULL, options);
    if (!s_ctx) {
        snprintf (err, err_size, "cannot listen on %s for metrics", listen);
        return METRICS_SERVE_CANNOT_LISTEN;
    }
    mg_set_request_handler (s_ctx, "/metrics$", s_handle, NULL);
    return 0;
}

void
metrics_serve_stop (void)
{
    if (s_ctx)
        mg_stop (s_ctx);
    s_ctx = NULL;
}
