/*  render_json.c: the contract's render object and error object (see render_json.h).
    Thread: any. Memory: returned json_t and strings belong to the caller. */
#include "render_json.h"
#include "render_lint.h"
#include "json_depth.h"
#include "easel_limits.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* json_string that maps NULL/"" to JSON null. */
static json_t *
s_string_or_null (const char *s)
{
    return s && *s ? json_string (s) : json_null ();
}

static json_t *
s_time_or_null (int64_t unix_ms)
{
    if (unix_ms <= 0)
        return json_null ();
    char iso [32];
    util_iso8601 (unix_ms, iso, sizeof iso);
    return json_string (iso);
}

static json_t *
s_error_or_null (const proto_error_t *e)
{
    if (!e->code [0])
        return json_null ();
    json_t *obj = json_object ();
    json_object_set_new (obj, "code", json_string (e->code));
    json_object_set_new (obj, "message", s_string_or_null (e->message));
    json_object_set_new (obj, "param", s_string_or_null (e->param));
    return obj;
}

static json_t *
s_image (const proto_image_t *img, const char *public_url)
{
    json_t *obj = json_object ();
    json_object_set_new (obj, "id", s_string_or_null (img->id));
    json_object_set_new (obj, "status", json_string (img->status));
    json_object_set_new (obj, "slide", json_integer (img->slide));
    json_object_set_new (obj, "locale", s_string_or_null (img->locale));
    json_object_set_new (obj, "preset", s_string_or_null (img->preset));
    json_object_set_new (obj, "width", json_integer (img->width));
    json_object_set_new (obj, "height", json_integer (img->height));
    json_object_set_new (obj, "format", json_string (img->format));
    if (strcmp (img->status, "succeeded") == 0) {
        char url [512];
        snprintf (url, sizeof url, "%s/v1/files/%s?exp=%lld&sig=%s", public_url, img->id,
                  (long long) img->url_exp, img->url_sig);
        json_object_set_new (obj, "url", json_string (url));
        json_object_set_new (obj, "bytes", json_integer (img->bytes));
        json_object_set_new (obj, "sha256", json_string (img->sha256));
    }
    json_object_set_new (obj, "attempts", json_integer (img->attempts));
    json_object_set_new (obj, "cached", json_boolean (img->cached));
    json_object_set_new (obj, "error", s_error_or_null (&img->error));
    return obj;
}

json_t *
render_json_review (const proto_render_t *r)
{
    json_t *obj = json_object ();
    if (!obj)
        return NULL;
    json_object_set_new (obj, "status", json_string (r->review_status [0] ? r->review_status : "pending"));
    json_object_set_new (obj, "comment", s_string_or_null (r->review_comment));
    json_object_set_new (obj, "decided_at", s_time_or_null (r->review_decided_at_ms));
    json_object_set_new (obj, "by", s_string_or_null (r->review_by));
    return obj;
}

json_t *
render_json_build (const proto_render_t *r, const char *public_url)
{
    json_t *obj = json_object ();
    if (!obj)
        return NULL;
    json_object_set_new (obj, "id", json_string (r->id));
    json_object_set_new (obj, "object", json_string ("render"));
    json_object_set_new (obj, "status", json_string (r->status));
    json_object_set_new (obj, "created_at", s_time_or_null (r->created_at_ms));
    json_object_set_new (obj, "completed_at", s_time_or_null (r->completed_at_ms));
    json_t *progress = json_object ();
    json_object_set_new (progress, "done", json_integer (r->done));
    json_object_set_new (progress, "total", json_integer (r->total));
    json_object_set_new (obj, "progress", progress);
    json_t *images = json_array ();
    for (int32_t i = 0; i < r->nimages; i++)
        json_array_append_new (images, s_image (&r->images [i], public_url));
    json_object_set_new (obj, "images", images);
    json_object_set_new (obj, "lint", render_lint_build (r));
    json_object_set_new (obj, "credits_used", json_integer (r->credits_used));
    json_object_set_new (obj, "webhook_url", s_string_or_null (r->webhook_url));
    json_object_set_new (obj, "webhook_status", json_string (r->webhook_status [0] ? r->webhook_status : "none"));
    json_object_set_new (obj, "error", s_error_or_null (&r->error));
    json_t *metadata = NULL;
    /* stored metadata passed the gateway's depth limit; a deeper one (an
       older row, another writer) shows as {} rather than run jansson deep */
    if (r->metadata_json
    &&  json_depth_ok (r->metadata_json, strlen (r->metadata_json), EASEL_MAX_JSON_DEPTH))
        metadata = json_loads (r->metadata_json, 0, NULL);
    json_object_set_new (obj, "metadata", json_is_object (metadata) ? metadata : json_object ());
    if (metadata && !json_is_object (metadata))
        json_decref (metadata);
    /* the review gate: the decision and a signed link to the review page */
    json_object_set_new (obj, "review", render_json_review (r));
    if (r->review_sig [0]) {
        char url [512];
        snprintf (url, sizeof url, "%s/v1/renders/%s/review?exp=%lld&sig=%s", public_url, r->id,
                  (long long) r->review_exp, r->review_sig);
        json_object_set_new (obj, "review_url", json_string (url));
    }
    return obj;
}

json_t *
render_json_error (const char *type, const char *code, const char *message, const char *param)
{
    json_t *inner = json_object ();
    if (!inner)
        return NULL;
    json_object_set_new (inner, "type", json_string (type));
    json_object_set_new (inner, "code", json_string (code));
    json_object_set_new (inner, "message", json_string (message ? message : ""));
    if (param && *param)
        json_object_set_new (inner, "param", json_string (param));
    json_t *obj = json_object ();
    json_object_set_new (obj, "error", inner);
    return obj;
}

int
render_json_envelope (json_t *obj, const char *type, const char *event_id,
                      const char *object, const char *id, int64_t occurred_ms)
{
    char iso [32];
    util_iso8601 (occurred_ms, iso, sizeof iso);
    json_object_del (obj, "webhook_status");
    if (json_object_set_new (obj, "type", json_string (type))
    ||  json_object_set_new (obj, "event_id", json_string (event_id))
    ||  json_object_set_new (obj, "id", json_string (id))
    ||  json_object_set_new (obj, "object", json_string (object))
    ||  json_object_set_new (obj, "occurred_at", json_string (iso)))
        return -1;
    return 0;
}

char *
render_json_dump (const json_t *obj, size_t *len_out)
{
    char *text = json_dumps (obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text && len_out)
        *len_out = strlen (text);
    return text;
}

bool
render_json_state_carried (const proto_render_t *r)
{
    bool final = strcmp (r->status, "processing") != 0;
    return r->total <= EASEL_STATE_IMAGES_MAX && !(final && r->webhook_url && r->webhook_url [0]);
}

char *
render_json_accepted (const char *render_id, size_t *len_out)
{
    char polling [64];
    snprintf (polling, sizeof polling, "/v1/renders/%.40s", render_id);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:s}", "id", render_id, "object", "render",
                             "status", "processing", "polling_url", polling);
    char *text = obj ? render_json_dump (obj, len_out) : NULL;
    json_decref (obj);
    return text;
}
