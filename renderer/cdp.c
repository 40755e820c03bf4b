/*  cdp.c: the Chromium process and its DevTools pipe (see cdp.h).

    Thread: the thread that called cdp_start owns the cdp_t, its socket and
    its process group. Memory: the read buffer grows to CDP_MSG_MAX at most;
    anything longer is a broken browser. Cookie, storage and header values
    pass through here and are never logged. */

#include "cdp.h"
#include "capture_page.h"
#include "log.h"
#include "util.h"
#include "web_url.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_ARGS_MAX 32

static int
s_rm_one (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb, (void) flag, (void) ftw;
    remove (path);
    return 0;
}

void
cdp_stop (cdp_t *b)
{
    if (b->pgid > 0)               /* the whole group: zygotes, renderers, gpu */
        kill (-b->pgid, SIGKILL);
    if (b->pid > 0) {
        kill (b->pid, SIGKILL);
        waitpid (b->pid, NULL, 0);
    }
    b->pid = b->pgid = 0;
    if (b->fd >= 0)
        close (b->fd);
    b->fd = -1;
    egress_stop (&b->job_egress);  /* after the browser: nothing is left to relay */
    egress_stop (&b->old_egress);
    egress_stop (&b->next_egress);
    egress_stop (&b->egress);
    b->prepared = false;
    b->dispose_id = 0;
    b->prep_step = b->prep_id = b->prep_first = 0;
    b->prep_hold = false;
    b->context [0] = b->target [0] = b->session [0] = '\0';
    b->next_context [0] = b->next_target [0] = b->next_session [0] = '\0';
    if (b->profile [0])
        nftw (b->profile, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    b->profile [0] = '\0';
    free (b->buf);
    b->buf = NULL;
}

int
cdp_start (cdp_t *b, const capture_opts_t *opts, int width, int height, render_error_t *why)
{
    memset (b, 0, sizeof *b);
    b->fd = -1;
    char eerr [128];
    b->egress = egress_start (opts->allow_private, opts->allow, eerr, sizeof eerr);
    if (!b->egress)
        return capture_error (why, "capture_failed", true, "cannot start the browser's egress: %s", eerr);
    snprintf (b->profile, sizeof b->profile, "/tmp/easel-chromium-XXXXXX");
    if (!mkdtemp (b->profile)) {
        b->profile [0] = '\0';
        return capture_error (why, "capture_failed", true, "cannot make a browser profile: %s", strerror (errno));
    }
    if (opts->drop_user && chown (b->profile, opts->browser_uid, opts->browser_gid) != 0)
        return capture_error (why, "capture_failed", true, "cannot give the browser its profile: %s", strerror (errno));
    char prof [96], win [48], proxy [64], home [80], xdg_config [96], xdg_cache [96];
    snprintf (home, sizeof home, "HOME=%s", b->profile);
    snprintf (xdg_config, sizeof xdg_config, "XDG_CONFIG_HOME=%s", b->profile);
    snprintf (xdg_cache, sizeof xdg_cache, "XDG_CACHE_HOME=%s", b->profile);
    const char *envp [] = { home, xdg_config, xdg_cache, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
    snprintf (prof, sizeof prof, "--user-data-dir=%s", b->profile);
    snprintf (win, sizeof win, "--window-size=%d,%d", width, height);
    snprintf (proxy, sizeof proxy, "--proxy-server=socks5://127.0.0.1:%d", egress_port (b->egress));
    /* every connection through egress, loopback included; Chromium's own
       resolver answers nothing, so no name is looked up outside egress;
       WebRTC may not send UDP around the proxy */
    const char *argv [S_ARGS_MAX] = {
        opts->chromium, "--headless", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--mute-audio",
        "--hide-scrollbars", "--remote-debugging-pipe", prof, win, proxy,
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        /* a page in a new context's window draws at once: no backgrounded or
           occluded renderer, no paint held for the next document; a
           screenshot is copied from a surface of its own */
        "--disable-features=DnsOverHttps,AsyncDns,PaintHolding",
        "--enable-features=CDPScreenshotNewSurface",
        "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
        "--disable-background-timer-throttling"
    };
    int argc = 23;
    if (!opts->sandbox)
        argv [argc++] = "--no-sandbox";
    argv [argc++] = "about:blank";
    argv [argc] = NULL;
    int sv [2];
    if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return capture_error (why, "capture_failed", true, "socketpair: %s", strerror (errno));
    int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = fork ();
    if (pid == 0) {
        /* async-signal-safe calls only until exec */
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        int a = fcntl (sv [1], F_DUPFD, 10), c = fcntl (sv [1], F_DUPFD, 10);
        if (a < 0 || c < 0 || dup2 (a, 3) < 0 || dup2 (c, 4) < 0)
            _exit (127);
        if (devnull >= 0) {
            dup2 (devnull, 0);
            dup2 (devnull, 1);
            dup2 (devnull, 2);
        }
        if (opts->drop_user
        &&  (setgroups (0, NULL) != 0 || setgid (opts->browser_gid) != 0 || setuid (opts->browser_uid) != 0
             || setuid (0) == 0))
            _exit (126);           /* never a browser as root */
        execve (opts->chromium, (char * const *) argv, (char * const *) envp);
        _exit (127);
    }
    if (devnull >= 0)
        close (devnull);
    close (sv [1]);
    if (pid < 0) {
        close (sv [0]);
        return capture_error (why, "capture_failed", true, "fork: %s", strerror (errno));
    }
    setpgid (pid, pid);            /* either side may win the race; both set it */
    b->pid = b->pgid = pid;
    b->fd = sv [0];
    return 0;
}

/* Sends one command (params borrowed) on session (NULL: the browser's);
   id out. 0 / -1. */
static int
s_send_on (cdp_t *b, const char *method, json_t *params, const char *session, int *id)
{
    *id = ++b->next_id;
    json_t *msg = json_pack ("{s:i, s:s, s:O}", "id", *id, "method", method, "params", params);
    if (msg && session)
        json_object_set_new (msg, "sessionId", json_string (session));
    char *text = msg ? json_dumps (msg, JSON_COMPACT) : NULL;
    json_decref (msg);
    if (!text)
        return -1;
    size_t len = strlen (text) + 1, off = 0;  /* the NUL ends the message */
    int rc = 0;
    while (off < len) {
        ssize_t n = send (b->fd, text + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -1;
            break;
        }
        off += (size_t) n;
    }
    free (text);
    return rc;
}

int
cdp_send (cdp_t *b, const char *method, json_t *params, bool session, int *id)
{
    return s_send_on (b, method, params, session ? b->session : NULL, id);
}

/* scheme://host:port of url into out, "" when it is not one web_url_parse takes. */
void
cdp_origin (const char *url, char *out, size_t size)
{
    web_url_t u;
    char err [WEB_URL_ERR_MAX];
    out [0] = '\0';
    if (url && web_url_parse (url, &u, err) == 0)
        snprintf (out, size, "%s://%s%s%s:%d", u.scheme, strchr (u.host, ':') ? "[" : "", u.host,
                  strchr (u.host, ':') ? "]" : "", u.port);
}

/* A request paused by Fetch (only when the spec has headers or
   block_resources): one of a blocked resource type fails; one for the
   page's own origin goes on with the spec's headers added (replacing any
   of the same name), any other as the browser made it, so a third-party
   host never sees them. */
static void
s_on_paused (cdp_t *b, json_t *params)
{
    const char *rid = json_string_value (json_object_get (params, "requestId"));
    json_t *req = json_object_get (params, "request");
    if (!rid)
        return;
    int id;
    const char *type = json_string_value (json_object_get (params, "resourceType"));
    for (int32_t i = 0; type && i < b->spec->block_resources.n; i++)
        if (strcmp (type, b->spec->block_resources.v [i]) == 0) {
            json_t *fail = json_pack ("{s:s, s:s}", "requestId", rid, "errorReason", "BlockedByClient");
            if (fail)
                cdp_send (b, "Fetch.failRequest", fail, true, &id);
            json_decref (fail);
            return;
        }
    char origin [300];
    cdp_origin (json_string_value (json_object_get (req, "url")), origin, sizeof origin);
    json_t *cont = json_pack ("{s:s}", "requestId", rid);
    if (cont && origin [0] && strcmp (origin, b->origin) == 0) {
        json_t *list = json_array ();
        const char *name;
        json_t *value;
        json_object_foreach (json_object_get (req, "headers"), name, value) {
            bool replaced = false;
            for (int32_t i = 0; i < b->spec->nheaders && !replaced; i++)
                replaced = strcasecmp (name, b->spec->header_names [i]) == 0;
            if (!replaced && json_is_string (value))
                json_array_append_new (list, json_pack ("{s:s, s:O}", "name", name, "value", value));
        }
        for (int32_t i = 0; i < b->spec->nheaders; i++)
            json_array_append_new (list, json_pack ("{s:s, s:s}", "name", b->spec->header_names [i],
                                                    "value", b->spec->header_values [i]));
        json_object_set_new (cont, "headers", list);
    }
    if (cont)
        cdp_send (b, "Fetch.continueRequest", cont, true, &id);   /* its answer is ignored */
    json_decref (cont);
}

/* ---- the next job's context, made ahead --------------------------------------- */

/* The steps of a preparation, each sent when the one before is answered. */
enum { S_PREP_NONE, S_PREP_CONTEXT, S_PREP_TARGET, S_PREP_ATTACH, S_PREP_ENABLE, S_PREP_READY,
       S_PREP_HELD };              /* held: the context made, its page not yet (prep_hold) */
#define S_PREP_MS 20000            /* a preparation not ready by then: the browser misbehaves */

/* A preparation that cannot go on: the browser misbehaved (an error
   answer, its page gone), so it is started again between jobs; what was
   made goes with it. */
static void
s_prep_lost (cdp_t *b, const char *reason)
{
    log_warn ("the next capture's browser context was lost", "reason", reason, NULL);
    b->prep_step = S_PREP_NONE;
    b->prep_id = b->prep_first = 0;
    b->broken = true;
}

/* A held preparation goes on: its page target (Target.createTarget). */
static void
s_prep_continue (cdp_t *b)
{
    b->prep_hold = false;
    if (b->prep_step != S_PREP_HELD || b->broken || b->fd < 0)
        return;
    json_t *p = json_pack ("{s:s, s:s, s:i, s:i}", "url", "about:blank", "browserContextId", b->next_context,
                           "width", CDP_WINDOW_W, "height", CDP_WINDOW_H);
    if (!p || s_send_on (b, "Target.createTarget", p, NULL, &b->prep_id) != 0) {
        json_decref (p);
        b->broken = true;
        b->prep_step = S_PREP_NONE;
        return;
    }
    json_decref (p);
    b->prep_step = S_PREP_TARGET;
    b->prep_deadline_ms = util_mono_ms () + S_PREP_MS;   /* from now: it may have been held a while */
}

/* Begins the next job's context: its relay and Target.createBrowserContext
   (its proxy that relay); with hold, it stops there (S_PREP_HELD) until a
   call without hold, which also lets one under way go on past it. Nothing
   more when one is under way or ready, or the browser is broken; a relay
   that cannot start leaves none (the next job makes its own). */
static void
s_prep_begin (cdp_t *b, const capture_opts_t *opts, bool hold)
{
    if (b->broken || b->fd < 0)
        return;
    if (b->prep_step != S_PREP_NONE) {
        if (!hold)
            s_prep_continue (b);   /* held, or to go on once its context is answered */
        return;
    }
    char eerr [128];
    b->next_egress = egress_start (opts->allow_private, opts->allow, eerr, sizeof eerr);
    if (!b->next_egress) {
        log_warn ("the next capture's relay did not start", "reason", eerr, NULL);
        return;
    }
    /* the same bypass rule as the browser's (<-loopback>: loopback too goes through it) */
    char proxy [64];
    snprintf (proxy, sizeof proxy, "socks5://127.0.0.1:%d", egress_port (b->next_egress));
    json_t *p = json_pack ("{s:b, s:s, s:s}", "disposeOnDetach", 1, "proxyServer", proxy,
                           "proxyBypassList", "<-loopback>");
    b->next_context [0] = b->next_target [0] = b->next_session [0] = '\0';
    b->prep_started_ms = util_mono_ms ();
    b->prep_deadline_ms = b->prep_started_ms + S_PREP_MS;
    if (!p || s_send_on (b, "Target.createBrowserContext", p, NULL, &b->prep_id) != 0) {
        json_decref (p);
        b->broken = true;
        return;
    }
    json_decref (p);
    b->prep_step = S_PREP_CONTEXT;
    b->prep_hold = hold;
}

/* The answer to the preparation's waiting step: the next step sent, or
   the context ready. */
static void
s_prep_reply (cdp_t *b, json_t *msg)
{
    json_t *e = json_object_get (msg, "error"), *res = json_object_get (msg, "result");
    if (e) {
        const char *m = json_string_value (json_object_get (e, "message"));
        s_prep_lost (b, m ? m : "an error answer");
        return;
    }
    const char *method = NULL, *id = NULL;
    json_t *p = NULL;
    switch (b->prep_step) {
        case S_PREP_CONTEXT:
            id = json_string_value (json_object_get (res, "browserContextId"));
            snprintf (b->next_context, sizeof b->next_context, "%s", id ? id : "");
            if (id && b->prep_hold) {  /* its page once the job's page is shot */
                b->prep_id = b->prep_first = 0;
                b->prep_step = S_PREP_HELD;
                return;
            }
            method = "Target.createTarget";
            p = json_pack ("{s:s, s:s, s:i, s:i}", "url", "about:blank", "browserContextId", b->next_context,
                           "width", CDP_WINDOW_W, "height", CDP_WINDOW_H);
            break;
        case S_PREP_TARGET:
            id = json_string_value (json_object_get (res, "targetId"));
            snprintf (b->next_target, sizeof b->next_target, "%s", id ? id : "");
            method = "Target.attachToTarget";
            p = json_pack ("{s:s, s:b}", "targetId", b->next_target, "flatten", 1);
            break;
        case S_PREP_ATTACH:
            id = json_string_value (json_object_get (res, "sessionId"));
            snprintf (b->next_session, sizeof b->next_session, "%s", id ? id : "");
            break;
        default:
            break;
    }
    if (b->prep_step <= S_PREP_ATTACH && !id) {
        json_decref (p);
        s_prep_lost (b, "no id in the answer");
        return;
    }
    b->prep_id = b->prep_first = 0;
    if (b->prep_step == S_PREP_ATTACH) {
        /* the page's events (load, lifecycle: network idle, requests) and
           the last job's viewport (the next job skips setting it when it is
           the same), sent at once: the page answers them in order, so the
           last answer is the step's (an error in an earlier one: s_wait) */
        int first = 0, mid = 0, last = 0;
        json_t *lifecycle = json_pack ("{s:b}", "enabled", 1), *none = json_object (), *none2 = json_object ();
        int rc = lifecycle && none && none2 ? 0 : -1;
        if (rc == 0)
            rc = s_send_on (b, "Page.enable", none, b->next_session, &first);
        if (rc == 0)
            rc = s_send_on (b, "Page.setLifecycleEventsEnabled", lifecycle, b->next_session, &mid);
        if (rc == 0)
            rc = s_send_on (b, "Network.enable", none2, b->next_session, &last);
        json_decref (lifecycle), json_decref (none), json_decref (none2);
        memset (b->next_metrics, 0, sizeof b->next_metrics);
        if (rc == 0 && b->last_metrics [0] > 0) {
            json_t *m = json_pack ("{s:i, s:i, s:i, s:b}", "width", b->last_metrics [0],
                                   "height", b->last_metrics [1], "deviceScaleFactor", b->last_metrics [2],
                                   "mobile", 0);
            rc = m ? s_send_on (b, "Emulation.setDeviceMetricsOverride", m, b->next_session, &last) : -1;
            json_decref (m);
            if (rc == 0)
                memcpy (b->next_metrics, b->last_metrics, sizeof b->next_metrics);
        }
        if (rc) {
            b->broken = true;
            b->prep_step = S_PREP_NONE;
            return;
        }
        b->prep_first = first, b->prep_id = last;
        b->prep_step = S_PREP_ENABLE;
        return;
    }
    if (!method) {                 /* the last of S_PREP_ENABLE answered */
        b->prep_step = S_PREP_READY;
        char ms [24];
        snprintf (ms, sizeof ms, "%lld", (long long) (util_mono_ms () - b->prep_started_ms));
        log_info ("next browser context ready", "context", b->next_context, "ms", ms, NULL);
        return;
    }
    int rc = p ? s_send_on (b, method, p, NULL, &b->prep_id) : -1;
    json_decref (p);
    if (rc) {
        b->broken = true;
        b->prep_step = S_PREP_NONE;
        return;
    }
    b->prep_step++;
}

/* The answer to the last job's disposal: its relay stopped; an error
   answer leaves a context behind, so the browser is started again. */
static void
s_disposed (cdp_t *b, json_t *msg)
{
    if (json_object_get (msg, "error"))
        b->broken = true;
    b->dispose_id = 0;
    egress_stop (&b->old_egress);
}

/* Notes the events the wait needs. */
static void
s_cdp_event (cdp_t *b, json_t *msg)
{
    const char *method = json_string_value (json_object_get (msg, "method"));
    if (!method)
        return;
    json_t *params = json_object_get (msg, "params");
    if (b->prep_step != S_PREP_NONE
    &&  (strcmp (method, "Target.targetCrashed") == 0 || strcmp (method, "Target.detachedFromTarget") == 0)) {
        const char *tid = json_string_value (json_object_get (params, "targetId"));
        const char *psid = json_string_value (json_object_get (params, "sessionId"));
        if ((tid && b->next_target [0] && strcmp (tid, b->next_target) == 0)
        ||  (psid && b->next_session [0] && strcmp (psid, b->next_session) == 0))
            s_prep_lost (b, method);
    }
    if (!b->session [0])
        return;
    /* the job's own page only: a disposed context's last events are not its */
    const char *sid = json_string_value (json_object_get (msg, "sessionId"));
    if (strncmp (method, "Target.", 7) != 0 && (!sid || strcmp (sid, b->session) != 0))
        return;
    if (strcmp (method, "Page.loadEventFired") == 0)
        b->loaded = true;
    else
    if (strcmp (method, "Fetch.requestPaused") == 0)
        s_on_paused (b, params);
    else
    if (strcmp (method, "Page.lifecycleEvent") == 0) {
        const char *name = json_string_value (json_object_get (params, "name"));
        const char *loader = json_string_value (json_object_get (params, "loaderId"));
        if (name && strcmp (name, "networkIdle") == 0 && loader && strcmp (loader, b->loader) == 0)
            b->idle = true;
    }
    else
    if (strcmp (method, "Inspector.targetCrashed") == 0)
        b->dead = true;
    else
    if (strcmp (method, "Target.targetCrashed") == 0 || strcmp (method, "Target.detachedFromTarget") == 0) {
        const char *tid = json_string_value (json_object_get (params, "targetId"));
        const char *psid = json_string_value (json_object_get (params, "sessionId"));
        if ((tid && strcmp (tid, b->target) == 0) || (psid && strcmp (psid, b->session) == 0))
            b->dead = true;
    }
}

/* Reads messages until the reply to `id` (0: only until *flag, or until
   done(b) when done is not NULL), the deadline (monotonic ms) or, when
   wake_fd >= 0, that fd readable (2, its count read). The answers of the
   preparation's steps and of the last disposal are taken on the way. 0
   with *reply (id > 0; the caller decrefs); 1 on timeout; CDP_CANCELED;
   -1 when the browser died or sent garbage. */
static int s_wait (cdp_t *b, int id, const bool *flag, bool (*done) (const cdp_t *), int64_t deadline,
                   json_t **reply, int wake_fd);

int
cdp_wait (cdp_t *b, int id, const bool *flag, int64_t deadline, json_t **reply)
{
    int rc = b->fd >= 0 ? s_wait (b, id, flag, NULL, deadline, reply, -1) : -1;
    if (rc < 0)
        b->broken = true;          /* a pipe error, garbage, a crash: no next job on it */
    return rc;
}

static int
s_wait (cdp_t *b, int id, const bool *flag, bool (*done) (const cdp_t *), int64_t deadline,
        json_t **reply, int wake_fd)
{
    if (reply)
        *reply = NULL;
    while (true) {
        /* whole messages already buffered */
        char *nul;
        while (b->len && (nul = memchr (b->buf, '\0', b->len))) {
            size_t n = (size_t) (nul - b->buf);
            json_t *msg = json_loadb (b->buf, n, 0, NULL);
            memmove (b->buf, nul + 1, b->len - n - 1);
            b->len -= n + 1;
            if (!msg)
                return -1;
            json_t *mid = json_object_get (msg, "id");
            json_int_t mid_n = json_is_integer (mid) ? json_integer_value (mid) : 0;
            if (id > 0 && mid_n == id) {
                *reply = msg;
                return 0;
            }
            if (mid_n > 0 && mid_n == b->dispose_id)
                s_disposed (b, msg);
            else
            if (mid_n > 0 && mid_n == b->prep_id)
                s_prep_reply (b, msg);
            else
            if (mid_n > 0 && b->prep_first > 0 && mid_n >= b->prep_first && mid_n < b->prep_id) {
                if (json_object_get (msg, "error"))   /* one of a step's earlier commands */
                    s_prep_lost (b, "an error answer");
            }
            else
                s_cdp_event (b, msg);
            json_decref (msg);
        }
        if (b->dead)
            return -1;
        if (flag && *flag)
            return 0;
        if (done && done (b))
            return 0;
        if (b->cancel && atomic_load (b->cancel))
            return CDP_CANCELED;
        int64_t left = deadline - util_mono_ms ();
        if (left <= 0)
            return 1;
        int slice = b->cancel ? CDP_CANCEL_POLL_MS : 200;
        struct pollfd pfd [2] = { { .fd = b->fd, .events = POLLIN }, { .fd = wake_fd, .events = POLLIN } };
        int pr = poll (pfd, wake_fd >= 0 ? 2 : 1, (int) (left < slice ? left : slice));
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr > 0 && wake_fd >= 0 && (pfd [1].revents & POLLIN)) {
            uint64_t count;
            if (read (wake_fd, &count, sizeof count) < 0 && errno != EAGAIN && errno != EINTR)
                return -1;
            return 2;
        }
        if (pr == 0) {
            if (waitpid (b->pid, NULL, WNOHANG) == b->pid) {
                b->pid = 0;         /* reaped: the group is killed by pgid in stop */
                return -1;
            }
            continue;
        }
        if (pr < 0)
            continue;
        if (b->cap - b->len < 1024 * 1024) {
            size_t cap = b->cap ? b->cap * 2 : 4 * 1024 * 1024;
            char *grown = cap > CDP_MSG_MAX ? NULL : realloc (b->buf, cap);
            if (!grown)
                return -1;
            b->buf = grown;
            b->cap = cap;
        }
        ssize_t r = read (b->fd, b->buf + b->len, b->cap - b->len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b->len += (size_t) r;
    }
}

/* Sends and waits for the reply. 0 with *result (borrowed from *reply, which
   the caller decrefs) ; 1 timeout; -1 died or an error answer (err). */
int
cdp_call (cdp_t *b, const char *method, json_t *params, bool session, int64_t deadline,
            json_t **reply, json_t **result, char *err, size_t errsz)
{
    int id;
    *reply = NULL;
    int rc = cdp_send (b, method, params, session, &id);
    json_decref (params);
    if (rc) {
        b->broken = true;
        return -1;
    }
    rc = cdp_wait (b, id, NULL, deadline, reply);
    if (rc == 1)
        b->broken = true;          /* a call unanswered in time */
    if (rc)
        return rc;
    json_t *e = json_object_get (*reply, "error");
    if (e) {
        snprintf (err, errsz, "%s: %s", method, json_string_value (json_object_get (e, "message"))
                  ? json_string_value (json_object_get (e, "message")) : "error");
        json_decref (*reply);
        *reply = NULL;
        return -1;
    }
    *result = json_object_get (*reply, "result");
    return 0;
}

/* ---- the warm browser of this thread ------------------------------------------ */

static pthread_key_t  s_key;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static atomic_llong   s_starts;

static void
s_thread_end (void *arg)
{
    cdp_t *b = arg;
    cdp_job_close (b, true);
    cdp_stop (b);
    free (b);
}

static void
s_key_make (void)
{
    pthread_key_create (&s_key, s_thread_end);
}

/* Resident KiB of the processes in group pgid (the browser, its zygotes,
   renderers, GPU and utility processes), from /proc/<pid>/status. */
static int64_t
s_group_rss_kb (pid_t pgid)
{
    DIR *dir = opendir ("/proc");
    if (!dir)
        return 0;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir (dir))) {
        char *end;
        long pid = strtol (e->d_name, &end, 10);
        if (*end || pid <= 0 || getpgid ((pid_t) pid) != pgid)
            continue;
        char path [64], line [256];
        snprintf (path, sizeof path, "/proc/%ld/status", pid);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        while (fgets (line, sizeof line, f))
            if (strncmp (line, "VmRSS:", 6) == 0) {
                total += strtoll (line + 6, NULL, 10);
                break;
            }
        fclose (f);
    }
    closedir (dir);
    return total;
}

