/*  proto.c: msgpack codec for every Easel bus body (see proto.h).

    Encoders append one map to a caller-owned sbuffer; on failure they roll the
    buffer back to its original size. Decoders first walk the raw bytes
    (s_scan) so that a hostile header claiming millions of items cannot make
    msgpack-c allocate for them, then unpack with msgpack-c and read each field
    through the s_get_* helpers, which check type, range and size caps.
    Thread: no shared state. Memory: decoded structs own heap strings/buffers,
    released by the matching proto_X_free().  */
#include "proto.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_MESSAGE_BYTES  4096          /* error messages, delivery errors */
#define S_MAX_SECRET_BYTES   256
#define S_MAX_OBJECTS        (1 << 18)     /* msgpack items in one body */
#define S_COLOR_MAX          0xFFFFFF

static void
s_fail (char *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, PROTO_ERR_MAX, fmt, ap);
    va_end (ap);
}

/* ---- encoding ------------------------------------------------------------
    A map is opened with a map32 header whose count is patched when it is
    closed, so optional fields can simply be skipped. */
typedef struct {
    msgpack_sbuffer *sb;
    msgpack_packer pk;
    int rc;                        /* sticky: -1 once any pack call failed */
} s_enc_t;

typedef struct {
    s_enc_t *e;
    size_t offset;                 /* of the map32 header in sb */
    uint32_t count;
} s_map_t;

static void
s_enc_init (s_enc_t *e, msgpack_sbuffer *sb)
{
    e->sb = sb;
    msgpack_packer_init (&e->pk, sb, msgpack_sbuffer_write);
    e->rc = 0;
}

static void
s_map_begin (s_map_t *m, s_enc_t *e)
{
    static const char header [5] = { (char) 0xdf, 0, 0, 0, 0 };
    m->e = e;
    m->offset = e->sb->size;
    m->count = 0;
    if (msgpack_sbuffer_write (e->sb, header, sizeof header))
        e->rc = -1;
}

static void
s_map_end (s_map_t *m)
{
    if (m->e->rc)
        return;
    unsigned char *p = (unsigned char *) m->e->sb->data + m->offset + 1;
    p [0] = (unsigned char) (m->count >> 24);
    p [1] = (unsigned char) (m->count >> 16);
    p [2] = (unsigned char) (m->count >> 8);
    p [3] = (unsigned char) m->count;
}

static void
s_put_key (s_map_t *m, const char *key)
{
    size_t n = strlen (key);
    m->count++;
    if (msgpack_pack_str (&m->e->pk, n) || msgpack_pack_str_body (&m->e->pk, key, n))
        m->e->rc = -1;
}

/* Packs a string value (not a key); NULL packs as "". */
static void
s_pack_str (s_enc_t *e, const char *value)
{
    size_t n = value ? strlen (value) : 0;
    if (msgpack_pack_str (&e->pk, n) || msgpack_pack_str_body (&e->pk, value ? value : "", n))
        e->rc = -1;
}

static void
s_put_str (s_map_t *m, const char *key, const char *value)
{
    s_put_key (m, key);
    s_pack_str (m->e, value);
}

/* Optional string: absent from the map when NULL. */
static void
s_put_opt_str (s_map_t *m, const char *key, const char *value)
{
    if (value)
        s_put_str (m, key, value);
}

static void
s_put_int (s_map_t *m, const char *key, int64_t value)
{
    s_put_key (m, key);
    if (msgpack_pack_int64 (&m->e->pk, value))
        m->e->rc = -1;
}

static void
s_put_bool (s_map_t *m, const char *key, bool value)
{
    s_put_key (m, key);
    if (value ? msgpack_pack_true (&m->e->pk) : msgpack_pack_false (&m->e->pk))
        m->e->rc = -1;
}

static void
s_put_bin (s_map_t *m, const char *key, const void *data, size_t len)
{
    s_put_key (m, key);
    if (len > UINT32_MAX || (len && !data)
    ||  msgpack_pack_bin (&m->e->pk, len) || msgpack_pack_bin_body (&m->e->pk, data, len))
        m->e->rc = -1;
}

static void
s_put_array (s_map_t *m, const char *key, int32_t n, int32_t cap)
{
    s_put_key (m, key);
    if (n < 0 || n > cap || msgpack_pack_array (&m->e->pk, (size_t) n))
        m->e->rc = -1;
}

/* Nested error object {code, message, param?}; absent when code is "". */
static void
s_put_error (s_map_t *m, const proto_error_t *error)
{
    if (!error->code [0])
        return;
    s_put_key (m, "error");
    s_map_t em;
    s_map_begin (&em, m->e);
    s_put_str (&em, "code", error->code);
    s_put_str (&em, "message", error->message);
    s_put_opt_str (&em, "param", error->param);
    s_map_end (&em);
}

static s_map_t *
s_begin_body (s_map_t *m, s_enc_t *e, msgpack_sbuffer *out, size_t *start)
{
    *start = out->size;
    s_enc_init (e, out);
    s_map_begin (m, e);
    s_put_int (m, "v", EASEL_PROTO_VERSION);
    return m;
}

/* Closes the top map; rolls the sbuffer back on failure or oversize. */
static int
s_end_body (s_map_t *m, size_t start)
{
    s_map_end (m);
    if (m->e->rc || m->e->sb->size - start > EASEL_MAX_MSG_BYTES) {
        m->e->sb->size = start;
        return -1;
    }
    return 0;
}

/* ---- decoding ------------------------------------------------------------ */

static uint64_t
s_be (const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

/*  Walks one msgpack object over data[0..len) without allocating. Fails on a
    truncated body, a reserved byte, more than S_MAX_OBJECTS items, a container
    that claims more items than bytes remain, or bytes after the object. */
static int
s_scan (const unsigned char *data, size_t len, char *err)
{
    size_t pos = 0;
    uint64_t pending = 1;          /* items still to read */
    uint64_t seen = 0;
    while (pending) {
        if (pos >= len) {
            s_fail (err, "truncated message");
            return -1;
        }
        if (++seen > S_MAX_OBJECTS) {
            s_fail (err, "message has too many items");
            return -1;
        }
        pending--;
        unsigned char b = data [pos++];
        uint64_t skip = 0;         /* payload bytes after the header */
        uint64_t items = 0;        /* children to read */
        int lenbytes = 0;          /* size of a length field */
        int kind = 0;              /* 0 scalar, 1 str/bin, 2 ext, 3 array, 4 map */
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;
        else if (b <= 0x8f) items = 2 * (uint64_t) (b & 0x0f);
        else if (b <= 0x9f) items = b & 0x0f;
        else if (b <= 0xbf) skip = b & 0x1f;
        else if (b == 0xc1) {
            s_fail (err, "invalid msgpack byte 0xc1");
            return -1;
        }
        else if (b >= 0xc4 && b <= 0xc6) { kind = 1; lenbytes = 1 << (b - 0xc4); }
        else if (b >= 0xc7 && b <= 0xc9) { kind = 2; lenbytes = 1 << (b - 0xc7); }
        else if (b == 0xca) skip = 4;
        else if (b == 0xcb) skip = 8;
        else if (b >= 0xcc && b <= 0xcf) skip = 1u << (b - 0xcc);
        else if (b >= 0xd0 && b <= 0xd3) skip = 1u << (b - 0xd0);
        else if (b >= 0xd4 && b <= 0xd8) skip = 1 + (1u << (b - 0xd4));
        else if (b >= 0xd9 && b <= 0xdb) { kind = 1; lenbytes = 1 << (b - 0xd9); }
        else if (b == 0xdc || b == 0xdd) { kind = 3; lenbytes = b == 0xdc ? 2 : 4; }
        else                             { kind = 4; lenbytes = b == 0xde ? 2 : 4; }

        if (lenbytes) {
            if (len - pos < (size_t) lenbytes) {
                s_fail (err, "truncated message");
                return -1;
            }
            uint64_t n = s_be (data + pos, lenbytes);
            pos += (size_t) lenbytes;
            if (kind == 1) skip = n;
            else if (kind == 2) skip = n + 1;
            else if (kind == 3) items = n;
            else items = 2 * n;
        }
        if (skip > len - pos) {
            s_fail (err, "truncated message");
            return -1;
        }
        pos += (size_t) skip;
        pending += items;
        if (pending > len - pos) {    /* every item needs at least one byte */
            s_fail (err, "truncated message");
            return -1;
        }
    }
    if (pos != len) {
        s_fail (err, "trailing bytes after the body");
        return -1;
    }
    return 0;
}

static const msgpack_object *
s_find (const msgpack_object *map, const char *key)
{
    size_t n = strlen (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n
        &&  memcmp (k->via.str.ptr, key, n) == 0)
            return &map->via.map.ptr [i].val;
    }
    return NULL;
}

