/*  test_s3_presign.c: presigned S3 URLs against the AWS documentation's
    published example ("Authenticating Requests: Using Query Parameters
    (AWS Signature Version 4)": GET examplebucket/test.txt with the
    documentation's example key, 2013-05-24 00:00:00 UTC, 86400 s): the
    canonical request and the whole URL, signature included, must be the
    documented ones. Then path-style addressing, an encoded key, and the
    refusals (method, expiry, credentials), none echoing the secret.
    Single thread; no network. */
#include "check.h"
#include "s3_presign.h"

#include <string.h>

#define S_AK "AKIAIOSFODNN7EXAMPLE"
#define S_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S_MAY24 1369353600LL                  /* 2013-05-24T00:00:00Z */

static void
s_aws_example (void)
{
    s3_location_t loc;
    char err [256] = "", url [S3_PRESIGN_URL_MAX], creq [2048];
    REQUIRE (s3_location_parse ("s3://examplebucket?endpoint=https://s3.amazonaws.com", &loc, err) == 0,
             "parse: %s", err);
    REQUIRE (s3_presign (&loc, S_AK, S_SK, "GET", "test.txt", NULL, S_MAY24, 86400, url, sizeof url,
                         creq, sizeof creq, err) == 0, "presign: %s", err);
    const char *want_creq =
        "GET\n"
        "/test.txt\n"
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1"
        "%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "\n"
        "host\n"
        "UNSIGNED-PAYLOAD";
    CHECK (strcmp (creq, want_creq) == 0, "the documented canonical request, got:\n%s", creq);
    const char *want =
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    CHECK (strcmp (url, want) == 0, "the documented presigned URL, got:\n%s", url);
}

static void
s_path_style_and_keys (void)
{
    s3_location_t loc;
    char err [256] = "", url [S3_PRESIGN_URL_MAX], creq [2048];
    REQUIRE (s3_location_parse ("s3://examplebucket?endpoint=http://127.0.0.1:9000&path_style=1&region=eu-west-3",
                                &loc, err) == 0, "parse: %s", err);
    REQUIRE (s3_presign (&loc, S_AK, S_SK, "PUT", "p/ab/a b+c", NULL, S_MAY24, 60, url, sizeof url,
                         creq, sizeof creq, err) == 0, "presign: %s", err);
    const char *base = "http://127.0.0.1:9000/examplebucket/p/ab/a%20b%2Bc?";
    CHECK (strncmp (url, base, strlen (base)) == 0,
           "path-style, each key segment encoded, '/' kept: %s", url);
    CHECK (strstr (creq, "PUT\n/examplebucket/p/ab/a%20b%2Bc\n") == creq, "the canonical URI: %s", creq);
    CHECK (strstr (creq, "\nhost:127.0.0.1:9000\n") != NULL, "the host with its port is signed: %s", creq);
    CHECK (strstr (url, "%2Feu-west-3%2Fs3%2Faws4_request") != NULL, "the region in the scope: %s", url);
    CHECK (strstr (url, "X-Amz-Expires=60&") != NULL, "the expiry: %s", url);
    REQUIRE (s3_presign (&loc, S_AK, S_SK, "GET", "k", "image/png", S_MAY24, 60, url, sizeof url,
                         creq, sizeof creq, err) == 0, "presign: %s", err);
    CHECK (strstr (creq, "X-Amz-SignedHeaders=host&response-content-type=image%2Fpng\n") != NULL,
           "response-content-type is signed, sorted after X-Amz-*: %s", creq);
    CHECK (strstr (url, "&response-content-type=image%2Fpng&X-Amz-Signature=") != NULL, "in the URL: %s", url);
    char again [S3_PRESIGN_URL_MAX];
    REQUIRE (s3_presign (&loc, S_AK, "another-secret", "PUT", "p/ab/a b+c", NULL, S_MAY24, 60, again, sizeof again,
                         NULL, 0, err) == 0, "presign: %s", err);
    CHECK (strcmp (url, again) != 0, "another secret signs differently");
}

static void
s_refusals (void)
{
    s3_location_t loc;
    char err [256] = "", url [S3_PRESIGN_URL_MAX];
    REQUIRE (s3_location_parse ("s3://examplebucket", &loc, err) == 0, "parse: %s", err);
    static const struct { const char *method, *ak, *sk, *key, *type; long long expires; size_t size; const char *says; } bad [] = {
        { "POST", S_AK, S_SK, "k", NULL, 60, sizeof url, "method" },
        { "GET", S_AK, S_SK, "k", NULL, 0, sizeof url, "expiry" },
        { "GET", S_AK, S_SK, "k", NULL, 604801, sizeof url, "expiry" },
        { "GET", "", S_SK, "k", NULL, 60, sizeof url, "credentials" },
        { "GET", S_AK, NULL, "k", NULL, 60, sizeof url, "credentials" },
        { "GET", S_AK, S_SK, "", NULL, 60, sizeof url, "key" },
        { "GET", S_AK, S_SK, "k", NULL, 60, 40, "URL over 40 bytes" },
        { "PUT", S_AK, S_SK, "k", "image/png", 60, sizeof url, "GET only" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        err [0] = 0;
        CHECK (s3_presign (&loc, bad [i].ak, bad [i].sk, bad [i].method, bad [i].key, bad [i].type, S_MAY24, bad [i].expires,
                           url, bad [i].size, NULL, 0, err) == -1 && strstr (err, bad [i].says)
               && !strstr (err, S_SK), "case %zu is refused naming %s: '%s'", i, bad [i].says, err);
    }
}

int
main (void)
{
    check_case ("the AWS documentation's presigned URL", s_aws_example);
    check_case ("path-style and encoded keys", s_path_style_and_keys);
    check_case ("refusals", s_refusals);
    return check_done ("s3_presign");
}
