/*  pg_renders.c: renders and capture jobs (job_store.h, "renders" and
    "list and cancel"), PostgreSQL backend: create (with the image cache),
    read, settle, list, cancel, and request ids for logs.
    Tables: renders, tasks (written at create and cancel), render_blobs,
    request_ids; reads reviews and ledger. Thread: the handle's.
    Memory: proto_render_t out-structs are the caller's (proto_render_free). */

#include "store_pg.h"

/* ---- renders --------------------------------------------------------------- */

/* Serves task_id from the account's latest succeeded image with the same
   key whose bytes are still stored: succeeded at once, the same blob,
   size, findings and thumbnail, price 0, cached. Nothing when there is
   none. 0 / -1 (a store error). */
static int
s_cache_serve (job_store_t *self, const char *account_id, const char *task_id, const char *key,
               char *err)
{
    return pg_run (self, err,
        "UPDATE tasks SET (state, sha256, bytes, width, height, findings, thumb, price, cached, spec,"
        " input_sha256, bg_input_sha256) = (SELECT 'succeeded', t.sha256, t.bytes, t.width, t.height,"
        " t.findings, t.thumb, 0, 1, ''::bytea, NULL::text, NULL::text FROM tasks t"
        " JOIN renders r ON r.id = t.render_id"
        " WHERE t.cache_key = $1 AND r.account_id = $2 AND t.state = 'succeeded' AND t.id <> $3"
        " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256)"
        " ORDER BY r.created_at DESC LIMIT 1)"
        " WHERE id = $3 AND EXISTS (SELECT 1 FROM tasks t JOIN renders r ON r.id = t.render_id"
        " WHERE t.cache_key = $1 AND r.account_id = $2 AND t.state = 'succeeded' AND t.id <> $3"
        " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256))",
        "sss", key, account_id, task_id);
}

/* Inserts the render row (its tasks read its seq in their own INSERT, so
   in a pass nothing here waits for an answer). 0 / -1. */
static int
s_render_insert (job_store_t *self, const char *id, const char *account_id, int64_t now_ms,
                 int64_t total, const char *webhook_url, const char *metadata, char *err)
{
    return pg_run (self, err,
        "INSERT INTO renders (id, account_id, status, created_at, total, webhook_url,"
        " webhook_status, metadata) VALUES ($1, $2, 'processing', $3, $4, $5, $6, $7)",
        "ssiisss", id, account_id, now_ms, total, webhook_url, webhook_url ? "pending" : "none",
        metadata);
}

/* Whether the account has an image of key the cache would serve (what
   s_cache_serve looks for). Kept for the pass: a create of the same picture
   later in it asks no round trip until an image succeeds or a blob is
   stored (the statements that can make an answer "no" wrong; one that makes
   "yes" wrong only costs the read back). 1 / 0 / -1. */
static const char S_CACHE_HAS [] =
    "SELECT EXISTS (SELECT 1 FROM tasks t JOIN renders r ON r.id = t.render_id"
    " WHERE t.cache_key = $1 AND r.account_id = $2 AND t.state = 'succeeded'"
    " AND t.sha256 IS NOT NULL AND EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = t.sha256))::int";

static int
s_cache_probe (job_store_t *self, const char *account_id, const char *key, char *err)
{
    PGresult *res = pg_query_kept (self, err, "'succeeded'|blobs", S_CACHE_HAS, "ss", key, account_id);
    if (!res)
        return -1;
    int has = (int) pg_i64 (res, 0, 0);
    PQclear (res);
    return has;
}

