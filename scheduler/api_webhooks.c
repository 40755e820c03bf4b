/*  api_webhooks.c: the webhooker's commands and webhook management on the
    api socket (see api_webhooks.h). Thread: the scheduler's loop, in the
    pass's transaction. */
#include "api_webhooks.h"
#include "webhook_admin.h"

#include <stdio.h>
#include <string.h>

void
api_webhooks_events_since (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_events_since_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    if (proto_events_since_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    proto_events_t ev;
    memset (&ev, 0, sizeof ev);
    if (job_store_events_since (self->store, req.since, req.limit, &ev, err)) {
        api_unavailable (self, identity, req.rid, "events_since", err);
    }
    else {
        snprintf (ev.rid, sizeof ev.rid, "%s", req.rid);
        for (int32_t i = 0; i < ev.nevents; i++)      /* for the webhooker's logs */
            job_store_req_get (self->store, ev.events [i].object_id, ev.events [i].req);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        api_reply (self, identity, req.rid, PROTO_EVENTS, proto_events_encode (&ev, &sb), &sb);
    }
    proto_events_free (&ev);
}

void
api_webhooks_delivery_report (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_delivery_report_t rep;
    memset (&rep, 0, sizeof rep);
    char err [PROTO_ERR_MAX] = "";
    if (proto_delivery_report_decode (data, len, &rep, err))
        api_bad_message (self, identity, data, len, err);
    else
    if (job_store_delivery_report (self->store, &rep, EASEL_WEBHOOK_MAX_ATTEMPTS, self->pass.now_ms, err)) {
        if (strcmp (err, "not found") == 0)
            api_error (self, identity, rep.rid, 404, "resource_missing",
                       "No such delivery.", "delivery_id");
        else
            api_unavailable (self, identity, rep.rid, "delivery_report", err);
    }
    else
        api_reply_simple (self, identity, rep.rid, PROTO_ACK, 0);
    proto_delivery_report_free (&rep);
}

/* DELIVERIES_GET, REDELIVER, WEBHOOK_TEST, WEBHOOK_ACCOUNT: webhook_admin.c
   builds the JSON; a redelivery or test event is published after the commit
   so the webhooker fetches it at once. */
void
api_webhooks_admin (scheduler_t *self, zframe_t *identity, int cmd, const char *data, size_t len)
{
    proto_webhook_req_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_webhook_req_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account) == 0) {
        proto_json_t rep;
        memset (&rep, 0, sizeof rep);
        snprintf (rep.rid, sizeof rep.rid, "%s", req.rid);
        webhook_admin_hint_t hint;
        if (webhook_admin_handle (self->store, cmd, &req, account, self->pass.now_ms, &rep, &hint, err)) {
            api_unavailable (self, identity, req.rid, "webhook_admin", err);
        }
        else {
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            api_reply (self, identity, req.rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
            if (hint.topic [0])
                sched_out_pub (self->out, hint.topic, hint.object_id, hint.seq);
        }
        proto_json_free (&rep);
    }
    proto_webhook_req_free (&req);
}
