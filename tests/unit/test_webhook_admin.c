/*  test_webhook_admin.c: the webhook management pieces below the HTTP layer:
    the WEBHOOK_REQ / JSON codec (round trip and refusals), the store's secret
    rotation (events carry both secrets during the overlap, one after), the
    ed25519 opt-in, the attempt log and redelivery reset, and the scheduler's
    JSON answers (404 for another account, 409 without a webhook, the error
    classes). Single thread on a temp data dir; failures print and exit 1. */
#include "check.h"
#include "store_test.h"
#include "job_store.h"
#include "webhook_admin.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_codec (void)
{
    proto_webhook_req_t a = { .overlap_s = 60 }, b;
    snprintf (a.rid, sizeof a.rid, "rid_1");
    snprintf (a.auth, sizeof a.auth, "%064d", 0);
    snprintf (a.action, sizeof a.action, "rotate");
    a.url = "https://example.com/hook";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    char err[PROTO_ERR_MAX];
    REQUIRE (proto_webhook_req_encode (&a, &sb) == 0, "encode WEBHOOK_REQ");
    CHECK (proto_webhook_req_decode (sb.data, sb.size, &b, err) == 0
           && strcmp (b.url, a.url) == 0 && b.overlap_s == 60 && strcmp (b.action, "rotate") == 0,
           "WEBHOOK_REQ round trip: %s", err);
    proto_webhook_req_free (&b);
    CHECK (proto_webhook_req_decode (sb.data, sb.size - 1, &b, err) == -1, "a truncated body is refused");
    msgpack_sbuffer_clear (&sb);
    a.overlap_s = -2;
    proto_webhook_req_encode (&a, &sb);
    CHECK (proto_webhook_req_decode (sb.data, sb.size, &b, err) == -1 && strstr (err, "overlap_s"),
           "overlap_s -2 is refused: %s", err);
    msgpack_sbuffer_clear (&sb);

    proto_json_t j = { .status = 404, .json = "{\"a\":1}" }, k;
    snprintf (j.rid, sizeof j.rid, "rid_2");
    REQUIRE (proto_json_encode (&j, &sb) == 0, "encode JSON");
    CHECK (proto_json_decode (sb.data, sb.size, &k, err) == 0 && k.status == 404
           && strcmp (k.json, j.json) == 0, "JSON round trip: %s", err);
    proto_json_free (&k);
    msgpack_sbuffer_clear (&sb);
    j.status = 99;
    proto_json_encode (&j, &sb);
    CHECK (proto_json_decode (sb.data, sb.size, &k, err) == -1, "a status outside 200..599 is refused");
    msgpack_sbuffer_destroy (&sb);
}

static int
s_count_secrets (job_store_t *store, const char *event_id, char *secret_out, size_t size)
{
    proto_events_t ev;
    memset (&ev, 0, sizeof ev);
    char err[256];
    int n = -1;
    REQUIRE (job_store_events_since (store, 0, 100, &ev, err) == 0, "events_since: %s", err);
    for (int i = 0; i < ev.nevents; i++)
        if (strcmp (ev.events[i].id, event_id) == 0) {
            snprintf (secret_out, size, "%s", ev.events[i].secret);
            n = 1;
            for (const char *p = ev.events[i].secret; *p; p++)
                n += *p == ' ';
        }
    proto_events_free (&ev);
    return n;
}

typedef struct { int n; int64_t last_code; } s_rows_t;

static void
s_row (const job_store_attempt_t *a, void *arg)
{
    s_rows_t *r = arg;
    r->n++;
    r->last_code = a->status_code;
}

