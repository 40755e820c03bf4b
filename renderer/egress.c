/*  egress.c: a SOCKS5 CONNECT relay that checks every address (see egress.h).

    Only what Chromium sends is implemented: SOCKS version 5, no
    authentication, CONNECT, to an IPv4, IPv6 or domain-name address
    (RFC 1928). Everything else is answered with the RFC's error code and
    closed. */
#include "egress.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_RELAY_BUF 16384

/* RFC 1928 replies */
#define S_REP_OK            0x00
#define S_REP_FAILURE       0x01
#define S_REP_NOT_ALLOWED   0x02
#define S_REP_HOST_UNREACH  0x04
#define S_REP_REFUSED       0x05
#define S_REP_CMD           0x07
#define S_REP_ATYP          0x08

typedef enum { S_FREE = 0, S_RUNNING, S_DONE } s_state_t;

typedef struct {
    egress_t  *owner;
    pthread_t  thread;
    int        client;
    s_state_t  state;
} s_conn_t;

struct egress_s {
    bool             allow_private;
    netguard_allow_t allow;
    int              listen_fd;
    int              port;
    int              stop [2];         /* stop [0] turns readable when stopping */
    pthread_t        acceptor;
    bool             acceptor_started;
    pthread_mutex_t  lock;
    s_conn_t         conns [EGRESS_CONNS_MAX];
    int              refused;
    char             first_host [300];
    char             first_addr [64];
};

/* ---- bounded socket io ------------------------------------------------------ */

/* Waits until fd is ready for events, the deadline (monotonic ms) passes
   or egress stops. 0 ready, -1 otherwise. */
