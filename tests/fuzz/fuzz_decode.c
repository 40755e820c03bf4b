/*  fuzz_decode.c: libFuzzer target for every proto decoder. The message
    table (proto_msg_*) is the list: the first input byte picks an entry
    (modulo the table's size), the rest is that message's body, so one
    binary covers every message and mutations move between them.

    Property: decode never crashes or leaks; a rejected input has a reason;
    an accepted input re-encodes, the re-encoding decodes again and encodes
    to the same bytes; free is safe twice.  */
#include "proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const proto_msg_t *msg = proto_msg_at (data [0] % proto_msg_count ());
    void *first = calloc (1, proto_msg_size (msg));
    void *again = calloc (1, proto_msg_size (msg));
    if (!first || !again)
        abort ();
    char err [PROTO_ERR_MAX];
    if (proto_msg_decode (msg, (const char *) data + 1, size - 1, first, err) != 0) {
        if (!err [0])
            abort ();              /* every rejection must say why */
        proto_msg_free (msg, first);   /* free is safe on a failed decode */
        free (first);
        free (again);
        return 0;
    }
    msgpack_sbuffer one, two;
    msgpack_sbuffer_init (&one);
    msgpack_sbuffer_init (&two);
    if (proto_msg_encode (msg, first, &one) != 0
    ||  proto_msg_decode (msg, one.data, one.size, again, err) != 0
    ||  proto_msg_encode (msg, again, &two) != 0) {
        fprintf (stderr, "%s: accepted input did not round trip: %s\n", proto_msg_name (msg), err);
        abort ();
    }
    if (one.size != two.size || memcmp (one.data, two.data, one.size) != 0) {
        fprintf (stderr, "%s: re-encoding changed the bytes\n", proto_msg_name (msg));
        abort ();
    }
    proto_msg_free (msg, again);
    proto_msg_free (msg, first);
    proto_msg_free (msg, first);   /* idempotent */
    msgpack_sbuffer_destroy (&one);
    msgpack_sbuffer_destroy (&two);
    free (first);
    free (again);
    return 0;
}
