/* test_cron.c - cron parsing and next-fire times against hand-computed calendar cases. */
#include "t.h"

#include <string.h>

#include "base/err.h"
#include "base/timeparse.h"
#include "core/cron.h"

static int64_t at(const char *iso)
{
    int64_t t = 0;
    if (mtr_time_parse(iso, strlen(iso), &t) != 0)
        t_fail(__FILE__, __LINE__, "bad time literal %s", iso);
    return t;
}

/* next(expr, after) as an ISO string ("never" when it does not fire, "error" when invalid) */
static const char *next(const char *expr, const char *after, char buf[24])
{
    struct mtr_cron c;
    char msg[128];
    int64_t t;
    if (mtr_cron_parse(expr, &c, msg, sizeof msg) != 0)
        return "error";
    if (mtr_cron_next(&c, at(after), &t) != 0)
        return "never";
    mtr_time_format(t, buf);
    return buf;
}

static void test_simple_fields(void)
{
    char b[24];
    T_EQ_STR(next("* * * * *", "2024-03-10T12:00:00Z", b), "2024-03-10T12:01:00Z");
    T_EQ_STR(next("* * * * *", "2024-03-10T12:00:59Z", b), "2024-03-10T12:01:00Z");
    T_EQ_STR(next("30 2 * * *", "2024-03-10T02:30:00Z", b), "2024-03-11T02:30:00Z");
    T_EQ_STR(next("30 2 * * *", "2024-03-10T02:29:59Z", b), "2024-03-10T02:30:00Z");
    T_EQ_STR(next("15 * * * *", "2024-12-31T23:20:00Z", b), "2025-01-01T00:15:00Z");
    T_EQ_STR(next("0 0 1 1 *", "2024-01-01T00:00:00Z", b), "2025-01-01T00:00:00Z");
}

static void test_lists_ranges_steps(void)
{
    char b[24];
    T_EQ_STR(next("*/15 * * * *", "2024-03-10T12:44:00Z", b), "2024-03-10T12:45:00Z");
    T_EQ_STR(next("*/15 * * * *", "2024-03-10T12:45:00Z", b), "2024-03-10T13:00:00Z");
    T_EQ_STR(next("5,35 9-10 * * *", "2024-03-10T10:35:00Z", b), "2024-03-11T09:05:00Z");
    T_EQ_STR(next("0 8-18/4 * * *", "2024-03-10T12:00:00Z", b), "2024-03-10T16:00:00Z");
    T_EQ_STR(next("0 8-18/4 * * *", "2024-03-10T16:00:00Z", b), "2024-03-11T08:00:00Z");
    T_EQ_STR(next("10/20 * * * *", "2024-03-10T12:31:00Z", b), "2024-03-10T12:50:00Z");
    T_EQ_STR(next("0 0 * jun-aug *", "2024-03-10T00:00:00Z", b), "2024-06-01T00:00:00Z");
}

static void test_days(void)
{
    char b[24];
    /* 2024-03-10 is a Sunday */
    T_EQ_STR(next("0 9 * * mon-fri", "2024-03-09T10:00:00Z", b), "2024-03-11T09:00:00Z");
    T_EQ_STR(next("0 9 * * 1-5", "2024-03-15T09:00:00Z", b), "2024-03-18T09:00:00Z");
    T_EQ_STR(next("0 0 * * 7", "2024-03-10T00:00:00Z", b), "2024-03-17T00:00:00Z");
    T_EQ_STR(next("0 0 * * SUN", "2024-03-09T00:00:00Z", b), "2024-03-10T00:00:00Z");
    /* both day fields restricted: the 1st of the month OR a Friday */
    T_EQ_STR(next("0 0 1 * 5", "2024-03-02T00:00:00Z", b), "2024-03-08T00:00:00Z");
    T_EQ_STR(next("0 0 1 * 5", "2024-03-29T00:00:00Z", b), "2024-04-01T00:00:00Z");
    /* day of month restricted, weekday *: only the 31st, skipping short months */
    T_EQ_STR(next("0 0 31 * *", "2024-03-31T00:00:00Z", b), "2024-05-31T00:00:00Z");
    /* leap day: next 29 February after 2024's is 2028's */
    T_EQ_STR(next("0 12 29 2 *", "2024-02-29T12:00:00Z", b), "2028-02-29T12:00:00Z");
    T_EQ_STR(next("0 0 30 2 *", "2024-01-01T00:00:00Z", b), "never");
}

