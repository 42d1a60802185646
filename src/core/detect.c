/*
 * detect.c - one-pass VEE validation and anomaly detection per meter (see detect.h for the rules).
 *
 * Order inside a step follows Oracle's cost table, cheap first: gap, plausibility (ranges,
 * negative, counter reset), spike, frozen, zero run, electrical, profile outlier. Learning (window,
 * daily reference, hour-of-week profile, zero share) uses only analytics-grade values, so a fault
 * does not teach the detectors that faults are normal.
 */
#include "core/detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/quality.h"

/* Learning rates: running means until the horizon is reached, then an EWMA over about that
 * horizon, so a meter's first day counts fully and old behaviour fades. */
#define SHARE_HORIZON   672 /* readings (7 days at 15 min) */
#define THIRD_HORIZON   7   /* days */
#define PROFILE_HORIZON 8   /* weeks per hour-of-week slot */

static const enum mtr_rule_id da_rule[MTR_DA_COUNT] = {
    [MTR_DA_GAP] = MTR_R_GAP,
    [MTR_DA_NEGATIVE] = MTR_R_CONSUMPTION_NEGATIVE,
    [MTR_DA_COUNTER_RESET] = MTR_R_COUNTER_RESET,
    [MTR_DA_SPIKE] = MTR_R_SPIKE,
    [MTR_DA_FROZEN] = MTR_R_FROZEN,
    [MTR_DA_ZERO_RUN] = MTR_R_ZERO_RUN,
    [MTR_DA_VOLTAGE_SAG] = MTR_R_VOLTAGE_SAG,
    [MTR_DA_VOLTAGE_SWELL] = MTR_R_VOLTAGE_SWELL,
    [MTR_DA_FREQUENCY] = MTR_R_FREQUENCY_EXCURSION,
    [MTR_DA_POWER_FACTOR] = MTR_R_POWER_FACTOR_LOW,
    [MTR_DA_HIGH] = MTR_R_CONSUMPTION_HIGH,
    [MTR_DA_RANGE] = MTR_R_CONSUMPTION_MAX,
};

void mtr_detect_init(struct mtr_meter_state *s, int32_t interval_s)
{
    memset(s, 0, sizeof *s);
    s->version = MTR_STATE_VERSION;
    s->interval_s = interval_s;
}

int mtr_how_slot(int64_t ts)
{
    int64_t days = (ts - ((ts % 86400) + 86400) % 86400) / 86400;
    int dow = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; Monday = 0 */
    int hour = (int)(((ts % 86400) + 86400) % 86400 / 3600);
    return dow * 24 + hour;
}

int mtr_validate_reading(const struct mtr_reading *r, const struct mtr_params *p, int64_t now,
                         char *msg, size_t msg_len)
{
    int32_t iv = r->interval_s;
    if (iv < 60 || iv > 86400 || 86400 % iv != 0) {
        snprintf(msg, msg_len, "interval length %d s is not 1..1440 minutes dividing a day",
                 (int)iv);
        return MTR_R_INTERVAL_SIZE;
    }
    if (r->ts % iv != 0) {
        snprintf(msg, msg_len, "interval start is not aligned to the %d-minute interval",
                 (int)(iv / 60));
        return MTR_R_INTERVAL_SIZE;
    }
    if (r->ts < MTR_TIME_ANCIENT_BEFORE) {
        snprintf(msg, msg_len, "interval start before 2000-01-01: meter clock not set");
        return MTR_R_TIME_ANCIENT;
    }
    if (r->ts > now + p->future_tolerance_s) {
        snprintf(msg, msg_len, "interval start is %lld s in the future", (long long)(r->ts - now));
        return MTR_R_TIME_FUTURE;
    }
    return -1;
}

static double max_kw(const struct mtr_params *p, enum mtr_meter_type type)
{
    switch (type) {
    case MTR_METER_COMMERCIAL:
        return p->max_kw_commercial;
    case MTR_METER_INDUSTRIAL:
        return p->max_kw_industrial;
    default:
        return p->max_kw_residential;
    }
}

