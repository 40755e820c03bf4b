/*  test_web_url.c: the page-URL parser (common/web_url.h): the forms
    browsers and libcurl read alike are accepted and re-serialised
    canonically; every form they read differently is refused with a reason. */
#include "check.h"
#include "web_url.h"

#include <stdio.h>
#include <string.h>

static void
s_ok (const char *url, const char *canonical, const char *host, int port)
{
    web_url_t u;
    char err [WEB_URL_ERR_MAX] = "";
    int rc = web_url_parse (url, &u, err);
    CHECK (rc == 0, "%s accepted as %s, refused with %s", url, canonical, err);
    if (rc != 0)
        return;
    CHECK (strcmp (u.canonical, canonical) == 0 && strcmp (u.host, host) == 0 && u.port == port,
           "%s -> %s host %s port %d, got %s host %s port %d", url, canonical, host, port,
           u.canonical, u.host, u.port);
}

static void
s_refused (const char *url, const char *why)
{
    web_url_t u;
    char err [WEB_URL_ERR_MAX] = "";
    int rc = web_url_parse (url, &u, err);
    CHECK (rc != 0, "%s refused (%s), accepted as %s", url, why, u.canonical);
    if (rc != 0)
        CHECK (strstr (err, why) != NULL, "%s refused with \"%s\", got \"%s\"", url, why, err);
}

static void
s_accepted (void)
{
    s_ok ("https://example.com", "https://example.com/", "example.com", 443);
    s_ok ("HTTPS://Example.COM/Path?Q=1#Frag", "https://example.com/Path?Q=1#Frag", "example.com", 443);
    s_ok ("http://example.com:80/a", "http://example.com/a", "example.com", 80);
    s_ok ("http://example.com:8080?x", "http://example.com:8080/?x", "example.com", 8080);
    s_ok ("http://127.0.0.1:5000/p", "http://127.0.0.1:5000/p", "127.0.0.1", 5000);
    s_ok ("http://[::1]:81/", "http://[::1]:81/", "::1", 81);
    s_ok ("http://[0:0::1]/", "http://[::1]/", "::1", 80);
    s_ok ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/", "xn--bcher-kva.example", 443);
    s_ok ("https://a_b.example.com/", "https://a_b.example.com/", "a_b.example.com", 443);
    s_ok ("https://1password.com/", "https://1password.com/", "1password.com", 443);
    s_ok ("https://example.com/a%20b", "https://example.com/a%20b", "example.com", 443);
    s_ok ("https://example.com/@user", "https://example.com/@user", "example.com", 443);
}

static void
s_refused_forms (void)
{
    s_refused ("http://127.0.0.1:80\\@example.com/", "backslash");
    s_refused ("http://example.com\\path", "backslash");
    s_refused ("http://user:pw@example.com/", "user name or password");
    s_refused ("http://@example.com/", "user name or password");
    s_refused ("http://127.0.0.1%2f@example.com/", "user name or password");
    s_refused ("http://ex%61mple.com/", "percent-encoded host");
    s_refused ("http://%31%32%37.0.0.1/", "percent-encoded host");
    s_refused ("http://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/", "non-ASCII");    /* full-width digits */
    s_refused ("http://ex\xc3\xa4mple.com/", "non-ASCII");
    s_refused ("http://exa\tmple.com/", "control");
    s_refused ("http://exa\nmple.com/", "control");
    s_refused ("http://example.com/a b", "space");
    s_refused ("http://0x7f.1/", "numeric host");
    s_refused ("http://0x7f000001/", "numeric host");
    s_refused ("http://2130706433/", "numeric host");
    s_refused ("http://127.1/", "numeric host");
    s_refused ("http://0177.0.0.1/", "numeric host");
    s_refused ("http://127.0.0.01/", "numeric host");
    s_refused ("http://1.2.3.4.5/", "numeric host");
    s_refused ("http://foo.0x10/", "numeric host");
    s_refused ("http://example.com./", "ending in a dot");
    s_refused ("http://a..b/", "empty label");
    s_refused ("http:///x", "no host");
    s_refused ("http:/example.com/", "absolute http");
    s_refused ("http:example.com/", "absolute http");
    s_refused ("ftp://example.com/", "absolute http");
    s_refused ("javascript:alert(1)", "absolute http");
    s_refused ("file:///etc/passwd", "absolute http");
    s_refused ("http://[fe80::1%25eth0]/", "percent-encoded host");
    s_refused ("http://[::1/", "IPv6");
    s_refused ("http://[example.com]/", "IPv6");
    s_refused ("http://[::1]x/", "after the IPv6");
    s_refused ("http://example.com:0/", "port");
    s_refused ("http://example.com:65536/", "port");
    s_refused ("http://example.com:/", "port");
    s_refused ("http://example.com:8o/", "port");
    s_refused ("http://exa mple.com/", "space");
    s_refused ("http://exam*ple.com/", "character other than");
    s_refused (NULL, "missing");
    {
        char long_url [2100];
        memset (long_url, 'a', sizeof long_url - 1);
        memcpy (long_url, "http://x.com/", 13);
        long_url [sizeof long_url - 1] = '\0';
        s_refused (long_url, "longer than 2048");
    }
}

int
main (void)
{
    check_case ("accepted forms are canonical", s_accepted);
    check_case ("forms browsers and libcurl read differently are refused", s_refused_forms);
    return check_done ("web_url");
}
