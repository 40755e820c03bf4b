/*  cli_up.c: `easel up`, the embedded stack on one machine.

    Opens the data dir (creating a dev account on a new one and printing its
    key once), then starts easel-scheduler, easel-gateway, easel-webhooker and
    N easel-renderer from the directory this binary lives in ($EASEL_BIN_DIR
    overrides) and supervises them: a child that dies is logged and restarted,
    at most once a second per child, except one that exits
    LOG_EXIT_CANNOT_BIND (its address is taken: restarting cannot help), which
    stops the stack; SIGINT/SIGTERM stop them all (SIGTERM, 5 s grace, then
    SIGKILL) and exit 0.

    The bus is private by default: ipc sockets in DATA/bus (mode 0700), so no
    other user or stack on the host can reach it; --bus tcp (EASEL_UP_BUS)
    uses 127.0.0.1:5555-5557 instead. Before anything starts, every address
    is probed (up_probe.h) and a taken one is refused in one line.

    Single threaded. Signals are blocked and taken with sigtimedwait, so no
    handler runs asynchronously. Settings reach the children as flags and as
    inherited environment variables.  */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include "bus_security.h"
#include "cli.h"
#include "up_probe.h"
#include "job_store.h"
#include "log.h"
#include "config.h"
#include "util.h"

#define S_MAX_RENDERERS    256
#define S_RESTART_GAP_MS   1000
#define S_STOP_GRACE_MS    5000
#define S_ARGS_MAX         16

typedef struct {
    char path[PATH_MAX];
    char label[32];                     /* "scheduler", "renderer-3" */
    char *argv[S_ARGS_MAX];             /* borrowed strings; argv[0] = path */
    pid_t pid;                          /* 0 while not running */
    int64_t started_ms, restart_at_ms;  /* restart_at 0: none pending */
    char metrics[300];                  /* --metrics host:port of this child, "" none */
} s_child_t;

static const char *s_usage =
    "usage: easel up [--listen 127.0.0.1:8080] [--data ./easel-data] [--renderers N]\n"
    "                [--public-url URL] [--bus ipc|tcp] [--api EP] [--work EP] [--events EP]\n"
    "                [--metrics HOST:PORT]   (scheduler PORT, webhooker PORT+1, renderer i PORT+1+i)\n";

