/*  netguard.c: the private-address rule (see netguard.h). */
#include "netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the operator's exceptions ------------------------------------------- */

static int
s_parse_net (const char *entry, netguard_net_t *net)
{
    char text [64];
    size_t n = strlen (entry);
    if (n == 0 || n >= sizeof text)
        return -1;
    memcpy (text, entry, n + 1);
    char *slash = strchr (text, '/');
    if (slash)
        *slash++ = '\0';
    memset (net, 0, sizeof *net);
    int max;
    if (inet_pton (AF_INET, text, net->addr) == 1)
        net->family = AF_INET, max = 32;
    else
    if (inet_pton (AF_INET6, text, net->addr) == 1)
        net->family = AF_INET6, max = 128;
    else
        return -1;
    net->prefix = max;
    if (slash) {
        char *end = NULL;
        long bits = strtol (slash, &end, 10);
        if (!*slash || *end || bits < 0 || bits > max)
            return -1;
        net->prefix = (int) bits;
    }
    return 0;
}

int
netguard_allow_parse (const char *text, netguard_allow_t *out, char *err, size_t errsz)
{
    memset (out, 0, sizeof *out);
    if (err && errsz)
        err [0] = '\0';
    const char *p = text ? text : "";
    while (*p) {
        size_t n = strcspn (p, ",");
        char entry [64];
        while (n && (*p == ' ')) p++, n--;
        size_t m = n;
        while (m && p [m - 1] == ' ') m--;
        if (m) {
            if (out->count == NETGUARD_ALLOW_MAX || m >= sizeof entry) {
                snprintf (err, errsz, "at most %d networks of at most 63 characters", NETGUARD_ALLOW_MAX);
                memset (out, 0, sizeof *out);
                return -1;
            }
            memcpy (entry, p, m);
            entry [m] = '\0';
            if (s_parse_net (entry, &out->nets [out->count]) != 0) {
                snprintf (err, errsz, "not an address or CIDR prefix: %s", entry);
                memset (out, 0, sizeof *out);
                return -1;
            }
            out->count++;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static bool
s_in_net (const netguard_net_t *net, const unsigned char *addr)
{
    int full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp (net->addr, addr, (size_t) full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char) (0xFF << (8 - rest));
    return (net->addr [full] & mask) == (addr [full] & mask);
}

bool
netguard_refuses (const struct sockaddr *sa, bool allow_private, const netguard_allow_t *allow,
                  char *text, size_t size)
{
    bool private = netguard_is_private (sa, text, size);
    if (!private || allow_private)
        return false;
    const unsigned char *addr = NULL;
    if (sa->sa_family == AF_INET)
        addr = (const unsigned char *) &((const struct sockaddr_in *) sa)->sin_addr;
    else
    if (sa->sa_family == AF_INET6)
        addr = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
    for (int i = 0; allow && addr && i < allow->count; i++)
        if (allow->nets [i].family == sa->sa_family && s_in_net (&allow->nets [i], addr))
            return false;
    return true;
}
