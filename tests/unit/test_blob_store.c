/*  test_blob_store.c: the blob store's contract (put, get, get over max, a
    missing blob, delete, the orphan scan across list pages) against both
    backends: files under a temp data dir, and the S3 backend against a real
    S3 protocol server (tests/s3/start.js: s3rver behind a SigV4 check) in
    path-style and virtual-hosted addressing (bucket.s3.test reached on
    127.0.0.1 by CURLOPT_CONNECT_TO). Then what only S3 has: a wrong secret
    refused with S3's error code and never echoed, an object whose bytes do
    not match its name refused on get, EASEL_BLOB_URL parsing, 503 answers
    retried with backoff (to success, or bounded), and a dead endpoint
    failing after bounded retries.
    Usage: test_blob_store TESTS_S3_DIR. Exits 77 (skipped) only when node
    is not installed. Single thread. */
#include "check.h"
#include "blob_store.h"
#include "blob_s3.h"
#include "s3_client.h"
#include "s3_presign.h"
#include "blob_worker.h"
#include "proto.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_KEY    "easel-test-key"
#define S_SECRET "easel-test-secret-0123456789"
#define S_BUCKET "easel-blobs"

static int s_port;

/* Bytes whose sha256 starts with shard byte `shard`, varied by `seed`. */
static size_t
s_bytes_in_shard (int shard, int seed, uint8_t out [64], char sha [65])
{
    for (uint32_t n = 0;; n++) {
        size_t len = (size_t) snprintf ((char *) out, 64, "blob %d of shard %02x try %u", seed, shard, n);
        util_sha256_hex (out, len, sha);
        if ((int) strtol ((char [3]) { sha [0], sha [1], 0 }, NULL, 16) == shard)
            return len;
    }
}

static int
s_known_none (const char *sha256, void *arg)
{
    (void) sha256;
    (void) arg;
    return 0;
}

static int
s_known_all (const char *sha256, void *arg)
{
    (void) sha256;
    (void) arg;
    return 1;
}

/* The contract every backend keeps. */
static void
s_contract (blob_store_t *blobs, const char *what)
{
    char err [256] = "", sha [65], again [65];
    uint8_t image [3000];
    for (size_t i = 0; i < sizeof image; i++)
        image [i] = (uint8_t) (i * 7 + strlen (what));
    REQUIRE (blob_store_put (blobs, image, sizeof image, sha, err) == 0, "%s: put: %s", what, err);
    char want [65];
    util_sha256_hex (image, sizeof image, want);
    CHECK (strcmp (sha, want) == 0, "%s: put names the bytes by their sha256", what);
    CHECK (blob_store_put (blobs, image, sizeof image, again, err) == 0 && strcmp (again, sha) == 0,
           "%s: the same bytes again are fine: %s", what, err);

    size_t len = 0;
    uint8_t *got = blob_store_get (blobs, sha, sizeof image, &len, err);
    CHECK (got && len == sizeof image && memcmp (got, image, len) == 0,
           "%s: get gives the bytes back (len %zu): %s", what, len, got ? "" : err);
    free (got);

    got = blob_store_get (blobs, sha, sizeof image - 1, &len, err);
    CHECK (!got && strstr (err, "over"), "%s: a get over max is refused: '%s'", what, err);
    free (got);

    char missing [65];
    util_sha256_hex ("never stored", 12, missing);
    got = blob_store_get (blobs, missing, 1 << 20, &len, err);
    CHECK (!got && strstr (err, "missing"), "%s: a missing blob says so: '%s'", what, err);
    free (got);
    got = blob_store_get (blobs, "../../etc/passwd", 1 << 20, &len, err);
    CHECK (!got && strstr (err, "bad blob name"), "%s: a bad name reaches no path: '%s'", what, err);
    free (got);

    CHECK (blob_store_delete (blobs, sha) == 0, "%s: delete", what);
    got = blob_store_get (blobs, sha, 1 << 20, &len, err);
    CHECK (!got, "%s: a deleted blob is gone", what);
    free (got);
    CHECK (blob_store_delete (blobs, sha) == 0, "%s: deleting a missing blob is fine", what);

    /* three orphans in one shard; a page of 2 makes the S3 walk paginate */
    int shard = 0x5e;
    char shas [3][65];
    for (int i = 0; i < 3; i++) {
        uint8_t data [64];
        size_t n = s_bytes_in_shard (shard, i + (int) strlen (what) * 10, data, shas [i]);
        REQUIRE (blob_store_put (blobs, data, n, shas [i], err) == 0, "%s: put orphan %d: %s", what, i, err);
    }
    blob_s3_set_list_page (blobs, 2);
    CHECK (blob_store_scan_shard (blobs, shard, 3600, s_known_none, NULL) == 0,
           "%s: young orphans stay (their rows may be in flight)", what);
    CHECK (blob_store_scan_shard (blobs, shard, 0, s_known_all, NULL) == 0,
           "%s: blobs a row names stay", what);
    int removed = blob_store_scan_shard (blobs, shard, 0, s_known_none, NULL);
    CHECK (removed == 3, "%s: the three old orphans are removed across pages, got %d", what, removed);
    for (int i = 0; i < 3; i++) {
        got = blob_store_get (blobs, shas [i], 1 << 20, &len, err);
        CHECK (!got && strstr (err, "missing"), "%s: orphan %d is gone: '%s'", what, i, err);
        free (got);
    }
    CHECK (blob_store_scan_shard (blobs, shard + 1, 0, s_known_none, NULL) == 0,
           "%s: an empty shard removes nothing", what);

    /* an empty blob is a blob */
    REQUIRE (blob_store_put (blobs, "", 0, sha, err) == 0, "%s: put empty: %s", what, err);
    got = blob_store_get (blobs, sha, 10, &len, err);
    CHECK (got && len == 0, "%s: an empty blob reads back empty: %s", what, got ? "" : err);
    free (got);
    blob_store_delete (blobs, sha);
}

