/*  test_config.c: the settings table walker (common/config.c): defaults,
    flags over variables, ranges and choices refused with the flag or the
    variable named, unknown arguments, booleans, usage and the markdown rows. */
#include "config.h"
#include "check.h"

#include <stdarg.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util.h"

static const char *s_ep, *s_mode;
static int64_t s_ms;
static bool s_trace;

static const config_opt_t s_rows [] = {
    CONFIG_API_ENDPOINT (&s_ep),
    { .flag = "--wait-ms", .env = "TEST_CONFIG_WAIT_MS", .kind = CONFIG_INT, .num = 500,
      .min = 10, .max = 1000, .help = "how long", .out_num = &s_ms },
    { .flag = "--mode", .env = "TEST_CONFIG_MODE", .kind = CONFIG_TEXT, .text = "auto",
      .choices = "auto|on|off", .help = "which", .out_text = &s_mode },
    { .flag = "--trace", .env = "TEST_CONFIG_TRACE", .kind = CONFIG_BOOL, .help = "log more",
      .out_bool = &s_trace },
};
static const config_table_t s_table = CONFIG_TABLE ("test", "A table for the test.", s_rows);

/* Parses the NULL-terminated args (after a program name) into err. */
static int
s_parse (char *err, ...)
{
    char *argv [16] = { "easel-test" };
    int argc = 1;
    va_list ap;
    va_start (ap, err);
    for (char *a; argc < 15 && (a = va_arg (ap, char *)); )
        argv [argc++] = a;
    va_end (ap);
    err [0] = '\0';
    FILE *sink = fopen ("/dev/null", "w");
    int rc = config_parse (&s_table, argc, argv, sink, err);
    fclose (sink);
    return rc;
}

static void
s_defaults_and_precedence (void)
{
    char err [CONFIG_ERR_MAX];
    unsetenv ("TEST_CONFIG_WAIT_MS");
    CHECK (s_parse (err, NULL) == 0, "no arguments parse, got \"%s\"", err);
    CHECK (strcmp (s_ep, EASEL_API_ENDPOINT_DEFAULT) == 0, "the default endpoint, got %s", s_ep);
    CHECK (s_ms == 500 && !s_trace && strcmp (s_mode, "auto") == 0, "defaults, got %lld", (long long) s_ms);
    setenv ("TEST_CONFIG_WAIT_MS", "20", 1);
    CHECK (s_parse (err, NULL) == 0 && s_ms == 20, "the variable sets it, got %lld", (long long) s_ms);
    CHECK (s_parse (err, "--wait-ms", "30", NULL) == 0 && s_ms == 30, "a flag wins, got %lld", (long long) s_ms);
    CHECK (s_parse (err, "--wait-ms=40", NULL) == 0 && s_ms == 40, "--flag=value, got %lld", (long long) s_ms);
    setenv ("TEST_CONFIG_WAIT_MS", "", 1);
    CHECK (s_parse (err, NULL) == 0 && s_ms == 500, "an empty variable is unset, got %lld", (long long) s_ms);
    unsetenv ("TEST_CONFIG_WAIT_MS");
}

static void
s_refusals_name_the_setting (void)
{
    char err [CONFIG_ERR_MAX];
    CHECK (s_parse (err, "--wait-ms", "5", NULL) < 0 && strstr (err, "--wait-ms") && strstr (err, "10..1000"),
           "out of range names the flag and the range, got \"%s\"", err);
    setenv ("TEST_CONFIG_WAIT_MS", "abc", 1);
    CHECK (s_parse (err, NULL) < 0 && strstr (err, "TEST_CONFIG_WAIT_MS") && strstr (err, "10..1000"),
           "a bad variable names the variable, got \"%s\"", err);
    unsetenv ("TEST_CONFIG_WAIT_MS");
    CHECK (s_parse (err, "--mode", "maybe", NULL) < 0 && strstr (err, "auto|on|off"),
           "a choice outside the set lists them, got \"%s\"", err);
    CHECK (s_parse (err, "--api", "http://x", NULL) < 0 && strstr (err, "--api") && strstr (err, "ZeroMQ"),
           "an endpoint without a ZeroMQ scheme, got \"%s\"", err);
    CHECK (s_parse (err, "--api", "tcp://127.0.0.1:1,tcp://10.0.0.2:1", NULL) == 0
           && strcmp (s_ep, "tcp://127.0.0.1:1,tcp://10.0.0.2:1") == 0,
           "a list of endpoints (a scheduler and its standby), got \"%s\"", err);
    CHECK (s_parse (err, "--api", "tcp://127.0.0.1:1,http://x", NULL) < 0 && strstr (err, "comma-separated"),
           "a list with a bad element, got \"%s\"", err);
    CHECK (s_parse (err, "--api", "tcp://127.0.0.1:1,", NULL) < 0, "a list with an empty element");
    CHECK (s_parse (err, "--nope", NULL) < 0 && strstr (err, "--nope"), "unknown argument, got \"%s\"", err);
    CHECK (s_parse (err, "--wait-ms", NULL) < 0 && strstr (err, "wants a value"), "missing value, got \"%s\"", err);
    CHECK (s_parse (err, "--wait-msx=3", NULL) < 0, "a longer flag is not a prefix match");
}

