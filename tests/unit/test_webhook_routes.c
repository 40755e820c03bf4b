/*  test_webhook_routes.c: the gateway's webhook routes before any bus call:
    every bad id or body refused with the status and the field it names
    (deliveries.c; which paths reach them is test_route_table's). No
    scheduler: a request that passes validation reaches the missing client
    and answers 500, which proves it was accepted.  */
#include "check.h"
#include "deliveries.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RND "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H"

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
