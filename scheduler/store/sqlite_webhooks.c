/*  sqlite_webhooks.c: the outbox and webhook management (job_store.h,
    "events and webhook deliveries" and "webhook management"), SQLite backend.
    An event and its delivery are written in the transaction of the state
    they report; the webhooker reads pending deliveries and reports attempts.
    Tables: events, deliveries, delivery_attempts, webhook_secrets_old,
    webhook_keys, renders.webhook_status, accounts.webhook_secret.
    Thread: the handle's. Memory: proto_events_t is the caller's. */

#include "store_sqlite.h"

/* ---- events and deliveries ------------------------------------------------- */

int
job_store_event_add (job_store_t *self, const char *event_id, const char *type,
                     const char *account_id, const char *object_id, int64_t created_at_ms,
                     const char *payload, const char *webhook_url, int64_t *seq_out,
                     char *err)
{
    assert (payload || !webhook_url);
    /* nothing reads the payload of an event without a delivery */
    if (store_run (self, err, "INSERT INTO events (id, type, account_id, object_id, created_at, payload)"
                              " VALUES (?, ?, ?, ?, ?, ?)", "ssssis",
                   event_id, type, account_id, object_id, created_at_ms, webhook_url ? payload : ""))
        return -1;
    int64_t seq = sqlite3_last_insert_rowid (self->db);
    if (webhook_url
    &&  store_run (self, err, "INSERT INTO deliveries (id, event_seq, account_id, url, status, updated_at)"
                              " VALUES (?, ?, ?, ?, 'pending', ?)", "sissi",
                   event_id, seq, account_id, webhook_url, created_at_ms))
        return -1;
    if (seq_out)
        *seq_out = seq;
    return 0;
}

int64_t
job_store_event_last_seq (job_store_t *self)
{
    sqlite3_stmt *st = store_stmt (self, "SELECT coalesce(max(seq), 0) FROM events", "");
    if (!st || sqlite3_step (st) != SQLITE_ROW)
        return -1;
    int64_t seq = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return seq;
}

int
job_store_events_since (job_store_t *self, int64_t since, int32_t limit,
                        proto_events_t *out, char *err)
{
    if (limit < 1 || limit > EASEL_EVENTS_PAGE_MAX)
        limit = EASEL_EVENTS_PAGE_MAX;
    out->last_seq = job_store_event_last_seq (self);
    if (out->last_seq < 0)
        return store_fail (self, err);
    out->events = calloc ((size_t) limit, sizeof *out->events);
    if (!out->events) {
        store_set_err (err, "out of memory");
        return -1;
    }
    sqlite3_stmt *st = store_stmt (self,
        "SELECT e.seq, e.id, e.type, e.object_id, e.created_at, d.id, d.url,"
        /* the current secret, then any old one still in its overlap, then the ed25519 key */
        " a.webhook_secret || coalesce((SELECT ' ' || group_concat(o.secret, ' ')"
        "   FROM webhook_secrets_old o WHERE o.account_id = a.id AND o.valid_until > ?), '')"
        " || coalesce((SELECT ' edsk_' || k.secret_key FROM webhook_keys k"
        "   WHERE k.account_id = a.id AND k.enabled = 1), ''),"
        " e.payload, d.attempts FROM events e JOIN deliveries d ON d.event_seq = e.seq"
        " JOIN accounts a ON a.id = e.account_id"
        " WHERE e.seq > ? AND d.status IN ('pending', 'retrying') ORDER BY e.seq LIMIT ?",
        "iii", util_now_ms (), since, (int64_t) limit);
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW && out->nevents < limit) {
        proto_event_t *ev = &out->events [out->nevents++];
        ev->seq = sqlite3_column_int64 (st, 0);
        store_col_copy (st, 1, ev->id, sizeof ev->id);
        store_col_copy (st, 2, ev->type, sizeof ev->type);
        store_col_copy (st, 3, ev->object_id, sizeof ev->object_id);
        ev->created_at_ms = sqlite3_column_int64 (st, 4);
        store_col_copy (st, 5, ev->delivery_id, sizeof ev->delivery_id);
        ev->url = store_col_dup (st, 6);
        ev->secret = store_col_dup (st, 7);
        ev->payload = store_col_dup (st, 8);
        ev->attempts = sqlite3_column_int (st, 9);
        if (!ev->url || !ev->secret || !ev->payload) {
            sqlite3_reset (st);
            store_set_err (err, "out of memory");
            return -1;
        }
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_fail (self, err);
}

