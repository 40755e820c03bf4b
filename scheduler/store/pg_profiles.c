/*  pg_profiles.c: capture profiles (job_store.h, "capture profiles"),
    PostgreSQL backend. One row per profile: its summary JSON and the
    sealed secret bytes, as the scheduler gives them (the store sees no key).
    Table: capture_profiles. Thread: the handle's.
    Memory: a read profile's summary and sealed are the caller's
    (job_store_profile_free, store_dispatch.c). */

#include "store_pg.h"

int
job_store_profile_create (job_store_t *self, const char *account_id, const job_store_profile_t *p,
                          char *err)
{
    assert (self && account_id && p && p->summary && p->sealed);
    PGresult *res = pg_query (self, err,
        "SELECT count(*), count(*) FILTER (WHERE name = $1) FROM capture_profiles"
        " WHERE account_id = $2", "ss", p->name, account_id);
    if (!res)
        return -1;
    int64_t count = pg_i64 (res, 0, 0), same = pg_i64 (res, 0, 1);
    PQclear (res);
    if (same > 0)
        return 1;
    if (count >= JOB_STORE_PROFILES_MAX)
        return 2;
    return pg_run (self, err,
                   "INSERT INTO capture_profiles (id, account_id, name, summary, sealed, created_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6)", "ssssbi", p->id, account_id, p->name, p->summary,
                   (const void *) p->sealed, p->sealed_len, p->created_at_ms);
}

int
job_store_profile_get (job_store_t *self, const char *account_id, const char *id,
                       job_store_profile_t *out, char *err)
{
    assert (self && account_id && id && out);
    memset (out, 0, sizeof *out);
    PGresult *res = pg_query (self, err,
        "SELECT id, name, created_at, summary, sealed FROM capture_profiles"
        " WHERE account_id = $1 AND id = $2", "ss", account_id, id);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        return 1;
    }
    pg_copy (res, 0, 0, out->id, sizeof out->id);
    pg_copy (res, 0, 1, out->name, sizeof out->name);
    out->created_at_ms = pg_i64 (res, 0, 2);
    out->summary = pg_dup (res, 0, 3);
    int rc = pg_bytea (res, 0, 4, &out->sealed, &out->sealed_len);
    PQclear (res);
    if (rc || !out->summary) {
        job_store_profile_free (out);
        pg_set_err (err, "out of memory");
        return -1;
    }
    return 0;
}

int
job_store_profile_list (job_store_t *self, const char *account_id,
                        void (*fn) (const job_store_profile_t *p, void *arg), void *arg, char *err)
{
    assert (self && account_id && fn);
    PGresult *res = pg_query (self, err,
        "SELECT id, name, created_at, summary FROM capture_profiles WHERE account_id = $1"
        " ORDER BY created_at, id", "s", account_id);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++) {
        job_store_profile_t p;
        memset (&p, 0, sizeof p);
        pg_copy (res, r, 0, p.id, sizeof p.id);
        pg_copy (res, r, 1, p.name, sizeof p.name);
        p.created_at_ms = pg_i64 (res, r, 2);
        p.summary = PQgetvalue (res, r, 3);
        fn (&p, arg);
    }
    PQclear (res);
    return 0;
}

int
job_store_profile_delete (job_store_t *self, const char *account_id, const char *id, char *err)
{
    assert (self && account_id && id);
    if (pg_run_now (self, err, "DELETE FROM capture_profiles WHERE account_id = $1 AND id = $2", "ss",
                account_id, id))
        return -1;
    return self->changes > 0 ? 0 : 1;
}
