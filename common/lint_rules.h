/*  lint_rules.h: the catalogue of store lint rules, for documentation
    (`easel docs reference` writes docs/reference.md from it). The renderer
    (renderer/lint.c) and the set-level pass (common/render_lint.c) emit the
    findings; tests/unit/test_docs_reference.py checks that every rule they
    emit is listed here and the reverse, so the reference cannot drift.
    Static read-only table; thread safe. */
#ifndef EASEL_LINT_RULES_H
#define EASEL_LINT_RULES_H

#include <stddef.h>

typedef struct {
    const char *rule;        /* "text_contrast" */
    const char *severity;    /* "error", "warning", "info", or "error / warning" */
    const char *scope;       /* "image" (renderer) | "set" (once the render is final) */
    const char *fires;       /* when it fires, one sentence */
} lint_rule_t;

/* The i-th rule (0..lint_rules_count()-1), NULL past the end. */
const lint_rule_t *lint_rules_at (size_t i);
size_t lint_rules_count (void);

#endif
