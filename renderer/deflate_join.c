/*  deflate_join.c: walks a raw DEFLATE stream's blocks to find its final
    block, then makes the stream continuable (see deflate_join.h). Every read
    is checked against the stream's length; a bad code, a length over the
    buffer or an over-subscribed Huffman code is a parse failure (0). */
#include "deflate_join.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_MAXBITS 15                    /* the longest DEFLATE codeword */

typedef struct {
    const uint8_t *p;
    size_t         nbytes, nbits, pos; /* pos: the next bit, LSB first */
} s_bits_t;

/* Up to 32 bits from pos, bits past the end read as 0 (the caller checks
   that what it consumes lies within nbits). */
static inline uint32_t
s_peek (const s_bits_t *b, int n)
{
    size_t at = b->pos >> 3;
    uint64_t w = 0;
    if (at + 8 <= b->nbytes) {
        for (int i = 7; i >= 0; i--)            /* compilers fold this into one load */
            w = w << 8 | b->p[at + (size_t) i];
    }
    else
        for (size_t i = b->nbytes; i-- > at; )
            w = w << 8 | b->p[i];
    return (uint32_t) (w >> (b->pos & 7)) & (uint32_t) ((1ull << n) - 1);
}

static inline bool
s_take (s_bits_t *b, int n, uint32_t *v)
{
    if (b->pos + (size_t) n > b->nbits)
        return false;
    *v = n ? s_peek (b, n) : 0;
    b->pos += (size_t) n;
    return true;
}

/* A canonical Huffman decoding table indexed by maxlen peeked bits:
   (length << 9) | symbol, 0 where no codeword begins. */
typedef struct {
    uint16_t t[1 << S_MAXBITS];
    int      maxlen;
} s_huff_t;

static bool
s_huff_build (s_huff_t *h, const uint8_t *lens, int n)
{
    int count[S_MAXBITS + 1] = { 0 }, maxlen = 1;
    for (int i = 0; i < n; i++) {
        count[lens[i]]++;
        if (lens[i] > maxlen)
            maxlen = lens[i];
    }
    count[0] = 0;
    int left = 1;
    for (int l = 1; l <= S_MAXBITS; l++) {      /* over-subscribed: not a code */
        left = (left << 1) - count[l];
        if (left < 0)
            return false;
    }
    int next[S_MAXBITS + 2];
    next[1] = 0;
    for (int l = 1; l <= S_MAXBITS; l++)
        next[l + 1] = (next[l] + count[l]) << 1;
    h->maxlen = maxlen;
    memset (h->t, 0, sizeof h->t[0] << maxlen);
    for (int s = 0; s < n; s++) {
        int l = lens[s];
        if (!l)
            continue;
        unsigned c = (unsigned) next[l]++, rev = 0;
        for (int i = 0; i < l; i++)
            rev |= ((c >> i) & 1u) << (l - 1 - i);
        for (unsigned i = rev; i < (1u << maxlen); i += 1u << l)
            h->t[i] = (uint16_t) (l << 9 | s);
    }
    return true;
}

static inline int
s_decode (s_bits_t *b, const s_huff_t *h)
{
    unsigned e = h->t[s_peek (b, h->maxlen)];
    int l = (int) (e >> 9);
    if (!e || b->pos + (size_t) l > b->nbits)
        return -1;
    b->pos += (size_t) l;
    return (int) (e & 511);
}

typedef struct {
    s_huff_t lit, dist;
    uint8_t  lens[286 + 32];
} s_ctx_t;

