/*  renders.c: the routes of renders and capture jobs (CONTRACT 3 and 4):
    create (one submit for both kinds), show with ?wait=, list, cancel, the
    account, the fastlane archive and the changes since an earlier render.
    Thread: the calling civetweb worker. */
#include "blob_put.h"
#include "call.h"
#include "job_kind.h"
#include "routes.h"
#include "capture_profile.h"

#include <sodium.h>

/* With an object store, the inline images of a render go there from here
   (files_store_direct) and cr's blobs name them instead of carrying them,
   so no image byte crosses the bus or the scheduler. 0 (also when the
   scheduler takes them in the message); -1 with e, every object this
   create had stored removed. */
static int
s_store_blobs (call_t *c, proto_create_render_t *cr, api_error_t *e)
{
    char *deletes [PROTO_MAX_BLOBS] = { NULL };
    int rc = 0, n = 0;
    for (int32_t i = 0; i < cr->nblobs && rc == 0; i++) {
        proto_blob_t *b = &cr->blobs [i];
        files_stored_t st;
        rc = files_store_direct (c, b->data, b->len, true, &st, e);
        if (rc == 0)
            break;                     /* the scheduler takes them in the message: all of them */
        if (rc < 0)
            break;
        deletes [n++] = st.delete_url;
        snprintf (b->name, sizeof b->name, "%s", st.name);
        memcpy (b->md5, st.md5, sizeof b->md5);
        b->bytes = (int64_t) b->len;
        free (b->data);
        b->data = NULL;
        b->len = 0;
        rc = 0;
    }
    for (int i = 0; i < n; i++) {
        if (rc < 0)
            blob_put_delete (deletes [i]);
        free (deletes [i]);
    }
    return rc < 0 ? -1 : 0;
}

/* Sends a create built in cr (CREATE_RENDER or CREATE_CAPTURE; cr is freed
   here) and, for a sync one, waits until it leaves processing or the sync wait
   ends. 0 with r filled (the caller frees it); 1 when the scheduler answered
   with a stored idempotent replay, left in *replay; -1 with e filled. */