/*  Looks up key. Returns 1 when found (and not nil), 0 when absent and
    optional, -1 (with err) when absent and required. */
static int
s_lookup (const msgpack_object *map, const char *key, bool required,
          const msgpack_object **value, char *err)
{
    *value = s_find (map, key);
    if (*value && (*value)->type == MSGPACK_OBJECT_NIL)
        *value = NULL;
    if (*value)
        return 1;
    if (required) {
        s_fail (err, "missing field '%s'", key);
        return -1;
    }
    return 0;
}

/* Checks a string value: type, no NUL inside, at most max bytes. */
static int
s_check_str (const msgpack_object *o, const char *key, size_t max, char *err)
{
    if (o->type != MSGPACK_OBJECT_STR) {
        s_fail (err, "field '%s' must be a string", key);
        return -1;
    }
    if (o->via.str.size > max) {
        s_fail (err, "field '%s' is too long (max %zu bytes)", key, max);
        return -1;
    }
    if (memchr (o->via.str.ptr, '\0', o->via.str.size)) {
        s_fail (err, "field '%s' contains a NUL byte", key);
        return -1;
    }
    return 0;
}

/* Copies a string field into buf (size cap, NUL included). Absent: "". */
static int
s_get_str (const msgpack_object *map, const char *key, char *buf, size_t cap,
           bool required, char *err)
{
    const msgpack_object *o;
    buf [0] = '\0';
    int found = s_lookup (map, key, required, &o, err);
    if (found <= 0)
        return found;
    if (s_check_str (o, key, cap - 1, err))
        return -1;
    memcpy (buf, o->via.str.ptr, o->via.str.size);
    buf [o->via.str.size] = '\0';
    return 0;
}

/* Heap copy of a string field of at most max bytes into *out. Absent: NULL. */
static int
s_get_str_dup (const msgpack_object *map, const char *key, char **out, size_t max,
               bool required, char *err)
{
    const msgpack_object *o;
    *out = NULL;
    int found = s_lookup (map, key, required, &o, err);
    if (found <= 0)
        return found;
    if (s_check_str (o, key, max, err))
        return -1;
    *out = strndup (o->via.str.ptr, o->via.str.size);
    if (!*out) {
        s_fail (err, "out of memory");
        return -1;
    }
    return 0;
}

