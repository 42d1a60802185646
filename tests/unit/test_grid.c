/* test_grid.c - grid conditions and levels, the alert state machine on simulated incidents
 * (frequency excursion, load ramp past 95 %), windowed metrics, risk and health. */
#include "core/grid.h"

#include "t.h"

#define T0 1356998400 /* 2013-01-01 */

static struct mtr_grid_status rec(int64_t ts, double f, double kv, double load, double stab)
{
    struct mtr_grid_status g;
    mtr_grid_status_init(&g);
    strcpy(g.operator_id, "TSO-1");
    g.ts = ts;
    g.frequency_hz = f;
    g.voltage_kv = kv;
    g.load_mw = load;
    g.stability = stab;
    return g;
}

static void test_evaluate(void)
{
    struct mtr_grid_limits l;
    struct mtr_grid_eval e;
    mtr_grid_limits_default(&l);
    struct mtr_grid_status g = rec(T0, 50.0, 380, 500, 0.9);
    mtr_grid_evaluate(&g, 380, 1000, &l, &e);
    for (int c = 0; c < MTR_GC_COUNT; c++) {
        T_EQ_INT(e.known[c], 1);
        T_EQ_INT(e.active[c], 0);
    }
    g = rec(T0, 49.7, 430, 920, 0.65);
    mtr_grid_evaluate(&g, 380, 1000, &l, &e);
    T_EQ_INT(e.active[MTR_GC_FREQUENCY], 1);
    T_EQ_INT(e.level[MTR_GC_FREQUENCY], MTR_LEVEL_HIGH);
    T_EQ_DBL(e.value[MTR_GC_FREQUENCY], -0.3, 1e-9);
    T_EQ_INT(e.active[MTR_GC_VOLTAGE_HIGH], 1); /* > 418 kV */
    T_EQ_INT(e.level[MTR_GC_VOLTAGE_HIGH], MTR_LEVEL_HIGH);
    T_EQ_INT(e.active[MTR_GC_VOLTAGE_LOW], 0);
    T_EQ_INT(e.level[MTR_GC_LOAD_HIGH], MTR_LEVEL_HIGH);
    T_EQ_INT(e.level[MTR_GC_STABILITY_LOW], MTR_LEVEL_HIGH);
    g = rec(T0, 50.6, 320, 960, 0.4);
    mtr_grid_evaluate(&g, 380, 1000, &l, &e);
    T_EQ_INT(e.level[MTR_GC_FREQUENCY], MTR_LEVEL_CRITICAL);
    T_EQ_INT(e.active[MTR_GC_VOLTAGE_LOW], 1); /* < 323 kV: critical */
    T_EQ_INT(e.level[MTR_GC_VOLTAGE_LOW], MTR_LEVEL_CRITICAL);
    T_EQ_INT(e.level[MTR_GC_LOAD_HIGH], MTR_LEVEL_CRITICAL);
    T_EQ_INT(e.level[MTR_GC_STABILITY_LOW], MTR_LEVEL_CRITICAL);
    /* implausible frequency, unknown voltage level and capacity: not evaluated */
    g = rec(T0, 60, 400, 500, NAN);
    mtr_grid_evaluate(&g, NAN, NAN, &l, &e);
    for (int c = 0; c < MTR_GC_COUNT; c++)
        T_EQ_INT(e.known[c], 0);
    /* the record's own capacity wins over the operator's */
    g = rec(T0, 50, NAN, 500, NAN);
    g.capacity_mw = 520;
    mtr_grid_evaluate(&g, NAN, 10000, &l, &e);
    T_EQ_INT(e.active[MTR_GC_LOAD_HIGH], 1);
    T_EQ_INT(mtr_grid_cond_rule(MTR_GC_LOAD_HIGH), MTR_R_GRID_LOAD_HIGH);
    T_EQ_STR(mtr_rule(MTR_R_GRID_FREQUENCY_DEVIATION)->name, "grid.frequency_deviation");
    T_EQ_INT(mtr_rule_parse("grid.stability_low"), MTR_R_GRID_STABILITY_LOW);
}

