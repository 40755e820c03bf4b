/*  main.c: easel-renderer, a render worker on the bus.

    The main thread owns the link to the scheduler's work socket (a bus
    worker announcing READY{name, slots, capture}), hands each TASK to a
    queue, and sends back what the workers produce. `slots` worker threads
    take tasks from the queue (mutex + condvar), render them with
    render_task_run() and push the encoded RESULT/FAIL to the main thread
    over an inproc PUSH/PULL pair; no worker touches the link.

    A capture slot's browser works between tasks too (capture_page.h): the
    next job's context is begun once a job's page is shot (made while its
    image is framed and encoded), and what is left of it
    (and of the last job's disposal) while the slot waits. An idle slot then
    waits on its browser's pipe and on its eventfd, which the main thread
    writes when it queues a task, so a task never waits for that work to
    end before a slot takes it (the job waits only for what its own page
    still needs).

    CANCEL_TASKS (a render was canceled) names tasks held here: those still
    queued are dropped and answered at once with a FAIL "canceled" by the main
    thread; for those running, the worker's slot cancel flag is set, which
    render_task_run checks during fetches, while a slide's page loads in the
    browser (capture_page_shot) and between drawing phases, so the
    worker answers FAIL "canceled" (not retryable) soon after and takes the
    next task.

    The link itself is a bus worker (common/bus_worker.h): READY,
    heartbeats, liveness, reconnect with backoff, DRAINING and DISCONNECT.
    When it finds the scheduler dead its generation moves on, so tasks and
    answers of the old link are dropped here (the scheduler requeues them).

    Configuration: the settings table in s_configure (config.h; `--help`).
    SIGINT/SIGTERM drain: DRAINING (the scheduler leases nothing new here),
    finish every task held, then DISCONNECT and exit 0; a second signal, or
    the drain limit, stops at once (the scheduler requeues what is left). */
#include "bus.h"
#include "bus_security.h"
#include "bus_worker.h"
#include "config.h"
#include "log.h"
#include "render_task.h"
#include "task_blobs.h"
#include "capture.h"
#include "capture_page.h"
#include "cdp.h"
#include "render_metrics.h"
#include "metrics.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <gd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define S_RESULTS_ENDPOINT "inproc://easel-renderer-results"
#define S_DEFAULT_FONT     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#define S_DRAIN_QUIET_MS   (2 * EASEL_HEARTBEAT_MS)   /* a TASK sent before READY 0 lands by then */
#define S_DRAIN_LINGER_MS  2000     /* last RESULT and DISCONNECT get this long to leave */

static volatile sig_atomic_t s_signals;    /* SIGINT/SIGTERM seen: 1 drains, 2 stops */

static void
s_on_signal (int sig)
{
    (void) sig;
    if (s_signals < 2)
        s_signals++;
}

typedef struct s_job {
    struct s_job *next;
    int     gen;                    /* link generation the task came on */
    proto_task_t task;              /* decoded by the main thread; owned */
} s_job_t;

struct s_shared;

/* One worker: the task it runs, guarded by the shared lock; cancel is set by
   the main thread and read lock-free by the render. */
typedef struct {
    struct s_shared *sh;
    char        task_id[PROTO_ID_MAX];  /* "" when idle */
    int32_t     attempt;
    int         gen;
    atomic_bool cancel;
    int         wake_fd;            /* eventfd: a task was queued while the slot pumped its browser */
    bool        pumping;            /* under the lock: waiting on its browser, not on `wake` */
} s_slot_t;

/* Shared between the main thread and the workers; guarded by lock. */
typedef struct s_shared {
    pthread_mutex_t lock;
    pthread_cond_t  wake;
    s_job_t *head, *tail;
    int      queued, max_queued;
    int      busy;                  /* tasks taken by a worker and not yet answered */
    int      gen;
    bool     stop;
    s_slot_t *slots;                /* one per worker */
    int      nslots;
    slide_render_opts_t opts;       /* read-only after start */
    capture_opts_t capture;         /* read-only after start; chromium NULL: no browser */
    int      delay_ms;              /* read-only after start */
} s_shared_t;

