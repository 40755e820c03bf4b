/*  lint.c: the per-image lint rules (see lint.h). */
#include "lint.h"
#include "image_source.h"
#include "presets.h"

#include <ctype.h>
#include <jansson.h>
#include <locale.h>
#include <pthread.h>
#include <strings.h>
#include <wchar.h>
#include <wctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
lint_add (lint_report_t *r, const char *rule, lint_severity_t sev, const char *fmt, ...)
{
    if (r->n >= LINT_MAX_FINDINGS)
        return;
    lint_finding_t *f = &r->items[r->n++];
    snprintf (f->rule, sizeof f->rule, "%s", rule);
    f->severity = sev;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (f->message, sizeof f->message, fmt, ap);
    va_end (ap);
    if (f->message[0] >= 'a' && f->message[0] <= 'z')
        f->message[0] = (char) (f->message[0] - 'a' + 'A');
}

void
lint_region (lint_report_t *r, int x, int y, int w, int h)
{
    if (r->n == 0 || w <= 0 || h <= 0)
        return;
    lint_finding_t *f = &r->items[r->n - 1];
    f->has_region = true;
    f->region_x = x, f->region_y = y, f->region_w = w, f->region_h = h;
}

/* The drawn text's bounds as the last finding's region. */
static void
s_text_region (lint_report_t *r, const text_result_t *t)
{
    if (t->ink_x1 > t->ink_x0 && t->ink_y1 > t->ink_y0)
        lint_region (r, t->ink_x0, t->ink_y0, t->ink_x1 - t->ink_x0 + 1, t->ink_y1 - t->ink_y0 + 1);
}

const char *
lint_a (const char *word)
{
    static const char *const consonant_u[] = { "uni", "use", "usu", "ute", "uti", "ura", "one", NULL };
    static const char *const silent_h[] = { "hour", "honest", "honor", "honour", "heir", NULL };
    if (!word || !word[0])
        return "a";
    unsigned char c0 = (unsigned char) word[0], c1 = (unsigned char) word[1];
    if (isupper (c0) && isupper (c1))   /* an acronym, read letter by letter */
        return strchr ("AEFHILMNORSX", c0) ? "an" : "a";
    if (c0 == '8')
        return "an";
    for (int i = 0; consonant_u[i]; i++)
        if (strncasecmp (word, consonant_u[i], strlen (consonant_u[i])) == 0)
            return "a";
    for (int i = 0; silent_h[i]; i++)
        if (strncasecmp (word, silent_h[i], strlen (silent_h[i])) == 0)
            return "an";
    return strchr ("aeiouAEIOU", c0) ? "an" : "a";
}

/* "a phone", "a TV", ... for a form factor name. */
static const char *
s_form_words (const char *form)
{
    return strcmp (form, "tv") == 0 ? "a TV" : strcmp (form, "desktop") == 0 ? "a desktop"
         : strcmp (form, "tablet") == 0 ? "a tablet" : strcmp (form, "watch") == 0 ? "a watch"
         : "a phone";
}

const char *
lint_severity_name (lint_severity_t s)
{
    return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" : "info";
}

const char *
lint_store (const proto_slide_t *spec)
{
    const presets_canvas_t *p = presets_find (spec->preset);
    return p ? p->store : spec->store;
}

/* ---- copy ------------------------------------------------------------------ */

/* Google Play's metadata policy: no performance, ranking, price or
   promotional claims and no calls to action in store graphics. One list per
   language (the ten largest store languages and more); a locale is checked
   against its language's list, a language without one (or no locale)
   against the English list. Phrases are compared
   after Unicode lower-casing; in scripts written with spaces on word bounds,
   in Chinese, Japanese and Korean anywhere in the text. */
typedef struct {
    const char *lang;
    const char *const *words;
} s_wordlist_t;

