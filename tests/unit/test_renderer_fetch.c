/*  test_renderer_fetch.c: fetch_url and the screenshot error mapping against a
    tiny HTTP server in a thread (127.0.0.1, ephemeral port, canned answers).
    200 PNG ok; 404 names HTTP 404; not an image is screenshot_invalid; 302 is
    refused; over-size bodies are refused (with and without Content-Length);
    loopback is refused naming 127.0.0.1 unless private networks are allowed.
    Cancel: a fetch whose body stalls is aborted once its cancel flag is set
    (FETCH_CANCELED), and a render told to stop fails with code "canceled",
    not retryable, whether the flag was set before or during its fetch.
    Probe options (capture): request headers reach the server; images_only
    stops a page (even a hanging or over-size one, or an empty one) as
    FETCH_NOT_IMAGE, keeps the cap for images and the status of errors; bad
    request headers (too many, too long, CR/LF) are refused unsent. */
#include "check.h"
#include "netguard.h"
#include "fetch.h"
#include "fetch_cache.h"
#include "slide_render.h"
#include "task_blobs.h"
#include "util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int s_listen_fd = -1;
static atomic_bool s_stop;
static uint8_t *s_png;
static int s_png_len;
static char s_big[5000];
static atomic_int s_counted;         /* requests for /counted.png */
static atomic_int s_missing;         /* requests for /nothing-here */
static atomic_bool s_stall_seen;     /* the server holds a /stall request open */
static atomic_bool *s_stall_flag;    /* the cancel flag the watcher sets */

static void
s_send_all (int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send (fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t) n;
    }
}

static void
s_answer (int fd, const char *status, const char *ctype, const void *body, size_t len, bool with_length)
{
    char head[512], length[64] = "";
    if (with_length)
        snprintf (length, sizeof length, "Content-Length: %zu\r\n", len);
    int n = snprintf (head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: %s\r\n%s%sConnection: close\r\n\r\n",
                      status, ctype, strncmp (status, "302", 3) == 0 ? "Location: /ok.png\r\n" : "", length);
    s_send_all (fd, head, (size_t) n);
    s_send_all (fd, body, len);
}

/* Keeps a connection open until the client closes it (or 30 s pass). */
static void
s_hold_open (int fd)
{
    char sink[256];
    int64_t end = 0;
    struct pollfd cfd = { .fd = fd, .events = POLLIN };
    while (end++ < 600 && !atomic_load (&s_stop))
        if (poll (&cfd, 1, 50) > 0 && recv (fd, sink, sizeof sink, 0) <= 0)
            return;
}

