/*  resample.c: separable triangle-filter resampling (see resample.h).

    Weights are Q14 integers that sum to exactly 1 << 14 per output pixel,
    so a flat area stays exactly flat and no sum passes 255. */
#include "resample.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_ONE   (1 << 14)
#define S_HALF  (1 << 13)

typedef struct {
    int      taps;                      /* per output pixel */
    int     *idx;                       /* n_out * taps source indices, clamped */
    int     *first;                     /* n_out unclamped first indices */
    int16_t *w;                         /* n_out * taps Q14 weights */
    int      pairs;                     /* (taps + 1) / 2 */
    int32_t *wp;                        /* n_out * pairs: the weights of taps 2p
                                           (low half) and 2p + 1 (0 past the last)
                                           as one multiply-add operand */
} s_filter_t;

static void
s_filter_free (s_filter_t *f)
{
    free (f->idx);
    free (f->first);
    free (f->w);
    free (f->wp);
    f->idx = NULL;
    f->first = NULL;
    f->w = NULL;
    f->wp = NULL;
}

/* The tent weights mapping n_in samples onto n_out. 0, or -1 on allocation
   failure. */
static int
s_filter_build (int n_in, int n_out, s_filter_t *f)
{
    double k = (double) n_out / n_in;
    double radius = k < 1 ? 1 / k : 1.0;
    int span = (int) ceil (2 * radius) + 1;     /* candidates around each centre */
    double *wt = malloc ((size_t) span * sizeof *wt);
    if (!wt)
        return -1;
    /* the most taps with a weight above 0: the tables hold only those */
    int taps = 1;
    for (int o = 0; o < n_out; o++) {
        double c = (o + 0.5) / k - 0.5;
        int lo = (int) floor (c - radius) + 1, first = -1, last = -1;
        for (int t = 0; t < span; t++)
            if (fabs (lo + t - c) < radius) {
                if (first < 0)
                    first = t;
                last = t;
            }
        if (first >= 0 && last - first + 1 > taps)
            taps = last - first + 1;
    }
    f->taps = taps;
    f->idx = malloc ((size_t) n_out * (size_t) taps * sizeof *f->idx);
    f->w = malloc ((size_t) n_out * (size_t) taps * sizeof *f->w);
    f->first = malloc ((size_t) n_out * sizeof *f->first);
    f->pairs = (taps + 1) / 2;
    f->wp = malloc ((size_t) n_out * (size_t) f->pairs * sizeof *f->wp);
    if (!f->idx || !f->w || !f->first || !f->wp) {
        free (wt);
        s_filter_free (f);
        return -1;
    }
    for (int o = 0; o < n_out; o++) {
        double c = (o + 0.5) / k - 0.5;
        int lo = (int) floor (c - radius) + 1;
        while (fabs (lo - c) >= radius)         /* the first tap with a weight */
            lo++;
        f->first[o] = lo;
        double sum = 0;
        for (int t = 0; t < taps; t++) {
            double d = fabs (lo + t - c) / radius;
            wt[t] = d < 1 ? 1 - d : 0;
            sum += wt[t];
        }
        int *idx = f->idx + (size_t) o * taps;
        int16_t *w = f->w + (size_t) o * taps;
        int total = 0, big = 0;
        for (int t = 0; t < taps; t++) {
            int i = lo + t;
            idx[t] = i < 0 ? 0 : i >= n_in ? n_in - 1 : i;
            w[t] = (int16_t) lround (wt[t] / sum * S_ONE);
            total += w[t];
            if (w[t] > w[big])
                big = t;
        }
        w[big] = (int16_t) (w[big] + S_ONE - total);
        for (int p = 0; p < f->pairs; p++)
            f->wp[(size_t) o * f->pairs + p] = (int32_t) ((uint32_t) (uint16_t) w[2 * p]
                | (uint32_t) (uint16_t) (2 * p + 1 < taps ? w[2 * p + 1] : 0) << 16);
    }
    free (wt);
    return 0;
}

/* out[i] = sum over taps of w[t] * rows[t][i], rounded, for n bytes. */
static void
s_vertical_scalar (uint8_t *restrict out, int32_t *restrict acc, const uint8_t *const *rows,
                   const int16_t *w, int taps, int from, int n)
{
    for (int i = from; i < n; i++)
        acc[i] = S_HALF;
    for (int t = 0; t < taps; t++) {
        const uint8_t *restrict in = rows[t];
        int32_t wt = w[t];
        if (wt == 0)
            continue;
        for (int i = from; i < n; i++)
            acc[i] += wt * in[i];
    }
    for (int i = from; i < n; i++)
        out[i] = (uint8_t) (acc[i] >> 14);
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* The same sums, 16 bytes at a time, two rows per 16-bit multiply-add,
   the pairs' weights made once per row (up to S_VPAIRS pairs; more taps,
   a reduction by over ~7x, take the scalar loop). rows has a last entry
   past an odd taps (a real row, its weight 0), so every pair loads two. */
