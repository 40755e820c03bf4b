/*  pg_tasks.c: the task queue (job_store.h, "tasks"), PostgreSQL backend:
    fair leasing, results, failures and retries, lease expiry, cancel
    bookkeeping. Only the current (task, attempt) may change a task; every
    other report is "stale". A lease takes its row with FOR UPDATE SKIP
    LOCKED, so no two transactions can lease one task. Table: tasks (reads
    renders, request_ids).
    Thread: the handle's. Memory: a leased proto_task_t's spec is the
    caller's (proto_task_free). */

#include "store_pg.h"

/* ---- tasks ----------------------------------------------------------------- */

int
job_store_task_lease_next (job_store_t *self, const char *renderer, int64_t now_ms,
                           int64_t lease_ms, proto_task_t *out, char *err)
{
    return job_store_task_lease_for (self, renderer, true, now_ms, lease_ms, out, err);
}

int
job_store_task_lease_for (job_store_t *self, const char *renderer, bool capture,
                          int64_t now_ms, int64_t lease_ms, proto_task_t *out, char *err)
{
    return job_store_task_lease_fair (self, renderer, capture, 0, now_ms, lease_ms, out, err);
}

/* The render whose task goes next when accounts share the fleet (see
   sqlite_tasks.c): among processing renders with a queued task this
   renderer may take, whose account holds fewer than `cap` leased tasks,
   the one of the account holding the fewest leased tasks, the oldest
   render first among equals. Into *seq: 1, or 0 when there is none, -1 on
   error. */
static int
s_fair_render (job_store_t *self, bool capture, int64_t cap, int64_t *seq, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT r.seq FROM renders r LEFT JOIN (SELECT r2.account_id AS account_id, count(*) AS n"
        "   FROM tasks t2 JOIN renders r2 ON r2.seq = t2.render_seq"
        "   WHERE t2.state = 'leased' OR (t2.state = 'canceled' AND t2.renderer IS NOT NULL)"
        "   GROUP BY r2.account_id) l ON l.account_id = r.account_id"
        " WHERE r.status = 'processing' AND coalesce(l.n, 0) < $2"
        " AND EXISTS (SELECT 1 FROM tasks t WHERE t.state = 'queued' AND t.render_seq = r.seq"
        "   AND ($1 <> 0 OR (substr(t.id, 1, 4) <> 'cap_' AND t.browser = 0)))"
        " ORDER BY coalesce(l.n, 0), r.seq LIMIT 1", "ii", (int64_t) capture, cap);
    if (!res)
        return -1;
    int found = PQntuples (res) > 0;
    if (found)
        *seq = pg_i64 (res, 0, 0);
    PQclear (res);
    return found;
}

int
job_store_task_lease_fair (job_store_t *self, const char *renderer, bool capture,
                           int64_t account_cap, int64_t now_ms, int64_t lease_ms,
                           proto_task_t *out, char *err)
{
    assert (self && renderer && out);
    int64_t seq = 0;
    /* none found: only capped accounts have work, and they may use the free
       slots (seq stays 0: any render) */
    if (account_cap > 0 && s_fair_render (self, capture, account_cap, &seq, err) < 0)
        return -1;
    /* one statement, one round trip: the row is chosen and locked (SKIP
       LOCKED), leased, and answered with its render's request id (for the
       TASK and the logs) and whether it was its render's last queued task
       (a probe of tasks_queue by render_seq; the statement's snapshot still
       holds this row queued, hence id <> tasks.id) */
#define S_LEASE_SET "UPDATE tasks SET state = 'leased', attempt = attempt + 1, renderer = $1," \
                    " lease_expires_ms = $2::bigint WHERE id = "
#define S_LEASE_RETURNING \
    " RETURNING id, attempt, spec, (SELECT q.req FROM request_ids q WHERE q.object_id = tasks.render_id)," \
    " input_sha256, render_id, bg_input_sha256," \
    " NOT EXISTS (SELECT 1 FROM tasks o WHERE o.state = 'queued' AND o.render_seq = tasks.render_seq" \
    "   AND o.id <> tasks.id)"
    PGresult *res = seq
        ? pg_query (self, err,
            S_LEASE_SET "(SELECT t.id FROM tasks t WHERE t.state = 'queued' AND t.render_seq = $3"
            " AND ($4 <> 0 OR (substr(t.id, 1, 4) <> 'cap_' AND t.browser = 0))"
            " ORDER BY t.idx LIMIT 1 FOR UPDATE SKIP LOCKED)" S_LEASE_RETURNING, "siii",
            renderer, now_ms + lease_ms, seq, (int64_t) capture)
        : pg_query (self, err,
            S_LEASE_SET "(SELECT t.id FROM tasks t WHERE t.state = 'queued'"
            " AND ($3 <> 0 OR (substr(t.id, 1, 4) <> 'cap_' AND t.browser = 0))"
            " ORDER BY t.render_seq, t.idx LIMIT 1 FOR UPDATE SKIP LOCKED)" S_LEASE_RETURNING, "sii",
            renderer, now_ms + lease_ms, (int64_t) capture);
#undef S_LEASE_SET
#undef S_LEASE_RETURNING
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return 0;
    }
    memset (out, 0, sizeof *out);
    pg_copy (res, 0, 0, out->task_id, sizeof out->task_id);
    out->attempt = (int32_t) pg_i64 (res, 0, 1);
    uint8_t *spec = NULL;
    int spec_rc = pg_bytea (res, 0, 2, &spec, &out->spec_len);
    out->spec = (void *) spec;
    pg_copy (res, 0, 3, out->req, sizeof out->req);
    pg_copy (res, 0, 4, out->blob_sha256, sizeof out->blob_sha256);
    pg_copy (res, 0, 5, out->render_id, sizeof out->render_id);
    pg_copy (res, 0, 6, out->bg_blob_sha256, sizeof out->bg_blob_sha256);
    out->render_last = pg_i64 (res, 0, 7) != 0;
    PQclear (res);
    if (spec_rc) {
        pg_set_err (err, "out of memory");
        return -1;
    }
    return 1;
}

