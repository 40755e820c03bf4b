/*  sqlite_files.c: blob rows, image files, uploads, the storage quota
    counter, retention and blob garbage collection (job_store.h, "files" and
    "storage"), SQLite backend. The bytes live in the blob store
    (blob_store.h); rows here say what pins them, and a blob row goes only
    when nothing names it (the caller unlinks the file after COMMIT).
    Tables: blobs, files, accounts.stored_bytes; retention deletes renders
    with their tasks, events, deliveries, request ids and idempotency keys.
    Thread: the handle's. Memory: out-structs are the caller's. */

#include "store_sqlite.h"

/* ---- files ----------------------------------------------------------------- */

int
job_store_blob_add (job_store_t *self, const char *sha256, int64_t bytes,
                    const char *content_type, char *err)
{
    return store_run (self, err, "INSERT OR IGNORE INTO blobs (sha256, bytes, content_type)"
                                 " VALUES (?, ?, ?)", "sis", sha256, bytes, content_type);
}

int
job_store_file_get (job_store_t *self, const char *image_id, job_store_file_t *out, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT r.account_id, t.sha256, b.bytes, b.content_type FROM tasks t"
        " JOIN renders r ON r.id = t.render_id JOIN blobs b ON b.sha256 = t.sha256"
        " WHERE t.id = ? AND t.state = 'succeeded'", "s", image_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        memset (out, 0, sizeof *out);
        store_col_copy (st, 0, out->account_id, sizeof out->account_id);
        store_col_copy (st, 1, out->sha256, sizeof out->sha256);
        out->bytes = sqlite3_column_int64 (st, 2);
        store_col_copy (st, 3, out->content_type, sizeof out->content_type);
    }
    sqlite3_reset (st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
}