int
job_store_render_create (job_store_t *self, const char *account_id,
                         const proto_create_render_t *req, int64_t now_ms,
                         char render_id [PROTO_ID_MAX], proto_render_t *made, char *err)
{
    assert (self && account_id && req);
    if (proto_id_new ("rnd_", render_id, PROTO_ID_MAX)) {
        pg_set_err (err, "cannot make a render id");
        return -1;
    }
    if (made && store_made_init (made, render_id, account_id, req, now_ms)) {
        pg_set_err (err, "out of memory");
        return -1;
    }
    if (s_render_insert (self, render_id, account_id, now_ms, (int64_t) req->ntasks, req->webhook_url,
                         req->metadata_json ? req->metadata_json : "{}", err))
        return -1;
    /* made from what was written, unless the cache may have served an image:
       then read back (the served images' rows) */
    bool read_back = false;
    for (int32_t i = 0; i < req->ntasks; i++) {
        const proto_task_spec_t *t = &req->tasks [i];
        char task_id [PROTO_ID_MAX];
        if (proto_id_new ("img_", task_id, sizeof task_id)) {
            pg_set_err (err, "cannot make an image id");
            return -1;
        }
        char key [65];
        bool keyed = store_cache_key (t, key);
        if (pg_run (self, err, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale,"
                               " preset, width, height, format, spec, state, input_sha256,"
                               " bg_input_sha256, cache_key, browser) VALUES ($1, $2,"
                               " (SELECT seq FROM renders WHERE id = $2), $3, $4, $5,"
                               " $6, $7, $8, $9, $10, 'queued', $11, $12, $13, $14)",
                    "ssiissiisbsssi",
                    task_id, render_id, (int64_t) i, (int64_t) t->slide, t->locale,
                    t->preset, (int64_t) t->width, (int64_t) t->height, t->format,
                    (const void *) t->spec, t->spec_len, t->blob [0] ? t->blob : NULL,
                    t->bg_blob [0] ? t->bg_blob : NULL, keyed ? key : NULL, (int64_t) t->browser))
            return -1;
        if (made)
            store_made_image (made, task_id, t);
        int may_serve = !keyed || req->no_cache ? 0 : made ? s_cache_probe (self, account_id, key, err) : 1;
        if (may_serve < 0 || (may_serve && s_cache_serve (self, account_id, task_id, key, err)))
            return -1;
        read_back = read_back || may_serve;
    }
    int64_t inline_bytes = 0;
    for (int32_t i = 0; i < req->nblobs; i++) {
        if (job_store_blob_add (self, req->blobs [i].sha256, (int64_t) req->blobs [i].len,
                                "application/octet-stream", err)
        ||  pg_run (self, err, "INSERT INTO render_blobs (render_id, sha256) VALUES ($1, $2)"
                               " ON CONFLICT DO NOTHING", "ss", render_id, req->blobs [i].sha256))
            return -1;
        inline_bytes += (int64_t) req->blobs [i].len;
    }
    if (inline_bytes > 0
    &&  (pg_run (self, err, "UPDATE renders SET inline_bytes = $1 WHERE id = $2", "is",
                 inline_bytes, render_id)
      || pg_run (self, err, "UPDATE accounts SET stored_bytes = stored_bytes + $1 WHERE id = $2", "is",
                 inline_bytes, account_id)))
        return -1;
    if (!made)
        return 0;
    if (!read_back)
        return pg_review_fill_new (self, now_ms, made);
    /* read back in the same transaction: the rows just written */
    proto_render_free (made);
    memset (made, 0, sizeof *made);
    return job_store_render_get (self, render_id, NULL, now_ms, made, err);
}

int
job_store_cache_has (job_store_t *self, const char *account_id, const char *key, char *err)
{
    PGresult *res = pg_query (self, err, S_CACHE_HAS, "ss", key, account_id);
    if (!res)
        return -1;
    int has = (int) pg_i64 (res, 0, 0);
    PQclear (res);
    return has;
}

int
job_store_capture_create (job_store_t *self, const char *account_id,
                          const proto_create_render_t *req, int64_t now_ms,
                          char job_id [PROTO_ID_MAX], char *err)
{
    assert (self && account_id && req);
    if (req->ntasks != 1) {
        pg_set_err (err, "a capture job has exactly one task");
        return -1;
    }
    if (proto_id_new ("job_", job_id, PROTO_ID_MAX)) {
        pg_set_err (err, "cannot make a job id");
        return -1;
    }
    if (s_render_insert (self, job_id, account_id, now_ms, 1, req->webhook_url, "{}", err))
        return -1;
    const proto_task_spec_t *t = &req->tasks [0];
    char task_id [PROTO_ID_MAX];
    if (proto_id_new ("cap_", task_id, sizeof task_id)) {
        pg_set_err (err, "cannot make a capture id");
        return -1;
    }
    /* the price holds the most a capture can cost until its result says */
    return pg_run (self, err, "INSERT INTO tasks (id, render_id, render_seq, idx, slide, locale,"
                              " preset, width, height, format, spec, state, price)"
                              " VALUES ($1, $2, (SELECT seq FROM renders WHERE id = $2), 0, 0, '', '', $3, $4, $5, $6,"
                              " 'queued', $7)", "ssiisbi",
                   task_id, job_id, (int64_t) t->width, (int64_t) t->height, t->format,
                   (const void *) t->spec, t->spec_len, (int64_t) JOB_STORE_CAPTURE_PRICE_MAX);
}

