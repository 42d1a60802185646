/*
 * test_sim.c - unit tests of the fleet simulator (core/sim.h): determinism, load shapes, the exact
 * fault definitions against their labels (a faulty run checked against the clean run of the same
 * seed), bounded memory, and the properties of a clean fleet that the detectors rely on.
 */
#include <stdlib.h>
#include <string.h>

#include "core/sim.h"
#include "t.h"

struct fleet {
    struct mtr_sim_config cfg;
    struct mtr_sim_meter *meters;
    struct mtr_reading *buf;
    struct mtr_sim sim;
    size_t n;
};

static int fleet_open(struct fleet *f, size_t n, int days, double rate, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    mtr_sim_config_default(&f->cfg);
    f->cfg.days = days;
    f->cfg.fault_rate = rate;
    f->cfg.seed = seed;
    f->n = n;
    f->meters = calloc(n, sizeof *f->meters);
    f->buf = calloc(n, sizeof *f->buf);
    if (!f->meters || !f->buf)
        return MTR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        mtr_sim_make_meter(&f->cfg, (uint32_t)i, &f->meters[i]);
    return mtr_sim_init(&f->sim, &f->cfg, f->meters, n, NULL);
}

static void fleet_close(struct fleet *f)
{
    mtr_sim_free(&f->sim);
    free(f->meters);
    free(f->buf);
}

static void test_prng_determinism(void)
{
    struct fleet a, b, c;
    T_EQ_INT(fleet_open(&a, 20, 3, 3.0, 7), 0);
    T_EQ_INT(fleet_open(&b, 20, 3, 3.0, 7), 0);
    T_EQ_INT(fleet_open(&c, 20, 3, 3.0, 8), 0);
    size_t na, nb, nc;
    int differ = 0;
    while (mtr_sim_next_interval(&a.sim, a.buf, a.n, &na) == 1) {
        T_EQ_INT(mtr_sim_next_interval(&b.sim, b.buf, b.n, &nb), 1);
        T_EQ_INT(mtr_sim_next_interval(&c.sim, c.buf, c.n, &nc), 1);
        T_EQ_INT(na, nb);
        for (size_t i = 0; i < na && i < nb; i++) {
            T_CHECK(strcmp(a.buf[i].meter_id, b.buf[i].meter_id) == 0);
            T_CHECK(a.buf[i].kwh == b.buf[i].kwh && a.buf[i].voltage_v == b.buf[i].voltage_v);
            T_CHECK(a.buf[i].frequency_hz == b.buf[i].frequency_hz);
        }
        if (na == nc && a.buf[0].kwh != c.buf[0].kwh)
            differ = 1;
    }
    T_CHECK(differ);
    fleet_close(&a);
    fleet_close(&b);
    fleet_close(&c);

    /* a meter does not depend on the fleet size */
    struct fleet s, l;
    T_EQ_INT(fleet_open(&s, 5, 2, 0, 3), 0);
    T_EQ_INT(fleet_open(&l, 40, 2, 0, 3), 0);
    T_EQ_STR(s.meters[4].info.id, "SM000004");
    T_EQ_DBL(s.meters[4].daily_kwh, l.meters[4].daily_kwh, 0);
    size_t ns, nl;
    while (mtr_sim_next_interval(&s.sim, s.buf, s.n, &ns) == 1) {
        mtr_sim_next_interval(&l.sim, l.buf, l.n, &nl);
        T_EQ_DBL(s.buf[4].kwh, l.buf[4].kwh, 0);
    }
    fleet_close(&s);
    fleet_close(&l);
}

static void test_config_and_calendar(void)
{
    struct mtr_sim_config c;
    mtr_sim_config_default(&c);
    T_EQ_INT(mtr_sim_config_check(&c, NULL), 0);
    T_EQ_INT(c.start, 1767225600); /* 2026-01-01T00:00:00Z */
    c.interval_s = 700;
    T_EQ_INT(mtr_sim_config_check(&c, NULL), MTR_EINVAL);
    c.interval_s = 7200;
    T_EQ_INT(mtr_sim_config_check(&c, NULL), MTR_EINVAL);
    mtr_sim_config_default(&c);
    c.days = 0;
    T_EQ_INT(mtr_sim_config_check(&c, NULL), MTR_EINVAL);
    int y, m, d;
    mtr_sim_civil_from_days(mtr_sim_days_from_civil(2028, 2, 29), &y, &m, &d);
    T_CHECK(y == 2028 && m == 2 && d == 29);
    T_EQ_STR(mtr_sim_fault_name(MTR_SIM_FREQ_EXCURSION), "frequency_excursion");
    T_EQ_STR(mtr_sim_fault_name(MTR_SIM_COUNTER_RESET), "counter_reset");
    T_CHECK(mtr_sim_fault_name(MTR_SIM_FAULT_COUNT) == NULL);
}