static void *
s_server (void *arg)
{
    (void) arg;
    while (!atomic_load (&s_stop)) {
        struct pollfd pfd = { .fd = s_listen_fd, .events = POLLIN };
        if (poll (&pfd, 1, 50) <= 0)
            continue;
        int fd = accept (s_listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        char req[2048];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t n = recv (fd, req + got, sizeof req - 1 - got, 0);
            if (n <= 0)
                break;
            got += (size_t) n;
            req[got] = 0;
            if (strstr (req, "\r\n\r\n"))
                break;
        }
        req[got] = 0;
        char path[256] = "";
        sscanf (req, "GET %255s", path);
        if (strcmp (path, "/nothing-here") == 0) {
            atomic_fetch_add (&s_missing, 1);
            s_answer (fd, "404 Not Found", "text/plain", "no", 2, true);
        }
        else
        if (strcmp (path, "/counted.png") == 0) {
            atomic_fetch_add (&s_counted, 1);
            s_answer (fd, "200 OK", "image/png", s_png, (size_t) s_png_len, true);
        }
        else
        if (strcmp (path, "/ok.png") == 0)
            s_answer (fd, "200 OK", "image/png", s_png, (size_t) s_png_len, true);
        else
        if (strcmp (path, "/text") == 0)
            s_answer (fd, "200 OK", "text/plain", "hello, not an image", 19, true);
        else
        if (strcmp (path, "/redirect") == 0)
            s_answer (fd, "302 Found", "text/plain", "", 0, true);
        else
        if (strcmp (path, "/big") == 0)
            s_answer (fd, "200 OK", "image/png", s_big, sizeof s_big, true);
        else
        if (strcmp (path, "/big-unsized") == 0)
            s_answer (fd, "200 OK", "image/png", s_big, sizeof s_big, false);
        else
        if (strcmp (path, "/boom") == 0)
            s_answer (fd, "503 Service Unavailable", "text/plain", "busy", 4, true);
        else
        if (strcmp (path, "/token.png") == 0) {
            bool ok = strstr (req, "\r\nX-Token: sesame\r\n") && strstr (req, "\r\nAccept-Language: de\r\n");
            s_answer (fd, ok ? "200 OK" : "403 Forbidden", ok ? "image/png" : "text/plain",
                      ok ? (const void *) s_png : "no", ok ? (size_t) s_png_len : 2, true);
        }
        else
        if (strcmp (path, "/empty-page") == 0)
            s_answer (fd, "200 OK", "text/html", "", 0, true);
        else
        if (strcmp (path, "/page-hang") == 0) {
            /* a page that promises 100000 bytes, sends a few, then waits for
               the client to stop reading (or 30 s) */
            const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                               "Content-Length: 100000\r\nConnection: close\r\n\r\n<html>loading";
            s_send_all (fd, head, strlen (head));
            s_hold_open (fd);
        }
        else
        if (strcmp (path, "/stall") == 0) {
            /* promises the PNG, sends 10 bytes, then waits for the client to
               give up (or 30 s, so a broken cancel fails the test, not hangs) */
            char head[256];
            int n = snprintf (head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n"
                              "Content-Length: %d\r\nConnection: close\r\n\r\n", s_png_len);
            s_send_all (fd, head, (size_t) n);
            s_send_all (fd, s_png, 10);
            atomic_store (&s_stall_seen, true);
            struct pollfd cfd = { .fd = fd, .events = POLLIN };
            char sink[256];
            for (int waited = 0; waited < 30000 && !atomic_load (&s_stop); waited += 50)
                if (poll (&cfd, 1, 50) > 0 && recv (fd, sink, sizeof sink, 0) <= 0)
                    break;
        }
        else
            s_answer (fd, "404 Not Found", "text/plain", "no", 2, true);
        shutdown (fd, SHUT_WR);
        close (fd);
    }
    return NULL;
}

static int
s_server_start (pthread_t *thread)
{
    s_listen_fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (bind (s_listen_fd, (struct sockaddr *) &addr, sizeof addr) != 0
    ||  listen (s_listen_fd, 16) != 0
    ||  getsockname (s_listen_fd, (struct sockaddr *) &addr, &alen) != 0) {
        perror ("test server");
        exit (1);
    }
    pthread_create (thread, NULL, s_server, NULL);
    return ntohs (addr.sin_port);
}

static bool
s_private4 (const char *text)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton (AF_INET, text, &sa.sin_addr);
    return netguard_is_private ((struct sockaddr *) &sa, NULL, 0);
}

static bool
s_private6 (const char *text)
{
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
    inet_pton (AF_INET6, text, &sa.sin6_addr);
    return netguard_is_private ((struct sockaddr *) &sa, NULL, 0);
}

static void
test_address_classes (void)
{
    const char *priv4[] = {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                           "169.254.169.254", "100.64.0.1", "0.0.0.0", NULL};
    const char *pub4[] = {"8.8.8.8", "172.32.0.1", "100.128.0.1", "1.1.1.1", NULL};
    const char *priv6[] = {"::1", "::", "fe80::1", "fd00::1", "fc00::5", "::ffff:127.0.0.1",
                           "::ffff:10.0.0.1", "::ffff:169.254.169.254", NULL};
    const char *pub6[] = {"2606:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", NULL};
    for (int i = 0; priv4[i]; i++)
        CHECK (s_private4 (priv4[i]), "expected %s to be private", priv4[i]);
    for (int i = 0; pub4[i]; i++)
        CHECK (!s_private4 (pub4[i]), "expected %s to be public", pub4[i]);
    for (int i = 0; priv6[i]; i++)
        CHECK (s_private6 (priv6[i]), "expected %s to be private", priv6[i]);
    for (int i = 0; pub6[i]; i++)
        CHECK (!s_private6 (pub6[i]), "expected %s to be public", pub6[i]);
}

