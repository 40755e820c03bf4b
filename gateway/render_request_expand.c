/*  render_request_expand.c: a checked POST /v1/renders body (rr_req_t)
    expanded into its task specs: one proto_slide_t per image of slides x
    locales x presets, encoded with proto_slide_encode, each naming the blob
    (inline screenshot or uploaded file) it draws and its uploaded background
    (background.image.file_id); a cell whose screenshot file_id map says null
    has no image. The inline screenshots are moved into the message's blobs
    once each. See render_request_int.h.

    Pure functions, no state. What is added to `out` is the caller's (freed
    with proto_create_render_free). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "render_request_int.h"
#include "util.h"

/* ---- expansion ----------------------------------------------------------- */

/* The lines of `text` for `locale` (borrowed strings) into out / *n; true
   when the locale had none of its own and "default" was used. */
static bool
s_fill_lines (json_t *text, const char *locale, char **out, int32_t *n)
{
    json_t *arr = text;
    bool fallback = false;
    if (json_is_object (arr)) {
        arr = rr_member (text, locale);
        if (!arr) {
            arr = rr_member (text, "default");
            fallback = true;
        }
    }
    *n = (int32_t) json_array_size (arr);
    for (int32_t k = 0; k < *n; k++)
        out [k] = (char *) json_string_value (json_array_get (arr, (size_t) k));
    return fallback;
}

/* Length of a locale's language subtag ("pt" of "pt-BR"). */
static size_t
s_language_len (const char *locale)
{
    size_t n = strcspn (locale, "-_");
    return n;
}

/* untranslated_copy: the locale's own lines in `text` are word for word
   those of the first locale given them (the text's origin, in the order of
   the object), and that locale is another language: its name into out (""
   when not). A single word (a brand name) is not flagged. */
static void
s_untranslated (json_t *text, const char *locale, char *out, size_t out_size)
{
    out [0] = '\0';
    json_t *own = json_is_object (text) ? rr_member (text, locale) : NULL;
    if (!own || !locale [0])
        return;
    bool words = json_array_size (own) > 1;
    size_t k;
    json_t *line;
    json_array_foreach (own, k, line) {
        const char *t = json_string_value (line);
        words |= t && strchr (t, ' ') != NULL;
    }
    if (!words)
        return;
    const char *origin;
    json_t *arr;
    json_object_foreach (text, origin, arr) {
        if (strcmp (origin, "default") == 0 || !json_equal (arr, own))
            continue;
        size_t lang = s_language_len (locale);
        if (strcmp (origin, locale) != 0
        &&  !(s_language_len (origin) == lang && strncasecmp (origin, locale, lang) == 0))
            snprintf (out, out_size, "%s", origin);
        return;
    }
}

/* The sha256 of the file a file_id (string or map) at path names for one
   image (locale, preset) into out; a 422 naming the field (and the map's
   key) when none fits or it does not resolve. */
static int
s_file_sha (const rr_req_t *req, const json_t *file_id, const char *path, const char *locale,
            const char *preset, char out [65], api_error_t *e)
{
    const char *fid = NULL;
    if (rr_file_pick (file_id, locale, preset, &fid) != 1)
        return rr_fail (e, "parameter_missing",
                        "No file_id for this image's locale and preset (or give \"default\").",
                        "%s.file_id.%s%s%s", path, locale, locale [0] && preset [0] ? "/" : "", preset);
    char param [API_ERROR_PARAM_MAX];
    rr_path (param, sizeof param, "%s.file_id", path);
    if (json_is_object (file_id)) {
        size_t n = strlen (param);
        snprintf (param + n, sizeof param - n, ".%.60s", locale [0] ? locale : preset);
    }
    return rr_file_sha (req->files, fid, param, out, e);
}

