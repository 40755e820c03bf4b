/*  pg_accounts.c: accounts, API keys, the key lookup, credits and the
    ledger (job_store.h, "accounts and API keys" and "credits"), PostgreSQL
    backend. Tables: accounts, api_keys, ledger. A balance changes only with
    a ledger row in the same transaction, so sum(amount) of a metered
    account is its balance; a top-up locks the account's row (FOR UPDATE)
    so a CLI beside a running scheduler cannot lose an update. Account
    creation and top-ups run in the account savepoint (store_pg.h): a
    transaction of their own from the CLI, a savepoint inside the
    scheduler's pass transaction.
    Thread: the handle's. Memory: out-structs are the caller's. */

#include "store_pg.h"

/* ---- accounts and keys ----------------------------------------------------- */

int
job_store_account_create (job_store_t *self, const char *name, int64_t credits,
                          job_store_new_key_t *out, char *err)
{
    assert (self && name && out);
    memset (out, 0, sizeof *out);
    if (!*name || strlen (name) >= sizeof ((job_store_key_info_t *) 0)->name) {
        pg_set_err (err, "account name must be 1..127 bytes");
        return -1;
    }
    if (credits < JOB_STORE_UNLIMITED) {
        pg_set_err (err, "credits must be >= 0 (or unlimited)");
        return -1;
    }
    uint8_t raw [32];
    char hex [41];
    char b64 [64];
    randombytes_buf (raw, 20);
    sodium_bin2hex (hex, sizeof hex, raw, 20);
    snprintf (out->api_key, sizeof out->api_key, "sk_%s", hex);
    snprintf (out->key_prefix, sizeof out->key_prefix, "%.11s", out->api_key);
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    snprintf (out->webhook_secret, sizeof out->webhook_secret, "whsec_%s", b64);
    if (proto_id_new ("acct_", out->account_id, sizeof out->account_id)) {
        pg_set_err (err, "cannot make an account id");
        return -1;
    }
    char hash [65];
    util_sha256_hex (out->api_key, strlen (out->api_key), hash);
    int64_t now = util_now_ms ();
    if (pg_sp_begin (self, err))
        return -1;
    if (pg_run (self, err, "INSERT INTO accounts (id, name, webhook_secret, credits, created_at)"
                           " VALUES ($1, $2, $3, $4, $5)", "sssii",
                out->account_id, name, out->webhook_secret, credits, now)
    ||  pg_run (self, err, "INSERT INTO api_keys (hash, prefix, account_id, created_at)"
                           " VALUES ($1, $2, $3, $4)", "sssi",
                hash, out->key_prefix, out->account_id, now)
    ||  (credits > 0
      && pg_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason, note,"
                            " created_at) VALUES ($1, $2, $2, 'grant', 'account created', $3)",
                 "sii", out->account_id, credits, now))) {
        pg_sp_end (self, false, NULL);
        return -1;
    }
    return pg_sp_end (self, true, err);
}

int64_t
job_store_account_count (job_store_t *self)
{
    PGresult *res = pg_query (self, NULL, "SELECT count(*) FROM accounts", "");
    if (!res)
        return -1;
    int64_t n = PQntuples (res) == 1 ? pg_i64 (res, 0, 0) : -1;
    PQclear (res);
    return n;
}

int
job_store_key_list (job_store_t *self,
                    void (*fn) (const job_store_key_info_t *info, void *arg), void *arg,
                    char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT k.prefix, a.name, a.id, k.created_at, k.revoked_at IS NOT NULL, a.credits"
        " FROM api_keys k JOIN accounts a ON a.id = k.account_id"
        " ORDER BY k.created_at, k.seq", "");
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++) {
        job_store_key_info_t info;
        memset (&info, 0, sizeof info);
        pg_copy (res, r, 0, info.key_prefix, sizeof info.key_prefix);
        pg_copy (res, r, 1, info.name, sizeof info.name);
        pg_copy (res, r, 2, info.account_id, sizeof info.account_id);
        info.created_at_ms = pg_i64 (res, r, 3);
        info.revoked = pg_i64 (res, r, 4) != 0;
        info.credits = pg_i64 (res, r, 5);
        fn (&info, arg);
    }
    PQclear (res);
    return 0;
}

