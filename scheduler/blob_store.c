/*  blob_store.c: content-addressed files under <data>/blobs (see blob_store.h).
    Thread: the owner's. Memory: the handle owns its path; get's buffer is the caller's. */
#include "blob_store.h"
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
    char root [S_PATH_MAX];        /* <data>/blobs */
    unsigned tmp_counter;          /* makes temp names unique within the process */
    unsigned dir_syncs;            /* directory fsyncs done (blob_store_dir_syncs) */
};

/* fsyncs directory `path`, so entries created in it survive power loss. */
static int
s_sync_dir (blob_store_t *self, const char *path, char *err)
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
s_mkdir (blob_store_t *self, const char *path, const char *parent, char *err)
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

blob_store_t *
blob_store_new (const char *data_dir, char *err)
{
    assert (data_dir && err);
    blob_store_t *self = calloc (1, sizeof *self);
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
    return self;
}

void
blob_store_destroy (blob_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
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

int
blob_store_put (blob_store_t *self, const void *data, size_t len, char sha256 [65], char *err)
{
    assert (self && sha256 && err);
    util_sha256_hex (data, len, sha256);
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

unsigned
blob_store_dir_syncs (blob_store_t *self)
{
    return self->dir_syncs;
}

int
blob_store_delete (blob_store_t *self, const char *sha256)
{
    assert (self);
    char path [S_PATH_MAX];
    if (!s_name_valid (sha256)
    ||  snprintf (path, sizeof path, "%s/%.2s/%s", self->root, sha256, sha256) < 0)
        return -1;
    return unlink (path) == 0 || errno == ENOENT ? 0 : -1;
}

int
blob_store_scan_shard (blob_store_t *self, int shard, int64_t older_than_s,
                       int (*known) (const char *sha256, void *arg), void *arg)
{
    assert (self && shard >= 0 && shard < 256 && known);
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

void *
blob_store_get (blob_store_t *self, const char *sha256, size_t max, size_t *len_out, char *err)
{
    assert (self && len_out && err);
    if (!s_name_valid (sha256)) {
        snprintf (err, S_ERR_MAX, "bad blob name");
        return NULL;
    }
    char path [S_PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%.2s/%s", self->root, sha256, sha256) < 0) {
        snprintf (err, S_ERR_MAX, "blob path error");
        return NULL;
    }
    char *data = util_read_file (path, max, len_out);
    if (!data)
        snprintf (err, S_ERR_MAX, "blob %s missing, unreadable or over %zu bytes", sha256, max);
    return data;
}
