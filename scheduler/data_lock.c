/*  data_lock.c: the data dir's lock and admin secret (see data_lock.h).
    Thread: any. Memory: none kept; descriptors are the caller's. */
#include "data_lock.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_POLL_MS 20

/* DATA/name into out (PATH_MAX). 0; -1 with err when it does not fit. */
static int
s_path (const char *data_dir, const char *name, char out [PATH_MAX], char *err)
{
    int n = snprintf (out, PATH_MAX, "%s/%s", data_dir, name);
    if (n < 0 || n >= PATH_MAX) {
        snprintf (err, DATA_LOCK_ERR_MAX, "data dir path too long");
        return -1;
    }
    return 0;
}

/* Opens DATA/scheduler.lock, making the dir when `make` is set. fd or -1. */
static int
s_open (const char *data_dir, bool make, char *err)
{
    char path [PATH_MAX];
    if (s_path (data_dir, DATA_LOCK_FILE, path, err))
        return -1;
    if (make && mkdir (data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf (err, DATA_LOCK_ERR_MAX, "cannot make %.150s: %s", data_dir, strerror (errno));
        return -1;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        snprintf (err, DATA_LOCK_ERR_MAX, "cannot open %.150s: %s", path, strerror (errno));
    return fd;
}

int
data_lock_hold (const char *data_dir, int64_t wait_ms, int *fd_out, char *err)
{
    *fd_out = -1;
    int fd = s_open (data_dir, true, err);
    if (fd < 0)
        return -1;
    int64_t until = util_mono_ms () + wait_ms;
    while (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            snprintf (err, DATA_LOCK_ERR_MAX, "cannot lock %.150s/%s: %s", data_dir, DATA_LOCK_FILE,
                      strerror (errno));
            close (fd);
            return -1;
        }
        if (util_mono_ms () >= until) {
            snprintf (err, DATA_LOCK_ERR_MAX, "%.150s/%s is held (another scheduler on this data dir?)",
                      data_dir, DATA_LOCK_FILE);
            close (fd);
            return 1;
        }
        nanosleep (&(struct timespec) { 0, S_POLL_MS * 1000000L }, NULL);
    }
    *fd_out = fd;
    return 0;
}

int
data_lock_share (const char *data_dir, int *fd_out, char *err)
{
    *fd_out = -1;
    int fd = s_open (data_dir, true, err);
    if (fd < 0)
        return -1;
    if (flock (fd, LOCK_SH | LOCK_NB) == 0) {
        *fd_out = fd;
        return 0;
    }
    int e = errno;
    close (fd);
    if (e == EWOULDBLOCK)
        return 1;
    snprintf (err, DATA_LOCK_ERR_MAX, "cannot lock %.150s: %s", data_dir, strerror (e));
    return -1;
}

void
data_lock_release (int *fd)
{
    if (fd && *fd >= 0) {
        close (*fd);                   /* drops the flock */
        *fd = -1;
    }
}

int
data_admin_write (const char *data_dir, const char *api_endpoint, char secret_out [65], char *err)
{
    char path [PATH_MAX], tmp [PATH_MAX];
    if (s_path (data_dir, DATA_ADMIN_FILE, path, err) || s_path (data_dir, DATA_ADMIN_FILE ".tmp", tmp, err))
        return -1;
    if (strlen (api_endpoint) >= DATA_ENDPOINT_MAX) {
        snprintf (err, DATA_LOCK_ERR_MAX, "api endpoint too long for %s", DATA_ADMIN_FILE);
        return -1;
    }
    unsigned char raw [32];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (secret_out, 65, raw, sizeof raw);
    sodium_memzero (raw, sizeof raw);
    unlink (tmp);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (err, DATA_LOCK_ERR_MAX, "cannot write %.150s: %s", tmp, strerror (errno));
        return -1;
    }
    char text [65 + DATA_ENDPOINT_MAX + 2];
    int n = snprintf (text, sizeof text, "%s\n%s\n", secret_out, api_endpoint);
    bool ok = fchmod (fd, 0600) == 0 && write (fd, text, (size_t) n) == n && fsync (fd) == 0;
    sodium_memzero (text, sizeof text);
    if (close (fd) != 0 || !ok || rename (tmp, path) != 0) {
        snprintf (err, DATA_LOCK_ERR_MAX, "cannot write %.150s: %s", path, strerror (errno));
        unlink (tmp);
        return -1;
    }
    return 0;
}

int
data_admin_read (const char *data_dir, char secret [65], char endpoint [DATA_ENDPOINT_MAX], char *err)
{
    char path [PATH_MAX];
    if (s_path (data_dir, DATA_ADMIN_FILE, path, err))
        return -1;
    size_t len = 0;
    char *text = util_read_file (path, 65 + DATA_ENDPOINT_MAX + 2, &len);
    if (!text) {
        snprintf (err, DATA_LOCK_ERR_MAX, "cannot read %.150s (the data dir owner's file): %s", path,
                  strerror (errno));
        return -1;
    }
    char *nl = strchr (text, '\n');
    char *end = nl ? strchr (nl + 1, '\n') : NULL;
    if (!nl || nl - text != 64 || !end || end == nl + 1 || (size_t) (end - nl - 1) >= DATA_ENDPOINT_MAX) {
        sodium_memzero (text, len);
        free (text);
        snprintf (err, DATA_LOCK_ERR_MAX, "%.150s is not an admin secret file", path);
        return -1;
    }
    memcpy (secret, text, 64);
    secret [64] = '\0';
    *end = '\0';
    /* a wildcard bind is reached on loopback */
    const char *ep = nl + 1;
    if (strncmp (ep, "tcp://*:", 8) == 0)
        snprintf (endpoint, DATA_ENDPOINT_MAX, "tcp://127.0.0.1:%s", ep + 8);
    else
    if (strncmp (ep, "tcp://0.0.0.0:", 14) == 0)
        snprintf (endpoint, DATA_ENDPOINT_MAX, "tcp://127.0.0.1:%s", ep + 14);
    else
        snprintf (endpoint, DATA_ENDPOINT_MAX, "%s", ep);
    sodium_memzero (text, len);
    free (text);
    return 0;
}
