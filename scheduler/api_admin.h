/*  api_admin.h: ADMIN on the api socket: the easel CLI's writes (credits,
    keys, webhook secrets) on the data dir this scheduler holds, so that
    every write goes through its one writer. Authorised by the secret of
    DATA/admin.secret (data_lock.h), compared in constant time; a wrong or
    missing secret is answered 403 and changes nothing. The work itself is
    admin_ops.c, shared with the CLI's direct path.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_ADMIN_H
#define EASEL_API_ADMIN_H

#include "api.h"

void api_admin_handle (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
