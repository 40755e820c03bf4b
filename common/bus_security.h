/*  bus_security.h: CurveZMQ on every bus socket, configured once per process.

    The scheduler is the CURVE server on its api and work ROUTERs and its
    events PUB; it admits a client only when the client's public certificate
    sits in EASEL_CURVE_ALLOWED_DIR, checked by a ZAP handler (an actor thread
    started here) that looks keys up in a zcertstore, which re-reads the
    directory whenever it changes, so certificates can be added or removed
    while the scheduler runs. Every refusal is logged as one JSON line with the
    peer address and key. Gateways, renderers and the webhooker are CURVE
    clients: their own secret certificate plus the scheduler's public one.

    Configuration (flags win over environment; read by bus_security_init):
    the BUS_SECURITY_CONFIG_* rows below, which every service's settings
    table (config.h) includes so they are known, checked and documented.
    Without a certificate the bus is plain, which is allowed only when every
    endpoint is loopback, ipc:// or inproc://, or when plain was asked for.

    Thread: bus_security_init/shutdown on the main thread; after init the
    configuration is read-only and bus_security_apply may be called from any
    thread (the gateway's civetweb workers do). Memory: the loaded certificates
    belong to this module until bus_security_shutdown. */
#ifndef EASEL_BUS_SECURITY_H
#define EASEL_BUS_SECURITY_H

#include <czmq.h>
#include <stdbool.h>
#include "config.h"

#define BUS_SECURITY_CONFIG_CERT \
    { .flag = "--curve-cert", .env = "EASEL_CURVE_CERT", .kind = CONFIG_TEXT, \
      .shown = "unset (plain bus)", .help = "its own secret certificate file (`NAME_secret`)" }
#define BUS_SECURITY_CONFIG_SERVER_KEY \
    { .flag = "--curve-server-key", .env = "EASEL_CURVE_SERVER_KEY", .kind = CONFIG_TEXT, \
      .help = "the scheduler's public certificate file" }
#define BUS_SECURITY_CONFIG_ALLOWED_DIR \
    { .flag = "--curve-allowed-dir", .env = "EASEL_CURVE_ALLOWED_DIR", .kind = CONFIG_TEXT, \
      .help = "directory of admitted client public certificates" }
#define BUS_SECURITY_CONFIG_PLAIN \
    { .flag = "--insecure-plain", .env = "EASEL_BUS_PLAIN", .kind = CONFIG_BOOL, \
      .help = "`1` allows a plain bus on non-loopback endpoints" }
#define BUS_SECURITY_CONFIG_CLIENT \
    BUS_SECURITY_CONFIG_CERT, BUS_SECURITY_CONFIG_SERVER_KEY, BUS_SECURITY_CONFIG_PLAIN
#define BUS_SECURITY_CONFIG_SERVER \
    BUS_SECURITY_CONFIG_CERT, BUS_SECURITY_CONFIG_ALLOWED_DIR, BUS_SECURITY_CONFIG_PLAIN

#define BUS_SECURITY_ERR_MAX   320     /* bytes of a reason, NUL included */
#define BUS_SECURITY_ZAP_DOMAIN "easel"

typedef enum {
    BUS_ROLE_SERVER,                    /* the scheduler: binds, admits clients */
    BUS_ROLE_CLIENT                     /* everyone else: connects to the scheduler */
} bus_role_t;

/* Reads the configuration and loads the certificates. `endpoints` is the
   NULL-terminated list of bus endpoints this process binds or connects; when
   the bus is plain each must be local unless plain was asked for. The server
   role starts the ZAP handler. Returns 0, or -1 with a one-line reason in err
   (a missing or unreadable certificate, a missing directory, a non-local
   endpoint without CURVE); on failure nothing stays loaded. Call once. */
int  bus_security_init (int argc, char **argv, bus_role_t role,
                        const char *const *endpoints, char *err);

/* Applies the process configuration to sock: CURVE server or client keys, or
   nothing when the bus is plain. Call before bind/connect. 0 / -1. */
int  bus_security_apply (zsock_t *sock);

/* True when CURVE is on for this process. */
bool bus_security_enabled (void);

/* Stops the ZAP handler and frees the certificates. Safe to call twice. */
void bus_security_shutdown (void);

/* True for ipc://, inproc:// and tcp:// endpoints on 127.0.0.0/8, ::1 or localhost. */
bool bus_security_endpoint_local (const char *endpoint);

/* Loads a secret certificate file (both keys present) or a public one
   (need_secret false). NULL with a reason in err. Caller owns the result. */
zcert_t *bus_security_cert_load (const char *path, bool need_secret, char *err);

#endif
