/*  render_event.c: the final status and event of a finished render (see
    render_event.h). The payload bytes a webhook receiver gets are those of
    the render object (render_json_build) with the event envelope
    (render_json_envelope: type, event_id, occurred_at; no webhook_status);
    a capture job's are job_json_event's.
    A review decision's event (render_event_review) carries the same object,
    its review filled in.
    Thread: the scheduler's loop. Memory: the payload lives only inside
    render_event_settle. */
#include "render_event.h"
#include "job_json.h"
#include "render_json.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The payload of a delivered event: malloc'd JSON text, NULL when out of memory. */
static char *
s_payload (const proto_render_t *r, const char *public_url, const char *type,
           const char *event_id, int64_t now_ms)
{
    json_t *obj = NULL;
    if (strncmp (r->id, "job_", 4) == 0)
        obj = job_json_event (r, public_url, type, event_id, now_ms);
    else {
        /* the render object keeps its own created_at; the event's time is occurred_at */
        obj = render_json_build (r, public_url);
        if (obj && render_json_envelope (obj, type, event_id, "render", r->id, now_ms)) {
            json_decref (obj);
            obj = NULL;
        }
    }
    char *payload = obj ? render_json_dump (obj, NULL) : NULL;
    json_decref (obj);
    return payload;
}

/* Writes out's event for r (its payload only when r has a webhook_url, for
   the outbox row the same transaction adds). 0 / -1 with err. */
static int
s_event_write (job_store_t *store, const proto_render_t *r, const char *public_url, int64_t now_ms,
               render_event_t *out, char *err)
{
    char *payload = NULL;
    if (r->webhook_url && !(payload = s_payload (r, public_url, out->type, out->event_id, now_ms))) {
        snprintf (err, PROTO_ERR_MAX, "out of memory");
        return -1;
    }
    int rc = job_store_event_add (store, out->event_id, out->type, r->account_id, r->id, now_ms,
                                  payload, r->webhook_url, &out->seq, err);
    out->delivery = r->webhook_url != NULL;
    free (payload);
    return rc;
}

int
render_event_settle (job_store_t *store, const char *render_id, const char *public_url,
                     int64_t now_ms, render_event_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    proto_render_t r;
    memset (&r, 0, sizeof r);
    if (job_store_render_complete (store, render_id, now_ms, err)
    ||  job_store_render_head (store, render_id, &r, err))
        goto fail;
    if (proto_id_new ("evt_", out->event_id, sizeof out->event_id)) {
        snprintf (err, PROTO_ERR_MAX, "cannot make an event id");
        goto fail;
    }
    bool job = strncmp (r.id, "job_", 4) == 0;
    snprintf (out->type, sizeof out->type, "render.%.32s", r.status);
    if (job)
        snprintf (out->type, sizeof out->type, "job.%s",
                  strcmp (r.status, "succeeded") == 0 ? "completed" : "failed");
    snprintf (out->status, sizeof out->status, "%s", r.status);
    if (r.webhook_url) {
        /* the whole object, images and signed URLs, only for a receiver */
        proto_render_free (&r);
        memset (&r, 0, sizeof r);
        if (job_store_render_get (store, render_id, NULL, now_ms, &r, err))
            goto fail;
    }
    int rc = s_event_write (store, &r, public_url, now_ms, out, err);
    proto_render_free (&r);
    return rc;
fail:
    proto_render_free (&r);
    return -1;
}

int
render_event_review (job_store_t *store, const char *render_id, const char *public_url,
                     int64_t now_ms, render_event_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    proto_render_t r;
    memset (&r, 0, sizeof r);
    if (job_store_render_get (store, render_id, NULL, now_ms, &r, err))
        goto fail;
    if (proto_id_new ("evt_", out->event_id, sizeof out->event_id)) {
        snprintf (err, PROTO_ERR_MAX, "cannot make an event id");
        goto fail;
    }
    snprintf (out->type, sizeof out->type, "render.%.32s", r.review_status);
    snprintf (out->status, sizeof out->status, "%s", r.review_status);
    int rc = s_event_write (store, &r, public_url, now_ms, out, err);
    proto_render_free (&r);
    return rc;
fail:
    proto_render_free (&r);
    return -1;
}
