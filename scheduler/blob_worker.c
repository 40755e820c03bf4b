/*  blob_worker.c: the object store's round trips on threads of their own
    (see blob_worker.h). The loop sends "JOB" kind identity body on a
    thread's actor pipe; the thread answers "DONE" index kind identity body
    reason bad on the shared PULL socket the loop polls.
    Thread: the actor's for s_actor and the s_job_ functions, the loop's
    for the rest. */
#include "blob_worker.h"
#include "blob_store.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ERR_MAX 256

struct _blob_worker_t {
    zactor_t *actors [BLOB_WORKER_THREADS];
    int pending [BLOB_WORKER_THREADS];   /* jobs sent to each and not yet read back */
    int npending;
    int by_kind [BLOB_JOBS];
    zsock_t *done;                       /* PULL: every thread's answers */
};

typedef struct {
    const char *data_dir, *blob_url;
    char done [64];                      /* the endpoint answers go to */
    int index;
    char err [S_ERR_MAX];
} s_args_t;

/* What one job found: err "" or the reason; bad when the request was at
   fault; out, when set, replaces the answer's body. */
typedef struct {
    char err [S_ERR_MAX];
    bool bad;
    zframe_t *out;
} s_outcome_t;

static void
s_adopted (blob_store_t *blobs, const char *name, const char *sha256, int64_t bytes, const char *md5,
           s_outcome_t *o)
{
    char why [S_ERR_MAX] = "";
    errno = 0;
    if (blob_store_adopt (blobs, name, sha256, bytes, md5, why)) {
        o->bad = errno == EBADMSG;
        snprintf (o->err, S_ERR_MAX, "%s", why);
    }
}

/* The result in body, adopted. */
static void
s_job_result (blob_store_t *blobs, zframe_t *body, s_outcome_t *o)
{
    proto_result_t res;
    memset (&res, 0, sizeof res);
    char why [PROTO_ERR_MAX] = "";
    if (proto_result_decode ((const char *) zframe_data (body), zframe_size (body), &res, why))
        snprintf (o->err, S_ERR_MAX, "the result does not decode: %s", why);
    else
    if (!res.sha256 [0])
        snprintf (o->err, S_ERR_MAX, "the result names no stored object");
    else {
        char name [BLOB_INCOMING_NAME_MAX];
        blob_store_incoming_name (res.task_id, (int) res.attempt, name);
        s_adopted (blobs, name, res.sha256, res.bytes, res.md5, o);
    }
    proto_result_free (&res);
}

/* The upload a FILE_PUT body names, adopted. */
static void
s_job_upload (blob_store_t *blobs, zframe_t *body, s_outcome_t *o)
{
    proto_file_put_t put;
    memset (&put, 0, sizeof put);
    char why [PROTO_ERR_MAX] = "";
    if (proto_file_put_decode ((const char *) zframe_data (body), zframe_size (body), &put, why))
        snprintf (o->err, S_ERR_MAX, "the upload does not decode: %s", why);
    else
    if (!put.name [0])
        snprintf (o->err, S_ERR_MAX, "the upload names no stored object");
    else
        s_adopted (blobs, put.name, put.sha256, put.bytes, put.md5, o);
    proto_file_put_free (&put);
}

/* The inline images a create names, adopted in order; after a failure the
   ones not yet adopted are removed (the create is refused). */
static void
s_job_create (blob_store_t *blobs, zframe_t *body, s_outcome_t *o)
{
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    char why [PROTO_ERR_MAX] = "";
    if (proto_create_render_decode ((const char *) zframe_data (body), zframe_size (body), &req, why))
        snprintf (o->err, S_ERR_MAX, "the create does not decode: %s", why);
    for (int32_t i = 0; !o->err [0] && i < req.nblobs; i++) {
        const proto_blob_t *b = &req.blobs [i];
        if (b->name [0])
            s_adopted (blobs, b->name, b->sha256, b->bytes, b->md5, o);
        if (o->err [0])
            for (int32_t j = i + 1; j < req.nblobs; j++)
                if (req.blobs [j].name [0])
                    blob_store_incoming_delete (blobs, req.blobs [j].name);
    }
    proto_create_render_free (&req);
}

