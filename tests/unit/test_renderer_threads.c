/*  test_renderer_threads.c: a slide drawn on one thread and on several gives
    the same pixels. par_threads() is read once per process, so the test runs
    itself once per thread count (EASEL_RENDER_THREADS=1, 2, 3) with --dump
    FILE: the child draws a set of slides (the benchmark's 1320x2868 iPhone
    slide with a 1179x2556 screenshot, the same with "cover", an Android phone frame,
    a landscape iPad with a translucent screenshot, no screenshot at all) and
    writes every canvas pixel and the PNG's pixels to FILE; the parent
    compares the files byte for byte. A screenshot that does not decode fails
    the same way on every thread count (its canvas, made on the other thread,
    freed: AddressSanitizer's leak check sees it). */
#include "check.h"
#include "slide_render.h"

#include <gd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static slide_render_opts_t s_opts;

/* A w x h screenshot with bands, a gradient and noise, alpha when asked. */
static uint8_t *
s_make_shot (int w, int h, bool alpha, int *len)
{
    gdImagePtr im = gdImageCreateTrueColor (w, h);
    gdImageAlphaBlending (im, 0);
    gdImageSaveAlpha (im, alpha);
    uint32_t seed = 12345;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            seed = seed * 1103515245u + 12345u;
            int n = (int) (seed >> 27);
            int r = (x * 255 / w + n) & 0xFF, g = (y * 255 / h) & 0xFF, b = (y / 40 % 2) ? 0x30 : 0xC0;
            int a = alpha ? (x * 127 / w) : 0;
            im->tpixels[y][x] = gdTrueColorAlpha (r, g, b, a);
        }
    uint8_t *png = gdImagePngPtr (im, len);
    gdImageDestroy (im);
    return png;
}

static int
s_dump (const char *path)
{
    FILE *fp = fopen (path, "wb");
    if (!fp)
        return 1;
    int shot_len = 0, small_len = 0;
    uint8_t *shot = s_make_shot (1179, 2556, false, &shot_len);
    uint8_t *small = s_make_shot (900, 640, true, &small_len);
    static char l1[] = "Track every habit", l2[] = "Stay on your streak";
    proto_slide_t base = {
        .slide = 0, .width = 1320, .height = 2868,
        .bg_ncolors = 2, .bg_colors = {0x1E3C72, 0x6A11CB}, .bg_angle = 160,
        .nlines = 2, .lines = {l1, l2}, .text_color = 0xFFFFFF,
        .shot_data = shot, .shot_len = (size_t) shot_len,
        .device = "iphone", .format = "png", .preset = "appstore.iphone_6_9", .padding_pm = -1
    };
    proto_slide_t specs[5];
    for (int i = 0; i < 5; i++)
        specs[i] = base;
    snprintf (specs[1].fit, sizeof specs[1].fit, "cover");
    snprintf (specs[2].device, sizeof specs[2].device, "android_phone");
    specs[2].bg_ncolors = 1;
    specs[3].width = 2732, specs[3].height = 2048;
    snprintf (specs[3].device, sizeof specs[3].device, "ipad");
    specs[3].shot_data = small, specs[3].shot_len = (size_t) small_len;
    specs[4].shot_data = NULL, specs[4].shot_len = 0;
    int rc = 0;
    for (int i = 0; i < 5; i++) {
        render_error_t err;
        gdImagePtr im = slide_render_draw (&specs[i], &s_opts, NULL, &err);
        if (!im) {
            fprintf (stderr, "slide %d: %s %s\n", i, err.code, err.message);
            rc = 1;
            continue;
        }
        for (int y = 0; y < gdImageSY (im); y++)
            fwrite (im->tpixels[y], sizeof (int), (size_t) gdImageSX (im), fp);
        gdImageDestroy (im);
        uint8_t *png = NULL;
        size_t len = 0;
        if (slide_render (&specs[i], &s_opts, &png, &len, &err) != 0) {
            fprintf (stderr, "slide %d encode: %s %s\n", i, err.code, err.message);
            rc = 1;
            continue;
        }
        gdImagePtr back = gdImageCreateFromPngPtr ((int) len, png);
        if (!back)
            rc = 1;
        for (int y = 0; back && y < gdImageSY (back); y++)
            fwrite (back->tpixels[y], sizeof (int), (size_t) gdImageSX (back), fp);
        if (back)
            gdImageDestroy (back);
        free (png);
    }
    /* a screenshot that does not decode: the same error, no canvas left behind */
    static uint8_t junk[64] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    proto_slide_t bad = base;
    bad.shot_data = junk, bad.shot_len = sizeof junk;
    render_error_t err;
    gdImagePtr im = slide_render_draw (&bad, &s_opts, NULL, &err);
    fprintf (fp, "bad: %s %s\n", im ? "drawn" : err.code, err.param);
    if (im)
        gdImageDestroy (im);
    gdFree (shot);
    gdFree (small);
    return fclose (fp) == 0 ? rc : 1;
}