static void
test_fetch (int port)
{
    char url[128];
    fetch_opts_t allow = { .allow_private = true, .max_bytes = 4096 };
    fetch_result_t r;

    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok.png", port);
    CHECK (fetch_url (url, &allow, &r) == 0 && r.status == FETCH_OK, "expected 200 ok, got %d: %s", r.status, r.message);
    CHECK (r.len == (size_t) s_png_len && r.data && memcmp (r.data, s_png, r.len) == 0,
           "expected the PNG body (%d bytes), got %zu", s_png_len, r.len);
    CHECK (r.http_status == 200 && strcmp (r.content_type, "image/png") == 0,
           "expected 200 image/png, got %ld %s", r.http_status, r.content_type);
    fetch_result_free (&r);
    fetch_result_free (&r);              /* safe twice */

    snprintf (url, sizeof url, "http://127.0.0.1:%d/missing", port);
    CHECK (fetch_url (url, &allow, &r) == -1 && r.status == FETCH_HTTP_STATUS && r.http_status == 404
           && strstr (r.message, "HTTP 404"), "expected HTTP 404, got %d %ld %s", r.status, r.http_status, r.message);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/redirect", port);
    CHECK (fetch_url (url, &allow, &r) == -1 && r.status == FETCH_REDIRECT
           && strstr (r.message, "redirects are not followed"),
           "expected the 302 refused, got %d: %s", r.status, r.message);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/big", port);
    CHECK (fetch_url (url, &allow, &r) == -1 && r.status == FETCH_TOO_LARGE,
           "expected a sized 5000-byte body over 4096 refused, got %d: %s", r.status, r.message);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/big-unsized", port);
    CHECK (fetch_url (url, &allow, &r) == -1 && r.status == FETCH_TOO_LARGE,
           "expected an unsized 5000-byte body over 4096 refused, got %d: %s", r.status, r.message);

    fetch_opts_t deny = { .allow_private = false };
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok.png", port);
    CHECK (fetch_url (url, &deny, &r) == -1 && r.status == FETCH_NOT_ALLOWED
           && strcmp (r.address, "127.0.0.1") == 0 && strstr (r.message, "127.0.0.1"),
           "expected loopback refused naming 127.0.0.1, got %d '%s' %s", r.status, r.address, r.message);

    CHECK (fetch_url ("ftp://127.0.0.1/x.png", &allow, &r) == -1 && r.status == FETCH_BAD_URL,
           "expected ftp refused as a bad URL, got %d: %s", r.status, r.message);
    snprintf (url, sizeof url, "http://127.0.0.1:1/nothing");
    CHECK (fetch_url (url, &allow, &r) == -1 && r.status == FETCH_NETWORK,
           "expected a connection error, got %d: %s", r.status, r.message);
}

/* The screenshot errors as the API shows them. */
static void
test_slide_errors (int port)
{
    char url[128];
    proto_slide_t spec = { .width = 400, .height = 800, .bg_ncolors = 1, .bg_colors = {0},
                           .device = "iphone", .format = "png", .shot_url = url, .slide = 0 };
    slide_render_opts_t opts = { .font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                                 .allow_private = true, .max_source_bytes = 4096 };
    const char *font = getenv ("EASEL_FONT");
    if (font && *font)
        opts.font_path = font;
    uint8_t *png = NULL;
    size_t len = 0;
    render_error_t err;

    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok.png", port);
    CHECK (slide_render (&spec, &opts, &png, &len, &err) == 0 && png, "expected a render with a fetched shot: %s", err.message);
    free (png);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/missing", port);
    CHECK (slide_render (&spec, &opts, &png, &len, &err) == -1, "expected 404 to fail");
    CHECK (strcmp (err.code, "screenshot_fetch_failed") == 0 && !err.retryable
           && strcmp (err.message, "slides[0].screenshot.url answered HTTP 404") == 0
           && strcmp (err.param, "slides[0].screenshot.url") == 0,
           "expected screenshot_fetch_failed 'slides[0].screenshot.url answered HTTP 404', got %s '%s' %s",
           err.code, err.message, err.param);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/boom", port);
    CHECK (slide_render (&spec, &opts, &png, &len, &err) == -1 && err.retryable
           && strcmp (err.code, "screenshot_fetch_failed") == 0, "expected 503 retryable, got %s %d", err.code, err.retryable);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/text", port);
    CHECK (slide_render (&spec, &opts, &png, &len, &err) == -1 && strcmp (err.code, "screenshot_invalid") == 0
           && !err.retryable && strstr (err.message, "is not a PNG, JPEG or WebP image"),
           "expected screenshot_invalid, got %s: %s", err.code, err.message);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/big-unsized", port);
    CHECK (slide_render (&spec, &opts, &png, &len, &err) == -1 && strcmp (err.code, "screenshot_too_large") == 0,
           "expected screenshot_too_large, got %s: %s", err.code, err.message);

    snprintf (url, sizeof url, "http://127.0.0.1:%d/redirect", port);
    CHECK (slide_render (&spec, &opts, &png, &len, &err) == -1 && strcmp (err.code, "screenshot_fetch_failed") == 0
           && !err.retryable && strstr (err.message, "redirects are not followed"),
           "expected the redirect refused, got %s: %s", err.code, err.message);

    opts.allow_private = false;
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok.png", port);
    CHECK (slide_render (&spec, &opts, &png, &len, &err) == -1 && strcmp (err.code, "url_not_allowed") == 0
           && !err.retryable && strstr (err.message, "127.0.0.1"),
           "expected url_not_allowed naming 127.0.0.1, got %s: %s", err.code, err.message);
}

