/*  test_curve.c: CurveZMQ on the bus (common/bus_security) over loopback TCP.

    An admitted client completes the handshake and talks to a ROUTER and
    hears a PUB; a client whose certificate is not in the allowed directory,
    and a plain client, get nothing through and the refusal is logged as a
    JSON line naming the key; copying the certificate into the directory while
    the server runs admits it. Configuration errors give one-line reasons:
    missing or public-only certificates, a missing directory, plain transport
    to a non-loopback endpoint. */
#include "check.h"
#include "bus.h"
#include "bus_security.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

static FILE *s_report;             /* stderr, kept while stderr goes to the log file */

static char s_dir [256];

static void
s_path (char *out, size_t size, const char *name)
{
    snprintf (out, size, "%s/%s", s_dir, name);
}

static zcert_t *
s_cert (const char *name, const char *public_dir)
{
    char path [512];
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    s_path (path, sizeof path, name);
    zcert_save (cert, path);
    if (public_dir) {
        snprintf (path, sizeof path, "%s/%s", public_dir, name);
        zcert_save_public (cert, path);
    }
    return cert;
}

static zsock_t *
s_client (int type, zcert_t *cert, const char *server_key, const char *endpoint)
{
    zsock_t *sock = zsock_new (type);
    zsock_set_linger (sock, 0);
    if (cert) {
        zcert_apply (cert, sock);
        zsock_set_curve_serverkey (sock, server_key);
    }
    if (type == ZMQ_SUB)
        zsock_set_subscribe (sock, "");
    zsock_connect (sock, "%s", endpoint);
    return sock;
}

/* Waits up to ms for a message on sock; returns it or NULL. */
static zmsg_t *
s_recv (zsock_t *sock, int ms)
{
    zpoller_t *p = zpoller_new (sock, NULL);
    zmsg_t *msg = zpoller_wait (p, ms) == sock ? zmsg_recv (sock) : NULL;
    zpoller_destroy (&p);
    return msg;
}

/* The PUB publishes every 50 ms until sub hears something or ms pass. */
static bool
s_hears (zsock_t *pub, zsock_t *sub, int ms)
{
    for (int waited = 0; waited < ms; waited += 50) {
        zstr_send (pub, "event");
        zmsg_t *msg = s_recv (sub, 50);
        if (msg) {
            zmsg_destroy (&msg);
            return true;
        }
    }
    return false;
}

static char *
s_read_all (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return strdup ("");
    char *buf = calloc (1, 1 << 20);
    size_t n = fread (buf, 1, (1 << 20) - 1, f);
    buf [n] = 0;
    fclose (f);
    return buf;
}

static int
s_init (bus_role_t role, const char *const *args, const char *endpoint, char *err)
{
    const char *argv [16] = { "test_curve" };
    int argc = 1;
    for (int i = 0; args [i] && argc < 15; i++)
        argv [argc++] = args [i];
    const char *eps [] = { endpoint, NULL };
    return bus_security_init (argc, (char **) argv, role, eps, err);
}

