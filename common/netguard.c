/*  netguard.c: the private-address rule (see netguard.h). */
#include "netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static bool
s_v4_private (const uint8_t a [4])
{
    return a [0] == 0 || a [0] == 10 || a [0] == 127
        || (a [0] == 100 && (a [1] & 0xC0) == 64)       /* 100.64/10 CGNAT */
        || (a [0] == 169 && a [1] == 254)               /* link-local, metadata */
        || (a [0] == 172 && (a [1] & 0xF0) == 16)       /* 172.16/12 */
        || (a [0] == 192 && a [1] == 168)
        || (a [0] == 192 && a [1] == 0 && a [2] == 0)   /* 192.0.0/24 IETF */
        || (a [0] == 198 && (a [1] & 0xFE) == 18)       /* 198.18/15 benchmarking */
        || a [0] >= 224;                                /* multicast, reserved, broadcast */
}

bool
netguard_is_private (const struct sockaddr *sa, char *text, size_t size)
{
    if (text && size)
        text [0] = '\0';
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        if (text)
            inet_ntop (AF_INET, &in->sin_addr, text, size);
        return s_v4_private ((const uint8_t *) &in->sin_addr);
    }
    if (sa->sa_family != AF_INET6)
        return true;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
    const uint8_t *b = in6->sin6_addr.s6_addr;
    if (text)
        inet_ntop (AF_INET6, &in6->sin6_addr, text, size);
    static const uint8_t mapped [12] = { 0,0,0,0, 0,0,0,0, 0,0,0xFF,0xFF };
    static const uint8_t nat64 [12] = { 0,0x64,0xFF,0x9B, 0,0,0,0, 0,0,0,0 };
    static const uint8_t zero [12] = { 0 };
    if (memcmp (b, zero, 12) == 0)
        return true;                            /* ::, ::1 and IPv4-compatible */
    if (memcmp (b, mapped, 12) == 0 || memcmp (b, nat64, 12) == 0)
        return s_v4_private (b + 12);
    return (b [0] & 0xFE) == 0xFC               /* fc00::/7 ULA */
        || (b [0] == 0xFE && (b [1] & 0x80))    /* fe80::/10 link-local, fec0::/10 */
        || b [0] == 0xFF;                       /* multicast */
}
