/*  render_task.h: one TASK body in, the RESULT or FAIL body to answer with out.

    Thread: any worker thread (it touches no socket). Memory: the caller owns
    `out` (an initialised msgpack_sbuffer) and appends nothing else to it. */
#ifndef EASEL_RENDER_TASK_H
#define EASEL_RENDER_TASK_H

#include <msgpack.h>
#include "slide_render.h"

/* Decodes the TASK, renders its slide and encodes the answer into out; *cmd
   gets PROTO_RESULT or PROTO_FAIL (a spec that does not decode is a FAIL with
   code "bad_task"). Returns 0, or -1 with a reason in err (PROTO_ERR_MAX)
   when the TASK itself does not decode or the answer cannot be encoded:
   there is then nothing to answer and the scheduler's lease will requeue it. */
int render_task_run (const char *body, size_t len, const slide_render_opts_t *opts,
                     int *cmd, msgpack_sbuffer *out, char *err);

#endif
