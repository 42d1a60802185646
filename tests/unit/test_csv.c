/*
 * test_csv.c - the streaming CSV reader (base/csv.h) over in-memory input delivered in small
 * pieces (to cross every buffer boundary), plus exact number parsing (base/num.h) against strtod
 * and the UTF-8 helpers (base/text.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/err.h"
#include "base/num.h"
#include "base/text.h"
#include "t.h"

struct mem {
    const char *s;
    size_t len, pos, piece;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
    struct mem *m = ctx;
    size_t k = m->len - m->pos;
    if (k > n)
        k = n;
    if (m->piece && k > m->piece)
        k = m->piece;
    memcpy(buf, m->s + m->pos, k);
    m->pos += k;
    return (ssize_t)k;
}

static size_t clamp(size_t o, size_t cap)
{
    return o < cap ? o : cap - 1;
}

/* Reads all of s; writes "L<line>:<f1>|<f2>...;" per record or "L<line>:E<err>;" per error. */
static void dump(const char *s, size_t len, size_t piece, char *out, size_t cap)
{
    struct mem m = {s, len, 0, piece};
    struct mtr_csv *c;
    T_EQ_INT(mtr_csv_open(mem_read, &m, 0, &c), 0);
    size_t o = 0;
    out[0] = 0;
    struct mtr_csv_row row;
    int rc;
    while ((rc = mtr_csv_next(c, &row)) != 0) {
        if (rc == MTR_EPARSE) {
            o = clamp(o + (size_t)snprintf(out + o, cap - o, "L%llu:E%d;",
                                           (unsigned long long)row.line, row.error),
                      cap);
            continue;
        }
        T_EQ_INT(rc, 1);
        if (rc != 1)
            break;
        o = clamp(o + (size_t)snprintf(out + o, cap - o, "L%llu:", (unsigned long long)row.line),
                  cap);
        for (size_t i = 0; i < row.nfields; i++)
            o = clamp(o + (size_t)snprintf(out + o, cap - o, "%s%.*s", i ? "|" : "",
                                           (int)row.fields[i].len, row.fields[i].p),
                      cap);
        o = clamp(o + (size_t)snprintf(out + o, cap - o, ";"), cap);
    }
    mtr_csv_close(c);
}

#define CHECK_CSV(input, expect)                                                                   \
    do {                                                                                           \
        static const char in_[] = input;                                                           \
        char got_[4096];                                                                           \
        size_t pieces_[] = {0, 1, 2, 3, 7};                                                        \
        for (size_t k_ = 0; k_ < 5; k_++) {                                                        \
            dump(in_, sizeof in_ - 1, pieces_[k_], got_, sizeof got_);                             \
            T_EQ_STR(got_, expect);                                                                \
        }                                                                                          \
    } while (0)

static void test_basic(void)
{
    CHECK_CSV("a,b,c\n1,2,3\n", "L1:a|b|c;L2:1|2|3;");
    CHECK_CSV("a,b\r\n1,2\r\n", "L1:a|b;L2:1|2;");
    CHECK_CSV("a,b\n1,2", "L1:a|b;L2:1|2;");
    CHECK_CSV("\xEF\xBB\xBF"
              "a,b\n1,2\n",
              "L1:a|b;L2:1|2;");
    CHECK_CSV("a,b\n\n   \n\r\n1,2\n\n", "L1:a|b;L5:1|2;");
    CHECK_CSV(",,\n", "L1:||;");
    CHECK_CSV("", "");
    CHECK_CSV("\n\n", "");
    CHECK_CSV("x, 0.219 ,y\n", "L1:x| 0.219 |y;");
}

static void test_quotes(void)
{
    CHECK_CSV("\"a,b\",\"c\"\"d\",e\n", "L1:a,b|c\"d|e;");
    CHECK_CSV("\"multi\nline\",x\nnext,y\n", "L1:multi\nline|x;L3:next|y;");
    CHECK_CSV("\"\",\"\"\n", "L1:|;");
    CHECK_CSV("a\"b,c\n", "L1:a\"b|c;"); /* a quote inside an unquoted field is literal */
    CHECK_CSV("\"Partly Cloudy\r\"\n", "L1:Partly Cloudy\r;");
    CHECK_CSV("\"q\"\r\n1,2\r\n", "L1:q;L2:1|2;");
    CHECK_CSV("x,\"q\"", "L1:x|q;"); /* closing quote is the last byte of input */
    /* text after a closing quote: error for that record only */
    CHECK_CSV("\"ab\"c,d\nok,1\n", "L1:E1;L2:ok|1;");
    /* unterminated quote at EOF: error, then resync at the next physical line */
    CHECK_CSV("h1,h2\nx,\"open\n2,3\n4,5\n", "L1:h1|h2;L2:E1;L3:2|3;L4:4|5;");
}

