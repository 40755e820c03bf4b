/*  test_strings_file.c: the .strings parser (cli/strings_file.h) reads
    UTF-8 and UTF-16 LE/BE files with a BOM, skips comments, resolves
    escapes, keeps file order for frameit's path match, and refuses bad
    input with a sentence naming the line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "strings_file.h"

/* UTF-8 text as UTF-16 with a BOM (big or little endian) into out; length. */
static size_t
s_utf16 (const char *utf8, int big, unsigned char *out)
{
    size_t n = 0;
    out [n++] = big ? 0xFE : 0xFF;
    out [n++] = big ? 0xFF : 0xFE;
    const unsigned char *p = (const unsigned char *) utf8;
    while (*p) {
        unsigned c;
        if (*p < 0x80) c = *p++;
        else if ((*p & 0xE0) == 0xC0) { c = (p [0] & 0x1Fu) << 6 | (p [1] & 0x3Fu); p += 2; }
        else if ((*p & 0xF0) == 0xE0) { c = (p [0] & 0x0Fu) << 12 | (p [1] & 0x3Fu) << 6 | (p [2] & 0x3Fu); p += 3; }
        else { c = (p [0] & 0x07u) << 18 | (p [1] & 0x3Fu) << 12 | (p [2] & 0x3Fu) << 6 | (p [3] & 0x3Fu); p += 4; }
        unsigned units [2], k = 0;
        if (c >= 0x10000) { units [k++] = 0xD800 + ((c - 0x10000) >> 10); units [k++] = 0xDC00 + ((c - 0x10000) & 0x3FF); }
        else units [k++] = c;
        for (unsigned i = 0; i < k; i++) {
            out [n++] = (unsigned char) (big ? units [i] >> 8 : units [i] & 0xFF);
            out [n++] = (unsigned char) (big ? units [i] & 0xFF : units [i] >> 8);
        }
    }
    return n;
}

static const char *s_sample =
    "/* Home screen\n   (two lines) */\n"
    "\"01Home\" = \"مرحبا بك\";\n"
    "// a line comment\n"
    "\"02Search\"=\"Find \\\"it\\\"\\nfast\"; /* trailing */\n"
    "bare_key = \"\\U65E5\\u672C \\\\ tab\\tend\";\n"
    "\"emoji\" = \"\\uD83D\\uDE00 😀\";\n"
    "\"01Home\" = \"ようこそ\";\n"
    "\"empty\" = \"\";\n";

static void
s_check_sample (strings_file_t *sf, const char *what)
{
    CHECK (sf != NULL, "%s: the sample parses", what);
    if (!sf)
        return;
    CHECK (strings_file_count (sf) == 5, "%s: 5 entries (a repeated key replaces), got %zu", what,
           strings_file_count (sf));
    CHECK (strcmp (strings_file_get (sf, "01Home"), "ようこそ") == 0, "%s: last value of a repeated key", what);
    CHECK (strcmp (strings_file_get (sf, "02Search"), "Find \"it\"\nfast") == 0, "%s: \\\" and \\n: %s", what,
           strings_file_get (sf, "02Search"));
    CHECK (strcmp (strings_file_get (sf, "bare_key"), "日本 \\ tab\tend") == 0, "%s: \\U, \\u, \\\\, \\t: %s", what,
           strings_file_get (sf, "bare_key"));
    CHECK (strcmp (strings_file_get (sf, "emoji"), "😀 😀") == 0, "%s: surrogate pair escape", what);
    CHECK (strcmp (strings_file_key (sf, 0), "01Home") == 0 && strcmp (strings_file_key (sf, 1), "02Search") == 0,
           "%s: file order kept", what);
    CHECK (strings_file_match (sf, "fastlane/screenshots/ja/iPhone 14 Pro-02SEARCH.png")
           && strcmp (strings_file_match (sf, "x/iPhone-02search.png"), "Find \"it\"\nfast") == 0,
           "%s: path match ignores case", what);
    CHECK (strings_file_match (sf, "x/03Settings.png") == NULL, "%s: no key in the path: NULL", what);
    CHECK (strings_file_match (sf, "x/empty.png") == NULL, "%s: an empty value: NULL", what);
}

static void
s_bad (const char *text, const char *want, int line)
{
    char err [STRINGS_FILE_ERR_MAX];
    strings_file_t *sf = strings_file_parse ((const uint8_t *) text, strlen (text), err, sizeof err);
    char want_line [32];
    snprintf (want_line, sizeof want_line, "line %d:", line);
    CHECK (sf == NULL && strstr (err, want) && strstr (err, want_line),
           "%s: expected an error with \"%s\" on line %d, got \"%s\"", text, want, line, err);
    strings_file_destroy (&sf);
}

int
main (void)
{
    char err [STRINGS_FILE_ERR_MAX];
    strings_file_t *sf = strings_file_parse ((const uint8_t *) s_sample, strlen (s_sample), err, sizeof err);
    s_check_sample (sf, "UTF-8");
    strings_file_destroy (&sf);
    strings_file_destroy (&sf);          /* twice is safe */

    unsigned char buf [4096];
    buf [0] = 0xEF; buf [1] = 0xBB; buf [2] = 0xBF;
    memcpy (buf + 3, s_sample, strlen (s_sample));
    sf = strings_file_parse (buf, strlen (s_sample) + 3, err, sizeof err);
    s_check_sample (sf, "UTF-8 with BOM");
    strings_file_destroy (&sf);

    size_t n = s_utf16 (s_sample, 0, buf);
    sf = strings_file_parse (buf, n, err, sizeof err);
    s_check_sample (sf, "UTF-16LE");
    strings_file_destroy (&sf);
    n = s_utf16 (s_sample, 1, buf);
    sf = strings_file_parse (buf, n, err, sizeof err);
    s_check_sample (sf, "UTF-16BE");
    strings_file_destroy (&sf);

    sf = strings_file_parse ((const uint8_t *) "", 0, err, sizeof err);
    CHECK (sf && strings_file_count (sf) == 0, "an empty file is an empty table");
    strings_file_destroy (&sf);

    s_bad ("\"a\" = \"b\";\n\"c\" = \"d\"\n", "expected ;", 3);
    s_bad ("\"a\" \"b\";", "expected =", 1);
    s_bad ("\n\"a\" = \"unterminated;\n", "never closed", 2);
    s_bad ("/* open\n\n", "never closed", 1);
    s_bad ("\"a\" = \"x\\q\";", "unknown escape", 1);
    s_bad ("\"a\" = \"\\u12\";", "hex digits", 1);
    s_bad ("\"a\" = b;", "expected a \"value\"", 1);
    s_bad ("\"ok\" = \"1\";\n\"bad\xff\" = \"2\";", "not valid UTF-8", 2);
    s_bad ("= \"x\";", "expected a \"key\"", 1);
    unsigned char odd [] = { 0xFF, 0xFE, 0x22, 0x00, 0x61 };
    sf = strings_file_parse (odd, sizeof odd, err, sizeof err);
    CHECK (sf == NULL && strstr (err, "UTF-16"), "odd-length UTF-16 is refused: %s", err);
    unsigned char lone [] = { 0xFF, 0xFE, 0x00, 0xDC };
    sf = strings_file_parse (lone, sizeof lone, err, sizeof err);
    CHECK (sf == NULL, "a lone low surrogate is refused");
    if (check_failures)
        fprintf (stderr, "%d check(s) failed\n", check_failures);
    else
        printf ("strings_file: all checks passed\n");
    return check_failures ? 1 : 0;
}
