/*  test_netguard.c: every range of the private-address rule (netguard.h),
    and public neighbours of each range that must stay reachable. */
#include "netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int s_failures;

static void
s_case (const char *addr, bool want)
{
    struct sockaddr_storage ss;
    memset (&ss, 0, sizeof ss);
    if (strchr (addr, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        in6->sin6_family = AF_INET6;
        if (inet_pton (AF_INET6, addr, &in6->sin6_addr) != 1) {
            fprintf (stderr, "FAIL bad test address %s\n", addr);
            s_failures++;
            return;
        }
    }
    else {
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        in->sin_family = AF_INET;
        if (inet_pton (AF_INET, addr, &in->sin_addr) != 1) {
            fprintf (stderr, "FAIL bad test address %s\n", addr);
            s_failures++;
            return;
        }
    }
    char text [64];
    bool got = netguard_is_private ((const struct sockaddr *) &ss, text, sizeof text);
    if (got != want) {
        fprintf (stderr, "FAIL %s (%s): want %s, got %s\n", addr, text, want ? "private" : "public",
                 got ? "private" : "public");
        s_failures++;
    }
}

int
main (void)
{
    static const char *const private_ [] = {
        "0.0.0.0", "10.1.2.3", "127.0.0.1", "100.64.0.1", "169.254.169.254", "172.16.0.1",
        "172.31.255.255", "192.168.1.1", "192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.9",
        "192.88.99.1", "198.18.0.1", "198.19.255.255", "224.0.0.1", "240.0.0.1", "255.255.255.255",
        "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:0:10.0.0.1", "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1", "64:ff9b:1:ffff::1", "2002:7f00:1::1", "2002:c0a8:101::", "2002:a9fe:a9fe::1",
        "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:2::1", "2001:10::1", "2001:20::1",
        "2001:db8::1", "3fff::1", "3fff:fff::1", "100::1", "fc00::1", "fd12:3456::1", "fe80::1",
        "fec0::1", "ff02::1",
    };
    static const char *const public_ [] = {
        "1.1.1.1", "8.8.8.8", "100.128.0.1", "172.32.0.1", "192.0.3.1", "192.88.100.1",
        "198.51.101.1", "203.0.114.1", "198.20.0.1", "93.184.216.34",
        "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "2001:4860:4860::8888",
        "2001:3::1", "2001:db9::1", "3fff:1000::1", "100:0:0:1::1", "2a00:1450::1",
    };
    for (size_t i = 0; i < sizeof private_ / sizeof private_ [0]; i++)
        s_case (private_ [i], true);
    for (size_t i = 0; i < sizeof public_ / sizeof public_ [0]; i++)
        s_case (public_ [i], false);
    if (s_failures) {
        fprintf (stderr, "%d check(s) failed\n", s_failures);
        return 1;
    }
    printf ("netguard: all checks passed\n");
    return 0;
}
