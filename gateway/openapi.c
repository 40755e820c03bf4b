/*  openapi.c: the route table and the compiled-in OpenAPI document (see openapi.h).
    Thread: any. Memory: static data only. */
#include "openapi.h"

#include <string.h>

/* generated at build time from docs/openapi.json (gateway/CMakeLists.txt) */
extern const char easel_openapi_json [];
extern const size_t easel_openapi_json_len;

/* Keep in the order gateway_handle tries them; "{id}" is one path segment. */
const openapi_route_t openapi_routes [] = {
    { "GET",  "/healthz" },
    { "GET",  "/readyz" },
    { "GET",  "/metrics" },
    { "GET",  "/openapi.json" },
    { "GET",  "/v1/presets" },
    { "GET",  "/v1/lint/rules" },
    { "POST", "/v1/renders" },
    { "GET",  "/v1/renders" },
    { "GET",  "/v1/renders/{id}" },
    { "POST", "/v1/renders/{id}/cancel" },
    { "GET",  "/v1/renders/{id}/deliveries" },
    { "GET",  "/v1/renders/{id}/archive" },
    { "GET",  "/v1/renders/{id}/changes" },
    { "POST", "/v1/renders/{id}/redeliver" },
    { "GET",  "/v1/renders/{id}/review" },
    { "POST", "/v1/renders/{id}/review" },
    { "GET",  "/v1/renders/{id}/review/status" },
    { "POST", "/v1/renders/{id}/review_links" },
    { "POST", "/v1/renders/{id}/review_links/revoke" },
    { "POST", "/v1/files" },
    { "GET",  "/v1/files" },
    { "GET",  "/v1/files/{id}" },
    { "GET",  "/v1/account" },
    { "POST", "/v1/capture" },
    { "GET",  "/v1/jobs/{id}" },
    { "GET",  "/v1/account/webhook_public_key" },
    { "POST", "/v1/account/webhook_signing" },
    { "POST", "/v1/account/webhook_secret/rotate" },
    { "POST", "/v1/webhooks/test" },
    { "GET",  "/v1/webhooks/test/{id}/deliveries" },
    { "GET",  "/v1/jobs/{id}/deliveries" },
    { "POST", "/v1/jobs/{id}/redeliver" },
};
const int openapi_nroutes = (int) (sizeof openapi_routes / sizeof openapi_routes [0]);

/* Does `path` match `tmpl`, where each "{...}" matches one non-empty segment? */
static int
s_match (const char *tmpl, const char *path)
{
    while (*tmpl && *path) {
        if (*tmpl == '{') {
            const char *close = strchr (tmpl, '}');
            if (!close || *path == '/')
                return 0;
            while (*path && *path != '/')
                path++;
            tmpl = close + 1;
        }
        else if (*tmpl++ != *path++)
            return 0;
    }
    return !*tmpl && !*path;
}

const char *
openapi_route_label (const char *path)
{
    for (int i = 0; path && i < openapi_nroutes; i++)
        if (s_match (openapi_routes [i].path, path))
            return openapi_routes [i].path;
    return "other";
}

const char *
openapi_document (size_t *len)
{
    if (len)
        *len = easel_openapi_json_len;
    return easel_openapi_json;
}
