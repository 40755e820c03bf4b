/*  test_log.c: common/log.c lines on stderr (redirected to a temporary file):
    one JSON object per line with every string escaped (quotes, backslashes,
    control characters, runs of plain text between them), and log_hold /
    log_release: held lines are not written until released, come out in order,
    and a hold past its 256 KB cap writes early without losing or reordering
    a line. */
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

    unlink (s_path);
    if (check_failures) {
        printf ("%d failure(s)\n", check_failures);
        return 1;
    }
    printf ("ok\n");
    return 0;
}
