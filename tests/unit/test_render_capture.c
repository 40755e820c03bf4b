/*  test_render_capture.c: a render slide whose screenshot is {"capture":
    {...}}. Each image's task carries a capture spec made for it: the url's
    {locale} and {preset} substituted, the canvas over the device's scale as
    the viewport (appstore.iphone_6_9 with an iPhone: 440x956 CSS px at 3x),
    the image's locale, device none, png, the page options kept; the task is
    marked browser (only capturing renderers lease it); other slides are
    not. Options the render sets, secrets and bad values are 422 naming
    slides[i].screenshot.capture.<field>. */
#include "check.h"
#include <string.h>
#include "capture_spec.h"
#include "render_request.h"

#define S_CANVAS "\"canvas\":{\"preset\":\"appstore.iphone_6_9\"}"

static void
s_bad (const char *body, const char *code, const char *param)
{
    api_error_t e;
    proto_create_render_t cr;
    int rc = render_request_parse (body, strlen (body), &cr, &e);
    CHECK (rc == -1, "%s: a refusal", body);
    if (rc == 0) {
        proto_create_render_free (&cr);
        return;
    }
    CHECK (e.status == 422 && strcmp (e.code, code) == 0, "%s: 422 %s, got %d %s", body, code, e.status, e.code);
    CHECK (strcmp (e.param, param) == 0, "%s: param '%s', got '%s' (%s)", body, param, e.param, e.message);
}

static void
test_expansion (void)
{
    const char *body = "{" S_CANVAS ",\"matrix\":{\"locales\":[\"en-US\",\"fr-FR\"],"
                       "\"presets\":[\"appstore.iphone_6_9\",\"play.phone\"]},"
                       "\"slides\":[{\"headline\":{\"lines\":[\"Hi\"]},\"screenshot\":{\"capture\":{"
                       "\"url\":\"https://app.example.com/{locale}/home?p={preset}\",\"block\":[\"cookie_banners\"],"
                       "\"hide\":[\"#chat\"],\"wait_until\":\"networkidle\"}}},"
                       "{\"headline\":{\"lines\":[\"Text only\"]}}]}";
    api_error_t e;
    proto_create_render_t cr;
    int rc = render_request_parse (body, strlen (body), &cr, &e);
    REQUIRE (rc == 0, "the render parses: %d %s %s", e.status, e.param, e.message);
    CHECK (cr.ntasks == 8, "2 slides x 2 locales x 2 presets: %d tasks", cr.ntasks);
    int captures = 0;
    for (int32_t i = 0; i < cr.ntasks; i++) {
        const proto_task_spec_t *t = &cr.tasks [i];
        proto_slide_t sl;
        char err [PROTO_ERR_MAX] = "";
        REQUIRE (proto_slide_decode (t->spec, t->spec_len, &sl, err) == 0, "task %d decodes: %s", (int) i, err);
        CHECK (t->browser == (sl.capture != NULL), "task %d: browser exactly when its slide captures", (int) i);
        CHECK ((t->slide == 0) == (sl.capture != NULL), "task %d: only slide 0 captures", (int) i);
        if (sl.capture) {
            captures++;
            capture_spec_t cs;
            CHECK (capture_spec_decode ((const char *) sl.capture, sl.capture_len, &cs, err) == 0,
                   "task %d: its capture spec decodes: %s", (int) i, err);
            char url [256];
            snprintf (url, sizeof url, "https://app.example.com/%s/home?p=%s", t->locale, t->preset);
            CHECK (cs.url && strcmp (cs.url, url) == 0, "task %d: url %s, expected %s", (int) i, cs.url, url);
            CHECK (cs.locale && strcmp (cs.locale, t->locale) == 0, "task %d: locale %s", (int) i, cs.locale);
            CHECK (strcmp (cs.device, "none") == 0 && strcmp (cs.format, "png") == 0, "task %d: unframed png", (int) i);
            CHECK (cs.networkidle && cs.block == CAPTURE_BLOCK_COOKIE_BANNERS && cs.hide.n == 1,
                   "task %d: the page options kept", (int) i);
            if (strcmp (t->preset, "appstore.iphone_6_9") == 0)
                CHECK (cs.width == 440 && cs.height == 956 && cs.dpr == 3,
                       "6.9\" iPhone: 440x956 at 3x, got %dx%d at %d", cs.width, cs.height, cs.dpr);
            else
                CHECK (cs.dpr * cs.width == t->width && cs.dpr * cs.height == t->height,
                       "%s: the canvas %dx%d over the scale, got %dx%d at %d", t->preset, t->width, t->height,
                       cs.width, cs.height, cs.dpr);
            capture_spec_free (&cs);
        }
        proto_slide_free (&sl);
    }
    CHECK (captures == 4, "4 images capture, got %d", captures);
    proto_create_render_free (&cr);
}

