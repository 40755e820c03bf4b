/*  test_capture_pdf.c: POST /v1/capture with format "pdf". Good bodies give
    one task whose spec (decoded back) carries the paper, margins, scale,
    backgrounds and page ranges with their defaults, media print unless
    given, no frame, and the paper's size in CSS px as the task's size; bad
    pdf fields, and options a printed page has no use for, are refused with
    422 naming the field; the spec decoder refuses a pdf part without format
    pdf and the reverse. */
#include "check.h"
#include <math.h>
#include <string.h>
#include "capture_profile.h"
#include "capture_request.h"
#include "capture_spec.h"

#define S_URL "\"url\":\"https://example.com/report\""

/* Parses body (a success expected) and decodes its spec into *spec; the
   task's width, height and format into *task. */
static int
s_ok (const char *body, capture_spec_t *spec, proto_task_spec_t *task)
{
    api_error_t e;
    proto_create_render_t cr;
    memset (spec, 0, sizeof *spec);
    int rc = capture_request_parse (body, strlen (body), &cr, &e);
    CHECK (rc == 0, "%s: a success, got %d %s param=%s: %s", body, e.status, e.code, e.param, e.message);
    if (rc)
        return -1;
    char err [256] = "";
    *task = cr.tasks [0];
    task->spec = NULL, task->spec_len = 0;
    rc = capture_spec_decode (cr.tasks [0].spec, cr.tasks [0].spec_len, spec, err);
    CHECK (rc == 0, "%s: the spec decodes: %s", body, err);
    proto_create_render_free (&cr);
    return rc;
}

static void
s_bad (const char *body, const char *code, const char *param)
{
    api_error_t e;
    proto_create_render_t cr;
    int rc = capture_request_parse (body, strlen (body), &cr, &e);
    CHECK (rc == -1, "%s: a refusal", body);
    if (rc == 0) {
        proto_create_render_free (&cr);
        return;
    }
    CHECK (e.status == 422, "%s: status 422, got %d", body, e.status);
    CHECK (strcmp (e.code, code) == 0, "%s: code %s, got %s", body, code, e.code);
    CHECK (strcmp (e.param, param) == 0, "%s: param '%s', got '%s' (%s)", body, param, e.param, e.message);
}

static bool
s_near (double a, double b)
{
    return fabs (a - b) < 1e-6;
}

static void
test_defaults (void)
{
    capture_spec_t s;
    proto_task_spec_t t;
    if (s_ok ("{" S_URL ",\"format\":\"pdf\"}", &s, &t))
        return;
    CHECK (strcmp (s.format, "pdf") == 0 && strcmp (t.format, "pdf") == 0, "format pdf: %s / %s", s.format, t.format);
    CHECK (s_near (s.pdf.width_in, 8.5) && s_near (s.pdf.height_in, 11), "Letter by default: %gx%g",
           s.pdf.width_in, s.pdf.height_in);
    CHECK (s_near (s.pdf.margin_top_in, 0.4) && s_near (s.pdf.margin_right_in, 0.4)
           && s_near (s.pdf.margin_bottom_in, 0.4) && s_near (s.pdf.margin_left_in, 0.4), "0.4 in margins");
    CHECK (s.pdf.scale_pct == 100 && !s.pdf.landscape && !s.pdf.print_background && !s.pdf.page_ranges,
           "scale 1, portrait, no backgrounds, every page");
    CHECK (strcmp (s.media, "print") == 0, "media print by default for pdf, got '%s'", s.media);
    CHECK (strcmp (s.device, "none") == 0, "a pdf is not framed: device '%s'", s.device);
    CHECK (t.width == 816 && t.height == 1056, "the task's size is Letter in CSS px: %dx%d", t.width, t.height);
    capture_spec_free (&s);
}