int64_t
cdp_starts (void)
{
    return (int64_t) atomic_load (&s_starts);
}

static pthread_mutex_t s_spare_lock = PTHREAD_MUTEX_INITIALIZER;
static cdp_t          *s_spare;     /* the sandbox probe's browser, for the first slot */

void
cdp_spare_keep (cdp_t *b)
{
    pthread_mutex_lock (&s_spare_lock);
    cdp_t *old = s_spare;
    s_spare = b;
    pthread_mutex_unlock (&s_spare_lock);
    if (old) {
        cdp_stop (old);
        free (old);
    }
}

/* The spare browser into b (which has none): true when there was one. */
static bool
s_spare_take (cdp_t *b)
{
    pthread_mutex_lock (&s_spare_lock);
    cdp_t *spare = s_spare;
    s_spare = NULL;
    pthread_mutex_unlock (&s_spare_lock);
    if (!spare)
        return false;
    *b = *spare;
    free (spare);
    return true;
}

static bool
s_no_dispose (const cdp_t *b)
{
    return b->dispose_id == 0;
}

/* Reads the answer to the last job's disposal (when no pump read it
   already) and stops its relay; a browser that does not answer in time,
   or answers an error, is stopped (broken). */
static void
s_job_finish (cdp_t *b)
{
    if (b->dispose_id > 0 && !b->broken && b->fd >= 0) {
        int rc = s_wait (b, 0, NULL, s_no_dispose, util_mono_ms () + 10000, NULL, -1);
        if (rc != 0)
            b->broken = true;      /* a context left behind: the next job gets a new browser */
    }
    if (b->broken)
        cdp_stop (b);              /* before the relay: nothing is left to relay */
    b->dispose_id = 0;
    egress_stop (&b->old_egress);
}

