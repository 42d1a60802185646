/*
 * test_jsonnum.c - the shared JSON number scanner (base/jsonnum.h): the RFC 8259 grammar, what may
 * follow a number, the reason given for every refused spelling (NaN, Infinity, leading '+', hex,
 * leading zeros, a bare point or exponent), and which numbers the fast paths may read as text.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonnum.h"
#include "t.h"

/* s scans as a number of want_len bytes; is_real and plain as given; "-0" is read from "0" */
static void ok(const char *s, size_t want_len, int is_real, int plain)
{
    struct mtr_json_number n;
    char msg[160] = "";
    int rc = mtr_json_number_scan(s, strlen(s), &n, msg, sizeof msg);
    T_EQ_INT(rc, 0);
    if (rc != 0) {
        printf("  %s: %s\n", s, msg);
        return;
    }
    T_EQ_INT(n.len, want_len);
    T_EQ_INT(n.is_real, is_real);
    T_EQ_INT(n.text_off, want_len == 2 && strncmp(s, "-0", 2) == 0);
    if (mtr_json_number_plain(&n) != plain) {
        printf("  %s: plain %d\n", s, !plain);
        T_CHECK(0);
    }
}

static void bad(const char *s, const char *want_msg)
{
    struct mtr_json_number n = {.len = 99};
    char msg[160] = "";
    T_EQ_INT(mtr_json_number_scan(s, strlen(s), &n, msg, sizeof msg), MTR_EPARSE);
    T_EQ_INT(n.len, 99); /* untouched */
    T_EQ_STR(msg, want_msg);
}

static void test_grammar(void)
{
    ok("0", 1, 0, 1);
    ok("-0", 2, 0, 1); /* an integer to jansson: +0.0, to strtod -0.0: read from "0" */
    ok("-0.0", 4, 1, 1);
    ok("7", 1, 0, 1);
    ok("0.219", 5, 1, 1);
    ok("-12.5", 5, 1, 1);
    ok("1e5", 3, 1, 1);
    ok("1E+5", 4, 1, 1);
    ok("2.5e-3", 6, 1, 1);
    ok("0e0", 3, 1, 1);
    ok("123456789012345678", 18, 0, 1);
    ok("1234567890123456789", 19, 0, 0); /* beyond jansson's integers: its error, not ours */
    ok("1234567890123456789.5", 21, 1, 1);
    /* what may follow: the caller's grammar */
    ok("42,", 2, 0, 1);
    ok("42}", 2, 0, 1);
    ok("42]", 2, 0, 1);
    ok("42 ", 2, 0, 1);
    ok("0.5\n", 3, 1, 1);
    ok("-3:", 2, 0, 1);
    /* the length bounds the scan (the text need not be terminated) */
    struct mtr_json_number n;
    T_EQ_INT(mtr_json_number_scan("12345", 2, &n, NULL, 0), 0);
    T_EQ_INT(n.len, 2);
    T_EQ_INT(mtr_json_number_scan("1.5", 2, &n, NULL, 0), MTR_EPARSE); /* "1." */
    T_EQ_INT(mtr_json_number_scan("", 0, &n, NULL, 0), MTR_EPARSE);
}

static void test_refused(void)
{
    bad("NaN", "NaN and Infinity are not JSON numbers (use null): \"NaN\"");
    bad("nan", "NaN and Infinity are not JSON numbers (use null): \"nan\"");
    bad("Infinity", "NaN and Infinity are not JSON numbers (use null): \"Infinity\"");
    bad("-Infinity,", "NaN and Infinity are not JSON numbers (use null): \"-Infinity\"");
    bad("+inf", "NaN and Infinity are not JSON numbers (use null): \"+inf\"");
    bad("+1", "a JSON number has no leading '+': \"+1\"");
    bad("+0.5}", "a JSON number has no leading '+': \"+0.5\"");
    bad("0x1F", "hexadecimal is not a JSON number: \"0x1F\"");
    bad("-0X10", "hexadecimal is not a JSON number: \"-0X10\"");
    bad("01", "a JSON number has no leading zeros: \"01\"");
    bad("-007", "a JSON number has no leading zeros: \"-007\"");
    bad(".5", "a JSON number starts with a digit (0.5, not .5): \".5\"");
    bad("-.5", "a JSON number starts with a digit (0.5, not .5): \"-.5\"");
    bad("1.", "a digit must follow the decimal point: \"1.\"");
    bad("1.e5", "a digit must follow the decimal point: \"1.e5\"");
    bad("1e", "a digit must follow the exponent: \"1e\"");
    bad("1e+}", "a digit must follow the exponent: \"1e+\"");
    bad("-", "a digit must follow '-': \"-\"");
    bad("- 1", "a digit must follow '-': \"-\"");
    bad("12abc", "not a JSON number: \"12abc\"");
    bad("1.5.2", "not a JSON number: \"1.5.2\"");
    bad("1_000", "not a JSON number: \"1_000\"");
    bad("1e5e", "not a JSON number: \"1e5e\"");
    bad("0.5kWh", "not a JSON number: \"0.5kWh\"");
}

/* jansson's error positions (just after the token it refused) for these bodies */
static void explained(const char *body, size_t pos, const char *want)
{
    char msg[160] = "untouched";
    int got = mtr_json_number_explain(body, strlen(body), pos, msg, sizeof msg);
    T_EQ_INT(got, want != NULL);
    T_EQ_STR(msg, want ? want : "untouched");
}

static void test_explain(void)
{
    explained("{\"a\":NaN}", 8, "NaN and Infinity are not JSON numbers (use null): \"NaN\"");
    explained("{\"a\":+1}", 6, "a JSON number has no leading '+': \"+1\"");
    explained("{\"a\":0x1F}", 7, "hexadecimal is not a JSON number: \"0x1F\"");
    explained("{\"a\":01}", 6, "a JSON number has no leading zeros: \"01\"");
    explained("{\"a\":1.}", 7, "a digit must follow the decimal point: \"1.\"");
    explained("[{\"a\": -Infinity}]", 8,
              "NaN and Infinity are not JSON numbers (use null): \"-Infinity\"");
    explained("[1, .5]", 5, "a JSON number starts with a digit (0.5, not .5): \".5\"");
    explained("{\"a\":12abc}", 10, "not a JSON number: \"12abc\"");
    /* not a number's fault: the parser's words stand */
    explained("{\"a\":tru}", 8, NULL);
    explained("{\"a\" 1}", 6, NULL);
    explained("{\"a\":1,}", 8, NULL);
    explained("{\"a\":\"x\"", 9, NULL);
    explained("", 0, NULL);
}

int main(void)
{
    T_RUN(test_grammar);
    T_RUN(test_refused);
    T_RUN(test_explain);
    return T_END();
}
