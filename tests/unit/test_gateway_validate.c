/*  test_gateway_validate.c: POST /v1/renders bodies -> task specs.
    Good bodies are expanded and their encoded specs decoded back and checked;
    bad bodies must fail with exactly the expected status, code and param. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "check.h"
#include "render_request.h"
#include "file_upload.h"
#include "presets.h"
#include "presets_json.h"

#define TINY_PNG_A "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP438EARAwQ"
#define TINY_PNG_B "CgAuzgYd627p8QAAAABJRU5ErkJggg=="
#define TINY_PNG TINY_PNG_A TINY_PNG_B
#define TINY_PNG_BYTES 73
/* a PNG whose header says 30000x30000 (its pixel data is not there) */
#define HUGE_PNG "iVBORw0KGgoAAAANSUhEUgAAdTAAAHUwCAIAAADpRW/tAAAAC0lEQVR4nGNggAEAAAoAAX+AdF4AAAAASUVORK5CYII="

/* Parses body, expecting success and `ntasks` images. */
static int
s_parse_ok (const char *name, const char *body, int ntasks, proto_create_render_t *cr)
{
    api_error_t e;
    if (render_request_parse (body, strlen (body), cr, &e)) {
        CHECK (0, "%s: expected success, got %d %s param=%s: %s", name, e.status, e.code, e.param,
               e.message);
        return -1;
    }
    CHECK (cr->ntasks == ntasks, "%s: expected %d tasks, got %d", name, ntasks, cr->ntasks);
    return cr->ntasks == ntasks ? 0 : -1;
}

static void
s_slide (const proto_create_render_t *cr, int i, proto_slide_t *sl)
{
    char err [PROTO_ERR_MAX];
    memset (sl, 0, sizeof *sl);
    int rc = proto_slide_decode (cr->tasks [i].spec, cr->tasks [i].spec_len, sl, err);
    CHECK (rc == 0, "task %d: spec must decode, got: %s", i, err);
}

static void
test_single_slide (void)
{
    proto_create_render_t cr;
    const char *body = "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},"
        "\"slides\":[{\"headline\":{\"lines\":[\"Track every habit\",\"in one place\"]},"
        "\"screenshot\":{\"url\":\"https://acme.app/home.png\"}}],"
        "\"metadata\":{\"release\":\"42\",\"a\":1},\"webhook_url\":\"https://ci.example.com/h\"}";
    if (s_parse_ok ("single", body, 1, &cr))
        return;
    CHECK (cr.sync, "single: no async means sync");
    CHECK (strcmp (cr.metadata_json, "{\"a\":1,\"release\":\"42\"}") == 0,
           "single: metadata compact with sorted keys, got %s", cr.metadata_json);
    CHECK (cr.webhook_url && strcmp (cr.webhook_url, "https://ci.example.com/h") == 0, "single: webhook_url");
    const proto_task_spec_t *t = &cr.tasks [0];
    CHECK (t->width == 1320 && t->height == 2868, "single: task size 1320x2868, got %dx%d", t->width, t->height);
    CHECK (strcmp (t->preset, "appstore.iphone_6_9") == 0 && strcmp (t->format, "png") == 0,
           "single: task preset/format");
    proto_slide_t sl;
    s_slide (&cr, 0, &sl);
    CHECK (sl.width == 1320 && sl.height == 2868, "single: spec size");
    CHECK (sl.nlines == 2 && strcmp (sl.lines [1], "in one place") == 0, "single: two lines");
    CHECK (sl.text_color == 0xFFFFFF, "single: default text colour #FFFFFF, got %06x", sl.text_color);
    const presets_background_t *mid = presets_background_find ("midnight");
    CHECK (sl.bg_ncolors == mid->ncolors && sl.bg_colors [0] == mid->colors [0],
           "single: default background midnight");
    CHECK (sl.shot_url && strcmp (sl.shot_url, "https://acme.app/home.png") == 0, "single: url");
    CHECK (strcmp (sl.device, "iphone") == 0 && strcmp (sl.format, "png") == 0, "single: defaults");
    CHECK (strcmp (sl.finish, "auto") == 0, "single: default finish auto, got %s", sl.finish);
    proto_slide_free (&sl);
    proto_create_render_free (&cr);
}

/* A slide without a device gets its preset's kind of device, per preset of a matrix. */
static void
test_default_device (void)
{
    proto_create_render_t cr;
    const char *body = "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},"
        "\"matrix\":{\"presets\":[\"appstore.iphone_6_9\",\"appstore.ipad_13\",\"play.phone\","
        "\"play.tablet_10\",\"appstore.iphone_5_5\",\"appstore.mac\",\"play.feature_graphic\"]},"
        "\"slides\":[{\"headline\":{\"lines\":[\"Track every habit\"]}}]}";
    static const char *want [] = { "iphone", "ipad", "android_phone", "android_tablet", "iphone_home",
                                   "mac", "none" };
    if (s_parse_ok ("default device", body, 7, &cr))
        return;
    for (int i = 0; i < 7; i++) {
        proto_slide_t sl;
        s_slide (&cr, i, &sl);
        CHECK (strcmp (sl.device, want [i]) == 0, "default device: %s gets %s, got %s", sl.preset,
               want [i], sl.device);
        proto_slide_free (&sl);
    }
    proto_create_render_free (&cr);
    body = "{\"canvas\":{\"preset\":\"appstore.ipad_13\"},\"layout\":{\"device\":\"iphone\","
           "\"finish\":\"black\"},\"slides\":[{\"headline\":{\"lines\":[\"Stated\"]}}]}";
    if (s_parse_ok ("stated device", body, 1, &cr))
        return;
    proto_slide_t sl;
    s_slide (&cr, 0, &sl);
    CHECK (strcmp (sl.device, "iphone") == 0 && strcmp (sl.finish, "black") == 0,
           "stated device: a device and finish given are kept (%s, %s)", sl.device, sl.finish);
    proto_slide_free (&sl);
    proto_create_render_free (&cr);
}

