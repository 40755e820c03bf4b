/*  web_url.c: page URLs parsed once, by rules browsers agree with (see web_url.h). */
#include "web_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
s_refuse (web_url_t *out, char *err, const char *why)
{
    memset (out, 0, sizeof *out);
    snprintf (err, WEB_URL_ERR_MAX, "%s", why);
    return -1;
}

/* A canonical decimal octet: 0..255 without leading zeros. */
static bool
s_octet (const char *s, size_t n)
{
    if (n == 0 || n > 3 || (n > 1 && s [0] == '0'))
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit ((unsigned char) s [i]))
            return false;
        v = v * 10 + (s [i] - '0');
    }
    return v <= 255;
}

/* True when the label reads as a number to a browser (WHATWG "ends in a
   number"): all decimal digits, or 0x / 0X and hex digits. */
static bool
s_numeric_label (const char *s, size_t n)
{
    if (n >= 2 && s [0] == '0' && (s [1] == 'x' || s [1] == 'X')) {
        for (size_t i = 2; i < n; i++)
            if (!isxdigit ((unsigned char) s [i]))
                return false;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (!isdigit ((unsigned char) s [i]))
            return false;
    return n > 0;
}

/* 0 when host (lower-cased in place) is a DNS name or a canonical IPv4. */
static int
s_check_name (char *host, bool *is_ip, const char **why)
{
    size_t len = strlen (host);
    *is_ip = false;
    if (len == 0)
        return *why = "has no host", -1;
    if (len > 253)
        return *why = "has a host longer than 253 bytes", -1;
    if (host [len - 1] == '.')
        return *why = "has a host ending in a dot", -1;
    size_t labels = 0, numeric = 0, last_start = 0;
    for (size_t i = 0, start = 0; i <= len; i++) {
        if (i < len && host [i] != '.') {
            unsigned char c = (unsigned char) host [i];
            if (!isalnum (c) && c != '-' && c != '_')
                return *why = "has a host with a character other than letters, digits, '-', '_' and '.'", -1;
            host [i] = (char) tolower (c);
            continue;
        }
        size_t n = i - start;
        if (n == 0)
            return *why = "has a host with an empty label", -1;
        if (n > 63)
            return *why = "has a host label longer than 63 bytes", -1;
        labels++;
        if (s_octet (host + start, n))
            numeric++;
        last_start = start;
        start = i + 1;
    }
    if (!s_numeric_label (host + last_start, len - last_start))
        return 0;                  /* a name: its last label is not a number */
    if (labels == 4 && numeric == 4) {
        *is_ip = true;
        return 0;
    }
    return *why = "has a numeric host that is not a dotted-quad IPv4 address (such as 127.0.0.1)", -1;
}

int
web_url_parse (const char *text, web_url_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    if (!text)
        return s_refuse (out, err, "is missing");
    size_t len = strlen (text);
    if (len > WEB_URL_MAX_BYTES)
        return s_refuse (out, err, "is longer than 2048 bytes");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        if (c <= 0x20 || c >= 0x7F)
            return s_refuse (out, err, "has a space, control or non-ASCII character "
                                       "(percent-encode the path; write hosts in punycode)");
        if (c == '\\')
            return s_refuse (out, err, "has a backslash");
    }
    size_t skip;
    if (strncasecmp (text, "http://", 7) == 0)
        skip = 7, snprintf (out->scheme, sizeof out->scheme, "http"), out->port = 80;
    else
    if (strncasecmp (text, "https://", 8) == 0)
        skip = 8, snprintf (out->scheme, sizeof out->scheme, "https"), out->port = 443;
    else
        return s_refuse (out, err, "is not an absolute http:// or https:// URL");
    const char *auth = text + skip;
    size_t alen = strcspn (auth, "/?#");
    if (memchr (auth, '@', alen))
        return s_refuse (out, err, "has a user name or password before the host");
    if (memchr (auth, '%', alen))
        return s_refuse (out, err, "has a percent-encoded host");
    char host [256];
    const char *port = NULL;
    size_t plen = 0;
    if (alen && auth [0] == '[') {
        const char *close = memchr (auth, ']', alen);
        if (!close || (size_t) (close - auth) - 1 >= sizeof host)
            return s_refuse (out, err, "has an unclosed or overlong IPv6 host");
        size_t hlen = (size_t) (close - auth) - 1;
        memcpy (host, auth + 1, hlen);
        host [hlen] = '\0';
        struct in6_addr a6;
        if (inet_pton (AF_INET6, host, &a6) != 1)
            return s_refuse (out, err, "has a bracketed host that is not an IPv6 address");
        inet_ntop (AF_INET6, &a6, out->host, sizeof out->host);
        out->host_is_ip = true;
        size_t rest = alen - hlen - 2;
        if (rest) {
            if (close [1] != ':')
                return s_refuse (out, err, "has characters after the IPv6 host");
            port = close + 2, plen = rest - 1;
        }
    }
    else {
        const char *colon = memchr (auth, ':', alen);
        size_t hlen = colon ? (size_t) (colon - auth) : alen;
        if (hlen >= sizeof host)
            return s_refuse (out, err, "has a host longer than 253 bytes");
        memcpy (host, auth, hlen);
        host [hlen] = '\0';
        const char *why = NULL;
        if (s_check_name (host, &out->host_is_ip, &why) != 0)
            return s_refuse (out, err, why);
        snprintf (out->host, sizeof out->host, "%s", host);
        if (colon)
            port = colon + 1, plen = alen - hlen - 1;
    }
    if (port) {
        long v = 0;
        if (plen == 0 || plen > 5)
            return s_refuse (out, err, "has a port that is not 1..65535");
        for (size_t i = 0; i < plen; i++) {
            if (!isdigit ((unsigned char) port [i]))
                return s_refuse (out, err, "has a port that is not 1..65535");
            v = v * 10 + (port [i] - '0');
        }
        if (v < 1 || v > 65535)
            return s_refuse (out, err, "has a port that is not 1..65535");
        out->port = (int) v;
    }
    /* the canonical form, then libcurl's reading of it must be the same host and port */
    const char *rest = auth + alen;
    bool v6 = strchr (out->host, ':') != NULL;
    char portpart [8] = "";
    if (out->port != (strcmp (out->scheme, "http") == 0 ? 80 : 443))
        snprintf (portpart, sizeof portpart, ":%d", out->port);
    int n = snprintf (out->canonical, sizeof out->canonical, "%s://%s%s%s%s%s%s", out->scheme,
                      v6 ? "[" : "", out->host, v6 ? "]" : "", portpart, *rest == '/' ? "" : "/", rest);
    if (n < 0 || (size_t) n >= sizeof out->canonical)
        return s_refuse (out, err, "is longer than 2048 bytes");
    CURLU *h = curl_url ();
    if (!h)
        return s_refuse (out, err, "cannot be parsed (out of memory)");
    char *chost = NULL, *cport = NULL;
    bool same = curl_url_set (h, CURLUPART_URL, out->canonical, 0) == CURLUE_OK
             && curl_url_get (h, CURLUPART_HOST, &chost, 0) == CURLUE_OK
             && curl_url_get (h, CURLUPART_PORT, &cport, CURLU_DEFAULT_PORT) == CURLUE_OK;
    if (same) {
        char want [300];
        snprintf (want, sizeof want, "%s%s%s", v6 ? "[" : "", out->host, v6 ? "]" : "");
        same = strcasecmp (chost, want) == 0 && strtol (cport, NULL, 10) == out->port;
    }
    curl_free (chost);
    curl_free (cport);
    curl_url_cleanup (h);
    if (!same)
        return s_refuse (out, err, "is not read the same way by every URL parser");
    return 0;
}

static const psl_ctx_t *s_psl;
static pthread_once_t s_psl_once = PTHREAD_ONCE_INIT;

static void
s_psl_load (void)
{
    s_psl = psl_latest (NULL);          /* the newer of built-in and the system's file */
    if (!s_psl)
        s_psl = psl_builtin ();
}

bool
web_url_public_suffix (const char *domain)
{
    pthread_once (&s_psl_once, s_psl_load);
    if (!s_psl || !domain || !*domain)
        return false;
    char lower [256];
    size_t n = strlen (domain);
    if (n >= sizeof lower)
        return false;
    for (size_t i = 0; i <= n; i++)
        lower [i] = (char) tolower ((unsigned char) domain [i]);
    return psl_is_public_suffix2 (s_psl, lower, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}
