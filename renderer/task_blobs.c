/*  task_blobs.c: a task's input and result on the object store (see
    task_blobs.h). */
#include "task_blobs.h"
#include "presigned.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inputs read from the store, by sha256: the images of a render share a
   screenshot (one for 40 locales), and a name is its content, so a copy
   serves any task that names it. Least recently used out past the bounds. */
typedef struct {
    char     sha256 [65];
    uint8_t *data;
    size_t   len;
    uint64_t used;                     /* s_cache.clock at the last hit */
} s_entry_t;

static struct {
    pthread_mutex_t lock;
    s_entry_t entries [TASK_BLOBS_CACHE_ENTRIES];
    size_t bytes;
    uint64_t clock, hits, misses;
} s_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A heap copy of the cached input sha256 into *data / *len: true, or false
   when it is not cached (or out of memory). */
static bool
s_cache_get (const char *sha256, uint8_t **data, size_t *len)
{
    bool hit = false;
    pthread_mutex_lock (&s_cache.lock);
    for (int i = 0; i < TASK_BLOBS_CACHE_ENTRIES && !hit; i++) {
        s_entry_t *e = &s_cache.entries [i];
        if (e->data && strcmp (e->sha256, sha256) == 0 && (*data = malloc (e->len ? e->len : 1))) {
            memcpy (*data, e->data, e->len);
            *len = e->len;
            e->used = ++s_cache.clock;
            hit = true;
        }
    }
    if (hit)
        s_cache.hits++;
    else
        s_cache.misses++;
    pthread_mutex_unlock (&s_cache.lock);
    return hit;
}

/* Keeps a copy of data as input sha256, evicting the least recently used
   entries until it fits; an input over the byte bound is not kept. */
static void
s_cache_put (const char *sha256, const uint8_t *data, size_t len)
{
    if (len > TASK_BLOBS_CACHE_BYTES)
        return;
    uint8_t *copy = malloc (len ? len : 1);
    if (!copy)
        return;
    memcpy (copy, data, len);
    pthread_mutex_lock (&s_cache.lock);
    for (;;) {
        int free_slot = -1, oldest = -1;
        for (int i = 0; i < TASK_BLOBS_CACHE_ENTRIES; i++) {
            s_entry_t *e = &s_cache.entries [i];
            if (e->data && strcmp (e->sha256, sha256) == 0) {
                free (copy);             /* another thread kept it meanwhile */
                pthread_mutex_unlock (&s_cache.lock);
                return;
            }
            if (!e->data && free_slot < 0)
                free_slot = i;
            if (e->data && (oldest < 0 || e->used < s_cache.entries [oldest].used))
                oldest = i;
        }
        if (free_slot >= 0 && s_cache.bytes + len <= TASK_BLOBS_CACHE_BYTES) {
            s_entry_t *e = &s_cache.entries [free_slot];
            memcpy (e->sha256, sha256, sizeof e->sha256);
            e->data = copy;
            e->len = len;
            e->used = ++s_cache.clock;
            s_cache.bytes += len;
            break;
        }
        s_entry_t *e = &s_cache.entries [oldest];
        s_cache.bytes -= e->len;
        free (e->data);
        memset (e, 0, sizeof *e);
    }
    pthread_mutex_unlock (&s_cache.lock);
}

void
task_blobs_cache_stats (uint64_t *hits, uint64_t *misses, size_t *bytes)
{
    pthread_mutex_lock (&s_cache.lock);
    *hits = s_cache.hits;
    *misses = s_cache.misses;
    *bytes = s_cache.bytes;
    pthread_mutex_unlock (&s_cache.lock);
}

static void
s_why (render_error_t *why, const char *code, const char *message)
{
    snprintf (why->code, sizeof why->code, "%s", code);
    snprintf (why->message, sizeof why->message, "%s", message);
    why->param [0] = '\0';
    why->retryable = true;
}

/* GETs url into *data / *len when its bytes hash to want, and names them
   sha256 (what the scheduler would have attached). 0, or -1 with why
   saying which input (`what`) could not be read. */
