/*  proto.c: the one codec every Easel bus body goes through (see proto.h).

    Each message is a table of field descriptors (proto_msgs.c, described in
    proto_msgs.h); the walker here reads that table to encode, decode, free
    and sample a struct, so no message has code of its own.
    Encoding appends one map to a caller-owned sbuffer and rolls the buffer
    back on failure. Decoding first walks the raw bytes (proto_scan) so that a
    hostile header claiming millions of items cannot make msgpack-c allocate
    for them, then unpacks and reads each field with its type, range and size
    checked, naming the field in the error. Recursion follows the tables
    (a few levels), never the input.
    Thread: no shared state. Memory: decoded structs own their heap fields,
    released by proto_msg_free (= the matching proto_X_free()).
    Size: over ~800 lines on purpose: one switch per operation (encode,
    decode, free, sample) over the same field kinds, so a kind is read whole
    in one file; split it only by kind, never by operation.  */
#include "proto_msgs.h"
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
proto_fail (char *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, PROTO_ERR_MAX, fmt, ap);
    va_end (ap);
}

/* Prefixes err with "where: " (the item a nested error came from), so
   "field 'url' is too long" reads "slides[3]: field 'url' is too long". */
static void
s_fail_in (char *err, const char *name, uint32_t index)
{
    if (!err)
        return;
    char inner [PROTO_ERR_MAX];
    snprintf (inner, sizeof inner, "%s", err);
    snprintf (err, PROTO_ERR_MAX, "%s[%u]: %s", name, (unsigned) index, inner);
}

/* ---- members ---------------------------------------------------------------
    Pointer, count and length members are read and written with memcpy, so
    `char *` and `uint8_t *` members share one path without aliasing games. */

static void *
s_ptr (const void *self, size_t off)
{
    void *p;
    memcpy (&p, (const char *) self + off, sizeof p);
    return p;
}

static void
s_set_ptr (void *self, size_t off, void *p)
{
    memcpy ((char *) self + off, &p, sizeof p);
}

static int32_t
s_count (const void *self, size_t off)
{
    int32_t n;
    memcpy (&n, (const char *) self + off, sizeof n);
    return n;
}

static void
s_set_count (void *self, size_t off, int32_t n)
{
    memcpy ((char *) self + off, &n, sizeof n);
}

static size_t
s_len (const void *self, size_t off)
{
    size_t n;
    memcpy (&n, (const char *) self + off, sizeof n);
    return n;
}

static void
s_set_len (void *self, size_t off, size_t n)
{
    memcpy ((char *) self + off, &n, sizeof n);
}

static int64_t
s_num (const proto_field_t *f, const void *self)
{
    const char *p = (const char *) self + f->off;
    if (f->kind == PK_I32) { int32_t v; memcpy (&v, p, sizeof v); return v; }
    if (f->kind == PK_U32) { uint32_t v; memcpy (&v, p, sizeof v); return v; }
    int64_t v;
    memcpy (&v, p, sizeof v);
    return v;
}

static void
s_set_num (const proto_field_t *f, void *self, int64_t value)
{
    char *p = (char *) self + f->off;
    if (f->kind == PK_I32) { int32_t v = (int32_t) value; memcpy (p, &v, sizeof v); }
    else if (f->kind == PK_U32) { uint32_t v = (uint32_t) value; memcpy (p, &v, sizeof v); }
    else memcpy (p, &value, sizeof value);
}

/* Items an array field may hold: its range, and for inline arrays the room. */
static int64_t
s_cap (const proto_field_t *f)
{
    size_t item = f->kind == PK_U32S ? sizeof (uint32_t)
                : f->kind == PK_STRS || f->kind == PK_MAP ? sizeof (char *)
                : f->kind == PK_ITEMS ? f->sub->size : 0;
    if (item && (int64_t) (f->size / item) < f->hi)
        return (int64_t) (f->size / item);
    return f->hi;
}

