/*  webhook_admin.c: deliveries list, redelivery, test events and secret
    rotation for the api socket (see webhook_admin.h).
    Thread: the scheduler's state thread. Memory: JSON built with jansson and
    dumped into reply->json (heap, the caller's). */
#include "webhook_admin.h"
#include "log.h"
#include "render_json.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *s_classes [] = {
    "timeout", "connect", "dns", "tls", "url_not_allowed", "redirect", "http_status",
    "cannot_sign", "transfer", NULL
};

void
webhook_admin_error_class (const char *error, char *out, size_t size)
{
    snprintf (out, size, "other");
    if (!error)
        return;
    size_t n = strcspn (error, ":");
    if (error [n] != ':')
        return;
    for (int i = 0; s_classes [i]; i++)
        if (strlen (s_classes [i]) == n && strncmp (error, s_classes [i], n) == 0) {
            snprintf (out, size, "%s", s_classes [i]);
            return;
        }
}

/* Sets the reply to obj (stolen). 0 / -1 out of memory. */
static int
s_reply (proto_json_t *reply, int status, json_t *obj, char *err)
{
    reply->status = status;
    reply->json = obj ? render_json_dump (obj, NULL) : NULL;
    json_decref (obj);
    if (!reply->json) {
        snprintf (err, PROTO_ERR_MAX, "out of memory building JSON");
        return -1;
    }
    return 0;
}

static int
s_error (proto_json_t *reply, int status, const char *code, const char *message,
         const char *param, char *err)
{
    const char *type = status >= 500 ? "api_error" : "invalid_request_error";
    return s_reply (reply, status, render_json_error (type, code, message, param), err);
}

static json_t *
s_str_or_null (const char *s)
{
    return s ? json_string (s) : json_null ();
}

typedef struct {
    json_t *list;
    int     n;
} s_list_t;

static void
s_attempt_row (const job_store_attempt_t *a, void *arg)
{
    s_list_t *l = arg;
    char at [32], cls [PROTO_SHORT_MAX];
    util_iso8601 (a->at_ms, at, sizeof at);
    bool ok = a->error == NULL && a->status_code >= 200 && a->status_code < 300;
    webhook_admin_error_class (a->error, cls, sizeof cls);
    json_t *row = json_object ();
    if (!row)
        return;
    json_object_set_new (row, "attempt", json_integer (++l->n));
    json_object_set_new (row, "at", json_string (at));
    json_object_set_new (row, "ok", json_boolean (ok));
    json_object_set_new (row, "status_code", a->status_code ? json_integer (a->status_code)
                                                            : json_null ());
    json_object_set_new (row, "latency_ms", json_integer (a->latency_ms));
    json_object_set_new (row, "error_class", ok ? json_null () : json_string (cls));
    json_object_set_new (row, "error", s_str_or_null (a->error));
    json_object_set_new (row, "response_head", s_str_or_null (a->response_head));
    json_array_append_new (l->list, row);
}

static int
s_deliveries (job_store_t *store, const proto_webhook_req_t *req, const char *account_id,
              proto_json_t *reply, char *err)
{
    job_store_delivery_t d;
    if (job_store_delivery_get (store, req->id, account_id, &d, err))
        return strcmp (err, "not found") == 0
             ? s_error (reply, 404, "resource_missing", "No such render.", "id", err) : -1;
    s_list_t l = { json_array (), 0 };
    if (!l.list) {
        snprintf (err, PROTO_ERR_MAX, "out of memory building JSON");
        return -1;
    }
    if (d.delivery_id [0]
    &&  job_store_delivery_attempts (store, d.delivery_id, EASEL_WEBHOOK_LIST_MAX,
                                     s_attempt_row, &l, err)) {
        json_decref (l.list);
        return -1;
    }
    json_t *obj = json_object ();
    if (obj) {
        json_object_set_new (obj, "object", json_string ("list"));
        json_object_set_new (obj, "id", json_string (req->id));
        json_object_set_new (obj, "webhook_url", d.has_webhook ? json_string (d.url) : json_null ());
        json_object_set_new (obj, "webhook_status", json_string (d.status));
        json_object_set_new (obj, "webhook_id", d.delivery_id [0] ? json_string (d.event_id)
                                                                 : json_null ());
        json_object_set_new (obj, "event_type", d.delivery_id [0] ? json_string (d.event_type)
                                                                 : json_null ());
        json_object_set_new (obj, "data", l.list);
    }
    else
        json_decref (l.list);
    return s_reply (reply, 200, obj, err);
}

