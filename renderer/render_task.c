/*  render_task.c: TASK -> slide_render -> RESULT / FAIL (see render_task.h). */
#include "render_task.h"
#include "capture_page.h"
#include "capture_spec.h"
#include "web_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
render_task_fail (const proto_task_t *task, render_error_t *why, int *cmd, msgpack_sbuffer *out)
{
    proto_fail_t fail = { .attempt = task->attempt, .retryable = why->retryable };
    snprintf (fail.task_id, sizeof fail.task_id, "%s", task->task_id);
    int rc = proto_error_set (&fail.error, why->code, why->message,
                              why->param[0] ? why->param : NULL);
    if (rc == 0)
        rc = proto_fail_encode (&fail, out);
    proto_fail_free (&fail);
    if (rc != 0)
        snprintf (why->message, sizeof why->message, "cannot encode FAIL for %s", task->task_id);
    *cmd = PROTO_FAIL;
    return rc;
}

/* The page of the slide's screenshot.capture, taken unframed by this
   thread's browser into spec->shot_data (owned by spec from then on),
   stopped when *cancel is set. 0 / -1 with why (param under
   "slides[N].screenshot.capture"; code "canceled", no param, when
   stopped). */
static int
s_capture (proto_slide_t *spec, const capture_opts_t *capture, const atomic_bool *cancel, render_error_t *why)
{
    capture_spec_t cs;
    char err [256] = "";
    if (capture_spec_decode ((const char *) spec->capture, spec->capture_len, &cs, err) != 0) {
        snprintf (why->code, sizeof why->code, "bad_task");
        snprintf (why->message, sizeof why->message, "the slide's capture spec does not decode: %s", err);
        return -1;
    }
    web_url_t url;                 /* the gateway checked it; parsed again, by the same rules */
    char uerr [WEB_URL_ERR_MAX];
    bool truncated = false;
    int rc;
    if (web_url_parse (cs.url, &url, uerr) != 0)
        rc = capture_error (why, "bad_task", false, "url %s", uerr);
    else
    if (!capture || !capture->chromium)
        rc = capture_error (why, "capture_failed", true, "this renderer has no browser%s", "");
    else
        rc = capture_page_shot (&cs, url.canonical, capture, cancel, &spec->shot_data, &spec->shot_len,
                                &truncated, why);
    capture_spec_free (&cs);
    if (rc && strcmp (why->code, "canceled") != 0) {
        char inner [sizeof why->param];
        snprintf (inner, sizeof inner, "%s", why->param);
        snprintf (why->param, sizeof why->param, "slides[%d].screenshot.capture%s%.60s", (int) spec->slide,
                  inner [0] ? "." : "", inner);
    }
    return rc;
}

int
render_task_run (const proto_task_t *task, const slide_render_opts_t *opts, const capture_opts_t *capture,
                 int *cmd, msgpack_sbuffer *out, render_error_t *why)
{
    memset (why, 0, sizeof *why);
    proto_slide_t spec = { 0 };
    char err[PROTO_ERR_MAX] = "";
    bool bg_borrowed = false;
    int rc;
    if (proto_slide_decode (task->spec, task->spec_len, &spec, err) != 0) {
        snprintf (why->code, sizeof why->code, "bad_task");
        snprintf (why->message, sizeof why->message, "the slide spec does not decode: %s", err);
        rc = render_task_fail (task, why, cmd, out);
    }
    else
    if (spec.shot_sha256[0] && strcmp (spec.shot_sha256, task->blob_sha256) != 0) {
        /* the scheduler attaches the render blob a spec names; without it, ask again */
        snprintf (why->code, sizeof why->code, "blob_missing");
        snprintf (why->message, sizeof why->message, "the task came without its screenshot %.16s",
                  spec.shot_sha256);
        why->retryable = true;
        rc = render_task_fail (task, why, cmd, out);
    }
    else
    if (spec.bg_sha256[0] && strcmp (spec.bg_sha256, task->bg_blob_sha256) != 0) {
        snprintf (why->code, sizeof why->code, "blob_missing");
        snprintf (why->message, sizeof why->message, "the task came without its background %.16s",
                  spec.bg_sha256);
        why->retryable = true;
        rc = render_task_fail (task, why, cmd, out);
    }
    else
    if (spec.capture && s_capture (&spec, capture, opts->cancel, why) != 0)
        rc = render_task_fail (task, why, cmd, out);
    else {
        if (spec.shot_sha256[0]) {        /* borrowed from the task: unset before the free */
            spec.shot_data = task->blob;
            spec.shot_len = task->blob_len;
        }
        if (spec.bg_sha256[0]) {
            free (spec.bg_data);          /* the spec's own is never sent; the task's counts */
            spec.bg_data = task->bg_blob;
            spec.bg_len = task->bg_blob_len;
            bg_borrowed = true;
        }
        uint8_t *png = NULL;
        size_t png_len = 0;
        lint_report_t *lint = calloc (1, sizeof *lint);
        if (!lint) {
            snprintf (why->code, sizeof why->code, "render_failed");
            snprintf (why->message, sizeof why->message, "out of memory");
            why->retryable = true;
            rc = render_task_fail (task, why, cmd, out);
        }
        else
        if (slide_render_lint (&spec, opts, &png, &png_len, lint, why) != 0)
            rc = render_task_fail (task, why, cmd, out);
        else {
            proto_result_t result = { .attempt = task->attempt, .width = spec.width,
                                      .height = spec.height, .data = png, .len = png_len,
                                      .findings_json = lint_to_json (lint) };
            snprintf (result.task_id, sizeof result.task_id, "%s", task->task_id);
            snprintf (result.format, sizeof result.format, "%s", spec.format[0] ? spec.format : "png");
            snprintf (result.thumb, sizeof result.thumb, "%s", lint->thumb);
            rc = result.findings_json ? proto_result_encode (&result, out) : -1;
            if (rc != 0)
                snprintf (why->message, sizeof why->message, "cannot encode RESULT for %s", task->task_id);
            *cmd = PROTO_RESULT;
            free (png);
            free (result.findings_json);
        }
        free (lint);
    }
    if (spec.shot_sha256[0]) {
        spec.shot_data = NULL;
        spec.shot_len = 0;
    }
    if (bg_borrowed) {
        spec.bg_data = NULL;
        spec.bg_len = 0;
    }
    proto_slide_free (&spec);
    return rc;
}
