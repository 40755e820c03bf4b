/*  log.c: JSON-lines logging to stderr (see log.h).
    Thread: any; each line is built in memory and written once under a lock,
    or appended to the writer's buffer, which the writer thread (log_writer_start)
    writes. Lock order: s_lock, then s_write_lock (held by whoever writes a
    batch, so batches reach stderr in the order they were taken).
    Memory: the held and writer buffers, freed by log_release / log_writer_stop. */
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s_svc = "easel";
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

/* log_hold: lines kept here (under s_lock) until log_release writes them at once */
#define S_HELD_MAX  (256 * 1024)       /* past this the held lines are written early */
static char  *s_held;
static size_t s_held_len, s_held_cap;
static bool   s_holding;

/* log_writer_start: lines gather in s_wbuf (under s_lock); the writer swaps
   it with its own and writes that under s_write_lock */
static pthread_mutex_t s_write_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  s_wake = PTHREAD_COND_INITIALIZER;
static pthread_t s_writer;
static bool    s_writer_on, s_writer_stop, s_writer_idle;
static char   *s_wbuf, *s_wspare;
static size_t  s_wlen;
static uint64_t s_writer_wakes;       /* lines that woke a sleeping writer */

/* Writes the held lines; s_lock held. */
static void s_write_gathered (void);

static void
s_write_held (void)
{
    if (s_writer_on)
        s_write_gathered ();
    if (s_held_len) {
        fwrite (s_held, 1, s_held_len, stderr);
        fflush (stderr);
    }
    s_held_len = 0;
}

/* Writes the writer's gathered lines from the calling thread (the buffer
   is full, or the writer stops); s_lock held. */
static void
s_write_gathered (void)
{
    pthread_mutex_lock (&s_write_lock);
    if (s_wlen) {
        fwrite (s_wbuf, 1, s_wlen, stderr);
        fflush (stderr);
    }
    s_wlen = 0;
    pthread_mutex_unlock (&s_write_lock);
}

/* Appends a line to the held ones, or to the writer's buffer, or writes it
   (nothing held, no writer, a line over the buffer); s_lock held. */
static void
s_emit (const char *line, size_t len)
{
    if (!s_holding && s_writer_on) {
        if (s_wlen + len > LOG_WRITER_BUF_BYTES)
            s_write_gathered ();
        if (len <= LOG_WRITER_BUF_BYTES) {
            memcpy (s_wbuf + s_wlen, line, len);
            s_wlen += len;
            if (s_writer_idle) {
                s_writer_idle = false;
                s_writer_wakes++;
                pthread_cond_signal (&s_wake);
            }
            return;
        }
    }
    if (s_holding && s_held_len + len > S_HELD_MAX)
        s_write_held ();
    if (s_holding && s_held_len + len > s_held_cap && len <= S_HELD_MAX) {
        char *grown = realloc (s_held, S_HELD_MAX);
        if (grown) {
            s_held = grown;
            s_held_cap = S_HELD_MAX;
        }
    }
    if (s_holding && s_held_len + len <= s_held_cap) {
        memcpy (s_held + s_held_len, line, len);
        s_held_len += len;
        return;
    }
    s_write_held ();
    fwrite (line, 1, len, stderr);
    fflush (stderr);
}

void
log_hold (void)
{
    pthread_mutex_lock (&s_lock);
    s_holding = true;
    pthread_mutex_unlock (&s_lock);
}

void
log_release (void)
{
    pthread_mutex_lock (&s_lock);
    s_write_held ();
    s_holding = false;
    pthread_mutex_unlock (&s_lock);
}

/* The writer thread: takes what gathered, writes it with one write(2),
   until log_writer_stop. */
