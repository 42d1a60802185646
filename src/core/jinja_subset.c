/*
 * jinja_subset.c - compiles the Jinja subset of jinja_subset.h: copies text through, replaces
 * each {{ call(...) }} by what its hook says, drops {# comments #}, and rejects everything else
 * with the position of the construct.
 */
#include "core/jinja_subset.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARG_MAX   8
#define VALUE_MAX 512

struct buf {
    char *p;
    size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return MTR_ENOMEM;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* A position in the text, for messages. */
struct pos {
    const char *file, *text;
};

static void line_col(const struct pos *ps, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = ps->text; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static int fail_at(const struct pos *ps, const char *at, struct mtr_errbuf *eb, int rc,
                   const char *what)
{
    int line, col;
    line_col(ps, at, &line, &col);
    return mtr_err(eb, rc, "%s:%d:%d: %s", ps->file, line, col, what);
}

/* One argument of a call: optional keyword, literal text, whether it was a string. */
struct arg {
    char key[64];
    char value[VALUE_MAX];
    int is_string;
    const char *at;
};

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int is_ident_start(int c)
{
    return isalpha(c) || c == '_';
}

static int is_ident(int c)
{
    return isalnum(c) || c == '_';
}

/* Parses one literal at *pp into a; returns 0 or MTR_EPARSE (message set). */
static int parse_literal(const struct pos *ps, const char **pp, struct arg *a,
                         struct mtr_errbuf *eb)
{
    const char *p = *pp;
    a->at = p;
    if (*p == '\'' || *p == '"') {
        char q = *p++;
        const char *start = p;
        while (*p && *p != q && *p != '\\' && *p != '\n')
            p++;
        if (*p == '\\')
            return fail_at(ps, p, eb, MTR_EPARSE,
                           "escape sequences in strings are not in the Jinja subset");
        if (*p != q)
            return fail_at(ps, a->at, eb, MTR_EPARSE, "unterminated string literal");
        if ((size_t)(p - start) >= sizeof a->value)
            return fail_at(ps, a->at, eb, MTR_EPARSE, "string literal too long");
        memcpy(a->value, start, (size_t)(p - start));
        a->value[p - start] = '\0';
        a->is_string = 1;
        *pp = p + 1;
        return 0;
    }
    const char *start = p;
    if (*p == '-' || *p == '+')
        p++;
    if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
        while (isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E' ||
               ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
            p++;
    } else if (is_ident_start((unsigned char)*p) && p == start) {
        while (is_ident((unsigned char)*p))
            p++;
        size_t n = (size_t)(p - start);
        static const char *const words[] = {"true", "True", "false", "False", "none", "None"};
        int ok = 0;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            ok |= strlen(words[i]) == n && strncmp(start, words[i], n) == 0;
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "'%.*s' is not a literal: only strings, numbers, true, false and none are "
                     "in the Jinja subset",
                     (int)(n > 64 ? 64 : n), start);
            return fail_at(ps, start, eb, MTR_EPARSE, msg);
        }
    } else {
        return fail_at(ps, start, eb, MTR_EPARSE,
                       "expected a literal (string, number, true, false, none)");
    }
    if ((size_t)(p - start) >= sizeof a->value)
        return fail_at(ps, start, eb, MTR_EPARSE, "literal too long");
    memcpy(a->value, start, (size_t)(p - start));
    a->value[p - start] = '\0';
    a->is_string = 0;
    /* Jinja renders none as "None" and booleans capitalised; keep dbt's rendering */
    if (strcmp(a->value, "true") == 0)
        strcpy(a->value, "True");
    else if (strcmp(a->value, "false") == 0)
        strcpy(a->value, "False");
    else if (strcmp(a->value, "none") == 0)
        strcpy(a->value, "None");
    *pp = p;
    return 0;
}

/* Names a construct the subset rejects, from the character that starts it. */
static const char *rejected_construct(char c)
{
    switch (c) {
    case '|':
        return "filters ('|') are not in the Jinja subset";
    case '.':
        return "attribute access ('.') is not in the Jinja subset";
    case '[':
        return "item access ('[') is not in the Jinja subset";
    case '~':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
        return "operators are not in the Jinja subset";
    default:
        return "unexpected text in {{ }}: only ref, source, var and config calls are in the "
               "Jinja subset";
    }
}

