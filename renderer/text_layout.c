/*  text_layout.c: font choice per character, raqm shaping, wrapping, auto-fit
    and FreeType drawing (see text_layout.h). */
#include "text_layout.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <raqm.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NOTO     "/usr/share/fonts/truetype/noto/"
#define S_NOTO_CJK "/usr/share/fonts/opentype/noto/"
#define S_MAX_CPS  1024                 /* code points per given line (200 bytes fit) */
#define S_SHRINK   0.92

enum { F_LATIN, F_ARABIC, F_HEBREW, F_DEVA, F_THAI,
       F_CJK_JP, F_CJK_KR, F_CJK_SC, F_CJK_TC, F_FALLBACK, F_N };

static const struct { const char *file[2]; int index; } s_fonts[F_N] = {
    [F_LATIN]  = { { S_NOTO "NotoSans-Regular.ttf", S_NOTO "NotoSans-Bold.ttf" }, 0 },
    [F_ARABIC] = { { S_NOTO "NotoSansArabic-Regular.ttf", S_NOTO "NotoSansArabic-Bold.ttf" }, 0 },
    [F_HEBREW] = { { S_NOTO "NotoSansHebrew-Regular.ttf", S_NOTO "NotoSansHebrew-Bold.ttf" }, 0 },
    [F_DEVA]   = { { S_NOTO "NotoSansDevanagari-Regular.ttf", S_NOTO "NotoSansDevanagari-Bold.ttf" }, 0 },
    [F_THAI]   = { { S_NOTO "NotoSansThai-Regular.ttf", S_NOTO "NotoSansThai-Bold.ttf" }, 0 },
    [F_CJK_JP] = { { S_NOTO_CJK "NotoSansCJK-Regular.ttc", S_NOTO_CJK "NotoSansCJK-Bold.ttc" }, 0 },
    [F_CJK_KR] = { { S_NOTO_CJK "NotoSansCJK-Regular.ttc", S_NOTO_CJK "NotoSansCJK-Bold.ttc" }, 1 },
    [F_CJK_SC] = { { S_NOTO_CJK "NotoSansCJK-Regular.ttc", S_NOTO_CJK "NotoSansCJK-Bold.ttc" }, 2 },
    [F_CJK_TC] = { { S_NOTO_CJK "NotoSansCJK-Regular.ttc", S_NOTO_CJK "NotoSansCJK-Bold.ttc" }, 3 },
    [F_FALLBACK] = { { NULL, NULL }, 0 },          /* the block's fallback_font */
};

/* ---- per-thread face cache ------------------------------------------------ */

typedef struct {
    FT_Library lib;
    FT_Face    face[F_N][2];
    bool       tried[F_N][2];
    char       fallback[512];          /* path the F_FALLBACK faces were opened from */
} s_cache_t;

static pthread_key_t s_key;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_cache_free (void *p)
{
    s_cache_t *c = p;
    if (!c)
        return;
    for (int i = 0; i < F_N; i++)
        for (int b = 0; b < 2; b++)
            if (c->face[i][b])
                FT_Done_Face (c->face[i][b]);
    if (c->lib)
        FT_Done_FreeType (c->lib);
    free (c);
}

static void
s_key_init (void)
{
    pthread_key_create (&s_key, s_cache_free);
}

static s_cache_t *
s_cache (void)
{
    pthread_once (&s_once, s_key_init);
    s_cache_t *c = pthread_getspecific (s_key);
    if (c)
        return c;
    c = calloc (1, sizeof *c);
    if (!c || FT_Init_FreeType (&c->lib) != 0) {
        free (c);
        return NULL;
    }
    pthread_setspecific (s_key, c);
    return c;
}

void
text_layout_thread_end (void)
{
    pthread_once (&s_once, s_key_init);
    s_cache_t *c = pthread_getspecific (s_key);
    pthread_setspecific (s_key, NULL);
    s_cache_free (c);
}

