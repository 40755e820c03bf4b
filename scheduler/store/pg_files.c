/*  pg_files.c: blob rows, image files, uploads, the storage quota counter,
    retention and blob garbage collection (job_store.h, "files" and
    "storage"), PostgreSQL backend. The bytes live in the blob store
    (blob_store.h); rows here say what pins them, and a blob row goes only
    when nothing names it (the caller unlinks the file after COMMIT).
    Tables: blobs, files, accounts.stored_bytes; retention deletes renders
    with their tasks, events, deliveries, request ids and idempotency keys.
    Thread: the handle's. Memory: out-structs are the caller's. */

#include "store_pg.h"

/* ---- files ----------------------------------------------------------------- */

int
job_store_blob_add (job_store_t *self, const char *sha256, int64_t bytes,
                    const char *content_type, char *err)
{
    return pg_run (self, err, "INSERT INTO blobs (sha256, bytes, content_type) VALUES ($1, $2, $3)"
                              " ON CONFLICT (sha256) DO NOTHING", "sis", sha256, bytes, content_type);
}

int
job_store_file_get (job_store_t *self, const char *image_id, job_store_file_t *out, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT r.account_id, t.sha256, b.bytes, b.content_type FROM tasks t"
        " JOIN renders r ON r.id = t.render_id JOIN blobs b ON b.sha256 = t.sha256"
        " WHERE t.id = $1 AND t.state = 'succeeded'", "s", image_id);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    memset (out, 0, sizeof *out);
    pg_copy (res, 0, 0, out->account_id, sizeof out->account_id);
    pg_copy (res, 0, 1, out->sha256, sizeof out->sha256);
    out->bytes = pg_i64 (res, 0, 2);
    pg_copy (res, 0, 3, out->content_type, sizeof out->content_type);
    PQclear (res);
    return 0;
}

int
job_store_blob_known (job_store_t *self, const char *sha256)
{
    PGresult *res = pg_query (self, NULL, "SELECT 1 FROM blobs WHERE sha256 = $1", "s", sha256);
    if (!res)
        return -1;
    int known = PQntuples (res) > 0;
    PQclear (res);
    return known;
}

/* ---- storage: quota, retention, blob garbage collection -------------------- */

const char PG_STORED_BYTES_OF_ACCOUNT [] = "SELECT stored_bytes FROM accounts WHERE id = $1";

int
job_store_storage_used (job_store_t *self, const char *account_id, int64_t *bytes, char *err)
{
    assert (self && account_id && bytes);
    PGresult *res = pg_query_kept (self, err, "accounts", PG_STORED_BYTES_OF_ACCOUNT, "s", account_id);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    *bytes = pg_i64 (res, 0, 0);
    PQclear (res);
    return 0;
}

/* Deletes one final render and every row that only it needs. The ledger
   keeps its rows (render_id then names a render that is gone). */
static int
s_render_delete (job_store_t *self, const char *render_id, char *err)
{
    return pg_run (self, err, "UPDATE accounts SET stored_bytes = GREATEST(0, stored_bytes - (SELECT"
                              " r.inline_bytes + coalesce((SELECT sum(t.bytes) FROM tasks t"
                              " WHERE t.render_id = r.id AND t.cached = 0), 0) FROM renders r WHERE r.id = $1))"
                              " WHERE id = (SELECT account_id FROM renders WHERE id = $1)",
                   "s", render_id)
        || pg_run (self, err, "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id"
                              " FROM deliveries d JOIN events e ON e.seq = d.event_seq"
                              " WHERE e.object_id = $1)", "s", render_id)
        || pg_run (self, err, "DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM events"
                              " WHERE object_id = $1)", "s", render_id)
        || pg_run (self, err, "DELETE FROM events WHERE object_id = $1", "s", render_id)
        || pg_run (self, err, "DELETE FROM request_ids WHERE object_id = $1", "s", render_id)
        || pg_run (self, err, "DELETE FROM idempotency_keys WHERE object_id = $1", "s", render_id)
        || pg_run (self, err, "DELETE FROM render_blobs WHERE render_id = $1", "s", render_id)
        || pg_run (self, err, "DELETE FROM reviews WHERE render_id = $1", "s", render_id)
        || pg_run (self, err, "DELETE FROM tasks WHERE render_id = $1", "s", render_id)
        || pg_run (self, err, "DELETE FROM renders WHERE id = $1 AND status <> 'processing'",
                   "s", render_id)
        ? -1 : 0;
}

int
job_store_retention_sweep (job_store_t *self, int64_t before_ms, int32_t limit, char *err)
{
    assert (self && limit > 0 && limit <= JOB_STORE_SWEEP_MAX);
    PGresult *res = pg_query (self, err,
        /* a webhook still being delivered keeps its render until it ends */
        "SELECT id FROM renders WHERE status <> 'processing' AND completed_at < $1"
        " AND webhook_status NOT IN ('pending', 'retrying')"
        " ORDER BY completed_at LIMIT $2", "ii", before_ms, (int64_t) limit);
    if (!res)
        return -1;
    int n = PQntuples (res);
    for (int i = 0; i < n; i++)
        if (s_render_delete (self, PQgetvalue (res, i, 0), err)) {
            PQclear (res);
            return -1;
        }
    PQclear (res);
    return n;
}

