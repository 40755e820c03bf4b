/*  bus.c: Easel framing on CZMQ sockets (see bus.h).

    Sends go straight to libzmq with ZMQ_DONTWAIT so a full or vanished peer
    is reported (EAGAIN / EHOSTUNREACH) instead of blocking the owning thread;
    a multipart message is all-or-nothing once its first frame is accepted.
    Receives use zmsg_recv and check every frame before handing them out.
    Thread: the caller's socket thread. Memory: bus_msg_t owns its frames.  */
#include "bus.h"
#include "proto_msgs.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
bus_socket_setup (zsock_t *sock)
{
    zsock_set_linger (sock, 0);
    zsock_set_sndhwm (sock, EASEL_BUS_HWM);
    zsock_set_rcvhwm (sock, EASEL_BUS_HWM);
    zsock_set_maxmsgsize (sock, EASEL_MAX_MSG_BYTES);
    /* ZMTP heartbeats: a peer gone silent with its TCP connection still
       open (its host lost power, its link cut, its process frozen) is
       dropped after EASEL_PEER_DEAD_MS, so a client given every
       scheduler's endpoint stops sending into that connection and the one
       that took over gets every request (any traffic counts as life, so a
       long message in flight is not cut) */
    zsock_set_heartbeat_ivl (sock, EASEL_HEARTBEAT_MS);
    zsock_set_heartbeat_timeout (sock, EASEL_PEER_DEAD_MS);
    int type = zsock_type (sock);
    if (type == ZMQ_ROUTER)
        zsock_set_router_mandatory (sock, 1);
    else
    if (type == ZMQ_DEALER)
        zsock_set_immediate (sock, 1);
}

int
bus_endpoint_next (const char **cursor, char one [BUS_ENDPOINT_MAX + 1])
{
    const char *p = *cursor;
    if (!p || !*p)
        return 0;
    size_t len = strcspn (p, ",");
    if (len == 0 || len > BUS_ENDPOINT_MAX)
        return -1;
    memcpy (one, p, len);
    one [len] = '\0';
    p += len;
    if (*p == ',' && !*++p)
        return -1;                     /* a trailing comma */
    *cursor = p;
    return 1;
}

int
bus_connect (zsock_t *sock, const char *endpoints)
{
    const char *p = endpoints;
    char one [BUS_ENDPOINT_MAX + 1];
    int n = 0, rc;
    while ((rc = bus_endpoint_next (&p, one)) == 1)
        if (++n > BUS_ENDPOINTS_MAX || zsock_connect (sock, "%s", one) != 0)
            return -1;
    return rc == 0 && n > 0 ? 0 : -1;
}

/* Sends one frame without blocking; errno is libzmq's on failure. */
static int
s_send (void *handle, const void *data, size_t len, bool more)
{
    return zmq_send (handle, data, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) == -1 ? -1 : 0;
}

int
bus_send (zsock_t *sock, zframe_t *identity, int cmd, const char *body, size_t len)
{
    if (cmd < 0 || cmd > 255 || len > EASEL_MAX_MSG_BYTES || (len && !body)) {
        errno = len > EASEL_MAX_MSG_BYTES ? EMSGSIZE : EINVAL;
        return -1;
    }
    void *handle = zsock_resolve (sock);
    if (zsock_type (sock) == ZMQ_ROUTER) {
        if (!identity) {
            errno = EINVAL;
            return -1;
        }
        if (s_send (handle, zframe_data (identity), zframe_size (identity), true))
            return -1;
    }
    unsigned char command = (unsigned char) cmd;
    if (s_send (handle, "", 0, true)
    ||  s_send (handle, EASEL_PROTO_TAG, strlen (EASEL_PROTO_TAG), true)
    ||  s_send (handle, &command, 1, true)
    ||  s_send (handle, body ? body : "", len, false))
        return -1;
    return 0;
}

int
bus_send_sbuf (zsock_t *sock, zframe_t *identity, int cmd, const msgpack_sbuffer *body)
{
    return bus_send (sock, identity, cmd, body->data, body->size);
}

