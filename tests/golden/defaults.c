/*  defaults.c: easel-goldens, the golden images of Easel's default look.

    One image per preset family, made the way a user's first render is: a
    POST /v1/renders body with a preset, one headline and a screenshot and
    no other option (no device, finish, background, layout or text style),
    validated and expanded by the gateway's own code (render_request.c) and
    drawn by the renderer's (slide_render.c). The screenshot is a synthetic
    app screen drawn here at the family's device pixel size. Each image is
    reduced to fit GOLDEN_SIDE px (so the set stays small and a viewer sees
    the whole composition) and written as <family>.png.

      easel-goldens write DIR          renders the set into DIR (docs/images/defaults)
      easel-goldens check DIR OUTDIR   renders again and compares with DIR: a pixel
                                       counts as changed when a channel moved by more
                                       than GOLDEN_PIXEL_TOL; a family fails when more
                                       than GOLDEN_CHANGED_PM per mille changed. Failing
                                       families are named, their new image is written
                                       to OUTDIR; exit 1
      easel-goldens compose BEFORE AFTER OUT.png
                                       the before/after sheet of docs/look.md (the
                                       families in s_compare, BEFORE above AFTER)

    Every run also prints each family's lint findings (rule names), so a
    change of look that trips a lint rule shows up in the log.

    Single threaded. Exit 0 ok, 1 a difference or failure, 2 usage. */
#include "proto.h"
#include "render_request.h"
#include "resample.h"
#include "slide_render.h"
#include "text_layout.h"

#include <gd.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_SIDE        640      /* px, the longer side of a stored image */
#define GOLDEN_PIXEL_TOL   24       /* levels a channel may move */
#define GOLDEN_CHANGED_PM  5        /* per mille of pixels that may move more */
#define GOLDEN_FONT        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

typedef struct {
    const char *family;            /* file name */
    const char *preset;
    const char *locale;
    const char *headline;
    int shot_w, shot_h;            /* the device's screen in pixels */
} s_family_t;

static const s_family_t s_families[] = {
    { "iphone", "appstore.iphone_6_9", "en-US", "Track every habit in one place", 1320, 2868 },
    { "ipad", "appstore.ipad_13", "de-DE", "Jede Gewohnheit im Blick", 2064, 2752 },
    { "mac", "appstore.mac", "en-US", "Your habits on every screen", 2880, 1800 },
    { "watch", "appstore.watch_ultra", "en-US", "Streaks at a glance", 410, 502 },
    { "appletv", "appstore.tv", "en-US", "Habits on the big screen", 3840, 2160 },
    { "play_phone", "play.phone", "en-US", "Track every habit in one place", 1236, 2745 },
    { "play_tablet", "play.tablet_10", "ar-SA",
      "\xD8\xAA\xD8\xA7\xD8\xA8\xD8\xB9 \xD9\x83\xD9\x84 \xD8\xB9\xD8\xA7\xD8\xAF\xD8\xA9 \xD9\x81\xD9\x8A "
      "\xD9\x85\xD9\x83\xD8\xA7\xD9\x86 \xD9\x88\xD8\xA7\xD8\xAD\xD8\xAF", 1600, 2560 },
    { "play_chromebook", "play.chromebook", "en-US", "Plan the week ahead", 1920, 1080 },
    { "play_wear", "play.wear", "en-US", "Streaks at a glance", 384, 384 },
    { "play_feature", "play.feature_graphic", "en-US", "Habits, simply", 1024, 500 },
};

#define S_NFAMILIES ((int) (sizeof s_families / sizeof s_families[0]))

/* The families of the before/after sheet (the ones whose default changed most). */
static const char *const s_compare[] = { "iphone", "ipad", "play_phone", "play_tablet", NULL };

/* ---- the screenshot ------------------------------------------------------------ */

static void
s_rrect (gdImagePtr im, int x, int y, int w, int h, int r, int color)
{
    gdImageFilledRectangle (im, x + r, y, x + w - 1 - r, y + h - 1, color);
    gdImageFilledRectangle (im, x, y + r, x + w - 1, y + h - 1 - r, color);
    gdImageFilledEllipse (im, x + r, y + r, 2 * r, 2 * r, color);
    gdImageFilledEllipse (im, x + w - 1 - r, y + r, 2 * r, 2 * r, color);
    gdImageFilledEllipse (im, x + r, y + h - 1 - r, 2 * r, 2 * r, color);
    gdImageFilledEllipse (im, x + w - 1 - r, y + h - 1 - r, 2 * r, 2 * r, color);
}