static void
test_matrix (void)
{
    proto_create_render_t cr;
    const char *body = "{\"async\":true,\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},"
        "\"matrix\":{\"locales\":[\"en-US\",\"de-DE\"],\"presets\":[\"appstore.iphone_6_9\",\"play.phone\"]},"
        "\"slides\":[{\"headline\":{\"lines\":{\"en-US\":[\"Hello\"],\"de-DE\":[\"Hallo\",\"Welt\"]},"
        "\"color\":\"#112233\"},\"screenshot\":{\"url\":\"https://acme.app/{locale}/{preset}.png\"}},"
        "{\"headline\":{\"lines\":[\"Same everywhere\"]},\"device\":\"none\"}]}";
    if (s_parse_ok ("matrix", body, 8, &cr))
        return;
    CHECK (!cr.sync, "matrix: async true");
    /* order: slide, locale, preset */
    const proto_task_spec_t *t = &cr.tasks [3];
    CHECK (t->slide == 0 && strcmp (t->locale, "de-DE") == 0 && strcmp (t->preset, "play.phone") == 0
           && t->width == 1080 && t->height == 1920,
           "matrix: task 3 is slide 0 de-DE play.phone 1080x1920, got %d %s %s %dx%d",
           t->slide, t->locale, t->preset, t->width, t->height);
    proto_slide_t sl;
    s_slide (&cr, 3, &sl);
    CHECK (sl.shot_url && strcmp (sl.shot_url, "https://acme.app/de-DE/play.phone.png") == 0,
           "matrix: {locale} and {preset} substituted, got %s", sl.shot_url ? sl.shot_url : "(null)");
    CHECK (sl.nlines == 2 && strcmp (sl.lines [0], "Hallo") == 0, "matrix: de-DE lines");
    CHECK (sl.text_color == 0x112233, "matrix: headline colour");
    proto_slide_free (&sl);
    s_slide (&cr, 4, &sl);
    CHECK (sl.slide == 1 && strcmp (sl.locale, "en-US") == 0 && sl.nlines == 1
           && strcmp (sl.device, "none") == 0 && !sl.shot_url,
           "matrix: task 4 is slide 1 en-US, shared lines, no screenshot");
    proto_slide_free (&sl);
    proto_create_render_free (&cr);
}

static void
test_gradient_custom_canvas_data (void)
{
    proto_create_render_t cr;
    /* TINY_PNG: a 2x2 RGB PNG (73 bytes); the gateway reads its header */
    const char *body = "{\"canvas\":{\"width\":800,\"height\":600},"
        "\"background\":{\"gradient\":{\"colors\":[\"#1e3c72\",\"#6A11CB\",\"#000000\"],\"angle\":90}},"
        "\"slides\":[{\"screenshot\":{\"data\":\"" TINY_PNG "\"}}]}";
    if (s_parse_ok ("gradient", body, 1, &cr))
        return;
    proto_slide_t sl;
    s_slide (&cr, 0, &sl);
    CHECK (sl.width == 800 && sl.height == 600 && sl.preset [0] == '\0', "gradient: custom canvas 800x600");
    CHECK (sl.bg_ncolors == 3 && sl.bg_colors [0] == 0x1E3C72 && sl.bg_colors [1] == 0x6A11CB
           && sl.bg_angle == 90, "gradient: 3 stops at 90 degrees");
    static const unsigned char png [] = { 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A };
    CHECK (!sl.shot_data && cr.nblobs == 1 && cr.blobs [0].len == TINY_PNG_BYTES
           && memcmp (cr.blobs [0].data, png, 8) == 0,
           "gradient: base64 data decoded once into blobs (%d bytes), got %d blobs",
           TINY_PNG_BYTES, cr.nblobs);
    CHECK (cr.nblobs == 1 && strcmp (sl.shot_sha256, cr.blobs [0].sha256) == 0
           && strcmp (cr.tasks [0].blob, cr.blobs [0].sha256) == 0,
           "gradient: the spec and its task name the blob by sha256");
    CHECK (sl.nlines == 0, "gradient: no headline");
    proto_slide_free (&sl);
    proto_create_render_free (&cr);

    body = "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\",\"width\":1290,\"height\":2796},"
        "\"slides\":[{\"screenshot\":{\"data\":\"data:image/png;base64," TINY_PNG_A "\\n" TINY_PNG_B "\"}}]}";
    if (s_parse_ok ("data url", body, 1, &cr))
        return;
    s_slide (&cr, 0, &sl);
    CHECK (sl.width == 1290 && sl.height == 2796, "data url: preset with an accepted size, got %dx%d",
           sl.width, sl.height);
    CHECK (cr.nblobs == 1 && cr.blobs [0].len == TINY_PNG_BYTES
           && memcmp (cr.blobs [0].data, png, 8) == 0, "data url: decoded past the prefix");
    proto_slide_free (&sl);
    proto_create_render_free (&cr);
}

/* One inline image used by every image of a matrix travels once. */
static void
test_inline_blob_once (void)
{
    proto_create_render_t cr;
    const char *body = "{\"async\":true,\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},"
        "\"matrix\":{\"locales\":[\"en-US\",\"de-DE\",\"fr-FR\"]},"
        "\"slides\":[{\"screenshot\":{\"data\":\"" TINY_PNG "\"}},"
        "{\"screenshot\":{\"data\":\"" TINY_PNG "\"}}]}";
    if (s_parse_ok ("blob once", body, 6, &cr))
        return;
    CHECK (cr.nblobs == 1, "blob once: 6 images of one inline image carry 1 blob, got %d", cr.nblobs);
    size_t specs = 0;
    for (int32_t i = 0; i < cr.ntasks; i++) {
        specs += cr.tasks [i].spec_len;
        CHECK (cr.nblobs == 1 && strcmp (cr.tasks [i].blob, cr.blobs [0].sha256) == 0,
               "blob once: task %d names the blob", (int) i);
    }
    CHECK (specs < 6 * 600, "blob once: specs hold no image bytes (%zu bytes for 6)", specs);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_create_render_t back;
    char err [PROTO_ERR_MAX] = "";
    CHECK (proto_create_render_encode (&cr, &sb) == 0
           && proto_create_render_decode (sb.data, sb.size, &back, err) == 0
           && back.nblobs == 1 && back.blobs [0].len == TINY_PNG_BYTES,
           "blob once: CREATE_RENDER round trip keeps the blob (%s)", err);
    proto_create_render_free (&back);
    /* a blob whose bytes do not hash to its name is refused */
    cr.blobs [0].data [20] ^= 1;
    msgpack_sbuffer_clear (&sb);
    CHECK (proto_create_render_encode (&cr, &sb) == 0
           && proto_create_render_decode (sb.data, sb.size, &back, err) != 0
           && strstr (err, "sha256"), "blob once: a tampered blob is refused, got '%s'", err);
    msgpack_sbuffer_destroy (&sb);
    proto_create_render_free (&cr);
}