static void
s_file_backend (void)
{
    char dir [] = "/tmp/easel-test-blobs-XXXXXX";
    REQUIRE (mkdtemp (dir), "mkdtemp");
    char err [256] = "";
    blob_store_t *blobs = blob_store_open (dir, NULL, err);
    REQUIRE (blobs, "open the file store: %s", err);
    CHECK (strcmp (blob_store_backend (blobs), "file") == 0, "no EASEL_BLOB_URL is the file store");
    s_contract (blobs, "file");
    char link [256];
    CHECK (blob_store_presign (blobs, "GET", "0000000000000000000000000000000000000000000000000000000000000000",
                               NULL, 60, link, sizeof link, err) == -1 && strstr (err, "no presigned URLs"),
           "the file store makes no presigned URL: '%s'", err);
    CHECK (!blob_store_direct (blobs) && blob_store_incoming_url (blobs, "img_x.1", 60, link, sizeof link, err) == -1
           && strstr (err, "no direct writes"), "the file store takes no direct writes: '%s'", err);
    blob_store_destroy (&blobs);
    blob_store_destroy (&blobs);
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
}

static void
s_url (char *out, size_t size, const char *prefix, bool path_style)
{
    if (path_style)
        snprintf (out, size, "s3://" S_BUCKET "/%s?endpoint=http%%3A%%2F%%2F127.0.0.1%%3A%d&region=us-east-1"
                  "&path_style=1", prefix, s_port);
    else
        snprintf (out, size, "s3://" S_BUCKET "/%s?endpoint=http://s3.test:%d&region=us-east-1&path_style=0",
                  prefix, s_port);
}

typedef struct {
    char  data [8192];
    size_t len;
} s_buf_t;

static size_t
s_buf_write (char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_buf_t *b = arg;
    size_t n = size * nmemb;
    if (n > sizeof b->data - b->len)
        return 0;
    memcpy (b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

/* An unauthenticated request, as a browser or a renderer would send it;
   the HTTP status (0 on a transport failure). */
static long
s_plain (const char *method, const char *url, const void *body, size_t len, const char *connect_to, s_buf_t *out)
{
    CURL *c = curl_easy_init ();
    struct curl_slist *to = connect_to ? curl_slist_append (NULL, connect_to) : NULL;
    struct curl_slist *hdr = curl_slist_append (NULL, "Content-Type: application/octet-stream");
    out->len = 0;
    curl_easy_setopt (c, CURLOPT_URL, url);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_buf_write);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, hdr);
    if (to)
        curl_easy_setopt (c, CURLOPT_CONNECT_TO, to);
    if (strcmp (method, "PUT") == 0) {
        curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
    }
    else
    if (strcmp (method, "GET") != 0)
        curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
    long status = 0;
    if (curl_easy_perform (c) == CURLE_OK)
        curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all (to);
    curl_slist_free_all (hdr);
    curl_easy_cleanup (c);
    return status;
}

