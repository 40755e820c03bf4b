/*  bench_render.c: Easel's renderer on the benchmark slide, on one core.

    The slide: 1320x2868 (appstore.iphone_6_9), a two-stop vertical gradient,
    two headline lines, a 1179x2556 screenshot resampled into the iPhone bezel,
    PNG. The same picture is built by bench/peers/slide_imagemagick.sh and
    bench/peers/slide_vips.sh, so bench/render.py can compare whole processes.

      bench_render --make-shot FILE     writes the 1179x2556 screenshot (PNG)
      bench_render --shot FILE [--iterations N] [--out FILE] [--font TTF]
          renders N times (default 1, cap 1000) in this process and prints one
          JSON object: per-phase CPU medians (draw, encode), Easel's PNG size,
          the size libpng gives the same pixels at level 6 with its default
          (adaptive) filters, and peak RSS. --service-only runs slide_render()
          alone (the whole-process comparison with the peers); --out writes
          the first slide_render() output; --png-levels prints png_write's
          CPU and size at each libdeflate level 1..12 (stderr).

    Thread: one (the main thread). Memory: everything freed before exit.
    Bench-only: built with -DEASEL_BENCH=ON, never run by ctest or CI. */
#include "encode.h"
#include "par.h"
#include "png_write.h"
#include "slide_render.h"

#include <errno.h>
#include <gd.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define S_MAX_ITERATIONS 1000
#define S_MAX_SHOT_BYTES (64 * 1024 * 1024)
#define S_SHOT_W 1179
#define S_SHOT_H 2556
#define S_DEFAULT_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

static double
s_cpu_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
s_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static double
s_median (double *v, int n)
{
    qsort (v, (size_t) n, sizeof *v, s_cmp_double);
    return n % 2 ? v [n / 2] : (v [n / 2 - 1] + v [n / 2]) / 2;
}

/* A plausible app screen: status bar, header, a list of cards with text and
   coloured thumbnails, a tab bar. Deterministic. */
static int
s_make_shot (const char *path, const char *font)
{
    gdImagePtr im = gdImageCreateTrueColor (S_SHOT_W, S_SHOT_H);
    if (!im)
        return -1;
    gdImageFilledRectangle (im, 0, 0, S_SHOT_W - 1, S_SHOT_H - 1, gdTrueColor (246, 246, 250));
    gdImageFilledRectangle (im, 0, 0, S_SHOT_W - 1, 420, gdTrueColor (88, 86, 214));
    char *e = gdImageStringFT (im, NULL, gdTrueColor (255, 255, 255), (char *) font, 64, 0, 60, 330,
                               "Today");
    if (e)
        fprintf (stderr, "bench_render: font: %s\n", e);
    unsigned seed = 12345;
    for (int i = 0; i < 9; i++) {
        int y = 470 + i * 215;
        gdImageFilledRectangle (im, 40, y, S_SHOT_W - 41, y + 190, gdTrueColor (255, 255, 255));
        seed = seed * 1103515245u + 12345u;
        int c = gdTrueColor (40 + (int) (seed >> 16) % 200, 80 + (int) (seed >> 8) % 150, 120 + (int) seed % 120);
        gdImageFilledEllipse (im, 140, y + 95, 130, 130, c);
        char line [64];
        snprintf (line, sizeof line, "Habit %d: walk %d minutes", i + 1, 10 + i * 5);
        gdImageStringFT (im, NULL, gdTrueColor (28, 28, 30), (char *) font, 40, 0, 240, y + 85, line);
        gdImageStringFT (im, NULL, gdTrueColor (120, 120, 128), (char *) font, 28, 0, 240, y + 145,
                         "Streak: 12 days  -  goal met");
        /* a progress bar with a soft gradient */
        for (int x = 240; x < S_SHOT_W - 100; x++) {
            int t = (x - 240) * 255 / (S_SHOT_W - 340);
            gdImageLine (im, x, y + 165, x, y + 175, gdTrueColor (t, 200 - t / 2, 255 - t));
        }
    }
    gdImageFilledRectangle (im, 0, S_SHOT_H - 220, S_SHOT_W - 1, S_SHOT_H - 1, gdTrueColor (255, 255, 255));
    for (int i = 0; i < 4; i++)
        gdImageFilledEllipse (im, 150 + i * 290, S_SHOT_H - 120, 90, 90, gdTrueColor (150, 150, 160));
    FILE *f = fopen (path, "wb");
    if (!f) {
        gdImageDestroy (im);
        return -1;
    }
    gdImagePngEx (im, f, 6);
    int rc = fclose (f) == 0 ? 0 : -1;
    gdImageDestroy (im);
    return rc;
}

