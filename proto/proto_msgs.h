/*  proto_msgs.h: how a bus message is declared (internal to proto/).

    Every message body is described once, by a proto_msg_t: its C struct and
    a list of field descriptors in wire order. The walker in proto.c reads
    the list to encode, decode, free and make a sample of the struct, so a
    field is named in exactly two places: its struct member (proto.h, or
    proto_capture.h for the capture task spec) and its
    descriptor (proto_msgs.c). The wire key is the member's name.

    Encode: a field is written unless PF_SET says "only when set" or `when`
    names a gate field that is not set ("set": a non-empty string, a non-NULL
    pointer, a non-zero number, true, a non-empty array, a nested struct whose
    first field is set). Decode: PF_REQ fields must be present; a gated field
    is read only when its gate is set (and is then required if PF_REQ);
    absent fields read as zero / "" / NULL (ints: `dflt`).
    Memory: every pointer field is heap owned by the struct after decode or
    seed, and borrowed by encode; free releases exactly those.  */
#ifndef EASEL_PROTO_MSGS_H
#define EASEL_PROTO_MSGS_H

#include "proto.h"
#include "proto_capture.h"

typedef enum {
    PK_STR,        /* char[] member; cap is sizeof (member) - 1 bytes */
    PK_SHA,        /* char[65] member: "" or 64 lower-case hex digits */
    PK_DUP,        /* char * heap string of lo..hi bytes; NULL encodes as null_as or "" */
    PK_BIN,        /* uint8_t * / char * heap bytes, size_t length at off2, lo..hi bytes */
    PK_I32,        /* int32_t in lo..hi */
    PK_I64,        /* int64_t in lo..hi */
    PK_U32,        /* uint32_t in lo..hi (colours) */
    PK_BOOL,
    PK_F64,        /* double in lo..hi (whole numbers as bounds); NaN and infinities refused */
    PK_U32S,       /* uint32_t[] member, int32_t count at off2, items 0..item_max */
    PK_STRS,       /* char *[] member of heap strings, int32_t count at off2, item_max bytes each */
    PK_STRUCT,     /* a nested struct member, a map described by sub */
    PK_ARRAY,      /* heap array of sub structs, int32_t count at off2: an array of maps */
    PK_ITEMS,      /* inline array of sub structs (the member's room), int32_t count at off2 */
    PK_MAP,        /* a map of strings: char *[] keys at off, char *[] values at off3, one
                      int32_t count at off2; item_max bytes of key + value, keys distinct */
    PK_MSGS        /* heap array of sub structs, each sent as a whole body in a bin */
} proto_kind_t;

#define PF_REQ 1u  /* decode: the key must be present */
#define PF_SET 2u  /* encode: written only when set */

typedef struct {
    const char *name;              /* the wire key (= the member's name) */
    proto_kind_t kind;
    unsigned flags;                /* PF_REQ | PF_SET */
    size_t off;                    /* the member */
    size_t size;                   /* sizeof the member */
    size_t off2;                   /* its length or count member */
    size_t off3;                   /* PK_MAP: the values member */
    int64_t lo, hi;                /* numbers: range; strings, bins: bytes; arrays: items */
    int64_t item_max;              /* PK_STRS: bytes per item; PK_U32S: largest item */
    int64_t dflt;                  /* numbers: the value of an absent key */
    const char *null_as;           /* PK_DUP: what a NULL pointer encodes as */
    const char *when;              /* gate: the field that must be set, or NULL */
    const struct proto_msg_s *sub; /* PK_STRUCT / PK_ARRAY / PK_MSGS: the item */
} proto_field_t;

struct proto_msg_s {
    const char *name;              /* "create_render": proto_<name>_t, proto_<name>_encode, ... */
    size_t size;                   /* sizeof the struct */
    const proto_field_t *fields;
    size_t nfields;
    /* optional: checks that span fields, after a decode (0 / -1 with err) */
    int  (*check) (const void *self, char *err);
    /* optional: turns the walker's generic sample into one check accepts */
    void (*seed) (void *self);
};

/* Writes the printf-style reason into err (PROTO_ERR_MAX bytes) when err is
   not NULL (proto.c): the one way proto's decoders say why. */
void proto_fail (char *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/*  Walks one msgpack object over data[0..len) without allocating (proto_scan.c).
    -1 with err on a truncated body, a reserved byte, more than
    EASEL_MAX_MSG_ITEMS items, a container that claims more items than bytes
    remain, or bytes after the object. */
int  proto_scan (const unsigned char *data, size_t len, char *err);

/* True when data hashes to the hex sha256 `hex` (proto.c). */
bool proto_sha256_matches (const void *data, size_t len, const char *hex);

#endif
