/*  file_admin.h: the file object of POST /v1/files and GET /v1/files?sha256=
    as the scheduler answers it (PROTO_JSON), built from a job_store_upload_t.
    Thread: the scheduler's state thread (no state of its own). */
#ifndef EASEL_FILE_ADMIN_H
#define EASEL_FILE_ADMIN_H

#include "job_store.h"

/* MIME type of a stored format (an upload, a render image or a capture:
   "image/png", "application/pdf"; octet-stream when unknown). */
const char *file_admin_content_type (const char *format);

/* reply->status = status and reply->json (heap, freed by proto_json_free)
   the file object {"id","object":"file","sha256","bytes","width","height",
   "format","created_at","expires_at"}; rid left alone. 0 / -1 out of memory. */
int file_admin_json (const job_store_upload_t *f, int status, proto_json_t *reply);

#endif
