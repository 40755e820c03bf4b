/*  openapi.h: the gateway's OpenAPI 3.1 document.

    The document is docs/openapi.json, compiled in at build time (CMake turns
    it into a C array), so the served document and the file cannot differ.
    tests/integration/it_openapi.py checks the route table of gateway.c, the
    document and the live server against each other.

    Thread: any (read-only data). */
#ifndef EASEL_OPENAPI_H
#define EASEL_OPENAPI_H

#include <stddef.h>

/* The compiled-in docs/openapi.json and its length. */
const char *openapi_document (size_t *len);

#endif
