/*  bench_ceiling.c: the HTTP ceiling for the api benchmark.

    civetweb answering a tiny JSON body on every path with keep-alive,
    TCP_NODELAY and one write per response: what the gateway's HTTP layer
    could do if Easel's own work cost nothing. Same library and thread count
    as easel-gateway.

      bench_ceiling --listen 127.0.0.1:PORT [--threads N] [--seconds S]

    Exits by itself after S seconds (default 60, cap 600).
    Thread: civetweb's workers run s_handler; main only sleeps.
    Bench-only: built with -DEASEL_BENCH=ON, never run by ctest or CI. */
#include <civetweb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
s_handler (struct mg_connection *conn, void *arg)
{
    (void) arg;
    static const char reply [] =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 11\r\n"
        "Connection: keep-alive\r\n"
        "\r\n"
        "{\"ok\":true}";
    /* drain a request body, if any, so keep-alive stays in step */
    char buf [4096];
    while (mg_read (conn, buf, sizeof buf) > 0)
        ;
    mg_write (conn, reply, sizeof reply - 1);
    return 200;
}

int
main (int argc, char **argv)
{
    const char *listen = NULL, *threads = "64";
    long seconds = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp (argv [i], "--listen"))
            listen = argv [i + 1];
        else
        if (!strcmp (argv [i], "--threads"))
            threads = argv [i + 1];
        else
        if (!strcmp (argv [i], "--seconds")) {
            char *end;
            errno = 0;
            seconds = strtol (argv [i + 1], &end, 10);
            if (errno || *end || seconds < 1 || seconds > 600) {
                fprintf (stderr, "bench_ceiling: --seconds must be 1..600\n");
                return 2;
            }
        }
    }
    if (!listen || argc % 2 == 0) {
        fprintf (stderr, "usage: bench_ceiling --listen HOST:PORT [--threads N] [--seconds S]\n");
        return 2;
    }
    const char *options [] = {
        "listening_ports", listen, "num_threads", threads, "enable_keep_alive", "yes",
        "tcp_nodelay", "1", "keep_alive_timeout_ms", "30000", NULL
    };
    mg_init_library (0);
    struct mg_callbacks cb;
    memset (&cb, 0, sizeof cb);
    struct mg_context *ctx = mg_start (&cb, NULL, options);
    if (!ctx) {
        fprintf (stderr, "bench_ceiling: cannot listen on %s\n", listen);
        return 1;
    }
    mg_set_request_handler (ctx, "/", s_handler, NULL);
    sleep ((unsigned) seconds);
    mg_stop (ctx);
    mg_exit_library ();
    return 0;
}