static void
test_options (void)
{
    capture_spec_t s;
    proto_task_spec_t t;
    if (s_ok ("{" S_URL ",\"format\":\"pdf\",\"device\":\"none\",\"media\":\"screen\",\"pdf\":{"
              "\"page_size\":\"a4\",\"landscape\":true,\"print_background\":true,\"scale\":0.5,"
              "\"margin\":{\"top\":1,\"left\":0},\"page_ranges\":\"1-2, 4\"}}", &s, &t) == 0) {
        CHECK (s_near (s.pdf.width_in, 210 / 25.4) && s_near (s.pdf.height_in, 297 / 25.4),
               "A4 (any case): %gx%g", s.pdf.width_in, s.pdf.height_in);
        CHECK (s.pdf.landscape && s.pdf.print_background && s.pdf.scale_pct == 50, "landscape, backgrounds, 0.5");
        CHECK (s_near (s.pdf.margin_top_in, 1) && s_near (s.pdf.margin_left_in, 0)
               && s_near (s.pdf.margin_right_in, 0.4) && s_near (s.pdf.margin_bottom_in, 0.4),
               "the margins given, the others 0.4");
        CHECK (s.pdf.page_ranges && strcmp (s.pdf.page_ranges, "1-2, 4") == 0, "page_ranges kept");
        CHECK (strcmp (s.media, "screen") == 0, "a given media is kept: %s", s.media);
        CHECK (t.width == 1123 && t.height == 794, "A4 landscape in CSS px: %dx%d", t.width, t.height);
        capture_spec_free (&s);
    }
    if (s_ok ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":{\"width\":4,\"height\":6.5},"
              "\"margin\":{\"top\":0,\"right\":0,\"bottom\":0,\"left\":0},\"scale\":2}}", &s, &t) == 0) {
        CHECK (s_near (s.pdf.width_in, 4) && s_near (s.pdf.height_in, 6.5) && s.pdf.scale_pct == 200,
               "a custom paper in inches: %gx%g", s.pdf.width_in, s.pdf.height_in);
        CHECK (t.width == 384 && t.height == 624, "4x6.5 in is 384x624 CSS px: %dx%d", t.width, t.height);
        capture_spec_free (&s);
    }
    /* full_page false is the default said out loud (easel capture sends it) */
    if (s_ok ("{" S_URL ",\"format\":\"pdf\",\"full_page\":false}", &s, &t) == 0) {
        CHECK (!s.full_page && s.pdf.width_in > 0, "full_page false with pdf");
        capture_spec_free (&s);
    }
    /* a png capture has no pdf part */
    if (s_ok ("{" S_URL "}", &s, &t) == 0) {
        CHECK (s.pdf.width_in == 0 && strcmp (s.format, "png") == 0, "png: no pdf part");
        capture_spec_free (&s);
    }
}

static void
test_bad_fields (void)
{
    s_bad ("{" S_URL ",\"pdf\":{}}", "parameter_invalid", "pdf");
    s_bad ("{" S_URL ",\"format\":\"png\",\"pdf\":{\"landscape\":true}}", "parameter_invalid", "pdf");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":[]}", "parameter_invalid", "pdf");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"paper\":\"A4\"}}", "parameter_unknown", "pdf.paper");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":\"B7\"}}", "parameter_invalid", "pdf.page_size");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":7}}", "parameter_invalid", "pdf.page_size");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":{\"width\":4}}}", "parameter_missing", "pdf.page_size");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":{\"width\":0.5,\"height\":6}}}",
           "parameter_invalid", "pdf.page_size.width");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":{\"width\":5,\"height\":51}}}",
           "parameter_invalid", "pdf.page_size.height");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":{\"width\":5,\"height\":\"6in\"}}}",
           "parameter_invalid", "pdf.page_size.height");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_size\":{\"width\":5,\"height\":6,\"depth\":1}}}",
           "parameter_unknown", "pdf.page_size.depth");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"landscape\":\"yes\"}}", "parameter_invalid", "pdf.landscape");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"print_background\":1}}", "parameter_invalid",
           "pdf.print_background");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"scale\":0.05}}", "parameter_invalid", "pdf.scale");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"scale\":2.5}}", "parameter_invalid", "pdf.scale");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"margin\":1}}", "parameter_invalid", "pdf.margin");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"margin\":{\"top\":11}}}", "parameter_invalid", "pdf.margin.top");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"margin\":{\"left\":-1}}}", "parameter_invalid", "pdf.margin.left");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"margin\":{\"middle\":1}}}", "parameter_unknown", "pdf.margin.middle");
    /* Letter is 8.5 in wide: 4 + 4 leaves half an inch */
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"margin\":{\"left\":4,\"right\":4}}}", "parameter_invalid",
           "pdf.margin");
    /* in landscape the same margins run along 11 in and pass; top + bottom then leave 0.5 in */
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"landscape\":true,\"margin\":{\"top\":4,\"bottom\":4}}}",
           "parameter_invalid", "pdf.margin");
    static const char *ranges [] = { "\"\"", "\"0\"", "\"3-1\"", "\"1,,2\"", "\"1-\"", "\"a\"", "\"1-2;3\"",
                                     "\"100001\"", "5" };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges [0]; i++) {
        char body [256];
        snprintf (body, sizeof body, "{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_ranges\":%s}}", ranges [i]);
        s_bad (body, "parameter_invalid", "pdf.page_ranges");
    }
    char body [1024], list [600] = "";
    for (int i = 1; strlen (list) < 300; i++)
        snprintf (list + strlen (list), sizeof list - strlen (list), "%s%d", i > 1 ? "," : "", i);
    snprintf (body, sizeof body, "{" S_URL ",\"format\":\"pdf\",\"pdf\":{\"page_ranges\":\"%s\"}}", list);
    s_bad (body, "parameter_invalid", "pdf.page_ranges");
}

static void
test_not_for_pdf (void)
{
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"device\":\"iphone\"}", "parameter_invalid", "device");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"background_preset\":\"midnight\"}", "parameter_invalid",
           "background_preset");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"full_page\":true}", "parameter_invalid", "full_page");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"selector\":\"#x\"}", "parameter_invalid", "selector");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"clip\":{\"width\":10,\"height\":10}}", "parameter_invalid", "clip");
    s_bad ("{" S_URL ",\"format\":\"pdf\",\"device_scale_factor\":2}", "parameter_invalid", "device_scale_factor");
}