/* The face of slot (bold or regular; bold falls back to regular), or NULL. */
static FT_Face
s_face (s_cache_t *c, int slot, int bold, const char *fallback)
{
    if (slot == F_FALLBACK && fallback && strcmp (fallback, c->fallback) != 0) {
        for (int b = 0; b < 2; b++) {
            if (c->face[slot][b])
                FT_Done_Face (c->face[slot][b]);
            c->face[slot][b] = NULL;
            c->tried[slot][b] = false;
        }
        snprintf (c->fallback, sizeof c->fallback, "%s", fallback);
    }
    if (!c->tried[slot][bold]) {
        c->tried[slot][bold] = true;
        const char *file = slot == F_FALLBACK ? (c->fallback[0] ? c->fallback : NULL)
                                              : s_fonts[slot].file[bold];
        if (file && FT_New_Face (c->lib, file, s_fonts[slot].index, &c->face[slot][bold]) != 0)
            c->face[slot][bold] = NULL;
    }
    if (c->face[slot][bold])
        return c->face[slot][bold];
    return bold ? s_face (c, slot, 0, fallback) : NULL;
}

/* ---- characters ------------------------------------------------------------ */

static bool
s_is_cjk (uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x2E80 && cp <= 0x9FFF)
        || (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7FF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F)
        || (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* Characters that need no glyph of their own (controls, joiners, marks of direction). */
static bool
s_is_ignorable (uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || (cp >= 0x200B && cp <= 0x200F)
        || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F)
        || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF;
}

/* Script-neutral characters take the font of their neighbours. */
static bool
s_is_common (uint32_t cp)
{
    if (cp < 0x80)
        return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
    return (cp >= 0xA0 && cp <= 0xBF) || (cp >= 0x2000 && cp <= 0x206F)
        || (cp >= 0x0300 && cp <= 0x036F) || s_is_ignorable (cp);
}

static int
s_cjk_slot (const char *locale)
{
    if (!locale)
        return F_CJK_JP;
    if (strncmp (locale, "ko", 2) == 0)
        return F_CJK_KR;
    if (strncmp (locale, "zh", 2) == 0)
        return strstr (locale, "TW") || strstr (locale, "HK") || strstr (locale, "Hant")
             ? F_CJK_TC : F_CJK_SC;
    return F_CJK_JP;
}

static int
s_script_slot (uint32_t cp, int cjk)
{
    if ((cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F)
    ||  (cp >= 0x08A0 && cp <= 0x08FF) || (cp >= 0xFB50 && cp <= 0xFDFF)
    ||  (cp >= 0xFE70 && cp <= 0xFEFE))
        return F_ARABIC;
    if ((cp >= 0x0590 && cp <= 0x05FF) || (cp >= 0xFB1D && cp <= 0xFB4F))
        return F_HEBREW;
    if ((cp >= 0x0900 && cp <= 0x097F) || (cp >= 0xA8E0 && cp <= 0xA8FF) || cp == 0x1CD0)
        return F_DEVA;
    if (cp >= 0x0E00 && cp <= 0x0E7F)
        return F_THAI;
    if (s_is_cjk (cp))
        return cjk;
    return F_LATIN;
}

/* A slot whose face has cp, trying `first` (may be -1) then the script's
   font then every other; -1 when none has it. */
static int
s_pick (s_cache_t *c, uint32_t cp, int first, int cjk, int bold, const char *fallback)
{
    int order[F_N + 2], n = 0;
    if (first >= 0)
        order[n++] = first;
    order[n++] = s_script_slot (cp, cjk);
    int rest[] = { F_LATIN, cjk, F_CJK_JP, F_ARABIC, F_HEBREW, F_DEVA, F_THAI, F_FALLBACK };
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        order[n++] = rest[i];
    for (int i = 0; i < n; i++) {
        FT_Face f = s_face (c, order[i], bold, fallback);
        if (f && FT_Get_Char_Index (f, cp) != 0)
            return order[i];
    }
    return -1;
}

