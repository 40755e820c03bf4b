/*  sqlite_profiles.c: capture profiles (job_store.h, "capture profiles"),
    SQLite backend. One row per profile: its summary JSON and the sealed
    secret bytes, as the scheduler gives them (the store sees no key).
    Table: capture_profiles. Thread: the handle's.
    Memory: a read profile's summary and sealed are the caller's
    (job_store_profile_free). */

#include "store_sqlite.h"

int
job_store_profile_create (job_store_t *self, const char *account_id, const job_store_profile_t *p,
                          char *err)
{
    assert (self && account_id && p && p->summary && p->sealed);
    sqlite3_stmt *st = store_stmt (self,
        "SELECT count(*), sum(name = ?) FROM capture_profiles WHERE account_id = ?", "ss",
        p->name, account_id);
    if (!st)
        return store_fail (self, err);
    if (sqlite3_step (st) != SQLITE_ROW) {
        sqlite3_reset (st);
        return store_fail (self, err);
    }
    int64_t count = sqlite3_column_int64 (st, 0), same = sqlite3_column_int64 (st, 1);
    sqlite3_reset (st);
    if (same > 0)
        return 1;
    if (count >= JOB_STORE_PROFILES_MAX)
        return 2;
    return store_run (self, err,
                      "INSERT INTO capture_profiles (id, account_id, name, summary, sealed, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)", "ssssbi", p->id, account_id, p->name, p->summary,
                      (const void *) p->sealed, p->sealed_len, p->created_at_ms);
}

/* The row st is on into out: heap copies of summary and sealed when copy,
   else summary borrowed from st. 0 / -1 (out of memory). */
static int
s_row (sqlite3_stmt *st, job_store_profile_t *out, bool copy)
{
    store_col_copy (st, 0, out->id, sizeof out->id);
    store_col_copy (st, 1, out->name, sizeof out->name);
    out->created_at_ms = sqlite3_column_int64 (st, 2);
    if (!copy) {
        out->summary = (char *) sqlite3_column_text (st, 3);
        return 0;
    }
    out->summary = store_col_dup (st, 3);
    out->sealed_len = (size_t) sqlite3_column_bytes (st, 4);
    out->sealed = malloc (out->sealed_len ? out->sealed_len : 1);
    if (out->sealed && out->sealed_len)
        memcpy (out->sealed, sqlite3_column_blob (st, 4), out->sealed_len);
    return out->summary && out->sealed ? 0 : -1;
}

int
job_store_profile_get (job_store_t *self, const char *account_id, const char *id,
                       job_store_profile_t *out, char *err)
{
    assert (self && account_id && id && out);
    memset (out, 0, sizeof *out);
    sqlite3_stmt *st = store_stmt (self,
        "SELECT id, name, created_at, summary, sealed FROM capture_profiles"
        " WHERE account_id = ? AND id = ?", "ss", account_id, id);
    if (!st)
        return store_fail (self, err);
    int rc = sqlite3_step (st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset (st);
        return rc == SQLITE_DONE ? 1 : store_fail (self, err);
    }
    rc = s_row (st, out, true);
    sqlite3_reset (st);
    if (rc) {
        job_store_profile_free (out);
        store_set_err (err, "out of memory");
        return -1;
    }
    return 0;
}

int
job_store_profile_list (job_store_t *self, const char *account_id,
                        void (*fn) (const job_store_profile_t *p, void *arg), void *arg, char *err)
{
    assert (self && account_id && fn);
    sqlite3_stmt *st = store_stmt (self,
        "SELECT id, name, created_at, summary FROM capture_profiles WHERE account_id = ?"
        " ORDER BY created_at, id", "s", account_id);
    if (!st)
        return store_fail (self, err);
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        job_store_profile_t p;
        memset (&p, 0, sizeof p);
        s_row (st, &p, false);
        fn (&p, arg);
    }
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : store_fail (self, err);
}

int
job_store_profile_delete (job_store_t *self, const char *account_id, const char *id, char *err)
{
    assert (self && account_id && id);
    if (store_run (self, err, "DELETE FROM capture_profiles WHERE account_id = ? AND id = ?", "ss",
                   account_id, id))
        return -1;
    return sqlite3_changes (self->db) > 0 ? 0 : 1;
}
