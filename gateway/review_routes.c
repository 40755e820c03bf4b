/*  review_routes.c: the review gate's routes (review_page.h builds the page
    and checks links): the page, its status, a decision, minting and revoking
    links. A person opens these links, so failures are HTML pages.
    Thread: the calling civetweb worker. */
#include "call.h"
#include "routes.h"

/* ---- the review gate (review_page.h) ---------------------------------------- */

/* An HTML error page with status (review links are opened by people). */
static int
s_reply_html_error (call_t *c, int status, const char *title, const char *message)
{
    size_t len = 0;
    char *html = review_page_error (title, message, &len);
    if (!html) {
        api_error_t e;
        call_internal (c, &e, "cannot build an error page");
        return call_reply_error (c, &e, NULL);
    }
    int rc = call_reply (c, status, "text/html; charset=utf-8",
                      "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
                      "X-Content-Type-Options: nosniff\r\n", html, len);
    free (html);
    return rc;
}

/* The HTML page for an error e met while serving a review link. */
static int
s_review_link_failed (call_t *c, const api_error_t *e)
{
    if (e->status == 410)
        return s_reply_html_error (c, 410, "This review link has expired",
                                   "Ask the person who shared it for a new link.");
    if (e->status == 403 || e->status == 401)
        return s_reply_html_error (c, 403, "This review link is not valid",
                                   "The link was altered, revoked, or copied incompletely."
                                   " Ask the person who shared it for a new link.");
    if (e->status == 404)
        return s_reply_html_error (c, 404, "No such render",
                                   "This render does not exist any more.");
    if (e->status == 429)
        return s_reply_html_error (c, 429, "Too many attempts",
                                   "Too many invalid links were tried from this address; wait a minute.");
    return s_reply_html_error (c, e->status >= 500 ? e->status : 500, "The review page is unavailable",
                               "Easel could not load this render just now; reload in a moment.");
}

/* Checks a review link's query and loads its render (no key). -1 with e. */
static int
s_review_load (call_t *c, const char *id, review_link_t *link, proto_render_t *r,
               api_error_t *e)
{
    if (call_auth_budget (c, util_mono_ms (), e))
        return -1;
    if (!proto_id_valid (id, "rnd_")
    ||  review_link_parse (mg_get_request_info (c->conn)->query_string, link)) {
        api_error_set (e, 403, "review_link_invalid", "sig", "The review link is malformed.");
        call_auth_failed (c, util_mono_ms (), e);
        return -1;
    }
    if (call_get_render_as (c, id, link, NULL, r, e)) {
        if (e->status == 403)               /* forged or revoked: counts as a failed auth */
            call_auth_failed (c, util_mono_ms (), e);
        return -1;
    }
    return 0;
}

/* GET /v1/renders/{id}/review?exp=&sig=: the review page. */
int
route_review_page (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    proto_render_t r, before;
    review_link_t link;
    if (s_review_load (c, id, &link, &r, &e))
        return s_review_link_failed (c, &e);
    /* a link minted with since marks each image against that render; when
       retention has removed it the page says so (changes stays NULL) */
    json_t *changes = NULL;
    memset (&before, 0, sizeof before);
    if (link.since [0] && call_get_render_as (c, link.since, &link, id, &before, &e) == 0)
        changes = render_changes_build (&r, &before);
    proto_render_free (&before);
    char nonce [REVIEW_NONCE_HEX + 1], headers [1536];   /* CSP: call_reply caps all at HEAD_MAX */
    review_page_nonce (nonce);
    review_page_headers (nonce, c->gw->public_url, headers, sizeof headers);
    size_t len = 0;
    char *html = review_page_html (&r, c->gw->public_url, &link, changes, nonce, &len);
    json_decref (changes);
    proto_render_free (&r);
    if (!html) {
        call_internal (c, &e, "cannot build the review page");
        return s_review_link_failed (c, &e);
    }
    int rc = call_reply (c, 200, "text/html; charset=utf-8", headers, html, len);
    free (html);
    return rc;
}

/* GET /v1/renders/{id}/review/status?exp=&sig=: the render object, for the
   page's live status (JSON errors: the page's script reads them). */
int
route_review_status (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    proto_render_t r;
    review_link_t link;
    if (s_review_load (c, id, &link, &r, &e))
        return call_reply_error (c, &e, "Cache-Control: no-store\r\n");
    json_t *obj = review_page_render (&r, c->gw->public_url);
    proto_render_free (&r);
    return call_reply_json (c, 200, obj, "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n");
}

/* One REVIEW round trip (rq is freed here): 0 with the scheduler's status
   and JSON body (*json the caller frees), -1 with e. */
