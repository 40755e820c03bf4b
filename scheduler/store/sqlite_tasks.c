/*  sqlite_tasks.c: the task queue (job_store.h, "tasks"), SQLite backend:
    fair leasing, results, failures and retries, lease expiry, cancel
    bookkeeping. Only the current (task, attempt) may change a task; every
    other report is "stale". Table: tasks (reads renders, request_ids).
    Thread: the handle's. Memory: a leased proto_task_t's spec is the
    caller's (proto_task_free). */

#include "store_sqlite.h"

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

/* The render whose task goes next when accounts share the fleet: among
   processing renders with a queued task this renderer may take, whose
   account holds fewer than `cap` leased tasks, the one of the account
   holding the fewest leased tasks, the oldest render first among equals. So
   a second account's render takes the next free slot instead of waiting
   behind a first account's matrix. Into *seq: 1, or 0 when there is none,
   -1 on error. Walks processing renders and leased tasks (few), not the
   queue. */
static int
s_fair_render (job_store_t *self, bool capture, int64_t cap, int64_t *seq, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT r.seq FROM renders r LEFT JOIN (SELECT r2.account_id AS account_id, count(*) AS n"
        "   FROM tasks t2 JOIN renders r2 ON r2.seq = t2.render_seq"
        "   WHERE t2.state = 'leased' OR (t2.state = 'canceled' AND t2.renderer IS NOT NULL)"
        "   GROUP BY r2.account_id) l ON l.account_id = r.account_id"
        " WHERE r.status = 'processing' AND coalesce(l.n, 0) < ?2"
        " AND EXISTS (SELECT 1 FROM tasks t WHERE t.state = 'queued' AND t.render_seq = r.seq"
        "   AND (?1 OR substr(t.id, 1, 4) <> 'cap_'))"
        " ORDER BY coalesce(l.n, 0), r.seq LIMIT 1", "ii", (int64_t) capture, cap);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail (self, err);
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
    sqlite3_stmt *st = seq
        ? store_stmt (self,
            "SELECT t.id, t.attempt, t.spec, q.req, t.input_sha256, t.render_id, t.bg_input_sha256"
            " FROM tasks t"
            " LEFT JOIN request_ids q ON q.object_id = t.render_id WHERE t.state = 'queued'"
            " AND t.render_seq = ? AND (? OR substr(t.id, 1, 4) <> 'cap_')"
            " ORDER BY t.idx LIMIT 1", "ii", seq, (int64_t) capture)
        : store_stmt (self,
            /* the request id of its render comes along, for the TASK and the logs */
            "SELECT t.id, t.attempt, t.spec, q.req, t.input_sha256, t.render_id, t.bg_input_sha256"
            " FROM tasks t"
            " LEFT JOIN request_ids q ON q.object_id = t.render_id WHERE t.state = 'queued'"
            " AND (? OR substr(t.id, 1, 4) <> 'cap_')"
            " ORDER BY t.render_seq, t.idx LIMIT 1", "i", (int64_t) capture);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? 0 : store_fail (self, err);
    }
    memset (out, 0, sizeof *out);
    store_col_copy (st, 0, out->task_id, sizeof out->task_id);
    out->attempt = sqlite3_column_int (st, 1) + 1;
    out->spec_len = (size_t) sqlite3_column_bytes (st, 2);
    out->spec = malloc (out->spec_len ? out->spec_len : 1);
    if (out->spec && out->spec_len)
        memcpy (out->spec, sqlite3_column_blob (st, 2), out->spec_len);
    store_col_copy (st, 3, out->req, sizeof out->req);
    store_col_copy (st, 4, out->blob_sha256, sizeof out->blob_sha256);
    store_col_copy (st, 5, out->render_id, sizeof out->render_id);
    store_col_copy (st, 6, out->bg_blob_sha256, sizeof out->bg_blob_sha256);
    sqlite3_reset (st);
    if (!out->spec) {
        store_set_err (err, "out of memory");
        return -1;
    }
    if (store_run (self, err, "UPDATE tasks SET state = 'leased', attempt = ?, renderer = ?,"
                              " lease_expires_ms = ? WHERE id = ?", "isis",
                   (int64_t) out->attempt, renderer, now_ms + lease_ms, out->task_id)) {
        proto_task_free (out);
        return -1;
    }
    st = store_stmt (self, "SELECT NOT EXISTS (SELECT 1 FROM tasks WHERE render_id = ?"
                           " AND state = 'queued')", "s", out->render_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        proto_task_free (out);
        return store_fail (self, err);
    }
    out->render_last = sqlite3_column_int (st, 0) != 0;
    sqlite3_reset (st);
    return 1;
}