int64_t
job_store_render_accounts_processing (job_store_t *self, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT count(DISTINCT account_id) FROM renders WHERE status = 'processing'", "");
    if (!res)
        return -1;
    int64_t n = pg_i64 (res, 0, 0);
    PQclear (res);
    return n;
}

int
job_store_task_leased_counts (job_store_t *self,
                              void (*fn) (const char *renderer, int64_t n, void *arg),
                              void *arg, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT renderer, count(*) FROM tasks WHERE (state = 'leased'"
        /* a canceled task still being drawn keeps its renderer's slot busy */
        " OR (state = 'canceled' AND renderer IS NOT NULL)) AND renderer IS NOT NULL"
        " GROUP BY renderer", "");
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++)
        fn (PQgetvalue (res, r, 0), pg_i64 (res, r, 1), arg);
    PQclear (res);
    return 0;
}

int
job_store_task_succeed (job_store_t *self, const proto_result_t *result,
                        const char *sha256, int64_t now_ms, char *err)
{
    (void) now_ms;
    /* the thumbnail only when it is one: PROTO_THUMB_HEX lower-case hex digits */
    bool thumb = strlen (result->thumb) == PROTO_THUMB_HEX
              && strspn (result->thumb, "0123456789abcdef") == PROTO_THUMB_HEX;
    /* one statement, one round trip: the task, then its account's stored
       bytes when (and only when) the task was the current attempt */
    PGresult *res = pg_query (self, err,
        "WITH t AS (UPDATE tasks SET state = 'succeeded', sha256 = $1, bytes = $2, width = $3,"
        "   height = $4, renderer = NULL, lease_expires_ms = 0, findings = $5,"
        "   price = CASE WHEN $6 > 0 THEN $6 ELSE price END, thumb = $7"
        "   WHERE id = $8 AND attempt = $9 AND state = 'leased' RETURNING render_id),"
        " a AS (UPDATE accounts SET stored_bytes = stored_bytes + $2 WHERE id ="
        "   (SELECT r.account_id FROM t JOIN renders r ON r.id = t.render_id))"
        " SELECT count(*) FROM t", "siiisissi",
        sha256, (int64_t) result->len, (int64_t) result->width, (int64_t) result->height,
        result->findings_json, (int64_t) result->credits, thumb ? result->thumb : NULL,
        result->task_id, (int64_t) result->attempt);
    if (!res)
        return -1;
    int64_t changed = pg_i64 (res, 0, 0);
    PQclear (res);
    self->changes = changed;
    if (changed == 0) {
        pg_set_err (err, "stale");
        return -1;
    }
    return 0;
}