static void test_encoding(void)
{
    CHECK_CSV("a,b\nM\xC3\xBCller,1\n", "L1:a|b;L2:M\xC3\xBCller|1;");
    CHECK_CSV("a,b\nbad\xFF,1\nok,2\n", "L1:a|b;L2:E2;L3:ok|2;");
    CHECK_CSV("a\n\xC0\xAF\n\xED\xA0\x80\nz\n", "L1:a;L2:E2;L3:E2;L4:z;"); /* overlong, surrogate */
}

/* A record of n bytes (no newline inside) followed by "\nok,1\n". */
static void long_line(size_t n, size_t piece, int quoted, char *out, size_t cap)
{
    size_t len = n + 32;
    char *s = malloc(len);
    memcpy(s, "h,v\n", 4);
    size_t p = 4;
    if (quoted)
        s[p++] = '"';
    memset(s + p, 'x', n);
    p += n;
    memcpy(s + p, "\nok,1\n", 6);
    p += 6;
    dump(s, p, piece, out, cap);
    free(s);
}

static void test_long_lines(void)
{
    char got[256];
    long_line(MTR_CSV_LINE_MAX - 1, 0, 0, got, sizeof got);
    T_CHECK(strncmp(got, "L1:h|v;L2:x", 11) == 0); /* just under the limit: a record */
    long_line(MTR_CSV_LINE_MAX + 10, 0, 0, got, sizeof got);
    T_EQ_STR(got, "L1:h|v;L2:E3;L3:ok|1;");
    long_line(3 * MTR_CSV_LINE_MAX, 4096, 0, got, sizeof got);
    T_EQ_STR(got, "L1:h|v;L2:E3;L3:ok|1;");
    /* an opening quote that runs past the limit on one physical line */
    long_line(2 * MTR_CSV_LINE_MAX, 0, 1, got, sizeof got);
    T_EQ_STR(got, "L1:h|v;L2:E3;L3:ok|1;");
    /* a quote opened on a short line that never closes within the limit: resync at line 3 */
    size_t n = MTR_CSV_LINE_MAX + 100;
    char *s = malloc(n + 64);
    size_t p = (size_t)sprintf(s, "h,v\n\"open,1\n");
    while (p < n) {
        memcpy(s + p, "aa,bb\n", 6);
        p += 6;
    }
    dump(s, p, 0, got, sizeof got);
    T_CHECK(strncmp(got, "L1:h|v;L2:E1;L3:aa|bb;L4:aa|bb;", 31) == 0);
    free(s);
}

static void test_line_mode_and_peek(void)
{
    static const char in[] = "\xEF\xBB\xBF  \n{\"a\":\"x,\\\"y\"}\r\n\n{}\n";
    struct mem m = {in, sizeof in - 1, 0, 3};
    struct mtr_csv *c;
    T_EQ_INT(mtr_csv_open(mem_read, &m, MTR_CSV_LINES, &c), 0);
    int b;
    T_EQ_INT(mtr_csv_peek(c, &b), 0);
    T_EQ_INT(b, '{');
    struct mtr_csv_row row;
    T_EQ_INT(mtr_csv_next(c, &row), 1);
    T_EQ_INT(row.line, 2);
    T_EQ_INT(row.nfields, 1);
    T_EQ_INT(row.fields[0].len, 13);
    T_CHECK(memcmp(row.fields[0].p, "{\"a\":\"x,\\\"y\"}", 13) == 0);
    T_EQ_INT(mtr_csv_next(c, &row), 1);
    T_EQ_INT(row.line, 4);
    T_EQ_INT(mtr_csv_next(c, &row), 0);
    T_EQ_INT(mtr_csv_blank_lines(c), 2);
    mtr_csv_close(c);
}

static ssize_t fail_read(void *ctx, void *buf, size_t n)
{
    return -1;
}

static void test_io_error(void)
{
    struct mtr_csv *c;
    struct mtr_csv_row row;
    T_EQ_INT(mtr_csv_open(fail_read, NULL, 0, &c), 0);
    T_EQ_INT(mtr_csv_next(c, &row), MTR_EIO);
    mtr_csv_close(c);
}

static void test_raw_excerpt(void)
{
    static const char in[] = "\"a\"\"b\",c\n";
    struct mem m = {in, sizeof in - 1, 0, 0};
    struct mtr_csv *c;
    struct mtr_csv_row row;
    mtr_csv_open(mem_read, &m, 0, &c);
    T_EQ_INT(mtr_csv_next(c, &row), 1);
    T_EQ_INT(row.raw_len, 8);
    T_CHECK(memcmp(row.raw, "\"a\"\"b\",c", 8) == 0); /* raw as read, not unquoted */
    mtr_csv_close(c);
}

