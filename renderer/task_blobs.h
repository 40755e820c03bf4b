/*  task_blobs.h: a task's image bytes on the object store. With blobs on an
    S3-compatible store the scheduler sends no bytes: a TASK names its input
    blob by a presigned GET (blob_url, blob_url_sha256) and its result by a
    presigned PUT (put_url). These calls read the one and write the other
    with libcurl, so image bytes cross neither the bus nor the scheduler.
    The URLs come from the scheduler over the authenticated bus and name the
    operator's store, so they are not held to the capture egress rule; they
    are never logged (their query is a signature).
    Thread: any worker thread. Memory: the task's blob becomes the task's
    (freed by proto_task_free); out is the caller's. */
#ifndef EASEL_TASK_BLOBS_H
#define EASEL_TASK_BLOBS_H

#include <msgpack.h>
#include "proto.h"
#include "slide_render.h"

#define TASK_BLOBS_CONNECT_TIMEOUT_MS 3000
#define TASK_BLOBS_TIMEOUT_MS         30000
#define TASK_BLOBS_CACHE_BYTES        (32u * 1024 * 1024)   /* inputs kept, by sha256 */
#define TASK_BLOBS_CACHE_ENTRIES      32

/* When task has a blob_url and no attached blob: GETs it (at most
   EASEL_MAX_SOURCE_BYTES), checks its sha256 against blob_url_sha256 and
   attaches it as if the scheduler had sent it (blob, blob_len,
   blob_sha256); the same for bg_blob_url (the background). An input read
   before is served from a process-wide cache by its sha256 (its name is its
   content), at most TASK_BLOBS_CACHE_BYTES, least recently used out. 0 (also when there is nothing to fetch); -1 with why
   (code "blob_missing", retryable). */
int task_blobs_fetch (proto_task_t *task, render_error_t *why);

/* Inputs served from the process's cache (a render's images share their
   screenshot: it is read from the store once), read from the store, and
   the bytes kept now. */
void task_blobs_cache_stats (uint64_t *hits, uint64_t *misses, size_t *bytes);

/* When task has a put_url and out holds a RESULT: PUTs the image to it
   (with Content-MD5, so the store checks the bytes) and rewrites out as the
   same RESULT naming sha256, bytes and md5 instead of carrying the data.
   0 (also when there is nothing to put); -1 with why (code
   "result_upload_failed", retryable), out unchanged. */
int task_blobs_put_result (const proto_task_t *task, msgpack_sbuffer *out, render_error_t *why);

#endif