int
job_store_blob_gc (job_store_t *self, int32_t limit,
                   void (*fn) (const char *sha256, void *arg), void *arg, char *err)
{
    assert (self && limit > 0 && limit <= JOB_STORE_SWEEP_MAX && fn);
    /* mark: anything a task (output or input) or a render's inline image names */
    PGresult *res = pg_query (self, err,
        "SELECT b.sha256 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.input_sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.bg_input_sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM render_blobs rb WHERE rb.sha256 = b.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256) LIMIT $1",
        "i", (int64_t) limit);
    if (!res)
        return -1;
    int n = PQntuples (res);
    for (int i = 0; i < n; i++) {
        if (pg_run (self, err, "DELETE FROM blobs WHERE sha256 = $1", "s", PQgetvalue (res, i, 0))) {
            PQclear (res);
            return -1;
        }
        fn (PQgetvalue (res, i, 0), arg);
    }
    PQclear (res);
    return n;
}

/* ---- uploaded files -------------------------------------------------------- */

static void
s_upload_fill (const PGresult *res, job_store_upload_t *out)
{
    memset (out, 0, sizeof *out);
    pg_copy (res, 0, 0, out->id, sizeof out->id);
    pg_copy (res, 0, 1, out->account_id, sizeof out->account_id);
    pg_copy (res, 0, 2, out->sha256, sizeof out->sha256);
    out->bytes = pg_i64 (res, 0, 3);
    out->width = (int32_t) pg_i64 (res, 0, 4);
    out->height = (int32_t) pg_i64 (res, 0, 5);
    pg_copy (res, 0, 6, out->format, sizeof out->format);
    out->created_at_ms = pg_i64 (res, 0, 7);
    out->expires_at_ms = pg_i64 (res, 0, 8);
}

int
job_store_upload_find (job_store_t *self, const char *account_id, const char *id,
                       const char *sha256, int64_t now_ms, job_store_upload_t *out, char *err)
{
    assert (self && out && (id || (account_id && sha256)));
    PGresult *res = id
        ? pg_query (self, err, "SELECT id, account_id, sha256, bytes, width, height, format, created_at,"
                               " expires_at FROM files WHERE id = $1 AND expires_at > $2"
                               " AND ($3::text IS NULL OR account_id = $3)", "sis", id, now_ms, account_id)
        : pg_query (self, err, "SELECT id, account_id, sha256, bytes, width, height, format, created_at,"
                               " expires_at FROM files WHERE account_id = $1 AND sha256 = $2"
                               " AND expires_at > $3", "ssi", account_id, sha256, now_ms);
    if (!res)
        return -1;
    int found = PQntuples (res) > 0;
    if (found)
        s_upload_fill (res, out);
    PQclear (res);
    return found ? 0 : 1;
}

/* Takes expired rows of account + sha256 (or all expired, sha256 NULL, up to
   limit) off their accounts and deletes them. Number deleted, -1 on error. */
static int
s_upload_expire (job_store_t *self, const char *account_id, const char *sha256, int64_t now_ms,
                 int32_t limit, char *err)
{
    PGresult *res = pg_query (self, err,
        "WITH gone AS (DELETE FROM files WHERE id IN (SELECT id FROM files WHERE expires_at <= $1"
        " AND ($2::text IS NULL OR (account_id = $2 AND sha256 = $3)) ORDER BY expires_at"
        " LIMIT $4) RETURNING account_id, bytes),"
        " per AS (SELECT account_id, sum(bytes) AS bytes FROM gone GROUP BY account_id),"
        " upd AS (UPDATE accounts a SET stored_bytes = GREATEST(0, a.stored_bytes - per.bytes)"
        " FROM per WHERE per.account_id = a.id)"
        " SELECT count(*) FROM gone", "issi", now_ms, account_id, sha256, (int64_t) limit);
    if (!res)
        return -1;
    int n = (int) pg_i64 (res, 0, 0);
    PQclear (res);
    return n;
}

int
job_store_upload_put (job_store_t *self, job_store_upload_t *in, const char *content_type, char *err)
{
    assert (self && in && content_type);
    if (proto_id_new ("file_", in->id, sizeof in->id)) {
        pg_set_err (err, "cannot make a file id");
        return -1;
    }
    return s_upload_expire (self, in->account_id, in->sha256, in->created_at_ms, 1, err) < 0
        || job_store_blob_add (self, in->sha256, in->bytes, content_type, err)
        || pg_run (self, err, "INSERT INTO files (id, account_id, sha256, bytes, width, height, format,"
                              " created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   "sssiiisii", in->id, in->account_id, in->sha256, in->bytes, (int64_t) in->width,
                   (int64_t) in->height, in->format, in->created_at_ms, in->expires_at_ms)
        || pg_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + $1 WHERE id = $2", "is",
                   in->bytes, in->account_id)
        ? -1 : 0;
}

int
job_store_upload_sweep (job_store_t *self, int64_t now_ms, int32_t limit, char *err)
{
    assert (self && limit > 0);
    return s_upload_expire (self, NULL, NULL, now_ms, limit, err);
}