static const char *const s_en[] = {
    "#1", "no. 1", "number one", "best", "top", "free", "sale", "discount", "cheap", "new",
    "cashback", "download now", "install now", "play now", "try now", "buy now", "update now",
    "million downloads", "app of the year", "editor's choice", NULL
};
static const char *const s_es[] = {
    "gratis", "mejor", "la mejor", "el mejor", "número 1", "nº 1", "oferta", "descuento",
    "rebajas", "nuevo", "nueva", "descarga ahora", "descárgala ya", "instala ahora",
    "juega ahora", "compra ahora", "millones de descargas", NULL
};
static const char *const s_pt[] = {
    "grátis", "gratuito", "melhor", "número 1", "oferta", "desconto", "promoção", "novo", "nova",
    "baixe agora", "instale agora", "jogue agora", "compre agora", "milhões de downloads", NULL
};
static const char *const s_fr[] = {
    "gratuit", "gratuite", "meilleur", "meilleure", "numéro 1", "n°1", "promo", "soldes",
    "réduction", "nouveau", "nouvelle", "téléchargez maintenant", "installez maintenant",
    "jouez maintenant", "achetez maintenant", "millions de téléchargements", NULL
};
static const char *const s_de[] = {
    "kostenlos", "gratis", "beste", "bester", "bestes", "nummer 1", "nr. 1", "angebot", "rabatt",
    "sale", "neu", "jetzt herunterladen", "jetzt installieren", "jetzt spielen", "jetzt kaufen",
    "millionen downloads", NULL
};
static const char *const s_it[] = {
    "gratis", "gratuito", "migliore", "numero 1", "offerta", "sconto", "saldi", "nuovo", "nuova",
    "scarica ora", "installa ora", "gioca ora", "acquista ora", "milioni di download", NULL
};
static const char *const s_ru[] = {
    "бесплатно", "бесплатный", "лучший", "лучшее", "номер 1", "№1", "скидка", "распродажа",
    "акция", "новый", "новинка", "скачай сейчас", "скачайте сейчас", "установите сейчас",
    "играй сейчас", "купить сейчас", "миллионы загрузок", "миллион скачиваний", NULL
};
static const char *const s_tr[] = {
    "ücretsiz", "bedava", "en iyi", "1 numara", "indirim", "kampanya", "yeni", "şimdi indir",
    "hemen indir", "şimdi yükle", "şimdi oyna", "şimdi satın al", "milyon indirme", NULL
};
static const char *const s_id[] = {
    "gratis", "terbaik", "nomor 1", "diskon", "promo", "obral", "baru", "unduh sekarang",
    "instal sekarang", "main sekarang", "beli sekarang", "juta unduhan", NULL
};
static const char *const s_ja[] = {
    "無料", "最高", "ナンバーワン", "no.1", "1位", "セール", "割引", "新登場", "今すぐダウンロード",
    "今すぐインストール", "今すぐプレイ", "今すぐ購入", "万ダウンロード", NULL
};
static const char *const s_ko[] = {
    "무료", "최고", "1위", "넘버원", "세일", "할인", "신규", "지금 다운로드", "지금 설치",
    "지금 플레이", "지금 구매", "만 다운로드", NULL
};
static const char *const s_zh[] = {
    "免费", "免費", "最好", "最佳", "第一", "第1", "特价", "特價", "折扣", "优惠", "優惠", "全新",
    "立即下载", "立即下載", "立即安装", "立即安裝", "立即购买", "立即購買", "万次下载", "萬次下載",
    NULL
};
static const char *const s_ar[] = {
    "مجاني", "مجانا", "مجانًا", "الأفضل", "رقم 1", "خصم", "تخفيضات", "جديد", "حمّل الآن",
    "حمل الآن", "نزّل الآن", "نزل الآن", "ثبّت الآن", "ثبت الآن", "العب الآن", "اشترِ الآن",
    "اشتر الآن", "مليون تنزيل", NULL
};
static const char *const s_hi[] = {
    "मुफ्त", "मुफ़्त", "सर्वश्रेष्ठ", "सबसे अच्छा", "नंबर 1", "छूट", "सेल", "नया", "अभी डाउनलोड करें",
    "अभी इंस्टॉल करें", "अभी खेलें", "अभी खरीदें", "लाख डाउनलोड", NULL
};

static const s_wordlist_t s_wordlists[] = {
    { "en", s_en }, { "es", s_es }, { "pt", s_pt }, { "fr", s_fr }, { "de", s_de },
    { "it", s_it }, { "ru", s_ru }, { "tr", s_tr }, { "id", s_id }, { "ja", s_ja },
    { "ko", s_ko }, { "zh", s_zh }, { "ar", s_ar }, { "hi", s_hi },
};

