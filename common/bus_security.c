/*  bus_security.c: CurveZMQ configuration and the scheduler's ZAP handler
    (see bus_security.h).

    The ZAP handler is a CZMQ actor owning a REP socket bound to
    inproc://zeromq.zap.01 and a zcertstore on the allowed directory; libzmq
    asks it about every CURVE handshake on the scheduler's sockets (RFC 27).
    It answers 200 for a key found in the store and 400 otherwise, and logs
    each refusal (at most once a minute per key, a refused client retries
    every few hundred milliseconds). Module state is written by init and
    shutdown only. */
#include "bus_security.h"
#include "bus.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define S_ZAP_ENDPOINT     "inproc://zeromq.zap.01"
#define S_LOG_EVERY_MS     60000           /* one log line per key per minute */
#define S_SEEN_MAX         64              /* keys whose last log time is kept */
#define S_ENDPOINT_MAX     512

static struct {
    bool       initialised;
    bool       curve;
    bus_role_t role;
    zcert_t   *own;                        /* own secret certificate */
    char       server_key [41];            /* clients: scheduler public key, Z85 */
    zactor_t  *zap;                        /* server: the ZAP handler */
} s_sec;

/* One endpoint of a list (see bus_security_endpoint_local). */
static bool
s_endpoint_local (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    /* a connect may name a source address first: "tcp://src;dst" */
    const char *semi = strchr (host, ';');
    if (semi)
        host = semi + 1;
    if (strncmp (host, "localhost:", 10) == 0 || strncmp (host, "[::1]:", 6) == 0)
        return true;
    if (strncmp (host, "127.", 4) != 0)
        return false;
    for (host += 4; *host && *host != ':'; host++)
        if (!((*host >= '0' && *host <= '9') || *host == '.'))
            return false;
    return *host == ':';
}

bool
bus_security_endpoint_local (const char *endpoint)
{
    if (!endpoint || !*endpoint)
        return false;
    /* a list (an active scheduler and its standbys): local when each one is */
    const char *p = endpoint;
    char one [BUS_ENDPOINT_MAX + 1];
    int rc;
    while ((rc = bus_endpoint_next (&p, one)) == 1)
        if (!s_endpoint_local (one))
            return false;
    return rc == 0;
}

zcert_t *
bus_security_cert_load (const char *path, bool need_secret, char *err)
{
    struct stat st;
    if (!path || !*path) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "empty certificate path");
        return NULL;
    }
    errno = 0;
    if (stat (path, &st) != 0 || !S_ISREG (st.st_mode) || access (path, R_OK) != 0) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "cannot read certificate %s: %s", path,
                  errno ? strerror (errno) : "not a regular file");
        return NULL;
    }
    if (st.st_size > 64 * 1024) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "certificate %s is over 64 KiB", path);
        return NULL;
    }
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "%s is not a ZeroMQ certificate "
                  "(expected a curve section with public-key)", path);
        return NULL;
    }
    if (need_secret) {
        static const byte zero [32];
        if (memcmp (zcert_secret_key (cert), zero, 32) == 0) {
            zcert_destroy (&cert);
            snprintf (err, BUS_SECURITY_ERR_MAX, "%s has no secret-key: give the NAME_secret "
                      "file, not the public one", path);
            return NULL;
        }
    }
    return cert;
}

/* ---- ZAP handler actor ------------------------------------------------------------------ */

typedef struct {
    char    key [41];
    int64_t logged_ms;
} s_seen_t;

/* True when this key was not logged within S_LOG_EVERY_MS (and notes it now). */
static bool
s_should_log (s_seen_t *seen, const char *key)
{
    int64_t now = util_mono_ms ();
    int oldest = 0;
    for (int i = 0; i < S_SEEN_MAX; i++) {
        if (strcmp (seen [i].key, key) == 0) {
            if (now - seen [i].logged_ms < S_LOG_EVERY_MS)
                return false;
            seen [i].logged_ms = now;
            return true;
        }
        if (seen [i].logged_ms < seen [oldest].logged_ms)
            oldest = i;
    }
    snprintf (seen [oldest].key, sizeof seen [oldest].key, "%s", key);
    seen [oldest].logged_ms = now;
    return true;
}

/* Copies frame text into out (size cap) as a C string; "" when absent or too long. */
static void
s_frame_text (zframe_t *frame, char *out, size_t cap)
{
    out [0] = '\0';
    if (frame && zframe_size (frame) < cap) {
        memcpy (out, zframe_data (frame), zframe_size (frame));
        out [zframe_size (frame)] = '\0';
    }
}