/* Residential evening > night, commercial weekday noon > Sunday noon, over a clean fleet. */
static void test_load_shapes(void)
{
    struct fleet f;
    T_EQ_INT(fleet_open(&f, 200, 14, 0, 1), 0);
    double res_evening = 0, res_night = 0, com_wed = 0, com_sun = 0;
    size_t n;
    int64_t wed_noon = 1767225600 + 6 * 86400 + 11 * 3600; /* Wed 2026-01-07 12:00 CET */
    int64_t sun_noon = 1767225600 + 3 * 86400 + 11 * 3600; /* Sun 2026-01-04 12:00 CET */
    while (mtr_sim_next_interval(&f.sim, f.buf, f.n, &n) == 1) {
        int64_t ts = mtr_sim_time(&f.sim);
        int h = (int)((ts % 86400) / 3600);
        for (size_t i = 0; i < n; i++) {
            const struct mtr_sim_meter *m = &f.meters[i];
            if (m->info.type == MTR_METER_RESIDENTIAL && h == 18)
                res_evening += f.buf[i].kwh;
            if (m->info.type == MTR_METER_RESIDENTIAL && h == 2)
                res_night += f.buf[i].kwh;
            if (m->info.type == MTR_METER_COMMERCIAL && ts == wed_noon)
                com_wed += f.buf[i].kwh;
            if (m->info.type == MTR_METER_COMMERCIAL && ts == sun_noon)
                com_sun += f.buf[i].kwh;
        }
    }
    printf("  residential 19h/03h local: %.2f; commercial Wed/Sun noon: %.2f\n",
           res_evening / res_night, com_wed / com_sun);
    T_CHECK(res_evening > 1.5 * res_night);
    T_CHECK(com_wed > 2.0 * com_sun);
    fleet_close(&f);
}

/* 3rd-highest of the non-NAN values in w[0..n). */
static double third_highest(const double *w, int n)
{
    double a = -1e300, b = -1e300, c = -1e300;
    for (int i = 0; i < n; i++) {
        double x = w[i];
        if (isnan(x))
            continue;
        if (x > a) {
            c = b;
            b = a;
            a = x;
        } else if (x > b) {
            c = b;
            b = x;
        } else if (x > c) {
            c = x;
        }
    }
    return c;
}

/* Clean fleet (no faults): no triples, no spikes, nothing <= 0, V and Hz inside their bands. */
static void test_clean_fleet_properties(void)
{
    struct fleet f;
    T_EQ_INT(fleet_open(&f, 200, 14, 0, 1), 0);
    int pd = 96;
    double *win = malloc(sizeof(double) * 200 * (size_t)pd);
    double *p1 = calloc(200, sizeof(double)), *p2 = calloc(200, sizeof(double));
    for (int i = 0; i < 200 * pd; i++)
        win[i] = NAN;
    long triples = 0, spikes = 0, nonpos = 0, vout = 0, fout = 0, rows = 0, k = 0;
    double worst = 0;
    size_t n;
    while (mtr_sim_next_interval(&f.sim, f.buf, f.n, &n) == 1) {
        T_EQ_INT(n, 200);
        for (size_t i = 0; i < n; i++) {
            double x = f.buf[i].kwh;
            double *w = win + i * (size_t)pd;
            rows++;
            if (x <= 0)
                nonpos++;
            if (k >= 2 && x == p1[i] && x == p2[i])
                triples++;
            if (k >= pd) {
                double ref = third_highest(w, pd);
                if (x > 4 * ref)
                    spikes++;
                if (x / ref > worst)
                    worst = x / ref;
            }
            if (f.buf[i].voltage_v < 207 || f.buf[i].voltage_v > 253)
                vout++;
            if (f.buf[i].frequency_hz < 49.8 || f.buf[i].frequency_hz > 50.2)
                fout++;
            p2[i] = p1[i];
            p1[i] = x;
            w[k % pd] = x;
        }
        k++;
    }
    printf("  clean fleet 200 x 14 d: %ld rows, %ld triples, %ld spikes (max ratio to 3rd-highest "
           "of 24 h %.2f), %ld <= 0, %ld V out of 207-253, %ld Hz out of 49.8-50.2\n",
           rows, triples, spikes, worst, nonpos, vout, fout);
    T_EQ_INT(rows, 200 * 14 * 96);
    T_EQ_INT(triples, 0);
    T_EQ_INT(spikes, 0);
    T_EQ_INT(nonpos, 0);
    T_EQ_INT(vout, 0);
    T_EQ_INT(fout, 0);
    T_CHECK(worst < 3.0);
    free(win);
    free(p1);
    free(p2);
    fleet_close(&f);
}

