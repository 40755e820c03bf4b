/*  cli_credits.c: `easel credits add` on a data directory: tops an account
    up and writes the ledger row, through the scheduler that holds the data
    dir or, with none running, in one transaction of its own (cli_admin.h).
    Single threaded; output to stdout, errors to stderr.  */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "admin_ops.h"
#include "cli.h"
#include "cli_admin.h"
#include "job_store.h"
#include "config.h"
#include "util.h"

static const char *s_usage =
    "usage: easel credits add (--account acct_... | --key sk_...|PREFIX) N [--note TEXT]\n"
    "                         [--data DIR] [--json]\n"
    "N is a whole number >= 1. DIR defaults to $EASEL_DATA, then ./easel-data.\n";

static int
s_add (const char *data, const char *who, const char *amount_text, const char *note, bool as_json)
{
    proto_admin_t req = { .verb = "credits_add", .text = (char *) note };
    if (util_parse_i64 (amount_text, 1, JOB_STORE_CREDITS_MAX, &req.amount)) {
        fprintf (stderr, "easel: credits wants a whole number >= 1, got \"%s\"\n%s", amount_text, s_usage);
        return 2;
    }
    if (note && strlen (note) > ADMIN_NOTE_MAX) {
        fprintf (stderr, "easel: --note is limited to %d bytes\n", ADMIN_NOTE_MAX);
        return 2;
    }
    if (strlen (who) >= sizeof req.who) {
        fprintf (stderr, "easel: %s is not an account or a key\n", who);
        return 2;
    }
    snprintf (req.who, sizeof req.who, "%s", who);
    json_t *answer = NULL;
    char err [CLI_ADMIN_ERR_MAX] = "";
    if (cli_admin_run (data, &req, &answer, err)) {
        fprintf (stderr, "easel: cannot add credits to %s: %s\n", who, err);
        return 1;
    }
    if (as_json)
        printf ("{\"account_id\":\"%s\",\"added\":%" PRId64 ",\"balance\":%" PRId64 "}\n",
                json_string_value (json_object_get (answer, "account_id")), req.amount,
                (int64_t) json_integer_value (json_object_get (answer, "balance")));
    else
        printf ("added %" PRId64 " credits to %s; balance %" PRId64 "\n", req.amount,
                json_string_value (json_object_get (answer, "account_id")),
                (int64_t) json_integer_value (json_object_get (answer, "balance")));
    json_decref (answer);
    return 0;
}

int
cli_credits (int argc, char **argv)
{
    /* argv[0] is "credits", argv[1] the verb; flags may come in any order. */
    if (argc < 2 || strcmp (argv [1], "add") != 0) {
        fputs (s_usage, stderr);
        return 2;
    }
    const char *data = util_config (argc, argv, "--data", "EASEL_DATA", EASEL_DATA_DEFAULT);
    bool as_json = util_config_flag (argc, argv, "--json", NULL);
    const char *positional = NULL;
    int npositional = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv [i];
        if (strcmp (a, "--json") == 0)
            continue;
        if (strncmp (a, "--", 2) == 0) {
            if (!strchr (a, '=') && strcmp (a, "--data") && strcmp (a, "--account")
            &&  strcmp (a, "--key") && strcmp (a, "--note")) {
                fprintf (stderr, "easel: unknown option %s\n%s", a, s_usage);
                return 2;
            }
            if (!strchr (a, '='))
                i++;
            if (i >= argc) {
                fprintf (stderr, "easel: %s wants a value\n%s", a, s_usage);
                return 2;
            }
            continue;
        }
        positional = a;
        npositional++;
    }
    const char *account = util_config (argc, argv, "--account", NULL, NULL);
    const char *key = util_config (argc, argv, "--key", NULL, NULL);
    if (npositional != 1 || (!account) == (!key)) {
        fprintf (stderr, "easel: give the amount and exactly one of --account or --key\n%s", s_usage);
        return 2;
    }
    if (account && strncmp (account, "acct_", 5) != 0) {
        fprintf (stderr, "easel: --account wants an acct_... id\n%s", s_usage);
        return 2;
    }
    if (key && strncmp (key, "sk_", 3) != 0) {
        fprintf (stderr, "easel: --key wants an sk_... key or its listed prefix\n%s", s_usage);
        return 2;
    }
    return s_add (data, account ? account : key, positional,
                  util_config (argc, argv, "--note", NULL, NULL), as_json);
}