static void *
s_writer_main (void *arg)
{
    (void) arg;
    struct timespec pause = { 0, LOG_WRITER_GATHER_MS * 1000000L };
    int64_t last_ms = util_mono_ms ();    /* when it last found lines */
    pthread_mutex_lock (&s_lock);
    for (;;) {
        while (!s_wlen && !s_writer_stop) {
            if (util_mono_ms () - last_ms < LOG_WRITER_LINGER_MS) {
                /* lingers: the next line finds it awake and wakes nobody */
                pthread_mutex_unlock (&s_lock);
                nanosleep (&pause, NULL);
                pthread_mutex_lock (&s_lock);
                continue;
            }
            s_writer_idle = true;
            pthread_cond_wait (&s_wake, &s_lock);
        }
        s_writer_idle = false;
        if (!s_wlen)
            break;
        last_ms = util_mono_ms ();
        char *batch = s_wbuf;
        size_t len = s_wlen;
        s_wbuf = s_wspare;
        s_wspare = batch;
        s_wlen = 0;
        pthread_mutex_lock (&s_write_lock);   /* before s_lock goes: no batch can pass this one */
        pthread_mutex_unlock (&s_lock);
        fwrite (batch, 1, len, stderr);
        fflush (stderr);
        pthread_mutex_unlock (&s_write_lock);
        /* let the next lines gather: one write and one wake-up per pause
           under load, instead of one per line */
        if (!s_writer_stop)
            nanosleep (&pause, NULL);
        pthread_mutex_lock (&s_lock);
    }
    pthread_mutex_unlock (&s_lock);
    return NULL;
}

static void
s_writer_atexit (void)
{
    log_writer_stop ();
}

static void
s_writer_atexit_register (void)
{
    atexit (s_writer_atexit);
}

int
log_writer_start (void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_mutex_lock (&s_lock);
    if (s_writer_on) {
        pthread_mutex_unlock (&s_lock);
        return 0;
    }
    s_wbuf = malloc (LOG_WRITER_BUF_BYTES);
    s_wspare = malloc (LOG_WRITER_BUF_BYTES);
    s_wlen = 0;
    s_writer_stop = false;
    s_writer_idle = false;
    int rc = s_wbuf && s_wspare && pthread_create (&s_writer, NULL, s_writer_main, NULL) == 0 ? 0 : -1;
    if (rc) {
        free (s_wbuf);
        free (s_wspare);
        s_wbuf = s_wspare = NULL;
    }
    s_writer_on = rc == 0;
    pthread_mutex_unlock (&s_lock);
    if (rc == 0)
        pthread_once (&once, s_writer_atexit_register);
    return rc;
}

void
log_writer_stop (void)
{
    pthread_mutex_lock (&s_lock);
    if (!s_writer_on) {
        pthread_mutex_unlock (&s_lock);
        return;
    }
    s_writer_stop = true;
    pthread_cond_signal (&s_wake);
    pthread_mutex_unlock (&s_lock);
    pthread_join (s_writer, NULL);       /* it wrote everything gathered before it ended */
    pthread_mutex_lock (&s_lock);
    s_write_gathered ();                 /* lines appended while it was ending */
    s_writer_on = false;
    free (s_wbuf);
    free (s_wspare);
    s_wbuf = s_wspare = NULL;
    pthread_mutex_unlock (&s_lock);
}

uint64_t
log_writer_wakes (void)
{
    pthread_mutex_lock (&s_lock);
    uint64_t n = s_writer_wakes;
    pthread_mutex_unlock (&s_lock);
    return n;
}

void
log_init (const char *svc)
{
    s_svc = svc;
}

/* A line being built: on the stack up to S_LINE_STACK bytes, then on the
   heap (doubling; a line is never cut). `failed` once memory ran out. */
#define S_LINE_STACK 2048
typedef struct {
    char  *p;
    size_t len, cap;
    bool   heap, failed;
    char   stack [S_LINE_STACK];
} s_line_t;

static void
s_put (s_line_t *l, const char *s, size_t n)
{
    if (l->failed)
        return;
    if (l->len + n > l->cap) {
        size_t cap = l->cap * 2;
        while (cap < l->len + n)
            cap *= 2;
        char *grown = l->heap ? realloc (l->p, cap) : malloc (cap);
        if (!grown) {
            l->failed = true;
            return;
        }
        if (!l->heap)
            memcpy (grown, l->p, l->len);
        l->p = grown;
        l->cap = cap;
        l->heap = true;
    }
    memcpy (l->p + l->len, s, n);
    l->len += n;
}