static bool
s_job_current (s_shared_t *sh, const s_job_t *job)
{
    pthread_mutex_lock (&sh->lock);
    bool current = job->gen == sh->gen && !sh->stop;
    pthread_mutex_unlock (&sh->lock);
    return current;
}

/* Sleeps delay_ms unless told to stop (or the task to cancel) first. */
static void
s_test_delay (s_shared_t *sh, s_slot_t *slot)
{
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += sh->delay_ms / 1000;
    until.tv_nsec += (long) (sh->delay_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&sh->lock);
    while (!sh->stop && !atomic_load (&slot->cancel)
       &&  pthread_cond_timedwait (&sh->wake, &sh->lock, &until) == 0)
        ;
    pthread_mutex_unlock (&sh->lock);
}

static void
s_run_task (s_slot_t *slot, zsock_t *push, int gen, proto_task_t *task, const char *attempt)
{
    s_shared_t *sh = slot->sh;
    slide_render_opts_t opts = sh->opts;
    opts.cancel = &slot->cancel;
    opts.render_id = task->render_id;
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    render_error_t why;
    int cmd = 0;
    int64_t started = util_mono_ms ();
    double t0 = metrics_now ();
    render_metrics_busy (1);
    int rc;
    if (task_blobs_fetch (task, &why))
        rc = render_task_fail (task, &why, &cmd, &out);
    else {
        rc = strncmp (task->task_id, "cap_", 4) == 0
           ? capture_task_run (task, &sh->capture, &cmd, &out, &why)
           : render_task_run (task, &opts, &sh->capture, &cmd, &out, &why);
        /* an object store: the result's bytes go there, RESULT names them */
        if (rc == 0 && cmd == PROTO_RESULT && task_blobs_put_result (task, &out, &why)) {
            msgpack_sbuffer_clear (&out);
            rc = render_task_fail (task, &why, &cmd, &out);
        }
    }
    render_metrics_busy (-1);
    if (task->render_last)
        fetch_cache_drop (opts.fetch_cache, task->render_id);
    if (rc == 0)
        render_metrics_task (task, cmd, out.size, metrics_now () - t0);
    char ms[24];
    snprintf (ms, sizeof ms, "%lld", (long long) (util_mono_ms () - started));
    if (rc != 0)
        log_error ("task dropped", "task", task->task_id, "reason", why.message, NULL);
    else {
        if (cmd == PROTO_RESULT)
            log_info ("task rendered", "task", task->task_id, "attempt", attempt, "ms", ms,
                      "request_id", task->req, NULL);
        else
        if (strcmp (why.code, "canceled") == 0)
            log_info ("task canceled", "task", task->task_id, "attempt", attempt, "ms", ms,
                      "while", "running", "message", why.message, "request_id", task->req, NULL);
        else
            log_info ("task failed", "task", task->task_id, "attempt", attempt, "ms", ms,
                      "code", why.code, "message", why.message, "request_id", task->req, NULL);
        zsock_send (push, "iib", gen, cmd, out.data, out.size);
    }
    msgpack_sbuffer_destroy (&out);
}

static void *
s_worker (void *arg)
{
    s_slot_t *slot = arg;
    s_shared_t *sh = slot->sh;
    zsock_t *push = zsock_new_push (">" S_RESULTS_ENDPOINT);
    if (!push) {
        log_error ("worker cannot connect to the results pipe", NULL);
        return NULL;
    }
    capture_page_prepare (&sh->capture);     /* the slot's browser, warm before its first task */
    bool pump = true;                        /* its browser may have work under way */
    for (;;) {
        pthread_mutex_lock (&sh->lock);
        while (!sh->head && !sh->stop) {
            if (pump) {
                slot->pumping = true;
                pthread_mutex_unlock (&sh->lock);
                pump = capture_page_pump (&sh->capture, slot->wake_fd);
                pthread_mutex_lock (&sh->lock);
                slot->pumping = false;
            }
            else
                pthread_cond_wait (&sh->wake, &sh->lock);
        }
        if (sh->stop) {
            pthread_mutex_unlock (&sh->lock);
            break;
        }
        s_job_t *job = sh->head;
        sh->head = job->next;
        if (!sh->head)
            sh->tail = NULL;
        sh->queued--;
        sh->busy++;
        snprintf (slot->task_id, sizeof slot->task_id, "%s", job->task.task_id);
        slot->attempt = job->task.attempt;
        slot->gen = job->gen;
        atomic_store (&slot->cancel, false);
        pthread_mutex_unlock (&sh->lock);

        proto_task_t *task = &job->task;
        char attempt[16];
        snprintf (attempt, sizeof attempt, "%d", task->attempt);
        log_info ("task started", "task", task->task_id, "attempt", attempt,
                  "request_id", task->req, NULL);
        if (sh->delay_ms > 0)
            s_test_delay (sh, slot);
        if (s_job_current (sh, job))
            s_run_task (slot, push, job->gen, task, attempt);
        proto_task_free (&job->task);
        free (job);
        pthread_mutex_lock (&sh->lock);
        sh->busy--;
        slot->task_id[0] = 0;
        pthread_mutex_unlock (&sh->lock);
        /* answered: a restart when one is due, the next context begun */
        capture_page_prepare (&sh->capture);
        pump = true;
    }
    zsock_destroy (&push);
    return NULL;
}

