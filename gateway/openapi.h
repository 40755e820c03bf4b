/*  openapi.h: the gateway's route table and its OpenAPI 3.1 document.

    openapi_routes lists every route gateway.c and deliveries.c serve, as
    OpenAPI path templates ("/v1/renders/{id}"); openapi_route_label maps a
    request path onto one of them, so metrics are labelled by route (bounded
    cardinality) and never by id. The document is docs/openapi.json, compiled
    in at build time (CMake turns it into a C array), so the served document
    and the file cannot differ. tests/integration/it_openapi.py checks the
    table, the document and the live server against each other.

    Thread: any (read-only data). */
#ifndef EASEL_OPENAPI_H
#define EASEL_OPENAPI_H

#include <stddef.h>

typedef struct {
    const char *method;      /* "GET" / "POST" */
    const char *path;        /* OpenAPI template */
} openapi_route_t;

extern const openapi_route_t openapi_routes [];
extern const int openapi_nroutes;

/* The template a request path matches ("/v1/renders/{id}"), or "other". */
const char *openapi_route_label (const char *path);

/* The compiled-in docs/openapi.json and its length. */
const char *openapi_document (size_t *len);

#endif
