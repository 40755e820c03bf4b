/*  fuzz_gateway_seeds.c: writes raw HTTP requests into DIR/fuzz_gateway/ as
    the gateway fuzzer's seed corpus: each route with the stand-in's key,
    deep JSON (arrays, metadata, with an Idempotency-Key), bad and junk keys,
    chunked and malformed framing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int s_failed;

static void
s_write (const char *dir, int n, const char *text, size_t len)
{
    char path [512];
    snprintf (path, sizeof path, "%s/fuzz_gateway/seed_%02d", dir, n);
    FILE *f = fopen (path, "wb");
    if (!f || fwrite (text, 1, len, f) != len)
        s_failed = 1;
    if (f && fclose (f))
        s_failed = 1;
}

/* A request with `headers` (whole lines) and body, Content-Length set. */
static void
s_request (const char *dir, int n, const char *line, const char *headers, const char *body)
{
    char text [8192];
    int len = snprintf (text, sizeof text, "%s\r\nHost: fuzz\r\n%sContent-Length: %zu\r\n\r\n%s",
                        line, headers, strlen (body), body);
    if (len < 0 || (size_t) len >= sizeof text)
        s_failed = 1;
    else
        s_write (dir, n, text, (size_t) len);
}

static char *
s_nest (const char *open, const char *close, int depth, const char *inner)
{
    size_t size = (size_t) depth * (strlen (open) + strlen (close)) + strlen (inner) + 1;
    char *s = calloc (1, size);
    for (int i = 0; s && i < depth; i++)
        strcat (s, open);
    if (s)
        strcat (s, inner);
    for (int i = 0; s && i < depth; i++)
        strcat (s, close);
    return s;
}

#define GOOD "Authorization: Bearer sk_fuzz_good\r\n"
#define JSON "Content-Type: application/json\r\n"
#define RENDER "{\"async\":true,\"canvas\":{\"preset\":\"appstore.iphone_6_9\"}," \
               "\"slides\":[{\"headline\":{\"lines\":[\"Hi\"]}}],\"metadata\":{\"k\":\"v\"}}"

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_gateway_seeds DIR\n");
        return 2;
    }
    char sub [512];
    snprintf (sub, sizeof sub, "%s/fuzz_gateway", argv [1]);
    mkdir (sub, 0755);
    char *arrays = s_nest ("[", "]", 1000, "");
    char *meta = s_nest ("{\"a\":", "}", 300, "1");
    char *metabody = meta ? malloc (strlen (meta) + 200) : NULL;
    if (!arrays || !metabody)
        return 1;
    snprintf (metabody, strlen (meta) + 200, "{\"slides\":[{\"headline\":{\"lines\":[\"x\"]}}],"
              "\"metadata\":%s}", meta);
    int n = 0;
    s_request (argv [1], n++, "GET /healthz HTTP/1.1", "", "");
    s_request (argv [1], n++, "POST /v1/renders HTTP/1.1", GOOD JSON, RENDER);
    s_request (argv [1], n++, "POST /v1/renders HTTP/1.1", GOOD JSON "Idempotency-Key: k1\r\n", RENDER);
    s_request (argv [1], n++, "POST /v1/renders HTTP/1.1", GOOD JSON, arrays);
    s_request (argv [1], n++, "POST /v1/renders HTTP/1.1", GOOD JSON, metabody);
    s_request (argv [1], n++, "POST /v1/webhooks/test HTTP/1.1", GOOD JSON "Idempotency-Key: k2\r\n", arrays);
    s_request (argv [1], n++, "POST /v1/webhooks/test HTTP/1.1", "Authorization: Bearer sk_nope\r\n" JSON
               "Idempotency-Key: k3\r\n", metabody);
    s_request (argv [1], n++, "POST /v1/renders HTTP/1.1", "Authorization: Bearer sk_fuzz_good junk\r\n" JSON, RENDER);
    s_request (argv [1], n++, "POST /v1/renders HTTP/1.1", "Authorization: Basic xyz\r\n" JSON, RENDER);
    s_request (argv [1], n++, "POST /v1/capture HTTP/1.1", GOOD JSON,
               "{\"url\":\"https://example.com/\",\"async\":true,\"headers\":{\"X-A\":\"b\"}}");
    s_request (argv [1], n++, "GET /v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H?wait=1 HTTP/1.1", GOOD, "");
    s_request (argv [1], n++, "GET /v1/renders?limit=5&starting_after=rnd_01KNS1WNPW9FCHZSK4XNTHMB0H HTTP/1.1",
               GOOD, "");
    s_request (argv [1], n++, "POST /v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H/cancel HTTP/1.1",
               GOOD JSON "Idempotency-Key: k4\r\n", "{}");
    s_request (argv [1], n++, "GET /v1/files/img_01KNS1WNPW9FCHZSK4XNTHMB0H.png?exp=99999999999&sig="
               "0000000000000000000000000000000000000000000000000000000000000000 HTTP/1.1", "", "");
    s_request (argv [1], n++, "GET /v1/account HTTP/1.1", GOOD, "");
    s_request (argv [1], n++, "POST /v1/account/webhook_secret/rotate HTTP/1.1", GOOD JSON, "{\"overlap_s\":60}");
    s_request (argv [1], n++, "GET /readyz HTTP/1.1", "", "");
    static const char chunked [] = "POST /v1/renders HTTP/1.1\r\nHost: fuzz\r\n" GOOD JSON
        "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3\r\n[1]\r\n1\r\n}\r\n0\r\n\r\n";
    s_write (argv [1], n++, chunked, sizeof chunked - 1);
    static const char garbage [] = "GARBAGE\r\n\r\n";
    s_write (argv [1], n++, garbage, sizeof garbage - 1);
    static const char version [] = "GET /healthz HTTP/9.9\r\n\r\n";
    s_write (argv [1], n++, version, sizeof version - 1);
    free (arrays);
    free (meta);
    free (metabody);
    return s_failed;
}
