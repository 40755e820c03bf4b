/*  job_kind.h: the two kinds of job Easel runs, described once.

    A render (POST /v1/renders, ids rnd_) draws store images from slides; a
    capture job (POST /v1/capture, ids job_) shoots a web page. Both travel
    as a proto_create_render_t and come back as a proto_render_t, so the
    services are written over a job_kind_t rather than twice: its id prefix
    and noun, the idempotency scope of its create, its bus command and the
    event type prefix of its settled events. What only one service needs
    (the gateway's body parser and JSON shape, the scheduler's price and task
    builder) hangs off this table in that service, indexed by kind.
    Thread: any (read-only data). */
#ifndef EASEL_JOB_KIND_H
#define EASEL_JOB_KIND_H

typedef enum {
    JOB_RENDER = 0,
    JOB_CAPTURE,
    JOB_KINDS
} job_kind_id_t;

typedef struct {
    job_kind_id_t kind;
    const char   *noun;          /* "render" / "job": what errors call one */
    const char   *prefix;        /* "rnd_" / "job_" */
    const char   *create_scope;  /* the Idempotency-Key scope of its create */
    int           create_cmd;    /* PROTO_CREATE_RENDER / PROTO_CREATE_CAPTURE */
    const char   *event_prefix;  /* "render." / "job." */
} job_kind_t;

extern const job_kind_t job_kinds [JOB_KINDS];

/* The kind whose ids `id` starts like, or NULL. */
const job_kind_t *job_kind_of_id (const char *id);

#endif