static bool
s_is_set (const proto_field_t *f, const void *self)
{
    const char *p = (const char *) self + f->off;
    switch (f->kind) {
    case PK_STR: case PK_SHA:
        return p [0] != '\0';
    case PK_DUP: case PK_BIN:
        return s_ptr (self, f->off) != NULL;
    case PK_I32: case PK_I64: case PK_U32:
        return s_num (f, self) != 0;
    case PK_F64: {
        double d;
        memcpy (&d, p, sizeof d);
        return d != 0;
    }
    case PK_BOOL: {
        bool b;
        memcpy (&b, p, sizeof b);
        return b;
    }
    case PK_U32S: case PK_STRS: case PK_ARRAY: case PK_MSGS: case PK_ITEMS: case PK_MAP:
        return s_count (self, f->off2) > 0;
    case PK_STRUCT:
        return f->sub->nfields > 0 && s_is_set (&f->sub->fields [0], p);
    }
    return false;
}

/* True when f has no gate or its gate field is set. */
static bool
s_gate_open (const proto_msg_t *msg, const proto_field_t *f, const void *self)
{
    if (!f->when)
        return true;
    for (size_t i = 0; i < msg->nfields; i++)
        if (strcmp (msg->fields [i].name, f->when) == 0)
            return s_is_set (&msg->fields [i], self);
    return false;
}

/* ---- encoding ------------------------------------------------------------
    A map is opened with a map32 header whose count is patched when it is
    closed, so fields that are not written cost nothing. */
typedef struct {
    msgpack_sbuffer *sb;
    msgpack_packer pk;
    int rc;                        /* sticky: -1 once any pack call failed */
} s_enc_t;

static void s_enc_map (s_enc_t *e, const proto_msg_t *msg, const void *self, bool top);

/* A string of at most max bytes (the decoder's cap for the field: what it
   would refuse is never sent). */
static void
s_pack_str (s_enc_t *e, const char *value, int64_t max)
{
    size_t n = value ? strlen (value) : 0;
    if ((int64_t) n > max
    ||  msgpack_pack_str (&e->pk, n) || msgpack_pack_str_body (&e->pk, value ? value : "", n))
        e->rc = -1;
}

/* Binary of lo..hi bytes (the decoder's range for the field). */
static void
s_pack_bin (s_enc_t *e, const void *data, size_t len, int64_t lo, int64_t hi)
{
    if (len > UINT32_MAX || (len && !data) || (int64_t) len < lo || (int64_t) len > hi
    ||  msgpack_pack_bin (&e->pk, len) || msgpack_pack_bin_body (&e->pk, data, len))
        e->rc = -1;
}

/* Opens an array of n items, or fails the encoding when n is out of range. */
static void
s_pack_array (s_enc_t *e, const proto_field_t *f, int32_t n)
{
    if (n < f->lo || n > s_cap (f) || msgpack_pack_array (&e->pk, (size_t) n))
        e->rc = -1;
}

