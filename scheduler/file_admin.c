/*  file_admin.c: the file object JSON (see file_admin.h). */
#include "file_admin.h"
#include "render_json.h"
#include "util.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *
file_admin_content_type (const char *format)
{
    return strcmp (format, "png") == 0 ? "image/png"
         : strcmp (format, "jpeg") == 0 || strcmp (format, "jpg") == 0 ? "image/jpeg"
         : strcmp (format, "webp") == 0 ? "image/webp"
         : strcmp (format, "pdf") == 0 ? "application/pdf" : "application/octet-stream";
}

int
file_admin_json (const job_store_upload_t *f, int status, proto_json_t *reply)
{
    char created [40], expires [40];
    util_iso8601 (f->created_at_ms, created, sizeof created);
    util_iso8601 (f->expires_at_ms, expires, sizeof expires);
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:I, s:i, s:i, s:s, s:s, s:s}",
                             "id", f->id, "object", "file", "sha256", f->sha256,
                             "bytes", (json_int_t) f->bytes, "width", (int) f->width,
                             "height", (int) f->height, "format", f->format,
                             "created_at", created, "expires_at", expires);
    size_t len = 0;
    reply->json = obj ? render_json_dump (obj, &len) : NULL;
    json_decref (obj);
    reply->status = status;
    return reply->json ? 0 : -1;
}
