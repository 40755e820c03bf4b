/*  files.c: uploads and served files: POST /v1/files (raw bytes or one
    multipart part), GET /v1/files?sha256=, GET /v1/files/{id} (by key or by
    signed URL), and the resolver render_request uses for file_id.
    Thread: the calling civetweb worker. */
#include "blob_put.h"
#include "presigned.h"
#include "call.h"
#include "routes.h"

static int
s_reply_file (call_t *c, const proto_file_t *f)
{
    if (f->location) {
        /* the bytes are in the object store: a short-lived presigned GET */
        char where [EASEL_FILE_LOCATION_MAX + 64];
        snprintf (where, sizeof where, "Location: %s\r\nCache-Control: private, no-store\r\n"
                  "Content-Length: 0\r\n", f->location);
        return call_reply (c, 302, NULL, where, NULL, 0);
    }
    char etag [80];
    snprintf (etag, sizeof etag, "\"%s\"", f->sha256);
    char extra [EXTRA_MAX];
    snprintf (extra, sizeof extra, "ETag: %s\r\nCache-Control: public, max-age=31536000, immutable\r\n", etag);
    const char *inm = mg_get_header (c->conn, "If-None-Match");
    if (inm && (strstr (inm, etag) || strcmp (inm, "*") == 0))
        return call_reply (c, 304, NULL, extra, NULL, 0);
    return call_reply (c, 200, f->content_type [0] ? f->content_type : "application/octet-stream",
                    extra, (const char *) f->data, f->len);
}

int
route_show_file (call_t *c)
{
    const char *path_id = c->id;
    api_error_t e;
    proto_get_t g;
    memset (&g, 0, sizeof g);
    /* "/v1/files/cap_....png": the extension is decoration */
    snprintf (g.id, sizeof g.id, "%.*s", (int) strcspn (path_id, "."), path_id);
    if (!proto_id_valid (g.id, "img_") && !proto_id_valid (g.id, "cap_")
    &&  !proto_id_valid (g.id, "file_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such file: '%.40s'.", path_id);
        return call_reply_error (c, &e, NULL);
    }
    const char *qs = mg_get_request_info (c->conn)->query_string;
    char exp [24] = "", sig [80] = "";
    if (qs) {
        mg_get_var (qs, strlen (qs), "exp", exp, sizeof exp);
        mg_get_var (qs, strlen (qs), "sig", sig, sizeof sig);
    }
    bool signed_url = exp [0] || sig [0];
    if (signed_url && (util_parse_i64 (exp, 0, INT64_MAX, &g.exp) || strlen (sig) != 64
                       || strspn (sig, "0123456789abcdef") != 64)) {
        api_error_set (&e, 401, "invalid_signature", NULL, "The signed file URL is malformed.");
        call_auth_failed (c, util_mono_ms (), &e);
        return call_reply_error (c, &e, NULL);
    }
    memcpy (g.sig, sig, 65);     /* 64 hex digits + NUL, checked above */
    bool by_key = mg_get_header (c->conn, "Authorization") || !signed_url;
    if (by_key ? call_auth (c, &e) : call_auth_budget (c, util_mono_ms (), &e))
        return call_reply_error (c, &e, NULL);
    memcpy (g.auth, c->auth, sizeof g.auth);
    g.redirect_ok = true;
    proto_id_new ("rid_", g.rid, sizeof g.rid);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_get_encode (&g, &sb) ? call_internal (c, &e, "GET_FILE encoding failed")
           : call_bus (c, PROTO_GET_FILE, &sb, g.rid, PROTO_FILE, &reply, &e);
    msgpack_sbuffer_destroy (&sb);
    if (rc && !by_key && e.status == 401)       /* a forged or expired signature */
        call_auth_failed (c, util_mono_ms (), &e);
    if (rc)
        return call_reply_error (c, &e, NULL);
    proto_file_t f;
    char err [PROTO_ERR_MAX];
    rc = proto_file_decode ((const char *) zframe_data (reply), zframe_size (reply), &f, err);
    zframe_destroy (&reply);
    if (rc) {
        call_internal (c, &e, err);
        return call_reply_error (c, &e, NULL);
    }
    rc = s_reply_file (c, &f);
    proto_file_free (&f);
    return rc;
}

/* ---- uploaded files (POST /v1/files, GET /v1/files?sha256=) ---------------- */

