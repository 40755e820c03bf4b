/*  log.c: JSON-lines logging to stderr (see log.h).
    Thread: any; one lock serialises lines so they never interleave.
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

static void
s_log (const char *level, const char *msg, va_list ap)
{
    char ts [32];
    util_iso8601 (util_now_ms (), ts, sizeof ts);
    pthread_mutex_lock (&s_lock);
    fprintf (stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"svc\":\"", ts, level);
    s_put_escaped (stderr, s_svc);
    fputs ("\",\"msg\":\"", stderr);
    s_put_escaped (stderr, msg ? msg : "");
    fputc ('"', stderr);
    const char *key;
    while ((key = va_arg (ap, const char *)) != NULL) {
        const char *value = va_arg (ap, const char *);
        fputs (",\"", stderr);
        s_put_escaped (stderr, key);
        fputs ("\":\"", stderr);
        s_put_escaped (stderr, value ? value : "");
        fputc ('"', stderr);
    }
    fputs ("}\n", stderr);
    fflush (stderr);
    pthread_mutex_unlock (&s_lock);
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
