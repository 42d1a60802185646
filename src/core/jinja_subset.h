/*
 * jinja_subset.h - the compiler of the Jinja subset Metrify's dbt models may use: text in, text
 * out, no I/O. The subset is the contract between dbt/ and `metrify transform`: anything real
 * dbt accepts beyond it is rejected here with file:line:col and the construct, so a model that
 * compiles here also compiles unchanged under dbt-postgres.
 *
 * Accepted: {{ ref('m') }}, {{ source('s', 't') }}, {{ var('v') }}, {{ var('v', default) }},
 * {{ config(key=literal, ...) }} and {# comments #}. Literals: '...' or "..." strings (no
 * escapes), numbers, true/false/none. Rejected: {% statements %}, filters (|), attribute or item
 * access, operators, any other name, unterminated tags.
 */
#ifndef MTR_JINJA_SUBSET_H
#define MTR_JINJA_SUBSET_H

#include <stddef.h>

#include "base/err.h"

/* Callbacks that give the constructs their meaning; each fills out (NUL-terminated, at most cap
 * bytes) and returns 0, or a negative MTR_E* with a message in eb (the compiler prefixes
 * file:line:col). ctx is the caller's. */
struct mtr_jinja_hooks {
    void *ctx;
    /* the relation a model or seed is materialised as */
    int (*ref)(void *ctx, const char *name, char *out, size_t cap, struct mtr_errbuf *eb);
    /* the relation of a declared source table */
    int (*source)(void *ctx, const char *source, const char *table, char *out, size_t cap,
                  struct mtr_errbuf *eb);
    /* a project or command-line variable: 1 and out filled when defined, 0 when not */
    int (*var)(void *ctx, const char *name, char *out, size_t cap);
    /* one config(key=value) argument; value is the literal's text (strings unquoted) */
    int (*config)(void *ctx, const char *key, const char *value, struct mtr_errbuf *eb);
};

/*
 * Compiles text (NUL-terminated, borrowed) into *out, newly allocated and NUL-terminated; the
 * caller frees it with free(). file names the text in messages. Expressions render as dbt does:
 * ref/source as the relation text, var as the value's text (a string default without quotes),
 * config and comments as nothing. Errors: MTR_EPARSE for anything outside the subset (message
 * "file:line:col: ..." naming the construct), an error returned by a hook (message prefixed
 * with the position), MTR_ENOMEM.
 */
int mtr_jinja_compile(const char *file, const char *text, const struct mtr_jinja_hooks *h,
                      char **out, struct mtr_errbuf *eb);

#endif