int
bus_recv (zsock_t *sock, bool router, bus_msg_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    if (err)
        err [0] = '\0';
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg) {
        proto_fail (err, "interrupted");
        return -1;
    }
    if (router)
        out->identity = zmsg_pop (msg);
    zframe_t *delim = zmsg_pop (msg);
    zframe_t *tag = zmsg_pop (msg);
    zframe_t *cmd = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    size_t taglen = strlen (EASEL_PROTO_TAG);
    int rc = -1;
    if (router && !out->identity)
        proto_fail (err, "empty message");
    else
    if (!delim || zframe_size (delim) != 0)
        proto_fail (err, "missing empty delimiter frame");
    else
    if (!tag || zframe_size (tag) != taglen || memcmp (zframe_data (tag), EASEL_PROTO_TAG, taglen))
        proto_fail (err, "bad protocol tag (want %s)", EASEL_PROTO_TAG);
    else
    if (!cmd || zframe_size (cmd) != 1)
        proto_fail (err, "command frame must be 1 byte");
    else
    if (!body)
        proto_fail (err, "missing body frame");
    else
    if (zframe_size (body) > EASEL_MAX_MSG_BYTES)
        proto_fail (err, "body too large (%zu bytes)", zframe_size (body));
    else
    if (zmsg_size (msg) != 0)
        proto_fail (err, "unexpected extra frames");
    else {
        out->cmd = zframe_data (cmd) [0];
        out->body = body;
        body = NULL;
        rc = 0;
    }
    zframe_destroy (&delim);
    zframe_destroy (&tag);
    zframe_destroy (&cmd);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
    return rc;
}

void
bus_msg_free (bus_msg_t *msg)
{
    if (!msg)
        return;
    zframe_destroy (&msg->identity);
    zframe_destroy (&msg->body);
    msg->cmd = 0;
}

int
bus_publish (zsock_t *pub, const char *topic, int64_t seq, const char *body, size_t len)
{
    char seqtext [24];
    if (!topic || strlen (topic) >= PROTO_SHORT_MAX || seq < 0 || len > EASEL_MAX_MSG_BYTES
    ||  (len && !body)) {
        errno = EINVAL;
        return -1;
    }
    snprintf (seqtext, sizeof seqtext, "%lld", (long long) seq);
    void *handle = zsock_resolve (pub);
    if (s_send (handle, topic, strlen (topic), true)
    ||  s_send (handle, seqtext, strlen (seqtext), true)
    ||  s_send (handle, body ? body : "", len, false))
        return -1;
    return 0;
}

/* Parses a frame of 1..19 decimal digits. */
static int
s_parse_seq (zframe_t *frame, int64_t *seq)
{
    char text [24];
    size_t n = frame ? zframe_size (frame) : 0;
    if (n == 0 || n > 19)
        return -1;
    memcpy (text, zframe_data (frame), n);
    text [n] = '\0';
    if (strspn (text, "0123456789") != n)
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll (text, &end, 10);
    if (errno || *end)
        return -1;
    *seq = v;
    return 0;
}

int
bus_recv_event (zsock_t *sub, char *topic, int64_t *seq, zframe_t **body, char *err)
{
    *body = NULL;
    topic [0] = '\0';
    *seq = 0;
    if (err)
        err [0] = '\0';
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg) {
        proto_fail (err, "interrupted");
        return -1;
    }
    int rc = -1;
    zframe_t *tframe = zmsg_pop (msg);
    zframe_t *sframe = zmsg_pop (msg);
    zframe_t *bframe = zmsg_pop (msg);
    if (!bframe || zmsg_size (msg) != 0)
        proto_fail (err, "event must have 3 frames");
    else
    if (zframe_size (tframe) == 0 || zframe_size (tframe) >= PROTO_SHORT_MAX
    ||  memchr (zframe_data (tframe), '\0', zframe_size (tframe)))
        proto_fail (err, "bad event topic");
    else
    if (s_parse_seq (sframe, seq))
        proto_fail (err, "bad event seq");
    else
    if (zframe_size (bframe) > EASEL_MAX_MSG_BYTES)
        proto_fail (err, "event body too large");
    else {
        memcpy (topic, zframe_data (tframe), zframe_size (tframe));
        topic [zframe_size (tframe)] = '\0';
        *body = bframe;
        bframe = NULL;
        rc = 0;
    }
    if (rc)
        *seq = 0;
    zframe_destroy (&tframe);
    zframe_destroy (&sframe);
    zframe_destroy (&bframe);
    zmsg_destroy (&msg);
    return rc;
}