typedef struct {
    const char *name;
    const char *body;
    int         status;
    const char *code;
    const char *param;             /* "" when none */
} bad_case_t;

#define SHOT "\"screenshot\":{\"url\":\"https://a.b/c.png\"}"
#define CANVAS "\"canvas\":{\"preset\":\"play.phone\"}"
#define SLIDE "{\"headline\":{\"lines\":[\"Hi\"]}}"

static void
test_bad_cases (void)
{
    char long_line [400], many_slides [1024], long_body [600];
    /* a 10,000-character headline */
    static char huge_line [10001], huge_body [10200], many_cells [2048];
    memset (huge_line, 'y', 10000);
    huge_line [10000] = '\0';
    snprintf (huge_body, sizeof huge_body, "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"%s\"]}}]}",
              huge_line);
    /* 41 locales is over the locale cap; 10 slides x 40 locales x 2 presets = 800 cells > 500 */
    int m = snprintf (many_cells, sizeof many_cells, "{\"async\":true,\"matrix\":{\"presets\":"
                      "[\"play.phone\",\"play.tablet_7\"],\"locales\":[");
    for (int i = 0; i < 40; i++)
        m += snprintf (many_cells + m, sizeof many_cells - (size_t) m, "%s\"l%c%c\"", i ? "," : "",
                       'a' + i / 26, 'a' + i % 26);
    m += snprintf (many_cells + m, sizeof many_cells - (size_t) m, "]},\"slides\":[");
    for (int i = 0; i < 10; i++)
        m += snprintf (many_cells + m, sizeof many_cells - (size_t) m, "%s" SLIDE, i ? "," : "");
    snprintf (many_cells + m, sizeof many_cells - (size_t) m, "]}");
    memset (long_line, 'x', 201);
    long_line [201] = '\0';
    snprintf (long_body, sizeof long_body, "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"ok\",\"%s\"]}}]}",
              long_line);
    int n = snprintf (many_slides, sizeof many_slides, "{\"async\":true," CANVAS ",\"slides\":[");
    for (int i = 0; i < 11; i++)
        n += snprintf (many_slides + n, sizeof many_slides - (size_t) n, "%s" SLIDE, i ? "," : "");
    snprintf (many_slides + n, sizeof many_slides - (size_t) n, "]}");

    const bad_case_t cases [] = {
        { "malformed", "{\"slides\": [}", 400, "invalid_json", "" },
        { "duplicate key", "{\"slides\":[],\"slides\":[]}", 400, "invalid_json", "" },
        { "not an object", "[1]", 400, "invalid_json", "" },
        { "missing slides", "{" CANVAS "}", 422, "parameter_missing", "slides" },
        { "10,000-character headline", huge_body, 422, "parameter_invalid", "slides[0].headline.lines[0]" },
        { "matrix over 500 images", many_cells, 422, "parameter_invalid", "matrix" },
        { "30000x30000 screenshot", "{" CANVAS ",\"slides\":[{\"screenshot\":{\"data\":\"" HUGE_PNG "\"}}]}",
          422, "screenshot_too_large", "slides[0].screenshot.data" },
        { "not an image", "{" CANVAS ",\"slides\":[{\"screenshot\":{\"data\":\"aGVsbG8gd29ybGQ=\"}}]}",
          422, "screenshot_invalid", "slides[0].screenshot.data" },
        { "unknown layout device", "{" CANVAS ",\"layout\":{\"device\":\"nokia\"},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "layout.device" },
        { "bad text_position", "{" CANVAS ",\"slides\":[{" SHOT ",\"layout\":{\"text_position\":\"left\"}}]}",
          422, "parameter_invalid", "slides[0].layout.text_position" },
        { "padding over 30", "{" CANVAS ",\"layout\":{\"padding\":50},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "layout.padding" },
        { "bad finish", "{" CANVAS ",\"layout\":{\"finish\":\"gold\"},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "layout.finish" },
        { "bad fit", "{" CANVAS ",\"layout\":{\"fit\":\"stretch\"},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "layout.fit" },
        { "weight 450", "{" CANVAS ",\"headline\":{\"weight\":450},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "headline.weight" },
        { "font min over max", "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"a\"],"
          "\"font_size\":{\"max\":40,\"min\":60}}}]}", 422, "parameter_invalid", "slides[0].headline.font_size.min" },
        { "bad subtitle colour", "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"a\"]},"
          "\"subtitle\":{\"lines\":[\"b\"],\"color\":\"#FFF\"}}]}", 422, "parameter_invalid",
          "slides[0].subtitle.color" },
        { "watch landscape", "{\"canvas\":{\"preset\":\"appstore.watch_s10\",\"orientation\":\"landscape\"},"
          "\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "canvas.orientation" },
        { "bad orientation", "{\"canvas\":{\"preset\":\"play.phone\",\"orientation\":\"sideways\"},"
          "\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "canvas.orientation" },
        { "store on a preset", "{\"canvas\":{\"preset\":\"play.phone\",\"store\":\"play\"},"
          "\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "canvas.store" },
        { "bad background image", "{" CANVAS ",\"background\":{\"image\":{\"url\":\"file:///etc/passwd\"}},"
          "\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "background.image.url" },
        { "two backgrounds", "{" CANVAS ",\"background\":{\"preset\":\"aurora\",\"color\":\"#000000\"},"
          "\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "background" },
        { "empty slides", "{" CANVAS ",\"slides\":[]}", 422, "parameter_invalid", "slides" },
        { "too many slides", many_slides, 422, "parameter_invalid", "slides" },
        { "missing canvas", "{\"slides\":[" SLIDE "]}", 422, "parameter_missing", "canvas" },
        { "unknown preset", "{\"canvas\":{\"preset\":\"appstore.iphone_99\"},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "canvas.preset" },
        { "unknown matrix preset", "{" CANVAS ",\"matrix\":{\"presets\":[\"play.phone\",\"nope\"]},\"slides\":["
          SLIDE "]}", 422, "parameter_invalid", "matrix.presets[1]" },
        { "size the preset lacks", "{\"canvas\":{\"preset\":\"play.phone\",\"width\":1000,\"height\":2100},"
          "\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "canvas.width" },
        { "canvas too small", "{\"canvas\":{\"width\":50,\"height\":600},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "canvas.width" },
        { "5 gradient stops", "{" CANVAS ",\"background\":{\"gradient\":{\"colors\":[\"#000000\",\"#111111\","
          "\"#222222\",\"#333333\",\"#444444\"]}},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "background.gradient.colors" },
        { "bad colour", "{" CANVAS ",\"background\":{\"gradient\":{\"colors\":[\"#000000\",\"#12345G\"]}},"
          "\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "background.gradient.colors[1]" },
        { "bad headline colour", "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"a\"],\"color\":\"red\"}}]}",
          422, "parameter_invalid", "slides[0].headline.color" },
        { "unknown background preset", "{" CANVAS ",\"background\":{\"preset\":\"lava\"},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "background.preset" },
        { "headline too long", long_body, 422, "parameter_invalid", "slides[0].headline.lines[1]" },
        { "too many lines", "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}}]}",
          422, "parameter_invalid", "slides[0].headline.lines" },
        { "missing lines", "{" CANVAS ",\"slides\":[{\"headline\":{}}]}",
          422, "parameter_missing", "slides[0].headline.lines" },
        { "locale lines missing", "{" CANVAS ",\"matrix\":{\"locales\":[\"en-US\",\"de-DE\"]},\"slides\":["
          "{\"headline\":{\"lines\":{\"en-US\":[\"Hi\"]}}}]}",
          422, "parameter_missing", "slides[0].headline.lines.de-DE" },
        { "locale lines without matrix", "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":{\"en-US\":[\"Hi\"]}}}]}",
          422, "parameter_invalid", "slides[0].headline.lines" },
        { "bad locale tag", "{" CANVAS ",\"matrix\":{\"locales\":[\"en_US\"]},\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "matrix.locales[0]" },
        { "url and data", "{" CANVAS ",\"slides\":[{\"screenshot\":{\"url\":\"https://a.b/c.png\","
          "\"data\":\"iVBORw0KGgo=\"}}]}", 422, "parameter_invalid", "slides[0].screenshot" },
        { "bad base64", "{" CANVAS ",\"slides\":[{\"screenshot\":{\"data\":\"not*base64!\"}}]}",
          422, "parameter_invalid", "slides[0].screenshot.data" },
        { "file_id", "{" CANVAS ",\"slides\":[{\"screenshot\":{\"file_id\":\"file_x\"}}]}",
          422, "parameter_invalid", "slides[0].screenshot.file_id" },
        { "ftp url", "{" CANVAS ",\"slides\":[{\"screenshot\":{\"url\":\"ftp://a.b/c.png\"}}]}",
          422, "parameter_invalid", "slides[0].screenshot.url" },
        { "{locale} without locales", "{" CANVAS ",\"slides\":[{\"screenshot\":{\"url\":\"https://a.b/{locale}.png\"}}]}",
          422, "parameter_invalid", "slides[0].screenshot.url" },
        { "unknown device", "{" CANVAS ",\"slides\":[{" SHOT ",\"device\":\"pixel\"}]}",
          422, "parameter_invalid", "slides[0].device" },
        { "gif", "{" CANVAS ",\"format\":\"gif\",\"slides\":[" SLIDE "]}", 422, "parameter_invalid", "format" },
        { "bad webhook", "{" CANVAS ",\"webhook_url\":\"not a url\",\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "webhook_url" },
        { "metadata array", "{" CANVAS ",\"metadata\":[1],\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "metadata" },
        { "async string", "{" CANVAS ",\"async\":\"yes\",\"slides\":[" SLIDE "]}",
          422, "parameter_invalid", "async" },
        { "unknown key", "{" CANVAS ",\"colour\":\"#000000\",\"slides\":[" SLIDE "]}",
          422, "parameter_unknown", "colour" },
        { "unknown nested key", "{" CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"a\"]},\"shadow\":1}]}",
          422, "parameter_unknown", "slides[0].shadow" },
        { "over sync limit", "{" CANVAS ",\"matrix\":{\"locales\":[\"aa\",\"bb\",\"cc\",\"dd\",\"ee\",\"ff\","
          "\"gg\",\"hh\",\"ii\",\"jj\",\"kk\"]},\"slides\":[" SLIDE "]}", 422, "use_async", "async" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        const bad_case_t *c = &cases [i];
        proto_create_render_t cr;
        api_error_t e;
        int rc = render_request_parse (c->body, strlen (c->body), &cr, &e);
        CHECK (rc == -1, "%s: expected rejection, got success", c->name);
        if (rc == 0) {
            proto_create_render_free (&cr);
            continue;
        }
        CHECK (e.status == c->status && strcmp (e.code, c->code) == 0 && strcmp (e.param, c->param) == 0,
               "%s: expected %d %s param=\"%s\", got %d %s param=\"%s\" (%s)", c->name,
               c->status, c->code, c->param, e.status, e.code, e.param, e.message);
        CHECK (cr.ntasks == 0 && cr.tasks == NULL, "%s: output must stay empty", c->name);
    }
    /* the malformed-JSON message gives line and column */
    proto_create_render_t cr;
    api_error_t e;
    render_request_parse ("{\n  \"slides\": [}", 15, &cr, &e);
    CHECK (strstr (e.message, "line 2, column"), "invalid_json message names line 2, got: %s", e.message);
    CHECK (strcmp (e.type, "invalid_request_error") == 0, "400 type invalid_request_error, got %s", e.type);
}

/* layout defaults merge under each slide's; subtitle; "default" lines;
   orientation; formats; new devices */
static void
test_layout (void)
{
    proto_create_render_t cr;
    const char *body = "{\"canvas\":{\"preset\":\"appstore.ipad_13\",\"orientation\":\"landscape\"},"
        "\"format\":\"jpeg\",\"background\":{\"preset\":\"aurora\"},"
        "\"layout\":{\"text_position\":\"bottom\",\"padding\":5,\"finish\":\"silver\",\"device\":\"ipad\"},"
        "\"headline\":{\"color\":\"#112233\",\"weight\":800,\"font_size\":{\"max\":120,\"min\":50}},"
        "\"subtitle\":{\"color\":\"#445566\"},"
        "\"slides\":[{\"headline\":{\"lines\":[\"One\"]},\"subtitle\":{\"lines\":[\"Sub\"]}},"
        "{\"headline\":{\"lines\":[\"Two\"],\"color\":\"#FFFFFF\",\"font_size\":{\"max\":90}},"
        "\"layout\":{\"text_position\":\"top\",\"fit\":\"cover\",\"device\":\"browser-macos\"}}]}";
    if (s_parse_ok ("layout", body, 2, &cr))
        return;
    proto_slide_t a, b;
    s_slide (&cr, 0, &a);
    s_slide (&cr, 1, &b);
    CHECK (a.width == 2752 && a.height == 2064, "layout: landscape ipad_13 is 2752x2064, got %dx%d",
           a.width, a.height);
    CHECK (strcmp (a.format, "jpeg") == 0 && strcmp (a.text_position, "bottom") == 0 && a.padding_pm == 50
           && strcmp (a.finish, "silver") == 0 && strcmp (a.device, "ipad") == 0 && a.text_color == 0x112233
           && a.font_weight == 800 && a.font_size_max == 120 && a.font_size_min == 50
           && a.nsub == 1 && strcmp (a.sub [0], "Sub") == 0 && a.sub_color == 0x445566
           && strcmp (a.fit, "contain") == 0 && strcmp (a.store, "appstore") == 0 && a.display_stated,
           "layout: slide 0 takes the render's defaults");
    CHECK (a.bg_ncolors == 3 && a.bg_colors [0] == 0x0B3D5C, "layout: aurora background");
    CHECK (strcmp (b.text_position, "top") == 0 && strcmp (b.fit, "cover") == 0
           && strcmp (b.device, "browser-macos") == 0 && b.text_color == 0xFFFFFF && b.font_size_max == 90
           && b.font_size_min == 50 && b.font_weight == 800 && b.padding_pm == 50 && b.nsub == 0,
           "layout: slide 1 overrides some fields and keeps the others");
    proto_slide_free (&a);
    proto_slide_free (&b);
    proto_create_render_free (&cr);

    body = "{\"matrix\":{\"locales\":[\"en-US\",\"de-DE\"],\"presets\":[\"play.phone\"]},"
        "\"slides\":[{\"headline\":{\"lines\":{\"en-US\":[\"Hello\"],\"default\":[\"Hallo\"]}}}]}";
    if (s_parse_ok ("default lines", body, 2, &cr))
        return;
    s_slide (&cr, 0, &a);
    s_slide (&cr, 1, &b);
    CHECK (!a.text_fallback && strcmp (a.lines [0], "Hello") == 0, "default lines: en-US has its own");
    CHECK (b.text_fallback && strcmp (b.lines [0], "Hallo") == 0 && strcmp (b.locale, "de-DE") == 0,
           "default lines: de-DE falls back and is flagged");
    proto_slide_free (&a);
    proto_slide_free (&b);
    proto_create_render_free (&cr);

    /* untranslated_copy: a locale's own lines word for word another language's */
    body = "{\"matrix\":{\"locales\":[\"en-US\",\"de-DE\",\"en-GB\",\"fr-FR\"],\"presets\":[\"play.phone\"]},"
        "\"slides\":[{\"headline\":{\"lines\":{\"en-US\":[\"Track every habit\"],"
        "\"de-DE\":[\"Track every habit\"],\"en-GB\":[\"Track every habit\"],"
        "\"fr-FR\":[\"Suivez chaque habitude\"]}}},"
        "{\"headline\":{\"lines\":{\"en-US\":[\"Acme\"],\"de-DE\":[\"Acme\"],\"en-GB\":[\"Acme\"],"
        "\"fr-FR\":[\"Acme\"]}}}]}";
    if (s_parse_ok ("untranslated", body, 8, &cr))
        return;
    for (int i = 0; i < 8; i++) {
        proto_slide_t u;
        s_slide (&cr, i, &u);
        const char *want = u.slide == 0 && strcmp (u.locale, "de-DE") == 0 ? "en-US" : "";
        CHECK (strcmp (u.untranslated_of, want) == 0,
               "untranslated: slide %d %s is flagged as a copy of \"%s\", got \"%s\" (the origin, "
               "a brand name, the same language and a translation are not)", u.slide, u.locale, want,
               u.untranslated_of);
        proto_slide_free (&u);
    }
    proto_create_render_free (&cr);

    /* default text colour: dark on a light background */
    body = "{\"canvas\":{\"preset\":\"play.phone\"},\"background\":{\"preset\":\"paper\"},"
        "\"slides\":[{\"headline\":{\"lines\":[\"x\"]},\"subtitle\":{\"lines\":[\"y\"]}}]}";
    if (s_parse_ok ("paper", body, 1, &cr))
        return;
    s_slide (&cr, 0, &a);
    CHECK (a.text_color == 0x1C1C1E && a.sub_color == 0x1C1C1E, "paper: dark text by default, got #%06X",
           a.text_color);
    proto_slide_free (&a);
    proto_create_render_free (&cr);

    /* no orientation asked: each matrix preset keeps its own (the Mac is landscape) */
    body = "{\"matrix\":{\"presets\":[\"appstore.mac\",\"appstore.iphone_6_9\"]},"
        "\"slides\":[{\"headline\":{\"lines\":[\"x\"]}}]}";
    if (s_parse_ok ("native orientations", body, 2, &cr))
        return;
    s_slide (&cr, 0, &a);
    s_slide (&cr, 1, &b);
    CHECK (a.width == 2880 && a.height == 1800 && b.width == 1320 && b.height == 2868,
           "native orientations: 2880x1800 and 1320x2868, got %dx%d and %dx%d",
           a.width, a.height, b.width, b.height);
    proto_slide_free (&a);
    proto_slide_free (&b);
    proto_create_render_free (&cr);

    /* landscape asked: the iPhone turns, the Mac already is */
    body = "{\"canvas\":{\"preset\":\"appstore.mac\",\"orientation\":\"landscape\"},"
        "\"matrix\":{\"presets\":[\"appstore.mac\",\"appstore.iphone_6_9\"]},"
        "\"slides\":[{\"headline\":{\"lines\":[\"x\"]}}]}";
    if (s_parse_ok ("landscape matrix", body, 2, &cr))
        return;
    s_slide (&cr, 1, &b);
    CHECK (b.width == 2868 && b.height == 1320, "landscape matrix: the iPhone turns, got %dx%d",
           b.width, b.height);
    proto_slide_free (&b);
    proto_create_render_free (&cr);

    body = "{\"canvas\":{\"width\":2048,\"height\":2732,\"store\":\"appstore\"},"
        "\"slides\":[{\"headline\":{\"lines\":[\"x\"]},\"device\":\"android_tablet\"}]}";
    if (s_parse_ok ("custom store", body, 1, &cr))
        return;
    s_slide (&cr, 0, &a);
    CHECK (strcmp (a.store, "appstore") == 0 && !a.display_stated && a.preset [0] == '\0'
           && strcmp (a.device, "android_tablet") == 0, "custom store: store kept, no display class");
    proto_slide_free (&a);
    proto_create_render_free (&cr);
}

static void
test_presets (void)
{
    const presets_canvas_t *p = presets_find ("appstore.ipad_11");
    CHECK (p && p->nsizes == 4 && p->sizes [0].width == 1668 && p->sizes [0].height == 2420
           && strcmp (p->store, "appstore") == 0, "presets: appstore.ipad_11 default 1668x2420");
    p = presets_find ("play.feature_graphic");
    CHECK (p && p->sizes [0].width == 1024 && p->sizes [0].height == 500 && strcmp (p->store, "play") == 0,
           "presets: play.feature_graphic 1024x500");
    CHECK (presets_count () == 22, "presets: 22 canvas presets, got %zu", presets_count ());
    /* Play rules: any size with sides 320..3840 and ratio <= 2; App Store: listed sizes and swaps */
    CHECK (presets_size_ok (presets_find ("play.phone"), 1000, 2000)
           && !presets_size_ok (presets_find ("play.phone"), 1000, 2100)
           && !presets_size_ok (presets_find ("play.phone"), 300, 600)
           && presets_size_ok (presets_find ("appstore.iphone_6_9"), 2868, 1320)
           && !presets_size_ok (presets_find ("appstore.watch_s7"), 484, 396)
           && !presets_size_ok (presets_find ("play.feature_graphic"), 1000, 500)
           && presets_size_ok (presets_find ("play.wear"), 500, 500)
           && !presets_size_ok (presets_find ("play.wear"), 500, 501),
           "presets: size rules");
    CHECK (presets_background_find ("aurora") && presets_background_find ("paper"),
           "presets: aurora and paper backgrounds");
    /* GET /v1/presets lists every preset with its rules */
    json_t *list = presets_json_build ();
    json_t *data = json_object_get (list, "data");
    CHECK (json_array_size (data) == presets_count (), "presets json: every preset listed");
    json_t *first = json_array_get (data, 0);
    CHECK (first && strcmp (json_string_value (json_object_get (first, "name")), "appstore.iphone_6_9") == 0
           && json_array_size (json_object_get (first, "sizes")) == 3
           && json_is_false (json_object_get (first, "alpha_allowed"))
           && json_array_size (json_object_get (first, "formats")) == 2
           && json_object_get (first, "display_class") && json_object_get (first, "max_bytes")
           && json_array_size (json_object_get (first, "orientations")) == 2,
           "presets json: iphone_6_9 has sizes, display class, formats, alpha rule, orientations");
    json_t *play = json_array_get (data, 15);
    CHECK (play && json_integer_value (json_object_get (play, "max_bytes")) == 8 * 1024 * 1024
           && json_integer_value (json_object_get (json_object_get (play, "size_rules"), "min_side")) == 320,
           "presets json: play.phone has 8 MB and side rules");
    CHECK (json_array_size (json_object_get (list, "backgrounds")) == 7, "presets json: 7 backgrounds");
    json_decref (list);
    CHECK (!presets_find ("appstore.iphone_7"), "presets: unknown name gives NULL");
}

/* ---- uploads and file_id ---------------------------------------------- */

static int s_resolved;

/* file_a / file_b resolve to sha256 "aa..." / "bb..."; anything else is unknown */
static int
s_fake_resolve (void *arg, const char *id, const char *param, char sha256 [65], api_error_t *e)
{
    (void) arg;
    s_resolved++;
    if (strcmp (id, "file_a") != 0 && strcmp (id, "file_b") != 0)
        return api_error_set (e, 422, "file_not_found", param, "No such file.");
    memset (sha256, id [5], 64);
    sha256 [64] = '\0';
    return 0;
}

static void
test_upload_check (void)
{
    unsigned char png [TINY_PNG_BYTES + 8], huge [128];
    size_t n = 0, hn = 0;
    sodium_base642bin (png, sizeof png, TINY_PNG, strlen (TINY_PNG), NULL, &n, NULL,
                       sodium_base64_VARIANT_ORIGINAL);
    sodium_base642bin (huge, sizeof huge, HUGE_PNG, strlen (HUGE_PNG), NULL, &hn, NULL,
                       sodium_base64_VARIANT_ORIGINAL);
    api_error_t e;
    proto_file_put_t put;
    memset (&put, 0, sizeof put);
    CHECK (file_upload_check (png, n, "image/png", &put, &e) == 0, "png accepted: %s", e.message);
    CHECK (strcmp (put.format, "png") == 0 && put.width == 2 && put.height == 2 && put.len == n,
           "png format and size from the header: %s %dx%d", put.format, put.width, put.height);
    CHECK (file_upload_check (png, n, NULL, &put, &e) == 0, "no declared type: the bytes decide");
    CHECK (file_upload_check (png, n, "image/webp", &put, &e) == -1 && e.status == 422
           && strcmp (e.code, "file_type_mismatch") == 0 && strcmp (e.param, "file") == 0,
           "declared webp for a png: %d %s", e.status, e.code);
    CHECK (file_upload_check ((const uint8_t *) "hello, world", 12, NULL, &put, &e) == -1
           && e.status == 422 && strcmp (e.code, "file_invalid") == 0, "not an image: %s", e.code);
    CHECK (file_upload_check (huge, hn, "image/png", &put, &e) == -1 && e.status == 422
           && strcmp (e.code, "image_too_large") == 0, "too many pixels: %s", e.code);
    CHECK (file_upload_check (png, (size_t) EASEL_MAX_SOURCE_BYTES + 1, NULL, &put, &e) == -1
           && e.status == 413 && strcmp (e.code, "file_too_large") == 0, "over the byte cap: %d", e.status);
    CHECK (file_upload_kind ("image/jpeg", &e) == 0 && file_upload_kind ("application/octet-stream", &e) == 0
           && file_upload_kind ("multipart/form-data; boundary=x", &e) == 1, "upload kinds");
    CHECK (file_upload_kind ("text/plain", &e) == -1 && e.status == 415, "text/plain is 415");
    CHECK (file_upload_kind (NULL, &e) == -1 && e.status == 415, "no Content-Type is 415");
}

static void
test_file_id (void)
{
    const char *map =
        "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"matrix\":{\"locales\":[\"en-US\",\"de-DE\",\"fr-FR\"]},"
        "\"slides\":[{\"screenshot\":{\"file_id\":{\"en-US\":\"file_a\",\"default\":\"file_b\"}}},"
        "{\"screenshot\":{\"file_id\":\"file_a\"}}]}";
    proto_create_render_t cr;
    api_error_t e;
    s_resolved = 0;
    int rc = render_request_parse_files (map, strlen (map), s_fake_resolve, NULL, &cr, &e);
    CHECK (rc == 0, "file_id map parses: %s %s", e.code, e.param);
    if (rc == 0) {
        CHECK (cr.ntasks == 6 && cr.nblobs == 0, "6 images, no blobs carried: %d %d", cr.ntasks, cr.nblobs);
        CHECK (s_resolved == 2, "each distinct file resolved once, got %d", s_resolved);
        /* en-US: file_a; de-DE and fr-FR: the default, file_b; slide 1: file_a */
        const char want [] = { 'a', 'b', 'b', 'a', 'a', 'a' };
        for (int i = 0; i < cr.ntasks && i < 6; i++) {
            proto_slide_t sl;
            char err [PROTO_ERR_MAX];
            CHECK (cr.tasks [i].blob [0] == want [i] && strlen (cr.tasks [i].blob) == 64,
                   "task %d names file %c, got %s", i, want [i], cr.tasks [i].blob);
            if (proto_slide_decode ((const char *) cr.tasks [i].spec, cr.tasks [i].spec_len, &sl, err) == 0) {
                CHECK (strcmp (sl.shot_sha256, cr.tasks [i].blob) == 0, "task %d spec names its blob", i);
                proto_slide_free (&sl);
            }
        }
        proto_create_render_free (&cr);
    }
    static const struct { const char *name, *body, *code, *param; } bad [] = {
        { "unknown file", "{" "\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"slides\":[{\"screenshot\":"
          "{\"file_id\":\"file_zz\"}}]}", "file_not_found", "slides[0].screenshot.file_id" },
        { "locale without a file", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"matrix\":{\"locales\":"
          "[\"en-US\",\"de-DE\"]},\"slides\":[{\"screenshot\":{\"file_id\":{\"en-US\":\"file_a\"}}}]}",
          "parameter_missing", "slides[0].screenshot.file_id.de-DE/appstore.iphone_6_9" },
        { "unknown key", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"matrix\":{\"locales\":"
          "[\"en-US\"]},\"slides\":[{\"screenshot\":{\"file_id\":{\"ja-JP\":\"file_a\"}}}]}",
          "parameter_unknown", "slides[0].screenshot.file_id.ja-JP" },
        { "not a string", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"slides\":[{\"screenshot\":"
          "{\"file_id\":7}}]}", "parameter_invalid", "slides[0].screenshot.file_id" },
        { "unknown background file", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"background\":"
          "{\"image\":{\"file_id\":\"file_zz\"}},\"slides\":[{\"headline\":{\"lines\":[\"a\"]}}]}",
          "file_not_found", "background.image.file_id" },
        { "background url and file", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"background\":"
          "{\"image\":{\"file_id\":\"file_a\",\"url\":\"https://example.com/a.png\"}},"
          "\"slides\":[{\"headline\":{\"lines\":[\"a\"]}}]}", "parameter_invalid", "background.image" },
        { "background file not a string", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},\"background\":"
          "{\"image\":{\"file_id\":[\"file_a\"]}},\"slides\":[{\"headline\":{\"lines\":[\"a\"]}}]}",
          "parameter_invalid", "background.image.file_id" },
        { "background locale without a file", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},"
          "\"matrix\":{\"locales\":[\"en-US\",\"de-DE\"]},\"background\":{\"image\":{\"file_id\":"
          "{\"en-US\":\"file_a\"}}},\"slides\":[{\"headline\":{\"lines\":[\"a\"]}}]}",
          "parameter_missing", "background.image.file_id.de-DE/appstore.iphone_6_9" },
        { "background null entry", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},"
          "\"matrix\":{\"locales\":[\"en-US\"]},\"background\":{\"image\":{\"file_id\":"
          "{\"en-US\":null,\"default\":\"file_a\"}}},\"slides\":[{\"headline\":{\"lines\":[\"a\"]}}]}",
          "parameter_invalid", "background.image.file_id.en-US" },
        { "every image skipped", "{\"canvas\":{\"preset\":\"appstore.iphone_6_9\"},"
          "\"matrix\":{\"locales\":[\"en-US\"]},\"slides\":[{\"screenshot\":{\"file_id\":"
          "{\"en-US\":null}}}]}", "parameter_invalid", "slides" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        rc = render_request_parse_files (bad [i].body, strlen (bad [i].body), s_fake_resolve, NULL, &cr, &e);
        CHECK (rc == -1 && e.status == 422 && strcmp (e.code, bad [i].code) == 0
               && strcmp (e.param, bad [i].param) == 0,
               "%s: expected 422 %s %s, got %d %s %s", bad [i].name, bad [i].code, bad [i].param,
               e.status, e.code, e.param);
    }
}

/* background.image.file_id: a string or a per-locale / per-preset map,
   resolved like a screenshot's, named by the spec (bg_sha256) and the task
   (bg_blob); the text defaults to white as over a fetched image. */
static void
test_background_file_id (void)
{
    const char *body =
        "{\"matrix\":{\"locales\":[\"en-US\",\"de-DE\"],\"presets\":[\"appstore.iphone_6_9\","
        "\"appstore.ipad_13\"]},\"background\":{\"image\":{\"file_id\":{\"de-DE/appstore.ipad_13\":"
        "\"file_b\",\"default\":\"file_a\"}}},"
        "\"slides\":[{\"headline\":{\"lines\":[\"Hi\"]},\"screenshot\":{\"file_id\":\"file_b\"}}]}";
    proto_create_render_t cr;
    api_error_t e;
    s_resolved = 0;
    int rc = render_request_parse_files (body, strlen (body), s_fake_resolve, NULL, &cr, &e);
    CHECK (rc == 0, "a background file_id map parses: %s %s %s", e.code, e.param, e.message);
    if (rc != 0)
        return;
    CHECK (cr.ntasks == 4 && cr.nblobs == 0, "4 images, no blobs carried: %d %d", cr.ntasks, cr.nblobs);
    CHECK (s_resolved == 2, "each distinct file resolved once over both fields, got %d", s_resolved);
    for (int i = 0; i < cr.ntasks; i++) {
        const proto_task_spec_t *t = &cr.tasks [i];
        char want = strcmp (t->locale, "de-DE") == 0 && strcmp (t->preset, "appstore.ipad_13") == 0 ? 'b' : 'a';
        CHECK (t->bg_blob [0] == want && strlen (t->bg_blob) == 64 && t->blob [0] == 'b',
               "task %d (%s %s) names background %c and screenshot b, got %.8s %.8s", i, t->locale,
               t->preset, want, t->bg_blob, t->blob);
        proto_slide_t sl;
        char err [PROTO_ERR_MAX];
        if (proto_slide_decode ((const char *) t->spec, t->spec_len, &sl, err) != 0) {
            CHECK (false, "task %d spec decodes: %s", i, err);
            continue;
        }
        CHECK (strcmp (sl.bg_sha256, t->bg_blob) == 0 && !sl.bg_image_url && !sl.bg_data,
               "task %d spec names its background by sha256 only", i);
        CHECK (sl.text_color == 0xFFFFFFu, "white text over a background image, got %06x", sl.text_color);
        proto_slide_free (&sl);
    }
    proto_create_render_free (&cr);
    /* without a resolver (render_request_parse) a background file is refused like a screenshot's */
    rc = render_request_parse (body, strlen (body), &cr, &e);
    CHECK (rc == -1 && e.status == 422 && strcmp (e.param, "background.image.file_id") == 0,
           "no resolver: 422 naming background.image.file_id, got %d %s", e.status, e.param);
}

/* A null in a screenshot's file_id map leaves that matrix cell out: no
   task for it, the others as before, the sync cap counted on what is left. */
static void
test_file_id_skip (void)
{
    const char *body =
        "{\"matrix\":{\"locales\":[\"en-US\",\"ja\"],\"presets\":[\"appstore.iphone_6_9\","
        "\"appstore.ipad_13\"]},"
        "\"slides\":[{\"screenshot\":{\"file_id\":{\"en-US/appstore.iphone_6_9\":\"file_a\","
        "\"ja/appstore.ipad_13\":\"file_b\",\"default\":null}}},"
        "{\"screenshot\":{\"file_id\":{\"ja\":null,\"default\":\"file_b\"}}}]}";
    proto_create_render_t cr;
    api_error_t e;
    int rc = render_request_parse_files (body, strlen (body), s_fake_resolve, NULL, &cr, &e);
    CHECK (rc == 0, "a map with null entries parses: %s %s %s", e.code, e.param, e.message);
    if (rc != 0)
        return;
    /* slide 0: 2 of 4 cells; slide 1: the en-US pair */
    static const struct { int slide; const char *locale, *preset; char file; } want [] = {
        { 0, "en-US", "appstore.iphone_6_9", 'a' }, { 0, "ja", "appstore.ipad_13", 'b' },
        { 1, "en-US", "appstore.iphone_6_9", 'b' }, { 1, "en-US", "appstore.ipad_13", 'b' },
    };
    CHECK (cr.ntasks == 4, "4 images of 8 cells, got %d", cr.ntasks);
    for (int i = 0; i < cr.ntasks && i < 4; i++)
        CHECK (cr.tasks [i].slide == want [i].slide && strcmp (cr.tasks [i].locale, want [i].locale) == 0
               && strcmp (cr.tasks [i].preset, want [i].preset) == 0 && cr.tasks [i].blob [0] == want [i].file,
               "task %d is slide %d %s %s file %c, got slide %d %s %s %.4s", i, want [i].slide,
               want [i].locale, want [i].preset, want [i].file, cr.tasks [i].slide, cr.tasks [i].locale,
               cr.tasks [i].preset, cr.tasks [i].blob);
    CHECK (cr.sync, "4 images stay under the sync cap");
    proto_create_render_free (&cr);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 2;
    test_presets ();
    test_single_slide ();
    test_default_device ();
    test_matrix ();
    test_gradient_custom_canvas_data ();
    test_inline_blob_once ();
    test_bad_cases ();
    test_layout ();
    test_upload_check ();
    test_file_id ();
    test_background_file_id ();
    test_file_id_skip ();
    if (check_failures) {
        fprintf (stderr, "%d check(s) failed\n", check_failures);
        return 1;
    }
    printf ("gateway_validate: all checks passed\n");
    return 0;
}
