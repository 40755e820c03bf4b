/*  data_lock.h: who holds a data directory, and how the CLI reaches it.

    A running scheduler holds an exclusive flock on DATA/scheduler.lock for
    its whole life (the kernel drops it when the process dies, kill -9
    included), so one data dir has at most one scheduler. At start it writes
    DATA/admin.secret (mode 0600, replaced atomically): a fresh random secret
    and the api endpoint it bound. The CLI writes through the scheduler
    when one holds the lock (the ADMIN message with that secret: proto.h),
    and writes the database itself only while it holds a shared lock, which
    a scheduler's start waits for. Reading the secret needs the data dir
    owner's rights: that is the authorisation.
    Thread: any; no state. Memory: the caller's buffers.  */
#ifndef EASEL_DATA_LOCK_H
#define EASEL_DATA_LOCK_H

#include <stdint.h>

#define DATA_LOCK_FILE        "scheduler.lock"
#define DATA_ADMIN_FILE       "admin.secret"
#define DATA_LOCK_WAIT_MS     5000     /* a scheduler's start waits this long for CLI writes */
#define DATA_ENDPOINT_MAX     1024
#define DATA_LOCK_ERR_MAX     256      /* size of every err below */

/* The scheduler's lock: creates the data dir (0700) if missing, then takes
   the exclusive lock, waiting up to wait_ms while CLIs hold it shared.
   0 with *fd_out open (keep it for the process's life); 1 with err when
   another scheduler still holds it after wait_ms; -1 with err when the dir
   cannot be made or locked. */
int  data_lock_hold (const char *data_dir, int64_t wait_ms, int *fd_out, char *err);

/* The CLI's lock. 0: no scheduler holds the dir, *fd_out is a shared lock
   the caller releases after its writes; 1: a scheduler holds it (*fd_out
   -1; write through it); -1 with err. */
int  data_lock_share (const char *data_dir, int *fd_out, char *err);

/* Closes a lock taken above (safe on -1); *fd becomes -1. */
void data_lock_release (int *fd);

/* Writes DATA/admin.secret: a new secret (64 hex digits, also copied to
   secret_out) and api_endpoint, mode 0600, by write-fsync-rename.
   0; -1 with err. */
int  data_admin_write (const char *data_dir, const char *api_endpoint, char secret_out [65], char *err);

/* Reads DATA/admin.secret into secret and endpoint (a wildcard bind
   address becomes loopback, so the CLI can connect to it). 0; -1 with err. */
int  data_admin_read (const char *data_dir, char secret [65], char endpoint [DATA_ENDPOINT_MAX], char *err);

#endif