/* ---- numbers ---- */

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void check_num(const char *s)
{
    double got = 0, want = strtod(s, NULL);
    int rc = mtr_parse_double(s, strlen(s), &got);
    if (rc != 0 || !same_bits(got, want)) {
        printf("mismatch for \"%s\": rc %d got %.17g want %.17g\n", s, rc, got, want);
        T_CHECK(0);
    }
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_numbers_exact(void)
{
    const char *fixed[] = {"0",
                           "-0",
                           "0.219",
                           " 0.219 ",
                           "-12.5",
                           "1e3",
                           ".5",
                           "5.",
                           "+7",
                           "1E-5",
                           "230.41",
                           "49.998",
                           "0.1",
                           "0.3",
                           "1e22",
                           "1e23",
                           "9007199254740993",
                           "1e-300",
                           "4.9e-324",
                           "2.2250738585072014e-308",
                           "1.7976931348623157e308",
                           "123456789012345678901234567890",
                           "0.000000000000000000001234",
                           "3.14159265358979323846",
                           "100000000000000000000000"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_num(fixed[i]);
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        uint64_t r = next_rand();
        int digits = 1 + (int)(r % 20), point = (int)((r >> 8) % (digits + 1));
        int e = (int)((r >> 16) % 61) - 30, use_e = (int)((r >> 24) & 1),
            neg = (int)((r >> 25) & 1);
        size_t o = 0;
        if (neg)
            buf[o++] = '-';
        for (int d = 0; d < digits; d++) {
            if (d == point && d)
                buf[o++] = '.';
            buf[o++] = (char)('0' + next_rand() % 10);
        }
        if (use_e)
            o += (size_t)sprintf(buf + o, "e%d", e);
        buf[o] = 0;
        check_num(buf);
        /* and a printed double round-trips */
        double x;
        memcpy(&x, &r, sizeof x);
        if (isfinite(x)) {
            sprintf(buf, "%.17g", x);
            check_num(buf);
            sprintf(buf, "%.6f", fmod(x, 1e6));
            check_num(buf);
        }
    }
}

static void test_numbers_rejected(void)
{
    const char *bad[] = {"",     "  ",   "abc", "NaN", "nan", "Inf", "-inf",  "infinity",
                         "0x10", "1e",   "1e+", ".",   "-",   "+",   "1.2.3", "12abc",
                         "1,5",  "Null", "e5",  "1 2", "--1", "1e5x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double x = 42;
        int rc = mtr_parse_double(bad[i], strlen(bad[i]), &x);
        if (rc == 0)
            printf("accepted: \"%s\"\n", bad[i]);
        T_EQ_INT(rc, MTR_EPARSE);
        T_EQ_DBL(x, 42, 0);
    }
    double x = 42;
    T_EQ_INT(mtr_parse_double("1e999", 5, &x), MTR_ERANGE);
    T_EQ_INT(mtr_parse_double("-1e400", 6, &x), MTR_ERANGE);
    T_EQ_INT(mtr_num_is_nonfinite_word(" NaN ", 5), 1);
    T_EQ_INT(mtr_num_is_nonfinite_word("-Infinity", 9), 1);
    T_EQ_INT(mtr_num_is_nonfinite_word("Null", 4), 0);
    /* only len bytes are read */
    T_EQ_INT(mtr_parse_double("12.5xyz", 4, &x), 0);
    T_EQ_DBL(x, 12.5, 0);
}

static void test_text(void)
{
    T_EQ_INT(mtr_utf8_valid("plain ascii text, long enough", 29), 1);
    T_EQ_INT(mtr_utf8_valid("\xE2\x82\xAC \xF0\x9F\x98\x80", 8), 1);
    T_EQ_INT(mtr_utf8_valid("\xE2\x82", 2), 0);
    T_EQ_INT(mtr_utf8_valid("\xF4\x90\x80\x80", 4), 0);
    char dst[8];
    mtr_text_excerpt(dst, sizeof dst, "a\tb\xFF\xE2\x82\xAC", 7);
    T_EQ_STR(dst, "a?b?\xE2\x82\xAC");
    mtr_text_excerpt(dst, 6, "abcd\xE2\x82\xAC", 7); /* never cuts a sequence */
    T_EQ_STR(dst, "abcd");
}

int main(void)
{
    T_RUN(test_basic);
    T_RUN(test_quotes);
    T_RUN(test_encoding);
    T_RUN(test_long_lines);
    T_RUN(test_line_mode_and_peek);
    T_RUN(test_io_error);
    T_RUN(test_raw_excerpt);
    T_RUN(test_numbers_exact);
    T_RUN(test_numbers_rejected);
    T_RUN(test_text);
    return T_END();
}
