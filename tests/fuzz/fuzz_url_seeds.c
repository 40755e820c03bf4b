/*  fuzz_url_seeds.c: writes URLs that parsers have read differently into
    DIR/fuzz_url/, the seed corpus of the URL parser fuzzer. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: fuzz_url_seeds DIR\n");
        return 2;
    }
    static const char *const seeds [] = {
        "https://example.com/", "http://127.0.0.1:8080/a?b#c", "http://[::1]:81/x",
        "http://127.0.0.1:80\\@example.com/", "http://user:pw@example.com/", "http://0x7f.1/",
        "http://2130706433/", "http://127.1/", "http://ex%61mple.com/", "http://EXAMPLE.com:443/",
        "https://xn--bcher-kva.example/", "http://[fe80::1%25eth0]/", "http://a..b/", "HTTP://A.B",
        "http:/example.com", "https://example.com:0/", "http://0177.0.0.1/",
    };
    char path [512];
    snprintf (path, sizeof path, "%s/fuzz_url", argv [1]);
    mkdir (path, 0755);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds [0]; i++) {
        snprintf (path, sizeof path, "%s/fuzz_url/seed%02zu", argv [1], i);
        FILE *f = fopen (path, "wb");
        if (!f || fwrite (seeds [i], 1, strlen (seeds [i]), f) != strlen (seeds [i]) || fclose (f)) {
            fprintf (stderr, "cannot write %s\n", path);
            return 1;
        }
    }
    return 0;
}
