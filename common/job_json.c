/*  job_json.c: job objects and payloads (see job_json.h). */
#include "job_json.h"
#include "capture_spec.h"
#include "render_json.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void
job_json_time (int64_t unix_ms, char *out, size_t size)
{
    time_t t = (time_t) (unix_ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    if (strftime (out, size, "%Y-%m-%d %H:%M:%S", &tm) == 0 && size)
        out [0] = '\0';
}

const char *
job_json_status (const proto_render_t *job)
{
    if (strcmp (job->status, "succeeded") == 0)
        return "completed";
    if (strcmp (job->status, "processing") != 0)
        return "failed";
    if (job->nimages > 0 && strcmp (job->images [0].status, "queued") == 0
    &&  job->images [0].attempts == 0)
        return "pending";
    return "processing";
}

static json_t *
s_result (const proto_render_t *job, const char *public_url)
{
    if (strcmp (job->status, "succeeded") != 0 || job->nimages < 1)
        return json_null ();
    const proto_image_t *img = &job->images [0];
    char url [1024];
    snprintf (url, sizeof url, "%s/v1/files/%s.%s?exp=%lld&sig=%s", public_url, img->id,
              strcmp (img->format, "jpeg") == 0 ? "jpg" : img->format,
              (long long) img->url_exp, img->url_sig);
    /* the renderer notes a page cut at the full-page cap as a finding */
    bool truncated = img->findings_json && strstr (img->findings_json, "\"" CAPTURE_TRUNCATED_RULE "\"");
    return json_pack ("{s:s, s:s, s:i, s:i, s:s, s:I, s:I, s:s, s:b}", "id", img->id, "url", url,
                      "width", (int) img->width, "height", (int) img->height,
                      "format", img->format, "bytes", (json_int_t) img->bytes,
                      "credits_used", (json_int_t) job->credits_used, "sha256", img->sha256,
                      "truncated", truncated);
}

static json_t *
s_error (const proto_render_t *job)
{
    const char *status = job_json_status (job);
    if (strcmp (status, "failed") != 0)
        return json_null ();
    char text [600];
    if (strcmp (job->status, "canceled") == 0)
        snprintf (text, sizeof text, "Render failed: the job was canceled");
    else
        snprintf (text, sizeof text, "Render failed: %.500s",
                  job->error.message ? job->error.message : "unknown error");
    return json_string (text);
}

json_t *
job_json_build (const proto_render_t *job, const char *public_url)
{
    char created [32], completed [32];
    job_json_time (job->created_at_ms, created, sizeof created);
    job_json_time (job->completed_at_ms, completed, sizeof completed);
    return json_pack ("{s:s, s:s, s:s, s:o, s:o, s:o*, s:s, s:s, s:s?}",
                      "id", job->id, "object", "job", "status", job_json_status (job),
                      "result", s_result (job, public_url), "error", s_error (job),
                      "webhook_url", job->webhook_url ? json_string (job->webhook_url) : json_null (),
                      "webhook_status", job->webhook_status, "created_at", created,
                      "completed_at", job->completed_at_ms ? completed : NULL);
}

json_t *
job_json_event (const proto_render_t *job, const char *public_url, const char *type,
                const char *event_id, int64_t occurred_ms)
{
    bool ok = strcmp (job->status, "succeeded") == 0;
    char created [32], completed [32];
    job_json_time (occurred_ms, created, sizeof created);
    util_iso8601 (job->completed_at_ms > 0 ? job->completed_at_ms : occurred_ms,
                  completed, sizeof completed);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "type", type, "event_id", event_id,
                             "created_at", created, "job_id", job->id,
                             "status", ok ? "completed" : "failed");
    if (!obj)
        return NULL;
    if (json_object_set_new (obj, ok ? "result" : "error",
                             ok ? s_result (job, public_url) : s_error (job))
    ||  render_json_envelope (obj, type, event_id, "job", job->id, occurred_ms)
    ||  json_object_set_new (obj, "completed_at", json_string (completed))) {
        json_decref (obj);
        return NULL;
    }
    return obj;
}

char *
job_json_accepted (const char *job_id, size_t *len_out)
{
    json_t *obj = json_pack ("{s:s, s:s}", "job_id", job_id, "status", "pending");
    char *text = obj ? render_json_dump (obj, len_out) : NULL;
    json_decref (obj);
    return text;
}
