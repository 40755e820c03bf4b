/*  log.c: JSON-lines logging to stderr (see log.h).
    Thread: any; each line is built in memory and written once under a lock.
    Memory: nothing kept beyond the service name pointer. */
#include "log.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_svc = "easel";
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

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
        fwrite (line, 1, len, stderr);
        fflush (stderr);
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
    exit (2);
}
