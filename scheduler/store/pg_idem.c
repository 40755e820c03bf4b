/*  pg_idem.c: idempotency keys (job_store.h, "idempotency keys"),
    PostgreSQL backend. One row per (account, scope, key): in flight, then
    done with the response to replay; expired rows count as absent.
    Table: idempotency_keys. Thread: the handle's.
    Memory: a replayed body is the caller's to free. */

#include "store_pg.h"

/* ---- idempotency keys ------------------------------------------------------ */

int
job_store_idem_lookup (job_store_t *self, const char *account_id, const char *scope,
                       const char *key, const char *fingerprint, int64_t now_ms,
                       int64_t created_after_ms, job_store_idem_t *out, char *err)
{
    assert (self && account_id && scope && key && fingerprint && out);
    memset (out, 0, sizeof *out);
    PGresult *res = pg_query (self, err,
        "SELECT fingerprint, object_id, state, status, body, hold_until FROM idempotency_keys"
        " WHERE account_id = $1 AND scope = $2 AND key = $3 AND created_at >= $4", "sssi",
        account_id, scope, key, created_after_ms);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return JOB_STORE_IDEM_NEW;
    }
    char fp [65], state [16];
    pg_copy (res, 0, 0, fp, sizeof fp);
    pg_copy (res, 0, 1, out->object_id, sizeof out->object_id);
    pg_copy (res, 0, 2, state, sizeof state);
    out->status = (int32_t) pg_i64 (res, 0, 3);
    int64_t hold_until = pg_i64 (res, 0, 5);
    bool done = strcmp (state, "done") == 0;
    bool lapsed = !done && hold_until <= now_ms;
    if (strcmp (fp, fingerprint) == 0 && (done || (lapsed && out->status > 0))) {
        out->body = pg_dup (res, 0, 4);
        if (!out->body) {
            PQclear (res);
            pg_set_err (err, "out of memory");
            return -1;
        }
    }
    PQclear (res);
    if (strcmp (fp, fingerprint) != 0)
        return JOB_STORE_IDEM_MISMATCH;
    if (done)
        return JOB_STORE_IDEM_REPLAY;
    if (!lapsed)
        return JOB_STORE_IDEM_IN_FLIGHT;
    /* the first request's answer was never stored: settle on the fallback, or forget it */
    if (out->status > 0)
        return pg_run (self, err, "UPDATE idempotency_keys SET state = 'done'"
                                  " WHERE account_id = $1 AND scope = $2 AND key = $3", "sss",
                       account_id, scope, key) ? -1 : JOB_STORE_IDEM_REPLAY;
    return pg_run (self, err, "DELETE FROM idempotency_keys WHERE account_id = $1 AND scope = $2"
                              " AND key = $3", "sss", account_id, scope, key) ? -1 : JOB_STORE_IDEM_NEW;
}

int
job_store_idem_put (job_store_t *self, const char *account_id, const char *scope,
                    const char *key, const char *fingerprint, const char *object_id,
                    bool done, int32_t status, const char *body, int64_t hold_until_ms,
                    int64_t now_ms, char *err)
{
    assert (self && account_id && scope && key && fingerprint && object_id);
    return pg_run (self, err,
        "INSERT INTO idempotency_keys (account_id, scope, key, fingerprint, object_id,"
        " state, status, body, hold_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        " ON CONFLICT (account_id, scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
        " object_id = EXCLUDED.object_id, state = EXCLUDED.state, status = EXCLUDED.status,"
        " body = EXCLUDED.body, hold_until = EXCLUDED.hold_until, created_at = EXCLUDED.created_at",
        "ssssssisii", account_id, scope, key, fingerprint, object_id, done ? "done" : "in_flight",
        (int64_t) status, body ? body : "", hold_until_ms, now_ms);
}

int
job_store_idem_complete (job_store_t *self, const char *account_id, const char *scope,
                         const char *key, int32_t status, const char *body, char *err)
{
    /* only a success is kept: a refused request changed nothing, so it may run again */
    if (status < 200 || status > 299) {
        if (pg_run_now (self, err, "DELETE FROM idempotency_keys WHERE account_id = $1 AND scope = $2"
                               " AND key = $3 AND state = 'in_flight'", "sss", account_id, scope, key))
            return -1;
    }
    else
    if (pg_run_now (self, err, "UPDATE idempotency_keys SET state = 'done', status = $1, body = $2"
                           " WHERE account_id = $3 AND scope = $4 AND key = $5 AND state = 'in_flight'",
                "issss", (int64_t) status, body, account_id, scope, key))
        return -1;
    if (self->changes == 0) {
        pg_set_err (err, "not found");
        return -1;
    }
    return 0;
}

int
job_store_idem_sweep (job_store_t *self, int64_t before_ms, char *err)
{
    if (pg_run_now (self, err, "DELETE FROM idempotency_keys WHERE created_at < $1", "i", before_ms))
        return -1;
    return (int) self->changes;
}
