/*  deflate_join.h: raw DEFLATE streams made to follow one another, so that
    row blocks compressed apart (each by libdeflate, on its own thread) form
    one valid stream inside one zlib stream (png_write's parallel path).

    libdeflate writes only complete streams: the last block has BFINAL set
    and the bits end byte-padded after its end-of-block code, somewhere in
    the last byte. deflate_join_unfinal walks the stream's blocks (headers
    and symbols only: no output is produced, so it costs a small fraction of
    an inflate), clears the final block's BFINAL and appends an empty stored
    block, the same bytes as zlib's Z_SYNC_FLUSH: the next stream then starts
    byte-aligned, and its own blocks continue the one stream. Matches never
    reach back across a join, because each part was compressed alone.

    Thread: any (no shared state). Memory: works in the caller's buffer. */
#ifndef EASEL_DEFLATE_JOIN_H
#define EASEL_DEFLATE_JOIN_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes deflate_join_unfinal appends. */
#define DEFLATE_JOIN_EXTRA_BYTES 5

/* buf holds one complete raw DEFLATE stream of len bytes, with room for
   cap >= len + DEFLATE_JOIN_EXTRA_BYTES. Rewrites it to end in a non-final
   empty stored block and returns the new length; returns 0 and leaves buf
   unchanged in meaning (possibly not in bytes) when the stream does not
   parse as DEFLATE within len bytes or cap is short. */
size_t deflate_join_unfinal (uint8_t *buf, size_t len, size_t cap);

#endif
