/*  sqlite_review.c: the review gate's rows (job_store.h, "the review
    gate"), SQLite backend: one decision per render and the link generation
    that revokes links. Signing and checking links is store_keys.c's.
    Table: reviews (a render without a row is pending, generation 0).
    Thread: the handle's. Memory: review strings filled into a
    proto_render_t are the caller's (proto_render_free). */

#include "store_sqlite.h"

/* ---- the review gate ------------------------------------------------------- */

/* The review row of r->id into r's review fields, with a review link signed
   for its current generation and expiring EASEL_REVIEW_URL_TTL_S after the signing window (EASEL_SIGNED_EXP). */
int
store_review_fill (job_store_t *self, int64_t now_ms, proto_render_t *r, char *err)
{
    sqlite3_stmt *st = store_stmt (self, "SELECT status, comment, by_name, decided_at, link_gen"
                                         " FROM reviews WHERE render_id = ?", "s", r->id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    int64_t gen = 0;
    snprintf (r->review_status, sizeof r->review_status, "pending");
    if (rc == SQLITE_ROW) {
        store_col_copy (st, 0, r->review_status, sizeof r->review_status);
        r->review_comment = store_col_dup (st, 1);
        r->review_by = store_col_dup (st, 2);
        r->review_decided_at_ms = sqlite3_column_int64 (st, 3);
        gen = sqlite3_column_int64 (st, 4);
    }
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail (self, err);
    r->review_exp = EASEL_SIGNED_EXP (now_ms, EASEL_REVIEW_URL_TTL_S);
    job_store_review_sign (self, r->id, gen, r->review_exp, NULL, NULL, r->review_sig);
    return 0;
}

int
job_store_review_gen (job_store_t *self, const char *render_id, int64_t *gen, char *err)
{
    sqlite3_stmt *st = store_stmt (self, "SELECT link_gen FROM reviews WHERE render_id = ?",
                                   "s", render_id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    *gen = rc == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
    sqlite3_reset (st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail (self, err);
    return 0;
}

int
job_store_review_decide (job_store_t *self, const char *render_id, const char *status,
                         const char *comment, const char *by, int64_t now_ms, char *err)
{
    if (store_run (self, err, "INSERT INTO reviews (render_id, status, comment, by_name, decided_at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (render_id) DO UPDATE SET"
                              " status = ?2, comment = ?3, by_name = ?4, decided_at = ?5"
                              " WHERE reviews.status = 'pending'",
                   "ssssi", render_id, status, comment, by, now_ms))
        return -1;
    return sqlite3_changes (self->db) == 1 ? 0 : 1;
}

int
job_store_review_revoke (job_store_t *self, const char *render_id, char *err)
{
    return store_run (self, err, "INSERT INTO reviews (render_id, status, link_gen) VALUES (?, 'pending', 1)"
                                 " ON CONFLICT (render_id) DO UPDATE SET link_gen = link_gen + 1",
                      "s", render_id);
}