/* This thread's cdp_t (no browser started), made on the first call; NULL
   with why when out of memory. */
static cdp_t *
s_thread_browser (render_error_t *why)
{
    pthread_once (&s_once, s_key_make);
    cdp_t *b = pthread_getspecific (s_key);
    if (!b) {
        b = calloc (1, sizeof *b);
        if (!b) {
            capture_error (why, "capture_failed", true, "out of memory%s", "");
            return NULL;
        }
        b->fd = -1;
        pthread_setspecific (s_key, b);
    }
    return b;
}

/* cdp_warm: the last job's disposal is not waited for (its answer is read
   whenever it comes, the job's own waits included) unless the browser
   misbehaved; between jobs (`between`) its memory is always read, at a
   job's start only when nothing was prepared (it was read then). */
static cdp_t *
s_warm (const capture_opts_t *opts, bool between, render_error_t *why)
{
    cdp_t *b = s_thread_browser (why);
    if (!b)
        return NULL;
    if (b->broken)
        s_job_finish (b);
    const char *reason = NULL;
    char text [64] = "";
    if (b->broken)
        reason = "the browser misbehaved";
    else
    if (b->fd < 0 && s_spare_take (b))
        reason = "renderer start";  /* the sandbox probe's browser, still answering */
    else
    if (b->fd < 0)
        reason = b->warmed ? "first capture" : "slot start";
    else
    if (b->pid == 0 || waitpid (b->pid, NULL, WNOHANG) == b->pid) {
        reason = "the browser exited";
        b->pid = 0;                /* reaped: its group is killed by pgid */
    }
    else
    if (opts->browser_jobs_max > 0 && b->jobs >= opts->browser_jobs_max) {
        reason = "jobs";
        snprintf (text, sizeof text, "%lld", (long long) b->jobs);
    }
    else
    if (opts->browser_rss_max_mb > 0 && (between || b->prep_step == 0)) {
        int64_t kb = s_group_rss_kb (b->pgid);
        if (kb > opts->browser_rss_max_mb * 1024) {
            reason = "memory";
            snprintf (text, sizeof text, "%lld MiB", (long long) (kb / 1024));
        }
    }
    if (!reason)
        return b;
    if (strcmp (reason, "renderer start") != 0) {
        cdp_stop (b);
        if (cdp_start (b, opts, CDP_WINDOW_W, CDP_WINDOW_H, why) != 0) {
            cdp_stop (b);
            b->broken = true;
            return NULL;
        }
    }
    atomic_fetch_add (&s_starts, 1);
    char pid [16], total [24];
    snprintf (pid, sizeof pid, "%d", (int) b->pid);
    snprintf (total, sizeof total, "%lld", (long long) cdp_starts ());
    log_info ("browser started", "pid", pid, "reason", reason, "after", text [0] ? text : "-",
              "starts", total, NULL);
    return b;
}

