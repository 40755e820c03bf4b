/*  capture_page.h: a page in the browser, options applied, into PNG bytes
    (or PDF bytes for format "pdf").

    capture_page_shot takes the slot's warm browser (cdp.h) and the
    context made ahead for the job (or makes one), sets the viewport,
    applies the page options of capture_spec.h before the navigation
    (blocked URLs, cookies, local storage, emulation) and after the load
    (styles, hide/remove, clicks, js, waits, the lazy-load warm-up), finds
    a selector's box or the full page's height (tiling past Chromium's
    texture limit) and takes the screenshot; for format "pdf" it prints
    the page instead (Page.printToPDF with the spec's paper, margins,
    scale, backgrounds and page ranges, read back as a stream capped at
    CAPTURE_RESULT_MAX_BYTES).

    Thread: the calling worker thread; nothing is shared. Memory: *out is
    the caller's to free. */
#ifndef EASEL_CAPTURE_PAGE_H
#define EASEL_CAPTURE_PAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "capture.h"
#include "capture_spec.h"

/* Fills why (code, message from fmt with one %s of arg, param "url",
   retryable) and returns -1. */
int capture_error (render_error_t *why, const char *code, bool retryable, const char *fmt, const char *arg);

/* The device's safe-area insets for the spec's viewport, CSS px (0 in
   landscape or without a device). */
void capture_safe_area (const capture_spec_t *spec, int *top, int *bottom);

/* Loads url and takes the screenshot: 0 with *out (PNG bytes, or PDF bytes
   when spec->format is "pdf"; the caller frees) and *truncated (the page
   cut at a cap; never for a PDF), or -1 with why. cancel (NULL: none),
   set by another thread, stops the capture wherever it waits on the
   browser (the load included) within CDP_CANCEL_POLL_MS: -1 with why code
   "canceled", not retryable; the browser stays warm for the next job.
   Once the page is shot (or failed), the next job's context is begun
   (cdp_prepare_next), so it is made while the caller frames and encodes. */
int capture_page_shot (const capture_spec_t *spec, const char *url, const capture_opts_t *opts,
                       const atomic_bool *cancel, uint8_t **out, size_t *out_len, bool *truncated,
                       render_error_t *why);

/* Between tasks, on a capture slot's thread: the slot's warm browser
   started (or started again when due) and the next job's context begun
   when none is under way (cdp_prepare); it is made by capture_page_pump
   and the next job's waits. A failure is logged; the next job tries again. */
void capture_page_prepare (const capture_opts_t *opts);

/* While the slot waits for a task: goes on with the next context and the
   last disposal (cdp_pump) until nothing is left of them or wake_fd (an
   eventfd the main thread writes when it queues a task) is readable. True
   when there may be more to do (woken, or the browser started again),
   false when nothing is under way. */
bool capture_page_pump (const capture_opts_t *opts, int wake_fd);

#endif
