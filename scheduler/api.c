/*  api.c: the api socket's router and the replies every handler shares
    (see api.h). Thread: the scheduler's loop. */
#include "api.h"
#include "api_account.h"
#include "api_admin.h"
#include "api_files.h"
#include "api_idem.h"
#include "api_profiles.h"
#include "api_renders.h"
#include "api_review.h"
#include "api_webhooks.h"
#include "log.h"
#include "render_json.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

void
api_error (scheduler_t *self, zframe_t *identity, const char *rid, int32_t status,
           const char *code, const char *message, const char *param)
{
    sched_out_error (self->out, self->api, identity, rid, status, code, message, param);
}

void
api_unavailable (scheduler_t *self, zframe_t *identity, const char *rid, const char *what,
                 const char *err)
{
    scheduler_store_failed (self, what, err);
    api_error (self, identity, rid, 503, "store_unavailable", "The job store is unavailable.", NULL);
}

void
api_bad_message (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                 const char *reason)
{
    sched_out_bad_message (self->out, self->api, identity, data, len, reason);
}

void
api_reply (scheduler_t *self, zframe_t *identity, const char *rid, int cmd, int rc,
           msgpack_sbuffer *sb)
{
    sched_out_reply (self->out, self->api, identity, rid, cmd, rc, sb);
}

int
api_auth (scheduler_t *self, zframe_t *identity, const char *rid, const char *auth,
          char account [PROTO_ID_MAX])
{
    if (job_store_auth (self->store, auth, account) == 0)
        return 0;
    api_error (self, identity, rid, 401, "invalid_api_key",
               "The API key is missing, unknown or revoked.", NULL);
    return -1;
}

int
api_reply_render_made (scheduler_t *self, zframe_t *identity, const char *rid, proto_render_t *r)
{
    int final = 1;
    for (int32_t i = 0; i < r->nimages && final; i++)
        if (strcmp (r->images [i].status, "queued") == 0
        ||  strcmp (r->images [i].status, "leased") == 0)
            final = 0;
    snprintf (r->rid, sizeof r->rid, "%s", rid);
    /* where the stream stood when it was read: a gateway keeps the
       answer as its state only when no later change can be missing */
    r->state_epoch = sched_state_epoch (self->state);
    r->state_seq = sched_out_state_seq (self->out);
    r->signed_ms = self->pass.now_ms;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    api_reply (self, identity, rid, PROTO_RENDER, proto_render_encode (r, &sb), &sb);
    return final;
}

int
api_reply_render (scheduler_t *self, zframe_t *identity, const char *rid,
                  const char *render_id, const char *account)
{
    proto_render_t r;
    memset (&r, 0, sizeof r);
    char err [256] = "";
    int final = -1;
    if (job_store_render_get (self->store, render_id, account, self->pass.now_ms, &r, err)) {
        if (strcmp (err, "not found") == 0)
            api_error (self, identity, rid, 404, "resource_missing",
                       "No such render.", "id");
        else
            api_unavailable (self, identity, rid, "render_get", err);
    }
    else
        final = api_reply_render_made (self, identity, rid, &r);
    proto_render_free (&r);
    return final;
}

void
api_reply_stored (scheduler_t *self, zframe_t *identity, const char *rid, int cmd,
                  int32_t status, const char *object_id, char *body)
{
    proto_body_t b;
    memset (&b, 0, sizeof b);
    snprintf (b.rid, sizeof b.rid, "%s", rid);
    snprintf (b.id, sizeof b.id, "%s", object_id ? object_id : "");
    b.status = status;
    b.body = body;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    api_reply (self, identity, rid, cmd, proto_body_encode (&b, &sb), &sb);
}

