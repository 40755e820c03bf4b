/*  render_task.c: TASK -> slide_render -> RESULT / FAIL (see render_task.h). */
#include "render_task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_fail (const proto_task_t *task, const render_error_t *rerr, int *cmd, msgpack_sbuffer *out, char *err)
{
    proto_fail_t fail = { .attempt = task->attempt, .retryable = rerr->retryable };
    snprintf (fail.task_id, sizeof fail.task_id, "%s", task->task_id);
    int rc = proto_error_set (&fail.error, rerr->code, rerr->message,
                              rerr->param[0] ? rerr->param : NULL);
    if (rc == 0)
        rc = proto_fail_encode (&fail, out);
    proto_fail_free (&fail);
    if (rc != 0)
        snprintf (err, PROTO_ERR_MAX, "cannot encode FAIL for %s", task->task_id);
    *cmd = PROTO_FAIL;
    return rc;
}

int
render_task_run (const char *body, size_t len, const slide_render_opts_t *opts,
                 int *cmd, msgpack_sbuffer *out, char *err)
{
    proto_task_t task = { 0 };
    if (proto_task_decode (body, len, &task, err) != 0) {
        proto_task_free (&task);
        return -1;
    }
    proto_slide_t spec = { 0 };
    render_error_t rerr = { 0 };
    char why[PROTO_ERR_MAX] = "";
    int rc;
    if (proto_slide_decode (task.spec, task.spec_len, &spec, why) != 0) {
        snprintf (rerr.code, sizeof rerr.code, "bad_task");
        snprintf (rerr.message, sizeof rerr.message, "the slide spec does not decode: %s", why);
        rc = s_fail (&task, &rerr, cmd, out, err);
    }
    else {
        uint8_t *png = NULL;
        size_t png_len = 0;
        if (slide_render (&spec, opts, &png, &png_len, &rerr) != 0)
            rc = s_fail (&task, &rerr, cmd, out, err);
        else {
            proto_result_t result = { .attempt = task.attempt, .width = spec.width,
                                      .height = spec.height, .data = png, .len = png_len };
            snprintf (result.task_id, sizeof result.task_id, "%s", task.task_id);
            snprintf (result.format, sizeof result.format, "png");
            rc = proto_result_encode (&result, out);
            if (rc != 0)
                snprintf (err, PROTO_ERR_MAX, "cannot encode RESULT for %s", task.task_id);
            *cmd = PROTO_RESULT;
            free (png);
        }
    }
    proto_slide_free (&spec);
    proto_task_free (&task);
    return rc;
}
