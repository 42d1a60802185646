/*
 * test_jinja_subset.c - the Jinja subset compiler: every accepted construct renders as dbt
 * renders it, and every construct outside the subset is an error naming file:line:col and what
 * was found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jinja_subset.h"
#include "t.h"

struct ctx {
    char refs[8][64];
    int nrefs;
    char config[256];
};

static int ref(void *vctx, const char *name, char *out, size_t cap, struct mtr_errbuf *eb)
{
    struct ctx *c = vctx;
    if (strcmp(name, "missing") == 0)
        return mtr_err(eb, MTR_ENOTFOUND, "no model called missing");
    if (c->nrefs < 8)
        snprintf(c->refs[c->nrefs++], 64, "%s", name);
    snprintf(out, cap, "main.%s", name);
    return 0;
}

static int source(void *vctx, const char *s, const char *t, char *out, size_t cap,
                  struct mtr_errbuf *eb)
{
    snprintf(out, cap, "%s__%s", s, t);
    return 0;
}

static int var(void *vctx, const char *name, char *out, size_t cap)
{
    if (strcmp(name, "peak") == 0) {
        snprintf(out, cap, "17");
        return 1;
    }
    return 0;
}

static int config(void *vctx, const char *key, const char *value, struct mtr_errbuf *eb)
{
    struct ctx *c = vctx;
    if (strcmp(key, "materialized") == 0 && strcmp(value, "view") != 0 &&
        strcmp(value, "table") != 0)
        return mtr_err(eb, MTR_EINVAL, "bad materialized '%s'", value);
    size_t n = strlen(c->config);
    snprintf(c->config + n, sizeof c->config - n, "%s=%s;", key, value);
    return 0;
}

static struct ctx C;
static struct mtr_errbuf EB;

/* Compiles text; returns rc and leaves the output (or "") in a static buffer. */
static char OUT[4096];
static int compile(const char *text)
{
    memset(&C, 0, sizeof C);
    memset(&EB, 0, sizeof EB);
    struct mtr_jinja_hooks h = {&C, ref, source, var, config};
    char *out = NULL;
    int rc = mtr_jinja_compile("m.sql", text, &h, &out, &EB);
    snprintf(OUT, sizeof OUT, "%s", out ? out : "");
    if (rc < 0)
        T_CHECK(out == NULL);
    free(out);
    return rc;
}

static void test_plain_text_passes_through(void)
{
    T_EQ_INT(compile("select 1 as x -- { not a tag } %}\n"), 0);
    T_EQ_STR(OUT, "select 1 as x -- { not a tag } %}\n");
    T_EQ_INT(compile(""), 0);
    T_EQ_STR(OUT, "");
}

static void test_ref_and_source(void)
{
    T_EQ_INT(compile("select * from {{ ref('stg_a') }} join {{ref(\"b\")}} using (k)"), 0);
    T_EQ_STR(OUT, "select * from main.stg_a join main.b using (k)");
    T_EQ_INT(C.nrefs, 2);
    T_EQ_STR(C.refs[0], "stg_a");
    T_EQ_STR(C.refs[1], "b");
    T_EQ_INT(compile("from {{ source('metrify', 'readings') }} r"), 0);
    T_EQ_STR(OUT, "from metrify__readings r");
    T_EQ_INT(compile("{{\n  ref(\n 'x' ,\n)\n}}"), 0); /* newlines and a trailing comma */
    T_EQ_STR(OUT, "main.x");
}

static void test_var_with_and_without_default(void)
{
    T_EQ_INT(compile("h >= {{ var('peak') }} and h <= {{ var('peak_end', 21) }}"), 0);
    T_EQ_STR(OUT, "h >= 17 and h <= 21");
    T_EQ_INT(compile("{{ var('peak', 99) }}|{{ var('s', 'text') }}|{{ var('n', -1.5e3) }}"), 0);
    T_EQ_STR(OUT, "17|text|-1.5e3");
    T_EQ_INT(compile("{{ var('b', true) }} {{ var('z', none) }}"), 0);
    T_EQ_STR(OUT, "True None");
}

static void test_config_and_comments_render_nothing(void)
{
    T_EQ_INT(compile("{{ config(materialized='table', schema=\"x\") }}select {# a\nmulti-line "
                     "{{ ref('no') }} comment #}1"),
             0);
    T_EQ_STR(OUT, "select 1");
    T_EQ_STR(C.config, "materialized=table;schema=x;");
    T_EQ_INT(C.nrefs, 0); /* a ref inside a comment is not a dependency */
}

/* Checks that text fails with rc and a message starting with want. */
static void expect_error(const char *text, int rc, const char *want)
{
    int got = compile(text);
    T_EQ_INT(got, rc);
    if (strncmp(EB.msg, want, strlen(want)) != 0)
        t_fail(__FILE__, __LINE__, "message \"%s\" does not start with \"%s\"", EB.msg, want);
}

