/*  strings_file.c: the .strings parser (see strings_file.h). The bytes are
    first decoded into code points (UTF-8 or UTF-16), then read as tokens:
    quoted or bare keys, '=', quoted values, ';', C and C++ comments.
    Memory: the table and its strings are one owner, freed by destroy. */
#include "strings_file.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *key, *value;
} s_entry_t;

struct strings_file_t {
    s_entry_t *entries;
    size_t     n;
};

typedef struct {
    const uint32_t *cp;            /* code points */
    size_t          n, pos;
    int             line;
    char           *err;
    size_t          err_size;
} s_reader_t;

static int
s_fail (s_reader_t *r, const char *fmt, ...)
{
    char msg [STRINGS_FILE_ERR_MAX];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    snprintf (r->err, r->err_size, "line %d: %s", r->line, msg);
    return -1;
}

/* ---- decoding ------------------------------------------------------------ */

/* UTF-8 into cp (at most len code points). -1 on a malformed sequence,
   *bad_line set to its line. */
static int
s_decode_utf8 (const uint8_t *d, size_t len, uint32_t *cp, size_t *n, int *bad_line)
{
    size_t i = 0, k = 0;
    int line = 1;
    while (i < len) {
        uint8_t b = d [i];
        uint32_t c;
        int more;
        if (b < 0x80)      { c = b; more = 0; }
        else if ((b & 0xE0) == 0xC0) { c = b & 0x1F; more = 1; }
        else if ((b & 0xF0) == 0xE0) { c = b & 0x0F; more = 2; }
        else if ((b & 0xF8) == 0xF0) { c = b & 0x07; more = 3; }
        else { *bad_line = line; return -1; }
        for (int m = 1; m <= more; m++) {
            if (i + (size_t) m >= len || (d [i + m] & 0xC0) != 0x80) { *bad_line = line; return -1; }
            c = (c << 6) | (d [i + m] & 0x3F);
        }
        static const uint32_t min [] = { 0, 0x80, 0x800, 0x10000 };
        if (c < min [more] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) { *bad_line = line; return -1; }
        if (c == '\n')
            line++;
        cp [k++] = c;
        i += (size_t) more + 1;
    }
    *n = k;
    return 0;
}

static int
s_decode_utf16 (const uint8_t *d, size_t len, bool big, uint32_t *cp, size_t *n, int *bad_line)
{
    int line = 1;
    size_t k = 0;
    if (len % 2) { *bad_line = 1; return -1; }
    for (size_t i = 0; i < len; i += 2) {
        uint32_t u = big ? (uint32_t) (d [i] << 8 | d [i + 1]) : (uint32_t) (d [i + 1] << 8 | d [i]);
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 3 >= len) { *bad_line = line; return -1; }
            uint32_t lo = big ? (uint32_t) (d [i + 2] << 8 | d [i + 3]) : (uint32_t) (d [i + 3] << 8 | d [i + 2]);
            if (lo < 0xDC00 || lo > 0xDFFF) { *bad_line = line; return -1; }
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        }
        else
        if (u >= 0xDC00 && u <= 0xDFFF) { *bad_line = line; return -1; }
        if (u == '\n')
            line++;
        cp [k++] = u;
    }
    *n = k;
    return 0;
}

/* ---- tokens -------------------------------------------------------------- */

static bool
s_more (const s_reader_t *r)
{
    return r->pos < r->n;
}

/* Skips white space and comments. -1 on an unterminated comment. */
static int
s_skip (s_reader_t *r)
{
    while (s_more (r)) {
        uint32_t c = r->cp [r->pos];
        if (c == '\n') { r->line++; r->pos++; }
        else if (c == ' ' || c == '\t' || c == '\r' || c == 0xFEFF) r->pos++;
        else if (c == '/' && r->pos + 1 < r->n && r->cp [r->pos + 1] == '/') {
            while (s_more (r) && r->cp [r->pos] != '\n')
                r->pos++;
        }
        else if (c == '/' && r->pos + 1 < r->n && r->cp [r->pos + 1] == '*') {
            int start = r->line;
            r->pos += 2;
            while (s_more (r) && !(r->cp [r->pos] == '*' && r->pos + 1 < r->n && r->cp [r->pos + 1] == '/')) {
                if (r->cp [r->pos] == '\n')
                    r->line++;
                r->pos++;
            }
            if (!s_more (r)) {
                r->line = start;
                return s_fail (r, "a /* comment is never closed");
            }
            r->pos += 2;
        }
        else
            break;
    }
    return 0;
}

