/*  test_gateway_http.c: easel-gateway over real HTTP against a fake scheduler.

    The fake (a CZMQ actor) binds a ROUTER and a PUB on free ports and answers
    like the scheduler: PING -> PONG, CREATE_RENDER -> RENDER processing (a sync
    one finishes 200 ms later with a PUB event), GET_RENDER, GET_FILE, an
    unknown key -> ERROR 401, and it never answers render SILENT_ID (-> 503).
    The gateway binary is argv[1]; requests are plain HTTP/1.1 over a socket. */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <czmq.h>
#include "../unit/check.h"
#include "bus.h"
#include "util.h"

#define SILENT_ID "rnd_00000000000000000000000000"
#define GOOD_KEY  "sk_good"
#define PNG_BYTES "\x89PNG-fake-bytes"

/* ---- fake scheduler ------------------------------------------------------ */

typedef struct {
    char    id [PROTO_ID_MAX];
    bool    sync;
    int64_t done_at;               /* mono ms when it finishes; 0 = never */
    bool    published;
} s_render_t;

static s_render_t s_renders [16];
static int s_nrenders;
/* messages the fake received, by command (read by main between requests) */
static volatile int s_seen [256];

static void
s_send_render (zsock_t *router, zframe_t *who, const char *rid, const s_render_t *r)
{
    proto_render_t out;
    memset (&out, 0, sizeof out);
    proto_image_t img;
    memset (&img, 0, sizeof img);
    snprintf (out.rid, sizeof out.rid, "%s", rid);
    snprintf (out.id, sizeof out.id, "%s", r->id);
    snprintf (out.account_id, sizeof out.account_id, "acct_01J00000000000000000000000");
    bool done = r->done_at && util_mono_ms () >= r->done_at;
    snprintf (out.status, sizeof out.status, done ? "succeeded" : "processing");
    snprintf (out.webhook_status, sizeof out.webhook_status, "none");
    out.created_at_ms = util_now_ms ();
    out.total = 1;
    if (done) {
        out.done = 1;
        out.completed_at_ms = util_now_ms ();
        proto_id_new ("img_", img.id, sizeof img.id);
        snprintf (img.status, sizeof img.status, "succeeded");
        snprintf (img.format, sizeof img.format, "png");
        snprintf (img.sha256, sizeof img.sha256, "%064d", 7);
        snprintf (img.url_sig, sizeof img.url_sig, "%064d", 1);
        img.width = 1080;
        img.height = 1920;
        out.nimages = 1;
        out.images = &img;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_render_encode (&out, &sb);
    bus_send_sbuf (router, who, PROTO_RENDER, &sb);
    msgpack_sbuffer_destroy (&sb);
}

static void
s_send_error (zsock_t *router, zframe_t *who, const char *rid, int status, const char *code, const char *param)
{
    proto_errmsg_t em;
    memset (&em, 0, sizeof em);
    snprintf (em.rid, sizeof em.rid, "%s", rid);
    em.status = status;
    proto_error_set (&em.error, code, "from the fake scheduler", param);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_errmsg_encode (&em, &sb);
    bus_send_sbuf (router, who, PROTO_ERROR, &sb);
    msgpack_sbuffer_destroy (&sb);
    proto_errmsg_free (&em);
}

static void
s_handle (zsock_t *router, bus_msg_t *m)
{
    const char *data = (const char *) zframe_data (m->body);
    size_t len = zframe_size (m->body);
    char err [PROTO_ERR_MAX], good [65];
    util_sha256_hex (GOOD_KEY, strlen (GOOD_KEY), good);
    s_seen [m->cmd & 0xff]++;
    if (m->cmd == PROTO_GET_ACCOUNT) {
        proto_get_t g;
        if (proto_get_decode (data, len, &g, err))
            return;
        if (strcmp (g.auth, good)) {
            s_send_error (router, m->identity, g.rid, 401, "invalid_api_key", NULL);
            return;
        }
        proto_body_t b;
        memset (&b, 0, sizeof b);
        snprintf (b.rid, sizeof b.rid, "%s", g.rid);
        snprintf (b.id, sizeof b.id, "acct_01J00000000000000000000000");
        b.status = 200;
        b.body = (char *) "{\"object\":\"account\"}";
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        proto_body_encode (&b, &sb);
        bus_send_sbuf (router, m->identity, PROTO_ACCOUNT, &sb);
        msgpack_sbuffer_destroy (&sb);
    }
    else
    if (m->cmd == PROTO_PING) {
        proto_simple_t p;
        if (proto_simple_decode (data, len, &p, err))
            return;
        p.renderers = 2;
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        proto_simple_encode (&p, &sb);
        bus_send_sbuf (router, m->identity, PROTO_PONG, &sb);
        msgpack_sbuffer_destroy (&sb);
    }
    else
    if (m->cmd == PROTO_CREATE_RENDER) {
        proto_create_render_t cr;
        if (proto_create_render_decode (data, len, &cr, err))
            return;
        if (strcmp (cr.auth, good))
            s_send_error (router, m->identity, cr.rid, 401, "invalid_api_key", NULL);
        else
        if (s_nrenders < 16) {
            s_render_t *r = &s_renders [s_nrenders++];
            proto_id_new ("rnd_", r->id, sizeof r->id);
            r->sync = cr.sync;
            r->done_at = cr.sync ? util_mono_ms () + 200 : 0;
            s_send_render (router, m->identity, cr.rid, r);
        }
        proto_create_render_free (&cr);
    }
    else
    if (m->cmd == PROTO_GET_RENDER || m->cmd == PROTO_GET_FILE) {
        proto_get_t g;
        if (proto_get_decode (data, len, &g, err) || strcmp (g.id, SILENT_ID) == 0)
            return;
        if (m->cmd == PROTO_GET_FILE) {
            proto_file_t f;
            memset (&f, 0, sizeof f);
            snprintf (f.rid, sizeof f.rid, "%s", g.rid);
            snprintf (f.id, sizeof f.id, "%s", g.id);
            snprintf (f.content_type, sizeof f.content_type, "image/png");
            snprintf (f.sha256, sizeof f.sha256, "%064d", 7);
            f.data = (uint8_t *) PNG_BYTES;
            f.len = strlen (PNG_BYTES);
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            proto_file_encode (&f, &sb);
            bus_send_sbuf (router, m->identity, PROTO_FILE, &sb);
            msgpack_sbuffer_destroy (&sb);
            return;
        }
        for (int i = 0; i < s_nrenders; i++)
            if (strcmp (s_renders [i].id, g.id) == 0) {
                s_send_render (router, m->identity, g.rid, &s_renders [i]);
                return;
            }
        s_send_error (router, m->identity, g.rid, 404, "resource_missing", "id");
    }
}

static void
s_fake (zsock_t *pipe, void *args)
{
    int *ports = args;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    zsock_t *pub = zsock_new (ZMQ_PUB);
    bus_socket_setup (router);
    ports [0] = zsock_bind (router, "tcp://127.0.0.1:*[40000-]");
    ports [1] = zsock_bind (pub, "tcp://127.0.0.1:*[40000-]");
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    while (true) {
        void *which = zpoller_wait (poller, 50);
        if (which == pipe)
            break;
        if (which == router) {
            bus_msg_t m;
            char err [PROTO_ERR_MAX];
            if (bus_recv (router, true, &m, err) == 0)
                s_handle (router, &m);
            bus_msg_free (&m);
        }
        for (int i = 0; i < s_nrenders; i++) {
            s_render_t *r = &s_renders [i];
            if (r->done_at && !r->published && util_mono_ms () >= r->done_at) {
                proto_simple_t ev;
                memset (&ev, 0, sizeof ev);
                snprintf (ev.rid, sizeof ev.rid, "%s", r->id);
                msgpack_sbuffer sb;
                msgpack_sbuffer_init (&sb);
                proto_simple_encode (&ev, &sb);
                bus_publish (pub, "render.succeeded", i + 1, sb.data, sb.size);
                msgpack_sbuffer_destroy (&sb);
                r->published = true;
            }
        }
    }
    zpoller_destroy (&poller);
    zsock_destroy (&router);
    zsock_destroy (&pub);
    /* free this thread's OpenSSL state now (ids, hashes): left to the thread's
       exit it can outlive zactor_destroy and read as a leak at main's exit */
    OPENSSL_thread_stop ();
}

/* ---- HTTP client --------------------------------------------------------- */

typedef struct {
    int  status;
    char head [4096];
    char body [8192];
    size_t body_len;
} s_resp_t;

static int s_http_port;

/* Sends raw request text (Connection: close) and reads the reply to EOF. */
static int
s_http (const char *request, size_t len, s_resp_t *r)
{
    memset (r, 0, sizeof *r);
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) s_http_port) };
    inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect (fd, (struct sockaddr *) &a, sizeof a)) {
        close (fd);
        return -1;
    }
    if (write (fd, request, len) != (ssize_t) len) {
        close (fd);
        return -1;
    }
    static char buf [16384];
    size_t n = 0;
    ssize_t got;
    char *end = NULL;
    size_t want = sizeof buf - 1;  /* until EOF, or headers + Content-Length */
    while (n < want && (got = read (fd, buf + n, sizeof buf - 1 - n)) > 0) {
        n += (size_t) got;
        buf [n] = '\0';
        const char *cl = strstr (buf, "Content-Length: ");
        if (!end && (end = strstr (buf, "\r\n\r\n")))
            want = cl && cl < end ? (size_t) (end + 4 - buf) + strtoul (cl + 16, NULL, 10)
                 : strncmp (buf, "HTTP/1.1 304", 12) == 0 ? (size_t) (end + 4 - buf) : want;
    }
    close (fd);
    buf [n] = '\0';
    end = strstr (buf, "\r\n\r\n");
    if (!end || sscanf (buf, "HTTP/1.1 %d", &r->status) != 1)
        return -1;
    snprintf (r->head, sizeof r->head, "%.*s", (int) (end + 2 - buf), buf);
    r->body_len = n - (size_t) (end + 4 - buf);
    memcpy (r->body, end + 4, r->body_len < sizeof r->body ? r->body_len : sizeof r->body - 1);
    return 0;
}