static bool
s_static_tables (s_ctx_t *c)
{
    for (int i = 0; i < 288; i++)
        c->lens[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
    if (!s_huff_build (&c->lit, c->lens, 288))
        return false;
    memset (c->lens, 5, 30);
    return s_huff_build (&c->dist, c->lens, 30);
}

static bool
s_dynamic_tables (s_ctx_t *c, s_bits_t *b)
{
    static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
    uint32_t hlit, hdist, hclen, v;
    if (!s_take (b, 5, &hlit) || !s_take (b, 5, &hdist) || !s_take (b, 4, &hclen))
        return false;
    int nlit = (int) hlit + 257, ndist = (int) hdist + 1;
    if (nlit > 286 || ndist > 30)
        return false;
    uint8_t pre[19] = { 0 };
    for (uint32_t i = 0; i < hclen + 4; i++) {
        if (!s_take (b, 3, &v))
            return false;
        pre[order[i]] = (uint8_t) v;
    }
    if (!s_huff_build (&c->lit, pre, 19))       /* the precode, in lit for now */
        return false;
    int n = 0;
    while (n < nlit + ndist) {
        int sym = s_decode (b, &c->lit);
        if (sym < 0)
            return false;
        if (sym < 16) {
            c->lens[n++] = (uint8_t) sym;
            continue;
        }
        int rep, fill = 0;
        if (sym == 16) {
            if (n == 0 || !s_take (b, 2, &v))
                return false;
            fill = c->lens[n - 1], rep = 3 + (int) v;
        }
        else
        if (sym == 17) {
            if (!s_take (b, 3, &v))
                return false;
            rep = 3 + (int) v;
        }
        else {
            if (!s_take (b, 7, &v))
                return false;
            rep = 11 + (int) v;
        }
        if (n + rep > nlit + ndist)
            return false;
        memset (c->lens + n, fill, (size_t) rep);
        n += rep;
    }
    if (c->lens[256] == 0)                      /* no end-of-block code */
        return false;
    return s_huff_build (&c->lit, c->lens, nlit) && s_huff_build (&c->dist, c->lens + nlit, ndist);
}

/* The symbols of one Huffman block, up to and including its end-of-block. */
static bool
s_walk_symbols (const s_ctx_t *c, s_bits_t *b)
{
    uint32_t v;
    for (;;) {
        int sym = s_decode (b, &c->lit);
        if (sym < 256) {
            if (sym < 0)
                return false;
            continue;
        }
        if (sym == 256)
            return true;
        if (sym > 285)
            return false;
        int extra = sym < 265 || sym == 285 ? 0 : (sym - 261) / 4;
        if (!s_take (b, extra, &v))
            return false;
        int d = s_decode (b, &c->dist);
        if (d < 0 || d > 29 || !s_take (b, d < 4 ? 0 : (d - 2) / 2, &v))
            return false;
    }
}

size_t
deflate_join_unfinal (uint8_t *buf, size_t len, size_t cap)
{
    if (!buf || len == 0 || cap < len + DEFLATE_JOIN_EXTRA_BYTES || len > SIZE_MAX / 8)
        return 0;
    s_ctx_t *c = malloc (sizeof *c);
    if (!c)
        return 0;
    s_bits_t b = { .p = buf, .nbytes = len, .nbits = len * 8, .pos = 0 };
    size_t head = 0, end = 0;
    bool ok = false, have_static = false;
    for (;;) {
        head = b.pos;
        uint32_t hdr;
        if (!s_take (&b, 3, &hdr))
            break;
        uint32_t type = hdr >> 1;
        if (type == 0) {                        /* stored: LEN, NLEN, bytes */
            b.pos = (b.pos + 7) & ~(size_t) 7;
            uint32_t n, nn;
            if (!s_take (&b, 16, &n) || !s_take (&b, 16, &nn) || (n ^ nn) != 0xFFFF
            ||  b.pos + 8 * (size_t) n > b.nbits)
                break;
            b.pos += 8 * (size_t) n;
        }
        else
        if (type == 1) {
            if (!have_static && !s_static_tables (c))
                break;
            have_static = true;
            if (!s_walk_symbols (c, &b))
                break;
        }
        else {
            have_static = false;                /* the tables are overwritten */
            if (type != 2 || !s_dynamic_tables (c, &b) || !s_walk_symbols (c, &b))
                break;
        }
        if (hdr & 1) {
            end = b.pos;
            ok = true;
            break;
        }
    }
    free (c);
    if (!ok)
        return 0;
    buf[head >> 3] &= (uint8_t) ~(1u << (head & 7));    /* BFINAL off */
    size_t n = (end + 7) / 8;
    if (end & 7)                                /* the padding after the block: zeros */
        buf[n - 1] &= (uint8_t) ((1u << (end & 7)) - 1);
    /* an empty stored block: 3 header bits (0, 00), padding, LEN 0, NLEN ~0;
       the header goes in this byte's spare bits when at least 3 are left */
    size_t spare = (8 - (end & 7)) & 7;
    if (spare < 3)
        buf[n++] = 0;
    buf[n++] = 0x00;
    buf[n++] = 0x00;
    buf[n++] = 0xFF;
    buf[n++] = 0xFF;
    return n;
}