/* Directory of the service binaries into dir (PATH_MAX). 0 / -1. */
static int
s_bin_dir (char *dir)
{
    const char *env = getenv ("EASEL_BIN_DIR");
    if (env && *env) {
        snprintf (dir, PATH_MAX, "%s", env);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    snprintf (dir, PATH_MAX, "%s", dirname (self));
    return 0;
}

/* dir/name into path (PATH_MAX). 0 / -1 when it does not fit. */
static int
s_join (char *path, const char *dir, const char *name)
{
    int n = snprintf (path, PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < PATH_MAX ? 0 : -1;
}

static void
s_child_start (s_child_t *c, const sigset_t *old_mask)
{
    pid_t pid = fork ();
    if (pid == 0) {
        sigprocmask (SIG_SETMASK, old_mask, NULL);
        prctl (PR_SET_PDEATHSIG, SIGTERM);     /* do not outlive a killed supervisor */
        execv (c->path, c->argv);
        fprintf (stderr, "easel: cannot run %s: %s\n", c->path, strerror (errno));
        _exit (127);
    }
    c->started_ms = util_mono_ms ();
    c->restart_at_ms = 0;
    if (pid < 0) {
        log_error ("cannot fork", "child", c->label, "error", strerror (errno), NULL);
        c->restart_at_ms = c->started_ms + S_RESTART_GAP_MS;
        return;
    }
    c->pid = pid;
    char pidtext[16];
    snprintf (pidtext, sizeof pidtext, "%d", (int) pid);
    log_info ("child started", "child", c->label, "pid", pidtext, NULL);
}

/* Reaps every exited child; with `restart`, schedules each one's restart,
   except for a child that exited LOG_EXIT_CANNOT_BIND: *cannot_bind then
   names it (borrowed label) and it stays down. */
static int
s_reap (s_child_t *children, int n, bool restart, const char **cannot_bind)
{
    int status, reaped = 0;
    pid_t pid;
    while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
        for (int i = 0; i < n; i++) {
            s_child_t *c = &children[i];
            if (c->pid != pid)
                continue;
            c->pid = 0;
            reaped++;
            if (!restart)
                break;
            char how[32], pidtext[16];
            if (WIFEXITED (status))
                snprintf (how, sizeof how, "exit %d", WEXITSTATUS (status));
            else
                snprintf (how, sizeof how, "signal %d", WTERMSIG (status));
            snprintf (pidtext, sizeof pidtext, "%d", (int) pid);
            if (WIFEXITED (status) && WEXITSTATUS (status) == LOG_EXIT_CANNOT_BIND) {
                log_error ("child cannot bind its address; not restarting", "child", c->label,
                           "pid", pidtext, NULL);
                *cannot_bind = c->label;
                break;
            }
            int64_t now = util_mono_ms ();
            c->restart_at_ms = c->started_ms + S_RESTART_GAP_MS > now
                             ? c->started_ms + S_RESTART_GAP_MS : now;
            log_warn ("child died unexpectedly; restarting", "child", c->label, "pid", pidtext,
                      "status", how, NULL);
            break;
        }
    return reaped;
}

static void
s_stop_all (s_child_t *children, int n)
{
    int live = 0;
    for (int i = 0; i < n; i++)
        if (children[i].pid > 0) {
            kill (children[i].pid, SIGTERM);
            live++;
        }
    log_info ("stopping", NULL);
    int64_t deadline = util_mono_ms () + S_STOP_GRACE_MS;
    sigset_t chld;
    sigemptyset (&chld);
    sigaddset (&chld, SIGCHLD);
    while (live > 0) {
        const char *ignored = NULL;
        live -= s_reap (children, n, false, &ignored);
        int64_t left = deadline - util_mono_ms ();
        if (live <= 0 || left <= 0)
            break;
        struct timespec ts = { left / 1000, (left % 1000) * 1000000 };
        sigtimedwait (&chld, NULL, &ts);
    }
    for (int i = 0; i < n; i++)
        if (children[i].pid > 0) {
            log_warn ("child ignored SIGTERM; killing", "child", children[i].label, NULL);
            kill (children[i].pid, SIGKILL);
            waitpid (children[i].pid, NULL, 0);
            children[i].pid = 0;
        }
}

/* The three ipc endpoints in DATA/bus, DATA made absolute (children may run
   elsewhere). 0 / -1 with a one-line reason on stderr. */
static int
s_ipc_endpoints (const char *data, char ep[3][PATH_MAX])
{
    char cwd[PATH_MAX] = "";
    if (data[0] != '/' && !getcwd (cwd, sizeof cwd)) {
        fprintf (stderr, "easel up: cannot read the current directory: %s\n", strerror (errno));
        return -1;
    }
    static const char *names[] = { "api", "work", "events" };
    for (int i = 0; i < 3; i++) {
        int len = snprintf (ep[i], PATH_MAX, "ipc://%s%s%s/bus/%s.sock", cwd, cwd[0] ? "/" : "",
                            data, names[i]);
        if (len < 0 || len >= PATH_MAX) {
            fprintf (stderr, "easel up: the data dir path is too long\n");
            return -1;
        }
    }
    return 0;
}

/* DATA/bus, owner only (made or tightened). 0 / -1 with a reason on stderr. */
static int
s_bus_dir (const char *data)
{
    char path[PATH_MAX];
    if (s_join (path, data, "bus")) {
        fprintf (stderr, "easel up: the data dir path is too long\n");
        return -1;
    }
    if ((mkdir (path, 0700) && errno != EEXIST) || chmod (path, 0700)) {
        fprintf (stderr, "easel up: cannot make %s owner-only: %s\n", path, strerror (errno));
        return -1;
    }
    return 0;
}

int
cli_up (int argc, char **argv)
{
    const char *listen = NULL, *data = NULL, *bus = NULL, *api = NULL, *work = NULL, *events = NULL;
    const char *public_url_text = NULL, *metrics = NULL;
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    int64_t nrenderers = 0;
    const config_opt_t rows [] = {
        { .flag = "--listen", .env = "EASEL_LISTEN", .kind = CONFIG_TEXT, .text = EASEL_LISTEN_DEFAULT,
          .help = "the gateway's HTTP address", .out_text = &listen },
        { .flag = "--data", .env = "EASEL_DATA", .kind = CONFIG_TEXT, .text = EASEL_DATA_DEFAULT,
          .help = "the data directory (a dev account is made in a new one)", .out_text = &data },
        { .flag = "--renderers", .kind = CONFIG_INT, .num = cores < 1 ? 1 : cores > S_MAX_RENDERERS
          ? S_MAX_RENDERERS : cores, .min = 0, .max = S_MAX_RENDERERS, .shown = "number of cores",
          .help = "renderer processes to start", .out_num = &nrenderers },
        { .flag = "--public-url", .env = "EASEL_PUBLIC_URL", .kind = CONFIG_TEXT,
          .shown = "`http://` + listen address", .help = "the public base URL of signed links",
          .out_text = &public_url_text },
        { .flag = "--bus", .env = "EASEL_UP_BUS", .kind = CONFIG_TEXT, .text = "ipc", .choices = "ipc|tcp",
          .help = "ipc: owner-only sockets in DATA/bus; tcp: the services' tcp defaults",
          .out_text = &bus },
        { .flag = "--api", .env = "EASEL_API_ENDPOINT", .kind = CONFIG_ENDPOINT, .shown = "by `--bus`",
          .help = "the scheduler's api socket", .out_text = &api },
        { .flag = "--work", .env = "EASEL_WORK_ENDPOINT", .kind = CONFIG_ENDPOINT, .shown = "by `--bus`",
          .help = "the scheduler's work socket (renderers)", .out_text = &work },
        { .flag = "--events", .env = "EASEL_EVENTS_ENDPOINT", .kind = CONFIG_ENDPOINT, .shown = "by `--bus`",
          .help = "the scheduler's events PUB socket", .out_text = &events },
        { .flag = "--metrics", .kind = CONFIG_TEXT, .text = "", .shown = "off",
          .help = "HOST:PORT: the scheduler serves /metrics on PORT, the webhooker on PORT+1, "
          "renderer i on PORT+1+i (the gateway on `--listen`)", .out_text = &metrics },
    };
    const config_table_t table = { .service = "easel up", .program = "easel up",
                                   .summary = "Starts and supervises a whole stack on this machine.",
                                   .opts = rows, .nopts = sizeof rows / sizeof rows [0] };
    char cerr[CONFIG_ERR_MAX] = "";
    int crc = config_parse (&table, argc, argv, stdout, cerr);
    if (crc > 0)
        return 0;
    if (crc < 0) {
        fprintf (stderr, "easel up: %s\n%s", cerr, s_usage);
        return 2;
    }
    bool ipc = strcmp (bus, "ipc") == 0;
    static char ipc_ep[3][PATH_MAX];
    if (ipc && s_ipc_endpoints (data, ipc_ep))
        return 1;
    if (!api)
        api = ipc ? ipc_ep[0] : EASEL_API_ENDPOINT_DEFAULT;
    if (!work)
        work = ipc ? ipc_ep[1] : EASEL_WORK_ENDPOINT_DEFAULT;
    if (!events)
        events = ipc ? ipc_ep[2] : EASEL_EVENTS_ENDPOINT_DEFAULT;
    char public_url[512];
    snprintf (public_url, sizeof public_url, "%s", public_url_text ? public_url_text : "");
    if (!public_url[0])
        snprintf (public_url, sizeof public_url, "http://%s", listen);
    /* Metrics listeners: one address per child (a shared EASEL_METRICS_LISTEN
       would make all but one fail to bind), from --metrics HOST:PORT up. */
    unsetenv ("EASEL_METRICS_LISTEN");
    char metrics_host[256] = "";
    int64_t metrics_port = 0;
    if (*metrics) {
        const char *colon = strrchr (metrics, ':');
        if (!colon || colon == metrics || (size_t) (colon - metrics) >= sizeof metrics_host
        ||  util_parse_i64 (colon + 1, 1, 65535 - 2 - (int64_t) nrenderers, &metrics_port)) {
            fprintf (stderr, "easel up: --metrics wants HOST:PORT with room for %d ports above PORT, got \"%s\"\n",
                     2 + (int) nrenderers, metrics);
            return 2;
        }
        memcpy (metrics_host, metrics, (size_t) (colon - metrics));
        metrics_host[colon - metrics] = 0;
    }

    log_init ("easel-up");

    /* Everything must be there before anything starts. */
    char dir[PATH_MAX];
    if (s_bin_dir (dir)) {
        fprintf (stderr, "easel up: cannot find the directory this binary runs from\n");
        return 1;
    }
    static const char *names[] = { "easel-scheduler", "easel-gateway", "easel-webhooker", "easel-renderer" };
    for (int i = 0; i < 4; i++) {
        char path[PATH_MAX];
        if (s_join (path, dir, names[i]) || access (path, X_OK)) {
            fprintf (stderr, "easel up: missing binary %s (install all Easel binaries together "
                             "or set EASEL_BIN_DIR)\n", path);
            return 1;
        }
    }

    /* Every address free, or nothing starts (and the data dir is untouched). */
    const char *endpoints[] = { api, work, events };
    char why[UP_PROBE_WHY_MAX];
    for (int i = 0; i < 3; i++)
        if (up_probe_endpoint (endpoints[i], why, sizeof why)) {
            fprintf (stderr, "easel up: refusing to start: %s\n", why);
            return 1;
        }
    if (up_probe_listen (listen, why, sizeof why)) {
        fprintf (stderr, "easel up: refusing to start: %s\n", why);
        return 1;
    }

    char err[256] = "";
    job_store_t *store = job_store_open (data, err);
    if (!store) {
        fprintf (stderr, "easel up: cannot open data dir %s: %s\n", data, err);
        return 1;
    }
    int64_t accounts = job_store_account_count (store);
    job_store_new_key_t key;
    if (accounts < 0) {
        job_store_destroy (&store);
        fprintf (stderr, "easel up: cannot read data dir %s\n", data);
        return 1;
    }
    if (accounts == 0 && job_store_account_create (store, "dev", JOB_STORE_UNLIMITED, &key, err)) {
        job_store_destroy (&store);
        fprintf (stderr, "easel up: cannot create the dev account in %s: %s\n", data, err);
        return 1;
    }
    job_store_destroy (&store);
    if (ipc && s_bus_dir (data))
        return 1;
    printf ("Easel is up: %s\n", public_url);
    if (accounts == 0)
        printf ("API key (dev, shown once): %s\nWebhook secret: %s\n", key.api_key, key.webhook_secret);
    fflush (stdout);

    /* Children inherit the settings as variables as well as flags. */
    setenv ("EASEL_LISTEN", listen, 1);
    setenv ("EASEL_DATA", data, 1);
    setenv ("EASEL_API_ENDPOINT", api, 1);
    setenv ("EASEL_WORK_ENDPOINT", work, 1);
    setenv ("EASEL_EVENTS_ENDPOINT", events, 1);
    setenv ("EASEL_PUBLIC_URL", public_url, 1);
    /* One machine on loopback: the bus is plain (one set of EASEL_CURVE_*
       variables cannot serve the scheduler and its clients at once). */
    if (bus_security_endpoint_local (api) && bus_security_endpoint_local (work)
    &&  bus_security_endpoint_local (events)) {
        unsetenv ("EASEL_CURVE_CERT");
        unsetenv ("EASEL_CURVE_SERVER_KEY");
        unsetenv ("EASEL_CURVE_ALLOWED_DIR");
    }

    int n = 3 + (int) nrenderers;
    s_child_t *children = calloc ((size_t) n, sizeof *children);
    if (!children) {
        fprintf (stderr, "easel up: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        s_child_t *c = &children[i];
        const char *name = names[i < 3 ? i : 3];
        s_join (c->path, dir, name);          /* fits: checked above */
        if (i < 3)
            snprintf (c->label, sizeof c->label, "%s", name + strlen ("easel-"));
        else
            snprintf (c->label, sizeof c->label, "renderer-%d", i - 2);
        int k = 0;
        c->argv[k++] = c->path;
        /* each child is given the endpoints it uses: its flags are checked */
        if (i < 3) {
            c->argv[k++] = "--api";    c->argv[k++] = (char *) api;
            c->argv[k++] = "--events"; c->argv[k++] = (char *) events;
        }
        if (i == 0 || i >= 3) {
            c->argv[k++] = "--work";   c->argv[k++] = (char *) work;
        }
        if (i == 0) {
            c->argv[k++] = "--data";
            c->argv[k++] = (char *) data;
        }
        if (i == 1) {
            c->argv[k++] = "--listen";
            c->argv[k++] = (char *) listen;
        }
        if (metrics_port && i != 1) {       /* the gateway serves /metrics on --listen */
            snprintf (c->metrics, sizeof c->metrics, "%s:%d", metrics_host,
                      (int) metrics_port + (i == 0 ? 0 : i == 2 ? 1 : i - 1));
            c->argv[k++] = "--metrics";
            c->argv[k++] = c->metrics;
        }
        c->argv[k] = NULL;
    }

    sigset_t mask, old_mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGCHLD);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGTERM);
    sigprocmask (SIG_BLOCK, &mask, &old_mask);
    for (int i = 0; i < n; i++)
        s_child_start (&children[i], &old_mask);

    const char *cannot_bind = NULL;
    while (true) {
        struct timespec ts = { 0, 200 * 1000000 };
        int sig = sigtimedwait (&mask, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        s_reap (children, n, true, &cannot_bind);
        if (cannot_bind)
            break;
        int64_t now = util_mono_ms ();
        for (int i = 0; i < n; i++)
            if (children[i].pid == 0 && children[i].restart_at_ms && now >= children[i].restart_at_ms)
                s_child_start (&children[i], &old_mask);
    }
    s_stop_all (children, n);
    free (children);
    log_info ("stopped", NULL);
    if (cannot_bind) {
        fprintf (stderr, "easel up: stopped: the %s cannot bind its address (its log line above "
                         "says which); another stack may hold it\n", cannot_bind);
        return 1;
    }
    return 0;
}