/* UTF-8 to code points (invalid bytes become U+FFFD). Returns the count. */
static int
s_decode (const char *s, uint32_t *out, int cap)
{
    const unsigned char *p = (const unsigned char *) s;
    int n = 0;
    while (*p && n < cap) {
        uint32_t cp = 0xFFFD;
        int len = 1;
        if (p[0] < 0x80)
            cp = p[0];
        else
        if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80)
            cp = ((uint32_t) (p[0] & 0x1F) << 6) | (p[1] & 0x3F), len = 2;
        else
        if ((p[0] & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80)
            cp = ((uint32_t) (p[0] & 0x0F) << 12) | ((uint32_t) (p[1] & 0x3F) << 6) | (p[2] & 0x3F),
            len = 3;
        else
        if ((p[0] & 0xF8) == 0xF0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80
        &&  (p[3] & 0xC0) == 0x80)
            cp = ((uint32_t) (p[0] & 0x07) << 18) | ((uint32_t) (p[1] & 0x3F) << 12)
               | ((uint32_t) (p[2] & 0x3F) << 6) | (p[3] & 0x3F), len = 4;
        out[n++] = cp;
        p += len;
    }
    return n;
}

/* ---- one line: code points, their fonts, shaping ---------------------------- */

#define S_MEMO 256                     /* segment widths remembered per line */

typedef struct {
    uint32_t cp[S_MAX_CPS];
    signed char slot[S_MAX_CPS];       /* -1: no font has it (or ignorable) */
    int      n;
    /* widths of segments shaped at the block's size_max: unhinted advances
       scale linearly with the size, so auto-fit reuses them (HarfBuzz loads
       a font's layout tables on every shaping call, which is the cost) */
    struct { int a, e; double w; } memo[S_MEMO];
    int      nmemo;
} s_line_t;

static void
s_missing_add (text_result_t *r, uint32_t cp)
{
    for (int i = 0; i < r->nmissing; i++)
        if (r->missing[i] == cp)
            return;
    if (r->nmissing < TEXT_LAYOUT_MAX_MISSING)
        r->missing[r->nmissing++] = cp;
}

/* Decodes and assigns a font slot to every character; records missing ones. */
static void
s_line_prepare (s_cache_t *c, const char *text, const text_block_t *b, s_line_t *ln,
                text_result_t *r)
{
    int bold = b->weight >= 600;
    int cjk = s_cjk_slot (b->locale);
    ln->n = s_decode (text, ln->cp, S_MAX_CPS);
    for (int i = 0; i < ln->n; i++) {
        uint32_t cp = ln->cp[i];
        int slot = -1;
        if (!s_is_common (cp))
            slot = s_pick (c, cp, -1, cjk, bold, b->fallback_font);
        ln->slot[i] = (signed char) slot;
        if (slot < 0 && !s_is_common (cp) && r)
            s_missing_add (r, cp);
    }
    /* script-neutral characters: the previous strong font if it has them,
       else the next one's, else any */
    int prev = -1;
    for (int i = 0; i < ln->n; i++) {
        uint32_t cp = ln->cp[i];
        if (!s_is_common (cp)) {
            if (ln->slot[i] >= 0)
                prev = ln->slot[i];
            continue;
        }
        int next = -1;
        for (int j = i + 1; j < ln->n && next < 0; j++)
            if (!s_is_common (ln->cp[j]) && ln->slot[j] >= 0)
                next = ln->slot[j];
        int want = prev >= 0 ? prev : next;
        int slot = -1;
        if (s_is_ignorable (cp))
            slot = want >= 0 ? want : F_LATIN;
        else {
            FT_Face f = want >= 0 ? s_face (c, want, bold, b->fallback_font) : NULL;
            slot = f && FT_Get_Char_Index (f, cp) ? want
                 : s_pick (c, cp, want, cjk, bold, b->fallback_font);
            if (slot < 0 && r)
                s_missing_add (r, cp);
        }
        ln->slot[i] = (signed char) slot;
    }
}

