/*  test_proto_table.c: the message table and its one walker, message by
    message: a sample with every field set round-trips to the same bytes and
    writes every field; each field of the wrong type, and each required
    field left out, is refused with an error naming it; every prefix of a
    body is refused with a reason; free is safe twice; and the fuzzer's
    seeder writes a seed that decodes for every entry of the table.  */
#include "check.h"
#include "proto_msgs.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fuzz_seeds_write (const char *dir);   /* tests/fuzz/fuzz_seeds.c */

/* The sample of msg, encoded into sb (REQUIREd to work). */
static void
s_sample_body (const proto_msg_t *msg, msgpack_sbuffer *sb)
{
    void *self = calloc (1, msg->size);
    REQUIRE (self && proto_msg_sample (msg, self) == 0, "%s: a sample", msg->name);
    REQUIRE (proto_msg_encode (msg, self, sb) == 0, "%s: the sample encodes", msg->name);
    proto_msg_free (msg, self);
    proto_msg_free (msg, self);
    free (self);
}

static void
test_round_trip (void)
{
    CHECK (proto_msg_count () >= 26, "every body type is in the table, got %zu", proto_msg_count ());
    for (size_t i = 0; i < proto_msg_count (); i++) {
        const proto_msg_t *msg = proto_msg_at (i);
        CHECK (proto_msg_lookup (msg->name) == msg, "%s found by name", msg->name);
        msgpack_sbuffer one, two;
        msgpack_sbuffer_init (&one);
        msgpack_sbuffer_init (&two);
        s_sample_body (msg, &one);
        void *back = calloc (1, msg->size);
        char err [PROTO_ERR_MAX] = "";
        CHECK (proto_msg_decode (msg, one.data, one.size, back, err) == 0,
               "%s: the sample decodes: %s", msg->name, err);
        CHECK (proto_msg_encode (msg, back, &two) == 0 && one.size == two.size
               && memcmp (one.data, two.data, one.size) == 0,
               "%s: decode then encode gives the same %zu bytes (got %zu)", msg->name, one.size, two.size);
        proto_msg_free (msg, back);
        proto_msg_free (msg, back);
        free (back);

        msgpack_unpacked u;
        msgpack_unpacked_init (&u);
        REQUIRE (msgpack_unpack_next (&u, one.data, one.size, NULL) == MSGPACK_UNPACK_SUCCESS,
                 "%s: the body unpacks", msg->name);
        CHECK (u.data.type == MSGPACK_OBJECT_MAP && u.data.via.map.size == msg->nfields + 1,
               "%s: a sample writes v and all %zu fields, got %u keys", msg->name, msg->nfields,
               u.data.via.map.size);
        msgpack_unpacked_destroy (&u);

        for (size_t n = 0; n < one.size; n++) {
            void *part = calloc (1, msg->size);
            err [0] = '\0';
            CHECK (proto_msg_decode (msg, one.data, n, part, err) == -1 && err [0],
                   "%s: a body cut to %zu of %zu bytes is refused with a reason", msg->name, n, one.size);
            proto_msg_free (msg, part);
            free (part);
        }
        msgpack_sbuffer_destroy (&one);
        msgpack_sbuffer_destroy (&two);
    }
}

/* A value no field of kind k accepts. */
static void
s_pack_wrong (msgpack_packer *pk, proto_kind_t k)
{
    if (k == PK_BIN || k == PK_I32 || k == PK_I64 || k == PK_U32 || k == PK_F64) {
        msgpack_pack_str (pk, 1);
        msgpack_pack_str_body (pk, "x", 1);
    }
    else
        msgpack_pack_int (pk, 7);
}

/* How s_decode_altered changes the field. */
typedef enum { S_WRONG, S_DROP, S_LONG } s_alter_t;

/* A string one byte over the cap of string field f; for a binary field
   that may not be empty, an empty one. */
static void
s_pack_long (msgpack_packer *pk, const proto_field_t *f)
{
    if (f->kind == PK_BIN) {
        msgpack_pack_bin (pk, 0);
        return;
    }
    size_t n = (size_t) (f->kind == PK_DUP ? f->hi : (int64_t) f->size - 1) + 1;
    char *text = malloc (n);
    REQUIRE (text, "memory for %s", f->name);
    memset (text, 'a', n);
    msgpack_pack_str (pk, n);
    msgpack_pack_str_body (pk, text, n);
    free (text);
}

/* The sample body of msg with field f replaced by a wrong value, a string
   over its cap, or left out (alter), decoded: returns the decoder's rc, err
   its reason. */
