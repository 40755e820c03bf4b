/*  lint_rules.h: the catalogue of store lint rules, for documentation
    (`easel docs reference` writes docs/reference.md from it). The renderer
    (renderer/lint.c) and the set-level pass (common/render_lint.c) emit the
    findings; tests/unit/test_docs_reference.py checks that every rule they
    emit is listed here and the reverse, so the reference cannot drift.
    Every rule names its source page and the day it was last checked
    (GET /v1/lint/rules serves the table). Static read-only table; thread safe. */
#ifndef EASEL_LINT_RULES_H
#define EASEL_LINT_RULES_H

#include <stddef.h>
#include <jansson.h>

typedef struct {
    const char *rule;        /* "text_contrast" */
    const char *severity;    /* "error", "warning", "info", or "error / warning" */
    const char *scope;       /* "image" (renderer) | "set" (once the render is final) */
    const char *fires;       /* when it fires, one sentence */
    const char *source;      /* the store's (or WCAG's) page the rule follows */
    const char *checked;     /* "YYYY-MM-DD": when the rule was last checked against it */
} lint_rule_t;

/* The ruleset's version: every lint report names it ("ruleset"), and it
   changes whenever a rule, a threshold or a word list changes. */
#define LINT_RULESET "2026.12.1"

/* The i-th rule (0..lint_rules_count()-1), NULL past the end. */
const lint_rule_t *lint_rules_at (size_t i);
size_t lint_rules_count (void);
/* The rule called `rule`, or NULL. */
const lint_rule_t *lint_rules_find (const char *rule);
/* The body of GET /v1/lint/rules: {"object":"list","ruleset","data":[{"rule",
   "severity","scope","fires","source","checked"}]}; the caller's; NULL: no memory. */
json_t *lint_rules_json_build (void);

#endif
