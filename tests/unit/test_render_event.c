/*  test_render_event.c: the event a finished render leaves in the outbox
    (scheduler/render_event.c) on a temp data dir. Without webhook_url: the
    render is completed and charged, the event row is written (id, type,
    object, seq for the PUB hint) with an empty payload and no delivery, so
    events_since offers nothing to the webhooker. With webhook_url: one
    pending delivery whose payload keeps every field the seed sent, with the
    same value (the render object with type, event_id; a job's job_id,
    status, result/error, created_at as "YYYY-MM-DD HH:MM:SS"), every image
    with its signed URL, drops webhook_status, and adds the event envelope:
    id and object of the render or job, occurred_at (and a job's
    completed_at) in ISO 8601 UTC. A second settle finds nothing.
    Single thread; every failure prints what was expected and exits 1. */
#include "check.h"
#include "store_test.h"
#include "render_event.h"
#include "job_json.h"
#include "render_json.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PUBLIC_URL "https://easel.example.com"
#define S_HOOK "https://ci.example.com/hooks/easel"

/* A render (or capture job) of ntasks images, committed. */
static void
s_create (job_store_t *store, const char *account, int ntasks, const char *webhook_url,
          bool capture, char id [PROTO_ID_MAX])
{
    proto_task_spec_t tasks [4];
    memset (tasks, 0, sizeof tasks);
    for (int i = 0; i < ntasks; i++) {
        tasks [i].slide = i;
        snprintf (tasks [i].format, sizeof tasks [i].format, "png");
        snprintf (tasks [i].locale, sizeof tasks [i].locale, "en-US");
        snprintf (tasks [i].preset, sizeof tasks [i].preset, "iphone-6.9");
        tasks [i].width = 300;
        tasks [i].height = 600;
        tasks [i].spec = capture ? "{}" : "spec";
        tasks [i].spec_len = capture ? 2 : 4;
    }
    proto_create_render_t req;
    memset (&req, 0, sizeof req);
    req.metadata_json = "{\"build\":\"42\"}";
    req.webhook_url = (char *) webhook_url;
    req.ntasks = ntasks;
    req.tasks = tasks;
    char err [256] = "";
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    int rc = capture ? job_store_capture_create (store, account, &req, util_now_ms (), id, err)
                     : job_store_render_create (store, account, &req, util_now_ms (), id, NULL, err);
    REQUIRE (rc == 0, "create: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

/* Leases the next task and ends it: ok succeeds, else fails for good. */
static void
s_finish_next (job_store_t *store, bool ok)
{
    char err [256] = "";
    proto_task_t task;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_task_lease_next (store, "r1", util_now_ms (), 60000, &task, err) == 1,
             "a task to lease: %s", err);
    if (ok) {
        proto_result_t res;
        memset (&res, 0, sizeof res);
        snprintf (res.task_id, sizeof res.task_id, "%s", task.task_id);
        snprintf (res.format, sizeof res.format, "png");
        res.attempt = task.attempt;
        res.width = 300;
        res.height = 600;
        res.len = 4;
        res.credits = 1;
        char sha [65];
        util_sha256_hex (task.task_id, strlen (task.task_id), sha);
        REQUIRE (job_store_blob_add (store, sha, 4, "image/png", err) == 0, "blob_add: %s", err);
        REQUIRE (job_store_task_succeed (store, &res, sha, util_now_ms (), err) == 0, "succeed: %s", err);
    }
    else {
        proto_error_t e;
        memset (&e, 0, sizeof e);
        proto_error_set (&e, "screenshot_invalid", "not an image", "slides[0].screenshot.url");
        REQUIRE (job_store_task_fail (store, task.task_id, task.attempt, &e, false, 3,
                                      util_now_ms (), err) == 0, "fail: %s", err);
        proto_error_free (&e);
    }
    proto_task_free (&task);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
}

/* Settles the one render that just finished, as the scheduler's pass does. */
static render_event_t
s_settle (job_store_t *store, const char *want_id, int64_t now_ms)
{
    char err [256] = "", id [PROTO_ID_MAX];
    render_event_t ev;
    REQUIRE (job_store_begin (store, err) == 0, "begin: %s", err);
    REQUIRE (job_store_render_next_settled (store, id, err) == 1, "a settled render: %s", err);
    REQUIRE (strcmp (id, want_id) == 0, "settled %s, expected %s", id, want_id);
    REQUIRE (render_event_settle (store, id, S_PUBLIC_URL, now_ms, &ev, err) == 0, "settle: %s", err);
    REQUIRE (job_store_commit (store, err) == 0, "commit: %s", err);
    REQUIRE (job_store_render_next_settled (store, id, err) == 0, "nothing left to settle: %s", err);
    return ev;
}

/* The payload fields the seed sent (render_get + render_json_build with
   type, event_id; the job event of {type, event_id, created_at, job_id,
   status, result|error}), less webhook_status, as a JSON object to compare
   field by field. */
static json_t *
s_seed_fields (job_store_t *store, const char *render_id, const char *type,
               const char *event_id, int64_t now_ms)
{
    proto_render_t r;
    memset (&r, 0, sizeof r);
    char err [256] = "";
    REQUIRE (job_store_render_get (store, render_id, NULL, now_ms, &r, err) == 0, "get: %s", err);
    json_t *obj = NULL;
    if (strncmp (r.id, "job_", 4) == 0) {
        char when [32];
        job_json_time (now_ms, when, sizeof when);
        bool ok = strcmp (r.status, "succeeded") == 0;
        obj = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "type", type, "event_id", event_id,
                         "created_at", when, "job_id", r.id, "status", ok ? "completed" : "failed");
        json_t *job = job_json_build (&r, S_PUBLIC_URL);
        REQUIRE (job, "job_json_build");
        json_object_set (obj, ok ? "result" : "error", json_object_get (job, ok ? "result" : "error"));
        json_decref (job);
    }
    else {
        obj = render_json_build (&r, S_PUBLIC_URL);
        json_object_set_new (obj, "type", json_string (type));
        json_object_set_new (obj, "event_id", json_string (event_id));
        json_object_del (obj, "webhook_status");
    }
    proto_render_free (&r);
    REQUIRE (obj, "seed fields");
    return obj;
}