uint64_t mtr_plausibility_flags(const struct mtr_reading *r, const struct mtr_params *p,
                                enum mtr_meter_type type, double typical_kwh)
{
    uint64_t f = 0;
    double v = r->kwh;
    if (v < 0) {
        int reset = -v > p->counter_reset_kwh ||
                    (typical_kwh > 0 && -v > p->counter_reset_factor * typical_kwh);
        f |= mtr_rule_bit(reset ? MTR_R_COUNTER_RESET : MTR_R_CONSUMPTION_NEGATIVE);
    } else if (v > max_kw(p, type) * r->interval_s / 3600.0) {
        f |= mtr_rule_bit(MTR_R_CONSUMPTION_MAX);
    }
    if (mtr_outside(r->voltage_v, MTR_VOLTAGE_MIN_V, MTR_VOLTAGE_MAX_V))
        f |= mtr_rule_bit(MTR_R_VOLTAGE_RANGE);
    if (mtr_outside(r->current_a, MTR_CURRENT_MIN_A, MTR_CURRENT_MAX_A))
        f |= mtr_rule_bit(MTR_R_CURRENT_RANGE);
    if (mtr_outside(r->power_factor, 0.0, 1.0))
        f |= mtr_rule_bit(MTR_R_POWER_FACTOR_RANGE);
    if (mtr_outside(r->frequency_hz, MTR_FREQUENCY_MIN_HZ, MTR_FREQUENCY_MAX_HZ))
        f |= mtr_rule_bit(MTR_R_FREQUENCY_RANGE);
    return f;
}

static void add_event(struct mtr_det_result *res, const struct mtr_det_event *ev)
{
    if (res->n_events < MTR_DET_EVENTS_MAX)
        res->events[res->n_events++] = *ev;
}

static float clampf(double x, double lo, double hi)
{
    return (float)(x < lo ? lo : x > hi ? hi : x);
}

static void emit_alert(struct mtr_det_result *res, enum mtr_det_alert da,
                       const struct mtr_alert_run *run)
{
    struct mtr_det_event ev = {.kind = MTR_EV_ALERT,
                               .from = run->start,
                               .to = run->end,
                               .count = run->count,
                               .rule = da_rule[da],
                               .score = run->score,
                               .value = run->value,
                               .level = mtr_level_from_score(run->score)};
    add_event(res, &ev);
}

/* Records that alert `da` fired at ts (score, value): grows the open run when it is contiguous,
 * otherwise closes it and opens a new one. Returns 1 when a run was opened. */
static int fire(struct mtr_meter_state *s, struct mtr_det_result *res, enum mtr_det_alert da,
                int64_t start, int64_t ts, float score, float value)
{
    struct mtr_alert_run *run = &s->open[da];
    if (run->start && run->end + s->interval_s >= start) {
        run->end = ts;
        run->count = (int32_t)((ts - run->start) / s->interval_s + 1);
        if (score > run->score)
            run->score = score;
        /* keep the worst value: the lowest for a sag or a negative, else the largest */
        int lower = da == MTR_DA_VOLTAGE_SAG || da == MTR_DA_NEGATIVE ||
                    da == MTR_DA_COUNTER_RESET || da == MTR_DA_POWER_FACTOR;
        if (lower ? value < run->value : value > run->value)
            run->value = value;
        return 0;
    }
    if (run->start)
        emit_alert(res, da, run);
    run->start = start;
    run->end = ts;
    run->count = (int32_t)((ts - start) / s->interval_s + 1);
    run->score = score;
    run->value = value;
    s->open_mask |= 1u << da;
    emit_alert(res, da, run);
    return 1;
}

/* Closes the open runs that did not fire at ts. */
static void close_quiet(struct mtr_meter_state *s, struct mtr_det_result *res, unsigned fired)
{
    for (unsigned quiet = s->open_mask & ~fired; quiet; quiet &= quiet - 1) {
        int da = __builtin_ctz(quiet);
        emit_alert(res, da, &s->open[da]);
        memset(&s->open[da], 0, sizeof s->open[da]);
        s->open_mask &= ~(1u << da);
    }
}