static void
s_booleans (void)
{
    char err [CONFIG_ERR_MAX];
    CHECK (s_parse (err, "--trace", NULL) == 0 && s_trace, "a bare flag is true");
    CHECK (s_parse (err, "--trace=0", NULL) == 0 && !s_trace, "--trace=0 is false");
    setenv ("TEST_CONFIG_TRACE", "yes", 1);
    CHECK (s_parse (err, NULL) == 0 && s_trace, "yes is true");
    setenv ("TEST_CONFIG_TRACE", "sometimes", 1);
    CHECK (s_parse (err, NULL) < 0 && strstr (err, "TEST_CONFIG_TRACE"), "garbage refused, got \"%s\"", err);
    unsetenv ("TEST_CONFIG_TRACE");
}

static void
s_help_and_markdown (void)
{
    char err [CONFIG_ERR_MAX], *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&text, &len);
    char *argv [] = { "easel-test", "--help-markdown" };
    CHECK (config_parse (&s_table, 2, argv, out, err) == 1, "--help-markdown asks to exit");
    fclose (out);
    CHECK (text && strstr (text, "| test | `--wait-ms` | `TEST_CONFIG_WAIT_MS` | `500` | 10..1000 | how long |"),
           "a markdown row per setting, got %s", text ? text : "(null)");
    CHECK (text && strstr (text, "`auto`, `on`, `off`"), "choices listed, got %s", text ? text : "(null)");
    free (text);
    text = NULL;
    out = open_memstream (&text, &len);
    config_usage (&s_table, out);
    fclose (out);
    CHECK (text && strstr (text, "usage: easel-test") && strstr (text, "--trace"), "usage, got %s",
           text ? text : "(null)");
    free (text);
}

/* util_read_file: a file over max is refused whatever its size, one of
   exactly max accepted (common/util.c). */
static void
s_read_file_cap (void)
{
    char path [] = "/tmp/easel-test-read-XXXXXX";
    int fd = mkstemp (path);
    REQUIRE (fd >= 0, "mkstemp");
    char data [3000];
    memset (data, 'x', sizeof data);
    REQUIRE (write (fd, data, sizeof data) == (ssize_t) sizeof data, "write");
    close (fd);
    size_t len = 0;
    char *buf = util_read_file (path, 1000, &len);
    CHECK (!buf, "3000 bytes are refused under a 1000-byte cap (read %zu)", buf ? len : 0);
    free (buf);
    buf = util_read_file (path, 3000, &len);
    CHECK (buf && len == 3000 && buf [3000] == '\0', "exactly the cap is accepted");
    free (buf);
    buf = util_read_file (path, 10000, &len);
    CHECK (buf && len == 3000, "under the cap is read whole");
    free (buf);
    unlink (path);
}

int
main (void)
{
    check_case ("defaults_and_precedence", s_defaults_and_precedence);
    check_case ("refusals_name_the_setting", s_refusals_name_the_setting);
    check_case ("booleans", s_booleans);
    check_case ("help_and_markdown", s_help_and_markdown);
    check_case ("read_file_cap", s_read_file_cap);
    return check_done ("test_config");
}
