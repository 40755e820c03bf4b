/*  up_probe.c: bind and connect probes for `easel up` (see up_probe.h). */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "up_probe.h"

#define S_HOST_MAX 256

/* 0 when host:port (host "" or "*" = any address) can be bound now. */
static int
s_probe_tcp (const char *what, const char *host, const char *port, char *why, size_t size)
{
    struct addrinfo hints, *res = NULL;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    bool any = !*host || strcmp (host, "*") == 0;
    int rc = getaddrinfo (any ? NULL : host, port, &hints, &res);
    if (rc) {
        snprintf (why, size, "cannot resolve %s: %s", what, gai_strerror (rc));
        return -1;
    }
    int result = 0;
    for (struct addrinfo *ai = res; ai && result == 0; ai = ai->ai_next) {
        int fd = socket (ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind (fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EADDRNOTAVAIL
        &&  errno != EAFNOSUPPORT) {
            snprintf (why, size, "%s is already in use (%s): another Easel stack or program "
                      "holds it; stop it or choose another address", what, strerror (errno));
            result = -1;
        }
        close (fd);
    }
    freeaddrinfo (res);
    return result;
}

static int
s_probe_ipc (const char *endpoint, const char *path, char *why, size_t size)
{
    struct sockaddr_un addr;
    memset (&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen (path) >= sizeof addr.sun_path) {
        snprintf (why, size, "%s is longer than a Unix socket path may be (%zu bytes): "
                  "use a shorter --data path or --bus tcp", endpoint, sizeof addr.sun_path - 1);
        return -1;
    }
    memcpy (addr.sun_path, path, strlen (path));
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    int rc = connect (fd, (struct sockaddr *) &addr, sizeof addr);
    close (fd);
    if (rc == 0) {
        snprintf (why, size, "%s is in use: another Easel stack runs on this data directory", endpoint);
        return -1;
    }
    return 0;
}

int
up_probe_endpoint (const char *endpoint, char *why, size_t size)
{
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return s_probe_ipc (endpoint, endpoint + 6, why, size);
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return 0;
    const char *hostport = endpoint + 6;
    const char *colon = strrchr (hostport, ':');
    if (!colon || (size_t) (colon - hostport) >= S_HOST_MAX) {
        snprintf (why, size, "%s is not tcp://HOST:PORT", endpoint);
        return -1;
    }
    char host [S_HOST_MAX];
    size_t n = (size_t) (colon - hostport);
    memcpy (host, hostport, n);
    host [n] = '\0';
    if (n >= 2 && host [0] == '[' && host [n - 1] == ']') {
        memmove (host, host + 1, n - 2);
        host [n - 2] = '\0';
    }
    return s_probe_tcp (endpoint, host, colon + 1, why, size);
}

int
up_probe_listen (const char *listen, char *why, size_t size)
{
    char host [S_HOST_MAX] = "", port [16];
    const char *colon = strrchr (listen, ':');
    const char *p = colon ? colon + 1 : listen;
    size_t plen = strspn (p, "0123456789");
    if (plen == 0 || plen >= sizeof port || (colon && (size_t) (colon - listen) >= sizeof host))
        return 0;
    memcpy (port, p, plen);
    port [plen] = '\0';
    if (colon) {
        size_t n = (size_t) (colon - listen);
        const char *h = listen;
        if (n >= 2 && h [0] == '[' && h [n - 1] == ']') {
            h++;
            n -= 2;
        }
        memcpy (host, h, n);
        host [n] = '\0';
    }
    char what [S_HOST_MAX + 64];
    snprintf (what, sizeof what, "the HTTP address %s", listen);
    return s_probe_tcp (what, host, port, why, size);
}
