/*  cdp.h: one headless Chromium and its DevTools pipe (--remote-debugging-pipe).

    cdp_start launches the browser in its own process group with a fresh
    profile directory and its own egress relay (egress.h: every connection
    through it, Chromium resolves nothing itself), cdp_call sends a command
    and waits for its answer, cdp_wait reads events (load, network idle,
    paused requests, crashes) until a flag is set or a deadline passes,
    cdp_stop kills the whole group and removes the profile.

    Thread: a cdp_t belongs to the one thread that started it; nothing here
    is shared. Memory: one DevTools message is at most CDP_MSG_MAX bytes;
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
    pid_t   pid;                   /* 0 once reaped */
    pid_t   pgid;                  /* the browser's process group, killed at the end */
    int     fd;                    /* our end of the socket pair */
    char    profile [64];
    char   *buf;                   /* unparsed bytes from the browser */
    size_t  len, cap;
    int     next_id;
    char    session [128];
    bool    loaded, idle, dead;
    char    loader [128];
    egress_t *egress;              /* the browser's only way out (egress.h) */
    const capture_spec_t *spec;    /* its headers go to `origin` only */
    char    origin [300];          /* scheme://host:port of the page URL */
} cdp_t;

/* Starts the browser (window as large as spec's viewport). 0, or -1 with
   why (retryable); either way cdp_stop cleans up. */
int cdp_start (cdp_t *b, const capture_opts_t *opts, const capture_spec_t *spec, render_error_t *why);

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