/* Encodes one image into out->tasks[out->ntasks++]. */
static int
s_add_image (const rr_req_t *req, int s, const char *locale, const presets_canvas_t *preset,
             proto_create_render_t *out, size_t *spec_bytes, api_error_t *e)
{
    const rr_slide_t *slide = &req->slides [s];
    proto_slide_t sl;
    memset (&sl, 0, sizeof sl);
    sl.slide = s;
    snprintf (sl.locale, sizeof sl.locale, "%s", locale);
    snprintf (sl.preset, sizeof sl.preset, "%s", preset ? preset->name : "");
    sl.width = req->width;
    sl.height = req->height;
    if (preset && preset != req->canvas_preset && rr_preset_size (preset, req->orient, &sl.width, &sl.height))
        return rr_fail (e, "parameter_invalid", "This preset does not take the canvas orientation.",
                        "matrix.presets");
    sl.bg_ncolors = req->bg_ncolors;
    memcpy (sl.bg_colors, req->bg_colors, sizeof sl.bg_colors);
    sl.bg_angle = req->bg_angle;
    sl.bg_image_url = (char *) req->bg_image_url;
    sl.text_color = slide->text_color;
    sl.sub_color = slide->sub_color;
    if (slide->lines)
        sl.text_fallback = s_fill_lines (slide->lines, locale, sl.lines, &sl.nlines);
    if (slide->lines)
        s_untranslated (slide->lines, locale, sl.untranslated_of, sizeof sl.untranslated_of);
    if (slide->sub)
        sl.text_fallback |= s_fill_lines (slide->sub, locale, sl.sub, &sl.nsub);
    snprintf (sl.text_position, sizeof sl.text_position, "%s",
              slide->layout.position ? slide->layout.position : "top");
    sl.padding_pm = slide->layout.padding_pm;
    sl.font_weight = slide->head.weight;
    sl.font_size_max = slide->head.size_max;
    sl.font_size_min = slide->head.size_min;
    snprintf (sl.fit, sizeof sl.fit, "%s", slide->layout.fit ? slide->layout.fit : "contain");
    snprintf (sl.finish, sizeof sl.finish, "%s", slide->layout.finish ? slide->layout.finish : "auto");
    snprintf (sl.store, sizeof sl.store, "%s", preset ? preset->store : req->store ? req->store : "");
    sl.display_stated = preset != NULL;
    char url [EASEL_MAX_URL_BYTES + 1];
    if (slide->url) {
        if (util_template_expand (slide->url, locale, sl.preset, url, sizeof url)
        ||  !render_request_url_ok (url))
            return rr_fail (e, "parameter_invalid",
                            RR_MSG ("url is an http(s) URL of at most %d bytes (after {locale} and {preset}).", EASEL_MAX_URL_BYTES),
                            "slides[%d].screenshot.url", s);
        sl.shot_url = url;
    }
    /* an inline screenshot travels once, in the message's blobs; the spec names it */
    if (slide->data)
        memcpy (sl.shot_sha256, slide->sha256, sizeof sl.shot_sha256);
    /* an uploaded file is in the blob store already: the spec names it the same way */
    if (slide->file_id) {
        char param [API_ERROR_PARAM_MAX];
        rr_path (param, sizeof param, "slides[%d].screenshot", s);
        if (s_file_sha (req, slide->file_id, param, locale, sl.preset, sl.shot_sha256, e))
            return -1;
    }
    if (req->bg_file_id && s_file_sha (req, req->bg_file_id, "background.image", locale, sl.preset,
                                       sl.bg_sha256, e))
        return -1;
    const char *device = slide->device ? slide->device
                       : !preset && req->store && strcmp (req->store, "play") == 0 ? "android_phone"
                       : presets_default_device (preset);
    snprintf (sl.device, sizeof sl.device, "%s", device);
    snprintf (sl.format, sizeof sl.format, "%s", req->format);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_slide_encode (&sl, &sb)) {
        msgpack_sbuffer_destroy (&sb);
        return api_error_set (e, 500, "internal_error", NULL, "slide encoding failed");
    }
    *spec_bytes += sb.size;
    proto_task_spec_t *t = &out->tasks [out->ntasks++];
    t->slide = s;
    memcpy (t->locale, sl.locale, sizeof t->locale);
    memcpy (t->preset, sl.preset, sizeof t->preset);
    t->width = sl.width;
    t->height = sl.height;
    memcpy (t->format, sl.format, sizeof t->format);
    t->spec_len = sb.size;
    t->spec = msgpack_sbuffer_release (&sb);
    if (slide->data || slide->file_id)
        memcpy (t->blob, sl.shot_sha256, sizeof t->blob);
    memcpy (t->bg_blob, sl.bg_sha256, sizeof t->bg_blob);
    if (*spec_bytes > SPEC_BYTES_MAX)
        return rr_fail (e, "parameter_invalid", "The task specs of this render are too large.",
                        "slides");
    return 0;
}

