/*  log.h: one JSON object per line on stderr, for every service.
    {"ts":"2026-11-22T10:00:00.123Z","level":"info","service":"scheduler","msg":"...", ...}
    A request that came through the gateway carries "request_id" (its X-Request-Id).
    Thread safe (each line built in memory, appended under a lock). Strings are
    JSON-escaped. */
#ifndef EASEL_LOG_H
#define EASEL_LOG_H

#include <stdarg.h>
#include <stdint.h>

/* Names the service in every line; call once at start. `svc` must outlive the process. */
void log_init (const char *svc);

/* Logs `msg` plus optional key/value string pairs, ended by NULL:
       log_info ("task requeued", "task", id, "reason", "lease expired", NULL);  */
void log_info  (const char *msg, ...);
void log_warn  (const char *msg, ...);
void log_error (const char *msg, ...);

/* Batching for a single-threaded loop: after log_hold, lines are kept in
   memory (at most 256 KB; past that they are written early) and log_release
   writes them with one write(2) and stops holding. log_fatal writes them too. */
void log_hold (void);
void log_release (void);

/* Batching for many threads (the gateway's request log): after
   log_writer_start, a line is appended to a buffer (at most
   LOG_WRITER_BUF_BYTES; the thread that finds it full writes it itself, in
   order) and one writer thread writes whatever has gathered with one
   write(2), then pauses LOG_WRITER_GATHER_MS to let the next lines gather:
   a line is out within about that long, and no line is ever dropped. The
   writer keeps pausing and looking for LOG_WRITER_LINGER_MS after the last
   line before it sleeps until woken: under load (lines at least that often)
   no line pays for waking it (a futex wake and a context switch, which
   were 12 % of the gateway's samples under the create load of
   bench/api.py), and an idle process wakes it for its first line only.
   log_writer_stop (also run at exit, and by log_fatal) writes the rest and
   ends the thread. 0; -1 when the thread cannot start (lines are then
   written at once, as before). */
#define LOG_WRITER_BUF_BYTES (1024 * 1024)
#define LOG_WRITER_GATHER_MS 1
#define LOG_WRITER_LINGER_MS 200
int log_writer_start (void);
void log_writer_stop (void);
/* How many lines woke the writer from its sleep since it started. */
uint64_t log_writer_wakes (void);

/* Prints {"level":"fatal",...,"msg":reason} and exits 2: for bad configuration. */
void log_fatal (const char *msg, ...) __attribute__((noreturn));
/* A socket or address this service must own is taken: logs like log_fatal
   and exits LOG_EXIT_CANNOT_BIND, which easel up reads as "do not restart". */
#define LOG_EXIT_CANNOT_BIND 3
void log_fatal_bind (const char *msg, ...) __attribute__((noreturn));

#endif
