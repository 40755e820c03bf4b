/*  api_renders.h: renders and capture jobs on the api socket:
    CREATE_RENDER, CREATE_CAPTURE, GET_RENDER (by key or by a review link),
    LIST_RENDERS and CANCEL_RENDER. Each answers the RENDER object (or the
    list), or an ERROR; a create answers 402 insufficient_credits, 403
    storage_quota_exceeded, 422 file_not_found or 507 insufficient_storage
    before anything is written. A render whose inline images the gateway
    PUT to the object store itself (named blobs) is applied once the blob
    worker adopted them (api_renders_create_adopted: 502 upload_corrupted
    when one is not the bytes named). A cancel also queues CANCEL_TASKS to the
    renderers drawing its tasks and settles the render in the same pass.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_RENDERS_H
#define EASEL_API_RENDERS_H

#include "api.h"
#include "job_kind.h"

/* CREATE_RENDER / CREATE_CAPTURE: one handler over the job kinds. */
void api_renders_create (scheduler_t *self, job_kind_id_t kind, zframe_t *identity,
                         const char *data, size_t len);
/* The blob worker's answer to a create whose inline images it adopted (why
   "" done, else the reason; bad: an object was missing or not as named). */
void api_renders_create_adopted (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                                 const char *why, bool bad);
void api_renders_get (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_renders_list (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_renders_cancel (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
