/*  cdp.h: one headless Chromium and its DevTools pipe (--remote-debugging-pipe).

    cdp_start launches the browser in its own process group with a fresh
    profile directory and its own egress relay (egress.h: every connection
    through it, Chromium resolves nothing itself), cdp_call sends a command
    and waits for its answer, cdp_wait reads events (load, network idle,
    paused requests, crashes) until a flag is set or a deadline passes,
    cdp_stop kills the whole group and removes the profile.

    Warm browsers: one per worker thread (cdp_warm, a thread-local cdp_t),
    so a capture slot never shares its pipe and needs no lock or message
    routing; the price is a browser per slot that captures. Each job gets a
    fresh browser context (cdp_job_open) with its own egress relay as its
    proxy, disposed at its end (cdp_job_close): nothing a page stores is
    seen by the next job. The browser is started again when it breaks, after
    opts->browser_jobs_max jobs, or over opts->browser_rss_max_mb.

    Thread: a cdp_t belongs to the one thread that started it; nothing here
    is shared but the start counter. Memory: one DevTools message is at most CDP_MSG_MAX bytes;
    the cdp_t owns its buffer, egress and profile until cdp_stop. */
#ifndef EASEL_CDP_H
#define EASEL_CDP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "capture.h"
#include "capture_spec.h"
#include "egress.h"

#define CDP_MSG_MAX (160 * 1024 * 1024)   /* a full-page screenshot in base64 */

typedef struct {
    /* the browser: kept from job to job */
    pid_t   pid;                   /* 0 once reaped */
    pid_t   pgid;                  /* the browser's process group, killed at the end */
    int     fd;                    /* our end of the socket pair */
    char    profile [64];
    char   *buf;                   /* unparsed bytes from the browser */
    size_t  len, cap;
    int     next_id;
    egress_t *egress;              /* the default context's way out (--proxy-server) */
    int64_t jobs;                  /* jobs opened since the start */
    bool    broken;                /* a pipe error, a crash or an unanswered call: restart */
    /* the job: set by cdp_job_open, cleared by cdp_job_close */
    char    context [128];         /* its browser context (Target.createBrowserContext) */
    char    target [128];
    char    session [128];
    bool    loaded, idle, dead;
    char    loader [128];
    egress_t *job_egress;          /* this job's only way out: its context's proxy (egress.h) */
    const capture_spec_t *spec;    /* its headers go to `origin` only */
    char    origin [300];          /* scheme://host:port of the page URL */
} cdp_t;

/* Starts the browser (a width x height window). 0, or -1 with why
   (retryable); either way cdp_stop cleans up. */
int cdp_start (cdp_t *b, const capture_opts_t *opts, int width, int height, render_error_t *why);

/* This thread's warm browser, started on the first call and started again
   (the old one stopped, the reason logged) when it is broken, has opened
   opts->browser_jobs_max jobs, or its process group's resident memory is
   over opts->browser_rss_max_mb. Every start is logged "browser started"
   and counted (cdp_starts). NULL with why (retryable) when it cannot start.
   The browser is stopped when the thread exits. */
cdp_t *cdp_warm (const capture_opts_t *opts, render_error_t *why);

/* How many browsers cdp_warm started in this process (all threads). */
int64_t cdp_starts (void);

/* Opens a job on b: its own egress relay, a browser context of its own
   (no cookie, cache, storage or service worker shared with another job;
   disposed when the pipe closes) whose proxy is that relay, and a
   width x height page target in it, attached (flat session). The job's
   spec and url (the origin its headers go to) are kept. 0, or -1 with
   err; either way cdp_job_close ends the job. */
int cdp_job_open (cdp_t *b, const capture_opts_t *opts, const capture_spec_t *spec, const char *url,
                  char *err, size_t errsz);

/* Disposes the job's context (its pages, cookies, storage, cache) and stops
   its egress; a browser that does not answer, or is broken, is stopped
   (cdp_warm starts a new one). Safe to call twice. */
void cdp_job_close (cdp_t *b);

/* Kills the browser's process group, stops its egress, removes the
   profile. Safe to call twice. */
void cdp_stop (cdp_t *b);

/* Sends one command (params borrowed; on the page's session when
   `session`); its id out. 0 / -1. */
int cdp_send (cdp_t *b, const char *method, json_t *params, bool session, int *id);

/* Reads messages until the reply to `id` (0: only until *flag) or the
   deadline (monotonic ms). 0 with *reply (id > 0; the caller decrefs); 1 on
   timeout; -1 when the browser died or sent garbage. */
int cdp_wait (cdp_t *b, int id, const bool *flag, int64_t deadline, json_t **reply);

/* Sends (params consumed) and waits for the reply. 0 with *result
   (borrowed from *reply, which the caller decrefs); 1 timeout; -1 died or
   an error answer (err). */
int cdp_call (cdp_t *b, const char *method, json_t *params, bool session, int64_t deadline,
              json_t **reply, json_t **result, char *err, size_t errsz);

/* scheme://host:port of url into out, "" when it is not one web_url_parse takes. */
void cdp_origin (const char *url, char *out, size_t size);

#endif