/* ---- the link to the scheduler (main thread only) ----------------------- */

/* The bus worker (bus_worker.h) owns READY, heartbeats, liveness and
   reconnects; this is what the renderer adds: its drain, its queue, and the
   results pipe from the workers. */
typedef struct {
    bus_worker_t *bus;
    zsock_t   *pull;                /* answers from the workers */
    int        drain_ms;            /* longest drain */
    int64_t    drain_until_ms;      /* 0 until a drain starts */
    int64_t    drain_quiet_ms;      /* no early stop before this */
} s_link_t;

/* Starts a drain: DRAINING, so the scheduler leases nothing new here. */
static void
s_drain_start (s_link_t *link)
{
    int64_t now = util_mono_ms ();
    link->drain_until_ms = now + link->drain_ms;
    link->drain_quiet_ms = now + S_DRAIN_QUIET_MS;
    bus_worker_drain (link->bus);
    char ms [24];
    snprintf (ms, sizeof ms, "%d", link->drain_ms);
    log_info ("draining: no new tasks; finishing those held", "drain_ms", ms, NULL);
}

/* True when a drain may end: nothing queued, running or waiting to be sent. */
static bool
s_drain_done (s_link_t *link, s_shared_t *sh)
{
    int64_t now = util_mono_ms ();
    if (now >= link->drain_until_ms) {
        log_warn ("drain limit reached; the scheduler requeues the rest", NULL);
        return true;
    }
    if (!bus_worker_ready (link->bus))
        return true;                /* READY never left: nothing was leased here */
    if (now < link->drain_quiet_ms)
        return false;
    pthread_mutex_lock (&sh->lock);
    bool idle = sh->queued == 0 && sh->busy == 0;
    pthread_mutex_unlock (&sh->lock);
    return idle && !(zsock_events (link->pull) & ZMQ_POLLIN);
}

/* The workers see the link's generation so they skip tasks of a dead link. */
static void
s_gen_sync (s_link_t *link, s_shared_t *sh)
{
    int gen = bus_worker_gen (link->bus);
    pthread_mutex_lock (&sh->lock);
    sh->gen = gen;
    pthread_mutex_unlock (&sh->lock);
}

static void
s_send (s_link_t *link, int gen, int cmd, const msgpack_sbuffer *buf)
{
    if (bus_worker_send (link->bus, gen, cmd, buf->data, buf->size) != 0 && errno != ESTALE)
        log_warn ("answer not sent; the scheduler will requeue the task",
                  "cmd", proto_cmd_name (cmd), "reason", strerror (errno), NULL);
}

/* Answers a task dropped from the queue: FAIL "canceled", not retryable. */
static void
s_send_canceled (s_link_t *link, int gen, const proto_task_t *task)
{
    proto_fail_t fail = { .attempt = task->attempt, .retryable = false };
    snprintf (fail.task_id, sizeof fail.task_id, "%s", task->task_id);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init (&buf);
    if (proto_error_set (&fail.error, "canceled", "the render was canceled", NULL) == 0
    &&  proto_fail_encode (&fail, &buf) == 0)
        s_send (link, gen, PROTO_FAIL, &buf);
    msgpack_sbuffer_destroy (&buf);
    proto_fail_free (&fail);
}

