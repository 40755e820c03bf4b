/*  test_log.c: common/log.c lines on stderr (redirected to a temporary file):
    one JSON object per line with every string escaped (quotes, backslashes,
    control characters, runs of plain text between them), and log_hold /
    log_release: held lines are not written until released, come out in order,
    and a hold past its 256 KB cap writes early without losing or reordering
    a line; log_writer_start / log_writer_stop: lines from many threads,
    past the writer's buffer, all come out whole, each thread's in order, a
    line is out without a stop, lines closer than LOG_WRITER_LINGER_MS never
    wake the writer (one after a longer quiet does), and a stop writes the
    rest. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "log.h"

static char s_path [] = "/tmp/easel-test-log-XXXXXX";

/* The whole file written so far (heap, NUL-ended). */
static char *
s_slurp (size_t *len)
{
    FILE *f = fopen (s_path, "rb");
    char *buf = NULL;
    *len = 0;
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    buf = malloc ((size_t) n + 1);
    if (buf && fread (buf, 1, (size_t) n, f) == (size_t) n) {
        buf [n] = 0;
        *len = (size_t) n;
    }
    fclose (f);
    return buf;
}

static size_t
s_lines (const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strchr (p, '\n')); p++)
        n++;
    return n;
}

#define S_THREADS 4
#define S_PER_THREAD 3000

static void *
s_logger (void *arg)
{
    int t = (int) (intptr_t) arg;
    char tn [8], num [16], value [512];
    memset (value, 'w', sizeof value - 1);
    value [sizeof value - 1] = 0;
    snprintf (tn, sizeof tn, "%d", t);
    for (int i = 0; i < S_PER_THREAD; i++) {
        snprintf (num, sizeof num, "%d", i);
        log_info ("writer", "t", tn, "j", num, "v", value, NULL);
    }
    return NULL;
}