static int
s_read_file (const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = malloc (S_MAX_SHOT_BYTES);
    size_t n = buf ? fread (buf, 1, S_MAX_SHOT_BYTES, f) : 0;
    int over = buf && n == S_MAX_SHOT_BYTES;
    fclose (f);
    if (!buf || n == 0 || over) {
        free (buf);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* libpng with its defaults (level 6, adaptive filters) over the same RGB
   pixels: the reference size. Counts bytes only. */
static void
s_count (png_structp png, png_bytep bytes, png_size_t n)
{
    (void) bytes;
    *(size_t *) png_get_io_ptr (png) += n;
}

static void
s_noflush (png_structp png) { (void) png; }

static int
s_level6_size (gdImagePtr im, size_t *size)
{
    int w = gdImageSX (im), h = gdImageSY (im);
    png_bytep row = malloc ((size_t) w * 3);
    png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    *size = 0;
    if (!row || !png || !info || setjmp (png_jmpbuf (png))) {
        png_destroy_write_struct (&png, &info);
        free (row);
        return -1;
    }
    png_set_write_fn (png, size, s_count, s_noflush);
    png_set_IHDR (png, info, (png_uint_32) w, (png_uint_32) h, 8, PNG_COLOR_TYPE_RGB,
                  PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level (png, 6);
    png_write_info (png, info);
    for (int y = 0; y < h; y++) {
        const int *src = im->tpixels [y];
        for (int x = 0; x < w; x++) {
            row [3 * x] = (png_byte) ((src [x] >> 16) & 0xFF);
            row [3 * x + 1] = (png_byte) ((src [x] >> 8) & 0xFF);
            row [3 * x + 2] = (png_byte) (src [x] & 0xFF);
        }
        png_write_row (png, row);
    }
    png_write_end (png, info);
    png_destroy_write_struct (&png, &info);
    free (row);
    return 0;
}

/* png_write at every level over the same pixels: CPU (median of reps) and
   bytes per level, for choosing PNG_WRITE_LEVEL. Printed to stderr. */
static void
s_level_sweep (gdImagePtr im, size_t level6, int reps)
{
    for (int level = 1; level <= 12; level++) {
        double ms[16];
        size_t len = 0;
        int n = reps < 16 ? reps : 16;
        for (int r = 0; r < n; r++) {
            uint8_t *png = NULL;
            char why [128];
            double t0 = s_cpu_ms ();
            if (png_write (im, level, 1, EASEL_MAX_MSG_BYTES, &png, &len, why, sizeof why)) {
                fprintf (stderr, "bench_render: png_write level %d: %s\n", level, why);
                return;
            }
            ms [r] = s_cpu_ms () - t0;
            free (png);
        }
        fprintf (stderr, "{\"png_write_level\": %d, \"cpu_ms\": %.1f, \"bytes\": %zu, "
                 "\"ratio_to_level6\": %.3f}\n", level, s_median (ms, n), len,
                 level6 ? (double) len / (double) level6 : 0.0);
    }
}

/* png_write on 1..4 threads over the same pixels: CPU and wall (medians of
   reps) and bytes, the parallel PNG path (parts of PNG_WRITE_PART_BYTES) against the one-call path. */
static void
s_parts_sweep (gdImagePtr im, size_t level6, int reps)
{
    for (int parts = 1; parts <= 4; parts++) {
        double cpu[16], wall[16];
        size_t len = 0;
        int n = reps < 16 ? reps : 16;
        for (int r = 0; r < n; r++) {
            uint8_t *png = NULL;
            char why [128];
            double c0 = s_cpu_ms (), w0 = s_wall_ms ();
            if (png_write (im, PNG_WRITE_LEVEL, parts, EASEL_MAX_MSG_BYTES, &png, &len, why, sizeof why)) {
                fprintf (stderr, "bench_render: png_write on %d threads: %s\n", parts, why);
                return;
            }
            cpu [r] = s_cpu_ms () - c0;
            wall [r] = s_wall_ms () - w0;
            free (png);
        }
        fprintf (stderr, "{\"png_write_threads\": %d, \"cpu_ms\": %.1f, \"wall_ms\": %.1f, \"bytes\": %zu, "
                 "\"ratio_to_level6\": %.3f}\n", parts, s_median (cpu, n), s_median (wall, n), len,
                 level6 ? (double) len / (double) level6 : 0.0);
    }
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: bench_render --make-shot FILE\n"
                     "       bench_render --shot FILE [--iterations N] [--out FILE] [--font TTF]\n"
                     "                    [--service-only] [--png-levels] [--png-parts]\n");
}

int
main (int argc, char **argv)
{
    const char *shot_path = NULL, *out_path = NULL, *make_shot = NULL;
    const char *font = getenv ("EASEL_FONT") ? getenv ("EASEL_FONT") : S_DEFAULT_FONT;
    long iterations = 1;
    bool service_only = false, png_levels = false, png_parts = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv [i];
        if (!strcmp (a, "--service-only")) {
            service_only = true;
            continue;
        }
        if (!strcmp (a, "--png-levels")) {
            png_levels = true;
            continue;
        }
        if (!strcmp (a, "--png-parts")) {
            png_parts = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv [i + 1] : NULL;
        if (!v) {
            s_usage ();
            return 2;
        }
        i++;
        if (!strcmp (a, "--make-shot"))
            make_shot = v;
        else
        if (!strcmp (a, "--shot"))
            shot_path = v;
        else
        if (!strcmp (a, "--out"))
            out_path = v;
        else
        if (!strcmp (a, "--font"))
            font = v;
        else
        if (!strcmp (a, "--iterations")) {
            char *end;
            errno = 0;
            iterations = strtol (v, &end, 10);
            if (errno || *end || iterations < 1 || iterations > S_MAX_ITERATIONS) {
                fprintf (stderr, "bench_render: --iterations must be 1..%d\n", S_MAX_ITERATIONS);
                return 2;
            }
        }
        else {
            s_usage ();
            return 2;
        }
    }
    if (gdFontCacheSetup () != 0) {
        fprintf (stderr, "bench_render: gdFontCacheSetup failed\n");
        return 1;
    }
    if (make_shot) {
        int rc = s_make_shot (make_shot, font);
        gdFontCacheShutdown ();
        if (rc)
            fprintf (stderr, "bench_render: cannot write %s\n", make_shot);
        return rc ? 1 : 0;
    }
    if (!shot_path) {
        s_usage ();
        return 2;
    }
    proto_slide_t spec;
    memset (&spec, 0, sizeof spec);
    snprintf (spec.preset, sizeof spec.preset, "appstore.iphone_6_9");
    spec.width = 1320;
    spec.height = 2868;
    spec.bg_ncolors = 2;
    spec.bg_colors [0] = 0x1E3A8A;
    spec.bg_colors [1] = 0x0F172A;
    spec.bg_angle = 180;
    spec.nlines = 2;
    spec.lines [0] = "Track every habit";
    spec.lines [1] = "in one calm place";
    spec.text_color = 0xFFFFFF;
    spec.padding_pm = -1;
    snprintf (spec.device, sizeof spec.device, "iphone");
    snprintf (spec.format, sizeof spec.format, "png");
    if (s_read_file (shot_path, &spec.shot_data, &spec.shot_len)) {
        fprintf (stderr, "bench_render: cannot read %s\n", shot_path);
        return 1;
    }
    slide_render_opts_t opts = { .font_path = font };
    double *draw_ms = calloc ((size_t) iterations, sizeof (double));
    double *encode_ms = calloc ((size_t) iterations, sizeof (double));
    double *total_ms = calloc ((size_t) iterations, sizeof (double));
    double *service_ms = calloc ((size_t) iterations, sizeof (double));
    double *service_wall = calloc ((size_t) iterations, sizeof (double));
    size_t png_len = 0, level6 = 0, service_len = 0;
    int rc = draw_ms && encode_ms && total_ms && service_ms && service_wall ? 0 : 1;
    for (long i = 0; rc == 0 && i < iterations; i++) {
        render_error_t err;
        /* the whole pipeline as the service runs it (draw, encode, lint) */
        double ta = s_cpu_ms (), wa = s_wall_ms ();
        uint8_t *whole = NULL;
        size_t whole_len = 0;
        if (slide_render (&spec, &opts, &whole, &whole_len, &err)) {
            fprintf (stderr, "bench_render: %s: %s\n", err.code, err.message);
            rc = 1;
            break;
        }
        service_ms [i] = s_cpu_ms () - ta;
        service_wall [i] = s_wall_ms () - wa;
        service_len = whole_len;
        if (i == 0 && out_path) {
            FILE *f = fopen (out_path, "wb");
            if (!f || fwrite (whole, 1, whole_len, f) != whole_len) {
                fprintf (stderr, "bench_render: cannot write %s\n", out_path);
                rc = 1;
            }
            if (f)
                fclose (f);
        }
        free (whole);
        if (service_only) {
            draw_ms [i] = encode_ms [i] = total_ms [i] = 0;
            continue;
        }
        /* the phases, for the breakdown */
        double t0 = s_cpu_ms ();
        gdImagePtr im = slide_render_draw (&spec, &opts, NULL, &err);
        double t1 = s_cpu_ms ();
        if (!im) {
            fprintf (stderr, "bench_render: %s: %s\n", err.code, err.message);
            rc = 1;
            break;
        }
        uint8_t *png = NULL;
        char why [128];
        if (encode_png (im, EASEL_MAX_MSG_BYTES, &png, &png_len, why, sizeof why)) {
            fprintf (stderr, "bench_render: encode: %s\n", why);
            gdImageDestroy (im);
            rc = 1;
            break;
        }
        double t2 = s_cpu_ms ();
        draw_ms [i] = t1 - t0;
        encode_ms [i] = t2 - t1;
        total_ms [i] = t2 - t0;
        if (i == 0 && s_level6_size (im, &level6))
            fprintf (stderr, "bench_render: level-6 reference failed\n");
        if (i == 0 && png_levels)
            s_level_sweep (im, level6, (int) iterations);
        if (i == 0 && png_parts)
            s_parts_sweep (im, level6, (int) iterations);
        free (png);
        gdImageDestroy (im);
    }
    if (rc == 0) {
        struct rusage ru;
        getrusage (RUSAGE_SELF, &ru);
        int n = (int) iterations;
        printf ("{\"iterations\": %d, \"draw_cpu_ms\": %.1f, \"encode_cpu_ms\": %.1f, "
                "\"draw_plus_encode_cpu_ms\": %.1f, \"slide_render_cpu_ms\": %.1f, "
                "\"slide_render_wall_ms\": %.1f, \"threads\": %d, "
                "\"png_bytes\": %zu, \"encode_png_bytes\": %zu, \"level6_png_bytes\": %zu, "
                "\"png_ratio_to_level6\": %.3f, \"peak_rss_kb\": %ld}\n",
                n, s_median (draw_ms, n), s_median (encode_ms, n), s_median (total_ms, n),
                s_median (service_ms, n), s_median (service_wall, n), par_threads (),
                service_len, png_len, level6,
                level6 ? (double) service_len / (double) level6 : 0.0, ru.ru_maxrss);
    }
    free (draw_ms);
    free (encode_ms);
    free (total_ms);
    free (service_ms);
    free (service_wall);
    free (spec.shot_data);
    gdFontCacheShutdown ();
    return rc;
}
