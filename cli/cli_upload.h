/*  cli_upload.h: local image files to Easel uploads (POST /v1/files), for
    `easel render` specs that name screenshots by "path" and for any command
    that needs a file_id for a local file.

    Each file is asked for by sha256 first (GET /v1/files?sha256=) and sent
    only when the server does not have it. Single threaded; needs
    cli_api_init() first. Exit codes as cli_api.h. */
#ifndef EASEL_CLI_UPLOAD_H
#define EASEL_CLI_UPLOAD_H

#include <stdbool.h>
#include <jansson.h>

#define CLI_UPLOAD_MAX_BYTES (20 * 1024 * 1024)   /* the server's upload limit */
#define CLI_UPLOAD_MAX_FILES 512                  /* distinct paths one spec names */

/* The file_id of the local file at path into file_id (64 bytes), uploading
   it unless the server has its bytes (*skipped true then; skipped may be
   NULL). 0; CLI_USAGE when the file is missing, unreadable or too big (one
   line naming the path); CLI_TRANSPORT when the server refused it. */
int cli_upload_file (const char *path, char file_id [64], bool *skipped);

/* Progress styles of cli_upload_spec on stderr: a bar on a terminal, plain
   lines otherwise, JSON lines for --json. */
typedef enum { CLI_UPLOAD_TTY, CLI_UPLOAD_PLAIN, CLI_UPLOAD_JSON } cli_upload_style_t;

/* Replaces each slides[i].screenshot.path and background.image.path in
   body (a render spec) by file_id: the template's {locale} and {preset} are
   expanded over matrix.locales and matrix.presets (or canvas.preset); every
   distinct file must be readable before anything is uploaded, then each is
   uploaded once. A path without placeholders gives one file_id, else a map
   "<locale>/<preset>" (or locale, or preset) -> file_id. 0 when done (or no
   path), CLI_USAGE naming the path, CLI_TRANSPORT. */
int cli_upload_spec (json_t *body, cli_upload_style_t style);

#endif
