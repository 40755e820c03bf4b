/*  cli.h: the `easel` command's subcommands. Each takes the arguments from
    its own name on (argv[0] = "up" / "keys") and returns the exit status:
    0 success, 1 failure (one-line reason on stderr), 2 bad usage.  */
#ifndef EASEL_CLI_H
#define EASEL_CLI_H

/* `easel up`: start and supervise a whole stack on this machine. */
int cli_up (int argc, char **argv);

/* `easel keys create|list|revoke`: API keys in a data directory. */
int cli_keys (int argc, char **argv);

#endif