static void test_memory_independent_of_days(void)
{
    struct fleet a, b;
    T_EQ_INT(fleet_open(&a, 10, 1, 1.0, 1), 0);
    T_EQ_INT(fleet_open(&b, 10, 400, 1.0, 1), 0);
    T_EQ_INT(mtr_sim_state_bytes(&a.sim), mtr_sim_state_bytes(&b.sim));
    size_t n, before = mtr_sim_state_bytes(&b.sim);
    long intervals = 0;
    while (mtr_sim_next_interval(&b.sim, b.buf, b.n, &n) == 1)
        intervals++;
    T_EQ_INT(intervals, 400L * 96);
    T_EQ_INT(mtr_sim_state_bytes(&b.sim), before);
    T_EQ_INT(mtr_sim_next_interval(&b.sim, b.buf, b.n, &n), 0);
    T_EQ_INT(mtr_sim_next_interval(&a.sim, a.buf, 3, &n), MTR_ERANGE);
    fleet_close(&a);
    fleet_close(&b);
}

/* The faulty run against the clean run of the same seed: every labelled interval shows its fault
 * exactly, every unlabelled one equals the clean data (kWh up to the 1e-4 de-duplication nudge). */
static void test_fault_definitions(void)
{
    enum { N = 80, DAYS = 30, PD = 96 };
    struct fleet f, c;
    T_EQ_INT(fleet_open(&f, N, DAYS, 2.0, 11), 0);
    T_EQ_INT(fleet_open(&c, N, DAYS, 0.0, 11), 0);
    struct mtr_sim_label cur[N], last[N];
    double prev[N], win[N][PD];
    long per_type[MTR_SIM_FAULT_COUNT] = {0}, bad_frozen = 0, bad_other = 0;
    int64_t len_min[MTR_SIM_FAULT_COUNT], len_max[MTR_SIM_FAULT_COUNT];
    for (int t = 0; t < MTR_SIM_FAULT_COUNT; t++) {
        len_min[t] = 1000;
        len_max[t] = 0;
    }
    for (int i = 0; i < N; i++) {
        cur[i].fault = last[i].fault = -1;
        last[i].end = INT64_MIN / 2;
        prev[i] = NAN;
        for (int j = 0; j < PD; j++)
            win[i][j] = NAN;
    }
    size_t nf, nc;
    int64_t k = 0;
    const int64_t iv = 900, start = f.cfg.start;
    while (mtr_sim_next_interval(&f.sim, f.buf, f.n, &nf) == 1) {
        T_EQ_INT(mtr_sim_next_interval(&c.sim, c.buf, c.n, &nc), 1);
        int64_t ts = mtr_sim_time(&f.sim);
        size_t nl;
        const struct mtr_sim_label *l = mtr_sim_labels(&f.sim, &nl);
        for (size_t j = 0; j < nl; j++) {
            int m = (int)l[j].meter;
            T_EQ_INT(l[j].start, ts);
            T_CHECK(l[j].start >= start + 86400);
            T_CHECK(l[j].end < start + (int64_t)DAYS * 86400);
            T_CHECK(l[j].start - last[m].end >= 25 * iv); /* >= 24 clean intervals apart */
            T_CHECK(cur[m].fault < 0 || cur[m].end < ts);
            int64_t len = (l[j].end - l[j].start) / iv + 1;
            if (len < len_min[l[j].fault])
                len_min[l[j].fault] = len;
            if (len > len_max[l[j].fault])
                len_max[l[j].fault] = len;
            cur[m] = l[j];
            last[m] = l[j];
            per_type[l[j].fault]++;
        }
        size_t ng;
        const struct mtr_grid_status *g = mtr_sim_grid(&f.sim, &ng);
        T_EQ_INT(ng, MTR_SIM_OPERATORS);
        size_t fi = 0;
        for (int m = 0; m < N; m++) {
            int active = cur[m].fault >= 0 && ts >= cur[m].start && ts <= cur[m].end;
            int fault = active ? cur[m].fault : -1;
            const struct mtr_reading *cr = &c.buf[m];
            const struct mtr_reading *fr = fi < nf ? &f.buf[fi] : NULL;
            if (fr && strcmp(fr->meter_id, f.meters[m].info.id) != 0)
                fr = NULL;
            if (fault == MTR_SIM_GAP) {
                T_CHECK(fr == NULL);
                win[m][k % PD] = NAN;
                continue;
            }
            T_CHECK(fr != NULL);
            if (!fr)
                continue;
            fi++;
            double x = fr->kwh;
            double ref = k >= PD ? third_highest(win[m], PD) : NAN;
            /* spike */
            if (fault == MTR_SIM_SPIKE)
                T_CHECK(x > 4 * ref);
            else if (k >= PD && x > 4 * ref)
                bad_other++;
            /* zero run */
            T_CHECK((fault == MTR_SIM_ZERO_RUN) == (x == 0));
            if (fault == MTR_SIM_ZERO_RUN)
                T_CHECK(fr->current_a == 0);
            /* counter reset: minus a register of >= 1000 kWh */
            T_CHECK((fault == MTR_SIM_COUNTER_RESET) == (x <= -1000));
            T_CHECK(x >= 0 || fault == MTR_SIM_COUNTER_RESET);
            /* frozen: repeats the value before the run; never a repeat otherwise */
            if (fault == MTR_SIM_FROZEN)
                T_CHECK(x == prev[m] && x > 0);
            else if (x == prev[m] && fault != MTR_SIM_ZERO_RUN)
                bad_frozen++;
            /* voltage sag */
            T_CHECK((fault == MTR_SIM_VOLTAGE_SAG) ==
                    (fr->voltage_v >= 170 && fr->voltage_v <= 200));
            T_CHECK(fault == MTR_SIM_VOLTAGE_SAG || (fr->voltage_v >= 215 && fr->voltage_v <= 245));
            /* frequency: the operator's signal, outside the band only during an excursion */
            T_EQ_DBL(fr->frequency_hz, g[f.meters[m].op].frequency_hz, 0);
            int out_band = fr->frequency_hz < 49.8 || fr->frequency_hz > 50.2;
            T_CHECK((fault == MTR_SIM_FREQ_EXCURSION) == out_band);
            if (out_band)
                T_CHECK((fr->frequency_hz >= 49.55 && fr->frequency_hz <= 49.75) ||
                        (fr->frequency_hz >= 50.25 && fr->frequency_hz <= 50.45));
            /* everything else equals the clean run */
            if (fault < 0 || fault == MTR_SIM_FREQ_EXCURSION) {
                T_CHECK(fabs(x - cr->kwh) < 1.5e-4);
                T_CHECK(fr->power_factor == cr->power_factor);
            }
            if (fault != MTR_SIM_VOLTAGE_SAG)
                T_CHECK(fr->voltage_v == cr->voltage_v);
            if (fault != MTR_SIM_FREQ_EXCURSION)
                T_CHECK(fr->frequency_hz == cr->frequency_hz);
            prev[m] = x;
            win[m][k % PD] = x;
        }
        T_EQ_INT(fi, nf);
        k++;
    }
    printf("  faults (80 meters, 30 d, rate 2):");
    for (int t = 0; t < MTR_SIM_FAULT_COUNT; t++)
        printf(" %s %ld [%lld-%lld]", mtr_sim_fault_name(t), per_type[t], (long long)len_min[t],
               (long long)len_max[t]);
    printf("\n");
    for (int t = 0; t < MTR_SIM_FAULT_COUNT; t++)
        T_CHECK(per_type[t] > 0);
    T_CHECK(len_min[MTR_SIM_GAP] >= 1 && len_max[MTR_SIM_GAP] <= 40 && len_max[MTR_SIM_GAP] > 12);
    T_CHECK(len_min[MTR_SIM_SPIKE] == 1 && len_max[MTR_SIM_SPIKE] == 1);
    T_CHECK(len_min[MTR_SIM_ZERO_RUN] >= 12 && len_max[MTR_SIM_ZERO_RUN] <= 48);
    T_CHECK(len_max[MTR_SIM_COUNTER_RESET] == 1);
    T_CHECK(len_min[MTR_SIM_FROZEN] >= 4 && len_max[MTR_SIM_FROZEN] <= 16);
    T_CHECK(len_min[MTR_SIM_VOLTAGE_SAG] >= 1 && len_max[MTR_SIM_VOLTAGE_SAG] <= 4);
    T_CHECK(len_min[MTR_SIM_FREQ_EXCURSION] >= 1 && len_max[MTR_SIM_FREQ_EXCURSION] <= 4);
    T_EQ_INT(bad_frozen, 0);
    T_EQ_INT(bad_other, 0);
    fleet_close(&f);
    fleet_close(&c);
}

