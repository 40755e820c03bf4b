/*  par.h: the threads one render may use (striped resampling, parallel PNG
    compression), and a fork-join of n parts over them.

    par_threads: EASEL_RENDER_THREADS when set (1..PAR_MAX_THREADS; 1 is the
    single-threaded path, byte for byte as before), else the online CPUs, at
    most PAR_DEFAULT_MAX_THREADS. Read once per process.

    Thread: any. par_run starts n - 1 threads and joins them before it
    returns; parts share nothing but what fn's arg gives them. */
#ifndef EASEL_PAR_H
#define EASEL_PAR_H

#define PAR_MAX_THREADS          16
#define PAR_DEFAULT_MAX_THREADS  4

int par_threads (void);

/* Runs fn (arg, part) for part 0..n-1 (1 <= n <= PAR_MAX_THREADS), part 0
   on the calling thread, the others on threads of their own; a part whose
   thread cannot be started runs on the calling thread after part 0. Returns
   when every part has returned. */
void par_run (int n, void (*fn) (void *arg, int part), void *arg);

#endif