#define S_VPAIRS 8

static void
s_vertical (uint8_t *restrict out, int32_t *restrict acc, const uint8_t *const *rows,
            const int16_t *w, const int32_t *wp, int taps, int n)
{
    int pairs = (taps + 1) / 2, i = 0;
    if (pairs <= S_VPAIRS) {
        const __m128i zero = _mm_setzero_si128 (), half = _mm_set1_epi32 (S_HALF);
        __m128i wv[S_VPAIRS];
        for (int p = 0; p < pairs; p++)
            wv[p] = _mm_set1_epi32 (wp[p]);
        for (; i + 16 <= n; i += 16) {
            __m128i a0 = half, a1 = half, a2 = half, a3 = half;
            for (int p = 0; p < pairs; p++) {
                __m128i r0 = _mm_loadu_si128 ((const __m128i *) (rows[2 * p] + i));
                __m128i r1 = _mm_loadu_si128 ((const __m128i *) (rows[2 * p + 1] + i));
                __m128i lo = _mm_unpacklo_epi8 (r0, r1), hi = _mm_unpackhi_epi8 (r0, r1);
                a0 = _mm_add_epi32 (a0, _mm_madd_epi16 (_mm_unpacklo_epi8 (lo, zero), wv[p]));
                a1 = _mm_add_epi32 (a1, _mm_madd_epi16 (_mm_unpackhi_epi8 (lo, zero), wv[p]));
                a2 = _mm_add_epi32 (a2, _mm_madd_epi16 (_mm_unpacklo_epi8 (hi, zero), wv[p]));
                a3 = _mm_add_epi32 (a3, _mm_madd_epi16 (_mm_unpackhi_epi8 (hi, zero), wv[p]));
            }
            __m128i p01 = _mm_packs_epi32 (_mm_srai_epi32 (a0, 14), _mm_srai_epi32 (a1, 14));
            __m128i p23 = _mm_packs_epi32 (_mm_srai_epi32 (a2, 14), _mm_srai_epi32 (a3, 14));
            _mm_storeu_si128 ((__m128i *) (out + i), _mm_packus_epi16 (p01, p23));
        }
    }
    s_vertical_scalar (out, acc, rows, w, taps, i, n);
}
#else
static void
s_vertical (uint8_t *restrict out, int32_t *restrict acc, const uint8_t *const *rows,
            const int16_t *w, const int32_t *wp, int taps, int n)
{
    (void) wp;
    s_vertical_scalar (out, acc, rows, w, taps, 0, n);
}
#endif

/* One output row from one vertically filtered row of 4-byte pixels, `in`
   padded with S_PAD(taps) copies of its edge pixels on both sides (so the
   taps of a pixel are contiguous), taps read in pairs. With SSE2 a pair is
   one multiply-add of 16-bit lanes; the scalar path does the same integer
   sums, so both give the same bytes. */
#define S_PAD(taps) ((taps) + 2)

#if defined(__SSE2__)
/* Pixels t and t + 1 of p (16-bit lanes of 8 bytes) interleaved a0 b0 a1
   b1 .. for a multiply-add with a weight pair. */
static inline __m128i
s_pair (__m128i px16)
{
    return _mm_unpacklo_epi16 (px16, _mm_srli_si128 (px16, 8));
}

