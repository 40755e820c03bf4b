/*  sqlite_idem.c: idempotency keys (job_store.h, "idempotency keys"),
    SQLite backend. One row per (account, scope, key): in flight, then done
    with the response to replay; expired rows count as absent.
    Table: idempotency_keys. Thread: the handle's.
    Memory: a replayed body is the caller's to free. */

#include "store_sqlite.h"

/* ---- idempotency keys ------------------------------------------------------ */

int
job_store_idem_lookup (job_store_t *self, const char *account_id, const char *scope,
                       const char *key, const char *fingerprint, int64_t now_ms,
                       int64_t created_after_ms, job_store_idem_t *out, char *err)
{
    assert (self && account_id && scope && key && fingerprint && out);
    memset (out, 0, sizeof *out);
    sqlite3_stmt *st = store_stmt (self,
        "SELECT fingerprint, object_id, state, status, body, hold_until FROM idempotency_keys"
        " WHERE account_id = ? AND scope = ? AND key = ? AND created_at >= ?", "sssi",
        account_id, scope, key, created_after_ms);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? JOB_STORE_IDEM_NEW : store_fail (self, err);
    }
    char fp [65], state [16];
    store_col_copy (st, 0, fp, sizeof fp);
    store_col_copy (st, 1, out->object_id, sizeof out->object_id);
    store_col_copy (st, 2, state, sizeof state);
    out->status = sqlite3_column_int (st, 3);
    int64_t hold_until = sqlite3_column_int64 (st, 5);
    bool done = strcmp (state, "done") == 0;
    bool lapsed = !done && hold_until <= now_ms;
    if (strcmp (fp, fingerprint) == 0 && (done || (lapsed && out->status > 0))) {
        out->body = store_col_dup (st, 4);
        if (!out->body) {
            sqlite3_reset (st);
            store_set_err (err, "out of memory");
            return -1;
        }
    }
    sqlite3_reset (st);
    if (strcmp (fp, fingerprint) != 0)
        return JOB_STORE_IDEM_MISMATCH;
    if (done)
        return JOB_STORE_IDEM_REPLAY;
    if (!lapsed)
        return JOB_STORE_IDEM_IN_FLIGHT;
    /* the first request's answer was never stored: settle on the fallback, or forget it */
    if (out->status > 0)
        return store_run (self, err, "UPDATE idempotency_keys SET state = 'done'"
                                     " WHERE account_id = ? AND scope = ? AND key = ?", "sss",
                          account_id, scope, key) ? -1 : JOB_STORE_IDEM_REPLAY;
    return store_run (self, err, "DELETE FROM idempotency_keys WHERE account_id = ? AND scope = ?"
                                 " AND key = ?", "sss", account_id, scope, key) ? -1 : JOB_STORE_IDEM_NEW;
}

int
job_store_idem_put (job_store_t *self, const char *account_id, const char *scope,
                    const char *key, const char *fingerprint, const char *object_id,
                    bool done, int32_t status, const char *body, int64_t hold_until_ms,
                    int64_t now_ms, char *err)
{
    assert (self && account_id && scope && key && fingerprint && object_id);
    return store_run (self, err,
        "INSERT OR REPLACE INTO idempotency_keys (account_id, scope, key, fingerprint, object_id,"
        " state, status, body, hold_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "ssssssisii", account_id, scope, key, fingerprint, object_id, done ? "done" : "in_flight",
        (int64_t) status, body ? body : "", hold_until_ms, now_ms);
}

int
job_store_idem_complete (job_store_t *self, const char *account_id, const char *scope,
                         const char *key, int32_t status, const char *body, char *err)
{
    /* only a success is kept: a refused request changed nothing, so it may run again */
    if (status < 200 || status > 299) {
        if (store_run (self, err, "DELETE FROM idempotency_keys WHERE account_id = ? AND scope = ?"
                                  " AND key = ? AND state = 'in_flight'", "sss", account_id, scope, key))
            return -1;
    }
    else
    if (store_run (self, err, "UPDATE idempotency_keys SET state = 'done', status = ?, body = ?"
                              " WHERE account_id = ? AND scope = ? AND key = ? AND state = 'in_flight'",
                   "issss", (int64_t) status, body, account_id, scope, key))
        return -1;
    if (sqlite3_changes (self->db) == 0) {
        store_set_err (err, "not found");
        return -1;
    }
    return 0;
}

int
job_store_idem_sweep (job_store_t *self, int64_t before_ms, char *err)
{
    if (store_run (self, err, "DELETE FROM idempotency_keys WHERE created_at < ?", "i", before_ms))
        return -1;
    return sqlite3_changes (self->db);
}
