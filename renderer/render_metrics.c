/*  render_metrics.c: the renderer's metric families (see render_metrics.h).
    Thread: any (lock-free updates). Memory: static series pointers; the
    spec is parsed in place (msgpack_unpack_next references the buffer). */
#include "render_metrics.h"
#include "metrics.h"

#include <msgpack.h>
#include <stdio.h>
#include <string.h>

static metrics_family_t *s_seconds, *s_tasks;
static metrics_series_t *s_bytes, *s_busy;

void
render_metrics_init (int slots)
{
    static const double buckets [] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
    s_seconds = metrics_histogram ("easel_renderer_render_seconds",
                                   "Time to render, lint and encode one image, by preset.", "preset",
                                   buckets, (int) (sizeof buckets / sizeof buckets [0]));
    s_tasks = metrics_counter ("easel_renderer_tasks_total",
                               "Tasks ended, by preset and outcome (succeeded | failed).",
                               "preset,outcome");
    s_bytes = metrics_get (metrics_counter ("easel_renderer_result_bytes_total",
                                            "Bytes of RESULT bodies (encoded image + lint) sent.", NULL));
    s_busy = metrics_get (metrics_gauge ("easel_renderer_busy_slots", "Tasks rendering now.", NULL));
    metrics_set (metrics_get (metrics_gauge ("easel_renderer_slots", "Task slots of this renderer.",
                                             NULL)), slots);
}

/* The spec's "preset" string into out (bounded), "custom" when absent or "". */
static void
s_preset (const proto_task_t *task, char *out, size_t size)
{
    snprintf (out, size, "custom");
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    if (task->spec && msgpack_unpack_next (&u, task->spec, task->spec_len, NULL) == MSGPACK_UNPACK_SUCCESS
    &&  u.data.type == MSGPACK_OBJECT_MAP) {
        const msgpack_object_map *m = &u.data.via.map;
        for (uint32_t i = 0; i < m->size; i++) {
            const msgpack_object *k = &m->ptr [i].key, *v = &m->ptr [i].val;
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 6
            &&  memcmp (k->via.str.ptr, "preset", 6) == 0
            &&  v->type == MSGPACK_OBJECT_STR && v->via.str.size > 0) {
                int n = v->via.str.size < size ? (int) v->via.str.size : (int) size - 1;
                snprintf (out, size, "%.*s", n, v->via.str.ptr);
                break;
            }
        }
    }
    msgpack_unpacked_destroy (&u);
}

void
render_metrics_task (const proto_task_t *task, int cmd, size_t bytes, double seconds)
{
    char preset [PROTO_SHORT_MAX];
    s_preset (task, preset, sizeof preset);
    bool ok = cmd == PROTO_RESULT;
    metrics_inc (metrics_get (s_tasks, preset, ok ? "succeeded" : "failed"), 1);
    if (ok) {
        metrics_observe (metrics_get (s_seconds, preset), seconds);
        metrics_inc (s_bytes, bytes);
    }
}

void
render_metrics_busy (int delta)
{
    metrics_add (s_busy, delta);
}
