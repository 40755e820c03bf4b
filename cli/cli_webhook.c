/*  cli_webhook.c: `easel keys rotate-secret` and `easel keys public-key`,
    an account's webhook signing secrets on a data directory. Opens its own
    short-lived job_store handle (WAL: works beside a running scheduler, which
    reads the secrets afresh for every fetch). Single threaded.  */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "job_store.h"
#include "util.h"

static job_store_t *
s_open (const char *data)
{
    char err[256] = "";
    job_store_t *store = job_store_open (data, err);
    if (!store)
        fprintf (stderr, "easel: cannot open data dir %s: %s\n", data, err);
    return store;
}

int
cli_keys_rotate_secret (const char *data, const char *account, const char *overlap_text, bool as_json)
{
    int64_t overlap = EASEL_WEBHOOK_OVERLAP_S;
    if (!account || !proto_id_valid (account, "acct_")) {
        fprintf (stderr, "easel: --account wants an account id (acct_...)\n");
        return 2;
    }
    if (overlap_text && util_parse_i64 (overlap_text, 0, EASEL_WEBHOOK_OVERLAP_MAX_S, &overlap)) {
        fprintf (stderr, "easel: --overlap-s wants whole seconds 0..%d, got \"%s\"\n",
                 EASEL_WEBHOOK_OVERLAP_MAX_S, overlap_text);
        return 2;
    }
    job_store_t *store = s_open (data);
    if (!store)
        return 1;
    char secret[80], err[256] = "", until[32];
    int64_t now = util_now_ms ();
    int rc = job_store_webhook_secret_rotate (store, account, overlap, now, secret, err);
    job_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "easel: cannot rotate the webhook secret of %s: %s\n", account, err);
        return 1;
    }
    util_iso8601 (now + overlap * 1000, until, sizeof until);
    if (as_json) {
        json_t *obj = json_pack ("{s:s, s:s, s:I, s:s}", "account_id", account, "webhook_secret", secret,
                                 "overlap_s", (json_int_t) overlap, "previous_valid_until", until);
        char *text = obj ? json_dumps (obj, JSON_COMPACT) : NULL;
        if (text)
            printf ("%s\n", text);
        free (text);
        json_decref (obj);
        return text ? 0 : 1;
    }
    printf ("webhook_secret  %s\n(the previous secret keeps signing until %s)\n", secret, until);
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
    job_store_t *store = s_open (data);
    if (!store)
        return 1;
    char pk[64], err[256] = "";
    bool enabled = false;
    int rc = job_store_webhook_ed25519 (store, account, action, pk, &enabled, err);
    job_store_destroy (&store);
    if (rc) {
        fprintf (stderr, "easel: cannot read the webhook key of %s: %s\n", account, err);
        return 1;
    }
    if (as_json)
        printf ("{\"account_id\":\"%s\",\"algorithm\":\"ed25519\",\"public_key\":\"%s\",\"enabled\":%s}\n",
                account, pk, enabled ? "true" : "false");
    else
        printf ("ed25519 public key  %s (%s)\n", pk, enabled ? "signing" : "not signing");
    return 0;
}