/* Every seed field is in got with the same value, webhook_status is not, and
   the envelope says id, object, occurred_at (ISO 8601 UTC of now_ms). */
static void
s_check_payload (const char *got_text, json_t *seed, const char *id, bool job, int64_t now_ms)
{
    json_error_t jerr;
    json_t *got = json_loads (got_text, 0, &jerr);
    REQUIRE (got, "payload is JSON: %s", jerr.text);
    const char *key;
    json_t *value;
    json_object_foreach (seed, key, value)
        CHECK (json_equal (json_object_get (got, key), value), "seed field %s differs in %.300s",
               key, got_text);
    CHECK (!json_object_get (got, "webhook_status"), "no webhook_status in %.300s", got_text);
    char iso [32];
    util_iso8601 (now_ms, iso, sizeof iso);
    const char *oid = json_string_value (json_object_get (got, "id"));
    const char *object = json_string_value (json_object_get (got, "object"));
    const char *occurred = json_string_value (json_object_get (got, "occurred_at"));
    CHECK (oid && strcmp (oid, id) == 0, "id %s, expected %s", oid ? oid : "(none)", id);
    CHECK (object && strcmp (object, job ? "job" : "render") == 0, "object %s",
           object ? object : "(none)");
    CHECK (occurred && strcmp (occurred, iso) == 0, "occurred_at %s, expected %s",
           occurred ? occurred : "(none)", iso);
    if (job) {
        const char *completed = json_string_value (json_object_get (got, "completed_at"));
        CHECK (completed && strcmp (completed, iso) == 0, "job completed_at %s, expected %s",
               completed ? completed : "(none)", iso);
    }
    json_decref (got);
}

/* The events row of event_id straight from the database file: its payload
   (malloc'd) and how many deliveries point at it. */
