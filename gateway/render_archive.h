/*  render_archive.h: GET /v1/renders/{id}/archive, the render's images in the
    fastlane deliver / supply tree (catalog/fastlane_layout.h) plus
    easel-report.json (lint report and every file's place), as a zip.

    The zip is streamed with chunked transfer encoding while it is written
    (libarchive, stored entries: PNG and JPEG do not compress), one image in
    memory at a time, so an archive of 500 images costs one image of memory.
    Thread: a civetweb worker; borrows clients of the gateway's api_pool_t per image. */
#ifndef EASEL_RENDER_ARCHIVE_H
#define EASEL_RENDER_ARCHIVE_H

#include <civetweb.h>
#include "api_pool.h"
#include "render_request.h"

/* Does path name the archive of a render? Copies the id (PROTO_ID_MAX). */
int archive_match (const char *path, char *id);

/* Streams the archive of `render` (a final render: the caller answers 409
   for one still processing). `auth` is the key's hex sha256, or "" when a
   review link speaks: then each image is fetched with its signed URL. Returns the
   status written (200), or -1 with `e` set when nothing was written yet. A
   failure after the headers ends the connection without the last chunk, so
   the client sees a truncated transfer, never a short zip taken for whole. */
int archive_stream (struct mg_connection *conn, api_pool_t *client, const char *auth,
                    const proto_render_t *render, const char *public_url,
                    const char *request_id, api_error_t *e);

#endif