static bool
s_cancel_names (const proto_cancel_tasks_t *c, const char *task_id, int32_t attempt)
{
    for (int32_t i = 0; i < c->ntasks; i++)
        if (c->tasks[i].attempt == attempt && strcmp (c->tasks[i].task_id, task_id) == 0)
            return true;
    return false;
}

/* CANCEL_TASKS: drops the named tasks still queued (answered here at once)
   and tells the workers running one to stop (they answer when they do). */
static void
s_on_cancel (s_link_t *link, s_shared_t *sh, bus_msg_t *msg)
{
    proto_cancel_tasks_t c;
    char err[PROTO_ERR_MAX] = "";
    if (proto_cancel_tasks_decode ((const char *) zframe_data (msg->body), zframe_size (msg->body),
                                   &c, err) != 0) {
        log_warn ("undecodable CANCEL_TASKS dropped", "reason", err, NULL);
        return;
    }
    int gen = bus_worker_gen (link->bus);
    s_job_t *dropped = NULL;
    int running = 0;
    pthread_mutex_lock (&sh->lock);
    for (s_job_t **at = &sh->head, *prev = NULL; *at; ) {
        s_job_t *job = *at;
        if (job->gen == gen && s_cancel_names (&c, job->task.task_id, job->task.attempt)) {
            *at = job->next;
            if (sh->tail == job)
                sh->tail = prev;
            sh->queued--;
            job->next = dropped;
            dropped = job;
        }
        else {
            prev = job;
            at = &job->next;
        }
    }
    for (int i = 0; i < sh->nslots; i++) {
        s_slot_t *slot = &sh->slots[i];
        if (slot->task_id[0] && slot->gen == gen
        &&  s_cancel_names (&c, slot->task_id, slot->attempt)) {
            atomic_store (&slot->cancel, true);
            running++;
        }
    }
    if (running)
        pthread_cond_broadcast (&sh->wake);     /* ends a test delay */
    pthread_mutex_unlock (&sh->lock);
    while (dropped) {
        s_job_t *job = dropped;
        dropped = job->next;
        char attempt[16];
        snprintf (attempt, sizeof attempt, "%d", job->task.attempt);
        log_info ("task canceled", "task", job->task.task_id, "attempt", attempt,
                  "while", "queued", "render", c.render_id, "request_id", job->task.req, NULL);
        s_send_canceled (link, gen, &job->task);
        proto_task_free (&job->task);
        free (job);
    }
    char n[16];
    snprintf (n, sizeof n, "%d", running);
    log_info ("cancel received", "render", c.render_id, "running_told_to_stop", n, NULL);
    proto_cancel_tasks_free (&c);
}

/* Under the lock: the slots waiting on their browser look at the queue. */
static void
s_wake_pumping (s_shared_t *sh)
{
    for (int i = 0; i < sh->nslots; i++)
        if (sh->slots[i].pumping && eventfd_write (sh->slots[i].wake_fd, 1) != 0)
            log_warn ("cannot wake a slot", "reason", strerror (errno), NULL);
}

static void
s_on_task (s_link_t *link, s_shared_t *sh, bus_msg_t *msg)
{
    char err[PROTO_ERR_MAX] = "";
    s_job_t *job = calloc (1, sizeof *job);
    if (job && proto_task_decode ((const char *) zframe_data (msg->body), zframe_size (msg->body),
                                  &job->task, err) != 0) {
        log_warn ("undecodable TASK dropped", "reason", err, NULL);
        free (job);
        return;
    }
    pthread_mutex_lock (&sh->lock);
    if (!job || sh->queued >= sh->max_queued) {
        pthread_mutex_unlock (&sh->lock);
        log_warn ("task dropped: queue full or out of memory", NULL);
        if (job)
            proto_task_free (&job->task);
        free (job);
        return;
    }
    job->gen = bus_worker_gen (link->bus);
    if (sh->tail)
        sh->tail->next = job;
    else
        sh->head = job;
    sh->tail = job;
    sh->queued++;
    pthread_cond_signal (&sh->wake);
    s_wake_pumping (sh);
    pthread_mutex_unlock (&sh->lock);
}