static int
s_decode_altered (const proto_msg_t *msg, const proto_field_t *f, s_alter_t alter, char *err)
{
    bool drop = alter == S_DROP;
    msgpack_sbuffer body, out;
    msgpack_sbuffer_init (&body);
    msgpack_sbuffer_init (&out);
    s_sample_body (msg, &body);
    msgpack_unpacked u;
    msgpack_unpacked_init (&u);
    REQUIRE (msgpack_unpack_next (&u, body.data, body.size, NULL) == MSGPACK_UNPACK_SUCCESS, "unpacks");
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
    const msgpack_object_map *m = &u.data.via.map;
    msgpack_pack_map (&pk, m->size - (drop ? 1 : 0));
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr [i].key;
        bool hit = k->via.str.size == strlen (f->name) && memcmp (k->via.str.ptr, f->name, k->via.str.size) == 0;
        if (hit && drop)
            continue;
        msgpack_pack_object (&pk, *k);
        if (hit && alter == S_LONG)
            s_pack_long (&pk, f);
        else
        if (hit)
            s_pack_wrong (&pk, f->kind);
        else
            msgpack_pack_object (&pk, m->ptr [i].val);
    }
    void *self = calloc (1, msg->size);
    int rc = proto_msg_decode (msg, out.data, out.size, self, err);
    proto_msg_free (msg, self);
    free (self);
    msgpack_unpacked_destroy (&u);
    msgpack_sbuffer_destroy (&body);
    msgpack_sbuffer_destroy (&out);
    return rc;
}

static void
test_field_errors (void)
{
    for (size_t i = 0; i < proto_msg_count (); i++) {
        const proto_msg_t *msg = proto_msg_at (i);
        for (size_t j = 0; j < msg->nfields; j++) {
            const proto_field_t *f = &msg->fields [j];
            char err [PROTO_ERR_MAX] = "", want [128];
            snprintf (want, sizeof want, "field '%s' must be", f->name);
            CHECK (s_decode_altered (msg, f, S_WRONG, err) == -1 && strstr (err, want),
                   "%s.%s of the wrong type: \"%s...\", got \"%s\"", msg->name, f->name, want, err);
            if (!(f->flags & PF_REQ))
                continue;
            snprintf (want, sizeof want, "missing field '%s'", f->name);
            CHECK (s_decode_altered (msg, f, S_DROP, err) == -1 && strstr (err, want),
                   "%s.%s left out: \"%s\", got \"%s\"", msg->name, f->name, want, err);
        }
    }
}

