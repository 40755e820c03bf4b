/*  file_upload.h: checks the bytes of POST /v1/files as inline screenshots
    are checked (type from the bytes, the byte cap, pixels from the header)
    and fills the FILE_PUT message the scheduler stores.

    Pure functions, any thread. The caller owns the bytes it passes; on
    success the message borrows them (data points at them). */
#ifndef EASEL_FILE_UPLOAD_H
#define EASEL_FILE_UPLOAD_H

#include <stddef.h>
#include <stdint.h>
#include "render_request.h"

/* 0 when ctype (the request's Content-Type, may be NULL) names a raw image
   upload: image/png, image/jpeg, image/webp or application/octet-stream;
   1 for multipart/form-data; -1 (e filled, 415) otherwise. */
int file_upload_kind (const char *ctype, api_error_t *e);

/* Checks data[0..len): 413 file_too_large over EASEL_MAX_SOURCE_BYTES, 422
   file_invalid when it is not a PNG, JPEG or WebP with a readable size, 422
   file_type_mismatch when declared (an image/ type, or NULL) says another
   format, 422 image_too_large over EASEL_MAX_SOURCE_PIXELS; every error names
   param "file". On success fills out's format, width, height, data and len
   (rid and auth left alone) and returns 0; else -1. */
int file_upload_check (const uint8_t *data, size_t len, const char *declared,
                       proto_file_put_t *out, api_error_t *e);

#endif
