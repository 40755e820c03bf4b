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
   (with the 169.254.169.254 metadata address), IETF 192.0.0/24, benchmarking
   198.18/15, multicast/reserved/broadcast, IPv6 ULA fc00::/7, link-local or
   site-local fe80::/9, multicast, or an IPv4-mapped, IPv4-compatible or NAT64
   form of one of those. Unknown families count as private. When text is not
   NULL the address is written there as text (size >= 64 fits any). */
bool netguard_is_private (const struct sockaddr *sa, char *text, size_t size);

#endif