/* A face for a run of characters no font has: the Latin one (its glyph 0 is
   skipped when drawing, so nothing is drawn for them). */
static FT_Face
s_run_face (s_cache_t *c, int slot, int bold, const char *fallback)
{
    FT_Face f = slot >= 0 ? s_face (c, slot, bold, fallback) : NULL;
    if (!f)
        f = s_face (c, F_LATIN, bold, fallback);
    if (!f)
        f = s_face (c, F_FALLBACK, bold, fallback);
    return f;
}

/* Shapes ln->cp[a..e) at size. On success *rq is the caller's (raqm_destroy). */
static int
s_shape (s_cache_t *c, const s_line_t *ln, int a, int e, const text_block_t *b, double size,
         raqm_t **out, double *width, char *err, size_t errsz)
{
    *out = NULL;
    *width = 0;
    if (e <= a)
        return 0;
    int bold = b->weight >= 600;
    raqm_t *rq = raqm_create ();
    if (!rq || !raqm_set_text (rq, ln->cp + a, (size_t) (e - a))
    ||  !raqm_set_par_direction (rq, RAQM_DIRECTION_DEFAULT)) {
        snprintf (err, errsz, "raqm cannot take the text");
        raqm_destroy (rq);
        return -1;
    }
    if (b->locale && b->locale[0])
        raqm_set_language (rq, b->locale, 0, (size_t) (e - a));
    for (int i = a; i < e;) {
        int j = i + 1;
        while (j < e && ln->slot[j] == ln->slot[i])
            j++;
        FT_Face f = s_run_face (c, ln->slot[i], bold, b->fallback_font);
        if (!f) {
            snprintf (err, errsz, "no font can be loaded (Noto or %s)",
                      b->fallback_font ? b->fallback_font : "the fallback");
            raqm_destroy (rq);
            return -1;
        }
        FT_Set_Char_Size (f, 0, (FT_F26Dot6) lround (size * 64), 72, 72);
        if (!raqm_set_freetype_face_range (rq, f, (size_t) (i - a), (size_t) (j - i))) {
            snprintf (err, errsz, "raqm cannot take a font");
            raqm_destroy (rq);
            return -1;
        }
        i = j;
    }
    raqm_set_freetype_load_flags (rq, FT_LOAD_NO_HINTING);
    if (!raqm_layout (rq)) {
        snprintf (err, errsz, "raqm layout failed");
        raqm_destroy (rq);
        return -1;
    }
    size_t count = 0;
    raqm_glyph_t *g = raqm_get_glyphs (rq, &count);
    long adv = 0;
    for (size_t i = 0; i < count; i++)
        adv += g[i].x_advance;
    *width = adv / 64.0;
    *out = rq;
    return 0;
}

static int
s_width (s_cache_t *c, s_line_t *ln, int a, int e, const text_block_t *b, double size,
         double *w, char *err, size_t errsz)
{
    double ref = b->size_max > 0 ? b->size_max : size;
    for (int i = 0; i < ln->nmemo; i++)
        if (ln->memo[i].a == a && ln->memo[i].e == e) {
            *w = ln->memo[i].w * size / ref;
            return 0;
        }
    raqm_t *rq;
    double wr;
    if (s_shape (c, ln, a, e, b, ref, &rq, &wr, err, errsz))
        return -1;
    raqm_destroy (rq);
    if (ln->nmemo < S_MEMO)
        ln->memo[ln->nmemo].a = a, ln->memo[ln->nmemo].e = e, ln->memo[ln->nmemo++].w = wr;
    *w = wr * size / ref;
    return 0;
}