#define FORM_SLACK_BYTES 65536     /* multipart boundaries and part headers */

typedef struct {
    uint8_t *data;
    size_t   len, cap;
    int      parts;                /* "file" parts seen */
    bool     over, other;          /* over the byte cap; a part not named file */
    char     other_name [64];
} s_form_t;

static int
s_form_found (const char *key, const char *filename, char *path, size_t pathlen, void *arg)
{
    (void) filename, (void) path, (void) pathlen;
    s_form_t *f = arg;
    if (strcmp (key, "file") != 0) {
        f->other = true;
        snprintf (f->other_name, sizeof f->other_name, "%s", key);
        return MG_FORM_FIELD_STORAGE_ABORT;
    }
    if (++f->parts > 1)
        return MG_FORM_FIELD_STORAGE_ABORT;
    return MG_FORM_FIELD_STORAGE_GET;
}

static int
s_form_get (const char *key, const char *value, size_t len, void *arg)
{
    (void) key;
    s_form_t *f = arg;
    if (f->len + len > (size_t) EASEL_MAX_SOURCE_BYTES) {
        f->over = true;
        return MG_FORM_FIELD_HANDLE_ABORT;
    }
    if (f->len + len > f->cap) {
        size_t cap = f->cap ? f->cap : BODY_CHUNK;
        while (cap < f->len + len)
            cap *= 2;
        uint8_t *grown = realloc (f->data, cap);
        if (!grown) {
            f->over = true;
            return MG_FORM_FIELD_HANDLE_ABORT;
        }
        f->data = grown;
        f->cap = cap;
    }
    memcpy (f->data + f->len, value, len);
    f->len += len;
    return MG_FORM_FIELD_HANDLE_GET;
}

/* The file of a multipart body (civetweb parses it) into *out / *len. */
static int
s_read_form (call_t *c, uint8_t **out, size_t *len, api_error_t *e)
{
    s_form_t f;
    memset (&f, 0, sizeof f);
    struct mg_form_data_handler h = { s_form_found, s_form_get, NULL, &f };
    mg_handle_form_request (c->conn, &h);
    c->body_read = !f.over && !f.other && f.parts <= 1;
    int rc = f.over ? api_error_set (e, 413, "file_too_large", "file",
                                     "The file is over the %d byte limit.", EASEL_MAX_SOURCE_BYTES)
           : f.other ? api_error_set (e, 422, "parameter_unknown", "file",
                                      "The form takes one part named file, not '%.60s'.", f.other_name)
           : f.parts != 1 ? api_error_set (e, 422, f.parts ? "parameter_invalid" : "parameter_missing",
                                           "file", "The form takes exactly one part named file.")
           : 0;
    if (rc)
        free (f.data);
    else {
        *out = f.data;
        *len = f.len;
    }
    return rc;
}

/* Sends a FILE_PUT / FILE_FIND and answers the scheduler's JSON. */
static int
s_reply_file_json (call_t *c, int cmd, const msgpack_sbuffer *sb, const char *rid)
{
    api_error_t e;
    zframe_t *reply = NULL;
    if (call_bus (c, cmd, sb, rid, PROTO_JSON, &reply, &e))
        return call_reply_error (c, &e, NULL);
    proto_json_t js;
    char err [PROTO_ERR_MAX];
    int rc = proto_json_decode ((const char *) zframe_data (reply), zframe_size (reply), &js, err);
    zframe_destroy (&reply);
    if (rc) {
        call_internal (c, &e, err);
        return call_reply_error (c, &e, NULL);
    }
    rc = call_reply (c, js.status, "application/json", NULL, js.json, strlen (js.json));
    proto_json_free (&js);
    return rc;
}

