/*  job_json.h: the JSON shapes of CONTRACT section 4 (captures and jobs),
    built from the RENDER message of a job (a render whose id is job_... with
    one task whose id is cap_...), so the gateway's answers and the
    scheduler's webhook payloads say the same thing. Returned objects are
    the caller's (json_decref); returned text the caller frees. */
#ifndef EASEL_JOB_JSON_H
#define EASEL_JOB_JSON_H

#include <jansson.h>
#include "proto.h"

/* "pending" | "processing" | "completed" | "failed" for a job's render. */
const char *job_json_status (const proto_render_t *job);

/* The job object of GET /v1/jobs/{id}. NULL on allocation failure. */
json_t *job_json_build (const proto_render_t *job, const char *public_url);

/* The webhook payload: the seed's {"job_id","status":"completed","result":{...}}
   or {"job_id","status":"failed","error":"..."} with type, event_id and
   created_at (the event's time, "YYYY-MM-DD HH:MM:SS" UTC, kept as it was),
   plus the event envelope (render_json_envelope: id = job_id, object "job",
   occurred_at) and completed_at, both ISO 8601 UTC. NULL on allocation failure. */
json_t *job_json_event (const proto_render_t *job, const char *public_url, const char *type,
                        const char *event_id, int64_t occurred_ms);

/* The 202 body {"job_id":"job_...","status":"pending"}. NULL on allocation failure. */
char   *job_json_accepted (const char *job_id, size_t *len_out);

/* "2026-04-27 15:00:00" (UTC) for unix ms into out (>= 20 bytes). */
void    job_json_time (int64_t unix_ms, char *out, size_t size);

#endif
