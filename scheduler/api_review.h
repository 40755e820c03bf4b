/*  api_review.h: REVIEW on the api socket -- a decision on a finished
    render (by key or by its signed review link), recorded once with its
    event in the same transaction; the revocation of a render's links; a
    new link naming its reviewer and an earlier render -- and the check of
    a review link that GET_RENDER also uses.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_REVIEW_H
#define EASEL_API_REVIEW_H

#include "api.h"

/* 0 when the link (exp, by, since, sig) is render_id's, current and
   unexpired; else -1 with 403 review_link_invalid (tampered, revoked), 410
   review_link_expired or 503 queued. */
int api_review_link (scheduler_t *self, zframe_t *identity, const char *rid, const char *render_id,
                     int64_t exp, const char *by, const char *since, const char *sig);

/* REVIEW: the render object (200), 201 {exp, sig} for a new link, or 409
   review_decided with the first decision. */
void api_review_handle (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
