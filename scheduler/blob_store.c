/*  blob_store.c: the blob store's dispatch over its backends, and the file
    backend: content-addressed files under <data>/blobs (see blob_store.h).
    Thread: the owner's. Memory: the handle owns its backend's state; get's
    buffer is the caller's. */
#include "blob_store.h"
#include "blob_s3.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <time.h>

#define S_ERR_MAX  256
#define S_PATH_MAX 4096

struct _blob_store_t {
    const blob_backend_t *ops;
    void *impl;
};

typedef struct {
    char root [S_PATH_MAX];        /* <data>/blobs */
    unsigned tmp_counter;          /* makes temp names unique within the process */
    unsigned dir_syncs;            /* directory fsyncs done (blob_store_dir_syncs) */
} s_file_t;

/* fsyncs directory `path`, so entries created in it survive power loss. */
static int
s_sync_dir (s_file_t *self, const char *path, char *err)
{
    if (self)
        self->dir_syncs++;
    int dfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync (dfd) != 0) {
        int saved = errno;
        snprintf (err, S_ERR_MAX, "cannot sync %.200s: %s", path, strerror (saved));
        if (dfd >= 0)
            close (dfd);
        errno = saved;
        return -1;
    }
    close (dfd);
    return 0;
}

/* Creates directory `path` in `parent` if it is missing; a new one is made
   durable by syncing the parent. */
static int
s_mkdir (s_file_t *self, const char *path, const char *parent, char *err)
{
    if (mkdir (path, 0700) == 0)
        return parent ? s_sync_dir (self, parent, err) : 0;
    if (errno == EEXIST)
        return 0;
    int saved = errno;
    snprintf (err, S_ERR_MAX, "cannot create %.200s: %s", path, strerror (saved));
    errno = saved;
    return -1;
}

/* A name is exactly 64 lower-case hex chars: nothing else reaches a path. */
static bool
s_name_valid (const char *sha256)
{
    if (!sha256 || strlen (sha256) != 64)
        return false;
    return strspn (sha256, "0123456789abcdef") == 64;
}

static const blob_backend_t s_file_ops;

blob_store_t *
blob_store_new (const char *data_dir, char *err)
{
    assert (data_dir && err);
    s_file_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, S_ERR_MAX, "out of memory");
        return NULL;
    }
    if (snprintf (self->root, sizeof self->root, "%s/blobs", data_dir) >= (int) sizeof self->root - 80) {
        snprintf (err, S_ERR_MAX, "data dir path too long");
        free (self);
        return NULL;
    }
    if (s_mkdir (self, data_dir, NULL, err) || s_mkdir (self, self->root, data_dir, err)) {
        free (self);
        return NULL;
    }
    blob_store_t *store = blob_store_wrap (&s_file_ops, self);
    if (!store)
        snprintf (err, S_ERR_MAX, "out of memory");
    return store;
}

blob_store_t *
blob_store_wrap (const blob_backend_t *ops, void *impl)
{
    assert (ops && impl);
    blob_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        ops->destroy (impl);
        return NULL;
    }
    self->ops = ops;
    self->impl = impl;
    return self;
}

blob_store_t *
blob_store_open (const char *data_dir, const char *blob_url, char *err)
{
    if (!blob_url || !*blob_url)
        return blob_store_new (data_dir, err);
    return blob_s3_new (blob_url, NULL, err);
}

void
blob_store_destroy (blob_store_t **self_p)
{
    assert (self_p);
    blob_store_t *self = *self_p;
    if (self) {
        self->ops->destroy (self->impl);
        free (self);
        *self_p = NULL;
    }
}

const char *
blob_store_backend (blob_store_t *self)
{
    return self->ops->name;
}

int
blob_store_put (blob_store_t *self, const void *data, size_t len, char sha256 [65], char *err)
{
    assert (self && sha256 && err);
    util_sha256_hex (data, len, sha256);
    return self->ops->put (self->impl, data, len, sha256, err);
}

void *
blob_store_get (blob_store_t *self, const char *sha256, size_t max, size_t *len_out, char *err)
{
    assert (self && len_out && err);
    if (!s_name_valid (sha256)) {
        snprintf (err, S_ERR_MAX, "bad blob name");
        return NULL;
    }
    return self->ops->get (self->impl, sha256, max, len_out, err);
}

int
blob_store_delete (blob_store_t *self, const char *sha256)
{
    assert (self);
    if (!s_name_valid (sha256))
        return -1;
    return self->ops->del (self->impl, sha256);
}

