/*  cli_keys.c: `easel keys create|list|revoke` on a data directory.
    create and revoke are writes: through the scheduler that holds the data
    dir, or with none running on the store directly (cli_admin.h); list
    reads with its own short-lived job_store handle (WAL lets it read beside
    a running scheduler). Single threaded; output to stdout, errors to stderr.  */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "admin_ops.h"
#include "cli.h"
#include "cli_admin.h"
#include "config.h"
#include "data_lock.h"
#include "job_store.h"
#include "util.h"

static const char *s_usage =
    "usage: easel keys create --name NAME [--credits N] [--data DIR] [--json]\n"
    "       easel keys list [--data DIR] [--json]\n"
    "       easel keys revoke KEY_OR_PREFIX [--data DIR]\n"
    "       easel keys rotate-secret --account ACCT [--overlap-s N] [--data DIR] [--json]\n"
    "       easel keys public-key --account ACCT [--ed25519 on|off] [--data DIR] [--json]\n"
    "DIR defaults to $EASEL_DATA, then ./easel-data.\n";

static int
s_create (const char *data, const char *name, const char *credits_text, bool as_json)
{
    proto_admin_t req = { .verb = "key_create", .text = (char *) name, .amount = -1 };
    if (credits_text && util_parse_i64 (credits_text, 0, INT64_MAX / 2, &req.amount)) {
        fprintf (stderr, "easel: --credits wants a whole number >= 0, got \"%s\"\n%s", credits_text, s_usage);
        return 2;
    }
    if (!name || !*name || strlen (name) > ADMIN_NAME_MAX) {
        fprintf (stderr, "easel: --name wants 1..%d characters\n%s", ADMIN_NAME_MAX, s_usage);
        return 2;
    }
    json_t *key = NULL;
    char err [CLI_ADMIN_ERR_MAX] = "";
    if (cli_admin_run (data, &req, &key, err)) {
        fprintf (stderr, "easel: cannot create key: %s\n", err);
        return 1;
    }
    if (as_json) {
        json_dumpf (key, stdout, JSON_COMPACT);
        fputc ('\n', stdout);
    }
    else
        printf ("API key (%s, shown once): %s\n"
                "Webhook secret: %s\n"
                "Account: %s\n", name, json_string_value (json_object_get (key, "api_key")),
                json_string_value (json_object_get (key, "webhook_secret")),
                json_string_value (json_object_get (key, "account_id")));
    json_decref (key);
    return 0;
}

static void
s_list_one (const job_store_key_info_t *info, void *arg)
{
    json_t *list = arg;
    char created[32], credits[32];
    util_iso8601 (info->created_at_ms, created, sizeof created);
    if (info->credits == JOB_STORE_UNLIMITED)
        snprintf (credits, sizeof credits, "unlimited");
    else
        snprintf (credits, sizeof credits, "%" PRId64, info->credits);
    if (list) {
        json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:b}", "key_prefix", info->key_prefix,
                               "name", info->name, "account_id", info->account_id,
                               "created_at", created, "revoked", info->revoked);
        json_object_set_new (o, "credits", info->credits == JOB_STORE_UNLIMITED
                                           ? json_null () : json_integer (info->credits));
        json_array_append_new (list, o);
    }
    else
        printf ("%-14s %-20s %-32s %-22s %-8s %s\n", info->key_prefix, info->name,
                info->account_id, created, info->revoked ? "revoked" : "active", credits);
}

static int
s_list (const char *data, bool as_json)
{
    int lock = -1;
    char err [CLI_ADMIN_ERR_MAX] = "";
    job_store_t *store = cli_admin_open_read (data, &lock, err);
    if (!store) {
        fprintf (stderr, "easel: %s\n", err);
        return 1;
    }
    json_t *list = as_json ? json_array () : NULL;
    if (!as_json)
        printf ("%-14s %-20s %-32s %-22s %-8s %s\n",
                "PREFIX", "NAME", "ACCOUNT", "CREATED", "REVOKED", "CREDITS");
    int rc = job_store_key_list (store, s_list_one, list, err);
    job_store_destroy (&store);
    data_lock_release (&lock);
    if (rc) {
        json_decref (list);
        fprintf (stderr, "easel: cannot list keys: %s\n", err);
        return 1;
    }
    if (list) {
        json_dumpf (list, stdout, JSON_COMPACT);
        fputc ('\n', stdout);
        json_decref (list);
    }
    return 0;
}

static int
s_revoke (const char *data, const char *key)
{
    proto_admin_t req = { .verb = "key_revoke" };
    if (strlen (key) >= sizeof req.who) {
        fprintf (stderr, "easel: cannot revoke %s: no such key\n", key);
        return 1;
    }
    snprintf (req.who, sizeof req.who, "%s", key);
    json_t *answer = NULL;
    char err [CLI_ADMIN_ERR_MAX] = "";
    if (cli_admin_run (data, &req, &answer, err)) {
        fprintf (stderr, "easel: cannot revoke %s: %s\n", key, err);
        return 1;
    }
    json_decref (answer);
    printf ("revoked %s\n", key);
    return 0;
}

int
cli_keys (int argc, char **argv)
{
    /* argv[0] is "keys", argv[1] the verb; flags may come in any order. */
    if (argc < 2) {
        fputs (s_usage, stderr);
        return 2;
    }
    const char *verb = argv[1];
    const char *data = util_config (argc, argv, "--data", "EASEL_DATA", EASEL_DATA_DEFAULT);
    bool as_json = util_config_flag (argc, argv, "--json", NULL);
    const char *positional = NULL;
    int npositional = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp (a, "--json") == 0)
            continue;
        if (strncmp (a, "--", 2) == 0) {
            if (!strchr (a, '=')
            &&  strcmp (a, "--data") && strcmp (a, "--name") && strcmp (a, "--credits")
            &&  strcmp (a, "--account") && strcmp (a, "--overlap-s") && strcmp (a, "--ed25519")) {
                fprintf (stderr, "easel: unknown option %s\n%s", a, s_usage);
                return 2;
            }
            if (!strchr (a, '='))
                i++;                    /* skip the option's value */
            if (i >= argc) {
                fprintf (stderr, "easel: %s wants a value\n%s", a, s_usage);
                return 2;
            }
            continue;
        }
        positional = a;
        npositional++;
    }
    if (strcmp (verb, "create") == 0 && npositional == 0)
        return s_create (data, util_config (argc, argv, "--name", NULL, NULL),
                         util_config (argc, argv, "--credits", NULL, NULL), as_json);
    if (strcmp (verb, "list") == 0 && npositional == 0)
        return s_list (data, as_json);
    if (strcmp (verb, "revoke") == 0 && npositional == 1)
        return s_revoke (data, positional);
    if (strcmp (verb, "rotate-secret") == 0 && npositional == 0)
        return cli_keys_rotate_secret (data, util_config (argc, argv, "--account", NULL, NULL),
                                       util_config (argc, argv, "--overlap-s", NULL, NULL), as_json);
    if (strcmp (verb, "public-key") == 0 && npositional == 0)
        return cli_keys_public_key (data, util_config (argc, argv, "--account", NULL, NULL),
                                    util_config (argc, argv, "--ed25519", NULL, NULL), as_json);
    fputs (s_usage, stderr);
    return 2;
}
