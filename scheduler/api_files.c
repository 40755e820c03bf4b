/*  api_files.c: uploads and file reads on the api socket (see api_files.h).
    Thread: the scheduler's loop, in the pass's transaction. */
#include "api_files.h"
#include "file_admin.h"
#include "log.h"
#include "sched_metrics.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FILE_MAX_BYTES (EASEL_MAX_MSG_BYTES - 64 * 1024)   /* leaves room for the envelope */

/* 403 storage_quota_exceeded when `adding` bytes would take the account
   over its quota (0 to go on; -1 answered, -2 the store failed: answered). */
static int
s_quota_refused (scheduler_t *self, zframe_t *identity, const char *rid, const char *account,
                 int64_t adding)
{
    int64_t used = 0;
    char err [PROTO_ERR_MAX] = "";
    if (job_store_storage_used (self->store, account, &used, err)) {
        api_unavailable (self, identity, rid, "storage_used", err);
        return -2;
    }
    if (used + adding <= self->cfg.quota_bytes)
        return 0;
    char msg [320];
    snprintf (msg, sizeof msg, "This account stores %" PRId64 " bytes of images; this file"
              " would add %" PRId64 " and the storage quota is %" PRId64 " bytes. Old renders and"
              " files are deleted after their retention time, or ask the operator for a"
              " larger quota.", used, adding, self->cfg.quota_bytes);
    api_error (self, identity, rid, 403, "storage_quota_exceeded", msg, "file");
    return -1;
}

/* Queues the file object JSON of f with status. */
static void
s_reply_upload (scheduler_t *self, zframe_t *identity, const char *rid, const job_store_upload_t *f,
                int status)
{
    proto_json_t rep;
    memset (&rep, 0, sizeof rep);
    snprintf (rep.rid, sizeof rep.rid, "%s", rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (file_admin_json (f, status, &rep) == 0)
        api_reply (self, identity, rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
    else
        msgpack_sbuffer_destroy (&sb);
    proto_json_free (&rep);
}

/* UPLOAD_BEGIN: 200 the account's file of these bytes; 202 {name, url,
   delete_url} when the gateway is to PUT them to the store itself; 204 when
   they go in the FILE_PUT. 401, 403 (quota) as FILE_PUT would answer. */
void
api_files_begin (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_upload_begin_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_upload_begin_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account) != 0)
        return;
    job_store_upload_t f;
    /* an inline image of a create has no file row: the create checks its quota */
    int rc = req.for_render ? 1
           : job_store_upload_find (self->store, account, NULL, req.sha256, self->pass.now_ms, &f, err);
    if (rc < 0) {
        api_unavailable (self, identity, req.rid, "upload_find", err);
        return;
    }
    if (rc == 0) {
        s_reply_upload (self, identity, req.rid, &f, 200);
        return;
    }
    if (!req.for_render && s_quota_refused (self, identity, req.rid, account, req.bytes))
        return;
    if (!api_direct_uploads (self)) {
        api_reply_json (self, identity, req.rid, 204, json_object ());
        return;
    }
    char name [PROTO_ID_MAX];
    char *put = malloc (EASEL_MAX_PRESIGNED_URL_BYTES), *del = malloc (EASEL_MAX_PRESIGNED_URL_BYTES);
    proto_id_new ("upl_", name, sizeof name);
    if (!put || !del
    ||  blob_store_incoming_url (self->blobs, name, EASEL_UPLOAD_URL_S, put, EASEL_MAX_PRESIGNED_URL_BYTES, err)
    ||  blob_store_incoming_delete_url (self->blobs, name, EASEL_UPLOAD_URL_S, del,
                                        EASEL_MAX_PRESIGNED_URL_BYTES, err)) {
        log_error ("cannot presign an upload", "reason", put && del ? err : "out of memory", NULL);
        api_error (self, identity, req.rid, 503, "store_unavailable", "The blob store is unavailable.", NULL);
    }
    else
        api_reply_json (self, identity, req.rid, 202,
                        json_pack ("{s:s, s:s, s:s}", "name", name, "url", put, "delete_url", del));
    free (put);
    free (del);
}