static void test_frequency_excursion(void)
{
    /* one record a minute for an hour; 49.7 Hz from minute 10 to 14: one alert [10, 15) */
    static struct mtr_grid_status r[60];
    for (int i = 0; i < 60; i++)
        r[i] = rec(T0 + 60 * i, i >= 10 && i < 15 ? 49.7 - 0.01 * i : 50.01, 380, 500, 0.9);
    struct mtr_operator op = {.id = "TSO-1", .voltage_kv = 380, .capacity_mw = 1000};
    struct mtr_grid_window w[2];
    struct mtr_grid_alert a[4];
    size_t nw, na;
    T_EQ_INT(mtr_grid_analyze(r, 60, &op, NULL, T0, 86400, w, 2, &nw, a, 4, &na, NULL), MTR_OK);
    T_EQ_INT(na, 1);
    T_EQ_INT(a[0].rule, MTR_R_GRID_FREQUENCY_DEVIATION);
    T_EQ_INT(a[0].start, T0 + 600);
    T_EQ_INT(a[0].end, T0 + 900);
    T_EQ_INT(a[0].last_seen, T0 + 840);
    T_EQ_INT(a[0].records, 5);
    T_EQ_INT(a[0].level, MTR_LEVEL_HIGH);
    T_EQ_DBL(a[0].worst, 49.7 - 0.14 - 50, 1e-9);
    T_EQ_STR(a[0].operator_id, "TSO-1");
    T_EQ_INT(nw, 1);
    T_EQ_INT(w[0].records, 60);
    T_EQ_DBL(w[0].stability_pct, 100.0 * 55 / 60, 1e-9);
    T_EQ_DBL(w[0].util_mean, 0.5, 1e-12);
    T_EQ_DBL(w[0].f_dev_max, 0.01, 1e-9);
    T_EQ_DBL(w[0].warning_pct, 100.0 * 5 / 60, 1e-9);
    T_EQ_INT(w[0].risk, MTR_RISK_LOW); /* 8.3 % warning (< 10), 0 % critical */
}

static void test_load_ramp(void)
{
    /* load ramps 80 -> 99 % and back in 1 % steps every 15 min: high above 90 %, critical above
     * 95 %, one alert escalating then closing */
    struct mtr_grid_alerter st;
    struct mtr_grid_limits l;
    struct mtr_grid_event ev[MTR_GC_COUNT];
    mtr_grid_limits_default(&l);
    mtr_grid_alerter_init(&st, "TSO-2");
    int opened = 0, escalated = 0, closed = 0;
    int64_t start = 0, end = 0, esc_at = 0;
    enum mtr_level final = MTR_LEVEL_LOW;
    for (int i = 0; i <= 38; i++) {
        double pct = i <= 19 ? 80 + i : 118 - i;
        struct mtr_grid_status g = rec(T0 + 900 * i, 50, NAN, pct * 10, NAN);
        struct mtr_grid_eval e;
        mtr_grid_evaluate(&g, NAN, 1000, &l, &e);
        int k = mtr_grid_alerter_feed(&st, g.ts, &e, ev);
        for (int j = 0; j < k; j++) {
            T_EQ_INT(ev[j].alert.rule, MTR_R_GRID_LOAD_HIGH);
            if (ev[j].kind == MTR_GA_OPENED) {
                opened++;
                start = ev[j].alert.start;
            } else if (ev[j].kind == MTR_GA_ESCALATED) {
                escalated++;
                esc_at = g.ts;
            } else {
                closed++;
                end = ev[j].alert.end;
                final = ev[j].alert.level;
            }
        }
    }
    T_EQ_INT(opened, 1);
    T_EQ_INT(escalated, 1);
    T_EQ_INT(closed, 1);
    T_EQ_INT(start, T0 + 900 * 11);  /* 91 % */
    T_EQ_INT(esc_at, T0 + 900 * 16); /* 96 % */
    T_EQ_INT(end, T0 + 900 * 28);    /* back to 90 %: cleared */
    T_EQ_INT(final, MTR_LEVEL_CRITICAL);
    T_EQ_INT(st.open[MTR_GC_LOAD_HIGH], 0);
}

static void test_unknown_keeps_state(void)
{
    struct mtr_grid_alerter st;
    struct mtr_grid_limits l;
    struct mtr_grid_event ev[MTR_GC_COUNT];
    struct mtr_grid_eval e;
    mtr_grid_limits_default(&l);
    mtr_grid_alerter_init(&st, "X");
    struct mtr_grid_status g = rec(T0, 49.0, NAN, NAN, NAN);
    mtr_grid_evaluate(&g, NAN, NAN, &l, &e);
    T_EQ_INT(mtr_grid_alerter_feed(&st, g.ts, &e, ev), 1);
    T_EQ_INT(ev[0].alert.level, MTR_LEVEL_CRITICAL);
    g = rec(T0 + 60, NAN, NAN, NAN, NAN); /* no frequency: neither persists nor clears */
    mtr_grid_evaluate(&g, NAN, NAN, &l, &e);
    T_EQ_INT(mtr_grid_alerter_feed(&st, g.ts, &e, ev), 0);
    T_EQ_INT(st.open[MTR_GC_FREQUENCY], 1);
    g = rec(T0 + 120, 49.1, NAN, NAN, NAN); /* persists, lower level: no new event */
    mtr_grid_evaluate(&g, NAN, NAN, &l, &e);
    T_EQ_INT(mtr_grid_alerter_feed(&st, g.ts, &e, ev), 0);
    T_EQ_INT(st.cur[MTR_GC_FREQUENCY].records, 2);
}

