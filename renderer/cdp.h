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

    Off the job's path: the next job's context and relay are begun while
    the current job's page loads (cdp_prepare_early: browser-process work
    beside the page's renderer), its page (events on) once the current
    job's page is shot (cdp_prepare_next, made while that image is framed
    and encoded, never beside a page's own load and paint, which a new
    renderer process would slow on a small machine), so a job finds them
    ready, or nearly, and only applies its own options. A job does not wait
    for the last job's disposal: its answer is read whenever it comes. The steps
    (Target.createBrowserContext, createTarget, attachToTarget, then
    Page.enable, lifecycle events and Network.enable sent at once) are sent
    one after the other as their answers arrive,
    whoever reads the pipe: the job's own waits, or the slot's thread
    between tasks (cdp_pump, which a queued task interrupts). The slot's
    thread calls cdp_prepare when it starts and after each task it
    answered, and cdp_prepare_next after each page it shot: the browser starts with the renderer (the first one is the
    sandbox probe's, cdp_spare_keep), a restart for jobs or memory happens
    between jobs, and a preparation begins when none is under way. A job
    that arrives before its context is ready waits only for what is left of
    it; the last job's disposal is answered meanwhile. A prepared context
    has loaded nothing (its page is about:blank) and is given to one job
    only; at most three contexts live per slot (the job's, the next one,
    and the last one being disposed).

    Cancel: a job's cancel flag (cdp_job_open) is read while waiting on the
    pipe; a wait it ends answers CDP_CANCELED within CDP_CANCEL_POLL_MS and
    leaves the browser whole (the job's context is disposed as always).

    Thread: a cdp_t belongs to one thread at a time: the one that started
    it, or the slot that took it as the spare (the main thread, which
    started it, lives as long as the process, so PR_SET_PDEATHSIG still
    ends it with the renderer); nothing here is shared but the start
    counter and the spare (under its lock). Memory: one DevTools message is at most CDP_MSG_MAX bytes;
    the cdp_t owns its buffer, egress and profile until cdp_stop. */
#ifndef EASEL_CDP_H
#define EASEL_CDP_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "capture.h"
#include "capture_spec.h"
#include "egress.h"

#define CDP_MSG_MAX (160 * 1024 * 1024)   /* a full-page screenshot in base64 */
#define CDP_CANCELED        3              /* cdp_wait / cdp_call: the job's cancel flag was set */
#define CDP_CANCEL_POLL_MS  50             /* the longest a set cancel flag goes unread */
#define CDP_WINDOW_W        1280           /* the browser's window (each page sets its viewport) */
#define CDP_WINDOW_H        800

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
    const atomic_bool *cancel;     /* NULL, or the job's cancel flag (set by another thread) */
    bool    prepared;              /* the job took a context made ahead */
    int64_t prep_waited_ms;        /* how long it waited for the rest of that context */
    int     dispose_id;            /* a Target.disposeBrowserContext sent, its answer not read */
    egress_t *old_egress;          /* the disposed context's relay, stopped once that is answered */
    /* the next job's context, made ahead (cdp_prepare; taken by cdp_job_open) */
    int     prep_step;             /* S_PREP_* in cdp.c: none, one step waiting, ready */
    int     prep_id;               /* the call of the step waiting for its answer */
    int     prep_first;            /* 0, or the first of the step's calls sent at once (up to prep_id) */
    bool    prep_hold;             /* stop once the context is made (cdp_prepare_early) */
    int     next_metrics [3];      /* the viewport (width, height, scale) set on it, or 0s */
    int     metrics [3];           /* the job's page's viewport as set (the next one's, taken) */
    int     last_metrics [3];      /* the last job's viewport: set on the next page made ahead */
    int64_t prep_started_ms, prep_deadline_ms;
    char    next_context [128];
    char    next_target [128];
    char    next_session [128];
    egress_t *next_egress;
    bool    warmed;                /* cdp_prepare ran on this thread */
    bool    job_since_prepare;     /* a job opened since (else cdp_prepare has nothing to do) */
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

/* Keeps b (started by cdp_start and answering) for the first thread whose
   cdp_warm has no browser yet, instead of starting another: the
   renderer's sandbox probe becomes a slot's warm browser. b's memory
   passes to that thread (or is stopped and freed by a second call). */
void cdp_spare_keep (cdp_t *b);

/* Between jobs, on the slot's thread: cdp_warm without waiting for the
   last job's disposal (a start, or a restart that is due: broken, jobs,
   memory), then the next job's context begun when none is under way (its
   steps go on as their answers come: cdp_pump, or the next job's waits).
   Only on the thread's first call, after a job opened since, or on a
   broken browser (a task without a page, or a browser that fails to start,
   costs no start between tasks). 0 (also when there is nothing to do), or
   -1 with why; a job then makes its own context in cdp_job_open. */
int cdp_prepare (const capture_opts_t *opts, render_error_t *why);

/* Right after a job's page is shot, on its thread: the next job's context
   begun, or the one cdp_prepare_early began let go on (its steps go on as
   above), unless a start of the browser is due (broken,
   opts->browser_jobs_max): that start is cdp_prepare's, between tasks,
   never on a job's path. */
void cdp_prepare_next (cdp_t *b, const capture_opts_t *opts);

/* Once a job's page is navigating (its document answered), on its thread:
   the next job's browser context alone begun (Target.createBrowserContext,
   work of the browser's own process and network service, beside the page's
   renderer), held there until cdp_prepare_next, cdp_prepare or the next
   cdp_job_open goes on with its page (a new renderer process: never beside
   the page's load and paint). Nothing when a start is due. */
void cdp_prepare_early (cdp_t *b, const capture_opts_t *opts);

/* Between tasks, on the slot's thread: reads this thread's browser's pipe
   and goes on with the preparation and the last disposal until nothing is
   left of them (0), or wake_fd (an eventfd; -1: none) is readable (1; its
   count is read), or the browser breaks or the preparation is not done by
   its deadline (-1: cdp_prepare starts it again). 0 when there is no
   browser or nothing under way. */
int cdp_pump (int wake_fd);

/* Opens a job on b: the context made ahead (waiting for what is left of
   its preparation), or else now its own egress relay, a browser context
   of its own (no cookie, cache, storage or service worker shared with
   another job; disposed when the pipe closes) whose proxy is that relay,
   and a page target in it, attached (flat session), its Page and Network
   events on; then the next job's context is begun (unless the browser is
   due for a restart after this job). The job's spec, url (the origin its
   headers go to) and cancel flag (NULL: none, else it ends the wait) are
   kept. 0, or -1 with err; either way cdp_job_close ends the job. */
int cdp_job_open (cdp_t *b, const capture_opts_t *opts, const capture_spec_t *spec, const char *url,
                  const atomic_bool *cancel, char *err, size_t errsz);

/* Ends the job: its context (pages, cookies, storage, cache) is sent to
   be disposed at once, and the answer read and its egress stopped by
   whoever reads the pipe next (cdp_pump, or at the latest the next
   cdp_job_open; now when `wait`); a browser that
   does not answer, or is broken, is stopped (cdp_warm starts a new one).
   Safe to call twice. */
void cdp_job_close (cdp_t *b, bool wait);

/* Kills the browser's process group, stops its egress, removes the
   profile. Safe to call twice. */
void cdp_stop (cdp_t *b);

/* Sends one command (params borrowed; on the page's session when
   `session`); its id out. 0 / -1. */
int cdp_send (cdp_t *b, const char *method, json_t *params, bool session, int *id);

/* Reads messages until the reply to `id` (0: only until *flag) or the
   deadline (monotonic ms). 0 with *reply (id > 0; the caller decrefs); 1 on
   timeout; CDP_CANCELED when the job's cancel flag is set; -1 when the
   browser died or sent garbage. */
int cdp_wait (cdp_t *b, int id, const bool *flag, int64_t deadline, json_t **reply);

/* Sends (params consumed) and waits for the reply. 0 with *result
   (borrowed from *reply, which the caller decrefs); 1 timeout;
   CDP_CANCELED (the browser stays usable); -1 died or an error answer
   (err). */
int cdp_call (cdp_t *b, const char *method, json_t *params, bool session, int64_t deadline,
              json_t **reply, json_t **result, char *err, size_t errsz);

/* scheme://host:port of url into out, "" when it is not one web_url_parse takes. */
void cdp_origin (const char *url, char *out, size_t size);

#endif