int64_t
job_store_render_accounts_processing (job_store_t *self, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT count(DISTINCT account_id) FROM renders WHERE status = 'processing'", "");
    if (!st)
        return store_fail (self, err);
    int64_t n = -1;
    if (sqlite3_step (st) == SQLITE_ROW)
        n = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return n < 0 ? store_fail (self, err) : n;
}

int
job_store_task_leased_counts (job_store_t *self,
                              void (*fn) (const char *renderer, int64_t n, void *arg),
                              void *arg, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT renderer, count(*) FROM tasks WHERE state = 'leased'"
        /* a canceled task still being drawn keeps its renderer's slot busy */
        " OR (state = 'canceled' AND renderer IS NOT NULL) GROUP BY renderer", "");
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        const char *renderer = (const char *) sqlite3_column_text (st, 0);
        if (renderer)
            fn (renderer, sqlite3_column_int64 (st, 1), arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_task_succeed (job_store_t *self, const proto_result_t *result,
                        const char *sha256, int64_t now_ms, char *err)
{
    (void) now_ms;
    /* findings: the renderer's lint report (JSON array text), kept with the image */
    /* the thumbnail only when it is one: PROTO_THUMB_HEX lower-case hex digits */
    bool thumb = strlen (result->thumb) == PROTO_THUMB_HEX
              && strspn (result->thumb, "0123456789abcdef") == PROTO_THUMB_HEX;
    if (store_run (self, err, "UPDATE tasks SET state = 'succeeded', sha256 = ?, bytes = ?, width = ?,"
                              " height = ?, renderer = NULL, lease_expires_ms = 0, findings = ?,"
                              " price = CASE WHEN ? > 0 THEN ? ELSE price END, thumb = ?"
                              " WHERE id = ? AND attempt = ? AND state = 'leased'", "siiisiissi",
                   sha256, (int64_t) result->len, (int64_t) result->width, (int64_t) result->height,
                   result->findings_json, (int64_t) result->credits, (int64_t) result->credits,
                   thumb ? result->thumb : NULL, result->task_id, (int64_t) result->attempt))
        return -1;
    if (sqlite3_changes (self->db) == 0) {
        store_set_err (err, "stale");
        return -1;
    }
    return store_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + ? WHERE id ="
                                 " (SELECT r.account_id FROM tasks t JOIN renders r ON r.id = t.render_id"
                                 " WHERE t.id = ?)", "is", (int64_t) result->len, result->task_id);
}

/* Ends attempt `attempt` of a leased task (already checked current). */
static int
s_end_attempt (job_store_t *self, const char *task_id, int32_t attempt,
               const char *code, const char *message, const char *param,
               bool retryable, int32_t max_attempts, char *err)
{
    if (retryable && attempt < max_attempts)
        return store_run (self, err, "UPDATE tasks SET state = 'queued', renderer = NULL,"
                                     " lease_expires_ms = 0 WHERE id = ?", "s", task_id);
    char exhausted [512];
    if (retryable) {
        snprintf (exhausted, sizeof exhausted, "rendering failed after %d attempts: %s",
                  (int) attempt, message ? message : "unknown error");
        code = "attempts_exhausted";
        message = exhausted;
        param = NULL;
    }
    return store_run (self, err, "UPDATE tasks SET state = 'failed', renderer = NULL, lease_expires_ms = 0,"
                                 " error_code = ?, error_message = ?, error_param = ? WHERE id = ?",
                      "ssss", code, message, param, task_id);
}

