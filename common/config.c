/*  config.c: the walker over a service's settings table (see config.h).
    Thread: main's, before other threads start. Memory: nothing allocated;
    values are borrowed from argv, the environment or the table. */
#include "bus.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define S_ROWS_MAX 64              /* rows in one table */

/* The argument at argv[*i] if it is `flag` ("--x" or "--x=v"): the value in
   *value (NULL for a bare flag). Advances *i past a separate value. */
static bool
s_match (const config_opt_t *opt, int argc, char **argv, int *i, const char **value, bool *missing)
{
    size_t n = strlen (opt->flag);
    const char *a = argv [*i];
    if (strncmp (a, opt->flag, n) != 0 || (a [n] != '\0' && a [n] != '='))
        return false;
    *missing = false;
    if (a [n] == '=')
        *value = a + n + 1;
    else
    if (opt->kind == CONFIG_BOOL)
        *value = NULL;
    else
    if (*i + 1 < argc)
        *value = argv [++*i];
    else
        *missing = true;
    return true;
}

static int
s_bool (const char *text, bool *out)
{
    static const char *yes [] = { "1", "true", "yes" }, *no [] = { "0", "false", "no" };
    for (size_t i = 0; i < 3; i++) {
        if (strcmp (text, yes [i]) == 0)
            return *out = true, 0;
        if (strcmp (text, no [i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static bool
s_choice (const char *choices, const char *text)
{
    size_t n = strlen (text);
    for (const char *c = choices; c && *c; ) {
        const char *bar = strchr (c, '|');
        size_t len = bar ? (size_t) (bar - c) : strlen (c);
        if (len == n && strncmp (c, text, n) == 0)
            return true;
        c = bar ? bar + 1 : c + len;
    }
    return false;
}

/* Checks `text` (from `name`: the flag or the variable) and stores it. */
static int
s_store (const config_opt_t *opt, const char *name, const char *text, char *err)
{
    switch (opt->kind) {
        case CONFIG_INT: {
            int64_t v;
            if (util_parse_i64 (text, opt->min, opt->max, &v)) {
                snprintf (err, CONFIG_ERR_MAX, "%s \"%.64s\": want a whole number in %" PRId64 "..%" PRId64,
                          name, text, opt->min, opt->max);
                return -1;
            }
            if (opt->out_num)
                *opt->out_num = v;
            return 0;
        }
        case CONFIG_BOOL: {
            bool v;
            if (s_bool (text, &v)) {
                snprintf (err, CONFIG_ERR_MAX, "%s \"%.64s\": want 1 or 0 (true/false, yes/no)", name, text);
                return -1;
            }
            if (opt->out_bool)
                *opt->out_bool = v;
            return 0;
        }
        case CONFIG_ENDPOINT:
        {
            /* one endpoint, or a comma-separated list (a scheduler and its standbys) */
            const char *p = text;
            char one [BUS_ENDPOINT_MAX + 1];
            int rc = 0, n = 0;
            bool good = true;
            while (good && (rc = bus_endpoint_next (&p, one)) == 1) {
                n++;
                good = strlen (one) >= 7 && (strncmp (one, "tcp://", 6) == 0 || strncmp (one, "ipc://", 6) == 0
                                             || strncmp (one, "inproc://", 9) == 0);
            }
            if (!good || rc != 0 || n == 0) {
                snprintf (err, CONFIG_ERR_MAX, "%s \"%.64s\": want a ZeroMQ endpoint (tcp://, ipc:// or"
                          " inproc://), or a comma-separated list of them", name, text);
                return -1;
            }
            break;
        }
        case CONFIG_TEXT:
            if (opt->choices && !s_choice (opt->choices, text)) {
                snprintf (err, CONFIG_ERR_MAX, "%s \"%.64s\": want one of %s", name, text, opt->choices);
                return -1;
            }
            break;
    }
    if (opt->out_text)
        *opt->out_text = text;
    return 0;
}

/* The default as documented: `shown`, else the value in backticks, else "unset". */
static void
s_default (const config_opt_t *opt, char *out, size_t size)
{
    if (opt->shown)
        snprintf (out, size, "%s", opt->shown);
    else
    if (opt->kind == CONFIG_INT)
        snprintf (out, size, "`%" PRId64 "`", opt->num);
    else
    if (opt->kind == CONFIG_BOOL)
        snprintf (out, size, "`0`");
    else
        snprintf (out, size, opt->text && *opt->text ? "`%s`" : "unset", opt->text ? opt->text : "");
}

static void
s_range (const config_opt_t *opt, char *out, size_t size)
{
    if (opt->kind == CONFIG_INT)
        snprintf (out, size, "%" PRId64 "..%" PRId64, opt->min, opt->max);
    else
    if (opt->kind == CONFIG_BOOL)
        snprintf (out, size, "`1`, `0`");
    else
    if (opt->choices) {
        size_t n = 0;
        out [0] = '\0';
        for (const char *c = opt->choices; *c && n < size; ) {
            size_t len = strcspn (c, "|");
            n += (size_t) snprintf (out + n, size - n, "%s`%.*s`", n ? ", " : "", (int) len, c);
            c += len + (c [len] == '|');
        }
    }
    else
    if (opt->kind == CONFIG_ENDPOINT)
        snprintf (out, size, "tcp://, ipc://, inproc://");
    else
        out [0] = '\0';
}

int
config_parse (const config_table_t *table, int argc, char **argv, FILE *out, char *err)
{
    const char *given [S_ROWS_MAX] = { 0 };
    bool bare [S_ROWS_MAX] = { 0 };
    if (table->nopts > S_ROWS_MAX) {
        snprintf (err, CONFIG_ERR_MAX, "the %s table has more than %d rows", table->service, S_ROWS_MAX);
        return -1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            config_usage (table, out);
            return 1;
        }
        if (strcmp (argv [i], "--help-markdown") == 0) {
            config_markdown (table, out);
            return 1;
        }
        bool known = false, missing = false;
        for (size_t r = 0; r < table->nopts && !known; r++) {
            const config_opt_t *opt = &table->opts [r];
            const char *value = NULL;
            if (!opt->flag || !s_match (opt, argc, argv, &i, &value, &missing))
                continue;
            known = true;
            if (missing) {
                snprintf (err, CONFIG_ERR_MAX, "%s wants a value", opt->flag);
                return -1;
            }
            given [r] = value;
            bare [r] = value == NULL;
        }
        if (!known) {
            snprintf (err, CONFIG_ERR_MAX, "unknown argument \"%.64s\" (--help lists the flags)", argv [i]);
            return -1;
        }
    }
    for (size_t r = 0; r < table->nopts; r++) {
        const config_opt_t *opt = &table->opts [r];
        const char *env = opt->env ? getenv (opt->env) : NULL;
        if (env && !*env)
            env = NULL;
        if (opt->out_text)
            *opt->out_text = opt->text;
        if (opt->out_num)
            *opt->out_num = opt->num;
        if (opt->out_bool)
            *opt->out_bool = false;
        if (bare [r]) {
            if (opt->out_bool)
                *opt->out_bool = true;
            continue;
        }
        const char *text = given [r] ? given [r] : env;
        const char *name = given [r] ? opt->flag : opt->env;
        if (text && s_store (opt, name, text, err))
            return -1;
    }
    return 0;
}

void
config_usage (const config_table_t *table, FILE *out)
{
    fprintf (out, "usage: %s%s [flags]\n%s\n\n"
                  "Each flag may also be set by its variable; a flag wins. Flags:\n",
             table->program ? "" : "easel-", table->program ? table->program : table->service,
             table->summary);
    for (size_t r = 0; r < table->nopts; r++) {
        const config_opt_t *opt = &table->opts [r];
        char dflt [256], range [128];
        s_default (opt, dflt, sizeof dflt);
        s_range (opt, range, sizeof range);
        fprintf (out, "  %-28s %s\n", opt->flag ? opt->flag : "(variable only)", opt->env ? opt->env : "");
        fprintf (out, "      default %s%s%s\n      %s\n", dflt, *range ? "; accepts " : "", range, opt->help);
    }
}

void
config_markdown (const config_table_t *table, FILE *out)
{
    for (size_t r = 0; r < table->nopts; r++) {
        const config_opt_t *opt = &table->opts [r];
        char dflt [256], range [128];
        s_default (opt, dflt, sizeof dflt);
        s_range (opt, range, sizeof range);
        fprintf (out, "| %s | %s%s%s | %s%s%s | %s | %s | %s |\n", table->service,
                 opt->flag ? "`" : "", opt->flag ? opt->flag : "", opt->flag ? "`" : "",
                 opt->env ? "`" : "", opt->env ? opt->env : "", opt->env ? "`" : "",
                 dflt, range, opt->help);
    }
}

void
config_load (const config_table_t *table, int argc, char **argv)
{
    char err [CONFIG_ERR_MAX] = "";
    int rc = config_parse (table, argc, argv, stdout, err);
    if (rc > 0)
        exit (0);
    if (rc < 0)
        log_fatal ("bad configuration", "reason", err, NULL);
}
