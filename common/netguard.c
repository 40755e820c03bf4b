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
        || (a [0] == 192 && a [1] == 0 && a [2] == 2)   /* 192.0.2/24 TEST-NET-1 */
        || (a [0] == 192 && a [1] == 88 && a [2] == 99) /* 192.88.99/24 6to4 relay anycast */
        || (a [0] == 198 && a [1] == 51 && a [2] == 100)    /* 198.51.100/24 TEST-NET-2 */
        || (a [0] == 203 && a [1] == 0 && a [2] == 113) /* 203.0.113/24 TEST-NET-3 */
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
    static const uint8_t translated [12] = { 0,0,0,0, 0,0,0,0, 0xFF,0xFF,0,0 };
    static const uint8_t nat64 [12] = { 0,0x64,0xFF,0x9B, 0,0,0,0, 0,0,0,0 };
    static const uint8_t zero [12] = { 0 };
    if (memcmp (b, zero, 12) == 0)
        return true;                            /* ::, ::1 and IPv4-compatible */
    if (memcmp (b, mapped, 12) == 0 || memcmp (b, translated, 12) == 0
    ||  memcmp (b, nat64, 12) == 0)
        return s_v4_private (b + 12);           /* ::ffff:a.b.c.d, ::ffff:0:a.b.c.d, 64:ff9b::/96 */
    if (b [0] == 0x20 && b [1] == 0x02)
        return s_v4_private (b + 2);            /* 2002::/16 6to4: the IPv4 it tunnels to */
    return (b [0] & 0xFE) == 0xFC               /* fc00::/7 ULA */
        || (b [0] == 0xFE && (b [1] & 0x80))    /* fe80::/10 link-local, fec0::/10 */
        || b [0] == 0xFF                        /* multicast */
        || (b [0] == 0x00 && b [1] == 0x64 && b [2] == 0xFF && b [3] == 0x9B
            && b [4] == 0x00 && b [5] == 0x01)  /* 64:ff9b:1::/48 local-use NAT64 */
        || (b [0] == 0x01 && b [1] == 0x00 && memcmp (b + 2, zero, 6) == 0)  /* 100::/64 discard */
        || (b [0] == 0x20 && b [1] == 0x01 && b [2] == 0x00 && b [3] == 0x00)  /* 2001::/32 Teredo */
        || (b [0] == 0x20 && b [1] == 0x01 && b [2] == 0x00 && b [3] == 0x02
            && b [4] == 0x00 && b [5] == 0x00)  /* 2001:2::/48 benchmarking */
        || (b [0] == 0x20 && b [1] == 0x01 && b [2] == 0x00 && ((b [3] & 0xF0) == 0x10 || (b [3] & 0xF0) == 0x20))  /* ORCHID, v2 */
        || (b [0] == 0x20 && b [1] == 0x01 && b [2] == 0x0D && b [3] == 0xB8)  /* 2001:db8::/32 docs */
        || (b [0] == 0x3F && b [1] == 0xFF && (b [2] & 0xF0) == 0x00);         /* 3fff::/20 docs */
}
