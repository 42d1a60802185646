/*
 * jsonnum.c - the RFC 8259 number scanner shared by the JSON fast paths, with a reason for every
 * text it refuses (see jsonnum.h).
 */
#include "base/jsonnum.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Characters that may continue a number-like token ("1e5", "0x1F", "NaN", "+.5"). */
static int is_tok(char c)
{
    return is_digit(c) || c == '.' || c == '+' || c == '-' || c == '_' || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static int refuse(char *msg, size_t cap, const char *why, const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && n < 24 && is_tok(s[n]))
        n++;
    if (msg && cap)
        snprintf(msg, cap, "%s: \"%.*s\"", why, (int)n, s);
    return MTR_EPARSE;
}

/* The reason for a token that is not in the grammar (s[0..n) is the whole token). */
static const char *reason(const char *s, size_t n)
{
    const char *t = s;
    size_t k = n;
    if (k && (*t == '-' || *t == '+')) {
        t++;
        k--;
    }
    if ((k == 3 && strncasecmp(t, "nan", 3) == 0) || (k == 3 && strncasecmp(t, "inf", 3) == 0) ||
        (k == 8 && strncasecmp(t, "infinity", 8) == 0))
        return "NaN and Infinity are not JSON numbers (use null)";
    if (k >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        return "hexadecimal is not a JSON number";
    if (n && s[0] == '+')
        return "a JSON number has no leading '+'";
    if (k && t[0] == '.')
        return "a JSON number starts with a digit (0.5, not .5)";
    if (k >= 2 && t[0] == '0' && is_digit(t[1]))
        return "a JSON number has no leading zeros";
    if (!k || !is_digit(t[0]))
        return s[0] == '-' ? "a digit must follow '-'" : "not a JSON number";
    return "not a JSON number";
}

int mtr_json_number_scan(const char *s, size_t len, struct mtr_json_number *out, char *msg,
                         size_t cap)
{
    size_t i = 0, tok = 0;
    while (tok < len && is_tok(s[tok]))
        tok++;
    struct mtr_json_number n = {0};
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0') {
        i++;
        n.int_digits = 1;
    } else {
        while (i < len && is_digit(s[i])) {
            i++;
            n.int_digits++;
        }
    }
    if (!n.int_digits || (i < len && is_digit(s[i])))
        return refuse(msg, cap, reason(s, tok), s, len);
    if (i < len && s[i] == '.') {
        size_t d = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == d)
            return refuse(msg, cap, "a digit must follow the decimal point", s, len);
        n.is_real = 1;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == d)
            return refuse(msg, cap, "a digit must follow the exponent", s, len);
        n.is_real = 1;
    }
    if (i < tok) /* "12abc", "1.5.2", "0x1F", "1e5e" */
        return refuse(msg, cap, reason(s, tok), s, len);
    n.len = i;
    n.text_off = !n.is_real && i == 2 && s[0] == '-' && s[1] == '0';
    *out = n;
    return 0;
}

int mtr_json_number_plain(const struct mtr_json_number *n)
{
    return n->is_real || n->int_digits <= 18;
}

int mtr_json_number_explain(const char *text, size_t len, size_t pos, char *msg, size_t cap)
{
    size_t q = pos < len ? pos : len;
    while (q > 0 && is_tok(text[q - 1]))
        q--;
    size_t e = q;
    while (e < len && is_tok(text[e]))
        e++;
    if (e == q)
        return 0;
    size_t b = q; /* a value starts here: after '[', ',' or ':' */
    while (b > 0 && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\n' ||
                     text[b - 1] == '\r'))
        b--;
    if (b > 0 && text[b - 1] != '[' && text[b - 1] != ',' && text[b - 1] != ':')
        return 0;
    const char *t = text + q;
    size_t k = e - q;
    if (*t == '-' || *t == '+') {
        t++;
        k--;
    }
    int numeric = k == 0 || is_digit(*t) || *t == '.' || text[q] == '+' ||
                  (k == 3 && strncasecmp(t, "nan", 3) == 0) ||
                  (k == 3 && strncasecmp(t, "inf", 3) == 0) ||
                  (k == 8 && strncasecmp(t, "infinity", 8) == 0);
    struct mtr_json_number n;
    if (!numeric || mtr_json_number_scan(text + q, len - q, &n, msg, cap) == 0)
        return 0;
    return 1;
}
