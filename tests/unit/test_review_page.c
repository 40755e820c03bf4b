/*  test_review_page.c: the review gate's gateway pieces (review_page.h):
    decision validation (JSON and form) naming the field at fault, the form
    token bound to a page nonce, the cross-site check, HTML escaping, the
    page's data block that no user text can break out of, and the REVIEW
    message and the render's review fields surviving the bus codec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "check.h"
#include "review_page.h"
#include "render_json.h"

static void
s_json_bad (const char *body, int status, const char *code, const char *param)
{
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    api_error_t e;
    memset (&e, 0, sizeof e);
    int rc = review_page_parse_json (body, strlen (body), &rq, &e);
    CHECK (rc == -1 && e.status == status && strcmp (e.code, code) == 0 && strcmp (e.param, param) == 0,
           "%s: want %d %s param=%s, got rc %d %d %s param=%s", body, status, code, param, rc,
           e.status, e.code, e.param);
    proto_review_free (&rq);
}

static void
test_json (void)
{
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    api_error_t e;
    const char *ok = "{\"status\":\"changes_requested\",\"comment\":\"Fix <b>it</b>\",\"by\":\"Dana\"}";
    CHECK (review_page_parse_json (ok, strlen (ok), &rq, &e) == 0, "a good decision: %s", e.message);
    CHECK (strcmp (rq.action, "decide") == 0 && strcmp (rq.status, "changes_requested") == 0
           && rq.comment && strcmp (rq.comment, "Fix <b>it</b>") == 0 && rq.by && strcmp (rq.by, "Dana") == 0,
           "decision fields copied");
    proto_review_free (&rq);
    const char *nulls = "{\"status\":\"approved\",\"comment\":null,\"by\":\"\"}";
    CHECK (review_page_parse_json (nulls, strlen (nulls), &rq, &e) == 0 && !rq.comment && !rq.by,
           "null and empty mean none");
    proto_review_free (&rq);

    s_json_bad ("{}", 422, "parameter_missing", "status");
    s_json_bad ("", 422, "parameter_missing", "status");
    s_json_bad ("{\"status\":\"maybe\"}", 422, "parameter_invalid", "status");
    s_json_bad ("{\"status\":1}", 422, "parameter_invalid", "status");
    s_json_bad ("{\"status\":\"approved\",\"colour\":1}", 422, "parameter_unknown", "colour");
    s_json_bad ("{\"status\":\"approved\",\"by\":7}", 422, "parameter_invalid", "by");
    s_json_bad ("{\"status\":\"approved\",\"by\":\"a\\u0007b\"}", 422, "parameter_invalid", "by");
    s_json_bad ("{\"status\":", 400, "invalid_json", "");
    char big [2100];
    int n = snprintf (big, sizeof big, "{\"status\":\"approved\",\"comment\":\"");
    memset (big + n, 'x', 2001);
    snprintf (big + n + 2001, sizeof big - (size_t) n - 2001, "\"}");
    s_json_bad (big, 422, "parameter_invalid", "comment");
}

static void
test_form (void)
{
    proto_review_t rq;
    memset (&rq, 0, sizeof rq);
    api_error_t e;
    char nonce [65], token [65];
    const char *form = "status=approved&comment=Ship+it%21+%3Cb%3E&by=Pat&nonce=00ff&token=abc&x=1";
    CHECK (review_page_parse_form (form, strlen (form), &rq, nonce, token, &e) == 0, "a good form: %s", e.message);
    CHECK (strcmp (rq.status, "approved") == 0 && rq.comment && strcmp (rq.comment, "Ship it! <b>") == 0
           && strcmp (nonce, "00ff") == 0 && strcmp (token, "abc") == 0, "form decoded: %s", rq.comment);
    proto_review_free (&rq);
    const char *bad = "status=approved&comment=%ZZ";
    CHECK (review_page_parse_form (bad, strlen (bad), &rq, nonce, token, &e) == -1 && e.status == 422
           && strcmp (e.param, "comment") == 0, "a bad %% escape names comment");
    const char *nul = "status=approved&by=a%00b";
    CHECK (review_page_parse_form (nul, strlen (nul), &rq, nonce, token, &e) == -1 && e.status == 422
           && strcmp (e.param, "by") == 0, "a NUL in by is refused, got %d %s", e.status, e.param);
    const char *none = "comment=x";
    CHECK (review_page_parse_form (none, strlen (none), &rq, nonce, token, &e) == -1 && e.status == 422
           && strcmp (e.code, "parameter_missing") == 0, "a form without status");
    proto_review_free (&rq);
}

static void
test_token_origin_escape (void)
{
    char nonce [REVIEW_NONCE_HEX + 1], other [REVIEW_NONCE_HEX + 1], token [65];
    review_page_nonce (nonce);
    review_page_nonce (other);
    CHECK (strlen (nonce) == REVIEW_NONCE_HEX && strcmp (nonce, other) != 0, "nonces are fresh");
    const char *sig = "9f2c000000000000000000000000000000000000000000000000000000000001";
    const char *id = "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H";
    review_page_token (sig, id, nonce, token);
    CHECK (review_page_token_ok (sig, id, nonce, token), "the page's own token passes");
    CHECK (!review_page_token_ok (sig, id, other, token), "another nonce fails");
    CHECK (!review_page_token_ok (sig, "rnd_01KNS1WNPW9FCHZSK4XNTHMB0J", nonce, token), "another render fails");
    CHECK (!review_page_token_ok ("8f2c000000000000000000000000000000000000000000000000000000000001", id,
                                  nonce, token), "another link fails");
    CHECK (!review_page_token_ok (sig, id, "", token) && !review_page_token_ok (sig, id, nonce, ""),
           "empty nonce or token fails");

    const char *pub = "https://easel.example.com:8443/base";
    CHECK (review_page_same_origin (NULL, NULL, pub), "no headers: allowed (the token still decides)");
    CHECK (review_page_same_origin ("https://easel.example.com:8443", "same-origin", pub), "same origin");
    CHECK (review_page_same_origin ("HTTPS://EASEL.EXAMPLE.COM:8443", NULL, pub), "origin case-insensitive");
    CHECK (!review_page_same_origin ("https://easel.example.com", NULL, pub), "another port");
    CHECK (!review_page_same_origin ("https://easel.example.com:8443.evil.io", NULL, pub), "a longer host");
    CHECK (!review_page_same_origin ("null", NULL, pub), "Origin: null");
    CHECK (!review_page_same_origin (NULL, "cross-site", pub) && !review_page_same_origin (NULL, "same-site", pub),
           "Sec-Fetch-Site cross-site / same-site");

    char *esc = review_page_escape ("<a href=\"x\">Tom & Jerry's</a>");
    CHECK (esc && strcmp (esc, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;") == 0,
           "escape: %s", esc ? esc : "(null)");
    free (esc);
    size_t len = 0;
    char *page = review_page_error ("Bad <link>", "It was </p><script>", &len);
    CHECK (page && !strstr (page, "<script>") && strstr (page, "Bad &lt;link&gt;") && len == strlen (page),
           "error page escapes its text");
    free (page);
}

static void
test_page_and_codec (void)
{
    proto_render_t r;
    memset (&r, 0, sizeof r);
    snprintf (r.id, sizeof r.id, "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H");
    snprintf (r.status, sizeof r.status, "succeeded");
    snprintf (r.webhook_status, sizeof r.webhook_status, "none");
    r.metadata_json = strdup ("{\"note\":\"</script><script>alert(1)</script>&\"}");
    snprintf (r.review_status, sizeof r.review_status, "approved");
    r.review_comment = strdup ("fine </script>");
    r.review_by = strdup ("Dana");
    r.review_decided_at_ms = 1767225600000;
    r.review_exp = 1767830400;
    snprintf (r.review_sig, sizeof r.review_sig, "%064d", 7);
    char nonce [REVIEW_NONCE_HEX + 1];
    review_page_nonce (nonce);
    size_t len = 0;
    review_link_t link = { .exp = r.review_exp };
    memcpy (link.sig, r.review_sig, sizeof link.sig);
    char *html = review_page_html (&r, "http://127.0.0.1:8080", &link, NULL, nonce, &len);
    CHECK (html && len == strlen (html), "the page builds");
    if (html) {
        /* one </script> only per script element the template has (two), none from the data */
        int closes = 0;
        for (const char *p = html; (p = strstr (p, "</script>")); p++)
            closes++;
        CHECK (closes == 2, "user text closed a script element (%d </script>)", closes);
        CHECK (strstr (html, "\\u003c/script\\u003e") && !strstr (html, "{{"), "data escaped, template filled");
        char want [128];
        snprintf (want, sizeof want, "<script nonce=\"%s\">", nonce);
        CHECK (strstr (html, want) != NULL, "the script carries the page nonce");
    }
    free (html);

    /* a link that names its reviewer and an earlier render: the query
       carries both (escaped), parses back, and the page's data says them */
    snprintf (link.by, sizeof link.by, "Dana & </script> Ø");
    snprintf (link.since, sizeof link.since, "rnd_01KNS1WNPW9FCHZSK4XNTHMB0A");
    char q [REVIEW_LINK_QUERY_MAX];
    review_link_t back_link;
    CHECK (review_link_query (&link, q, sizeof q) == 0 && strstr (q, "&by=Dana%20%26%20%3C%2Fscript%3E%20%C3%98")
           && strstr (q, "&since=rnd_01KNS1WNPW9FCHZSK4XNTHMB0A"), "link query: %s", q);
    CHECK (review_link_parse (q, &back_link) == 0 && back_link.exp == link.exp
           && strcmp (back_link.by, link.by) == 0 && strcmp (back_link.since, link.since) == 0
           && strcmp (back_link.sig, link.sig) == 0, "the link query parses back");
    json_t *changes = json_pack ("{s:s, s:[{s:s}]}", "since", link.since, "images", "change", "changed");
    html = review_page_html (&r, "http://127.0.0.1:8080", &link, changes, nonce, &len);
    json_decref (changes);
    CHECK (html && strstr (html, "Dana \\u0026 \\u003c/script\\u003e") && strstr (html, "\"changes\"")
           && strstr (html, "since=rnd_01KNS1WNPW9FCHZSK4XNTHMB0A"), "the page carries by, since and changes");
    free (html);
    static const char *const bad [] = {
        "sig=0000000000000000000000000000000000000000000000000000000000000007",           /* no exp */
        "exp=1&sig=00",                                                                     /* short sig */
        "exp=1&sig=0000000000000000000000000000000000000000000000000000000000000007&since=img_x", /* not a render */
        "exp=1&sig=0000000000000000000000000000000000000000000000000000000000000007&by=a%0Ab",   /* control */
        "exp=1&sig=0000000000000000000000000000000000000000000000000000000000000007&by=%zz",     /* bad escape */
        ("exp=1&sig=0000000000000000000000000000000000000000000000000000000000000007&by="
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), /* 101 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        CHECK (review_link_parse (bad [i], &back_link) == -1, "refused: %s", bad [i]);
    CHECK (review_link_parse ("exp=5&sig=0000000000000000000000000000000000000000000000000000000000000007", &back_link) == 0
           && back_link.by [0] == '\0' && back_link.since [0] == '\0', "a plain link parses");

    /* the render's review survives the bus, and the JSON says it */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    proto_render_t back;
    char err [PROTO_ERR_MAX];
    CHECK (proto_render_encode (&r, &sb) == 0 && proto_render_decode (sb.data, sb.size, &back, err) == 0,
           "render round trip: %s", err);
    CHECK (strcmp (back.review_status, "approved") == 0 && strcmp (back.review_by, "Dana") == 0
           && back.review_exp == r.review_exp && strcmp (back.review_sig, r.review_sig) == 0
           && back.review_decided_at_ms == r.review_decided_at_ms, "review fields round trip");
    json_t *obj = render_json_build (&back, "http://h");
    json_t *rv = json_object_get (obj, "review");
    const char *url = json_string_value (json_object_get (obj, "review_url"));
    CHECK (rv && strcmp (json_string_value (json_object_get (rv, "status")), "approved") == 0
           && strcmp (json_string_value (json_object_get (rv, "decided_at")), "2026-01-01T00:00:00Z") == 0,
           "review object in the render JSON");
    CHECK (url && strstr (url, "http://h/v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H/review?exp=1767830400&sig=0000"),
           "review_url: %s", url ? url : "(none)");
    json_decref (obj);
    proto_render_free (&back);
    msgpack_sbuffer_destroy (&sb);
    proto_render_free (&r);

    proto_review_t rq, rq2;
    memset (&rq, 0, sizeof rq);
    snprintf (rq.rid, sizeof rq.rid, "rid_x");
    snprintf (rq.id, sizeof rq.id, "rnd_01KNS1WNPW9FCHZSK4XNTHMB0H");
    snprintf (rq.action, sizeof rq.action, "decide");
    snprintf (rq.status, sizeof rq.status, "approved");
    rq.exp = 5;
    snprintf (rq.sig, sizeof rq.sig, "%064d", 3);
    rq.by = strdup ("Pat");
    msgpack_sbuffer_init (&sb);
    CHECK (proto_review_encode (&rq, &sb) == 0 && proto_review_decode (sb.data, sb.size, &rq2, err) == 0
           && strcmp (rq2.by, "Pat") == 0 && !rq2.comment && rq2.exp == 5 && strcmp (rq2.action, "decide") == 0,
           "REVIEW round trip: %s", err);
    proto_review_free (&rq2);
    msgpack_sbuffer_destroy (&sb);
    proto_review_free (&rq);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    test_json ();
    test_form ();
    test_token_origin_escape ();
    test_page_and_codec ();
    if (check_failures)
        fprintf (stderr, "%d failure(s)\n", check_failures);
    else
        printf ("ok: review page\n");
    return check_failures ? 1 : 0;
}
