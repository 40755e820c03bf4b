/*  up_probe.h: is an address `easel up` is about to hand its services free?

    Asked once, before anything starts, so a second stack on the same ports or
    the same data directory is refused with a one-line reason instead of
    starting services that fail to bind or, worse, join the first stack's bus.
    A probe is a hint taken at one moment: the services still exit with
    LOG_EXIT_CANNOT_BIND when a bind fails later. No state; any thread. */
#ifndef EASEL_UP_PROBE_H
#define EASEL_UP_PROBE_H

#include <stddef.h>

#define UP_PROBE_WHY_MAX 512

/* A ZeroMQ endpoint the scheduler will bind: tcp://HOST:PORT (HOST may be *)
   is free when a TCP socket can bind it now; ipc://PATH is free when nothing
   accepts connections on PATH (a stale socket file is free) and PATH fits a
   Unix socket address. 0 when free, -1 with a sentence in why otherwise;
   other endpoint kinds (inproc) are not probed and count as free. */
int up_probe_endpoint (const char *endpoint, char *why, size_t size);

/* The gateway's HTTP listen address (HOST:PORT or PORT): 0 when a TCP socket
   can bind it now, -1 with a sentence in why. An address this parser does
   not understand counts as free (the gateway judges it). */
int up_probe_listen (const char *listen, char *why, size_t size);

#endif