static void
s_on_bus (s_link_t *link, s_shared_t *sh)
{
    bus_msg_t msg;
    char err[PROTO_ERR_MAX] = "";
    if (bus_worker_recv (link->bus, &msg, err) != 0) {
        if (err[0] && strcmp (err, "interrupted") != 0)
            log_warn ("malformed message from the scheduler", "reason", err, NULL);
        return;
    }
    if (msg.cmd == PROTO_CANCEL_TASKS)
        s_on_cancel (link, sh, &msg);
    else
    if (msg.cmd == PROTO_TASK)
        s_on_task (link, sh, &msg);
    else
    if (msg.cmd == PROTO_ERROR) {
        proto_errmsg_t em = { 0 };
        if (proto_errmsg_decode ((const char *) zframe_data (msg.body), zframe_size (msg.body), &em, err) == 0)
            log_warn ("scheduler answered an error", "code", em.error.code,
                      "message", em.error.message ? em.error.message : "", NULL);
        proto_errmsg_free (&em);
    }
    else
        log_warn ("unexpected command from the scheduler", "cmd", proto_cmd_name (msg.cmd), NULL);
    bus_msg_free (&msg);
}

/* One answer from a worker; one of a dead link's is dropped (bus_worker_send). */
static void
s_on_result (s_link_t *link)
{
    int gen = 0, cmd = 0;
    byte *data = NULL;
    size_t size = 0;
    if (zsock_recv (link->pull, "iib", &gen, &cmd, &data, &size) != 0)
        return;
    msgpack_sbuffer buf = { .size = size, .data = (char *) data, .alloc = size };
    s_send (link, gen, cmd, &buf);
    free (data);
}

static void
s_run (s_link_t *link, s_shared_t *sh)
{
    while (!zsys_interrupted && s_signals < 2) {
        if (s_signals == 1 && !link->drain_until_ms)
            s_drain_start (link);
        if (link->drain_until_ms && s_drain_done (link, sh))
            break;
        int timeout = bus_worker_wait_ms (link->bus);
        if (link->drain_until_ms && timeout > 100)
            timeout = 100;
        zsock_t *dealer = bus_worker_sock (link->bus);
        zmq_pollitem_t items [2] = {
            { zsock_resolve (link->pull), 0, ZMQ_POLLIN, 0 },
            { dealer ? zsock_resolve (dealer) : NULL, 0, ZMQ_POLLIN, 0 }
        };
        if (zmq_poll (items, dealer ? 2 : 1, timeout) < 0 && zsys_interrupted && !s_signals)
            break;
        if (dealer && (items [1].revents & ZMQ_POLLIN))
            s_on_bus (link, sh);
        if (items [0].revents & ZMQ_POLLIN)
            s_on_result (link);
        if (bus_worker_tick (link->bus))
            s_gen_sync (link, sh);
        if (bus_worker_gone (link->bus))
            break;                  /* silent while draining */
    }
    bus_worker_disconnect (link->bus, S_DRAIN_LINGER_MS);
    s_gen_sync (link, sh);
}

/* The renderer's settings, read once by s_configure. */
typedef struct {
    const char *work, *font, *allow_networks, *capture, *browser_user, *browser_sandbox, *metrics;
    int64_t slots, delay_ms, nav_timeout_ms, drain_ms, browser_jobs, browser_rss_mb;
    bool allow_private;
} s_config_t;