/* The decoder's rule: a pdf part exactly when format is pdf. */
static void
test_spec_rule (void)
{
    capture_spec_t s;
    memset (&s, 0, sizeof s);
    s.url = "https://example.com/", s.width = 800, s.height = 600, s.dpr = 1;
    snprintf (s.format, sizeof s.format, "pdf");
    size_t len = 0;
    char err [256] = "";
    capture_spec_t back;
    char *text = capture_spec_encode (&s, &len);
    REQUIRE (text, "a spec encodes");
    CHECK (capture_spec_decode (text, len, &back, err) == -1 && strstr (err, "pdf"),
           "format pdf without its pdf part is refused: %s", err);
    free (text);
    s.pdf.width_in = 8.5, s.pdf.height_in = 11, s.pdf.scale_pct = 100;
    snprintf (s.format, sizeof s.format, "png");
    text = capture_spec_encode (&s, &len);
    REQUIRE (text, "a spec encodes");
    CHECK (capture_spec_decode (text, len, &back, err) == -1 && strstr (err, "pdf"),
           "a pdf part with format png is refused: %s", err);
    free (text);
    snprintf (s.format, sizeof s.format, "pdf");
    s.pdf.page_ranges = "2-3";
    text = capture_spec_encode (&s, &len);
    REQUIRE (text, "a spec encodes");
    CHECK (capture_spec_decode (text, len, &back, err) == 0 && back.pdf.scale_pct == 100
           && back.pdf.page_ranges && strcmp (back.pdf.page_ranges, "2-3") == 0, "a pdf spec round-trips: %s", err);
    capture_spec_free (&back);
    free (text);
    s.pdf.scale_pct = 5;           /* under Chromium's 0.1: the decoder names it */
    text = capture_spec_encode (&s, &len);
    REQUIRE (text, "a spec encodes");
    CHECK (capture_spec_decode (text, len, &back, err) == -1 && strstr (err, "scale_pct"),
           "a scale under the cap is refused: %s", err);
    free (text);
}

/* A profile made for framed images still serves a pdf capture, and one
   whose defaults print serves an image capture. */
static void
test_profile_defaults (void)
{
    static const struct { const char *defaults, *body, *format; bool device, frame, pdf; } cases [] = {
        /* framing defaults, a pdf capture: left out */
        { "{\"device\": \"iphone\", \"background_preset\": \"ocean\", \"full_page\": true,"
          " \"device_scale_factor\": 2, \"locale\": \"fr-FR\"}", "{\"format\": \"pdf\"}", "pdf", false, false, false },
        /* the same defaults, an image capture: kept */
        { "{\"device\": \"iphone\", \"background_preset\": \"ocean\", \"locale\": \"fr-FR\"}", "{}", "png",
          true, true, false },
        /* the profile prints: its pdf object kept; an image capture drops it */
        { "{\"format\": \"pdf\", \"pdf\": {\"page_size\": \"A4\"}, \"locale\": \"fr-FR\"}", "{}", "pdf",
          false, false, true },
        { "{\"format\": \"pdf\", \"pdf\": {\"page_size\": \"A4\"}, \"locale\": \"fr-FR\"}",
          "{\"format\": \"jpeg\"}", "jpeg", false, false, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char text [512];
        snprintf (text, sizeof text, "{\"defaults\": %s}", cases [i].defaults);
        json_t *profile = json_loads (text, 0, NULL), *body = json_loads (cases [i].body, 0, NULL);
        REQUIRE (profile && body, "case %zu parses", i);
        json_object_set_new (body, "url", json_string ("https://example.com/report"));
        api_error_t e;
        CHECK (capture_profile_merge (body, profile, &e) == 0, "case %zu merges", i);
        CHECK (json_object_get (body, "locale") != NULL, "case %zu: a default that applies is kept", i);
        CHECK ((json_object_get (body, "device") != NULL) == cases [i].device, "case %zu: device", i);
        CHECK ((json_object_get (body, "background_preset") != NULL) == cases [i].frame, "case %zu: background", i);
        CHECK (strcmp (cases [i].format, "pdf") != 0
               || (!json_object_get (body, "full_page") && !json_object_get (body, "device_scale_factor")),
               "case %zu: no screenshot option with pdf", i);
        CHECK ((json_object_get (body, "pdf") != NULL) == cases [i].pdf, "case %zu: pdf object", i);
        char *merged = json_dumps (body, JSON_COMPACT);
        capture_spec_t s;
        proto_task_spec_t t;
        if (merged && s_ok (merged, &s, &t) == 0) {
            CHECK (strcmp (s.format, cases [i].format) == 0, "case %zu: format %s, expected %s", i, s.format,
                   cases [i].format);
            capture_spec_free (&s);
        }
        free (merged);
        json_decref (body);
        json_decref (profile);
    }
}

int
main (void)
{
    check_case ("defaults", test_defaults);
    check_case ("options", test_options);
    check_case ("bad_fields", test_bad_fields);
    check_case ("not_for_pdf", test_not_for_pdf);
    check_case ("spec_rule", test_spec_rule);
    check_case ("profile_defaults", test_profile_defaults);
    return check_done ("test_capture_pdf");
}