static bool
s_no_break_before (uint32_t cp)
{
    return cp == 0x3001 || cp == 0x3002 || cp == 0xFF0C || cp == 0xFF0E || cp == 0x300D
        || cp == 0x300F || cp == 0xFF09 || cp == 0xFF01 || cp == 0xFF1F || cp == ')'
        || cp == '.' || cp == ',' || cp == '!' || cp == '?' || cp == 0x30FC;
}

/* May a wrapped line start at ln->cp[i]? */
static bool
s_can_break (const s_line_t *ln, int i)
{
    if (i <= 0 || i >= ln->n || ln->cp[i] == ' ')
        return false;
    if (ln->cp[i - 1] == ' ')
        return true;
    return (s_is_cjk (ln->cp[i - 1]) || s_is_cjk (ln->cp[i])) && !s_no_break_before (ln->cp[i]);
}

typedef struct { int a, e; } s_seg_t;

/* Wraps ln at size into segs (at most cap) greedily: each wrapped line
   takes as much as fits in limit px. *nseg, *widest set; *too_wide when a
   segment that cannot break is wider than limit. */
static int
s_wrap (s_cache_t *c, s_line_t *ln, const text_block_t *b, double size, double limit,
        s_seg_t *segs, int cap, int *nseg, double *widest, bool *too_wide,
        char *err, size_t errsz)
{
    int start = 0;
    while (start < ln->n && ln->cp[start] == ' ')
        start++;
    while (start < ln->n) {
        int end = ln->n;
        while (end > start && ln->cp[end - 1] == ' ')
            end--;
        double w;
        if (s_width (c, ln, start, end, b, size, &w, err, errsz))
            return -1;
        int best = -1;
        double best_w = 0;
        if (w <= limit)
            best = ln->n, best_w = w;
        else {
            /* the break candidates after start; widths grow with the end, so
               the last one that fits is found by bisection */
            static __thread int cand[S_MAX_CPS + 1];
            int nc = 0;
            for (int i = start + 1; i < ln->n; i++)
                if (s_can_break (ln, i))
                    cand[nc++] = i;
            int lo = 0, hi = nc - 1;
            while (lo <= hi) {
                int mid = (lo + hi) / 2, e = cand[mid];
                while (e > start && ln->cp[e - 1] == ' ')
                    e--;
                if (s_width (c, ln, start, e, b, size, &w, err, errsz))
                    return -1;
                if (w <= limit)
                    best = cand[mid], best_w = w, lo = mid + 1;
                else
                    hi = mid - 1;
            }
            if (best < 0) {             /* not even the first piece fits: it overflows */
                int e = nc > 0 ? cand[0] : ln->n;
                best = e;
                while (e > start && ln->cp[e - 1] == ' ')
                    e--;
                if (s_width (c, ln, start, e, b, size, &best_w, err, errsz))
                    return -1;
                *too_wide = true;
            }
        }
        int e = best;
        while (e > start && ln->cp[e - 1] == ' ')
            e--;
        if (*nseg >= cap) {
            *too_wide = true;           /* more lines than a block takes */
            return 0;
        }
        segs[(*nseg)++] = (s_seg_t) { start, e };
        if (best_w > *widest)
            *widest = best_w;
        start = best;
        while (start < ln->n && ln->cp[start] == ' ')
            start++;
    }
    return 0;
}

typedef struct {
    s_line_t lines[4];                 /* EASEL_MAX_HEADLINE_LINES */
    int      nlines;
    s_seg_t  segs[4][TEXT_LAYOUT_MAX_WRAPPED];
    int      nsegs[4];
} s_block_t;

/* Balanced wrapping of a line that wraps into *nseg lines at max_width:
   the same number of lines with the longest as short as it can be (the
   smallest limit, to half a pixel, at which the greedy wrap still needs no
   more lines), so "Jede Gewohnheit im Blick" reads "Jede Gewohnheit" / "im
   Blick", not "Jede Gewohnheit im" / "Blick". Any script: the limit only
   moves the break points the greedy wrap may use. */
