/*  sched_metrics.c: the scheduler's metric families (see sched_metrics.h).
    Thread: the scheduler thread writes, the /metrics thread reads; every
    series is looked up once here and kept. Memory: static pointers only. */
#include "sched_metrics.h"
#include "metrics.h"

static metrics_series_t *s_leases, *s_failed_retry, *s_failed_final, *s_exhausted;
static metrics_series_t *s_requeue_expired, *s_requeue_gone, *s_expired;
static metrics_series_t *s_queued, *s_in_flight, *s_renderers, *s_free_slots;
static metrics_series_t *s_commit_seconds, *s_group_size;
static metrics_series_t *s_result_bus, *s_result_store, *s_input_bus, *s_upload_bus, *s_upload_store;

void
sched_metrics_init (void)
{
    metrics_family_t *f;
    f = metrics_counter ("easel_scheduler_leases_total", "Tasks leased to renderers.", NULL);
    s_leases = metrics_get (f);
    f = metrics_counter ("easel_scheduler_task_failures_total",
                         "Task attempts that failed, by whether the task is tried again.", "retryable");
    s_failed_retry = metrics_get (f, "true");
    s_failed_final = metrics_get (f, "false");
    f = metrics_counter ("easel_scheduler_attempts_exhausted_total",
                         "Tasks that failed for good after their last attempt.", NULL);
    s_exhausted = metrics_get (f);
    f = metrics_counter ("easel_scheduler_requeues_total",
                         "Leased tasks put back in the queue, by reason.", "reason");
    s_requeue_expired = metrics_get (f, "lease_expired");
    s_requeue_gone = metrics_get (f, "renderer_gone");
    f = metrics_counter ("easel_scheduler_leases_expired_total",
                         "Leases that expired before their renderer answered.", NULL);
    s_expired = metrics_get (f);
    f = metrics_gauge ("easel_scheduler_queue_depth", "Tasks queued, waiting for a renderer.", NULL);
    s_queued = metrics_get (f);
    f = metrics_gauge ("easel_scheduler_tasks_in_flight", "Tasks leased to a renderer now.", NULL);
    s_in_flight = metrics_get (f);
    f = metrics_gauge ("easel_scheduler_renderers_connected", "Renderers that said READY and heartbeat.", NULL);
    s_renderers = metrics_get (f);
    f = metrics_gauge ("easel_scheduler_renderer_free_slots", "Free task slots over all renderers.", NULL);
    s_free_slots = metrics_get (f);
    f = metrics_histogram ("easel_scheduler_sqlite_commit_seconds",
                           "Time of one grouped SQLite commit.", NULL,
                           metrics_latency_buckets, metrics_latency_nbuckets);
    s_commit_seconds = metrics_get (f);
    static const double groups [] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };
    f = metrics_histogram ("easel_scheduler_commit_group_size",
                           "Bus messages handled in one grouped commit.", NULL, groups, 9);
    s_group_size = metrics_get (f);
    f = metrics_counter ("easel_scheduler_result_bytes_total",
                         "Bytes of finished images, by how they reached the blob store: through the "
                         "scheduler on the bus, or put there by the renderer itself.", "path");
    s_result_bus = metrics_get (f, "bus");
    s_result_store = metrics_get (f, "renderer");
    f = metrics_counter ("easel_scheduler_input_bytes_total",
                         "Bytes of input images (screenshots, backgrounds) the scheduler sent to "
                         "renderers on the bus; 0 when renderers read them from the object store.", NULL);
    s_input_bus = metrics_get (f);
    f = metrics_counter ("easel_scheduler_upload_bytes_total",
                         "Bytes of uploaded files (POST /v1/files) and of renders' inline images, by how "
                         "they reached the blob store: through the scheduler on the bus, or put there "
                         "by the gateway itself.", "path");
    s_upload_bus = metrics_get (f, "bus");
    s_upload_store = metrics_get (f, "gateway");
}

void
sched_metrics_upload_bytes (bool direct, int64_t n)
{
    if (n > 0)
        metrics_inc (direct ? s_upload_store : s_upload_bus, (uint64_t) n);
}

void
sched_metrics_input_bytes (int64_t n)
{
    if (n > 0)
        metrics_inc (s_input_bus, (uint64_t) n);
}

void
sched_metrics_result_bytes (bool direct, int64_t n)
{
    if (n > 0)
        metrics_inc (direct ? s_result_store : s_result_bus, (uint64_t) n);
}

void
sched_metrics_leased (int n)
{
    metrics_inc (s_leases, (uint64_t) n);
}

void
sched_metrics_task_failed (bool retryable, bool exhausted)
{
    metrics_inc (retryable ? s_failed_retry : s_failed_final, 1);
    if (exhausted)
        metrics_inc (s_exhausted, 1);
}

void
sched_metrics_requeued (const char *reason, int n)
{
    if (n <= 0)
        return;
    if (reason && reason [0] == 'l') {
        metrics_inc (s_requeue_expired, (uint64_t) n);
        metrics_inc (s_expired, (uint64_t) n);
    }
    else
        metrics_inc (s_requeue_gone, (uint64_t) n);
}

void
sched_metrics_queue (int64_t queued, int64_t leased)
{
    metrics_set (s_queued, queued);
    metrics_set (s_in_flight, leased);
}

void
sched_metrics_renderers (int connected, int64_t free_slots)
{
    metrics_set (s_renderers, connected);
    metrics_set (s_free_slots, free_slots);
}

void
sched_metrics_commit (double seconds, int group_size)
{
    metrics_observe (s_commit_seconds, seconds);
    metrics_observe (s_group_size, group_size);
}

double
sched_metrics_now (void)
{
    return metrics_now ();
}
