/*  main.c: the `easel` command: dispatches to a subcommand (cli.h).
    Single threaded; nothing here outlives main.  */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *s_usage =
    "usage: easel up [--listen 127.0.0.1:8080] [--data ./easel-data] [--renderers N]\n"
    "                [--public-url URL] [--api EP] [--work EP] [--events EP]\n"
    "       easel keys create --name NAME [--credits N] [--data DIR] [--json]\n"
    "       easel keys list [--data DIR] [--json]\n"
    "       easel keys revoke KEY_OR_PREFIX [--data DIR]\n"
    "       easel credits add (--account acct_... | --key sk_...) N [--note TEXT] [--data DIR]\n";

int
main (int argc, char **argv)
{
    if (argc >= 2 && strcmp (argv[1], "up") == 0)
        return cli_up (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "keys") == 0)
        return cli_keys (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "credits") == 0)
        return cli_credits (argc - 1, argv + 1);
    if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "help") == 0)) {
        fputs (s_usage, stdout);
        return 0;
    }
    fputs (s_usage, stderr);
    return 2;
}