static int
s_redeliver (job_store_t *store, const proto_webhook_req_t *req, const char *account_id,
             int64_t now_ms, proto_json_t *reply, webhook_admin_hint_t *hint, char *err)
{
    job_store_delivery_t d;
    if (job_store_delivery_get (store, req->id, account_id, &d, err))
        return strcmp (err, "not found") == 0
             ? s_error (reply, 404, "resource_missing", "No such render.", "id", err) : -1;
    if (!d.has_webhook)
        return s_error (reply, 409, "no_webhook",
                        "This render has no webhook_url, so there is nothing to redeliver.", "id", err);
    if (!d.delivery_id [0])
        return s_error (reply, 409, "render_processing",
                        "The render has not finished; its webhook has not been sent yet.", "id", err);
    if (job_store_delivery_reset (store, d.delivery_id, now_ms, err))
        return -1;
    snprintf (hint->topic, sizeof hint->topic, "%s", WEBHOOK_ADMIN_TOPIC_REDELIVER);
    snprintf (hint->object_id, sizeof hint->object_id, "%s", req->id);
    hint->seq = d.event_seq;
    log_info ("webhook redelivery", "object", req->id, "event", d.event_id, NULL);
    return s_reply (reply, 202, json_pack ("{s:s, s:s, s:s, s:s, s:s}", "object", "redelivery",
                                          "id", req->id, "webhook_id", d.event_id,
                                          "webhook_url", d.url, "webhook_status", "pending"), err);
}

static int
s_test (job_store_t *store, const proto_webhook_req_t *req, const char *account_id,
        int64_t now_ms, proto_json_t *reply, webhook_admin_hint_t *hint, char *err)
{
    if (!req->url || !*req->url)
        return s_error (reply, 422, "parameter_missing", "url is required.", "url", err);
    char event_id [PROTO_ID_MAX], iso [32];
    if (proto_id_new ("evt_", event_id, sizeof event_id)) {
        snprintf (err, PROTO_ERR_MAX, "cannot make an event id");
        return -1;
    }
    util_iso8601 (now_ms, iso, sizeof iso);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:{s:s}}", "type", "webhook.test",
                             "event_id", event_id, "created_at", iso,
                             "data", "message", "A test event from Easel: your endpoint is reachable.");
    if (obj && render_json_envelope (obj, "webhook.test", event_id, "webhook_test", event_id, now_ms)) {
        json_decref (obj);
        obj = NULL;
    }
    char *payload = obj ? render_json_dump (obj, NULL) : NULL;
    json_decref (obj);
    int64_t seq = 0;
    if (!payload) {
        snprintf (err, PROTO_ERR_MAX, "out of memory building JSON");
        return -1;
    }
    int rc = job_store_event_add (store, event_id, "webhook.test", account_id, event_id, now_ms,
                                  payload, req->url, &seq, err);
    free (payload);
    if (rc)
        return -1;
    snprintf (hint->topic, sizeof hint->topic, "%s", WEBHOOK_ADMIN_TOPIC_TEST);
    snprintf (hint->object_id, sizeof hint->object_id, "%s", event_id);
    hint->seq = seq;
    char list [PROTO_ID_MAX + 40];
    snprintf (list, sizeof list, "/v1/webhooks/test/%s/deliveries", event_id);
    return s_reply (reply, 202, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "object", "webhook_test",
                                          "id", event_id, "webhook_id", event_id, "url", req->url,
                                          "webhook_status", "pending", "deliveries_url", list), err);
}

static int
s_account (job_store_t *store, const proto_webhook_req_t *req, const char *account_id,
           int64_t now_ms, proto_json_t *reply, char *err)
{
    if (strcmp (req->action, "rotate") == 0) {
        int64_t overlap = req->overlap_s < 0 ? EASEL_WEBHOOK_OVERLAP_S : req->overlap_s;
        char secret [80], until [32];
        if (job_store_webhook_secret_rotate (store, account_id, overlap, now_ms, secret, err))
            return -1;
        util_iso8601 (now_ms + overlap * 1000, until, sizeof until);
        log_info ("webhook secret rotated", "account", account_id, NULL);
        return s_reply (reply, 200, json_pack ("{s:s, s:s, s:I, s:s}", "object", "webhook_secret",
                                              "webhook_secret", secret, "overlap_s", (json_int_t) overlap,
                                              "previous_valid_until", until), err);
    }
    int action = strcmp (req->action, "public_key") == 0 ? 0
               : strcmp (req->action, "ed25519_on") == 0 ? 1
               : strcmp (req->action, "ed25519_off") == 0 ? 2 : -1;
    if (action < 0)
        return s_error (reply, 400, "bad_message", "Unknown webhook account action.", "action", err);
    char pk [64];
    bool enabled = false;
    if (job_store_webhook_ed25519 (store, account_id, action, pk, &enabled, err))
        return -1;
    return s_reply (reply, 200, json_pack ("{s:s, s:s, s:s, s:b}", "object", "webhook_public_key",
                                          "algorithm", "ed25519", "public_key", pk,
                                          "enabled", enabled), err);
}

int
webhook_admin_handle (job_store_t *store, int cmd, const proto_webhook_req_t *req,
                      const char *account_id, int64_t now_ms, proto_json_t *reply,
                      webhook_admin_hint_t *hint, char *err)
{
    memset (hint, 0, sizeof *hint);
    switch (cmd) {
        case PROTO_DELIVERIES_GET:  return s_deliveries (store, req, account_id, reply, err);
        case PROTO_REDELIVER:       return s_redeliver (store, req, account_id, now_ms, reply, hint, err);
        case PROTO_WEBHOOK_TEST:    return s_test (store, req, account_id, now_ms, reply, hint, err);
        case PROTO_WEBHOOK_ACCOUNT: return s_account (store, req, account_id, now_ms, reply, err);
        default:
            return s_error (reply, 400, "bad_message", "Not a webhook command.", NULL, err);
    }
}
