/*  review_page.h: the review gate's gateway side. The review page of a render
    (an HTML page with its CSS and script compiled in from gateway/review/,
    no asset fetched from anywhere else), its error page, the per-page form
    token that keeps cross-site requests out, and the validation of a review
    decision (the JSON of POST /v1/renders/{id}/review, or the form the page
    posts).

    A review link is /v1/renders/{id}/review?exp=E&sig=S, signed by the
    scheduler (job_store_review_sign). The page carries a fresh random nonce
    and token = hex HMAC-SHA256(key = S, "review-form.<id>.<nonce>"): only a
    page served for that link can post a decision with it, and the gateway
    needs no secret of its own to check it. Origin and Sec-Fetch-Site are
    checked as well (review_page_same_origin).

    Thread: any. Memory: returned strings are the caller's (free). */
#ifndef EASEL_REVIEW_PAGE_H
#define EASEL_REVIEW_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include "proto.h"
#include "render_request.h"
#include <jansson.h>

#define REVIEW_NONCE_HEX   32      /* hex characters of a page nonce (16 random bytes) */
#define REVIEW_FORM_MAX    8192    /* bytes of a decision form body */
#define REVIEW_LINK_QUERY_MAX  512 /* a link's query: exp, sig, by (3x escaped), since */

/* A fresh nonce: REVIEW_NONCE_HEX hex digits and a NUL. */
void review_page_nonce (char nonce [REVIEW_NONCE_HEX + 1]);

/* The form token of (sig, render_id, nonce) as 64 hex digits and a NUL. */
void review_page_token (const char *sig, const char *render_id, const char *nonce, char out [65]);

/* True when token is the form token of (sig, render_id, nonce) and nonce
   is REVIEW_NONCE_HEX hex digits (constant-time compare). */
bool review_page_token_ok (const char *sig, const char *render_id, const char *nonce,
                           const char *token);

/* Cross-site check of a form post: Sec-Fetch-Site (when sent) must be
   "same-origin" or "none", and Origin (when sent) must be public_url's
   origin (scheme://host[:port]). NULL headers mean not sent. */
bool review_page_same_origin (const char *origin, const char *fetch_site, const char *public_url);

/* The render object as a review link shows it (page data, live status):
   render_json_build without webhook_url, which may carry the receiver's
   own secrets and is no reviewer's business. NULL when out of memory. */
json_t *review_page_render (const proto_render_t *r, const char *public_url);

/* A review link as its query says it: exp and sig always; by (the
   reviewer's name the link gives) and since (an earlier render of the
   account to mark changes against) when the link was minted with them
   (POST /v1/renders/{id}/review_links). The scheduler's signature covers
   all four. */
typedef struct {
    int64_t exp;
    char    sig[65];
    char    by[EASEL_REVIEW_BY_MAX + 1];
    char    since[PROTO_ID_MAX];
} review_link_t;

/* Parses the link fields of a query string (qs may be NULL): 0, or -1 when
   exp or sig is missing or malformed, by is too long or holds a control
   character, or since is not a render id. */
int review_link_parse (const char *qs, review_link_t *out);

/* The link's query, "exp=E&sig=S[&by=B][&since=R]" URL-encoded, into buf:
   0, -1 when cap is too small. */
int review_link_query (const review_link_t *link, char *buf, size_t cap);

/* The HTML page of render r reached with link, with nonce bound into its
   form token; changes (borrowed, may be NULL) is render_changes_build's
   answer against link->since. *len its length. NULL when out of memory. */
char *review_page_html (const proto_render_t *r, const char *public_url,
                        const review_link_t *link, const json_t *changes, const char *nonce,
                        size_t *len);

/* The Content-Security-Policy (and other) header lines of a page made with
   nonce, into buf (cap bytes). */
void review_page_headers (const char *nonce, const char *public_url, char *buf, size_t cap);

/* A small HTML page saying title and message (both escaped). NULL when out of memory. */
char *review_page_error (const char *title, const char *message, size_t *len);

/* text with & < > " ' as entities; NULL when out of memory. */
char *review_page_escape (const char *text);

/* Validates a decision {"status": "approved"|"changes_requested",
   "comment": string|null, "by": string|null} (JSON, len bytes) into out's
   status, comment and by (heap, freed by proto_review_free). -1 with e: 400
   invalid_json, 422 parameter_missing / parameter_invalid / parameter_unknown
   naming the field. */
int review_page_parse_json (const char *body, size_t len, proto_review_t *out, api_error_t *e);

/* Validates the body of POST /v1/renders/{id}/review_links ({"by": name,
   "since": "rnd_...", "expires_in": seconds}, each optional; len 0 is {})
   into out's by and since and *ttl_s (EASEL_REVIEW_URL_TTL_S by default).
   -1 with e naming the field. */
int review_page_parse_link (const char *body, size_t len, review_link_t *out, int64_t *ttl_s,
                            api_error_t *e);

/* The same for the page's form (application/x-www-form-urlencoded): also
   copies nonce and token (each at most 64 characters) for the caller to check. */
int review_page_parse_form (const char *body, size_t len, proto_review_t *out,
                            char nonce [65], char token [65], api_error_t *e);

#endif