static void
s_configure (s_config_t *cfg, int argc, char **argv)
{
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    const config_opt_t rows [] = {
        CONFIG_WORK_ENDPOINT (&cfg->work),
        { .flag = "--slots", .env = "EASEL_RENDERER_SLOTS", .kind = CONFIG_INT,
          .num = cores > 0 ? (cores > EASEL_RENDERER_SLOTS_MAX ? EASEL_RENDERER_SLOTS_MAX : cores) : 1,
          .min = 1, .max = EASEL_RENDERER_SLOTS_MAX, .shown = "number of cores",
          .help = "tasks drawn at once (one worker thread each)", .out_num = &cfg->slots },
        { .flag = "--font", .env = "EASEL_FONT", .kind = CONFIG_TEXT, .text = S_DEFAULT_FONT,
          .shown = "DejaVu Sans Bold", .help = "the last-resort font, after the Noto fonts picked by "
          "script (`fonts-noto-core`, `fonts-noto-cjk` under /usr/share/fonts; FreeType faces are "
          "opened once per worker thread)", .out_text = &cfg->font },
        CONFIG_ALLOW_PRIVATE (&cfg->allow_private),
        { .flag = "--allow-networks", .env = "EASEL_ALLOW_NETWORKS", .kind = CONFIG_TEXT, .text = "",
          .shown = "none", .help = "CIDR list of private networks allowed all the same",
          .out_text = &cfg->allow_networks },
        { .flag = "--browser-user", .env = "EASEL_BROWSER_USER", .kind = CONFIG_TEXT, .text = "",
          .shown = "`nobody` when the renderer runs as root", .help = "the user a root renderer's "
          "browser runs as", .out_text = &cfg->browser_user },
        { .flag = "--browser-sandbox", .env = "EASEL_BROWSER_SANDBOX", .kind = CONFIG_TEXT,
          .text = "auto", .choices = "auto|on|off", .help = "the browser's own sandbox (auto: when it "
          "starts with it here)", .out_text = &cfg->browser_sandbox },
        { .flag = "--drain-ms", .env = "EASEL_RENDERER_DRAIN_MS", .kind = CONFIG_INT, .num = 60000,
          .min = 0, .max = 3600000, .help = "longest SIGTERM drain (see \"Scaling renderers and "
          "draining\")", .out_num = &cfg->drain_ms },
        { .flag = "--capture", .env = "EASEL_RENDERER_CAPTURE", .kind = CONFIG_TEXT, .text = "auto",
          .choices = "auto|1|0", .help = "auto: the renderer runs capture tasks when a Chromium is "
          "found (`EASEL_CHROMIUM`, else `/usr/bin/chromium`, `/usr/bin/chromium-browser`) and says "
          "so in its READY (`\"capture\": true`); `0` never, `1` requires one (exit on start "
          "without it)", .out_text = &cfg->capture },
        { .flag = "--capture-timeout-ms", .env = "EASEL_CAPTURE_TIMEOUT_MS", .kind = CONFIG_INT,
          .num = CAPTURE_NAV_TIMEOUT_MS_DEFAULT, .min = 100, .max = 120000, .help = "the page's load "
          "(or network idle) must come within it, else the job fails with `navigation timeout`",
          .out_num = &cfg->nav_timeout_ms },
        { .flag = "--capture-browser-jobs", .env = "EASEL_CAPTURE_BROWSER_JOBS", .kind = CONFIG_INT,
          .num = CAPTURE_BROWSER_JOBS_DEFAULT, .min = 1, .max = 100000, .help = "each capture slot keeps "
          "one warm browser (a fresh browser context per job) and starts it again after this many jobs",
          .out_num = &cfg->browser_jobs },
        { .flag = "--capture-browser-rss-mb", .env = "EASEL_CAPTURE_BROWSER_RSS_MB", .kind = CONFIG_INT,
          .num = CAPTURE_BROWSER_RSS_MB_DEFAULT, .min = 64, .max = 1048576, .help = "a warm browser whose "
          "processes hold more resident memory than this (MiB, read from /proc before each job) is "
          "started again", .out_num = &cfg->browser_rss_mb },
        { .env = "EASEL_CHROMIUM", .kind = CONFIG_TEXT, .shown = "as above",
          .help = "the browser binary (read by capture.c)" },
        { .env = "EASEL_RENDER_THREADS", .kind = CONFIG_TEXT, .shown = "the online CPUs, at most 4 (1..16)",
          .help = "the threads one slide may use for resampling the screenshot (in row stripes) and "
                  "compressing the PNG (in 1 MiB row parts joined into one zlib stream); `1` draws and "
                  "encodes each slide on its slot's thread alone (read by par.c)" },
        { .env = "EASEL_RENDERER_TEST_DELAY_MS", .kind = CONFIG_INT, .num = 0, .min = 0, .max = 600000,
          .help = "tests only: sleep this long before each task", .out_num = &cfg->delay_ms },
        CONFIG_METRICS (&cfg->metrics),
        BUS_SECURITY_CONFIG_CLIENT,
    };
    const config_table_t table = CONFIG_TABLE ("renderer", "Draws slides and captures pages for the "
                                               "scheduler's work socket.", rows);
    config_load (&table, argc, argv);
}

