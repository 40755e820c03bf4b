/*  check.h: the one harness of Easel's C unit tests.

    CHECK (cond, fmt, ...) records a failure and goes on; REQUIRE stops the
    program when what follows cannot run without cond. Each failure prints
    the file, the line, the condition expected and a message saying what
    was wanted, so a red test reads without its source:
        FAIL tests/unit/test_x.c:42: expected n == 3: three images, got 2
    check_case runs one named case and says whether it passed; check_done
    ends main with a summary line and the exit status (0 only when nothing
    failed).

    Include it once per test program (it defines the failure counter).
    Thread: the test's main thread. */
#ifndef EASEL_CHECK_H
#define EASEL_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;         /* CHECKs that failed in this program */

#define CHECK(cond, ...) do { if (!(cond)) { check_failures++; \
    fprintf (stderr, "FAIL %s:%d: expected %s: ", __FILE__, __LINE__, #cond); \
    fprintf (stderr, __VA_ARGS__); fputc ('\n', stderr); } } while (0)

#define REQUIRE(cond, ...) do { if (!(cond)) { CHECK (cond, __VA_ARGS__); exit (1); } } while (0)

/* Runs fn as the case called name and prints "ok name" or "FAIL name (n
   failed)" on stderr. */
static inline void
check_case (const char *name, void (*fn) (void))
{
    int before = check_failures;
    fn ();
    if (check_failures == before)
        fprintf (stderr, "ok %s\n", name);
    else
        fprintf (stderr, "FAIL %s (%d failed)\n", name, check_failures - before);
}

/* The end of main: "<program>: all checks passed" or the failure count. */
static inline int
check_done (const char *program)
{
    if (check_failures) {
        fprintf (stderr, "%s: %d check(s) failed\n", program, check_failures);
        return 1;
    }
    printf ("%s: all checks passed\n", program);
    return 0;
}

#endif
