/*  store_dispatch.c: job_store.h's functions as calls through the handle's
    ops table (store_ops.h), and the choice of backend at open:
    EASEL_DATABASE_URL unset or empty is SQLite under the data dir,
    postgres:// or postgresql:// is PostgreSQL (pg_*.c), anything else is
    refused. Callers never see which backend they hold.
    Thread: the handle's. Memory: the handle is the backend's. */

#include "store_backend.h"
#include "store_ops.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ERR_MAX 256

static const store_ops_t *
s_ops (job_store_t *self)
{
    assert (self);
    return ((store_head_t *) self)->ops;
}

/* The first row of ops with no function, NULL when every row has one. */
static const char *
s_missing (const store_ops_t *ops)
{
#define S_CHECK(ret, name, params, args) if (!ops->name) return #name;
    STORE_OPS (S_CHECK, S_CHECK)
#undef S_CHECK
    return ops->destroy && ops->url_secret ? NULL : "destroy";
}

bool
store_url_is_pg (const char *url)
{
    return url && (strncmp (url, "postgres://", 11) == 0 || strncmp (url, "postgresql://", 13) == 0);
}

/* job_store_open and job_store_open_beside: the backend of
   EASEL_DATABASE_URL, as_is passed on (store_backend.h). */
static job_store_t *
s_open (const char *data_dir, bool as_is, char *err)
{
    assert (data_dir);
    const char *url = getenv ("EASEL_DATABASE_URL");
    if (!url || !*url)
        return store_sqlite_open (data_dir, as_is, err);
    if (!store_url_is_pg (url)) {
        if (err)
            snprintf (err, S_ERR_MAX, "EASEL_DATABASE_URL must start with postgres:// or"
                      " postgresql:// (unset: SQLite under the data dir)");
        return NULL;
    }
    const char *missing = s_missing (&store_pg_ops);
    if (missing) {
        if (err)
            snprintf (err, S_ERR_MAX, "the PostgreSQL store lacks job_store_%s in this build", missing);
        return NULL;
    }
    return store_pg_open (url, as_is, err);
}

job_store_t *
job_store_open (const char *data_dir, char *err)
{
    return s_open (data_dir, false, err);
}

job_store_t *
job_store_open_beside (const char *data_dir, char *err)
{
    return s_open (data_dir, true, err);
}

void
job_store_destroy (job_store_t **self_p)
{
    assert (self_p);
    if (*self_p)
        s_ops (*self_p)->destroy (self_p);
}

const char *
store_url_secret (job_store_t *self)
{
    return s_ops (self)->url_secret (self);
}

const char *
store_backend_name (job_store_t *self)
{
    return s_ops (self)->backend;
}

#define S_CALL(ret, name, params, args) \
    ret job_store_##name params { return s_ops (self)->name args; }
#define S_CALLV(ret, name, params, args) \
    ret job_store_##name params { s_ops (self)->name args; }
STORE_OPS (S_CALL, S_CALLV)
#undef S_CALL
#undef S_CALLV

/* ---- backend-neutral ------------------------------------------------------- */

int
job_store_render_cache_hits (job_store_t *self, const char *account_id,
                             const proto_create_render_t *req, int64_t *hits, char *err)
{
    *hits = 0;
    for (int32_t i = 0; i < req->ntasks; i++) {
        char key [65];
        if (!store_cache_key (&req->tasks [i], key))
            continue;
        int has = job_store_cache_has (self, account_id, key, err);
        if (has < 0)
            return -1;
        *hits += has;
    }
    return 0;
}

void
job_store_profile_free (job_store_profile_t *p)
{
    if (!p)
        return;
    free (p->summary);
    if (p->sealed)
        sodium_memzero (p->sealed, p->sealed_len);
    free (p->sealed);
    p->summary = NULL;
    p->sealed = NULL;
    p->sealed_len = 0;
}