int
main (int argc, char **argv)
{
    log_init ("renderer");
    s_config_t cfg;
    s_configure (&cfg, argc, argv);
    const char *endpoint = cfg.work;
    s_link_t link = { 0 };
    int slots = (int) cfg.slots;
    s_shared_t sh = {
        .opts = {
            .font_path = cfg.font,
            .allow_private = cfg.allow_private
        },
        .delay_ms = (int) cfg.delay_ms,
        .max_queued = 2 * slots + 8
    };
    if (!*endpoint)
        log_fatal ("bad configuration: empty work endpoint", NULL);
    /* --allow-networks / EASEL_ALLOW_NETWORKS: private networks screenshots and
       captures may reach all the same (CIDR list) */
    static netguard_allow_t allow;
    const char *allow_text = cfg.allow_networks;
    char allow_err [128];
    if (netguard_allow_parse (allow_text, &allow, allow_err, sizeof allow_err) != 0)
        log_fatal ("bad configuration: --allow-networks", "reason", allow_err, NULL);
    sh.opts.allow = &allow;
    if (access (sh.opts.font_path, R_OK) != 0)
        log_fatal ("bad configuration: cannot read the font", "font", sh.opts.font_path, NULL);

    char host[48] = "localhost";
    gethostname (host, sizeof host - 1);
    /* captures: --capture / EASEL_RENDERER_CAPTURE 1|0 (default: when a
       chromium is found); --capture-timeout-ms / EASEL_CAPTURE_TIMEOUT_MS */
    const char *cap = cfg.capture;
    sh.capture = (capture_opts_t) {
        .chromium = capture_find_chromium (),
        .allow_private = sh.opts.allow_private,
        .allow = &allow,
        .nav_timeout_ms = (int) cfg.nav_timeout_ms,
        .browser_jobs_max = cfg.browser_jobs,
        .browser_rss_max_mb = cfg.browser_rss_mb,
        .font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    };
    if (access (sh.capture.font_path, R_OK) != 0)
        sh.capture.font_path = sh.opts.font_path;
    if (strcmp (cap, "0") == 0)
        sh.capture.chromium = NULL;
    else
    if (strcmp (cap, "1") == 0 && !sh.capture.chromium)
        log_fatal ("bad configuration: --capture 1 but no chromium (set EASEL_CHROMIUM)", NULL);
    if (sh.capture.chromium) {
        /* --browser-user / EASEL_BROWSER_USER (a root renderer's browser runs as
           it, default nobody), --browser-sandbox / EASEL_BROWSER_SANDBOX auto|on|off */
        char berr [160];
        if (capture_browser_setup (&sh.capture,
                                   cfg.browser_user, cfg.browser_sandbox,
                                   berr, sizeof berr) != 0)
            log_fatal ("bad configuration: the browser", "reason", berr, NULL);
        if (!sh.capture.sandbox)
            log_warn ("the browser runs without its own sandbox", "reason",
                      "it did not start with it here, or --browser-sandbox off", NULL);
        char uid_text [16];
        snprintf (uid_text, sizeof uid_text, "%d", sh.capture.drop_user ? (int) sh.capture.browser_uid : (int) geteuid ());
        log_info ("browser", "path", sh.capture.chromium, "uid", uid_text,
                  "sandbox", sh.capture.sandbox ? "on" : "off", NULL);
    }
    proto_ready_t ready = { .slots = slots, .capture = sh.capture.chromium != NULL };
    snprintf (ready.name, sizeof ready.name, "%s:%ld", host, (long) getpid ());
    msgpack_sbuffer ready_body;
    msgpack_sbuffer_init (&ready_body);
    if (proto_ready_encode (&ready, &ready_body) != 0)
        log_fatal ("cannot encode READY", NULL);

    if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
        log_fatal ("curl_global_init failed", NULL);
    if (gdFontCacheSetup () != 0)
        log_fatal ("gdFontCacheSetup failed", NULL);
    sh.opts.fetch_cache = fetch_cache_new (FETCH_CACHE_BYTES_DEFAULT, FETCH_CACHE_IDLE_MS);
    if (!sh.opts.fetch_cache)
        log_fatal ("out of memory for the fetch cache", NULL);
    link.drain_ms = (int) cfg.drain_ms;
    /* our own handler: the first SIGINT/SIGTERM drains, the second stops */
    zsys_handler_set (NULL);
    zsys_init ();
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    const char *bus_endpoints [] = { endpoint, NULL };
    char sec_err [BUS_SECURITY_ERR_MAX] = "";
    if (bus_security_init (argc, argv, BUS_ROLE_CLIENT, bus_endpoints, sec_err))
        log_fatal ("bad bus security configuration", "reason", sec_err, NULL);
    pthread_mutex_init (&sh.lock, NULL);
    pthread_cond_init (&sh.wake, NULL);
    link.pull = zsock_new_pull ("@" S_RESULTS_ENDPOINT);
    if (!link.pull)
        log_fatal ("cannot bind the results pipe", NULL);

    pthread_t *workers = calloc ((size_t) slots, sizeof *workers);
    if (!workers)
        log_fatal ("out of memory", NULL);
    sigset_t stop_signals, old_mask;      /* signals go to the main thread's poll */
    sigemptyset (&stop_signals);
    sigaddset (&stop_signals, SIGINT);
    sigaddset (&stop_signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop_signals, &old_mask);
    render_metrics_init (slots);        /* the listener thread inherits the blocked mask */
    char merr[256];
    int mrc = metrics_serve (cfg.metrics, merr, sizeof merr);
    if (mrc == METRICS_SERVE_CANNOT_LISTEN)
        log_fatal_bind ("cannot serve metrics", "reason", merr, NULL);
    if (mrc)
        log_fatal ("cannot serve metrics", "reason", merr, NULL);
    sh.slots = calloc ((size_t) slots, sizeof *sh.slots);
    if (!sh.slots)
        log_fatal ("out of memory", NULL);
    sh.nslots = slots;
    for (int i = 0; i < slots; i++) {
        sh.slots[i].sh = &sh;
        atomic_init (&sh.slots[i].cancel, false);
        sh.slots[i].wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (sh.slots[i].wake_fd < 0)
            log_fatal ("cannot make a slot's eventfd", "reason", strerror (errno), NULL);
    }
    for (int i = 0; i < slots; i++)
        if (pthread_create (&workers[i], NULL, s_worker, &sh.slots[i]) != 0)
            log_fatal ("cannot start a worker thread", NULL);
    pthread_sigmask (SIG_SETMASK, &old_mask, NULL);
    char slots_text[16];
    snprintf (slots_text, sizeof slots_text, "%d", slots);
    log_info ("renderer started", "name", ready.name, "endpoint", endpoint,
              "slots", slots_text, "allow_private", sh.opts.allow_private ? "1" : "0",
              "allow_networks", allow_text [0] ? allow_text : "none", NULL);

    link.bus = bus_worker_new (endpoint, ready_body.data, ready_body.size);
    if (!link.bus)
        log_fatal ("cannot connect to the work endpoint", "endpoint", endpoint, NULL);
    s_run (&link, &sh);
    bus_worker_destroy (&link.bus);

    pthread_mutex_lock (&sh.lock);
    sh.stop = true;
    pthread_cond_broadcast (&sh.wake);
    s_wake_pumping (&sh);
    pthread_mutex_unlock (&sh.lock);
    for (int i = 0; i < slots; i++)
        pthread_join (workers[i], NULL);
    for (int i = 0; i < slots; i++)
        close (sh.slots[i].wake_fd);
    free (workers);
    cdp_spare_keep (NULL);              /* a probe browser no slot took */
    metrics_serve_stop ();
    while (sh.head) {
        s_job_t *job = sh.head;
        sh.head = job->next;
        proto_task_free (&job->task);
        free (job);
    }
    free (sh.slots);
    zsock_destroy (&link.pull);
    bus_security_shutdown ();
    msgpack_sbuffer_destroy (&ready_body);
    pthread_cond_destroy (&sh.wake);
    pthread_mutex_destroy (&sh.lock);
    fetch_cache_destroy (&sh.opts.fetch_cache);
    gdFontCacheShutdown ();
    curl_global_cleanup ();
    log_info ("renderer stopped", NULL);
    return 0;
}
