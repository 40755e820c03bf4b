/*  web_url.h: the one parser of the page URLs Easel loads in a browser.

    A capture URL is read by three parsers: the gateway's, libcurl's (the
    renderer's probe) and Chromium's. Where they can disagree about the host
    (http://127.0.0.1:80\@example.com/ is example.com to libcurl and
    loopback to a browser) a check made by one protects nothing in the
    other. So the gateway and the renderer both parse with web_url_parse
    (libcurl's URL API underneath), which refuses every form browsers read
    differently, and hand on only its canonical re-serialisation:
      - printable ASCII only (no space, control, tab or newline, which
        browsers strip; no byte over 127: hosts in Unicode go as punycode);
      - no backslash anywhere, no userinfo ('@' before the host), no
        percent sign in the host;
      - scheme http or https followed by exactly "//";
      - host: DNS labels of letters, digits, '-' and '_' (1..63 bytes,
        253 in all, no empty label, no trailing dot), a bracketed IPv6
        address without a zone, or a dotted-quad IPv4 address written
        canonically; a host whose last label is a number or 0x... in any
        other form (127.1, 0x7f.1, 2130706433, 0177.0.0.1) is refused,
        since browsers read it as an IPv4 address;
      - port 1..65535 in decimal, when given.
    The canonical form is lower-case scheme and host, the port only when it
    is not the scheme's default, then the path (at least "/"), query and
    fragment as given.

    Thread: any; no state. Memory: everything is in the caller's web_url_t. */
#ifndef EASEL_WEB_URL_H
#define EASEL_WEB_URL_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_URL_MAX_BYTES 2048
#define WEB_URL_ERR_MAX   160

typedef struct {
    char scheme [8];                        /* "http" | "https" */
    char host [256];                        /* lower case; IPv6 without brackets */
    bool host_is_ip;
    int  port;                              /* effective port (80/443 by default) */
    char canonical [WEB_URL_MAX_BYTES + 64];
} web_url_t;

/* Parses text. 0 with *out filled, or -1 with out zeroed and err (at least
   WEB_URL_ERR_MAX bytes) saying what is refused, as the end of a sentence
   beginning "url " ("has a user name or password before the host"). */
int web_url_parse (const char *text, web_url_t *out, char *err);

/* Whether domain (no leading dot, lower or upper case) is a public suffix
   that sites do not own, as the Public Suffix List says (libpsl, the newest
   of its built-in list and Debian's publicsuffix file): "com", "co.uk",
   "github.io". A TLD the list does not name is not one (no "*" rule), so
   test hosts such as "localhost" are left alone. */
bool web_url_public_suffix (const char *domain);

#endif
