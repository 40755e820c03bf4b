/*  sqlite_renders.c: renders and capture jobs (job_store.h, "renders" and
    "list and cancel"), SQLite backend: create (with the image cache), read,
    settle, list, cancel, and request ids for logs.
    Tables: renders, tasks (written at create and cancel), render_blobs,
    request_ids; reads reviews and ledger. Thread: the handle's.
    Memory: proto_render_t out-structs are the caller's (proto_render_free). */

#include "store_sqlite.h"

/* ---- renders --------------------------------------------------------------- */

/* Serves task_id from the account's latest succeeded image with the same
   key whose bytes are still stored: succeeded at once, the same blob,
   size, findings and thumbnail, price 0, cached. Nothing when there is
   none. When img is given and the task was served, img becomes the image
   as job_store_render_get would read it (succeeded, cached, its URL
   signed at now_ms). 0 / -1 (a store error). */
static int
s_cache_serve (job_store_t *self, const char *account_id, const char *task_id, const char *key,
               int64_t now_ms, proto_image_t *img, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "UPDATE tasks SET (state, sha256, bytes, width, height, findings, thumb, price, cached, spec,"
        " input_sha256, bg_input_sha256) = (SELECT 'succeeded', t.sha256, t.bytes, t.width, t.height,"
        " t.findings, t.thumb, 0, 1, x'', NULL, NULL FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE t.cache_key = ?1 AND r.account_id = ?2 AND t.state = 'succeeded' AND t.id <> ?3"
        " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256)"
        " ORDER BY r.created_at DESC LIMIT 1)"
        " WHERE id = ?3 AND EXISTS (SELECT 1 FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE t.cache_key = ?1 AND r.account_id = ?2 AND t.state = 'succeeded' AND t.id <> ?3"
        " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256))"
        " RETURNING sha256, bytes, width, height, findings, thumb",
        "sss", key, account_id, task_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW && img) {
        snprintf (img->status, sizeof img->status, "succeeded");
        store_col_copy (st, 0, img->sha256, sizeof img->sha256);
        img->bytes = sqlite3_column_int64 (st, 1);
        img->width = sqlite3_column_int (st, 2);
        img->height = sqlite3_column_int (st, 3);
        if (sqlite3_column_type (st, 4) == SQLITE_TEXT
        &&  !(img->findings_json = strdup ((const char *) sqlite3_column_text (st, 4)))) {
            sqlite3_reset (st);
            store_set_err (err, "out of memory");
            return -1;
        }
        store_col_copy (st, 5, img->thumb, sizeof img->thumb);
        img->cached = true;
        img->url_exp = EASEL_SIGNED_EXP (now_ms, EASEL_FILE_URL_TTL_S);
        job_store_url_sign (self, img->id, img->url_exp, img->url_sig);
    }
    while (rc == SQLITE_ROW)           /* one row at most: the task's own */
        rc = sqlite3_step (st);
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_render_create (job_store_t *self, const char *account_id,
                         const proto_create_render_t *req, int64_t now_ms,
                         char render_id [PROTO_ID_MAX], proto_render_t *made, char *err)
{
    assert (self && account_id && req);
    if (proto_id_new ("rnd_", render_id, PROTO_ID_MAX)) {
        store_set_err (err, "cannot make a render id");
        return -1;
    }
    if (made && store_made_init (made, render_id, account_id, req, now_ms)) {
        store_set_err (err, "out of memory");
        return -1;
    }
    if (store_run (self, err, "INSERT INTO renders (id, account_id, status, created_at, total,"
                              " webhook_url, webhook_status, metadata)"
                              " VALUES (?, ?, 'processing', ?, ?, ?, ?, ?)", "ssiisss",
                   render_id, account_id, now_ms, (int64_t) req->ntasks, req->webhook_url,
                   req->webhook_url ? "pending" : "none",
                   req->metadata_json ? req->metadata_json : "{}"))
        return -1;
    int64_t render_seq = sqlite3_last_insert_rowid (self->db);
    for (int32_t i = 0; i < req->ntasks; i++) {
        const proto_task_spec_t *t = &req->tasks [i];
        char task_id [PROTO_ID_MAX];
        if (proto_id_new ("img_", task_id, sizeof task_id)) {
            store_set_err (err, "cannot make an image id");
            return -1;
        }
        char key [65];
        bool keyed = store_cache_key (t, key);
        if (store_run (self, err, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale,"
                                  " preset, width, height, format, spec, state, input_sha256,"
                                  " bg_input_sha256, cache_key, browser)"
                                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                       "ssiiissiisbsssi",
                       task_id, render_id, render_seq, (int64_t) i, (int64_t) t->slide, t->locale,
                       t->preset, (int64_t) t->width, (int64_t) t->height, t->format,
                       (const void *) t->spec, t->spec_len, t->blob [0] ? t->blob : NULL,
                       t->bg_blob [0] ? t->bg_blob : NULL, keyed ? key : NULL, (int64_t) t->browser))
            return -1;
        proto_image_t *img = made ? store_made_image (made, task_id, t) : NULL;
        if (keyed && !req->no_cache && s_cache_serve (self, account_id, task_id, key, now_ms, img, err))
            return -1;
        if (img && img->cached) {
            made->done++;
            made->credits_used++;
        }
    }
    int64_t inline_bytes = 0;
    for (int32_t i = 0; i < req->nblobs; i++) {
        if (job_store_blob_add (self, req->blobs [i].sha256, (int64_t) req->blobs [i].len,
                                "application/octet-stream", err)
        ||  store_run (self, err, "INSERT OR IGNORE INTO render_blobs (render_id, sha256) VALUES (?, ?)",
                       "ss", render_id, req->blobs [i].sha256))
            return -1;
        inline_bytes += (int64_t) req->blobs [i].len;
    }
    if (inline_bytes > 0
    &&  (store_run (self, err, "UPDATE renders SET inline_bytes = ? WHERE id = ?", "is",
                    inline_bytes, render_id)
      || store_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + ? WHERE id = ?", "is",
                    inline_bytes, account_id)))
        return -1;
    /* a new render has no reviews row: its link is generation 0, pending */
    return made ? store_review_fill (self, now_ms, made, err) : 0;
}

