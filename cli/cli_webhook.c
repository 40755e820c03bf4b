/*  cli_webhook.c: `easel keys rotate-secret` and `easel keys public-key`,
    an account's webhook signing secrets on a data directory, through the
    scheduler that holds it or, with none running, on the store directly
    (cli_admin.h; enabling ed25519 makes a key pair, a write). Single threaded.  */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_admin.h"
#include "job_store.h"
#include "util.h"

/* Runs req, printing the failure; 0 with *out, else the exit status. */
static int
s_run (const char *data, proto_admin_t *req, const char *what, json_t **out)
{
    char err [CLI_ADMIN_ERR_MAX] = "";
    if (cli_admin_run (data, req, out, err) == 0)
        return 0;
    fprintf (stderr, "easel: cannot %s of %s: %s\n", what, req->who, err);
    return 1;
}

int
cli_keys_rotate_secret (const char *data, const char *account, const char *overlap_text, bool as_json)
{
    proto_admin_t req = { .verb = "secret_rotate", .amount = -1 };
    if (!account || !proto_id_valid (account, "acct_")) {
        fprintf (stderr, "easel: --account wants an account id (acct_...)\n");
        return 2;
    }
    if (overlap_text && util_parse_i64 (overlap_text, 0, EASEL_WEBHOOK_OVERLAP_MAX_S, &req.amount)) {
        fprintf (stderr, "easel: --overlap-s wants whole seconds 0..%d, got \"%s\"\n",
                 EASEL_WEBHOOK_OVERLAP_MAX_S, overlap_text);
        return 2;
    }
    snprintf (req.who, sizeof req.who, "%s", account);
    json_t *obj = NULL;
    int rc = s_run (data, &req, "rotate the webhook secret", &obj);
    if (rc)
        return rc;
    if (as_json) {
        char *text = json_dumps (obj, JSON_COMPACT);
        if (text)
            printf ("%s\n", text);
        free (text);
        json_decref (obj);
        return text ? 0 : 1;
    }
    printf ("webhook_secret  %s\n(the previous secret keeps signing until %s)\n",
            json_string_value (json_object_get (obj, "webhook_secret")),
            json_string_value (json_object_get (obj, "previous_valid_until")));
    json_decref (obj);
    return 0;
}

int
cli_keys_public_key (const char *data, const char *account, const char *ed25519, bool as_json)
{
    int action = !ed25519 ? 0 : strcmp (ed25519, "on") == 0 ? 1 : strcmp (ed25519, "off") == 0 ? 2 : -1;
    if (!account || !proto_id_valid (account, "acct_")) {
        fprintf (stderr, "easel: --account wants an account id (acct_...)\n");
        return 2;
    }
    if (action < 0) {
        fprintf (stderr, "easel: --ed25519 wants on or off, got \"%s\"\n", ed25519);
        return 2;
    }
    proto_admin_t req = { .verb = "ed25519", .amount = action };
    snprintf (req.who, sizeof req.who, "%s", account);
    json_t *obj = NULL;
    int rc = s_run (data, &req, "read the webhook key", &obj);
    if (rc)
        return rc;
    const char *pk = json_string_value (json_object_get (obj, "public_key"));
    bool enabled = json_is_true (json_object_get (obj, "enabled"));
    if (as_json)
        printf ("{\"account_id\":\"%s\",\"algorithm\":\"ed25519\",\"public_key\":\"%s\",\"enabled\":%s}\n",
                account, pk, enabled ? "true" : "false");
    else
        printf ("ed25519 public key  %s (%s)\n", pk, enabled ? "signing" : "not signing");
    json_decref (obj);
    return 0;
}