/* A habit tracker's home screen: a header, then cards with an icon, a title
   bar and a progress bar, in as many columns as the screen is wide. */
static gdImagePtr
s_shot (int w, int h)
{
    gdImagePtr im = gdImageCreateTrueColor (w, h);
    if (!im)
        return NULL;
    int u = (w < h ? w : h) / 24;              /* the grid unit */
    u = u < 4 ? 4 : u;
    gdImageFilledRectangle (im, 0, 0, w - 1, h - 1, gdTrueColor (0xF4, 0xF5, 0xFA));
    int head = h / 6 > 3 * u ? h / 6 : 3 * u;
    gdImageFilledRectangle (im, 0, 0, w - 1, head, gdTrueColor (0x3B, 0x5B, 0xDB));
    s_rrect (im, 2 * u, head - 3 * u, w / 2, u + u / 2, u / 2, gdTrueColor (0xFF, 0xFF, 0xFF));
    static const int accents[4][3] = { { 0x2E, 0xB6, 0x7D }, { 0xF5, 0x9E, 0x0B },
                                       { 0xE1, 0x4D, 0x6B }, { 0x7C, 0x5C, 0xF2 } };
    int cols = w > h * 1.2 ? 3 : 1;
    int cw = (w - (cols + 1) * 2 * u) / cols, ch = 5 * u;
    int k = 0;
    for (int y = head + 2 * u; y + ch < h - u; y += ch + 2 * u)
        for (int c = 0; c < cols; c++, k++) {
            int x = 2 * u + c * (cw + 2 * u);
            const int *a = accents[k % 4];
            s_rrect (im, x, y, cw, ch, u, gdTrueColor (0xFF, 0xFF, 0xFF));
            gdImageFilledEllipse (im, x + 2 * u + u / 2, y + ch / 2, 3 * u, 3 * u,
                                  gdTrueColor (a[0], a[1], a[2]));
            s_rrect (im, x + 5 * u, y + u + u / 2, cw / 2, u, u / 2, gdTrueColor (0x2A, 0x2E, 0x3A));
            s_rrect (im, x + 5 * u, y + 3 * u, cw - 7 * u, u / 2 + 1, u / 4, gdTrueColor (0xE3, 0xE6, 0xEE));
            s_rrect (im, x + 5 * u, y + 3 * u, (cw - 7 * u) * (3 + k % 5) / 8, u / 2 + 1, u / 4,
                     gdTrueColor (a[0], a[1], a[2]));
        }
    return im;
}

/* ---- one family ---------------------------------------------------------------- */

/* The family's image as the default render makes it, reduced to GOLDEN_SIDE;
   its lint findings printed. NULL with a message on stderr. */