static char *
s_event_row (const char *dir, const char *event_id, char type [PROTO_SHORT_MAX],
             char object_id [PROTO_ID_MAX], int64_t *seq, int *deliveries)
{
    char path [512];
    snprintf (path, sizeof path, "%s/easel.db", dir);
    sqlite3 *db = NULL;
    REQUIRE (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open %s", path);
    sqlite3_stmt *st = NULL;
    REQUIRE (sqlite3_prepare_v2 (db, "SELECT e.seq, e.type, e.object_id, e.payload,"
                                     " (SELECT count(*) FROM deliveries d WHERE d.event_seq = e.seq)"
                                     " FROM events e WHERE e.id = ?", -1, &st, NULL) == SQLITE_OK,
             "prepare: %s", sqlite3_errmsg (db));
    sqlite3_bind_text (st, 1, event_id, -1, SQLITE_STATIC);
    REQUIRE (sqlite3_step (st) == SQLITE_ROW, "an events row for %s", event_id);
    *seq = sqlite3_column_int64 (st, 0);
    snprintf (type, PROTO_SHORT_MAX, "%s", (const char *) sqlite3_column_text (st, 1));
    snprintf (object_id, PROTO_ID_MAX, "%s", (const char *) sqlite3_column_text (st, 2));
    char *payload = strdup ((const char *) sqlite3_column_text (st, 3));
    *deliveries = sqlite3_column_int (st, 4);
    sqlite3_finalize (st);
    sqlite3_close (db);
    REQUIRE (payload, "strdup");
    return payload;
}

/* The pending delivery events_since offers for event_id: its payload
   (malloc'd), NULL when none is offered. */
static char *
s_offered (job_store_t *store, const char *event_id, char url [2049])
{
    proto_events_t evs;
    memset (&evs, 0, sizeof evs);
    char err [256] = "";
    REQUIRE (job_store_events_since (store, 0, EASEL_EVENTS_PAGE_MAX, &evs, err) == 0,
             "events_since: %s", err);
    char *payload = NULL;
    for (int i = 0; i < evs.nevents; i++)
        if (strcmp (evs.events [i].id, event_id) == 0) {
            payload = strdup (evs.events [i].payload);
            snprintf (url, 2049, "%s", evs.events [i].url);
        }
    proto_events_free (&evs);
    return payload;
}

static void
s_test_without_webhook (job_store_t *store, const char *dir, const char *acct)
{
    char id [PROTO_ID_MAX], type [PROTO_SHORT_MAX], object [PROTO_ID_MAX], url [2049] = "";
    s_create (store, acct, 3, NULL, false, id);
    for (int i = 0; i < 3; i++)
        s_finish_next (store, true);
    int64_t now = util_now_ms ();
    render_event_t ev = s_settle (store, id, now);
    CHECK (!ev.delivery, "no delivery without webhook_url");
    CHECK (strcmp (ev.type, "render.succeeded") == 0, "type %s", ev.type);
    CHECK (strcmp (ev.status, "succeeded") == 0, "status %s", ev.status);
    CHECK (strncmp (ev.event_id, "evt_", 4) == 0, "event id %s", ev.event_id);
    CHECK (ev.seq > 0 && ev.seq == job_store_event_last_seq (store),
           "seq %lld is the newest event", (long long) ev.seq);

    int64_t seq = 0;
    int deliveries = -1;
    char *payload = s_event_row (dir, ev.event_id, type, object, &seq, &deliveries);
    CHECK (strcmp (payload, "") == 0, "no payload is stored without a delivery, got %.80s", payload);
    CHECK (deliveries == 0, "%d deliveries", deliveries);
    CHECK (seq == ev.seq && strcmp (type, "render.succeeded") == 0 && strcmp (object, id) == 0,
           "row: seq %lld type %s object %s", (long long) seq, type, object);
    free (payload);
    char *offered = s_offered (store, ev.event_id, url);
    CHECK (!offered, "events_since offers no event without a delivery");
    free (offered);

    /* the render itself is final and charged as before */
    proto_render_t r;
    memset (&r, 0, sizeof r);
    char err [256] = "";
    REQUIRE (job_store_render_get (store, id, acct, now, &r, err) == 0, "get: %s", err);
    CHECK (strcmp (r.status, "succeeded") == 0 && r.done == 3 && r.credits_used == 3
           && r.completed_at_ms == now && !r.webhook_url
           && strcmp (r.webhook_status, "none") == 0,
           "render %s done %d credits %lld completed %lld webhook_status %s", r.status, r.done,
           (long long) r.credits_used, (long long) r.completed_at_ms, r.webhook_status);
    proto_render_free (&r);
}

static void
s_test_with_webhook (job_store_t *store, const char *dir, const char *acct, bool capture)
{
    char id [PROTO_ID_MAX], type [PROTO_SHORT_MAX], object [PROTO_ID_MAX], url [2049] = "";
    int ntasks = capture ? 1 : 3;
    s_create (store, acct, ntasks, S_HOOK, capture, id);
    for (int i = 0; i < ntasks; i++)
        s_finish_next (store, capture || i != 1);     /* a render with one failed image */
    int64_t now = util_now_ms ();
    render_event_t ev = s_settle (store, id, now);
    const char *want_type = capture ? "job.completed" : "render.failed";
    CHECK (ev.delivery, "a delivery with webhook_url");
    CHECK (strcmp (ev.type, want_type) == 0, "type %s, expected %s", ev.type, want_type);

    int64_t seq = 0;
    int deliveries = -1;
    char *stored = s_event_row (dir, ev.event_id, type, object, &seq, &deliveries);
    char *offered = s_offered (store, ev.event_id, url);
    json_t *seed = s_seed_fields (store, id, want_type, ev.event_id, now);
    CHECK (deliveries == 1 && seq == ev.seq && strcmp (object, id) == 0,
           "%d deliveries, seq %lld, object %s", deliveries, (long long) seq, object);
    REQUIRE (offered, "events_since offers the delivery of %s", ev.event_id);
    CHECK (strcmp (url, S_HOOK) == 0, "delivery url %s", url);
    CHECK (strcmp (stored, offered) == 0, "stored and offered payloads differ:\n  %.200s\n  %.200s",
           stored, offered);
    s_check_payload (offered, seed, id, capture, now);
    json_decref (seed);

    /* what a receiver reads: the whole object, each image with a signed URL */
    json_error_t jerr;
    json_t *obj = json_loads (offered, 0, &jerr);
    REQUIRE (obj, "payload is JSON: %s", jerr.text);
    CHECK (strcmp (json_string_value (json_object_get (obj, "event_id")), ev.event_id) == 0
           && strcmp (json_string_value (json_object_get (obj, "type")), want_type) == 0
           && json_is_string (json_object_get (obj, "created_at")),
           "type, event_id and created_at in %.200s", offered);
    if (!capture) {
        json_t *images = json_object_get (obj, "images");
        CHECK (json_array_size (images) == 3, "3 images, got %zu", json_array_size (images));
        int signed_urls = 0;
        for (size_t i = 0; i < json_array_size (images); i++) {
            const char *u = json_string_value (json_object_get (json_array_get (images, i), "url"));
            if (u && strstr (u, S_PUBLIC_URL "/v1/files/") == u && strstr (u, "&sig="))
                signed_urls++;
        }
        CHECK (signed_urls == 2, "2 succeeded images with signed URLs, got %d", signed_urls);
    }
    else
        CHECK (json_is_string (json_object_get (obj, "job_id")), "job_id in %.200s", offered);
    json_decref (obj);
    free (stored);
    free (offered);
}

int
main (void)
{
    /* SQLite's files are read here: whatever the environment says */
    unsetenv ("EASEL_DATABASE_URL");
    char dir [] = "/tmp/easel-test-render-event-XXXXXX";
    REQUIRE (mkdtemp (dir), "mkdtemp");
    char err [256] = "";
    job_store_t *store = store_test_open (dir, err);
    REQUIRE (store, "open: %s", err);
    job_store_new_key_t key;
    REQUIRE (job_store_account_create (store, "events", 100, &key, err) == 0, "account: %s", err);
    s_test_without_webhook (store, dir, key.account_id);
    s_test_with_webhook (store, dir, key.account_id, false);
    s_test_with_webhook (store, dir, key.account_id, true);
    job_store_destroy (&store);
    char cmd [512];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
    if (check_failures)
        fprintf (stderr, "test_render_event: %d failed\n", check_failures);
    else
        printf ("test_render_event: passed\n");
    return check_failures ? 1 : 0;
}