/* A render's images, in order (one string: the statement cache is keyed
   by its address). */
static const char S_TASKS_OF_RENDER [] =
    "SELECT id, state, slide, locale, preset, width, height, format, bytes, sha256,"
    " attempt, error_code, error_message, error_param, findings, cached, thumb"
    " FROM tasks WHERE render_id = $1 ORDER BY idx";

/* Fills one image from row r of a tasks result (columns as in
   job_store_render_get). 0 / -1 (out of memory). */
static int
s_image_fill (job_store_t *self, const PGresult *res, int r, int64_t now_ms, proto_image_t *img)
{
    pg_copy (res, r, 0, img->id, sizeof img->id);
    pg_copy (res, r, 1, img->status, sizeof img->status);
    img->slide = (int32_t) pg_i64 (res, r, 2);
    pg_copy (res, r, 3, img->locale, sizeof img->locale);
    pg_copy (res, r, 4, img->preset, sizeof img->preset);
    img->width = (int32_t) pg_i64 (res, r, 5);
    img->height = (int32_t) pg_i64 (res, r, 6);
    pg_copy (res, r, 7, img->format, sizeof img->format);
    img->bytes = pg_i64 (res, r, 8);
    pg_copy (res, r, 9, img->sha256, sizeof img->sha256);
    img->attempts = (int32_t) pg_i64 (res, r, 10);
    if (pg_text (res, r, 14)) {
        img->findings_json = pg_dup (res, r, 14);
        if (!img->findings_json)
            return -1;
    }
    img->cached = pg_i64 (res, r, 15) != 0;
    pg_copy (res, r, 16, img->thumb, sizeof img->thumb);
    if (strcmp (img->status, "succeeded") == 0) {
        img->url_exp = EASEL_SIGNED_EXP (now_ms, EASEL_FILE_URL_TTL_S);
        job_store_url_sign (self, img->id, img->url_exp, img->url_sig);
    }
    if (strcmp (img->status, "failed") == 0)
        return proto_error_set (&img->error, pg_text (res, r, 11), pg_text (res, r, 12),
                                pg_text (res, r, 13));
    return 0;
}

int
job_store_render_get (job_store_t *self, const char *render_id, const char *account_id,
                      int64_t now_ms, proto_render_t *out, char *err)
{
    assert (self && render_id && out);
    /* in a pass the three reads go out together: one round trip */
    pg_query_ahead (self, S_TASKS_OF_RENDER, "s", render_id);
    if (strncmp (render_id, "rnd_", 4) == 0)
        pg_query_ahead (self, PG_REVIEW_OF_RENDER, "s", render_id);
    PGresult *res = pg_query (self, err,
        "SELECT id, account_id, status, created_at, completed_at, total, webhook_url,"
        " webhook_status, metadata FROM renders WHERE id = $1", "s", render_id);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    pg_copy (res, 0, 0, out->id, sizeof out->id);
    pg_copy (res, 0, 1, out->account_id, sizeof out->account_id);
    pg_copy (res, 0, 2, out->status, sizeof out->status);
    out->created_at_ms = pg_i64 (res, 0, 3);
    out->completed_at_ms = pg_i64 (res, 0, 4);
    out->total = (int32_t) pg_i64 (res, 0, 5);
    out->webhook_url = pg_dup (res, 0, 6);
    pg_copy (res, 0, 7, out->webhook_status, sizeof out->webhook_status);
    out->metadata_json = pg_dup (res, 0, 8);
    PQclear (res);
    if (account_id && strcmp (account_id, out->account_id) != 0) {
        pg_set_err (err, "not found");
        return -1;
    }
    out->images = calloc (out->total > 0 ? (size_t) out->total : 1, sizeof *out->images);
    if (!out->images || !out->metadata_json) {
        pg_set_err (err, "out of memory");
        return -1;
    }
    res = pg_query (self, err, S_TASKS_OF_RENDER, "s", render_id);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res) && out->nimages < out->total; r++) {
        proto_image_t *img = &out->images [out->nimages++];
        if (s_image_fill (self, res, r, now_ms, img)) {
            PQclear (res);
            pg_set_err (err, "out of memory");
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
                PQclear (res);
                pg_set_err (err, "out of memory");
                return -1;
            }
        }
    }
    PQclear (res);
    if (strncmp (out->id, "rnd_", 4) == 0 && pg_review_fill (self, now_ms, out, err))
        return -1;
    /* a final render shows what it was charged: its ledger entry */
    if (strcmp (out->status, "processing") != 0) {
        res = pg_query (self, err, "SELECT -amount FROM ledger WHERE render_id = $1", "s", render_id);
        if (!res)
            return -1;
        if (PQntuples (res) > 0)
            out->credits_used = pg_i64 (res, 0, 0);
        PQclear (res);
    }
    return 0;
}

