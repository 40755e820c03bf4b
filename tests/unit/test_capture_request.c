/*  test_capture_request.c: POST /v1/capture bodies -> one capture task.
    Good bodies are parsed and their spec decoded back (capture_spec) with
    the defaults filled in; bad bodies fail with exactly the expected
    status, code and param; the spec decoder refuses out-of-range specs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capture_request.h"
#include "capture_spec.h"

#include "check.h"

static void
s_ok (const char *body, capture_spec_t *spec, proto_create_render_t *cr)
{
    api_error_t e;
    memset (spec, 0, sizeof *spec);
    int rc = capture_request_parse (body, strlen (body), cr, &e);
    CHECK (rc == 0, "%s: expected success, got %d %s param=%s: %s", body, e.status, e.code, e.param, e.message);
    if (rc)
        return;
    CHECK (cr->ntasks == 1, "%s: one task expected, got %d", body, cr->ntasks);
    char err [256] = "";
    rc = capture_spec_decode (cr->tasks [0].spec, cr->tasks [0].spec_len, spec, err);
    CHECK (rc == 0, "%s: the spec must decode: %s", body, err);
}

static void
s_bad (const char *body, int status, const char *code, const char *param)
{
    api_error_t e;
    proto_create_render_t cr;
    int rc = capture_request_parse (body, strlen (body), &cr, &e);
    CHECK (rc == -1, "%s: expected a refusal", body);
    if (rc == 0) {
        proto_create_render_free (&cr);
        return;
    }
    CHECK (e.status == status, "%s: status %d, expected %d", body, e.status, status);
    CHECK (strcmp (e.code, code) == 0, "%s: code %s, expected %s", body, e.code, code);
    CHECK (strcmp (e.param, param) == 0, "%s: param '%s', expected '%s'", body, e.param, param);
    CHECK (cr.ntasks == 0 && cr.tasks == NULL, "%s: out must be zeroed on failure", body);
}

static void
test_defaults (void)
{
    capture_spec_t s;
    proto_create_render_t cr;
    s_ok ("{\"url\":\"https://example.com/dash\"}", &s, &cr);
    CHECK (s.url && strcmp (s.url, "https://example.com/dash") == 0, "url kept");
    CHECK (s.width == 1440 && s.height == 900, "default viewport 1440x900, got %dx%d", s.width, s.height);
    CHECK (s.dpr == 1 && !s.full_page && !s.networkidle && s.delay_ms == 0, "defaults");
    CHECK (strcmp (s.device, "browser-macos") == 0 && strcmp (s.background, "midnight") == 0
           && strcmp (s.format, "png") == 0, "default device/background/format");
    CHECK (cr.sync, "no async: a sync create");
    CHECK (cr.webhook_url == NULL, "no webhook");
    capture_spec_free (&s);
    proto_create_render_free (&cr);
    /* the browser is given the canonical form the gateway checked */
    s_ok ("{\"url\":\"HTTPS://Example.COM:443?q=1\"}", &s, &cr);
    CHECK (s.url && strcmp (s.url, "https://example.com/?q=1") == 0, "canonical url, got %s", s.url);
    capture_spec_free (&s);
    proto_create_render_free (&cr);

    s_ok ("{\"url\":\"http://a.example/x\",\"device\":\"iphone\"}", &s, &cr);
    CHECK (s.width == 393 && s.height == 852, "iphone default viewport, got %dx%d", s.width, s.height);
    CHECK (s.dpr == 3, "iphone default scale 3 (1179x2556 device px), got %d", s.dpr);
    capture_spec_free (&s);
    proto_create_render_free (&cr);

    /* every device: its own viewport and scale */
    static const struct { const char *device; int w, h, dpr; } devs [] = {
        { "android_phone", 412, 915, 3 }, { "ipad", 820, 1093, 2 }, { "android_tablet", 800, 1280, 2 },
        { "mac", 1440, 900, 2 }, { "browser-macos", 1440, 900, 1 }, { "none", 1440, 900, 1 },
    };
    for (size_t i = 0; i < sizeof devs / sizeof devs [0]; i++) {
        char body [128];
        snprintf (body, sizeof body, "{\"url\":\"http://a.example/x\",\"device\":\"%s\"}", devs [i].device);
        s_ok (body, &s, &cr);
        CHECK (s.width == devs [i].w && s.height == devs [i].h && s.dpr == devs [i].dpr,
               "%s: %dx%d at %d, got %dx%d at %d", devs [i].device, devs [i].w, devs [i].h, devs [i].dpr,
               s.width, s.height, s.dpr);
        capture_spec_free (&s);
        proto_create_render_free (&cr);
    }
    /* a stated factor wins; a large viewport lowers the default one instead of failing */
    s_ok ("{\"url\":\"http://a.example/x\",\"device\":\"iphone\",\"device_scale_factor\":1}", &s, &cr);
    CHECK (s.dpr == 1, "stated device_scale_factor 1 kept, got %d", s.dpr);
    capture_spec_free (&s);
    proto_create_render_free (&cr);
    s_ok ("{\"url\":\"http://a.example/x\",\"device\":\"iphone\",\"viewport\":{\"width\":4000,"
          "\"height\":4000}}", &s, &cr);
    CHECK (s.dpr == 1, "4000x4000 on iphone: the default scale drops to 1, got %d", s.dpr);
    capture_spec_free (&s);
    proto_create_render_free (&cr);
}