cdp_t *
cdp_warm (const capture_opts_t *opts, render_error_t *why)
{
    return s_warm (opts, false, why);
}

/* Makes b's job context now, on the job's path: its own egress relay, a
   browser context whose proxy is that relay, an about:blank page target
   in it, attached (flat session), with Page (lifecycle) and Network events
   on. 0, or -1 with err (whatever was made is ended by cdp_job_close). */
static int
s_context_open (cdp_t *b, const capture_opts_t *opts, char *err, size_t errsz)
{
    char eerr [128];
    b->job_egress = egress_start (opts->allow_private, opts->allow, eerr, sizeof eerr);
    if (!b->job_egress) {
        snprintf (err, errsz, "cannot start the page's egress: %s", eerr);
        return -1;
    }
    /* the context's proxy is the job's relay; the same bypass rule as the
       browser's (<-loopback>: loopback too goes through it) */
    char proxy [64];
    snprintf (proxy, sizeof proxy, "socks5://127.0.0.1:%d", egress_port (b->job_egress));
    int64_t deadline = util_mono_ms () + 20000;
    json_t *reply = NULL, *res = NULL;
    int rc = cdp_call (b, "Target.createBrowserContext",
                       json_pack ("{s:b, s:s, s:s}", "disposeOnDetach", 1, "proxyServer", proxy,
                                  "proxyBypassList", "<-loopback>"),
                       false, deadline, &reply, &res, err, errsz);
    const char *id = rc == 0 ? json_string_value (json_object_get (res, "browserContextId")) : NULL;
    snprintf (b->context, sizeof b->context, "%s", id ? id : "");
    json_decref (reply);
    if (rc == 0 && !b->context [0])
        rc = -1, snprintf (err, errsz, "no browser context");
    if (rc == 0)
        rc = cdp_call (b, "Target.createTarget",
                       json_pack ("{s:s, s:s, s:i, s:i}", "url", "about:blank", "browserContextId", b->context,
                                  "width", CDP_WINDOW_W, "height", CDP_WINDOW_H),
                       false, deadline, &reply, &res, err, errsz);
    if (rc == 0) {
        id = json_string_value (json_object_get (res, "targetId"));
        snprintf (b->target, sizeof b->target, "%s", id ? id : "");
        json_decref (reply);
        rc = cdp_call (b, "Target.attachToTarget", json_pack ("{s:s, s:b}", "targetId", b->target,
                       "flatten", 1), false, deadline, &reply, &res, err, errsz);
    }
    if (rc == 0) {
        id = json_string_value (json_object_get (res, "sessionId"));
        snprintf (b->session, sizeof b->session, "%s", id ? id : "");
        json_decref (reply);
    }
    /* the page's events: load, lifecycle (network idle), requests */
    const char *steps [] = { "Page.enable", "Page.setLifecycleEventsEnabled", "Network.enable" };
    for (size_t i = 0; rc == 0 && i < sizeof steps / sizeof steps [0]; i++) {
        rc = cdp_call (b, steps [i], i == 1 ? json_pack ("{s:b}", "enabled", 1) : json_object (), true,
                       deadline, &reply, &res, err, errsz);
        json_decref (reply);
    }
    if (rc == 1)
        snprintf (err, errsz, "no answer");
    return rc ? -1 : 0;
}