int
job_store_render_head (job_store_t *self, const char *render_id, proto_render_t *out, char *err)
{
    assert (self && render_id && out);
    PGresult *res = pg_query (self, err,
        "SELECT id, account_id, status, created_at, completed_at, total, webhook_url"
        " FROM renders WHERE id = $1", "s", render_id);
    if (!res)
        return -1;
    if (PQntuples (res) != 1) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    pg_copy (res, 0, 0, out->id, sizeof out->id);
    pg_copy (res, 0, 1, out->account_id, sizeof out->account_id);
    pg_copy (res, 0, 2, out->status, sizeof out->status);
    out->created_at_ms = pg_i64 (res, 0, 3);
    out->completed_at_ms = pg_i64 (res, 0, 4);
    out->total = (int32_t) pg_i64 (res, 0, 5);
    bool has_url = pg_text (res, 0, 6) != NULL;
    out->webhook_url = pg_dup (res, 0, 6);
    PQclear (res);
    /* a lost webhook_url would silently drop its callback */
    if (has_url && !out->webhook_url) {
        pg_set_err (err, "out of memory");
        return -1;
    }
    return 0;
}

int
job_store_render_next_settled (job_store_t *self, char render_id [PROTO_ID_MAX], char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT r.id FROM renders r WHERE r.status = 'processing' AND NOT EXISTS"
        " (SELECT 1 FROM tasks t WHERE t.state IN ('queued', 'leased') AND t.render_seq = r.seq)"
        " LIMIT 1", "");
    if (!res)
        return -1;
    int found = PQntuples (res) > 0;
    if (found)
        pg_copy (res, 0, 0, render_id, PROTO_ID_MAX);
    PQclear (res);
    return found;
}

int
job_store_render_complete (job_store_t *self, const char *render_id, int64_t now_ms, char *err)
{
    if (pg_run_now (self, err,
        "UPDATE renders SET completed_at = $2, status = CASE"
        " WHEN EXISTS (SELECT 1 FROM tasks WHERE render_id = $1 AND state = 'canceled') THEN 'canceled'"
        " WHEN EXISTS (SELECT 1 FROM tasks WHERE render_id = $1 AND state <> 'succeeded') THEN 'failed'"
        " ELSE 'succeeded' END"
        " WHERE id = $1 AND status = 'processing'", "si", render_id, now_ms))
        return -1;
    if (self->changes == 0)
        return 0;
    /* a final task is never drawn again: its spec and inline image go */
    if (pg_run (self, err, "UPDATE tasks SET spec = ''::bytea, input_sha256 = NULL, bg_input_sha256 = NULL"
                           " WHERE render_id = $1", "s", render_id)
    ||  pg_run (self, err, "DELETE FROM render_blobs WHERE render_id = $1", "s", render_id)
    ||  pg_run (self, err, "UPDATE accounts SET stored_bytes = GREATEST(0, stored_bytes - (SELECT"
                           " inline_bytes FROM renders WHERE id = $1)) WHERE id ="
                           " (SELECT account_id FROM renders WHERE id = $1)", "s", render_id)
    ||  pg_run (self, err, "UPDATE renders SET inline_bytes = 0 WHERE id = $1", "s", render_id))
        return -1;
    return pg_render_charge (self, render_id, now_ms, err);
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
        PGresult *res = pg_query (self, err, "SELECT seq FROM renders WHERE id = $1 AND account_id = $2",
                                  "ss", starting_after, account_id);
        if (!res)
            return -1;
        int found = PQntuples (res);
        if (found)
            before = pg_i64 (res, 0, 0);
        PQclear (res);
        if (!found) {
            pg_set_err (err, "not found");
            return -1;
        }
    }
    PGresult *res = pg_query (self, err,
        "SELECT id FROM renders WHERE account_id = $1 AND seq < $2 AND substr(id, 1, 4) <> 'job_'"
        " ORDER BY seq DESC LIMIT $3", "sii", account_id, before, (int64_t) limit + 1);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++) {
        if (*n == limit) {
            *has_more = true;
            continue;
        }
        pg_copy (res, r, 0, ids [*n], PROTO_ID_MAX);
        (*n)++;
    }
    PQclear (res);
    return 0;
}