static void
test_everything (void)
{
    capture_spec_t s;
    proto_create_render_t cr;
    s_ok ("{\"url\":\"https://example.com/\",\"async\":true,\"webhook_url\":\"https://h.example/hook\","
          "\"device\":\"android_phone\",\"background_preset\":\"sunset\",\"viewport\":{\"width\":100,"
          "\"height\":4000},\"device_scale_factor\":3,\"full_page\":true,\"wait_until\":\"networkidle\","
          "\"delay_ms\":10000,\"format\":\"webp\",\"headers\":{\"X-Token\":\"s3cret\",\"Cookie\":\"a=b\"}}",
          &s, &cr);
    CHECK (!cr.sync && cr.webhook_url && strcmp (cr.webhook_url, "https://h.example/hook") == 0, "async + hook");
    CHECK (s.width == 100 && s.height == 4000 && s.dpr == 3 && s.full_page && s.networkidle
           && s.delay_ms == 10000, "options carried");
    CHECK (strcmp (s.device, "android_phone") == 0 && strcmp (s.background, "sunset") == 0
           && strcmp (s.format, "webp") == 0, "choices carried");
    CHECK (s.nheaders == 2, "two headers, got %d", s.nheaders);
    bool found = false;
    for (int i = 0; i < s.nheaders; i++)
        found |= strcmp (s.header_names [i], "X-Token") == 0 && strcmp (s.header_values [i], "s3cret") == 0;
    CHECK (found, "X-Token carried");
    CHECK (strcmp (cr.tasks [0].format, "webp") == 0 && cr.tasks [0].width == 100, "task columns");
    capture_spec_free (&s);
    proto_create_render_free (&cr);
}

