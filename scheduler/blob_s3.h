/*  blob_s3.h: the blob store's S3 backend (blob_store.h). Blob <sha256> is
    object <prefix>ab/<sha256> of the bucket EASEL_BLOB_URL names
    (s3_client.h says the URL's form), written with PUT (payload sha256 and
    Content-MD5 sent, so the store checks the bytes; a HEAD first skips an
    object already there), read with GET (at most max bytes, its sha256
    checked against its name), removed with DELETE, and collected by a
    ListObjectsV2 walk of one shard prefix, page by page.
    Credentials come from EASEL_S3_ACCESS_KEY / EASEL_S3_SECRET_KEY, else
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; they are never logged.
    Thread: a store belongs to one thread (each request blocks it, bounded
    by the timeouts of s3_client.h). */
#ifndef EASEL_BLOB_S3_H
#define EASEL_BLOB_S3_H

#include "blob_store.h"

#define BLOB_S3_LIST_PAGE_KEYS   1000              /* max-keys of one ListObjectsV2 page */
#define BLOB_S3_LIST_PAGES_MAX   1000              /* pages one shard scan walks at most */
#define BLOB_S3_LIST_BODY_MAX    (4u << 20)        /* bytes of one page's answer */

/* Opens the S3 store of `url` (s3://bucket/prefix?endpoint=...). connect_to
   is NULL or a CURLOPT_CONNECT_TO entry (tests reach a virtual-hosted name
   on 127.0.0.1). A HEAD of the bucket checks it is there and the
   credentials are taken, so a wrong key fails here. NULL with a one-line
   reason in err (256 bytes). */
blob_store_t *blob_s3_new (const char *url, const char *connect_to, char *err);

/* Sets the max-keys of the store's ListObjectsV2 pages (1..1000; tests
   make it small so a scan walks several pages). A store of another
   backend is left alone. */
void blob_s3_set_list_page (blob_store_t *store, int keys);

#endif
