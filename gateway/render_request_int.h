/*  render_request_int.h: what the files of the POST /v1/renders parser share
    (render_request.c: the body's top level, matrix, canvas and background, and
    the two entry points; render_request_slide.c: slides, their text, layout and
    screenshot; render_request_expand.c: the matrix expanded into task specs).
    Not a public header: only those three files include it.

    The checked request is an rr_req_t: it borrows strings and arrays from the
    jansson tree (valid while the caller holds the root) and owns each slide's
    decoded inline screenshot (data), freed by render_request_parse_files.
    Pure functions, no state. */
#ifndef EASEL_RENDER_REQUEST_INT_H
#define EASEL_RENDER_REQUEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "render_request.h"
#include "presets.h"

#define MAX_LOCALES          EASEL_MAX_LOCALES
#define LOCALE_MIN_BYTES     2
#define LOCALE_MAX_BYTES     35
#define MAX_MATRIX_PRESETS   EASEL_MAX_MATRIX_PRESETS
#define MAX_GRADIENT_STOPS   4
#define DEFAULT_ANGLE        180
#define DEFAULT_TEXT_COLOR   0xFFFFFFu  /* on a dark background (or an image) */
#define DEFAULT_DARK_TEXT    0x1C1C1Eu  /* on a light background */
/* room left in one bus message for everything that is not a task spec */
#define SPEC_BYTES_MAX       (EASEL_MAX_MSG_BYTES - 1024 * 1024)

/* Layout and text style: each field is set or not, so a slide's values
   merge over the render's "layout" / "headline" / "subtitle" defaults. */
typedef struct {
    const char *position;          /* "top" | "bottom"; NULL unset */
    int32_t     padding_pm;        /* -1 unset */
    const char *fit;               /* "contain" | "cover" */
    const char *finish;            /* "auto" | "black" | "silver" */
    const char *device;
    bool        has_color;
    uint32_t    color;
    int32_t     weight;            /* 0 unset */
    int32_t     size_max, size_min;   /* 0 unset */
} rr_style_t;

typedef struct {
    json_t     *lines;             /* borrowed: array, or object locale -> array; NULL = none */
    json_t     *sub;               /* borrowed subtitle lines, same shapes; NULL = none */
    uint32_t    text_color;
    uint32_t    sub_color;
    const char *url;               /* borrowed URL template; NULL when none */
    uint8_t    *data;              /* owned: decoded inline screenshot; NULL when none */
    size_t      data_len;
    char        sha256 [65];       /* hex sha256 of data: the blob its tasks name */
    json_t     *file_id;           /* borrowed: a file id, or object key -> file id; NULL none */
    const char *device;            /* borrowed */
    rr_style_t   layout, head, subst;   /* merged: slide over render defaults */
} rr_slide_t;

#define MAX_FILE_IDS EASEL_MAX_FILES_PER_RENDER

/* The file ids a render names, each resolved once to its sha256. */
typedef struct {
    render_file_resolve_fn *resolve;                   /* NULL: file_id is refused */
    void       *arg;
    int         n;
    const char *ids [MAX_FILE_IDS];                    /* borrowed */
    char        sha256 [MAX_FILE_IDS][65];
} rr_files_t;

typedef struct {
    rr_files_t  *files;
    const char *locales [MAX_LOCALES];                 /* borrowed */
    int         nlocales;
    const presets_canvas_t *presets [MAX_MATRIX_PRESETS];
    int         npresets;
    const presets_canvas_t *canvas_preset;             /* NULL: custom size */
    int32_t     width, height;                         /* the canvas size */
    bool        have_canvas;
    int32_t     bg_ncolors;
    uint32_t    bg_colors [PROTO_MAX_STOPS];
    int32_t     bg_angle;
    const char *bg_image_url;                          /* borrowed; NULL when none */
    json_t     *bg_file_id;                            /* borrowed: background.image.file_id,
                                                          a file id or a map; NULL none */
    int         orient;                                /* canvas.orientation: -1 none, 0 portrait, 1 landscape */
    const char *store;                                 /* canvas.store for custom sizes, "" */
    const char *format;                                /* "png" | "jpeg" | "webp" */
    rr_style_t   layout, head, subst;                   /* render-wide defaults */
    rr_slide_t   slides [EASEL_MAX_SLIDES];
    int         nslides;
} rr_req_t;

