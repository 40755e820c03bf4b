/*  http_error.h: civetweb's own error answers as Easel's JSON errors.

    civetweb answers some requests before any handler runs: a malformed
    request line, a bad HTTP version, headers over its size cap, a body
    without a length. Its built-in page is HTML; gateway_http_error (the
    mg_callbacks.http_error hook) writes instead
    {"error":{"type":"invalid_request_error","code":"malformed_request",...}}
    with X-Request-Id and Connection: close, like every other Easel error.
    Thread: the civetweb worker of the connection. No state. */
#ifndef EASEL_HTTP_ERROR_H
#define EASEL_HTTP_ERROR_H

#include <civetweb.h>

/* The error code for an HTTP status civetweb raised ("malformed_request"
   for 400, "headers_too_large" for 413 and 431, ...). */
const char *http_error_code (int status);

/* mg_callbacks.http_error: writes the JSON error and returns 0 (handled). */
int gateway_http_error (struct mg_connection *conn, int status, const char *errmsg);

#endif