void
api_reply_json (scheduler_t *self, zframe_t *identity, const char *rid, int32_t status, json_t *obj)
{
    proto_json_t rep;
    memset (&rep, 0, sizeof rep);
    snprintf (rep.rid, sizeof rep.rid, "%s", rid);
    rep.status = status;
    rep.json = obj ? render_json_dump (obj, NULL) : NULL;
    json_decref (obj);
    if (!rep.json) {
        api_error (self, identity, rid, 500, "internal_error",
                   "The scheduler could not build its answer.", NULL);
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    api_reply (self, identity, rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
    proto_json_free (&rep);
}

void
api_reply_simple (scheduler_t *self, zframe_t *identity, const char *rid, int cmd, int32_t renderers)
{
    proto_simple_t s;
    memset (&s, 0, sizeof s);
    snprintf (s.rid, sizeof s.rid, "%s", rid);
    s.renderers = renderers;
    if (cmd == PROTO_PONG) {      /* the read fence of the gateways' render state */
        s.state_epoch = sched_state_epoch (self->state);
        s.state_seq = sched_out_state_seq (self->out);
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    api_reply (self, identity, rid, cmd, proto_simple_encode (&s, &sb), &sb);
}

bool
api_direct_uploads (scheduler_t *self)
{
    return self->adopter != NULL && blob_store_direct (self->blobs) && !self->cfg.blob_via_scheduler;
}

void
api_drop_incoming (scheduler_t *self, const char *name)
{
    if (!self->adopter || blob_worker_submit (self->adopter, BLOB_JOB_DROP, NULL, name, strlen (name)))
        log_warn ("a refused upload is left for the sweep", "name", name, NULL);
}

void
api_handle (scheduler_t *self, bus_msg_t *msg)
{
    const char *data = (const char *) zframe_data (msg->body);
    size_t len = zframe_size (msg->body);
    char err [PROTO_ERR_MAX] = "";
    switch (msg->cmd) {
        case PROTO_CREATE_RENDER:   api_renders_create (self, JOB_RENDER, msg->identity, data, len); break;
        case PROTO_CREATE_CAPTURE:  api_renders_create (self, JOB_CAPTURE, msg->identity, data, len); break;
        case PROTO_GET_RENDER:      api_renders_get (self, msg->identity, data, len); break;
        case PROTO_GET_FILE:        api_files_get (self, msg->identity, data, len); break;
        case PROTO_EVENTS_SINCE:    api_webhooks_events_since (self, msg->identity, data, len); break;
        case PROTO_DELIVERY_REPORT: api_webhooks_delivery_report (self, msg->identity, data, len); break;
        case PROTO_IDEM_COMPLETE:   api_idem_complete (self, msg->identity, data, len); break;
        case PROTO_IDEM_BEGIN:      api_idem_begin (self, msg->identity, data, len); break;
        case PROTO_CANCEL_RENDER:   api_renders_cancel (self, msg->identity, data, len); break;
        case PROTO_LIST_RENDERS:    api_renders_list (self, msg->identity, data, len); break;
        case PROTO_GET_ACCOUNT:     api_account_get (self, msg->identity, data, len); break;
        case PROTO_REVIEW:          api_review_handle (self, msg->identity, data, len); break;
        case PROTO_CAPTURE_PROFILE: api_profiles_handle (self, msg->identity, data, len); break;
        case PROTO_UPLOAD_BEGIN:    api_files_begin (self, msg->identity, data, len); break;
        case PROTO_FILE_PUT:        api_files_put (self, msg->identity, data, len); break;
        case PROTO_FILE_FIND:       api_files_find (self, msg->identity, data, len); break;
        case PROTO_ADMIN:           api_admin_handle (self, msg->identity, data, len); break;
        case PROTO_DELIVERIES_GET:
        case PROTO_REDELIVER:
        case PROTO_WEBHOOK_TEST:
        case PROTO_WEBHOOK_ACCOUNT: api_webhooks_admin (self, msg->identity, msg->cmd, data, len); break;
        case PROTO_STATE_ACK: {
            /* a gateway applied the stream up to state_seq: renews its read
               lease (read_lease.h), answered at once (LEASE is never held) */
            proto_simple_t ack;
            memset (&ack, 0, sizeof ack);
            if (proto_simple_decode (data, len, &ack, err)) {
                api_bad_message (self, msg->identity, data, len, err);
                break;
            }
            proto_simple_t grant;
            memset (&grant, 0, sizeof grant);
            snprintf (grant.rid, sizeof grant.rid, "%s", ack.rid);
            grant.state_epoch = sched_state_epoch (self->state);
            grant.state_seq = sched_out_state_seq (self->out);
            /* an acknowledgment of another epoch (a scheduler before this
               one) says nothing of this stream */
            if (ack.state_epoch == grant.state_epoch)
                grant.lease_ms = read_lease_ack (self->leases, ack.holder, ack.state_seq,
                                                 sched_out_released_seq (self->out),
                                                 sched_out_held_deadline (self->out, ack.state_seq),
                                                 util_mono_ms ());
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            api_reply (self, msg->identity, ack.rid, PROTO_LEASE, proto_simple_encode (&grant, &sb), &sb);
            break;
        }
        case PROTO_PING: {
            proto_simple_t ping;
            memset (&ping, 0, sizeof ping);
            if (proto_simple_decode (data, len, &ping, err))
                api_bad_message (self, msg->identity, data, len, err);
            else
                api_reply_simple (self, msg->identity, ping.rid, PROTO_PONG, renderer_table_size (self->fleet));
            break;
        }
        default:
            snprintf (err, sizeof err, "unexpected command %s (0x%02x) on the api socket",
                      proto_cmd_name (msg->cmd), msg->cmd & 0xff);
            api_error (self, msg->identity, "", 400, "bad_message", err, NULL);
    }
}