static void
s_puts (s_line_t *l, const char *s)
{
    s_put (l, s, strlen (s));
}

/* Writes s as a JSON string body (without quotes), escaping what JSON requires. */
static void
s_put_escaped (s_line_t *l, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        /* a run of characters that need no escape goes out in one call */
        size_t run = 0;
        while (p [run] >= 0x20 && p [run] != '"' && p [run] != '\\')
            run++;
        if (run) {
            s_put (l, (const char *) p, run);
            p += run - 1;
            continue;
        }
        switch (*p) {
            case '"':  s_puts (l, "\\\""); break;
            case '\\': s_puts (l, "\\\\"); break;
            case '\n': s_puts (l, "\\n"); break;
            case '\r': s_puts (l, "\\r"); break;
            case '\t': s_puts (l, "\\t"); break;
            default: {
                char u [8];
                snprintf (u, sizeof u, "\\u%04x", *p);
                s_puts (l, u);
            }
        }
    }
}

/* The line's time, "2026-11-22T10:00:00Z": formatted once per second per
   thread (strftime is most of a short line's cost otherwise). */
static void
s_timestamp (char ts [32])
{
    static __thread int64_t last_s = -1;
    static __thread char last [32];
    int64_t now_s = util_now_ms () / 1000;
    if (now_s != last_s) {
        util_iso8601 (now_s * 1000, last, sizeof last);
        last_s = now_s;
    }
    memcpy (ts, last, sizeof last);
}

/* Builds the whole line in memory first, so each line costs one write(2) on
   the unbuffered stderr (or a copy into the writer's buffer) and lines from
   different threads never interleave. */
static void
s_log (const char *level, const char *msg, va_list ap)
{
    char ts [32];
    s_timestamp (ts);
    s_line_t l;
    l.p = l.stack;
    l.len = 0;
    l.cap = sizeof l.stack;
    l.heap = l.failed = false;
    s_puts (&l, "{\"ts\":\"");
    s_puts (&l, ts);
    s_puts (&l, "\",\"level\":\"");
    s_puts (&l, level);
    s_puts (&l, "\",\"service\":\"");
    s_put_escaped (&l, s_svc);
    s_puts (&l, "\",\"msg\":\"");
    s_put_escaped (&l, msg ? msg : "");
    s_put (&l, "\"", 1);
    const char *key;
    while ((key = va_arg (ap, const char *)) != NULL) {
        const char *value = va_arg (ap, const char *);
        s_put (&l, ",\"", 2);
        s_put_escaped (&l, key);
        s_put (&l, "\":\"", 3);
        s_put_escaped (&l, value ? value : "");
        s_put (&l, "\"", 1);
    }
    s_put (&l, "}\n", 2);
    if (!l.failed) {
        pthread_mutex_lock (&s_lock);
        s_emit (l.p, l.len);
        pthread_mutex_unlock (&s_lock);
    }
    if (l.heap)
        free (l.p);
}

void
log_info (const char *msg, ...)
{
    va_list ap;
    va_start (ap, msg);
    s_log ("info", msg, ap);
    va_end (ap);
}

void
log_warn (const char *msg, ...)
{
    va_list ap;
    va_start (ap, msg);
    s_log ("warn", msg, ap);
    va_end (ap);
}

void
log_error (const char *msg, ...)
{
    va_list ap;
    va_start (ap, msg);
    s_log ("error", msg, ap);
    va_end (ap);
}

void
log_fatal (const char *msg, ...)
{
    va_list ap;
    va_start (ap, msg);
    s_log ("fatal", msg, ap);
    va_end (ap);
    log_release ();
    exit (2);
}

void
log_fatal_bind (const char *msg, ...)
{
    va_list ap;
    va_start (ap, msg);
    s_log ("fatal", msg, ap);
    va_end (ap);
    log_release ();
    exit (LOG_EXIT_CANNOT_BIND);
}