int
job_store_render_cancel (job_store_t *self, const char *render_id, const char *account_id,
                         int64_t now_ms, char *err)
{
    (void) now_ms;
    PGresult *res = pg_query (self, err, "SELECT status FROM renders WHERE id = $1 AND account_id = $2",
                              "ss", render_id, account_id);
    if (!res)
        return -1;
    char status [PROTO_SHORT_MAX] = "";
    int found = PQntuples (res);
    if (found)
        pg_copy (res, 0, 0, status, sizeof status);
    PQclear (res);
    if (!found) {
        pg_set_err (err, "not found");
        return -1;
    }
    if (strcmp (status, "processing") != 0) {
        if (err)
            snprintf (err, STORE_ERR_MAX, "finished: %s", status);
        return -1;
    }
    /* a leased task keeps renderer and lease: its slot stays busy until the
       late answer (job_store_task_release) or the lease runs out */
    return pg_run (self, err, "UPDATE tasks SET state = 'canceled' WHERE render_id = $1"
                              " AND state IN ('queued', 'leased')", "s", render_id);
}

int
job_store_render_running (job_store_t *self, const char *render_id,
                          void (*fn) (const char *renderer, const char *task_id,
                                      int32_t attempt, void *arg),
                          void *arg, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT renderer, id, attempt FROM tasks WHERE render_id = $1 AND state = 'canceled'"
        " AND renderer IS NOT NULL ORDER BY renderer, id", "s", render_id);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++)
        fn (PQgetvalue (res, r, 0), PQgetvalue (res, r, 1), (int32_t) pg_i64 (res, r, 2), arg);
    PQclear (res);
    return 0;
}

/* ---- request ids (logs) ---------------------------------------------------- */

int
job_store_req_set (job_store_t *self, const char *object_id, const char *req, char *err)
{
    if (!req || !*req)
        return 0;
    return pg_run (self, err, "INSERT INTO request_ids (object_id, req) VALUES ($1, $2)"
                              " ON CONFLICT (object_id) DO UPDATE SET req = EXCLUDED.req",
                   "ss", object_id, req);
}

int
job_store_req_get (job_store_t *self, const char *object_id, char req [PROTO_ID_MAX])
{
    req [0] = 0;
    PGresult *res = pg_query (self, NULL,
        "SELECT req FROM request_ids WHERE object_id = $1"
        " OR object_id = (SELECT render_id FROM tasks WHERE id = $1) LIMIT 1", "s", object_id);
    if (!res)
        return -1;
    if (PQntuples (res) > 0)
        pg_copy (res, 0, 0, req, PROTO_ID_MAX);
    PQclear (res);
    return 0;
}

int
job_store_task_render (job_store_t *self, const char *task_id, char render_id [PROTO_ID_MAX])
{
    render_id [0] = 0;
    PGresult *res = pg_query (self, NULL, "SELECT render_id FROM tasks WHERE id = $1", "s", task_id);
    if (!res)
        return -1;
    if (PQntuples (res) > 0)
        pg_copy (res, 0, 0, render_id, PROTO_ID_MAX);
    PQclear (res);
    return 0;
}