#define S_COPY_MAX 512             /* code points compared per line */

static locale_t s_utf8;
static pthread_once_t s_utf8_once = PTHREAD_ONCE_INIT;

static void
s_utf8_open (void)
{
    s_utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
}

/* text (UTF-8) lower-cased into out[cap]; the count, -1 when it is not UTF-8. */
static int
s_lower (const char *text, wchar_t *out, int cap)
{
    pthread_once (&s_utf8_once, s_utf8_open);
    if (!s_utf8)
        return -1;
    locale_t old = uselocale (s_utf8);
    mbstate_t st;
    memset (&st, 0, sizeof st);
    int n = 0;
    size_t len = strlen (text);
    while (len > 0 && n < cap) {
        wchar_t wc;
        size_t k = mbrtowc (&wc, text, len, &st);
        if (k == (size_t) -1 || k == (size_t) -2 || k == 0) {
            n = -1;
            break;
        }
        out[n++] = (wchar_t) towlower ((wint_t) wc);
        text += k, len -= k;
    }
    uselocale (old);
    return n;
}

/* Written without spaces between words: Han, kana, Hangul (and beyond the BMP). */
static bool
s_unspaced (wchar_t c)
{
    return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF)
        || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF00 && c <= 0xFFEF) || c >= 0x20000;
}

static bool
s_word_char (wchar_t c)
{
    pthread_once (&s_utf8_once, s_utf8_open);
    return s_utf8 && (iswalnum_l ((wint_t) c, s_utf8) || (c >= 0x0900 && c <= 0x0DFF)
                  ||  (c >= 0x064B && c <= 0x065F));   /* Indic signs, Arabic marks */
}

/* Does `phrase` occur in text[0..n) (lower-cased), on word bounds where
   its script has them? */
static bool
s_phrase_in (const wchar_t *text, int n, const char *phrase)
{
    wchar_t p[64];
    int m = s_lower (phrase, p, 64);
    if (m <= 0)
        return false;
    bool bounds = !s_unspaced (p[0]);
    for (int i = 0; i + m <= n; i++) {
        if (wmemcmp (text + i, p, (size_t) m) != 0)
            continue;
        if (!bounds)
            return true;
        bool left = i == 0 || !s_word_char (text[i - 1]) || !s_word_char (p[0]);
        bool right = i + m == n || !s_word_char (text[i + m]) || !s_word_char (p[m - 1]);
        if (left && right)
            return true;
    }
    return false;
}

/* The banned phrase found in text for a locale ("de-DE"; "" any), or NULL. */
static const char *
s_banned_in (const char *text, const char *locale)
{
    wchar_t low[S_COPY_MAX];
    int n = s_lower (text, low, S_COPY_MAX);
    if (n <= 0)
        return NULL;
    size_t lang = strcspn (locale, "-_");
    const s_wordlist_t *own = NULL;
    for (size_t k = 0; k < sizeof s_wordlists / sizeof s_wordlists[0]; k++)
        if (lang == strlen (s_wordlists[k].lang) && strncasecmp (locale, s_wordlists[k].lang, lang) == 0)
            own = &s_wordlists[k];
    const s_wordlist_t *list = own ? own : &s_wordlists[0];
    for (int w = 0; list->words[w]; w++)
        if (s_phrase_in (low, n, list->words[w]))
            return list->words[w];
    return NULL;
}

/* ---- rules from the drawing ------------------------------------------------ */