static void
test_seeds_cover_table (void)
{
    char dir [] = "/tmp/easel_seeds_XXXXXX";
    REQUIRE (mkdtemp (dir), "a temporary directory");
    CHECK (fuzz_seeds_write (dir) == 0, "the seeder writes every seed");
    for (size_t i = 0; i < proto_msg_count (); i++) {
        const proto_msg_t *msg = proto_msg_at (i);
        char path [600];
        snprintf (path, sizeof path, "%s/fuzz_decode/seed_%s", dir, msg->name);
        FILE *f = fopen (path, "rb");
        static char buf [1 << 16];
        size_t n = f ? fread (buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose (f);
        CHECK (n > 1 && (unsigned char) buf [0] == i, "%s has a seed that selects it (%s)", msg->name, path);
        void *self = calloc (1, msg->size);
        char err [PROTO_ERR_MAX] = "";
        CHECK (n > 1 && proto_msg_decode (msg, buf + 1, n - 1, self, err) == 0,
               "%s: its seed decodes: %s", msg->name, err);
        proto_msg_free (msg, self);
        free (self);
        unlink (path);
    }
    char sub [600];
    snprintf (sub, sizeof sub, "%s/fuzz_decode", dir);
    CHECK (rmdir (sub) == 0 && rmdir (dir) == 0, "the seeder wrote one seed per message and nothing else");
}

/* The encoder refuses what the decoder would: a string over its field's cap
   is refused by the decoder, and never sent by the encoder (it would be
   dropped at the other end). */
static void
test_encode_caps (void)
{
    int tried = 0;
    for (size_t i = 0; i < proto_msg_count (); i++) {
        const proto_msg_t *msg = proto_msg_at (i);
        for (size_t j = 0; j < msg->nfields; j++) {
            const proto_field_t *f = &msg->fields [j];
            if ((f->kind == PK_STR || f->kind == PK_DUP) && f->hi <= (1 << 20)) {
                char err [PROTO_ERR_MAX] = "", want [128];
                snprintf (want, sizeof want, "field '%s' is too long", f->name);
                CHECK (s_decode_altered (msg, f, S_LONG, err) == -1 && strstr (err, want),
                       "%s.%s over its cap: \"%s\", got \"%s\"", msg->name, f->name, want, err);
            }
            if (f->kind == PK_BIN && f->lo > 0) {
                char err [PROTO_ERR_MAX] = "", want [128];
                snprintf (want, sizeof want, "field '%s' is empty", f->name);
                CHECK (s_decode_altered (msg, f, S_LONG, err) == -1 && strstr (err, want),
                       "%s.%s empty: \"%s\", got \"%s\"", msg->name, f->name, want, err);
            }
            if (f->kind != PK_DUP || f->hi > (1 << 20))
                continue;
            void *self = calloc (1, msg->size);
            REQUIRE (self && proto_msg_sample (msg, self) == 0, "%s: a sample", msg->name);
            char **slot = (char **) ((char *) self + f->off);
            char *kept = *slot;
            char *long_ = malloc ((size_t) f->hi + 2);
            REQUIRE (long_, "memory for %s.%s", msg->name, f->name);
            memset (long_, 'a', (size_t) f->hi + 1);
            long_ [f->hi + 1] = '\0';
            *slot = long_;
            msgpack_sbuffer sb;
            msgpack_sbuffer_init (&sb);
            CHECK (proto_msg_encode (msg, self, &sb) == -1 && sb.size == 0,
                   "%s.%s of %lld bytes (cap %lld) is refused by the encoder", msg->name, f->name,
                   (long long) f->hi + 1, (long long) f->hi);
            msgpack_sbuffer_destroy (&sb);
            *slot = kept;
            free (long_);
            proto_msg_free (msg, self);
            free (self);
            tried++;
        }
    }
    CHECK (tried > 10, "string fields with caps were tried, got %d", tried);
}

/* A wrong value inside item 0 of an array of maps is refused with the
   array's name and the item's index before the field's own error. */
static void
test_item_errors (void)
{
    int tried = 0;
    for (size_t i = 0; i < proto_msg_count (); i++) {
        const proto_msg_t *msg = proto_msg_at (i);
        for (size_t j = 0; j < msg->nfields; j++) {
            const proto_field_t *f = &msg->fields [j];
            if (f->kind != PK_ARRAY || f->sub->nfields == 0)
                continue;
            const proto_field_t *inner = &f->sub->fields [0];
            msgpack_sbuffer body, out;
            msgpack_sbuffer_init (&body);
            msgpack_sbuffer_init (&out);
            s_sample_body (msg, &body);
            msgpack_unpacked u;
            msgpack_unpacked_init (&u);
            REQUIRE (msgpack_unpack_next (&u, body.data, body.size, NULL) == MSGPACK_UNPACK_SUCCESS,
                     "unpacks");
            msgpack_packer pk;
            msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
            const msgpack_object_map *m = &u.data.via.map;
            msgpack_pack_map (&pk, m->size);
            for (uint32_t k = 0; k < m->size; k++) {
                const msgpack_object *key = &m->ptr [k].key, *val = &m->ptr [k].val;
                msgpack_pack_object (&pk, *key);
                bool hit = key->via.str.size == strlen (f->name)
                        && memcmp (key->via.str.ptr, f->name, key->via.str.size) == 0;
                if (!hit || val->type != MSGPACK_OBJECT_ARRAY || val->via.array.size == 0) {
                    msgpack_pack_object (&pk, *val);
                    continue;
                }
                msgpack_pack_array (&pk, val->via.array.size);
                for (uint32_t n = 0; n < val->via.array.size; n++) {
                    const msgpack_object *item = &val->via.array.ptr [n];
                    if (n > 0 || item->type != MSGPACK_OBJECT_MAP) {
                        msgpack_pack_object (&pk, *item);
                        continue;
                    }
                    msgpack_pack_map (&pk, item->via.map.size);
                    for (uint32_t q = 0; q < item->via.map.size; q++) {
                        const msgpack_object *ik = &item->via.map.ptr [q].key;
                        msgpack_pack_object (&pk, *ik);
                        if (ik->via.str.size == strlen (inner->name)
                        &&  memcmp (ik->via.str.ptr, inner->name, ik->via.str.size) == 0)
                            s_pack_wrong (&pk, inner->kind);
                        else
                            msgpack_pack_object (&pk, item->via.map.ptr [q].val);
                    }
                }
            }
            void *self = calloc (1, msg->size);
            char err [PROTO_ERR_MAX] = "", want [160];
            snprintf (want, sizeof want, "%s[0]: field '%s' must be", f->name, inner->name);
            CHECK (proto_msg_decode (msg, out.data, out.size, self, err) == -1 && strstr (err, want),
                   "%s: \"%s...\", got \"%s\"", msg->name, want, err);
            proto_msg_free (msg, self);
            free (self);
            msgpack_unpacked_destroy (&u);
            msgpack_sbuffer_destroy (&body);
            msgpack_sbuffer_destroy (&out);
            tried++;
        }
    }
    CHECK (tried >= 4, "arrays of maps were tried, got %d", tried);
}

/* The named wrappers of proto.h go through the same table. */
static void
test_wrappers (void)
{
    CHECK (proto_msg_lookup ("review") != NULL, "REVIEW is in the table");
    proto_get_t g = { .rid = "r", .auth = "a", .id = "rnd_1" };
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init (&a);
    msgpack_sbuffer_init (&b);
    CHECK (proto_get_encode (&g, &a) == 0 && proto_msg_encode (proto_msg_lookup ("get"), &g, &b) == 0
           && a.size == b.size && memcmp (a.data, b.data, a.size) == 0, "proto_get_encode is the walker");
    proto_get_free (&g);
    msgpack_sbuffer_destroy (&a);
    msgpack_sbuffer_destroy (&b);
}

int
main (void)
{
    check_case ("round_trip", test_round_trip);
    check_case ("field_errors", test_field_errors);
    check_case ("seeds_cover_table", test_seeds_cover_table);
    check_case ("wrappers", test_wrappers);
    check_case ("encode_caps", test_encode_caps);
    check_case ("item_errors", test_item_errors);
    return check_done ("test_proto_table");
}