static void
s_enc_value (s_enc_t *e, const proto_field_t *f, const void *self)
{
    const char *p = (const char *) self + f->off;
    switch (f->kind) {
    case PK_STR: case PK_SHA:
        s_pack_str (e, p, (int64_t) f->size - 1);
        break;
    case PK_DUP: {
        const char *s = s_ptr (self, f->off);
        s_pack_str (e, s ? s : f->null_as, f->hi);
        break;
    }
    case PK_BIN:
        s_pack_bin (e, s_ptr (self, f->off), s_len (self, f->off2), f->lo, f->hi);
        break;
    case PK_I32: case PK_I64: case PK_U32:
        if (msgpack_pack_int64 (&e->pk, s_num (f, self)))
            e->rc = -1;
        break;
    case PK_BOOL:
        if (s_is_set (f, self) ? msgpack_pack_true (&e->pk) : msgpack_pack_false (&e->pk))
            e->rc = -1;
        break;
    case PK_F64: {
        double d;
        memcpy (&d, p, sizeof d);
        if (!isfinite (d) || d < (double) f->lo || d > (double) f->hi || msgpack_pack_double (&e->pk, d))
            e->rc = -1;
        break;
    }
    case PK_MAP: {
        int32_t n = s_count (self, f->off2);
        if (n < 0 || n > s_cap (f) || msgpack_pack_map (&e->pk, (size_t) n))
            e->rc = -1;
        for (int32_t i = 0; !e->rc && i < n; i++) {
            const char *k = s_ptr (self, f->off + (size_t) i * sizeof (char *));
            const char *v = s_ptr (self, f->off3 + (size_t) i * sizeof (char *));
            if (!k || !v || (int64_t) (strlen (k) + strlen (v)) > f->item_max)
                e->rc = -1;
            else {
                s_pack_str (e, k, f->item_max);
                s_pack_str (e, v, f->item_max);
            }
        }
        break;
    }
    case PK_U32S: {
        int32_t n = s_count (self, f->off2);
        s_pack_array (e, f, n);
        for (int32_t i = 0; !e->rc && i < n; i++) {
            uint32_t v;
            memcpy (&v, p + (size_t) i * sizeof v, sizeof v);
            if (msgpack_pack_uint32 (&e->pk, v))
                e->rc = -1;
        }
        break;
    }
    case PK_STRS: {
        int32_t n = s_count (self, f->off2);
        s_pack_array (e, f, n);
        for (int32_t i = 0; !e->rc && i < n; i++)
            s_pack_str (e, s_ptr (self, f->off + (size_t) i * sizeof (char *)), f->item_max);
        break;
    }
    case PK_STRUCT:
        s_enc_map (e, f->sub, p, false);
        break;
    case PK_ARRAY: case PK_MSGS: case PK_ITEMS: {
        int32_t n = s_count (self, f->off2);
        const char *items = f->kind == PK_ITEMS ? p : s_ptr (self, f->off);
        s_pack_array (e, f, n);
        if (n > 0 && !items)
            e->rc = -1;
        for (int32_t i = 0; !e->rc && i < n; i++) {
            const char *item = items + (size_t) i * f->sub->size;
            if (f->kind != PK_MSGS) {
                s_enc_map (e, f->sub, item, false);
                continue;
            }
            msgpack_sbuffer one;
            msgpack_sbuffer_init (&one);
            if (proto_msg_encode (f->sub, item, &one))
                e->rc = -1;
            else
                s_pack_bin (e, one.data, one.size, 0, INT64_MAX);
            msgpack_sbuffer_destroy (&one);
        }
        break;
    }
    }
}

static void
s_put_key (s_enc_t *e, const char *key)
{
    size_t n = strlen (key);
    if (msgpack_pack_str (&e->pk, n) || msgpack_pack_str_body (&e->pk, key, n))
        e->rc = -1;
}

/* One map of msg's fields (and "v" at the top) in table order. */
static void
s_enc_map (s_enc_t *e, const proto_msg_t *msg, const void *self, bool top)
{
    static const char header [5] = { (char) 0xdf, 0, 0, 0, 0 };
    size_t offset = e->sb->size;
    uint32_t count = 0;
    if (msgpack_sbuffer_write (e->sb, header, sizeof header))
        e->rc = -1;
    if (top) {
        s_put_key (e, "v");
        if (msgpack_pack_int64 (&e->pk, EASEL_PROTO_VERSION))
            e->rc = -1;
        count++;
    }
    for (size_t i = 0; !e->rc && i < msg->nfields; i++) {
        const proto_field_t *f = &msg->fields [i];
        if (((f->flags & PF_SET) && !s_is_set (f, self)) || !s_gate_open (msg, f, self))
            continue;
        s_put_key (e, f->name);
        s_enc_value (e, f, self);
        count++;
    }
    if (e->rc)
        return;
    unsigned char *p = (unsigned char *) e->sb->data + offset + 1;
    p [0] = (unsigned char) (count >> 24);
    p [1] = (unsigned char) (count >> 16);
    p [2] = (unsigned char) (count >> 8);
    p [3] = (unsigned char) count;
}

