/*  capture_page.h: a page in the browser, options applied, into PNG bytes
    (or PDF bytes for format "pdf").

    capture_page_shot starts a browser (cdp.h), opens the page's target,
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
   cut at a cap; never for a PDF), or -1 with why. */
int capture_page_shot (const capture_spec_t *spec, const char *url, const capture_opts_t *opts,
                       uint8_t **out, size_t *out_len, bool *truncated, render_error_t *why);

#endif
