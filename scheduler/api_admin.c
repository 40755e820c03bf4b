/*  api_admin.c: the CLI's writes on the api socket (see api_admin.h).
    Thread: the scheduler's loop, in the pass's transaction. */
#include "api_admin.h"
#include "admin_ops.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

void
api_admin_handle (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_admin_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    if (proto_admin_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (!self->admin_secret [0] || !util_str_equal_ct (req.secret, self->admin_secret)) {
        log_warn ("admin command refused: wrong secret", "verb", req.verb, NULL);
        api_error (self, identity, req.rid, 403, "admin_refused",
                   "The admin secret is wrong: read it from the data dir's admin.secret.", "secret");
        proto_admin_free (&req);
        return;
    }
    json_t *answer = NULL;
    int rc = admin_ops_run (self->store, &req, self->pass.now_ms, &answer, err);
    if (rc < 0)
        api_unavailable (self, identity, req.rid, "admin", err);
    else
    if (rc > 0)
        api_error (self, identity, req.rid, strstr (err, "no such") || strcmp (err, "not found") == 0
                                            ? 404 : 400, "admin_refused", err, NULL);
    else {
        log_info ("admin command", "verb", req.verb, NULL);
        api_reply_json (self, identity, req.rid, 200, answer);
        answer = NULL;
    }
    json_decref (answer);
    proto_admin_free (&req);
}