static int
s_submit_create (call_t *c, int cmd, proto_create_render_t *cr, proto_render_t *r,
                 zframe_t **replay, api_error_t *e)
{
    proto_id_new ("rid_", cr->rid, sizeof cr->rid);
    memcpy (cr->auth, c->auth, sizeof cr->auth);
    snprintf (cr->req, sizeof cr->req, "%s", c->request_id);
    if (cmd == PROTO_CREATE_RENDER && cr->nblobs > 0 && s_store_blobs (c, cr, e)) {
        proto_create_render_free (cr);
        return -1;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_create_render_encode (cr, &sb) ? call_internal (c, e, "create encoding failed")
           : call_bus (c, cmd, &sb, cr->rid, PROTO_RENDER, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    bool sync = cr->sync;
    proto_create_render_free (cr);
    if (rc == 1) {
        *replay = reply;
        return 1;
    }
    if (rc)
        return -1;
    char err [PROTO_ERR_MAX];
    rc = proto_render_decode ((const char *) zframe_data (reply), zframe_size (reply), r, err);
    zframe_destroy (&reply);
    if (rc) {
        call_internal (c, e, err);
        return -1;
    }
    /* no waiting place left: the render is accepted, answered 202 like async */
    if (sync)
        (void) call_wait_final (c, r, util_mono_ms () + c->gw->sync_wait_ms);
    return 0;
}

/* ---- the two kinds of job ---------------------------------------------------
   A render and a capture job are created, answered and fetched the same way;
   what differs is the body's parser and the JSON of the answer, hung here off
   the shared job kinds (job_kind.h). */

typedef struct {
    const job_kind_t *kind;
    int   (*parse) (call_t *c, const char *body, size_t len, proto_create_render_t *cr, api_error_t *e);
    char *(*text) (call_t *c, int status, const proto_render_t *r, size_t *len);
} s_kind_t;

static int
s_parse_render (call_t *c, const char *body, size_t len, proto_create_render_t *cr, api_error_t *e)
{
    return render_request_parse_files (body, len, files_resolve_file, c, cr, e);
}

/* A capture naming profile_id: the account's profile (resolved by the
   scheduler, secrets opened) merged under the body's own options
   (capture_profile.h), then parsed as any capture. The merged text holds
   secrets: wiped before it is freed, never logged. */
static int
s_parse_capture (call_t *c, const char *body, size_t len, proto_create_render_t *cr, api_error_t *e)
{
    memset (cr, 0, sizeof *cr);
    if (api_json_depth_check (body, len, e))
        return -1;
    json_t *obj = json_loadb (body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *pid = json_object_get (obj, "profile_id");
    if (!pid) {
        json_decref (obj);
        return capture_request_parse (body, len, cr, e);
    }
    int rc = 0, status = 0;
    char *answer = NULL, *text = NULL;
    json_t *profile = NULL;
    if (!json_is_string (pid) || !proto_id_valid (json_string_value (pid), "cpr_"))
        rc = api_error_set (e, 422, "parameter_invalid", "profile_id",
                            "profile_id must be the id of one of your capture profiles (cpr_...).");
    else
    if (capture_profile_call (c->gw->pool, c->auth, "resolve", json_string_value (pid), NULL,
                              &status, &answer, e) != 0) {
        if (e->status == 404)
            api_error_set (e, 422, "parameter_invalid", "profile_id",
                           "profile_id names no capture profile of this account.");
        rc = -1;
    }
    else
    if (!(profile = json_loads (answer, 0, NULL)))
        rc = call_internal (c, e, "the resolved profile does not decode");
    if (answer) {
        sodium_memzero (answer, strlen (answer));
        free (answer);
    }
    if (rc == 0)
        rc = capture_profile_merge (obj, profile, e);
    json_decref (profile);
    if (rc == 0 && !(text = json_dumps (obj, JSON_COMPACT)))
        rc = call_internal (c, e, "cannot merge the profile");
    json_decref (obj);
    if (rc == 0)
        rc = capture_request_parse (text, strlen (text), cr, e);
    if (text) {
        sodium_memzero (text, strlen (text));
        free (text);
    }
    return rc;
}

/* The body of a job answer: the 202 of an accepted job (the same bytes the
   scheduler stores for an idempotent replay) or the job object. */
static char *
s_job_text (call_t *c, int status, const proto_render_t *r, size_t *len)
{
    if (status == 202)
        return job_json_accepted (r->id, len);
    json_t *obj = job_json_build (r, c->gw->public_url);
    char *text = obj ? render_json_dump (obj, len) : NULL;
    json_decref (obj);
    return text;
}

static const s_kind_t s_kinds [JOB_KINDS] = {
    [JOB_RENDER]  = { &job_kinds [JOB_RENDER],  s_parse_render,  call_render_text },
    [JOB_CAPTURE] = { &job_kinds [JOB_CAPTURE], s_parse_capture, s_job_text },
};

/* Answers r as its kind's JSON. */
static int
s_reply_as (call_t *c, const s_kind_t *k, int status, const proto_render_t *r)
{
    size_t len = 0;
    char *text = k->text (c, status, r, &len);
    if (!text) {
        api_error_t e;
        call_internal (c, &e, "cannot build the answer's JSON");
        return call_reply_error (c, &e, NULL);
    }
    int rc = call_reply (c, status, "application/json", NULL, text, len);
    free (text);
    return rc;
}

/* POST /v1/renders and POST /v1/capture: the Idempotency-Key and the body's
   fingerprint ride on the create and the scheduler writes the key row in the
   job's transaction (the kind's scope); a keyed sync create stores the answer
   it gets (IDEM_COMPLETE) before writing it. */
static int
s_create (call_t *c, const s_kind_t *k)
{
    api_error_t e;
    char *body = NULL;
    size_t len = 0;
    char key [EASEL_IDEMPOTENCY_KEY_MAX + 1], fp [65] = "";
    if (call_auth (c, &e) || call_idem_key (c, key, &e) || call_check_json_body (c, &e)
    ||  call_read_body (c, &body, &len, &e))
        return call_reply_error (c, &e, NULL);
    proto_create_render_t cr;
    int rc = k->parse (c, body, len, &cr, &e);
    if (rc == 0 && key [0] && call_fingerprint (body, len, fp)) {
        proto_create_render_free (&cr);
        rc = call_internal (c, &e, "cannot fingerprint the request");
    }
    free (body);
    if (rc)
        return call_reply_error (c, &e, NULL);
    call_idem_fill (c, key, fp, cr.sync, cr.idem_key, cr.idem_fp, &cr.idem_hold_ms);
    bool sync = cr.sync;
    proto_render_t r;
    zframe_t *replay = NULL;
    rc = s_submit_create (c, k->kind->create_cmd, &cr, &r, &replay, &e);
    if (rc == 1)
        return call_reply_replay (c, &replay);
    if (rc)
        return call_reply_error (c, &e, NULL);
    int status = strcmp (r.status, "processing") == 0 ? 202 : 200;
    /* a keyed sync create is in flight until its answer is stored for replays */
    size_t tlen = 0;
    char *text = sync && key [0] ? k->text (c, status, &r, &tlen) : NULL;
    rc = text ? call_reply_keyed_text (c, k->kind->create_scope, key, status, text, tlen)
              : s_reply_as (c, k, status, &r);
    proto_render_free (&r);
    return rc;
}

int
route_create_render (call_t *c)
{
    return s_create (c, &s_kinds [JOB_RENDER]);
}

int
route_create_capture (call_t *c)
{
    return s_create (c, &s_kinds [JOB_CAPTURE]);
}

/* The ?wait=S of a GET (0 when absent), up to EASEL_WAIT_MAX_S. 0, or -1
   with e the 422. */
static int
s_wait_param (call_t *c, int64_t *wait_s, api_error_t *e)
{
    *wait_s = 0;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char value [16];
    if (qs && mg_get_var (qs, strlen (qs), "wait", value, sizeof value) != -1
    &&  util_parse_i64 (value, 0, EASEL_WAIT_MAX_S, wait_s))
        return api_error_set (e, 422, "parameter_invalid", "wait",
                              "wait is a whole number of seconds, 0 to %d.", EASEL_WAIT_MAX_S);
    return 0;
}

/* GET of a render or a job: auth, the id's prefix, an optional ?wait=S (up to
   EASEL_WAIT_MAX_S) that holds the answer until the object leaves processing. 0 with
   r filled (the caller frees it); -1 with e filled. */
static int
s_fetch_waited (call_t *c, const char *id, const job_kind_t *kind, proto_render_t *r, api_error_t *e)
{
    if (call_auth (c, e))
        return -1;
    if (!proto_id_valid (id, kind->prefix)) {
        api_error_set (e, 404, "resource_missing", "id", "No such %s: '%.40s'.", kind->noun, id);
        return -1;
    }
    int64_t wait_s = 0;
    if (s_wait_param (c, &wait_s, e))
        return -1;
    if (call_get_render (c, id, r, e)) {
        if (e->status == 404)
            api_error_set (e, 404, "resource_missing", "id", "No such %s: '%.40s'.", kind->noun, id);
        return -1;
    }
    if (wait_s > 0 && call_wait_final (c, r, util_mono_ms () + wait_s * 1000)) {
        proto_render_free (r);
        api_error_set (e, 503, "too_many_waiting", "wait",
                       "Too many requests are waiting; retry shortly, or poll without wait.");
        return -1;
    }
    return 0;
}

/* ---- GET /v1/renders/{id} from the render state ----------------------------
   render_state.h: answered from the state the event stream keeps, behind a
   fence (one PING shared by every request that came meanwhile) so a change
   answered before this request is seen; any doubt is a miss, and a miss
   goes to the scheduler as before. */

/* Holds a processing render's answer (text, taken) until the state says it
   left processing or the wait ends, waking on the event stream; writes
   the answer then. -1 when the state lost sight of the render (nothing
   written: the caller asks the scheduler); -2 when every waiting place is
   taken; else the status written. */
static int
s_state_wait (call_t *c, const char *id, char *text, size_t len, int64_t deadline)
{
    event_watch_t *ev = c->gw->events;
    if (!event_watch_enter (ev)) {
        free (text);
        return -2;
    }
    bool final = false;
    while (!final) {
        int64_t left = deadline - util_mono_ms ();
        if (left <= 0)
            break;
        event_watch_wait (ev, id, (int) (left < RECHECK_MS ? left : RECHECK_MS));
        size_t nlen = 0;
        char *fresh = call_state_answer (c, id, &nlen, &final);
        free (text);
        text = fresh;
        len = nlen;
        if (!text)
            break;
    }
    event_watch_leave (ev);
    if (!text)
        return -1;
    int rc = call_reply (c, 200, "application/json", NULL, text, len);
    free (text);
    return rc;
}

int
route_show_render (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    proto_render_t r;
    /* a finished render without a webhook, asked again with the same key and
       no query: answered from the cache (render_cache.h) */
    const char *qs = mg_get_request_info (c->conn)->query_string;
    bool plain = !qs || !qs [0];
    if (plain && call_auth (c, &e) == 0) {
        size_t len = 0;
        char *cached = render_cache_get (c->auth, id, util_mono_ms (), &len);
        if (cached) {
            int rc = call_reply (c, 200, "application/json", NULL, cached, len);
            free (cached);
            return rc;
        }
    }
    int64_t wait_s = 0;
    if (c->gw->state && call_auth (c, &e) == 0 && proto_id_valid (id, "rnd_")
    &&  s_wait_param (c, &wait_s, &e) == 0) {
        size_t len = 0;
        bool final = false;
        char *text = call_state_answer (c, id, &len, &final);
        if (text && (final || wait_s == 0)) {
            /* a final render in the state has no webhook (render_json_state_carried) */
            if (final)
                render_cache_put (c->auth, id, text, len, util_mono_ms ());
            int rc = call_reply (c, 200, "application/json", NULL, text, len);
            free (text);
            return rc;
        }
        if (text) {
            int rc = s_state_wait (c, id, text, len, util_mono_ms () + wait_s * 1000);
            if (rc == -2) {
                api_error_set (&e, 503, "too_many_waiting", "wait",
                               "Too many requests are waiting; retry shortly, or poll without wait.");
                return call_reply_error (c, &e, NULL);
            }
            if (rc >= 0)
                return rc;
        }
    }
    if (s_fetch_waited (c, id, &job_kinds [JOB_RENDER], &r, &e))
        return call_reply_error (c, &e, NULL);
    int rc;
    size_t len = 0;
    char *text = call_render_text (c, 200, &r, &len);
    if (text) {
        if (render_cache_eligible (&r))
            render_cache_put (c->auth, r.id, text, len, util_mono_ms ());
        if (c->gw->state)
            render_state_seed (c->gw->state, &r, text, len, util_mono_ms ());
        rc = call_reply (c, 200, "application/json", NULL, text, len);
        free (text);
    }
    else
        rc = call_reply_render (c, 200, &r);
    proto_render_free (&r);
    return rc;
}

/* GET /v1/jobs/{id}[?wait=S] */
int
route_show_job (call_t *c)
{
    api_error_t e;
    proto_render_t r;
    if (s_fetch_waited (c, c->id, &job_kinds [JOB_CAPTURE], &r, &e))
        return call_reply_error (c, &e, NULL);
    int rc = s_reply_as (c, &s_kinds [JOB_CAPTURE], 200, &r);
    proto_render_free (&r);
    return rc;
}

/* ---- list, cancel, account ------------------------------------------------ */

/* GET /v1/renders?limit=1..100&starting_after=rnd_...: newest first. */
int
route_list_renders (call_t *c)
{
    api_error_t e;
    if (call_auth (c, &e))
        return call_reply_error (c, &e, NULL);
    proto_list_t l;
    memset (&l, 0, sizeof l);
    l.limit = EASEL_LIST_LIMIT_DEFAULT;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char value [64];
    int64_t limit;
    int n;
    if (qs && (n = mg_get_var (qs, strlen (qs), "limit", value, sizeof value)) != -1) {
        if (n < 0 || util_parse_i64 (value, 1, EASEL_LIST_LIMIT_MAX, &limit)) {
            api_error_set (&e, 422, "parameter_invalid", "limit",
                           "limit must be a whole number from 1 to %d.", EASEL_LIST_LIMIT_MAX);
            return call_reply_error (c, &e, NULL);
        }
        l.limit = (int32_t) limit;
    }
    if (qs && (n = mg_get_var (qs, strlen (qs), "starting_after", value, sizeof value)) != -1) {
        if (n < 0 || !proto_id_valid (value, "rnd_")) {
            api_error_set (&e, 422, "parameter_invalid", "starting_after",
                           "starting_after must be a render id (rnd_ and 26 characters).");
            return call_reply_error (c, &e, NULL);
        }
        snprintf (l.starting_after, sizeof l.starting_after, "%s", value);
    }
    proto_id_new ("rid_", l.rid, sizeof l.rid);
    memcpy (l.auth, c->auth, sizeof l.auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_list_encode (&l, &sb) ? call_internal (c, &e, "LIST_RENDERS encoding failed")
           : call_bus (c, PROTO_LIST_RENDERS, &sb, l.rid, PROTO_RENDER_LIST, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return call_reply_error (c, &e, NULL);
    proto_render_list_t list;
    char err [PROTO_ERR_MAX];
    rc = proto_render_list_decode ((const char *) zframe_data (reply), zframe_size (reply), &list, err);
    zframe_destroy (&reply);
    if (rc) {
        call_internal (c, &e, err);
        return call_reply_error (c, &e, NULL);
    }
    json_t *data = json_array ();
    for (int32_t i = 0; data && i < list.nrenders; i++)
        if (json_array_append_new (data, render_json_build (&list.renders [i], c->gw->public_url))) {
            json_decref (data);
            data = NULL;
        }
    json_t *obj = data ? json_pack ("{s:s, s:s, s:o, s:b}", "object", "list", "url", "/v1/renders",
                                    "data", data, "has_more", list.has_more) : NULL;
    proto_render_list_free (&list);
    return call_reply_json (c, 200, obj, NULL);
}

/* POST /v1/renders/{id}/cancel: no parameters; an empty body or {}. */
int
route_cancel_render (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    char key [EASEL_IDEMPOTENCY_KEY_MAX + 1];
    char fp [65] = "";
    if (call_auth (c, &e) || call_idem_key (c, key, &e)
    ||  call_no_params (c, "Cancel", key [0] ? fp : NULL, &e))
        return call_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return call_reply_error (c, &e, NULL);
    }
    proto_cancel_t cr;
    memset (&cr, 0, sizeof cr);
    proto_id_new ("rid_", cr.rid, sizeof cr.rid);
    memcpy (cr.auth, c->auth, sizeof cr.auth);
    snprintf (cr.id, sizeof cr.id, "%s", id);
    call_idem_fill (c, key, fp, false, cr.idem_key, cr.idem_fp, &cr.idem_hold_ms);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_cancel_encode (&cr, &sb) ? call_internal (c, &e, "CANCEL_RENDER encoding failed")
       : call_bus (c, PROTO_CANCEL_RENDER, &sb, cr.rid, PROTO_RENDER, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc == 1)
        return call_reply_replay (c, &reply);
    if (rc)
        return call_reply_error (c, &e, NULL);
    proto_render_t r;
    char err [PROTO_ERR_MAX];
    rc = proto_render_decode ((const char *) zframe_data (reply), zframe_size (reply), &r, err);
    zframe_destroy (&reply);
    if (rc) {
        call_internal (c, &e, err);
        return call_reply_error (c, &e, NULL);
    }
    char scope [PROTO_SHORT_MAX + PROTO_ID_MAX];
    snprintf (scope, sizeof scope, "POST /v1/renders/%s/cancel", r.id);
    rc = key [0] ? call_reply_keyed (c, scope, key, 200, &r) : call_reply_render (c, 200, &r);
    proto_render_free (&r);
    return rc;
}

/* GET /v1/account: balance, usage and the newest ledger entries (the
   scheduler builds the JSON). */
int
route_show_account (call_t *c)
{
    api_error_t e;
    if (call_auth (c, &e))
        return call_reply_error (c, &e, NULL);
    proto_get_t g;
    memset (&g, 0, sizeof g);
    proto_id_new ("rid_", g.rid, sizeof g.rid);
    memcpy (g.auth, c->auth, sizeof g.auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_get_encode (&g, &sb) ? call_internal (c, &e, "GET_ACCOUNT encoding failed")
           : call_bus (c, PROTO_GET_ACCOUNT, &sb, g.rid, PROTO_ACCOUNT, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return call_reply_error (c, &e, NULL);
    proto_body_t b;
    char err [PROTO_ERR_MAX];
    rc = proto_body_decode ((const char *) zframe_data (reply), zframe_size (reply), &b, err);
    zframe_destroy (&reply);
    if (rc) {
        call_internal (c, &e, err);
        return call_reply_error (c, &e, NULL);
    }
    rc = call_reply (c, b.status, "application/json", NULL, b.body, strlen (b.body));
    proto_body_free (&b);
    return rc;
}

/* GET /v1/renders/{id}/archive: the fastlane zip of a finished render (render_archive.c). */
int
route_render_archive (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    proto_render_t r;
    memset (&r, 0, sizeof r);
    /* ?exp=&sig= of a review link: the review page's download, no key */
    review_link_t rl;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    bool link = qs && strstr (qs, "sig=");
    if (link && review_link_parse (qs, &rl)) {
        api_error_set (&e, 403, "review_link_invalid", "sig", "The review link is malformed.");
        return call_reply_error (c, &e, NULL);
    }
    if ((link ? call_auth_budget (c, util_mono_ms (), &e) : call_auth (c, &e))
    ||  call_get_render_as (c, id, link ? &rl : NULL, NULL, &r, &e))
        return call_reply_error (c, &e, NULL);
    int rc;
    if (strcmp (r.status, "processing") == 0) {
        api_error_set (&e, 409, "render_processing", "id",
                       "The render is still processing; its archive exists once it is final.");
        rc = call_reply_error (c, &e, NULL);
    }
    else if ((rc = archive_stream (c->conn, c->gw->pool, link ? "" : c->auth, &r, c->gw->public_url,
                                   c->request_id, &e)) < 0)
        rc = call_reply_error (c, &e, NULL);
    proto_render_free (&r);
    return rc;
}

/* GET /v1/renders/{id}/changes?since=rnd_...: image by image against an
   earlier render of the same account (render_changes.h). */
int
route_render_changes (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    if (call_auth (c, &e))
        return call_reply_error (c, &e, NULL);
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char since [PROTO_ID_MAX] = "";
    if (!qs || mg_get_var (qs, strlen (qs), "since", since, sizeof since) <= 0
    ||  !proto_id_valid (since, "rnd_")) {
        api_error_set (&e, 422, since [0] ? "parameter_invalid" : "parameter_missing", "since",
                       "since is the id of an earlier render of this account (rnd_...).");
        return call_reply_error (c, &e, NULL);
    }
    proto_render_t now, before;
    memset (&now, 0, sizeof now);
    memset (&before, 0, sizeof before);
    if (call_get_render_as (c, id, NULL, NULL, &now, &e))
        return call_reply_error (c, &e, NULL);
    if (call_get_render_as (c, since, NULL, NULL, &before, &e)) {
        proto_render_free (&now);
        if (e.status == 404)
            api_error_set (&e, 404, "resource_missing", "since", "No render %.40s in this account.", since);
        return call_reply_error (c, &e, NULL);
    }
    json_t *body = render_changes_build (&now, &before);
    proto_render_free (&now);
    proto_render_free (&before);
    return call_reply_json (c, 200, body, NULL);
}

