/*  blob_worker.c: adoptions of renderer uploads on threads of their own
    (see blob_worker.h). The loop sends "ADOPT" identity body on a thread's
    actor pipe; the thread answers "DONE" index identity body reason on the
    shared PULL socket the loop polls.
    Thread: the actor's for s_actor, the loop's for the rest. */
#include "blob_worker.h"
#include "blob_store.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ERR_MAX 256

struct _blob_worker_t {
    zactor_t *actors [BLOB_WORKER_THREADS];
    int pending [BLOB_WORKER_THREADS];   /* jobs sent to each and not yet read back */
    int npending;
    zsock_t *done;                       /* PULL: every thread's answers */
};

typedef struct {
    const char *data_dir, *blob_url;
    char done [64];                      /* the endpoint answers go to */
    int index;
    char err [S_ERR_MAX];
} s_args_t;

/* Adopts the result in body with blobs; err "" on success. */
static void
s_adopt (blob_store_t *blobs, zframe_t *body, char *err)
{
    proto_result_t res;
    memset (&res, 0, sizeof res);
    char why [PROTO_ERR_MAX] = "";
    if (proto_result_decode ((const char *) zframe_data (body), zframe_size (body), &res, why))
        snprintf (err, S_ERR_MAX, "the result does not decode: %s", why);
    else
    if (!res.sha256 [0])
        snprintf (err, S_ERR_MAX, "the result names no stored object");
    else {
        char name [BLOB_INCOMING_NAME_MAX];
        blob_store_incoming_name (res.task_id, (int) res.attempt, name);
        if (blob_store_adopt (blobs, name, res.sha256, res.bytes, res.md5, why))
            snprintf (err, S_ERR_MAX, "%s", why);
    }
    proto_result_free (&res);
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = arg;
    int index = args->index;
    blob_store_t *blobs = blob_store_open (args->data_dir, args->blob_url, args->err);
    zsock_t *push = blobs ? zsock_new_push (args->done) : NULL;
    if (blobs && !push)
        snprintf (args->err, sizeof args->err, "cannot connect to the blob worker's answers");
    zsock_signal (pipe, push ? 0 : 1);
    if (!push) {
        blob_store_destroy (&blobs);
        return;
    }
    while (!zsys_interrupted) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        char *verb = zmsg_popstr (msg);
        bool term = !verb || strcmp (verb, "$TERM") == 0;
        zframe_t *identity = term ? NULL : zmsg_pop (msg);
        zframe_t *body = term ? NULL : zmsg_pop (msg);
        free (verb);
        zmsg_destroy (&msg);
        if (term) {
            zframe_destroy (&identity);
            break;
        }
        char err [S_ERR_MAX] = "";
        if (!identity || !body)
            snprintf (err, sizeof err, "a job without its frames");
        else
            s_adopt (blobs, body, err);
        if (!identity)
            identity = zframe_new_empty ();
        if (!body)
            body = zframe_new_empty ();
        zmsg_t *done = zmsg_new ();
        zmsg_addstr (done, "DONE");
        zmsg_addstrf (done, "%d", index);
        zmsg_append (done, &identity);
        zmsg_append (done, &body);
        zmsg_addstr (done, err);
        if (zmsg_send (&done, push) != 0)
            zmsg_destroy (&done);
    }
    zsock_destroy (&push);
    blob_store_destroy (&blobs);
}

blob_worker_t *
blob_worker_new (const char *data_dir, const char *blob_url, char *err)
{
    blob_worker_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, S_ERR_MAX, "out of memory");
        return NULL;
    }
    s_args_t args = { .data_dir = data_dir, .blob_url = blob_url };
    snprintf (args.done, sizeof args.done, "inproc://easel-blob-done-%p", (void *) self);
    self->done = zsock_new_pull (args.done);
    if (!self->done) {
        snprintf (err, S_ERR_MAX, "cannot bind the blob worker's answers");
        free (self);
        return NULL;
    }
    for (int i = 0; i < BLOB_WORKER_THREADS; i++) {
        args.index = i;
        /* zactor_new waits for the actor's signal: args outlive their use */
        self->actors [i] = zactor_new (s_actor, &args);
        if (!self->actors [i]) {
            snprintf (err, S_ERR_MAX, "%s", args.err [0] ? args.err : "cannot start the blob worker");
            blob_worker_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
blob_worker_destroy (blob_worker_t **self_p)
{
    blob_worker_t *self = *self_p;
    if (!self)
        return;
    for (int i = 0; i < BLOB_WORKER_THREADS; i++)
        zactor_destroy (&self->actors [i]);
    zsock_destroy (&self->done);
    free (self);
    *self_p = NULL;
}

zsock_t *
blob_worker_sock (blob_worker_t *self)
{
    return self->done;
}

int
blob_worker_submit (blob_worker_t *self, zframe_t *identity, const char *body, size_t len)
{
    if (self->npending >= BLOB_WORKER_QUEUE_MAX)
        return -1;
    int to = 0;                          /* the thread with the fewest jobs */
    for (int i = 1; i < BLOB_WORKER_THREADS; i++)
        if (self->pending [i] < self->pending [to])
            to = i;
    zmsg_t *msg = zmsg_new ();
    if (!msg)
        return -1;
    zframe_t *id = zframe_dup (identity);
    zframe_t *data = zframe_new (body, len);
    int rc = zmsg_addstr (msg, "ADOPT") || !id || !data
          || zmsg_append (msg, &id) || zmsg_append (msg, &data) ? -1 : 0;
    zframe_destroy (&id);
    zframe_destroy (&data);
    if (rc == 0)
        rc = zmsg_send (&msg, zactor_sock (self->actors [to]));
    zmsg_destroy (&msg);
    if (rc == 0) {
        self->pending [to]++;
        self->npending++;
    }
    return rc;
}

int
blob_worker_recv (blob_worker_t *self, zframe_t **identity, zframe_t **body, char *err)
{
    *identity = *body = NULL;
    zmsg_t *msg = zmsg_recv (self->done);
    if (!msg)
        return -1;
    char *verb = zmsg_popstr (msg);
    char *index = zmsg_popstr (msg);
    *identity = zmsg_pop (msg);
    *body = zmsg_pop (msg);
    char *why = zmsg_popstr (msg);
    int64_t i = -1;
    bool ok = verb && strcmp (verb, "DONE") == 0 && index
           && util_parse_i64 (index, 0, BLOB_WORKER_THREADS - 1, &i) == 0
           && *identity && *body && why;
    if (ok) {
        self->pending [i]--;
        self->npending--;
    }
    snprintf (err, S_ERR_MAX, "%s", ok ? why : "a malformed answer from the blob worker");
    free (verb);
    free (index);
    free (why);
    zmsg_destroy (&msg);
    if (!ok) {
        zframe_destroy (identity);
        zframe_destroy (body);
        return -1;
    }
    return 0;
}

int
blob_worker_pending (blob_worker_t *self)
{
    return self->npending;
}