int
job_store_cache_has (job_store_t *self, const char *account_id, const char *key, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT EXISTS (SELECT 1 FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE t.cache_key = ?1 AND r.account_id = ?2 AND t.state = 'succeeded'"
        " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256))",
        "ss", key, account_id);
    if (!st || sqlite3_step (st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset (st);
        return store_fail (self, err);
    }
    int has = sqlite3_column_int (st, 0);
    sqlite3_reset (st);
    return has;
}

int
job_store_capture_create (job_store_t *self, const char *account_id,
                          const proto_create_render_t *req, int64_t now_ms,
                          char job_id [PROTO_ID_MAX], char *err)
{
    assert (self && account_id && req);
    if (req->ntasks != 1) {
        store_set_err (err, "a capture job has exactly one task");
        return -1;
    }
    if (proto_id_new ("job_", job_id, PROTO_ID_MAX)) {
        store_set_err (err, "cannot make a job id");
        return -1;
    }
    if (store_run (self, err, "INSERT INTO renders (id, account_id, status, created_at, total,"
                              " webhook_url, webhook_status, metadata)"
                              " VALUES (?, ?, 'processing', ?, 1, ?, ?, '{}')", "ssiss",
                   job_id, account_id, now_ms, req->webhook_url,
                   req->webhook_url ? "pending" : "none"))
        return -1;
    int64_t render_seq = sqlite3_last_insert_rowid (self->db);
    const proto_task_spec_t *t = &req->tasks [0];
    char task_id [PROTO_ID_MAX];
    if (proto_id_new ("cap_", task_id, sizeof task_id)) {
        store_set_err (err, "cannot make a capture id");
        return -1;
    }
    /* the price holds the most a capture can cost until its result says */
    return store_run (self, err, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale,"
                                 " preset, width, height, format, spec, state, price)"
                                 " VALUES (?, ?, ?, 0, 0, '', '', ?, ?, ?, ?, 'queued', ?)", "ssiiisbi",
                      task_id, job_id, render_seq, (int64_t) t->width, (int64_t) t->height, t->format,
                      (const void *) t->spec, t->spec_len, (int64_t) JOB_STORE_CAPTURE_PRICE_MAX);
}

/* Fills one image from a tasks row (columns as in job_store_render_get). */
static int
s_image_fill (job_store_t *self, sqlite3_stmt *st, int64_t now_ms, proto_image_t *img)
{
    store_col_copy (st, 0, img->id, sizeof img->id);
    store_col_copy (st, 1, img->status, sizeof img->status);
    img->slide = sqlite3_column_int (st, 2);
    store_col_copy (st, 3, img->locale, sizeof img->locale);
    store_col_copy (st, 4, img->preset, sizeof img->preset);
    img->width = sqlite3_column_int (st, 5);
    img->height = sqlite3_column_int (st, 6);
    store_col_copy (st, 7, img->format, sizeof img->format);
    img->bytes = sqlite3_column_int64 (st, 8);
    store_col_copy (st, 9, img->sha256, sizeof img->sha256);
    img->attempts = sqlite3_column_int (st, 10);
    if (sqlite3_column_count (st) > 14 && sqlite3_column_type (st, 14) == SQLITE_TEXT) {
        img->findings_json = strdup ((const char *) sqlite3_column_text (st, 14));
        if (!img->findings_json)
            return -1;
    }
    if (sqlite3_column_count (st) > 16) {
        img->cached = sqlite3_column_int (st, 15) != 0;
        store_col_copy (st, 16, img->thumb, sizeof img->thumb);
    }
    if (strcmp (img->status, "succeeded") == 0) {
        img->url_exp = EASEL_SIGNED_EXP (now_ms, EASEL_FILE_URL_TTL_S);
        job_store_url_sign (self, img->id, img->url_exp, img->url_sig);
    }
    if (strcmp (img->status, "failed") == 0)
        return proto_error_set (&img->error, (const char *) sqlite3_column_text (st, 11),
                                (const char *) sqlite3_column_text (st, 12),
                                (const char *) sqlite3_column_text (st, 13));
    return 0;
}

int
job_store_render_get (job_store_t *self, const char *render_id, const char *account_id,
                      int64_t now_ms, proto_render_t *out, char *err)
{
    assert (self && render_id && out);
    sqlite3_stmt *st = store_stmt (self,
        "SELECT id, account_id, status, created_at, completed_at, total, webhook_url,"
        " webhook_status, metadata FROM renders WHERE id = ?", "s", render_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
    }
    store_col_copy (st, 0, out->id, sizeof out->id);
    store_col_copy (st, 1, out->account_id, sizeof out->account_id);
    store_col_copy (st, 2, out->status, sizeof out->status);
    out->created_at_ms = sqlite3_column_int64 (st, 3);
    out->completed_at_ms = sqlite3_column_int64 (st, 4);
    out->total = sqlite3_column_int (st, 5);
    out->webhook_url = store_col_dup (st, 6);
    store_col_copy (st, 7, out->webhook_status, sizeof out->webhook_status);
    out->metadata_json = store_col_dup (st, 8);
    sqlite3_reset (st);
    if (account_id && strcmp (account_id, out->account_id) != 0) {
        store_set_err (err, "not found");
        return -1;
    }
    out->images = calloc (out->total > 0 ? (size_t) out->total : 1, sizeof *out->images);
    if (!out->images || !out->metadata_json) {
        store_set_err (err, "out of memory");
        return -1;
    }
    st = store_stmt (self,
        "SELECT id, state, slide, locale, preset, width, height, format, bytes, sha256,"
        " attempt, error_code, error_message, error_param, findings, cached, thumb"
        " FROM tasks WHERE render_id = ? ORDER BY idx", "s", render_id);
    if (!st)
        return store_fail (self, err);
    while ((rc = sqlite3_step (st)) == SQLITE_ROW && out->nimages < out->total) {
        proto_image_t *img = &out->images [out->nimages++];
        if (s_image_fill (self, st, now_ms, img)) {
            sqlite3_reset (st);
            store_set_err (err, "out of memory");
            return -1;
        }
        if (strcmp (img->status, "succeeded") == 0) {
            out->done++;
            out->credits_used++;
        }
        else
        if (strcmp (img->status, "failed") == 0) {
            out->done++;
            if (!out->error.code [0]
            &&  proto_error_set (&out->error, img->error.code, img->error.message, img->error.param)) {
                sqlite3_reset (st);
                store_set_err (err, "out of memory");
                return -1;
            }
        }
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail (self, err);
    if (strncmp (out->id, "rnd_", 4) == 0 && store_review_fill (self, now_ms, out, err))
        return -1;
    /* a final render shows what it was charged: its ledger entry */
    if (strcmp (out->status, "processing") != 0) {
        st = store_stmt (self, "SELECT -amount FROM ledger WHERE render_id = ?", "s", render_id);
        if (!st)
            return store_fail (self, err);
        if ((rc = sqlite3_step (st)) == SQLITE_ROW)
            out->credits_used = sqlite3_column_int64 (st, 0);
        sqlite3_reset (st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_fail (self, err);
    }
    return 0;
}

int
job_store_render_head (job_store_t *self, const char *render_id, proto_render_t *out, char *err)
{
    assert (self && render_id && out);
    sqlite3_stmt *st = store_stmt (self,
        "SELECT id, account_id, status, created_at, completed_at, total, webhook_url"
        " FROM renders WHERE id = ?", "s", render_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
    }
    store_col_copy (st, 0, out->id, sizeof out->id);
    store_col_copy (st, 1, out->account_id, sizeof out->account_id);
    store_col_copy (st, 2, out->status, sizeof out->status);
    out->created_at_ms = sqlite3_column_int64 (st, 3);
    out->completed_at_ms = sqlite3_column_int64 (st, 4);
    out->total = sqlite3_column_int (st, 5);
    bool has_url = sqlite3_column_type (st, 6) != SQLITE_NULL;
    out->webhook_url = store_col_dup (st, 6);
    sqlite3_reset (st);
    /* a lost webhook_url would silently drop its callback */
    if (has_url && !out->webhook_url) {
        store_set_err (err, "out of memory");
        return -1;
    }
    return 0;
}

int
job_store_render_next_settled (job_store_t *self, char render_id [PROTO_ID_MAX], char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        /* by render_seq (= renders.seq): two seeks in tasks_queue per render, no row reads */
        "SELECT r.id FROM renders r WHERE r.status = 'processing' AND NOT EXISTS"
        " (SELECT 1 FROM tasks t WHERE t.state IN ('queued', 'leased') AND t.render_seq = r.seq)"
        " LIMIT 1", "");
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        store_col_copy (st, 0, render_id, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_render_complete (job_store_t *self, const char *render_id, int64_t now_ms, char *err)
{
    if (store_run (self, err,
        "UPDATE renders SET completed_at = ?2, status = CASE"
        " WHEN EXISTS (SELECT 1 FROM tasks WHERE render_id = ?1 AND state = 'canceled') THEN 'canceled'"
        " WHEN EXISTS (SELECT 1 FROM tasks WHERE render_id = ?1 AND state <> 'succeeded') THEN 'failed'"
        " ELSE 'succeeded' END"
        " WHERE id = ?1 AND status = 'processing'", "si", render_id, now_ms))
        return -1;
    if (sqlite3_changes (self->db) == 0)
        return 0;
    /* a final task is never drawn again: its spec and inline image go */
    if (store_run (self, err, "UPDATE tasks SET spec = x'', input_sha256 = NULL, bg_input_sha256 = NULL"
                              " WHERE render_id = ?",
                   "s", render_id)
    ||  store_run (self, err, "DELETE FROM render_blobs WHERE render_id = ?", "s", render_id)
    ||  store_run (self, err, "UPDATE accounts SET stored_bytes = max(0, stored_bytes - (SELECT"
                              " inline_bytes FROM renders WHERE id = ?1)) WHERE id ="
                              " (SELECT account_id FROM renders WHERE id = ?1)", "s", render_id)
    ||  store_run (self, err, "UPDATE renders SET inline_bytes = 0 WHERE id = ?", "s", render_id))
        return -1;
    return store_render_charge (self, render_id, now_ms, err);
}

/* ---- list and cancel ------------------------------------------------------- */

int
job_store_render_list (job_store_t *self, const char *account_id, int32_t limit,
                       const char *starting_after, char (*ids) [PROTO_ID_MAX],
                       int32_t *n, bool *has_more, char *err)
{
    assert (self && account_id && ids && n && has_more && limit > 0);
    *n = 0;
    *has_more = false;
    int64_t before = INT64_MAX;
    if (starting_after && *starting_after) {
        sqlite3_stmt *st = store_stmt (self, "SELECT seq FROM renders WHERE id = ? AND account_id = ?",
                                       "ss", starting_after, account_id);
        if (!st)
            return store_fail (self, err);
        int rc = sqlite3_step (st);
        if (rc == SQLITE_ROW)
            before = sqlite3_column_int64 (st, 0);
        sqlite3_reset (st);
        if (rc != SQLITE_ROW)
            return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
    }
    sqlite3_stmt *st = store_stmt (self,
        "SELECT id FROM renders WHERE account_id = ? AND seq < ? AND substr(id, 1, 4) <> 'job_'"
        " ORDER BY seq DESC LIMIT ?",
        "sii", account_id, before, (int64_t) limit + 1);
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        if (*n == limit) {
            *has_more = true;
            continue;
        }
        store_col_copy (st, 0, ids [*n], PROTO_ID_MAX);
        (*n)++;
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_render_cancel (job_store_t *self, const char *render_id, const char *account_id,
                         int64_t now_ms, char *err)
{
    (void) now_ms;
    sqlite3_stmt *st = store_stmt (self, "SELECT status FROM renders WHERE id = ? AND account_id = ?",
                                   "ss", render_id, account_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    char status [PROTO_SHORT_MAX] = "";
    if (rc == SQLITE_ROW)
        store_col_copy (st, 0, status, sizeof status);
    sqlite3_reset (st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? (store_set_err (err, "not found"), -1) : store_fail (self, err);
    if (strcmp (status, "processing") != 0) {
        if (err)
            snprintf (err, STORE_ERR_MAX, "finished: %s", status);
        return -1;
    }
    /* a leased task keeps renderer and lease: its slot stays busy until the
       late answer (job_store_task_release) or the lease runs out */
    return store_run (self, err, "UPDATE tasks SET state = 'canceled' WHERE render_id = ?"
                                 " AND state IN ('queued', 'leased')", "s", render_id);
}

int
job_store_render_running (job_store_t *self, const char *render_id,
                          void (*fn) (const char *renderer, const char *task_id,
                                      int32_t attempt, void *arg),
                          void *arg, char *err)
{
    sqlite3_stmt *st = store_stmt (self,
        "SELECT renderer, id, attempt FROM tasks WHERE render_id = ? AND state = 'canceled'"
        " AND renderer IS NOT NULL ORDER BY renderer, id", "s", render_id);
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        const char *renderer = (const char *) sqlite3_column_text (st, 0);
        const char *task_id = (const char *) sqlite3_column_text (st, 1);
        if (renderer && task_id)
            fn (renderer, task_id, sqlite3_column_int (st, 2), arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

/* ---- request ids (logs) ---------------------------------------------------- */

int
job_store_req_set (job_store_t *self, const char *object_id, const char *req, char *err)
{
    if (!req || !*req)
        return 0;
    return store_run (self, err, "INSERT OR REPLACE INTO request_ids (object_id, req) VALUES (?, ?)",
                      "ss", object_id, req) ? -1 : 0;
}

int
job_store_req_get (job_store_t *self, const char *object_id, char req [PROTO_ID_MAX])
{
    req [0] = 0;
    sqlite3_stmt *st = store_stmt (self,
        "SELECT req FROM request_ids WHERE object_id = ?1"
        " OR object_id = (SELECT render_id FROM tasks WHERE id = ?1) LIMIT 1", "s", object_id);
    if (!st)
        return -1;
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        store_col_copy (st, 0, req, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
job_store_task_render (job_store_t *self, const char *task_id, char render_id [PROTO_ID_MAX])
{
    render_id [0] = 0;
    sqlite3_stmt *st = store_stmt (self, "SELECT render_id FROM tasks WHERE id = ?", "s", task_id);
    if (!st)
        return -1;
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW)
        store_col_copy (st, 0, render_id, PROTO_ID_MAX);
    sqlite3_reset (st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
