/*  sched_metrics.h: the scheduler's Prometheus metrics (common/metrics.h),
    served on --metrics / EASEL_METRICS_LISTEN.

    Thread: the scheduler's one thread updates them; the metrics listener's
    thread reads them (atomics). Call sched_metrics_init once before use. */
#ifndef EASEL_SCHED_METRICS_H
#define EASEL_SCHED_METRICS_H

#include <stdbool.h>
#include <stdint.h>

void sched_metrics_init (void);
void sched_metrics_leased (int n);
void sched_metrics_task_failed (bool retryable, bool exhausted);
void sched_metrics_requeued (const char *reason, int n);      /* "lease_expired" | "renderer_gone" */
void sched_metrics_queue (int64_t queued, int64_t leased);
void sched_metrics_renderers (int connected, int64_t free_slots);
void sched_metrics_commit (double seconds, int group_size);
/* a finished image's bytes: direct, the renderer put them in the store */
void sched_metrics_result_bytes (bool direct, int64_t n);
/* input image bytes a TASK carried on the bus */
void sched_metrics_input_bytes (int64_t n);
/* an uploaded file's or inline image's bytes: direct, the gateway put them in the store */
void sched_metrics_upload_bytes (bool direct, int64_t n);
double sched_metrics_now (void);

#endif