static double third_highest_window(const struct mtr_meter_state *s)
{
    float a = -1, b = -1, c = -1;
    for (int i = 0; i < s->window_n; i++) {
        float x = s->window[i];
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

static void day_rollover(struct mtr_meter_state *s, int64_t ts)
{
    int64_t day = mtr_day_start(ts);
    if (day == s->day)
        return;
    if (s->day_n >= 3) {
        double third = s->day_top[2];
        s->days_seen++;
        double w = s->days_seen < THIRD_HORIZON ? 1.0 / s->days_seen : 1.0 / THIRD_HORIZON;
        s->third_mean += (third - s->third_mean) * w;
    }
    s->day = day;
    s->day_n = 0;
    s->day_top[0] = s->day_top[1] = s->day_top[2] = 0;
}

static void learn(struct mtr_meter_state *s, double v, int64_t ts, double hours, int in_zero_run)
{
    /* trailing window and the day's top three */
    s->window[s->window_pos] = (float)v;
    s->window_pos = (s->window_pos + 1) % MTR_WINDOW_MAX;
    int cap = (int)(86400 / s->interval_s);
    if (cap > MTR_WINDOW_MAX)
        cap = MTR_WINDOW_MAX;
    if (s->window_n < cap)
        s->window_n++;
    if (s->window_pos >= cap)
        s->window_pos = 0;
    float x = (float)v;
    if (x > s->day_top[0]) {
        s->day_top[2] = s->day_top[1];
        s->day_top[1] = s->day_top[0];
        s->day_top[0] = x;
    } else if (x > s->day_top[1]) {
        s->day_top[2] = s->day_top[1];
        s->day_top[1] = x;
    } else if (x > s->day_top[2]) {
        s->day_top[2] = x;
    }
    s->day_n++;
    /* typical level and share of zeros */
    double w = s->n_seen < SHARE_HORIZON ? 1.0 / (double)s->n_seen : 1.0 / SHARE_HORIZON;
    s->typical_kwh += (fabs(v) - s->typical_kwh) * w;
    s->zero_share += ((v == 0 ? 1.0 : 0.0) - s->zero_share) * w;
    /* hour-of-week profile, per hour of consumption; a detected zero run is not "normal" */
    if (in_zero_run)
        return;
    int slot = mtr_how_slot(ts);
    double rate = v / hours;
    if (s->how_n[slot] < PROFILE_HORIZON * (3600 / s->interval_s > 0 ? 3600 / s->interval_s : 1))
        s->how_n[slot]++;
    double k = 1.0 / s->how_n[slot];
    double dev = fabs(rate - s->how_mean[slot]);
    s->how_mean[slot] += (float)((rate - s->how_mean[slot]) * k);
    if (s->how_n[slot] > 1)
        s->how_dev[slot] += (float)((dev - s->how_dev[slot]) * k);
}

/* Readings per hour-of-week slot that make a slot trusted. */
static int slot_trusted(const struct mtr_meter_state *s, const struct mtr_params *p, int slot)
{
    int per_hour = 3600 / s->interval_s;
    if (per_hour < 1)
        per_hour = 1;
    return s->how_n[slot] >= p->profile_min_weeks * per_hour;
}

void mtr_detect_step(struct mtr_meter_state *s, const struct mtr_params *p,
                     enum mtr_meter_type type, const struct mtr_reading *r,
                     struct mtr_det_result *res)
{
    unsigned fired = 0;
    int64_t ts = r->ts;
    double v = r->kwh;

    /* not memset: events[] is large and only the first n_events are ever read */
    res->flags = 0;
    res->n_events = 0;
    res->quality_code = MTR_Q_VALID;
    if (r->interval_s != s->interval_s && r->interval_s > 0) {
        /* a new interval length invalidates the time-based windows, not the profile */
        s->interval_s = r->interval_s;
        s->window_n = s->window_pos = 0;
        s->run_len = s->zero_len = 0;
    }
    int32_t iv = s->interval_s;
    double hours = iv / 3600.0;
    s->n_seen++;
    if (!s->first_ts)
        s->first_ts = ts;

    /* gap: closed at once, and it breaks every run */
    if (s->last_ts && ts - s->last_ts > iv) {
        struct mtr_det_event ev = {.kind = MTR_EV_GAP, .from = s->last_ts + iv, .to = ts - iv};
        ev.count = (ev.to - ev.from) / iv + 1;
        add_event(res, &ev);
        struct mtr_alert_run gap = {.start = ev.from, .end = ev.to, .count = (int32_t)ev.count};
        gap.score = clampf(0.4 + 0.5 * (double)(ev.to - ev.from + iv) / 86400.0, 0.4, 0.9);
        gap.value = (float)ev.count;
        emit_alert(res, MTR_DA_GAP, &gap);
        s->run_len = 0;
        s->zero_len = 0;
    }
    day_rollover(s, ts);

    /* plausibility */
    uint64_t f = mtr_plausibility_flags(r, p, type, s->typical_kwh);
    if (f & mtr_rule_bit(MTR_R_COUNTER_RESET)) {
        fire(s, res, MTR_DA_COUNTER_RESET, ts, ts, 0.9f, (float)v);
        fired |= 1u << MTR_DA_COUNTER_RESET;
    } else if (f & mtr_rule_bit(MTR_R_CONSUMPTION_NEGATIVE)) {
        fire(s, res, MTR_DA_NEGATIVE, ts, ts, 0.7f, (float)v);
        fired |= 1u << MTR_DA_NEGATIVE;
    }
    if (f & (mtr_rule_bit(MTR_R_CONSUMPTION_MAX) | mtr_rule_bit(MTR_R_VOLTAGE_RANGE) |
             mtr_rule_bit(MTR_R_CURRENT_RANGE) | mtr_rule_bit(MTR_R_POWER_FACTOR_RANGE) |
             mtr_rule_bit(MTR_R_FREQUENCY_RANGE))) {
        fire(s, res, MTR_DA_RANGE, ts, ts, 0.7f, (float)v);
        fired |= 1u << MTR_DA_RANGE;
    }

    /* spike: against the trailing 24 h and the meter's usual daily 3rd-highest. No window scan
     * is needed below spike_factor times a lower bound of ref: third_mean, or the day's own
     * 3rd-highest while all of the day is in the window (the same floats, a subset of it) */
    if (v > 0 && v > p->spike_min_kwh * hours &&
        !(s->days_seen > 0 && v <= p->spike_factor * s->third_mean) &&
        !(s->day_n <= s->window_n && v <= p->spike_factor * s->day_top[2])) {
        double ref = s->window_n >= 3 ? third_highest_window(s) : 0;
        if (s->days_seen > 0 && s->third_mean > ref)
            ref = s->third_mean;
        if (ref > 0 && v > p->spike_factor * ref && v > p->spike_min_kwh * hours) {
            f |= mtr_rule_bit(MTR_R_SPIKE);
            double ratio = v / ref;
            fire(s, res, MTR_DA_SPIKE, ts, ts, clampf(1.0 - 1.0 / ratio, 0.6, 1.0), (float)v);
            fired |= 1u << MTR_DA_SPIKE;
        }
    }

    /* frozen: the same non-zero value again and again */
    if (v != 0 && s->run_len > 0 && v == s->run_value) {
        s->run_len++;
    } else {
        s->run_value = v;
        s->run_len = 1;
        s->run_start = ts;
    }
    if (v / hours >= p->frozen_min_kwh_h && s->run_len >= p->frozen_min_run) {
        f |= mtr_rule_bit(MTR_R_FROZEN);
        if (s->run_len == p->frozen_min_run) {
            struct mtr_det_event ev = {.kind = MTR_EV_FLAG,
                                       .from = s->run_start,
                                       .to = ts - iv,
                                       .flags = mtr_rule_bit(MTR_R_FROZEN),
                                       .set_code = MTR_Q_QUESTIONABLE};
            add_event(res, &ev);
        }
        fire(s, res, MTR_DA_FROZEN, s->run_start, ts, clampf(0.5 + 0.05 * s->run_len, 0.6, 0.95),
             (float)v);
        fired |= 1u << MTR_DA_FROZEN;
    }

    /* zero run where the meter's own profile expects use */
    int slot = mtr_how_slot(ts);
    double expect_rate = slot_trusted(s, p, slot) ? s->how_mean[slot] : s->typical_kwh / hours;
    int in_zero_run = 0;
    if (v == 0) {
        if (s->zero_len == 0) {
            s->zero_start = ts;
            s->zero_expected = 0;
        }
        s->zero_len++;
        s->zero_expected += expect_rate * hours;
        double dur_h = (double)s->zero_len * hours;
        if (dur_h * 3600 >= (double)p->zero_run_min_s && s->zero_share < p->zero_run_min_share &&
            s->zero_expected / dur_h > p->zero_run_expected_kwh) {
            in_zero_run = 1;
            f |= mtr_rule_bit(MTR_R_ZERO_RUN);
            if (!s->open[MTR_DA_ZERO_RUN].start && ts > s->zero_start) {
                struct mtr_det_event ev = {.kind = MTR_EV_FLAG,
                                           .from = s->zero_start,
                                           .to = ts - iv,
                                           .flags = mtr_rule_bit(MTR_R_ZERO_RUN),
                                           .set_code = -1};
                add_event(res, &ev);
            }
            fire(s, res, MTR_DA_ZERO_RUN, s->zero_start, ts, clampf(0.5 + 0.05 * dur_h, 0.6, 0.9),
                 0);
            fired |= 1u << MTR_DA_ZERO_RUN;
        }
    } else {
        s->zero_len = 0;
    }

    /* electrical quality (EN 50160 supply voltage, normal frequency band, power factor) */
    if (mtr_has(r->voltage_v) && !(f & mtr_rule_bit(MTR_R_VOLTAGE_RANGE))) {
        if (r->voltage_v < MTR_VOLTAGE_SAG_V) {
            f |= mtr_rule_bit(MTR_R_VOLTAGE_SAG);
            fire(s, res, MTR_DA_VOLTAGE_SAG, ts, ts,
                 clampf(0.6 + (MTR_VOLTAGE_SAG_V - r->voltage_v) / 100.0, 0.6, 1.0),
                 (float)r->voltage_v);
            fired |= 1u << MTR_DA_VOLTAGE_SAG;
        } else if (r->voltage_v > MTR_VOLTAGE_SWELL_V) {
            f |= mtr_rule_bit(MTR_R_VOLTAGE_SWELL);
            fire(s, res, MTR_DA_VOLTAGE_SWELL, ts, ts,
                 clampf(0.6 + (r->voltage_v - MTR_VOLTAGE_SWELL_V) / 100.0, 0.6, 1.0),
                 (float)r->voltage_v);
            fired |= 1u << MTR_DA_VOLTAGE_SWELL;
        }
    }
    if (mtr_has(r->frequency_hz) && !(f & mtr_rule_bit(MTR_R_FREQUENCY_RANGE)) &&
        (r->frequency_hz < MTR_FREQ_BAND_LOW_HZ || r->frequency_hz > MTR_FREQ_BAND_HIGH_HZ)) {
        f |= mtr_rule_bit(MTR_R_FREQUENCY_EXCURSION);
        double dev = fabs(r->frequency_hz - 50.0);
        fire(s, res, MTR_DA_FREQUENCY, ts, ts, clampf(0.6 + (dev - 0.2) * 1.4, 0.6, 1.0),
             (float)r->frequency_hz);
        fired |= 1u << MTR_DA_FREQUENCY;
    }
    if (mtr_has(r->power_factor) && !(f & mtr_rule_bit(MTR_R_POWER_FACTOR_RANGE)) &&
        r->power_factor < MTR_POWER_FACTOR_LOW) {
        f |= mtr_rule_bit(MTR_R_POWER_FACTOR_LOW);
        fire(s, res, MTR_DA_POWER_FACTOR, ts, ts, 0.6f, (float)r->power_factor);
        fired |= 1u << MTR_DA_POWER_FACTOR;
    }

    /* far above the meter's own hour-of-week profile (and not already a spike) */
    if (v > 0 && !(f & mtr_invalid_mask()) && slot_trusted(s, p, slot)) {
        double mean = s->how_mean[slot], dev = s->how_dev[slot];
        double floor = 0.1 * mean > 0.01 ? 0.1 * mean : 0.01;
        double scale = dev > floor ? dev : floor;
        double z = (v / hours - mean) / scale;
        if (z > p->high_factor && v > p->high_min_ratio * s->third_mean) {
            f |= mtr_rule_bit(MTR_R_CONSUMPTION_HIGH);
            fire(s, res, MTR_DA_HIGH, ts, ts, clampf(0.6 + 0.01 * (z - p->high_factor), 0.6, 0.9),
                 (float)v);
            fired |= 1u << MTR_DA_HIGH;
        }
    }

    close_quiet(s, res, fired);
    res->flags = f;
    if (f & mtr_invalid_mask())
        res->quality_code = MTR_Q_QUESTIONABLE;
    else {
        learn(s, v, ts, hours, in_zero_run);
        s->last_good_kwh = v;
        s->last_good_ts = ts;
    }
    s->last_ts = ts;
    s->last_kwh = v;
}

void mtr_detect_flush(struct mtr_meter_state *s, struct mtr_det_result *res)
{
    memset(res, 0, sizeof *res);
    close_quiet(s, res, 0);
}

void mtr_detect_snapshot(const struct mtr_meter_state *s, struct mtr_det_result *res)
{
    memset(res, 0, sizeof *res);
    for (int da = 0; da < MTR_DA_COUNT; da++)
        if (s->open[da].start)
            emit_alert(res, da, &s->open[da]);
}
