/* test_detect.c - the streaming VEE detector on hand-made meter streams, rule by rule. */
#include "t.h"

#include "core/detect.h"
#include "core/quality.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z, a Thursday */
#define IV 900

static struct mtr_params P;

struct run {
    struct mtr_meter_state s;
    struct mtr_det_result res;
    int64_t ts;
};

static void start(struct run *r)
{
    mtr_params_default(&P);
    mtr_detect_init(&r->s, IV);
    r->ts = T0;
}

/* A plausible residential value for interval i: a daily shape with small deterministic wiggle. */
static double normal_value(int64_t ts)
{
    int h = (int)((ts % 86400) / 3600);
    double base = h >= 17 && h < 22 ? 0.45 : h >= 7 && h < 9 ? 0.30 : 0.12;
    return base * (1.0 + 0.08 * (double)((ts / IV) % 7) / 7.0);
}

static uint64_t feed(struct run *r, double kwh, double volts, double hz)
{
    struct mtr_reading rd;
    mtr_reading_init(&rd);
    snprintf(rd.meter_id, sizeof rd.meter_id, "M1");
    rd.ts = r->ts;
    rd.interval_s = IV;
    rd.kwh = kwh;
    rd.voltage_v = volts;
    rd.frequency_hz = hz;
    mtr_detect_step(&r->s, &P, MTR_METER_RESIDENTIAL, &rd, &r->res);
    r->ts += IV;
    return r->res.flags;
}

static void warm(struct run *r, int days)
{
    for (int i = 0; i < days * 96; i++)
        T_EQ_INT(feed(r, normal_value(r->ts), 230, 50.0), 0);
}

static int count_events(const struct mtr_det_result *res, enum mtr_det_event_kind k, int rule)
{
    int n = 0;
    for (int i = 0; i < res->n_events; i++)
        if (res->events[i].kind == k && (rule < 0 || (int)res->events[i].rule == rule))
            n++;
    return n;
}

static void test_clean_stream_raises_nothing(void)
{
    struct run r;
    start(&r);
    warm(&r, 14);
    T_EQ_INT(r.s.n_seen, 14 * 96);
    T_CHECK(r.s.days_seen >= 13);
    T_CHECK(r.s.third_mean > 0.4 && r.s.third_mean < 0.5);
}

static void test_gap_event_and_alert(void)
{
    struct run r;
    start(&r);
    warm(&r, 2);
    r.ts += 5 * IV; /* five intervals never arrive */
    feed(&r, normal_value(r.ts), 230, 50);
    T_EQ_INT(count_events(&r.res, MTR_EV_GAP, -1), 1);
    T_EQ_INT(count_events(&r.res, MTR_EV_ALERT, MTR_R_GAP), 1);
    for (int i = 0; i < r.res.n_events; i++) {
        if (r.res.events[i].kind == MTR_EV_GAP) {
            T_EQ_INT(r.res.events[i].count, 5);
            T_EQ_INT(r.res.events[i].to - r.res.events[i].from, 4 * IV);
        }
    }
}

static void test_spike(void)
{
    struct run r;
    start(&r);
    warm(&r, 3);
    uint64_t f = feed(&r, 5.0, 230, 50);
    T_CHECK(f & mtr_rule_bit(MTR_R_SPIKE));
    T_EQ_INT(r.res.quality_code, MTR_Q_QUESTIONABLE);
    T_EQ_INT(count_events(&r.res, MTR_EV_ALERT, MTR_R_SPIKE), 1);
    /* a high but ordinary evening value is not a spike */
    f = feed(&r, 0.9, 230, 50);
    T_CHECK(!(f & mtr_rule_bit(MTR_R_SPIKE)));
}

static void test_frozen_run_flags_back_to_its_start(void)
{
    struct run r;
    start(&r);
    warm(&r, 2);
    int64_t first = r.ts;
    T_EQ_INT(feed(&r, 0.3333, 230, 50), 0);
    T_EQ_INT(feed(&r, 0.3333, 230, 50), 0);
    uint64_t f = feed(&r, 0.3333, 230, 50);
    T_CHECK(f & mtr_rule_bit(MTR_R_FROZEN));
    int flagged = 0;
    for (int i = 0; i < r.res.n_events; i++) {
        const struct mtr_det_event *ev = &r.res.events[i];
        if (ev->kind == MTR_EV_FLAG) {
            flagged = 1;
            T_EQ_INT(ev->from, first);
            T_EQ_INT(ev->to, first + IV);
            T_EQ_INT(ev->set_code, MTR_Q_QUESTIONABLE);
        }
    }
    T_CHECK(flagged);
    /* the run continues as one alert, and closes when the value moves */
    T_CHECK(feed(&r, 0.3333, 230, 50) & mtr_rule_bit(MTR_R_FROZEN));
    T_EQ_INT(count_events(&r.res, MTR_EV_ALERT, -1), 0);
    feed(&r, 0.21, 230, 50);
    T_EQ_INT(count_events(&r.res, MTR_EV_ALERT, MTR_R_FROZEN), 1);
    T_EQ_INT(r.res.events[0].count, 4);
    /* zeros never count as frozen */
    feed(&r, 0, 230, 50);
    feed(&r, 0, 230, 50);
    T_CHECK(!(feed(&r, 0, 230, 50) & mtr_rule_bit(MTR_R_FROZEN)));
}

