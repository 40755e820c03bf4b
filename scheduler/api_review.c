/*  api_review.c: review decisions and review links on the api socket
    (see api_review.h). Thread: the scheduler's loop, in the pass's
    transaction. */
#include "api_review.h"
#include "log.h"
#include "render_event.h"
#include "render_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request that speaks with a signed review link instead of a key: 0 when
   the link is render_id's, current and unexpired; else -1 with 403
   (tampered, revoked), 410 (expired) or 503 queued. */
int
api_review_link (scheduler_t *self, zframe_t *identity, const char *rid, const char *render_id,
                 int64_t exp, const char *by, const char *since, const char *sig)
{
    char err [PROTO_ERR_MAX] = "";
    int rc = job_store_review_check (self->store, render_id, exp, by, since, sig,
                                     self->pass.now_ms / 1000, err);
    if (rc == 0)
        return 0;
    if (rc < 0)
        api_unavailable (self, identity, rid, "review_check", err);
    else
    if (rc == 2)
        api_error (self, identity, rid, 410, "review_link_expired",
                   "This review link has expired; ask for a new one.", "exp");
    else
        api_error (self, identity, rid, 403, "review_link_invalid",
                   "This review link is not valid (altered or revoked).", "sig");
    return -1;
}

/* REVIEW "link": a new review link of req->id (the account's, checked by
   the caller) that names its reviewer (link_by) and/or an earlier render of
   the account to mark changes against (link_since), expiring at req->exp
   (capped at EASEL_REVIEW_LINK_TTL_MAX_S from now). Answers 201 with the
   link's exp and sig; the gateway builds the URL. */
static void
s_review_mint (scheduler_t *self, zframe_t *identity, const proto_review_t *req, const char *account)
{
    char err [PROTO_ERR_MAX] = "";
    int64_t now_s = self->pass.now_ms / 1000, gen = 0;
    if (req->exp <= now_s || req->exp > now_s + EASEL_REVIEW_LINK_TTL_MAX_S) {
        char msg [96];
        snprintf (msg, sizeof msg, "expires_in is %d to %d seconds.", EASEL_REVIEW_LINK_TTL_MIN_S,
                  EASEL_REVIEW_LINK_TTL_MAX_S);
        api_error (self, identity, req->rid, 422, "parameter_invalid", msg,
                   "expires_in");
        return;
    }
    if (req->link_since [0]) {
        proto_render_t since;
        memset (&since, 0, sizeof since);
        int rc = strcmp (req->link_since, req->id) == 0 ? 1
               : job_store_render_get (self->store, req->link_since, account, self->pass.now_ms,
                                       &since, err);
        proto_render_free (&since);
        if (rc) {
            if (rc < 0 && strcmp (err, "not found") != 0)
                api_unavailable (self, identity, req->rid, "render_get", err);
            else
                api_error (self, identity, req->rid, 404, "resource_missing",
                           "since names no other render of this account.", "since");
            return;
        }
    }
    if (job_store_review_gen (self->store, req->id, &gen, err)) {
        api_unavailable (self, identity, req->rid, "review_gen", err);
        return;
    }
    char sig [65];
    job_store_review_sign (self->store, req->id, gen, req->exp, req->link_by, req->link_since, sig);
    api_reply_json (self, identity, req->rid, 201,
                    json_pack ("{s:I, s:s}", "exp", (json_int_t) req->exp, "sig", sig));
}

/* REVIEW: a decision on a finished render (by key or by its review link),
   recorded once, with its event in the same transaction; or the revocation
   of its review links (by key). Answers the render object, or 409 with the
   first decision. */
void
api_review_handle (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_review_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX] = "";
    proto_render_t r;
    memset (&r, 0, sizeof r);
    if (proto_review_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    bool by_link = !req.auth [0];
    bool revoke = strcmp (req.action, "revoke") == 0;
    bool decide = strcmp (req.action, "decide") == 0;
    bool mint = strcmp (req.action, "link") == 0;
    bool good = strcmp (req.status, "approved") == 0 || strcmp (req.status, "changes_requested") == 0;
    if (by_link ? api_review_link (self, identity, req.rid, req.id, req.exp, req.link_by,
                                 req.link_since, req.sig)
                : api_auth (self, identity, req.rid, req.auth, account))
        goto done;
    if ((!revoke && !decide && !mint) || (decide && !good) || ((revoke || mint) && by_link)) {
        api_error (self, identity, req.rid, 400, "bad_message",
                   "REVIEW: unknown action or status", NULL);
        goto done;
    }
    if (strncmp (req.id, "rnd_", 4) != 0
    ||  job_store_render_get (self->store, req.id, by_link ? NULL : account, self->pass.now_ms, &r, err)) {
        if (strncmp (req.id, "rnd_", 4) == 0 && strcmp (err, "not found") != 0)
            api_unavailable (self, identity, req.rid, "render_get", err);
        else
            api_error (self, identity, req.rid, 404, "resource_missing",
                       "No such render.", "id");
        goto done;
    }
    if (mint) {
        s_review_mint (self, identity, &req, account);
        goto done;
    }
    if (decide && by_link && req.link_by [0]) {   /* the link names its reviewer */
        free (req.by);
        req.by = strdup (req.link_by);
    }
    if (decide && strcmp (r.status, "processing") == 0) {
        api_error (self, identity, req.rid, 409, "render_processing",
                   "The render is still processing; review it once it is final.", "id");
        goto done;
    }
    int rc = revoke ? job_store_review_revoke (self->store, req.id, err)
                    : job_store_review_decide (self->store, req.id, req.status, req.comment,
                                               req.by, self->pass.now_ms, err);
    if (rc == 1) {                 /* decided before: the first decision stands */
        json_t *obj = render_json_error ("invalid_request_error", "review_decided",
                                         "This render has been reviewed already; the first"
                                         " decision stands.", "status");
        json_object_set_new (obj, "review", render_json_review (&r));
        api_reply_json (self, identity, req.rid, 409, obj);
        goto done;
    }
    scheduler_touch (self, req.id);
    render_event_t ev;
    memset (&ev, 0, sizeof ev);
    if (rc < 0 || (decide && render_event_review (self->store, req.id, self->cfg.public_url,
                                                  self->pass.now_ms, &ev, err))) {
        api_unavailable (self, identity, req.rid, "review", err);
        goto done;
    }
    if (decide && sched_out_pub (self->out, ev.type, req.id, ev.seq) == 0)
        log_info ("render reviewed", "render", req.id, "decision", req.status,
                  "event", ev.event_id, NULL);
    proto_render_free (&r);
    memset (&r, 0, sizeof r);
    if (job_store_render_get (self->store, req.id, NULL, self->pass.now_ms, &r, err)) {
        api_unavailable (self, identity, req.rid, "render_get", err);
        goto done;
    }
    api_reply_json (self, identity, req.rid, 200, render_json_build (&r, self->cfg.public_url));
done:
    proto_render_free (&r);
    proto_review_free (&req);
}
