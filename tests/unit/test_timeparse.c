/* test_timeparse.c - ISO-8601 parsing, formatting and civil-day arithmetic (base/timeparse.h). */
#include <string.h>

#include "base/err.h"
#include "base/timeparse.h"
#include "t.h"

static int64_t P(const char *s)
{
    int64_t t = -1;
    int rc = mtr_time_parse(s, strlen(s), &t);
    return rc == 0 ? t : (int64_t)rc * 1000000000000LL;
}

static void test_variants(void)
{
    const int64_t base = 1364812200; /* 2013-04-01T10:30:00Z */
    T_EQ_INT(P("2013-04-01T10:30:00Z"), base);
    T_EQ_INT(P("2013-04-01T10:30:00z"), base);
    T_EQ_INT(P("2013-04-01t10:30:00"), base);
    T_EQ_INT(P("2013-04-01 10:30:00"), base);
    T_EQ_INT(P("2013-04-01T10:30"), base);
    T_EQ_INT(P("2013-04-01T10:30Z"), base);
    T_EQ_INT(P("2013-04-01T10:30:00.999Z"), base); /* fraction truncated */
    T_EQ_INT(P("2013-04-01T10:30:00.123456789"), base);
    T_EQ_INT(P("2013-04-01T12:30:00+02:00"), base);
    T_EQ_INT(P("2013-04-01T12:30:00+0200"), base);
    T_EQ_INT(P("2013-04-01T12:30:00+02"), base);
    T_EQ_INT(P("2013-04-01T05:00:00-05:30"), base);
    T_EQ_INT(P("  2013-04-01T10:30:00Z \t"), base);
    T_EQ_INT(P("2013-04-01"), base - 10 * 3600 - 30 * 60);
    T_EQ_INT(P("1970-01-01T00:00:00Z"), 0);
    T_EQ_INT(P("2000-02-29T00:00:00Z"), 951782400);
    T_EQ_INT(P("2024-02-29"), 1709164800);
    T_EQ_INT(P("9999-12-31T23:59:59Z"), 253402300799LL);
}

static void test_rejects(void)
{
    const char *bad[] = {"",
                         "   ",
                         "2013-13-01T00:00:00Z",
                         "2013-00-10",
                         "2013-02-30T00:00:00Z",
                         "2013-02-29",
                         "1900-02-29",
                         "2013-04-31",
                         "2013-04-01T24:00:00Z",
                         "2013-04-01T25:00:00Z",
                         "2013-04-01T10:60:00Z",
                         "2013-04-01T10:30:61Z",
                         "2013-04-01T10:30:00Zjunk",
                         "2013-04-01T10:30:00 +01:00x",
                         "2013-04-01T10:30:00.",
                         "2013-04-01T10",
                         "2013-4-1",
                         "1969-12-31T23:59:59Z",
                         "13-04-01",
                         "2013/04/01",
                         "2013-04-01T10:30:00+25:00",
                         "2013-04-01  10:30:00",
                         "yesterday",
                         "1364812200"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 42;
        int rc = mtr_time_parse(bad[i], strlen(bad[i]), &t);
        if (rc != MTR_EPARSE)
            printf("accepted: \"%s\"\n", bad[i]);
        T_EQ_INT(rc, MTR_EPARSE);
        T_EQ_INT(t, 42);
    }
}

static void test_messages(void)
{
    char msg[200];
    int64_t t;
    const char *s = "2013-13-01T00:00:00Z";
    T_EQ_INT(mtr_time_parse_msg(s, strlen(s), &t, msg, sizeof msg), MTR_EPARSE);
    T_EQ_STR(msg, "invalid date: month 13");
    s = "2013-02-30";
    mtr_time_parse_msg(s, strlen(s), &t, msg, sizeof msg);
    T_EQ_STR(msg, "invalid date: 2013-02-30 (February 2013 has 28 days)");
    s = "2013-01-01T25:00";
    mtr_time_parse_msg(s, strlen(s), &t, msg, sizeof msg);
    T_EQ_STR(msg, "invalid time: hour 25");
    s = "soon";
    mtr_time_parse_msg(s, strlen(s), &t, msg, sizeof msg);
    T_EQ_STR(msg, "not an ISO-8601 date-time: \"soon\"");
    /* not NUL-terminated: only len bytes are read */
    T_EQ_INT(mtr_time_parse("2013-04-01XXXX", 10, &t), 0);
}

static void test_format_and_civil(void)
{
    char buf[24];
    T_EQ_INT(mtr_time_format(1364812200, buf), 20);
    T_EQ_STR(buf, "2013-04-01T10:30:00Z");
    mtr_time_format(0, buf);
    T_EQ_STR(buf, "1970-01-01T00:00:00Z");
    mtr_time_format(-1, buf);
    T_EQ_STR(buf, "1969-12-31T23:59:59Z");
    T_EQ_INT(mtr_days_from_civil(1970, 1, 1), 0);
    T_EQ_INT(mtr_days_from_civil(2000, 3, 1), 11017);
    T_EQ_INT(mtr_days_from_civil(1969, 12, 31), -1);
    /* round trip every day from 1600 to 2400 and check continuity */
    int64_t prev = mtr_days_from_civil(1600, 1, 1) - 1;
    for (int y = 1600; y <= 2400; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= mtr_days_in_month(y, m); d++) {
                int64_t z = mtr_days_from_civil(y, m, d);
                if (z != prev + 1)
                    T_EQ_INT(z, prev + 1);
                int yy, mm, dd;
                mtr_civil_from_days(z, &yy, &mm, &dd);
                if (yy != y || mm != m || dd != d)
                    T_CHECK(0);
                prev = z;
            }
    /* format -> parse round trip */
    for (int64_t t = 0; t < 253402300799LL; t += 86400LL * 97 + 3671) {
        mtr_time_format(t, buf);
        int64_t back;
        T_EQ_INT(mtr_time_parse(buf, strlen(buf), &back), 0);
        if (back != t)
            T_EQ_INT(back, t);
    }
}

int main(void)
{
    T_RUN(test_variants);
    T_RUN(test_rejects);
    T_RUN(test_messages);
    T_RUN(test_format_and_civil);
    return T_END();
}
