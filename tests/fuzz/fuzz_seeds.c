/*  fuzz_seeds.c: writes one valid body per entry of the message table into
    DIR/fuzz_decode/seed_<name>: the entry's index byte (fuzz_decode.c reads
    it to pick the decoder), then the encoding of proto_msg_sample, a
    message with every field set. Built as a program, or with
    -DFUZZ_SEEDS_LIBRARY as fuzz_seeds_write() for the test that checks every
    message is seeded (test_proto_table.c).  */
#include "proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int fuzz_seeds_write (const char *dir);

static int
s_write (const char *path, unsigned char index, const msgpack_sbuffer *sb)
{
    FILE *f = fopen (path, "wb");
    bool ok = f && fwrite (&index, 1, 1, f) == 1 && fwrite (sb->data, 1, sb->size, f) == sb->size;
    if (f && fclose (f))
        ok = false;
    if (!ok)
        fprintf (stderr, "cannot write %s\n", path);
    return ok ? 0 : -1;
}

/* 0 when every entry's seed was written; -1 (with a line on stderr) otherwise. */
int
fuzz_seeds_write (const char *dir)
{
    char path [512];
    mkdir (dir, 0755);
    snprintf (path, sizeof path, "%s/fuzz_decode", dir);
    mkdir (path, 0755);
    int rc = 0;
    for (size_t i = 0; i < proto_msg_count () && i <= 255; i++) {
        const proto_msg_t *msg = proto_msg_at (i);
        void *self = calloc (1, proto_msg_size (msg));
        msgpack_sbuffer sb;
        msgpack_sbuffer_init (&sb);
        snprintf (path, sizeof path, "%s/fuzz_decode/seed_%s", dir, proto_msg_name (msg));
        if (!self || proto_msg_sample (msg, self) || proto_msg_encode (msg, self, &sb)
        ||  s_write (path, (unsigned char) i, &sb)) {
            fprintf (stderr, "no seed for %s\n", proto_msg_name (msg));
            rc = -1;
        }
        proto_msg_free (msg, self);
        free (self);
        msgpack_sbuffer_destroy (&sb);
    }
    if (proto_msg_count () > 256) {
        fprintf (stderr, "the message table outgrew the one-byte selector\n");
        rc = -1;
    }
    return rc;
}

#ifndef FUZZ_SEEDS_LIBRARY
int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    return fuzz_seeds_write (argv [1]) ? 1 : 0;
}
#endif
