/*  route_table.h: matching a request onto a table of routes.

    A route is a method, an OpenAPI path template ("/v1/renders/{id}/cancel",
    "{id}" being one non-empty path segment) and the handler that serves it.
    gateway.c holds the one table of the gateway and dispatches through
    route_find; the same table labels metrics (route_label), so a route
    cannot be served without being counted or counted without being served.
    Thread: any (the table is read-only). */
#ifndef EASEL_ROUTE_TABLE_H
#define EASEL_ROUTE_TABLE_H

#include <stddef.h>
#include "proto.h"

typedef struct call_s call_t;
typedef int route_fn (call_t *c);

enum {
    ROUTE_PROBE    = 1,     /* answered even when every connection slot is taken */
    ROUTE_OWN_KEYS = 2,     /* the handler reads the Idempotency-Key itself */
};

typedef struct {
    const char *method;     /* "GET" / "POST" */
    const char *path;       /* OpenAPI template */
    route_fn   *fn;
    int         arg;        /* the handler's argument (call_t.route_arg) */
    unsigned    flags;      /* ROUTE_* */
} route_t;

#define ROUTE_ALLOW_MAX 32  /* "GET, POST, DELETE" */

/* The route of table whose template matches path and whose method is method,
   with the {id} segment copied into id ("" when the template has none, or
   when the segment is PROTO_ID_MAX bytes or more: no id is that long, so the
   handler answers 404). NULL when no route takes that method: allow then
   holds the methods the path does take ("GET, POST", GET first), or "" when
   no template matches the path at all. */
const route_t *route_find (const route_t *table, size_t n, const char *method, const char *path,
                           char id [PROTO_ID_MAX], char *allow, size_t allow_size);

/* The template of table matching path, or "other": a bounded metrics label. */
const char *route_label (const route_t *table, size_t n, const char *path);

#endif
