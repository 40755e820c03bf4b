/*  capture.c: probe, Chromium over the DevTools pipe, framing (see capture.h).

    Thread: the calling worker thread owns everything here for one task: the
    probe (renderer/fetch.c), the browser process group and its socket, the
    profile directory. Memory: every buffer is capped (S_CDP_MSG_MAX for one
    DevTools message, EASEL_MAX_SOURCE_BYTES for an image URL).

    Page options (capture_spec.h) stay inside the egress rule: blocking is
    Network.setBlockedURLs and Fetch (failRequest), never a proxy exception;
    cookies go to Network.setCookies with the domain the gateway checked
    (or the page URL), local storage is written only when the document's
    origin is the page's, headers only to that origin (s_on_paused). Cookie,
    storage and header values are never logged. */

#include "capture.h"
#include "background.h"
#include "capture_spec.h"
#include "device_frame.h"
#include "egress.h"
#include "encode.h"
#include "fetch.h"
#include "image_source.h"
#include "presets.h"
#include "resample.h"
#include "text_layout.h"
#include "util.h"
#include "log.h"
#include "web_url.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_CDP_MSG_MAX      (160 * 1024 * 1024)  /* a full-page screenshot in base64 */
#define S_PROBE_MAX_BYTES  EASEL_MAX_SOURCE_BYTES
#define S_ARGS_MAX         32
#define S_MARGIN_PM        60                   /* background margin, per mille of the frame width */
#define S_TEXTURE_PX       16384                /* Chromium's largest screenshot side, device px */
#define S_TILE_PX          4096                 /* device px of one tile of a taller page */

/* ---- errors ---------------------------------------------------------------- */

static int
s_err (render_error_t *why, const char *code, bool retryable, const char *fmt, const char *arg)
{
    snprintf (why->code, sizeof why->code, "%s", code);
    snprintf (why->message, sizeof why->message, fmt, arg ? arg : "");
    snprintf (why->param, sizeof why->param, "url");
    why->retryable = retryable;
    return -1;
}

/* ---- probe: is it an image, and which address does the host have --------- */

/* fetch_url with the task's headers and navigation timeout, stopping at the
   first byte unless the answer may be an image: 0 with *page set, or got
   holding the image bytes, and got->ip the address the host resolved to
   (checked against the private-network rule); -1 with why. */
static int
s_probe (const capture_spec_t *spec, const char *url, const capture_opts_t *opts, fetch_result_t *got,
         bool *page, render_error_t *why)
{
    fetch_opts_t fo = { .allow_private = opts->allow_private, .allow = opts->allow,
                        .max_bytes = S_PROBE_MAX_BYTES,
                        .timeout_ms = (long) opts->nav_timeout_ms, .images_only = true,
                        .nheaders = spec->nheaders, .header_names = spec->header_names,
                        .header_values = spec->header_values };
    char text [64];
    *page = false;
    if (fetch_url (url, &fo, got) == 0)
        return 0;
    snprintf (text, sizeof text, "%ld", got->http_status);
    switch (got->status) {
        case FETCH_NOT_IMAGE:
        case FETCH_REDIRECT:            /* the browser follows it, each hop through egress */
            *page = true;               /* a page: the browser loads it */
            return 0;
        case FETCH_NOT_ALLOWED:
            return s_err (why, "url_not_allowed", false, "url resolves to %s, a private address",
                          got->address);
        case FETCH_TIMEOUT:
            return s_err (why, "navigation_timeout", fetch_transient (got), "navigation timeout%s", "");
        case FETCH_HTTP_STATUS:
            return s_err (why, "capture_failed", fetch_transient (got), "the page answered HTTP %s", text);
        case FETCH_TOO_LARGE:
            snprintf (text, sizeof text, "%zu", (size_t) S_PROBE_MAX_BYTES);
            return s_err (why, "capture_failed", false, "url is an image larger than %s bytes", text);
        default:
            return s_err (why, "capture_failed", fetch_transient (got), "navigation failed: %s", got->message);
    }
}

/* ---- the browser --------------------------------------------------------------- */

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
} s_cdp_t;

static int
s_rm_one (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb, (void) flag, (void) ftw;
    remove (path);
    return 0;
}

static void
s_browser_stop (s_cdp_t *b)
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
    egress_stop (&b->egress);      /* after the browser: nothing is left to relay */
    if (b->profile [0])
        nftw (b->profile, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    b->profile [0] = '\0';
    free (b->buf);
    b->buf = NULL;
}

static int
s_browser_start (s_cdp_t *b, const capture_opts_t *opts, const capture_spec_t *spec,
                 render_error_t *why)
{
    memset (b, 0, sizeof *b);
    b->fd = -1;
    char eerr [128];
    b->egress = egress_start (opts->allow_private, opts->allow, eerr, sizeof eerr);
    if (!b->egress)
        return s_err (why, "capture_failed", true, "cannot start the browser's egress: %s", eerr);
    snprintf (b->profile, sizeof b->profile, "/tmp/easel-chromium-XXXXXX");
    if (!mkdtemp (b->profile)) {
        b->profile [0] = '\0';
        return s_err (why, "capture_failed", true, "cannot make a browser profile: %s", strerror (errno));
    }
    if (opts->drop_user && chown (b->profile, opts->browser_uid, opts->browser_gid) != 0)
        return s_err (why, "capture_failed", true, "cannot give the browser its profile: %s", strerror (errno));
    char prof [96], win [48], proxy [64], home [80], xdg_config [96], xdg_cache [96];
    snprintf (home, sizeof home, "HOME=%s", b->profile);
    snprintf (xdg_config, sizeof xdg_config, "XDG_CONFIG_HOME=%s", b->profile);
    snprintf (xdg_cache, sizeof xdg_cache, "XDG_CACHE_HOME=%s", b->profile);
    const char *envp [] = { home, xdg_config, xdg_cache, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
    snprintf (prof, sizeof prof, "--user-data-dir=%s", b->profile);
    snprintf (win, sizeof win, "--window-size=%d,%d", (int) spec->width, (int) spec->height);
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
        "--disable-features=DnsOverHttps,AsyncDns"
    };
    int argc = 19;
    if (!opts->sandbox)
        argv [argc++] = "--no-sandbox";
    argv [argc++] = "about:blank";
    argv [argc] = NULL;
    int sv [2];
    if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return s_err (why, "capture_failed", true, "socketpair: %s", strerror (errno));
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
        return s_err (why, "capture_failed", true, "fork: %s", strerror (errno));
    }
    setpgid (pid, pid);            /* either side may win the race; both set it */
    b->pid = b->pgid = pid;
    b->fd = sv [0];
    return 0;
}

