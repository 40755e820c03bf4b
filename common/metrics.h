/*  metrics.h: a small process-wide registry of counters, gauges and
    histograms, rendered in the Prometheus text exposition format (0.0.4).

    Debian ships no C Prometheus client worth the dependency (libprom is not
    packaged), so this is ~300 lines: families are registered once at start-up
    (under a lock), each family holds up to METRICS_SERIES_MAX label
    combinations, and the hot path never locks once a series exists: a lookup
    scans an append-only array published with an atomic count, and every
    update is one atomic add (a histogram observation: bucket add + count add
    + a CAS on the sum).

        metrics_family_t *req = metrics_counter ("easel_http_requests_total",
                                   "HTTP requests by route and status.", "route,status");
        metrics_inc (metrics_get (req, "/v1/renders", "202"), 1);

    Thread: any. Memory: families and series live until exit (they are few and
    bounded); metrics_render returns a heap string the caller frees.
    A NULL family or series (over a cap, out of memory) turns every update into
    a no-op, so instrumentation can never fail a request. */
#ifndef EASEL_METRICS_H
#define EASEL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_FAMILIES_MAX   96      /* families per process */
#define METRICS_SERIES_MAX     512     /* label combinations per family */
#define METRICS_LABELS_MAX     3       /* label names per family */
#define METRICS_LABEL_VALUE_MAX 96     /* bytes of one label value (longer is cut) */
#define METRICS_BUCKETS_MAX    16      /* finite histogram buckets */

typedef struct metrics_family_t metrics_family_t;
typedef struct metrics_series_t metrics_series_t;

/* Registers a family (or returns the one already registered under `name`).
   `labels` is a comma-separated list of label names, or NULL / "" for none. */
metrics_family_t *metrics_counter   (const char *name, const char *help, const char *labels);
metrics_family_t *metrics_gauge     (const char *name, const char *help, const char *labels);
metrics_family_t *metrics_histogram (const char *name, const char *help, const char *labels,
                                     const double *bounds, int nbounds);

/* Default buckets for latencies in seconds (1 ms .. 30 s). */
extern const double metrics_latency_buckets [];
extern const int    metrics_latency_nbuckets;

/* The series for one combination of label values (as many values as the
   family has labels; NULL values read as ""). Created on first use. */
metrics_series_t *metrics_get (metrics_family_t *family, ...);

void metrics_inc     (metrics_series_t *s, uint64_t n);   /* counter */
void metrics_set     (metrics_series_t *s, int64_t v);    /* gauge */
void metrics_add     (metrics_series_t *s, int64_t d);    /* gauge */
void metrics_observe (metrics_series_t *s, double v);     /* histogram */

/* The whole registry as Prometheus text; NULL on out of memory. */
char *metrics_render (size_t *len);

/* Serves GET /metrics (one civetweb thread) on `listen` ("host:port");
   returns 0, -1 with a reason in err (PROTO_ERR_MAX bytes) for a malformed
   address, or METRICS_SERVE_CANNOT_LISTEN when it cannot be listened on
   (taken, most often). Nothing is served when listen is NULL or "".
   metrics_serve_stop ends it. */
#define METRICS_SERVE_CANNOT_LISTEN (-2)
int  metrics_serve (const char *listen, char *err, size_t err_size);
void metrics_serve_stop (void);

/* Seconds since an unspecified start, for latency measurements. */
double metrics_now (void);

#endif
