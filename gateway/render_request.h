/*  render_request.h: turns the JSON body of POST /v1/renders (CONTRACT 3) into
    a CREATE_RENDER message: one proto_slide_t per image (slides x locales x
    presets), each encoded into its task spec. Every rejection names the
    offending field as a path ("slides[0].headline.lines", "canvas.preset").

    Pure functions, no state: any thread may call them. The caller owns what
    render_request_parse fills and frees it with proto_create_render_free(). */
#ifndef EASEL_RENDER_REQUEST_H
#define EASEL_RENDER_REQUEST_H

#include <stddef.h>
#include "proto.h"

#define API_ERROR_PARAM_MAX 160

/* An HTTP API error as CONTRACT section 2 shows it. */
typedef struct {
    int  status;                           /* 400, 401, 422, 503, ... */
    char type[32];                         /* "invalid_request_error", "api_error", ... */
    char code[PROTO_SHORT_MAX];            /* "parameter_invalid" */
    char message[PROTO_ERR_MAX];
    char param[API_ERROR_PARAM_MAX];       /* "" when the error names no field */
    int  retry_after_s;                    /* 429: the Retry-After to send; 0 means 1 */
} api_error_t;

/* Fills e (type derived from status: 401 authentication_error, 429
   rate_limit_error, >= 500 api_error, else invalid_request_error) and
   returns -1, so a caller can `return api_error_set (...)`. param may be NULL. */
int api_error_set (api_error_t *e, int status, const char *code, const char *param,
                   const char *fmt, ...) __attribute__((format (printf, 5, 6)));

/* 0 when body[0..len) nests at most EASEL_MAX_JSON_DEPTH arrays/objects
   deep and holds at most EASEL_MAX_JSON_VALUES values; otherwise fills e
   with 400 json_too_deep or json_too_many_values naming the limit and
   returns -1. Every path that hands client bytes to jansson calls it first
   (json_depth.h says why). */
int api_json_depth_check (const char *body, size_t len, api_error_t *e);

/* Parses and validates `body` (len bytes, not necessarily NUL-terminated).
   On success returns 0 and fills `out`: sync (no "async": true), webhook_url,
   metadata_json (compact, sorted keys, "{}" when absent), ntasks and tasks
   with their encoded specs; out->rid and out->auth are left empty for the
   caller. On failure returns -1, fills err (400 invalid_json with line and
   column, 422 parameter_missing / parameter_invalid / parameter_unknown /
   use_async) and leaves `out` zeroed. */
int render_request_parse (const char *body, size_t len, proto_create_render_t *out,
                          api_error_t *err);

/* Resolves an uploaded file id (slides[].screenshot.file_id) of the caller
   to its hex sha256: 0, or -1 with e filled (422 file_not_found naming
   param for an unknown, expired or other account's id; 503 ...). */
typedef int (render_file_resolve_fn) (void *arg, const char *file_id, const char *param,
                                      char sha256 [65], api_error_t *e);

/* render_request_parse, with file_id taken through resolve (called once per
   distinct id). Without a resolver (render_request_parse) a file_id is 422. */
int render_request_parse_files (const char *body, size_t len, render_file_resolve_fn *resolve,
                                void *arg, proto_create_render_t *out, api_error_t *err);

/* True if `url` is an absolute http(s) URL with a host, at most
   EASEL_MAX_URL_BYTES long (parsed by libcurl's URL API). */
bool render_request_url_ok (const char *url);

#endif
