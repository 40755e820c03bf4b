/*  test_webhook_routes.c: the gateway's webhook routes before any bus call:
    which paths match with which method and id, and every bad id or body
    refused with the status and the field it names (deliveries.c). No
    scheduler: a request that passes validation reaches the missing client
    and answers 500, which proves it was accepted.  */
#include "check.h"
#include "deliveries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RND "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H"

static void
s_match (const char *path, deliveries_route_t want, const char *want_method, const char *want_id)
{
    char id[PROTO_ID_MAX];
    const char *method = NULL;
    deliveries_route_t got = deliveries_match (path, id, &method);
    CHECK (got == want, "%s: route %d, want %d", path, got, want);
    if (got != DELIVERIES_NONE && want == got) {
        CHECK (strcmp (method, want_method) == 0, "%s: method %s, want %s", path, method, want_method);
        CHECK (strcmp (id, want_id) == 0, "%s: id '%s', want '%s'", path, id, want_id);
    }
}

/* Runs a route without a client: want_status and want_param ("" for none). */
static void
s_call (deliveries_route_t route, const char *id, const char *body, int want_status, const char *want_param)
{
    api_error_t e;
    memset (&e, 0, sizeof e);
    int status = 0;
    char *json = NULL;
    int rc = deliveries_call (NULL, route, "00", id, body, body ? strlen (body) : 0, &status, &json, &e);
    CHECK (rc == -1 && e.status == want_status && strcmp (e.param, want_param) == 0,
           "route %d id '%s' body %s: got %d %d '%s' (%s), want %d '%s'", route, id, body ? body : "-",
           rc, e.status, e.param, e.message, want_status, want_param);
    free (json);
}

int
main (void)
{
    s_match ("/v1/renders/" RND "/deliveries", DELIVERIES_LIST, "GET", RND);
    s_match ("/v1/jobs/job_x/deliveries", DELIVERIES_LIST, "GET", "job_x");
    s_match ("/v1/renders/" RND "/redeliver", DELIVERIES_REDELIVER, "POST", RND);
    s_match ("/v1/webhooks/test", DELIVERIES_TEST, "POST", "");
    s_match ("/v1/webhooks/test/evt_1/deliveries", DELIVERIES_TEST_LIST, "GET", "evt_1");
    s_match ("/v1/account/webhook_secret/rotate", DELIVERIES_ROTATE, "POST", "");
    s_match ("/v1/account/webhook_public_key", DELIVERIES_PUBLIC_KEY, "GET", "");
    s_match ("/v1/account/webhook_signing", DELIVERIES_SIGNING, "POST", "");
    s_match ("/v1/renders/" RND, DELIVERIES_NONE, "", "");
    s_match ("/v1/renders//deliveries", DELIVERIES_NONE, "", "");
    s_match ("/v1/renders/a/b/deliveries", DELIVERIES_NONE, "", "");
    s_match ("/v1/renders/deliveries", DELIVERIES_NONE, "", "");
    /* an id over the cap matches the shape but keeps no id: a 404 follows */
    char longpath[256];
    snprintf (longpath, sizeof longpath, "/v1/renders/%0100d/deliveries", 7);
    s_match (longpath, DELIVERIES_LIST, "GET", "");

    s_call (DELIVERIES_LIST, "", NULL, 404, "id");
    s_call (DELIVERIES_LIST, "rnd_short", NULL, 404, "id");
    s_call (DELIVERIES_REDELIVER, "img_01KNS1WNPW9FCHZSK4XNTHMB0H", NULL, 404, "id");
    s_call (DELIVERIES_TEST_LIST, RND, NULL, 404, "id");
    s_call (DELIVERIES_LIST, RND, NULL, 500, "");                  /* valid: reaches the bus */
    s_call (DELIVERIES_TEST, "", "", 400, "");
    s_call (DELIVERIES_TEST, "", "[1]", 400, "");
    s_call (DELIVERIES_TEST, "", "{}", 422, "url");
    s_call (DELIVERIES_TEST, "", "{\"url\":null}", 422, "url");
    s_call (DELIVERIES_TEST, "", "{\"url\":\"file:///etc/passwd\"}", 422, "url");
    s_call (DELIVERIES_TEST, "", "{\"url\":\"https://x.test/h\",\"url\":\"https://y.test/\"}", 400, "");
    s_call (DELIVERIES_TEST, "", "{\"url\":\"https://x.test/h\",\"secret\":1}", 422, "secret");
    s_call (DELIVERIES_TEST, "", "{\"url\":\"https://x.test/h\"}", 500, "");
    s_call (DELIVERIES_ROTATE, "", NULL, 500, "");                 /* no body: the default overlap */
    s_call (DELIVERIES_ROTATE, "", "{\"overlap_s\":-1}", 422, "overlap_s");
    s_call (DELIVERIES_ROTATE, "", "{\"overlap_s\":2592001}", 422, "overlap_s");
    s_call (DELIVERIES_ROTATE, "", "{\"overlap_s\":1.5}", 422, "overlap_s");
    s_call (DELIVERIES_ROTATE, "", "{\"overlap_s\":2592000}", 500, "");
    s_call (DELIVERIES_SIGNING, "", "{}", 422, "ed25519");
    s_call (DELIVERIES_SIGNING, "", "{\"ed25519\":1}", 422, "ed25519");
    s_call (DELIVERIES_SIGNING, "", "{\"ed25519\":false}", 500, "");
    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("webhook_routes: all checks passed\n");
    return check_failures ? 1 : 0;
}