/* Moves each distinct inline screenshot into out->blobs (the slides keep no
   copy), so the message carries it once however many images use it. */
static int
s_take_blobs (rr_req_t *req, proto_create_render_t *out, api_error_t *e)
{
    size_t bytes = 0;
    for (int s = 0; s < req->nslides; s++) {
        rr_slide_t *slide = &req->slides [s];
        if (!slide->data)
            continue;
        bool seen = false;
        for (int32_t i = 0; i < out->nblobs && !seen; i++)
            seen = strcmp (out->blobs [i].sha256, slide->sha256) == 0;
        if (seen)
            continue;
        if (!out->blobs) {
            out->blobs = calloc (PROTO_MAX_BLOBS, sizeof *out->blobs);
            if (!out->blobs)
                return api_error_set (e, 500, "internal_error", NULL, "out of memory");
        }
        proto_blob_t *b = &out->blobs [out->nblobs++];
        memcpy (b->sha256, slide->sha256, sizeof b->sha256);
        b->data = slide->data;
        b->len = slide->data_len;
        bytes += b->len;
        slide->data = NULL;
    }
    if (bytes > SPEC_BYTES_MAX)
        return rr_fail (e, "parameter_invalid",
                        "The inline screenshots of this render are too large together; use url.",
                        "slides");
    return 0;
}

/* The preset name of one matrix cell ("" for a custom size). */
static const char *
s_cell_preset (const rr_req_t *req, int p)
{
    const presets_canvas_t *preset = req->npresets ? req->presets [p] : req->canvas_preset;
    return preset ? preset->name : "";
}

int32_t
rr_image_count (const rr_req_t *req)
{
    int nloc = req->nlocales ? req->nlocales : 1;
    int npre = req->npresets ? req->npresets : 1;
    int32_t n = 0;
    for (int s = 0; s < req->nslides; s++)
        for (int l = 0; l < nloc; l++)
            for (int p = 0; p < npre; p++)
                n += !rr_image_skipped (req, s, req->nlocales ? req->locales [l] : "",
                                        s_cell_preset (req, p));
    return n;
}

int
rr_expand (rr_req_t *req, int32_t total, proto_create_render_t *out, api_error_t *e)
{
    out->tasks = calloc ((size_t) total, sizeof *out->tasks);
    if (!out->tasks)
        return api_error_set (e, 500, "internal_error", NULL, "out of memory");
    size_t spec_bytes = 0;
    int nloc = req->nlocales ? req->nlocales : 1;
    int npre = req->npresets ? req->npresets : 1;
    for (int s = 0; s < req->nslides; s++)
        for (int l = 0; l < nloc; l++)
            for (int p = 0; p < npre; p++) {
                const char *locale = req->nlocales ? req->locales [l] : "";
                const presets_canvas_t *preset = req->npresets ? req->presets [p] : req->canvas_preset;
                if (rr_image_skipped (req, s, locale, s_cell_preset (req, p)))
                    continue;
                if (out->ntasks >= total)
                    return api_error_set (e, 500, "internal_error", NULL, "image count changed");
                if (s_add_image (req, s, locale, preset, out, &spec_bytes, e))
                    return -1;
            }
    return s_take_blobs (req, out, e);
}
