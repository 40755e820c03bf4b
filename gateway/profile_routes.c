/*  profile_routes.c: the capture profile routes (docs/api.md, "Capture
    profiles"): POST /v1/capture_profiles, GET /v1/capture_profiles,
    GET and DELETE /v1/capture_profiles/{id}; capture_profile.h checks the
    body, the scheduler answers (api_profiles.h). The route table's
    argument says which (PROFILE_ROUTE_*).
    Thread: the calling civetweb worker. */
#include "call.h"
#include "capture_profile.h"
#include "routes.h"

#include <sodium.h>

int
route_capture_profile (call_t *c)
{
    static const char *actions [] = { [PROFILE_ROUTE_CREATE] = "create", [PROFILE_ROUTE_LIST] = "list",
                                      [PROFILE_ROUTE_SHOW] = "show", [PROFILE_ROUTE_DELETE] = "delete" };
    api_error_t e;
    char *body = NULL, *json = NULL, *answer = NULL;
    size_t len = 0;
    int status = 0, route = c->route_arg;
    if (call_auth (c, &e))
        return call_reply_error (c, &e, NULL);
    if (route == PROFILE_ROUTE_CREATE
    &&  (call_check_json_body (c, &e) || call_read_body (c, &body, &len, &e)
         || capture_profile_validate (body, len, &json, &e))) {
        free (body);
        return call_reply_error (c, &e, NULL);
    }
    if (body) {
        sodium_memzero (body, len);
        free (body);
    }
    if ((route == PROFILE_ROUTE_SHOW || route == PROFILE_ROUTE_DELETE) && !proto_id_valid (c->id, "cpr_")) {
        api_error_set (&e, 404, "resource_missing", "id", "No such capture profile: '%.40s'.", c->id);
        return call_reply_error (c, &e, NULL);
    }
    int rc = capture_profile_call (c->gw->pool, c->auth, actions [route], c->id, json, &status, &answer, &e);
    if (json) {
        sodium_memzero (json, strlen (json));
        free (json);
    }
    if (rc)
        return call_reply_error (c, &e, NULL);
    rc = call_reply (c, status, "application/json", NULL, answer, strlen (answer));
    free (answer);
    return rc;
}