/* Hex MD5 of data (what S3 answers as a simple object's ETag). */
static void
s_md5_hex (const void *data, size_t len, char hex [33])
{
    unsigned char md [EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest (data, len, md, &n, EVP_md5 (), NULL);
    for (unsigned i = 0; i < 16; i++)
        snprintf (hex + 2 * i, 3, "%02x", md [i]);
}

/* Direct writes: a renderer PUTs to an incoming URL, the store adopts the
   object as a blob only when it is there with the size and MD5 named, and
   the sweep removes incoming objects nobody adopted. */
static void
s_direct (blob_store_t *blobs, const char *connect_to, const char *what)
{
    char err [256] = "", link [S3_PRESIGN_URL_MAX], sha [65], md5 [33];
    uint8_t data [] = "a result the renderer stored itself";
    util_sha256_hex (data, sizeof data, sha);
    s_md5_hex (data, sizeof data, md5);
    CHECK (blob_store_direct (blobs), "%s: the S3 store takes direct writes", what);
    CHECK (blob_store_incoming_url (blobs, "../escape", 60, link, sizeof link, err) == -1
           && strstr (err, "not a safe key"), "%s: an incoming name is a safe key: '%s'", what, err);
    CHECK (blob_store_adopt (blobs, "img_never.1", sha, sizeof data, md5, err) == -1
           && strstr (err, "not in the store"), "%s: nothing uploaded, nothing adopted: '%s'", what, err);
    REQUIRE (blob_store_incoming_url (blobs, "img_direct.1", 60, link, sizeof link, err) == 0,
             "%s: incoming URL: %s", what, err);
    CHECK (strstr (link, "/incoming/img_direct.1?") && !strstr (link, S_SECRET),
           "%s: the URL names the incoming object and no secret: %s", what, link);
    s_buf_t got;
    long status = s_plain ("PUT", link, data, sizeof data, connect_to, &got);
    CHECK (status == 200, "%s: the renderer's PUT stores the object: %ld", what, status);
    char wrong [33];
    memcpy (wrong, md5, sizeof wrong);
    wrong [0] = wrong [0] == '0' ? '1' : '0';
    errno = 0;
    CHECK (blob_store_adopt (blobs, "img_direct.1", sha, sizeof data, wrong, err) == -1 && strstr (err, "MD5")
           && errno == EBADMSG, "%s: another MD5 is refused, as the upload's fault: '%s'", what, err);
    CHECK (blob_store_adopt (blobs, "img_direct.1", sha, sizeof data, md5, err) == -1
           && strstr (err, "not in the store"), "%s: an object not as named is removed: '%s'", what, err);
    CHECK (s_plain ("PUT", link, data, sizeof data, connect_to, &got) == 200, "%s: PUT again", what);
    errno = 0;
    CHECK (blob_store_adopt (blobs, "img_direct.1", sha, sizeof data + 1, md5, err) == -1 && strstr (err, "bytes")
           && errno == EBADMSG, "%s: another size is refused: '%s'", what, err);
    CHECK (s_plain ("PUT", link, data, sizeof data, connect_to, &got) == 200, "%s: PUT again", what);
    /* an uploader that gives up removes its object with the presigned DELETE */
    char del [S3_PRESIGN_URL_MAX];
    REQUIRE (blob_store_incoming_delete_url (blobs, "img_direct.1", 60, del, sizeof del, err) == 0,
             "%s: delete URL: %s", what, err);
    CHECK (strstr (del, "/incoming/img_direct.1?") && s_plain ("DELETE", del, NULL, 0, connect_to, &got) == 204,
           "%s: the presigned DELETE removes the incoming object", what);
    CHECK (blob_store_adopt (blobs, "img_direct.1", sha, sizeof data, md5, err) == -1
           && strstr (err, "not in the store"), "%s: deleted: '%s'", what, err);
    CHECK (s_plain ("PUT", link, data, sizeof data, connect_to, &got) == 200, "%s: PUT again", what);
    CHECK (blob_store_adopt (blobs, "img_direct.1", sha, sizeof data, md5, err) == 0,
           "%s: the upload is adopted: %s", what, err);
    size_t len = 0;
    void *back = blob_store_get (blobs, sha, 1024, &len, err);
    CHECK (back && len == sizeof data && memcmp (back, data, len) == 0,
           "%s: the adopted object is the blob: %s", what, back ? "" : err);
    free (back);
    CHECK (blob_store_adopt (blobs, "img_direct.1", sha, sizeof data, md5, err) == -1,
           "%s: the incoming object is gone once adopted", what);
    /* the same bytes again: adopted without a copy, the blob unchanged */
    REQUIRE (blob_store_incoming_url (blobs, "img_direct.2", 60, link, sizeof link, err) == 0, "url: %s", err);
    CHECK (s_plain ("PUT", link, data, sizeof data, connect_to, &got) == 200, "%s: PUT again", what);
    CHECK (blob_store_adopt (blobs, "img_direct.2", sha, sizeof data, md5, err) == 0,
           "%s: a blob already there is adopted: %s", what, err);
    /* an orphan upload is swept with shard 0 */
    REQUIRE (blob_store_incoming_url (blobs, "img_orphan.1", 60, link, sizeof link, err) == 0, "url: %s", err);
    CHECK (s_plain ("PUT", link, data, sizeof data, connect_to, &got) == 200, "%s: orphan PUT", what);
    CHECK (blob_store_scan_shard (blobs, 0, 0, s_known_all, NULL) >= 1,
           "%s: the sweep removes the orphan upload", what);
    CHECK (blob_store_adopt (blobs, "img_orphan.1", sha, sizeof data, md5, err) == -1
           && strstr (err, "not in the store"), "%s: the orphan is gone: '%s'", what, err);
    blob_store_delete (blobs, sha);
}

/* Presigned URLs of store `blobs` (its location `url`) work without
   credentials, and only as signed and while fresh. */
static void
s_presigned (blob_store_t *blobs, const char *url, const char *connect_to, const char *what)
{
    char err [256] = "", sha [65], link [S3_PRESIGN_URL_MAX];
    uint8_t data [] = "bytes behind a presigned URL";
    REQUIRE (blob_store_put (blobs, data, sizeof data, sha, err) == 0, "%s: put: %s", what, err);
    REQUIRE (blob_store_presign (blobs, "GET", sha, NULL, 60, link, sizeof link, err) == 0,
             "%s: presign GET: %s", what, err);
    CHECK (!strstr (link, S_SECRET), "%s: no secret in the URL", what);
    s_buf_t got;
    long status = s_plain ("GET", link, NULL, 0, connect_to, &got);
    CHECK (status == 200 && got.len == sizeof data && memcmp (got.data, data, sizeof data) == 0,
           "%s: a presigned GET reads the object with no credentials: %ld (%zu bytes)", what, status, got.len);
    char *sig = strstr (link, "X-Amz-Signature=");
    REQUIRE (sig, "%s: a signature in %s", what, link);
    sig [16] = sig [16] == '0' ? '1' : '0';
    status = s_plain ("GET", link, NULL, 0, connect_to, &got);
    got.data [got.len < sizeof got.data ? got.len : sizeof got.data - 1] = 0;
    CHECK (status == 403 && strstr (got.data, "SignatureDoesNotMatch"),
           "%s: a tampered presigned URL is refused: %ld %s", what, status, got.data);

    /* an hour-old URL valid for a minute */
    s3_location_t loc;
    REQUIRE (s3_location_parse (url, &loc, err) == 0, "parse: %s", err);
    char key [S3_KEY_MAX];
    snprintf (key, sizeof key, "%s%.2s/%s", loc.prefix, sha, sha);
    REQUIRE (s3_presign (&loc, S_KEY, S_SECRET, "GET", key, NULL, (int64_t) time (NULL) - 3600, 60, link, sizeof link,
                         NULL, 0, err) == 0, "presign: %s", err);
    status = s_plain ("GET", link, NULL, 0, connect_to, &got);
    got.data [got.len < sizeof got.data ? got.len : sizeof got.data - 1] = 0;
    CHECK (status == 403 && strstr (got.data, "expired"), "%s: an expired URL is refused: %ld %s",
           what, status, got.data);

    /* a presigned PUT: the uploader holds no credentials */
    uint8_t upload [] = "uploaded through a presigned PUT";
    char usha [65];
    util_sha256_hex (upload, sizeof upload, usha);
    REQUIRE (blob_store_presign (blobs, "PUT", usha, NULL, 60, link, sizeof link, err) == 0, "presign PUT: %s", err);
    status = s_plain ("PUT", link, upload, sizeof upload, connect_to, &got);
    CHECK (status == 200, "%s: a presigned PUT stores the object: %ld", what, status);
    size_t len = 0;
    void *back = blob_store_get (blobs, usha, 1024, &len, err);
    CHECK (back && len == sizeof upload && memcmp (back, upload, len) == 0,
           "%s: the uploaded object is the blob: %s", what, back ? "" : err);
    free (back);
    CHECK (blob_store_presign (blobs, "DELETE", usha, NULL, 60, link, sizeof link, err) == -1 && strstr (err, "GET or PUT"),
           "%s: only GET and PUT are presigned for blobs: '%s'", what, err);
    blob_store_delete (blobs, usha);
    blob_store_delete (blobs, sha);
    s_direct (blobs, connect_to, what);
}

/* The blob worker adopts renderer uploads on its own thread and answers
   each job with the reason it failed, or "". */
static void
s_worker (void)
{
    char url [512], err [256] = "", link [S3_PRESIGN_URL_MAX];
    s_url (url, sizeof url, "worker", true);
    blob_store_t *blobs = blob_store_open ("/nonexistent-unused", url, err);
    REQUIRE (blobs, "open: %s", err);
    blob_worker_t *worker = blob_worker_new ("/nonexistent-unused", url, err);
    REQUIRE (worker, "a blob worker on the store: %s", err);
    uint8_t data [] = "a result adopted off the loop";
    proto_result_t res = { .attempt = 1, .width = 1, .height = 1, .bytes = sizeof data };
    snprintf (res.task_id, sizeof res.task_id, "img_worker");
    snprintf (res.format, sizeof res.format, "png");
    util_sha256_hex (data, sizeof data, res.sha256);
    s_md5_hex (data, sizeof data, res.md5);
    REQUIRE (blob_store_incoming_url (blobs, "img_worker.1", 60, link, sizeof link, err) == 0, "url: %s", err);
    s_buf_t got;
    CHECK (s_plain ("PUT", link, data, sizeof data, NULL, &got) == 200, "the renderer's PUT");
    msgpack_sbuffer good, bad;
    msgpack_sbuffer_init (&good);
    msgpack_sbuffer_init (&bad);
    REQUIRE (proto_result_encode (&res, &good) == 0, "encode");
    res.attempt = 2;                   /* nothing was uploaded for attempt 2 */
    REQUIRE (proto_result_encode (&res, &bad) == 0, "encode");
    /* a gateway's upload, named by a FILE_PUT, and one whose object is not
       the bytes named (the store kept other bytes) */
    uint8_t file [] = "an upload the gateway stored itself";
    proto_file_put_t put = { .width = 1, .height = 1, .bytes = sizeof file };
    snprintf (put.rid, sizeof put.rid, "rid_1");
    snprintf (put.auth, sizeof put.auth, "%064d", 0);
    snprintf (put.format, sizeof put.format, "png");
    snprintf (put.name, sizeof put.name, "upl_worker");
    util_sha256_hex (file, sizeof file, put.sha256);
    s_md5_hex (file, sizeof file, put.md5);
    REQUIRE (blob_store_incoming_url (blobs, "upl_worker", 60, link, sizeof link, err) == 0, "url: %s", err);
    CHECK (s_plain ("PUT", link, file, sizeof file, NULL, &got) == 200, "the gateway's PUT");
    msgpack_sbuffer up, lying;
    msgpack_sbuffer_init (&up);
    msgpack_sbuffer_init (&lying);
    REQUIRE (proto_file_put_encode (&put, &up) == 0, "encode");
    snprintf (put.name, sizeof put.name, "upl_lying");
    REQUIRE (blob_store_incoming_url (blobs, "upl_lying", 60, link, sizeof link, err) == 0, "url: %s", err);
    CHECK (s_plain ("PUT", link, file, sizeof file - 1, NULL, &got) == 200, "a short PUT");
    REQUIRE (proto_file_put_encode (&put, &lying) == 0, "encode");
    zframe_t *peer = zframe_new ("renderer-1", 10);
    CHECK (blob_worker_submit (worker, BLOB_JOB_RESULT, peer, good.data, good.size) == 0
           && blob_worker_submit (worker, BLOB_JOB_RESULT, peer, bad.data, bad.size) == 0
           && blob_worker_submit (worker, BLOB_JOB_UPLOAD, peer, up.data, up.size) == 0
           && blob_worker_submit (worker, BLOB_JOB_UPLOAD, peer, lying.data, lying.size) == 0
           && blob_worker_pending (worker) == 4 && blob_worker_pending_kind (worker, BLOB_JOB_UPLOAD) == 2,
           "four jobs queued");
    CHECK (blob_worker_submit (worker, BLOB_JOBS, peer, "", 0) == -1, "an unknown job is refused");
    for (int i = 0; i < 4; i++) {
        zframe_t *identity = NULL, *body = NULL;
        zpoller_t *poller = zpoller_new (blob_worker_sock (worker), NULL);
        CHECK (zpoller_wait (poller, 10000) != NULL, "job %d answered", i);
        zpoller_destroy (&poller);
        blob_job_t kind;
        bool bad_object = false;
        REQUIRE (blob_worker_recv (worker, &kind, &identity, &body, err, &bad_object) == 0, "recv %d", i);
        CHECK (zframe_eq (identity, peer), "job %d comes back with its peer", i);
        /* the threads answer in any order: the body says which job it was */
        bool is [4];
        const msgpack_sbuffer *bodies [4] = { &good, &bad, &up, &lying };
        for (int b = 0; b < 4; b++)
            is [b] = zframe_size (body) == bodies [b]->size
                  && memcmp (zframe_data (body), bodies [b]->data, bodies [b]->size) == 0;
        if (is [0] || is [2])
            CHECK (err [0] == 0 && !bad_object, "the upload is adopted: '%s'", err);
        if (is [1])
            CHECK (strstr (err, "not in the store") && bad_object, "a missing upload says so: '%s'", err);
        if (is [3])
            CHECK (strstr (err, "bytes") && bad_object, "a short upload is refused as the upload's fault: '%s'", err);
        CHECK (kind == (is [0] || is [1] ? BLOB_JOB_RESULT : BLOB_JOB_UPLOAD), "job %d has its kind", i);
        zframe_destroy (&identity);
        zframe_destroy (&body);
    }
    CHECK (blob_worker_pending (worker) == 0, "nothing pending");
    char fsha [65];
    util_sha256_hex (file, sizeof file, fsha);
    size_t flen = 0;
    void *fback = blob_store_get (blobs, fsha, 1024, &flen, err);
    CHECK (fback && flen == sizeof file, "the upload is a blob: %s", fback ? "" : err);
    free (fback);
    CHECK (blob_store_adopt (blobs, "upl_lying", fsha, sizeof file - 1, put.md5, err) == -1
           && strstr (err, "not in the store"), "the lying upload was removed: '%s'", err);

    /* the orphan listing: the shard's blobs old enough come back, none removed */
    char job [32];
    snprintf (job, sizeof job, "%d 0", (int) strtol ((char []) { fsha [0], fsha [1], 0 }, NULL, 16));
    CHECK (blob_worker_submit (worker, BLOB_JOB_LIST, NULL, job, strlen (job)) == 0, "a list job");
    zpoller_t *poller = zpoller_new (blob_worker_sock (worker), NULL);
    CHECK (zpoller_wait (poller, 10000) != NULL, "the list answered");
    zpoller_destroy (&poller);
    zframe_t *lid = NULL, *lbody = NULL;
    blob_job_t lkind;
    bool lbad;
    REQUIRE (blob_worker_recv (worker, &lkind, &lid, &lbody, err, &lbad) == 0 && lkind == BLOB_JOB_LIST,
             "recv list");
    bool listed = false;
    for (size_t i = 0; i + 64 <= zframe_size (lbody); i += 64)
        listed |= memcmp (zframe_data (lbody) + i, fsha, 64) == 0;
    CHECK (listed && zframe_size (lbody) % 64 == 0 && err [0] == 0,
           "the list names the shard's blob (%zu bytes): '%s'", zframe_size (lbody), err);
    zframe_destroy (&lid);
    zframe_destroy (&lbody);
    fback = blob_store_get (blobs, fsha, 1024, &flen, err);
    CHECK (fback != NULL, "listing removed nothing: %s", fback ? "" : err);
    free (fback);

    /* a streamed GET_FILE: the worker fills the FILE reply with the bytes */
    proto_file_t want = { .rid = "rid_read", .id = "file_x", .content_type = "image/png",
                          .data = (uint8_t *) "", .len = 0 };
    snprintf (want.sha256, sizeof want.sha256, "%s", fsha);
    for (int missing = 0; missing < 2; missing++) {
        if (missing)
            memset (want.sha256, 'e', 64);
        msgpack_sbuffer rb;
        msgpack_sbuffer_init (&rb);
        REQUIRE (proto_file_encode (&want, &rb) == 0, "encode FILE");
        CHECK (blob_worker_submit (worker, BLOB_JOB_READ, peer, rb.data, rb.size) == 0, "a read job");
        msgpack_sbuffer_destroy (&rb);
        poller = zpoller_new (blob_worker_sock (worker), NULL);
        CHECK (zpoller_wait (poller, 10000) != NULL, "the read answered");
        zpoller_destroy (&poller);
        REQUIRE (blob_worker_recv (worker, &lkind, &lid, &lbody, err, &lbad) == 0 && lkind == BLOB_JOB_READ,
                 "recv read");
        proto_file_t got_file;
        char why [PROTO_ERR_MAX] = "";
        REQUIRE (proto_file_decode ((const char *) zframe_data (lbody), zframe_size (lbody), &got_file, why) == 0,
                 "the read's answer is a FILE: %s", why);
        if (missing)
            CHECK (err [0] && got_file.len == 0, "a missing blob is an error: '%s'", err);
        else
            CHECK (!err [0] && got_file.len == sizeof file && memcmp (got_file.data, file, sizeof file) == 0
                   && strcmp (got_file.rid, "rid_read") == 0, "the read carries the bytes: '%s'", err);
        proto_file_free (&got_file);
        zframe_destroy (&lid);
        zframe_destroy (&lbody);
    }
    blob_store_delete (blobs, fsha);
    msgpack_sbuffer_destroy (&up);
    msgpack_sbuffer_destroy (&lying);
    size_t len = 0;
    void *back = blob_store_get (blobs, res.sha256, 1024, &len, err);
    CHECK (back && len == sizeof data && memcmp (back, data, len) == 0, "the blob is there: %s", back ? "" : err);
    free (back);
    zframe_destroy (&peer);
    msgpack_sbuffer_destroy (&good);
    msgpack_sbuffer_destroy (&bad);
    blob_worker_destroy (&worker);
    blob_worker_destroy (&worker);
    blob_store_delete (blobs, res.sha256);
    blob_store_destroy (&blobs);
}

static void
s_s3_path_style (void)
{
    char url [512], err [256] = "";
    s_url (url, sizeof url, "path/style", true);
    blob_store_t *blobs = blob_store_open ("/nonexistent-unused", url, err);
    REQUIRE (blobs, "open the S3 store (path-style): %s", err);
    CHECK (strcmp (blob_store_backend (blobs), "s3") == 0, "an s3:// EASEL_BLOB_URL is the S3 store");
    CHECK (blob_store_dir_syncs (blobs) == 0, "the S3 store syncs no directory");
    s_contract (blobs, "s3 path-style");
    s_presigned (blobs, url, NULL, "s3 path-style");
    blob_store_destroy (&blobs);
}

/* public_endpoint=: redirect URLs name (and are signed for) the host
   users reach, renderers' URLs the endpoint; localhost and 127.0.0.1 are
   two names of the one server, whose SigV4 check reads the Host. */
static void
s_s3_public_endpoint (void)
{
    char url [768], err [256] = "", sha [65], link [S3_PRESIGN_URL_MAX];
    snprintf (url, sizeof url, "s3://" S_BUCKET "/public?endpoint=http://127.0.0.1:%d&path_style=1"
              "&public_endpoint=http%%3A%%2F%%2Flocalhost%%3A%d", s_port, s_port);
    blob_store_t *blobs = blob_store_open ("/nonexistent-unused", url, err);
    REQUIRE (blobs, "open the S3 store with a public endpoint: %s", err);
    uint8_t data [] = "bytes a user fetches by the public name";
    REQUIRE (blob_store_put (blobs, data, sizeof data, sha, err) == 0, "put: %s", err);
    char want [128];
    snprintf (want, sizeof want, "http://localhost:%d/" S_BUCKET "/public/%.2s/%s?", s_port, sha, sha);
    REQUIRE (blob_store_presign_public (blobs, sha, "image/png", 60, link, sizeof link, err) == 0,
             "presign public: %s", err);
    CHECK (strncmp (link, want, strlen (want)) == 0, "the redirect names the public endpoint: %s", link);
    s_buf_t got;
    long status = s_plain ("GET", link, NULL, 0, NULL, &got);
    CHECK (status == 200 && got.len == sizeof data && memcmp (got.data, data, sizeof data) == 0,
           "a GET by the public name is signed for that host: %ld (%zu bytes)", status, got.len);
    /* the same signature sent to the other name fails: it is bound to its host */
    char moved [S3_PRESIGN_URL_MAX + 16];
    snprintf (moved, sizeof moved, "http://127.0.0.1:%d%s", s_port, link + strlen ("http://localhost:") + 5);
    status = s_plain ("GET", moved, NULL, 0, NULL, &got);
    CHECK (status == 403, "the public URL's signature does not work for another host: %ld", status);
    snprintf (want, sizeof want, "http://127.0.0.1:%d/", s_port);
    REQUIRE (blob_store_presign (blobs, "GET", sha, NULL, 60, link, sizeof link, err) == 0, "presign: %s", err);
    CHECK (strncmp (link, want, strlen (want)) == 0, "renderers' URLs keep the endpoint: %s", link);
    REQUIRE (blob_store_incoming_url (blobs, "img_x.1", 60, link, sizeof link, err) == 0, "incoming: %s", err);
    CHECK (strncmp (link, want, strlen (want)) == 0, "upload URLs keep the endpoint: %s", link);
    blob_store_delete (blobs, sha);
    blob_store_destroy (&blobs);
}

static void
s_s3_virtual_hosted (void)
{
    char url [512], err [256] = "", connect_to [128];
    s_url (url, sizeof url, "vhost", false);
    snprintf (connect_to, sizeof connect_to, S_BUCKET ".s3.test:%d:127.0.0.1:%d", s_port, s_port);
    blob_store_t *blobs = blob_s3_new (url, connect_to, err);
    REQUIRE (blobs, "open the S3 store (virtual-hosted): %s", err);
    s_contract (blobs, "s3 virtual-hosted");
    s_presigned (blobs, url, connect_to, "s3 virtual-hosted");

    /* the virtual-hosted objects are the bucket's: read one path-style */
    uint8_t data [] = "seen from both styles";
    char sha [65];
    REQUIRE (blob_store_put (blobs, data, sizeof data, sha, err) == 0, "put: %s", err);
    s3_location_t loc;
    REQUIRE (s3_location_parse (url, &loc, err) == 0, "parse: %s", err);
    loc.path_style = true;
    snprintf (loc.host, sizeof loc.host, "127.0.0.1:%d", s_port);
    s3_client_t *client = s3_client_new (&loc, S_KEY, S_SECRET, NULL, err);
    REQUIRE (client, "client: %s", err);
    char key [S3_KEY_MAX];
    snprintf (key, sizeof key, "vhost/%.2s/%s", sha, sha);
    s3_reply_t reply;
    CHECK (s3_client_request (client, "GET", key, NULL, NULL, 0, NULL, 1024, &reply, err) == 0
           && reply.status == 200 && reply.len == sizeof data && memcmp (reply.body, data, sizeof data) == 0,
           "the object is <prefix>/ab/<sha256> in the bucket: %ld %s", reply.status, err);
    s3_reply_reset (&reply);

    /* an object whose bytes do not hash to its name is refused */
    const char *headers [] = { NULL };
    CHECK (s3_client_request (client, "PUT", key, NULL, "tampered", 8, headers, 4096, &reply, err) == 0
           && reply.status == 200, "overwrite the object: %ld %s", reply.status, err);
    s3_reply_reset (&reply);
    size_t len;
    void *got = blob_store_get (blobs, sha, 1024, &len, err);
    CHECK (!got && strstr (err, "hash"), "bytes that are not the name's are refused: '%s'", err);
    free (got);
    blob_store_delete (blobs, sha);
    s3_client_destroy (&client);
    s3_client_destroy (&client);
    blob_store_destroy (&blobs);
}

static void
s_s3_wrong_secret (void)
{
    char url [512], err [256] = "";
    s_url (url, sizeof url, "", true);
    setenv ("EASEL_S3_SECRET_KEY", "not-the-secret", 1);
    blob_store_t *blobs = blob_store_open ("/unused", url, err);
    CHECK (!blobs && strstr (err, "403"), "a wrong secret is refused at open: '%s'", err);
    CHECK (!strstr (err, "not-the-secret") && !strstr (err, S_SECRET), "no secret in the reason");
    blob_store_destroy (&blobs);
    setenv ("EASEL_S3_SECRET_KEY", S_SECRET, 1);

    s3_location_t loc;
    REQUIRE (s3_location_parse (url, &loc, err) == 0, "parse: %s", err);
    s3_client_t *client = s3_client_new (&loc, S_KEY, "not-the-secret", NULL, err);
    REQUIRE (client, "client: %s", err);
    s3_reply_t reply;
    CHECK (s3_client_request (client, "GET", "x", NULL, NULL, 0, NULL, 1024, &reply, err) == 0
           && reply.status == 403 && strcmp (reply.code, "SignatureDoesNotMatch") == 0,
           "a request signed with a wrong secret: 403 SignatureDoesNotMatch, got %ld '%s'",
           reply.status, reply.code);
    s3_reply_reset (&reply);
    s3_client_destroy (&client);

    client = s3_client_new (&loc, "nobody", S_SECRET, NULL, err);
    REQUIRE (client, "client: %s", err);
    CHECK (s3_client_request (client, "PUT", "x", NULL, "x", 1, NULL, 1024, &reply, err) == 0
           && reply.status == 403 && strcmp (reply.code, "InvalidAccessKeyId") == 0,
           "an unknown key: 403 InvalidAccessKeyId, got %ld '%s'", reply.status, reply.code);
    s3_reply_reset (&reply);
    s3_client_destroy (&client);

    unsetenv ("EASEL_S3_ACCESS_KEY");
    unsetenv ("AWS_ACCESS_KEY_ID");
    blobs = blob_store_open ("/unused", url, err);
    CHECK (!blobs && strstr (err, "EASEL_S3_ACCESS_KEY"), "no key says which variables: '%s'", err);
    setenv ("AWS_ACCESS_KEY_ID", S_KEY, 1);
    blobs = blob_store_open ("/unused", url, err);
    CHECK (blobs, "AWS_ACCESS_KEY_ID is the fallback: %s", err);
    blob_store_destroy (&blobs);
    setenv ("EASEL_S3_ACCESS_KEY", S_KEY, 1);

    char nobucket [512];
    snprintf (nobucket, sizeof nobucket, "s3://no-such-bucket?endpoint=http://127.0.0.1:%d&path_style=1", s_port);
    blobs = blob_store_open ("/unused", nobucket, err);
    CHECK (!blobs && strstr (err, "404"), "a missing bucket is refused at open: '%s'", err);
}

static void
s_location (void)
{
    s3_location_t loc;
    char err [256], url [1024];
    CHECK (s3_location_parse ("s3://my-bucket/a/b/", &loc, err) == 0 && strcmp (loc.prefix, "a/b/") == 0
           && strcmp (loc.region, "us-east-1") == 0 && strcmp (loc.host, "s3.us-east-1.amazonaws.com") == 0
           && strcmp (loc.scheme, "https") == 0 && !loc.path_style, "defaults: %s", err);
    CHECK (s3_location_object_url (&loc, "a/b/k", url, sizeof url) == 0
           && strcmp (url, "https://my-bucket.s3.us-east-1.amazonaws.com/a/b/k") == 0,
           "virtual-hosted URL: %s", url);
    CHECK (s3_location_parse ("s3://my-bucket?region=eu-west-3&endpoint=http%3A%2F%2Fminio%3A9000%2F"
                              "&path_style=1", &loc, err) == 0
           && strcmp (loc.host, "minio:9000") == 0 && loc.path_style && !*loc.prefix
           && strcmp (loc.region, "eu-west-3") == 0, "an escaped endpoint: %s", err);
    CHECK (s3_location_object_url (&loc, "k", url, sizeof url) == 0
           && strcmp (url, "http://minio:9000/my-bucket/k") == 0, "path-style URL: %s", url);
    CHECK (!loc.public_host [0], "no public endpoint unless given");
    CHECK (s3_location_parse ("s3://my-bucket?endpoint=http://minio:9000&path_style=1"
                              "&public_endpoint=https%3A%2F%2Fs3.example.com%2F", &loc, err) == 0
           && strcmp (loc.host, "minio:9000") == 0 && strcmp (loc.public_host, "s3.example.com") == 0
           && strcmp (loc.public_scheme, "https") == 0, "a public endpoint: %s", err);
    s3_location_t pub;
    s3_location_public (&loc, &pub);
    CHECK (s3_location_object_url (&pub, "k", url, sizeof url) == 0
           && strcmp (url, "https://s3.example.com/my-bucket/k") == 0, "the public location's URL: %s", url);
    static const struct { const char *url, *says; } bad [] = {
        { "http://bucket", "s3://" },
        { "s3://Bad_Bucket", "bucket" },
        { "s3://ab", "bucket" },
        { "s3://bucket/a//b", "prefix" },
        { "s3://bucket/a b", "prefix" },
        { "s3://bucket?endpoint=ftp://x", "endpoint" },
        { "s3://bucket?endpoint=http://u@host", "endpoint" },
        { "s3://bucket?endpoint=http://host/path", "endpoint" },
        { "s3://bucket?region=US", "region" },
        { "s3://bucket?path_style=yes", "path_style" },
        { "s3://bucket?colour=red", "unknown parameter colour" },
        { "s3://bucket?endpoint", "no value" },
        { "s3://bucket?endpoint=http%3", "badly escaped" },
        { "s3://my.bucket", "path_style=1" },
        { "s3://bucket?public_endpoint=ftp://x", "public_endpoint" },
        { "s3://bucket?public_endpoint=https://cdn.example/path", "public_endpoint" },
        { "s3://my.bucket?endpoint=http://minio:9000&public_endpoint=https://s3.example", "path_style=1" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        err [0] = 0;
        CHECK (s3_location_parse (bad [i].url, &loc, err) == -1 && strstr (err, bad [i].says),
               "%s is refused naming %s: '%s'", bad [i].url, bad [i].says, err);
    }
    char text [64];
    const char *xml = "<Error><Code>No&amp;Such</Code><Message>m</Message></Error>";
    CHECK (s3_xml_text (xml, strlen (xml), "Code", text, sizeof text) && strcmp (text, "No&Such") == 0,
           "an XML element's text, entities decoded: %s", text);
    CHECK (!s3_xml_text (xml, strlen (xml), "Code", text, 4), "text past its buffer is refused");
    CHECK (!s3_xml_text (xml, 20, "Code", text, sizeof text), "text past the given length is not read");
    char enc [64];
    CHECK (s3_uri_encode ("a/b c~", enc, sizeof enc) == 0 && strcmp (enc, "a%2Fb%20c~") == 0,
           "URI encoding for a canonical query: %s", enc);
}

static void
s_dead_endpoint (void)
{
    /* a port nobody listens on: connection refused, tried S3_ATTEMPTS times */
    int64_t t0 = util_mono_ms ();
    char url [256], err [256] = "";
    snprintf (url, sizeof url, "s3://" S_BUCKET "?endpoint=http://127.0.0.1:1&path_style=1");
    blob_store_t *blobs = blob_store_open ("/unused", url, err);
    int64_t took = util_mono_ms () - t0;
    CHECK (!blobs && strstr (err, "after retries"), "a dead endpoint fails after retries: '%s'", err);
    CHECK (took >= S3_BACKOFF_MS * 3 && took < 10000, "bounded backoff (100 + 200 ms), took %lld ms",
           (long long) took);
}

static void
s_retries (void)
{
    char url [512], err [256] = "";
    s_url (url, sizeof url, "", true);
    s3_location_t loc;
    REQUIRE (s3_location_parse (url, &loc, err) == 0, "parse: %s", err);
    s3_client_t *client = s3_client_new (&loc, S_KEY, S_SECRET, NULL, err);
    REQUIRE (client, "client: %s", err);
    s3_reply_t reply;
    /* flaky/: two 503s, then the store takes it */
    int64_t t0 = util_mono_ms ();
    CHECK (s3_client_request (client, "PUT", "flaky/a", NULL, "abc", 3, NULL, 4096, &reply, err) == 0
           && reply.status == 200, "a PUT through two 503s succeeds on the third try: %ld %s",
           reply.status, reply.code);
    int64_t took = util_mono_ms () - t0;
    CHECK (took >= S3_BACKOFF_MS * 3, "it waited 100 then 200 ms: %lld ms", (long long) took);
    s3_reply_reset (&reply);
    /* down/: always 503; the third answer is the caller's, with S3's code */
    CHECK (s3_client_request (client, "GET", "down/a", NULL, NULL, 0, NULL, 4096, &reply, err) == 0
           && reply.status == 503 && strcmp (reply.code, "SlowDown") == 0,
           "a store that keeps answering 503: tried %d times, then 503 SlowDown: %ld '%s'",
           S3_ATTEMPTS, reply.status, reply.code);
    s3_reply_reset (&reply);
    s3_client_destroy (&client);
}

/* Starts tests/s3/start.js; its port into s_port. The pid, and the fd of
   its stdin (closing it stops the server). */
static pid_t
s_server_start (const char *s3_dir, const char *data_dir, int *stdin_fd)
{
    int in [2], out [2];
    REQUIRE (pipe (in) == 0 && pipe (out) == 0, "pipe");
    char script [1024];
    snprintf (script, sizeof script, "%s/start.js", s3_dir);
    pid_t pid = fork ();
    REQUIRE (pid >= 0, "fork");
    if (pid == 0) {
        dup2 (in [0], 0);
        dup2 (out [1], 1);
        close (in [1]);
        close (out [0]);
        execlp ("node", "node", "--openssl-legacy-provider", script, "--dir", data_dir, "--bucket", S_BUCKET,
                "--access-key", S_KEY, "--secret-key", S_SECRET, (char *) NULL);
        _exit (127);
    }
    close (in [0]);
    close (out [1]);
    *stdin_fd = in [1];
    char line [256] = "";
    size_t n = 0;
    int64_t deadline = util_mono_ms () + 20000;
    while (n + 1 < sizeof line && !strchr (line, '\n') && util_mono_ms () < deadline) {
        struct pollfd pfd = { out [0], POLLIN, 0 };
        if (poll (&pfd, 1, 500) <= 0)
            continue;
        ssize_t r = read (out [0], line + n, sizeof line - 1 - n);
        if (r <= 0)
            break;
        n += (size_t) r;
        line [n] = 0;
    }
    close (out [0]);
    char *p = strstr (line, "\"port\":");
    REQUIRE (p && (s_port = (int) strtol (p + 7, NULL, 10)) > 0,
             "tests/s3/start.js printed its port (got '%s'; are its npm packages installed? "
             "scripts/npm_deps.sh)", line);
    return pid;
}

int
main (int argc, char **argv)
{
    REQUIRE (argc == 2, "usage: test_blob_store TESTS_S3_DIR");
    signal (SIGPIPE, SIG_IGN);
    check_case ("file backend", s_file_backend);
    check_case ("EASEL_BLOB_URL and XML parsing", s_location);
    if (system ("node --version >/dev/null 2>&1") != 0) {
        fprintf (stderr, "SKIP the S3 backend: node is not installed (tests/s3/start.js runs s3rver)\n");
        return check_failures ? 1 : 77;
    }
    char data [] = "/tmp/easel-test-s3-XXXXXX";
    REQUIRE (mkdtemp (data), "mkdtemp");
    setenv ("EASEL_S3_ACCESS_KEY", S_KEY, 1);
    setenv ("EASEL_S3_SECRET_KEY", S_SECRET, 1);
    int stdin_fd = -1;
    pid_t pid = s_server_start (argv [1], data, &stdin_fd);
    check_case ("s3 path-style", s_s3_path_style);
    check_case ("s3 virtual-hosted", s_s3_virtual_hosted);
    check_case ("s3 public endpoint", s_s3_public_endpoint);
    check_case ("blob worker", s_worker);
    check_case ("s3 wrong secret and credentials", s_s3_wrong_secret);
    check_case ("s3 retries", s_retries);
    check_case ("s3 dead endpoint", s_dead_endpoint);
    close (stdin_fd);
    int status = 0;
    int64_t deadline = util_mono_ms () + 5000;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (util_mono_ms () > deadline) {
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            break;
        }
        usleep (20000);
    }
    char cmd [300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", data);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", data);
    return check_done ("blob_store");
}