int
proto_msg_encode (const proto_msg_t *msg, const void *self, msgpack_sbuffer *out)
{
    if (!msg || !self || !out)
        return -1;
    size_t start = out->size;
    s_enc_t e = { .sb = out, .rc = 0 };
    msgpack_packer_init (&e.pk, out, msgpack_sbuffer_write);
    s_enc_map (&e, msg, self, true);
    if (e.rc || out->size - start > EASEL_MAX_MSG_BYTES) {
        out->size = start;
        return -1;
    }
    return 0;
}

/* ---- decoding ------------------------------------------------------------ */

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
        proto_fail (err, "missing field '%s'", key);
        return -1;
    }
    return 0;
}

/* Checks a string value: type, no NUL inside, at most max bytes. */
static int
s_check_str (const msgpack_object *o, const char *key, int64_t max, char *err)
{
    if (o->type != MSGPACK_OBJECT_STR) {
        proto_fail (err, "field '%s' must be a string", key);
        return -1;
    }
    if ((int64_t) o->via.str.size > max) {
        proto_fail (err, "field '%s' is too long (max %lld bytes)", key, (long long) max);
        return -1;
    }
    if (memchr (o->via.str.ptr, '\0', o->via.str.size)) {
        proto_fail (err, "field '%s' contains a NUL byte", key);
        return -1;
    }
    return 0;
}

static char *
s_strdup_obj (const msgpack_object *o, char *err)
{
    char *s = strndup (o->via.str.ptr, o->via.str.size);
    if (!s)
        proto_fail (err, "out of memory");
    return s;
}

/* An integer within [lo, hi] into *out. */
static int
s_check_int (const msgpack_object *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
             char *err)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER && o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        proto_fail (err, "field '%s' must be an integer", key);
        return -1;
    }
    bool huge = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 > INT64_MAX;
    int64_t v = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t) (huge ? 0 : o->via.u64)
                                                           : o->via.i64;
    if (huge || v < lo || v > hi) {
        proto_fail (err, "field '%s' out of range (%lld..%lld)", key, (long long) lo, (long long) hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* An array of lo..cap items. */
static int
s_check_array (const msgpack_object *o, const proto_field_t *f, char *err)
{
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        proto_fail (err, "field '%s' must be an array", f->name);
        return -1;
    }
    if ((int64_t) o->via.array.size > s_cap (f)) {
        proto_fail (err, "field '%s' has too many items (max %lld)", f->name, (long long) s_cap (f));
        return -1;
    }
    if ((int64_t) o->via.array.size < f->lo) {
        if (f->lo == 1)
            proto_fail (err, "field '%s' must not be empty", f->name);
        else
            proto_fail (err, "field '%s' has too few items (min %lld)", f->name, (long long) f->lo);
        return -1;
    }
    return 0;
}

static bool
s_is_hex_sha (const char *s)
{
    return strlen (s) == 64 && strspn (s, "0123456789abcdef") == 64;
}

static int s_dec_map (const proto_msg_t *msg, const msgpack_object *map, void *self, char *err);

/* A heap array of n zeroed sub structs at f (count set first, so that a
   failure part way frees what was decoded). */
static char *
s_dec_items (const proto_field_t *f, void *self, uint32_t n, char *err)
{
    if (n == 0)
        return NULL;
    char *items = calloc (n, f->sub->size);
    if (!items) {
        proto_fail (err, "out of memory");
        return NULL;
    }
    s_set_ptr (self, f->off, items);
    s_set_count (self, f->off2, (int32_t) n);
    return items;
}

/* A PK_MAP: string keys and values, key + value at most item_max bytes,
   keys distinct; the count grows with each pair so a failure frees them. */
static int
s_dec_strmap (const proto_field_t *f, const msgpack_object *o, void *self, char *err)
{
    if (o->type != MSGPACK_OBJECT_MAP) {
        proto_fail (err, "field '%s' must be a map", f->name);
        return -1;
    }
    if ((int64_t) o->via.map.size > s_cap (f)) {
        proto_fail (err, "field '%s' has too many entries (max %lld)", f->name, (long long) s_cap (f));
        return -1;
    }
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr [i].key, *v = &o->via.map.ptr [i].val;
        if (s_check_str (k, f->name, f->item_max, err) || s_check_str (v, f->name, f->item_max, err))
            return -1;
        if ((int64_t) (k->via.str.size + v->via.str.size) > f->item_max) {
            proto_fail (err, "an entry of '%s' is too long (max %lld bytes)", f->name, (long long) f->item_max);
            return -1;
        }
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *seen = &o->via.map.ptr [j].key;
            if (seen->via.str.size == k->via.str.size
            &&  memcmp (seen->via.str.ptr, k->via.str.ptr, k->via.str.size) == 0) {
                proto_fail (err, "field '%s' names a key twice", f->name);
                return -1;
            }
        }
        char *key = s_strdup_obj (k, err), *value = key ? s_strdup_obj (v, err) : NULL;
        if (!value) {
            free (key);
            return -1;
        }
        s_set_ptr (self, f->off + i * sizeof (char *), key);
        s_set_ptr (self, f->off3 + i * sizeof (char *), value);
        s_set_count (self, f->off2, (int32_t) i + 1);
    }
    return 0;
}

