/*  blob_worker.h: the object store's slow calls off the scheduler's loop.

    With blobs on an S3-compatible store, bytes are written by whoever holds
    them (a renderer its RESULT, a gateway an upload) to an incoming object,
    and the scheduler adopts the object (blob_store_adopt: two HEADs, a copy
    inside the store, a DELETE); its orphan sweep lists the bucket. Those
    round trips would stall every other message of the pass. A blob worker
    is a few threads, each with its own blob store handle: the loop hands a
    job over with the request it belongs to (the peer's identity and the
    body as it came), goes on, and reads the outcome back from
    blob_worker_sock in a later pass, where the request is applied like any
    other. At most BLOB_WORKER_QUEUE_MAX jobs wait (past it, submit refuses
    and the caller does the work inline or answers 503, so nothing is lost).
    Jobs:
      BLOB_JOB_RESULT  adopt the object a RESULT body names (work.c)
      BLOB_JOB_UPLOAD  adopt the object a FILE_PUT body names (api_files.c)
      BLOB_JOB_CREATE  adopt the objects a CREATE_RENDER body's blobs name
                       (api_renders.c); on a failure the rest are removed
      BLOB_JOB_READ    a FILE reply body without its bytes: the answer's body is
                       the same reply with the blob's bytes (at most
                       BLOB_WORKER_READ_MAX), for a GET_FILE streamed through
                       Easel (proxy mode, archives)
      BLOB_JOB_DROP    remove the incoming object the body names (a refused upload)
      BLOB_JOB_LIST    body "<shard 0..255> <age_s>": that shard's blobs older
                       than age_s come back as the answer's body (64 hex each,
                       at most BLOB_WORKER_LIST_MAX; the loop decides which no
                       row names), and shard 0 also removes incoming objects
                       that old (the loop removes the orphans itself, in the
                       pass that checked, so no new row can name one between)
    Thread: the loop calls every function; the worker threads are private.
    Memory: submit copies what it is given; a reply's frames are the
    caller's (zframe_destroy). */
#ifndef EASEL_BLOB_WORKER_H
#define EASEL_BLOB_WORKER_H

#include <czmq.h>
#include "easel_limits.h"
#include <stdbool.h>

#define BLOB_WORKER_QUEUE_MAX 1024     /* jobs waiting at once */
#define BLOB_WORKER_THREADS   4        /* jobs in flight at once (the store's round trips) */
#define BLOB_WORKER_LIST_MAX  8192     /* orphan candidates one LIST answers at most */
#define BLOB_WORKER_READ_MAX  (EASEL_MAX_MSG_BYTES - 64 * 1024)   /* a READ's bytes: room for the envelope */

typedef enum {
    BLOB_JOB_RESULT, BLOB_JOB_UPLOAD, BLOB_JOB_CREATE, BLOB_JOB_READ, BLOB_JOB_DROP, BLOB_JOB_LIST,
    BLOB_JOBS
} blob_job_t;

typedef struct _blob_worker_t blob_worker_t;

/* A worker over its own handles of the store blob_url names (blob_store_open
   with data_dir). NULL with err (256 bytes). */
blob_worker_t *blob_worker_new (const char *data_dir, const char *blob_url, char *err);
void blob_worker_destroy (blob_worker_t **self_p);

/* The socket the loop polls for finished jobs (ZMQ_POLLIN: one is ready). */
zsock_t *blob_worker_sock (blob_worker_t *self);

/* Queues job `kind` for peer `identity` (NULL: none) over `body` (copied).
   0; -1 when the queue is full or the job cannot be sent. */
int blob_worker_submit (blob_worker_t *self, blob_job_t kind, zframe_t *identity, const char *body,
                        size_t len);

/* Reads one finished job: *kind, *identity (empty when submitted without)
   and *body (heap frames, the caller's) as submitted -- for BLOB_JOB_LIST
   the body is the candidates found -- and err "" when it worked, else the
   reason, with *bad true when the named object was missing or not as named
   (removed; the request was at fault, not the store). 0; -1 when nothing
   could be read. */
int blob_worker_recv (blob_worker_t *self, blob_job_t *kind, zframe_t **identity, zframe_t **body,
                      char *err, bool *bad);

/* Jobs submitted and not yet read back; of kind `kind`. */
int blob_worker_pending (blob_worker_t *self);
int blob_worker_pending_kind (blob_worker_t *self, blob_job_t kind);

#endif