int
cdp_prepare (const capture_opts_t *opts, render_error_t *why)
{
    cdp_t *b = s_thread_browser (why);
    if (!b)
        return -1;
    if (b->warmed && !b->job_since_prepare && !(b->broken && b->fd >= 0))
        return 0;
    b = s_warm (opts, true, why);  /* a start or restart clears the struct: the marks come after */
    cdp_t *mine = pthread_getspecific (s_key);
    mine->warmed = true;
    mine->job_since_prepare = false;
    if (!b)
        return -1;
    s_prep_begin (b, opts, false);
    if (b->broken) {
        cdp_stop (b);              /* the first step could not be sent: started again next time */
        b->broken = true;
        return capture_error (why, "capture_failed", true, "the browser did not take the next page%s", "");
    }
    return 0;
}

/* True when the browser is to be started again before the next job. */
static bool
s_start_due (const cdp_t *b, const capture_opts_t *opts)
{
    return b->fd < 0 || b->broken || (opts->browser_jobs_max > 0 && b->jobs >= opts->browser_jobs_max);
}

void
cdp_prepare_early (cdp_t *b, const capture_opts_t *opts)
{
    if (!s_start_due (b, opts))
        s_prep_begin (b, opts, true);
}

void
cdp_prepare_next (cdp_t *b, const capture_opts_t *opts)
{
    if (!s_start_due (b, opts))    /* else a start is due: cdp_prepare, between tasks */
        s_prep_begin (b, opts, false);
}

