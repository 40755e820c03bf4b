/*  deliveries.c: the webhook routes (see deliveries.h).
    Thread: the calling civetweb worker. Memory: the JSON body handed back is
    heap, the caller's; everything else lives on the stack. */
#include "deliveries.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int
deliveries_body (deliveries_route_t route)
{
    return route == DELIVERIES_TEST || route == DELIVERIES_SIGNING ? 2
         : route == DELIVERIES_ROTATE ? 1 : 0;
}

/* The body as a JSON object whose keys are all in `keys` (NULL-terminated). */
static json_t *
s_object (const char *body, size_t len, const char *const *keys, api_error_t *e)
{
    if (api_json_depth_check (body, len, e))
        return NULL;
    json_error_t je;
    json_t *root = json_loadb (body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        api_error_set (e, 400, "invalid_json", NULL, "The body is not valid JSON (line %d, column %d): %s",
                       je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object (root)) {
        json_decref (root);
        api_error_set (e, 400, "invalid_json", NULL, "The body must be a JSON object.");
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach (root, key, value) {
        bool known = false;
        for (int i = 0; keys[i]; i++)
            known = known || strcmp (key, keys[i]) == 0;
        if (!known) {
            api_error_set (e, 422, "parameter_unknown", key, "Unknown parameter '%.60s'.", key);
            json_decref (root);
            return NULL;
        }
    }
    return root;
}

/* Fills the request from the route, id and body. 0 / -1 (e filled). */
static int
s_request (deliveries_route_t route, const char *id, const char *body, size_t len,
           proto_webhook_req_t *req, api_error_t *e)
{
    req->overlap_s = -1;
    if (route == DELIVERIES_LIST || route == DELIVERIES_REDELIVER) {
        if (!proto_id_valid (id, "rnd_") && !proto_id_valid (id, "job_"))
            return api_error_set (e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        snprintf (req->id, sizeof req->id, "%s", id);
    }
    if (route == DELIVERIES_TEST_LIST) {
        if (!proto_id_valid (id, "evt_"))
            return api_error_set (e, 404, "resource_missing", "id", "No such test event: '%.40s'.", id);
        snprintf (req->id, sizeof req->id, "%s", id);
    }
    if (route == DELIVERIES_TEST) {
        static const char *const keys[] = { "url", NULL };
        json_t *root = s_object (body, len, keys, e);
        if (!root)
            return -1;
        json_t *url = json_object_get (root, "url");
        int rc = 0;
        if (!url)
            rc = api_error_set (e, 422, "parameter_missing", "url", "url is required.");
        else if (!json_is_string (url) || !render_request_url_ok (json_string_value (url)))
            rc = api_error_set (e, 422, "parameter_invalid", "url",
                                "url is an http(s) URL of at most %d bytes.", EASEL_MAX_URL_BYTES);
        else if (!(req->url = strdup (json_string_value (url))))
            rc = api_error_set (e, 500, "internal_error", NULL, "Out of memory.");
        json_decref (root);
        return rc;
    }
    if (route == DELIVERIES_ROTATE) {
        snprintf (req->action, sizeof req->action, "rotate");
        if (!body || len == 0)
            return 0;
        static const char *const keys[] = { "overlap_s", NULL };
        json_t *root = s_object (body, len, keys, e);
        if (!root)
            return -1;
        json_t *overlap = json_object_get (root, "overlap_s");
        int rc = 0;
        if (overlap && (!json_is_integer (overlap) || json_integer_value (overlap) < 0
                        || json_integer_value (overlap) > EASEL_WEBHOOK_OVERLAP_MAX_S))
            rc = api_error_set (e, 422, "parameter_invalid", "overlap_s",
                                "overlap_s is a whole number of seconds, 0 to %d.",
                                EASEL_WEBHOOK_OVERLAP_MAX_S);
        else if (overlap)
            req->overlap_s = json_integer_value (overlap);
        json_decref (root);
        return rc;
    }
    if (route == DELIVERIES_SIGNING) {
        static const char *const keys[] = { "ed25519", NULL };
        json_t *root = s_object (body, len, keys, e);
        if (!root)
            return -1;
        json_t *on = json_object_get (root, "ed25519");
        int rc = 0;
        if (!on)
            rc = api_error_set (e, 422, "parameter_missing", "ed25519", "ed25519 is required.");
        else if (!json_is_boolean (on))
            rc = api_error_set (e, 422, "parameter_invalid", "ed25519", "ed25519 is true or false.");
        else
            snprintf (req->action, sizeof req->action, "%s", json_is_true (on) ? "ed25519_on" : "ed25519_off");
        json_decref (root);
        return rc;
    }
    if (route == DELIVERIES_PUBLIC_KEY)
        snprintf (req->action, sizeof req->action, "public_key");
    return 0;
}

static int
s_command (deliveries_route_t route)
{
    switch (route) {
        case DELIVERIES_LIST:
        case DELIVERIES_TEST_LIST:  return PROTO_DELIVERIES_GET;
        case DELIVERIES_REDELIVER:  return PROTO_REDELIVER;
        case DELIVERIES_TEST:       return PROTO_WEBHOOK_TEST;
        default:                    return PROTO_WEBHOOK_ACCOUNT;
    }
}

int
deliveries_reply_json (int got, zframe_t *reply, int *status, char **json, api_error_t *e)
{
    const char *data = (const char *) zframe_data (reply);
    size_t len = zframe_size (reply);
    char err[PROTO_ERR_MAX];
    if (got == PROTO_ERROR) {
        proto_errmsg_t em;
        memset (&em, 0, sizeof em);
        snprintf (err, sizeof err, "status outside 400..599");
        if (proto_errmsg_decode (data, len, &em, err) || em.status < 400 || em.status > 599) {
            log_error ("bad ERROR reply", "reason", err, NULL);
            proto_errmsg_free (&em);
            return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
        }
        api_error_set (e, em.status, em.error.code[0] ? em.error.code : "error", em.error.param,
                       "%s", em.error.message ? em.error.message : "");
        proto_errmsg_free (&em);
        return -1;
    }
    proto_json_t j;
    if (got != PROTO_JSON || proto_json_decode (data, len, &j, err)) {
        log_error ("bad JSON reply", "cmd", proto_cmd_name (got), NULL);
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    }
    *status = j.status;
    *json = j.json;                     /* handed over */
    return 0;
}

int
deliveries_call (api_pool_t *client, deliveries_route_t route, const char *auth,
                 const char *id, const char *body, size_t len,
                 int *status, char **json, api_error_t *e)
{
    proto_webhook_req_t req;
    memset (&req, 0, sizeof req);
    *json = NULL;
    if (s_request (route, id, body, len, &req, e)) {
        proto_webhook_req_free (&req);
        return -1;
    }
    if (!client) {
        proto_webhook_req_free (&req);
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    }
    proto_id_new ("rid_", req.rid, sizeof req.rid);
    snprintf (req.auth, sizeof req.auth, "%s", auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    int got = 0, rc;
    zframe_t *reply = NULL;
    if (proto_webhook_req_encode (&req, &sb))
        rc = api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    else if (api_pool_call (client, s_command (route), &sb, req.rid, &got, &reply))
        rc = api_error_set (e, 503, "scheduler_unavailable", NULL,
                            "The scheduler is not answering; retry shortly.");
    else
        rc = deliveries_reply_json (got, reply, status, json, e);
    zframe_destroy (&reply);
    msgpack_sbuffer_destroy (&sb);
    proto_webhook_req_free (&req);
    return rc;
}