/* The row of an upload whose bytes are stored (or, !stored, are in req's
   data and stored here first): 200 when the account had it, 201 new, 403
   over the quota, 507 / 503 when the bytes cannot be written. */
static void
s_file_commit (scheduler_t *self, zframe_t *identity, const proto_file_put_t *req, bool stored)
{
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    job_store_upload_t f;
    memset (&f, 0, sizeof f);
    int64_t bytes = stored ? req->bytes : (int64_t) req->len;
    if (stored)
        snprintf (f.sha256, sizeof f.sha256, "%s", req->sha256);
    else
        util_sha256_hex (req->data, req->len, f.sha256);
    if (api_auth (self, identity, req->rid, req->auth, account) != 0)
        return;
    int rc = job_store_upload_find (self->store, account, NULL, f.sha256, self->pass.now_ms, &f, err);
    if (rc == 0) {
        s_reply_upload (self, identity, req->rid, &f, 200);
        return;
    }
    if (rc < 0) {
        api_unavailable (self, identity, req->rid, "file_put", err);
        return;
    }
    if (s_quota_refused (self, identity, req->rid, account, bytes))
        return;
    char sha [65];
    if (!stored && blob_store_put (self->blobs, req->data, req->len, sha, err) != 0) {
        bool full = errno == ENOSPC || errno == EDQUOT;
        log_error ("cannot store an upload", "reason", err, NULL);
        if (full)
            self->pass.full_until_ms = self->pass.mono_ms + SCHEDULER_FULL_BACKOFF_MS;
        api_error (self, identity, req->rid, full ? 507 : 503,
                   full ? "insufficient_storage" : "store_unavailable",
                   full ? "The scheduler's disk is full; the file was not stored."
                        : "The blob store is unavailable.", full ? "file" : NULL);
        return;
    }
    snprintf (f.account_id, sizeof f.account_id, "%s", account);
    f.bytes = bytes;
    f.width = req->width;
    f.height = req->height;
    snprintf (f.format, sizeof f.format, "%s", req->format);
    f.created_at_ms = self->pass.now_ms;
    f.expires_at_ms = self->pass.now_ms + self->cfg.retention_s * 1000;
    if (job_store_upload_put (self->store, &f, file_admin_content_type (f.format), err)) {
        api_unavailable (self, identity, req->rid, "file_put", err);
        return;
    }
    log_info ("file stored", "file", f.id, "account", account, NULL);
    sched_metrics_upload_bytes (stored, bytes);
    s_reply_upload (self, identity, req->rid, &f, 201);
}

/* FILE_PUT: the account's file of these bytes, stored once (200 when it
   already had them, 201 new). Counts against the storage quota (403). One
   naming an incoming object goes to the blob worker first. */
void
api_files_put (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_file_put_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_file_put_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (!req.name [0])
        s_file_commit (self, identity, &req, false);
    else
    if (!api_direct_uploads (self))
        api_bad_message (self, identity, data, len, "this scheduler takes uploads in the message");
    else
    if (api_auth (self, identity, req.rid, req.auth, account) != 0)
        api_drop_incoming (self, req.name);
    else
    if (blob_worker_submit (self->adopter, BLOB_JOB_UPLOAD, identity, data, len) == 0)
        scheduler_adopting (self, req.sha256, true);
    else {
        api_error (self, identity, req.rid, 503, "store_unavailable",
                   "The blob store is busy; try again.", NULL);
        api_drop_incoming (self, req.name);
    }
    proto_file_put_free (&req);
}