/* Nothing under way on the pipe: no preparation's step (a held one waits
   for no answer), no disposal. */
static bool
s_settled (const cdp_t *b)
{
    return b->broken || ((b->prep_step == S_PREP_NONE || b->prep_step == S_PREP_READY
                          || b->prep_step == S_PREP_HELD) && b->dispose_id == 0);
}

int
cdp_pump (int wake_fd)
{
    pthread_once (&s_once, s_key_make);
    cdp_t *b = pthread_getspecific (s_key);
    if (!b || b->fd < 0 || s_settled (b))
        return b && b->fd >= 0 && b->broken ? -1 : 0;
    int64_t deadline = b->prep_step != S_PREP_NONE && b->prep_step != S_PREP_READY && b->prep_step != S_PREP_HELD
                     ? b->prep_deadline_ms : util_mono_ms () + 10000;
    int rc = s_wait (b, 0, NULL, s_settled, deadline, NULL, wake_fd);
    if (rc == 2)
        return 1;
    if (rc != 0 || b->broken) {
        if (!b->broken)
            log_warn ("the browser did not answer between tasks", NULL);
        b->broken = true;
        return -1;
    }
    return 0;
}

/* The preparation's steps still to come, on the job's path (its cancel
   ends the wait). */
static bool
s_prep_done (const cdp_t *b)
{
    return b->prep_step == S_PREP_NONE || b->prep_step == S_PREP_READY;
}