/* Sets *s_stall_flag once the server is holding the /stall request. */
static void *
s_stall_watcher (void *arg)
{
    (void) arg;
    while (!atomic_load (&s_stall_seen))
        usleep (10 * 1000);
    atomic_store (s_stall_flag, true);
    return NULL;
}

static void
test_cancel (int port)
{
    char url[128];
    atomic_bool cancel;
    fetch_result_t r;

    /* set before: nothing is fetched */
    atomic_init (&cancel, true);
    fetch_opts_t opts = { .allow_private = true, .cancel = &cancel };
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok.png", port);
    CHECK (fetch_url (url, &opts, &r) == -1 && r.status == FETCH_CANCELED,
           "expected a canceled fetch, got %d: %s", r.status, r.message);

    /* not set: the flag changes nothing */
    atomic_store (&cancel, false);
    CHECK (fetch_url (url, &opts, &r) == 0 && r.status == FETCH_OK, "expected ok with a clear flag: %s", r.message);
    fetch_result_free (&r);

    /* set while the body stalls: the transfer is aborted */
    pthread_t watcher;
    atomic_store (&s_stall_seen, false);
    s_stall_flag = &cancel;
    pthread_create (&watcher, NULL, s_stall_watcher, NULL);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/stall", port);
    CHECK (fetch_url (url, &opts, &r) == -1 && r.status == FETCH_CANCELED && strstr (r.message, "canceled"),
           "expected the stalled fetch canceled, got %d: %s", r.status, r.message);
    pthread_join (watcher, NULL);

    /* a render: canceled while fetching its screenshot, and before drawing */
    proto_slide_t spec = { .width = 400, .height = 800, .bg_ncolors = 1, .device = "iphone",
                           .format = "png", .shot_url = url };
    slide_render_opts_t sopts = { .font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                                  .allow_private = true, .cancel = &cancel };
    const char *font = getenv ("EASEL_FONT");
    if (font && *font)
        sopts.font_path = font;
    uint8_t *png = NULL;
    size_t len = 0;
    render_error_t err;
    atomic_store (&cancel, false);
    atomic_store (&s_stall_seen, false);
    pthread_create (&watcher, NULL, s_stall_watcher, NULL);
    CHECK (slide_render (&spec, &sopts, &png, &len, &err) == -1 && strcmp (err.code, "canceled") == 0
           && !err.retryable && strstr (err.message, "slides[0].screenshot.url"),
           "expected the render canceled mid-fetch, got %s %d: %s", err.code, err.retryable, err.message);
    pthread_join (watcher, NULL);
    spec.shot_url = NULL;
    CHECK (slide_render (&spec, &sopts, &png, &len, &err) == -1 && strcmp (err.code, "canceled") == 0
           && !err.retryable && png == NULL, "expected a canceled render, got %s", err.code);
    atomic_store (&cancel, false);
    CHECK (slide_render (&spec, &sopts, &png, &len, &err) == 0 && png, "expected a render with a clear flag: %s", err.message);
    free (png);
}

/* The options capture's probe uses: request headers, images_only (a page
   stops at its first byte whatever its size; an image keeps the size cap; an
   error status stays an error status), the connected address. */