void
api_files_read (scheduler_t *self, zframe_t *identity, const char *data, size_t len, const char *why)
{
    proto_file_t f;
    memset (&f, 0, sizeof f);
    char err [PROTO_ERR_MAX] = "";
    /* the reply as the worker made it: its rid names the request */
    if (proto_file_decode (data, len, &f, err)) {
        log_error ("a file read came back undecodable", "reason", err, NULL);
        return;
    }
    if (why [0]) {
        log_error ("blob unreadable", "image", f.id, "reason", why, NULL);
        api_error (self, identity, f.rid, 500, "internal_error", "The file could not be read.", NULL);
    }
    else {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        msgpack_sbuffer_write (&sb, data, len);
        api_reply (self, identity, f.rid, PROTO_FILE, 0, &sb);
    }
    proto_file_free (&f);
}

void
api_files_put_adopted (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                       const char *why, bool bad)
{
    proto_file_put_t req;
    char err [PROTO_ERR_MAX] = "";
    if (proto_file_put_decode (data, len, &req, err)) {
        log_error ("an adopted upload does not decode", "reason", err, NULL);
        return;
    }
    scheduler_adopting (self, req.sha256, false);
    if (why [0]) {
        log_error ("cannot adopt an upload", "name", req.name, "reason", why, NULL);
        if (bad)
            api_error (self, identity, req.rid, 502, "upload_corrupted",
                       "The object store did not keep the file's bytes as sent; nothing was stored. "
                       "Send the file again.", "file");
        else {
            api_error (self, identity, req.rid, 503, "store_unavailable", "The blob store is unavailable.", NULL);
            api_drop_incoming (self, req.name);
        }
    }
    else
    if (self->pass.failed)
        api_error (self, identity, req.rid, 503, "store_unavailable", "The job store is unavailable.", NULL);
    else
        s_file_commit (self, identity, &req, true);
    proto_file_put_free (&req);
}

/* FILE_FIND: the account's live file by id or sha256; another account's,
   an expired one or none: 404. */
void
api_files_find (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_file_find_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_file_find_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account) != 0)
        return;
    job_store_upload_t f;
    int rc = job_store_upload_find (self->store, account, req.id [0] ? req.id : NULL,
                                    req.sha256 [0] ? req.sha256 : NULL, self->pass.now_ms, &f, err);
    if (rc < 0) {
        api_unavailable (self, identity, req.rid, "file_find", err);
        return;
    }
    if (rc == 1) {
        api_error (self, identity, req.rid, 404, "resource_missing",
                   req.id [0] ? "No such file." : "This account has no file with these bytes.",
                   req.id [0] ? "id" : "sha256");
        return;
    }
    proto_json_t rep;
    memset (&rep, 0, sizeof rep);
    snprintf (rep.rid, sizeof rep.rid, "%s", req.rid);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (file_admin_json (&f, 200, &rep) == 0)
        api_reply (self, identity, req.rid, PROTO_JSON, proto_json_encode (&rep, &sb), &sb);
    else
        msgpack_sbuffer_destroy (&sb);
    proto_json_free (&rep);
}

/* An uploaded file as GET_FILE serves it (live rows only; no signed URLs
   name them, so only the owner's key reads it). 0; -1 err "not found". */
static int
s_upload_file (scheduler_t *self, const char *id, job_store_file_t *out, char *err)
{
    job_store_upload_t f;
    int rc = job_store_upload_find (self->store, NULL, id, NULL, self->pass.now_ms, &f, err);
    if (rc)
        return rc == 1 ? (snprintf (err, PROTO_ERR_MAX, "not found"), -1) : -1;
    memset (out, 0, sizeof *out);
    snprintf (out->account_id, sizeof out->account_id, "%s", f.account_id);
    snprintf (out->sha256, sizeof out->sha256, "%s", f.sha256);
    out->bytes = f.bytes;
    snprintf (out->content_type, sizeof out->content_type, "%s", file_admin_content_type (f.format));
    return 0;
}

/* With the bytes in an S3 store and a client that follows redirects, the
   reply names a presigned GET of the object instead of carrying the bytes:
   they never cross the scheduler. It lives blob_redirect_s, and no longer
   than the signed Easel URL it answers. True when the reply was sent; on
   false (file store, proxy mode, a URL that could not be made) the caller
   streams the bytes. */
