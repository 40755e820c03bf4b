/*  test_netguard.c: every range of the private-address rule (netguard.h),
    and public neighbours of each range that must stay reachable. */
#include "check.h"
#include "netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static void
s_addr (const char *addr, struct sockaddr_storage *ss)
{
    memset (ss, 0, sizeof *ss);
    if (strchr (addr, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
        in6->sin6_family = AF_INET6;
        inet_pton (AF_INET6, addr, &in6->sin6_addr);
    }
    else {
        struct sockaddr_in *in = (struct sockaddr_in *) ss;
        in->sin_family = AF_INET;
        inet_pton (AF_INET, addr, &in->sin_addr);
    }
}

/* Whether the operator's list `allow` lets addr through. */
static void
s_allow_case (const char *allow, const char *addr, bool refused)
{
    netguard_allow_t list;
    char err [128];
    int rc = netguard_allow_parse (allow, &list, err, sizeof err);
    CHECK (rc == 0, "allow list \"%s\" parses, got %s", allow, err);
    if (rc != 0)
        return;
    struct sockaddr_storage ss;
    s_addr (addr, &ss);
    bool got = netguard_refuses ((const struct sockaddr *) &ss, false, &list, NULL, 0);
    CHECK (got == refused, "%s under allow \"%s\" %s", addr, allow,
           refused ? "refused" : "allowed");
}

static void
s_allow_bad (const char *allow)
{
    netguard_allow_t list;
    char err [128] = "";
    int rc = netguard_allow_parse (allow, &list, err, sizeof err);
    CHECK (rc != 0 && err [0] && list.count == 0, "allow list \"%s\" refused with a reason", allow);
}

static void
s_case (const char *addr, bool want)
{
    struct sockaddr_storage ss;
    memset (&ss, 0, sizeof ss);
    if (strchr (addr, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        in6->sin6_family = AF_INET6;
        REQUIRE (inet_pton (AF_INET6, addr, &in6->sin6_addr) == 1, "test address %s parses", addr);
    }
    else {
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        in->sin_family = AF_INET;
        REQUIRE (inet_pton (AF_INET, addr, &in->sin_addr) == 1, "test address %s parses", addr);
    }
    char text [64];
    bool got = netguard_is_private ((const struct sockaddr *) &ss, text, sizeof text);
    CHECK (got == want, "%s (%s) %s", addr, text, want ? "private" : "public");
}

static void
s_ranges (void)
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
}

static void
s_allow_lists (void)
{
    /* the operator's exceptions: only the networks named, only private ones matter */
    s_allow_case ("127.0.0.1/32", "127.0.0.1", false);
    s_allow_case ("127.0.0.1/32", "127.0.0.2", true);
    s_allow_case ("127.0.0.1", "127.0.0.2", true);
    s_allow_case ("10.0.0.0/8, 192.168.4.0/22", "10.200.1.1", false);
    s_allow_case ("10.0.0.0/8, 192.168.4.0/22", "192.168.7.255", false);
    s_allow_case ("10.0.0.0/8, 192.168.4.0/22", "192.168.8.1", true);
    s_allow_case ("10.0.0.0/8", "::ffff:10.0.0.1", true);       /* families are not mixed */
    s_allow_case ("fd00::/8", "fd12::1", false);
    s_allow_case ("fd00::/8", "fe80::1", true);
    s_allow_case ("", "127.0.0.1", true);
    s_allow_case ("", "8.8.8.8", false);
    s_allow_case ("0.0.0.0/0", "169.254.169.254", false);
    s_allow_bad ("127.0.0.1/33");
    s_allow_bad ("example.com");
    s_allow_bad ("10.0.0.0/");
    s_allow_bad ("10.0.0.0/8x");
    s_allow_bad ("::1/129");
    s_allow_bad ("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9,"
                 "1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17");
    {
        struct sockaddr_storage ss;
        s_addr ("127.0.0.1", &ss);
        CHECK (!netguard_refuses ((const struct sockaddr *) &ss, true, NULL, NULL, 0),
               "allow_private lets loopback through");
    }
}

int
main (void)
{
    check_case ("private ranges and their public neighbours", s_ranges);
    check_case ("the operator's allow lists", s_allow_lists);
    return check_done ("netguard");
}
