/*  api_files.h: files on the api socket. UPLOAD_BEGIN says where an
    upload's bytes go: nowhere when the account has them (200, the file),
    to a presigned incoming object when the blob worker adopts uploads (202:
    an object store, so the bytes never cross the bus nor the scheduler), or
    in the FILE_PUT itself (204: files, --blob-via-scheduler). FILE_PUT
    stores an upload once per account and bytes (201 new, 200 known; 403
    over the storage quota, 507 on a full disk); one naming an incoming
    object is answered only once the blob worker adopted it
    (api_files_put_adopted: 502 upload_corrupted when the object is not the
    bytes named, which is then removed). FILE_FIND finds the account's live
    file by id or sha256 (404 otherwise); GET_FILE serves a rendered image
    or an upload to its owner's key or to a signed URL (401 / 404 otherwise),
    by a presigned redirect or with its bytes (read by the blob worker when
    there is one: api_files_read).
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_FILES_H
#define EASEL_API_FILES_H

#include "api.h"

void api_files_begin (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_files_put (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
/* The blob worker's answer to a FILE_PUT it adopted (why "" done, else the
   reason; bad: the object was missing or not the bytes named). */
void api_files_put_adopted (scheduler_t *self, zframe_t *identity, const char *data, size_t len,
                            const char *why, bool bad);
void api_files_find (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_files_get (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
/* The blob worker's answer to a GET_FILE it read (data: the FILE reply with
   the bytes; why "" done, else the reason: 500). */
void api_files_read (scheduler_t *self, zframe_t *identity, const char *data, size_t len, const char *why);

#endif