int
job_store_key_revoke (job_store_t *self, const char *key_or_prefix, char *err)
{
    assert (self && key_or_prefix);
    int64_t now = util_now_ms ();
    if (strncmp (key_or_prefix, "sk_", 3) == 0 && strlen (key_or_prefix) == 43) {
        char hash [65];
        util_sha256_hex (key_or_prefix, strlen (key_or_prefix), hash);
        if (pg_run_now (self, err, "UPDATE api_keys SET revoked_at = $1 WHERE hash = $2"
                               " AND revoked_at IS NULL", "is", now, hash))
            return -1;
        if (self->changes == 0) {
            pg_set_err (err, "no such key");
            return -1;
        }
        return 0;
    }
    PGresult *res = pg_query (self, err,
        "SELECT count(*) FROM api_keys WHERE prefix = $1 AND revoked_at IS NULL", "s", key_or_prefix);
    if (!res)
        return -1;
    int64_t n = pg_i64 (res, 0, 0);
    PQclear (res);
    if (n != 1) {
        pg_set_err (err, n == 0 ? "no such key" : "ambiguous prefix");
        return -1;
    }
    return pg_run (self, err, "UPDATE api_keys SET revoked_at = $1 WHERE prefix = $2"
                              " AND revoked_at IS NULL", "is", now, key_or_prefix);
}

int
job_store_auth (job_store_t *self, const char *key_sha256, char account_id [PROTO_ID_MAX])
{
    account_id [0] = 0;
    if (!key_sha256 || strlen (key_sha256) != 64)
        return -1;
    PGresult *res = pg_query_kept (self, NULL, "api_keys",
        "SELECT account_id FROM api_keys WHERE hash = $1 AND revoked_at IS NULL", "s", key_sha256);
    if (!res)
        return -1;
    int rc = PQntuples (res) == 1 ? 0 : -1;
    if (rc == 0)
        pg_copy (res, 0, 0, account_id, PROTO_ID_MAX);
    PQclear (res);
    return rc;
}

/* ---- credits --------------------------------------------------------------- */

/* Books the charge of a render that just became final: one credit per
   succeeded image's price, one ledger row (even for 0), the balance follows. */
int
pg_render_charge (job_store_t *self, const char *render_id, int64_t now_ms, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT r.account_id, a.credits, (SELECT coalesce(sum(t.price), 0) FROM tasks t"
        " WHERE t.render_id = r.id AND t.state = 'succeeded') FROM renders r"
        " JOIN accounts a ON a.id = r.account_id WHERE r.id = $1 FOR UPDATE OF a", "s", render_id);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    char account [PROTO_ID_MAX];
    pg_copy (res, 0, 0, account, sizeof account);
    int64_t credits = pg_i64 (res, 0, 1), n = pg_i64 (res, 0, 2);
    PQclear (res);
    bool unlimited = credits == JOB_STORE_UNLIMITED;
    if (!unlimited
    &&  pg_run (self, err, "UPDATE accounts SET credits = credits - $1 WHERE id = $2", "is", n, account))
        return -1;
    return pg_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason,"
                              " render_id, created_at) VALUES ($1, $2, $3, 'render', $4, $5)", "siisi",
                   account, -n, unlimited ? (int64_t) 0 : credits - n, render_id, now_ms);
}

/* Credits held by the account's processing renders: their images not failed or canceled. */
static int
s_reserved (job_store_t *self, const char *account_id, int64_t *out, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT coalesce(sum(t.price), 0) FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE r.account_id = $1 AND r.status = 'processing'"
        " AND t.state IN ('queued', 'leased', 'succeeded')", "s", account_id);
    if (!res)
        return -1;
    *out = pg_i64 (res, 0, 0);
    PQclear (res);
    return 0;
}

int
job_store_account_get (job_store_t *self, const char *account_id,
                       job_store_account_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    PGresult *res = pg_query (self, err,
        "SELECT a.id, a.name, a.credits, coalesce((SELECT -sum(amount) FROM ledger l"
        " WHERE l.account_id = a.id AND l.reason = 'render'), 0) FROM accounts a WHERE a.id = $1",
        "s", account_id);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    pg_copy (res, 0, 0, out->account_id, sizeof out->account_id);
    pg_copy (res, 0, 1, out->name, sizeof out->name);
    int64_t credits = pg_i64 (res, 0, 2);
    out->unlimited = credits == JOB_STORE_UNLIMITED;
    out->balance = out->unlimited ? 0 : credits;
    out->used = pg_i64 (res, 0, 3);
    PQclear (res);
    return s_reserved (self, account_id, &out->reserved, err);
}