int
main (void)
{
    int fd = mkstemp (s_path);
    if (fd < 0 || !freopen (s_path, "w", stderr)) {
        printf ("cannot redirect stderr\n");
        return 1;
    }
    close (fd);
    log_init ("test");

    /* escaping */
    log_info ("plain \"quoted\" back\\slash", "k", "line\nbreak\ttab\x01" "ctl end", NULL);
    size_t len;
    char *text = s_slurp (&len);
    CHECK (text && strstr (text, "\"service\":\"test\",\"msg\":\"plain \\\"quoted\\\" back\\\\slash\""),
           "msg escaping: %s", text ? text : "(none)");
    CHECK (text && strstr (text, ",\"k\":\"line\\nbreak\\ttab\\u0001ctl end\"}\n"),
           "value escaping: %s", text ? text : "(none)");
    CHECK (text && s_lines (text) == 1, "one line: %s", text ? text : "(none)");
    free (text);

    /* hold: nothing written until release, then all in order */
    size_t before;
    free (s_slurp (&before));
    log_hold ();
    log_info ("held one", NULL);
    log_warn ("held two", "n", "2", NULL);
    log_error ("held three", NULL);
    text = s_slurp (&len);
    CHECK (len == before, "held lines were written before log_release (%zu -> %zu)", before, len);
    free (text);
    log_release ();
    text = s_slurp (&len);
    const char *one = text ? strstr (text, "held one") : NULL;
    const char *two = text ? strstr (text, "held two") : NULL;
    const char *three = text ? strstr (text, "held three") : NULL;
    CHECK (one && two && three && one < two && two < three, "released lines in order: %s",
           text ? text : "(none)");
    CHECK (text && s_lines (text) == 4, "four lines after release");
    free (text);

    /* after release lines are written at once again */
    log_info ("not held", NULL);
    text = s_slurp (&len);
    CHECK (text && strstr (text, "not held"), "a line after release is written at once");
    free (text);

    /* a hold past its cap: early writes, nothing lost, order kept */
    free (s_slurp (&before));
    log_hold ();
    char value [1024], num [16];
    memset (value, 'v', sizeof value - 1);
    value [sizeof value - 1] = 0;
    for (int i = 0; i < 400; i++) {          /* ~420 KB */
        snprintf (num, sizeof num, "%d", i);
        log_info ("bulk", "i", num, "v", value, NULL);
    }
    free (s_slurp (&len));
    CHECK (len > before, "a hold over its cap writes early");
    log_release ();
    text = s_slurp (&len);
    CHECK (text && s_lines (text) == 5 + 400, "all bulk lines written: %zu", text ? s_lines (text) : 0);
    int next = 0, ordered = 1;
    for (const char *p = text; p && (p = strstr (p, "\"i\":\"")); p += 5)
        ordered &= strtol (p + 5, NULL, 10) == next++;
    CHECK (ordered && next == 400, "bulk lines in order (%d seen)", next);
    free (text);

    /* the writer thread: a line is out without a stop */
    free (s_slurp (&before));
    CHECK (log_writer_start () == 0, "the writer starts");
    log_info ("via the writer", NULL);
    text = NULL;
    for (int tries = 0; tries < 200; tries++) {
        free (text);
        text = s_slurp (&len);
        if (text && strstr (text, "via the writer"))
            break;
        usleep (5000);
    }
    CHECK (text && strstr (text, "via the writer"), "a line through the writer is written within 1 s");
    free (text);

    /* lines closer together than LOG_WRITER_LINGER_MS find the writer awake:
       none wakes it; after a longer quiet the next line wakes it once, and
       is written */
    log_info ("before the steady lines", NULL);
    uint64_t wakes = log_writer_wakes ();
    for (int i = 0; i < 20; i++) {
        usleep (LOG_WRITER_LINGER_MS * 1000 / 20);
        log_info ("steady", NULL);
    }
    CHECK (log_writer_wakes () == wakes, "20 lines %d ms apart woke the lingering writer %llu times",
           LOG_WRITER_LINGER_MS / 20, (unsigned long long) (log_writer_wakes () - wakes));
    /* the writer falls asleep once it looks after the linger: on a loaded
       machine that look may come late, so a few quiets are allowed */
    uint64_t woke = 0;
    for (int tries = 0; tries < 5 && woke == 0; tries++) {
        usleep ((LOG_WRITER_LINGER_MS + 300) * 1000);
        uint64_t at = log_writer_wakes ();
        log_info ("after a quiet", NULL);
        woke = log_writer_wakes () - at;
    }
    CHECK (woke == 1, "a line after %d ms of quiet wakes the sleeping writer once (%llu)",
           LOG_WRITER_LINGER_MS + 300, (unsigned long long) woke);
    text = NULL;
    for (int tries = 0; tries < 200; tries++) {
        free (text);
        text = s_slurp (&len);
        if (text && strstr (text, "after a quiet"))
            break;
        usleep (5000);
    }
    CHECK (text && strstr (text, "after a quiet"), "the line that woke the writer is written within 1 s");
    free (text);

    /* many threads, ~6 MB (past the 1 MB buffer): every line whole, each thread's in order */
    free (s_slurp (&before));
    pthread_t threads [S_THREADS];
    for (int t = 0; t < S_THREADS; t++)
        pthread_create (&threads [t], NULL, s_logger, (void *) (intptr_t) t);
    for (int t = 0; t < S_THREADS; t++)
        pthread_join (threads [t], NULL);
    log_info ("last before stop", NULL);
    log_writer_stop ();
    log_writer_stop ();                       /* twice is harmless */
    text = s_slurp (&len);
    CHECK (text && strstr (text + before, "last before stop"), "log_writer_stop writes the rest");
    int seen [S_THREADS] = { 0 }, whole = 1, in_order = 1;
    for (char *line = text ? text + before : NULL; line && *line; ) {
        char *end = strchr (line, '\n');
        if (!end)
            break;
        *end = 0;
        whole &= strncmp (line, "{\"ts\":", 6) == 0 && end [-1] == '}';
        const char *tp = strstr (line, "\"t\":\"");
        const char *jp = strstr (line, "\"j\":\"");
        if (tp && jp) {
            int t = (int) strtol (tp + 5, NULL, 10);
            int j = (int) strtol (jp + 5, NULL, 10);
            if (t >= 0 && t < S_THREADS) {
                in_order &= j == seen [t];
                seen [t]++;
            }
        }
        line = end + 1;
    }
    for (int t = 0; t < S_THREADS; t++)
        CHECK (seen [t] == S_PER_THREAD, "thread %d: %d of %d lines written", t, seen [t], S_PER_THREAD);
    CHECK (whole, "every line through the writer is whole");
    CHECK (in_order, "each thread's lines in order");
    free (text);

    /* after the stop lines are written at once again */
    log_info ("after the writer", NULL);
    text = s_slurp (&len);
    CHECK (text && strstr (text, "after the writer"), "a line after log_writer_stop is written at once");
    free (text);

    unlink (s_path);
    if (check_failures) {
        printf ("%d failure(s)\n", check_failures);
        return 1;
    }
    printf ("ok\n");
    return 0;
}