static int
s_review_call (call_t *c, proto_review_t *rq, int *status, char **json, api_error_t *e)
{
    proto_id_new ("rid_", rq->rid, sizeof rq->rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_review_encode (rq, &sb) ? call_internal (c, e, "REVIEW encoding failed")
           : call_bus (c, PROTO_REVIEW, &sb, rq->rid, PROTO_JSON, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    proto_review_free (rq);
    if (rc)
        return -1;
    proto_json_t j;
    char err [PROTO_ERR_MAX];
    rc = proto_json_decode ((const char *) zframe_data (reply), zframe_size (reply), &j, err);
    zframe_destroy (&reply);
    if (rc)
        return call_internal (c, e, err);
    *status = j.status;
    *json = j.json;
    j.json = NULL;
    proto_json_free (&j);
    return 0;
}

/* POST /v1/renders/{id}/review?exp=&sig=: the page's form. Cross-site posts
   are refused: Sec-Fetch-Site and Origin must say the gateway's own origin,
   and the form token must be the one bound to this page's nonce. */
static int
s_review_form (call_t *c, const char *id)
{
    api_error_t e;
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    char nonce [65] = "", token [65] = "";
    char *body = NULL;
    size_t len = 0;
    const struct mg_request_info *ri = mg_get_request_info (c->conn);
    const char *ct = mg_get_header (c->conn, "Content-Type");
    const char *accept = mg_get_header (c->conn, "Accept");
    bool json = accept && strstr (accept, "application/json");
    if (call_auth_budget (c, util_mono_ms (), &e))
        goto fail;
    review_link_t link;
    if (!proto_id_valid (id, "rnd_") || review_link_parse (ri->query_string, &link)) {
        api_error_set (&e, 403, "review_link_invalid", "sig", "The review link is malformed.");
        goto fail;
    }
    rq.exp = link.exp;
    memcpy (rq.sig, link.sig, sizeof rq.sig);
    memcpy (rq.link_by, link.by, sizeof rq.link_by);
    memcpy (rq.link_since, link.since, sizeof rq.link_since);
    if (!review_page_same_origin (mg_get_header (c->conn, "Origin"),
                                  mg_get_header (c->conn, "Sec-Fetch-Site"), c->gw->public_url)) {
        api_error_set (&e, 403, "cross_site_request", NULL,
                       "A decision is accepted only from the review page itself.");
        goto fail;
    }
    if (!ct || strncasecmp (ct, "application/x-www-form-urlencoded", 33) != 0) {
        api_error_set (&e, 415, "unsupported_media_type", NULL,
                       "The review form posts application/x-www-form-urlencoded.");
        goto fail;
    }
    if (ri->content_length > REVIEW_FORM_MAX) {
        api_error_set (&e, 413, "body_too_large", NULL, "A decision form is at most %d bytes.",
                       REVIEW_FORM_MAX);
        goto fail;
    }
    if (call_read_body (c, &body, &len, &e) || review_page_parse_form (body, len, &rq, nonce, token, &e))
        goto fail;
    if (!review_page_token_ok (rq.sig, id, nonce, token)) {
        api_error_set (&e, 403, "invalid_form_token", "token",
                       "The form token does not belong to this page; reload the page and decide again.");
        proto_review_free (&rq);
        goto fail;
    }
    free (body);
    body = NULL;
    snprintf (rq.id, sizeof rq.id, "%s", id);
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        goto fail;
    int rc;
    if (json)
        rc = call_reply (c, status, "application/json", "Cache-Control: no-store\r\n", answer, strlen (answer));
    else
    if (status == 200 || status == 409) {       /* a plain form post: back to the page */
        char extra [EXTRA_MAX + 512 + REVIEW_LINK_QUERY_MAX], q [REVIEW_LINK_QUERY_MAX] = "";
        review_link_query (&link, q, sizeof q);  /* parsed from a query that fit */
        snprintf (extra, sizeof extra, "Location: %s/v1/renders/%s/review?%s\r\n",
                  c->gw->public_url, id, q);
        rc = call_reply (c, 303, "text/plain; charset=utf-8", extra, "", 0);
    }
    else
        rc = s_reply_html_error (c, status, "The decision was not recorded",
                                 "Reload the review page and try again.");
    free (answer);
    return rc;
fail:
    free (body);
    proto_review_free (&rq);
    if (json || e.status == 422)
        return call_reply_error (c, &e, NULL);
    return e.status == 403 || e.status == 410 || e.status == 404 || e.status == 429
         ? s_review_link_failed (c, &e) : call_reply_error (c, &e, NULL);
}

/* POST /v1/renders/{id}/review (API key, JSON) and, with ?exp=&sig=, the
   review page's form. */
int
route_review_decide (call_t *c)
{
    const char *id = c->id;
    const char *qs = mg_get_request_info (c->conn)->query_string;
    if (qs && (strstr (qs, "sig=") || strstr (qs, "exp=")))
        return s_review_form (c, id);
    api_error_t e;
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    char *body = NULL;
    size_t len = 0;
    if (call_auth (c, &e) || call_check_json_body (c, &e) || call_read_body (c, &body, &len, &e))
        return call_reply_error (c, &e, NULL);
    int rc = review_page_parse_json (body, len, &rq, &e);
    free (body);
    if (rc)
        return call_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        proto_review_free (&rq);
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return call_reply_error (c, &e, NULL);
    }
    memcpy (rq.auth, c->auth, sizeof rq.auth);
    snprintf (rq.id, sizeof rq.id, "%s", id);
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        return call_reply_error (c, &e, NULL);
    rc = call_reply (c, status, "application/json", NULL, answer, strlen (answer));
    free (answer);
    return rc;
}

/* POST /v1/renders/{id}/review_links (API key): a new review link that
   names its reviewer (by, shown on the page and recorded as the decision's
   by) and/or an earlier render to mark changes against (since), with its
   own expiry. The scheduler signs it; 201 with the review_link object. */
int
route_review_mint (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    char *body = NULL;
    size_t len = 0;
    bool has_body = mg_get_request_info (c->conn)->content_length > 0
                 || mg_get_header (c->conn, "Transfer-Encoding");
    if (call_auth (c, &e) || (has_body && (call_check_json_body (c, &e) || call_read_body (c, &body, &len, &e))))
        return call_reply_error (c, &e, NULL);
    review_link_t link;
    int64_t ttl = 0;
    int rc = review_page_parse_link (body, len, &link, &ttl, &e);
    free (body);
    if (rc)
        return call_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return call_reply_error (c, &e, NULL);
    }
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    memcpy (rq.auth, c->auth, sizeof rq.auth);
    snprintf (rq.id, sizeof rq.id, "%s", id);
    snprintf (rq.action, sizeof rq.action, "link");
    memcpy (rq.link_by, link.by, sizeof rq.link_by);
    memcpy (rq.link_since, link.since, sizeof rq.link_since);
    rq.exp = (int64_t) time (NULL) + ttl;
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        return call_reply_error (c, &e, NULL);
    if (status != 201) {
        rc = call_reply (c, status, "application/json", NULL, answer, strlen (answer));
        free (answer);
        return rc;
    }
    json_error_t jerr;
    json_t *signed_ = json_loads (answer, 0, &jerr);
    free (answer);
    const char *sig = json_string_value (json_object_get (signed_, "sig"));
    link.exp = json_integer_value (json_object_get (signed_, "exp"));
    char q [REVIEW_LINK_QUERY_MAX], url [1024 + REVIEW_LINK_QUERY_MAX], expires [32];
    if (!sig || strlen (sig) != 64) {
        json_decref (signed_);
        call_internal (c, &e, "the scheduler answered a review link without a signature");
        return call_reply_error (c, &e, NULL);
    }
    memcpy (link.sig, sig, sizeof link.sig);
    json_decref (signed_);
    review_link_query (&link, q, sizeof q);
    snprintf (url, sizeof url, "%s/v1/renders/%s/review?%s", c->gw->public_url, id, q);
    util_iso8601 (link.exp * 1000, expires, sizeof expires);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:o, s:o, s:s}", "object", "review_link",
                             "render_id", id, "url", url,
                             "by", link.by [0] ? json_string (link.by) : json_null (),
                             "since", link.since [0] ? json_string (link.since) : json_null (),
                             "expires_at", expires);
    return call_reply_json (c, 201, obj, NULL);
}

/* POST /v1/renders/{id}/review_links/revoke (API key): every review link
   made so far stops working; the answer carries a new review_url. No
   parameters: an empty body or {}. */
int
route_review_revoke (call_t *c)
{
    const char *id = c->id;
    api_error_t e;
    if (call_auth (c, &e) || call_no_params (c, "Revoking", NULL, &e))
        return call_reply_error (c, &e, NULL);
    if (!proto_id_valid (id, "rnd_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such render: '%.40s'.", id);
        return call_reply_error (c, &e, NULL);
    }
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    memcpy (rq.auth, c->auth, sizeof rq.auth);
    snprintf (rq.id, sizeof rq.id, "%s", id);
    snprintf (rq.action, sizeof rq.action, "revoke");
    int status = 0;
    char *answer = NULL;
    if (s_review_call (c, &rq, &status, &answer, &e))
        return call_reply_error (c, &e, NULL);
    int rc = call_reply (c, status, "application/json", NULL, answer, strlen (answer));
    free (answer);
    return rc;
}

