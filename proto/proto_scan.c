/*  proto_scan.c: a bounds walk over raw msgpack bytes, before anything is
    unpacked (internal to proto/, see proto_msgs.h).

    msgpack-c allocates for the item counts a header claims; this walk makes
    sure every count is backed by bytes and the whole body holds at most
    EASEL_MAX_MSG_ITEMS items, so a hostile header cannot make it allocate.
    Thread: no state. Memory: allocates nothing.  */
#include "proto_msgs.h"

static uint64_t
s_be (const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

/*  Walks one msgpack object over data[0..len) without allocating. Fails on a
    truncated body, a reserved byte, more than EASEL_MAX_MSG_ITEMS items, a container
    that claims more items than bytes remain, or bytes after the object. */
int
proto_scan (const unsigned char *data, size_t len, char *err)
{
    size_t pos = 0;
    uint64_t pending = 1;          /* items still to read */
    uint64_t seen = 0;
    while (pending) {
        if (pos >= len) {
            proto_fail (err, "truncated message");
            return -1;
        }
        if (++seen > EASEL_MAX_MSG_ITEMS) {
            proto_fail (err, "message has too many items");
            return -1;
        }
        pending--;
        unsigned char b = data [pos++];
        uint64_t skip = 0;         /* payload bytes after the header */
        uint64_t items = 0;        /* children to read */
        int lenbytes = 0;          /* size of a length field */
        int kind = 0;              /* 0 scalar, 1 str/bin, 2 ext, 3 array, 4 map */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;
        else if (b <= 0x8f) items = 2 * (uint64_t) (b & 0x0f);
        else if (b <= 0x9f) items = b & 0x0f;
        else if (b <= 0xbf) skip = b & 0x1f;
        else if (b == 0xc1) {
            proto_fail (err, "invalid msgpack byte 0xc1");
            return -1;
        }
        else if (b >= 0xc4 && b <= 0xc6) { kind = 1; lenbytes = 1 << (b - 0xc4); }
        else if (b >= 0xc7 && b <= 0xc9) { kind = 2; lenbytes = 1 << (b - 0xc7); }
        else if (b == 0xca) skip = 4;
        else if (b == 0xcb) skip = 8;
        else if (b >= 0xcc && b <= 0xcf) skip = 1u << (b - 0xcc);
        else if (b >= 0xd0 && b <= 0xd3) skip = 1u << (b - 0xd0);
        else if (b >= 0xd4 && b <= 0xd8) skip = 1 + (1u << (b - 0xd4));
        else if (b >= 0xd9 && b <= 0xdb) { kind = 1; lenbytes = 1 << (b - 0xd9); }
        else if (b == 0xdc || b == 0xdd) { kind = 3; lenbytes = b == 0xdc ? 2 : 4; }
        else                             { kind = 4; lenbytes = b == 0xde ? 2 : 4; }

        if (lenbytes) {
            if (len - pos < (size_t) lenbytes) {
                proto_fail (err, "truncated message");
                return -1;
            }
            uint64_t n = s_be (data + pos, lenbytes);
            pos += (size_t) lenbytes;
            if (kind == 1) skip = n;
            else if (kind == 2) skip = n + 1;
            else if (kind == 3) items = n;
            else items = 2 * n;
        }
        if (skip > len - pos) {
            proto_fail (err, "truncated message");
            return -1;
        }
        pos += (size_t) skip;
        pending += items;
        if (pending > len - pos) {    /* every item needs at least one byte */
            proto_fail (err, "truncated message");
            return -1;
        }
    }
    if (pos != len) {
        proto_fail (err, "trailing bytes after the body");
        return -1;
    }
    return 0;
}
