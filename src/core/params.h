/*
 * params.h - the tunable parameters of validation, estimation and detection, with their defaults.
 * One struct, filled by mtr_params_default() and overridden by CLI/config; the core reads nothing
 * else. Every default is quoted in docs/domain.md.
 */
#ifndef MTR_PARAMS_H
#define MTR_PARAMS_H

#include <stdint.h>

struct mtr_params {
    int32_t default_interval_s; /* interval when neither record nor meter says: 900 (15 min) */
    int64_t future_tolerance_s; /* time.future: start later than now + this: 300 s */
    int64_t max_interpolate_s;  /* gaps up to this are linearly interpolated: 3 h */
    int64_t max_estimate_s;     /* longer gaps up to this use the reference day: 7 days */
    double max_kw_residential;  /* range.consumption_max: kWh <= max kW x interval hours */
    double max_kw_commercial;
    double max_kw_industrial;
    double counter_reset_kwh;    /* counter_reset: negative by more than this many kWh: 100 */
    double counter_reset_factor; /* ... or by more than this x the meter's typical interval: 50 */
    double spike_factor;         /* spike: above this x the reference (3rd-highest of 24 h): 4.0 */
    double spike_min_kwh;        /* ... and above this absolute kWh (per hour of interval): 0.5 */
    int32_t frozen_min_run;      /* frozen: this many identical non-zero values in a row: 3 */
    double frozen_min_kwh_h; /* ... at a level of at least this many kWh per hour: below it, repeats
                              * are natural at Wh resolution: 0.2 */
    int64_t zero_run_min_s;  /* zero_run: zeros lasting at least this long: 2 h */
    double
        zero_run_expected_kwh; /* ... where the meter's profile expects more than this/hour: 0.05 */
    double zero_run_min_share; /* ... and the meter is zero less than this share of the time */
    double high_factor;        /* consumption_high: above profile mean + this x MAD: 8 */
    double high_min_ratio;     /* ... and above this x the usual daily 3rd-highest value: 3 */
    int32_t profile_min_weeks; /* hour-of-week profile trusted after this many samples/slot: 2 */
    double peak_start_hour, peak_end_hour;       /* peak window (UTC hours): 17..21 */
    double offpeak_start_hour, offpeak_end_hour; /* off-peak window, wraps midnight: 22..6 */
    int strict_meters; /* 1: readings of unregistered meters go to quarantine */
    int64_t now;       /* the clock: 0 means "use the real time" (set by the caller) */
};

/* Fills p with the documented defaults (now = 0). */
void mtr_params_default(struct mtr_params *p);

#endif