static uint8_t *
s_read (const char *path, size_t *len)
{
    *len = 0;
    FILE *fp = fopen (path, "rb");
    if (!fp)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? 2 * cap : 1 << 20;
            uint8_t *t = realloc (buf, cap);
            if (!t)
                break;
            buf = t;
        }
        size_t n = fread (buf + *len, 1, cap - *len, fp);
        if (n == 0)
            break;
        *len += n;
    }
    fclose (fp);
    return buf;
}

/* Runs this program with EASEL_RENDER_THREADS=threads --dump path; 0 when it exited 0. */
static int
s_child (const char *self, int threads, const char *path)
{
    char env_threads[64];
    snprintf (env_threads, sizeof env_threads, "EASEL_RENDER_THREADS=%d", threads);
    int n = 0;
    while (environ[n])
        n++;
    char **env = calloc ((size_t) n + 2, sizeof *env);
    if (!env)
        return -1;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (strncmp (environ[i], "EASEL_RENDER_THREADS=", 21) != 0)
            env[k++] = environ[i];
    env[k++] = env_threads;
    char *argv[] = { (char *) self, (char *) "--dump", (char *) path, NULL };
    pid_t pid;
    int rc = posix_spawn (&pid, self, NULL, NULL, argv, env);
    free (env);
    if (rc != 0)
        return -1;
    int status = 0;
    if (waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}

int
main (int argc, char **argv)
{
    const char *font = getenv ("EASEL_FONT");
    s_opts.font_path = font && *font ? font : "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    if (argc == 3 && strcmp (argv[1], "--dump") == 0) {
        gdFontCacheSetup ();
        int rc = s_dump (argv[2]);
        gdFontCacheShutdown ();
        return rc;
    }
    char dir[] = "/tmp/easel-test-threads-XXXXXX";
    CHECK (mkdtemp (dir) != NULL, "expected a temporary directory");
    static const int threads[] = { 1, 2, 3 };
    uint8_t *ref = NULL;
    size_t ref_len = 0;
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++) {
        char path[128];
        snprintf (path, sizeof path, "%s/t%d", dir, threads[i]);
        CHECK (s_child (argv[0], threads[i], path) == 0,
               "expected the slides to draw with EASEL_RENDER_THREADS=%d", threads[i]);
        size_t len = 0;
        uint8_t *got = s_read (path, &len);
        unlink (path);
        CHECK (got && len > (size_t) 1320 * 2868 * 4, "expected the pixels of %d threads (%zu bytes)",
               threads[i], len);
        CHECK (!got || memmem (got, len, "bad: screenshot_invalid slides[0].screenshot.data", 49),
               "expected the undecodable screenshot to fail as screenshot_invalid with %d threads",
               threads[i]);
        if (i == 0) {
            ref = got, ref_len = len;
            continue;
        }
        if (got && ref) {
            size_t at = 0;
            while (at < len && at < ref_len && got[at] == ref[at])
                at++;
            CHECK (len == ref_len && at == len, "expected %d threads to give the one-thread pixels "
                   "(%zu vs %zu bytes, first difference at byte %zu)", threads[i], len, ref_len, at);
        }
        free (got);
    }
    free (ref);
    rmdir (dir);
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("renderer_threads: all checks passed\n");
    return 0;
}
