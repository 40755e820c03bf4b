/*  test_metrics.c: the metrics registry and its Prometheus text (common/metrics.h).
    Checks the exposition lines, label escaping, histogram buckets, caps,
    lock-free updates from several threads, and the /metrics listener. */
#include "check.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>



static int
s_has (const char *text, const char *line)
{
    return text && strstr (text, line) != NULL;
}

static metrics_family_t *s_threads_family;

static void *
s_worker (void *arg)
{
    const char *route = arg;
    for (int i = 0; i < 20000; i++)
        metrics_inc (metrics_get (s_threads_family, route, i % 2 ? "200" : "404"), 1);
    return NULL;
}

/* GET path from 127.0.0.1:port; returns the whole response (heap) or NULL. */
static char *
s_http_get (int port, const char *method)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || connect (fd, (struct sockaddr *) &a, sizeof a) < 0) {
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    char req [128];
    int n = snprintf (req, sizeof req, "%s /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method);
    if (write (fd, req, (size_t) n) != n) {
        close (fd);
        return NULL;
    }
    size_t cap = 1 << 20, len = 0;
    char *buf = calloc (1, cap + 1);
    ssize_t r;
    while (buf && len < cap && (r = read (fd, buf + len, cap - len)) > 0)
        len += (size_t) r;
    close (fd);
    return buf;
}

int
main (void)
{
    /* counters with labels, escaping */
    metrics_family_t *c = metrics_counter ("easel_test_requests_total", "Requests.", "route,status");
    CHECK (c != NULL, "as documented");
    CHECK (metrics_counter ("easel_test_requests_total", "again", "route,status") == c, "as documented");
    metrics_inc (metrics_get (c, "/v1/renders", "202"), 1);
    metrics_inc (metrics_get (c, "/v1/renders", "202"), 2);
    metrics_inc (metrics_get (c, "a\"b\\c\nd", "500"), 1);
    /* gauges without labels */
    metrics_family_t *g = metrics_gauge ("easel_test_queue_depth", "Queued tasks.", NULL);
    metrics_set (metrics_get (g), 7);
    metrics_add (metrics_get (g), -2);
    /* histogram */
    static const double bounds [] = { 0.1, 1, 10 };
    metrics_family_t *h = metrics_histogram ("easel_test_render_seconds", "Render time.", "preset",
                                             bounds, 3);
    metrics_series_t *hs = metrics_get (h, "iphone-6.9");
    metrics_observe (hs, 0.05);
    metrics_observe (hs, 0.5);
    metrics_observe (hs, 0.5);
    metrics_observe (hs, 100);
    /* bad registrations */
    static const double unsorted [] = { 1, 0.5 };
    CHECK (metrics_histogram ("easel_test_bad", "x", NULL, unsorted, 2) == NULL, "as documented");
    CHECK (metrics_counter ("easel_test_bad2", "x", "a,b,c,d") == NULL, "as documented");   /* over METRICS_LABELS_MAX */
    CHECK (metrics_get (NULL, "x") == NULL, "as documented");
    metrics_inc (NULL, 1);          /* no-ops */
    metrics_observe (NULL, 1);

    size_t len = 0;
    char *text = metrics_render (&len);
    CHECK (text && len == strlen (text), "as documented");
    CHECK (s_has (text, "# HELP easel_test_requests_total Requests.\n"), "as documented");
    CHECK (s_has (text, "# TYPE easel_test_requests_total counter\n"), "as documented");
    CHECK (s_has (text, "easel_test_requests_total{route=\"/v1/renders\",status=\"202\"} 3\n"), "as documented");
    CHECK (s_has (text, "easel_test_requests_total{route=\"a\\\"b\\\\c\\nd\",status=\"500\"} 1\n"), "as documented");
    CHECK (s_has (text, "# TYPE easel_test_queue_depth gauge\neasel_test_queue_depth 5\n"), "as documented");
    CHECK (s_has (text, "# TYPE easel_test_render_seconds histogram\n"), "as documented");
    CHECK (s_has (text, "easel_test_render_seconds_bucket{preset=\"iphone-6.9\",le=\"0.1\"} 1\n"), "as documented");
    CHECK (s_has (text, "easel_test_render_seconds_bucket{preset=\"iphone-6.9\",le=\"1\"} 3\n"), "as documented");
    CHECK (s_has (text, "easel_test_render_seconds_bucket{preset=\"iphone-6.9\",le=\"10\"} 3\n"), "as documented");
    CHECK (s_has (text, "easel_test_render_seconds_bucket{preset=\"iphone-6.9\",le=\"+Inf\"} 4\n"), "as documented");
    CHECK (s_has (text, "easel_test_render_seconds_sum{preset=\"iphone-6.9\"} 101.05\n"), "as documented");
    CHECK (s_has (text, "easel_test_render_seconds_count{preset=\"iphone-6.9\"} 4\n"), "as documented");
    CHECK (!s_has (text, "easel_test_bad"), "as documented");
    free (text);

    /* label values over the cap are cut, not refused */
    char longv [300];
    memset (longv, 'x', sizeof longv - 1);
    longv [sizeof longv - 1] = 0;
    CHECK (metrics_get (c, longv, "200") != NULL, "as documented");

    /* series cap: creation stops at METRICS_SERIES_MAX, updates become no-ops */
    metrics_family_t *many = metrics_counter ("easel_test_many_total", "Many.", "n");
    int made = 0;
    for (int i = 0; i < METRICS_SERIES_MAX + 10; i++) {
        char v [16];
        snprintf (v, sizeof v, "%d", i);
        if (metrics_get (many, v))
            made++;
    }
    CHECK (made == METRICS_SERIES_MAX, "as documented");

    /* lock-free updates from four threads lose nothing */
    s_threads_family = metrics_counter ("easel_test_threads_total", "Threads.", "route,status");
    pthread_t t [4];
    char *routes [] = { "/a", "/b", "/a", "/b" };
    for (int i = 0; i < 4; i++)
        pthread_create (&t [i], NULL, s_worker, routes [i]);
    for (int i = 0; i < 4; i++)
        pthread_join (t [i], NULL);
    text = metrics_render (NULL);
    CHECK (s_has (text, "easel_test_threads_total{route=\"/a\",status=\"200\"} 20000\n"), "as documented");
    CHECK (s_has (text, "easel_test_threads_total{route=\"/b\",status=\"404\"} 20000\n"), "as documented");
    free (text);

    /* the listener: refused bad addresses, then a real scrape */
    char err [256];
    CHECK (metrics_serve ("", err, sizeof err) == 0, "as documented");               /* off */
    CHECK (metrics_serve ("127.0.0.1:1,127.0.0.1:2", err, sizeof err) == -1, "as documented");
    int port = 0;
    for (int p = 19100 + (int) (getpid () % 500); p < 19900 && !port; p += 37) {
        char listen [32];
        snprintf (listen, sizeof listen, "127.0.0.1:%d", p);
        if (metrics_serve (listen, err, sizeof err) == 0)
            port = p;
    }
    CHECK (port != 0, "as documented");
    if (port) {
        char *resp = s_http_get (port, "GET");
        CHECK (s_has (resp, "HTTP/1.1 200"), "as documented");
        CHECK (s_has (resp, "text/plain; version=0.0.4"), "as documented");
        CHECK (s_has (resp, "easel_test_queue_depth 5\n"), "as documented");
        free (resp);
        resp = s_http_get (port, "POST");
        CHECK (s_has (resp, "HTTP/1.1 405"), "as documented");
        free (resp);
        metrics_serve_stop ();
    }
    if (check_failures)
        fprintf (stderr, "test_metrics: %d failures\n", check_failures);
    else
        printf ("test_metrics: ok\n");
    return check_failures ? 1 : 0;
}
