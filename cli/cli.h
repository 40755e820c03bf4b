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

/* `easel keys rotate-secret --account ACCT [--overlap-s N]` and
   `easel keys public-key --account ACCT [--ed25519 on|off]` (cli_webhook.c). */
#include <stdbool.h>
int cli_keys_rotate_secret (const char *data, const char *account, const char *overlap_s, bool as_json);
int cli_keys_public_key (const char *data, const char *account, const char *ed25519, bool as_json);

#endif
