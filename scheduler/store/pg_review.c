/*  pg_review.c: the review gate's rows (job_store.h, "the review gate"),
    PostgreSQL backend: one decision per render and the link generation
    that revokes links. Signing and checking links is store_keys.c's.
    Table: reviews (a render without a row is pending, generation 0).
    Thread: the handle's. Memory: review strings filled into a
    proto_render_t are the caller's (proto_render_free). */

#include "store_pg.h"

/* ---- the review gate ------------------------------------------------------- */

const char PG_REVIEW_OF_RENDER [] = "SELECT status, comment, by_name, decided_at, link_gen"
                                   " FROM reviews WHERE render_id = $1";

/* The review link of r for generation gen, signed now. */
static void
s_review_sign (job_store_t *self, int64_t now_ms, int64_t gen, proto_render_t *r)
{
    r->review_exp = EASEL_SIGNED_EXP (now_ms, EASEL_REVIEW_URL_TTL_S);
    job_store_review_sign (self, r->id, gen, r->review_exp, NULL, NULL, r->review_sig);
}

int
pg_review_fill (job_store_t *self, int64_t now_ms, proto_render_t *r, char *err)
{
    PGresult *res = pg_query (self, err, PG_REVIEW_OF_RENDER, "s", r->id);
    if (!res)
        return -1;
    int64_t gen = 0;
    snprintf (r->review_status, sizeof r->review_status, "pending");
    if (PQntuples (res) > 0) {
        pg_copy (res, 0, 0, r->review_status, sizeof r->review_status);
        r->review_comment = pg_dup (res, 0, 1);
        r->review_by = pg_dup (res, 0, 2);
        r->review_decided_at_ms = pg_i64 (res, 0, 3);
        gen = pg_i64 (res, 0, 4);
    }
    PQclear (res);
    s_review_sign (self, now_ms, gen, r);
    return 0;
}

int
pg_review_fill_new (job_store_t *self, int64_t now_ms, proto_render_t *r)
{
    snprintf (r->review_status, sizeof r->review_status, "pending");
    s_review_sign (self, now_ms, 0, r);
    return 0;
}

int
job_store_review_gen (job_store_t *self, const char *render_id, int64_t *gen, char *err)
{
    PGresult *res = pg_query (self, err, "SELECT link_gen FROM reviews WHERE render_id = $1",
                              "s", render_id);
    if (!res)
        return -1;
    *gen = PQntuples (res) > 0 ? pg_i64 (res, 0, 0) : 0;
    PQclear (res);
    return 0;
}

int
job_store_review_decide (job_store_t *self, const char *render_id, const char *status,
                         const char *comment, const char *by, int64_t now_ms, char *err)
{
    if (pg_run_now (self, err, "INSERT INTO reviews (render_id, status, comment, by_name, decided_at)"
                           " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (render_id) DO UPDATE SET"
                           " status = $2, comment = $3, by_name = $4, decided_at = $5"
                           " WHERE reviews.status = 'pending'",
                "ssssi", render_id, status, comment, by, now_ms))
        return -1;
    return self->changes == 1 ? 0 : 1;
}

int
job_store_review_revoke (job_store_t *self, const char *render_id, char *err)
{
    return pg_run (self, err, "INSERT INTO reviews (render_id, status, link_gen) VALUES ($1, 'pending', 1)"
                              " ON CONFLICT (render_id) DO UPDATE SET link_gen = reviews.link_gen + 1",
                   "s", render_id);
}