static void
s_horizontal (uint8_t *restrict out, const uint8_t *restrict in, const s_filter_t *f, int tw)
{
    int taps = f->taps, pad = S_PAD (taps), pairs = f->pairs;
    const __m128i zero = _mm_setzero_si128 (), half = _mm_set1_epi32 (S_HALF);
    int x = 0;
    if (taps <= 4)                      /* up to 4 taps: one 16-byte load a pixel (within the padding) */
        for (; x < tw; x++) {
            const uint8_t *p = in + 4 * (size_t) (f->first[x] + pad);
            const int32_t *wp = f->wp + (size_t) x * pairs;
            __m128i px = _mm_loadu_si128 ((const __m128i *) p);
            __m128i acc = _mm_add_epi32 (half, _mm_madd_epi16 (s_pair (_mm_unpacklo_epi8 (px, zero)),
                                                               _mm_set1_epi32 (wp[0])));
            if (pairs > 1)
                acc = _mm_add_epi32 (acc, _mm_madd_epi16 (s_pair (_mm_unpackhi_epi8 (px, zero)),
                                                          _mm_set1_epi32 (wp[1])));
            acc = _mm_srai_epi32 (acc, 14);
            acc = _mm_packs_epi32 (acc, acc);
            acc = _mm_packus_epi16 (acc, acc);
            uint32_t v = (uint32_t) _mm_cvtsi128_si32 (acc);
            memcpy (out + 4 * (size_t) x, &v, 4);
        }
    for (; x < tw; x++) {
        const uint8_t *p = in + 4 * (size_t) (f->first[x] + pad);
        const int32_t *wp = f->wp + (size_t) x * pairs;
        __m128i acc = half;
        for (int k = 0; k < pairs; k++) {
            __m128i px = _mm_unpacklo_epi8 (_mm_loadl_epi64 ((const __m128i *) (p + 8 * k)), zero);
            acc = _mm_add_epi32 (acc, _mm_madd_epi16 (s_pair (px), _mm_set1_epi32 (wp[k])));
        }
        acc = _mm_srai_epi32 (acc, 14);
        acc = _mm_packs_epi32 (acc, acc);
        acc = _mm_packus_epi16 (acc, acc);
        uint32_t v = (uint32_t) _mm_cvtsi128_si32 (acc);
        memcpy (out + 4 * (size_t) x, &v, 4);
    }
}
#else
static void
s_horizontal (uint8_t *restrict out, const uint8_t *restrict in, const s_filter_t *f, int tw)
{
    int taps = f->taps, pad = S_PAD (taps);
    for (int x = 0; x < tw; x++) {
        const uint8_t *p = in + 4 * (size_t) (f->first[x] + pad);
        const int16_t *w = f->w + (size_t) x * taps;
        int32_t s[4] = { S_HALF, S_HALF, S_HALF, S_HALF };
        for (int t = 0; t < taps; t++)
            for (int c = 0; c < 4; c++)
                s[c] += w[t] * p[4 * t + c];
        for (int c = 0; c < 4; c++)
            out[4 * (size_t) x + c] = (uint8_t) (s[c] >> 14);
    }
}
#endif

struct resample_s {
    gdImagePtr     src;                 /* borrowed */
    int            tw, th;
    s_filter_t     fx, fy;
    int32_t       *acc;
    uint8_t       *vrow;                /* one vertically filtered row, padded */
    size_t         n, pad;              /* its bytes, the padding each side */
    const uint8_t **rows;
};

resample_t *
resample_new (gdImagePtr src, int tw, int th)
{
    if (!src || !gdImageTrueColor (src) || tw < 1 || th < 1
    ||  tw > RESAMPLE_MAX_SIDE_PX || th > RESAMPLE_MAX_SIDE_PX)
        return NULL;
    resample_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->src = src;
    self->tw = tw;
    self->th = th;
    int sw = gdImageSX (src), sh = gdImageSY (src);
    if (s_filter_build (sw, tw, &self->fx) != 0 || s_filter_build (sh, th, &self->fy) != 0) {
        resample_destroy (&self);
        return NULL;
    }
    self->n = 4 * (size_t) sw;
    self->pad = 4 * (size_t) S_PAD (self->fx.taps);
    self->acc = malloc (self->n * sizeof *self->acc);
    self->vrow = malloc (self->n + 2 * self->pad);
    self->rows = malloc ((size_t) (self->fy.taps + 1) * sizeof *self->rows);
    if (!self->acc || !self->vrow || !self->rows)
        resample_destroy (&self);
    return self;
}

void
resample_row (resample_t *self, int y, int *out)
{
    const s_filter_t *fy = &self->fy;
    const int *idx = fy->idx + (size_t) y * fy->taps;
    for (int t = 0; t < fy->taps; t++)
        self->rows[t] = (const uint8_t *) self->src->tpixels[idx[t]];
    self->rows[fy->taps] = self->rows[fy->taps - 1];     /* the weight-0 partner of an odd last tap */
    size_t n = self->n, pad = self->pad;
    uint8_t *vrow = self->vrow;
    s_vertical (vrow + pad, self->acc, self->rows, fy->w + (size_t) y * fy->taps,
                fy->wp + (size_t) y * fy->pairs, fy->taps, (int) n);
    for (size_t i = 0; i < pad; i += 4) {       /* edge pixels repeated */
        memcpy (vrow + i, vrow + pad, 4);
        memcpy (vrow + pad + n + i, vrow + pad + n - 4, 4);
    }
    s_horizontal ((uint8_t *) out, vrow, &self->fx, self->tw);
}

void
resample_destroy (resample_t **self_p)
{
    resample_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    free (self->acc);
    free (self->vrow);
    free (self->rows);
    s_filter_free (&self->fx);
    s_filter_free (&self->fy);
    free (self);
    *self_p = NULL;
}

gdImagePtr
resample_image (gdImagePtr src, int tw, int th)
{
    resample_t *rs = resample_new (src, tw, th);
    gdImagePtr dst = rs ? gdImageCreateTrueColor (tw, th) : NULL;
    if (dst) {
        gdImageAlphaBlending (dst, 0);
        gdImageSaveAlpha (dst, src->saveAlphaFlag);
        for (int y = 0; y < th; y++)
            resample_row (rs, y, dst->tpixels[y]);
    }
    resample_destroy (&rs);
    return dst;
}