static int
s_wait (egress_t *self, int fd, short events, int64_t deadline)
{
    while (true) {
        int64_t left = deadline - util_mono_ms ();
        if (left <= 0)
            return -1;
        struct pollfd p [2] = { { .fd = fd, .events = events }, { .fd = self->stop [0], .events = POLLIN } };
        int n = poll (p, 2, (int) (left > 1000 ? 1000 : left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || p [1].revents)
            return -1;
        if (p [0].revents)
            return 0;
    }
}

static int
s_read_exact (egress_t *self, int fd, uint8_t *buf, size_t len, int64_t deadline)
{
    size_t got = 0;
    while (got < len) {
        if (s_wait (self, fd, POLLIN, deadline))
            return -1;
        ssize_t n = recv (fd, buf + got, len - got, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        got += (size_t) n;
    }
    return 0;
}

static int
s_write_all (egress_t *self, int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
    size_t off = 0;
    while (off < len) {
        if (s_wait (self, fd, POLLOUT, deadline))
            return -1;
        ssize_t n = send (fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        off += (size_t) n;
    }
    return 0;
}

static void
s_reply (egress_t *self, int fd, uint8_t code)
{
    uint8_t r [10] = { 5, code, 0, 1, 0, 0, 0, 0, 0, 0 };
    s_write_all (self, fd, r, sizeof r, util_mono_ms () + EGRESS_HANDSHAKE_MS);
}

/* ---- one connection ------------------------------------------------------- */

static void
s_note_refused (egress_t *self, const char *host, int port, const char *addr)
{
    pthread_mutex_lock (&self->lock);
    if (self->refused++ == 0) {
        snprintf (self->first_host, sizeof self->first_host, "%s:%d", host, port);
        snprintf (self->first_addr, sizeof self->first_addr, "%s", addr);
    }
    pthread_mutex_unlock (&self->lock);
    log_info ("capture connection refused", "host", host, "address", addr,
              "reason", "a private address", NULL);
}

/* Connects to one checked address within the deadline: the fd, or -1. */
static int
s_connect (egress_t *self, const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (errno != EINPROGRESS || s_wait (self, fd, POLLOUT, deadline)
    ||  getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

/* Reads the SOCKS5 greeting and request: 0 with host (text) and port, or
   -1 after answering the error (or when the client went away). */
static int
s_handshake (egress_t *self, int fd, char *host, size_t host_size, int *port)
{
    int64_t deadline = util_mono_ms () + EGRESS_HANDSHAKE_MS;
    uint8_t b [262];
    if (s_read_exact (self, fd, b, 2, deadline) || b [0] != 5 || b [1] == 0
    ||  s_read_exact (self, fd, b + 2, b [1], deadline))
        return -1;
    if (!memchr (b + 2, 0x00, b [1])) {        /* "no authentication" not offered */
        uint8_t no [2] = { 5, 0xFF };
        s_write_all (self, fd, no, 2, deadline);
        return -1;
    }
    uint8_t yes [2] = { 5, 0x00 };
    if (s_write_all (self, fd, yes, 2, deadline) || s_read_exact (self, fd, b, 4, deadline) || b [0] != 5)
        return -1;
    if (b [1] != 1) {
        s_reply (self, fd, S_REP_CMD);
        return -1;
    }
    uint8_t atyp = b [3];
    if (atyp == 1 || atyp == 4) {
        size_t n = atyp == 1 ? 4 : 16;
        if (s_read_exact (self, fd, b, n + 2, deadline))
            return -1;
        inet_ntop (atyp == 1 ? AF_INET : AF_INET6, b, host, (socklen_t) host_size);
        *port = b [n] << 8 | b [n + 1];
        return 0;
    }
    if (atyp != 3) {
        s_reply (self, fd, S_REP_ATYP);
        return -1;
    }
    if (s_read_exact (self, fd, b, 1, deadline))
        return -1;
    size_t n = b [0];
    if (n == 0 || n >= host_size || s_read_exact (self, fd, b, n + 2, deadline))
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = b [i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
               || c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) {
            s_reply (self, fd, S_REP_HOST_UNREACH);
            return -1;
        }
    }
    memcpy (host, b, n);
    host [n] = '\0';
    *port = b [n] << 8 | b [n + 1];
    return 0;
}

/* Relays bytes both ways until both sides are done, an error, EGRESS_IDLE_MS
   of silence, or stop. */
static void
s_relay (egress_t *self, int a, int b)
{
    struct { int from, to; uint8_t buf [S_RELAY_BUF]; size_t len, off; bool eof, shut; } d [2] = {
        { .from = a, .to = b }, { .from = b, .to = a }
    };
    while (!(d [0].shut && d [1].shut)) {
        struct pollfd p [3] = { { .fd = a }, { .fd = b }, { .fd = self->stop [0], .events = POLLIN } };
        for (int i = 0; i < 2; i++) {
            struct pollfd *from = &p [i], *to = &p [1 - i];
            if (!d [i].eof && d [i].len == 0)
                from->events |= POLLIN;
            if (d [i].len > 0)
                to->events |= POLLOUT;
        }
        int n = poll (p, 3, EGRESS_IDLE_MS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || p [2].revents)
            return;
        for (int i = 0; i < 2; i++) {
            struct pollfd *from = &p [i], *to = &p [1 - i];
            if ((from->revents & POLLHUP) && d [i].eof)
                return;                 /* that side is gone both ways */
            if (from->revents && !(from->events & POLLIN) && !(from->events & POLLOUT)
            &&  (from->revents & (POLLERR | POLLNVAL)))
                return;
            if ((from->events & POLLIN) && (from->revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t r = recv (d [i].from, d [i].buf, sizeof d [i].buf, 0);
                if (r < 0 && (errno == EINTR || errno == EAGAIN))
                    continue;
                if (r < 0)
                    return;
                if (r == 0)
                    d [i].eof = true;
                d [i].len = (size_t) r, d [i].off = 0;
            }
            if ((to->events & POLLOUT) && (to->revents & (POLLOUT | POLLHUP | POLLERR))) {
                ssize_t w = send (d [i].to, d [i].buf + d [i].off, d [i].len - d [i].off, MSG_NOSIGNAL);
                if (w < 0 && (errno == EINTR || errno == EAGAIN))
                    continue;
                if (w <= 0)
                    return;
                d [i].off += (size_t) w;
                if (d [i].off == d [i].len)
                    d [i].len = d [i].off = 0;
            }
            if (d [i].eof && d [i].len == 0 && !d [i].shut) {
                shutdown (d [i].to, SHUT_WR);
                d [i].shut = true;
            }
        }
    }
}

static void *
s_conn_run (void *arg)
{
    s_conn_t *c = arg;
    egress_t *self = c->owner;
    char host [256];
    int port = 0, upstream = -1;
    if (s_handshake (self, c->client, host, sizeof host, &port) == 0) {
        char service [8];
        snprintf (service, sizeof service, "%d", port);
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_NUMERICSERV }, *res = NULL;
        uint8_t code = S_REP_HOST_UNREACH;
        if (port > 0 && getaddrinfo (host, service, &hints, &res) == 0) {
            int64_t deadline = util_mono_ms () + EGRESS_CONNECT_MS;
            bool refused = false;
            code = S_REP_REFUSED;
            for (struct addrinfo *ai = res; ai && upstream < 0; ai = ai->ai_next) {
                char text [64];
                if (netguard_refuses (ai->ai_addr, self->allow_private, &self->allow, text, sizeof text)) {
                    if (!refused)
                        s_note_refused (self, host, port, text [0] ? text : "(unprintable)");
                    refused = true;
                    continue;
                }
                upstream = s_connect (self, ai, deadline);
            }
            if (upstream < 0 && refused)
                code = S_REP_NOT_ALLOWED;
            freeaddrinfo (res);
        }
        if (upstream < 0)
            s_reply (self, c->client, code);
        else {
            s_reply (self, c->client, S_REP_OK);
            s_relay (self, c->client, upstream);
            close (upstream);
        }
    }
    close (c->client);
    pthread_mutex_lock (&self->lock);
    c->state = S_DONE;
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

/* ---- the listener ----------------------------------------------------------- */

/* Joins finished connection threads; the number of free slots. */
static int
s_reap (egress_t *self)
{
    int free_slots = 0;
    for (int i = 0; i < EGRESS_CONNS_MAX; i++) {
        pthread_mutex_lock (&self->lock);
        s_state_t st = self->conns [i].state;
        pthread_mutex_unlock (&self->lock);
        if (st == S_DONE) {
            pthread_join (self->conns [i].thread, NULL);
            self->conns [i].state = S_FREE;
            st = S_FREE;
        }
        free_slots += st == S_FREE;
    }
    return free_slots;
}

static void *
s_accept_run (void *arg)
{
    egress_t *self = arg;
    while (true) {
        int free_slots = s_reap (self);
        struct pollfd p [2] = { { .fd = self->stop [0], .events = POLLIN },
                                { .fd = self->listen_fd, .events = POLLIN } };
        int n = poll (p, free_slots ? 2 : 1, free_slots ? 1000 : 50);
        if (n < 0 && errno != EINTR)
            break;
        if (p [0].revents)
            break;
        if (n <= 0 || !free_slots || !(p [1].revents & POLLIN))
            continue;
        int fd = accept4 (self->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            continue;
        s_conn_t *c = NULL;
        for (int i = 0; i < EGRESS_CONNS_MAX && !c; i++)
            if (self->conns [i].state == S_FREE)
                c = &self->conns [i];
        c->owner = self;
        c->client = fd;
        c->state = S_RUNNING;
        if (pthread_create (&c->thread, NULL, s_conn_run, c) != 0) {
            close (fd);
            c->state = S_FREE;
        }
    }
    return NULL;
}

egress_t *
egress_start (bool allow_private, const netguard_allow_t *allow, char *err, size_t errsz)
{
    egress_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errsz, "out of memory");
        return NULL;
    }
    self->allow_private = allow_private;
    if (allow)
        self->allow = *allow;
    self->stop [0] = self->stop [1] = -1;
    pthread_mutex_init (&self->lock, NULL);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t sl = sizeof sin;
    self->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (self->listen_fd < 0 || bind (self->listen_fd, (struct sockaddr *) &sin, sizeof sin) != 0
    ||  listen (self->listen_fd, 128) != 0
    ||  getsockname (self->listen_fd, (struct sockaddr *) &sin, &sl) != 0
    ||  pipe2 (self->stop, O_CLOEXEC) != 0) {
        snprintf (err, errsz, "cannot listen on loopback: %s", strerror (errno));
        egress_stop (&self);
        return NULL;
    }
    self->port = ntohs (sin.sin_port);
    if (pthread_create (&self->acceptor, NULL, s_accept_run, self) != 0) {
        snprintf (err, errsz, "cannot start a thread");
        egress_stop (&self);
        return NULL;
    }
    self->acceptor_started = true;
    return self;
}

int
egress_port (const egress_t *self)
{
    return self->port;
}

int
egress_refused (egress_t *self, char *host, size_t host_size, char *addr, size_t addr_size)
{
    pthread_mutex_lock (&self->lock);
    int n = self->refused;
    snprintf (host, host_size, "%s", self->first_host);
    snprintf (addr, addr_size, "%s", self->first_addr);
    pthread_mutex_unlock (&self->lock);
    return n;
}

void
egress_stop (egress_t **self_p)
{
    egress_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->stop [1] >= 0) {
        char one = 1;
        while (write (self->stop [1], &one, 1) < 0 && errno == EINTR)
            ;
    }
    if (self->acceptor_started)
        pthread_join (self->acceptor, NULL);
    for (int i = 0; i < EGRESS_CONNS_MAX; i++)
        if (self->conns [i].state != S_FREE)
            pthread_join (self->conns [i].thread, NULL);
    if (self->listen_fd >= 0)
        close (self->listen_fd);
    for (int i = 0; i < 2; i++)
        if (self->stop [i] >= 0)
            close (self->stop [i]);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}
