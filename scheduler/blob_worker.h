/*  blob_worker.h: the object store's slow calls off the scheduler's loop.

    With blobs on an S3-compatible store a renderer's RESULT names an object
    it uploaded (proto_result_t.sha256); adopting it (blob_store_adopt: two
    HEADs, a copy inside the store, a DELETE) takes round trips to the store
    that would stall every other message of the pass. A blob worker is one
    thread with its own blob store handle: the loop hands it the RESULT as it
    came (the renderer's identity and the body), goes on, and reads the
    outcome back from blob_worker_sock in a later pass, where the result is
    applied like any other (work.c). Jobs run in order; at most
    BLOB_WORKER_QUEUE_MAX wait (past it, submit refuses and the loop adopts
    inline, so nothing is lost).
    Thread: the loop calls every function; the worker thread is private.
    Memory: submit copies what it is given; a reply's frames are the
    caller's (zmsg_destroy). */
#ifndef EASEL_BLOB_WORKER_H
#define EASEL_BLOB_WORKER_H

#include <czmq.h>
#include <stdbool.h>

#define BLOB_WORKER_QUEUE_MAX 1024     /* adoptions waiting at once */
#define BLOB_WORKER_THREADS   4        /* adoptions in flight at once (the store's round trips) */

typedef struct _blob_worker_t blob_worker_t;

/* A worker over its own handle of the store blob_url names (blob_store_open
   with data_dir). NULL with err (256 bytes). */
blob_worker_t *blob_worker_new (const char *data_dir, const char *blob_url, char *err);
void blob_worker_destroy (blob_worker_t **self_p);

/* The socket the loop polls for finished jobs (ZMQ_POLLIN: one is ready). */
zsock_t *blob_worker_sock (blob_worker_t *self);

/* Queues the adoption of the stored result `body` (a RESULT body whose
   sha256 is set) from renderer `identity`. 0; -1 when the queue is full or
   the job cannot be sent (the caller adopts inline). */
int blob_worker_submit (blob_worker_t *self, zframe_t *identity, const char *body, size_t len);

/* Reads one finished job: *identity and *body (heap frames, the caller's)
   as submitted, and err "" when the object was adopted, else the reason.
   0; -1 when nothing could be read. */
int blob_worker_recv (blob_worker_t *self, zframe_t **identity, zframe_t **body, char *err);

/* Jobs submitted and not yet read back. */
int blob_worker_pending (blob_worker_t *self);

#endif
