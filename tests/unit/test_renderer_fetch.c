/*  test_renderer_fetch.c: fetch_url and the screenshot error mapping against a
    tiny HTTP server in a thread (127.0.0.1, ephemeral port, canned answers).
    200 PNG ok; 404 names HTTP 404; not an image is screenshot_invalid; 302 is
    refused; over-size bodies are refused (with and without Content-Length);
    loopback is refused naming 127.0.0.1 unless private networks are allowed. */
#include "netguard.h"
#include "fetch.h"
#include "slide_render.h"

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

static int s_failures = 0;

#define CHECK(cond, ...) do { if (!(cond)) { s_failures++; \
    fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf (stderr, __VA_ARGS__); fputc ('\n', stderr); } } while (0)

static int s_listen_fd = -1;
static atomic_bool s_stop;
static uint8_t *s_png;
static int s_png_len;
static char s_big[5000];

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
    test_fetch (port);
    test_slide_errors (port);
    atomic_store (&s_stop, true);
    pthread_join (thread, NULL);
    close (s_listen_fd);
    gdFree (s_png);
    gdFontCacheShutdown ();
    curl_global_cleanup ();
    if (s_failures) {
        fprintf (stderr, "%d check(s) failed\n", s_failures);
        return 1;
    }
    printf ("renderer_fetch: all checks passed\n");
    return 0;
}