static int
s_req (const char *method, const char *path, const char *headers, const char *body, s_resp_t *r)
{
    char req [8192];
    int n = snprintf (req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s"
                      "Content-Length: %zu\r\n\r\n%s", method, path, headers, body ? strlen (body) : 0,
                      body ? body : "");
    return s_http (req, (size_t) n, r);
}

#define AUTH "Authorization: Bearer " GOOD_KEY "\r\n"
#define JSON "Content-Type: application/json\r\n"
#define BODY "{\"canvas\":{\"preset\":\"play.phone\"},\"slides\":[{\"headline\":{\"lines\":[\"Hi\"]}}]"

static void
s_expect (const char *name, const s_resp_t *r, int status, const char *in_body, const char *in_head)
{
    CHECK (r->status == status, "%s: expected HTTP %d, got %d: %s", name, status, r->status, r->body);
    CHECK (!in_body || strstr (r->body, in_body), "%s: body should contain %s, got %s", name, in_body, r->body);
    CHECK (!in_head || strstr (r->head, in_head), "%s: headers should contain %s, got\n%s", name, in_head, r->head);
    CHECK (strstr (r->head, "X-Request-Id: req_"), "%s: every response has X-Request-Id", name);
}

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    inet_pton (AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    bind (fd, (struct sockaddr *) &a, sizeof a);
    getsockname (fd, (struct sockaddr *) &a, &len);
    close (fd);
    return ntohs (a.sin_port);
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: test_gateway_http path/to/easel-gateway\n");
        return 2;
    }
    zsys_init ();
    int ports [2] = { 0, 0 };
    zactor_t *fake = zactor_new (s_fake, ports);
    s_http_port = s_free_port ();
    char listen [64], api [64], events [64], url [80];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", s_http_port);
    snprintf (api, sizeof api, "tcp://127.0.0.1:%d", ports [0]);
    snprintf (events, sizeof events, "tcp://127.0.0.1:%d", ports [1]);
    snprintf (url, sizeof url, "http://files.test:%d", s_http_port);
    pid_t pid = fork ();
    if (pid == 0) {
        execl (argv [1], argv [1], "--listen", listen, "--api", api, "--events", events,
               "--public-url", url, "--threads", "8", "--request-timeout-ms", "400", (char *) NULL);
        _exit (127);
    }
    s_resp_t r;
    for (int i = 0; i < 100 && s_req ("GET", "/healthz", "", NULL, &r); i++)
        usleep (50 * 1000);
    s_expect ("healthz", &r, 200, "{\"ok\":true}", "Content-Length: 11");
    /* the preset catalogue: public, no key, no scheduler round trip */
    s_req ("GET", "/v1/presets", "", NULL, &r);
    s_expect ("presets", &r, 200, "\"name\":\"play.feature_graphic\"", "Content-Type: application/json");
    s_req ("POST", "/v1/presets", "", NULL, &r);
    s_expect ("presets 405", &r, 405, "\"method_not_allowed\"", "Allow: GET");

    s_req ("GET", "/nope", "", NULL, &r);
    s_expect ("404", &r, 404, "\"route_not_found\"", NULL);
    s_req ("DELETE", "/v1/renders", "", NULL, &r);
    s_expect ("405", &r, 405, "\"method_not_allowed\"", "Allow: GET, POST");
    s_req ("POST", "/v1/renders", JSON, BODY "}", &r);
    s_expect ("401 missing", &r, 401, "\"missing_api_key\"", NULL);
    s_req ("POST", "/v1/renders", "Authorization: Bearer sk_bad\r\n" JSON, BODY "}", &r);
    s_expect ("401 from scheduler", &r, 401, "\"invalid_api_key\"", NULL);
    CHECK (s_seen [PROTO_GET_ACCOUNT] == 1 && s_seen [PROTO_CREATE_RENDER] == 0,
           "a wrong key: one GET_ACCOUNT and nothing else on the bus (got %d lookups, %d creates)",
           s_seen [PROTO_GET_ACCOUNT], s_seen [PROTO_CREATE_RENDER]);
    s_req ("POST", "/v1/renders", "Authorization: Bearer sk_bad\r\n" JSON, BODY "}", &r);
    s_expect ("401 cached", &r, 401, "\"invalid_api_key\"", NULL);
    CHECK (s_seen [PROTO_GET_ACCOUNT] == 1, "a wrong key again: answered from the key cache");
    s_req ("POST", "/v1/renders", "Authorization: Bearer " GOOD_KEY " junk\r\n" JSON, BODY "}", &r);
    s_expect ("401 junk after the key", &r, 401, "\"invalid_api_key\"", NULL);
    s_req ("POST", "/v1/renders", "Authorization: Bearer  " GOOD_KEY "\r\n" JSON, BODY "}", &r);
    s_expect ("401 two spaces", &r, 401, "\"invalid_api_key\"", NULL);
    CHECK (s_seen [PROTO_GET_ACCOUNT] == 1, "a malformed key never reaches the bus");
    s_req ("POST", "/v1/renders", AUTH JSON, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", &r);
    s_expect ("400 deep", &r, 400, "\"json_too_deep\"", NULL);
    CHECK (s_seen [PROTO_CREATE_RENDER] == 0, "a deep body is not sent on");
    s_http ("GARBAGE\r\n\r\n", 11, &r);
    s_expect ("civetweb's 400 is JSON", &r, 400, "\"malformed_request\"", "Content-Type: application/json");
    s_req ("POST", "/v1/renders", AUTH "Content-Type: text/plain\r\n", BODY "}", &r);
    s_expect ("415", &r, 415, "\"unsupported_media_type\"", NULL);
    const char *big = "POST /v1/renders HTTP/1.1\r\nHost: t\r\n" AUTH JSON "Content-Length: 26214401\r\n\r\n";
    s_http (big, strlen (big), &r);
    s_expect ("413", &r, 413, "\"body_too_large\"", NULL);
    s_req ("POST", "/v1/renders", AUTH "Content-Type: application/json; charset=utf-8\r\n", "{\n\"slides\": ]", &r);
    s_expect ("400", &r, 400, "line 2, column 11", NULL);
    s_req ("POST", "/v1/renders", AUTH JSON, "{\"slides\":[]}", &r);
    s_expect ("422", &r, 422, "\"param\":\"slides\"", NULL);

    s_req ("POST", "/v1/renders", AUTH JSON, BODY ",\"async\":true}", &r);
    s_expect ("async 202", &r, 202, "\"polling_url\":\"/v1/renders/rnd_", NULL);
    CHECK (strstr (r.body, "\"status\":\"processing\""), "async: status processing, got %s", r.body);

    s_req ("POST", "/v1/renders", AUTH JSON, BODY "}", &r);
    s_expect ("sync 200", &r, 200, "\"status\":\"succeeded\"", NULL);
    CHECK (strstr (r.body, "http://files.test:"), "sync: image URLs start with the public URL, got %s", r.body);

    char path [128];
    snprintf (path, sizeof path, "/v1/renders/%s", s_renders [0].id);
    s_req ("GET", path, AUTH, NULL, &r);
    s_expect ("get render", &r, 200, "\"object\":\"render\"", NULL);
    s_req ("GET", "/v1/renders/rnd_01J0000000000000000000000Z", AUTH, NULL, &r);
    s_expect ("get unknown render", &r, 404, "\"resource_missing\"", NULL);

    snprintf (path, sizeof path, "/v1/files/img_01J00000000000000000000000?exp=99999999999&sig=%064d", 1);
    s_req ("GET", path, "", NULL, &r);
    s_expect ("file", &r, 200, "PNG-fake-bytes", "Content-Type: image/png");
    CHECK (strstr (r.head, "Cache-Control: public, max-age=31536000, immutable"), "file: immutable caching");
    char inm [128];
    snprintf (inm, sizeof inm, "If-None-Match: \"%064d\"\r\n", 7);
    s_req ("GET", path, inm, NULL, &r);
    s_expect ("file 304", &r, 304, NULL, "ETag: \"");
    s_req ("GET", "/v1/files/img_01J00000000000000000000000", "", NULL, &r);
    s_expect ("file without key or signature", &r, 401, "\"missing_api_key\"", NULL);

    s_req ("GET", "/readyz", "", NULL, &r);
    s_expect ("readyz", &r, 200, "\"renderers\":2", NULL);
    /* probes need no key: their answer is kept briefly, not a PING each */
    int pings = s_seen [PROTO_PING];
    for (int i = 0; i < 20; i++) {
        s_req ("GET", "/readyz", "", NULL, &r);
        s_expect ("readyz again", &r, 200, "\"ready\":true", NULL);
    }
    CHECK (s_seen [PROTO_PING] - pings < 20, "20 probes sent %d PINGs", s_seen [PROTO_PING] - pings);

    s_req ("GET", "/v1/renders/" SILENT_ID, AUTH, NULL, &r);
    s_expect ("503", &r, 503, "\"scheduler_unavailable\"", "Retry-After: 1");
    s_req ("GET", "/readyz", "", NULL, &r);
    s_expect ("after 503 the thread's fresh socket works", &r, 200, "\"ready\":true", NULL);

    kill (pid, SIGTERM);
    int status = 0;
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "SIGTERM: exit 0, got status %d", status);
    zactor_destroy (&fake);
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("gateway_http: all checks passed\n");
    return 0;
}