/* Compiles one {{ ... }} whose content starts at p (after "{{"); *end is set past "}}". */
static int compile_expr(const struct pos *ps, const char *open, const char *p, const char **end,
                        const struct mtr_jinja_hooks *h, struct buf *out, struct mtr_errbuf *eb)
{
    p = skip_ws(p);
    if (*p == '-')
        return fail_at(ps, p, eb, MTR_EPARSE,
                       "whitespace control ('{{-', '-}}') is not in the Jinja subset");
    const char *name = p;
    if (!is_ident_start((unsigned char)*p))
        return fail_at(ps, p, eb, MTR_EPARSE, "expected ref, source, var or config after '{{'");
    while (is_ident((unsigned char)*p))
        p++;
    size_t nlen = (size_t)(p - name);
    char fn[32] = "";
    if (nlen < sizeof fn) {
        memcpy(fn, name, nlen);
        fn[nlen] = '\0';
    }
    if (strcmp(fn, "ref") != 0 && strcmp(fn, "source") != 0 && strcmp(fn, "var") != 0 &&
        strcmp(fn, "config") != 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "'%.*s' is not in the Jinja subset (only ref, source, var and config)",
                 (int)(nlen > 64 ? 64 : nlen), name);
        return fail_at(ps, name, eb, MTR_EPARSE, msg);
    }
    p = skip_ws(p);
    if (*p != '(')
        return fail_at(ps, *p ? p : name, eb, MTR_EPARSE,
                       *p == '|' || *p == '.' || *p == '['
                           ? rejected_construct(*p)
                           : "expected '(': ref, source, var and config must be called");
    p++;
    struct arg args[ARG_MAX];
    int nargs = 0;
    p = skip_ws(p);
    while (*p != ')') {
        if (nargs == ARG_MAX)
            return fail_at(ps, p, eb, MTR_EPARSE, "too many arguments");
        struct arg *a = &args[nargs];
        a->key[0] = '\0';
        const char *k = p;
        if (is_ident_start((unsigned char)*p)) {
            while (is_ident((unsigned char)*p))
                p++;
            const char *after = skip_ws(p);
            if (*after == '=' && after[1] != '=') {
                size_t kl = (size_t)(p - k);
                if (kl >= sizeof a->key)
                    return fail_at(ps, k, eb, MTR_EPARSE, "keyword too long");
                memcpy(a->key, k, kl);
                a->key[kl] = '\0';
                p = skip_ws(after + 1);
            } else {
                p = k;
            }
        }
        int rc = parse_literal(ps, &p, a, eb);
        if (rc < 0)
            return rc;
        nargs++;
        p = skip_ws(p);
        if (*p == ',') {
            p = skip_ws(p + 1);
            if (*p == ')')
                break;
            continue;
        }
        if (*p != ')')
            return fail_at(ps, p, eb, MTR_EPARSE,
                           *p ? rejected_construct(*p) : "unterminated call: expected ')'");
    }
    p = skip_ws(p + 1);
    if (p[0] != '}' || p[1] != '}') {
        if (!*p)
            return fail_at(ps, open, eb, MTR_EPARSE, "unterminated '{{': expected '}}'");
        if (*p == '-' && p[1] == '}')
            return fail_at(ps, p, eb, MTR_EPARSE,
                           "whitespace control ('{{-', '-}}') is not in the Jinja subset");
        return fail_at(ps, p, eb, MTR_EPARSE, rejected_construct(*p));
    }
    *end = p + 2;

    char val[VALUE_MAX];
    val[0] = '\0';
    int rc = 0;
    struct mtr_errbuf heb = {{0}};
    int positional = 0;
    for (int i = 0; i < nargs; i++)
        positional += args[i].key[0] == '\0';
    if (strcmp(fn, "config") == 0) {
        if (positional)
            return fail_at(ps, name, eb, MTR_EPARSE, "config() takes keyword arguments only");
        for (int i = 0; i < nargs && rc == 0; i++)
            rc = h->config ? h->config(h->ctx, args[i].key, args[i].value, &heb) : 0;
        if (rc < 0)
            return fail_at(ps, name, eb, rc, heb.msg);
        return 0;
    }
    if (positional != nargs)
        return fail_at(ps, name, eb, MTR_EPARSE, "keyword arguments are only accepted by config()");
    for (int i = 0; i < nargs; i++) {
        /* the default of var() may be any literal; every name must be a string */
        if (!args[i].is_string && !(strcmp(fn, "var") == 0 && i == 1))
            return fail_at(ps, args[i].at, eb, MTR_EPARSE, "expected a string literal");
    }
    if (strcmp(fn, "ref") == 0) {
        if (nargs != 1)
            return fail_at(ps, name, eb, MTR_EPARSE,
                           "ref() takes one argument (two-argument ref to another package is "
                           "not in the Jinja subset)");
        rc = h->ref(h->ctx, args[0].value, val, sizeof val, &heb);
    } else if (strcmp(fn, "source") == 0) {
        if (nargs != 2)
            return fail_at(ps, name, eb, MTR_EPARSE, "source() takes two arguments");
        rc = h->source(h->ctx, args[0].value, args[1].value, val, sizeof val, &heb);
    } else {
        if (nargs < 1 || nargs > 2)
            return fail_at(ps, name, eb, MTR_EPARSE, "var() takes a name and an optional default");
        int found = h->var(h->ctx, args[0].value, val, sizeof val);
        if (!found && nargs == 2) {
            snprintf(val, sizeof val, "%s", args[1].value);
        } else if (!found) {
            char msg[160];
            snprintf(msg, sizeof msg, "required var '%.64s' is not defined and has no default",
                     args[0].value);
            return fail_at(ps, name, eb, MTR_EINVAL, msg);
        }
    }
    if (rc < 0)
        return fail_at(ps, name, eb, rc, heb.msg);
    return buf_add(out, val, strlen(val));
}