int
main (void)
{
    log_init ("test_curve");
    s_report = stderr;
    zsys_init ();
    snprintf (s_dir, sizeof s_dir, "/tmp/easel-curve-XXXXXX");
    if (!mkdtemp (s_dir)) {
        perror ("mkdtemp");
        return 1;
    }
    char allowed [512], server_secret [512], server_public [512], log_path [512];
    s_path (allowed, sizeof allowed, "allowed");
    s_path (server_secret, sizeof server_secret, "server_secret");
    s_path (server_public, sizeof server_public, "server");
    s_path (log_path, sizeof log_path, "log.jsonl");
    mkdir (allowed, 0700);
    zcert_t *server = s_cert ("server", NULL);
    zcert_t *alice = s_cert ("alice", allowed);       /* admitted */
    zcert_t *mallory = s_cert ("mallory", NULL);       /* not (yet) */
    (void) server_public;
    char server_key [41];
    snprintf (server_key, sizeof server_key, "%s", zcert_public_txt (server));
    char err [BUS_SECURITY_ERR_MAX] = "";

    /* ---- local endpoints ---- */
    CHECK (bus_security_endpoint_local ("tcp://127.0.0.1:5555"), "127.0.0.1 is local");
    CHECK (bus_security_endpoint_local ("tcp://localhost:5555"), "localhost is local");
    CHECK (bus_security_endpoint_local ("tcp://[::1]:5555"), "::1 is local");
    CHECK (bus_security_endpoint_local ("ipc:///tmp/x") && bus_security_endpoint_local ("inproc://x"),
           "ipc and inproc are local");
    CHECK (!bus_security_endpoint_local ("tcp://*:5555"), "wildcard bind is not local");
    CHECK (!bus_security_endpoint_local ("tcp://10.213.0.1:5555"), "private address is not local");
    CHECK (!bus_security_endpoint_local ("tcp://127.example.com:1"), "a name starting 127. is not loopback");
    /* lists (a scheduler and its standbys): local only when every element is */
    CHECK (bus_security_endpoint_local ("tcp://127.0.0.1:5555,tcp://127.0.0.1:6555"),
           "a list of loopback endpoints is local");
    CHECK (!bus_security_endpoint_local ("tcp://127.0.0.1:5555,tcp://10.213.0.1:5555"),
           "a list with one private address is not local");
    CHECK (!bus_security_endpoint_local ("tcp://127.0.0.1:5555,") && !bus_security_endpoint_local (",tcp://127.0.0.1:1"),
           "an empty element is not local");
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    CHECK (bus_connect (dealer, "tcp://127.0.0.1:5999,ipc:///tmp/easel-test-list") == 0,
           "a DEALER connects to every endpoint of a list");
    CHECK (bus_connect (dealer, "tcp://127.0.0.1:5999,") == -1 && bus_connect (dealer, "") == -1
           && bus_connect (dealer, "tcp://127.0.0.1:1,,tcp://127.0.0.1:2") == -1,
           "empty elements are refused");
    CHECK (bus_connect (dealer, "tcp://127.0.0.1:1,tcp://127.0.0.1:2,tcp://127.0.0.1:3,tcp://127.0.0.1:4,"
                                "tcp://127.0.0.1:5,tcp://127.0.0.1:6,tcp://127.0.0.1:7,tcp://127.0.0.1:8,"
                                "tcp://127.0.0.1:9") == -1, "more than %d endpoints are refused", BUS_ENDPOINTS_MAX);
    zsock_destroy (&dealer);

    /* ---- certificate loading ---- */
    CHECK (!bus_security_cert_load ("/nonexistent/cert_secret", true, err)
           && strstr (err, "cannot read"), "missing file: %s", err);
    char alice_public [512];
    snprintf (alice_public, sizeof alice_public, "%s/alice", allowed);
    CHECK (!bus_security_cert_load (alice_public, true, err) && strstr (err, "no secret-key"),
           "public file where a secret one is needed: %s", err);
    zcert_t *pub_only = bus_security_cert_load (alice_public, false, err);
    CHECK (pub_only != NULL, "a public file loads as a public key: %s", err);
    zcert_destroy (&pub_only);
    char junk [512];
    s_path (junk, sizeof junk, "junk");
    FILE *f = fopen (junk, "w");
    fputs ("hello\n", f);
    fclose (f);
    CHECK (!bus_security_cert_load (junk, false, err) && strstr (err, "not a ZeroMQ certificate"),
           "garbage file: %s", err);
    zcert_t *loaded = bus_security_cert_load (server_secret, true, err);
    CHECK (loaded && strcmp (zcert_public_txt (loaded), server_key) == 0, "secret file loads: %s", err);
    zcert_destroy (&loaded);

    /* ---- configuration errors ---- */
    {
        const char *a1 [] = { "--curve-cert", "/nonexistent_secret", "--curve-allowed-dir", allowed, NULL };
        CHECK (s_init (BUS_ROLE_SERVER, a1, "tcp://*:1", err) == -1 && strstr (err, "EASEL_CURVE_CERT"),
               "server with a missing certificate refuses: %s", err);
        const char *a2 [] = { "--curve-cert", server_secret, NULL };
        CHECK (s_init (BUS_ROLE_SERVER, a2, "tcp://*:1", err) == -1 && strstr (err, "EASEL_CURVE_ALLOWED_DIR"),
               "server without the allowed dir refuses: %s", err);
        const char *a3 [] = { "--curve-cert", server_secret, NULL };
        CHECK (s_init (BUS_ROLE_CLIENT, a3, "tcp://10.213.0.1:1", err) == -1
               && strstr (err, "EASEL_CURVE_SERVER_KEY"), "client without the server key refuses: %s", err);
        const char *a4 [] = { NULL };
        CHECK (s_init (BUS_ROLE_CLIENT, a4, "tcp://10.213.0.1:1", err) == -1
               && strstr (err, "refusing plain transport"), "plain to a non-loopback endpoint: %s", err);
        const char *a5 [] = { "--insecure-plain", NULL };
        CHECK (s_init (BUS_ROLE_CLIENT, a5, "tcp://10.213.0.1:1", err) == 0, "explicit plain: %s", err);
        bus_security_shutdown ();
        CHECK (s_init (BUS_ROLE_CLIENT, a4, "tcp://127.0.0.1:1", err) == 0 && !bus_security_enabled (),
               "plain on loopback: %s", err);
        bus_security_shutdown ();
        const char *a6 [] = { "--curve-cert", server_secret, "--insecure-plain", NULL };
        CHECK (s_init (BUS_ROLE_CLIENT, a6, "tcp://127.0.0.1:1", err) == -1 && strstr (err, "choose one"),
               "CURVE and plain together: %s", err);
    }

    /* ---- the server: log to a file so refusals can be read back ---- */
    fflush (stderr);
    int saved = dup (2);
    s_report = fdopen (dup (saved), "w");
    int logfd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2 (logfd, 2);
    close (logfd);
    const char *srv [] = { "--curve-cert", server_secret, "--curve-allowed-dir", allowed, NULL };
    CHECK (s_init (BUS_ROLE_SERVER, srv, "tcp://127.0.0.1:1", err) == 0 && bus_security_enabled (),
           "server init: %s", err);
    CHECK (s_init (BUS_ROLE_SERVER, srv, "tcp://127.0.0.1:1", err) == -1, "init twice refused");

    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_t *pub = zsock_new (ZMQ_PUB);
    bus_socket_setup (router);
    bus_socket_setup (pub);
    CHECK (bus_security_apply (router) == 0 && bus_security_apply (pub) == 0, "apply");
    CHECK (zsock_curve_server (router) == 1, "router is a CURVE server");
    int port = zsock_bind (router, "tcp://127.0.0.1:*");
    int pub_port = zsock_bind (pub, "tcp://127.0.0.1:*");
    CHECK (port > 0 && pub_port > 0, "bind");
    char ep [64], pub_ep [64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    snprintf (pub_ep, sizeof pub_ep, "tcp://127.0.0.1:%d", pub_port);

    /* admitted: request and reply, and events */
    zsock_t *a = s_client (ZMQ_DEALER, alice, server_key, ep);
    zstr_send (a, "hello from alice");
    zmsg_t *msg = s_recv (router, 3000);
    CHECK (msg && zmsg_size (msg) == 2, "router hears the admitted client");
    if (msg) {
        zframe_t *id = zmsg_pop (msg);
        zframe_send (&id, router, ZFRAME_MORE);
        zstr_send (router, "welcome");
        zmsg_destroy (&msg);
        zmsg_t *reply = s_recv (a, 3000);
        CHECK (reply != NULL, "the admitted client hears the reply");
        zmsg_destroy (&reply);
    }
    zsock_t *a_sub = s_client (ZMQ_SUB, alice, server_key, pub_ep);
    CHECK (s_hears (pub, a_sub, 3000), "the admitted subscriber hears events");

    /* unknown certificate and plain: nothing in either direction */
    zsock_t *m = s_client (ZMQ_DEALER, mallory, server_key, ep);
    zsock_t *plain = s_client (ZMQ_DEALER, NULL, NULL, ep);
    zstr_send (m, "hello from mallory");
    zstr_send (plain, "hello in plain");
    msg = s_recv (router, 1500);
    CHECK (msg == NULL, "router hears nothing from an unknown or plain client");
    zmsg_destroy (&msg);
    zsock_t *m_sub = s_client (ZMQ_SUB, mallory, server_key, pub_ep);
    CHECK (!s_hears (pub, m_sub, 1500), "an unknown subscriber hears no events");

    fflush (stderr);
    char *logged = s_read_all (log_path);
    char refused_line [128];
    snprintf (refused_line, sizeof refused_line, "\"key\":\"%s\"", zcert_public_txt (mallory));
    CHECK (strstr (logged, "bus client refused") && strstr (logged, refused_line),
           "the refusal is logged with the key; log was:\n%s", logged);
    free (logged);

    /* admitted while running: the directory is re-read on change */
    char path [512];
    snprintf (path, sizeof path, "%s/mallory", allowed);
    zcert_save_public (mallory, path);
    /* libzmq does not retry a connection refused by ZAP: a client makes a new
       socket (the renderer, webhooker and gateway do when the scheduler is silent) */
    zsock_destroy (&m);
    zsock_destroy (&m_sub);
    m = s_client (ZMQ_DEALER, mallory, server_key, ep);
    m_sub = s_client (ZMQ_SUB, mallory, server_key, pub_ep);
    zstr_send (m, "hello again from mallory");
    msg = s_recv (router, 5000);
    CHECK (msg != NULL, "after its certificate is added, a new connection is admitted");
    zmsg_destroy (&msg);
    CHECK (s_hears (pub, m_sub, 5000), "after its certificate is added, the subscriber hears events");

    zsock_destroy (&a);
    zsock_destroy (&a_sub);
    zsock_destroy (&m);
    zsock_destroy (&m_sub);
    zsock_destroy (&plain);
    zsock_destroy (&router);
    zsock_destroy (&pub);
    bus_security_shutdown ();
    bus_security_shutdown ();
    fflush (stderr);
    dup2 (saved, 2);
    close (saved);
    zcert_destroy (&server);
    zcert_destroy (&alice);
    zcert_destroy (&mallory);

    char cmd [600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system (cmd) != 0)
        fprintf (stderr, "could not remove %s\n", s_dir);
    if (check_failures) {
        fprintf (stderr, "test_curve: %d failed\n", check_failures);
        return 1;
    }
    printf ("test_curve: all passed\n");
    return 0;
}
