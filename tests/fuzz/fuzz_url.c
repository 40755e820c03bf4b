/*  fuzz_url.c: libFuzzer target for the page-URL parser (common/web_url.h).
    Besides crashes and leaks it checks the parser's promises: an accepted
    URL's canonical form is accepted again unchanged (one reading, whoever
    reads it), has no userinfo, backslash, percent in the host or byte
    outside printable ASCII, and names the same host and port. */
#include "web_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > WEB_URL_MAX_BYTES + 16)
        return 0;
    char text [WEB_URL_MAX_BYTES + 17];
    memcpy (text, data, size);
    text [size] = '\0';
    web_url_t a, b;
    char err [WEB_URL_ERR_MAX];
    if (web_url_parse (text, &a, err) != 0) {
        if (!err [0])
            abort ();               /* every refusal says why */
        return 0;
    }
    if (web_url_parse (a.canonical, &b, err) != 0)
        abort ();
    if (strcmp (a.canonical, b.canonical) != 0 || strcmp (a.host, b.host) != 0 || a.port != b.port)
        abort ();
    const char *auth = strstr (a.canonical, "://") + 3;
    size_t alen = strcspn (auth, "/?#");
    if (memchr (auth, '@', alen) || memchr (auth, '%', alen) || strchr (a.canonical, '\\'))
        abort ();
    for (const char *p = a.canonical; *p; p++)
        if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7F)
            abort ();
    return 0;
}