static int
s_presign (blob_store_t *self, const char *method, const char *sha256, const char *content_type,
           bool public_, int64_t expires_s, char *out, size_t size, char *err)
{
    assert (self && method && out && err);
    if (!s_name_valid (sha256)) {
        snprintf (err, S_ERR_MAX, "bad blob name");
        return -1;
    }
    if (strcmp (method, "GET") && strcmp (method, "PUT")) {
        snprintf (err, S_ERR_MAX, "presign: method must be GET or PUT");
        return -1;
    }
    if (!self->ops->presign) {
        snprintf (err, S_ERR_MAX, "the %s blob store makes no presigned URLs", self->ops->name);
        return -1;
    }
    return self->ops->presign (self->impl, method, sha256, content_type, public_, expires_s, out, size, err);
}

int
blob_store_presign (blob_store_t *self, const char *method, const char *sha256,
                    const char *content_type, int64_t expires_s, char *out, size_t size, char *err)
{
    return s_presign (self, method, sha256, content_type, false, expires_s, out, size, err);
}

int
blob_store_presign_public (blob_store_t *self, const char *sha256, const char *content_type,
                           int64_t expires_s, char *out, size_t size, char *err)
{
    return s_presign (self, "GET", sha256, content_type, true, expires_s, out, size, err);
}

int
blob_store_scan_shard (blob_store_t *self, int shard, int64_t older_than_s,
                       int (*known) (const char *sha256, void *arg), void *arg)
{
    assert (self && shard >= 0 && shard < 256 && known);
    return self->ops->scan_shard (self->impl, shard, older_than_s, known, arg);
}

void *
blob_store_impl (blob_store_t *self, const blob_backend_t *ops)
{
    return self->ops == ops ? self->impl : NULL;
}

unsigned
blob_store_dir_syncs (blob_store_t *self)
{
    s_file_t *file = blob_store_impl (self, &s_file_ops);
    return file ? file->dir_syncs : 0;
}

static void
s_file_destroy (void *impl)
{
    free (impl);
}

/* Writes all of data to fd and fsyncs it. 0 / -1 with errno. */
static int
s_write_sync (int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t) n;
    }
    return fsync (fd);
}

static int
s_file_put (void *impl, const void *data, size_t len, const char *sha256, char *err)
{
    s_file_t *self = impl;
    char dir [S_PATH_MAX], path [S_PATH_MAX], tmp [S_PATH_MAX];
    /* root is capped at S_PATH_MAX - 80 in blob_store_new, so these fit */
    if (snprintf (dir, sizeof dir, "%s/%.2s", self->root, sha256) < 0
    ||  snprintf (path, sizeof path, "%s/%s", dir, sha256) < 0
    ||  snprintf (tmp, sizeof tmp, "%s/.%.16s.%ld.%u", dir, sha256, (long) getpid (),
                  self->tmp_counter++) < 0) {
        snprintf (err, S_ERR_MAX, "blob path error");
        return -1;
    }
    struct stat st;
    if (stat (path, &st) == 0 && (size_t) st.st_size == len)
        return 0;                  /* same name, same size: the same bytes are there */
    if (s_mkdir (self, dir, self->root, err))
        return -1;
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (err, S_ERR_MAX, "cannot create %.200s: %s", tmp, strerror (errno));
        return -1;
    }
    int rc = s_write_sync (fd, data, len);
    int saved = errno;
    close (fd);
    if (rc == 0 && rename (tmp, path) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink (tmp);
        snprintf (err, S_ERR_MAX, "cannot write blob %.200s: %s", path, strerror (saved));
        errno = saved;
        return -1;
    }
    /* the rename is durable only once the directory is synced */
    return s_sync_dir (self, dir, err);
}