/* Appends code point c as UTF-8 to out (cap STRINGS_FILE_MAX_STRING). */
static int
s_put (s_reader_t *r, char *out, size_t *len, uint32_t c)
{
    char b [4];
    size_t n;
    if (c < 0x80)         { b [0] = (char) c; n = 1; }
    else if (c < 0x800)   { b [0] = (char) (0xC0 | c >> 6); b [1] = (char) (0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) { b [0] = (char) (0xE0 | c >> 12); b [1] = (char) (0x80 | (c >> 6 & 0x3F));
                            b [2] = (char) (0x80 | (c & 0x3F)); n = 3; }
    else                  { b [0] = (char) (0xF0 | c >> 18); b [1] = (char) (0x80 | (c >> 12 & 0x3F));
                            b [2] = (char) (0x80 | (c >> 6 & 0x3F)); b [3] = (char) (0x80 | (c & 0x3F)); n = 4; }
    if (*len + n >= STRINGS_FILE_MAX_STRING)
        return s_fail (r, "a string is longer than %d bytes", STRINGS_FILE_MAX_STRING);
    memcpy (out + *len, b, n);
    *len += n;
    out [*len] = '\0';
    return 0;
}

/* count hex digits at pos into *v. */
static int
s_hex (s_reader_t *r, int count, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < count; i++) {
        if (!s_more (r) || r->cp [r->pos] > 0x7F || !isxdigit ((int) r->cp [r->pos]))
            return s_fail (r, "\\u and \\U take %d hex digits", count);
        uint32_t c = r->cp [r->pos++];
        uint32_t d = isdigit ((int) c) ? c - (uint32_t) '0' : (uint32_t) (tolower ((int) c) - 'a' + 10);
        *v = *v * 16 + d;
    }
    return 0;
}

/* A quoted string at pos (the opening quote) into a heap string. */
static char *
s_quoted (s_reader_t *r)
{
    char *out = malloc (STRINGS_FILE_MAX_STRING);
    if (!out) {
        s_fail (r, "out of memory");
        return NULL;
    }
    size_t len = 0;
    out [0] = '\0';
    int start = r->line;
    r->pos++;
    while (true) {
        if (!s_more (r)) {
            r->line = start;
            s_fail (r, "a string is never closed with \"");
            break;
        }
        uint32_t c = r->cp [r->pos++];
        if (c == '"')
            return out;
        if (c == '\n')
            r->line++;
        if (c == '\\') {
            if (!s_more (r)) {
                s_fail (r, "a string ends in a lone backslash");
                break;
            }
            uint32_t e = r->cp [r->pos++];
            switch (e) {
                case 'n': c = '\n'; break;
                case 't': c = '\t'; break;
                case 'r': c = '\r'; break;
                case '"': c = '"'; break;
                case '\'': c = '\''; break;
                case '\\': c = '\\'; break;
                case '\n': c = '\n'; r->line++; break;
                case 'u': case 'U': {
                    if (s_hex (r, 4, &c))
                        goto fail;
                    if (c >= 0xD800 && c <= 0xDBFF && r->pos + 1 < r->n && r->cp [r->pos] == '\\'
                    &&  (r->cp [r->pos + 1] == 'u' || r->cp [r->pos + 1] == 'U')) {
                        uint32_t lo;
                        r->pos += 2;
                        if (s_hex (r, 4, &lo))
                            goto fail;
                        if (lo < 0xDC00 || lo > 0xDFFF) {
                            s_fail (r, "\\u%04X is not the low half of a surrogate pair", lo);
                            goto fail;
                        }
                        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    if (c == 0 || (c >= 0xD800 && c <= 0xDFFF)) {
                        s_fail (r, "\\u%04X is not a character", c);
                        goto fail;
                    }
                    break;
                }
                default:
                    s_fail (r, "unknown escape \\%c", e < 0x80 && e >= 0x20 ? (char) e : '?');
                    goto fail;
            }
        }
        if (c == 0) {
            s_fail (r, "a string holds a NUL character");
            break;
        }
        if (s_put (r, out, &len, c))
            break;
    }
fail:
    free (out);
    return NULL;
}

/* A key: quoted, or bare (letters, digits, '_', '.', '-'). */
static char *
s_key (s_reader_t *r)
{
    if (r->cp [r->pos] == '"')
        return s_quoted (r);
    char *out = malloc (STRINGS_FILE_MAX_STRING);
    size_t len = 0;
    if (!out)
        return NULL;
    out [0] = '\0';
    while (s_more (r)) {
        uint32_t c = r->cp [r->pos];
        if (c > 0x7F || !(isalnum ((int) c) || c == '_' || c == '.' || c == '-'))
            break;
        if (s_put (r, out, &len, c)) {
            free (out);
            return NULL;
        }
        r->pos++;
    }
    if (len == 0) {
        uint32_t c = r->cp [r->pos];
        s_fail (r, "expected a \"key\", found '%c'", c < 0x80 && c >= 0x20 ? (char) c : '?');
        free (out);
        return NULL;
    }
    return out;
}

static int
s_add (strings_file_t *self, s_reader_t *r, char *key, char *value)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->entries [i].key, key) == 0) {
            free (self->entries [i].value);
            self->entries [i].value = value;
            free (key);
            return 0;
        }
    if (self->n >= STRINGS_FILE_MAX_ENTRIES) {
        free (key);
        free (value);
        return s_fail (r, "more than %d entries", STRINGS_FILE_MAX_ENTRIES);
    }
    self->entries [self->n].key = key;
    self->entries [self->n].value = value;
    self->n++;
    return 0;
}

