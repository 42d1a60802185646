/* params.c - the documented defaults of struct mtr_params (quoted in docs/domain.md). */
#include "core/params.h"

#include <string.h>

void mtr_params_default(struct mtr_params *p)
{
    memset(p, 0, sizeof *p);
    p->default_interval_s = 900;
    p->future_tolerance_s = 300;
    p->max_interpolate_s = 3 * 3600;
    p->max_estimate_s = 7 * 86400;
    p->max_kw_residential = 60.0;
    p->max_kw_commercial = 600.0;
    p->max_kw_industrial = 6000.0;
    p->counter_reset_kwh = 100.0;
    p->counter_reset_factor = 50.0;
    p->spike_factor = 4.0;
    p->spike_min_kwh = 0.5;
    p->frozen_min_run = 3;
    p->frozen_min_kwh_h = 0.2;
    p->zero_run_min_s = 2 * 3600;
    p->zero_run_expected_kwh = 0.05;
    p->zero_run_min_share = 0.25;
    p->high_factor = 8.0;
    p->high_min_ratio = 3.0;
    p->profile_min_weeks = 2;
    p->peak_start_hour = 17;
    p->peak_end_hour = 21;
    p->offpeak_start_hour = 22;
    p->offpeak_end_hour = 6;
    p->strict_meters = 0;
    p->now = 0;
}