/* ---- helpers (render_request.c) ------------------------------------------ */

/* A parameter path, printf-style (paths are short; a cap hit just shortens the name). */
void rr_path (char *out, size_t size, const char *fmt, ...) __attribute__((format (printf, 3, 4)));

/* A message with its limit formatted in from the constant (one home per
   limit): RR_MSG ("at most %d bytes.", EASEL_MAX_URL_BYTES), valid until the
   end of the enclosing full expression. */
#define RR_MSG_MAX 200
typedef struct { char text [RR_MSG_MAX]; } rr_msg_t;
rr_msg_t rr_msg (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
#define RR_MSG(...) (rr_msg (__VA_ARGS__).text)

/* A 422 with code and message, its param built printf-style; returns -1. */
int rr_fail (api_error_t *e, const char *code, const char *message, const char *param_fmt, ...)
    __attribute__((format (printf, 4, 5)));

/* A member that is present and not null, else NULL. */
json_t *rr_member (const json_t *obj, const char *key);

/* Rejects keys of obj not in `allowed` (NULL-terminated) as parameter_unknown. */
int rr_check_keys (const json_t *obj, const char *const *allowed, const char *prefix, api_error_t *e);

/* "#RRGGBB" -> 0xRRGGBB, else a 422 naming path. */
int rr_color (const json_t *v, const char *path, uint32_t *out, api_error_t *e);

/* One of `allowed` (NULL-terminated) as a string, else a 422 naming path. */
int rr_enum (const json_t *v, const char *const *allowed, const char *path, const char **out,
             const char *message, api_error_t *e);

/* The default size of p in the asked orientation (-1: none asked, the
   preset's own); -1 when p does not take it. */
int rr_preset_size (const presets_canvas_t *p, int orient, int32_t *w, int32_t *h);

/* ---- slides (render_request_slide.c) ------------------------------------- */

/* The render-wide "layout", "headline" and "subtitle" defaults of root into req. */
int rr_parse_defaults (const json_t *root, rr_req_t *req, api_error_t *e);

/* slides[i] into slide, merged over req's defaults (matrix, canvas and
   background are parsed already: the slide's checks use them). */
int rr_parse_slide (const json_t *js, int i, const rr_req_t *req, rr_slide_t *slide, api_error_t *e);

/* The sha256 of file id `id` into out, resolved through f once per render;
   -1 with e filled (422 naming param) when it does not resolve. */
int rr_file_sha (rr_files_t *f, const char *id, const char *param, char out [65], api_error_t *e);

/* A file_id at path ("slides[0].screenshot", "background.image"): "file_..."
   or a map of locale, preset, "<locale>/<preset>" or "default" -> file id;
   skip allows null values (the image is skipped). Into *out (borrowed). */
int rr_check_file_id (json_t *file_id, const char *path, const rr_req_t *req, bool skip,
                      json_t **out, api_error_t *e);

/* The file id of a file_id (string or map) for one image, from the most
   specific key of a map ("<locale>/<preset>", locale, preset, "default"):
   1 with *id set, 0 when that key's value is null (no image for this
   cell), -1 when no key fits. */
#define RR_FILE_SKIP 0
int rr_file_pick (const json_t *file_id, const char *locale, const char *preset, const char **id);

/* True when the image of slide s for (locale, preset) is skipped: a null in
   its screenshot's file_id map. */
bool rr_image_skipped (const rr_req_t *req, int s, const char *locale, const char *preset);

/* ---- expansion (render_request_expand.c) --------------------------------- */

/* The images of slides x locales x presets that are not skipped. */
int32_t rr_image_count (const rr_req_t *req);

/* Every image of slides x locales x presets not skipped (total of them)
   encoded into out->tasks, and the inline screenshots moved into out->blobs. */
int rr_expand (rr_req_t *req, int32_t total, proto_create_render_t *out, api_error_t *e);

#endif
