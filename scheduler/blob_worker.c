/*  blob_worker.c: adoptions of renderer uploads on a thread of their own
    (see blob_worker.h). The loop and the thread speak over the actor's
    pipe: "ADOPT" identity body -> "DONE" identity body reason.
    Thread: the actor's for s_actor, the loop's for the rest. */
#include "blob_worker.h"
#include "blob_store.h"
#include "log.h"
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ERR_MAX 256

struct _blob_worker_t {
    zactor_t *actor;
    int pending;
};

typedef struct {
    const char *data_dir, *blob_url;
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
        char name [PROTO_ID_MAX + 16];
        snprintf (name, sizeof name, "%s.%d", res.task_id, (int) res.attempt);
        if (blob_store_adopt (blobs, name, res.sha256, res.bytes, res.md5, why))
            snprintf (err, S_ERR_MAX, "%s", why);
    }
    proto_result_free (&res);
}

static void
s_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = arg;
    blob_store_t *blobs = blob_store_open (args->data_dir, args->blob_url, args->err);
    zsock_signal (pipe, blobs ? 0 : 1);
    if (!blobs)
        return;
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
        zmsg_append (done, &identity);
        zmsg_append (done, &body);
        zmsg_addstr (done, err);
        if (zmsg_send (&done, pipe) != 0)
            zmsg_destroy (&done);
    }
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
    /* zactor_new waits for the actor's signal: args outlive their use */
    self->actor = zactor_new (s_actor, &args);
    if (!self->actor) {
        snprintf (err, S_ERR_MAX, "%s", args.err [0] ? args.err : "cannot start the blob worker");
        free (self);
        return NULL;
    }
    return self;
}

void
blob_worker_destroy (blob_worker_t **self_p)
{
    blob_worker_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}

zsock_t *
blob_worker_sock (blob_worker_t *self)
{
    return zactor_sock (self->actor);
}

int
blob_worker_submit (blob_worker_t *self, zframe_t *identity, const char *body, size_t len)
{
    if (self->pending >= BLOB_WORKER_QUEUE_MAX)
        return -1;
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
        rc = zmsg_send (&msg, zactor_sock (self->actor));
    zmsg_destroy (&msg);
    if (rc == 0)
        self->pending++;
    return rc;
}

int
blob_worker_recv (blob_worker_t *self, zframe_t **identity, zframe_t **body, char *err)
{
    *identity = *body = NULL;
    zmsg_t *msg = zmsg_recv (zactor_sock (self->actor));
    if (!msg)
        return -1;
    self->pending--;
    char *verb = zmsg_popstr (msg);
    *identity = zmsg_pop (msg);
    *body = zmsg_pop (msg);
    char *why = zmsg_popstr (msg);
    bool ok = verb && strcmp (verb, "DONE") == 0 && *identity && *body && why;
    snprintf (err, S_ERR_MAX, "%s", ok ? why : "a malformed answer from the blob worker");
    free (verb);
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
    return self->pending;
}