static json_t *
s_admin (job_store_t *store, int cmd, const char *id, const char *account, int *status,
         webhook_admin_hint_t *hint)
{
    proto_webhook_req_t req;
    memset (&req, 0, sizeof req);
    snprintf (req.id, sizeof req.id, "%s", id);
    req.overlap_s = -1;
    proto_json_t rep;
    memset (&rep, 0, sizeof rep);
    char err[PROTO_ERR_MAX];
    REQUIRE (webhook_admin_handle (store, cmd, &req, account, util_now_ms (), &rep, hint, err) == 0,
             "webhook_admin_handle: %s", err);
    *status = rep.status;
    json_t *obj = json_loads (rep.json, 0, NULL);
    proto_json_free (&rep);
    REQUIRE (obj, "the answer is JSON");
    return obj;
}

int
main (void)
{
    s_codec ();

    char dir[] = "/tmp/easel-whadmin-XXXXXX", data[64], err[256];
    REQUIRE (mkdtemp (dir), "mkdtemp");
    snprintf (data, sizeof data, "%s/data", dir);
    job_store_t *store = store_test_open (data, err);
    REQUIRE (store, "open: %s", err);
    job_store_new_key_t k1, k2;
    REQUIRE (job_store_account_create (store, "one", JOB_STORE_UNLIMITED, &k1, err) == 0, "%s", err);
    REQUIRE (job_store_account_create (store, "two", JOB_STORE_UNLIMITED, &k2, err) == 0, "%s", err);

    /* a test event: the outbox row, then the secrets it is signed with */
    int64_t seq = 0, now = util_now_ms ();
    REQUIRE (job_store_event_add (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", "webhook.test", k1.account_id,
                                  "evt_01KNS1WNPW9FCHZSK4XNTHMB01", now, "{}", "http://h/x", &seq, err) == 0,
             "event_add: %s", err);
    char secrets[512], fresh[80];
    CHECK (s_count_secrets (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", secrets, sizeof secrets) == 1
           && strcmp (secrets, k1.webhook_secret) == 0, "one secret before rotation: %s", secrets);
    REQUIRE (job_store_webhook_secret_rotate (store, k1.account_id, 3600, now, fresh, err) == 0, "%s", err);
    CHECK (strncmp (fresh, "whsec_", 6) == 0 && strlen (fresh) >= 6 + 44 && strcmp (fresh, k1.webhook_secret),
           "a new 32-byte secret: %s", fresh);
    CHECK (s_count_secrets (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", secrets, sizeof secrets) == 2
           && strncmp (secrets, fresh, strlen (fresh)) == 0 && strstr (secrets, k1.webhook_secret),
           "new then old during the overlap: %s", secrets);
    char newer[80];
    REQUIRE (job_store_webhook_secret_rotate (store, k1.account_id, 3600, now, newer, err) == 0, "%s", err);
    CHECK (s_count_secrets (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", secrets, sizeof secrets) == 2
           && strncmp (secrets, newer, strlen (newer)) == 0 && strstr (secrets, fresh)
           && !strstr (secrets, k1.webhook_secret), "a second rotation ends the first overlap: %s", secrets);
    REQUIRE (job_store_webhook_secret_rotate (store, k1.account_id, 0, now, newer, err) == 0, "%s", err);
    CHECK (s_count_secrets (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", secrets, sizeof secrets) == 1
           && strcmp (secrets, newer) == 0, "overlap 0 cuts every old secret: %s", secrets);
    CHECK (job_store_webhook_secret_rotate (store, "acct_nope", 0, now, newer, err) == -1
           && strcmp (err, "not found") == 0, "rotating an unknown account: %s", err);

    /* ed25519 opt-in: off by default, the key stays the same, events carry edsk_ when on */
    char pk1[64], pk2[64];
    bool on = true;
    REQUIRE (job_store_webhook_ed25519 (store, k1.account_id, 0, pk1, &on, err) == 0, "%s", err);
    CHECK (!on && strlen (pk1) == 44, "ed25519 off, 32-byte key: %s", pk1);
    REQUIRE (job_store_webhook_ed25519 (store, k1.account_id, 1, pk2, &on, err) == 0, "%s", err);
    CHECK (on && strcmp (pk1, pk2) == 0, "enabling keeps the key");
    CHECK (s_count_secrets (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", secrets, sizeof secrets) == 2
           && strstr (secrets, " edsk_"), "the ed25519 key travels with the secrets: %.20s", secrets);
    job_store_webhook_ed25519 (store, k1.account_id, 2, pk2, &on, err);
    CHECK (!on && s_count_secrets (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", secrets, sizeof secrets) == 1,
           "disabled again");

    /* the attempt log and a redelivery */
    proto_delivery_report_t rep = { .ok = false, .status_code = 500, .latency_ms = 7,
                                    .error = "http_status: HTTP 500" };
    snprintf (rep.delivery_id, sizeof rep.delivery_id, "evt_01KNS1WNPW9FCHZSK4XNTHMB01");
    REQUIRE (job_store_delivery_report (store, &rep, 2, now, err) == 0, "%s", err);
    REQUIRE (job_store_delivery_report (store, &rep, 2, now, err) == 0, "%s", err);
    job_store_delivery_t d;
    REQUIRE (job_store_delivery_get (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", k1.account_id, &d, err) == 0, "%s", err);
    CHECK (strcmp (d.status, "failed") == 0 && d.attempts == 2 && d.event_seq == seq, "failed after 2: %s", d.status);
    CHECK (job_store_delivery_get (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", k2.account_id, &d, err) == -1
           && strcmp (err, "not found") == 0, "another account sees nothing");
    s_rows_t rows = { 0, 0 };
    job_store_delivery_attempts (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", 1, s_row, &rows, err);
    CHECK (rows.n == 1 && rows.last_code == 500, "the limit caps the rows: %d", rows.n);

    int status = 0;
    webhook_admin_hint_t hint;
    json_t *obj = s_admin (store, PROTO_REDELIVER, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", k1.account_id, &status, &hint);
    CHECK (status == 202 && strcmp (hint.topic, "webhook.redeliver") == 0 && hint.seq == seq,
           "redeliver: %d %s %lld", status, hint.topic, (long long) hint.seq);
    json_decref (obj);
    REQUIRE (job_store_delivery_get (store, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", k1.account_id, &d, err) == 0, "%s", err);
    CHECK (strcmp (d.status, "pending") == 0 && d.attempts == 0, "reset to pending: %s %d", d.status, d.attempts);

    obj = s_admin (store, PROTO_DELIVERIES_GET, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", k1.account_id, &status, &hint);
    json_t *list = json_object_get (obj, "data");
    CHECK (status == 200 && json_array_size (list) == 2
           && strcmp (json_string_value (json_object_get (json_array_get (list, 0), "error_class")),
                      "http_status") == 0, "deliveries list: %d", status);
    json_decref (obj);
    obj = s_admin (store, PROTO_DELIVERIES_GET, "evt_01KNS1WNPW9FCHZSK4XNTHMB01", k2.account_id, &status, &hint);
    CHECK (status == 404 && strcmp (json_string_value (json_object_get (json_object_get (obj, "error"), "param")),
                                    "id") == 0, "another account: 404 naming id, got %d", status);
    json_decref (obj);
    obj = s_admin (store, PROTO_WEBHOOK_TEST, "", k1.account_id, &status, &hint);
    CHECK (status == 422, "a test event without url: %d", status);
    json_decref (obj);

    char cls[64];
    webhook_admin_error_class ("timeout: Operation timed out", cls, sizeof cls);
    CHECK (strcmp (cls, "timeout") == 0, "timeout class: %s", cls);
    webhook_admin_error_class ("HTTP 500", cls, sizeof cls);
    CHECK (strcmp (cls, "other") == 0, "no class: %s", cls);
    webhook_admin_error_class ("weird: thing", cls, sizeof cls);
    CHECK (strcmp (cls, "other") == 0, "unknown class: %s", cls);

    job_store_destroy (&store);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", dir);
    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("webhook_admin: all checks passed\n");
    return check_failures ? 1 : 0;
}