static void
test_probe_options (int port)
{
    char url[128];
    fetch_result_t r;
    char *names[FETCH_HEADERS_MAX + 1], *values[FETCH_HEADERS_MAX + 1];
    for (int i = 0; i <= FETCH_HEADERS_MAX; i++)
        names[i] = "X-Filler", values[i] = "1";
    names[0] = "X-Token", values[0] = "sesame";
    names[1] = "Accept-Language", values[1] = "de";
    fetch_opts_t o = { .allow_private = true, .images_only = true, .timeout_ms = 10000,
                       .nheaders = 2, .header_names = names, .header_values = values };

    snprintf (url, sizeof url, "http://127.0.0.1:%d/token.png", port);
    CHECK (fetch_url (url, &o, &r) == 0 && r.status == FETCH_OK && (int) r.len == s_png_len
           && strcmp (r.content_type, "image/png") == 0 && strcmp (r.ip, "127.0.0.1") == 0,
           "expected the headers sent and the image back from 127.0.0.1, got %d (%ld, ip %s): %s",
           r.status, r.http_status, r.ip, r.message);
    fetch_result_free (&r);
    o.nheaders = 0;
    CHECK (fetch_url (url, &o, &r) == -1 && r.status == FETCH_HTTP_STATUS && r.http_status == 403,
           "expected 403 without the headers, got %d (%ld)", r.status, r.http_status);

    /* pages: no body read, whatever they promise (even over max_bytes);
       images keep the cap, with or without Content-Length; statuses stay statuses */
    static const struct {
        const char *path;
        size_t max_bytes;
        fetch_status_t want;
        long http;
    } cases[] = {
        { "/page-hang", 10, FETCH_NOT_IMAGE, 200 },   { "/text", 10, FETCH_NOT_IMAGE, 200 },
        { "/empty-page", 10, FETCH_NOT_IMAGE, 200 },  { "/big", 1000, FETCH_TOO_LARGE, 200 },
        { "/big-unsized", 1000, FETCH_TOO_LARGE, 200 }, { "/boom", 0, FETCH_HTTP_STATUS, 503 },
        { "/redirect", 0, FETCH_REDIRECT, 302 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        o.max_bytes = cases[i].max_bytes;
        snprintf (url, sizeof url, "http://127.0.0.1:%d%s", port, cases[i].path);
        CHECK (fetch_url (url, &o, &r) == -1 && r.status == cases[i].want && r.http_status == cases[i].http
               && !r.data && (r.status != FETCH_NOT_IMAGE || strstr (r.message, "text/")),
               "%s: expected status %d (HTTP %ld), got %d (HTTP %ld): %s", cases[i].path,
               cases[i].want, cases[i].http, r.status, r.http_status, r.message);
    }
    o.max_bytes = 0;

    /* private addresses are refused the same way */
    fetch_opts_t deny = o;
    deny.allow_private = false;
    snprintf (url, sizeof url, "http://127.0.0.1:%d/page-hang", port);
    CHECK (fetch_url (url, &deny, &r) == -1 && r.status == FETCH_NOT_ALLOWED && strcmp (r.address, "127.0.0.1") == 0,
           "expected the loopback page refused, got %d: %s", r.status, r.message);

    /* bad headers: nothing is sent */
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok.png", port);
    o.nheaders = FETCH_HEADERS_MAX + 1;
    CHECK (fetch_url (url, &o, &r) == -1 && r.status == FETCH_BAD_HEADERS && r.http_status == 0,
           "expected too many headers refused, got %d", r.status);
    o.nheaders = 1;
    values[0] = "sesame\r\nX-Evil: 1";
    CHECK (fetch_url (url, &o, &r) == -1 && r.status == FETCH_BAD_HEADERS && strstr (r.message, "header 1"),
           "expected a header with CR LF refused, got %d: %s", r.status, r.message);
    static char huge[FETCH_HEADER_LINE_MAX];
    memset (huge, 'a', sizeof huge - 1);
    values[0] = huge;
    CHECK (fetch_url (url, &o, &r) == -1 && r.status == FETCH_BAD_HEADERS,
           "expected an over-long header refused, got %d", r.status);

    CHECK (fetch_type_may_be_image ("image/webp") && fetch_type_may_be_image ("IMAGE/PNG")
           && fetch_type_may_be_image ("application/octet-stream") && fetch_type_may_be_image ("")
           && fetch_type_may_be_image (NULL) && !fetch_type_may_be_image ("text/html"),
           "fetch_type_may_be_image");
}

typedef struct {
    fetch_cache_t *cache;
    const char *url;
    int ok;
} s_cache_arg_t;

static void *
s_cache_user (void *arg)
{
    s_cache_arg_t *a = arg;
    fetch_opts_t fo = { .allow_private = true };
    for (int i = 0; i < 10; i++) {
        fetch_result_t got;
        if (fetch_cache_get (a->cache, "rnd_A", a->url, &fo, &got) == 0 && got.len == (size_t) s_png_len
        &&  memcmp (got.data, s_png, got.len) == 0)
            a->ok++;
        fetch_result_free (&got);
    }
    return NULL;
}

/* One URL used by many images of a render is fetched once; another render
   fetches for itself; a dropped render fetches again; failures are not kept;
   the byte bound holds. */
static void
test_fetch_cache (int port)
{
    char url[128], missing[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/counted.png", port);
    snprintf (missing, sizeof missing, "http://127.0.0.1:%d/nothing-here", port);
    fetch_cache_t *cache = fetch_cache_new (0, 0);
    CHECK (cache != NULL, "fetch_cache_new");
    atomic_store (&s_counted, 0);
    pthread_t th[4];
    s_cache_arg_t args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (s_cache_arg_t) { .cache = cache, .url = url };
        pthread_create (&th[i], NULL, s_cache_user, &args[i]);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join (th[i], NULL);
        ok += args[i].ok;
    }
    CHECK (ok == 40, "fetch cache: 40 answers with the right bytes, got %d", ok);
    CHECK (atomic_load (&s_counted) == 1, "fetch cache: 40 uses by 4 threads fetch once, got %d",
           atomic_load (&s_counted));
    uint64_t fetches = 0, hits = 0;
    fetch_cache_stats (cache, &fetches, &hits);
    CHECK (fetches == 1 && hits == 39, "fetch cache: 1 fetch, 39 hits; got %llu, %llu",
           (unsigned long long) fetches, (unsigned long long) hits);
    fetch_opts_t fo = { .allow_private = true };
    fetch_result_t got;
    CHECK (fetch_cache_get (cache, "rnd_B", url, &fo, &got) == 0 && atomic_load (&s_counted) == 2,
           "fetch cache: another render fetches for itself");
    fetch_result_free (&got);
    fetch_cache_drop (cache, "rnd_A");
    CHECK (fetch_cache_get (cache, "rnd_A", url, &fo, &got) == 0 && atomic_load (&s_counted) == 3,
           "fetch cache: a dropped render fetches again");
    fetch_result_free (&got);
    CHECK (fetch_cache_get (cache, "", url, &fo, &got) == 0 && atomic_load (&s_counted) == 4,
           "fetch cache: no render id, no caching");
    fetch_result_free (&got);
    atomic_store (&s_missing, 0);
    for (int i = 0; i < 3; i++) {
        CHECK (fetch_cache_get (cache, "rnd_A", missing, &fo, &got) == -1
               && got.status == FETCH_HTTP_STATUS && got.http_status == 404 && got.message[0],
               "fetch cache: a failure is passed on with its reason (try %d)", i);
        fetch_result_free (&got);
    }
    CHECK (atomic_load (&s_missing) == 1, "fetch cache: a 404 is asked once per render, got %d",
           atomic_load (&s_missing));
    fetch_cache_destroy (&cache);
    CHECK (cache == NULL, "fetch_cache_destroy nulls the pointer");
    fetch_cache_destroy (&cache);

    /* bounded in bytes: a body over the bound is never kept */
    cache = fetch_cache_new ((size_t) s_png_len - 1, 0);
    atomic_store (&s_counted, 0);
    for (int i = 0; i < 3; i++) {
        CHECK (fetch_cache_get (cache, "rnd_A", url, &fo, &got) == 0, "fetch cache: small bound fetch");
        fetch_result_free (&got);
    }
    CHECK (atomic_load (&s_counted) == 3, "fetch cache: over the byte bound nothing is kept, got %d",
           atomic_load (&s_counted));
    fetch_cache_destroy (&cache);
}

/* One transient rule for slides, captures and the fetch cache (fetch_transient). */
static void
test_transient (void)
{
    static const struct { fetch_status_t status; long http; bool want; } cases [] = {
        { FETCH_TIMEOUT, 0, true }, { FETCH_NETWORK, 0, true }, { FETCH_HTTP_STATUS, 503, true },
        { FETCH_HTTP_STATUS, 500, true }, { FETCH_HTTP_STATUS, 408, true }, { FETCH_HTTP_STATUS, 429, true },
        { FETCH_HTTP_STATUS, 404, false }, { FETCH_HTTP_STATUS, 403, false }, { FETCH_NOT_ALLOWED, 0, false },
        { FETCH_TOO_LARGE, 0, false }, { FETCH_BAD_URL, 0, false }, { FETCH_CANCELED, 0, false },
        { FETCH_REDIRECT, 0, false }, { FETCH_OK, 0, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        fetch_result_t got = { .status = cases [i].status, .http_status = cases [i].http };
        CHECK (fetch_transient (&got) == cases [i].want, "status %d http %ld: transient %d",
               (int) cases [i].status, cases [i].http, (int) cases [i].want);
    }
}

/* A task's input by presigned URL (task_blobs.h): read once, checked
   against its sha256, then served by name from the process's cache. */
static void
test_task_blobs (int port)
{
    char sha [65], url [128];
    util_sha256_hex (s_png, (size_t) s_png_len, sha);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/counted.png", port);
    int before = atomic_load (&s_counted);
    uint64_t hits0, misses0, hits, misses;
    size_t bytes;
    task_blobs_cache_stats (&hits0, &misses0, &bytes);
    for (int i = 0; i < 3; i++) {
        proto_task_t task = { .attempt = 1 };
        task.blob_url = strdup (url);
        memcpy (task.blob_url_sha256, sha, sizeof sha);
        render_error_t why = { 0 };
        CHECK (task_blobs_fetch (&task, &why) == 0 && task.blob_len == (size_t) s_png_len
               && memcmp (task.blob, s_png, task.blob_len) == 0 && strcmp (task.blob_sha256, sha) == 0,
               "task %d gets its input attached: %s", i, why.message);
        proto_task_free (&task);
    }
    CHECK (atomic_load (&s_counted) == before + 1, "the store is read once for three tasks, %d times",
           atomic_load (&s_counted) - before);
    task_blobs_cache_stats (&hits, &misses, &bytes);
    CHECK (hits - hits0 == 2 && misses - misses0 == 1 && bytes >= (size_t) s_png_len,
           "2 hits and 1 miss, got %llu and %llu", (unsigned long long) (hits - hits0),
           (unsigned long long) (misses - misses0));
    /* bytes that hash to another name are refused, retryably */
    proto_task_t task = { .attempt = 1 };
    snprintf (url, sizeof url, "http://127.0.0.1:%d/ok.png", port);
    task.blob_url = strdup (url);
    memset (task.blob_url_sha256, 'a', 64);
    render_error_t why = { 0 };
    CHECK (task_blobs_fetch (&task, &why) == -1 && strcmp (why.code, "blob_missing") == 0 && why.retryable
           && strstr (why.message, "hashes to") && !task.blob,
           "a wrong hash is blob_missing, retryable: %s %s", why.code, why.message);
    proto_task_free (&task);
    /* an answer that is not 200 says its status */
    memset (&task, 0, sizeof task);
    snprintf (url, sizeof url, "http://127.0.0.1:%d/nothing-here", port);
    task.blob_url = strdup (url);
    memset (task.blob_url_sha256, 'b', 64);
    CHECK (task_blobs_fetch (&task, &why) == -1 && strstr (why.message, "HTTP 404"),
           "a 404 is named: %s", why.message);
    proto_task_free (&task);
    /* a task that carries its bytes, or has no URL, reads nothing */
    memset (&task, 0, sizeof task);
    CHECK (task_blobs_fetch (&task, &why) == 0 && !task.blob, "nothing to read");
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    gdFontCacheSetup ();
    gdImagePtr im = gdImageCreateTrueColor (60, 120);
    gdImageFilledRectangle (im, 0, 0, 59, 119, gdTrueColor (0, 128, 255));
    s_png = gdImagePngPtr (im, &s_png_len);
    gdImageDestroy (im);
    memset (s_big, 'x', sizeof s_big);

    pthread_t thread;
    int port = s_server_start (&thread);
    test_address_classes ();
    test_transient ();
    test_fetch (port);
    test_slide_errors (port);
    test_cancel (port);
    test_probe_options (port);
    test_fetch_cache (port);
    test_task_blobs (port);
    atomic_store (&s_stop, true);
    pthread_join (thread, NULL);
    close (s_listen_fd);
    gdFree (s_png);
    gdFontCacheShutdown ();
    curl_global_cleanup ();
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("renderer_fetch: all checks passed\n");
    return 0;
}
