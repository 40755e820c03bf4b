/*  test_up_probe.c: easel up's address probes (cli/up_probe.h): a tcp
    endpoint or HTTP address held by a listening socket is refused with a
    sentence naming it, a free one passes; an ipc path something accepts on
    is refused, a stale socket file or a missing one passes, and a path too
    long for a Unix socket address is refused. Loopback and /tmp only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "check.h"
#include "up_probe.h"

/* A TCP socket listening on 127.0.0.1 at an ephemeral port; *port set. */
static int
s_listen_tcp (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) || listen (fd, 4)
    ||  getsockname (fd, (struct sockaddr *) &a, &len))
        return -1;
    *port = ntohs (a.sin_port);
    return fd;
}

static int
s_listen_unix (const char *path)
{
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf (a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) || listen (fd, 4))
        return -1;
    return fd;
}

int
main (void)
{
    char why [UP_PROBE_WHY_MAX], ep [600];
    int port = 0;
    int fd = s_listen_tcp (&port);
    CHECK (fd >= 0, "cannot listen on loopback");
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    CHECK (up_probe_endpoint (ep, why, sizeof why) == -1, "a held tcp endpoint must be refused");
    CHECK (strstr (why, ep) && strstr (why, "in use"), "the reason names the endpoint: %s", why);
    snprintf (ep, sizeof ep, "tcp://*:%d", port);
    CHECK (up_probe_endpoint (ep, why, sizeof why) == -1, "a wildcard bind over a held port is refused");
    snprintf (ep, sizeof ep, "127.0.0.1:%d", port);
    CHECK (up_probe_listen (ep, why, sizeof why) == -1 && strstr (why, ep),
           "a held HTTP address is refused naming it: %s", why);
    close (fd);
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    CHECK (up_probe_endpoint (ep, why, sizeof why) == 0, "a released port is free: %s", why);
    snprintf (ep, sizeof ep, "127.0.0.1:%d", port);
    CHECK (up_probe_listen (ep, why, sizeof why) == 0, "a released HTTP address is free: %s", why);
    CHECK (up_probe_endpoint ("tcp://127.0.0.1", why, sizeof why) == -1, "no port: refused");
    CHECK (up_probe_endpoint ("inproc://x", why, sizeof why) == 0, "inproc is not probed");

    char dir [] = "/tmp/easel-probe-XXXXXX";
    CHECK (mkdtemp (dir) != NULL, "mkdtemp");
    char path [300];
    snprintf (path, sizeof path, "%s/api.sock", dir);
    snprintf (ep, sizeof ep, "ipc://%s", path);
    CHECK (up_probe_endpoint (ep, why, sizeof why) == 0, "a missing socket file is free: %s", why);
    int ufd = s_listen_unix (path);
    CHECK (ufd >= 0, "cannot listen on %s", path);
    CHECK (up_probe_endpoint (ep, why, sizeof why) == -1 && strstr (why, "another Easel stack"),
           "a socket something accepts on is refused: %s", why);
    close (ufd);            /* the file stays: a stale socket of a stopped stack */
    CHECK (access (path, F_OK) == 0, "the stale socket file is still there");
    CHECK (up_probe_endpoint (ep, why, sizeof why) == 0, "a stale socket file is free: %s", why);
    unlink (path);
    rmdir (dir);
    char longer [400] = "ipc:///tmp/";
    memset (longer + strlen (longer), 'x', 200);
    CHECK (up_probe_endpoint (longer, why, sizeof why) == -1 && strstr (why, "--bus tcp"),
           "an ipc path over the Unix socket limit is refused with the way out: %s", why);

    if (check_failures)
        fprintf (stderr, "test_up_probe: %d failed\n", check_failures);
    else
        printf ("test_up_probe: ok\n");
    return check_failures ? 1 : 0;
}