int
cdp_job_open (cdp_t *b, const capture_opts_t *opts, const capture_spec_t *spec, const char *url,
              const atomic_bool *cancel, char *err, size_t errsz)
{
    if (b->broken)
        s_job_finish (b);          /* else the last disposal is answered while this job runs */
    b->loaded = b->idle = b->dead = false;
    b->loader [0] = '\0';
    b->spec = spec;
    b->cancel = cancel;
    cdp_origin (url, b->origin, sizeof b->origin);
    b->jobs++;
    b->job_since_prepare = true;
    b->prepared = false;
    b->prep_waited_ms = 0;
    s_prep_continue (b);           /* a held one goes on now; one under way goes past its context */
    if (!s_prep_done (b)) {
        int64_t t0 = util_mono_ms ();
        int rc = s_wait (b, 0, NULL, s_prep_done, b->prep_deadline_ms, NULL, -1);
        b->prep_waited_ms = util_mono_ms () - t0;
        if (rc != 0) {
            if (rc != CDP_CANCELED)
                b->broken = true;
            snprintf (err, errsz, rc == CDP_CANCELED ? "canceled" : "the next page was not made in time");
            return -1;
        }
    }
    int rc = 0;
    if (b->prep_step == S_PREP_READY && !b->broken) {
        /* this job's alone */
        memcpy (b->context, b->next_context, sizeof b->context);
        memcpy (b->target, b->next_target, sizeof b->target);
        memcpy (b->session, b->next_session, sizeof b->session);
        memcpy (b->metrics, b->next_metrics, sizeof b->metrics);
        b->job_egress = b->next_egress;
        b->next_egress = NULL;
        b->next_context [0] = b->next_target [0] = b->next_session [0] = '\0';
        b->prep_step = S_PREP_NONE;
        b->prepared = true;
    }
    else {
        memset (b->metrics, 0, sizeof b->metrics);
        rc = s_context_open (b, opts, err, errsz);
    }
    return rc;
}

void
cdp_job_close (cdp_t *b, bool wait)
{
    b->target [0] = b->session [0] = '\0';   /* its detach while disposing is no crash */
    b->dead = false;
    b->cancel = NULL;
    b->spec = NULL;
    if (b->context [0] && b->dispose_id != 0)
        s_job_finish (b);          /* one disposal at a time */
    if (b->context [0] && !b->broken && b->fd >= 0) {
        int id = 0;
        json_t *p = json_pack ("{s:s}", "browserContextId", b->context);
        if (!p || s_send_on (b, "Target.disposeBrowserContext", p, NULL, &id) != 0)
            b->broken = true;
        json_decref (p);
        b->dispose_id = id;
        b->old_egress = b->job_egress;     /* relays until the context is gone */
        b->job_egress = NULL;
    }
    else
        egress_stop (&b->job_egress);
    b->context [0] = '\0';
    if (wait || b->broken)
        s_job_finish (b);
}