/* A FILE reply filled with its blob's bytes. */
static void
s_job_read (blob_store_t *blobs, zframe_t *body, s_outcome_t *o)
{
    proto_file_t f;
    memset (&f, 0, sizeof f);
    char why [PROTO_ERR_MAX] = "";
    if (proto_file_decode ((const char *) zframe_data (body), zframe_size (body), &f, why)) {
        snprintf (o->err, S_ERR_MAX, "the file reply does not decode: %s", why);
        return;
    }
    free (f.data);
    f.data = blob_store_get (blobs, f.sha256, BLOB_WORKER_READ_MAX, &f.len, why);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (!f.data)
        snprintf (o->err, S_ERR_MAX, "%s", why);
    else
    if (proto_file_encode (&f, &sb) || !(o->out = zframe_new (sb.data, sb.size)))
        snprintf (o->err, S_ERR_MAX, "cannot encode the file reply");
    msgpack_sbuffer_destroy (&sb);
    proto_file_free (&f);
}

/* Body: an incoming name, removed. */
static void
s_job_drop (blob_store_t *blobs, zframe_t *body, s_outcome_t *o)
{
    char name [BLOB_INCOMING_NAME_MAX];
    size_t n = zframe_size (body);
    if (n == 0 || n >= sizeof name)
        snprintf (o->err, S_ERR_MAX, "a drop without a name");
    else {
        memcpy (name, zframe_data (body), n);
        name [n] = 0;
        if (blob_store_incoming_delete (blobs, name))
            snprintf (o->err, S_ERR_MAX, "cannot remove incoming %.80s", name);
    }
}

typedef struct {
    char *names;                         /* 64 hex each, no separator */
    size_t n, cap;                       /* names held, room for (both in names) */
} s_found_t;

/* The sweep's callback: every blob old enough is a candidate; none is
   removed here (the loop asks its rows which are orphans). */
static int
s_collect (const char *sha256, void *arg)
{
    s_found_t *f = arg;
    if (f->n < BLOB_WORKER_LIST_MAX
    &&  util_grow ((void **) &f->names, &f->cap, f->n, 64) == 0) {
        memcpy (f->names + f->n * 64, sha256, 64);
        f->n++;
    }
    return 1;
}

static void
s_job_list (blob_store_t *blobs, zframe_t *body, s_outcome_t *o)
{
    char text [32];
    size_t n = zframe_size (body);
    int shard = -1;
    long long age = -1;
    if (n < sizeof text) {
        memcpy (text, zframe_data (body), n);
        text [n] = 0;
        if (sscanf (text, "%d %lld", &shard, &age) != 2)
            shard = -1;
    }
    if (shard < 0 || shard > 255 || age < 0) {
        snprintf (o->err, S_ERR_MAX, "a list job names no shard and age");
        return;
    }
    s_found_t found = { 0 };
    blob_store_scan_shard (blobs, shard, age, s_collect, &found);
    o->out = zframe_new (found.names ? found.names : "", found.n * 64);
    free (found.names);
}