static void
s_text_rules (const proto_slide_t *spec, const text_result_t *t, bool bold, const char *what,
              lint_report_t *r)
{
    if (t->overflow)
        lint_add (r, "text_overflow", LINT_ERROR,
                  "The %s does not fit its area even at its minimum size of %.0f px; shorten it "
                  "or lower the minimum.", what, t->size);
    if (t->overflow)
        s_text_region (r, t);
    if (t->nmissing > 0) {
        char list[128] = "";
        size_t used = 0;
        for (int i = 0; i < t->nmissing && used + 12 < sizeof list; i++)
            used += (size_t) snprintf (list + used, sizeof list - used, "%sU+%04X",
                                       i ? ", " : "", (unsigned) t->missing[i]);
        lint_add (r, "missing_glyphs", LINT_ERROR,
                  "No installed font has %s in the %s; it is left out of the image.", list, what);
        s_text_region (r, t);
    }
    if (t->min_contrast < 21.0) {
        double w = spec->width;
        bool large = t->size >= w * (bold ? 0.035 : 0.045);
        if (t->min_contrast < 3.0)
            lint_add (r, "text_contrast", LINT_ERROR,
                      "The %s has a contrast of %.2f:1 against what is behind it (WCAG needs "
                      "at least 3:1 for large text).", what, t->min_contrast);
        if (t->min_contrast < 3.0)
            s_text_region (r, t);
        else
        if (t->min_contrast < 4.5 && !large)
            lint_add (r, "text_contrast", LINT_WARNING,
                      "The %s has a contrast of %.2f:1 against what is behind it (WCAG AA needs "
                      "4.5:1 for text of this size).", what, t->min_contrast);
        if (t->min_contrast >= 3.0 && t->min_contrast < 4.5 && !large)
            s_text_region (r, t);
    }
}

void
lint_drawing (const proto_slide_t *spec, const lint_facts_t *facts, lint_report_t *r)
{
    const char *store = lint_store (spec);
    bool play = strcmp (store, "play") == 0, apple = strcmp (store, "appstore") == 0;
    if (facts->has_headline)
        s_text_rules (spec, &facts->headline, facts->headline_bold, "headline", r);
    if (facts->has_subtitle)
        s_text_rules (spec, &facts->subtitle, false, "subtitle", r);

    const device_frame_info_t *fi = &facts->frame;
    if (fi->drawn && fi->shot_scale > 1.0 + 1e-6)
        lint_add (r, "source_upscaled", LINT_WARNING,
                  "The screenshot is enlarged %.0f %% to fill the screen; send one at least "
                  "%dx%d pixels.", (fi->shot_scale - 1.0) * 100.0, fi->screen_w, fi->screen_h);
    if (fi->drawn && fi->shot_scale > 1.0 + 1e-6)
        lint_region (r, fi->screen_x, fi->screen_y, fi->screen_w, fi->screen_h);
    if (fi->drawn && fi->shot_scale > 0 && fi->aspect_diff > 0.01)
        lint_add (r, "screen_aspect_mismatch", LINT_WARNING,
                  "The screenshot's aspect ratio differs from the device screen's by %.1f %%; it "
                  "is %s.", fi->aspect_diff * 100.0,
                  strcmp (spec->fit, "cover") == 0 ? "cropped" : "letterboxed");
    if (fi->drawn && fi->shot_scale > 0 && fi->aspect_diff > 0.01)
        lint_region (r, fi->screen_x, fi->screen_y, fi->screen_w, fi->screen_h);
    const device_frame_t *fd = facts->frame_def;
    if (facts->frame_platform && ((play && strcmp (facts->frame_platform, "apple") == 0)
                              ||  (apple && strcmp (facts->frame_platform, "android") == 0))) {
        const char *what = fd ? fd->display : facts->frame_platform;
        const char *where = play ? "Google Play" : "App Store";
        lint_add (r, "platform_mismatch", LINT_WARNING,
                  "%s %s frame (\"%s\") on %s %s image; %s screenshots show %s devices.",
                  lint_a (what), what, fd ? fd->name : spec->device, lint_a (where), where, where,
                  play ? "Android" : "Apple");
    }
    const presets_canvas_t *p = presets_find (spec->preset);
    const char *form = presets_form_factor (p);
    if (fd && form && strcmp (form, "any") != 0 && strcmp (fd->form, "any") != 0
    &&  strcmp (form, fd->form) != 0)
        lint_add (r, "form_factor_mismatch", LINT_WARNING,
                  "%s %s frame (\"%s\") on %s %s image (%s): %s on %s preset; leave device unset "
                  "for \"%s\".", lint_a (fd->display), fd->display, fd->name, lint_a (p->display),
                  p->display, p->name, s_form_words (fd->form), s_form_words (form),
                  presets_default_device (p));
    if (facts->screen_blank)
        lint_add (r, "blank_screen", LINT_WARNING,
                  "The device screen is nearly one colour; is the screenshot missing or blank?");
    if (facts->screen_blank)
        lint_region (r, fi->screen_x, fi->screen_y, fi->screen_w, fi->screen_h);
    if (fi->drawn && fi->has_edge && facts->frame_contrast > 0 && facts->frame_contrast < 3.0)
        lint_add (r, "frame_contrast", LINT_INFO,
                  "The frame's edge has a contrast of %.2f:1 with the background; try the other "
                  "finish or a lighter background.", facts->frame_contrast);
    if (fi->drawn && fi->has_edge && facts->frame_contrast > 0 && facts->frame_contrast < 3.0)
        lint_region (r, fi->frame_x, fi->frame_y, fi->frame_w, fi->frame_h);
    if (play) {
        for (int i = 0; i < spec->nlines + spec->nsub; i++) {
            const char *t = i < spec->nlines ? spec->lines[i] : spec->sub[i - spec->nlines];
            const char *w = t ? s_banned_in (t, spec->locale) : NULL;
            if (w) {
                lint_add (r, "prohibited_copy", LINT_WARNING,
                          "Google Play does not allow \"%s\" (ranking, price or promotional "
                          "claims) in store graphics.", w);
                break;
            }
        }
    }
    if (spec->untranslated_of[0])
        lint_add (r, "untranslated_copy", LINT_WARNING,
                  "The %s headline is word for word the %s one; is it translated?",
                  spec->locale, spec->untranslated_of);
    if (spec->text_fallback)
        lint_add (r, "locale_fallback", LINT_WARNING,
                  "%s has no headline of its own; the \"default\" text was used.",
                  spec->locale[0] ? spec->locale : "This locale");
}

