/*  test_util_hmac.c: util_hmac_sha256 and util_hmac_sha256_hex give the
    RFC 4231 HMAC-SHA-256 test vectors: a short key (case 2), a key longer
    than the hash's block (case 6, hashed first), and an empty message;
    the same input signed twice gives the same bytes. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "util.h"

int
main (void)
{
    char hex [65];
    util_hmac_sha256_hex ("Jefe", 4, "what do ya want for nothing?", 28, hex);
    CHECK (strcmp (hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0,
           "RFC 4231 case 2: got %s", hex);

    unsigned char key [131];
    memset (key, 0xaa, sizeof key);
    const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    util_hmac_sha256_hex (key, sizeof key, msg, strlen (msg), hex);
    CHECK (strcmp (hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54") == 0,
           "RFC 4231 case 6 (a 131-byte key): got %s", hex);

    uint8_t a [32], b [32];
    util_hmac_sha256 ("k", 1, "", 0, a);
    util_hmac_sha256 ("k", 1, "", 0, b);
    CHECK (memcmp (a, b, 32) == 0, "the same key and message sign the same bytes");
    util_hmac_sha256_hex ("key", 3, "The quick brown fox jumps over the lazy dog", 43, hex);
    CHECK (strcmp (hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8") == 0,
           "the well-known fox vector: got %s", hex);

    if (check_failures)
        fprintf (stderr, "test_util_hmac: %d failed\n", check_failures);
    else
        printf ("test_util_hmac: ok\n");
    return check_failures ? 1 : 0;
}