static void (*const s_jobs [BLOB_JOBS]) (blob_store_t *, zframe_t *, s_outcome_t *) = {
    [BLOB_JOB_RESULT] = s_job_result, [BLOB_JOB_UPLOAD] = s_job_upload, [BLOB_JOB_CREATE] = s_job_create,
    [BLOB_JOB_READ] = s_job_read, [BLOB_JOB_DROP] = s_job_drop,
    [BLOB_JOB_LIST] = s_job_list,
};

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
        char *kind_s = term ? NULL : zmsg_popstr (msg);
        zframe_t *identity = term ? NULL : zmsg_pop (msg);
        zframe_t *body = term ? NULL : zmsg_pop (msg);
        free (verb);
        zmsg_destroy (&msg);
        if (term)
            break;
        int64_t kind = -1;
        s_outcome_t o = { .err = "" };
        if (!kind_s || util_parse_i64 (kind_s, 0, BLOB_JOBS - 1, &kind) || !identity || !body)
            snprintf (o.err, sizeof o.err, "a job without its kind or frames");
        else
            s_jobs [kind] (blobs, body, &o);
        if (o.out) {
            zframe_destroy (&body);
            body = o.out;
        }
        if (!identity)
            identity = zframe_new_empty ();
        if (!body)
            body = zframe_new_empty ();
        zmsg_t *done = zmsg_new ();
        zmsg_addstr (done, "DONE");
        zmsg_addstrf (done, "%d", index);
        zmsg_addstr (done, kind_s ? kind_s : "-1");
        zmsg_append (done, &identity);
        zmsg_append (done, &body);
        zmsg_addstr (done, o.err);
        zmsg_addstr (done, o.bad ? "1" : "0");
        free (kind_s);
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
blob_worker_submit (blob_worker_t *self, blob_job_t kind, zframe_t *identity, const char *body,
                    size_t len)
{
    if (self->npending >= BLOB_WORKER_QUEUE_MAX || kind < 0 || kind >= BLOB_JOBS)
        return -1;
    int to = 0;                          /* the thread with the fewest jobs */
    for (int i = 1; i < BLOB_WORKER_THREADS; i++)
        if (self->pending [i] < self->pending [to])
            to = i;
    zmsg_t *msg = zmsg_new ();
    if (!msg)
        return -1;
    zframe_t *id = identity ? zframe_dup (identity) : zframe_new_empty ();
    zframe_t *data = zframe_new (body, len);
    int rc = zmsg_addstr (msg, "JOB") || zmsg_addstrf (msg, "%d", (int) kind) || !id || !data
          || zmsg_append (msg, &id) || zmsg_append (msg, &data) ? -1 : 0;
    zframe_destroy (&id);
    zframe_destroy (&data);
    if (rc == 0)
        rc = zmsg_send (&msg, zactor_sock (self->actors [to]));
    zmsg_destroy (&msg);
    if (rc == 0) {
        self->pending [to]++;
        self->npending++;
        self->by_kind [kind]++;
    }
    return rc;
}

int
blob_worker_recv (blob_worker_t *self, blob_job_t *kind, zframe_t **identity, zframe_t **body,
                  char *err, bool *bad)
{
    *identity = *body = NULL;
    *bad = false;
    zmsg_t *msg = zmsg_recv (self->done);
    if (!msg)
        return -1;
    char *verb = zmsg_popstr (msg);
    char *index = zmsg_popstr (msg);
    char *kind_s = zmsg_popstr (msg);
    *identity = zmsg_pop (msg);
    *body = zmsg_pop (msg);
    char *why = zmsg_popstr (msg);
    char *bad_s = zmsg_popstr (msg);
    int64_t i = -1, k = -1;
    bool ok = verb && strcmp (verb, "DONE") == 0 && index && kind_s
           && util_parse_i64 (index, 0, BLOB_WORKER_THREADS - 1, &i) == 0
           && util_parse_i64 (kind_s, 0, BLOB_JOBS - 1, &k) == 0
           && *identity && *body && why && bad_s;
    if (ok) {
        self->pending [i]--;
        self->npending--;
        self->by_kind [k]--;
        *kind = (blob_job_t) k;
        *bad = strcmp (bad_s, "1") == 0;
    }
    snprintf (err, S_ERR_MAX, "%s", ok ? why : "a malformed answer from the blob worker");
    free (verb);
    free (index);
    free (kind_s);
    free (why);
    free (bad_s);
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

int
blob_worker_pending_kind (blob_worker_t *self, blob_job_t kind)
{
    return kind >= 0 && kind < BLOB_JOBS ? self->by_kind [kind] : 0;
}
