/*  sqlite_accounts.c: accounts, API keys, the key lookup, credits and the
    ledger (job_store.h, "accounts and API keys" and "credits"), SQLite backend.
    Tables: accounts, api_keys, ledger. A balance changes only with a ledger
    row in the same transaction, so sum(amount) of a metered account is its
    balance. Account creation and top-ups run in their own savepoint: atomic
    alone (the CLI) and nested inside the scheduler's pass transaction.
    Thread: the handle's. Memory: out-structs are the caller's. */

#include "store_sqlite.h"

/* ---- accounts and keys ----------------------------------------------------- */

int
job_store_account_create (job_store_t *self, const char *name, int64_t credits,
                          job_store_new_key_t *out, char *err)
{
    assert (self && name && out);
    memset (out, 0, sizeof *out);
    if (!*name || strlen (name) >= sizeof ((job_store_key_info_t *) 0)->name) {
        store_set_err (err, "account name must be 1..127 bytes");
        return -1;
    }
    if (credits < JOB_STORE_UNLIMITED) {
        store_set_err (err, "credits must be >= 0 (or unlimited)");
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
        store_set_err (err, "cannot make an account id");
        return -1;
    }
    char hash [65];
    util_sha256_hex (out->api_key, strlen (out->api_key), hash);
    int64_t now = util_now_ms ();
    if (store_savepoint (self, "SAVEPOINT"))
        return store_fail (self, err);
    if (store_run (self, err, "INSERT INTO accounts (id, name, webhook_secret, credits, created_at)"
                              " VALUES (?, ?, ?, ?, ?)", "sssii",
                   out->account_id, name, out->webhook_secret, credits, now)
    ||  store_run (self, err, "INSERT INTO api_keys (hash, prefix, account_id, created_at)"
                              " VALUES (?, ?, ?, ?)", "sssi",
                   hash, out->key_prefix, out->account_id, now)
    ||  (credits > 0
      && store_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason, note,"
                               " created_at) VALUES (?1, ?2, ?2, 'grant', 'account created', ?3)",
                    "sii", out->account_id, credits, now))) {
        store_savepoint (self, "ROLLBACK TO");
        store_savepoint (self, "RELEASE");
        return -1;
    }
    if (store_savepoint (self, "RELEASE"))
        return store_fail (self, err);
    return 0;
}

int64_t
job_store_account_count (job_store_t *self)
{
    sqlite3_stmt *st = store_stmt (self, "SELECT count(*) FROM accounts", "");
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return -1;
    int64_t n = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return n;
}