static void test_zero_run_only_where_use_is_expected(void)
{
    struct run r;
    start(&r);
    warm(&r, 15);
    int64_t first = r.ts;
    uint64_t f = 0;
    for (int i = 0; i < 7; i++)
        f |= feed(&r, 0, 230, 50);
    T_CHECK(!(f & mtr_rule_bit(MTR_R_ZERO_RUN))); /* 1 h 45 min: not yet */
    f = feed(&r, 0, 230, 50);                     /* 2 h */
    T_CHECK(f & mtr_rule_bit(MTR_R_ZERO_RUN));
    T_EQ_INT(r.res.quality_code, MTR_Q_VALID); /* a zero is plausible: alert, not invalid */
    int back = 0;
    for (int i = 0; i < r.res.n_events; i++)
        if (r.res.events[i].kind == MTR_EV_FLAG) {
            back = 1;
            T_EQ_INT(r.res.events[i].from, first);
        }
    T_CHECK(back);

    /* a zero-heavy meter (zeros most of the time, short blips) raises no zero run */
    struct run z;
    start(&z);
    f = 0;
    for (int d = 0; d < 20; d++)
        for (int i = 0; i < 96; i++)
            f |= feed(&z, (i % 24 == 5) ? 0.17 : 0.0, 230, 50);
    T_CHECK(!(f & mtr_rule_bit(MTR_R_ZERO_RUN)));
    T_CHECK(!(f & mtr_rule_bit(MTR_R_SPIKE)));
    T_CHECK(z.s.zero_share > 0.9);
}

static void test_negative_and_counter_reset(void)
{
    struct run r;
    start(&r);
    warm(&r, 1);
    T_CHECK(feed(&r, -0.2, 230, 50) & mtr_rule_bit(MTR_R_CONSUMPTION_NEGATIVE));
    T_CHECK(feed(&r, -12345.6, 230, 50) & mtr_rule_bit(MTR_R_COUNTER_RESET));
    T_EQ_INT(r.res.quality_code, MTR_Q_QUESTIONABLE);
    T_CHECK(feed(&r, 100.0, 230, 50) & mtr_rule_bit(MTR_R_CONSUMPTION_MAX)); /* 400 kW */
}

static void test_electrical_alerts_merge_while_they_persist(void)
{
    struct run r;
    start(&r);
    warm(&r, 1);
    T_CHECK(feed(&r, 0.21, 190, 50) & mtr_rule_bit(MTR_R_VOLTAGE_SAG));
    T_EQ_INT(count_events(&r.res, MTR_EV_ALERT, MTR_R_VOLTAGE_SAG), 1); /* opened */
    feed(&r, 0.22, 185, 50);
    T_EQ_INT(count_events(&r.res, MTR_EV_ALERT, MTR_R_VOLTAGE_SAG), 0); /* grown, not new */
    feed(&r, 0.23, 231, 50);
    T_EQ_INT(count_events(&r.res, MTR_EV_ALERT, MTR_R_VOLTAGE_SAG), 1); /* closed */
    T_EQ_INT(r.res.events[0].count, 2);
    T_EQ_DBL(r.res.events[0].value, 185, 1e-3);
    T_CHECK(feed(&r, 0.24, 260, 50) & mtr_rule_bit(MTR_R_VOLTAGE_SWELL));
    T_CHECK(feed(&r, 0.25, 230, 49.7) & mtr_rule_bit(MTR_R_FREQUENCY_EXCURSION));
    T_CHECK(!(feed(&r, 0.26, 230, 49.85) & mtr_rule_bit(MTR_R_FREQUENCY_EXCURSION)));
    T_CHECK(feed(&r, 0.27, 1200, 50) & mtr_rule_bit(MTR_R_VOLTAGE_RANGE));
    T_CHECK(feed(&r, 0.28, 230, 60) & mtr_rule_bit(MTR_R_FREQUENCY_RANGE));
}