int
job_store_blob_known (job_store_t *self, const char *sha256)
{
    sqlite3_stmt *st = store_stmt (self, "SELECT 1 FROM blobs WHERE sha256 = ?", "s", sha256);
    if (!st)
        return -1;
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* ---- storage: quota, retention, blob garbage collection -------------------- */

int
job_store_storage_used (job_store_t *self, const char *account_id, int64_t *bytes, char *err)
{
    assert (self && account_id && bytes);
    sqlite3_stmt *st = store_stmt (self, "SELECT stored_bytes FROM accounts WHERE id = ?", "s", account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return store_fail (self, err);
    }
    *bytes = sqlite3_column_int64 (st, 0);
    sqlite3_reset (st);
    return 0;
}

/* Deletes one final render and every row that only it needs. The ledger
   keeps its rows (render_id then names a render that is gone). */
static int
s_render_delete (job_store_t *self, const char *render_id, char *err)
{
    return store_run (self, err, "UPDATE accounts SET stored_bytes = max(0, stored_bytes - (SELECT"
                                 " r.inline_bytes + coalesce((SELECT sum(t.bytes) FROM tasks t"
                                 " WHERE t.render_id = r.id AND t.cached = 0), 0) FROM renders r WHERE r.id = ?1))"
                                 " WHERE id = (SELECT account_id FROM renders WHERE id = ?1)",
                      "s", render_id)
        || store_run (self, err, "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id"
                                 " FROM deliveries d JOIN events e ON e.seq = d.event_seq"
                                 " WHERE e.object_id = ?)", "s", render_id)
        || store_run (self, err, "DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM events"
                                 " WHERE object_id = ?)", "s", render_id)
        || store_run (self, err, "DELETE FROM events WHERE object_id = ?", "s", render_id)
        || store_run (self, err, "DELETE FROM request_ids WHERE object_id = ?", "s", render_id)
        || store_run (self, err, "DELETE FROM idempotency_keys WHERE object_id = ?", "s", render_id)
        || store_run (self, err, "DELETE FROM render_blobs WHERE render_id = ?", "s", render_id)
        || store_run (self, err, "DELETE FROM reviews WHERE render_id = ?", "s", render_id)
        || store_run (self, err, "DELETE FROM tasks WHERE render_id = ?", "s", render_id)
        || store_run (self, err, "DELETE FROM renders WHERE id = ? AND status <> 'processing'",
                      "s", render_id)
        ? -1 : 0;
}

int
job_store_retention_sweep (job_store_t *self, int64_t before_ms, int32_t limit, char *err)
{
    assert (self && limit > 0 && limit <= JOB_STORE_SWEEP_MAX);
    char ids [JOB_STORE_SWEEP_MAX][PROTO_ID_MAX];
    int n = 0;
    sqlite3_stmt *st = store_stmt (self,
        /* a webhook still being delivered keeps its render until it ends */
        "SELECT id FROM renders WHERE status <> 'processing' AND completed_at < ?"
        " AND webhook_status NOT IN ('pending', 'retrying')"
        " ORDER BY completed_at LIMIT ?", "ii", before_ms, (int64_t) limit);
    if (!st)
        return store_fail (self, err);
    int rc;
    while (n < limit && (rc = sqlite3_step (st)) == SQLITE_ROW)
        store_col_copy (st, 0, ids [n++], PROTO_ID_MAX);
    sqlite3_reset (st);
    for (int i = 0; i < n; i++)
        if (s_render_delete (self, ids [i], err))
            return -1;
    return n;
}

int
job_store_blob_gc (job_store_t *self, int32_t limit,
                   void (*fn) (const char *sha256, void *arg), void *arg, char *err)
{
    assert (self && limit > 0 && limit <= JOB_STORE_SWEEP_MAX && fn);
    char shas [JOB_STORE_SWEEP_MAX][65];
    int n = 0;
    /* mark: anything a task (output or input) or a render's inline image names */
    sqlite3_stmt *st = store_stmt (self,
        "SELECT b.sha256 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.input_sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.bg_input_sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM render_blobs rb WHERE rb.sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256) LIMIT ?",
        "i", (int64_t) limit);
    if (!st)
        return store_fail (self, err);
    while (n < limit && sqlite3_step (st) == SQLITE_ROW)
        store_col_copy (st, 0, shas [n++], 65);
    sqlite3_reset (st);
    for (int i = 0; i < n; i++) {
        if (store_run (self, err, "DELETE FROM blobs WHERE sha256 = ?", "s", shas [i]))
            return -1;
        fn (shas [i], arg);
    }
    return n;
}

/* ---- uploaded files -------------------------------------------------------- */

static void
s_upload_fill (sqlite3_stmt *st, job_store_upload_t *out)
{
    memset (out, 0, sizeof *out);
    store_col_copy (st, 0, out->id, sizeof out->id);
    store_col_copy (st, 1, out->account_id, sizeof out->account_id);
    store_col_copy (st, 2, out->sha256, sizeof out->sha256);
    out->bytes = sqlite3_column_int64 (st, 3);
    out->width = sqlite3_column_int (st, 4);
    out->height = sqlite3_column_int (st, 5);
    store_col_copy (st, 6, out->format, sizeof out->format);
    out->created_at_ms = sqlite3_column_int64 (st, 7);
    out->expires_at_ms = sqlite3_column_int64 (st, 8);
}

int
job_store_upload_find (job_store_t *self, const char *account_id, const char *id,
                       const char *sha256, int64_t now_ms, job_store_upload_t *out, char *err)
{
    assert (self && out && (id || (account_id && sha256)));
    sqlite3_stmt *st = id
        ? store_stmt (self, "SELECT id, account_id, sha256, bytes, width, height, format, created_at,"
                            " expires_at FROM files WHERE id = ?1 AND expires_at > ?2"
                            " AND (?3 IS NULL OR account_id = ?3)", "sis", id, now_ms, account_id)
        : store_stmt (self, "SELECT id, account_id, sha256, bytes, width, height, format, created_at,"
                            " expires_at FROM files WHERE account_id = ? AND sha256 = ? AND expires_at > ?",
                      "ssi", account_id, sha256, now_ms);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        s_upload_fill (st, out);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : store_fail (self, err);
}

/* Takes expired rows of account + sha256 (or all expired, sha256 NULL, up to
   limit) off their accounts and deletes them. Number deleted, -1 on error. */
static int
s_upload_expire (job_store_t *self, const char *account_id, const char *sha256, int64_t now_ms,
                 int32_t limit, char *err)
{
    if (store_run (self, err, "UPDATE accounts SET stored_bytes = max(0, stored_bytes - coalesce((SELECT"
                              " sum(f.bytes) FROM (SELECT bytes, account_id FROM files WHERE expires_at <= ?1"
                              " AND (?2 IS NULL OR (account_id = ?2 AND sha256 = ?3)) ORDER BY expires_at"
                              " LIMIT ?4) f WHERE f.account_id = accounts.id), 0))", "issi",
                   now_ms, account_id, sha256, (int64_t) limit))
        return -1;
    if (store_run (self, err, "DELETE FROM files WHERE id IN (SELECT id FROM files WHERE expires_at <= ?1"
                              " AND (?2 IS NULL OR (account_id = ?2 AND sha256 = ?3)) ORDER BY expires_at"
                              " LIMIT ?4)", "issi", now_ms, account_id, sha256, (int64_t) limit))
        return -1;
    return sqlite3_changes (self->db);
}

int
job_store_upload_put (job_store_t *self, job_store_upload_t *in, const char *content_type, char *err)
{
    assert (self && in && content_type);
    if (proto_id_new ("file_", in->id, sizeof in->id)) {
        store_set_err (err, "cannot make a file id");
        return -1;
    }
    return s_upload_expire (self, in->account_id, in->sha256, in->created_at_ms, 1, err) < 0
        || job_store_blob_add (self, in->sha256, in->bytes, content_type, err)
        || store_run (self, err, "INSERT INTO files (id, account_id, sha256, bytes, width, height, format,"
                                 " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssiiisii",
                      in->id, in->account_id, in->sha256, in->bytes, (int64_t) in->width,
                      (int64_t) in->height, in->format, in->created_at_ms, in->expires_at_ms)
        || store_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + ? WHERE id = ?", "is",
                      in->bytes, in->account_id)
        ? -1 : 0;
}

int
job_store_upload_sweep (job_store_t *self, int64_t now_ms, int32_t limit, char *err)
{
    assert (self && limit > 0);
    return s_upload_expire (self, NULL, NULL, now_ms, limit, err);
}