/* Reads one present value o into f's member of self. */
static int
s_dec_value (const proto_field_t *f, const msgpack_object *o, void *self, char *err)
{
    char *p = (char *) self + f->off;
    switch (f->kind) {
    case PK_STR: case PK_SHA:
        if (s_check_str (o, f->name, (int64_t) f->size - 1, err))
            return -1;
        memcpy (p, o->via.str.ptr, o->via.str.size);
        p [o->via.str.size] = '\0';
        if (f->kind == PK_SHA && p [0] && !s_is_hex_sha (p)) {
            proto_fail (err, "field '%s' must be a hex sha256", f->name);
            return -1;
        }
        return 0;
    case PK_DUP: {
        if (s_check_str (o, f->name, f->hi, err))
            return -1;
        char *s = s_strdup_obj (o, err);
        s_set_ptr (self, f->off, s);
        return s ? 0 : -1;
    }
    case PK_BIN: {
        if (o->type != MSGPACK_OBJECT_BIN) {
            proto_fail (err, "field '%s' must be binary", f->name);
            return -1;
        }
        if ((int64_t) o->via.bin.size > f->hi) {
            proto_fail (err, "field '%s' is too large (max %lld bytes)", f->name, (long long) f->hi);
            return -1;
        }
        if ((int64_t) o->via.bin.size < f->lo) {
            proto_fail (err, "field '%s' is empty", f->name);
            return -1;
        }
        void *bytes = malloc (o->via.bin.size ? o->via.bin.size : 1);
        if (!bytes) {
            proto_fail (err, "out of memory");
            return -1;
        }
        memcpy (bytes, o->via.bin.ptr, o->via.bin.size);
        s_set_ptr (self, f->off, bytes);
        s_set_len (self, f->off2, o->via.bin.size);
        return 0;
    }
    case PK_I32: case PK_I64: case PK_U32: {
        int64_t v;
        if (s_check_int (o, f->name, f->lo, f->hi, &v, err))
            return -1;
        s_set_num (f, self, v);
        return 0;
    }
    case PK_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN) {
            proto_fail (err, "field '%s' must be a boolean", f->name);
            return -1;
        }
        memcpy (p, &o->via.boolean, sizeof (bool));
        return 0;
    case PK_F64: {
        double d = o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64 ? o->via.f64
                 : o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (double) o->via.u64
                 : o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? (double) o->via.i64 : NAN;
        if (!isfinite (d) || d < (double) f->lo || d > (double) f->hi) {
            proto_fail (err, "field '%s' must be a number in %lld..%lld", f->name,
                        (long long) f->lo, (long long) f->hi);
            return -1;
        }
        memcpy (p, &d, sizeof d);
        return 0;
    }
    case PK_MAP:
        return s_dec_strmap (f, o, self, err);
    case PK_U32S:
        if (s_check_array (o, f, err))
            return -1;
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            const msgpack_object *c = &o->via.array.ptr [i];
            if (c->type != MSGPACK_OBJECT_POSITIVE_INTEGER || c->via.u64 > (uint64_t) f->item_max) {
                proto_fail (err, "field '%s' items must be integers 0..%lld",
                        f->name, (long long) f->item_max);
                return -1;
            }
            uint32_t v = (uint32_t) c->via.u64;
            memcpy (p + i * sizeof v, &v, sizeof v);
        }
        s_set_count (self, f->off2, (int32_t) o->via.array.size);
        return 0;
    case PK_STRS:
        if (s_check_array (o, f, err))
            return -1;
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            const msgpack_object *s = &o->via.array.ptr [i];
            char *copy = NULL;
            if (s_check_str (s, f->name, f->item_max, err) || !(copy = s_strdup_obj (s, err)))
                return -1;
            s_set_ptr (self, f->off + i * sizeof (char *), copy);
            s_set_count (self, f->off2, (int32_t) i + 1);
        }
        return 0;
    case PK_STRUCT:
        if (o->type != MSGPACK_OBJECT_MAP) {
            proto_fail (err, "field '%s' must be a map", f->name);
            return -1;
        }
        if (s_dec_map (f->sub, o, p, err)) {
            char inner [PROTO_ERR_MAX];
            snprintf (inner, sizeof inner, "%s", err ? err : "");
            proto_fail (err, "%s: %s", f->name, inner);
            return -1;
        }
        return 0;
    case PK_ARRAY: case PK_MSGS: case PK_ITEMS: {
        if (s_check_array (o, f, err))
            return -1;
        uint32_t n = o->via.array.size;
        char *items = f->kind == PK_ITEMS ? p : s_dec_items (f, self, n, err);
        if (n && !items)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            const msgpack_object *it = &o->via.array.ptr [i];
            char *item = items + (size_t) i * f->sub->size;
            if (f->kind == PK_ITEMS)
                s_set_count (self, f->off2, (int32_t) i + 1);   /* free sees what was decoded */
            if (f->kind != PK_MSGS && it->type != MSGPACK_OBJECT_MAP) {
                proto_fail (err, "items of '%s' must be maps", f->name);
                return -1;
            }
            if (f->kind == PK_MSGS && it->type != MSGPACK_OBJECT_BIN) {
                proto_fail (err, "items of '%s' must be binary", f->name);
                return -1;
            }
            int rc = f->kind != PK_MSGS
                   ? s_dec_map (f->sub, it, item, err)
                   : proto_msg_decode (f->sub, it->via.bin.ptr, it->via.bin.size, item, err);
            if (rc) {
                s_fail_in (err, f->name, i);
                return -1;
            }
        }
        return 0;
    }
    }
    proto_fail (err, "field '%s' has an unknown kind", f->name);
    return -1;
}

