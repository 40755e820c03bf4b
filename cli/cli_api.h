/*  cli_api.h: the HTTP client of `easel render/capture/jobs/renders`
    (libcurl). Reads EASEL_URL (default http://127.0.0.1:8080) and
    EASEL_API_KEY. Exit codes of those commands: CLI_OK 0, CLI_FAILED 1 (the
    job or render failed), CLI_USAGE 2, CLI_TRANSPORT 3 (no answer, or an
    error answer such as 401, 422, 5xx). Errors go to stderr as one line.
    Single threaded. Memory: cli_api_resp_t owns body; cli_api_resp_free. */
#ifndef EASEL_CLI_API_H
#define EASEL_CLI_API_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define CLI_OK        0
#define CLI_FAILED    1
#define CLI_USAGE     2
#define CLI_TRANSPORT 3
#define CLI_API_BODY_MAX (64 * 1024 * 1024)   /* largest answer or file read */
#define CLI_WAIT_S    30                      /* one long-poll (?wait=) */
#define CLI_PROGRESS_POLL_MS 250              /* --watch: a GET this often, so each change shows */

typedef struct {
    long   status;                 /* HTTP status, 0 when no answer */
    char  *body;                   /* NUL-terminated */
    size_t len;
    char   content_type [128];
} cli_api_resp_t;

/* Checks EASEL_API_KEY is set. 0, or CLI_USAGE with a message. */
int  cli_api_init (void);

/* method path (relative "/v1/..." or an absolute URL) with an optional JSON
   body. 0 when an answer came (any status), CLI_TRANSPORT with a message
   when none did. */
int  cli_api_call (const char *method, const char *path, const char *json_body,
                   long timeout_s, cli_api_resp_t *out);
/* cli_api_call with a body of len bytes sent as ctype (NULL data: none). */
int  cli_api_call_bytes (const char *method, const char *path, const char *ctype, const void *data,
                         size_t len, long timeout_s, cli_api_resp_t *out);
void cli_api_resp_free (cli_api_resp_t *self);

/* An answer that is not 2xx: prints "easel: HTTP 401 invalid_api_key: ..."
   and returns CLI_TRANSPORT; a 2xx: parses the JSON object into *obj (0). */
int  cli_api_json (const cli_api_resp_t *resp, json_t **obj);

/* Follows GET path?wait= until the object's status is final, showing progress
   (a bar on a terminal, a line per change otherwise) on stderr. kind "job"
   or "render". *obj gets the final object. 0 / CLI_TRANSPORT. */
int  cli_api_watch (const char *kind, const char *id, json_t **obj);

/* True for a final status; *failed for failed/canceled. */
bool cli_api_final (const char *status, bool *failed);

/* Writes body to path. 0 / CLI_TRANSPORT with a message. */
int  cli_api_save (const char *path, const char *data, size_t len);

#endif