static void test_aliases(void)
{
    char b[24];
    T_EQ_STR(next("@daily", "2024-03-10T00:00:00Z", b), "2024-03-11T00:00:00Z");
    T_EQ_STR(next("@hourly", "2024-03-10T23:00:00Z", b), "2024-03-11T00:00:00Z");
    T_EQ_STR(next("@weekly", "2024-03-10T00:00:00Z", b), "2024-03-17T00:00:00Z");
    T_EQ_STR(next("@monthly", "2024-12-15T00:00:00Z", b), "2025-01-01T00:00:00Z");
    T_EQ_STR(next("@yearly", "2024-12-15T00:00:00Z", b), "2025-01-01T00:00:00Z");
    T_EQ_STR(next("  @Daily ", "2024-03-10T00:00:00Z", b), "2024-03-11T00:00:00Z");
}

static void test_errors(void)
{
    static const struct {
        const char *expr, *msg;
    } cases[] = {
        {"", "expected 5 fields"},
        {"* * * *", "expected 5 fields (minute hour day month weekday), got 4"},
        {"* * * * * *", "more than 5 fields"},
        {"61 * * * *", "minute: 61 is outside 0..59"},
        {"* 24 * * *", "hour: 24 is outside 0..23"},
        {"* * 0 * *", "day-of-month: 0 is outside 1..31"},
        {"* * * 13 *", "month: 13 is outside 1..12"},
        {"* * * * 8", "day-of-week: 8 is outside 0..7"},
        {"5-1 * * * *", "minute: range 5-1 is reversed"},
        {"*/0 * * * *", "minute: step 0 is outside"},
        {"a * * * *", "minute: expected a number, got \"a\""},
        {"1,,2 * * * *", "minute: empty list item"},
        {"1, * * * *", "minute: trailing comma"},
        {"@often", "unknown alias \"@often\""},
        {"1x * * * *", "minute: unexpected \"x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mtr_cron c;
        char msg[160] = "";
        int rc = mtr_cron_parse(cases[i].expr, &c, msg, sizeof msg);
        T_EQ_INT(rc, MTR_EINVAL);
        if (!strstr(msg, cases[i].msg))
            t_fail(__FILE__, __LINE__, "\"%s\": message \"%s\" lacks \"%s\"", cases[i].expr, msg,
                   cases[i].msg);
    }
}

static void test_next_is_strictly_after_and_minute_aligned(void)
{
    struct mtr_cron c;
    T_EQ_INT(mtr_cron_parse("*/7 */3 * * *", &c, NULL, 0), 0);
    int64_t t = at("2024-01-01T00:00:00Z"), prev = t;
    for (int i = 0; i < 500; i++) {
        int64_t n;
        T_EQ_INT(mtr_cron_next(&c, prev, &n), 0);
        T_CHECK(n > prev);
        T_EQ_INT(n % 60, 0);
        int mi = (int)(n % 3600 / 60), h = (int)(n % 86400 / 3600);
        T_EQ_INT(mi % 7, 0);
        T_EQ_INT(h % 3, 0);
        prev = n;
    }
}

static void test_prev(void)
{
    struct mtr_cron c;
    int64_t t;
    char b[24];
    T_EQ_INT(mtr_cron_parse("30 0 * * *", &c, NULL, 0), 0);
    T_EQ_INT(mtr_cron_prev(&c, at("2024-03-04T00:10:00Z"), 86400 * 366, &t), 0);
    mtr_time_format(t, b);
    T_EQ_STR(b, "2024-03-03T00:30:00Z");
    T_EQ_INT(mtr_cron_prev(&c, at("2024-03-04T00:30:00Z"), 86400 * 366, &t), 0); /* inclusive */
    mtr_time_format(t, b);
    T_EQ_STR(b, "2024-03-04T00:30:00Z");
    T_EQ_INT(mtr_cron_parse("* * * * *", &c, NULL, 0), 0);
    T_EQ_INT(mtr_cron_prev(&c, at("2024-03-04T00:10:59Z"), 86400, &t), 0);
    mtr_time_format(t, b);
    T_EQ_STR(b, "2024-03-04T00:10:00Z");
    T_EQ_INT(mtr_cron_parse("0 0 1 1 *", &c, NULL, 0), 0);
    T_EQ_INT(mtr_cron_prev(&c, at("2024-03-04T00:10:00Z"), 86400 * 366, &t), 0);
    mtr_time_format(t, b);
    T_EQ_STR(b, "2024-01-01T00:00:00Z");
    T_EQ_INT(mtr_cron_prev(&c, at("2024-03-04T00:10:00Z"), 86400 * 30, &t), MTR_ENOTFOUND);
}

int main(void)
{
    T_RUN(test_prev);
    T_RUN(test_simple_fields);
    T_RUN(test_lists_ranges_steps);
    T_RUN(test_days);
    T_RUN(test_aliases);
    T_RUN(test_errors);
    T_RUN(test_next_is_strictly_after_and_minute_aligned);
    return T_END();
}