static void test_validate_reading(void)
{
    struct mtr_reading rd;
    char msg[128];
    mtr_params_default(&P);
    mtr_reading_init(&rd);
    rd.kwh = 1;
    rd.interval_s = IV;
    rd.ts = T0;
    T_EQ_INT(mtr_validate_reading(&rd, &P, T0 + 86400, msg, sizeof msg), -1);
    rd.ts = T0 + 60;
    T_EQ_INT(mtr_validate_reading(&rd, &P, T0 + 86400, msg, sizeof msg), MTR_R_INTERVAL_SIZE);
    rd.ts = T0;
    rd.interval_s = 7 * 60;
    T_EQ_INT(mtr_validate_reading(&rd, &P, T0 + 86400, msg, sizeof msg), MTR_R_INTERVAL_SIZE);
    rd.interval_s = IV;
    rd.ts = 900000000;
    T_EQ_INT(mtr_validate_reading(&rd, &P, T0, msg, sizeof msg), MTR_R_TIME_ANCIENT);
    rd.ts = T0 + 2 * 86400;
    T_EQ_INT(mtr_validate_reading(&rd, &P, T0, msg, sizeof msg), MTR_R_TIME_FUTURE);
    T_CHECK(strstr(msg, "future") != NULL);
}

static void test_how_slot(void)
{
    T_EQ_INT(mtr_how_slot(T0), 3 * 24);                      /* Thursday 00:00 */
    T_EQ_INT(mtr_how_slot(T0 + 4 * 86400 + 3600), 1);        /* Monday 01:00 */
    T_EQ_INT(mtr_how_slot(T0 + 3 * 86400 + 23 * 3600), 167); /* Sunday 23:00 */
    T_EQ_INT(mtr_day_start(T0 + 5000), T0);
}

static void test_quality_scores(void)
{
    struct mtr_day_quality q;
    mtr_day_quality_compute(&q, 96, 90, 2, 4, 1, 92.0);
    T_EQ_INT(q.received, 92);
    T_EQ_INT(q.missing, 0);
    T_EQ_DBL(q.completeness, 94.0 / 96.0, 1e-12);
    T_EQ_DBL(q.validity, 90.0 / 92.0, 1e-12);
    T_EQ_DBL(q.consistency, 91.0 / 92.0, 1e-12);
    T_EQ_DBL(q.timeliness, 1.0, 1e-12);
    T_EQ_DBL(q.score, 0.3 * 94.0 / 96 + 0.3 * 90.0 / 92 + 0.3 * 91.0 / 92 + 0.1, 1e-12);
    T_EQ_INT(mtr_tier_from_score(q.score), MTR_TIER_EXCELLENT);
    T_EQ_INT(mtr_tier_from_score(0.85), MTR_TIER_GOOD);
    T_EQ_INT(mtr_tier_from_score(0.7), MTR_TIER_FAIR);
    T_EQ_INT(mtr_tier_from_score(0.69), MTR_TIER_POOR);
    T_EQ_INT(mtr_tier_from_score(NAN), MTR_TIER_UNKNOWN);
    mtr_day_quality_compute(&q, 48, 0, 0, 0, 0, 0);
    T_EQ_DBL(q.score, 0, 0);
    T_EQ_INT(q.missing, 48);
    T_EQ_DBL(mtr_timeliness(60), 1.0, 0);
    T_EQ_DBL(mtr_timeliness(2 * 86400), 0.6, 0);
    T_EQ_DBL(mtr_timeliness(30 * 86400), 0.2, 0);
    T_EQ_DBL(mtr_reading_score(MTR_Q_EST_INTERPOLATION, 0), 0.8, 1e-12);
    T_EQ_DBL(mtr_reading_score(MTR_Q_VALID, mtr_rule_bit(MTR_R_VOLTAGE_SAG)), 0.9, 1e-12);
}

int main(void)
{
    T_RUN(test_clean_stream_raises_nothing);
    T_RUN(test_gap_event_and_alert);
    T_RUN(test_spike);
    T_RUN(test_frozen_run_flags_back_to_its_start);
    T_RUN(test_zero_run_only_where_use_is_expected);
    T_RUN(test_negative_and_counter_reset);
    T_RUN(test_electrical_alerts_merge_while_they_persist);
    T_RUN(test_validate_reading);
    T_RUN(test_how_slot);
    T_RUN(test_quality_scores);
    return T_END();
}