/* Default rate 1.0: about one fault of each meter type per meter per 30 days. */
static void test_fault_rate(void)
{
    struct fleet f;
    T_EQ_INT(fleet_open(&f, 300, 30, 1.0, 5), 0);
    size_t n;
    while (mtr_sim_next_interval(&f.sim, f.buf, f.n, &n) == 1)
        ;
    printf("  rate 1.0, 300 meters x 30 d:");
    for (int t = 0; t < MTR_SIM_FAULT_COUNT; t++)
        printf(" %s %.2f", mtr_sim_fault_name(t), (double)f.sim.counts[t] / 300);
    printf(" per meter\n");
    for (int t = 0; t < MTR_SIM_FREQ_EXCURSION; t++) {
        double r = (double)f.sim.counts[t] / 300;
        T_CHECK(r > 0.75 && r < 1.25);
    }
    fleet_close(&f);
}

/* Weather every hour for every station, plausible January values; grid rows every interval. */
static void test_weather_and_grid(void)
{
    struct fleet f;
    T_EQ_INT(fleet_open(&f, 3, 2, 0, 1), 0);
    size_t n, nw, ng;
    long wrows = 0, k = 0;
    while (mtr_sim_next_interval(&f.sim, f.buf, f.n, &n) == 1) {
        const struct mtr_weather_obs *w = mtr_sim_weather(&f.sim, &nw);
        T_EQ_INT(nw, k % 4 == 0 ? MTR_SIM_STATIONS : 0);
        for (size_t i = 0; i < nw; i++) {
            T_EQ_INT(w[i].ts, mtr_sim_time(&f.sim));
            T_CHECK(w[i].temperature_c > -25 && w[i].temperature_c < 20);
            T_CHECK(w[i].humidity_pct >= 20 && w[i].humidity_pct <= 100);
            T_CHECK(w[i].pressure_hpa > 950 && w[i].pressure_hpa < 1070);
            T_CHECK(w[i].cloud_cover_pct >= 0 && w[i].cloud_cover_pct <= 100);
            T_CHECK(w[i].wind_direction_deg >= 0 && w[i].wind_direction_deg < 360);
        }
        wrows += (long)nw;
        const struct mtr_grid_status *g = mtr_sim_grid(&f.sim, &ng);
        for (size_t i = 0; i < ng; i++) {
            T_CHECK(g[i].load_mw > 0 && g[i].load_mw < g[i].capacity_mw);
            T_CHECK(g[i].stability >= 0.85 && g[i].stability <= 0.99);
            T_CHECK(g[i].voltage_kv >= 380 && g[i].voltage_kv <= 420);
        }
        k++;
    }
    T_EQ_INT(wrows, 2 * 24 * MTR_SIM_STATIONS);
    fleet_close(&f);
}

int main(void)
{
    T_RUN(test_prng_determinism);
    T_RUN(test_config_and_calendar);
    T_RUN(test_load_shapes);
    T_RUN(test_clean_fleet_properties);
    T_RUN(test_memory_independent_of_days);
    T_RUN(test_fault_definitions);
    T_RUN(test_fault_rate);
    T_RUN(test_weather_and_grid);
    return T_END();
}
