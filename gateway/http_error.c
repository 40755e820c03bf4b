/*  http_error.c: JSON bodies for civetweb's own errors (see http_error.h).
    civetweb's message text is logged, never sent: it may quote the request. */
#include "http_error.h"
#include "render_json.h"
#include "proto.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
http_error_code (int status)
{
    switch (status) {
        case 400: return "malformed_request";
        case 404: return "route_not_found";
        case 405: return "method_not_allowed";
        case 408: return "request_timeout";
        case 411: return "length_required";
        case 413: return "headers_too_large";
        case 414: return "uri_too_long";
        case 417: return "expectation_failed";
        case 431: return "headers_too_large";
        case 501: return "not_implemented";
        case 505: return "http_version_not_supported";
        default:  return status >= 500 ? "internal_error" : "malformed_request";
    }
}

static const char *
s_message (int status)
{
    switch (status) {
        case 400: return "The request is not well-formed HTTP/1.1 (request line, headers or framing).";
        case 408: return "The request did not arrive in time.";
        case 411: return "A request with a body must send Content-Length or Transfer-Encoding: chunked.";
        case 413:
        case 431: return "The request line and headers are over the size limit.";
        case 414: return "The request URL is over the size limit.";
        case 417: return "Only Expect: 100-continue is understood.";
        case 501: return "The method or transfer coding is not implemented.";
        case 505: return "Only HTTP/1.0 and HTTP/1.1 are spoken here.";
        default:  return status >= 500 ? "An internal error occurred." : "The request could not be read.";
    }
}

int
gateway_http_error (struct mg_connection *conn, int status, const char *errmsg)
{
    char request_id [PROTO_ID_MAX];
    proto_id_new ("req_", request_id, sizeof request_id);
    char code [8];
    snprintf (code, sizeof code, "%d", status);
    log_info ("request refused by the HTTP layer", "request_id", request_id, "status", code,
              "reason", errmsg ? errmsg : "", NULL);
    const char *type = status >= 500 ? "api_error" : "invalid_request_error";
    json_t *obj = render_json_error (type, http_error_code (status), s_message (status), NULL);
    size_t len = 0;
    char *body = obj ? render_json_dump (obj, &len) : NULL;
    json_decref (obj);
    char head [512];
    const char *reason = mg_get_response_code_text (conn, status);
    int n = snprintf (head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                      "X-Request-Id: %s\r\nConnection: close\r\n\r\n",
                      status, reason ? reason : "Error", body ? len : 0, request_id);
    char *buf = n > 0 && (size_t) n < sizeof head ? malloc ((size_t) n + len) : NULL;
    bool sent = buf != NULL;
    if (buf) {
        memcpy (buf, head, (size_t) n);
        if (body)
            memcpy (buf + n, body, len);
        mg_write (conn, buf, (size_t) n + (body ? len : 0));
    }
    free (buf);
    free (body);
    return sent ? 0 : 1;         /* 1: civetweb writes its own page instead */
}
