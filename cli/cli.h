/*  cli.h: the `easel` command's subcommands. Each takes the arguments from
    its own name on (argv[0] = "up" / "keys") and returns the exit status:
    0 success, 1 failure (one-line reason on stderr), 2 bad usage.  */
#ifndef EASEL_CLI_H
#define EASEL_CLI_H

/* `easel up`: start and supervise a whole stack on this machine. */
int cli_up (int argc, char **argv);

/* `easel keys create|list|revoke`: API keys in a data directory. */
int cli_keys (int argc, char **argv);

/* `easel credits add`: top an account up, with a ledger row. */
int cli_credits (int argc, char **argv);

/* `easel certs create NAME [--dir DIR]`: a CurveZMQ keypair (cli_certs.c). */
int cli_certs (int argc, char **argv);

/* `easel backup [--data DIR] FILE`: online database backup (cli_backup.c). */
int cli_backup (int argc, char **argv);
/* `easel migrate`: the data dir's SQLite store into EASEL_DATABASE_URL's PostgreSQL. */
int cli_migrate (int argc, char **argv);

/* `easel keys rotate-secret --account ACCT [--overlap-s N]` and
   `easel keys public-key --account ACCT [--ed25519 on|off]` (cli_webhook.c). */
#include <stdbool.h>
int cli_keys_rotate_secret (const char *data, const char *account, const char *overlap_s, bool as_json);
int cli_keys_public_key (const char *data, const char *account, const char *ed25519, bool as_json);

/* API clients over HTTP (EASEL_URL, EASEL_API_KEY; exit codes in cli_api.h):
   `easel render` and `easel capture` (cli_render.c), `easel jobs status` and
   `easel renders status` (cli_jobs.c; kind "job" or "render"). */
int cli_render (int argc, char **argv);
int cli_capture (int argc, char **argv);
int cli_status (const char *kind, int argc, char **argv);
/* `easel renders review rnd_... [--wait] [--timeout S]` (cli_review.c): exit
   0 approved, 1 changes requested, 4 no decision (yet). */
int cli_review (int argc, char **argv);
/* `easel renders review-link rnd_... [--by NAME] [--since rnd_...] [--expires-in S]
   [--json]` (cli_review.c): prints a new review link. */
int cli_review_link (int argc, char **argv);

/* `easel export rnd_... --out DIR --layout fastlane`, and the writer of that
   tree for `easel render --layout fastlane` (cli_export.c). `render` is the
   render object as the API answers it; quiet: no "saved" lines. */
#include <jansson.h>
int cli_export (int argc, char **argv);

/* `easel frameit [FOLDER]`: fastlane frameit's Framefile.json and .strings,
   rendered store-sized beside each screenshot (cli_frameit.c). */
int cli_frameit (int argc, char **argv);

/* `easel docs reference`: docs/reference.md from the code's tables (cli_docs.c). */
int cli_docs (int argc, char **argv);
int cli_export_fastlane (const char *out_dir, json_t *render, bool quiet, bool fail_on_lint);

#endif