/* Sends one command; id out. 0 / -1. */
static int
s_cdp_send (s_cdp_t *b, const char *method, json_t *params, bool session, int *id)
{
    *id = ++b->next_id;
    json_t *msg = json_pack ("{s:i, s:s, s:O}", "id", *id, "method", method, "params", params);
    if (msg && session)
        json_object_set_new (msg, "sessionId", json_string (b->session));
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

static int s_cdp_send (s_cdp_t *b, const char *method, json_t *params, bool session, int *id);

/* scheme://host:port of url into out, "" when it is not one web_url_parse takes. */
static void
s_origin (const char *url, char *out, size_t size)
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
s_on_paused (s_cdp_t *b, json_t *params)
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
                s_cdp_send (b, "Fetch.failRequest", fail, true, &id);
            json_decref (fail);
            return;
        }
    char origin [300];
    s_origin (json_string_value (json_object_get (req, "url")), origin, sizeof origin);
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
        s_cdp_send (b, "Fetch.continueRequest", cont, true, &id);   /* its answer is ignored */
    json_decref (cont);
}

/* Notes the events the wait needs. */
static void
s_cdp_event (s_cdp_t *b, json_t *msg)
{
    const char *method = json_string_value (json_object_get (msg, "method"));
    if (!method)
        return;
    json_t *params = json_object_get (msg, "params");
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
    if (strcmp (method, "Inspector.targetCrashed") == 0 || strcmp (method, "Target.targetCrashed") == 0
    ||  strcmp (method, "Target.detachedFromTarget") == 0)
        b->dead = true;
}

/* Reads messages until the reply to `id` (0: only until *flag) or the
   deadline (monotonic ms). 0 with *reply (id > 0; the caller decrefs); 1 on
   timeout; -1 when the browser died or sent garbage. */