static int
s_wrap_balanced (s_cache_t *c, s_line_t *ln, const text_block_t *b, double size,
                 s_seg_t *segs, int *nseg, double *widest, char *err, size_t errsz)
{
    s_seg_t trial[TEXT_LAYOUT_MAX_WRAPPED];
    double lo = 0, hi = 0;
    for (int k = 0; k < *nseg; k++) {
        double w;
        if (s_width (c, ln, segs[k].a, segs[k].e, b, size, &w, err, errsz))
            return -1;
        hi = fmax (hi, w);
    }
    double best = hi;
    while (hi - lo > 0.5) {
        double mid = (lo + hi) / 2, w = 0;
        int n = 0;
        bool over = false;
        if (s_wrap (c, ln, b, size, mid, trial, TEXT_LAYOUT_MAX_WRAPPED, &n, &w, &over, err, errsz))
            return -1;
        if (!over && n <= *nseg)
            hi = best = mid;
        else
            lo = mid;
    }
    int n = 0;
    double w = 0;
    bool over = false;
    if (s_wrap (c, ln, b, size, best, trial, TEXT_LAYOUT_MAX_WRAPPED, &n, &w, &over, err, errsz))
        return -1;
    if (over || n != *nseg)
        return 0;                       /* keep the greedy wrap */
    memcpy (segs, trial, (size_t) n * sizeof *segs);
    *widest = fmax (*widest, w);
    return 0;
}

/* Wraps every line of the block at size; balance: with balanced lines
   (s_wrap_balanced) instead of greedy ones, the same count of lines. */
static int
s_block_wrap (s_cache_t *c, s_block_t *bl, const text_block_t *b, double size, bool balance,
              int *total, double *widest, bool *too_wide, char *err, size_t errsz)
{
    *total = 0;
    *widest = 0;
    *too_wide = false;
    for (int i = 0; i < bl->nlines; i++) {
        bl->nsegs[i] = 0;
        bool over = false;
        double w = 0;
        if (s_wrap (c, &bl->lines[i], b, size, b->max_width, bl->segs[i], TEXT_LAYOUT_MAX_WRAPPED,
                    &bl->nsegs[i], &w, &over, err, errsz))
            return -1;
        if (balance && !over && bl->nsegs[i] > 1) {
            double bw = 0;
            if (s_wrap_balanced (c, &bl->lines[i], b, size, bl->segs[i], &bl->nsegs[i], &bw,
                                 err, errsz))
                return -1;
            w = bw > 0 ? bw : w;
        }
        *widest = fmax (*widest, w);
        *too_wide |= over;
        *total += bl->nsegs[i];
    }
    if (*total > TEXT_LAYOUT_MAX_WRAPPED)
        *too_wide = true;
    return 0;
}

static s_block_t *
s_block_new (s_cache_t *c, const text_block_t *b, text_result_t *r)
{
    s_block_t *bl = calloc (1, sizeof *bl);
    if (!bl)
        return NULL;
    bl->nlines = b->nlines < 4 ? b->nlines : 4;
    for (int i = 0; i < bl->nlines; i++)
        s_line_prepare (c, b->lines[i], b, &bl->lines[i], r);
    return bl;
}

