/*  store_keys.c: what every store backend shares and no database holds:
    signed file URLs, signed review links (job_store.h), the image cache
    key, and the render a create made as its read back would give it.
    Backend-neutral: it needs only the handle's URL secret
    (store_url_secret, store_backend.h) and the backend's job_store_review_gen.
    Thread: the handle's. Memory: nothing allocated. */

#include "store_backend.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the render a create made ---------------------------------------------- */

int
store_made_init (proto_render_t *made, const char *render_id, const char *account_id,
                 const proto_create_render_t *req, int64_t now_ms)
{
    snprintf (made->id, sizeof made->id, "%s", render_id);
    snprintf (made->account_id, sizeof made->account_id, "%s", account_id);
    snprintf (made->status, sizeof made->status, "processing");
    made->created_at_ms = now_ms;
    made->total = req->ntasks;
    snprintf (made->webhook_status, sizeof made->webhook_status, "%s",
              req->webhook_url ? "pending" : "none");
    made->webhook_url = req->webhook_url ? strdup (req->webhook_url) : NULL;
    made->metadata_json = strdup (req->metadata_json ? req->metadata_json : "{}");
    made->images = calloc (req->ntasks > 0 ? (size_t) req->ntasks : 1, sizeof *made->images);
    return (req->webhook_url && !made->webhook_url) || !made->metadata_json || !made->images ? -1 : 0;
}

proto_image_t *
store_made_image (proto_render_t *made, const char *task_id, const proto_task_spec_t *t)
{
    proto_image_t *img = &made->images [made->nimages++];
    snprintf (img->id, sizeof img->id, "%s", task_id);
    snprintf (img->status, sizeof img->status, "queued");
    img->slide = t->slide;
    snprintf (img->locale, sizeof img->locale, "%s", t->locale);
    snprintf (img->preset, sizeof img->preset, "%s", t->preset);
    img->width = t->width;
    img->height = t->height;
    snprintf (img->format, sizeof img->format, "%s", t->format);
    return img;
}

/* ---- the image cache key --------------------------------------------------- */

/* The cache key of a render image whose every input is named by content
   (no screenshot or background URL: inline and uploaded images travel as
   sha256, the screenshot's as shot_sha256, an uploaded background's as
   bg_sha256, both inside the spec): hex sha256 of EASEL_RENDER_VERSION and
   the task's spec bytes, so a changed background is a different key.
   False for an image that fetches a URL (its bytes are known only when
   fetched) or whose spec does not decode. */
bool
store_cache_key (const proto_task_spec_t *t, char key [65])
{
    proto_slide_t slide;
    char err [PROTO_ERR_MAX];
    if (proto_slide_decode ((const char *) t->spec, t->spec_len, &slide, err) != 0)
        return false;
    bool content = !slide.shot_url && !slide.bg_image_url && !slide.capture
                && !(slide.shot_data && !slide.shot_sha256 [0])
                && !(slide.bg_data && !slide.bg_sha256 [0]);
    proto_slide_free (&slide);
    if (!content)
        return false;
    crypto_hash_sha256_state h;
    unsigned char digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init (&h);
    crypto_hash_sha256_update (&h, (const unsigned char *) "easel-image\n" EASEL_RENDER_VERSION "\n",
                               strlen ("easel-image\n" EASEL_RENDER_VERSION "\n"));
    crypto_hash_sha256_update (&h, (const unsigned char *) t->spec, t->spec_len);
    crypto_hash_sha256_final (&h, digest);
    sodium_bin2hex (key, 65, digest, sizeof digest);
    return true;
}

/* ---- signed URLs ----------------------------------------------------------- */

void
job_store_url_sign (job_store_t *self, const char *image_id, int64_t exp, char sig [65])
{
    char msg [PROTO_ID_MAX + 32];
    int n = snprintf (msg, sizeof msg, "%s.%lld", image_id, (long long) exp);
    const char *secret = store_url_secret (self);
    util_hmac_sha256_hex (secret, strlen (secret), msg, (size_t) n, sig);
}

bool
job_store_url_check (job_store_t *self, const char *image_id, int64_t exp,
                     const char *sig, int64_t now_s)
{
    if (!sig || !*sig || exp < now_s || strlen (image_id) >= PROTO_ID_MAX)
        return false;
    char expect [65];
    job_store_url_sign (self, image_id, exp, expect);
    return util_str_equal_ct (expect, sig);
}

void
job_store_review_sign (job_store_t *self, const char *render_id, int64_t gen, int64_t exp,
                       const char *by, const char *since, char sig [65])
{
    char msg [2 * PROTO_ID_MAX + EASEL_REVIEW_BY_MAX + 96];
    by = by ? by : "";
    since = since ? since : "";
    /* the name is length-prefixed, so no name can shift bytes into since */
    int n = by [0] || since [0]
          ? snprintf (msg, sizeof msg, "review.%s.%lld.%lld.by=%zu:%s.since=%s", render_id,
                      (long long) gen, (long long) exp, strlen (by), by, since)
          : snprintf (msg, sizeof msg, "review.%s.%lld.%lld", render_id, (long long) gen,
                      (long long) exp);
    const char *secret = store_url_secret (self);
    util_hmac_sha256_hex (secret, strlen (secret), msg, (size_t) n, sig);
}

int
job_store_review_check (job_store_t *self, const char *render_id, int64_t exp,
                        const char *by, const char *since, const char *sig, int64_t now_s,
                        char *err)
{
    if (!sig || strlen (sig) != 64 || strlen (render_id) >= PROTO_ID_MAX
    ||  (by && strlen (by) > EASEL_REVIEW_BY_MAX) || (since && strlen (since) >= PROTO_ID_MAX))
        return 1;
    int64_t gen = 0;
    if (job_store_review_gen (self, render_id, &gen, err))
        return -1;
    char expect [65];
    job_store_review_sign (self, render_id, gen, exp, by, since, expect);
    if (!util_str_equal_ct (expect, sig))
        return 1;
    return exp < now_s ? 2 : 0;
}
