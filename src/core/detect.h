/*
 * detect.h - VEE validation and anomaly detection for one meter's interval stream, in one pass,
 * with bounded state per meter (struct mtr_meter_state, ~2 KiB, persisted between runs as a blob).
 *
 * mtr_detect_step() sees a meter's measured readings in time order (the caller routes late and
 * duplicate readings elsewhere) and returns, for the reading, the flags of every rule that fired,
 * plus events: gaps to estimate, earlier readings to flag retroactively (a frozen or zero run is
 * only recognisable after its start), and alert snapshots to upsert. Pure: no I/O, no allocation.
 *
 * Detectors (thresholds in core/params.h and core/vocab.h, documented in docs/domain.md):
 *   gap          missing intervals between two readings
 *   negative / counter_reset, range.* (physical bounds), range.consumption (max power)
 *   spike        value > spike_factor x reference, reference = max(3rd-highest of the trailing
 *                24 h, long-run mean of daily 3rd-highest values) - Oracle's interval spike check
 *   frozen       >= frozen_min_run identical non-zero values in a row
 *   zero_run     zeros lasting >= zero_run_min_s where the meter's own hour-of-week profile
 *                expects use and the meter is not zero-heavy (share of zeros < zero_run_min_share)
 *   voltage_sag/voltage_swell, frequency_excursion, power_factor_low (electrical standards)
 *   consumption_high  value > profile mean + high_factor x profile mean absolute deviation
 */
#ifndef MTR_DETECT_H
#define MTR_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/params.h"
#include "core/types.h"
#include "core/vocab.h"

#define MTR_HOW_SLOTS     168 /* hours of the week, Monday 00:00 UTC = slot 0 */
#define MTR_WINDOW_MAX    96  /* trailing values kept for the spike reference (24 h at 15 min) */
#define MTR_STATE_VERSION 2

/* The alert types a meter stream can hold open (one run each). */
enum mtr_det_alert {
    MTR_DA_GAP = 0,
    MTR_DA_NEGATIVE,
    MTR_DA_COUNTER_RESET,
    MTR_DA_SPIKE,
    MTR_DA_FROZEN,
    MTR_DA_ZERO_RUN,
    MTR_DA_VOLTAGE_SAG,
    MTR_DA_VOLTAGE_SWELL,
    MTR_DA_FREQUENCY,
    MTR_DA_POWER_FACTOR,
    MTR_DA_HIGH,
    MTR_DA_RANGE,
    MTR_DA_COUNT
};

struct mtr_alert_run {
    int64_t start, end; /* interval starts; start == 0: no open run */
    int32_t count;
    float score, value;
};

/* Everything the detectors remember about one meter. Plain data: safe to memcpy and persist. */
struct mtr_meter_state {
    uint32_t version;
    int32_t interval_s;
    uint32_t open_mask; /* bit da: open[da] is an open run (saves scanning open[] per reading) */
    uint32_t reserved;
    int64_t first_ts, last_ts; /* measured interval starts; last_ts == 0: no reading yet */
    double last_kwh;           /* last measured consumption (any quality) */
    double last_good_kwh;      /* last analytics-grade consumption, for interpolation */
    int64_t last_good_ts;
    /* frozen */
    double run_value;
    int64_t run_start;
    int32_t run_len;
    /* zero runs */
    int32_t zero_len;
    int64_t zero_start;
    double zero_expected; /* profile-expected kWh over the current zero run */
    int64_t n_seen;       /* measured readings seen */
    double zero_share;    /* share of zero readings: running mean, then slow EWMA */
    double typical_kwh;   /* running mean, then EWMA, of |kWh| of valid readings */
    /* spike reference */
    float window[MTR_WINDOW_MAX];
    int32_t window_n, window_pos;
    int64_t day;      /* current UTC day start */
    float day_top[3]; /* the day's three highest values */
    int32_t day_n;
    double third_mean; /* mean of daily 3rd-highest values (EWMA after 7 days) */
    int32_t days_seen;
    /* hour-of-week profile of kWh per hour: mean and mean absolute deviation */
    float how_mean[MTR_HOW_SLOTS], how_dev[MTR_HOW_SLOTS];
    uint16_t how_n[MTR_HOW_SLOTS];
    struct mtr_alert_run open[MTR_DA_COUNT];
};

enum mtr_det_event_kind {
    MTR_EV_GAP,   /* intervals [from, to] are missing (count of them) */
    MTR_EV_FLAG,  /* OR `flags` into stored readings [from, to]; set_code >= 0: new quality code */
    MTR_EV_ALERT, /* upsert `alert` (a snapshot of a run: opened, grown or closed) */
};

struct mtr_det_event {
    enum mtr_det_event_kind kind;
    int64_t from, to, count;
    uint64_t flags;
    int set_code;
    enum mtr_rule_id rule;
    enum mtr_level level;
    float score, value;
};

#define MTR_DET_EVENTS_MAX 24

struct mtr_det_result {
    uint64_t flags;   /* rules that fired on this reading */
    int quality_code; /* MTR_Q_VALID or MTR_Q_QUESTIONABLE */
    int n_events;
    struct mtr_det_event events[MTR_DET_EVENTS_MAX];
};

/* Initialises a fresh state for a meter delivering `interval_s` intervals. */
void mtr_detect_init(struct mtr_meter_state *s, int32_t interval_s);

/*
 * Feeds one measured reading (r->ts > s->last_ts, r->interval_s set). `type` selects the
 * consumption maximum. Fills *res; the state is updated. Never fails.
 */
void mtr_detect_step(struct mtr_meter_state *s, const struct mtr_params *p,
                     enum mtr_meter_type type, const struct mtr_reading *r,
                     struct mtr_det_result *res);

/* Closes every open run (end of a meter's stream is NOT implied by end of input, so callers use
 * this only when a meter is known to be finished); emits the final alert snapshots. */
void mtr_detect_flush(struct mtr_meter_state *s, struct mtr_det_result *res);

/* Emits an ALERT event for every run still open, so a caller can persist their progress. */
void mtr_detect_snapshot(const struct mtr_meter_state *s, struct mtr_det_result *res);

/* The stateless checks of a reading that decide quarantine: time sanity and interval size.
 * Returns -1 when the reading is acceptable, else the rule id (message in msg). */
int mtr_validate_reading(const struct mtr_reading *r, const struct mtr_params *p, int64_t now,
                         char *msg, size_t msg_len);

/* The stateless plausibility flags of a reading (physical ranges, negative, maximum power).
 * Used for late and revised readings, which bypass the streaming detectors. */
uint64_t mtr_plausibility_flags(const struct mtr_reading *r, const struct mtr_params *p,
                                enum mtr_meter_type type, double typical_kwh);

/* Hour-of-week slot (0..167, Monday 00:00 UTC = 0) of a Unix time. */
int mtr_how_slot(int64_t ts);

/* UTC day start of a Unix time. */
static inline int64_t mtr_day_start(int64_t ts)
{
    return ts - ((ts % 86400) + 86400) % 86400;
}

#endif
