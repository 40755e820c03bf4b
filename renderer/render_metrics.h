/*  render_metrics.h: the renderer's Prometheus metrics (common/metrics.h),
    served on --metrics / EASEL_METRICS_LISTEN.

    Thread: any worker thread records; the metrics listener thread reads.
    Call render_metrics_init once before the workers start. */
#ifndef EASEL_RENDER_METRICS_H
#define EASEL_RENDER_METRICS_H

#include <stddef.h>
#include "proto.h"

void render_metrics_init (int slots);

/* One task ended: cmd is PROTO_RESULT or PROTO_FAIL, `bytes` the answer's
   body size, `seconds` the render time. The preset label is read from the
   task's spec without copying it ("custom" when it names none). */
void render_metrics_task (const proto_task_t *task, int cmd, size_t bytes, double seconds);

/* Workers busy now (slots in use). */
void render_metrics_busy (int delta);

#endif
