/*  test_route_table.c: matching requests onto a route table (route_table.c):
    the handler a method and path pick, the {id} segment handed over, the
    Allow list of a path served with another method, and the paths no
    template takes. The table mirrors the shapes of the gateway's own
    (gateway.c); it_openapi.py checks that table against the document.  */
#include "check.h"
#include "route_table.h"

#include <stdio.h>
#include <string.h>

#define RND "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H"

static int s_a (call_t *c) { (void) c; return 1; }
static int s_b (call_t *c) { (void) c; return 2; }

static const route_t s_table [] = {
    { "GET",  "/healthz",                     s_a, 0, ROUTE_PROBE },
    { "POST", "/v1/renders",                  s_a, 0, ROUTE_OWN_KEYS },
    { "GET",  "/v1/renders",                  s_b, 0, 0 },
    { "GET",  "/v1/renders/{id}",             s_a, 0, 0 },
    { "GET",  "/v1/renders/{id}/deliveries",  s_b, 7, 0 },
    { "POST", "/v1/renders/{id}/review",      s_a, 0, 0 },
    { "GET",  "/v1/renders/{id}/review",      s_b, 0, 0 },
    { "POST", "/v1/webhooks/test",            s_a, 3, 0 },
    { "GET",  "/v1/webhooks/test/{id}/deliveries", s_b, 4, 0 },
};
#define N (sizeof s_table / sizeof s_table [0])

/* method + path picks the route at index want (-1: none) with id want_id and
   Allow want_allow. */
static void
s_find (const char *method, const char *path, int want, const char *want_id, const char *want_allow)
{
    char id [PROTO_ID_MAX], allow [ROUTE_ALLOW_MAX];
    const route_t *r = route_find (s_table, N, method, path, id, allow, sizeof allow);
    int got = r ? (int) (r - s_table) : -1;
    CHECK (got == want, "%s %s: route %d, want %d", method, path, got, want);
    CHECK (strcmp (id, want_id) == 0, "%s %s: id '%s', want '%s'", method, path, id, want_id);
    if (!r)
        CHECK (strcmp (allow, want_allow) == 0, "%s %s: Allow '%s', want '%s'", method, path, allow, want_allow);
}

static void
s_matches (void)
{
    s_find ("GET", "/healthz", 0, "", "");
    s_find ("POST", "/v1/renders", 1, "", "");
    s_find ("GET", "/v1/renders", 2, "", "");
    s_find ("GET", "/v1/renders/" RND, 3, RND, "");
    s_find ("GET", "/v1/renders/" RND "/deliveries", 4, RND, "");
    s_find ("POST", "/v1/renders/" RND "/review", 5, RND, "");
    s_find ("GET", "/v1/renders/" RND "/review", 6, RND, "");
    s_find ("POST", "/v1/webhooks/test", 7, "", "");
    s_find ("GET", "/v1/webhooks/test/evt_1/deliveries", 8, "evt_1", "");
    CHECK (s_table [4].arg == 7 && s_table [4].fn (NULL) == 2, "the route carries its handler and argument");
}

static void
s_not_allowed (void)
{
    s_find ("DELETE", "/v1/renders", -1, "", "GET, POST");
    s_find ("PUT", "/healthz", -1, "", "GET");
    s_find ("DELETE", "/v1/renders/" RND "/review", -1, "", "GET, POST");
    s_find ("GET", "/v1/webhooks/test", -1, "", "POST");
}

static void
s_unrouted (void)
{
    s_find ("GET", "/v1/nothing-here", -1, "", "");
    s_find ("GET", "/v1/renders/", -1, "", "");                 /* the segment is empty */
    s_find ("GET", "/v1/renders//deliveries", -1, "", "");
    s_find ("GET", "/v1/renders/a/b/deliveries", -1, "", "");
    s_find ("GET", "/v1/renders/deliveries/x", -1, "", "");
    s_find ("GET", "/healthz/", -1, "", "");
    s_find ("GET", "", -1, "", "");
    /* an id over the cap still names the route, but no id is handed over:
       the handler answers 404 for it */
    char longpath [256];
    snprintf (longpath, sizeof longpath, "/v1/renders/%0100d/deliveries", 7);
    s_find ("GET", longpath, 4, "", "");
}

static void
s_labels (void)
{
    CHECK (strcmp (route_label (s_table, N, "/v1/renders/" RND "/review"), "/v1/renders/{id}/review") == 0,
           "a path is labelled by its template");
    CHECK (strcmp (route_label (s_table, N, "/v1/renders/x/y/z"), "other") == 0, "unrouted paths are other");
    CHECK (strcmp (route_label (s_table, N, NULL), "other") == 0, "no path is other");
}

int
main (void)
{
    check_case ("matches", s_matches);
    check_case ("not_allowed", s_not_allowed);
    check_case ("unrouted", s_unrouted);
    check_case ("labels", s_labels);
    return check_done ("route_table");
}