static int
s_parse_entries (strings_file_t *self, s_reader_t *r)
{
    while (true) {
        if (s_skip (r))
            return -1;
        if (!s_more (r))
            return 0;
        char *key = s_key (r);
        if (!key)
            return -1;
        if (s_skip (r) == 0 && s_more (r) && r->cp [r->pos] == ';') {
            /* "key"; is shorthand for "key" = "key"; */
            r->pos++;
            char *value = strdup (key);
            if (!value || s_add (self, r, key, value))
                return -1;
            continue;
        }
        if (!s_more (r) || r->cp [r->pos] != '=') {
            free (key);
            return s_fail (r, "expected = after a key");
        }
        r->pos++;
        if (s_skip (r) || !s_more (r) || r->cp [r->pos] != '"') {
            free (key);
            return r->err [0] ? -1 : s_fail (r, "expected a \"value\" after =");
        }
        char *value = s_quoted (r);
        if (!value) {
            free (key);
            return -1;
        }
        if (s_skip (r) || !s_more (r) || r->cp [r->pos] != ';') {
            free (key);
            free (value);
            return r->err [0] ? -1 : s_fail (r, "expected ; after a value");
        }
        r->pos++;
        if (s_add (self, r, key, value))
            return -1;
    }
}

strings_file_t *
strings_file_parse (const uint8_t *data, size_t len, char *err, size_t err_size)
{
    snprintf (err, err_size, "%s", "");
    if (len > STRINGS_FILE_MAX_BYTES) {
        snprintf (err, err_size, "the file is over %d bytes", STRINGS_FILE_MAX_BYTES);
        return NULL;
    }
    uint32_t *cp = malloc ((len + 1) * sizeof *cp);
    strings_file_t *self = calloc (1, sizeof *self);
    if (self)
        self->entries = calloc (STRINGS_FILE_MAX_ENTRIES, sizeof *self->entries);
    if (!cp || !self || !self->entries) {
        free (cp);
        strings_file_destroy (&self);
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    size_t n = 0;
    int bad_line = 0, rc;
    const char *enc;
    if (len >= 2 && data [0] == 0xFF && data [1] == 0xFE)
        rc = s_decode_utf16 (data + 2, len - 2, false, cp, &n, &bad_line), enc = "UTF-16LE";
    else if (len >= 2 && data [0] == 0xFE && data [1] == 0xFF)
        rc = s_decode_utf16 (data + 2, len - 2, true, cp, &n, &bad_line), enc = "UTF-16BE";
    else if (len >= 3 && data [0] == 0xEF && data [1] == 0xBB && data [2] == 0xBF)
        rc = s_decode_utf8 (data + 3, len - 3, cp, &n, &bad_line), enc = "UTF-8";
    else if (len >= 2 && data [0] == 0 && data [1] != 0)
        rc = s_decode_utf16 (data, len, true, cp, &n, &bad_line), enc = "UTF-16BE";
    else if (len >= 2 && data [0] != 0 && data [1] == 0)
        rc = s_decode_utf16 (data, len, false, cp, &n, &bad_line), enc = "UTF-16LE";
    else
        rc = s_decode_utf8 (data, len, cp, &n, &bad_line), enc = "UTF-8";
    if (rc) {
        snprintf (err, err_size, "line %d: not valid %s (save it as UTF-8, or UTF-16 with a BOM)",
                  bad_line, enc);
        free (cp);
        strings_file_destroy (&self);
        return NULL;
    }
    s_reader_t r = { .cp = cp, .n = n, .line = 1, .err = err, .err_size = err_size };
    rc = s_parse_entries (self, &r);
    free (cp);
    if (rc) {
        strings_file_destroy (&self);
        return NULL;
    }
    return self;
}

size_t
strings_file_count (const strings_file_t *self)
{
    return self ? self->n : 0;
}

const char *
strings_file_key (const strings_file_t *self, size_t i)
{
    return self && i < self->n ? self->entries [i].key : NULL;
}

const char *
strings_file_value (const strings_file_t *self, size_t i)
{
    return self && i < self->n ? self->entries [i].value : NULL;
}

const char *
strings_file_get (const strings_file_t *self, const char *key)
{
    for (size_t i = 0; self && i < self->n; i++)
        if (strcmp (self->entries [i].key, key) == 0)
            return self->entries [i].value;
    return NULL;
}

/* strstr without case (ASCII). */
static bool
s_contains_nocase (const char *hay, const char *needle)
{
    size_t n = strlen (needle);
    if (n == 0)
        return false;
    for (; *hay; hay++)
        if (strncasecmp (hay, needle, n) == 0)
            return true;
    return false;
}

const char *
strings_file_match (const strings_file_t *self, const char *path)
{
    for (size_t i = 0; self && i < self->n; i++)
        if (s_contains_nocase (path, self->entries [i].key))
            return self->entries [i].value [0] ? self->entries [i].value : NULL;
    return NULL;
}

void
strings_file_destroy (strings_file_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    strings_file_t *self = *self_p;
    for (size_t i = 0; self->entries && i < self->n; i++) {
        free (self->entries [i].key);
        free (self->entries [i].value);
    }
    free (self->entries);
    free (self);
    *self_p = NULL;
}
