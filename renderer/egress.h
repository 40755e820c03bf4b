/*  egress.h: the only way out for one capture's browser.

    Chromium is started with --proxy-server=socks5://127.0.0.1:<port> of an
    egress_t, the loopback bypass removed (<-loopback>), its own resolver
    mapped to nothing (MAP * ~NOTFOUND) and WebRTC kept off non-proxied UDP,
    so every connection the page makes (the document, redirects, frames,
    subresources, fetches, workers, websockets, http and https alike) is a
    SOCKS5 CONNECT here, naming a host and a port. For each one egress
    resolves the name itself, checks every address it would connect to with
    the private-network rule (netguard_refuses: the renderer's
    --allow-private-networks and --allow-networks), connects to an address
    it checked and then only relays bytes. A DNS answer that changes between
    connections (rebinding) meets the same check each time; nothing is
    resolved twice for one connection. Refused connections are counted and
    the first refused host and address kept, so a failed navigation can say
    why.

    Limits: EGRESS_CONNS_MAX connections at a time (more wait in the
    listen queue), EGRESS_HANDSHAKE_MS for the SOCKS5 request,
    EGRESS_CONNECT_MS to connect, EGRESS_IDLE_MS without a byte either way.

    Thread: egress_start makes an accept thread and one thread per
    connection; egress_stop (from the thread that started it) ends them
    all and joins them. egress_refused and egress_port may be called from
    that thread at any time. */
#ifndef EASEL_EGRESS_H
#define EASEL_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include "netguard.h"

#define EGRESS_CONNS_MAX      64
#define EGRESS_HANDSHAKE_MS   10000
#define EGRESS_CONNECT_MS     10000
#define EGRESS_IDLE_MS        60000

typedef struct egress_s egress_t;

/* Listens on 127.0.0.1 (an ephemeral port). allow is copied. NULL with err
   when the socket or a thread cannot be made. */
egress_t *egress_start (bool allow_private, const netguard_allow_t *allow, char *err, size_t errsz);

/* The port Chromium's --proxy-server names. */
int egress_port (const egress_t *self);

/* How many connections were refused so far; when any, the first one's
   host and address ("host:port", "address") into the buffers. */
int egress_refused (egress_t *self, char *host, size_t host_size, char *addr, size_t addr_size);

/* Closes the listener and every connection, joins the threads, frees;
   *self_p becomes NULL. Safe with NULL. */
void egress_stop (egress_t **self_p);

#endif