int mtr_jinja_compile(const char *file, const char *text, const struct mtr_jinja_hooks *h,
                      char **out, struct mtr_errbuf *eb)
{
    struct pos ps = {file ? file : "<text>", text};
    struct buf b = {0};
    int rc = buf_add(&b, "", 0);
    const char *p = text;
    *out = NULL;
    while (rc == 0 && *p) {
        const char *brace = strchr(p, '{');
        const char *close = strstr(p, "}}");
        const char *stop = NULL;
        /* first '{' that opens a tag; a stray '}}' outside a tag is fine in SQL but not here */
        while (brace && brace[1] != '{' && brace[1] != '%' && brace[1] != '#')
            brace = strchr(brace + 1, '{');
        stop = brace;
        if (close && (!stop || close < stop)) {
            rc = fail_at(&ps, close, eb, MTR_EPARSE, "'}}' without an opening '{{'");
            break;
        }
        if (!stop) {
            rc = buf_add(&b, p, strlen(p));
            break;
        }
        rc = buf_add(&b, p, (size_t)(stop - p));
        if (rc < 0)
            break;
        if (stop[1] == '#') {
            const char *end = strstr(stop + 2, "#}");
            if (!end) {
                rc = fail_at(&ps, stop, eb, MTR_EPARSE, "unterminated comment: expected '#}'");
                break;
            }
            p = end + 2;
        } else if (stop[1] == '%') {
            const char *kw = skip_ws(stop + 2 + (stop[2] == '-'));
            const char *kend = kw;
            while (is_ident((unsigned char)*kend))
                kend++;
            char msg[200];
            snprintf(msg, sizeof msg,
                     "statement '{%% %.*s %%}' is not in the Jinja subset (only {{ ref }}, "
                     "{{ source }}, {{ var }}, {{ config }} and {# comments #})",
                     (int)(kend - kw > 32 ? 32 : kend - kw), kw);
            rc = fail_at(&ps, stop, eb, MTR_EPARSE, msg);
        } else {
            rc = compile_expr(&ps, stop, stop + 2, &p, h, &b, eb);
        }
    }
    if (rc < 0) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    return 0;
}