int
job_store_delivery_report (job_store_t *self, const proto_delivery_report_t *report,
                           int32_t max_attempts, int64_t now_ms, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT d.status, d.attempts, e.object_id FROM deliveries d"
        " JOIN events e ON e.seq = d.event_seq WHERE d.id = ?", "s", report->delivery_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    char status [PROTO_SHORT_MAX], object_id [PROTO_ID_MAX];
    int64_t attempts = 0;
    if (rc == SQLITE_ROW) {
        store_col_copy (st, 0, status, sizeof status);
        attempts = sqlite3_column_int64 (st, 1);
        store_col_copy (st, 2, object_id, sizeof object_id);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
    if (store_run (self, err, "INSERT INTO delivery_attempts (delivery_id, at, status_code, latency_ms,"
                              " error, response_head) VALUES (?, ?, ?, ?, ?, ?)", "siiiss",
                   report->delivery_id, now_ms, (int64_t) report->status_code, report->latency_ms,
                   report->error, report->response_head))
        return -1;
    /* a late report never reopens a finished delivery */
    if (strcmp (status, "delivered") == 0 || strcmp (status, "failed") == 0)
        return 0;
    attempts++;
    const char *next = report->ok ? "delivered"
: report->final || attempts >= max_attempts || report->status_code == 410 ? "failed"
                     : "retrying";
    if (store_run (self, err, "UPDATE deliveries SET status = ?, attempts = ?, last_status_code = ?,"
                              " updated_at = ? WHERE id = ?", "siiis",
                   next, attempts, (int64_t) report->status_code, now_ms, report->delivery_id))
        return -1;
    return store_run (self, err, "UPDATE renders SET webhook_status = ? WHERE id = ?", "ss",
                      next, object_id);
}

/* ---- webhook management ---------------------------------------------------- */

int
job_store_delivery_get (job_store_t *self, const char *object_id, const char *account_id,
                        job_store_delivery_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    snprintf (out->status, sizeof out->status, "none");
    bool found = false;
    sqlite3_stmt *st = store_stmt (self,
        "SELECT webhook_url, status, webhook_status FROM renders WHERE id = ? AND account_id = ?",
        "ss", object_id, account_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        found = true;
        out->has_webhook = sqlite3_column_type (st, 0) != SQLITE_NULL;
        store_col_copy (st, 0, out->url, sizeof out->url);
        store_col_copy (st, 1, out->object_status, sizeof out->object_status);
        store_col_copy (st, 2, out->status, sizeof out->status);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail (self, err);
    /* the newest event about the object that has a delivery */
    st = store_stmt (self,
        "SELECT d.id, e.id, e.type, e.seq, d.url, d.status, d.attempts FROM events e"
        " JOIN deliveries d ON d.event_seq = e.seq"
        " WHERE e.object_id = ? AND e.account_id = ? ORDER BY e.seq DESC LIMIT 1",
        "ss", object_id, account_id);
    if (!st)
        return store_fail (self, err);
    rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        found = true;
        out->has_webhook = true;
        store_col_copy (st, 0, out->delivery_id, sizeof out->delivery_id);
        store_col_copy (st, 1, out->event_id, sizeof out->event_id);
        store_col_copy (st, 2, out->event_type, sizeof out->event_type);
        out->event_seq = sqlite3_column_int64 (st, 3);
        store_col_copy (st, 4, out->url, sizeof out->url);
        store_col_copy (st, 5, out->status, sizeof out->status);
        out->attempts = sqlite3_column_int (st, 6);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail (self, err);
    if (!found) {
        store_set_err (err, "not found");
        return -1;
    }
    return 0;
}

int
job_store_delivery_attempts (job_store_t *self, const char *delivery_id, int32_t limit,
                             void (*fn) (const job_store_attempt_t *a, void *arg), void *arg,
                             char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT at, status_code, latency_ms, error, response_head FROM"
        " (SELECT id, at, status_code, latency_ms, error, response_head FROM delivery_attempts"
        "  WHERE delivery_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
        "si", delivery_id, (int64_t) limit);
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        job_store_attempt_t a = {
            .at_ms = sqlite3_column_int64 (st, 0),
            .status_code = sqlite3_column_int (st, 1),
            .latency_ms = sqlite3_column_int64 (st, 2),
            .error = (const char *) sqlite3_column_text (st, 3),
            .response_head = (const char *) sqlite3_column_text (st, 4),
        };
        fn (&a, arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_delivery_reset (job_store_t *self, const char *delivery_id, int64_t now_ms, char *err)
{
    if (store_run (self, err, "UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = ?"
                              " WHERE id = ?", "is", now_ms, delivery_id))
        return -1;
    if (sqlite3_changes (self->db) == 0) {
        store_set_err (err, "not found");
        return -1;
    }
    return store_run (self, err, "UPDATE renders SET webhook_status = 'pending' WHERE id ="
                                 " (SELECT e.object_id FROM deliveries d JOIN events e"
                                 "  ON e.seq = d.event_seq WHERE d.id = ?)", "s", delivery_id);
}

int
job_store_webhook_secret_rotate (job_store_t *self, const char *account_id, int64_t overlap_s,
                                 int64_t now_ms, char new_secret [80], char *err)
{
    uint8_t raw [32];
    char b64 [64];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    snprintf (new_secret, 80, "whsec_%s", b64);
    int64_t until = now_ms + (overlap_s > 0 ? overlap_s * 1000 : 0);
    if (store_savepoint (self, "SAVEPOINT"))
        return store_fail (self, err);
    /* only the previous secret keeps signing: an earlier overlap ends now (this
       also bounds the secrets an event carries, see PROTO's 256-byte cap) */
    int rc = store_run (self, err, "DELETE FROM webhook_secrets_old WHERE account_id = ?", "s", account_id);
    if (rc == 0 && overlap_s > 0)
        rc = store_run (self, err, "INSERT INTO webhook_secrets_old (account_id, secret, valid_until)"
                                   " SELECT id, webhook_secret, ? FROM accounts WHERE id = ?",
                        "is", until, account_id);
    if (rc == 0)
        rc = store_run (self, err, "UPDATE accounts SET webhook_secret = ? WHERE id = ?", "ss",
                        new_secret, account_id);
    if (rc == 0 && sqlite3_changes (self->db) == 0) {
        store_set_err (err, "not found");
        rc = -1;
    }
    if (rc) {
        store_savepoint (self, "ROLLBACK TO");
        store_savepoint (self, "RELEASE");
        return -1;
    }
    return store_savepoint (self, "RELEASE") ? store_fail (self, err) : 0;
}

int
job_store_webhook_ed25519 (job_store_t *self, const char *account_id, int action,
                           char public_key [64], bool *enabled, char *err)
{
    public_key [0] = 0;
    *enabled = false;
    sqlite3_stmt *st = store_stmt (self, "SELECT count(*) FROM accounts WHERE id = ?", "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return store_fail (self, err);
    }
    bool exists = sqlite3_column_int (st, 0) > 0;
    sqlite3_reset (st);
    if (!exists) {
        store_set_err (err, "not found");
        return -1;
    }
    uint8_t pk [crypto_sign_PUBLICKEYBYTES], sk [crypto_sign_SECRETKEYBYTES];
    char pk64 [64], sk64 [128];
    crypto_sign_keypair (pk, sk);
    sodium_bin2base64 (pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64 (sk64, sizeof sk64, sk, sizeof sk, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero (sk, sizeof sk);
    int rc = store_run (self, err, "INSERT OR IGNORE INTO webhook_keys (account_id, public_key,"
                                   " secret_key, enabled) VALUES (?, ?, ?, 0)", "sss",
                        account_id, pk64, sk64);
    sodium_memzero (sk64, sizeof sk64);
    if (rc == 0 && action != 0)
        rc = store_run (self, err, "UPDATE webhook_keys SET enabled = ? WHERE account_id = ?", "is",
                        (int64_t) (action == 1), account_id);
    if (rc)
        return -1;
    st = store_stmt (self, "SELECT public_key, enabled FROM webhook_keys WHERE account_id = ?",
                     "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return store_fail (self, err);
    }
    store_col_copy (st, 0, public_key, 64);
    *enabled = sqlite3_column_int (st, 1) != 0;
    sqlite3_reset (st);
    return 0;
}