static bool
s_file_redirect (scheduler_t *self, const proto_get_t *req, proto_file_t *f, zframe_t *identity)
{
    if (!req->redirect_ok || self->cfg.blob_redirect_s <= 0
    ||  strcmp (blob_store_backend (self->blobs), "s3") != 0)
        return false;
    int64_t ttl = self->cfg.blob_redirect_s;
    int64_t left = req->exp - self->pass.now_ms / 1000;
    if (req->exp && left < ttl)
        ttl = left;
    if (ttl < 1)
        return false;
    char url [EASEL_FILE_LOCATION_MAX + 1], err [256];
    if (blob_store_presign_public (self->blobs, f->sha256, f->content_type [0] ? f->content_type : NULL,
                                   ttl, url, sizeof url, err)) {
        log_warn ("cannot presign a file, streaming it", "image", req->id, "reason", err, NULL);
        return false;
    }
    f->location = url;
    f->data = (uint8_t *) "";
    f->len = 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    api_reply (self, identity, req->rid, PROTO_FILE, proto_file_encode (f, &sb), &sb);
    return true;
}

void
api_files_get (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_get_t req;
    memset (&req, 0, sizeof req);
    char err [PROTO_ERR_MAX] = "";
    if (proto_get_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    job_store_file_t file;
    if (strncmp (req.id, "file_", 5) == 0 ? s_upload_file (self, req.id, &file, err)
                                          : job_store_file_get (self->store, req.id, &file, err)) {
        if (strcmp (err, "not found") != 0)
            scheduler_store_failed (self, "file_get", err);
        api_error (self, identity, req.rid, 404, "resource_missing",
                   "No such file.", "id");
        return;
    }
    char account [PROTO_ID_MAX] = "";
    bool has_key = req.auth [0] && job_store_auth (self->store, req.auth, account) == 0;
    bool owner = has_key && strcmp (account, file.account_id) == 0;
    if (!owner) {
        bool has_sig = req.sig [0] || req.exp;
        if (has_sig && !job_store_url_check (self->store, req.id, req.exp, req.sig, self->pass.now_ms / 1000)) {
            api_error (self, identity, req.rid, 401, "invalid_signature",
                       "The file URL signature is invalid or expired.", "sig");
            return;
        }
        if (!has_sig && has_key) {
            api_error (self, identity, req.rid, 404, "resource_missing",
                       "No such file.", "id");
            return;
        }
        if (!has_sig) {
            api_error (self, identity, req.rid, 401,
                       req.auth [0] ? "invalid_api_key" : "invalid_signature",
                       "A valid API key or signed URL is required.", NULL);
            return;
        }
    }
    proto_file_t f;
    memset (&f, 0, sizeof f);
    snprintf (f.rid, sizeof f.rid, "%s", req.rid);
    snprintf (f.id, sizeof f.id, "%s", req.id);
    snprintf (f.content_type, sizeof f.content_type, "%s", file.content_type);
    snprintf (f.sha256, sizeof f.sha256, "%s", file.sha256);
    if (s_file_redirect (self, &req, &f, identity))
        return;
    /* an object store's read goes to the blob worker: the pass goes on */
    if (self->adopter) {
        f.data = (uint8_t *) "";
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        int rc = proto_file_encode (&f, &sb) ? -1
               : blob_worker_submit (self->adopter, BLOB_JOB_READ, identity, sb.data, sb.size);
        msgpack_sbuffer_destroy (&sb);
        if (rc)
            api_error (self, identity, req.rid, 503, "store_unavailable", "The blob store is busy; try again.", NULL);
        return;
    }
    f.data = blob_store_get (self->blobs, file.sha256, S_FILE_MAX_BYTES, &f.len, err);
    if (!f.data) {
        log_error ("blob unreadable", "image", req.id, "reason", err, NULL);
        api_error (self, identity, req.rid, 500, "internal_error",
                   "The file could not be read.", NULL);
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    api_reply (self, identity, req.rid, PROTO_FILE, proto_file_encode (&f, &sb), &sb);
    proto_file_free (&f);
}