/* Ends attempt `attempt` of a leased task (already checked current). */
static int
s_end_attempt (job_store_t *self, const char *task_id, int32_t attempt,
               const char *code, const char *message, const char *param,
               bool retryable, int32_t max_attempts, char *err)
{
    if (retryable && attempt < max_attempts)
        return pg_run (self, err, "UPDATE tasks SET state = 'queued', renderer = NULL,"
                                  " lease_expires_ms = 0 WHERE id = $1", "s", task_id);
    char exhausted [512];
    if (retryable) {
        snprintf (exhausted, sizeof exhausted, "rendering failed after %d attempts: %s",
                  (int) attempt, message ? message : "unknown error");
        code = "attempts_exhausted";
        message = exhausted;
        param = NULL;
    }
    return pg_run (self, err, "UPDATE tasks SET state = 'failed', renderer = NULL, lease_expires_ms = 0,"
                              " error_code = $1, error_message = $2, error_param = $3 WHERE id = $4",
                   "ssss", code, message, param, task_id);
}

int
job_store_task_fail (job_store_t *self, const char *task_id, int32_t attempt,
                     const proto_error_t *error, bool retryable, int32_t max_attempts,
                     int64_t now_ms, char *err)
{
    (void) now_ms;
    PGresult *res = pg_query (self, err,
        "SELECT 1 FROM tasks WHERE id = $1 AND attempt = $2 AND state = 'leased'",
        "si", task_id, (int64_t) attempt);
    if (!res)
        return -1;
    int found = PQntuples (res);
    PQclear (res);
    if (!found) {
        pg_set_err (err, "stale");
        return -1;
    }
    return s_end_attempt (self, task_id, attempt, error->code [0] ? error->code : "render_failed",
                          error->message, error->param, retryable, max_attempts, err);
}

int
job_store_task_requeue_leased (job_store_t *self, const char *renderer,
                               int64_t expired_before_ms, const char *reason,
                               int32_t max_attempts, int64_t now_ms, char *err)
{
    (void) now_ms;
    /* canceled tasks the renderer was still drawing: its slot is free again */
    if (pg_run (self, err, "UPDATE tasks SET renderer = NULL WHERE state = 'canceled'"
                           " AND renderer IS NOT NULL AND ($1::text IS NULL OR renderer = $1)"
                           " AND lease_expires_ms < $2", "si", renderer, expired_before_ms))
        return -1;
    PGresult *res = pg_query (self, err,
        "SELECT id, attempt FROM tasks WHERE state = 'leased'"
        " AND ($1::text IS NULL OR renderer = $1) AND lease_expires_ms < $2", "si",
        renderer, expired_before_ms);
    if (!res)
        return -1;
    int count = PQntuples (res);
    for (int r = 0; r < count; r++)
        if (s_end_attempt (self, PQgetvalue (res, r, 0), (int32_t) pg_i64 (res, r, 1),
                           "renderer_lost", reason, NULL, true, max_attempts, err)) {
            PQclear (res);
            return -1;
        }
    PQclear (res);
    return count;
}

int
job_store_task_held_by (job_store_t *self, const char *task_id, int32_t attempt,
                        const char *renderer, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT 1 FROM tasks WHERE id = $1 AND attempt = $2 AND renderer = $3"
        " AND state IN ('leased', 'canceled')", "sis", task_id, (int64_t) attempt, renderer);
    if (!res)
        return -1;
    int held = PQntuples (res) > 0;
    PQclear (res);
    return held;
}

int
job_store_task_release (job_store_t *self, const char *task_id, int32_t attempt, char *err)
{
    return pg_run (self, err, "UPDATE tasks SET renderer = NULL WHERE id = $1 AND attempt = $2"
                              " AND state = 'canceled'", "si", task_id, (int64_t) attempt);
}

int
job_store_task_unlease (job_store_t *self, const char *task_id, int32_t attempt, char *err)
{
    return pg_run (self, err, "UPDATE tasks SET state = 'queued', attempt = attempt - 1,"
                              " renderer = NULL, lease_expires_ms = 0"
                              " WHERE id = $1 AND attempt = $2 AND state = 'leased'",
                   "si", task_id, (int64_t) attempt);
}

int
job_store_task_state_counts (job_store_t *self, int64_t *queued, int64_t *leased)
{
    *queued = *leased = 0;
    PGresult *res = pg_query (self, NULL,
        "SELECT (SELECT count(*) FROM tasks WHERE state = 'queued'),"
        " (SELECT count(*) FROM tasks WHERE state = 'leased')", "");
    if (!res)
        return -1;
    *queued = pg_i64 (res, 0, 0);
    *leased = pg_i64 (res, 0, 1);
    PQclear (res);
    return 0;
}
