/*  netguard.h: which network addresses Easel refuses to reach by default.
    Screenshot fetches (renderer) and webhook deliveries (webhooker) check the
    resolved address at connect time with this one function (CONTRACT 1), so
    both refuse exactly the same targets. No state; thread safe. */
#ifndef EASEL_NETGUARD_H
#define EASEL_NETGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* True if sa is loopback, unspecified, RFC 1918, CGNAT 100.64/10, link-local
   (with the 169.254.169.254 metadata address), IETF 192.0.0/24, TEST-NET
   192.0.2/24, 198.51.100/24 and 203.0.113/24, the 6to4 relay 192.88.99/24,
   benchmarking 198.18/15, multicast/reserved/broadcast, IPv6 ULA fc00::/7,
   link-local or site-local fe80::/9, multicast, local-use NAT64
   64:ff9b:1::/48, discard 100::/64, Teredo 2001::/32 (its far end is any
   address), benchmarking 2001:2::/48, ORCHID 2001:10::/28 and 2001:20::/28,
   documentation 2001:db8::/32 and 3fff::/20, or an IPv4-mapped,
   IPv4-translated, IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4
   (2002::/16) form of a private IPv4 address. Unknown families count as private. When text is not
   NULL the address is written there as text (size >= 64 fits any). */
bool netguard_is_private (const struct sockaddr *sa, char *text, size_t size);

/* Networks an operator lets through although they are private (a test
   range, an internal site captures may show): at most NETGUARD_ALLOW_MAX
   CIDR prefixes. */
#define NETGUARD_ALLOW_MAX 16

typedef struct {
    int family;                    /* AF_INET or AF_INET6 */
    int prefix;                    /* bits */
    unsigned char addr [16];
} netguard_net_t;

typedef struct {
    int            count;
    netguard_net_t nets [NETGUARD_ALLOW_MAX];
} netguard_allow_t;

/* Parses "10.1.0.0/16,::1/128,127.0.0.2" (no prefix: one address) into
   out. 0, or -1 with the offending entry named in err and out emptied. An
   empty or NULL text is an empty list. */
int netguard_allow_parse (const char *text, netguard_allow_t *out, char *err, size_t errsz);

/* True when sa may not be reached: private (as above) and in none of
   allow's networks (allow may be NULL), unless allow_private lets every
   address through. text as for netguard_is_private. */
bool netguard_refuses (const struct sockaddr *sa, bool allow_private, const netguard_allow_t *allow,
                       char *text, size_t size);

#endif