int
text_layout_fit (const text_block_t *b, text_result_t *r, char *err, size_t errsz)
{
    memset (r, 0, sizeof *r);
    r->min_contrast = 21.0;
    if (b->nlines <= 0)
        return 0;
    s_cache_t *c = s_cache ();
    if (!c) {
        snprintf (err, errsz, "FreeType cannot start");
        return -1;
    }
    s_block_t *bl = s_block_new (c, b, r);
    if (!bl) {
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    double size = b->size_max, min = fmin (b->size_min, b->size_max);
    if (min < 4)
        min = 4;
    int rc = 0;
    for (;;) {
        int total;
        double widest;
        bool too_wide;
        if ((rc = s_block_wrap (c, bl, b, size, false, &total, &widest, &too_wide, err, errsz)))
            break;
        int height = (int) lround (total * size * TEXT_LAYOUT_LINE_HEIGHT);
        bool fits = !too_wide && (b->max_height <= 0 || height <= b->max_height);
        r->size = size;
        r->height = height;
        r->nwrapped = total;
        r->widest = (int) ceil (widest);
        if (fits) {
            /* the size is settled: balance the lines (same count, so the
               same height), as text_layout_draw will */
            rc = s_block_wrap (c, bl, b, size, true, &total, &widest, &too_wide, err, errsz);
            r->widest = (int) ceil (widest);
            break;
        }
        if (size <= min) {
            r->overflow = true;
            break;
        }
        size = fmax (min, size * S_SHRINK);
    }
    free (bl);
    return rc;
}

/* ---- drawing ----------------------------------------------------------------- */

static double s_lin[256];
static pthread_once_t s_lin_once = PTHREAD_ONCE_INIT;

static void
s_lin_init (void)
{
    for (int i = 0; i < 256; i++) {
        double v = i / 255.0;
        s_lin[i] = v <= 0.03928 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
    }
}

double
text_layout_luminance (uint32_t rgb)
{
    pthread_once (&s_lin_once, s_lin_init);
    return 0.2126 * s_lin[(rgb >> 16) & 0xFF] + 0.7152 * s_lin[(rgb >> 8) & 0xFF]
         + 0.0722 * s_lin[rgb & 0xFF];
}

double
text_layout_contrast (double l1, double l2)
{
    double hi = fmax (l1, l2), lo = fmin (l1, l2);
    return (hi + 0.05) / (lo + 0.05);
}

typedef struct {
    double lmin, lmax;                 /* luminance behind the glyphs */
    int    x0, y0, x1, y1;
    const int *under;                  /* the canvas rows before any glyph, NULL: none */
    int    under_y0, under_rows;       /* first row copied, rows copied */
} s_ink_t;

static void
s_blend_bitmap (gdImagePtr im, const FT_Bitmap *bm, int ox, int oy, uint32_t rgb, s_ink_t *ink)
{
    int W = gdImageSX (im), H = gdImageSY (im);
    int cr = (rgb >> 16) & 0xFF, cg = (rgb >> 8) & 0xFF, cb = rgb & 0xFF;
    for (unsigned y = 0; y < bm->rows; y++) {
        int py = oy + (int) y;
        if (py < 0 || py >= H)
            continue;
        const unsigned char *src = bm->buffer + (long) y * bm->pitch;
        int *row = im->tpixels[py];
        for (unsigned x = 0; x < bm->width; x++) {
            int a = src[x];
            int px = ox + (int) x;
            if (a == 0 || px < 0 || px >= W)
                continue;
            int under = row[px];
            if (a >= 128) {
                /* measured against what was there before the text (glyphs overlap) */
                int before = ink->under && py >= ink->under_y0 && py < ink->under_y0 + ink->under_rows
                           ? ink->under[(long) (py - ink->under_y0) * W + px] : under;
                double l = text_layout_luminance ((uint32_t) before & 0xFFFFFF);
                if (l < ink->lmin) ink->lmin = l;
                if (l > ink->lmax) ink->lmax = l;
                if (px < ink->x0) ink->x0 = px;
                if (py < ink->y0) ink->y0 = py;
                if (px > ink->x1) ink->x1 = px;
                if (py > ink->y1) ink->y1 = py;
            }
            int ur = (under >> 16) & 0xFF, ug = (under >> 8) & 0xFF, ub = under & 0xFF;
            row[px] = gdTrueColor ((cr * a + ur * (255 - a) + 127) / 255,
                                   (cg * a + ug * (255 - a) + 127) / 255,
                                   (cb * a + ub * (255 - a) + 127) / 255);
        }
    }
}

static int
s_draw_segment (gdImagePtr im, s_cache_t *c, const s_line_t *ln, s_seg_t seg,
                const text_block_t *b, double size, int centre_x, int baseline, s_ink_t *ink,
                char *err, size_t errsz)
{
    raqm_t *rq;
    double width;
    if (s_shape (c, ln, seg.a, seg.e, b, size, &rq, &width, err, errsz))
        return -1;
    if (!rq)
        return 0;
    size_t count = 0;
    raqm_glyph_t *g = raqm_get_glyphs (rq, &count);
    long pen = (long) lround ((centre_x - width / 2.0) * 64);
    for (size_t i = 0; i < count; i++) {
        FT_Face f = g[i].ftface;
        if (g[i].index != 0 && f) {
            FT_Set_Char_Size (f, 0, (FT_F26Dot6) lround (size * 64), 72, 72);
            if (FT_Load_Glyph (f, g[i].index, FT_LOAD_NO_HINTING | FT_LOAD_NO_BITMAP) == 0
            &&  FT_Render_Glyph (f->glyph, FT_RENDER_MODE_NORMAL) == 0) {
                int gx = (int) ((pen + g[i].x_offset + 32) >> 6) + f->glyph->bitmap_left;
                int gy = baseline - (int) ((g[i].y_offset + 32) >> 6) - f->glyph->bitmap_top;
                s_blend_bitmap (im, &f->glyph->bitmap, gx, gy, b->rgb, ink);
            }
        }
        pen += g[i].x_advance;
    }
    raqm_destroy (rq);
    return 0;
}

int
text_layout_draw (gdImagePtr im, const text_block_t *b, text_result_t *r,
                  int centre_x, int top, char *err, size_t errsz)
{
    if (b->nlines <= 0 || r->size <= 0)
        return 0;
    s_cache_t *c = s_cache ();
    if (!c) {
        snprintf (err, errsz, "FreeType cannot start");
        return -1;
    }
    s_block_t *bl = s_block_new (c, b, NULL);
    if (!bl) {
        snprintf (err, errsz, "out of memory");
        return -1;
    }
    int total;
    double widest;
    bool too_wide;
    int rc = s_block_wrap (c, bl, b, r->size, !r->overflow, &total, &widest, &too_wide, err, errsz);
    s_ink_t ink = { 2.0, -1.0, gdImageSX (im), gdImageSY (im), -1, -1, NULL, 0, 0 };
    /* a copy of the rows the block covers (with a line of slack each side) */
    int W = gdImageSX (im);
    int y0 = top - (int) r->size, y1 = top + r->height + (int) r->size;
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > gdImageSY (im) ? gdImageSY (im) : y1;
    int *under = y1 > y0 ? malloc ((size_t) (y1 - y0) * (size_t) W * sizeof *under) : NULL;
    if (under) {
        for (int y = y0; y < y1; y++)
            memcpy (under + (long) (y - y0) * W, im->tpixels[y], (size_t) W * sizeof *under);
        ink.under = under, ink.under_y0 = y0, ink.under_rows = y1 - y0;
    }
    double advance = r->size * TEXT_LAYOUT_LINE_HEIGHT;
    int k = 0;
    for (int i = 0; !rc && i < bl->nlines; i++)
        for (int s = 0; !rc && s < bl->nsegs[i]; s++, k++) {
            int baseline = top + (int) lround (k * advance + r->size * 1.02);
            rc = s_draw_segment (im, c, &bl->lines[i], bl->segs[i][s], b, r->size, centre_x,
                                 baseline, &ink, err, errsz);
        }
    free (bl);
    free (under);
    if (ink.lmax >= 0) {
        double lt = text_layout_luminance (b->rgb);
        r->min_contrast = fmin (text_layout_contrast (lt, ink.lmin), text_layout_contrast (lt, ink.lmax));
        r->ink_x0 = ink.x0, r->ink_y0 = ink.y0, r->ink_x1 = ink.x1, r->ink_y1 = ink.y1;
    }
    return rc;
}