static void
test_bad (void)
{
    s_bad ("{", 400, "invalid_json", "");
    s_bad ("[]", 422, "parameter_invalid", "");
    s_bad ("{}", 422, "parameter_missing", "url");
    s_bad ("{\"url\":\"ftp://example.com/x\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":\"javascript:alert(1)\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":42}", 422, "parameter_invalid", "url");
    /* forms URL parsers read differently (web_url.h): refused before anything runs */
    s_bad ("{\"url\":\"http://127.0.0.1:80\\\\@example.com/\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":\"http://user:pw@example.com/\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":\"http://ex%61mple.com/\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":\"http://0x7f.1/\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":\"http://2130706433/\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":\"http://\\uff11\\uff12\\uff17.0.0.1/\"}", 422, "parameter_invalid", "url");
    s_bad ("{\"url\":\"https://e.x/\",\"viewport\":{\"width\":0,\"height\":900}}", 422, "parameter_invalid", "viewport.width");
    s_bad ("{\"url\":\"https://e.x/\",\"viewport\":{\"width\":99}}", 422, "parameter_invalid", "viewport.width");
    s_bad ("{\"url\":\"https://e.x/\",\"viewport\":{\"height\":100000}}", 422, "parameter_invalid", "viewport.height");
    s_bad ("{\"url\":\"https://e.x/\",\"viewport\":{\"width\":1.5}}", 422, "parameter_invalid", "viewport.width");
    s_bad ("{\"url\":\"https://e.x/\",\"viewport\":{\"depth\":3}}", 422, "parameter_unknown", "viewport");
    s_bad ("{\"url\":\"https://e.x/\",\"viewport\":7}", 422, "parameter_invalid", "viewport");
    s_bad ("{\"url\":\"https://e.x/\",\"device\":\"toaster\"}", 422, "parameter_invalid", "device");
    s_bad ("{\"url\":\"https://e.x/\",\"device_scale_factor\":0}", 422, "parameter_invalid", "device_scale_factor");
    s_bad ("{\"url\":\"https://e.x/\",\"device_scale_factor\":4}", 422, "parameter_invalid", "device_scale_factor");
    s_bad ("{\"url\":\"https://e.x/\",\"viewport\":{\"width\":4000,\"height\":4000},\"device_scale_factor\":2}",
           422, "parameter_invalid", "device_scale_factor");
    s_bad ("{\"url\":\"https://e.x/\",\"delay_ms\":-1}", 422, "parameter_invalid", "delay_ms");
    s_bad ("{\"url\":\"https://e.x/\",\"delay_ms\":10001}", 422, "parameter_invalid", "delay_ms");
    s_bad ("{\"url\":\"https://e.x/\",\"wait_until\":\"domcontentloaded\"}", 422, "parameter_invalid", "wait_until");
    s_bad ("{\"url\":\"https://e.x/\",\"format\":\"gif\"}", 422, "parameter_invalid", "format");
    s_bad ("{\"url\":\"https://e.x/\",\"full_page\":1}", 422, "parameter_invalid", "full_page");
    s_bad ("{\"url\":\"https://e.x/\",\"async\":\"yes\"}", 422, "parameter_invalid", "async");
    s_bad ("{\"url\":\"https://e.x/\",\"background_preset\":\"plaid\"}", 422, "parameter_invalid", "background_preset");
    s_bad ("{\"url\":\"https://e.x/\",\"webhook_url\":\"mailto:x@y\"}", 422, "parameter_invalid", "webhook_url");
    s_bad ("{\"url\":\"https://e.x/\",\"headers\":[]}", 422, "parameter_invalid", "headers");
    s_bad ("{\"url\":\"https://e.x/\",\"headers\":{\"X-A\":1}}", 422, "parameter_invalid", "headers.X-A");
    s_bad ("{\"url\":\"https://e.x/\",\"headers\":{\"X-A\":\"a\\r\\nHost: evil\"}}", 422, "parameter_invalid", "headers.X-A");
    s_bad ("{\"url\":\"https://e.x/\",\"headers\":{\"a b\":\"x\"}}", 422, "parameter_invalid", "headers.a b");
    s_bad ("{\"url\":\"https://e.x/\",\"shadow\":true}", 422, "parameter_unknown", "shadow");
    /* a URL over 2048 bytes */
    char *big = malloc (2200);
    snprintf (big, 2200, "{\"url\":\"https://e.x/%02100d\"}", 0);
    s_bad (big, 422, "parameter_invalid", "url");
    /* 21 headers */
    char hdrs [2048] = "{\"url\":\"https://e.x/\",\"headers\":{";
    for (int i = 0; i < 21; i++) {
        size_t n = strlen (hdrs);
        snprintf (hdrs + n, sizeof hdrs - n, "%s\"X-%d\":\"v\"", i ? "," : "", i);
    }
    size_t used = strlen (hdrs);
    snprintf (hdrs + used, sizeof hdrs - used, "}}");
    s_bad (hdrs, 422, "parameter_invalid", "headers");
    free (big);
}

