/*  store_backend.h: what a store backend provides beyond job_store.h, and
    what every backend shares (store_keys.c). job_store.h is the one store
    interface: a backend is a set of files that defines every function in
    it (SQLite: scheduler/store/sqlite_*.c, the embedded default), and the
    build links exactly one. Adding a backend (PostgreSQL) is adding its
    files and a choice in scheduler/CMakeLists.txt; no caller changes.
    Thread: the handle's. Memory: nothing here allocates. */
#ifndef EASEL_STORE_BACKEND_H
#define EASEL_STORE_BACKEND_H

#include "job_store.h"

/* The handle's URL secret (hex, NUL-terminated, kept by the backend with the
   data so every process on the same data signs alike). Borrowed. */
const char *store_url_secret (job_store_t *self);

/* store_keys.c: the image cache key of a render task (hex sha256 of the
   drawing version and the spec) into key; false when an input is fetched by
   URL (not named by content) or the spec does not decode. */
bool store_cache_key (const proto_task_spec_t *t, char key [65]);

#endif