/* ---- rules from the encoded image ------------------------------------------- */

static uint32_t
s_be32 (const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/* PNG: alpha (colour type 4/6 or tRNS), bit depth, iCCP. */
static void
s_png_facts (const uint8_t *b, size_t len, bool *alpha, int *depth, bool *icc)
{
    *alpha = false, *depth = 8, *icc = false;
    if (len < 33)
        return;
    *depth = b[24];
    *alpha = b[25] == 4 || b[25] == 6;
    for (size_t off = 8; off + 12 <= len;) {
        uint32_t n = s_be32 (b + off);
        const uint8_t *type = b + off + 4;
        if (memcmp (type, "tRNS", 4) == 0)
            *alpha = true;
        if (memcmp (type, "iCCP", 4) == 0)
            *icc = true;
        if (memcmp (type, "IDAT", 4) == 0 || n > len)
            break;
        off += 12 + (size_t) n;
    }
}

/* JPEG: components and precision from the first SOF. */
static void
s_jpeg_facts (const uint8_t *b, size_t len, int *comps, int *depth)
{
    *comps = 3, *depth = 8;
    for (size_t off = 2; off + 9 < len;) {
        if (b[off] != 0xFF)
            return;
        uint8_t m = b[off + 1];
        size_t seg = ((size_t) b[off + 2] << 8) | b[off + 3];
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            *depth = b[off + 4];
            *comps = b[off + 9];
            return;
        }
        off += 2 + seg;
    }
}