int
job_store_task_fail (job_store_t *self, const char *task_id, int32_t attempt,
                     const proto_error_t *error, bool retryable, int32_t max_attempts,
                     int64_t now_ms, char *err)
{
    (void) now_ms;
    sqlite3_stmt *st = store_stmt (self,
        "SELECT 1 FROM tasks WHERE id = ? AND attempt = ? AND state = 'leased'",
        "si", task_id, (int64_t) attempt);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            store_set_err (err, "stale");
        else
            store_fail (self, err);
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
    if (store_run (self, err, "UPDATE tasks SET renderer = NULL WHERE state = 'canceled'"
                              " AND renderer IS NOT NULL AND (?1 IS NULL OR renderer = ?1)"
                              " AND lease_expires_ms < ?2", "si", renderer, expired_before_ms))
        return -1;
    /* collect first: the rows change under the select otherwise */
    sqlite3_stmt *st = store_stmt (self,
        "SELECT id, attempt FROM tasks WHERE state = 'leased'"
        " AND (?1 IS NULL OR renderer = ?1) AND lease_expires_ms < ?2", "si",
        renderer, expired_before_ms);
    if (!st)
        return store_fail (self, err);
    size_t count = 0, cap = 0;
    struct s_leased { char id [PROTO_ID_MAX]; int32_t attempt; } *rows = NULL;
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            struct s_leased *grown = realloc (rows, cap * sizeof *rows);
            if (!grown) {
                rc = SQLITE_NOMEM;
                break;
            }
            rows = grown;
        }
        store_col_copy (st, 0, rows [count].id, sizeof rows [count].id);
        rows [count++].attempt = sqlite3_column_int (st, 1);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_DONE) {
        free (rows);
        return rc == SQLITE_NOMEM ? (store_set_err (err, "out of memory"), -1) : store_fail (self, err);
    }
    int result = (int) count;
    for (size_t i = 0; i < count && result >= 0; i++)
        if (s_end_attempt (self, rows [i].id, rows [i].attempt, "renderer_lost", reason, NULL,
                           true, max_attempts, err))
            result = -1;
    free (rows);
    return result;
}

int
job_store_task_held_by (job_store_t *self, const char *task_id, int32_t attempt,
                        const char *renderer, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT 1 FROM tasks WHERE id = ? AND attempt = ? AND renderer = ?"
        " AND state IN ('leased', 'canceled')", "sis", task_id, (int64_t) attempt, renderer);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_task_release (job_store_t *self, const char *task_id, int32_t attempt, char *err)
{
    return store_run (self, err, "UPDATE tasks SET renderer = NULL WHERE id = ? AND attempt = ?"
                                 " AND state = 'canceled'", "si", task_id, (int64_t) attempt);
}

int
job_store_task_unlease (job_store_t *self, const char *task_id, int32_t attempt, char *err)
{
    return store_run (self, err, "UPDATE tasks SET state = 'queued', attempt = attempt - 1,"
                                 " renderer = NULL, lease_expires_ms = 0"
                                 " WHERE id = ? AND attempt = ? AND state = 'leased'",
                      "si", task_id, (int64_t) attempt);
}

int
job_store_task_state_counts (job_store_t *self, int64_t *queued, int64_t *leased)
{
    *queued = *leased = 0;
    sqlite3_stmt *st = store_stmt (self,
        "SELECT (SELECT count(*) FROM tasks WHERE state = 'queued'),"
        " (SELECT count(*) FROM tasks WHERE state = 'leased')", "");
    if (!st)
        return -1;
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        *queued = sqlite3_column_int64 (st, 0);
        *leased = sqlite3_column_int64 (st, 1);
    }
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 0 : -1;
}