int
job_store_key_list (job_store_t *self,
                    void (*fn) (const job_store_key_info_t *info, void *arg), void *arg,
                    char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT k.prefix, a.name, a.id, k.created_at, k.revoked_at IS NOT NULL, a.credits"
        " FROM api_keys k JOIN accounts a ON a.id = k.account_id"
        " ORDER BY k.created_at, k.rowid", "");
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        job_store_key_info_t info;
        memset (&info, 0, sizeof info);
        store_col_copy (st, 0, info.key_prefix, sizeof info.key_prefix);
        store_col_copy (st, 1, info.name, sizeof info.name);
        store_col_copy (st, 2, info.account_id, sizeof info.account_id);
        info.created_at_ms = sqlite3_column_int64 (st, 3);
        info.revoked = sqlite3_column_int (st, 4) != 0;
        info.credits = sqlite3_column_int64 (st, 5);
        fn (&info, arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_key_revoke (job_store_t *self, const char *key_or_prefix, char *err)
{
    assert (self && key_or_prefix);
    int64_t now = util_now_ms ();
    if (strncmp (key_or_prefix, "sk_", 3) == 0 && strlen (key_or_prefix) == 43) {
        char hash [65];
        util_sha256_hex (key_or_prefix, strlen (key_or_prefix), hash);
        if (store_run (self, err, "UPDATE api_keys SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL",
                       "is", now, hash))
            return -1;
        if (sqlite3_changes (self->db) == 0) {
            store_set_err (err, "no such key");
            return -1;
        }
        return 0;
    }
    sqlite3_stmt *st = store_stmt (self,
        "SELECT count(*) FROM api_keys WHERE prefix = ? AND revoked_at IS NULL", "s", key_or_prefix);
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return store_fail (self, err);
    int64_t n = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    if (n != 1) {
        store_set_err (err, n == 0 ? "no such key" : "ambiguous prefix");
        return -1;
    }
    return store_run (self, err, "UPDATE api_keys SET revoked_at = ? WHERE prefix = ? AND revoked_at IS NULL",
                      "is", now, key_or_prefix);
}

int
job_store_auth (job_store_t *self, const char *key_sha256, char account_id [PROTO_ID_MAX])
{
    account_id [0] = 0;
    if (!key_sha256 || strlen (key_sha256) != 64)
        return -1;
    sqlite3_stmt *st = store_stmt (self,
        "SELECT account_id FROM api_keys WHERE hash = ? AND revoked_at IS NULL", "s", key_sha256);
    if (!st)
        return -1;
    int rc = sqlite3_step (st) == SQLITE_ROW ? 0 : -1;
    if (rc == 0)
        store_col_copy (st, 0, account_id, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc;
}

/* ---- credits --------------------------------------------------------------- */

/* Books the charge of a render that just became final: one credit per
   succeeded image, one ledger row (even for 0), the balance follows. */
int
store_render_charge (job_store_t *self, const char *render_id, int64_t now_ms, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT r.account_id, a.credits, (SELECT coalesce(sum(t.price), 0) FROM tasks t"
        " WHERE t.render_id = r.id AND t.state = 'succeeded') FROM renders r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.id = ?", "s", render_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    char account [PROTO_ID_MAX];
    int64_t credits = 0, n = 0;
    if (rc == SQLITE_ROW) {
        store_col_copy (st, 0, account, sizeof account);
        credits = sqlite3_column_int64 (st, 1);
        n = sqlite3_column_int64 (st, 2);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
    bool unlimited = credits == JOB_STORE_UNLIMITED;
    if (!unlimited
    &&  store_run (self, err, "UPDATE accounts SET credits = credits - ? WHERE id = ?", "is", n, account))
        return -1;
    return store_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason,"
                                 " render_id, created_at) VALUES (?, ?, ?, 'render', ?, ?)", "siisi",
                      account, -n, unlimited ? (int64_t) 0 : credits - n, render_id, now_ms);
}

/* Credits held by the account's processing renders: their images not failed or canceled. */
static int
s_reserved (job_store_t *self, const char *account_id, int64_t *out, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT coalesce(sum(t.price), 0) FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE r.account_id = ? AND r.status = 'processing'"
        " AND t.state IN ('queued', 'leased', 'succeeded')", "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return store_fail (self, err);
    }
    *out = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return 0;
}

int
job_store_account_get (job_store_t *self, const char *account_id,
                       job_store_account_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    sqlite3_stmt *st = store_stmt (self,
        "SELECT a.id, a.name, a.credits, coalesce((SELECT -sum(amount) FROM ledger l"
        " WHERE l.account_id = a.id AND l.reason = 'render'), 0) FROM accounts a WHERE a.id = ?",
        "s", account_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        store_col_copy (st, 0, out->account_id, sizeof out->account_id);
        store_col_copy (st, 1, out->name, sizeof out->name);
        int64_t credits = sqlite3_column_int64 (st, 2);
        out->unlimited = credits == JOB_STORE_UNLIMITED;
        out->balance = out->unlimited ? 0 : credits;
        out->used = sqlite3_column_int64 (st, 3);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
    return s_reserved (self, account_id, &out->reserved, err);
}

int
job_store_ledger_list (job_store_t *self, const char *account_id, int32_t limit,
                       void (*fn) (const job_store_ledger_entry_t *e, void *arg), void *arg,
                       char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT l.seq, l.amount, l.balance_after, a.credits = -1, l.reason, l.render_id, l.note,"
        " l.created_at FROM ledger l JOIN accounts a ON a.id = l.account_id"
        " WHERE l.account_id = ? ORDER BY l.seq DESC LIMIT ?", "si", account_id, (int64_t) limit);
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        job_store_ledger_entry_t e;
        e.seq = sqlite3_column_int64 (st, 0);
        e.amount = sqlite3_column_int64 (st, 1);
        e.balance_after = sqlite3_column_int64 (st, 2);
        e.unlimited = sqlite3_column_int (st, 3) != 0;
        e.reason = (const char *) sqlite3_column_text (st, 4);
        e.render_id = (const char *) sqlite3_column_text (st, 5);
        e.note = (const char *) sqlite3_column_text (st, 6);
        e.created_at_ms = sqlite3_column_int64 (st, 7);
        if (!e.reason)
            e.reason = "";
        fn (&e, arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_credits_check (job_store_t *self, const char *account_id, int64_t images,
                         int64_t *available, char *err)
{
    /* on every create: the balance and the reservation only, never the ledger sum */
    sqlite3_stmt *st = store_stmt (self, "SELECT credits FROM accounts WHERE id = ?", "s", account_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    int64_t credits = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
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
    sqlite3_stmt *st;
    if (strncmp (who, "acct_", 5) == 0)
        st = store_stmt (self, "SELECT id FROM accounts WHERE id = ?", "s", who);
    else
    if (strncmp (who, "sk_", 3) == 0 && strlen (who) == 43) {
        char hash [65];
        util_sha256_hex (who, strlen (who), hash);
        st = store_stmt (self, "SELECT account_id FROM api_keys WHERE hash = ?", "s", hash);
    }
    else
        st = store_stmt (self, "SELECT DISTINCT account_id FROM api_keys WHERE prefix = ?", "s", who);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        store_col_copy (st, 0, account_id, PROTO_ID_MAX);
    int next = rc == SQLITE_ROW ? sqlite3_step (st) : rc;
    sqlite3_reset (st);
    if (rc == SQLITE_DONE) {
        store_set_err (err, "no such account");
        return -1;
    }
    if (rc != SQLITE_ROW || (next != SQLITE_DONE && next != SQLITE_ROW))
        return store_fail (self, err);
    if (next == SQLITE_ROW) {
        store_set_err (err, "ambiguous prefix");
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
        store_set_err (err, "amount must be a whole number >= 1");
        return -1;
    }
    if (store_savepoint (self, "SAVEPOINT"))
        return store_fail (self, err);
    int rc = s_account_find (self, who, account_id, err);
    int64_t credits = 0;
    if (rc == 0) {
        sqlite3_stmt *st = store_stmt (self, "SELECT credits FROM accounts WHERE id = ?", "s", account_id);
        rc = st && sqlite3_step (st) == SQLITE_ROW ? 0 : store_fail (self, err);
        if (rc == 0)
            credits = sqlite3_column_int64 (st, 0);
        if (st)
            sqlite3_reset (st);
    }
    if (rc == 0 && credits == JOB_STORE_UNLIMITED) {
        store_set_err (err, "the account has unlimited credits");
        rc = -1;
    }
    if (rc == 0 && credits > JOB_STORE_CREDITS_MAX - amount) {
        store_set_err (err, "the balance would overflow");
        rc = -1;
    }
    int64_t now = util_now_ms ();
    if (rc == 0)
        rc = store_run (self, err, "UPDATE accounts SET credits = ? WHERE id = ?", "is",
                        credits + amount, account_id)
          || store_run (self, err, "INSERT INTO ledger (account_id, amount, balance_after, reason, note,"
                                   " created_at) VALUES (?, ?, ?, 'topup', ?, ?)", "siisi",
                        account_id, amount, credits + amount, note, now) ? -1 : 0;
    if (rc) {
        store_savepoint (self, "ROLLBACK TO");
        store_savepoint (self, "RELEASE");
        return -1;
    }
    if (store_savepoint (self, "RELEASE"))
        return store_fail (self, err);
    if (balance_out)
        *balance_out = credits + amount;
    return 0;
}