int
files_store_direct (call_t *c, const uint8_t *data, size_t len, bool for_render, files_stored_t *out,
                    api_error_t *e)
{
    memset (out, 0, sizeof *out);
    proto_upload_begin_t begin;
    memset (&begin, 0, sizeof begin);
    util_sha256_hex (data, len, out->sha256);
    memcpy (begin.sha256, out->sha256, sizeof begin.sha256);
    begin.bytes = (int64_t) len;
    begin.for_render = for_render;
    memcpy (begin.auth, c->auth, sizeof begin.auth);
    proto_id_new ("rid_", begin.rid, sizeof begin.rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_upload_begin_encode (&begin, &sb) ? call_internal (c, e, "UPLOAD_BEGIN encoding failed")
           : call_bus (c, PROTO_UPLOAD_BEGIN, &sb, begin.rid, PROTO_JSON, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    if (rc)
        return -1;
    proto_json_t js;
    char err [PROTO_ERR_MAX];
    rc = proto_json_decode ((const char *) zframe_data (reply), zframe_size (reply), &js, err);
    zframe_destroy (&reply);
    if (rc)
        return call_internal (c, e, err);
    if (js.status == 200 && !for_render) {         /* the account has these bytes already */
        out->file_json = js.json;
        js.json = NULL;
        proto_json_free (&js);
        return 2;
    }
    json_t *where = js.status == 202 ? json_loads (js.json, 0, NULL) : NULL;
    int status = js.status;
    proto_json_free (&js);
    if (status != 202) {
        json_decref (where);
        return status == 204 ? 0 : call_internal (c, e, "UPLOAD_BEGIN answered an unknown status");
    }
    const char *name = json_string_value (json_object_get (where, "name"));
    const char *url = json_string_value (json_object_get (where, "url"));
    const char *del = json_string_value (json_object_get (where, "delete_url"));
    if (!name || !url || !del || strlen (name) >= sizeof out->name || !(out->delete_url = strdup (del))) {
        json_decref (where);
        return call_internal (c, e, "UPLOAD_BEGIN answered without name and URLs");
    }
    snprintf (out->name, sizeof out->name, "%s", name);
    char b64 [25];
    rc = presigned_md5 (data, len, out->md5, b64) ? -1 : blob_put_upload (url, data, len, out->md5, b64, err);
    json_decref (where);
    if (rc == 0)
        return 1;
    blob_put_delete (out->delete_url);
    free (out->delete_url);
    out->delete_url = NULL;
    log_warn ("an upload to the object store failed", "request_id", c->request_id, "reason", err, NULL);
    if (rc > 0)
        return api_error_set (e, 502, "upload_corrupted", for_render ? "slides" : "file",
                              "The object store did not keep the %s bytes as sent; nothing was stored. "
                              "Send it again.", for_render ? "inline image's" : "file's");
    return api_error_set (e, 503, "store_unavailable", NULL, "The object store is unavailable; nothing was stored.");
}

/* Stores the checked bytes of put where the scheduler says (files_store_direct)
   and sends the FILE_PUT: naming the object, or carrying the bytes. Every
   refusal is answered here. */
static int
s_upload (call_t *c, proto_file_put_t *put)
{
    api_error_t e;
    files_stored_t st;
    int rc = files_store_direct (c, put->data, put->len, false, &st, &e);
    if (rc < 0)
        return call_reply_error (c, &e, NULL);
    if (rc == 2) {
        rc = call_reply (c, 200, "application/json", NULL, st.file_json, strlen (st.file_json));
        free (st.file_json);
        return rc;
    }
    if (rc == 1) {
        snprintf (put->name, sizeof put->name, "%s", st.name);
        memcpy (put->sha256, st.sha256, sizeof put->sha256);
        memcpy (put->md5, st.md5, sizeof put->md5);
        put->bytes = (int64_t) put->len;
        put->data = NULL;              /* the caller still owns the bytes */
        put->len = 0;
    }
    proto_id_new ("rid_", put->rid, sizeof put->rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    rc = proto_file_put_encode (put, &sb)
       ? (call_internal (c, &e, "FILE_PUT encoding failed"), call_reply_error (c, &e, NULL))
       : s_reply_file_json (c, PROTO_FILE_PUT, &sb, put->rid);
    msgpack_sbuffer_destroy (&sb);
    /* refused after the PUT: the scheduler removed the object, or its sweep will */
    free (st.delete_url);
    return rc;
}

/* POST /v1/files: raw image bytes or multipart/form-data with one file part.
   Content addressed, so an Idempotency-Key adds nothing and is not stored. */
int
route_create_file (call_t *c)
{
    api_error_t e;
    const char *ctype = mg_get_header (c->conn, "Content-Type");
    int kind = 0;
    long long cl = mg_get_request_info (c->conn)->content_length;
    if (call_auth (c, &e) || (kind = file_upload_kind (ctype, &e)) < 0)
        return call_reply_error (c, &e, NULL);
    if (cl > (long long) EASEL_MAX_SOURCE_BYTES + (kind ? FORM_SLACK_BYTES : 0)) {
        api_error_set (&e, 413, "file_too_large", "file", "The file is over the %d byte limit.",
                       EASEL_MAX_SOURCE_BYTES);
        return call_reply_error (c, &e, NULL);
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    char *raw = NULL;
    if (kind ? s_read_form (c, &bytes, &len, &e) : call_read_body (c, &raw, &len, &e))
        return call_reply_error (c, &e, NULL);
    if (!kind)
        bytes = (uint8_t *) raw;
    proto_file_put_t put;
    memset (&put, 0, sizeof put);
    int rc;
    if (file_upload_check (bytes, len, kind ? NULL : ctype, &put, &e))
        rc = call_reply_error (c, &e, NULL);
    else {
        memcpy (put.auth, c->auth, sizeof put.auth);
        rc = s_upload (c, &put);
    }
    free (bytes);
    return rc;
}

/* GET /v1/files?sha256=<64 hex>: the account's file of those bytes, or 404. */
int
route_find_file (call_t *c)
{
    api_error_t e;
    if (call_auth (c, &e))
        return call_reply_error (c, &e, NULL);
    const char *qs = mg_get_request_info (c->conn)->query_string;
    proto_file_find_t f;
    memset (&f, 0, sizeof f);
    char sha [80] = "";
    if (!qs || mg_get_var (qs, strlen (qs), "sha256", sha, sizeof sha) < 0)
        api_error_set (&e, 422, "parameter_missing", "sha256",
                       "Give sha256=<64 hex digits> to look a file up by its bytes.");
    else
    if (strlen (sha) != 64 || strspn (sha, "0123456789abcdefABCDEF") != 64)
        api_error_set (&e, 422, "parameter_invalid", "sha256", "sha256 is 64 hex digits.");
    else {
        for (int i = 0; i < 64; i++)
            f.sha256 [i] = (char) (sha [i] >= 'A' && sha [i] <= 'F' ? sha [i] - 'A' + 'a' : sha [i]);
        proto_id_new ("rid_", f.rid, sizeof f.rid);
        memcpy (f.auth, c->auth, sizeof f.auth);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        int rc = proto_file_find_encode (&f, &sb)
               ? (call_internal (c, &e, "FILE_FIND encoding failed"), call_reply_error (c, &e, NULL))
               : s_reply_file_json (c, PROTO_FILE_FIND, &sb, f.rid);
        msgpack_sbuffer_destroy (&sb);
        return rc;
    }
    return call_reply_error (c, &e, NULL);
}

/* render_request's resolver: the sha256 of the caller's live file id, or a
   422 file_not_found naming param (another account's file answers the same). */
int
files_resolve_file (void *arg, const char *id, const char *param, char sha256 [65], api_error_t *e)
{
    call_t *c = arg;
    proto_file_find_t f;
    memset (&f, 0, sizeof f);
    if (!proto_id_valid (id, "file_"))
        return api_error_set (e, 422, "file_not_found", param, "No such file: '%.40s'.", id);
    snprintf (f.id, sizeof f.id, "%s", id);
    proto_id_new ("rid_", f.rid, sizeof f.rid);
    memcpy (f.auth, c->auth, sizeof f.auth);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    zframe_t *reply = NULL;
    int rc = proto_file_find_encode (&f, &sb) ? call_internal (c, e, "FILE_FIND encoding failed")
           : call_bus (c, PROTO_FILE_FIND, &sb, f.rid, PROTO_JSON, &reply, e);
    msgpack_sbuffer_destroy (&sb);
    if (rc && e->status == 404)
        return api_error_set (e, 422, "file_not_found", param,
                              "No such file: '%.40s' (or it expired); upload it again.", id);
    if (rc)
        return -1;
    proto_json_t js;
    char err [PROTO_ERR_MAX];
    rc = proto_json_decode ((const char *) zframe_data (reply), zframe_size (reply), &js, err);
    zframe_destroy (&reply);
    if (rc)
        return call_internal (c, e, err);
    json_t *obj = json_loads (js.json, 0, NULL);
    const char *hex = json_string_value (json_object_get (obj, "sha256"));
    rc = hex && strlen (hex) == 64 ? (memcpy (sha256, hex, 65), 0)
                                   : call_internal (c, e, "file object without sha256");
    json_decref (obj);
    proto_json_free (&js);
    return rc;
}