static gdImagePtr
s_render (const s_family_t *f)
{
    gdImagePtr shot = s_shot (f->shot_w, f->shot_h);
    int png_len = 0;
    uint8_t *png = shot ? gdImagePngPtr (shot, &png_len) : NULL;
    if (shot)
        gdImageDestroy (shot);
    size_t b64_len = sodium_base64_encoded_len ((size_t) png_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = png ? malloc (b64_len) : NULL;
    if (!b64) {
        gdFree (png);
        fprintf (stderr, "%s: out of memory\n", f->family);
        return NULL;
    }
    sodium_bin2base64 (b64, b64_len, png, (size_t) png_len, sodium_base64_VARIANT_ORIGINAL);
    gdFree (png);
    json_t *body = json_pack ("{s:{s:s}, s:{s:[s]}, s:[{s:{s:[s]}, s:{s:s}}]}",
                              "canvas", "preset", f->preset, "matrix", "locales", f->locale,
                              "slides", "headline", "lines", f->headline, "screenshot", "data", b64);
    free (b64);
    char *text = body ? json_dumps (body, JSON_COMPACT) : NULL;
    json_decref (body);
    proto_create_render_t cr;
    api_error_t e;
    bool made = text != NULL;
    int rc = made ? render_request_parse (text, strlen (text), &cr, &e) : -1;
    free (text);
    if (rc != 0) {
        fprintf (stderr, "%s: the request is refused: %s\n", f->family, made ? e.message : "out of memory");
        return NULL;
    }
    proto_slide_t spec;
    char err[PROTO_ERR_MAX];
    gdImagePtr out = NULL;
    if (cr.ntasks != 1 || proto_slide_decode (cr.tasks[0].spec, cr.tasks[0].spec_len, &spec, err) != 0) {
        fprintf (stderr, "%s: the task spec does not decode\n", f->family);
        proto_create_render_free (&cr);
        return NULL;
    }
    /* An inline screenshot travels once per render, as a blob the spec names
       (the scheduler attaches it to the task); borrow it as the renderer does. */
    bool borrowed = false;
    if (spec.shot_sha256[0]) {
        for (int i = 0; i < cr.nblobs; i++)
            if (strcmp (cr.blobs[i].sha256, spec.shot_sha256) == 0) {
                spec.shot_data = cr.blobs[i].data;
                spec.shot_len = cr.blobs[i].len;
                borrowed = true;
            }
        if (!borrowed)
            fprintf (stderr, "%s: the spec names a blob the request does not carry\n", f->family);
    }
    slide_render_opts_t opts = { .font_path = GOLDEN_FONT };
    lint_report_t lint;
    render_error_t why;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (slide_render_lint (&spec, &opts, &bytes, &len, &lint, &why) != 0)
        fprintf (stderr, "%s: the render failed: %s\n", f->family, why.message);
    else {
        printf ("%-16s %-22s %s finish %-6s lint:", f->family, f->preset, spec.device,
                spec.finish[0] ? spec.finish : "-");
        for (int i = 0; i < lint.n; i++)
            printf (" %s", lint.items[i].rule);
        printf ("%s\n", lint.n ? "" : " clean");
        gdImagePtr full = gdImageCreateFromPngPtr ((int) len, bytes);
        if (full) {
            int W = gdImageSX (full), H = gdImageSY (full);
            double k = (double) GOLDEN_SIDE / (W > H ? W : H);
            int tw = (int) (W * k + 0.5), th = (int) (H * k + 0.5);
            out = resample_image (full, tw < 1 ? 1 : tw, th < 1 ? 1 : th);
            gdImageDestroy (full);
        }
        if (!out)
            fprintf (stderr, "%s: cannot reduce the image\n", f->family);
    }
    free (bytes);
    if (borrowed) {                     /* the request owns the bytes */
        spec.shot_data = NULL;
        spec.shot_len = 0;
    }
    proto_slide_free (&spec);
    proto_create_render_free (&cr);
    return out;
}

static int
s_save (gdImagePtr im, const char *dir, const char *name)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s.png", dir, name);
    FILE *fp = fopen (path, "wb");
    if (!fp) {
        fprintf (stderr, "cannot write %s\n", path);
        return -1;
    }
    gdImagePng (im, fp);
    fclose (fp);
    return 0;
}

static gdImagePtr
s_load (const char *dir, const char *name)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s.png", dir, name);
    FILE *fp = fopen (path, "rb");
    if (!fp)
        return NULL;
    gdImagePtr im = gdImageCreateFromPng (fp);
    fclose (fp);
    if (im && !gdImageTrueColor (im))
        gdImagePaletteToTrueColor (im);
    return im;
}

/* Per mille of pixels whose channels moved more than GOLDEN_PIXEL_TOL; 1000
   when the sizes differ. */
static int
s_changed_pm (gdImagePtr a, gdImagePtr b)
{
    if (gdImageSX (a) != gdImageSX (b) || gdImageSY (a) != gdImageSY (b))
        return 1000;
    long changed = 0, total = (long) gdImageSX (a) * gdImageSY (a);
    for (int y = 0; y < gdImageSY (a); y++)
        for (int x = 0; x < gdImageSX (a); x++) {
            int p = a->tpixels[y][x], q = b->tpixels[y][x];
            for (int s = 0; s < 24; s += 8) {
                int d = ((p >> s) & 0xFF) - ((q >> s) & 0xFF);
                if (d > GOLDEN_PIXEL_TOL || d < -GOLDEN_PIXEL_TOL) {
                    changed++;
                    break;
                }
            }
        }
    return (int) ((changed * 1000 + total - 1) / total);
}