static void
s_zap_answer (zsock_t *handler, zmsg_t *request, zcertstore_t *store,
              s_seen_t *admitted, s_seen_t *refused)
{
    zframe_t *version = zmsg_pop (request);
    zframe_t *request_id = zmsg_pop (request);
    zframe_t *domain = zmsg_pop (request);
    zframe_t *address = zmsg_pop (request);
    zframe_t *identity = zmsg_pop (request);
    zframe_t *mechanism = zmsg_pop (request);
    zframe_t *credentials = zmsg_pop (request);
    char peer [64], mech [16], key [41] = "";
    s_frame_text (address, peer, sizeof peer);
    s_frame_text (mechanism, mech, sizeof mech);
    const char *status = "400", *text = "no access", *user = "";
    zcert_t *cert = NULL;
    if (strcmp (mech, "CURVE") == 0 && credentials && zframe_size (credentials) == 32) {
        zmq_z85_encode (key, zframe_data (credentials), 32);
        cert = zcertstore_lookup (store, key);
        if (cert) {
            status = "200";
            text = "OK";
            user = zcert_meta (cert, "name");
            if (!user)
                user = "";
        }
    }
    if (cert) {
        if (s_should_log (admitted, key))
            log_info ("bus client admitted", "peer", peer, "key", key, "name", user, NULL);
    }
    else
    if (s_should_log (refused, *key ? key : mech))
        log_warn ("bus client refused: certificate not in the allowed directory",
                  "peer", peer, "mechanism", mech, "key", key, NULL);

    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (request_id)
        zmsg_append (reply, &request_id);
    else
        zmsg_addstr (reply, "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, NULL, 0);
    zmsg_send (&reply, handler);
    zframe_destroy (&version);
    zframe_destroy (&request_id);
    zframe_destroy (&domain);
    zframe_destroy (&address);
    zframe_destroy (&identity);
    zframe_destroy (&mechanism);
    zframe_destroy (&credentials);
}

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    const char *dir = args;
    zsock_t *handler = zsock_new_rep ("@" S_ZAP_ENDPOINT);
    zcertstore_t *store = handler ? zcertstore_new (dir) : NULL;
    if (!store) {
        zsock_destroy (&handler);
        zsock_signal (pipe, 1);
        return;
    }
    s_seen_t *admitted = calloc (S_SEEN_MAX, sizeof *admitted);
    s_seen_t *refused = calloc (S_SEEN_MAX, sizeof *refused);
    zsock_signal (pipe, admitted && refused ? 0 : 1);
    zpoller_t *poller = admitted && refused ? zpoller_new (pipe, handler, NULL) : NULL;
    while (poller) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            zmsg_t *cmd = zmsg_recv (pipe);
            char *verb = cmd ? zmsg_popstr (cmd) : NULL;
            bool term = !verb || strcmp (verb, "$TERM") == 0;
            zstr_free (&verb);
            zmsg_destroy (&cmd);
            if (term)
                break;
        }
        else
        if (which == handler) {
            zmsg_t *request = zmsg_recv (handler);
            if (!request)
                break;
            s_zap_answer (handler, request, store, admitted, refused);
            zmsg_destroy (&request);
        }
        else
        if (zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    free (admitted);
    free (refused);
    zcertstore_destroy (&store);
    zsock_destroy (&handler);
}

/* ---- configuration ------------------------------------------------------------------------ */

static char s_zap_dir [PATH_MAX];