void
lint_output (const proto_slide_t *spec, const char *format, const uint8_t *bytes, size_t len,
             lint_report_t *r)
{
    const presets_canvas_t *p = presets_find (spec->preset);
    const char *store = lint_store (spec);
    bool play = strcmp (store, "play") == 0, apple = strcmp (store, "appstore") == 0;
    image_source_kind_t kind;
    uint32_t w = 0, h = 0;
    if (image_source_probe (bytes, len, &kind, &w, &h) != 0) {
        lint_add (r, "format", LINT_ERROR, "The image is not a PNG, JPEG or WebP.");
        return;
    }
    int32_t iw = (int32_t) w, ih = (int32_t) h;
    if (p && !presets_size_ok (p, iw, ih))
        lint_add (r, "dimensions", LINT_ERROR, "%ux%u is not a size %s accepts (default %dx%d).",
                  w, h, p->name, p->sizes[0].width, p->sizes[0].height);
    else
    if (!p && apple && !presets_appstore_size_known (iw, ih))
        lint_add (r, "dimensions", LINT_ERROR, "%ux%u is not a size any App Store display class "
                  "accepts.", w, h);
    if (!spec->display_stated && !p
    &&  ((iw == 2048 && ih == 2732) || (iw == 2732 && ih == 2048)
     ||  (iw == 3840 && ih == 2160) || (iw == 2160 && ih == 3840)))
        lint_add (r, "display_type_ambiguous", LINT_WARNING,
                  "%ux%u fits more than one display class (%s); name a preset.", w, h,
                  iw == 2048 || ih == 2048 ? "iPad 13\" and iPad Pro 12.9\"" : "Apple TV and Vision Pro");
    if ((play || apple) && kind != IMAGE_SOURCE_PNG && kind != IMAGE_SOURCE_JPEG)
        lint_add (r, "format", LINT_ERROR, "%s takes PNG or JPEG screenshots, not %s.",
                  play ? "Google Play" : "The App Store", format);
    bool alpha = false, icc = false;
    int depth = 8, comps = 3;
    if (kind == IMAGE_SOURCE_PNG)
        s_png_facts (bytes, len, &alpha, &depth, &icc);
    else
    if (kind == IMAGE_SOURCE_JPEG)
        s_jpeg_facts (bytes, len, &comps, &depth);
    else
    if (kind == IMAGE_SOURCE_WEBP && len > 20 && memcmp (bytes + 12, "VP8X", 4) == 0)
        alpha = (bytes[20] & 0x10) != 0;
    if (alpha)
        lint_add (r, "alpha", LINT_ERROR, "The image has an alpha channel; stores reject "
                  "transparency.");
    if (depth != 8 || icc || comps != 3)
        lint_add (r, "color_space", LINT_WARNING, "The image is not plain 8-bit sRGB (%d-bit%s%s).",
                  depth, icc ? ", embedded ICC profile" : "",
                  comps == 4 ? ", CMYK" : comps == 1 ? ", greyscale" : "");
    bool feature = p && strcmp (p->name, "play.feature_graphic") == 0;
    if (feature && (iw != 1024 || ih != 500))
        lint_add (r, "feature_graphic", LINT_ERROR, "A feature graphic is exactly 1024x500, not "
                  "%ux%u.", w, h);
    if (play && !feature) {
        int32_t lo = iw < ih ? iw : ih, hi = iw < ih ? ih : iw;
        if (lo < 320 || hi > 3840 || hi > 2 * lo)
            lint_add (r, "play_dimensions", LINT_ERROR, "%ux%u breaks Google Play's rules: each "
                      "side 320 to 3840 pixels, the long side at most twice the short.", w, h);
    }
    int64_t cap = p && p->max_bytes ? p->max_bytes : play ? 8 * 1024 * 1024 : 0;
    if (play && cap && (int64_t) len > cap)
        lint_add (r, "play_file_size", LINT_ERROR, "The image is %zu bytes; Google Play takes at "
                  "most %lld.", len, (long long) cap);
}

char *
lint_to_json (const lint_report_t *r)
{
    json_t *arr = json_array ();
    if (!arr)
        return NULL;
    for (int i = 0; i < r->n; i++) {
        const lint_finding_t *f = &r->items[i];
        json_t *o = json_pack ("{s:s, s:s, s:s}", "rule", f->rule,
                               "severity", lint_severity_name (f->severity), "message", f->message);
        if (o && f->has_region)
            json_object_set_new (o, "region", json_pack ("{s:i, s:i, s:i, s:i}", "x", f->region_x,
                                 "y", f->region_y, "width", f->region_w, "height", f->region_h));
        json_array_append_new (arr, o);
    }
    char *text = json_dumps (arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    while (text && strlen (text) > EASEL_MAX_FINDINGS_BYTES && json_array_size (arr) > 0) {
        free (text);
        json_array_remove (arr, json_array_size (arr) - 1);
        text = json_dumps (arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    json_decref (arr);
    return text;
}
