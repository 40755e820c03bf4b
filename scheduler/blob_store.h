/*  blob_store.h: image bytes, content addressed by hex sha256.
    One interface, two backends behind a table of operations
    (blob_backend_t): the embedded one writes <data>/blobs/ab/<sha256>
    (ab = first two hex chars) durably: temp file, fsync, rename, fsync of
    the directory; the S3 one (blob_s3.h) keeps objects <prefix>ab/<sha256>
    in a bucket of an S3-compatible store. blob_store_open picks one from
    EASEL_BLOB_URL; callers see no difference past opening.
    Thread: a handle belongs to one thread. Memory: get returns a heap buffer
    the caller frees. */
#ifndef EASEL_BLOB_STORE_H
#define EASEL_BLOB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _blob_store_t blob_store_t;

/* What a backend provides; `impl` is its own state. Each operation has the
   contract of the blob_store_ function of the same name. */
typedef struct {
    const char *name;                                 /* "file", "s3" */
    int   (*put) (void *impl, const void *data, size_t len, const char *sha256, char *err);
    void *(*get) (void *impl, const char *sha256, size_t max, size_t *len_out, char *err);
    int   (*del) (void *impl, const char *sha256);
    int   (*scan_shard) (void *impl, int shard, int64_t older_than_s,
                         int (*known) (const char *sha256, void *arg), void *arg);
    void  (*destroy) (void *impl);
    /* NULL when the backend makes no URLs (files) */
    int   (*presign) (void *impl, const char *method, const char *sha256, const char *content_type,
                      bool public_, int64_t expires_s, char *out, size_t size, char *err);
    /* NULL when renderers cannot write to the store themselves (files) */
    int   (*incoming_url) (void *impl, const char *method, const char *name, int64_t expires_s,
                           char *out, size_t size, char *err);
    int   (*incoming_del) (void *impl, const char *name);
    int   (*adopt) (void *impl, const char *name, const char *sha256, int64_t len, const char *md5,
                    char *err);
} blob_backend_t;

/* A store over backend `ops` owning `impl` (destroyed with the store, and
   on failure here). NULL when out of memory. */
blob_store_t *blob_store_wrap (const blob_backend_t *ops, void *impl);

/* Opens the file store under data_dir (creating <data_dir>/blobs). NULL
   with a one-line reason in err (256 bytes). */
blob_store_t *blob_store_new (const char *data_dir, char *err);

/* Opens the store `blob_url` names: NULL or "" is the file store under
   data_dir, "s3://..." the S3 store (blob_s3_new, credentials from the
   environment). NULL with a one-line reason in err (256 bytes); the
   reason never carries a credential. */
blob_store_t *blob_store_open (const char *data_dir, const char *blob_url, char *err);
void blob_store_destroy (blob_store_t **self_p);

/* The backend's name: "file" or "s3". */
const char *blob_store_backend (blob_store_t *self);

/* The backend's own state when the store is of backend ops, else NULL. */
void *blob_store_impl (blob_store_t *self, const blob_backend_t *ops);

/* Stores `data` durably and writes its hex sha256 into sha256 (65 bytes).
   Bytes already stored are not written again. A new shard directory is
   synced into blobs/ before its first file. 0 / -1 (err filled, errno says
   why: ENOSPC when the disk is full; nothing half-written stays). */
int blob_store_put (blob_store_t *self, const void *data, size_t len, char sha256 [65], char *err);

/* Reads the blob named by sha256 (at most max bytes) into a heap buffer.
   NULL with err filled when missing, over max or unreadable. */
void *blob_store_get (blob_store_t *self, const char *sha256, size_t max, size_t *len_out, char *err);

/* Directory fsyncs this handle made (tests: a new shard syncs itself and
   blobs/, a new file its shard); 0 for a backend without directories. */
unsigned blob_store_dir_syncs (blob_store_t *self);

/* Removes the blob's file (a missing one is fine). 0 / -1. */
int blob_store_delete (blob_store_t *self, const char *sha256);

/* A URL that lets a client without credentials send `method` ("GET" or
   "PUT") on the blob's object for expires_s seconds, into out (size
   bytes); content_type (GET only, or NULL) is the Content-Type the store
   will answer with. -1 with err filled when the backend makes no URLs
   (the file store) or the URL cannot be made. */
int blob_store_presign (blob_store_t *self, const char *method, const char *sha256,
                        const char *content_type, int64_t expires_s, char *out, size_t size, char *err);

/* A presigned GET as blob_store_presign makes, for a user's client: made
   for the store's public endpoint when EASEL_BLOB_URL names one
   (public_endpoint=), else for its endpoint. The redirect of GET
   /v1/files/{id}. */
int blob_store_presign_public (blob_store_t *self, const char *sha256, const char *content_type,
                               int64_t expires_s, char *out, size_t size, char *err);

/* Direct writes (an object store): a renderer PUTs a result to a URL made
   here for it, under <prefix>incoming/<name>, and the store adopts it as
   the blob of its sha256, so no image byte passes through the scheduler.
   blob_store_direct: whether this backend can (false for files). */
bool blob_store_direct (blob_store_t *self);

/* The incoming name of a task attempt's result, "<task_id>.<attempt>":
   what the scheduler presigns and later adopts. */
#define BLOB_INCOMING_NAME_MAX 96
void blob_store_incoming_name (const char *task_id, int attempt, char name [BLOB_INCOMING_NAME_MAX]);

/* A presigned PUT of the incoming object `name` ([A-Za-z0-9._-], at most
   80 bytes: the task id and attempt, or an upload's id) for expires_s
   seconds. 0 / -1 with err. */
int blob_store_incoming_url (blob_store_t *self, const char *name, int64_t expires_s,
                             char *out, size_t size, char *err);

/* The same for a DELETE of it: an uploader that could not finish removes
   what it left. */
int blob_store_incoming_delete_url (blob_store_t *self, const char *name, int64_t expires_s,
                                    char *out, size_t size, char *err);

/* Removes the incoming object `name` (a missing one is fine). 0 / -1. */
int blob_store_incoming_delete (blob_store_t *self, const char *name);

/* Makes incoming object `name` the blob sha256: it must be there with
   `len` bytes and the MD5 (hex) the renderer reported as its ETag, or err
   says which differs; then it is copied inside the store to the blob's
   key (unless that blob is already there) and the incoming object removed.
   0 / -1 with err. errno is EBADMSG when the object is missing or not as
   named (then it is removed: it can never be adopted), else the store
   failed (the incoming object is left for the sweep). */
int blob_store_adopt (blob_store_t *self, const char *name, const char *sha256, int64_t len,
                      const char *md5, char *err);

/* Garbage collection of blobs no row names: walks shard `shard` (0..255:
   the directory, or the objects under <prefix>ab/) and removes each blob
   older than older_than_s for which known (sha256, arg) returns 0, and
   stale temp files; shard 0 also removes incoming objects older than
   older_than_s (uploads whose result never came or was stale). Number removed (0 when the shard cannot be read). */
int blob_store_scan_shard (blob_store_t *self, int shard, int64_t older_than_s,
                           int (*known) (const char *sha256, void *arg), void *arg);

#endif