/* ---- the before/after sheet ------------------------------------------------------ */

#define S_CELL_H 520
#define S_GAP    24
#define S_LABEL  56

static int
s_compose (const char *before, const char *after, const char *out)
{
    gdImagePtr cells[2][8] = { { NULL } };
    int n = 0, width = S_GAP + S_LABEL * 3;
    for (; s_compare[n]; n++) {
        for (int r = 0; r < 2; r++) {
            gdImagePtr im = s_load (r ? after : before, s_compare[n]);
            if (!im) {
                fprintf (stderr, "compose: %s/%s.png is missing\n", r ? after : before, s_compare[n]);
                return 1;
            }
            int tw = gdImageSX (im) * S_CELL_H / gdImageSY (im);
            cells[r][n] = resample_image (im, tw, S_CELL_H);
            gdImageDestroy (im);
            if (!cells[r][n])
                return 1;
        }
        width += gdImageSX (cells[1][n]) + S_GAP;
    }
    int height = S_GAP + 2 * (S_CELL_H + S_GAP);
    gdImagePtr sheet = gdImageCreateTrueColor (width, height);
    gdImageFilledRectangle (sheet, 0, 0, width - 1, height - 1, gdTrueColor (0xFF, 0xFF, 0xFF));
    static const char *const labels[2] = { "before", "after" };
    for (int r = 0; r < 2; r++) {
        int y = S_GAP + r * (S_CELL_H + S_GAP), x = S_GAP + S_LABEL * 3;
        int brect[8];
        gdImageStringFT (sheet, brect, gdTrueColor (0x33, 0x33, 0x33), (char *) GOLDEN_FONT, 22, 0,
                         S_GAP, y + S_CELL_H / 2, (char *) labels[r]);
        for (int i = 0; i < n; i++) {
            gdImageCopy (sheet, cells[r][i], x, y, 0, 0, gdImageSX (cells[r][i]), S_CELL_H);
            x += gdImageSX (cells[1][i]) + S_GAP;
            gdImageDestroy (cells[r][i]);
        }
    }
    FILE *fp = fopen (out, "wb");
    if (!fp) {
        fprintf (stderr, "cannot write %s\n", out);
        gdImageDestroy (sheet);
        return 1;
    }
    gdImagePng (sheet, fp);
    fclose (fp);
    gdImageDestroy (sheet);
    return 0;
}

int
main (int argc, char **argv)
{
    bool write = argc == 3 && strcmp (argv[1], "write") == 0;
    bool check = argc == 4 && strcmp (argv[1], "check") == 0;
    if (argc == 5 && strcmp (argv[1], "compose") == 0)
        return s_compose (argv[2], argv[3], argv[4]);
    if ((!write && !check) || sodium_init () < 0) {
        fprintf (stderr, "usage: easel-goldens write DIR | check DIR OUTDIR | compose BEFORE AFTER OUT.png\n");
        return 2;
    }
    int failed = 0;
    for (int i = 0; i < S_NFAMILIES; i++) {
        const s_family_t *f = &s_families[i];
        gdImagePtr im = s_render (f);
        if (!im) {
            failed++;
            continue;
        }
        if (write)
            failed += s_save (im, argv[2], f->family) != 0;
        else {
            gdImagePtr want = s_load (argv[2], f->family);
            int pm = want ? s_changed_pm (im, want) : 1000;
            if (pm > GOLDEN_CHANGED_PM) {
                failed++;
                fprintf (stderr, "golden %s (%s): %d per mille of pixels changed (at most %d); the new "
                         "image is %s/%s.png, the golden %s/%s.png\n", f->family, f->preset, pm,
                         GOLDEN_CHANGED_PM, argv[3], f->family, argv[2], f->family);
                s_save (im, argv[3], f->family);
            }
            if (want)
                gdImageDestroy (want);
        }
        gdImageDestroy (im);
    }
    text_layout_thread_end ();
    if (failed)
        fprintf (stderr, "%d of %d golden images %s\n", failed, S_NFAMILIES,
                 write ? "could not be written" : "differ; after a deliberate change of look run "
                 "`easel-goldens write docs/images/defaults` and look at every image");
    return failed ? 1 : 0;
}