static void
test_spec_decode (void)
{
    capture_spec_t s;
    char err [256];
    const char *bad [] = {
        "{}", "[1]", "not json",
        "{\"url\":\"https://e.x/\",\"width\":99,\"height\":900,\"dpr\":1,\"delay_ms\":0,\"format\":\"png\",\"device\":\"none\",\"background\":\"midnight\"}",
        "{\"url\":\"https://e.x/\",\"width\":100,\"height\":900,\"dpr\":9,\"delay_ms\":0,\"format\":\"png\",\"device\":\"none\",\"background\":\"midnight\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        CHECK (capture_spec_decode (bad [i], strlen (bad [i]), &s, err) == -1, "spec %zu must be refused", i);
        CHECK (s.url == NULL && s.nheaders == 0, "spec %zu: zeroed on failure", i);
    }
    char host [64];
    capture_spec_host ("https://user:pw@example.com:8443/a?b", host, sizeof host);
    CHECK (strcmp (host, "example.com:8443") == 0, "host: %s", host);
    capture_spec_host ("not a url", host, sizeof host);
    CHECK (host [0] == '\0', "no host: %s", host);
}

/* the page options: each carried into the spec and back */
static void
test_options (void)
{
    capture_spec_t s;
    proto_create_render_t cr;
    s_ok ("{\"url\":\"https://app.example.com/dash\",\"selector\":\"#chart\",\"padding\":8,"
          "\"block\":[\"ads\",\"cookie_banners\"],\"block_urls\":[\"*.evil.example/*\"],"
          "\"block_resources\":[\"Font\",\"Media\"],\"hide\":[\".a\"],\"remove\":[\".b\",\".c\"],"
          "\"click\":[{\"selector\":\"#ok\"},{\"selector\":\"#maybe\",\"optional\":true}],"
          "\"css\":\"body{color:red}\",\"js\":\"1+1\",\"wait_for\":\"#late\",\"wait_for_hidden\":\".spin\","
          "\"color_scheme\":\"dark\",\"reduced_motion\":true,\"media\":\"print\","
          "\"cookies\":[{\"name\":\"sid\",\"value\":\"s3cret\",\"domain\":\"example.com\",\"path\":\"/\","
          "\"secure\":true,\"http_only\":true,\"expires\":2000000000},{\"name\":\"b\",\"value\":\"\"}],"
          "\"local_storage\":{\"token\":\"abc\",\"theme\":\"dark\"},\"user_agent\":\"Easel/1\","
          "\"locale\":\"fr-FR\",\"timezone\":\"Europe/Paris\","
          "\"geolocation\":{\"latitude\":48.85,\"longitude\":2.35,\"accuracy\":10}}", &s, &cr);
    CHECK (s.selector && strcmp (s.selector, "#chart") == 0 && s.padding == 8, "selector + padding");
    CHECK (s.block == (CAPTURE_BLOCK_ADS | CAPTURE_BLOCK_COOKIE_BANNERS), "block bits, got %u", s.block);
    CHECK (s.block_urls.n == 1 && s.block_resources.n == 2 && s.hide.n == 1 && s.remove.n == 2, "lists");
    CHECK (s.clicks.n == 2 && s.click_optional == 2u && strcmp (s.clicks.v [1], "#maybe") == 0,
           "clicks, optional bit 1, got %u", s.click_optional);
    CHECK (s.css && s.js && strcmp (s.wait_for, "#late") == 0 && strcmp (s.wait_for_hidden, ".spin") == 0, "css/js/waits");
    CHECK (strcmp (s.color_scheme, "dark") == 0 && s.reduced_motion && strcmp (s.media, "print") == 0, "media");
    CHECK (s.ncookies == 2 && strcmp (s.cookies [0].value, "s3cret") == 0 && s.cookies [0].secure
           && s.cookies [0].http_only && s.cookies [0].expires == 2000000000
           && strcmp (s.cookies [0].domain, "example.com") == 0 && s.cookies [1].domain == NULL, "cookies");
    CHECK (s.nstorage == 2 && strcmp (s.storage_values [0], "abc") == 0, "local_storage");
    CHECK (strcmp (s.user_agent, "Easel/1") == 0 && strcmp (s.locale, "fr-FR") == 0
           && strcmp (s.timezone, "Europe/Paris") == 0, "ua/locale/timezone");
    CHECK (s.has_geo && s.latitude > 48.8 && s.longitude < 2.4 && s.accuracy == 10, "geolocation");
    capture_spec_free (&s);
    proto_create_render_free (&cr);
    s_ok ("{\"url\":\"https://e.x/\",\"clip\":{\"x\":10,\"y\":20,\"width\":300,\"height\":200}}", &s, &cr);
    CHECK (s.has_clip && s.clip_x == 10 && s.clip_y == 20 && s.clip_w == 300 && s.clip_h == 200, "clip");
    CHECK (!s.selector && s.ncookies == 0 && s.block == 0, "nothing else");
    capture_spec_free (&s);
    proto_create_render_free (&cr);

    const char *u = "{\"url\":\"https://app.example.com/\",";
    static const struct { const char *tail, *code, *param; } bad [] = {
        { "\"selector\":\"\"}", "parameter_invalid", "selector" },
        { "\"padding\":4}", "parameter_invalid", "padding" },
        { "\"selector\":\"#a\",\"padding\":501}", "parameter_invalid", "padding" },
        { "\"selector\":\"#a\",\"clip\":{\"width\":1,\"height\":1}}", "parameter_invalid", "clip" },
        { "\"clip\":{\"width\":0,\"height\":10}}", "parameter_invalid", "clip.width" },
        { "\"clip\":{\"x\":-1,\"width\":5,\"height\":10}}", "parameter_invalid", "clip.x" },
        { "\"clip\":{\"width\":5}}", "parameter_missing", "clip" },
        { "\"clip\":{\"width\":5,\"height\":5,\"z\":1}}", "parameter_unknown", "clip" },
        { "\"block\":[\"ads\",\"popups\"]}", "parameter_invalid", "block[1]" },
        { "\"block\":\"ads\"}", "parameter_invalid", "block" },
        { "\"block_resources\":[\"image\"]}", "parameter_invalid", "block_resources[0]" },
        { "\"block_urls\":[\"\"]}", "parameter_invalid", "block_urls[0]" },
        { "\"hide\":[1]}", "parameter_invalid", "hide[0]" },
        { "\"remove\":{}}", "parameter_invalid", "remove" },
        { "\"click\":[{\"selector\":\"#a\"},{\"optional\":true}]}", "parameter_invalid", "click[1]" },
        { "\"click\":[{\"selector\":\"#a\",\"optional\":\"yes\"}]}", "parameter_invalid", "click[0]" },
        { "\"css\":5}", "parameter_invalid", "css" },
        { "\"wait_for\":\"\"}", "parameter_invalid", "wait_for" },
        { "\"wait_for_hidden\":[]}", "parameter_invalid", "wait_for_hidden" },
        { "\"color_scheme\":\"blue\"}", "parameter_invalid", "color_scheme" },
        { "\"reduced_motion\":\"yes\"}", "parameter_invalid", "reduced_motion" },
        { "\"media\":\"tv\"}", "parameter_invalid", "media" },
        { "\"cookies\":{}}", "parameter_invalid", "cookies" },
        { "\"cookies\":[{\"name\":\"a b\",\"value\":\"x\"}]}", "parameter_invalid", "cookies[0].name" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x;y\"}]}", "parameter_invalid", "cookies[0].value" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"tracker.example\"}]}", "parameter_invalid", "cookies[0].domain" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"com\"}]}", "parameter_invalid", "cookies[0].domain" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"ple.com\"}]}", "parameter_invalid", "cookies[0].domain" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"path\":\"x\"}]}", "parameter_invalid", "cookies[0].path" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"expires\":-5}]}", "parameter_invalid", "cookies[0].expires" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"secure\":1}]}", "parameter_invalid", "cookies[0].secure" },
        { "\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"samesite\":\"Lax\"}]}", "parameter_unknown", "cookies[0].samesite" },
        { "\"local_storage\":[]}", "parameter_invalid", "local_storage" },
        { "\"local_storage\":{\"k\":1}}", "parameter_invalid", "local_storage.k" },
        { "\"user_agent\":\"a\\nb\"}", "parameter_invalid", "user_agent" },
        { "\"locale\":\"english\"}", "parameter_invalid", "locale" },
        { "\"timezone\":\"Mars/Olympus\"}", "parameter_invalid", "timezone" },
        { "\"timezone\":\"../../etc/passwd\"}", "parameter_invalid", "timezone" },
        { "\"geolocation\":{\"latitude\":91,\"longitude\":0}}", "parameter_invalid", "geolocation.latitude" },
        { "\"geolocation\":{\"latitude\":1}}", "parameter_invalid", "geolocation.longitude" },
        { "\"geolocation\":5}", "parameter_invalid", "geolocation" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char body [512];
        snprintf (body, sizeof body, "%s%s", u, bad [i].tail);
        s_bad (body, 422, bad [i].code, bad [i].param);
    }
    /* a cookie for the page's own host and for a parent domain is fine; an IP host only itself */
    s_ok ("{\"url\":\"http://127.0.0.1:8080/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"127.0.0.1\"}]}", &s, &cr);
    capture_spec_free (&s);
    proto_create_render_free (&cr);
    s_bad ("{\"url\":\"http://127.0.0.1:8080/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"0.0.1\"}]}",
           422, "parameter_invalid", "cookies[0].domain");
    s_ok ("{\"url\":\"https://a.b.example.com/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\".b.example.com\"}]}", &s, &cr);
    capture_spec_free (&s);
    proto_create_render_free (&cr);
    /* a public suffix is nobody's parent domain: the cookie would go to every site under it */
    s_bad ("{\"url\":\"https://shop.example.co.uk/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\".co.uk\"}]}",
           422, "parameter_invalid", "cookies[0].domain");
    s_bad ("{\"url\":\"https://me.github.io/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"github.io\"}]}",
           422, "parameter_invalid", "cookies[0].domain");
    s_bad ("{\"url\":\"https://a.example.com/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"COM\"}]}",
           422, "parameter_invalid", "cookies[0].domain");
    s_ok ("{\"url\":\"https://shop.example.co.uk/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\".example.co.uk\"}]}", &s, &cr);
    capture_spec_free (&s);
    proto_create_render_free (&cr);
    /* a host that is itself a listed suffix keeps its host-only cookie */
    s_ok ("{\"url\":\"https://github.io/\",\"cookies\":[{\"name\":\"a\",\"value\":\"x\",\"domain\":\"github.io\"}]}", &s, &cr);
    capture_spec_free (&s);
    proto_create_render_free (&cr);
}

int
main (void)
{
    check_case ("defaults", test_defaults);
    check_case ("everything", test_everything);
    check_case ("options", test_options);
    check_case ("bad", test_bad);
    check_case ("spec_decode", test_spec_decode);
    return check_done ("test_capture_request");
}