static int
s_file_delete (void *impl, const char *sha256)
{
    s_file_t *self = impl;
    char path [S_PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%.2s/%s", self->root, sha256, sha256) < 0)
        return -1;
    return unlink (path) == 0 || errno == ENOENT ? 0 : -1;
}

static int
s_file_scan_shard (void *impl, int shard, int64_t older_than_s,
                   int (*known) (const char *sha256, void *arg), void *arg)
{
    s_file_t *self = impl;
    char dir [S_PATH_MAX];
    snprintf (dir, sizeof dir, "%s/%02x", self->root, (unsigned) shard);
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    int removed = 0;
    time_t now = time (NULL);
    struct dirent *de;
    while ((de = readdir (d)) != NULL) {
        char path [S_PATH_MAX];
        struct stat st;
        bool temp = de->d_name [0] == '.' && strcmp (de->d_name, ".") && strcmp (de->d_name, "..");
        if (!temp && !s_name_valid (de->d_name))
            continue;
        if (snprintf (path, sizeof path, "%s/%s", dir, de->d_name) >= (int) sizeof path
        ||  stat (path, &st) != 0 || !S_ISREG (st.st_mode) || now - st.st_mtime < older_than_s)
            continue;
        /* a temp file that old is a crashed write; a name no row knows is an orphan */
        if (temp || known (de->d_name, arg) == 0) {
            if (unlink (path) == 0)
                removed++;
        }
    }
    closedir (d);
    return removed;
}

static void *
s_file_get (void *impl, const char *sha256, size_t max, size_t *len_out, char *err)
{
    s_file_t *self = impl;
    char path [S_PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%.2s/%s", self->root, sha256, sha256) < 0) {
        snprintf (err, S_ERR_MAX, "blob path error");
        return NULL;
    }
    char *data = util_read_file (path, max, len_out);
    if (data && *len_out > max) {
        free (data);               /* util_read_file reads a first 4 KiB whatever max is */
        data = NULL;
    }
    if (!data)
        snprintf (err, S_ERR_MAX, "blob %s missing, unreadable or over %zu bytes", sha256, max);
    return data;
}

static const blob_backend_t s_file_ops = {
    .name = "file", .put = s_file_put, .get = s_file_get, .del = s_file_delete,
    .scan_shard = s_file_scan_shard, .destroy = s_file_destroy,
};

bool
blob_store_direct (blob_store_t *self)
{
    assert (self);
    return self->ops->incoming_url && self->ops->adopt;
}

/* Incoming names are the renderer's task id and attempt: a safe key part. */
static bool
s_incoming_name_ok (const char *name)
{
    size_t n = strlen (name);
    return n >= 1 && n <= 80 && strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789._-") == n && name [0] != '.';
}

void
blob_store_incoming_name (const char *task_id, int attempt, char name [BLOB_INCOMING_NAME_MAX])
{
    snprintf (name, BLOB_INCOMING_NAME_MAX, "%s.%d", task_id, attempt);
}

int
blob_store_incoming_url (blob_store_t *self, const char *name, int64_t expires_s,
                         char *out, size_t size, char *err)
{
    assert (self && name && out && err);
    if (!blob_store_direct (self)) {
        snprintf (err, S_ERR_MAX, "the %s blob store takes no direct writes", self->ops->name);
        return -1;
    }
    if (!s_incoming_name_ok (name)) {
        snprintf (err, S_ERR_MAX, "incoming name \"%.40s\" is not a safe key", name);
        return -1;
    }
    return self->ops->incoming_url (self->impl, "PUT", name, expires_s, out, size, err);
}

int
blob_store_incoming_delete_url (blob_store_t *self, const char *name, int64_t expires_s,
                                char *out, size_t size, char *err)
{
    assert (self && name && out && err);
    if (!blob_store_direct (self) || !s_incoming_name_ok (name)) {
        snprintf (err, S_ERR_MAX, "no direct writes, or incoming name \"%.40s\" is not a safe key", name);
        return -1;
    }
    return self->ops->incoming_url (self->impl, "DELETE", name, expires_s, out, size, err);
}

int
blob_store_incoming_delete (blob_store_t *self, const char *name)
{
    assert (self && name);
    if (!blob_store_direct (self) || !s_incoming_name_ok (name))
        return -1;
    return self->ops->incoming_del (self->impl, name);
}

int
blob_store_adopt (blob_store_t *self, const char *name, const char *sha256, int64_t len,
                  const char *md5, char *err)
{
    assert (self && name && sha256 && md5 && err);
    if (!blob_store_direct (self)) {
        snprintf (err, S_ERR_MAX, "the %s blob store takes no direct writes", self->ops->name);
        return -1;
    }
    if (!s_incoming_name_ok (name) || strlen (sha256) != 64 || len < 0) {
        snprintf (err, S_ERR_MAX, "adopt: bad incoming name, sha256 or length");
        errno = EINVAL;
        return -1;
    }
    return self->ops->adopt (self->impl, name, sha256, len, md5, err);
}
