/*  capture.h: one capture task (id cap_...) in, a framed image out.

    The page URL is probed first with libcurl (the same headers, no
    redirects, the private-address check at connect time on the resolved
    address): an image (an image Content-Type, or bytes that sniff as PNG,
    JPEG or WebP) is framed as it is, without a browser (price
    CAPTURE_PRICE_IMAGE). Anything else is loaded in headless Chromium
    (price CAPTURE_PRICE_PAGE), driven over the DevTools protocol on a
    socket pair given as fds 3/4 (--remote-debugging-pipe):
      - one warm browser per worker thread (cdp.h), started with the
        renderer (the first is the sandbox check's) with a fresh profile
        directory (removed when it stops), the next job's context made
        between tasks, no
        background networking, sync, component updates, QUIC or proxies;
        every task gets a browser context of its own, disposed at its end,
        so no cookie, cache, storage or service worker passes between
        tasks; the browser is started again when it misbehaves (a pipe
        error, a crash, a call unanswered in time), after
        --capture-browser-jobs tasks, or over --capture-browser-rss-mb;
      - every connection the browser opens (the page, redirects, frames,
        subresources, fetches, workers, websockets) goes through the
        task's own egress relay (egress.h; its context's proxy, and the
        browser's own --proxy-server a relay of the same rule), which
        resolves the name once and checks the address it connects to with the private-network
        rule; Chromium resolves nothing itself;
      - the browser never runs as root: a root renderer starts it as
        --browser-user (default nobody), with Chromium's own sandbox when
        it works here (--browser-sandbox auto; see capture_browser_setup);
      - the browser runs in its own process group, killed as a whole
        (SIGKILL) when it is started again or its thread ends; never
        outlives the renderer (PR_SET_PDEATHSIG).
    A page on a phone or tablet in portrait is laid out between the
    device's safe-area insets (device_frame.h: below the Dynamic Island or
    camera, above the home indicator) at the spec's scale; the bands are
    filled with copies of the page's top and bottom rows before framing.
    Errors: "navigation timeout" (the load or networkidle did not come within
    the navigation timeout; not retried), "the page answered HTTP n", a
    private address (url_not_allowed: the URL's host, or a redirect the
    browser followed), and retryable ones for a browser that
    could not start or died mid-capture.

    Thread: any worker thread; each thread has its own browser. Memory: the
    caller owns `out` (an initialised msgpack_sbuffer). */
#ifndef EASEL_CAPTURE_H
#define EASEL_CAPTURE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "netguard.h"
#include "proto.h"
#include "slide_render.h"

#define CAPTURE_NAV_TIMEOUT_MS_DEFAULT 30000
#define CAPTURE_BROWSER_JOBS_DEFAULT   100     /* jobs of one warm browser */
#define CAPTURE_BROWSER_RSS_MB_DEFAULT 2048    /* resident MiB of one warm browser's processes */

typedef struct {
    const char *chromium;          /* browser binary; NULL: captures of pages fail */
    bool        allow_private;     /* permit private page URLs */
    const netguard_allow_t *allow; /* private networks allowed all the same (NULL: none) */
    int64_t     nav_timeout_ms;    /* load (or networkidle) must come within this */
    const char *font_path;         /* the address bar's font */
    bool        drop_user;         /* run the browser as browser_uid/gid (the renderer is root) */
    uid_t       browser_uid;
    gid_t       browser_gid;
    bool        sandbox;           /* Chromium's own sandbox on (no --no-sandbox) */
    int64_t     browser_jobs_max;  /* a warm browser is started again after this many jobs */
    int64_t     browser_rss_max_mb;/* ... or when its processes' resident memory is over this */
} capture_opts_t;

/* Decides who runs the browser and whether its sandbox is on, into opts
   (whose chromium is set): `user` ("" = "nobody" when the renderer runs as
   root; ignored otherwise: the browser is never root), `sandbox` "on",
   "off" or "auto" (start the browser once with its sandbox and keep it
   when that works). 0, or -1 with err (an unknown user, "on" that does not
   work, a bad value). */
int capture_browser_setup (capture_opts_t *opts, const char *user, const char *sandbox,
                           char *err, size_t errsz);

/* The first of $EASEL_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser
   that is executable, or NULL. */
const char *capture_find_chromium (void);

/* Runs the capture task and encodes the RESULT (credits = its price) or
   FAIL into out; *cmd says which. Returns 0, or -1 when nothing can be
   encoded (why says so). */
int capture_task_run (const proto_task_t *task, const capture_opts_t *opts,
                      int *cmd, msgpack_sbuffer *out, render_error_t *why);

#endif