static int
s_cdp_wait (s_cdp_t *b, int id, const bool *flag, int64_t deadline, json_t **reply)
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
            if (id > 0 && json_is_integer (mid) && json_integer_value (mid) == id) {
                *reply = msg;
                return 0;
            }
            s_cdp_event (b, msg);
            json_decref (msg);
        }
        if (b->dead)
            return -1;
        if (flag && *flag)
            return 0;
        int64_t left = deadline - util_mono_ms ();
        if (left <= 0)
            return 1;
        struct pollfd pfd = { .fd = b->fd, .events = POLLIN };
        int pr = poll (&pfd, 1, (int) (left < 200 ? left : 200));
        if (pr < 0 && errno != EINTR)
            return -1;
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
            char *grown = cap > S_CDP_MSG_MAX ? NULL : realloc (b->buf, cap);
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
static int
s_cdp_call (s_cdp_t *b, const char *method, json_t *params, bool session, int64_t deadline,
            json_t **reply, json_t **result, char *err, size_t errsz)
{
    int id;
    *reply = NULL;
    int rc = s_cdp_send (b, method, params, session, &id);
    json_decref (params);
    if (rc)
        return -1;
    rc = s_cdp_wait (b, id, NULL, deadline, reply);
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

/* Loads the page and takes the screenshot as PNG bytes. 0 / -1 with why. */
/* The device's safe-area insets (device_frame.h) for this viewport, CSS
   px, scaled with its width: the page is laid out between them, so nothing
   sits under the Dynamic Island, camera or home indicator, and s_frame
   fills the bands from the page's edge rows. None in landscape. */
static void
s_safe_area (const capture_spec_t *spec, int *top, int *bottom)
{
    const device_frame_t *f = device_frame_find (spec->device);
    *top = *bottom = 0;
    if (!f || f->css_w <= 0 || spec->height <= spec->width)
        return;
    *top = (int) lround ((double) f->safe_top * spec->width / f->css_w);
    *bottom = (int) lround ((double) f->safe_bottom * spec->width / f->css_w);
    if (*top + *bottom > spec->height / 4)
        *top = *bottom = 0;
}

/* ---- page options (capture_spec.h) ----------------------------------------- */

extern const char easel_block_ads [], easel_block_trackers [], easel_block_cookie_banners [],
                  easel_block_chat_widgets [];

/* The rule list of block category bit i (CAPTURE_BLOCK_*). */
static const char *
s_block_list (int i)
{
    const char *lists [] = { easel_block_ads, easel_block_trackers, easel_block_cookie_banners,
                             easel_block_chat_widgets };
    return lists [i];
}

/* Each "<kind> <value>" line of the spec's block categories, kind "url"
   appended to urls (a JSON array), kind "css" to sel ("a, b, ..."). */
static void
s_block_rules (const capture_spec_t *spec, json_t *urls, json_t *sel_list)
{
    for (int i = 0; i < 4; i++) {
        if (!(spec->block & (1u << i)))
            continue;
        const char *p = s_block_list (i);
        while (*p) {
            size_t n = strcspn (p, "\n");
            char line [CAPTURE_SELECTOR_MAX + 8];
            if (n < sizeof line) {
                memcpy (line, p, n);
                line [n] = '\0';
                if (strncmp (line, "url ", 4) == 0)
                    json_array_append_new (urls, json_string (line + 4));
                else
                if (strncmp (line, "css ", 4) == 0)
                    json_array_append_new (sel_list, json_string (line + 4));
            }
            p += n + (p [n] == '\n');
        }
    }
}

/* value as a JavaScript literal (JSON text), heap; NULL when out of memory. */
static char *
s_js_literal (json_t *value)
{
    char *text = value ? json_dumps (value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref (value);
    return text;
}

/* Runtime.evaluate of expr (awaiting a promise; at most timeout_ms). 0
   with *value (a new reference, JSON null when undefined); -1 with err,
   the page's exception text included. */
static int
s_eval (s_cdp_t *b, const char *expr, int timeout_ms, json_t **value, char *err, size_t errsz)
{
    json_t *reply = NULL, *res = NULL;
    *value = NULL;
    int rc = s_cdp_call (b, "Runtime.evaluate",
                         json_pack ("{s:s, s:b, s:b, s:i}", "expression", expr, "awaitPromise", 1,
                                    "returnByValue", 1, "timeout", timeout_ms),
                         true, util_mono_ms () + timeout_ms + 5000, &reply, &res, err, errsz);
    if (rc == 0) {
        json_t *exc = json_object_get (res, "exceptionDetails");
        if (exc) {
            json_t *ex = json_object_get (exc, "exception");
            const char *d = json_string_value (json_object_get (ex, "description"));
            snprintf (err, errsz, "%.200s", d ? d : json_string_value (json_object_get (exc, "text"))
                                                  ? json_string_value (json_object_get (exc, "text")) : "an exception");
            rc = -1;
        }
        else {
            json_t *v = json_object_get (json_object_get (res, "result"), "value");
            *value = v ? json_incref (v) : json_null ();
        }
    }
    else
    if (rc == 1)
        snprintf (err, errsz, "no answer in time");
    json_decref (reply);
    return rc ? -1 : 0;
}

static int
s_call_ignore (s_cdp_t *b, const char *method, json_t *params, char *err, size_t errsz)
{
    json_t *reply = NULL, *res = NULL;
    int rc = s_cdp_call (b, method, params, true, util_mono_ms () + 10000, &reply, &res, err, errsz);
    json_decref (reply);
    return rc ? -1 : 0;
}

/* Before navigation: blocked URLs, cookies, local storage, emulation. 0 / -1 with err. */
static int
s_options_before (s_cdp_t *b, const capture_spec_t *spec, const char *url, char *err, size_t errsz)
{
    json_t *urls = json_array (), *sels = json_array ();
    s_block_rules (spec, urls, sels);
    json_decref (sels);
    for (int32_t i = 0; i < spec->block_urls.n; i++)
        json_array_append_new (urls, json_string (spec->block_urls.v [i]));
    if (json_array_size (urls) > 0) {
        if (s_call_ignore (b, "Network.setBlockedURLs", json_pack ("{s:o}", "urls", urls), err, errsz))
            return -1;
    }
    else
        json_decref (urls);
    if (spec->ncookies > 0) {
        /* the gateway kept domain to the page's host or a parent of it;
           without one the cookie is the page's host only (url) */
        json_t *list = json_array ();
        for (int32_t i = 0; i < spec->ncookies; i++) {
            const capture_cookie_t *c = &spec->cookies [i];
            json_t *o = json_pack ("{s:s, s:s, s:s, s:b, s:b}", "name", c->name, "value", c->value,
                                   "path", c->path ? c->path : "/", "secure", c->secure,
                                   "httpOnly", c->http_only);
            if (!o)
                continue;
            if (c->domain)
                json_object_set_new (o, "domain", json_string (c->domain));
            else
                json_object_set_new (o, "url", json_string (url));
            if (c->expires > 0)
                json_object_set_new (o, "expires", json_real ((double) c->expires));
            json_array_append_new (list, o);
        }
        if (s_call_ignore (b, "Network.setCookies", json_pack ("{s:o}", "cookies", list), err, errsz))
            return -1;
    }
    if (spec->nstorage > 0) {
        /* runs before the page's scripts in every document; writes only
           when the document is the page's own origin */
        json_t *items = json_object ();
        for (int32_t i = 0; i < spec->nstorage; i++)
            json_object_set_new (items, spec->storage_keys [i], json_string (spec->storage_values [i]));
        char *lit = s_js_literal (items), *origin = s_js_literal (json_string (b->origin));
        size_t n = (lit ? strlen (lit) : 0) + 512;
        char *src = lit && origin ? malloc (n) : NULL;
        int rc = -1;
        if (src) {
            /* b->origin has the port always; location.origin drops a default one */
            snprintf (src, n, "(function(){var o=location.protocol+'//'+location.hostname.replace(/^(.*:.*)$/,'[$1]')"
                      "+':'+(location.port||(location.protocol==='https:'?'443':'80'));"
                      "if(o!==%s)return;var s=%s;try{for(var k in s)localStorage.setItem(k,s[k]);}catch(e){}})();",
                      origin, lit);
            rc = s_call_ignore (b, "Page.addScriptToEvaluateOnNewDocument",
                                json_pack ("{s:s}", "source", src), err, errsz);
        }
        free (src), free (lit), free (origin);
        if (rc)
            return -1;
    }
    if (spec->color_scheme [0] || spec->reduced_motion || spec->media [0]) {
        json_t *features = json_array ();
        if (spec->color_scheme [0])
            json_array_append_new (features, json_pack ("{s:s, s:s}", "name", "prefers-color-scheme",
                                                        "value", spec->color_scheme));
        if (spec->reduced_motion)
            json_array_append_new (features, json_pack ("{s:s, s:s}", "name", "prefers-reduced-motion",
                                                        "value", "reduce"));
        if (s_call_ignore (b, "Emulation.setEmulatedMedia",
                           json_pack ("{s:s, s:o}", "media", spec->media, "features", features), err, errsz))
            return -1;
    }
    if (spec->user_agent || spec->locale) {
        char ua [CAPTURE_UA_MAX + 1] = "";
        if (spec->user_agent)
            snprintf (ua, sizeof ua, "%s", spec->user_agent);
        else {                     /* the browser's own, with the locale's Accept-Language */
            json_t *reply = NULL, *res = NULL;
            if (s_cdp_call (b, "Browser.getVersion", json_object (), false, util_mono_ms () + 10000,
                            &reply, &res, err, errsz) != 0)
                return -1;
            const char *own = json_string_value (json_object_get (res, "userAgent"));
            snprintf (ua, sizeof ua, "%s", own ? own : "");
            json_decref (reply);
        }
        json_t *p = json_pack ("{s:s}", "userAgent", ua);
        if (p && spec->locale)
            json_object_set_new (p, "acceptLanguage", json_string (spec->locale));
        if (s_call_ignore (b, "Network.setUserAgentOverride", p, err, errsz))
            return -1;
    }
    if (spec->locale
    &&  s_call_ignore (b, "Emulation.setLocaleOverride", json_pack ("{s:s}", "locale", spec->locale), err, errsz))
        return -1;
    if (spec->timezone
    &&  s_call_ignore (b, "Emulation.setTimezoneOverride", json_pack ("{s:s}", "timezoneId", spec->timezone),
                       err, errsz))
        return -1;
    if (spec->has_geo) {
        json_t *reply = NULL, *res = NULL;
        int rc = s_cdp_call (b, "Browser.grantPermissions",
                             json_pack ("{s:[s], s:s}", "permissions", "geolocation", "origin", b->origin),
                             false, util_mono_ms () + 10000, &reply, &res, err, errsz);
        json_decref (reply);
        if (rc
        ||  s_call_ignore (b, "Emulation.setGeolocationOverride",
                           json_pack ("{s:f, s:f, s:f}", "latitude", spec->latitude, "longitude",
                                      spec->longitude, "accuracy", spec->accuracy), err, errsz))
            return -1;
    }
    return 0;
}

#define S_FREEZE_CSS "*,*::before,*::after{animation:none!important;transition:none!important;" \
                     "caret-color:transparent!important}"

/* The script that waits (up to ms) until sel matches (hidden: until
   nothing visible matches); resolves true, or false at the limit. */
static char *
s_wait_script (const char *sel, bool hidden, int ms)
{
    char *lit = s_js_literal (json_string (sel));
    size_t n = (lit ? strlen (lit) : 0) + 512;
    char *src = lit ? malloc (n) : NULL;
    if (src)
        snprintf (src, n, "new Promise(function(ok){var t0=Date.now();(function f(){var e=document.querySelector(%s);"
                  "var seen=!!e&&!!(e.offsetWidth||e.offsetHeight||e.getClientRects().length)"
                  "&&getComputedStyle(e).visibility!=='hidden';"
                  "if(seen!==%s)return ok(true);if(Date.now()-t0>%d)return ok(false);setTimeout(f,50);})();})",
                  lit, hidden ? "true" : "false", ms);
    free (lit);
    return src;
}

/* After the load: styles (frozen animations, hide, block lists, css),
   remove, clicks, js, wait_for, wait_for_hidden; a full page is scrolled
   through so lazy content loads. 0 / -1 with why (param the option). */
static int
s_options_after (s_cdp_t *b, const capture_spec_t *spec, render_error_t *why)
{
    char err [256] = "";
    json_t *v = NULL;
    json_t *urls = json_array (), *sels = json_array ();
    s_block_rules (spec, urls, sels);
    json_decref (urls);
    /* one style sheet: frozen motion, hidden and blocked selectors, the user's css */
    size_t cap = 1024 + (spec->css ? strlen (spec->css) : 0) + (size_t) (spec->hide.n + 200) * (CAPTURE_SELECTOR_MAX + 40);
    char *css = malloc (cap);
    if (!css) {
        json_decref (sels);
        return s_err (why, "capture_failed", true, "out of memory%s", "");
    }
    size_t used = (size_t) snprintf (css, cap, "%s", S_FREEZE_CSS);
    for (int32_t i = 0; i < spec->hide.n && used < cap; i++)
        used += (size_t) snprintf (css + used, cap - used, "%s{visibility:hidden!important}", spec->hide.v [i]);
    size_t i;
    json_t *sel;
    json_array_foreach (sels, i, sel)
        if (used < cap)
            used += (size_t) snprintf (css + used, cap - used, "%s{display:none!important}", json_string_value (sel));
    json_decref (sels);
    if (spec->css && used < cap)
        used += (size_t) snprintf (css + used, cap - used, "\n%s", spec->css);
    char *lit = s_js_literal (json_string (css));
    free (css);
    json_t *removes = json_array ();
    for (int32_t k = 0; k < spec->remove.n; k++)
        json_array_append_new (removes, json_string (spec->remove.v [k]));
    char *rlit = s_js_literal (removes);
    size_t n = (lit ? strlen (lit) : 0) + (rlit ? strlen (rlit) : 0) + 512;
    char *src = lit && rlit ? malloc (n) : NULL;
    int rc = -1;
    if (src) {
        snprintf (src, n, "(function(){var s=document.createElement('style');s.textContent=%s;"
                  "(document.head||document.documentElement).appendChild(s);"
                  "%s.forEach(function(q){try{document.querySelectorAll(q).forEach(function(e){e.remove();});}catch(e){}});"
                  "if(document.activeElement&&document.activeElement.blur)document.activeElement.blur();"
                  "return true;})()", lit, rlit);
        rc = s_eval (b, src, 5000, &v, err, sizeof err);
        json_decref (v);
    }
    free (src), free (lit), free (rlit);
    if (rc)
        return s_err (why, "capture_failed", true, "the page styles did not apply: %s", err);
    for (int32_t k = 0; k < spec->clicks.n; k++) {
        char *q = s_js_literal (json_string (spec->clicks.v [k]));
        char script [CAPTURE_SELECTOR_MAX * 6 + 256];
        snprintf (script, sizeof script, "(function(){var e=document.querySelector(%s);if(!e)return false;"
                  "e.scrollIntoView({block:'center'});e.click();return true;})()", q ? q : "''");
        free (q);
        rc = s_eval (b, script, 5000, &v, err, sizeof err);
        bool clicked = rc == 0 && json_is_true (v);
        json_decref (v);
        if (rc == 0 && !clicked && !(spec->click_optional & (1u << k))) {
            rc = s_err (why, "capture_failed", false, "click: no element matches %s", spec->clicks.v [k]);
            snprintf (why->param, sizeof why->param, "click[%d]", (int) k);
            return rc;
        }
        if (rc)
            return s_err (why, "capture_failed", false, "click: %s", err);
        bool never = false;        /* what the click starts gets a moment to draw */
        if (s_cdp_wait (b, 0, &never, util_mono_ms () + 150, NULL) < 0)
            return s_err (why, "capture_failed", true, "the browser exited during the capture%s", "");
    }
    if (spec->js) {
        rc = s_eval (b, spec->js, CAPTURE_JS_TIMEOUT_MS, &v, err, sizeof err);
        json_decref (v);
        if (rc) {
            s_err (why, "capture_failed", false, "js failed: %s", err);
            snprintf (why->param, sizeof why->param, "js");
            return -1;
        }
    }
    const char *waits [2] = { spec->wait_for, spec->wait_for_hidden };
    for (int k = 0; k < 2; k++) {
        if (!waits [k])
            continue;
        char *script = s_wait_script (waits [k], k == 1, CAPTURE_WAIT_FOR_MS);
        rc = script ? s_eval (b, script, CAPTURE_WAIT_FOR_MS + 2000, &v, err, sizeof err) : -1;
        free (script);
        bool met = rc == 0 && json_is_true (v);
        json_decref (v);
        if (!met) {
            s_err (why, "capture_failed", false, k ? "wait_for_hidden: %s is still shown"
                                                  : "wait_for: nothing matched %s in time", waits [k]);
            snprintf (why->param, sizeof why->param, "%s", k ? "wait_for_hidden" : "wait_for");
            return -1;
        }
    }
    if (spec->full_page) {
        /* lazy content: scroll down a viewport at a time up to the cap,
           wait for the images then in the page (each at most 3 s), back to the top */
        char script [1024];
        snprintf (script, sizeof script,
                  "(async function(){var h=innerHeight||800,t0=Date.now();"
                  "for(var y=0;y<Math.min(document.documentElement.scrollHeight,%d)&&Date.now()-t0<8000;y+=h){"
                  "scrollTo(0,y);await new Promise(function(r){setTimeout(r,100);});}"
                  "await Promise.all(Array.from(document.images).filter(function(i){return !i.complete;})"
                  ".map(function(i){return new Promise(function(r){i.addEventListener('load',r);"
                  "i.addEventListener('error',r);setTimeout(r,3000);});}));"
                  "scrollTo(0,0);await new Promise(function(r){setTimeout(r,100);});return true;})()",
                  CAPTURE_FULL_PAGE_MAX_PX);
        rc = s_eval (b, script, 15000, &v, err, sizeof err);
        json_decref (v);
        if (rc)
            return s_err (why, "capture_failed", true, "the full page warm-up failed: %s", err);
    }
    return 0;
}

/* The selector's box in page CSS px, padded, into clip; -1 with why when nothing matches. */
static int
s_selector_box (s_cdp_t *b, const capture_spec_t *spec, double clip [4], render_error_t *why)
{
    char *q = s_js_literal (json_string (spec->selector));
    char script [CAPTURE_SELECTOR_MAX * 6 + 256];
    snprintf (script, sizeof script, "(function(){var e=document.querySelector(%s);if(!e)return null;"
              "var r=e.getBoundingClientRect();return [r.left+scrollX,r.top+scrollY,r.width,r.height];})()",
              q ? q : "''");
    free (q);
    json_t *v = NULL;
    char err [256] = "";
    int rc = s_eval (b, script, 5000, &v, err, sizeof err);
    if (rc == 0 && json_is_array (v) && json_array_size (v) == 4
    &&  json_number_value (json_array_get (v, 2)) > 0 && json_number_value (json_array_get (v, 3)) > 0) {
        for (int i = 0; i < 4; i++)
            clip [i] = json_number_value (json_array_get (v, (size_t) i));
        json_decref (v);
        clip [0] -= spec->padding, clip [1] -= spec->padding;
        clip [2] += 2 * spec->padding, clip [3] += 2 * spec->padding;
        if (clip [0] < 0) clip [2] += clip [0], clip [0] = 0;
        if (clip [1] < 0) clip [3] += clip [1], clip [1] = 0;
        return 0;
    }
    json_decref (v);
    s_err (why, "capture_failed", false, "selector: no visible element matches %s", spec->selector);
    snprintf (why->param, sizeof why->param, "selector");
    return -1;
}

/* Base64 PNG text into a decoded image; NULL when it is not one. */
static gdImagePtr
s_decode_b64 (const char *data)
{
    size_t n = data ? strlen (data) : 0, len = 0;
    uint8_t *bytes = n ? malloc (n / 4 * 3 + 3) : NULL;
    gdImagePtr im = NULL;
    if (bytes && sodium_base642bin (bytes, n / 4 * 3 + 3, data, n, NULL, &len, NULL,
                                    sodium_base64_VARIANT_ORIGINAL) == 0)
        im = image_source_decode (bytes, len, IMAGE_SOURCE_PNG);
    free (bytes);
    if (im && !gdImageTrueColor (im))
        gdImagePaletteToTrueColor (im);
    return im;
}

/* A page taller than Chromium's texture: screenshots of S_TILE_PX device
   rows each (clip + captureBeyondViewport, one layout, so fixed and sticky
   elements sit where that layout puts them, once) stitched into one PNG. 0
   with *png, or -1 with err. */
static int
s_tiled_shot (s_cdp_t *b, const capture_spec_t *spec, int height, int64_t deadline,
              uint8_t **png, size_t *png_len, char *err, size_t errsz)
{
    int dpr = (int) spec->dpr, w = (int) spec->width * dpr, h = height * dpr;
    gdImagePtr all = gdImageCreateTrueColor (w, h);
    if (!all) {
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    int tile = S_TILE_PX / dpr, rc = 0;
    for (int y = 0; rc == 0 && y < height; y += tile) {
        int th = height - y < tile ? height - y : tile;
        json_t *reply = NULL, *res = NULL;
        rc = s_cdp_call (b, "Page.captureScreenshot",
                         json_pack ("{s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:b}", "format", "png", "clip",
                                    "x", 0, "y", y, "width", (int) spec->width, "height", th, "scale", 1,
                                    "captureBeyondViewport", 1),
                         true, deadline, &reply, &res, err, errsz);
        gdImagePtr part = rc == 0 ? s_decode_b64 (json_string_value (json_object_get (res, "data"))) : NULL;
        json_decref (reply);
        if (!part) {
            if (rc == 0)
                snprintf (err, errsz, "a tile of the page did not decode");
            rc = -1;
            break;
        }
        gdImageCopy (all, part, 0, y * dpr, 0, 0, gdImageSX (part) < w ? gdImageSX (part) : w,
                     gdImageSY (part) < th * dpr ? gdImageSY (part) : th * dpr);
        gdImageDestroy (part);
    }
    if (rc == 0 && encode_image (all, "png", S_CDP_MSG_MAX, png, png_len, err, errsz) != 0)
        rc = -1;
    gdImageDestroy (all);
    return rc;
}

static int
s_browser_capture (const capture_spec_t *spec, const char *url, const capture_opts_t *opts,
                   uint8_t **png, size_t *png_len, bool *truncated, render_error_t *why)
{
    int safe_top, safe_bottom;
    s_safe_area (spec, &safe_top, &safe_bottom);
    int view_h = (int) spec->height - safe_top - safe_bottom;     /* the page's viewport */
    s_cdp_t b;
    if (s_browser_start (&b, opts, spec, why)) {
        s_browser_stop (&b);
        return -1;
    }
    int64_t start = util_mono_ms ();
    int64_t setup_deadline = start + 20000;       /* the browser itself starting */
    json_t *reply = NULL, *res = NULL;
    char err [256] = "";
    int rc = s_cdp_call (&b, "Target.createTarget", json_pack ("{s:s}", "url", "about:blank"),
                         false, setup_deadline, &reply, &res, err, sizeof err);
    char target [128] = "";
    if (rc == 0)
        snprintf (target, sizeof target, "%s", json_string_value (json_object_get (res, "targetId"))
                  ? json_string_value (json_object_get (res, "targetId")) : "");
    json_decref (reply);
    if (rc == 0)
        rc = s_cdp_call (&b, "Target.attachToTarget", json_pack ("{s:s, s:b}", "targetId", target,
                         "flatten", 1), false, setup_deadline, &reply, &res, err, sizeof err);
    if (rc == 0) {
        snprintf (b.session, sizeof b.session, "%s",
                  json_string_value (json_object_get (res, "sessionId"))
                  ? json_string_value (json_object_get (res, "sessionId")) : "");
        json_decref (reply);
    }
    /* setup: events, emulation, and with headers every request paused so
       that only the page's own origin gets them (s_on_paused) */
    b.spec = spec;
    s_origin (url, b.origin, sizeof b.origin);
    bool fetch = spec->nheaders > 0 || spec->block_resources.n > 0;
    struct { const char *method; json_t *params; } steps [] = {
        { "Page.enable", json_object () },
        { "Page.setLifecycleEventsEnabled", json_pack ("{s:b}", "enabled", 1) },
        { "Network.enable", json_object () },
        { fetch ? "Fetch.enable" : "Network.setCacheDisabled",
          fetch ? json_pack ("{s:[{s:s, s:s}]}", "patterns", "urlPattern", "*",
                                          "requestStage", "Request")
                             : json_pack ("{s:b}", "cacheDisabled", 0) },
        { "Emulation.setDeviceMetricsOverride",
          json_pack ("{s:i, s:i, s:i, s:b}", "width", (int) spec->width, "height", view_h,
                     "deviceScaleFactor", (int) spec->dpr, "mobile", 0) },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps [0]; i++) {
        if (rc == 0) {
            rc = s_cdp_call (&b, steps [i].method, steps [i].params, true, setup_deadline,
                             &reply, &res, err, sizeof err);
            json_decref (reply);
        }
        else
            json_decref (steps [i].params);
    }
    if (rc == 0 && s_options_before (&b, spec, url, err, sizeof err) != 0)
        rc = -1;
    if (rc) {
        s_browser_stop (&b);
        return s_err (why, "capture_failed", true, "the browser did not start: %s",
                      err [0] ? err : (rc == 1 ? "no answer" : "it exited"));
    }
    /* navigation: the timeout runs from here */
    int64_t nav_deadline = util_mono_ms () + opts->nav_timeout_ms;
    b.loaded = b.idle = false;
    rc = s_cdp_call (&b, "Page.navigate", json_pack ("{s:s}", "url", url), true,
                     nav_deadline, &reply, &res, err, sizeof err);
    if (rc == 0) {
        const char *etext = json_string_value (json_object_get (res, "errorText"));
        const char *loader = json_string_value (json_object_get (res, "loaderId"));
        snprintf (b.loader, sizeof b.loader, "%s", loader ? loader : "");
        if (etext && *etext) {
            snprintf (err, sizeof err, "%s", etext);
            rc = 2;
        }
    }
    json_decref (reply);
    if (rc == 0)
        rc = s_cdp_wait (&b, 0, spec->networkidle ? &b.idle : &b.loaded, nav_deadline, NULL);
    if (rc == 0 && spec->delay_ms > 0) {
        bool never = false;
        rc = s_cdp_wait (&b, 0, &never, util_mono_ms () + spec->delay_ms, NULL);
        rc = rc == 1 ? 0 : rc;
    }
    char rhost [300], raddr [64];
    if (rc == 2 && egress_refused (b.egress, rhost, sizeof rhost, raddr, sizeof raddr) > 0) {
        s_browser_stop (&b);       /* the page itself, or a redirect, led to a private address */
        char text [400];
        snprintf (text, sizeof text, "%s resolves to %s", rhost, raddr);
        return s_err (why, "url_not_allowed", false, "the page or a redirect went to %s, a private address",
                      text);
    }
    if (rc) {
        s_browser_stop (&b);
        if (rc == 1)
            return s_err (why, "navigation_timeout", false, "navigation timeout%s", "");
        if (rc == 2)
            return s_err (why, "capture_failed", false, "navigation failed: %s", err);
        return s_err (why, "capture_failed", true, "the browser exited during the capture%s", "");
    }
    if (s_options_after (&b, spec, why) != 0) {
        s_browser_stop (&b);
        return -1;
    }
    int64_t shot_deadline = util_mono_ms () + 30000;
    double clip [4] = { spec->clip_x, spec->clip_y, spec->clip_w, spec->clip_h };
    if (spec->selector && s_selector_box (&b, spec, clip, why) != 0) {
        s_browser_stop (&b);
        return -1;
    }
    bool clipped = spec->selector || spec->has_clip;
    *truncated = false;
    if (spec->full_page && !clipped) {
        rc = s_cdp_call (&b, "Page.getLayoutMetrics", json_object (), true, shot_deadline,
                         &reply, &res, err, sizeof err);
        double h = 0;
        if (rc == 0) {
            json_t *size = json_object_get (res, "cssContentSize");
            if (!size)
                size = json_object_get (res, "contentSize");
            h = json_number_value (json_object_get (size, "height"));
        }
        json_decref (reply);
        int height = (int) ceil (h);
        if (height < view_h)
            height = view_h;
        if (height > CAPTURE_FULL_PAGE_MAX_PX)
            height = CAPTURE_FULL_PAGE_MAX_PX, *truncated = true;
        int64_t px_rows = EASEL_MAX_SOURCE_PIXELS / ((int64_t) spec->width * spec->dpr * spec->dpr);
        if (height > px_rows)      /* and at the pixel cap of any source image */
            height = (int) px_rows, *truncated = true;
        if (rc == 0 && (int64_t) height * spec->dpr > S_TEXTURE_PX) {
            rc = s_tiled_shot (&b, spec, height, shot_deadline, png, png_len, err, sizeof err);
            s_browser_stop (&b);
            if (rc)
                return s_err (why, "capture_failed", true, "the screenshot failed: %s", err);
            return 0;
        }
        if (rc == 0) {
            rc = s_cdp_call (&b, "Emulation.setDeviceMetricsOverride",
                             json_pack ("{s:i, s:i, s:i, s:b}", "width", (int) spec->width,
                                        "height", height, "deviceScaleFactor", (int) spec->dpr,
                                        "mobile", 0), true, shot_deadline, &reply, &res, err, sizeof err);
            json_decref (reply);
        }
    }
    json_t *shot = json_pack ("{s:s}", "format", "png");
    if (shot && clipped) {
        /* the region in page px, at most the source pixel cap */
        int64_t px_rows = EASEL_MAX_SOURCE_PIXELS / ((int64_t) (clip [2] > 1 ? clip [2] : 1) * spec->dpr * spec->dpr);
        if (clip [3] > (double) px_rows)
            clip [3] = (double) px_rows, *truncated = true;
        if (clip [3] * spec->dpr > S_TEXTURE_PX)   /* one screenshot: Chromium's largest */
            clip [3] = (double) (S_TEXTURE_PX / spec->dpr), *truncated = true;
        json_object_set_new (shot, "clip", json_pack ("{s:f, s:f, s:f, s:f, s:f}", "x", clip [0], "y", clip [1],
                                                      "width", clip [2], "height", clip [3], "scale", 1.0));
        json_object_set_new (shot, "captureBeyondViewport", json_true ());
    }
    if (rc == 0)
        rc = s_cdp_call (&b, "Page.captureScreenshot", shot, true,
                         shot_deadline, &reply, &res, err, sizeof err);
    else
        json_decref (shot);
    const char *data = rc == 0 ? json_string_value (json_object_get (res, "data")) : NULL;
    if (data) {
        size_t n = strlen (data);
        *png = malloc (n / 4 * 3 + 3);
        if (*png && sodium_base642bin (*png, n / 4 * 3 + 3, data, n, NULL, png_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) != 0) {
            free (*png);
            *png = NULL;
        }
    }
    json_decref (reply);
    s_browser_stop (&b);
    if (!*png)
        return s_err (why, "capture_failed", true, "the screenshot failed: %s",
                      err [0] ? err : "the browser exited");
    return 0;
}

/* ---- framing ----------------------------------------------------------------- */

/* Frame size in px for a shot drawn 1:1 in the screen. */
static void
s_frame_size (const device_frame_t *f, int sw, int sh, int *fw, int *fh)
{
    bool rotate = f->rotates && sw > sh;
    int frame_w = rotate ? f->frame_h : f->frame_w, frame_h = rotate ? f->frame_w : f->frame_h;
    int screen_w = rotate ? f->screen_h : f->screen_w;
    double k = (double) sw / (screen_w > 0 ? screen_w : 1000);
    *fw = (int) lround (frame_w * k);
    if (f->frame_h == 0)           /* height from the shot: toolbar + shot */
        *fh = (int) lround (f->screen_y * k) + sh;
    else
        *fh = (int) lround (frame_h * k);
}

/* The page's host in a browser frame's address bar (220..780 x 17..53 frame
   units), laid out and drawn as slide text is (text_layout.h): shaped, any
   script, shrunk to fit the field. */
static int
s_address_bar (gdImagePtr canvas, const device_frame_info_t *info, const char *host,
               const capture_opts_t *opts, char *err, size_t errsz)
{
    double s = info->frame_w / 1000.0;
    char *lines [1] = { (char *) host };
    text_block_t b = { .lines = lines, .nlines = 1, .weight = 400,
                       .rgb = info->silver ? 0x3C3C43 : 0xDDDDE0,   /* on the white field, or dark */
                       .size_max = 15 * s, .size_min = 9 * s, .locale = "",
                       .fallback_font = opts->font_path, .max_width = (int) (560 * s),
                       .max_height = (int) (36 * s) };
    text_result_t r;
    memset (&r, 0, sizeof r);
    if (text_layout_fit (&b, &r, err, errsz))
        return -1;
    int top = info->frame_y + (int) (35 * s) - r.height / 2;
    return text_layout_draw (canvas, &b, &r, info->frame_x + (int) (500 * s), top, err, errsz);
}

/* Frames png into the requested device and background, encodes in format. */
/* shot with pad_top rows above and pad_bottom below, each a copy of its
   edge row (a page's header colour runs on under the status bar); NULL
   when out of memory. */
static gdImagePtr
s_pad_rows (gdImagePtr shot, int pad_top, int pad_bottom)
{
    int w = gdImageSX (shot), h = gdImageSY (shot);
    gdImagePtr im = gdImageCreateTrueColor (w, h + pad_top + pad_bottom);
    if (!im)
        return NULL;
    for (int y = 0; y < h + pad_top + pad_bottom; y++) {
        int sy = y < pad_top ? 0 : y >= pad_top + h ? h - 1 : y - pad_top;
        memcpy (im->tpixels[y], shot->tpixels[sy], (size_t) w * sizeof (int));
    }
    return im;
}

static int
s_frame (const capture_spec_t *spec, const capture_opts_t *opts, const uint8_t *data, size_t len,
         const char *host, int pad_top, int pad_bottom, uint8_t **out, size_t *out_len,
         int *width, int *height, render_error_t *why)
{
    image_source_kind_t kind;
    uint32_t w0, h0;
    if (image_source_probe (data, len, &kind, &w0, &h0) != 0)
        return s_err (why, "capture_failed", false, "url is not a PNG, JPEG or WebP image%s", "");
    if ((uint64_t) w0 * h0 > EASEL_MAX_SOURCE_PIXELS)
        return s_err (why, "capture_failed", false, "the image is over %s pixels", "40 million");
    gdImagePtr shot = image_source_decode (data, len, kind);
    if (!shot)
        return s_err (why, "capture_failed", false, "the image does not decode%s", "");
    if (!gdImageTrueColor (shot))
        gdImagePaletteToTrueColor (shot);
    if (pad_top > 0 || pad_bottom > 0) {
        gdImagePtr padded = s_pad_rows (shot, pad_top, pad_bottom);
        gdImageDestroy (shot);
        if (!padded)
            return s_err (why, "capture_failed", true, "out of memory%s", "");
        shot = padded;
    }
    const device_frame_t *f = device_frame_find (spec->device);
    const presets_background_t *bg = presets_background_find (spec->background);
    if (!f || !bg) {
        gdImageDestroy (shot);
        return s_err (why, "bad_task", false, "unknown device or background%s", "");
    }
    int fw, fh;
    s_frame_size (f, gdImageSX (shot), gdImageSY (shot), &fw, &fh);
    int margin = (int) ((int64_t) fw * S_MARGIN_PM / 1000);
    int cw = fw + 2 * margin, ch = fh + 2 * margin;
    int longest = cw > ch ? cw : ch;
    if (longest > EASEL_MAX_CANVAS_SIDE_PX) {    /* too big: scale the shot down */
        double k = (double) EASEL_MAX_CANVAS_SIDE_PX / longest;
        int nw = (int) (gdImageSX (shot) * k), nh = (int) (gdImageSY (shot) * k);
        gdImagePtr small = resample_image (shot, nw > 0 ? nw : 1, nh > 0 ? nh : 1);
        gdImageDestroy (shot);
        if (!small)
            return s_err (why, "capture_failed", true, "out of memory%s", "");
        shot = small;
        s_frame_size (f, gdImageSX (shot), gdImageSY (shot), &fw, &fh);
        margin = (int) ((int64_t) fw * S_MARGIN_PM / 1000);
        cw = fw + 2 * margin, ch = fh + 2 * margin;
        if (cw > EASEL_MAX_CANVAS_SIDE_PX) cw = EASEL_MAX_CANVAS_SIDE_PX;
        if (ch > EASEL_MAX_CANVAS_SIDE_PX) ch = EASEL_MAX_CANVAS_SIDE_PX;
    }
    gdImagePtr canvas = gdImageCreateTrueColor (cw, ch);
    if (!canvas) {
        gdImageDestroy (shot);
        return s_err (why, "capture_failed", true, "out of memory%s", "");
    }
    gdImageAlphaBlending (canvas, 1);
    background_paint (canvas, bg->colors, bg->ncolors, bg->angle);
    device_frame_info_t info;
    memset (&info, 0, sizeof info);
    int rc = device_frame_draw (canvas, f, shot, margin, margin, fw, fh, "auto", false, &info);
    gdImageDestroy (shot);
    char err [256] = "";
    if (rc == 0 && f->feature == DEVICE_FEAT_BROWSER && host [0])
        rc = s_address_bar (canvas, &info, host, opts, err, sizeof err);
    if (rc == 0)
        rc = encode_image (canvas, spec->format, EASEL_MAX_MSG_BYTES / 2, out, out_len, err, sizeof err);
    *width = gdImageSX (canvas);
    *height = gdImageSY (canvas);
    gdImageDestroy (canvas);
    if (rc)
        return s_err (why, "capture_failed", true, "cannot draw the frame: %s", err);
    return 0;
}

/* ---- the task ------------------------------------------------------------------ */

/* Starts the browser as opts says and asks it for its version over the
   DevTools pipe: 0 when it answers. */
static int
s_browser_probe (const capture_opts_t *opts)
{
    capture_spec_t spec = { .width = 400, .height = 300 };
    render_error_t why;
    s_cdp_t b;
    int rc = s_browser_start (&b, opts, &spec, &why);
    json_t *reply = NULL, *res = NULL;
    char err [256];
    if (rc == 0)
        rc = s_cdp_call (&b, "Browser.getVersion", json_object (), false, util_mono_ms () + 20000,
                         &reply, &res, err, sizeof err);
    json_decref (reply);
    s_browser_stop (&b);
    return rc == 0 ? 0 : -1;
}

int
capture_browser_setup (capture_opts_t *opts, const char *user, const char *sandbox,
                       char *err, size_t errsz)
{
    opts->drop_user = false;
    if (geteuid () == 0) {
        const char *name = user && *user ? user : "nobody";
        struct passwd *pw = getpwnam (name);
        if (!pw) {
            snprintf (err, errsz, "--browser-user: no such user: %s", name);
            return -1;
        }
        if (pw->pw_uid == 0) {
            snprintf (err, errsz, "--browser-user: the browser may not run as root (%s)", name);
            return -1;
        }
        opts->drop_user = true;
        opts->browser_uid = pw->pw_uid;
        opts->browser_gid = pw->pw_gid;
    }
    const char *mode = sandbox && *sandbox ? sandbox : "auto";
    if (strcmp (mode, "off") == 0) {
        opts->sandbox = false;
        return 0;
    }
    if (strcmp (mode, "on") != 0 && strcmp (mode, "auto") != 0) {
        snprintf (err, errsz, "--browser-sandbox is on, off or auto, not %s", mode);
        return -1;
    }
    opts->sandbox = true;
    if (!opts->chromium || s_browser_probe (opts) == 0)
        return 0;
    if (strcmp (mode, "on") == 0) {
        snprintf (err, errsz, "--browser-sandbox on: the browser does not start with its sandbox here");
        return -1;
    }
    opts->sandbox = false;         /* auto: the caller logs that it is off */
    return 0;
}

const char *
capture_find_chromium (void)
{
    const char *env = getenv ("EASEL_CHROMIUM");
    if (env && *env)
        return access (env, X_OK) == 0 ? env : NULL;
    static const char *paths [] = { "/usr/bin/chromium", "/usr/bin/chromium-browser" };
    for (size_t i = 0; i < sizeof paths / sizeof paths [0]; i++)
        if (access (paths [i], X_OK) == 0)
            return paths [i];
    return NULL;
}

static int
s_run (const capture_spec_t *spec, const capture_opts_t *opts, proto_result_t *res,
       render_error_t *why)
{
    web_url_t url;                 /* the gateway checked it; parsed again, by the same rules */
    char uerr [WEB_URL_ERR_MAX];
    if (web_url_parse (spec->url, &url, uerr) != 0)
        return s_err (why, "bad_task", false, "url %s", uerr);
    char host [256];
    capture_spec_host (url.canonical, host, sizeof host);
    fetch_result_t probe;
    bool page = false;
    uint8_t *png = NULL;
    size_t png_len = 0;
    bool truncated = false;
    int rc = s_probe (spec, url.canonical, opts, &probe, &page, why);
    if (rc == 0 && !page) {
        image_source_kind_t kind;
        uint32_t w, h;
        if (image_source_probe (probe.data, probe.len, &kind, &w, &h) != 0) {
            if (strncasecmp (probe.content_type, "image/", 6) == 0)
                rc = s_err (why, "capture_failed", false, "url is not a PNG, JPEG or WebP image%s", "");
            else
                page = true;        /* bytes of no image type: let the browser show them */
        }
    }
    if (rc == 0 && page) {
        if (!opts->chromium)
            rc = s_err (why, "capture_failed", true, "this renderer has no browser%s", "");
        else
            rc = s_browser_capture (spec, url.canonical, opts, &png, &png_len, &truncated, why);
    }
    if (rc == 0) {
        int w = 0, h = 0, top = 0, bottom = 0;
        if (page && !spec->selector && !spec->has_clip)   /* a page laid out inside the safe area */
            s_safe_area (spec, &top, &bottom);
        rc = s_frame (spec, opts, page ? png : probe.data, page ? png_len : probe.len, host,
                      top * spec->dpr, bottom * spec->dpr, &res->data, &res->len, &w, &h, why);
        res->width = w, res->height = h;
        res->credits = page ? CAPTURE_PRICE_PAGE : CAPTURE_PRICE_IMAGE;
        if (rc == 0 && truncated) {  /* job_json shows it as result.truncated */
            char note [256];
            snprintf (note, sizeof note, "[{\"rule\":\"%s\",\"severity\":\"warning\",\"message\":"
                      "\"the page was cut at %d CSS px (or the 40 megapixel cap)\"}]",
                      CAPTURE_TRUNCATED_RULE, CAPTURE_FULL_PAGE_MAX_PX);
            res->findings_json = strdup (note);
        }
    }
    free (png);
    fetch_result_free (&probe);
    return rc;
}

int
capture_task_run (const proto_task_t *task, const capture_opts_t *opts,
                  int *cmd, msgpack_sbuffer *out, render_error_t *why)
{
    memset (why, 0, sizeof *why);
    capture_spec_t spec;
    char err [256] = "";
    proto_result_t res;
    memset (&res, 0, sizeof res);
    int rc;
    if (capture_spec_decode (task->spec, task->spec_len, &spec, err) != 0) {
        snprintf (why->code, sizeof why->code, "bad_task");
        snprintf (why->message, sizeof why->message, "the capture spec does not decode: %s", err);
        rc = -1;
    }
    else {
        rc = s_run (&spec, opts, &res, why);
        snprintf (res.format, sizeof res.format, "%s", spec.format);
        capture_spec_free (&spec);
    }
    if (rc == 0) {
        res.attempt = task->attempt;
        snprintf (res.task_id, sizeof res.task_id, "%s", task->task_id);
        *cmd = PROTO_RESULT;
        rc = proto_result_encode (&res, out);
        if (rc)
            snprintf (why->message, sizeof why->message, "cannot encode RESULT for %s", task->task_id);
        proto_result_free (&res);
        return rc;
    }
    proto_result_free (&res);
    proto_fail_t fail = { .attempt = task->attempt, .retryable = why->retryable };
    snprintf (fail.task_id, sizeof fail.task_id, "%s", task->task_id);
    rc = proto_error_set (&fail.error, why->code, why->message, why->param [0] ? why->param : NULL);
    if (rc == 0)
        rc = proto_fail_encode (&fail, out);
    proto_fail_free (&fail);
    *cmd = PROTO_FAIL;
    if (rc)
        snprintf (why->message, sizeof why->message, "cannot encode FAIL for %s", task->task_id);
    return rc;
}