static void
test_refusals (void)
{
    static const struct { const char *capture, *code, *param; } cases [] = {
        { "{\"url\":\"https://e.x/\",\"viewport\":{\"width\":300,\"height\":600}}", "parameter_invalid",
          "slides[0].screenshot.capture.viewport" },
        { "{\"url\":\"https://e.x/\",\"device_scale_factor\":2}", "parameter_invalid",
          "slides[0].screenshot.capture.device_scale_factor" },
        { "{\"url\":\"https://e.x/\",\"format\":\"pdf\"}", "parameter_invalid", "slides[0].screenshot.capture.format" },
        { "{\"url\":\"https://e.x/\",\"locale\":\"de-DE\"}", "parameter_invalid", "slides[0].screenshot.capture.locale" },
        { "{\"url\":\"https://e.x/\",\"headers\":{\"X-T\":\"s\"}}", "parameter_invalid",
          "slides[0].screenshot.capture.headers" },
        { "{\"url\":\"https://e.x/\",\"cookies\":[]}", "parameter_invalid", "slides[0].screenshot.capture.cookies" },
        { "{\"url\":\"https://e.x/\",\"full_page\":true}", "parameter_invalid", "slides[0].screenshot.capture.full_page" },
        { "{\"url\":\"ftp://e.x/\"}", "parameter_invalid", "slides[0].screenshot.capture.url" },
        { "{\"url\":\"https://e.x/\",\"delay_ms\":99999}", "parameter_invalid", "slides[0].screenshot.capture.delay_ms" },
        { "{\"url\":\"https://e.x/\",\"nonsense\":1}", "parameter_unknown", "slides[0].screenshot.capture.nonsense" },
        { "{\"hide\":[\"x\"]}", "parameter_invalid", "slides[0].screenshot.capture" },
        { "\"https://e.x/\"", "parameter_invalid", "slides[0].screenshot.capture" },
        { "{\"url\":\"https://e.x/{locale}\"}", "parameter_invalid", "slides[0].screenshot.capture.url" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char body [512];
        snprintf (body, sizeof body, "{" S_CANVAS ",\"slides\":[{\"headline\":{\"lines\":[\"x\"]},"
                  "\"screenshot\":{\"capture\":%s}}]}", cases [i].capture);
        s_bad (body, cases [i].code, cases [i].param);
    }
    /* one of url, data, file_id or capture */
    s_bad ("{" S_CANVAS ",\"slides\":[{\"screenshot\":{\"url\":\"https://e.x/a.png\","
           "\"capture\":{\"url\":\"https://e.x/\"}}}]}", "parameter_invalid", "slides[0].screenshot");
    /* a canvas whose viewport at the device's scale is under 100 CSS px */
    s_bad ("{\"canvas\":{\"width\":200,\"height\":600},\"slides\":[{\"device\":\"iphone\",\"screenshot\":"
           "{\"capture\":{\"url\":\"https://e.x/\"}}}]}", "parameter_invalid", "slides[0].screenshot.capture");
}

int
main (void)
{
    check_case ("expansion", test_expansion);
    check_case ("refusals", test_refusals);
    return check_done ("test_render_capture");
}
