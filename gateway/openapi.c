/*  openapi.c: the compiled-in OpenAPI document (see openapi.h).
    Thread: any. Memory: static data only. */
#include "openapi.h"

#include <string.h>

/* generated at build time from docs/openapi.json (gateway/CMakeLists.txt) */
extern const char easel_openapi_json [];
extern const size_t easel_openapi_json_len;

const char *
openapi_document (size_t *len)
{
    if (len)
        *len = easel_openapi_json_len;
    return easel_openapi_json;
}
