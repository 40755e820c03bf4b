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
    "       easel migrate [--data DIR] [--json]   (DIR's SQLite store into EASEL_DATABASE_URL's PostgreSQL)\n"
    "       easel render spec.json|- [--async] [--wait] [--out DIR] [--layout fastlane]\n"
    "                    [--fail-on-lint] [--json]      (- reads the spec from standard input)\n"
    "       easel capture URL [--device D] [--background P] [--full-page] [--format F] [--out FILE] [--json]\n"
    "       easel jobs status job_... [--watch] [--json]\n"
    "       easel renders status rnd_... [--watch] [--json]\n"
    "       easel renders review rnd_... [--wait] [--timeout S] [--json]\n"
    "       easel renders review-link rnd_... [--by NAME] [--since rnd_...] [--expires-in S] [--json]\n"
    "                    (exit 0 approved, 1 changes requested, 4 no decision by then)\n"
    "       easel export rnd_... --out DIR [--layout fastlane] [--fail-on-lint] [--json]\n"
    "       easel frameit [FOLDER] [--platform ios|android|any] [--fail-on-lint] [--json]\n"
    "                    (fastlane frameit's Framefile.json and title/keyword.strings; writes\n"
    "                    <name>_framed.png beside each screenshot, store-sized and linted)\n"
    "       easel docs reference\n"
    "       easel COMMAND --help   (that command's usage)\n";
static const char *s_footer =
    "   (render/capture/jobs/renders call EASEL_URL with EASEL_API_KEY; exit 0 ok,\n"
    "    1 the job failed or, with --fail-on-lint, lint errors, 2 usage or a spec file\n"
    "    that cannot be read or is not JSON, 3 Easel unreachable or an error answer,\n"
    "    a spec the API rejects (400, 422) included)\n";

/* `easel CMD ... --help`: the usage lines of CMD (and their continuation
   lines) on stdout. */
static void
s_command_usage (const char *cmd)
{
    char want [64];
    snprintf (want, sizeof want, "easel %s ", cmd);
    bool in = false;
    for (const char *line = s_usage; *line; ) {
        size_t n = strcspn (line, "\n");
        const char *text = line + strspn (line, " ");
        if (strncmp (text, "usage: ", 7) == 0)
            text += 7;
        if (strncmp (text, "easel ", 6) == 0)
            in = strncmp (text, want, strlen (want)) == 0;
        if (in)
            printf ("%.*s\n", (int) n, line);
        line += n + (line [n] == '\n');
    }
    fputs (s_footer, stdout);
}

int
main (int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            if (strstr (s_usage, argv [1]) == NULL || strcmp (argv [1], "--help") == 0)
                break;
            s_command_usage (argv [1]);
            return 0;
        }
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
    if (argc >= 2 && strcmp (argv[1], "migrate") == 0)
        return cli_migrate (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "render") == 0)
        return cli_render (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "capture") == 0)
        return cli_capture (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "jobs") == 0)
        return cli_status ("job", argc - 1, argv + 1);
    if (argc >= 3 && strcmp (argv[1], "renders") == 0 && strcmp (argv[2], "review") == 0)
        return cli_review (argc - 1, argv + 1);
    if (argc >= 3 && strcmp (argv[1], "renders") == 0 && strcmp (argv[2], "review-link") == 0)
        return cli_review_link (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "renders") == 0)
        return cli_status ("render", argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "export") == 0)
        return cli_export (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "frameit") == 0)
        return cli_frameit (argc - 1, argv + 1);
    if (argc >= 2 && strcmp (argv[1], "docs") == 0)
        return cli_docs (argc - 1, argv + 1);
    if (argc >= 3 && strcmp (argv[1], "help") == 0) {
        s_command_usage (argv[2]);
        return 0;
    }
    if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
                   || strcmp (argv[1], "help") == 0)) {
        fputs (s_usage, stdout);
        fputs (s_footer, stdout);
        return 0;
    }
    fputs (s_usage, stderr);
    fputs (s_footer, stderr);
    return 2;
}
