/*  blob_store.h: image bytes, content addressed by hex sha256.
    The embedded backend writes <data>/blobs/ab/<sha256> (ab = first two hex
    chars) durably: temp file, fsync, rename, fsync of the directory. The
    interface is put/get only, so an S3-compatible backend can replace it.
    Thread: a handle belongs to one thread. Memory: get returns a heap buffer
    the caller frees. */
#ifndef EASEL_BLOB_STORE_H
#define EASEL_BLOB_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct _blob_store_t blob_store_t;

/* Opens the store under data_dir (creating <data_dir>/blobs). NULL with a
   one-line reason in err (256 bytes). */
blob_store_t *blob_store_new (const char *data_dir, char *err);
void blob_store_destroy (blob_store_t **self_p);

/* Stores `data` durably and writes its hex sha256 into sha256 (65 bytes).
   Bytes already stored are not written again. A new shard directory is
   synced into blobs/ before its first file. 0 / -1 (err filled, errno says
   why: ENOSPC when the disk is full; nothing half-written stays). */
int blob_store_put (blob_store_t *self, const void *data, size_t len, char sha256 [65], char *err);

/* Reads the blob named by sha256 (at most max bytes) into a heap buffer.
   NULL with err filled when missing, over max or unreadable. */
void *blob_store_get (blob_store_t *self, const char *sha256, size_t max, size_t *len_out, char *err);

/* Directory fsyncs this handle made (tests: a new shard syncs itself and
   blobs/, a new file its shard). */
unsigned blob_store_dir_syncs (blob_store_t *self);

/* Removes the blob's file (a missing one is fine). 0 / -1. */
int blob_store_delete (blob_store_t *self, const char *sha256);

/* Garbage collection of files no row names: walks shard directory `shard`
   (0..255) and removes each blob file older than older_than_s for which
   known (sha256, arg) returns 0, and stale temp files. Number removed. */
int blob_store_scan_shard (blob_store_t *self, int shard, int64_t older_than_s,
                           int (*known) (const char *sha256, void *arg), void *arg);

#endif
