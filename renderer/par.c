/*  par.c: see par.h. */
#include "par.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

static int s_threads;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_init (void)
{
    const char *v = getenv ("EASEL_RENDER_THREADS");
    if (v && *v) {
        char *end;
        errno = 0;
        long n = strtol (v, &end, 10);
        if (!errno && !*end && n >= 1 && n <= PAR_MAX_THREADS) {
            s_threads = (int) n;
            return;
        }
    }
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    s_threads = cpus < 1 ? 1 : cpus > PAR_DEFAULT_MAX_THREADS ? PAR_DEFAULT_MAX_THREADS : (int) cpus;
}

int
par_threads (void)
{
    pthread_once (&s_once, s_init);
    return s_threads;
}

typedef struct {
    void (*fn) (void *, int);
    void *arg;
    int   part;
} s_job_t;

static void *
s_main (void *p)
{
    s_job_t *j = p;
    j->fn (j->arg, j->part);
    return NULL;
}

void
par_run (int n, void (*fn) (void *arg, int part), void *arg)
{
    if (n > PAR_MAX_THREADS)
        n = PAR_MAX_THREADS;
    pthread_t tid[PAR_MAX_THREADS];
    s_job_t job[PAR_MAX_THREADS];
    bool started[PAR_MAX_THREADS] = { false };
    for (int i = 1; i < n; i++) {
        job[i] = (s_job_t) { fn, arg, i };
        started[i] = pthread_create (&tid[i], NULL, s_main, &job[i]) == 0;
    }
    fn (arg, 0);
    for (int i = 1; i < n; i++) {
        if (started[i])
            pthread_join (tid[i], NULL);
        else
            fn (arg, i);
    }
}
