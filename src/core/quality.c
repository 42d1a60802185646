/* quality.c - reading and meter-day quality scores (see quality.h for the formulas). */
#include "core/quality.h"

#include "core/vocab.h"

double mtr_timeliness(int64_t delay_s)
{
    if (delay_s <= 3600)
        return 1.0;
    if (delay_s <= 86400)
        return 0.8;
    if (delay_s <= 7 * 86400)
        return 0.6;
    return 0.2;
}

double mtr_reading_score(int quality_code, uint64_t flags)
{
    double s;
    switch (quality_code) {
    case MTR_Q_VALID:
    case MTR_Q_EDITED:
        s = 1.0;
        break;
    case MTR_Q_EST_INTERPOLATION:
        s = 0.8;
        break;
    case MTR_Q_EST_REFERENCE_DAY:
        s = 0.6;
        break;
    default:
        s = 0.2;
        break;
    }
    if (flags & mtr_alert_mask())
        s -= 0.1;
    return s < 0 ? 0 : s;
}

void mtr_day_quality_compute(struct mtr_day_quality *q, int64_t expected, int64_t valid,
                             int64_t flagged, int64_t estimated, int64_t anomalous,
                             double timeliness_sum)
{
    q->expected = expected;
    q->valid = valid;
    q->flagged = flagged;
    q->estimated = estimated;
    q->anomalous = anomalous;
    q->received = valid + flagged;
    q->missing = expected - q->received - estimated;
    if (q->missing < 0)
        q->missing = 0;
    if (q->received == 0) {
        q->completeness = expected > 0 ? 0.5 * (double)estimated / (double)expected : 0;
        q->validity = q->consistency = q->timeliness = q->score = 0;
        return;
    }
    double c =
        expected > 0 ? ((double)q->received + 0.5 * (double)estimated) / (double)expected : 1;
    q->completeness = c > 1 ? 1 : c;
    q->validity = (double)valid / (double)q->received;
    q->consistency =
        1.0 - (double)(anomalous > q->received ? q->received : anomalous) / (double)q->received;
    q->timeliness = timeliness_sum / (double)q->received;
    q->score = MTR_W_COMPLETENESS * q->completeness + MTR_W_VALIDITY * q->validity +
               MTR_W_CONSISTENCY * q->consistency + MTR_W_TIMELINESS * q->timeliness;
}

static uint64_t mask_of(enum mtr_rule_action act)
{
    uint64_t m = 0;
    for (int i = 0; i < MTR_RULE_COUNT && i < 64; i++)
        if (mtr_rule(i)->action == act)
            m |= mtr_rule_bit(i);
    return m;
}

uint64_t mtr_alert_mask(void)
{
    static uint64_t m;
    if (!m)
        m = mask_of(MTR_ACT_ALERT);
    return m;
}

uint64_t mtr_invalid_mask(void)
{
    static uint64_t m;
    if (!m)
        m = mask_of(MTR_ACT_FLAG);
    return m;
}