int
bus_security_init (int argc, char **argv, bus_role_t role,
                   const char *const *endpoints, char *err)
{
    if (s_sec.initialised) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "bus security initialised twice");
        return -1;
    }
    /* the names of the rows every service's settings table includes */
    static const config_opt_t rows [] = { BUS_SECURITY_CONFIG_CERT, BUS_SECURITY_CONFIG_SERVER_KEY,
                                          BUS_SECURITY_CONFIG_ALLOWED_DIR, BUS_SECURITY_CONFIG_PLAIN };
    const char *cert = util_config (argc, argv, rows [0].flag, rows [0].env, NULL);
    const char *server_key = util_config (argc, argv, rows [1].flag, rows [1].env, NULL);
    const char *allowed = util_config (argc, argv, rows [2].flag, rows [2].env, NULL);
    bool plain = util_config_flag (argc, argv, rows [3].flag, rows [3].env);

    if (!cert) {
        if (role == BUS_ROLE_CLIENT && server_key) {
            snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_CURVE_SERVER_KEY is set but EASEL_CURVE_CERT "
                      "(this service's own secret certificate) is not");
            return -1;
        }
        if (role == BUS_ROLE_SERVER && allowed) {
            snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_CURVE_ALLOWED_DIR is set but EASEL_CURVE_CERT "
                      "(the scheduler's secret certificate) is not");
            return -1;
        }
        for (int i = 0; endpoints && endpoints [i] && !plain; i++)
            if (!bus_security_endpoint_local (endpoints [i])) {
                snprintf (err, BUS_SECURITY_ERR_MAX, "refusing plain transport on non-loopback endpoint "
                          "%.200s: set EASEL_CURVE_CERT (see docs/operations.md) or EASEL_BUS_PLAIN=1",
                          endpoints [i]);
                return -1;
            }
        s_sec.initialised = true;
        s_sec.role = role;
        return 0;
    }
    if (plain) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_BUS_PLAIN and EASEL_CURVE_CERT are both set; choose one");
        return -1;
    }
    if (!zsys_has_curve ()) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "this libzmq was built without CURVE support");
        return -1;
    }
    char why [BUS_SECURITY_ERR_MAX];
    zcert_t *own = bus_security_cert_load (cert, true, why);
    if (!own) {
        snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_CURVE_CERT: %s", why);
        return -1;
    }
    if (role == BUS_ROLE_CLIENT) {
        if (!server_key) {
            zcert_destroy (&own);
            snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_CURVE_CERT is set but EASEL_CURVE_SERVER_KEY "
                      "(the scheduler's public certificate) is not");
            return -1;
        }
        zcert_t *server = bus_security_cert_load (server_key, false, why);
        if (!server) {
            zcert_destroy (&own);
            snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_CURVE_SERVER_KEY: %s", why);
            return -1;
        }
        snprintf (s_sec.server_key, sizeof s_sec.server_key, "%s", zcert_public_txt (server));
        zcert_destroy (&server);
    }
    else {
        struct stat st;
        if (!allowed || stat (allowed, &st) != 0 || !S_ISDIR (st.st_mode)
        ||  access (allowed, R_OK | X_OK) != 0) {
            zcert_destroy (&own);
            snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_CURVE_ALLOWED_DIR %s a readable directory "
                      "of admitted client certificates%s%.200s",
                      allowed ? "is not" : "must name", allowed ? ": " : "", allowed ? allowed : "");
            return -1;
        }
        if (strlen (allowed) >= sizeof s_zap_dir) {
            zcert_destroy (&own);
            snprintf (err, BUS_SECURITY_ERR_MAX, "EASEL_CURVE_ALLOWED_DIR path too long");
            return -1;
        }
        snprintf (s_zap_dir, sizeof s_zap_dir, "%s", allowed);
        s_sec.zap = zactor_new (s_zap_actor, s_zap_dir);
        if (!s_sec.zap) {
            zcert_destroy (&own);
            snprintf (err, BUS_SECURITY_ERR_MAX, "cannot start the ZAP handler (another one bound?)");
            return -1;
        }
    }
    s_sec.own = own;
    s_sec.curve = true;
    s_sec.role = role;
    s_sec.initialised = true;
    log_info ("bus security: CURVE", "role", role == BUS_ROLE_SERVER ? "server" : "client",
              "public_key", zcert_public_txt (own),
              role == BUS_ROLE_SERVER ? "allowed_dir" : "server_key",
              role == BUS_ROLE_SERVER ? allowed : s_sec.server_key, NULL);
    return 0;
}

int
bus_security_apply (zsock_t *sock)
{
    if (!sock)
        return -1;
    if (!s_sec.curve)
        return 0;
    zcert_apply (s_sec.own, sock);
    if (s_sec.role == BUS_ROLE_SERVER) {
        zsock_set_zap_domain (sock, BUS_SECURITY_ZAP_DOMAIN);
        zsock_set_curve_server (sock, 1);
    }
    else
        zsock_set_curve_serverkey (sock, s_sec.server_key);
    return 0;
}

bool
bus_security_enabled (void)
{
    return s_sec.curve;
}

void
bus_security_shutdown (void)
{
    zactor_destroy (&s_sec.zap);
    zcert_destroy (&s_sec.own);
    memset (&s_sec, 0, sizeof s_sec);
}
