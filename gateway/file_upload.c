/*  file_upload.c: byte checks of POST /v1/files (see file_upload.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "file_upload.h"
#include "image_probe.h"

/* ctype's media type (before ';' or space) equals name, case-insensitively */
static int
s_is (const char *ctype, const char *name)
{
    size_t n = strlen (name);
    return strncasecmp (ctype, name, n) == 0
        && (ctype [n] == '\0' || ctype [n] == ';' || ctype [n] == ' ' || ctype [n] == '\t');
}

int
file_upload_kind (const char *ctype, api_error_t *e)
{
    if (ctype && (s_is (ctype, "image/png") || s_is (ctype, "image/jpeg")
               || s_is (ctype, "image/webp") || s_is (ctype, "application/octet-stream")))
        return 0;
    if (ctype && s_is (ctype, "multipart/form-data"))
        return 1;
    return api_error_set (e, 415, "unsupported_media_type", NULL,
                          "Send the file as its bytes with Content-Type image/png, image/jpeg, "
                          "image/webp or application/octet-stream, or as multipart/form-data "
                          "with one part named file.");
}

int
file_upload_check (const uint8_t *data, size_t len, const char *declared,
                   proto_file_put_t *out, api_error_t *e)
{
    static const char *const names [] = { "", "png", "jpeg", "webp" };
    if (len > (size_t) EASEL_MAX_SOURCE_BYTES)
        return api_error_set (e, 413, "file_too_large", "file",
                              "The file is %zu bytes; the limit is %d bytes.", len,
                              EASEL_MAX_SOURCE_BYTES);
    image_source_kind_t kind = IMAGE_SOURCE_UNKNOWN;
    uint32_t w = 0, h = 0;
    if (len == 0 || image_source_probe (data, len, &kind, &w, &h) != 0 || w == 0 || h == 0)
        return api_error_set (e, 422, "file_invalid", "file",
                              "The file is not a PNG, JPEG or WebP image.");
    const char *format = names [kind];
    if (declared && strncasecmp (declared, "image/", 6) == 0 && !s_is (declared + 6, format))
        return api_error_set (e, 422, "file_type_mismatch", "file",
                              "The file is a %s image but was sent as %.60s.", format, declared);
    if ((uint64_t) w * h > EASEL_MAX_SOURCE_PIXELS)
        return api_error_set (e, 422, "image_too_large", "file",
                              "The image is %ux%u pixels; the limit is %d pixels in all.",
                              w, h, EASEL_MAX_SOURCE_PIXELS);
    snprintf (out->format, sizeof out->format, "%s", format);
    out->width = (int32_t) w;
    out->height = (int32_t) h;
    out->data = (uint8_t *) data;
    out->len = len;
    return 0;
}
