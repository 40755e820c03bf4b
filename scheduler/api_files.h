/*  api_files.h: files on the api socket. FILE_PUT stores an upload once
    per account and bytes (201 new, 200 known; 403 over the storage quota,
    507 on a full disk); FILE_FIND finds the account's live file by id or
    sha256 (404 otherwise); GET_FILE serves a rendered image or an upload
    to its owner's key or to a signed URL (401 / 404 otherwise).
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_FILES_H
#define EASEL_API_FILES_H

#include "api.h"

void api_files_put (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_files_find (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_files_get (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
