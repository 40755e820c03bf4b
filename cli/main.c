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
    "       easel credits add (--account acct_... | --key sk_...) N [--note TEXT] [--data DIR]\n"
    "       easel certs create NAME [--dir DIR] [--json]\n"
    "       easel backup [--data DIR] FILE [--json]\n"
    "       easel render spec.json [--async] [--wait] [--out DIR] [--json]\n"
    "       easel capture URL [--device D] [--background P] [--full-page] [--format F] [--out FILE] [--json]\n"
    "       easel jobs status job_... [--watch] [--json]\n"
    "       easel renders status rnd_... [--watch] [--json]\n"
    "       easel export rnd_... --out DIR [--layout fastlane] [--fail-on-lint] [--json]\n"
    "       easel docs reference\n"
    "   (render/capture/jobs/renders call EASEL_URL with EASEL_API_KEY; exit 0 ok,\n"
    "    1 the job failed, 2 usage, 3 transport or an error answer)\n";

int
main (int argc, char **argv)
{
    if (argc >= 2 && strcmp (argv[1], "up") == 0)
        return cli_up (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "keys") == 0)
        return cli_keys (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "credits") == 0)
        return cli_credits (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "certs") == 0)
        return cli_certs (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "backup") == 0)
        return cli_backup (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "render") == 0)
        return cli_render (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "capture") == 0)
        return cli_capture (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "jobs") == 0)
        return cli_status ("job", argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "renders") == 0)
        return cli_status ("render", argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "export") == 0)
        return cli_export (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "docs") == 0)
        return cli_docs (argc - 1, argv + 1);
    if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "help") == 0)) {
        fputs (s_usage, stdout);
        return 0;
    }
    fputs (s_usage, stderr);
    return 2;
}
