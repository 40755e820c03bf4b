/*  render_archive.c: the fastlane zip of a render, streamed (see render_archive.h).
    Thread: the calling civetweb worker. Memory: the plan (one item per
    image), the report text, and one image at a time. */
#include "render_archive.h"
#include "fastlane_layout.h"
#include "render_json.h"
#include "log.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_HEAD_MAX 1024

int
archive_match (const char *path, char *id)
{
    static const char prefix [] = "/v1/renders/", suffix [] = "/archive";
    size_t n = strlen (path), p = sizeof prefix - 1, s = sizeof suffix - 1;
    if (n <= p + s || strncmp (path, prefix, p) != 0 || strcmp (path + n - s, suffix) != 0)
        return 0;
    size_t idlen = n - p - s;
    if (idlen >= PROTO_ID_MAX || memchr (path + p, '/', idlen))
        return 0;
    memcpy (id, path + p, idlen);
    id [idlen] = 0;
    return 1;
}

typedef struct {
    struct mg_connection *conn;
    int cut;                       /* after a failure nothing more is sent */
} s_sink_t;

/* libarchive's writer: every block becomes one HTTP chunk. */
static la_ssize_t
s_write (struct archive *a, void *arg, const void *buf, size_t len)
{
    (void) a;
    s_sink_t *sink = arg;
    if (sink->cut)
        return -1;
    if (len == 0)
        return 0;
    return mg_send_chunk (sink->conn, buf, (unsigned int) len) > 0 ? (la_ssize_t) len : -1;
}

/* GET_FILE of one image over the bus; the caller frees f. 0 / -1. Without
   a key (the archive link of a review page) the image's signed URL speaks. */
static int
s_fetch (api_pool_t *client, const char *auth, const proto_render_t *r, const char *image_id,
         proto_file_t *f)
{
    proto_get_t g;
    memset (&g, 0, sizeof g);
    proto_id_new ("rid_", g.rid, sizeof g.rid);
    snprintf (g.auth, sizeof g.auth, "%s", auth);
    snprintf (g.id, sizeof g.id, "%s", image_id);
    for (int32_t i = 0; !auth [0] && i < r->nimages; i++)
        if (strcmp (r->images [i].id, image_id) == 0) {
            g.exp = r->images [i].url_exp;
            memcpy (g.sig, r->images [i].url_sig, sizeof g.sig);
        }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int got = 0;
    int rc = proto_get_encode (&g, &sb) || api_pool_call (client, PROTO_GET_FILE, &sb, g.rid, &got, &reply)
          || got != PROTO_FILE ? -1 : 0;
    msgpack_sbuffer_destroy (&sb);
    char err [PROTO_ERR_MAX];
    if (rc == 0 && proto_file_decode ((const char *) zframe_data (reply), zframe_size (reply), f, err))
        rc = -1;
    zframe_destroy (&reply);
    return rc;
}

static int
s_entry (struct archive *a, const char *path, const void *data, size_t len, time_t mtime)
{
    struct archive_entry *e = archive_entry_new ();
    if (!e)
        return -1;
    archive_entry_set_pathname (e, path);
    archive_entry_set_size (e, (la_int64_t) len);
    archive_entry_set_filetype (e, AE_IFREG);
    archive_entry_set_perm (e, 0644);
    archive_entry_set_mtime (e, mtime, 0);
    int rc = archive_write_header (a, e) == ARCHIVE_OK
          && (len == 0 || archive_write_data (a, data, len) == (la_ssize_t) len) ? 0 : -1;
    archive_entry_free (e);
    return rc;
}

int
archive_stream (struct mg_connection *conn, api_pool_t *client, const char *auth,
                const proto_render_t *r, const char *public_url, const char *request_id,
                api_error_t *e)
{
    if (!client)
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    /* the plan: succeeded images only */
    fastlane_item_t *items = calloc ((size_t) (r->nimages > 0 ? r->nimages : 1), sizeof *items);
    if (!items)
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    int n = 0;
    for (int32_t i = 0; i < r->nimages; i++) {
        const proto_image_t *im = &r->images [i];
        if (strcmp (im->status, "succeeded") != 0 || !im->id [0])
            continue;
        fastlane_item_t *it = &items [n++];
        snprintf (it->id, sizeof it->id, "%s", im->id);
        snprintf (it->locale, sizeof it->locale, "%s", im->locale);
        snprintf (it->preset, sizeof it->preset, "%s", im->preset);
        snprintf (it->format, sizeof it->format, "%s", im->format [0] ? im->format : "png");
        it->slide = im->slide;
        it->width = im->width;
        it->height = im->height;
    }
    json_t *obj = render_json_build (r, public_url);
    json_t *report = NULL;
    char *report_text = NULL;
    if (fastlane_plan (items, n) == 0 && obj)
        report = fastlane_report (r->id, r->status, json_object_get (obj, "lint"), items, n);
    if (report)
        report_text = json_dumps (report, JSON_INDENT (2) | JSON_SORT_KEYS);
    json_decref (report);
    json_decref (obj);
    if (!report_text) {
        free (items);
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    }

    char head [S_HEAD_MAX];
    int hn = snprintf (head, sizeof head,
                       "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\n"
                       "Content-Disposition: attachment; filename=\"%s-fastlane.zip\"\r\n"
                       "Transfer-Encoding: chunked\r\nConnection: close\r\nX-Request-Id: %s\r\n\r\n",
                       r->id, request_id);
    struct archive *a = archive_write_new ();
    if (!a || hn < 0 || (size_t) hn >= sizeof head
    ||  archive_write_set_format_zip (a) != ARCHIVE_OK
    ||  archive_write_set_options (a, "zip:compression=store") != ARCHIVE_OK
    ||  archive_write_set_bytes_per_block (a, 65536) != ARCHIVE_OK) {
        if (a)
            archive_write_free (a);
        free (report_text);
        free (items);
        return api_error_set (e, 500, "internal_error", NULL, "An internal error occurred.");
    }
    mg_write (conn, head, (size_t) hn);
    s_sink_t sink = { .conn = conn };
    int rc = archive_write_open2 (a, &sink, NULL, s_write, NULL, NULL) == ARCHIVE_OK ? 0 : -1;
    time_t mtime = (time_t) ((r->completed_at_ms ? r->completed_at_ms : r->created_at_ms) / 1000);
    for (int i = 0; rc == 0 && i < n; i++) {
        proto_file_t f;
        memset (&f, 0, sizeof f);
        if (s_fetch (client, auth, r, items [i].id, &f)) {
            log_error ("archive: image unavailable; transfer cut", "request_id", request_id,
                       "render", r->id, "image", items [i].id, NULL);
            rc = -1;
        }
        else
            rc = s_entry (a, items [i].path, f.data, f.len, mtime);
        proto_file_free (&f);
    }
    if (rc == 0)
        rc = s_entry (a, FASTLANE_REPORT_NAME, report_text, strlen (report_text), mtime);
    if (rc == 0 && archive_write_close (a) != ARCHIVE_OK)
        rc = -1;
    if (rc == 0)
        mg_send_chunk (conn, "", 0);          /* the last chunk: the zip is whole */
    else {
        /* no central directory, and a chunk header no client accepts: the
           transfer fails instead of ending as a short zip */
        log_error ("archive: stream failed", "request_id", request_id, "render", r->id,
                   "reason", archive_error_string (a) ? archive_error_string (a) : "", NULL);
        sink.cut = 1;
        mg_write (conn, "!\r\n", 3);
    }
    archive_write_free (a);
    free (report_text);
    free (items);
    return 200;
}
