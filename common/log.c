/*  log.c: JSON-lines logging to stderr (see log.h).
    Thread: any; each line is built in memory and written once under a lock.
    Memory: nothing kept beyond the service name pointer. */
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

static const char *s_svc = "easel";
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

/* log_hold: lines kept here (under s_lock) until log_release writes them at once */
#define S_HELD_MAX  (256 * 1024)       /* past this the held lines are written early */
static char  *s_held;
static size_t s_held_len, s_held_cap;
static bool   s_holding;

/* Writes the held lines; s_lock held. */
static void
s_write_held (void)
{
    if (s_held_len) {
        fwrite (s_held, 1, s_held_len, stderr);
        fflush (stderr);
    }
    s_held_len = 0;
}

/* Appends a line to the held ones, or writes it when nothing is held (or no
   memory); s_lock held. */
static void
s_emit (const char *line, size_t len)
{
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

void
log_init (const char *svc)
{
    s_svc = svc;
}

/* Writes s as a JSON string body (without quotes), escaping what JSON requires. */
static void
s_put_escaped (FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        /* a run of characters that need no escape goes out in one call */
        size_t run = 0;
        while (p [run] >= 0x20 && p [run] != '"' && p [run] != '\\')
            run++;
        if (run) {
            fwrite (p, 1, run, f);
            p += run - 1;
            continue;
        }
        switch (*p) {
            case '"':  fputs ("\\\"", f); break;
            case '\\': fputs ("\\\\", f); break;
            case '\n': fputs ("\\n", f); break;
            case '\r': fputs ("\\r", f); break;
            case '\t': fputs ("\\t", f); break;
            default:
                if (*p < 0x20)
                    fprintf (f, "\\u%04x", *p);
                else
                    fputc (*p, f);
        }
    }
}

/* Builds the whole line in memory first, so each line costs one write(2) on
   the unbuffered stderr and lines from different threads never interleave. */
static void
s_log (const char *level, const char *msg, va_list ap)
{
    char ts [32];
    util_iso8601 (util_now_ms (), ts, sizeof ts);
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&line, &len);
    if (!f)
        return;
    __fsetlocking (f, FSETLOCKING_BYCALLER);   /* f is this call's own: no stdio locks */
    fprintf (f, "{\"ts\":\"%s\",\"level\":\"%s\",\"service\":\"", ts, level);
    s_put_escaped (f, s_svc);
    fputs ("\",\"msg\":\"", f);
    s_put_escaped (f, msg ? msg : "");
    fputc ('"', f);
    const char *key;
    while ((key = va_arg (ap, const char *)) != NULL) {
        const char *value = va_arg (ap, const char *);
        fputs (",\"", f);
        s_put_escaped (f, key);
        fputs ("\":\"", f);
        s_put_escaped (f, value ? value : "");
        fputc ('"', f);
    }
    fputs ("}\n", f);
    if (fclose (f) == 0) {
        pthread_mutex_lock (&s_lock);
        s_emit (line, len);
        pthread_mutex_unlock (&s_lock);
    }
    free (line);
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