/* Integer field within [lo, hi]. Absent: 0. */
static int
s_get_int (const msgpack_object *map, const char *key, int64_t *out,
           int64_t lo, int64_t hi, bool required, char *err)
{
    const msgpack_object *o;
    *out = 0;
    int found = s_lookup (map, key, required, &o, err);
    if (found <= 0)
        return found;
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER && o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        s_fail (err, "field '%s' must be an integer", key);
        return -1;
    }
    bool huge = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 > INT64_MAX;
    int64_t v = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t) (huge ? 0 : o->via.u64)
                                                           : o->via.i64;
    if (huge || v < lo || v > hi) {
        s_fail (err, "field '%s' out of range (%lld..%lld)", key, (long long) lo, (long long) hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int
s_get_i32 (const msgpack_object *map, const char *key, int32_t *out,
           int32_t lo, int32_t hi, bool required, char *err)
{
    int64_t v;
    int rc = s_get_int (map, key, &v, lo, hi, required, err);
    *out = (int32_t) v;
    return rc;
}

static int
s_get_i64 (const msgpack_object *map, const char *key, int64_t *out,
           int64_t lo, bool required, char *err)
{
    return s_get_int (map, key, out, lo, INT64_MAX, required, err);
}

static int
s_get_bool (const msgpack_object *map, const char *key, bool *out, bool required, char *err)
{
    const msgpack_object *o;
    *out = false;
    int found = s_lookup (map, key, required, &o, err);
    if (found <= 0)
        return found;
    if (o->type != MSGPACK_OBJECT_BOOLEAN) {
        s_fail (err, "field '%s' must be a boolean", key);
        return -1;
    }
    *out = o->via.boolean;
    return 0;
}

/* Heap copy of a binary field of at most cap bytes. Absent: NULL, 0. */
static int
s_get_bin (const msgpack_object *map, const char *key, void **out, size_t *len,
           size_t cap, bool required, char *err)
{
    const msgpack_object *o;
    *out = NULL;
    *len = 0;
    int found = s_lookup (map, key, required, &o, err);
    if (found <= 0)
        return found;
    if (o->type != MSGPACK_OBJECT_BIN) {
        s_fail (err, "field '%s' must be binary", key);
        return -1;
    }
    if (o->via.bin.size > cap) {
        s_fail (err, "field '%s' is too large (max %zu bytes)", key, cap);
        return -1;
    }
    *out = malloc (o->via.bin.size ? o->via.bin.size : 1);
    if (!*out) {
        s_fail (err, "out of memory");
        return -1;
    }
    memcpy (*out, o->via.bin.ptr, o->via.bin.size);
    *len = o->via.bin.size;
    return 0;
}

/* Array field of at most cap items. Absent: NULL (size 0). */
static int
s_get_array (const msgpack_object *map, const char *key, const msgpack_object_array **out,
             uint32_t cap, bool required, char *err)
{
    const msgpack_object *o;
    *out = NULL;
    int found = s_lookup (map, key, required, &o, err);
    if (found <= 0)
        return found;
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        s_fail (err, "field '%s' must be an array", key);
        return -1;
    }
    if (o->via.array.size > cap) {
        s_fail (err, "field '%s' has too many items (max %u)", key, cap);
        return -1;
    }
    *out = &o->via.array;
    return 0;
}

static int
s_get_map (const msgpack_object *map, const char *key, const msgpack_object **out,
           bool required, char *err)
{
    int found = s_lookup (map, key, required, out, err);
    if (found <= 0)
        return found;
    if ((*out)->type != MSGPACK_OBJECT_MAP) {
        s_fail (err, "field '%s' must be a map", key);
        return -1;
    }
    return 0;
}

static int
s_item_is_map (const msgpack_object *o, const char *key, char *err)
{
    if (o->type == MSGPACK_OBJECT_MAP)
        return 0;
    s_fail (err, "items of '%s' must be maps", key);
    return -1;
}

/* Nested "error" map into e (left zeroed when absent and optional). */
static int
s_get_error (const msgpack_object *map, proto_error_t *e, bool required, char *err)
{
    const msgpack_object *em;
    if (s_get_map (map, "error", &em, required, err))
        return -1;
    if (!em)
        return 0;
    return s_get_str (em, "code", e->code, sizeof e->code, true, err)
        || s_get_str_dup (em, "message", &e->message, S_MAX_MESSAGE_BYTES, true, err)
        || s_get_str_dup (em, "param", &e->param, S_MAX_MESSAGE_BYTES, false, err)
        ? -1 : 0;
}

/*  Checks size and framing, unpacks, and checks the version. On success the
    caller owns *u (msgpack_unpacked_destroy) and *map points into it. */
static int
s_open (const char *data, size_t len, msgpack_unpacked *u, const msgpack_object **map, char *err)
{
    if (err)
        err [0] = '\0';
    if (len > EASEL_MAX_MSG_BYTES) {
        s_fail (err, "message too large (%zu bytes, max %d)", len, EASEL_MAX_MSG_BYTES);
        return -1;
    }
    if (!data && len) {
        s_fail (err, "no data");
        return -1;
    }
    if (s_scan ((const unsigned char *) data, len, err))
        return -1;
    msgpack_unpacked_init (u);
    size_t off = 0;
    if (msgpack_unpack_next (u, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_unpacked_destroy (u);
        s_fail (err, "malformed msgpack");
        return -1;
    }
    *map = &u->data;
    int64_t v;
    if ((*map)->type != MSGPACK_OBJECT_MAP)
        s_fail (err, "body must be a map");
    else
    if (s_get_int (*map, "v", &v, INT64_MIN, INT64_MAX, true, err) == 0) {
        if (v == EASEL_PROTO_VERSION)
            return 0;
        s_fail (err, "unsupported version %lld", (long long) v);
    }
    msgpack_unpacked_destroy (u);
    return -1;
}

/* ---- errors --------------------------------------------------------------- */

void
proto_error_free (proto_error_t *self)
{
    if (!self)
        return;
    free (self->message);
    free (self->param);
    self->message = NULL;
    self->param = NULL;
    self->code [0] = '\0';
}

int
proto_error_set (proto_error_t *e, const char *code, const char *message, const char *param)
{
    proto_error_free (e);
    snprintf (e->code, sizeof e->code, "%s", code ? code : "");
    e->message = strdup (message ? message : "");
    e->param = param ? strdup (param) : NULL;
    if (!e->message || (param && !e->param)) {
        proto_error_free (e);
        return -1;
    }
    return 0;
}

/* An optional hex sha256 field: absent is "", present is exactly 64
   lower-case hex digits (nothing else may name a blob). */
static int
s_get_sha (const msgpack_object *map, const char *key, char out [65], char *err)
{
    if (s_get_str (map, key, out, 65, false, err))
        return -1;
    if (out [0] && (strlen (out) != 64 || strspn (out, "0123456789abcdef") != 64)) {
        s_fail (err, "field '%s' must be a hex sha256", key);
        return -1;
    }
    return 0;
}

/* True when data hashes to the hex sha256 `hex`. */
static bool
s_sha_matches (const void *data, size_t len, const char *hex)
{
    unsigned char h [crypto_hash_sha256_BYTES];
    char got [65];
    crypto_hash_sha256 (h, data, len);
    sodium_bin2hex (got, sizeof got, h, sizeof h);
    return strcmp (got, hex) == 0;
}

/* ---- slide spec ------------------------------------------------------------ */

int
proto_slide_encode (const proto_slide_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_int (&m, "slide", self->slide);
    s_put_str (&m, "locale", self->locale);
    s_put_str (&m, "preset", self->preset);
    s_put_int (&m, "width", self->width);
    s_put_int (&m, "height", self->height);
    s_put_array (&m, "bg_colors", self->bg_ncolors, PROTO_MAX_STOPS);
    for (int32_t i = 0; !e.rc && i < self->bg_ncolors; i++)
        if (msgpack_pack_uint32 (&e.pk, self->bg_colors [i]))
            e.rc = -1;
    s_put_int (&m, "bg_angle", self->bg_angle);
    s_put_array (&m, "lines", self->nlines, EASEL_MAX_HEADLINE_LINES);
    for (int32_t i = 0; !e.rc && i < self->nlines; i++)
        s_pack_str (&e, self->lines [i]);
    s_put_int (&m, "text_color", self->text_color);
    s_put_opt_str (&m, "shot_url", self->shot_url);
    if (self->shot_data)
        s_put_bin (&m, "shot_data", self->shot_data, self->shot_len);
    if (self->shot_sha256 [0])
        s_put_str (&m, "shot_sha256", self->shot_sha256);
    s_put_str (&m, "device", self->device);
    s_put_str (&m, "format", self->format);
    /* layout fields (optional on decode) */
    s_put_array (&m, "sub", self->nsub, EASEL_MAX_HEADLINE_LINES);
    for (int32_t i = 0; !e.rc && i < self->nsub; i++)
        s_pack_str (&e, self->sub [i]);
    s_put_int (&m, "sub_color", self->sub_color);
    s_put_str (&m, "text_position", self->text_position);
    s_put_int (&m, "padding_pm", self->padding_pm);
    s_put_int (&m, "font_weight", self->font_weight);
    s_put_int (&m, "font_size_max", self->font_size_max);
    s_put_int (&m, "font_size_min", self->font_size_min);
    s_put_str (&m, "fit", self->fit);
    s_put_str (&m, "finish", self->finish);
    s_put_opt_str (&m, "bg_image_url", self->bg_image_url);
    s_put_str (&m, "store", self->store);
    s_put_bool (&m, "display_stated", self->display_stated);
    s_put_bool (&m, "text_fallback", self->text_fallback);
    if (self->untranslated_of [0])
        s_put_str (&m, "untranslated_of", self->untranslated_of);
    return s_end_body (&m, start);
}

/* A text array ("lines", "sub") into out[] / *n; absent and optional: none. */
static int
s_slide_text (const msgpack_object *m, const char *key, bool required, char **out, int32_t *n,
              char *err)
{
    const msgpack_object_array *a;
    const msgpack_object *o;
    if (!required && s_lookup (m, key, false, &o, err) == 0)
        return 0;
    if (s_get_array (m, key, &a, EASEL_MAX_HEADLINE_LINES, true, err))
        return -1;
    for (uint32_t i = 0; i < a->size; i++) {
        if (s_check_str (&a->ptr [i], key, EASEL_MAX_HEADLINE_BYTES, err))
            return -1;
        out [i] = strndup (a->ptr [i].via.str.ptr, a->ptr [i].via.str.size);
        if (!out [i]) {
            s_fail (err, "out of memory");
            return -1;
        }
        *n = (int32_t) i + 1;
    }
    return 0;
}

static int
s_slide_lines (const msgpack_object *m, proto_slide_t *self, char *err)
{
    return s_slide_text (m, "lines", true, self->lines, &self->nlines, err);
}

/* The optional layout fields; padding_pm absent means -1 (default). */
static int
s_slide_layout (const msgpack_object *m, proto_slide_t *self, char *err)
{
    int32_t sub_color = 0;
    const msgpack_object *o;
    bool have_pad = s_lookup (m, "padding_pm", false, &o, err) > 0;
    int rc = s_slide_text (m, "sub", false, self->sub, &self->nsub, err)
          || s_get_i32 (m, "sub_color", &sub_color, 0, S_COLOR_MAX, false, err)
          || s_get_str (m, "text_position", self->text_position, sizeof self->text_position, false, err)
          || s_get_i32 (m, "padding_pm", &self->padding_pm, -1, 300, false, err)
          || s_get_i32 (m, "font_weight", &self->font_weight, 0, 900, false, err)
          || s_get_i32 (m, "font_size_max", &self->font_size_max, 0, EASEL_MAX_CANVAS_SIDE_PX, false, err)
          || s_get_i32 (m, "font_size_min", &self->font_size_min, 0, EASEL_MAX_CANVAS_SIDE_PX, false, err)
          || s_get_str (m, "fit", self->fit, sizeof self->fit, false, err)
          || s_get_str (m, "finish", self->finish, sizeof self->finish, false, err)
          || s_get_str_dup (m, "bg_image_url", &self->bg_image_url, EASEL_MAX_URL_BYTES, false, err)
          || s_get_str (m, "store", self->store, sizeof self->store, false, err)
          || s_get_bool (m, "display_stated", &self->display_stated, false, err)
          || s_get_bool (m, "text_fallback", &self->text_fallback, false, err)
          || s_get_str (m, "untranslated_of", self->untranslated_of, sizeof self->untranslated_of,
                        false, err);
    self->sub_color = (uint32_t) sub_color;
    if (!have_pad)
        self->padding_pm = -1;
    return rc ? -1 : 0;
}

static int
s_slide_colors (const msgpack_object *m, proto_slide_t *self, char *err)
{
    const msgpack_object_array *a;
    if (s_get_array (m, "bg_colors", &a, PROTO_MAX_STOPS, true, err))
        return -1;
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *c = &a->ptr [i];
        if (c->type != MSGPACK_OBJECT_POSITIVE_INTEGER || c->via.u64 > S_COLOR_MAX) {
            s_fail (err, "field 'bg_colors' items must be colours 0..0xFFFFFF");
            return -1;
        }
        self->bg_colors [i] = (uint32_t) c->via.u64;
    }
    self->bg_ncolors = (int32_t) a->size;
    return 0;
}

int
proto_slide_decode (const char *data, size_t len, proto_slide_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int32_t text_color = 0;
    void *shot = NULL;
    int rc = s_get_i32 (m, "slide", &self->slide, 0, INT32_MAX, true, err)
          || s_get_str (m, "locale", self->locale, sizeof self->locale, false, err)
          || s_get_str (m, "preset", self->preset, sizeof self->preset, false, err)
          || s_get_i32 (m, "width", &self->width, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
          || s_get_i32 (m, "height", &self->height, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
          || s_slide_colors (m, self, err)
          || s_get_i32 (m, "bg_angle", &self->bg_angle, 0, 359, true, err)
          || s_slide_lines (m, self, err)
          || s_get_i32 (m, "text_color", &text_color, 0, S_COLOR_MAX, true, err)
          || s_get_str_dup (m, "shot_url", &self->shot_url, EASEL_MAX_URL_BYTES, false, err)
          || s_get_bin (m, "shot_data", &shot, &self->shot_len, EASEL_MAX_SOURCE_BYTES, false, err)
          || s_get_sha (m, "shot_sha256", self->shot_sha256, err)
          || s_get_str (m, "device", self->device, sizeof self->device, true, err)
          || s_get_str (m, "format", self->format, sizeof self->format, true, err)
          || s_slide_layout (m, self, err);
    self->text_color = (uint32_t) text_color;
    self->shot_data = shot;
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_slide_free (self);
    return rc ? -1 : 0;
}

void
proto_slide_free (proto_slide_t *self)
{
    if (!self)
        return;
    for (int i = 0; i < EASEL_MAX_HEADLINE_LINES; i++) {
        free (self->lines [i]);
        self->lines [i] = NULL;
        free (self->sub [i]);
        self->sub [i] = NULL;
    }
    self->nlines = 0;
    self->nsub = 0;
    free (self->bg_image_url);
    self->bg_image_url = NULL;
    free (self->shot_url);
    free (self->shot_data);
    self->shot_url = NULL;
    self->shot_data = NULL;
    self->shot_len = 0;
}

/* ---- CREATE_RENDER ---------------------------------------------------------- */

int
proto_create_render_encode (const proto_create_render_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_bool (&m, "sync", self->sync);
    s_put_opt_str (&m, "webhook_url", self->webhook_url);
    s_put_str (&m, "metadata_json", self->metadata_json ? self->metadata_json : "{}");
    s_put_array (&m, "tasks", self->ntasks, EASEL_MAX_IMAGES_PER_RENDER);
    if (self->ntasks > 0 && !self->tasks)
        e.rc = -1;
    for (int32_t i = 0; !e.rc && i < self->ntasks; i++) {
        const proto_task_spec_t *t = &self->tasks [i];
        s_map_t tm;
        s_map_begin (&tm, &e);
        s_put_int (&tm, "slide", t->slide);
        s_put_str (&tm, "locale", t->locale);
        s_put_str (&tm, "preset", t->preset);
        s_put_int (&tm, "width", t->width);
        s_put_int (&tm, "height", t->height);
        s_put_str (&tm, "format", t->format);
        s_put_bin (&tm, "spec", t->spec, t->spec_len);
        if (t->blob [0])
            s_put_str (&tm, "blob", t->blob);
        s_map_end (&tm);
    }
    if (self->nblobs > 0) {
        s_put_array (&m, "blobs", self->nblobs, PROTO_MAX_BLOBS);
        if (!self->blobs)
            e.rc = -1;
        for (int32_t i = 0; !e.rc && i < self->nblobs; i++) {
            s_map_t bm;
            s_map_begin (&bm, &e);
            s_put_str (&bm, "sha256", self->blobs [i].sha256);
            s_put_bin (&bm, "data", self->blobs [i].data, self->blobs [i].len);
            s_map_end (&bm);
        }
    }
    if (self->idem_key [0]) {
        s_put_str (&m, "idem_key", self->idem_key);
        s_put_str (&m, "idem_fp", self->idem_fp);
        s_put_int (&m, "idem_hold_ms", self->idem_hold_ms);
    }
    if (self->req [0])
        s_put_str (&m, "req", self->req);
    if (self->no_cache)
        s_put_bool (&m, "no_cache", true);
    return s_end_body (&m, start);
}

static int
s_task_spec_decode (const msgpack_object *m, proto_task_spec_t *t, char *err)
{
    void *spec = NULL;
    int rc = s_item_is_map (m, "tasks", err)
          || s_get_i32 (m, "slide", &t->slide, 0, INT32_MAX, true, err)
          || s_get_str (m, "locale", t->locale, sizeof t->locale, false, err)
          || s_get_str (m, "preset", t->preset, sizeof t->preset, false, err)
          || s_get_i32 (m, "width", &t->width, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
          || s_get_i32 (m, "height", &t->height, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
          || s_get_str (m, "format", t->format, sizeof t->format, true, err)
          || s_get_bin (m, "spec", &spec, &t->spec_len, EASEL_MAX_MSG_BYTES, true, err)
          || s_get_sha (m, "blob", t->blob, err);
    t->spec = spec;
    return rc ? -1 : 0;
}

/* The optional "blobs": each decoded, its sha256 checked against its bytes,
   and every task's "blob" must name one of them. */
static int
s_create_blobs (const msgpack_object *m, proto_create_render_t *self, char *err)
{
    const msgpack_object_array *a;
    if (s_get_array (m, "blobs", &a, PROTO_MAX_BLOBS, false, err))
        return -1;
    if (a && a->size > 0) {
        self->blobs = calloc (a->size, sizeof *self->blobs);
        if (!self->blobs) {
            s_fail (err, "out of memory");
            return -1;
        }
        self->nblobs = (int32_t) a->size;
    }
    for (int32_t i = 0; i < self->nblobs; i++) {
        proto_blob_t *b = &self->blobs [i];
        void *data = NULL;
        int rc = s_item_is_map (&a->ptr [i], "blobs", err)
              || s_get_sha (&a->ptr [i], "sha256", b->sha256, err)
              || s_get_bin (&a->ptr [i], "data", &data, &b->len, EASEL_MAX_SOURCE_BYTES, true, err);
        b->data = data;
        if (rc)
            return -1;
        if (!b->sha256 [0] || b->len == 0 || !s_sha_matches (b->data, b->len, b->sha256)) {
            s_fail (err, "blobs[%d]: sha256 does not match its data", (int) i);
            return -1;
        }
    }
    for (int32_t t = 0; t < self->ntasks; t++) {
        if (!self->tasks [t].blob [0])
            continue;
        bool found = false;
        for (int32_t i = 0; i < self->nblobs && !found; i++)
            found = strcmp (self->blobs [i].sha256, self->tasks [t].blob) == 0;
        /* not carried: an uploaded file the scheduler holds (it checks the account's) */
        const char *hex = self->tasks [t].blob;
        if (!found && (strlen (hex) != 64 || strspn (hex, "0123456789abcdef") != 64)) {
            s_fail (err, "tasks[%d]: blob is neither in blobs nor a sha256", (int) t);
            return -1;
        }
    }
    return 0;
}

static int
s_create_tasks (const msgpack_object *m, proto_create_render_t *self, char *err)
{
    const msgpack_object_array *a;
    if (s_get_array (m, "tasks", &a, EASEL_MAX_IMAGES_PER_RENDER, true, err))
        return -1;
    if (a->size == 0) {
        s_fail (err, "field 'tasks' must not be empty");
        return -1;
    }
    self->tasks = calloc (a->size, sizeof *self->tasks);
    if (!self->tasks) {
        s_fail (err, "out of memory");
        return -1;
    }
    self->ntasks = (int32_t) a->size;
    for (uint32_t i = 0; i < a->size; i++)
        if (s_task_spec_decode (&a->ptr [i], &self->tasks [i], err))
            return -1;
    return 0;
}

int
proto_create_render_decode (const char *data, size_t len, proto_create_render_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_bool (m, "sync", &self->sync, true, err)
          || s_get_str_dup (m, "webhook_url", &self->webhook_url, EASEL_MAX_URL_BYTES, false, err)
          || s_get_str_dup (m, "metadata_json", &self->metadata_json, EASEL_MAX_METADATA_BYTES, true, err)
          || s_create_tasks (m, self, err)
          || s_create_blobs (m, self, err)
          || s_get_str (m, "idem_key", self->idem_key, sizeof self->idem_key, false, err)
          || s_get_str (m, "idem_fp", self->idem_fp, sizeof self->idem_fp, false, err)
          || s_get_i64 (m, "idem_hold_ms", &self->idem_hold_ms, 0, false, err)
          || s_get_str (m, "req", self->req, sizeof self->req, false, err)
          || s_get_bool (m, "no_cache", &self->no_cache, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_create_render_free (self);
    return rc ? -1 : 0;
}

void
proto_create_render_free (proto_create_render_t *self)
{
    if (!self)
        return;
    free (self->webhook_url);
    free (self->metadata_json);
    self->webhook_url = NULL;
    self->metadata_json = NULL;
    for (int32_t i = 0; self->tasks && i < self->ntasks; i++)
        free (self->tasks [i].spec);
    free (self->tasks);
    self->tasks = NULL;
    self->ntasks = 0;
    for (int32_t i = 0; self->blobs && i < self->nblobs; i++)
        free (self->blobs [i].data);
    free (self->blobs);
    self->blobs = NULL;
    self->nblobs = 0;
}

/* ---- GET_RENDER / GET_FILE ---------------------------------------------------- */

int
proto_get_encode (const proto_get_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "id", self->id);
    s_put_int (&m, "exp", self->exp);
    s_put_str (&m, "sig", self->sig);
    s_put_opt_str (&m, "link_by", self->link_by [0] ? self->link_by : NULL);
    s_put_opt_str (&m, "link_since", self->link_since [0] ? self->link_since : NULL);
    s_put_opt_str (&m, "link_of", self->link_of [0] ? self->link_of : NULL);
    return s_end_body (&m, start);
}

int
proto_get_decode (const char *data, size_t len, proto_get_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, true, err)
          || s_get_i64 (m, "exp", &self->exp, 0, false, err)
          || s_get_str (m, "sig", self->sig, sizeof self->sig, false, err)
          || s_get_str (m, "link_by", self->link_by, sizeof self->link_by, false, err)
          || s_get_str (m, "link_since", self->link_since, sizeof self->link_since, false, err)
          || s_get_str (m, "link_of", self->link_of, sizeof self->link_of, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

/* ---- RENDER ---------------------------------------------------------------------- */

int
proto_render_encode (const proto_render_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "id", self->id);
    s_put_str (&m, "account_id", self->account_id);
    s_put_str (&m, "status", self->status);
    s_put_int (&m, "created_at_ms", self->created_at_ms);
    s_put_int (&m, "completed_at_ms", self->completed_at_ms);
    s_put_int (&m, "done", self->done);
    s_put_int (&m, "total", self->total);
    s_put_int (&m, "credits_used", self->credits_used);
    s_put_opt_str (&m, "webhook_url", self->webhook_url);
    s_put_str (&m, "webhook_status", self->webhook_status);
    s_put_str (&m, "metadata_json", self->metadata_json ? self->metadata_json : "{}");
    s_put_error (&m, &self->error);
    if (self->review_status [0]) {
        s_put_str (&m, "review_status", self->review_status);
        s_put_opt_str (&m, "review_comment", self->review_comment);
        s_put_opt_str (&m, "review_by", self->review_by);
        s_put_int (&m, "review_decided_at_ms", self->review_decided_at_ms);
    }
    if (self->review_sig [0]) {
        s_put_int (&m, "review_exp", self->review_exp);
        s_put_str (&m, "review_sig", self->review_sig);
    }
    s_put_array (&m, "images", self->nimages, EASEL_MAX_IMAGES_PER_RENDER);
    if (self->nimages > 0 && !self->images)
        e.rc = -1;
    for (int32_t i = 0; !e.rc && i < self->nimages; i++) {
        const proto_image_t *im = &self->images [i];
        s_map_t imm;
        s_map_begin (&imm, &e);
        s_put_str (&imm, "id", im->id);
        s_put_str (&imm, "status", im->status);
        s_put_int (&imm, "slide", im->slide);
        s_put_str (&imm, "locale", im->locale);
        s_put_str (&imm, "preset", im->preset);
        s_put_int (&imm, "width", im->width);
        s_put_int (&imm, "height", im->height);
        s_put_str (&imm, "format", im->format);
        s_put_int (&imm, "bytes", im->bytes);
        s_put_str (&imm, "sha256", im->sha256);
        s_put_int (&imm, "url_exp", im->url_exp);
        s_put_str (&imm, "url_sig", im->url_sig);
        s_put_int (&imm, "attempts", im->attempts);
        s_put_error (&imm, &im->error);
        s_put_opt_str (&imm, "findings_json", im->findings_json);
        if (im->cached)
            s_put_bool (&imm, "cached", true);
        if (im->thumb [0])
            s_put_str (&imm, "thumb", im->thumb);
        s_map_end (&imm);
    }
    return s_end_body (&m, start);
}

static int
s_image_decode (const msgpack_object *m, proto_image_t *im, char *err)
{
    return s_item_is_map (m, "images", err)
        || s_get_str (m, "id", im->id, sizeof im->id, true, err)
        || s_get_str (m, "status", im->status, sizeof im->status, true, err)
        || s_get_i32 (m, "slide", &im->slide, 0, INT32_MAX, true, err)
        || s_get_str (m, "locale", im->locale, sizeof im->locale, false, err)
        || s_get_str (m, "preset", im->preset, sizeof im->preset, false, err)
        || s_get_i32 (m, "width", &im->width, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
        || s_get_i32 (m, "height", &im->height, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
        || s_get_str (m, "format", im->format, sizeof im->format, true, err)
        || s_get_i64 (m, "bytes", &im->bytes, 0, true, err)
        || s_get_str (m, "sha256", im->sha256, sizeof im->sha256, true, err)
        || s_get_i64 (m, "url_exp", &im->url_exp, 0, false, err)
        || s_get_str (m, "url_sig", im->url_sig, sizeof im->url_sig, false, err)
        || s_get_i32 (m, "attempts", &im->attempts, 0, INT32_MAX, true, err)
        || s_get_error (m, &im->error, false, err)
        || s_get_str_dup (m, "findings_json", &im->findings_json, EASEL_MAX_FINDINGS_BYTES, false, err)
        || s_get_bool (m, "cached", &im->cached, false, err)
        || s_get_str (m, "thumb", im->thumb, sizeof im->thumb, false, err)
        ? -1 : 0;
}

static int
s_render_images (const msgpack_object *m, proto_render_t *self, char *err)
{
    const msgpack_object_array *a;
    if (s_get_array (m, "images", &a, EASEL_MAX_IMAGES_PER_RENDER, true, err))
        return -1;
    if (a->size == 0)
        return 0;
    self->images = calloc (a->size, sizeof *self->images);
    if (!self->images) {
        s_fail (err, "out of memory");
        return -1;
    }
    self->nimages = (int32_t) a->size;
    for (uint32_t i = 0; i < a->size; i++)
        if (s_image_decode (&a->ptr [i], &self->images [i], err))
            return -1;
    return 0;
}

int
proto_render_decode (const char *data, size_t len, proto_render_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, true, err)
          || s_get_str (m, "account_id", self->account_id, sizeof self->account_id, true, err)
          || s_get_str (m, "status", self->status, sizeof self->status, true, err)
          || s_get_i64 (m, "created_at_ms", &self->created_at_ms, 0, true, err)
          || s_get_i64 (m, "completed_at_ms", &self->completed_at_ms, 0, true, err)
          || s_get_i32 (m, "done", &self->done, 0, INT32_MAX, true, err)
          || s_get_i32 (m, "total", &self->total, 0, INT32_MAX, true, err)
          || s_get_i64 (m, "credits_used", &self->credits_used, 0, true, err)
          || s_get_str_dup (m, "webhook_url", &self->webhook_url, EASEL_MAX_URL_BYTES, false, err)
          || s_get_str (m, "webhook_status", self->webhook_status, sizeof self->webhook_status, true, err)
          || s_get_str_dup (m, "metadata_json", &self->metadata_json, EASEL_MAX_METADATA_BYTES, true, err)
          || s_get_error (m, &self->error, false, err)
          || s_get_str (m, "review_status", self->review_status, sizeof self->review_status, false, err)
          || s_get_str_dup (m, "review_comment", &self->review_comment, EASEL_REVIEW_COMMENT_MAX, false, err)
          || s_get_str_dup (m, "review_by", &self->review_by, EASEL_REVIEW_BY_MAX, false, err)
          || s_get_i64 (m, "review_decided_at_ms", &self->review_decided_at_ms, 0, false, err)
          || s_get_i64 (m, "review_exp", &self->review_exp, 0, false, err)
          || s_get_str (m, "review_sig", self->review_sig, sizeof self->review_sig, false, err)
          || s_render_images (m, self, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_render_free (self);
    return rc ? -1 : 0;
}

void
proto_render_free (proto_render_t *self)
{
    if (!self)
        return;
    free (self->webhook_url);
    free (self->metadata_json);
    free (self->review_comment);
    free (self->review_by);
    self->webhook_url = NULL;
    self->metadata_json = NULL;
    self->review_comment = NULL;
    self->review_by = NULL;
    proto_error_free (&self->error);
    for (int32_t i = 0; self->images && i < self->nimages; i++) {
        proto_error_free (&self->images [i].error);
        free (self->images [i].findings_json);
        self->images [i].findings_json = NULL;
    }
    free (self->images);
    self->images = NULL;
    self->nimages = 0;
}

/* ---- FILE ------------------------------------------------------------------------ */

int
proto_file_encode (const proto_file_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "id", self->id);
    s_put_str (&m, "content_type", self->content_type);
    s_put_str (&m, "sha256", self->sha256);
    s_put_bin (&m, "data", self->data, self->len);
    return s_end_body (&m, start);
}

int
proto_file_decode (const char *data, size_t len, proto_file_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    void *bytes = NULL;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, true, err)
          || s_get_str (m, "content_type", self->content_type, sizeof self->content_type, true, err)
          || s_get_str (m, "sha256", self->sha256, sizeof self->sha256, true, err)
          || s_get_bin (m, "data", &bytes, &self->len, EASEL_MAX_MSG_BYTES, true, err);
    self->data = bytes;
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_file_free (self);
    return rc ? -1 : 0;
}

void
proto_file_free (proto_file_t *self)
{
    if (!self)
        return;
    free (self->data);
    self->data = NULL;
    self->len = 0;
}

/* ---- FILE_PUT / FILE_FIND ------------------------------------------------------- */

int
proto_file_put_encode (const proto_file_put_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "format", self->format);
    s_put_int (&m, "width", self->width);
    s_put_int (&m, "height", self->height);
    s_put_bin (&m, "data", self->data, self->len);
    return s_end_body (&m, start);
}

int
proto_file_put_decode (const char *data, size_t len, proto_file_put_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    void *bytes = NULL;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "format", self->format, sizeof self->format, true, err)
          || s_get_i32 (m, "width", &self->width, 1, INT32_MAX, true, err)
          || s_get_i32 (m, "height", &self->height, 1, INT32_MAX, true, err)
          || s_get_bin (m, "data", &bytes, &self->len, EASEL_MAX_SOURCE_BYTES, true, err);
    self->data = bytes;
    if (rc == 0 && self->len == 0) {
        s_fail (err, "field 'data' is empty");
        rc = -1;
    }
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_file_put_free (self);
    return rc ? -1 : 0;
}

void
proto_file_put_free (proto_file_put_t *self)
{
    if (!self)
        return;
    free (self->data);
    self->data = NULL;
    self->len = 0;
}

int
proto_file_find_encode (const proto_file_find_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "id", self->id);
    s_put_str (&m, "sha256", self->sha256);
    return s_end_body (&m, start);
}

int
proto_file_find_decode (const char *data, size_t len, proto_file_find_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, true, err)
          || s_get_str (m, "sha256", self->sha256, sizeof self->sha256, true, err);
    if (rc == 0 && !self->id [0] == !self->sha256 [0]) {
        s_fail (err, "exactly one of 'id' and 'sha256' is set");
        rc = -1;
    }
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

/* ---- ERROR ----------------------------------------------------------------------- */

int
proto_errmsg_encode (const proto_errmsg_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_int (&m, "status", self->status);
    s_put_error (&m, &self->error);
    return s_end_body (&m, start);
}

int
proto_errmsg_decode (const char *data, size_t len, proto_errmsg_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_i32 (m, "status", &self->status, 100, 599, true, err)
          || s_get_error (m, &self->error, true, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_errmsg_free (self);
    return rc ? -1 : 0;
}

void
proto_errmsg_free (proto_errmsg_t *self)
{
    if (self)
        proto_error_free (&self->error);
}

/* ---- EVENTS_SINCE / EVENTS ---------------------------------------------------------- */

int
proto_events_since_encode (const proto_events_since_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_int (&m, "since", self->since);
    s_put_int (&m, "limit", self->limit);
    return s_end_body (&m, start);
}

int
proto_events_since_decode (const char *data, size_t len, proto_events_since_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_i64 (m, "since", &self->since, 0, true, err)
          || s_get_i32 (m, "limit", &self->limit, 1, EASEL_EVENTS_PAGE_MAX, true, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

int
proto_events_encode (const proto_events_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_int (&m, "last_seq", self->last_seq);
    s_put_array (&m, "events", self->nevents, EASEL_EVENTS_PAGE_MAX);
    if (self->nevents > 0 && !self->events)
        e.rc = -1;
    for (int32_t i = 0; !e.rc && i < self->nevents; i++) {
        const proto_event_t *ev = &self->events [i];
        s_map_t em;
        s_map_begin (&em, &e);
        s_put_int (&em, "seq", ev->seq);
        s_put_str (&em, "id", ev->id);
        s_put_str (&em, "type", ev->type);
        s_put_str (&em, "object_id", ev->object_id);
        s_put_int (&em, "created_at_ms", ev->created_at_ms);
        s_put_str (&em, "delivery_id", ev->delivery_id);
        s_put_opt_str (&em, "url", ev->url);
        s_put_opt_str (&em, "secret", ev->secret);
        s_put_opt_str (&em, "payload", ev->payload);
        s_put_int (&em, "attempts", ev->attempts);
        if (ev->req [0])
            s_put_str (&em, "req", ev->req);
        s_map_end (&em);
    }
    return s_end_body (&m, start);
}

static int
s_event_decode (const msgpack_object *m, proto_event_t *ev, char *err)
{
    return s_item_is_map (m, "events", err)
        || s_get_i64 (m, "seq", &ev->seq, 0, true, err)
        || s_get_str (m, "id", ev->id, sizeof ev->id, true, err)
        || s_get_str (m, "type", ev->type, sizeof ev->type, true, err)
        || s_get_str (m, "object_id", ev->object_id, sizeof ev->object_id, true, err)
        || s_get_i64 (m, "created_at_ms", &ev->created_at_ms, 0, true, err)
        || s_get_str (m, "delivery_id", ev->delivery_id, sizeof ev->delivery_id, false, err)
        || s_get_str_dup (m, "url", &ev->url, EASEL_MAX_URL_BYTES, false, err)
        || s_get_str_dup (m, "secret", &ev->secret, S_MAX_SECRET_BYTES, false, err)
        || s_get_str_dup (m, "payload", &ev->payload, EASEL_MAX_MSG_BYTES, false, err)
        || s_get_i32 (m, "attempts", &ev->attempts, 0, INT32_MAX, true, err)
        || s_get_str (m, "req", ev->req, sizeof ev->req, false, err)
        ? -1 : 0;
}

static int
s_events_list (const msgpack_object *m, proto_events_t *self, char *err)
{
    const msgpack_object_array *a;
    if (s_get_array (m, "events", &a, EASEL_EVENTS_PAGE_MAX, true, err))
        return -1;
    if (a->size == 0)
        return 0;
    self->events = calloc (a->size, sizeof *self->events);
    if (!self->events) {
        s_fail (err, "out of memory");
        return -1;
    }
    self->nevents = (int32_t) a->size;
    for (uint32_t i = 0; i < a->size; i++)
        if (s_event_decode (&a->ptr [i], &self->events [i], err))
            return -1;
    return 0;
}

int
proto_events_decode (const char *data, size_t len, proto_events_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_i64 (m, "last_seq", &self->last_seq, 0, true, err)
          || s_events_list (m, self, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_events_free (self);
    return rc ? -1 : 0;
}

void
proto_events_free (proto_events_t *self)
{
    if (!self)
        return;
    for (int32_t i = 0; self->events && i < self->nevents; i++) {
        free (self->events [i].url);
        free (self->events [i].secret);
        free (self->events [i].payload);
    }
    free (self->events);
    self->events = NULL;
    self->nevents = 0;
}

/* ---- DELIVERY_REPORT ------------------------------------------------------------- */

int
proto_delivery_report_encode (const proto_delivery_report_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "delivery_id", self->delivery_id);
    s_put_bool (&m, "ok", self->ok);
    s_put_bool (&m, "final", self->final);
    s_put_int (&m, "status_code", self->status_code);
    s_put_int (&m, "latency_ms", self->latency_ms);
    s_put_opt_str (&m, "error", self->error);
    s_put_opt_str (&m, "response_head", self->response_head);
    return s_end_body (&m, start);
}

int
proto_delivery_report_decode (const char *data, size_t len, proto_delivery_report_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "delivery_id", self->delivery_id, sizeof self->delivery_id, true, err)
          || s_get_bool (m, "ok", &self->ok, true, err)
          || s_get_bool (m, "final", &self->final, false, err)
          || s_get_i32 (m, "status_code", &self->status_code, 0, 999, true, err)
          || s_get_i64 (m, "latency_ms", &self->latency_ms, 0, true, err)
          || s_get_str_dup (m, "error", &self->error, S_MAX_MESSAGE_BYTES, false, err)
          || s_get_str_dup (m, "response_head", &self->response_head,
                            EASEL_WEBHOOK_RESPONSE_KEEP_BYTES, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_delivery_report_free (self);
    return rc ? -1 : 0;
}

void
proto_delivery_report_free (proto_delivery_report_t *self)
{
    if (!self)
        return;
    free (self->error);
    free (self->response_head);
    self->error = NULL;
    self->response_head = NULL;
}

/* ---- webhook management: WEBHOOK_REQ and JSON ------------------------------------- */

int
proto_webhook_req_encode (const proto_webhook_req_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "id", self->id);
    s_put_opt_str (&m, "url", self->url);
    s_put_str (&m, "action", self->action);
    s_put_int (&m, "overlap_s", self->overlap_s);
    return s_end_body (&m, start);
}

int
proto_webhook_req_decode (const char *data, size_t len, proto_webhook_req_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, false, err)
          || s_get_str_dup (m, "url", &self->url, PROTO_WEBHOOK_URL_MAX, false, err)
          || s_get_str (m, "action", self->action, sizeof self->action, false, err)
          || s_get_int (m, "overlap_s", &self->overlap_s, -1, EASEL_WEBHOOK_OVERLAP_MAX_S, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_webhook_req_free (self);
    return rc ? -1 : 0;
}

void
proto_webhook_req_free (proto_webhook_req_t *self)
{
    if (!self)
        return;
    free (self->url);
    self->url = NULL;
}

int
proto_json_encode (const proto_json_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_int (&m, "status", self->status);
    s_put_str (&m, "json", self->json ? self->json : "{}");
    return s_end_body (&m, start);
}

int
proto_json_decode (const char *data, size_t len, proto_json_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_i32 (m, "status", &self->status, 200, 599, true, err)
          || s_get_str_dup (m, "json", &self->json, PROTO_JSON_MAX, true, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_json_free (self);
    return rc ? -1 : 0;
}

void
proto_json_free (proto_json_t *self)
{
    if (!self)
        return;
    free (self->json);
    self->json = NULL;
}

/* ---- small bodies ------------------------------------------------------------------ */

int
proto_simple_encode (const proto_simple_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_int (&m, "renderers", self->renderers);
    s_put_int (&m, "last_seq", self->last_seq);
    return s_end_body (&m, start);
}

int
proto_simple_decode (const char *data, size_t len, proto_simple_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, false, err)
          || s_get_i32 (m, "renderers", &self->renderers, 0, INT32_MAX, false, err)
          || s_get_i64 (m, "last_seq", &self->last_seq, 0, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

/* ---- READY / TASK / RESULT / FAIL ------------------------------------------------- */

int
proto_ready_encode (const proto_ready_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "name", self->name);
    s_put_int (&m, "slots", self->slots);
    if (self->capture)
        s_put_bool (&m, "capture", true);
    return s_end_body (&m, start);
}

int
proto_ready_decode (const char *data, size_t len, proto_ready_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "name", self->name, sizeof self->name, true, err)
          || s_get_i32 (m, "slots", &self->slots, 1, 256, true, err)
          || s_get_bool (m, "capture", &self->capture, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

int
proto_task_encode (const proto_task_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "task_id", self->task_id);
    s_put_int (&m, "attempt", self->attempt);
    s_put_bin (&m, "spec", self->spec, self->spec_len);
    if (self->req [0])
        s_put_str (&m, "req", self->req);
    if (self->render_id [0]) {
        s_put_str (&m, "render_id", self->render_id);
        s_put_bool (&m, "render_last", self->render_last);
    }
    if (self->blob_sha256 [0]) {
        s_put_str (&m, "blob_sha256", self->blob_sha256);
        s_put_bin (&m, "blob", self->blob, self->blob_len);
    }
    return s_end_body (&m, start);
}

int
proto_task_decode (const char *data, size_t len, proto_task_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    void *spec = NULL;
    int rc = s_get_str (m, "task_id", self->task_id, sizeof self->task_id, true, err)
          || s_get_i32 (m, "attempt", &self->attempt, 1, INT32_MAX, true, err)
          || s_get_bin (m, "spec", &spec, &self->spec_len, EASEL_MAX_MSG_BYTES, true, err)
          || s_get_str (m, "req", self->req, sizeof self->req, false, err)
          || s_get_sha (m, "blob_sha256", self->blob_sha256, err)
          || s_get_str (m, "render_id", self->render_id, sizeof self->render_id, false, err)
          || s_get_bool (m, "render_last", &self->render_last, false, err);
    self->spec = spec;
    if (!rc && self->blob_sha256 [0]) {
        void *blob = NULL;
        rc = s_get_bin (m, "blob", &blob, &self->blob_len, EASEL_MAX_SOURCE_BYTES, true, err);
        self->blob = blob;
        if (!rc && !s_sha_matches (self->blob, self->blob_len, self->blob_sha256)) {
            s_fail (err, "blob does not match blob_sha256");
            rc = -1;
        }
    }
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_task_free (self);
    return rc ? -1 : 0;
}

void
proto_task_free (proto_task_t *self)
{
    if (!self)
        return;
    free (self->spec);
    self->spec = NULL;
    self->spec_len = 0;
    free (self->blob);
    self->blob = NULL;
    self->blob_len = 0;
    self->blob_sha256 [0] = 0;
}

int
proto_result_encode (const proto_result_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "task_id", self->task_id);
    s_put_int (&m, "attempt", self->attempt);
    s_put_int (&m, "width", self->width);
    s_put_int (&m, "height", self->height);
    s_put_str (&m, "format", self->format);
    s_put_bin (&m, "data", self->data, self->len);
    s_put_opt_str (&m, "findings_json", self->findings_json);
    if (self->credits > 0)
        s_put_int (&m, "credits", self->credits);
    if (self->thumb [0])
        s_put_str (&m, "thumb", self->thumb);
    return s_end_body (&m, start);
}

int
proto_result_decode (const char *data, size_t len, proto_result_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    void *bytes = NULL;
    int rc = s_get_str (m, "task_id", self->task_id, sizeof self->task_id, true, err)
          || s_get_i32 (m, "attempt", &self->attempt, 1, INT32_MAX, true, err)
          || s_get_i32 (m, "width", &self->width, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
          || s_get_i32 (m, "height", &self->height, 0, EASEL_MAX_CANVAS_SIDE_PX, true, err)
          || s_get_str (m, "format", self->format, sizeof self->format, true, err)
          || s_get_bin (m, "data", &bytes, &self->len, EASEL_MAX_MSG_BYTES, true, err)
          || s_get_str_dup (m, "findings_json", &self->findings_json, EASEL_MAX_FINDINGS_BYTES,
                            false, err)
          || s_get_i32 (m, "credits", &self->credits, 0, 100, false, err)
          || s_get_str (m, "thumb", self->thumb, sizeof self->thumb, false, err);
    self->data = bytes;
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_result_free (self);
    return rc ? -1 : 0;
}

void
proto_result_free (proto_result_t *self)
{
    if (!self)
        return;
    free (self->data);
    self->data = NULL;
    self->len = 0;
    free (self->findings_json);
    self->findings_json = NULL;
}

int
proto_fail_encode (const proto_fail_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "task_id", self->task_id);
    s_put_int (&m, "attempt", self->attempt);
    s_put_bool (&m, "retryable", self->retryable);
    s_put_error (&m, &self->error);
    return s_end_body (&m, start);
}

int
proto_fail_decode (const char *data, size_t len, proto_fail_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "task_id", self->task_id, sizeof self->task_id, true, err)
          || s_get_i32 (m, "attempt", &self->attempt, 1, INT32_MAX, true, err)
          || s_get_bool (m, "retryable", &self->retryable, true, err)
          || s_get_error (m, &self->error, true, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_fail_free (self);
    return rc ? -1 : 0;
}

void
proto_fail_free (proto_fail_t *self)
{
    if (self)
        proto_error_free (&self->error);
}

/* ---- IDEM_COMPLETE / CANCEL_RENDER / LIST_RENDERS / REPLAY / ACCOUNT / RENDER_LIST -- */

int
proto_idem_complete_encode (const proto_idem_complete_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "scope", self->scope);
    s_put_str (&m, "key", self->key);
    s_put_int (&m, "status", self->status);
    s_put_str (&m, "body", self->body);
    return s_end_body (&m, start);
}

int
proto_idem_complete_decode (const char *data, size_t len, proto_idem_complete_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "scope", self->scope, sizeof self->scope, true, err)
          || s_get_str (m, "key", self->key, sizeof self->key, true, err)
          || s_get_i32 (m, "status", &self->status, 200, 599, true, err)
          || s_get_str_dup (m, "body", &self->body, EASEL_IDEMPOTENCY_BODY_MAX, true, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_idem_complete_free (self);
    return rc ? -1 : 0;
}

void
proto_idem_complete_free (proto_idem_complete_t *self)
{
    if (!self)
        return;
    free (self->body);
    self->body = NULL;
}

int
proto_idem_begin_encode (const proto_idem_begin_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "scope", self->scope);
    s_put_str (&m, "key", self->key);
    s_put_str (&m, "fp", self->fp);
    s_put_int (&m, "hold_ms", self->hold_ms);
    return s_end_body (&m, start);
}

int
proto_idem_begin_decode (const char *data, size_t len, proto_idem_begin_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "scope", self->scope, sizeof self->scope, true, err)
          || s_get_str (m, "key", self->key, sizeof self->key, true, err)
          || s_get_str (m, "fp", self->fp, sizeof self->fp, true, err)
          || s_get_i64 (m, "hold_ms", &self->hold_ms, 0, true, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

int
proto_cancel_encode (const proto_cancel_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "id", self->id);
    if (self->idem_key [0]) {
        s_put_str (&m, "idem_key", self->idem_key);
        s_put_str (&m, "idem_fp", self->idem_fp);
        s_put_int (&m, "idem_hold_ms", self->idem_hold_ms);
    }
    return s_end_body (&m, start);
}

int
proto_cancel_decode (const char *data, size_t len, proto_cancel_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, true, err)
          || s_get_str (m, "idem_key", self->idem_key, sizeof self->idem_key, false, err)
          || s_get_str (m, "idem_fp", self->idem_fp, sizeof self->idem_fp, false, err)
          || s_get_i64 (m, "idem_hold_ms", &self->idem_hold_ms, 0, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

int
proto_review_encode (const proto_review_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_str (&m, "id", self->id);
    s_put_int (&m, "exp", self->exp);
    s_put_str (&m, "sig", self->sig);
    s_put_opt_str (&m, "link_by", self->link_by [0] ? self->link_by : NULL);
    s_put_opt_str (&m, "link_since", self->link_since [0] ? self->link_since : NULL);
    s_put_str (&m, "action", self->action);
    s_put_str (&m, "status", self->status);
    s_put_opt_str (&m, "comment", self->comment);
    s_put_opt_str (&m, "by", self->by);
    return s_end_body (&m, start);
}

int
proto_review_decode (const char *data, size_t len, proto_review_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, true, err)
          || s_get_i64 (m, "exp", &self->exp, 0, false, err)
          || s_get_str (m, "sig", self->sig, sizeof self->sig, false, err)
          || s_get_str (m, "link_by", self->link_by, sizeof self->link_by, false, err)
          || s_get_str (m, "link_since", self->link_since, sizeof self->link_since, false, err)
          || s_get_str (m, "action", self->action, sizeof self->action, true, err)
          || s_get_str (m, "status", self->status, sizeof self->status, false, err)
          || s_get_str_dup (m, "comment", &self->comment, EASEL_REVIEW_COMMENT_MAX, false, err)
          || s_get_str_dup (m, "by", &self->by, EASEL_REVIEW_BY_MAX, false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_review_free (self);
    return rc ? -1 : 0;
}

void
proto_review_free (proto_review_t *self)
{
    if (!self)
        return;
    free (self->comment);
    free (self->by);
    self->comment = NULL;
    self->by = NULL;
}

int
proto_list_encode (const proto_list_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_str (&m, "auth", self->auth);
    s_put_int (&m, "limit", self->limit);
    s_put_str (&m, "starting_after", self->starting_after);
    return s_end_body (&m, start);
}

int
proto_list_decode (const char *data, size_t len, proto_list_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_str (m, "auth", self->auth, sizeof self->auth, true, err)
          || s_get_i32 (m, "limit", &self->limit, 1, EASEL_LIST_LIMIT_MAX, true, err)
          || s_get_str (m, "starting_after", self->starting_after, sizeof self->starting_after,
                        false, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        memset (self, 0, sizeof *self);
    return rc ? -1 : 0;
}

int
proto_body_encode (const proto_body_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_int (&m, "status", self->status);
    s_put_str (&m, "id", self->id);
    s_put_str (&m, "body", self->body);
    return s_end_body (&m, start);
}

int
proto_body_decode (const char *data, size_t len, proto_body_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_i32 (m, "status", &self->status, 200, 599, true, err)
          || s_get_str (m, "id", self->id, sizeof self->id, false, err)
          || s_get_str_dup (m, "body", &self->body, EASEL_IDEMPOTENCY_BODY_MAX, true, err);
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_body_free (self);
    return rc ? -1 : 0;
}

void
proto_body_free (proto_body_t *self)
{
    if (!self)
        return;
    free (self->body);
    self->body = NULL;
}

int
proto_render_list_encode (const proto_render_list_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "rid", self->rid);
    s_put_bool (&m, "has_more", self->has_more);
    s_put_array (&m, "renders", self->nrenders, EASEL_LIST_LIMIT_MAX);
    if (self->nrenders > 0 && !self->renders)
        e.rc = -1;
    for (int32_t i = 0; !e.rc && i < self->nrenders; i++) {
        msgpack_sbuffer one;
        msgpack_sbuffer_init (&one);
        if (proto_render_encode (&self->renders [i], &one)
        ||  msgpack_pack_bin (&e.pk, one.size) || msgpack_pack_bin_body (&e.pk, one.data, one.size))
            e.rc = -1;
        msgpack_sbuffer_destroy (&one);
    }
    return s_end_body (&m, start);
}

int
proto_render_list_decode (const char *data, size_t len, proto_render_list_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    const msgpack_object_array *a = NULL;
    int rc = s_get_str (m, "rid", self->rid, sizeof self->rid, true, err)
          || s_get_bool (m, "has_more", &self->has_more, true, err)
          || s_get_array (m, "renders", &a, EASEL_LIST_LIMIT_MAX, true, err);
    if (!rc && a->size > 0) {
        self->renders = calloc (a->size, sizeof *self->renders);
        if (!self->renders) {
            s_fail (err, "out of memory");
            rc = -1;
        }
        for (uint32_t i = 0; !rc && i < a->size; i++) {
            if (a->ptr [i].type != MSGPACK_OBJECT_BIN) {
                s_fail (err, "items of 'renders' must be binary");
                rc = -1;
            }
            else
            if (proto_render_decode (a->ptr [i].via.bin.ptr, a->ptr [i].via.bin.size,
                                     &self->renders [i], err))
                rc = -1;
            else
                self->nrenders = (int32_t) i + 1;
        }
    }
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_render_list_free (self);
    return rc ? -1 : 0;
}

void
proto_render_list_free (proto_render_list_t *self)
{
    if (!self)
        return;
    for (int32_t i = 0; self->renders && i < self->nrenders; i++)
        proto_render_free (&self->renders [i]);
    free (self->renders);
    self->renders = NULL;
    self->nrenders = 0;
}

/* ---- CANCEL_TASKS (work: scheduler -> renderer) ------------------------------------ */

int
proto_cancel_tasks_encode (const proto_cancel_tasks_t *self, msgpack_sbuffer *out)
{
    s_enc_t e;
    s_map_t m;
    size_t start;
    s_begin_body (&m, &e, out, &start);
    s_put_str (&m, "render_id", self->render_id);
    if (self->ntasks < 1 || !self->tasks)
        e.rc = -1;
    s_put_array (&m, "tasks", self->ntasks, EASEL_MAX_IMAGES_PER_RENDER);
    for (int32_t i = 0; !e.rc && i < self->ntasks; i++) {
        s_map_t tm;
        s_map_begin (&tm, &e);
        s_put_str (&tm, "task_id", self->tasks [i].task_id);
        s_put_int (&tm, "attempt", self->tasks [i].attempt);
        s_map_end (&tm);
    }
    return s_end_body (&m, start);
}

int
proto_cancel_tasks_decode (const char *data, size_t len, proto_cancel_tasks_t *self, char *err)
{
    memset (self, 0, sizeof *self);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    const msgpack_object_array *a = NULL;
    int rc = s_get_str (m, "render_id", self->render_id, sizeof self->render_id, true, err)
          || s_get_array (m, "tasks", &a, EASEL_MAX_IMAGES_PER_RENDER, true, err);
    if (!rc && a->size == 0) {
        s_fail (err, "field 'tasks' must not be empty");
        rc = -1;
    }
    if (!rc) {
        self->tasks = calloc (a->size, sizeof *self->tasks);
        if (!self->tasks) {
            s_fail (err, "out of memory");
            rc = -1;
        }
    }
    for (uint32_t i = 0; !rc && i < a->size; i++) {
        proto_task_ref_t *t = &self->tasks [i];
        rc = s_item_is_map (&a->ptr [i], "tasks", err)
          || s_get_str (&a->ptr [i], "task_id", t->task_id, sizeof t->task_id, true, err)
          || s_get_i32 (&a->ptr [i], "attempt", &t->attempt, 1, INT32_MAX, true, err);
        if (!rc)
            self->ntasks = (int32_t) i + 1;
    }
    msgpack_unpacked_destroy (&u);
    if (rc)
        proto_cancel_tasks_free (self);
    return rc ? -1 : 0;
}

void
proto_cancel_tasks_free (proto_cancel_tasks_t *self)
{
    if (!self)
        return;
    free (self->tasks);
    self->tasks = NULL;
    self->ntasks = 0;
}