static void test_statements_are_rejected_with_position(void)
{
    expect_error("select 1\n  {% if x %}a{% endif %}", MTR_EPARSE,
                 "m.sql:2:3: statement '{% if %}' is not in the Jinja subset");
    expect_error("{%- for r in rows %}", MTR_EPARSE, "m.sql:1:1: statement '{% for %}'");
    expect_error("{% macro m() %}{% endmacro %}", MTR_EPARSE, "m.sql:1:1: statement '{% macro %}'");
    expect_error("{% set x = 1 %}", MTR_EPARSE, "m.sql:1:1: statement '{% set %}'");
}

static void test_expressions_outside_the_subset(void)
{
    expect_error("a\nb {{ ref('x') | upper }}", MTR_EPARSE,
                 "m.sql:2:15: filters ('|') are not in the Jinja subset");
    expect_error("{{ var('x').y }}", MTR_EPARSE,
                 "m.sql:1:12: attribute access ('.') is not in the Jinja subset");
    expect_error("{{ var('x')['y'] }}", MTR_EPARSE, "m.sql:1:12: item access ('[')");
    expect_error("{{ var('a', 1) + 1 }}", MTR_EPARSE, "m.sql:1:16: operators are not");
    expect_error("{{ env_var('HOME') }}", MTR_EPARSE,
                 "m.sql:1:4: 'env_var' is not in the Jinja subset (only ref, source, var and "
                 "config)");
    expect_error("{{ this }}", MTR_EPARSE, "m.sql:1:4: 'this' is not in the Jinja subset");
    expect_error("{{ ref }}", MTR_EPARSE, "m.sql:1:8: expected '('");
    expect_error("{{ 'lit' }}", MTR_EPARSE, "m.sql:1:4: expected ref, source, var or config");
    expect_error("{{- ref('a') }}", MTR_EPARSE, "m.sql:1:3: whitespace control");
    expect_error("{{ ref('a') -}}", MTR_EPARSE, "m.sql:1:13: whitespace control");
    expect_error("{{ var('a', some_name) }}", MTR_EPARSE,
                 "m.sql:1:13: 'some_name' is not a literal");
}

static void test_malformed_tags(void)
{
    expect_error("select {{ ref('a')", MTR_EPARSE, "m.sql:1:8: unterminated '{{'");
    expect_error("x {# never closed", MTR_EPARSE, "m.sql:1:3: unterminated comment");
    expect_error("{{ ref('abc) }}", MTR_EPARSE, "m.sql:1:8: unterminated string literal");
    expect_error("{{ ref('a\\'b') }}", MTR_EPARSE, "m.sql:1:10: escape sequences");
    expect_error("select 1 }} x", MTR_EPARSE, "m.sql:1:10: '}}' without an opening '{{'");
    expect_error("{{ ref('a' 'b') }}", MTR_EPARSE, "m.sql:1:12:");
}

static void test_arity_and_argument_kinds(void)
{
    expect_error("{{ ref('pkg', 'm') }}", MTR_EPARSE, "m.sql:1:4: ref() takes one argument");
    expect_error("{{ ref() }}", MTR_EPARSE, "m.sql:1:4: ref() takes one argument");
    expect_error("{{ source('s') }}", MTR_EPARSE, "m.sql:1:4: source() takes two arguments");
    expect_error("{{ var() }}", MTR_EPARSE, "m.sql:1:4: var() takes a name");
    expect_error("{{ ref(3) }}", MTR_EPARSE, "m.sql:1:8: expected a string literal");
    expect_error("{{ ref(name='a') }}", MTR_EPARSE, "m.sql:1:4: keyword arguments are only");
    expect_error("{{ config('table') }}", MTR_EPARSE, "m.sql:1:4: config() takes keyword");
}

static void test_hook_errors_carry_the_position(void)
{
    expect_error("select\n\n   {{ ref('missing') }}", MTR_ENOTFOUND,
                 "m.sql:3:7: no model called missing");
    expect_error("{{ config(materialized='incremental') }}", MTR_EINVAL,
                 "m.sql:1:4: bad materialized 'incremental'");
    expect_error("x {{ var('undefined_var') }}", MTR_EINVAL,
                 "m.sql:1:6: required var 'undefined_var' is not defined and has no default");
}

int main(void)
{
    T_RUN(test_plain_text_passes_through);
    T_RUN(test_ref_and_source);
    T_RUN(test_var_with_and_without_default);
    T_RUN(test_config_and_comments_render_nothing);
    T_RUN(test_statements_are_rejected_with_position);
    T_RUN(test_expressions_outside_the_subset);
    T_RUN(test_malformed_tags);
    T_RUN(test_arity_and_argument_kinds);
    T_RUN(test_hook_errors_carry_the_position);
    return T_END();
}
