/*  cli_admin.c: the CLI's writes, through the scheduler or, with none
    holding the data dir, on the store directly (see cli_admin.h).
    Single threaded. */
#include "cli_admin.h"
#include "admin_ops.h"
#include "bus.h"
#include "bus_client.h"
#include "bus_security.h"
#include "data_lock.h"
#include "job_store.h"
#include "util.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>

/* No scheduler: the store opened here, one transaction, under the shared lock. */
static int
s_direct (const char *data, const proto_admin_t *req, json_t **out, char *err)
{
    char why [PROTO_ERR_MAX] = "";
    job_store_t *store = job_store_open (data, why);
    if (!store) {
        snprintf (err, CLI_ADMIN_ERR_MAX, "cannot open data dir %s: %s", data, why);
        return -1;
    }
    int rc = job_store_begin (store, why);
    if (rc == 0)
        rc = admin_ops_run (store, req, util_now_ms (), out, why);
    if (rc == 0 && job_store_commit (store, why) != 0) {
        json_decref (*out);
        *out = NULL;
        rc = -1;
    }
    if (rc)
        job_store_rollback (store);
    job_store_destroy (&store);
    if (rc)
        snprintf (err, CLI_ADMIN_ERR_MAX, "%s", why);
    return rc;
}

/* The answer to an ADMIN: JSON, or ERROR (refused). */
static int
s_answer (int cmd, zframe_t *body, json_t **out, bool *wrong_secret, char *err)
{
    const char *data = (const char *) zframe_data (body);
    size_t len = zframe_size (body);
    char why [PROTO_ERR_MAX] = "";
    if (cmd == PROTO_ERROR) {
        proto_errmsg_t e;
        memset (&e, 0, sizeof e);
        int rc = proto_errmsg_decode (data, len, &e, why) == 0 && e.status < 500 ? 1 : -1;
        *wrong_secret = e.status == 403;
        snprintf (err, CLI_ADMIN_ERR_MAX, "the scheduler refused: %s",
                  e.error.message ? e.error.message : why);
        proto_errmsg_free (&e);
        return rc;
    }
    proto_json_t j;
    memset (&j, 0, sizeof j);
    if (cmd != PROTO_JSON || proto_json_decode (data, len, &j, why)) {
        snprintf (err, CLI_ADMIN_ERR_MAX, "unexpected answer from the scheduler: %s %s",
                  proto_cmd_name (cmd), why);
        return -1;
    }
    *out = json_loads (j.json, 0, NULL);
    proto_json_free (&j);
    if (!*out) {
        snprintf (err, CLI_ADMIN_ERR_MAX, "the scheduler's answer is not JSON");
        return -1;
    }
    return 0;
}

/* One ADMIN round trip to endpoint through a bus client; 403 sets
   *wrong_secret. */
static int
s_call (const char *endpoint, proto_admin_t *req, json_t **out, bool *wrong_secret, char *err)
{
    int rc = -1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_id_new ("req_", req->rid, sizeof req->rid);
    bus_client_t *client = bus_client_new (endpoint);
    int reply_cmd = 0;
    zframe_t *reply = NULL;
    if (!client)
        snprintf (err, CLI_ADMIN_ERR_MAX, "out of memory for a bus client");
    else
    if (proto_admin_encode (req, &sb))
        snprintf (err, CLI_ADMIN_ERR_MAX, "cannot encode the request");
    else
    if (bus_client_call (client, PROTO_ADMIN, &sb, req->rid, CLI_ADMIN_TIMEOUT_MS,
                         &reply_cmd, &reply) != 0)
        snprintf (err, CLI_ADMIN_ERR_MAX, "no answer from the scheduler at %s within %d ms",
                  endpoint, CLI_ADMIN_TIMEOUT_MS);
    else
        rc = s_answer (reply_cmd, reply, out, wrong_secret, err);
    zframe_destroy (&reply);
    bus_client_destroy (&client);
    msgpack_sbuffer_destroy (&sb);
    return rc;
}

/* A scheduler holds the dir: ADMIN on its api socket. A scheduler that has
   just started may have taken the lock before replacing the secret file: a
   403 with a secret that has changed since is tried once more. */
static int
s_remote (const char *data, proto_admin_t *req, json_t **out, char *err)
{
    char endpoint [DATA_ENDPOINT_MAX], why [BUS_SECURITY_ERR_MAX] = "";
    if (data_admin_read (data, req->secret, endpoint, why)) {
        snprintf (err, CLI_ADMIN_ERR_MAX, "a scheduler holds %s, but %s", data, why);
        return -1;
    }
    zsys_set_logstream (NULL);
    zsys_init ();
    const char *endpoints [] = { endpoint, NULL };
    if (bus_security_init (0, NULL, BUS_ROLE_CLIENT, endpoints, why)) {
        snprintf (err, CLI_ADMIN_ERR_MAX, "bad bus security configuration: %s", why);
        return -1;
    }
    bool wrong = false;
    int rc = s_call (endpoint, req, out, &wrong, err);
    char again [65];
    if (rc == 1 && wrong && data_admin_read (data, again, endpoint, why) == 0
    &&  strcmp (again, req->secret) != 0) {
        memcpy (req->secret, again, sizeof again);
        rc = s_call (endpoint, req, out, &wrong, err);
    }
    bus_security_shutdown ();
    return rc;
}

int
cli_admin_run (const char *data, proto_admin_t *req, json_t **out, char *err)
{
    *out = NULL;
    int fd = -1;
    char why [DATA_LOCK_ERR_MAX] = "";
    int held = data_lock_share (data, &fd, why);
    if (held < 0) {
        snprintf (err, CLI_ADMIN_ERR_MAX, "%s", why);
        return -1;
    }
    if (held == 1)
        return s_remote (data, req, out, err);
    int rc = s_direct (data, req, out, err);
    data_lock_release (&fd);
    return rc;
}

job_store_t *
cli_admin_open_read (const char *data, int *lock_fd, char *err)
{
    char why [PROTO_ERR_MAX] = "";
    *lock_fd = -1;
    int held = data_lock_share (data, lock_fd, why);
    job_store_t *store = NULL;
    if (held == 1)
        store = job_store_open_beside (data, why);
    else
    if (held == 0)
        store = job_store_open (data, why);
    if (!store) {
        snprintf (err, CLI_ADMIN_ERR_MAX, "cannot open data dir %s: %s", data, why);
        data_lock_release (lock_fd);
    }
    return store;
}