/*  Reads msg's fields from map into self (zeroed). Gated fields are read in
    a second pass, once their gates are. Then the message's own check. */
static int
s_dec_map (const proto_msg_t *msg, const msgpack_object *map, void *self, char *err)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < msg->nfields; i++) {
            const proto_field_t *f = &msg->fields [i];
            if ((f->when != NULL) != (pass == 1) || !s_gate_open (msg, f, self))
                continue;
            const msgpack_object *o;
            int found = s_lookup (map, f->name, (f->flags & PF_REQ) != 0, &o, err);
            if (found < 0)
                return -1;
            if (found == 0) {
                if (f->kind == PK_I32 || f->kind == PK_I64 || f->kind == PK_U32)
                    s_set_num (f, self, f->dflt);
                continue;
            }
            if (s_dec_value (f, o, self, err))
                return -1;
        }
    return msg->check ? msg->check (self, err) : 0;
}

/*  Checks size and framing, unpacks, and checks the version. On success the
    caller owns *u (msgpack_unpacked_destroy) and *map points into it. */
static int
s_open (const char *data, size_t len, msgpack_unpacked *u, const msgpack_object **map, char *err)
{
    if (len > EASEL_MAX_MSG_BYTES) {
        proto_fail (err, "message too large (%zu bytes, max %d)", len, EASEL_MAX_MSG_BYTES);
        return -1;
    }
    if (!data && len) {
        proto_fail (err, "no data");
        return -1;
    }
    if (proto_scan ((const unsigned char *) data, len, err))
        return -1;
    msgpack_unpacked_init (u);
    size_t off = 0;
    if (msgpack_unpack_next (u, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_unpacked_destroy (u);
        proto_fail (err, "malformed msgpack");
        return -1;
    }
    *map = &u->data;
    const msgpack_object *o;
    int64_t v;
    if ((*map)->type != MSGPACK_OBJECT_MAP)
        proto_fail (err, "body must be a map");
    else
    if (s_lookup (*map, "v", true, &o, err) > 0
    &&  s_check_int (o, "v", INT64_MIN, INT64_MAX, &v, err) == 0) {
        if (v == EASEL_PROTO_VERSION)
            return 0;
        proto_fail (err, "unsupported version %lld", (long long) v);
    }
    msgpack_unpacked_destroy (u);
    return -1;
}

int
proto_msg_decode (const proto_msg_t *msg, const char *data, size_t len, void *self, char *err)
{
    if (err)
        err [0] = '\0';
    if (!msg || !self) {
        proto_fail (err, "no message");
        return -1;
    }
    memset (self, 0, msg->size);
    msgpack_unpacked u;
    const msgpack_object *m;
    if (s_open (data, len, &u, &m, err))
        return -1;
    int rc = s_dec_map (msg, m, self, err);
    msgpack_unpacked_destroy (&u);
    if (rc) {
        proto_msg_free (msg, self);
        memset (self, 0, msg->size);
    }
    return rc ? -1 : 0;
}

/* ---- free ------------------------------------------------------------------- */

void
proto_msg_free (const proto_msg_t *msg, void *self)
{
    if (!msg || !self)
        return;
    for (size_t i = 0; i < msg->nfields; i++) {
        const proto_field_t *f = &msg->fields [i];
        char *p = (char *) self + f->off;
        switch (f->kind) {
        case PK_DUP:
            free (s_ptr (self, f->off));
            s_set_ptr (self, f->off, NULL);
            break;
        case PK_BIN:
            free (s_ptr (self, f->off));
            s_set_ptr (self, f->off, NULL);
            s_set_len (self, f->off2, 0);
            break;
        case PK_STRS:
            for (size_t k = 0; k < f->size / sizeof (char *); k++) {
                free (s_ptr (self, f->off + k * sizeof (char *)));
                s_set_ptr (self, f->off + k * sizeof (char *), NULL);
            }
            s_set_count (self, f->off2, 0);
            break;
        case PK_MAP:
            for (size_t k = 0; k < f->size / sizeof (char *); k++) {
                free (s_ptr (self, f->off + k * sizeof (char *)));
                free (s_ptr (self, f->off3 + k * sizeof (char *)));
                s_set_ptr (self, f->off + k * sizeof (char *), NULL);
                s_set_ptr (self, f->off3 + k * sizeof (char *), NULL);
            }
            s_set_count (self, f->off2, 0);
            break;
        case PK_ITEMS:
            for (int32_t k = 0; k < s_count (self, f->off2); k++)
                proto_msg_free (f->sub, p + (size_t) k * f->sub->size);
            s_set_count (self, f->off2, 0);
            break;
        case PK_STRUCT:
            /* the nested struct reads as absent afterwards */
            proto_msg_free (f->sub, p);
            if (f->sub->nfields && (f->sub->fields [0].kind == PK_STR || f->sub->fields [0].kind == PK_SHA))
                p [f->sub->fields [0].off] = '\0';
            break;
        case PK_ARRAY: case PK_MSGS: {
            char *items = s_ptr (self, f->off);
            for (int32_t k = 0; items && k < s_count (self, f->off2); k++)
                proto_msg_free (f->sub, items + (size_t) k * f->sub->size);
            free (items);
            s_set_ptr (self, f->off, NULL);
            s_set_count (self, f->off2, 0);
            break;
        }
        default:
            break;
        }
    }
}

/* ---- samples ------------------------------------------------------------------
    A valid, fully populated instance: every field set (so every gate is
    open) to the smallest value its range allows from 1, strings "s", bytes
    "x", hashes the sha256 of "x" (so each names every blob). */

static void
s_hex_sha (const void *data, size_t len, char out [65])
{
    unsigned char h [crypto_hash_sha256_BYTES];
    crypto_hash_sha256 (h, data, len);
    sodium_bin2hex (out, 65, h, sizeof h);
}

bool
proto_sha256_matches (const void *data, size_t len, const char *hex)
{
    char got [65];
    s_hex_sha (data, len, got);
    return strcmp (got, hex) == 0;
}

static int64_t
s_clamp (int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int
proto_msg_sample (const proto_msg_t *msg, void *self)
{
    if (!msg || !self)
        return -1;
    memset (self, 0, msg->size);
    for (size_t i = 0; i < msg->nfields; i++) {
        const proto_field_t *f = &msg->fields [i];
        char *p = (char *) self + f->off;
        switch (f->kind) {
        case PK_STR:
            snprintf (p, f->size, "s");
            break;
        case PK_SHA:
            s_hex_sha ("x", 1, p);
            break;
        case PK_DUP: {
            char *s = strdup ("s");
            s_set_ptr (self, f->off, s);
            if (!s)
                return -1;
            break;
        }
        case PK_BIN: {
            char *b = malloc (1);
            s_set_ptr (self, f->off, b);
            if (!b)
                return -1;
            b [0] = 'x';
            s_set_len (self, f->off2, 1);
            break;
        }
        case PK_I32: case PK_I64: case PK_U32:
            s_set_num (f, self, s_clamp (1, f->lo, f->hi));
            break;
        case PK_BOOL: {
            bool t = true;
            memcpy (p, &t, sizeof t);
            break;
        }
        case PK_F64: {
            double d = (double) s_clamp (1, f->lo, f->hi);
            memcpy (p, &d, sizeof d);
            break;
        }
        case PK_MAP: {
            char *k = strdup ("s"), *v = strdup ("s");
            s_set_ptr (self, f->off, k);
            s_set_ptr (self, f->off3, v);
            s_set_count (self, f->off2, 1);
            if (!k || !v)
                return -1;
            break;
        }
        case PK_ITEMS:
            s_set_count (self, f->off2, 1);
            if (proto_msg_sample (f->sub, p))
                return -1;
            break;
        case PK_U32S: {
            uint32_t v = (uint32_t) s_clamp (1, 0, f->item_max);
            memcpy (p, &v, sizeof v);
            s_set_count (self, f->off2, 1);
            break;
        }
        case PK_STRS: {
            char *s = strdup ("s");
            s_set_ptr (self, f->off, s);
            if (!s)
                return -1;
            s_set_count (self, f->off2, 1);
            break;
        }
        case PK_STRUCT:
            if (proto_msg_sample (f->sub, p))
                return -1;
            break;
        case PK_ARRAY: case PK_MSGS: {
            uint32_t n = (uint32_t) s_clamp (1, f->lo, f->hi);
            char *items = s_dec_items (f, self, n, NULL);
            if (n && !items)
                return -1;
            for (uint32_t k = 0; k < n; k++)
                if (proto_msg_sample (f->sub, items + (size_t) k * f->sub->size))
                    return -1;
            break;
        }
        }
    }
    if (msg->seed)
        msg->seed (self);
    return 0;
}