int
job_store_ledger_list (job_store_t *self, const char *account_id, int32_t limit,
                       void (*fn) (const job_store_ledger_entry_t *e, void *arg), void *arg,
                       char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT l.seq, l.amount, l.balance_after, a.credits = -1, l.reason, l.render_id, l.note,"
        " l.created_at FROM ledger l JOIN accounts a ON a.id = l.account_id"
        " WHERE l.account_id = $1 ORDER BY l.seq DESC LIMIT $2", "si", account_id, (int64_t) limit);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++) {
        job_store_ledger_entry_t e;
        e.seq = pg_i64 (res, r, 0);
        e.amount = pg_i64 (res, r, 1);
        e.balance_after = pg_i64 (res, r, 2);
        e.unlimited = pg_i64 (res, r, 3) != 0;
        e.reason = pg_text (res, r, 4);
        e.render_id = pg_text (res, r, 5);
        e.note = pg_text (res, r, 6);
        e.created_at_ms = pg_i64 (res, r, 7);
        if (!e.reason)
            e.reason = "";
        fn (&e, arg);
    }
    PQclear (res);
    return 0;
}

int
job_store_credits_check (job_store_t *self, const char *account_id, int64_t images,
                         int64_t *available, char *err)
{
    /* on every create: the balance and the reservation only, never the ledger sum;
       a create's quota check reads the stored bytes next, sent in the same round trip */
    pg_query_ahead (self, PG_STORED_BYTES_OF_ACCOUNT, "s", account_id);
    PGresult *res = pg_query_kept (self, err, "accounts", "SELECT credits FROM accounts WHERE id = $1",
                                   "s", account_id);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    int64_t credits = pg_i64 (res, 0, 0);
    PQclear (res);
    if (credits == JOB_STORE_UNLIMITED)
        return 0;
    int64_t reserved = 0;
    if (s_reserved (self, account_id, &reserved, err))
        return -1;
    *available = credits - reserved;
    return images <= *available ? 0 : 1;
}

/* The account named by an acct_ id, a full sk_ key or a listed key prefix. */
static int
s_account_find (job_store_t *self, const char *who, char account_id [PROTO_ID_MAX], char *err)
{
    PGresult *res;
    if (strncmp (who, "acct_", 5) == 0)
        res = pg_query (self, err, "SELECT id FROM accounts WHERE id = $1", "s", who);
    else
    if (strncmp (who, "sk_", 3) == 0 && strlen (who) == 43) {
        char hash [65];
        util_sha256_hex (who, strlen (who), hash);
        res = pg_query (self, err, "SELECT account_id FROM api_keys WHERE hash = $1", "s", hash);
    }
    else
        res = pg_query (self, err, "SELECT DISTINCT account_id FROM api_keys WHERE prefix = $1"
                                   " LIMIT 2", "s", who);
    if (!res)
        return -1;
    int n = PQntuples (res);
    if (n == 1)
        pg_copy (res, 0, 0, account_id, PROTO_ID_MAX);
    PQclear (res);
    if (n != 1) {
        pg_set_err (err, n == 0 ? "no such account" : "ambiguous prefix");
        return -1;
    }
    return 0;
}

int
job_store_credits_add (job_store_t *self, const char *who, int64_t amount,
                       const char *note, char account_id [PROTO_ID_MAX],
                       int64_t *balance_out, char *err)
{
    assert (self && who && account_id);
    if (amount < 1 || amount > JOB_STORE_CREDITS_MAX) {
        pg_set_err (err, "amount must be a whole number >= 1");
        return -1;
    }
    if (pg_sp_begin (self, err))
        return -1;
    int rc = s_account_find (self, who, account_id, err);
    int64_t credits = 0;
    if (rc == 0) {
        PGresult *res = pg_query (self, err, "SELECT credits FROM accounts WHERE id = $1 FOR UPDATE",
                                  "s", account_id);
        rc = res && PQntuples (res) == 1 ? 0 : -1;
        if (res && rc)
            pg_set_err (err, "no such account");
        if (rc == 0)
            credits = pg_i64 (res, 0, 0);
        PQclear (res);
    }
    if (rc == 0 && credits == JOB_STORE_UNLIMITED) {
        pg_set_err (err, "the account has unlimited credits");
        rc = -1;
    }
    if (rc == 0 && credits > JOB_STORE_CREDITS_MAX - amount) {
        pg_set_err (err, "the balance would overflow");
        rc = -1;
    }
    int64_t now = util_now_ms ();
    if (rc == 0)
        rc = pg_run (self, err, "UPDATE accounts SET credits = $1 WHERE id = $2", "is",
                     credits + amount, account_id)
          || pg_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason, note,"
                                " created_at) VALUES ($1, $2, $3, 'topup', $4, $5)", "siisi",
                     account_id, amount, credits + amount, note, now) ? -1 : 0;
    if (rc) {
        pg_sp_end (self, false, NULL);
        return -1;
    }
    if (pg_sp_end (self, true, err))
        return -1;
    if (balance_out)
        *balance_out = credits + amount;
    return 0;
}