static void test_windows_risk_health(void)
{
    /* two days; day 2 has 10 % critical records -> high risk, critical health */
    static struct mtr_grid_status r[48];
    for (int i = 0; i < 48; i++)
        r[i] = rec(T0 + 3600 * i, 50, 380, i >= 24 && i < 27 ? 970 : 600, 0.95);
    struct mtr_operator op = {.id = "TSO-1", .voltage_kv = 380, .capacity_mw = 1000};
    struct mtr_grid_window w[2];
    struct mtr_grid_alert a[4];
    size_t nw, na;
    T_EQ_INT(mtr_grid_analyze(r, 48, &op, NULL, T0, 86400, w, 2, &nw, a, 4, &na, NULL), MTR_OK);
    T_EQ_INT(nw, 2);
    T_EQ_INT(w[0].risk, MTR_RISK_LOW);
    T_EQ_INT(mtr_grid_health(&w[0], T0 + 86400), MTR_HEALTH_HEALTHY);
    T_EQ_INT(w[1].critical_records, 3);
    T_EQ_INT(w[1].risk, MTR_RISK_HIGH);
    T_EQ_DBL(w[1].util_max, 0.97, 1e-12);
    T_EQ_INT(mtr_grid_health(&w[1], T0 + 2 * 86400), MTR_HEALTH_CRITICAL);
    T_EQ_INT(mtr_grid_health(&w[1], T0 + 5 * 86400), MTR_HEALTH_INACTIVE);
    T_EQ_INT(na, 1);
    T_EQ_INT(a[0].end, T0 + 27 * 3600);
    /* too few windows, out of order */
    T_EQ_INT(mtr_grid_analyze(r, 48, &op, NULL, T0, 86400, w, 1, &nw, a, 4, &na, NULL), MTR_ERANGE);
    T_EQ_INT(mtr_grid_analyze(r + 1, 47, &op, NULL, T0 + 7200, 86400, w, 2, &nw, a, 4, &na, NULL),
             MTR_EINVAL);
    struct mtr_grid_window empty;
    mtr_grid_window_init(&empty, T0, T0 + 86400);
    mtr_grid_window_finish(&empty);
    T_EQ_INT(mtr_grid_health(&empty, T0), MTR_HEALTH_UNKNOWN);
    T_CHECK(isnan(empty.stability_pct));
    T_EQ_STR(mtr_grid_risk_name(MTR_RISK_HIGH), "high");
}

static void test_performance(void)
{
    struct mtr_grid_window w;
    struct mtr_grid_perf p;
    mtr_grid_window_init(&w, 0, 86400);
    mtr_grid_window_finish(&w);
    mtr_grid_performance(&w, 380, &p);
    T_CHECK(isnan(p.score));
    T_EQ_STR(p.performance, "unknown");
    /* hand-made window: mean deviation 0.3 Hz (80), voltage 400/380 = +5.26 % (80), stability
     * 92 %, one critical record in 200 (0.5 %), utilisation 0.8 */
    w.records = 200;
    w.freq_records = 200;
    w.in_band = 184;
    w.f_sum = 0.3 * 200;
    w.critical_records = 1;
    w.u_sum = 0.8 * 200;
    w.u_n = 200;
    w.v_sum = 400.0 * 200;
    w.v_n = 200;
    mtr_grid_window_finish(&w);
    T_EQ_DBL(w.stability_pct, 92.0, 1e-12);
    T_EQ_DBL(w.voltage_mean, 400.0, 1e-12);
    mtr_grid_performance(&w, 380, &p);
    T_EQ_DBL(p.frequency_score, 80, 0);
    T_EQ_DBL(p.voltage_score, 80, 0);
    T_EQ_DBL(p.score, 0.3 * 80 + 0.3 * 80 + 0.4 * 92, 1e-12); /* 84.8 */
    T_EQ_STR(p.performance, "good");
    T_EQ_STR(p.utilization_tier, "optimal");
    T_EQ_STR(p.reliability, "good");
    T_EQ_STR(p.stability_class, "stable");
    /* band edges: exactly 50.2 Hz is inside the normal band; no voltage level rescales */
    w.f_sum = (50.2 - 50.0) * 200;
    mtr_grid_window_finish(&w);
    mtr_grid_performance(&w, NAN, &p);
    T_EQ_DBL(p.frequency_score, 100, 0);
    T_CHECK(isnan(p.voltage_score));
    T_EQ_DBL(p.score, (0.3 * 100 + 0.4 * 92) / 0.7, 1e-9);
    w.u_sum = 0.97 * 200;
    w.in_band = 130; /* 65 % */
    mtr_grid_window_finish(&w);
    mtr_grid_performance(&w, 380, &p);
    T_EQ_STR(p.utilization_tier, "acceptable");
    T_EQ_STR(p.reliability, "critical");
    T_EQ_STR(p.stability_class, "very_unstable");
}

int main(void)
{
    T_RUN(test_performance);
    T_RUN(test_evaluate);
    T_RUN(test_frequency_excursion);
    T_RUN(test_load_ramp);
    T_RUN(test_unknown_keeps_state);
    T_RUN(test_windows_risk_health);
    return T_END();
}
