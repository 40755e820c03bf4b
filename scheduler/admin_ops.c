/*  admin_ops.c: the operator's writes on a store (see admin_ops.h).
    Thread: the store handle's. */
#include "admin_ops.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* The store's refusals an operator can act on; any other error is a failure. */
static int
s_store_error (const char *err)
{
    static const char *refusals [] = { "no such account", "no such key", "ambiguous prefix",
                                       "the account has unlimited credits", "not found" };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals [0]; i++)
        if (strcmp (err, refusals [i]) == 0)
            return 1;
    return -1;
}

static int
s_refuse (char *err, const char *why)
{
    snprintf (err, PROTO_ERR_MAX, "%s", why);
    return 1;
}

static int
s_credits_add (job_store_t *self, const proto_admin_t *req, json_t **out, char *err)
{
    if (req->amount < 1 || req->amount > JOB_STORE_CREDITS_MAX)
        return s_refuse (err, "credits wants a whole number >= 1");
    if (req->text && strlen (req->text) > ADMIN_NOTE_MAX) {
        snprintf (err, PROTO_ERR_MAX, "--note is limited to %d bytes", ADMIN_NOTE_MAX);
        return 1;
    }
    char account [PROTO_ID_MAX] = "";
    int64_t balance = 0;
    if (job_store_credits_add (self, req->who, req->amount, req->text, account, &balance, err))
        return s_store_error (err);
    *out = json_pack ("{s:s, s:I, s:I}", "account_id", account, "added", (json_int_t) req->amount,
                      "balance", (json_int_t) balance);
    return 0;
}

static int
s_key_create (job_store_t *self, const proto_admin_t *req, json_t **out, char *err)
{
    const char *name = req->text ? req->text : "";
    if (!*name || strlen (name) > ADMIN_NAME_MAX) {
        snprintf (err, PROTO_ERR_MAX, "--name wants 1..%d characters", ADMIN_NAME_MAX);
        return 1;
    }
    if (req->amount < -1 || req->amount > INT64_MAX / 2)
        return s_refuse (err, "--credits wants a whole number >= 0");
    int64_t credits = req->amount < 0 ? JOB_STORE_UNLIMITED : req->amount;
    job_store_new_key_t key;
    if (job_store_account_create (self, name, credits, &key, err))
        return -1;
    *out = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o}", "name", name, "account_id", key.account_id,
                      "api_key", key.api_key, "key_prefix", key.key_prefix,
                      "webhook_secret", key.webhook_secret,
                      "credits", credits == JOB_STORE_UNLIMITED ? json_null () : json_integer (credits));
    return 0;
}

static int
s_key_revoke (job_store_t *self, const proto_admin_t *req, json_t **out, char *err)
{
    if (!req->who [0])
        return s_refuse (err, "revoke wants a key or its prefix");
    if (job_store_key_revoke (self, req->who, err))
        return s_store_error (err);
    *out = json_pack ("{s:s}", "revoked", req->who);
    return 0;
}

static int
s_secret_rotate (job_store_t *self, const proto_admin_t *req, int64_t now_ms, json_t **out, char *err)
{
    int64_t overlap = req->amount < 0 ? EASEL_WEBHOOK_OVERLAP_S : req->amount;
    if (!proto_id_valid (req->who, "acct_"))
        return s_refuse (err, "--account wants an account id (acct_...)");
    if (overlap > EASEL_WEBHOOK_OVERLAP_MAX_S) {
        snprintf (err, PROTO_ERR_MAX, "--overlap-s wants whole seconds 0..%d", EASEL_WEBHOOK_OVERLAP_MAX_S);
        return 1;
    }
    char secret [80], until [32];
    if (job_store_webhook_secret_rotate (self, req->who, overlap, now_ms, secret, err))
        return s_store_error (err);
    util_iso8601 (now_ms + overlap * 1000, until, sizeof until);
    *out = json_pack ("{s:s, s:s, s:I, s:s}", "account_id", req->who, "webhook_secret", secret,
                      "overlap_s", (json_int_t) overlap, "previous_valid_until", until);
    return 0;
}

static int
s_ed25519 (job_store_t *self, const proto_admin_t *req, json_t **out, char *err)
{
    if (!proto_id_valid (req->who, "acct_"))
        return s_refuse (err, "--account wants an account id (acct_...)");
    if (req->amount < 0 || req->amount > 2)
        return s_refuse (err, "--ed25519 wants on or off");
    char pk [64];
    bool enabled = false;
    if (job_store_webhook_ed25519 (self, req->who, (int) req->amount, pk, &enabled, err))
        return s_store_error (err);
    *out = json_pack ("{s:s, s:s, s:s, s:b}", "account_id", req->who, "algorithm", "ed25519",
                      "public_key", pk, "enabled", enabled);
    return 0;
}

int
admin_ops_run (job_store_t *self, const proto_admin_t *req, int64_t now_ms, json_t **out, char *err)
{
    *out = NULL;
    int rc;
    if (strcmp (req->verb, "credits_add") == 0)
        rc = s_credits_add (self, req, out, err);
    else
    if (strcmp (req->verb, "key_create") == 0)
        rc = s_key_create (self, req, out, err);
    else
    if (strcmp (req->verb, "key_revoke") == 0)
        rc = s_key_revoke (self, req, out, err);
    else
    if (strcmp (req->verb, "secret_rotate") == 0)
        rc = s_secret_rotate (self, req, now_ms, out, err);
    else
    if (strcmp (req->verb, "ed25519") == 0)
        rc = s_ed25519 (self, req, out, err);
    else {
        snprintf (err, PROTO_ERR_MAX, "unknown admin verb \"%.40s\"", req->verb);
        return 1;
    }
    if (rc == 0 && !*out) {
        snprintf (err, PROTO_ERR_MAX, "out of memory");
        return -1;
    }
    return rc;
}