static int
s_fetch_one (const char *url, const char *want, const char *what, uint8_t **data, size_t *len,
             char sha256 [65], render_error_t *why)
{
    if (s_cache_get (want, data, len)) {
        memcpy (sha256, want, 65);
        return 0;
    }
    presigned_answer_t sink = { .max = EASEL_MAX_SOURCE_BYTES };
    char err [PROTO_ERR_MAX] = "", msg [PROTO_ERR_MAX + 64], got [65] = "";
    long status = presigned_request ("GET", url, NULL, 0, NULL, TASK_BLOBS_CONNECT_TIMEOUT_MS,
                                     TASK_BLOBS_TIMEOUT_MS, &sink, err);
    if (status == 200)
        util_sha256_hex (sink.body ? sink.body : (uint8_t *) "", sink.len, got);
    if (status == 200 && strcmp (got, want) == 0) {
        *data = sink.body ? sink.body : calloc (1, 1);
        *len = sink.len;
        if (!*data) {
            s_why (why, "blob_missing", "out of memory");
            return -1;
        }
        s_cache_put (want, *data, *len);
        memcpy (sha256, want, 65);
        return 0;
    }
    presigned_answer_free (&sink);
    if (status == 200)
        snprintf (msg, sizeof msg, "the %s %.16s read from the store hashes to %.16s", what, want, got);
    else
    if (status > 0)
        snprintf (msg, sizeof msg, "the store answered HTTP %ld for the %s %.16s", status, what, want);
    else
        snprintf (msg, sizeof msg, "cannot read the %s %.16s from the store: %s", what, want, err);
    s_why (why, "blob_missing", msg);
    return -1;
}

int
task_blobs_fetch (proto_task_t *task, render_error_t *why)
{
    if (task->blob_url && !task->blob_sha256 [0]
    &&  s_fetch_one (task->blob_url, task->blob_url_sha256, "screenshot", &task->blob, &task->blob_len,
                     task->blob_sha256, why))
        return -1;
    if (task->bg_blob_url && !task->bg_blob_sha256 [0]
    &&  s_fetch_one (task->bg_blob_url, task->bg_blob_url_sha256, "background", &task->bg_blob,
                     &task->bg_blob_len, task->bg_blob_sha256, why))
        return -1;
    return 0;
}

int
task_blobs_put_result (const proto_task_t *task, msgpack_sbuffer *out, render_error_t *why)
{
    if (!task->put_url)
        return 0;
    proto_result_t res;
    memset (&res, 0, sizeof res);
    char err [PROTO_ERR_MAX] = "", msg [PROTO_ERR_MAX + 64];
    if (proto_result_decode (out->data, out->size, &res, err)) {
        snprintf (msg, sizeof msg, "cannot read back the result: %s", err);
        s_why (why, "result_upload_failed", msg);
        proto_result_free (&res);
        return -1;
    }
    char b64 [25];
    if (presigned_md5 (res.data, res.len, res.md5, b64)) {
        s_why (why, "result_upload_failed", "cannot compute the result's MD5");
        proto_result_free (&res);
        return -1;
    }
    presigned_answer_t sink = { .max = 16384, .truncate = true };    /* an error answer, dropped */
    long status = presigned_request ("PUT", task->put_url, res.data ? (const void *) res.data : "", res.len,
                                     b64, TASK_BLOBS_CONNECT_TIMEOUT_MS, TASK_BLOBS_TIMEOUT_MS, &sink, err);
    presigned_answer_free (&sink);
    int rc = -1;
    if (status == 200) {
        util_sha256_hex (res.data ? res.data : (uint8_t *) "", res.len, res.sha256);
        res.bytes = (int64_t) res.len;
        free (res.data);
        res.data = NULL;
        res.len = 0;
        msgpack_sbuffer again;
        msgpack_sbuffer_init (&again);
        if (proto_result_encode (&res, &again) == 0) {
            msgpack_sbuffer_destroy (out);
            *out = again;
            rc = 0;
        }
        else {
            msgpack_sbuffer_destroy (&again);
            s_why (why, "result_upload_failed", "cannot encode the stored result");
        }
    }
    else {
        if (status > 0)
            snprintf (msg, sizeof msg, "the store answered HTTP %ld to the result's upload", status);
        else
            snprintf (msg, sizeof msg, "cannot upload the result to the store: %s", err);
        s_why (why, "result_upload_failed", msg);
    }
    proto_result_free (&res);
    return rc;
}
