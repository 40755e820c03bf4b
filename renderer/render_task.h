/*  render_task.h: one decoded TASK in, the RESULT or FAIL body to answer with out.

    Thread: any worker thread (it touches no socket). Memory: borrows task; the
    caller owns `out` (an initialised msgpack_sbuffer). */
#ifndef EASEL_RENDER_TASK_H
#define EASEL_RENDER_TASK_H

#include <msgpack.h>
#include "slide_render.h"

/* Decodes the task's slide spec, renders it and encodes the answer into out;
   *cmd gets PROTO_RESULT or PROTO_FAIL (a spec that does not decode is a FAIL
   with code "bad_task"), and for a FAIL `why` holds the error sent (code ""
   for a RESULT). Returns 0, or -1 when the answer cannot be encoded (why says
   so): there is then nothing to send and the scheduler's lease requeues it. */
int render_task_run (const proto_task_t *task, const slide_render_opts_t *opts,
                     int *cmd, msgpack_sbuffer *out, render_error_t *why);

/* Encodes into out the FAIL of task that why describes (its code, message,
   param and retryable); *cmd becomes PROTO_FAIL. 0 / -1 (why says so). */
int render_task_fail (const proto_task_t *task, render_error_t *why, int *cmd, msgpack_sbuffer *out);

#endif
